/*
 * test_ev — the event loop over real pipes and sockets: read and write
 * readiness, level-triggered redelivery, deferred close inside a batch,
 * timers on an injected and on the real clock, wakeup and stop from
 * another thread, signalfd, and the listener's EMFILE back-off.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "tap.h"

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static uint64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* --- readiness ------------------------------------------------------------ */

struct io_seen {
	int calls;
	unsigned events;
	int fd;
	void *data;
	int drain; /* read everything when called */
};

static void
io_record(struct ev_loop *loop, int fd, unsigned events, void *data)
{
	struct io_seen *s = data;
	char buf[64];

	(void)loop;
	s->calls++;
	s->events = events;
	s->fd = fd;
	s->data = data;
	if (s->drain && (events & EV_READ))
		while (read(fd, buf, sizeof(buf)) > 0)
			;
}

static void
test_readiness(struct ev_loop *loop)
{
	struct io_seen rs = {0}, ws = {0};
	int p[2], sv[2];

	ok(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0, "pipe");
	ok(ev_add(loop, p[0], EV_READ, io_record, &rs) == EV_OK, "ev_add read");
	ok(ev_mask(loop, p[0]) == EV_READ, "ev_mask reports the interest");
	ev_run_once(loop, 0);
	ok(rs.calls == 0, "no data: no call");
	ok(write(p[1], "hello", 5) == 5, "write to the pipe");
	ev_run_once(loop, 0);
	ok(rs.calls == 1 && rs.events == EV_READ && rs.fd == p[0] &&
	        rs.data == &rs,
	    "read readiness delivered with fd and data");
	ev_run_once(loop, 0);
	ok(rs.calls == 2, "level-triggered: undrained data is reported again");
	rs.drain = 1;
	ev_run_once(loop, 0);
	ev_run_once(loop, 0);
	ok(rs.calls == 3, "drained: quiet");
	ok(ev_mod(loop, p[0], 0) == EV_OK && write(p[1], "x", 1) == 1,
	    "ev_mod to no interest (backpressure)");
	ev_run_once(loop, 0);
	ok(rs.calls == 3, "no interest: no call, data waits");
	ev_mod(loop, p[0], EV_READ);
	ev_run_once(loop, 0);
	ok(rs.calls == 4, "interest back: the waiting data is reported");

	ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0,
	    "socketpair");
	ok(ev_add(loop, sv[0], EV_WRITE, io_record, &ws) == EV_OK,
	    "ev_add write");
	ev_run_once(loop, 0);
	ok(ws.calls == 1 && ws.events == EV_WRITE, "write readiness delivered");
	ev_mod(loop, sv[0], EV_READ);
	ev_run_once(loop, 0);
	ok(ws.calls == 1, "write interest dropped: no call");
	close(sv[1]);
	ev_run_once(loop, 0);
	ok(ws.calls == 2 && (ws.events & EV_READ) && (ws.events & EV_HUP),
	    "peer close: EV_READ|EV_HUP");
	ev_mod(loop, sv[0], 0);
	ev_run_once(loop, 0);
	ok(ws.calls == 3 && ws.events == EV_HUP,
	    "EV_HUP is delivered even with no interest");

	ok(ev_add(loop, p[0], EV_READ, io_record, &rs) == EV_EINVAL &&
	        errno == EEXIST,
	    "adding twice: EV_EINVAL, EEXIST");
	ok(ev_add(loop, (int)ev_max_fds(loop), EV_READ, io_record, &rs) ==
	            EV_EINVAL &&
	        errno == EBADF,
	    "fd beyond the table: EV_EINVAL, EBADF");
	ok(ev_del(loop, p[0]) == EV_OK && ev_mask(loop, p[0]) == 0 &&
	        ev_mod(loop, p[0], EV_READ) == EV_EINVAL && errno == ENOENT,
	    "ev_del; then ev_mod is ENOENT");
	ok(ev_close(loop, p[0]) == EV_OK && ev_close(loop, p[1]) == EV_OK &&
	        ev_close(loop, sv[0]) == EV_OK,
	    "ev_close registered and unregistered fds");
	ok(fd_open(p[0]) && fd_open(sv[0]), "closing waits for the turn's end");
	ev_run_once(loop, 0);
	ok(!fd_open(p[0]) && !fd_open(p[1]) && !fd_open(sv[0]),
	    "and then they are closed");
}

/* --- deferred close inside a batch ---------------------------------------- */

/* Two connections, both readable in the same batch. Whichever handler runs
 * first closes the OTHER and frees it (deferred): the other's event,
 * already in the batch, must not be dispatched to freed memory. Run under
 * ASan/valgrind, a wrong dispatch is a use-after-free report. */
struct conn {
	struct ev_loop *loop;
	int fd;
	int calls;
	struct conn *peer;
	struct ev_defer defer;
	int *freed;
	int peer_open_in_turn; /* the peer's fd is still open after ev_close */
	int newfd;             /* an fd opened after ev_close, same turn */
};

static void
conn_free(struct ev_defer *d)
{
	struct conn *c = container_of(d, struct conn, defer);

	(*c->freed)++;
	free(c);
}

static void
conn_io(struct ev_loop *loop, int fd, unsigned events, void *data)
{
	struct conn *c = data;
	struct conn *victim = c->peer;

	(void)fd;
	(void)events;
	c->calls++;
	if (victim == NULL)
		return;
	victim->peer = NULL;
	c->peer = NULL;
	ev_close(loop, victim->fd);
	ev_defer(loop, &victim->defer, conn_free);
	ev_defer(loop, &victim->defer, conn_free); /* twice: a no-op */
	c->peer_open_in_turn = fd_open(victim->fd);
	c->newfd = dup(0);
}

static void
test_deferred_close(struct ev_loop *loop)
{
	struct conn *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct conn *survivor;
	int sa[2], sb[2], freed = 0, afd, bfd;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sa);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sb);
	a->fd = afd = sa[0];
	b->fd = bfd = sb[0];
	a->peer = b;
	b->peer = a;
	a->freed = b->freed = &freed;
	a->newfd = b->newfd = -1;
	ev_add(loop, a->fd, EV_READ, conn_io, a);
	ev_add(loop, b->fd, EV_READ, conn_io, b);
	ok(write(sa[1], "a", 1) == 1 && write(sb[1], "b", 1) == 1,
	    "both connections readable before the turn");
	ev_run_once(loop, 0);
	survivor = fd_open(afd) ? a : b;
	ok(freed == 1, "exactly one connection was freed, once");
	ok(survivor->calls == 1,
	    "the closed one's pending event was not dispatched");
	ok(survivor->peer_open_in_turn,
	    "the closed fd stayed open until the end of the batch");
	ok(survivor->newfd >= 0 && survivor->newfd != afd &&
	        survivor->newfd != bfd,
	    "so a new fd in the same turn cannot take its number");
	ok(!fd_open(survivor == a ? bfd : afd), "and is closed after the turn");
	ev_run_once(loop, 0);
	ok(survivor->calls == 2, "the survivor is still served");
	close(survivor->newfd);
	ev_close(loop, survivor->fd);
	ev_run_once(loop, 0);
	close(sa[1]);
	close(sb[1]);
	free(survivor);
}

/* --- ev_add_deferred --------------------------------------------------- */

/* The loop's epoll fd, found by its link in /proc (one loop here). */
static int
epoll_fd(void)
{
	char path[64], target[64];
	ssize_t n;
	int fd;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, "anon_inode:[eventpoll]") == 0)
			return fd;
	}
	return -1;
}

/* Is fd in the epoll set of epfd (its "tfd:" line in fdinfo)? */
static int
in_epoll(int epfd, int fd)
{
	char path[64], line[256];
	int found = 0, tfd;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "tfd: %d", &tfd) == 1 && tfd == fd)
			found = 1;
	fclose(f);
	return found;
}

static void
close_on_err(struct ev_loop *loop, int fd, unsigned events, void *data)
{
	struct io_seen *s = data;

	s->calls++;
	s->events = events;
	if (events & EV_ERR)
		ev_close(loop, fd);
}

static void
test_add_deferred(struct ev_loop *loop)
{
	struct io_seen rs = {0}, cs = {0}, ms = {0}, es = {0};
	int epfd = epoll_fd(), a[2], b[2], c[2], fd;
	FILE *tmp;

	if (!ok(epfd >= 0 && in_epoll(epfd, -2) == 0, "the loop's epoll fd"))
		return;
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a);
	ok(write(a[1], "x", 1) == 1, "data waiting before the add");
	rs.drain = 1;
	ok(ev_add_deferred(loop, a[0], EV_READ, io_record, &rs) == EV_OK &&
	        ev_mask(loop, a[0]) == EV_READ,
	    "ev_add_deferred registers at once in the table");
	ok(in_epoll(epfd, a[0]) == 0, "  but epoll has not heard of it yet");
	ok(ev_add(loop, a[0], EV_READ, io_record, &rs) == EV_EINVAL &&
	        errno == EEXIST,
	    "  a second add is EEXIST");
	ev_run_once(loop, 0);
	ok(in_epoll(epfd, a[0]) == 1 && rs.calls == 1 && rs.fd == a[0] &&
	        rs.events == EV_READ,
	    "the next turn hands it to epoll before waiting: served at once");

	/* added and closed within the turn: epoll never has it */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b);
	ok(write(b[1], "x", 1) == 1, "another, with data waiting");
	ev_add_deferred(loop, b[0], EV_READ, io_record, &cs);
	ok(ev_close(loop, b[0]) == EV_OK, "closed in the turn it was added");
	ev_run_once(loop, 0);
	ok(cs.calls == 0 && !fd_open(b[0]),
	    "never reported, closed at the end of the turn");

	/* ev_mod before the flush only records the mask */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, c);
	ok(write(c[1], "x", 1) == 1, "a third, with data waiting");
	ms.drain = 1;
	ev_add_deferred(loop, c[0], EV_READ, io_record, &ms);
	ok(ev_mod(loop, c[0], 0) == EV_OK && ev_mask(loop, c[0]) == 0,
	    "ev_mod on a deferred fd");
	ev_run_once(loop, 0);
	ok(ms.calls == 0 && in_epoll(epfd, c[0]) == 1,
	    "  epoll got the new mask (nothing reported)");
	ev_mod(loop, c[0], EV_READ);
	ev_run_once(loop, 0);
	ok(ms.calls == 1, "  and reports once it is asked to");
	ok(ev_del(loop, c[0]) == EV_OK && in_epoll(epfd, c[0]) == 0,
	    "ev_del takes it out of epoll");

	/* epoll refuses a regular file: the handler hears EV_ERR */
	tmp = tmpfile();
	fd = dup(fileno(tmp));
	fclose(tmp);
	ok(ev_add_deferred(loop, fd, EV_READ, close_on_err, &es) == EV_OK,
	    "a regular file is accepted for later");
	ev_run_once(loop, 0);
	ok(es.calls == 1 && es.events == EV_ERR && !fd_open(fd),
	    "  epoll refused it: EV_ERR, and the handler closed it");
	ev_close(loop, a[0]);
	ev_run_once(loop, 0);
	close(a[1]);
	close(b[1]);
	close(c[0]);
	close(c[1]);
}

/* Re-registering the same fd in the batch drops the old registration's
 * event (it belongs to another handler now). */
struct rereg {
	int fd_other;
	int calls_old, calls_new, done;
};

static void
rereg_new(struct ev_loop *loop, int fd, unsigned events, void *data)
{
	struct rereg *r = data;

	(void)loop;
	(void)fd;
	(void)events;
	r->calls_new++;
}

static void
rereg_io(struct ev_loop *loop, int fd, unsigned events, void *data)
{
	struct rereg *r = data;

	(void)fd;
	(void)events;
	r->calls_old++;
	if (r->done++)
		return;
	ev_del(loop, r->fd_other);
	ev_add(loop, r->fd_other, EV_READ, rereg_new, r);
}

static void
test_reregister(struct ev_loop *loop)
{
	struct rereg r = {0};
	int s1[2], s2[2];

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s1);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s2);
	/* s1[0] first in the ready list: it re-registers s2[0]. */
	ev_add(loop, s1[0], EV_READ, rereg_io, &r);
	ev_add(loop, s2[0], EV_READ, rereg_io, &r);
	r.fd_other = s2[0];
	ok(write(s1[1], "1", 1) == 1, "first readable");
	ok(write(s2[1], "2", 1) == 1, "second readable");
	ev_run_once(loop, 0);
	ok(r.calls_old == 1 && r.calls_new == 0,
	    "an event of an older registration is dropped");
	ev_run_once(loop, 0);
	ok(r.calls_new == 1, "the new registration is served next turn");
	ev_close(loop, s1[0]);
	ev_close(loop, s2[0]);
	ev_run_once(loop, 0);
	close(s1[1]);
	close(s2[1]);
}

/* --- deferred calls --------------------------------------------------------
 */

struct chain {
	struct ev_defer d1, d2;
	struct ev_loop *loop;
	int order[4], n;
};

static void
chain_second(struct ev_defer *d)
{
	struct chain *c = container_of(d, struct chain, d2);

	c->order[c->n++] = 2;
}

static void
chain_first(struct ev_defer *d)
{
	struct chain *c = container_of(d, struct chain, d1);

	c->order[c->n++] = 1;
	ev_defer(c->loop, &c->d2, chain_second);
}

static void
test_defer(struct ev_loop *loop)
{
	struct chain c = {.loop = loop};

	ev_defer(loop, &c.d1, chain_first);
	ok(c.n == 0, "ev_defer does not call at once");
	ev_run_once(loop, 0);
	ok(c.n == 2 && c.order[0] == 1 && c.order[1] == 2,
	    "deferred calls run at the turn's end, including ones they queue");
}

/* --- timers ----------------------------------------------------------------
 */

struct tick {
	struct tmr_node t;
	int id;
	struct tick_log *log;
};

struct tick_log {
	int ids[16];
	uint64_t at[16];
	int n;
	struct ev_loop *ctx_seen;
};

static void
tick_cb(struct tmr_node *node, uint64_t now_ms, void *ctx)
{
	struct tick *t = container_of(node, struct tick, t);

	t->log->ids[t->log->n] = t->id;
	t->log->at[t->log->n++] = now_ms;
	t->log->ctx_seen = ctx;
}

static uint64_t fake_now;

static uint64_t
fake_clock(void *data)
{
	(void)data;
	return fake_now;
}

static void
test_timers_fake(struct ev_loop *loop)
{
	static const uint64_t delay[5] = {30, 10, 20, 10, 50};
	static const int want[5] = {1, 3, 2, 0, 4};
	struct tick t[5];
	struct tick_log lg = {0};
	int i, good = 1;

	fake_now = 1000;
	ev_set_clock(loop, fake_clock, NULL);
	ok(ev_now(loop) == 1000, "injected clock: ev_now follows it");
	for (i = 0; i < 5; i++) {
		t[i] = (struct tick){.id = i, .log = &lg};
		tmr_node_init(&t[i].t, tick_cb);
		ev_timer_after(loop, &t[i].t, delay[i]);
	}
	ev_run_once(loop, 0);
	ok(lg.n == 0, "nothing fires before time moves");
	for (fake_now = 1000; fake_now <= 1060; fake_now += 5)
		ev_run_once(loop, 0);
	for (i = 0; i < 5; i++)
		good &= lg.ids[i] == want[i] &&
		    lg.at[i] >= 1000 + delay[want[i]] &&
		    lg.at[i] < 1000 + delay[want[i]] + 5;
	ok(lg.n == 5 && good,
	    "timers fire in deadline order, ties FIFO, on time");
	ok(lg.ctx_seen == loop, "timer callbacks get the loop as ctx");
	ev_set_clock(loop, NULL, NULL);
}

static void
test_timers_real(struct ev_loop *loop)
{
	static const uint64_t delay[3] = {60, 20, 40};
	struct tick t[3];
	struct tick_log lg = {0};
	uint64_t start = real_ms(), end;
	int i, turns = 0, good = 1;

	ev_update_now(loop);
	for (i = 0; i < 3; i++) {
		t[i] = (struct tick){.id = i, .log = &lg};
		tmr_node_init(&t[i].t, tick_cb);
		ev_timer_after(loop, &t[i].t, delay[i]);
	}
	while (lg.n < 3 && turns++ < 100)
		ev_run_once(loop, -1); /* sleeps until the next deadline */
	end = real_ms();
	good = lg.n == 3 && lg.ids[0] == 1 && lg.ids[1] == 2 && lg.ids[2] == 0;
	ok(good, "real clock: three timers fire in order");
	ok(end - start >= 60 && end - start < 1000,
	    "after their deadline, not much later (%llu ms)",
	    (unsigned long long)(end - start));
	ok(turns <= 6, "the loop slept, not spun (%d turns)", turns);
	printf("# real timers: fired at +%llu, +%llu, +%llu ms\n",
	    (unsigned long long)(lg.at[0] - start),
	    (unsigned long long)(lg.at[1] - start),
	    (unsigned long long)(lg.at[2] - start));
}

/* --- wakeup and stop from another thread -----------------------------------
 */

static void
woken(struct ev_loop *loop, void *data)
{
	(void)loop;
	(*(int *)data)++;
}

static void *
waker(void *arg)
{
	sleep_ms(30);
	ev_wakeup(arg);
	return NULL;
}

static void *
stopper(void *arg)
{
	sleep_ms(30);
	ev_stop(arg);
	return NULL;
}

static void
test_wakeup(struct ev_loop *loop)
{
	pthread_t th;
	int wakes = 0;
	uint64_t t0;

	ev_on_wakeup(loop, woken, &wakes);
	t0 = real_ms();
	pthread_create(&th, NULL, waker, loop);
	ev_run_once(loop, 5000);
	pthread_join(th, NULL);
	ok(wakes == 1 && real_ms() - t0 < 2000,
	    "ev_wakeup from another thread ends a blocking turn");
	ev_wakeup(loop);
	ev_wakeup(loop);
	ev_run_once(loop, 0);
	ok(wakes == 2, "wakeups before a turn coalesce into one call");
	t0 = real_ms();
	pthread_create(&th, NULL, stopper, loop);
	ok(ev_run(loop) == EV_OK && real_ms() - t0 < 2000,
	    "ev_stop from another thread ends ev_run");
	pthread_join(th, NULL);
	ev_on_wakeup(loop, NULL, NULL);
	ev_run_once(loop, 0);
}

/* --- signals ---------------------------------------------------------------
 */

static void
got_signal(struct ev_loop *loop, int signo, void *data)
{
	int *seen = data;

	(void)loop;
	seen[seen[0] + 1] = signo;
	seen[0]++;
}

static void
test_signal(struct ev_loop *loop)
{
	static const int sigs[] = {SIGUSR1, SIGUSR2};
	int seen[4] = {0};
	int i;

	ok(ev_signal(loop, sigs, 2, got_signal, seen) == EV_OK,
	    "ev_signal for SIGUSR1, SIGUSR2");
	kill(getpid(), SIGUSR1);
	for (i = 0; i < 10 && seen[0] == 0; i++)
		ev_run_once(loop, 100);
	ok(seen[0] == 1 && seen[1] == SIGUSR1,
	    "SIGUSR1 sent to self arrives on the loop thread");
	kill(getpid(), SIGUSR2);
	for (i = 0; i < 10 && seen[0] == 1; i++)
		ev_run_once(loop, 100);
	ok(seen[0] == 2 && seen[2] == SIGUSR2, "and SIGUSR2");
	ok(ev_signal(loop, (const int[]){9999}, 1, got_signal, seen) ==
	        EV_EINVAL,
	    "a bad signal number is EV_EINVAL");
}

/* --- the listener -----------------------------------------------------------
 */

struct accepted {
	int fds[8];
	int n;
};

static void
on_accept(struct ev_loop *loop, int fd, void *data)
{
	struct accepted *a = data;

	(void)loop;
	if (a->n < 8)
		a->fds[a->n++] = fd;
	else
		close(fd);
}

static int
unix_connect(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 &&
	    connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
test_listener_emfile(struct ev_loop *loop, struct ev_listener *l,
    const struct sockaddr_un *sun, struct accepted *acc)
{
	struct rlimit old, low;
	int dups[64], ndup = 0, c, i, turns;
	int client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), client2;
	uint64_t pauses = l->pauses, t0;

	/* Run the process out of fds, then connect. */
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = (rlim_t)client + 8;
	setrlimit(RLIMIT_NOFILE, &low);
	while (ndup < 64 && (dups[ndup] = dup(0)) >= 0)
		ndup++;
	ok(errno == EMFILE, "the process is out of fds (%d dups)", ndup);
	c = connect(client, (const struct sockaddr *)sun, sizeof(*sun));
	for (i = 0; i < 20; i++)
		ev_run_once(loop, 0);
	ok(c == 0 && l->paused && l->pauses == pauses + 1 &&
	        l->last_errno == EMFILE,
	    "EMFILE pauses the listener once, not a spin");
	ok(acc->n == 3, "nothing accepted while out of fds");
	t0 = real_ms();
	ev_run_once(loop, 20);
	ok(real_ms() - t0 >= 15 && l->paused,
	    "paused, a turn sleeps though a connection is pending");
	for (i = 0; i < ndup; i++)
		close(dups[i]);
	setrlimit(RLIMIT_NOFILE, &old);
	/* A second client: under valgrind, whose accept wrapper closes an fd
	 * over its limit and says EMFILE, the first connection is lost. */
	client2 = unix_connect(sun);
	for (turns = 0; turns < 50 && acc->n < 4; turns++)
		ev_run_once(loop, 100);
	for (i = 0; i < 3 && acc->n < 5; i++)
		ev_run_once(loop, 50);
	if (!ok(!l->paused && acc->n >= 4,
	        "after the back-off the listener resumes and accepts"))
		printf("# paused %d, pauses %llu, last errno %d, accepted %d\n",
		    l->paused, (unsigned long long)l->pauses, l->last_errno,
		    acc->n);
	printf("# accepted %d of 2 (one made while out of fds)\n", acc->n - 3);
	close(client2);
	close(client);
}

static void
test_listener(struct ev_loop *loop)
{
	char dir[] = "/tmp/test_ev.XXXXXX";
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct ev_listener l;
	struct accepted acc = {0};
	int lfd, c[3], i, flags_ok = 1;

	if (!ok(mkdtemp(dir) != NULL, "temp dir"))
		return;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	        listen(lfd, 16) == 0,
	    "listening on a unix socket");
	ok(ev_listener_start(loop, &l, lfd, 50, on_accept, &acc) == EV_OK,
	    "ev_listener_start");
	for (i = 0; i < 3; i++)
		c[i] = unix_connect(&sun);
	ev_run_once(loop, 0);
	ok(acc.n == 3 && l.accepted == 3,
	    "one readiness accepts every pending connection");
	for (i = 0; i < acc.n; i++)
		flags_ok &= (fcntl(acc.fds[i], F_GETFL) & O_NONBLOCK) &&
		    (fcntl(acc.fds[i], F_GETFD) & FD_CLOEXEC);
	ok(flags_ok, "accepted fds are non-blocking and close-on-exec");

	ok(ev_listener_pause(loop, &l, 0) == EV_OK && l.paused,
	    "pause until resumed");
	i = unix_connect(&sun);
	ev_run_once(loop, 0);
	ok(acc.n == 3, "paused: nothing accepted");
	ok(ev_listener_resume(loop, &l) == EV_OK, "resume");
	ev_run_once(loop, 0);
	ok(acc.n == 4, "resumed: the waiting connection is accepted");
	close(i);
	close(acc.fds[3]);
	acc.n = 3;

	test_listener_emfile(loop, &l, &sun, &acc);

	ev_listener_stop(loop, &l);
	for (i = 0; i < 3; i++)
		close(c[i]);
	for (i = 0; i < acc.n; i++)
		close(acc.fds[i]);
	ev_close(loop, lfd);
	ev_run_once(loop, 0);
	unlink(sun.sun_path);
	rmdir(dir);
}

/* --- scale: 10,000 registered fds, each with an armed timer ----------------
 */

#define N_SCALE 10000

struct scale_conn {
	struct tmr_node t;
	int fd;
	int fired;
};

static void
scale_fire(struct tmr_node *node, uint64_t now_ms, void *ctx)
{
	struct scale_conn *c = container_of(node, struct scale_conn, t);

	(void)now_ms;
	c->fired++;
	ev_close(ctx, c->fd); /* as a request that answered and went away */
}

static void
scale_io(struct ev_loop *loop, int fd, unsigned events, void *data)
{
	(void)loop;
	(void)fd;
	(void)events;
	(void)data; /* an eventfd nobody writes: never called */
}

static long
rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kib;
}

static void
test_scale(struct ev_loop *loop)
{
	struct scale_conn *c;
	long before, after;
	int i, added = 1, fired = 1, closed = 1;

	if (ev_max_fds(loop) < N_SCALE + 64) {
		ok(1, "# SKIP fd table too small for the scale test");
		return;
	}
	before = rss_kib();
	c = calloc(N_SCALE, sizeof(*c));
	fake_now = 5000;
	ev_set_clock(loop, fake_clock, NULL);
	for (i = 0; i < N_SCALE; i++) {
		c[i].fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		tmr_node_init(&c[i].t, scale_fire);
		added &= c[i].fd >= 0 &&
		    ev_add(loop, c[i].fd, EV_READ, scale_io, &c[i]) == EV_OK &&
		    ev_timer_after(loop, &c[i].t, 1 + (uint64_t)i % 997) ==
		        TMR_OK;
	}
	after = rss_kib();
	ok(added, "10,000 fds registered, each with an armed timer");
	printf("# RSS for 10,000 fds + timers (loop side, records %zu B + "
	       "node %zu B + heap slot %zu B): %ld KiB, %.0f B each\n",
	    sizeof(struct ev_fd), sizeof(struct tmr_node),
	    sizeof(struct tmr_node *), after - before,
	    (double)(after - before) * 1024 / N_SCALE);
	fake_now += 1000;
	ev_run_once(loop, 0);
	for (i = 0; i < N_SCALE; i++) {
		fired &= c[i].fired == 1;
		closed &= !fd_open(c[i].fd);
	}
	ok(fired && closed && tmr_heap_len(ev_timers(loop)) == 0,
	    "one turn fires all 10,000 and closes their fds");
	ev_set_clock(loop, NULL, NULL);
	free(c);
}

int
main(void)
{
	struct ev_loop *loop;
	struct rlimit rl;
	long lim;

	printf("# sizeof(struct ev_fd) = %zu\n", sizeof(struct ev_fd));
	lim = ev_raise_nofile();
	getrlimit(RLIMIT_NOFILE, &rl);
	ok(lim > 0 && (rlim_t)lim == rl.rlim_cur && rl.rlim_cur == rl.rlim_max,
	    "ev_raise_nofile raises the soft limit to the hard one (%ld)", lim);
	if (!ok(ev_new(&loop, 0) == EV_OK, "ev_new"))
		return done_testing();
	ok(ev_max_fds(loop) == (unsigned)lim, "the fd table is sized from it");
	printf("# fd table: %u records x %zu B = %zu KiB (virtual)\n",
	    ev_max_fds(loop), sizeof(struct ev_fd),
	    ev_max_fds(loop) * sizeof(struct ev_fd) / 1024);
	/* Signals first: the contract wants them blocked before threads. */
	test_signal(loop);
	test_readiness(loop);
	test_deferred_close(loop);
	test_add_deferred(loop);
	test_reregister(loop);
	test_defer(loop);
	test_timers_fake(loop);
	test_timers_real(loop);
	test_wakeup(loop);
	test_listener(loop);
	test_scale(loop);
	ev_free(loop);
	return done_testing();
}
