/* mux — the asynchronous FastCGI server; contract in mux.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "apijson.h"
#include "ev.h"
#include "fcgi_codec.h"
#include "listener.h"
#include "mux.h"
#include "mux_route.h"
#include "offload.h"
#include "outq.h"
#include "spare.h"
#include "tmr.h"

#define READ_BUF       (64 * 1024)
#define PARAMS_INITIAL 1024
/* Content per STDOUT record: the largest multiple of 8 that fits. */
#define STDOUT_CHUNK 65528
/* STDOUT records gathered into one write (4 pieces each, and the end). */
#define RECS_PER_WRITE ((OUTQ_IOV_MAX - 1) / 4)
/* The kept variables of a usual request fit in the request itself. */
#define VARS_SMALL 160
/* Blocks kept for reuse (spare.h): lighttpd opens a connection for every
 * request, and a turn ends dozens of them at once. */
#define SPARE_CONNS  256
#define SPARE_REQS   256
#define SPARE_PARAMS 64

enum conn_state {
	CS_OPEN,    /* reading records, answering requests */
	CS_CLOSING, /* no more requests: flush the output, then close */
	CS_CLOSED,  /* gone; freed at the end of the loop turn */
	CS__MAX
};

static const char *const conn_state_names[CS__MAX] = {
    [CS_OPEN] = "open", [CS_CLOSING] = "closing", [CS_CLOSED] = "closed"};

enum req_state {
	RS_PARAMS,   /* BEGIN_REQUEST seen; gathering PARAMS (§5.2) */
	RS_STDIN,    /* PARAMS complete; reading STDIN to its end (§5.3) */
	RS_READY,    /* all its input read: being dispatched */
	RS_RUNNING,  /* dispatched: waiting on a timer or a thread */
	RS_DRAINING, /* answered early; ignoring the rest of its STDIN */
	RS__MAX
};

static const char *const req_state_names[RS__MAX] = {[RS_PARAMS] = "params",
    [RS_STDIN] = "stdin",
    [RS_READY] = "ready",
    [RS_RUNNING] = "running",
    [RS_DRAINING] = "draining"};

/* The CGI variables a request keeps (the rest of PARAMS is dropped). */
/* The first MUX_V__MAX are the ones modules may read (mux_route.h). */
enum var {
	V_REQUEST_METHOD = MUX_V_METHOD,
	V_QUERY_STRING = MUX_V_QUERY,
	V_CONTENT_LENGTH = MUX_V_CONTENT_LENGTH,
	V_CONTENT_TYPE = MUX_V_CONTENT_TYPE,
	V_HTTP_ACCEPT_ENCODING = MUX_V_ACCEPT_ENCODING,
	V_REQUEST_URI = MUX_V_REQUEST_URI,
	V_SCRIPT_NAME = MUX_V__MAX,
	V_PATH_INFO,
	V_REMOTE_ADDR,
	V_HTTP_AUTHORIZATION,
	V__MAX
};

/* Names with their lengths, so a PARAMS pair is compared only with the
 * names of its length. */
#define VAR(name)                      \
	{                              \
		name, sizeof(name) - 1 \
	}
static const struct {
	const char *name;
	size_t len;
} var_names[V__MAX] = {
    [V_REQUEST_METHOD] = VAR("REQUEST_METHOD"),
    [V_QUERY_STRING] = VAR("QUERY_STRING"),
    [V_CONTENT_LENGTH] = VAR("CONTENT_LENGTH"),
    [V_CONTENT_TYPE] = VAR("CONTENT_TYPE"),
    [V_HTTP_ACCEPT_ENCODING] = VAR("HTTP_ACCEPT_ENCODING"),
    [V_REQUEST_URI] = VAR("REQUEST_URI"),
    [V_SCRIPT_NAME] = VAR("SCRIPT_NAME"),
    [V_PATH_INFO] = VAR("PATH_INFO"),
    [V_REMOTE_ADDR] = VAR("REMOTE_ADDR"),
    [V_HTTP_AUTHORIZATION] = VAR("HTTP_AUTHORIZATION"),
};

#define MAX_METRICS_FNS 4

struct mux_req;

struct mux_req {
	struct mux_req *next;
	struct conn *conn; /* valid until the end of the loop turn it ended */
	struct mux *mux;
	enum req_state state;
	uint16_t id;
	bool keep_conn;
	bool counted;       /* in metrics' in_flight */
	bool answered;      /* its answer is complete */
	bool want_writable; /* a module waits for the queue to drain */
	bool detached;      /* ended: off its connection, awaiting release */
	bool running;       /* waits on a timer, a thread or its output:
	                       its connection is not idle (nrunning) */
	unsigned hooks;     /* module hooks running on it (THE RULE) */
	const struct mux_route_ops *ops; /* a module's route, or NULL */
	void *mod_data;                  /* the module's state */
	struct tmr_node timer;           /* mux_req_after() */
	void (*timer_fn)(struct mux_req *r);
	struct mux_work *work; /* in the thread pool (mux_req_offload) */
	/* A complete answer larger than the room in the output queue: its
	 * head and body, fed in STDOUT records as the queue drains. */
	uint8_t *feed;
	size_t feed_len, feed_off;
	uint8_t *params; /* PARAMS stream while gathering, then freed */
	size_t params_len, params_cap;
	char *vars_block; /* the kept variables: vars_small, or malloc'd */
	const char *var[V__MAX];
	char vars_small[VARS_SMALL];
	struct app_decision d;
	size_t stdin_len;
	uint64_t t_start; /* ms: PARAMS complete */
};

struct conn {
	struct mux *mux;
	struct conn *prev, *next; /* every connection, for drain and free */
	int fd;
	enum conn_state state;
	struct fcgi_decoder dec;
	struct tmr_fifo_node idle;  /* queued while nothing runs */
	struct tmr_fifo_node stall; /* queued while output waits */
	struct outq out;
	struct mux_req *reqs;
	unsigned nreqs, nrunning;
	uint8_t *mgmt; /* a GET_VALUES query being gathered */
	size_t mgmt_len;
	struct mux_req *paused_by; /* a module stopped reading for it */
	uint64_t serial;           /* for logs */
	struct ev_defer free_later;
};

struct mux {
	struct mux_config cfg;
	struct ev_loop *loop;
	struct offload_pool *pools[MUX_POOL__MAX];
	struct ev_listener listener;
	int listen_fd;
	bool paused_at_cap;
	bool draining;
	struct tmr_fifo idle;
	struct tmr_fifo stall; /* output that has not moved: --stall-timeout */
	struct tmr_node grace;
	struct metrics metrics;
	struct conn conns; /* list sentinel */
	uint64_t serial;
	struct {
		const struct mux_route_ops *ops;
		void *ctx;
	} routes[APP_R__MAX];
	struct {
		mux_metrics_fn *fn;
		void *ctx;
	} metrics_fns[MAX_METRICS_FNS];
	/* Freed connections, requests and PARAMS buffers, for reuse. */
	struct spare spare_conns, spare_reqs, spare_params;
	struct ev_defer release; /* mux_free's last step */
	uint8_t rbuf[READ_BUF];
};

static void conn_close(struct conn *c);
static void conn_gone(struct conn *c, const char *why);
static void grace_over(struct tmr_node *node, uint64_t now, void *ctx);
static bool req_respond(struct mux_req *r, int status, const char *headers,
    const char *ctype, const void *body, size_t len);

__attribute__((format(printf, 2, 3))) static void
mux_log(const struct conn *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr,
	    "fcgilab-mux: conn %llu (%s): ", (unsigned long long)c->serial,
	    conn_state_names[c->state]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
mux_config_init(struct mux_config *cfg, unsigned fd_limit)
{
	memset(cfg, 0, sizeof(*cfg));
	app_config_init(&cfg->app);
	/* Keep a few fds for the listener, logs, eventfds, the store. */
	cfg->max_conns = fd_limit > 64 ? fd_limit - 32 : 16;
	cfg->max_inflight = MUX_DEFAULT_MAX_INFLIGHT;
	cfg->max_reqs_per_conn = MUX_DEFAULT_MAX_REQS_PER_CONN;
	cfg->max_params = MUX_DEFAULT_MAX_PARAMS;
	cfg->max_stdin = MUX_DEFAULT_MAX_STDIN;
	cfg->max_outq = MUX_DEFAULT_MAX_OUTQ;
	cfg->idle_timeout_ms = MUX_DEFAULT_IDLE_TIMEOUT_MS;
	cfg->stall_timeout_ms = MUX_DEFAULT_STALL_TIMEOUT_MS;
	cfg->grace_ms = MUX_DEFAULT_GRACE_MS;
}

const struct metrics *
mux_metrics(const struct mux *m)
{
	return &m->metrics;
}

/* --- output -------------------------------------------------------------- */

/* Queue n pieces for the front end, gathered into one write
 * (outq_sendv); a socket error or a peer that stopped reading (queue
 * full) ends the connection. Returns false then. */
static bool
conn_sendv(struct conn *c, const struct iovec *iov, int n)
{
	struct ev_loop *loop = c->mux->loop;
	enum outq_result res;

	if (c->state == CS_CLOSED)
		return false;
	res = outq_sendv(&c->out, c->fd, iov, n);
	switch (res) {
	case OUTQ_OK:
		break;
	case OUTQ_EFULL:
		conn_gone(
		    c, "the front end stopped reading (output queue full)");
		return false;
	case OUTQ_ENOMEM:
		conn_gone(c, "out of memory queuing output");
		return false;
	case OUTQ_EIO:
		conn_gone(c, strerror(errno));
		return false;
	}
	if (outq_len(&c->out) > 0 && !(ev_mask(loop, c->fd) & EV_WRITE))
		ev_mod(loop, c->fd, ev_mask(loop, c->fd) | EV_WRITE);
	/* Output waits: the stall clock runs from the last byte that moved. */
	if (outq_len(&c->out) > 0 && !tmr_fifo_queued(&c->stall))
		tmr_fifo_touch(&c->mux->stall, &c->stall, ev_now(loop));
	return true;
}

/* conn_sendv of one piece. */
static bool
conn_send(struct conn *c, const void *buf, size_t len)
{
	struct iovec iov = {(void *)buf, len};

	return conn_sendv(c, &iov, 1);
}

/* {END_REQUEST, id, {app_status, protocol_status}} (§5.5). */
static bool
send_end_request(struct conn *c, uint16_t id, uint8_t protocol_status)
{
	uint8_t rec[FCGI_END_REQUEST_LEN];
	size_t n;

	n = fcgi_encode_end_request(rec, sizeof(rec), id, 0, protocol_status);
	return conn_send(c, rec, n);
}

/*
 * STDOUT records (§5.3) carrying the bytes of a and then of b, and, when
 * end is set, the empty STDOUT that ends the stream and END_REQUEST
 * (§5.5). Nothing is copied: each record's header, its data (straight
 * from a and b) and its padding go out as pieces of one gathered write,
 * RECS_PER_WRITE records at a time, so an answer under 64 KiB is one
 * system call. Only what the kernel does not take is queued (copied).
 */
static bool
send_records(struct conn *c, uint16_t id, const void *a, size_t alen,
    const void *b, size_t blen, bool end)
{
	static const uint8_t zeros[8];
	uint8_t hdrs[RECS_PER_WRITE][FCGI_HEADER_LEN];
	uint8_t tail[FCGI_HEADER_LEN + FCGI_END_REQUEST_LEN];
	struct iovec iov[OUTQ_IOV_MAX];
	size_t total = alen + blen, done = 0, take, from_a, tn;
	uint8_t pad;
	int n, k;

	for (;;) {
		for (n = 0, k = 0; done < total && k < RECS_PER_WRITE; k++) {
			take = total - done < STDOUT_CHUNK ? total - done
			                                   : STDOUT_CHUNK;
			fcgi_encode_stream_header(hdrs[k], FCGI_HEADER_LEN,
			    FCGI_STDOUT, id, (uint16_t)take, &pad);
			iov[n++] = (struct iovec){hdrs[k], FCGI_HEADER_LEN};
			from_a = 0;
			if (done < alen) {
				from_a =
				    alen - done < take ? alen - done : take;
				iov[n++] =
				    (struct iovec){(uint8_t *)a + done, from_a};
			}
			if (take > from_a)
				iov[n++] = (struct iovec){
				    (uint8_t *)b + (done + from_a - alen),
				    take - from_a};
			if (pad > 0)
				iov[n++] = (struct iovec){(void *)zeros, pad};
			done += take;
		}
		if (done == total && end) {
			tn = fcgi_encode_stream_end(
			    tail, sizeof(tail), FCGI_STDOUT, id);
			tn += fcgi_encode_end_request(tail + tn,
			    sizeof(tail) - tn, id, 0, FCGI_REQUEST_COMPLETE);
			iov[n++] = (struct iovec){tail, tn};
		}
		if (n > 0 && !conn_sendv(c, iov, n))
			return false;
		if (done == total)
			return true;
	}
}

/* --- requests ------------------------------------------------------------ */

static struct mux_req *
req_find(const struct conn *c, uint16_t id)
{
	struct mux_req *r;

	for (r = c->reqs; r != NULL; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

/* The request's work left the pool, or never will run: it is dropped. */
static void
work_release(struct mux *m, struct mux_work *w)
{
	switch (offload_cancel(m->pools[w->pool], &w->job)) {
	case OFFLOAD_CANCEL_IDLE:
	case OFFLOAD_CANCEL_REMOVED:
		w->req = NULL;
		w->drop(w);
		break;
	case OFFLOAD_CANCEL_DETACHED: /* work_done drops it */
		w->req = NULL;
		break;
	}
}

/* Read again after a module's pause (its request answered or gone: the
 * rest of the body is then read and discarded, or the next request is). */
static void
conn_resume_body(struct conn *c)
{
	struct ev_loop *loop = c->mux->loop;

	c->paused_by = NULL;
	if (c->state == CS_OPEN)
		ev_mod(loop, c->fd, ev_mask(loop, c->fd) | EV_READ);
}

/* The one place a request is freed: after its end(), once no hook of its
 * module runs (mux_route.h, THE RULE). */
static void params_free(struct mux *m, struct mux_req *r);

static void
req_release(struct mux_req *r)
{
	struct mux *m = r->mux;

	if (r->ops != NULL && r->ops->end != NULL)
		r->ops->end(r, r->answered);
	free(r->feed);
	params_free(m, r);
	if (r->vars_block != r->vars_small)
		free(r->vars_block);
	app_decision_free(&r->d);
	spare_put(&m->spare_reqs, r);
}

static void
req_hold(struct mux_req *r)
{
	r->hooks++;
}

static void
req_unhold(struct mux_req *r)
{
	if (--r->hooks == 0 && r->detached)
		req_release(r);
}

/* The one place a request ends: off its connection at once, with its
 * timer, its pool work and its counts; released now or when the last of
 * its module's hooks returns. */
static void
req_detach(struct mux_req *r)
{
	struct conn *c = r->conn;
	struct mux *m = r->mux;
	struct mux_req **pp;

	if (r->detached)
		return;
	r->detached = true;
	r->want_writable = false;
	if (c->paused_by == r)
		conn_resume_body(c);
	for (pp = &c->reqs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	r->next = NULL;
	c->nreqs--;
	tmr_cancel(ev_timers(m->loop), &r->timer);
	if (r->work != NULL)
		work_release(m, r->work);
	r->work = NULL;
	if (r->running)
		c->nrunning--;
	/* Nothing running: idle from now on, whether this request ran or
	 * was answered at once (a kept connection in use is not idle). */
	if (c->nrunning == 0 && c->state == CS_OPEN)
		tmr_fifo_touch(&m->idle, &c->idle, ev_now(m->loop));
	if (r->counted) /* never answered: its client went away */
		metrics_request_end(&m->metrics, r->d.route, 0, 0);
	r->counted = false;
	if (r->hooks == 0)
		req_release(r);
}

/* §5.1: a request without FCGI_KEEP_CONN asks us to close the connection
 * once it is answered; we do when nothing else is left on it, after the
 * output is flushed. Until then nothing more is read: the loop is
 * level-triggered, and input left unread would be reported every turn. */
static void
conn_close_if_done(struct conn *c, bool close_after)
{
	if (!close_after || c->nreqs > 0 || c->state != CS_OPEN)
		return;
	c->state = CS_CLOSING;
	if (outq_len(&c->out) == 0)
		conn_close(c);
	else
		ev_mod(c->mux->loop, c->fd, EV_WRITE);
}

/* After a request's answer: free it (or keep it to drain its STDIN), and
 * close a connection the front end does not keep. */
static void
req_finish(struct mux_req *r)
{
	struct conn *c = r->conn;
	bool close_after = !r->keep_conn || c->mux->draining;

	if (r->state == RS_STDIN || r->state == RS_PARAMS) {
		r->state = RS_DRAINING;
		return;
	}
	req_detach(r);
	conn_close_if_done(c, close_after);
}

/* The request's answer is complete: count it. */
static void
req_answered(struct mux_req *r, int status)
{
	struct mux *m = r->conn->mux;

	r->answered = true;
	if (r->counted) {
		r->counted = false;
		metrics_request_end(&m->metrics, r->d.route, status,
		    (double)(ev_now(m->loop) - r->t_start) / 1000.0);
	}
	if (r->conn->paused_by == r) /* answered early: drain its body */
		conn_resume_body(r->conn);
}

/* Room left in c's output queue. */
static size_t
conn_room(const struct conn *c)
{
	size_t used = outq_len(&c->out), limit = c->mux->cfg.max_outq;

	return used < limit ? limit - used : 0;
}

static bool send_stdout(struct mux_req *r, const void *p, size_t n);
static bool send_stdout_end(struct mux_req *r);
static void req_running(struct mux_req *r);

/* Feed r's answer on while the queue has room; once all of it is out,
 * end the request. false: the connection failed under it. */
static bool
req_feed(struct mux_req *r)
{
	struct conn *c = r->conn;
	size_t take, room;

	while (r->feed_off < r->feed_len) {
		/* whole records only, each with room for its header and
		 * padding, so a multiplexed neighbour never lands inside */
		if ((room = conn_room(c)) <= FCGI_HEADER_LEN + 8) {
			ev_mod(c->mux->loop, c->fd,
			    ev_mask(c->mux->loop, c->fd) | EV_WRITE);
			return true;
		}
		take = room - FCGI_HEADER_LEN - 8;
		if (take > STDOUT_CHUNK)
			take = STDOUT_CHUNK;
		if (take > r->feed_len - r->feed_off)
			take = r->feed_len - r->feed_off;
		if (!send_stdout(r, r->feed + r->feed_off, take))
			return false;
		r->feed_off += take;
	}
	free(r->feed);
	r->feed = NULL;
	if (!send_stdout_end(r))
		return false;
	req_finish(r);
	return true;
}

static bool
req_respond(struct mux_req *r, int status, const char *headers,
    const char *ctype, const void *body, size_t len)
{
	struct conn *c = r->conn;
	char head[APP_HEAD_MAX];
	size_t hlen;

	if (r->detached || r->answered)
		return false;
	hlen = app_cgi_head(head, sizeof(head), status, ctype, len, headers);
	if (hlen != 0 && hlen + len > conn_room(c) / 2) {
		/* Larger than the queue takes: fed as the front end reads,
		 * like a stream, instead of treating it as gone. */
		if ((r->feed = malloc(hlen + len)) == NULL) {
			conn_gone(c, "out of memory building an answer");
			return false;
		}
		memcpy(r->feed, head, hlen);
		if (len > 0)
			memcpy(r->feed + hlen, body, len);
		r->feed_len = hlen + len;
		r->feed_off = 0;
		req_answered(r, status);
		if (r->state == RS_READY) /* not idle while it goes out */
			req_running(r);
		return req_feed(r);
	}
	if (hlen == 0) {
		conn_gone(c, "an answer head too large");
		return false;
	}
	req_answered(r, status);
	if (!send_records(c, r->id, head, hlen, body, len, true))
		return false;
	req_finish(r);
	return true;
}

static bool
req_respond_json(
    struct mux_req *r, int status, const char *headers, char *body, size_t len)
{
	bool ok;

	if (body == NULL)
		return req_respond(r, 500, NULL, "application/json",
		    APIJSON_INTERNAL_BODY, sizeof(APIJSON_INTERNAL_BODY) - 1);
	ok = req_respond(r, status, headers, "application/json", body, len);
	free(body);
	return ok;
}

static bool
req_respond_detail(
    struct mux_req *r, int status, const char *headers, const char *msg)
{
	size_t len;
	char *body = apijson_detail(msg, &len);

	return req_respond_json(r, status, headers, body, len);
}

/* --- work that comes back later (mux_route.h) ---------------------------- */

/* r waits on something (a timer, a thread, its output): its connection
 * is not idle. A request whose input is all read is RS_RUNNING from now;
 * one still reading its body keeps its state until the body ends. */
static void
req_running(struct mux_req *r)
{
	struct conn *c = r->conn;

	if (r->state == RS_READY)
		r->state = RS_RUNNING;
	if (r->running)
		return;
	r->running = true;
	if (c->nrunning++ == 0)
		tmr_fifo_remove(&c->mux->idle, &c->idle);
}

static void
req_timer_fired(struct tmr_node *node, uint64_t now, void *ctx)
{
	struct mux_req *r = container_of(node, struct mux_req, timer);

	(void)now;
	(void)ctx;
	req_hold(r);
	r->timer_fn(r);
	req_unhold(r);
}

bool
mux_req_after(struct mux_req *r, uint64_t ms, void (*fn)(struct mux_req *r))
{
	if (r->detached)
		return false;
	tmr_cancel(ev_timers(r->mux->loop), &r->timer);
	r->timer_fn = fn;
	if (ev_timer_after(r->mux->loop, &r->timer, ms) != TMR_OK)
		return false;
	req_running(r);
	return true;
}

static void
work_run(struct offload_job *job)
{
	struct mux_work *w = container_of(job, struct mux_work, job);

	w->work(w);
}

static void
work_done(struct offload_job *job, enum offload_status status)
{
	struct mux_work *w = container_of(job, struct mux_work, job);
	struct mux_req *r = w->req;

	if (r != NULL) { /* else its request ended meanwhile */
		r->work = NULL;
		w->req = NULL;
		req_hold(r);
		w->done(r, w, status == OFFLOAD_DONE);
		req_unhold(r);
	}
	w->drop(w);
}

bool
mux_req_offload(struct mux_req *r, struct mux_work *w)
{
	if (r->detached || r->work != NULL ||
	    (unsigned)w->pool >= MUX_POOL__MAX)
		return false;
	offload_job_init(&w->job, work_run, work_done);
	w->req = r;
	if (offload_submit(r->mux->pools[w->pool], &w->job) != OFFLOAD_OK) {
		w->req = NULL;
		return false;
	}
	r->work = w;
	req_running(r);
	return true;
}

void
mux_req_enter(struct mux_req *r)
{
	req_hold(r);
}

void
mux_req_leave(struct mux_req *r)
{
	req_unhold(r);
}

/* /metrics text plus what the route modules add; text is taken over. */
static char *
append_module_metrics(struct mux *m, char *text, size_t *len)
{
	size_t i, more;
	char *extra, *grown;

	for (i = 0; i < MAX_METRICS_FNS && m->metrics_fns[i].fn != NULL; i++) {
		extra = m->metrics_fns[i].fn(m->metrics_fns[i].ctx, &more);
		if (extra == NULL)
			continue;
		if ((grown = realloc(text, *len + more + 1)) == NULL) {
			free(extra);
			free(text);
			return NULL;
		}
		text = grown;
		memcpy(text + *len, extra, more);
		*len += more;
		text[*len] = '\0';
		free(extra);
	}
	return text;
}

/* A route the server answers itself: /metrics. The figures leave out
 * the asking request itself. */
static void
dispatch_server(struct mux_req *r)
{
	struct mux *m = r->conn->mux;
	size_t len;
	char *text;

	if (r->d.route != APP_R_METRICS) {
		req_respond_detail(r, 404, NULL, APIJSON_NOT_FOUND);
		return;
	}
	m->metrics.in_flight--;
	text = metrics_render(&m->metrics, &len);
	m->metrics.in_flight++;
	if (text != NULL)
		text = append_module_metrics(m, text, &len);
	if (text == NULL) {
		req_respond_detail(r, 500, NULL, APIJSON_INTERNAL);
		return;
	}
	req_respond(r, 200, NULL, "text/plain; version=0.0.4; charset=utf-8",
	    text, len);
	free(text);
}

/* STDIN is complete: answer what the app decided, or the server's own
 * view. (Everything else the mux serves is a route module's.) */
static void
dispatch(struct mux_req *r)
{
	struct mux *m = r->mux;

	if (r->d.action == APP_REPLY) {
		req_respond(r, r->d.status, r->d.headers, "application/json",
		    r->d.body, r->d.body_len);
		return;
	}
	/* in_flight counts this request too (since its PARAMS ended) */
	if (m->draining || m->metrics.in_flight > m->cfg.max_inflight) {
		if (!m->draining)
			m->metrics.overloaded++;
		req_respond_detail(
		    r, 503, APIJSON_RETRY_AFTER, APIJSON_UNAVAILABLE);
		return;
	}
	dispatch_server(r);
}

/* --- reading records ----------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void
protocol_error(struct conn *c, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	c->mux->metrics.protocol_errors++;
	mux_log(c, "protocol error: %s; closing the connection", what);
	conn_gone(c, NULL);
}

/* Keep the variables the app needs, in one allocation (§3.4 pairs). */
static bool
req_keep_vars(struct mux_req *r)
{
	struct fcgi_span name, value, found[V__MAX] = {{NULL, 0}};
	size_t off = 0, total = 0, o = 0;
	enum fcgi_result res;
	uint32_t lens = 0; /* bit n: some kept name has n bytes */
	int v;

	for (v = 0; v < V__MAX; v++)
		lens |= 1u << var_names[v].len;
	while ((res = fcgi_nvpair_next(r->params, r->params_len, &off, &name,
	            &value)) == FCGI_OK) {
		if (name.len >= 32 || !(lens & 1u << name.len))
			continue; /* most of lighttpd's dozens of pairs */
		for (v = 0; v < V__MAX; v++)
			if (name.len == var_names[v].len &&
			    name.ptr[name.len - 1] ==
			        (uint8_t)var_names[v].name[name.len - 1] &&
			    memcmp(name.ptr, var_names[v].name, name.len) ==
			        0) {
				found[v] = value;
				break;
			}
	}
	if (res != FCGI_NEED_MORE)
		return false;
	for (v = 0; v < V__MAX; v++)
		total += found[v].ptr ? found[v].len + 1 : 0;
	if (total <= sizeof(r->vars_small))
		r->vars_block = r->vars_small;
	else if ((r->vars_block = malloc(total)) == NULL)
		return false;
	for (v = 0; v < V__MAX; v++) {
		if (found[v].ptr == NULL)
			continue;
		memcpy(r->vars_block + o, found[v].ptr, found[v].len);
		r->vars_block[o + found[v].len] = '\0';
		r->var[v] = r->vars_block + o;
		o += found[v].len + 1;
	}
	return true;
}

static void
on_params_end(struct conn *c, struct mux_req *r)
{
	struct mux *m = c->mux;
	struct app_request areq;

	if (!req_keep_vars(r)) {
		protocol_error(c, "malformed name-value pairs in PARAMS");
		return;
	}
	params_free(m, r);
	r->t_start = ev_now(m->loop);
	r->state = RS_STDIN;
	/* In flight from now until answered, or dropped with its client:
	 * every request counts, whatever its answer. */
	metrics_request_begin(&m->metrics);
	r->counted = true;
	areq.method = r->var[V_REQUEST_METHOD];
	areq.script_name = r->var[V_SCRIPT_NAME];
	areq.path_info = r->var[V_PATH_INFO];
	areq.query = r->var[V_QUERY_STRING];
	areq.remote_addr = r->var[V_REMOTE_ADDR];
	areq.authorization = r->var[V_HTTP_AUTHORIZATION];
	if (app_decide(&m->cfg.app,
	        APP_SRV_MUX | (m->cfg.blocking_routes ? APP_SRV_MISTAKES : 0),
	        &areq, &r->d) != 0) {
		req_respond_detail(r, 500, NULL, APIJSON_INTERNAL);
		return;
	}
	if (r->d.action == APP_REPLY || m->routes[r->d.route].ops == NULL)
		return; /* answered when STDIN ends (dispatch) */
	/* A module's route: it sees the body as it comes. */
	if (m->draining || m->metrics.in_flight > m->cfg.max_inflight) {
		if (!m->draining)
			m->metrics.overloaded++;
		req_respond_detail(
		    r, 503, APIJSON_RETRY_AFTER, APIJSON_UNAVAILABLE);
		return;
	}
	r->ops = m->routes[r->d.route].ops;
	if (r->ops->start != NULL) {
		req_hold(r);
		r->ops->start(r);
		req_unhold(r);
	}
}

/* The PARAMS buffer goes: a first-size one is kept for the next
 * request (spare.h), a grown one freed. */
static void
params_free(struct mux *m, struct mux_req *r)
{
	if (r->params_cap == PARAMS_INITIAL)
		spare_put(&m->spare_params, r->params);
	else
		free(r->params);
	r->params = NULL;
	r->params_len = r->params_cap = 0;
}

static bool
params_append(struct conn *c, struct mux_req *r, const struct fcgi_span *data)
{
	size_t need = r->params_len + data->len, cap;
	uint8_t *p;

	if (need > c->mux->cfg.max_params) {
		protocol_error(c, "PARAMS larger than --max-params");
		return false;
	}
	if (need > 0 && r->params == NULL && need <= PARAMS_INITIAL) {
		if ((r->params = spare_get(&c->mux->spare_params)) == NULL) {
			conn_gone(c, "out of memory gathering PARAMS");
			return false;
		}
		r->params_cap = PARAMS_INITIAL;
	}
	if (need > r->params_cap) {
		cap = r->params_cap ? r->params_cap : PARAMS_INITIAL;
		while (cap < need)
			cap *= 2;
		if ((p = realloc(r->params, cap)) == NULL) {
			conn_gone(c, "out of memory gathering PARAMS");
			return false;
		}
		r->params = p;
		r->params_cap = cap;
	}
	memcpy(r->params + r->params_len, data->ptr, data->len);
	r->params_len = need;
	return true;
}

static void
on_begin(struct conn *c, const struct fcgi_event *ev)
{
	struct mux_req *r = req_find(c, ev->request_id);

	if (r != NULL && r->state == RS_DRAINING) {
		req_detach(r); /* answered, so inactive (§3.3): begun anew */
	} else if (r != NULL) {
		protocol_error(c, "BEGIN_REQUEST for an active request id");
		return;
	}
	if (ev->role != FCGI_RESPONDER ||
	    c->nreqs >= c->mux->cfg.max_reqs_per_conn) {
		/* §5.5: reject the request, keep the connection */
		send_end_request(c, ev->request_id,
		    ev->role != FCGI_RESPONDER ? FCGI_UNKNOWN_ROLE
		                               : FCGI_OVERLOADED);
		conn_close_if_done(c, !(ev->flags & FCGI_KEEP_CONN));
		return;
	}
	if ((r = spare_get(&c->mux->spare_reqs)) == NULL) {
		conn_gone(c, "out of memory for a request");
		return;
	}
	memset(r, 0, sizeof(*r));
	r->conn = c;
	r->mux = c->mux;
	r->id = ev->request_id;
	r->keep_conn = ev->flags & FCGI_KEEP_CONN;
	r->state = RS_PARAMS;
	tmr_node_init(&r->timer, req_timer_fired);
	r->next = c->reqs;
	c->reqs = r;
	c->nreqs++;
}

static void
on_stdin(struct conn *c, struct mux_req *r, const struct fcgi_event *ev)
{
	struct mux *m = c->mux;

	if (r->state != RS_STDIN) {
		protocol_error(c, "STDIN for request %u in state %s", r->id,
		    req_state_names[r->state]);
		return;
	}
	if (ev->type == FCGI_EV_STDIN_END && r->ops != NULL) {
		r->state = RS_READY; /* its input is all read */
		req_running(r);
		if (r->ops->body_end != NULL) {
			req_hold(r);
			r->ops->body_end(r);
			req_unhold(r);
		}
		return;
	}
	if (ev->type == FCGI_EV_STDIN_END) {
		/* Its input is all read: an answer given at once ends it,
		 * with nothing left to drain. */
		r->state = RS_READY;
		dispatch(r);
		return;
	}
	r->stdin_len += ev->data.len;
	if (tmr_fifo_queued(&c->idle)) /* uploading is activity */
		tmr_fifo_touch(&m->idle, &c->idle, ev_now(m->loop));
	if (r->ops != NULL && r->ops->body != NULL) {
		/* the module bounds its own body */
		req_hold(r);
		r->ops->body(r, ev->data.ptr, ev->data.len);
		req_unhold(r);
		return;
	}
	if (r->stdin_len > m->cfg.max_stdin)
		req_respond_detail(r, 413, NULL, APIJSON_TOO_LARGE);
}

static void
on_get_values(struct conn *c, const struct fcgi_event *ev)
{
	struct fcgi_mgmt_values v;
	uint8_t out[FCGI_HEADER_LEN + 128], *p;
	size_t n;

	if (ev->data.len > 0) {
		if ((p = realloc(c->mgmt, c->mgmt_len + ev->data.len)) ==
		    NULL) {
			conn_gone(c, "out of memory for GET_VALUES");
			return;
		}
		c->mgmt = p;
		memcpy(c->mgmt + c->mgmt_len, ev->data.ptr, ev->data.len);
		c->mgmt_len += ev->data.len;
	}
	if (!ev->last)
		return;
	v.max_conns = c->mux->cfg.max_conns;
	v.max_reqs = c->mux->cfg.max_inflight;
	v.mpxs_conns = true;
	if (fcgi_encode_get_values_result(
	        out, sizeof(out), c->mgmt, c->mgmt_len, &v, &n) != FCGI_OK) {
		protocol_error(c, "malformed GET_VALUES");
		return;
	}
	free(c->mgmt);
	c->mgmt = NULL;
	c->mgmt_len = 0;
	conn_send(c, out, n);
}

static void
on_abort(struct conn *c, struct mux_req *r)
{
	uint16_t id = r->id;
	bool close_after = !r->keep_conn || c->mux->draining;

	/* §5.4: the application answers with END_REQUEST. The request's
	 * client is gone: end it now (req_detach counts it as aborted).
	 * That answers it: without FCGI_KEEP_CONN the connection goes too. */
	req_detach(r);
	send_end_request(c, id, FCGI_REQUEST_COMPLETE);
	conn_close_if_done(c, close_after);
}

/*
 * A record of one request. §3.3 "Managing Request IDs": an id is active
 * from its BEGIN_REQUEST until our END_REQUEST, and records for an
 * inactive id are ignored: the rest of a request we refused (§5.5) or
 * answered early, an ABORT_REQUEST crossing our answer (§5.4), a stray id.
 * A request answered early stays as RS_DRAINING only so that a connection
 * without FCGI_KEEP_CONN is closed after its STDIN ends (or it is
 * aborted), not while the web server is still sending. DATA belongs to
 * the FILTER role, which we refuse (§6.4).
 */
static void
on_request_event(struct conn *c, const struct fcgi_event *ev)
{
	struct mux_req *r = req_find(c, ev->request_id);
	bool params =
	    ev->type == FCGI_EV_PARAMS || ev->type == FCGI_EV_PARAMS_END;

	if (r == NULL || r->state == RS_DRAINING) {
		if (c->mux->cfg.verbose)
			mux_log(c, "ignoring %s for inactive request id %u",
			    fcgi_event_name(ev->type), ev->request_id);
		if (r != NULL &&
		    (ev->type == FCGI_EV_STDIN_END ||
		        ev->type == FCGI_EV_ABORT_REQUEST))
			req_finish(r);
		return;
	}
	if (ev->type == FCGI_EV_ABORT_REQUEST)
		on_abort(c, r);
	else if (params && r->state != RS_PARAMS)
		protocol_error(c, "PARAMS for request %u in state %s", r->id,
		    req_state_names[r->state]);
	else if (ev->type == FCGI_EV_PARAMS_END)
		on_params_end(c, r);
	else if (ev->type == FCGI_EV_PARAMS)
		params_append(c, r, &ev->data);
	else if (ev->type == FCGI_EV_STDIN || ev->type == FCGI_EV_STDIN_END)
		on_stdin(c, r, ev);
	else
		protocol_error(
		    c, "%s for a responder", fcgi_event_name(ev->type));
}

static void
on_event(struct conn *c, const struct fcgi_event *ev)
{
	uint8_t rec[FCGI_UNKNOWN_TYPE_LEN];

	switch (ev->type) {
	case FCGI_EV_BEGIN_REQUEST:
		on_begin(c, ev);
		return;
	case FCGI_EV_GET_VALUES:
		on_get_values(c, ev);
		return;
	case FCGI_EV_UNKNOWN_TYPE: /* §4.2 */
		conn_send(c, rec,
		    fcgi_encode_unknown_type(
		        rec, sizeof(rec), ev->unknown_type));
		return;
	case FCGI_EV_ABORT_REQUEST:
	case FCGI_EV_PARAMS:
	case FCGI_EV_PARAMS_END:
	case FCGI_EV_STDIN:
	case FCGI_EV_STDIN_END:
	case FCGI_EV_DATA:
	case FCGI_EV_DATA_END:
	case FCGI_EV__MAX:
		on_request_event(c, ev);
		return;
	}
}

static void
conn_feed(struct conn *c, const uint8_t *p, size_t len)
{
	enum fcgi_result res;
	struct fcgi_event ev;
	size_t n;

	while (len > 0 && c->state == CS_OPEN) {
		n = fcgi_decode(&c->dec, p, len, &ev, &res);
		p += n;
		len -= n;
		switch (res) {
		case FCGI_OK:
			on_event(c, &ev);
			break;
		case FCGI_NEED_MORE:
			return;
		case FCGI_EPROTO:
		case FCGI_ETOOBIG:
		case FCGI_RESULT__MAX:
			protocol_error(c, "%s", fcgi_result_name(res));
			return;
		}
	}
}

/* --- connections --------------------------------------------------------- */

/* Read what the front end sent. hangup: the loop reported a hang-up or
 * an error, so a read with nothing to give means the connection is done
 * for (as when the loop could not watch it: ev_add_deferred). */
static void
conn_read(struct conn *c, bool hangup)
{
	struct mux *m = c->mux;
	ssize_t n;

	n = read(c->fd, m->rbuf, sizeof(m->rbuf));
	if (n > 0) {
		conn_feed(c, m->rbuf, (size_t)n);
		return;
	}
	if (n < 0 && !hangup &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	/* EOF or reset: the front end closed the connection, or (lighttpd
	 * with tcp-fin-propagate) passed on its client's FIN: either way
	 * nobody is left to answer. */
	conn_gone(c, n == 0 ? "EOF from the front end" : strerror(errno));
}

/* Give the room that has opened up on c to the answers being fed, then
 * to streaming modules. */
static void
conn_call_writable(struct conn *c)
{
	size_t low = MUX_LOW_WATER;
	struct mux_req *r, *next;

	if (low > c->mux->cfg.max_outq / 8)
		low = c->mux->cfg.max_outq / 8;
	for (r = c->reqs; r != NULL && c->state != CS_CLOSED; r = next) {
		next = r->next;
		if (r->feed != NULL)
			req_feed(r);
	}
	for (r = c->reqs; r != NULL && c->state != CS_CLOSED; r = next) {
		next = r->next;
		if (!r->want_writable || outq_len(&c->out) >= low)
			continue;
		r->want_writable = false;
		req_hold(r);
		r->ops->writable(r);
		req_unhold(r);
	}
}

static bool
conn_wants_writable(const struct conn *c)
{
	const struct mux_req *r;

	for (r = c->reqs; r != NULL; r = r->next)
		if (r->want_writable || r->feed != NULL)
			return true;
	return false;
}

static void
conn_write(struct conn *c)
{
	struct mux *m = c->mux;
	size_t before = outq_len(&c->out);

	if (outq_flush(&c->out, c->fd) != OUTQ_OK) {
		conn_gone(c, strerror(errno));
		return;
	}
	if (outq_len(&c->out) == 0)
		tmr_fifo_remove(&m->stall, &c->stall);
	else if (outq_len(&c->out) < before) /* it moved */
		tmr_fifo_touch(&m->stall, &c->stall, ev_now(m->loop));
	conn_call_writable(c);
	if (c->state == CS_CLOSED || outq_len(&c->out) > 0)
		return;
	if (c->state == CS_CLOSING) {
		conn_close(c);
		return;
	}
	if (!conn_wants_writable(c))
		ev_mod(m->loop, c->fd, ev_mask(m->loop, c->fd) & ~EV_WRITE);
}

static void
on_conn_io(struct ev_loop *loop, int fd, unsigned events, void *data)
{
	struct conn *c = data;

	(void)loop;
	(void)fd;
	if (events & EV_WRITE)
		conn_write(c);
	if (c->state == CS_OPEN && (events & (EV_READ | EV_HUP | EV_ERR)))
		conn_read(c, (events & (EV_HUP | EV_ERR)) != 0);
	else if (c->state == CS_CLOSING && (events & (EV_HUP | EV_ERR)))
		conn_gone(c, "hang-up while closing");
}

/* The one place a connection is freed (kept for reuse: spare.h), at the
 * end of the turn it closed in; the mux outlives it (mux_free). */
static void
conn_free_later(struct ev_defer *d)
{
	struct conn *c = container_of(d, struct conn, free_later);

	spare_put(&c->mux->spare_conns, c);
}

/* The one place a connection ends: its requests, fd, queue, timers. */
static void
conn_close(struct conn *c)
{
	struct mux *m = c->mux;

	if (c->state == CS_CLOSED)
		return;
	while (c->reqs != NULL)
		req_detach(c->reqs);
	if (m->cfg.verbose)
		mux_log(c, "closed");
	c->state = CS_CLOSED;
	tmr_fifo_remove(&m->idle, &c->idle);
	tmr_fifo_remove(&m->stall, &c->stall);
	outq_clear(&c->out);
	free(c->mgmt);
	c->mgmt = NULL;
	ev_close(m->loop, c->fd);
	c->prev->next = c->next;
	c->next->prev = c->prev;
	metrics_conn_close(&m->metrics);
	ev_defer(m->loop, &c->free_later, conn_free_later);
	if (m->paused_at_cap && m->metrics.conns_open < m->cfg.max_conns) {
		m->paused_at_cap = false;
		ev_listener_resume(m->loop, &m->listener);
	}
}

/* The front end is gone (or misbehaved): nobody is left to answer. */
static void
conn_gone(struct conn *c, const char *why)
{
	if (c->state == CS_CLOSED)
		return;
	if (why != NULL && (c->mux->cfg.verbose || c->nrunning > 0))
		mux_log(c, "%s; dropping %u request(s)", why, c->nreqs);
	conn_close(c);
}

/* Its output has not moved for --stall-timeout: a front end that stopped
 * reading. Everything its requests hold goes with it. */
static void
stall_expired(struct tmr_fifo_node *node, uint64_t now, void *ctx)
{
	struct conn *c = container_of(node, struct conn, stall);

	(void)now;
	(void)ctx;
	c->mux->metrics.stalled++;
	conn_gone(c, "its output did not move for --stall-timeout");
}

static void
idle_expired(struct tmr_fifo_node *node, uint64_t now, void *ctx)
{
	struct conn *c = container_of(node, struct conn, idle);

	(void)now;
	(void)ctx;
	if (c->mux->cfg.verbose)
		mux_log(c, "idle timeout");
	conn_close(c);
}

/* In TCP mode only the allow-list's peers may connect (listener.h). */
static bool
peer_allowed(const struct mux *m, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (m->cfg.allow == NULL || m->cfg.allow->n == 0)
		return true;
	return getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    listener_acl_allows(m->cfg.allow, (struct sockaddr *)&ss, len);
}

static void
on_accept(struct ev_loop *loop, int fd, void *data)
{
	struct mux *m = data;
	struct conn *c;

	if (!peer_allowed(m, fd) || (c = spare_get(&m->spare_conns)) == NULL) {
		close(fd); /* not registered yet: a plain close is right */
		return;
	}
	memset(c, 0, sizeof(*c));
	c->mux = m;
	c->fd = fd;
	c->serial = ++m->serial;
	c->state = CS_OPEN;
	fcgi_decoder_init(&c->dec);
	outq_init(&c->out, m->cfg.max_outq);
	tmr_fifo_node_init(&c->idle);
	tmr_fifo_node_init(&c->stall);
	/* Deferred: a connection read, answered and closed within this
	 * turn (lighttpd's, one request each) costs epoll nothing. */
	if (ev_add_deferred(loop, fd, EV_READ, on_conn_io, c) != EV_OK) {
		close(fd);
		spare_put(&m->spare_conns, c);
		return;
	}
	c->next = &m->conns;
	c->prev = m->conns.prev;
	m->conns.prev->next = c;
	m->conns.prev = c;
	metrics_conn_open(&m->metrics);
	tmr_fifo_touch(&m->idle, &c->idle, ev_now(loop));
	if (m->metrics.conns_open >= m->cfg.max_conns && !m->paused_at_cap) {
		m->paused_at_cap = true;
		ev_listener_pause(loop, &m->listener, 0);
	}
	/* A front end writes its request right after connecting: it is
	 * usually there already, and reading it now saves a turn of the
	 * loop (nothing there: the loop reports it when it comes). */
	conn_read(c, false);
}

static void
on_offload(struct ev_loop *loop, int fd, unsigned events, void *data)
{
	(void)loop;
	(void)fd;
	(void)events;
	offload_drain(data); /* the pool */
}

/* --- life cycle ---------------------------------------------------------- */

/* Stop watching the pools' eventfds (each once). */
static void
mux_pools_del(struct mux *m)
{
	ev_del(m->loop, offload_fd(m->pools[MUX_POOL_CPU]));
	if (m->pools[MUX_POOL_IO] != m->pools[MUX_POOL_CPU])
		ev_del(m->loop, offload_fd(m->pools[MUX_POOL_IO]));
}

struct mux *
mux_new(const struct mux_config *cfg, struct ev_loop *loop, int listen_fd,
    struct offload_pool *cpu, struct offload_pool *io)
{
	struct mux *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->cfg = *cfg;
	m->loop = loop;
	m->pools[MUX_POOL_CPU] = cpu;
	m->pools[MUX_POOL_IO] = io != NULL ? io : cpu;
	m->listen_fd = listen_fd;
	m->conns.next = m->conns.prev = &m->conns;
	spare_init(&m->spare_conns, sizeof(struct conn), SPARE_CONNS);
	spare_init(&m->spare_reqs, sizeof(struct mux_req), SPARE_REQS);
	spare_init(&m->spare_params, PARAMS_INITIAL, SPARE_PARAMS);
	metrics_init(&m->metrics);
	/* unarmed until a drain arms it: mux_free cancels it either way */
	tmr_node_init(&m->grace, grace_over);
	tmr_fifo_init(&m->idle, cfg->idle_timeout_ms, idle_expired);
	tmr_fifo_init(&m->stall, cfg->stall_timeout_ms, stall_expired);
	if (tmr_fifo_attach(&m->idle, ev_timers(loop)) != TMR_OK ||
	    tmr_fifo_attach(&m->stall, ev_timers(loop)) != TMR_OK ||
	    ev_add(loop, offload_fd(cpu), EV_READ, on_offload, cpu) != EV_OK)
		goto fail;
	if ((io != NULL && io != cpu &&
	        ev_add(loop, offload_fd(io), EV_READ, on_offload, io) !=
	            EV_OK) ||
	    ev_listener_start(
	        loop, &m->listener, listen_fd, 100, on_accept, m) != EV_OK) {
		mux_pools_del(m);
		goto fail;
	}
	return m;
fail:
	tmr_fifo_fini(&m->idle);
	tmr_fifo_fini(&m->stall);
	free(m);
	return NULL;
}

static void
grace_over(struct tmr_node *node, uint64_t now, void *ctx)
{
	struct mux *m = container_of(node, struct mux, grace);
	struct conn *c, *next;

	(void)now;
	(void)ctx;
	for (c = m->conns.next; c != &m->conns; c = next) {
		next = c->next;
		conn_gone(c, "the grace period is over");
	}
}

void
mux_drain(struct mux *m)
{
	struct conn *c, *next;

	if (m->draining)
		return;
	m->draining = true;
	ev_listener_stop(m->loop, &m->listener);
	ev_close(m->loop, m->listen_fd); /* new connects are refused now */
	m->listen_fd = -1;
	/* Connections with nothing in hand go now; the others when done. */
	for (c = m->conns.next; c != &m->conns; c = next) {
		next = c->next;
		if (c->nreqs == 0 && c->state == CS_OPEN)
			conn_close(c);
	}
	ev_timer_after(m->loop, &m->grace, m->cfg.grace_ms);
}

int
mux_done(const struct mux *m)
{
	return m->draining && m->conns.next == &m->conns;
}

/* The last of mux_free, after the closed connections' own deferred
 * frees (the loop runs them first in, first out): they return their
 * memory to m. */
static void
mux_release(struct ev_defer *d)
{
	struct mux *m = container_of(d, struct mux, release);

	spare_fini(&m->spare_conns);
	spare_fini(&m->spare_reqs);
	spare_fini(&m->spare_params);
	free(m);
}

void
mux_free(struct mux *m)
{
	while (m->conns.next != &m->conns)
		conn_close(m->conns.next);
	tmr_cancel(ev_timers(m->loop), &m->grace);
	if (m->listen_fd >= 0) {
		ev_listener_stop(m->loop, &m->listener);
		ev_close(m->loop, m->listen_fd);
	}
	mux_pools_del(m);
	tmr_fifo_fini(&m->idle);
	tmr_fifo_fini(&m->stall);
	ev_defer(m->loop, &m->release, mux_release);
}

/* --- route modules (mux_route.h) ----------------------------------------- */

void
mux_route_register(struct mux *m, enum app_route route,
    const struct mux_route_ops *ops, void *ctx)
{
	if ((unsigned)route < APP_R__MAX) {
		m->routes[route].ops = ops;
		m->routes[route].ctx = ctx;
	}
}

void
mux_metrics_register(struct mux *m, mux_metrics_fn *fn, void *ctx)
{
	size_t i;

	for (i = 0; i < MAX_METRICS_FNS; i++)
		if (m->metrics_fns[i].fn == NULL) {
			m->metrics_fns[i].fn = fn;
			m->metrics_fns[i].ctx = ctx;
			return;
		}
}

struct ev_loop *
mux_loop(struct mux *m)
{
	return m->loop;
}

const char *
mux_req_var(const struct mux_req *r, enum mux_var v)
{
	return (unsigned)v < MUX_V__MAX ? r->var[v] : NULL;
}

const struct app_decision *
mux_req_decision(const struct mux_req *r)
{
	return &r->d;
}

void *
mux_req_ctx(const struct mux_req *r)
{
	return r->mux->routes[r->d.route].ctx;
}

void *
mux_req_data(const struct mux_req *r)
{
	return r->mod_data;
}

void
mux_req_set_data(struct mux_req *r, void *data)
{
	r->mod_data = data;
}

struct mux *
mux_req_mux(const struct mux_req *r)
{
	return r->mux;
}

uint64_t
mux_req_started_ms(const struct mux_req *r)
{
	return r->t_start;
}

bool
mux_req_respond(struct mux_req *r, int status, const char *headers,
    const char *ctype, const void *body, size_t len)
{
	return req_respond(r, status, headers, ctype, body, len);
}

bool
mux_req_respond_json(
    struct mux_req *r, int status, const char *headers, char *body, size_t len)
{
	return req_respond_json(r, status, headers, body, len);
}

bool
mux_req_respond_detail(
    struct mux_req *r, int status, const char *headers, const char *msg)
{
	return req_respond_detail(r, status, headers, msg);
}

/* STDOUT records carrying p (§5.3), without copying p when the socket
 * takes it at once. */
static bool
send_stdout(struct mux_req *r, const void *p, size_t n)
{
	return send_records(r->conn, r->id, p, n, NULL, 0, false);
}

bool
mux_req_stream_begin(struct mux_req *r, int status, const char *headers,
    const char *ctype, size_t len)
{
	char head[APP_HEAD_MAX];
	size_t hlen;

	if (r->detached || r->answered)
		return false;
	hlen = app_cgi_head(head, sizeof(head), status, ctype, len, headers);
	if (hlen == 0) {
		conn_gone(r->conn, "an answer head too large");
		return false;
	}
	r->d.status = status;
	return send_stdout(r, head, hlen);
}

bool
mux_req_stream_finish(struct mux_req *r, const void *p, size_t n)
{
	if (r->detached || r->answered)
		return false;
	req_answered(r, r->d.status);
	if (!send_records(r->conn, r->id, p, n, NULL, 0, true))
		return false;
	r->want_writable = false;
	req_finish(r);
	return true;
}

bool
mux_req_stream_write(struct mux_req *r, const void *p, size_t n)
{
	if (r->detached || r->answered)
		return false;
	return send_stdout(r, p, n);
}

/* The empty STDOUT that ends r's stream, and END_REQUEST (§5.3, §5.5). */
static bool
send_stdout_end(struct mux_req *r)
{
	uint8_t tail[FCGI_HEADER_LEN + FCGI_END_REQUEST_LEN];
	size_t n;

	n = fcgi_encode_stream_end(tail, sizeof(tail), FCGI_STDOUT, r->id);
	n += fcgi_encode_end_request(
	    tail + n, sizeof(tail) - n, r->id, 0, FCGI_REQUEST_COMPLETE);
	return conn_send(r->conn, tail, n);
}

bool
mux_req_stream_end(struct mux_req *r)
{
	if (r->detached || r->answered)
		return false;
	req_answered(r, r->d.status);
	if (!send_stdout_end(r))
		return false;
	r->want_writable = false;
	req_finish(r);
	return true;
}

size_t
mux_req_room(const struct mux_req *r)
{
	size_t used, high = MUX_HIGH_WATER;

	if (r->detached || r->answered)
		return 0; /* nobody to write to */
	if (high > r->mux->cfg.max_outq / 2)
		high = r->mux->cfg.max_outq / 2;
	used = outq_len(&r->conn->out);
	return used < high ? high - used : 0;
}

void
mux_req_wait_writable(struct mux_req *r)
{
	struct ev_loop *loop = r->mux->loop;

	if (r->detached || r->answered)
		return;
	r->want_writable = true;
	/* Level-triggered: an idle socket reports writable at once, and
	 * conn_write hands the room to the module. */
	if (!(ev_mask(loop, r->conn->fd) & EV_WRITE))
		ev_mod(
		    loop, r->conn->fd, ev_mask(loop, r->conn->fd) | EV_WRITE);
}

void
mux_req_pause_body(struct mux_req *r, bool pause)
{
	struct conn *c = r->conn;
	struct ev_loop *loop = c->mux->loop;

	if (r->detached || c->state != CS_OPEN)
		return;
	if (pause && c->paused_by == NULL) {
		c->paused_by = r;
		ev_mod(loop, c->fd, ev_mask(loop, c->fd) & ~EV_READ);
	} else if (!pause && c->paused_by == r) {
		conn_resume_body(c);
	}
}
