/* sm_run — send_many's epoll engine; see sm_run.h. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "http_resp.h"
#include "num.h"
#include "sm_run.h"

#define MAX_EVENTS     1024
#define START_BATCH    256   /* connects begun per loop turn */
#define READ_BUF       65536 /* one buffer for the whole loop */
#define PROGRESS_EVERY 0.1   /* seconds */

enum conn_state {
	CS_FREE,       /* no request left for this slot */
	CS_QUEUED,     /* has a request, waits for the loop to connect */
	CS_CONNECTING, /* non-blocking connect under way */
	CS_WRITING,    /* request partly written */
	CS_READING,    /* waiting for / reading the response */
	CS__MAX
};

enum io { IO_OK, IO_AGAIN, IO_DONE };

/* One slot: a connection and the request it carries. */
struct conn {
	int fd;
	enum conn_state state;
	unsigned addr; /* index of the address fd connects to */
	bool reused;   /* fd carried an earlier request */
	bool retried;  /* this request was already retried once */
	uint8_t secs_len, len_len;
	size_t req; /* 0-based request index */
	double start, deadline;
	size_t sent;                /* request bytes written */
	struct conn *prev, *next;   /* timeout FIFO */
	struct conn *qprev, *qnext; /* start queue */
	char secs_txt[NUM_FMT_MAX];
	char len_txt[24]; /* the Content-Length value of a POST */
	struct http_resp resp;
	char body[SM_BODY_KEEP];
};

struct fifo {
	struct conn *head, *tail;
};

struct engine {
	const struct sm_params *p;
	int ep;
	struct conn *conns;
	size_t next_req;
	size_t done, inflight, errors;
	unsigned addr_cur;
	struct fifo timers; /* linked by prev/next, deadline order */
	struct fifo starts; /* linked by qprev/qnext */
	struct timespec t0;
	double last_end, last_progress;
	char rbuf[READ_BUF];
};

static const char *const kind_names[SM_KIND__MAX] = {
    [SM_OK] = "ok",
    [SM_STATUS_3XX] = "status_3xx",
    [SM_STATUS_4XX] = "status_4xx",
    [SM_STATUS_5XX] = "status_5xx",
    [SM_REFUSED] = "refused",
    [SM_CONNECT] = "connect",
    [SM_TIMEOUT] = "timeout",
    [SM_WRITE] = "write",
    [SM_READ] = "read",
    [SM_CLOSED] = "closed",
    [SM_MALFORMED] = "malformed",
    [SM_TOOBIG] = "too_big",
};

const char *
sm_kind_name(enum sm_kind k)
{
	return (unsigned)k < SM_KIND__MAX ? kind_names[k] : "?";
}

static double
now(const struct engine *e)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - e->t0.tv_sec) +
	    (double)(ts.tv_nsec - e->t0.tv_nsec) / 1e9;
}

/* --- the two intrusive queues --------------------------------------- */

static void
timer_push(struct fifo *f, struct conn *c)
{
	c->next = NULL;
	c->prev = f->tail;
	if (f->tail != NULL)
		f->tail->next = c;
	else
		f->head = c;
	f->tail = c;
}

static void
timer_remove(struct fifo *f, struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		f->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		f->tail = c->prev;
	c->prev = c->next = NULL;
}

static void
start_push(struct fifo *f, struct conn *c)
{
	c->qnext = NULL;
	c->qprev = f->tail;
	if (f->tail != NULL)
		f->tail->qnext = c;
	else
		f->head = c;
	f->tail = c;
}

static void
start_remove(struct fifo *f, struct conn *c)
{
	if (c->qprev != NULL)
		c->qprev->qnext = c->qnext;
	else
		f->head = c->qnext;
	if (c->qnext != NULL)
		c->qnext->qprev = c->qprev;
	else
		f->tail = c->qprev;
	c->qprev = c->qnext = NULL;
}

/* --- request life cycle ---------------------------------------------- */

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->reused = false;
}

/* A fresh response parser for the slot's request. */
static void
resp_reset(const struct engine *e, struct conn *c)
{
	http_resp_init(&c->resp, e->p->body_max, c->body, sizeof(c->body));
	http_resp_capture(&c->resp, "X-Fcgilab-Worker");
}

/* Give slot c the next request, intended to start at t. */
static void
assign(struct engine *e, struct conn *c, double t)
{
	const struct sm_params *p = e->p;

	c->req = e->next_req++;
	c->start = t;
	c->deadline = t + p->timeout;
	c->sent = 0;
	c->retried = false;
	c->secs_len = p->secs != NULL
	    ? (uint8_t)num_format(p->secs[c->req], c->secs_txt)
	    : 0;
	c->len_len = p->content_length
	    ? (uint8_t)snprintf(c->len_txt, sizeof(c->len_txt), "%zu",
	          p->body_fixed + c->secs_len)
	    : 0;
	resp_reset(e, c);
	timer_push(&e->timers, c);
	e->inflight++;
}

/* Connect again later, from the loop (never recursively). */
static void
requeue(struct engine *e, struct conn *c)
{
	conn_close(c);
	c->sent = 0;
	resp_reset(e, c);
	c->state = CS_QUEUED;
	start_push(&e->starts, c);
}

static enum sm_kind
status_kind(int status)
{
	if (status < 200) /* the parser skips interim 1xx responses */
		return SM_MALFORMED;
	if (status < 300)
		return SM_OK;
	if (status < 400)
		return SM_STATUS_3XX;
	return status < 500 ? SM_STATUS_4XX : SM_STATUS_5XX;
}

static void
report(struct engine *e, struct conn *c, enum sm_kind kind, const char *detail,
    double t)
{
	struct sm_result res;
	bool response = kind == SM_OK || kind == SM_STATUS_3XX ||
	    kind == SM_STATUS_4XX || kind == SM_STATUS_5XX;

	res.index = c->req + 1;
	res.start = c->start;
	res.end = t;
	res.kind = kind;
	res.status = response ? c->resp.status : 0;
	res.reason = response ? c->resp.reason : "";
	res.body = c->body;
	res.body_len = c->resp.kept;
	res.body_total = c->resp.body_len;
	res.detail = detail;
	res.worker = response ? c->resp.captured : "";
	e->p->on_result(e->p->arg, &res);
}

static enum io do_write(struct engine *e, struct conn *c);

/*
 * Request c is over: report it, then let the slot carry on with the next
 * request, on the same connection when reusable.
 */
static void
finish(struct engine *e, struct conn *c, enum sm_kind kind, const char *detail,
    bool reusable)
{
	double t = now(e);

	if (c->state == CS_QUEUED)
		start_remove(&e->starts, c);
	timer_remove(&e->timers, c);
	e->inflight--;
	e->done++;
	e->errors += kind != SM_OK;
	e->last_end = t;
	report(e, c, kind, detail, t);
	if (e->next_req >= e->p->count) {
		conn_close(c);
		c->state = CS_FREE;
		return;
	}
	assign(e, c, t);
	if (reusable && e->p->keepalive) {
		c->reused = true;
		c->state = CS_WRITING;
		do_write(e, c);
		return;
	}
	requeue(e, c);
}

/* A failure before any response byte on a reused connection is retried
 * once: the server may have closed it while it sat idle. */
static void
fail_io(struct engine *e, struct conn *c, enum sm_kind kind, int err)
{
	if (c->reused && !c->retried && c->resp.total == 0) {
		c->retried = true;
		requeue(e, c);
		return;
	}
	finish(e, c, kind, err != 0 ? strerror(err) : c->resp.why, false);
}

static void
connect_failed(struct engine *e, struct conn *c, int err)
{
	const struct sm_params *p = e->p;
	bool next_addr = err == ECONNREFUSED || err == ENETUNREACH ||
	    err == EHOSTUNREACH || err == EADDRNOTAVAIL || err == EAFNOSUPPORT;

	if (next_addr && c->addr == e->addr_cur && e->addr_cur + 1 < p->naddrs)
		e->addr_cur++;
	if (c->addr < e->addr_cur) { /* a better address is known: use it */
		requeue(e, c);
		return;
	}
	conn_close(c);
	finish(e, c, err == ECONNREFUSED ? SM_REFUSED : SM_CONNECT,
	    strerror(err), false);
}

static void
conn_open(struct engine *e, struct conn *c)
{
	const struct sm_addr *a = &e->p->addrs[e->addr_cur];
	struct epoll_event ev;
	int one = 1;

	c->addr = e->addr_cur;
	c->fd = socket(a->ss.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (c->fd < 0) {
		finish(e, c, SM_CONNECT, strerror(errno), false);
		return;
	}
	c->state = CS_CONNECTING;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)&a->ss, a->len) < 0 &&
	    errno != EINPROGRESS) {
		connect_failed(e, c, errno);
		return;
	}
	/* Edge-triggered for both directions: no epoll_ctl per request. */
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(e->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		conn_close(c);
		finish(e, c, SM_CONNECT, strerror(errno), false);
	}
}

/* --- I/O ------------------------------------------------------------- */

static enum io
do_write(struct engine *e, struct conn *c)
{
	const struct sm_params *p = e->p;
	struct iovec iov[5];
	struct msghdr msg;
	size_t lens[5] = {
	    p->head_len, c->len_len, p->mid_len, c->secs_len, p->tail_len};
	const char *bases[5] = {
	    p->head, c->len_txt, p->mid, c->secs_txt, p->tail};
	size_t skip,
	    total = p->head_len + c->len_len + p->mid_len + c->secs_len +
	    p->tail_len;
	int i, n;
	ssize_t w;

	while (c->sent < total) {
		for (i = 0, n = 0, skip = c->sent; i < 5; i++) {
			if (skip >= lens[i]) {
				skip -= lens[i];
				continue;
			}
			iov[n].iov_base = (char *)bases[i] + skip;
			iov[n++].iov_len = lens[i] - skip;
			skip = 0;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)n;
		/* sendmsg, not writev: MSG_NOSIGNAL spares us SIGPIPE. */
		w = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return IO_AGAIN;
		if (w < 0) {
			fail_io(e, c, SM_WRITE, errno);
			return IO_DONE;
		}
		c->sent += (size_t)w;
	}
	c->state = CS_READING;
	return IO_OK;
}

static void
got_response(struct engine *e, struct conn *c, bool clean)
{
	enum sm_kind kind = status_kind(c->resp.status);

	finish(e, c, kind, NULL, clean && c->resp.keep_alive);
}

static void
feed(struct engine *e, struct conn *c, size_t n, bool *more)
{
	enum http_resp_result r;
	size_t used;

	*more = false;
	r = http_resp_feed(&c->resp, e->rbuf, n, &used);
	switch (r) {
	case HTTP_RESP_NEED_MORE:
		*more = true;
		return;
	case HTTP_RESP_DONE:
		got_response(e, c, used == n); /* extra bytes: don't reuse */
		return;
	case HTTP_RESP_ETOOBIG:
		finish(e, c, SM_TOOBIG, c->resp.why, false);
		return;
	case HTTP_RESP_EPROTO:
	case HTTP_RESP_ETRUNC:
		finish(e, c, SM_MALFORMED, c->resp.why, false);
		return;
	}
}

static void
do_read(struct engine *e, struct conn *c, bool eof_pending)
{
	ssize_t n;
	bool more;

	for (;;) {
		n = read(c->fd, e->rbuf, sizeof(e->rbuf));
		if (n > 0) {
			feed(e, c, (size_t)n, &more);
			/* A short read drained the socket: the next byte brings
			 * a new edge, so no read just to see EAGAIN. Not so for
			 * a FIN that came with this edge: read on to the 0. */
			if (!more ||
			    ((size_t)n < sizeof(e->rbuf) && !eof_pending))
				return;
			continue;
		}
		if (n == 0) {
			if (http_resp_eof(&c->resp) == HTTP_RESP_DONE)
				got_response(e, c, false);
			else
				fail_io(e, c, SM_CLOSED, 0);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			fail_io(e, c, SM_READ, errno);
		return;
	}
}

static void
on_event(struct engine *e, struct conn *c, uint32_t ev)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->state == CS_CONNECTING) {
		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			connect_failed(e, c, err);
			return;
		}
		c->state = CS_WRITING;
	}
	if (c->state == CS_WRITING && do_write(e, c) != IO_OK)
		return;
	if (c->state == CS_READING &&
	    (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		do_read(e, c, (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
}

/* --- the loop ---------------------------------------------------------- */

static void
start_some(struct engine *e)
{
	struct conn *c;
	int k;

	for (k = 0; k < START_BATCH && (c = e->starts.head) != NULL; k++) {
		start_remove(&e->starts, c);
		conn_open(e, c);
	}
}

static void
expire(struct engine *e)
{
	char why[64];
	double t = now(e);

	while (e->timers.head != NULL && e->timers.head->deadline <= t) {
		snprintf(why, sizeof(why), "no complete response in %g s",
		    e->p->timeout);
		finish(e, e->timers.head, SM_TIMEOUT, why, false);
	}
}

static int
wait_ms(struct engine *e)
{
	double until = PROGRESS_EVERY;
	bool progress_due = e->p->on_progress != NULL;

	if (e->starts.head != NULL)
		return 0;
	if (e->timers.head == NULL)
		return progress_due ? (int)(PROGRESS_EVERY * 1000) : -1;
	if (!progress_due || e->timers.head->deadline - now(e) < until)
		until = e->timers.head->deadline - now(e);
	if (until <= 0)
		return 0;
	return (int)(until * 1000) + 1; /* round up: never wake early */
}

static void
progress(struct engine *e)
{
	struct sm_progress pr;
	double t = now(e);

	if (e->p->on_progress == NULL || t - e->last_progress < PROGRESS_EVERY)
		return;
	e->last_progress = t;
	pr.done = e->done;
	pr.inflight = e->inflight;
	pr.errors = e->errors;
	pr.elapsed = t;
	e->p->on_progress(e->p->arg, &pr);
}

static enum sm_run_result
loop(struct engine *e, char err[SM_ERR_LEN])
{
	struct epoll_event evs[MAX_EVENTS];
	int n, i;

	while (e->done < e->p->count) {
		start_some(e);
		n = epoll_wait(e->ep, evs, MAX_EVENTS, wait_ms(e));
		if (n < 0 && errno != EINTR) {
			snprintf(
			    err, SM_ERR_LEN, "epoll_wait: %s", strerror(errno));
			return SM_RUN_ESYS;
		}
		for (i = 0; i < n; i++)
			on_event(e, evs[i].data.ptr, evs[i].events);
		expire(e);
		progress(e);
	}
	return SM_RUN_OK;
}

enum sm_run_result
sm_run(const struct sm_params *p, double *wall, char err[SM_ERR_LEN])
{
	struct engine *e;
	enum sm_run_result r;
	size_t i;

	e = calloc(1, sizeof(*e));
	if (e == NULL ||
	    (e->conns = calloc(p->concurrency, sizeof(*e->conns))) == NULL) {
		free(e);
		snprintf(err, SM_ERR_LEN, "out of memory");
		return SM_RUN_ENOMEM;
	}
	e->p = p;
	for (i = 0; i < p->concurrency; i++)
		e->conns[i].fd = -1;
	e->ep = epoll_create1(EPOLL_CLOEXEC);
	if (e->ep < 0 || clock_gettime(CLOCK_MONOTONIC, &e->t0) < 0) {
		snprintf(err, SM_ERR_LEN, "epoll: %s", strerror(errno));
		r = SM_RUN_ESYS;
		goto out;
	}
	/* Every slot's first request is intended to start now. */
	for (i = 0; i < p->concurrency; i++) {
		assign(e, &e->conns[i], 0.0);
		requeue(e, &e->conns[i]);
	}
	r = loop(e, err);
	*wall = e->last_end;
out:
	for (i = 0; i < p->concurrency; i++)
		conn_close(&e->conns[i]);
	if (e->ep >= 0)
		close(e->ep);
	free(e->conns);
	free(e);
	return r;
}
