/* mod_lesson — the lesson's async routes; contract in mod_lesson.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "apijson.h"
#include "app.h"
#include "cpuwork.h"
#include "ev.h"
#include "mod_lesson.h"
#include "mux_route.h"

/* Waits this long or longer send their head at once (see wait_async). */
#define EARLY_HEAD_MS 1000

/* A 200 with body (len bytes, written on the stack: no allocation on
 * the way out), or a 500 when it could not be written. */
static void
answer_json(struct mux_req *r, const char *body, size_t len)
{
	if (len == 0)
		mux_req_respond_detail(r, 500, NULL, APIJSON_INTERNAL);
	else
		mux_req_respond(r, 200, NULL, "application/json", body, len);
}

static void
answer_wait(struct mux_req *r)
{
	char body[APP_BODY_MAX];

	answer_json(
	    r, body, app_wait_body_text(mux_req_decision(r)->secs, body));
}

static void
answer_cpu(struct mux_req *r, unsigned long primes)
{
	char body[APP_BODY_MAX];

	answer_json(
	    r, body, app_cpu_body_text(mux_req_decision(r)->n, primes, body));
}

/* --- waiting -------------------------------------------------------------- */

/* The rest of /wait_async's answer when its timer fires. */
static void
wait_over(struct mux_req *r)
{
	char body[APP_BODY_MAX];
	size_t len = app_wait_body_text(mux_req_decision(r)->secs, body);

	mux_req_stream_finish(r, body, len); /* len is what the head said */
}

/* /wait_async: arm a timer and return to the loop at once.
 *
 * A wait of a second or more sends its answer's head now (its length is
 * known from secs alone) and the body when the timer fires: the client
 * gets the same bytes, but a front end that streams answers (lighttpd
 * with stream-response-body) watches its client while it writes one, and
 * drops us as soon as the client goes; lighttpd 1.4.69 does not watch a
 * client whose request came in one piece until the answer starts. A
 * shorter wait ends within a second anyway, and one write is cheaper
 * than two. A wait that rounds to 0 ms is over already: answered now,
 * as its timer would have been at the end of this turn. */
static void
wait_async(struct mux_req *r)
{
	double secs = mux_req_decision(r)->secs;
	uint64_t ms = (uint64_t)(secs * 1000.0 + 0.5);
	char body[APP_BODY_MAX];
	size_t len;

	if (ms == 0) {
		answer_wait(r);
		return;
	}
	if (!mux_req_after(
	        r, ms, ms < EARLY_HEAD_MS ? answer_wait : wait_over)) {
		mux_req_respond_detail(
		    r, 503, APIJSON_RETRY_AFTER, APIJSON_UNAVAILABLE);
		return;
	}
	if (ms < EARLY_HEAD_MS)
		return;
	if ((len = app_wait_body_text(secs, body)) == 0) {
		mux_req_respond_detail(r, 500, NULL, APIJSON_INTERNAL);
		return;
	}
	mux_req_stream_begin(r, 200, NULL, "application/json", len);
}

/* /wait_async_blocking, the mistake: the whole process sleeps, and every
 * other request of this mux waits with it. */
static void
wait_async_blocking(struct mux_req *r)
{
	double secs = mux_req_decision(r)->secs;
	struct timespec ts;

	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	ev_update_now(mux_loop(mux_req_mux(r)));
	answer_wait(r);
}

/* --- counting ------------------------------------------------------------- */

struct count {
	struct mux_work w; /* first: the pool's view of it */
	long long n;
	unsigned long primes;
};

static void
count_run(struct mux_work *w)
{
	struct count *c = (struct count *)w;

	c->primes = cpu_count_primes((unsigned long)c->n);
}

static void
count_done(struct mux_req *r, struct mux_work *w, bool ok)
{
	if (ok)
		answer_cpu(r, ((struct count *)w)->primes);
	else /* the pool shut down first */
		mux_req_respond_detail(
		    r, 503, APIJSON_RETRY_AFTER, APIJSON_UNAVAILABLE);
}

static void
count_drop(struct mux_work *w)
{
	free(w);
}

/* /cpu_async: the work goes to a pool thread; the loop stays free. */
static void
cpu_async(struct mux_req *r)
{
	struct count *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		mux_req_respond_detail(r, 500, NULL, APIJSON_INTERNAL);
		return;
	}
	c->w.work = count_run;
	c->w.done = count_done;
	c->w.drop = count_drop;
	c->n = mux_req_decision(r)->n;
	if (!mux_req_offload(r, &c->w)) { /* the pool is the limit */
		free(c);
		mux_req_respond_detail(
		    r, 503, APIJSON_RETRY_AFTER, APIJSON_UNAVAILABLE);
	}
}

/* /cpu_async_blocking, the mistake: the loop counts, nobody else is
 * served meanwhile. */
static void
cpu_async_blocking(struct mux_req *r)
{
	unsigned long primes;

	primes = cpu_count_primes((unsigned long)mux_req_decision(r)->n);
	ev_update_now(mux_loop(mux_req_mux(r)));
	answer_cpu(r, primes);
}

/* --- the routes ----------------------------------------------------------- */

/* The work starts once the (empty) body is in, as for every GET route:
 * a body over --max-stdin is a 413 first. */
static const struct mux_route_ops wait_ops = {.body_end = wait_async};
static const struct mux_route_ops wait_blocking_ops = {
    .body_end = wait_async_blocking};
static const struct mux_route_ops cpu_ops = {.body_end = cpu_async};
static const struct mux_route_ops cpu_blocking_ops = {
    .body_end = cpu_async_blocking};

void
mod_lesson_register(struct mux *m)
{
	mux_route_register(m, APP_R_WAIT_ASYNC, &wait_ops, NULL);
	mux_route_register(
	    m, APP_R_WAIT_ASYNC_BLOCKING, &wait_blocking_ops, NULL);
	mux_route_register(m, APP_R_CPU_ASYNC, &cpu_ops, NULL);
	mux_route_register(
	    m, APP_R_CPU_ASYNC_BLOCKING, &cpu_blocking_ops, NULL);
}
