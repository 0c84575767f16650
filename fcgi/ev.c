/* ev — the epoll event loop; contract in ev.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"

#define EV_BATCH 256 /* epoll events taken per turn */

#define EVF_ADDED   0x1u /* registered (with epoll, unless PENDING) */
#define EVF_CLOSING 0x2u /* on the close list, closed at the end of turn */
#define EVF_PENDING 0x4u /* ev_add_deferred: not handed to epoll yet */

struct ev_loop {
	int epfd, wakefd, sigfd;
	unsigned nfds;
	struct ev_fd *fds; /* nfds records, indexed by fd */
	struct tmr_heap timers;
	uint64_t now;
	ev_clock_fn *clock;
	void *clock_data;
	int close_head; /* first fd on the close list, -1 when empty */
	int *pending;   /* fds added by ev_add_deferred since the last wait */
	unsigned npending;
	struct ev_defer *defer_head, **defer_tail;
	atomic_bool stop;
	ev_wakeup_fn *wake_fn;
	void *wake_data;
	ev_signal_fn *sig_fn;
	void *sig_data;
	sigset_t sigs;
	struct epoll_event events[EV_BATCH];
};

static uint64_t
monotonic_ms(void *data)
{
	struct timespec ts;

	(void)data;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static enum ev_result
fail(enum ev_result r, int err)
{
	errno = err;
	return r;
}

/* The record of fd, or NULL (errno EBADF) outside the table. */
static struct ev_fd *
record(const struct ev_loop *loop, int fd)
{
	if (fd < 0 || (unsigned)fd >= loop->nfds) {
		errno = EBADF;
		return NULL;
	}
	return &loop->fds[fd];
}

static uint32_t
to_epoll(unsigned mask)
{
	return ((mask & EV_READ) ? EPOLLIN : 0) |
	    ((mask & EV_WRITE) ? EPOLLOUT : 0) |
	    ((mask & EV_RDHUP) ? EPOLLRDHUP : 0);
}

static unsigned
from_epoll(uint32_t ev)
{
	return ((ev & EPOLLIN) ? EV_READ : 0) |
	    ((ev & EPOLLOUT) ? EV_WRITE : 0) |
	    ((ev & EPOLLRDHUP) ? EV_RDHUP : 0) |
	    ((ev & EPOLLHUP) ? EV_HUP : 0) | ((ev & EPOLLERR) ? EV_ERR : 0);
}

static int
epoll_op(struct ev_loop *loop, int op, int fd, const struct ev_fd *r)
{
	struct epoll_event e = {0};

	e.events = to_epoll(r->mask);
	/* The registration number travels with the event, so an event from
	 * an older registration of the same fd is recognised and dropped. */
	e.data.u64 = (uint64_t)r->gen << 32 | (uint32_t)fd;
	return epoll_ctl(loop->epfd, op, fd, &e);
}

/* --- registration ---------------------------------------------------------
 */

/* The record of fd, for ev_add or ev_add_deferred: EV_EINVAL for a bad
 * fd, callback or mask, or an fd added already. */
static enum ev_result
add_record(struct ev_loop *loop, int fd, unsigned mask, ev_io_fn *fn,
    struct ev_fd **out)
{
	struct ev_fd *r;

	if ((r = record(loop, fd)) == NULL)
		return EV_EINVAL;
	if (fn == NULL || (mask & ~(EV_READ | EV_WRITE | EV_RDHUP)) != 0)
		return fail(EV_EINVAL, EINVAL);
	if (r->flags & (EVF_ADDED | EVF_CLOSING))
		return fail(EV_EINVAL, EEXIST);
	*out = r;
	return EV_OK;
}

enum ev_result
ev_add(struct ev_loop *loop, int fd, unsigned mask, ev_io_fn *fn, void *data)
{
	struct ev_fd *r;
	enum ev_result res;

	if ((res = add_record(loop, fd, mask, fn, &r)) != EV_OK)
		return res;
	r->gen++;
	r->mask = (uint16_t)mask;
	if (epoll_op(loop, EPOLL_CTL_ADD, fd, r) == -1)
		return EV_ESYS;
	r->fn = fn;
	r->u.data = data;
	r->flags = EVF_ADDED;
	return EV_OK;
}

static void flush_pending(struct ev_loop *loop);

enum ev_result
ev_add_deferred(
    struct ev_loop *loop, int fd, unsigned mask, ev_io_fn *fn, void *data)
{
	struct ev_fd *r;
	enum ev_result res;

	if ((res = add_record(loop, fd, mask, fn, &r)) != EV_OK)
		return res;
	if (loop->npending == loop->nfds) /* cannot happen: one per fd */
		flush_pending(loop);
	r->gen++;
	r->mask = (uint16_t)mask;
	r->fn = fn;
	r->u.data = data;
	r->flags = EVF_ADDED | EVF_PENDING;
	loop->pending[loop->npending++] = fd;
	return EV_OK;
}

/* Hand the fds still pending to epoll, before the loop waits. One that
 * epoll refuses gets EV_ERR (errno set), and its handler closes it. */
static void
flush_pending(struct ev_loop *loop)
{
	struct ev_fd *r;
	unsigned i;
	int fd;

	/* a handler called here may add more: they are flushed too */
	for (i = 0; i < loop->npending; i++) {
		fd = loop->pending[i];
		r = &loop->fds[fd];
		if (!(r->flags & EVF_PENDING))
			continue; /* closed or deleted meanwhile */
		r->flags &= (uint16_t)~EVF_PENDING;
		/* refused: still registered here, for the handler to close
		 * (ev_close's EPOLL_CTL_DEL then fails, harmlessly) */
		if (epoll_op(loop, EPOLL_CTL_ADD, fd, r) == -1)
			r->fn(loop, fd, EV_ERR, r->u.data);
	}
	loop->npending = 0;
}

enum ev_result
ev_mod(struct ev_loop *loop, int fd, unsigned mask)
{
	struct ev_fd *r;
	uint16_t old;

	if ((r = record(loop, fd)) == NULL)
		return EV_EINVAL;
	if (!(r->flags & EVF_ADDED))
		return fail(EV_EINVAL, ENOENT);
	if ((mask & ~(EV_READ | EV_WRITE | EV_RDHUP)) != 0)
		return fail(EV_EINVAL, EINVAL);
	if (r->mask == mask)
		return EV_OK;
	if (r->flags & EVF_PENDING) { /* epoll takes the mask when flushed */
		r->mask = (uint16_t)mask;
		return EV_OK;
	}
	old = r->mask;
	r->mask = (uint16_t)mask;
	if (epoll_op(loop, EPOLL_CTL_MOD, fd, r) == -1) {
		r->mask = old;
		return EV_ESYS;
	}
	return EV_OK;
}

unsigned
ev_mask(const struct ev_loop *loop, int fd)
{
	const struct ev_fd *r = record(loop, fd);

	return (r != NULL && (r->flags & EVF_ADDED)) ? r->mask : 0;
}

/* Forget fd's registration; its events still in this batch are dropped
 * because the record no longer matches them. */
static void
unregister(struct ev_loop *loop, int fd, struct ev_fd *r)
{
	if (!(r->flags & EVF_PENDING)) /* else epoll never had it */
		(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	r->flags &= (uint16_t) ~(EVF_ADDED | EVF_PENDING);
	r->fn = NULL;
	r->u.data = NULL;
	r->mask = 0;
	r->gen++;
}

enum ev_result
ev_del(struct ev_loop *loop, int fd)
{
	struct ev_fd *r;

	if ((r = record(loop, fd)) == NULL)
		return EV_EINVAL;
	if (!(r->flags & EVF_ADDED))
		return fail(EV_EINVAL, ENOENT);
	unregister(loop, fd, r);
	return EV_OK;
}

enum ev_result
ev_close(struct ev_loop *loop, int fd)
{
	struct ev_fd *r;

	if ((r = record(loop, fd)) == NULL)
		return EV_EINVAL;
	if (r->flags & EVF_CLOSING)
		return EV_OK;
	if (r->flags & EVF_ADDED)
		unregister(loop, fd, r);
	r->flags = EVF_CLOSING;
	r->u.next = loop->close_head;
	loop->close_head = fd;
	return EV_OK;
}

void
ev_defer(struct ev_loop *loop, struct ev_defer *d, ev_defer_fn *fn)
{
	if (d->queued)
		return;
	d->fn = fn;
	d->next = NULL;
	d->queued = true;
	*loop->defer_tail = d;
	loop->defer_tail = &d->next;
}

/* Deferred frees first, then closes, until both lists stay empty (a free
 * function may close or defer more). */
static void
run_deferred(struct ev_loop *loop)
{
	struct ev_defer *d;
	struct ev_fd *r;
	int fd;

	while (loop->defer_head != NULL || loop->close_head >= 0) {
		while ((d = loop->defer_head) != NULL) {
			if ((loop->defer_head = d->next) == NULL)
				loop->defer_tail = &loop->defer_head;
			d->next = NULL;
			d->queued = false;
			d->fn(d);
		}
		while ((fd = loop->close_head) >= 0) {
			r = &loop->fds[fd];
			loop->close_head = r->u.next;
			r->u.data = NULL;
			r->flags = 0;
			(void)close(fd);
		}
	}
}

/* --- the turn --------------------------------------------------------------
 */

static void
dispatch(struct ev_loop *loop, const struct epoll_event *e)
{
	int fd = (int)(uint32_t)e->data.u64;
	uint32_t gen = (uint32_t)(e->data.u64 >> 32);
	struct ev_fd *r;
	unsigned ready;

	if ((r = record(loop, fd)) == NULL)
		return;
	/* Still registered, by the same registration, still interested? */
	if (!(r->flags & EVF_ADDED) || r->gen != gen)
		return;
	ready = from_epoll(e->events) & (r->mask | EV_HUP | EV_ERR);
	if (ready != 0)
		r->fn(loop, fd, ready, r->u.data);
}

enum ev_result
ev_run_once(struct ev_loop *loop, int timeout_ms)
{
	int n, i, t;

	run_deferred(loop); /* anything queued between turns */
	flush_pending(loop);
	loop->now = loop->clock(loop->clock_data);
	t = tmr_timeout_ms(&loop->timers, loop->now);
	if (timeout_ms >= 0 && (t < 0 || timeout_ms < t))
		t = timeout_ms;
	n = epoll_wait(loop->epfd, loop->events, EV_BATCH, t);
	if (n == -1) {
		if (errno != EINTR)
			return EV_ESYS;
		n = 0;
	}
	loop->now = loop->clock(loop->clock_data);
	for (i = 0; i < n; i++)
		dispatch(loop, &loop->events[i]);
	tmr_run(&loop->timers, loop->now, loop);
	run_deferred(loop);
	return EV_OK;
}

enum ev_result
ev_run(struct ev_loop *loop)
{
	enum ev_result r;

	while (!atomic_load(&loop->stop)) {
		if ((r = ev_run_once(loop, -1)) != EV_OK)
			return r;
	}
	atomic_store(&loop->stop, false);
	return EV_OK;
}

void
ev_stop(struct ev_loop *loop)
{
	atomic_store(&loop->stop, true);
	ev_wakeup(loop);
}

/* --- time ------------------------------------------------------------------
 */

uint64_t
ev_now(const struct ev_loop *loop)
{
	return loop->now;
}

uint64_t
ev_update_now(struct ev_loop *loop)
{
	return loop->now = loop->clock(loop->clock_data);
}

void
ev_set_clock(struct ev_loop *loop, ev_clock_fn *fn, void *data)
{
	loop->clock = fn ? fn : monotonic_ms;
	loop->clock_data = fn ? data : NULL;
	loop->now = loop->clock(loop->clock_data);
}

struct tmr_heap *
ev_timers(struct ev_loop *loop)
{
	return &loop->timers;
}

enum tmr_result
ev_timer_after(struct ev_loop *loop, struct tmr_node *node, uint64_t delay_ms)
{
	uint64_t when = loop->now + delay_ms;

	if (when < loop->now)
		when = TMR_NEVER - 1;
	return tmr_arm(&loop->timers, node, when);
}

/* --- wakeup and signals ----------------------------------------------------
 */

static void
wakeup_io(struct ev_loop *loop, int fd, unsigned events, void *data)
{
	uint64_t count;
	ssize_t n;

	(void)events;
	(void)data;
	/* Reading resets the counter; the fd is non-blocking and only this
	 * thread reads it, so EAGAIN cannot happen and errors are moot. */
	n = read(fd, &count, sizeof(count));
	(void)n;
	if (loop->wake_fn != NULL)
		loop->wake_fn(loop, loop->wake_data);
}

void
ev_on_wakeup(struct ev_loop *loop, ev_wakeup_fn *fn, void *data)
{
	loop->wake_fn = fn;
	loop->wake_data = data;
}

void
ev_wakeup(struct ev_loop *loop)
{
	uint64_t one = 1;
	int saved = errno; /* async-signal-safe: leave errno as found */
	ssize_t n;

	/* EAGAIN only if the counter is about to overflow: still readable. */
	n = write(loop->wakefd, &one, sizeof(one));
	(void)n;
	errno = saved;
}

static void
signal_io(struct ev_loop *loop, int fd, unsigned events, void *data)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)data;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (loop->sig_fn != NULL)
			loop->sig_fn(loop, (int)si.ssi_signo, loop->sig_data);
	}
}

enum ev_result
ev_signal(struct ev_loop *loop, const int *signos, size_t n, ev_signal_fn *fn,
    void *data)
{
	enum ev_result r;
	size_t i;
	int fd, err;

	for (i = 0; i < n; i++) {
		if (sigaddset(&loop->sigs, signos[i]) == -1)
			return fail(EV_EINVAL, EINVAL);
	}
	if ((err = pthread_sigmask(SIG_BLOCK, &loop->sigs, NULL)) != 0)
		return fail(EV_ESYS, err);
	fd = signalfd(loop->sigfd, &loop->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		return EV_ESYS;
	loop->sig_fn = fn;
	loop->sig_data = data;
	if (loop->sigfd == -1) {
		if ((r = ev_add(loop, fd, EV_READ, signal_io, NULL)) != EV_OK) {
			err = errno;
			(void)close(fd);
			return fail(r, err);
		}
		loop->sigfd = fd;
	}
	return EV_OK;
}

/* --- life cycle -------------------------------------------------------------
 */

static unsigned
nofile_soft(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > EV_MAX_FDS)
		return EV_MAX_FDS;
	return (unsigned)rl.rlim_cur;
}

static enum ev_result
loop_open_fds(struct ev_loop *loop)
{
	if ((loop->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return EV_ESYS;
	if ((loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return EV_ESYS;
	return ev_add(loop, loop->wakefd, EV_READ, wakeup_io, NULL);
}

enum ev_result
ev_new(struct ev_loop **out, unsigned max_fds)
{
	struct ev_loop *loop;
	enum ev_result r;
	int err;

	*out = NULL;
	if ((loop = calloc(1, sizeof(*loop))) == NULL)
		return fail(EV_ENOMEM, ENOMEM);
	loop->epfd = loop->wakefd = loop->sigfd = -1;
	loop->close_head = -1;
	loop->defer_tail = &loop->defer_head;
	loop->nfds = max_fds ? max_fds : nofile_soft();
	if (loop->nfds > EV_MAX_FDS)
		loop->nfds = EV_MAX_FDS;
	atomic_init(&loop->stop, false);
	sigemptyset(&loop->sigs);
	tmr_heap_init(&loop->timers, 0);
	ev_set_clock(loop, NULL, NULL);
	if ((loop->fds = calloc(loop->nfds, sizeof(*loop->fds))) == NULL ||
	    (loop->pending = calloc(loop->nfds, sizeof(int))) == NULL) {
		r = fail(EV_ENOMEM, ENOMEM);
		goto fail;
	}
	if ((r = loop_open_fds(loop)) != EV_OK)
		goto fail;
	*out = loop;
	return EV_OK;
fail:
	err = errno;
	ev_free(loop);
	return fail(r, err);
}

void
ev_free(struct ev_loop *loop)
{
	if (loop == NULL)
		return;
	if (loop->fds != NULL)
		run_deferred(loop);
	if (loop->sigfd != -1)
		(void)close(loop->sigfd);
	if (loop->wakefd != -1)
		(void)close(loop->wakefd);
	if (loop->epfd != -1)
		(void)close(loop->epfd);
	tmr_heap_fini(&loop->timers);
	free(loop->fds);
	free(loop->pending);
	free(loop);
}

unsigned
ev_max_fds(const struct ev_loop *loop)
{
	return loop->nfds;
}

long
ev_raise_nofile(void)
{
	struct rlimit rl;
	rlim_t nr_open = 1048576;
	unsigned long v;
	FILE *f;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_max == RLIM_INFINITY) {
		/* Linux caps RLIMIT_NOFILE at fs.nr_open. */
		if ((f = fopen("/proc/sys/fs/nr_open", "re")) != NULL) {
			if (fscanf(f, "%lu", &v) == 1)
				nr_open = (rlim_t)v;
			fclose(f);
		}
		rl.rlim_max = nr_open;
	}
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			return -1;
	}
	return rl.rlim_cur > (rlim_t)LONG_MAX ? LONG_MAX : (long)rl.rlim_cur;
}

/* --- the listener -----------------------------------------------------------
 */

/* accept4 errors that mean "this one connection failed, go on" (accept(2):
 * Linux passes pending network errors of the new socket to accept). */
static bool
accept_error_transient(int err)
{
	switch (err) {
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
	case EPERM: /* firewall rules */
		return true;
	default:
		return false;
	}
}

static void
listener_io(struct ev_loop *loop, int fd, unsigned events, void *data)
{
	struct ev_listener *l = data;
	unsigned n = 0;
	int cfd;

	(void)events;
	/* The accept callback may pause, stop or close the listener. */
	while (!l->paused && (loop->fds[fd].flags & EVF_ADDED)) {
		if (n++ == EV_ACCEPT_BATCH)
			return; /* the rest next turn (level-triggered) */
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			l->accepted++;
			l->fn(loop, cfd, l->data);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (accept_error_transient(errno))
			continue;
		/* EMFILE, ENFILE, ENOBUFS, ENOMEM, or worse: with
		 * level-triggered epoll the pending connection would wake us
		 * again at once, so step back for a while (slowcgi). */
		l->last_errno = errno;
		(void)ev_listener_pause(loop, l, l->backoff_ms);
		return;
	}
}

static void
listener_backoff_cb(struct tmr_node *node, uint64_t now_ms, void *ctx)
{
	struct ev_listener *l = container_of(node, struct ev_listener, backoff);
	struct ev_loop *loop = ctx;

	(void)now_ms;
	if (ev_listener_resume(loop, l) != EV_OK) {
		l->last_errno = errno;
		(void)ev_timer_after(loop, &l->backoff, l->backoff_ms);
	}
}

enum ev_result
ev_listener_start(struct ev_loop *loop, struct ev_listener *l, int fd,
    uint32_t backoff_ms, ev_accept_fn *fn, void *data)
{
	int flags;

	if (fn == NULL)
		return fail(EV_EINVAL, EINVAL);
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return EV_ESYS;
	tmr_node_init(&l->backoff, listener_backoff_cb);
	l->fn = fn;
	l->data = data;
	l->fd = fd;
	l->backoff_ms = backoff_ms ? backoff_ms : 1;
	l->paused = false;
	l->accepted = l->pauses = 0;
	l->last_errno = 0;
	return ev_add(loop, fd, EV_READ, listener_io, l);
}

enum ev_result
ev_listener_pause(struct ev_loop *loop, struct ev_listener *l, uint64_t ms)
{
	enum ev_result r = EV_OK;

	if (!l->paused) {
		/* Out of epoll, not just out of the mask: a listener with no
		 * interest would still be woken by EPOLLERR. */
		r = ev_del(loop, l->fd);
		l->paused = true;
		l->pauses++;
	}
	if (ms == 0)
		tmr_cancel(&loop->timers, &l->backoff);
	else if (ev_timer_after(loop, &l->backoff, ms) != TMR_OK && r == EV_OK)
		r = fail(EV_ENOMEM, ENOMEM);
	return r;
}

enum ev_result
ev_listener_resume(struct ev_loop *loop, struct ev_listener *l)
{
	enum ev_result r;

	if (!l->paused)
		return EV_OK;
	tmr_cancel(&loop->timers, &l->backoff);
	if ((r = ev_add(loop, l->fd, EV_READ, listener_io, l)) != EV_OK)
		return r;
	l->paused = false;
	return EV_OK;
}

void
ev_listener_stop(struct ev_loop *loop, struct ev_listener *l)
{
	if (!l->paused)
		(void)ev_del(loop, l->fd);
	tmr_cancel(&loop->timers, &l->backoff);
	l->paused = false;
}
