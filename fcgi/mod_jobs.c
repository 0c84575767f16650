/* mod_jobs — the jobs API as a mux route module; contract in mod_jobs.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apijson.h"
#include "ev.h"
#include "jobstore_open.h"
#include "metrics.h"
#include "mod_jobs.h"
#include "mux_route.h"
#include "num.h"
#include "randid.h"
#include "storeq.h"
#include "tmr.h"

#define MAX_PENDING        8192 /* store operations waiting; then 503 */
#define MAX_BATCH          512  /* jobs per commit */
#define COUNTS_INTERVAL_MS 1000
#define EXPIRE_INTERVAL_MS 1000
#define EXPIRE_AGAIN_MS    20   /* a full batch: more are due */
#define EXPIRE_BATCH       1000 /* jobs deleted per transaction */

struct mod_jobs {
	struct mux *mux;
	struct ev_loop *loop;
	const struct jobs_tasks *tasks;
	struct storeq *q;
	const char *store_name;
	struct mod_jobs_config cfg;
	struct tmr_node counts_timer;
	struct storeq_op *counts_op; /* in the store thread, or NULL */
	struct jobstore_counts counts;
	bool have_counts;
	struct tmr_node expire_timer;
	struct storeq_op *expire_op; /* in the store thread, or NULL */
	uint64_t accepted, refused_full, store_errors;
};

/* One request of the module's routes. */
struct jreq {
	struct mux_req *r;
	struct mod_jobs *api;
	struct storeq_op *op; /* in the store thread, or NULL */
	char *body;           /* POST: the body so far */
	size_t len;
	bool post;
};

struct mod_jobs_ticket {
	mod_jobs_enqueued_fn *cb;
	void *arg;
	struct storeq_op *op;
};

/* --- answers ------------------------------------------------------------- */

static void
store_failed(
    struct mod_jobs *api, struct mux_req *r, const struct storeq_op *op)
{
	api->store_errors++;
	fprintf(stderr, "fcgilab-mux: jobs store: %s\n",
	    op->err[0] ? op->err : jobstore_result_name(op->res));
	mux_req_respond_detail(
	    r, 503, APIJSON_RETRY_AFTER, APIJSON_UNAVAILABLE);
}

static void
answer_enqueued(struct mod_jobs *api, struct mux_req *r, struct storeq_op *op)
{
	char headers[64], *body;

	if (op->res == JOBSTORE_FULL) { /* counted by storeq: c.full */
		mux_req_respond_detail(
		    r, 503, APIJSON_RETRY_AFTER, MOD_JOBS_FULL_DETAIL);
		return;
	}
	if (op->res != JOBSTORE_OK) {
		store_failed(api, r, op);
		return;
	}
	api->accepted++;
	snprintf(
	    headers, sizeof(headers), "Location: /jobs/%s\r\n", op->job.id);
	body = NULL;
	if (asprintf(
	        &body, "{\"id\":\"%s\",\"status\":\"queued\"}", op->job.id) < 0)
		body = NULL;
	mux_req_respond_json(r, 202, headers, body, body ? strlen(body) : 0);
}

static void
answer_record(struct mod_jobs *api, struct mux_req *r, struct storeq_op *op)
{
	size_t len = 0;
	char *body;

	switch (op->res) {
	case JOBSTORE_OK:
	case JOBSTORE_CONFLICT:
		break;
	case JOBSTORE_NOTFOUND:
		mux_req_respond_detail(r, 404, NULL, "Job not found");
		return;
	case JOBSTORE_EMPTY:
	case JOBSTORE_LOST:
	case JOBSTORE_EIO:
	case JOBSTORE_ENOMEM:
	case JOBSTORE_EINVAL:
	case JOBSTORE_EAUTH:
	case JOBSTORE_FULL:
		store_failed(api, r, op);
		return;
	}
	if (op->res == JOBSTORE_CONFLICT) {
		char msg[96];

		snprintf(msg, sizeof(msg),
		    "Job is %s: only a queued job can be cancelled",
		    jobs_status_name(op->rec.status));
		mux_req_respond_detail(r, 409, NULL, msg);
		return;
	}
	body = jobs_record_json(&op->rec, &len);
	mux_req_respond_json(r, 200, NULL, body, len);
}

static void
answer_page(struct mod_jobs *api, struct mux_req *r, struct storeq_op *op)
{
	char *body, *link = NULL;
	size_t len = 0;

	if (op->res != JOBSTORE_OK) {
		store_failed(api, r, op);
		return;
	}
	body = jobs_page_json(&op->page, &op->q, &len, &link);
	mux_req_respond_json(r, 200, link, body, len);
	free(link);
}

/* A store operation of a request is complete (loop thread). */
static void
request_done(struct storeq_op *op)
{
	struct jreq *jr = op->owner;
	struct mux_req *r;

	if (jr == NULL) { /* its client went away */
		storeq_op_free(op);
		return;
	}
	jr->op = NULL;
	r = jr->r;
	mux_req_enter(r); /* jr lives until mux_req_leave */
	switch (op->kind) {
	case STOREQ_ENQUEUE:
		answer_enqueued(jr->api, r, op);
		break;
	case STOREQ_GET:
	case STOREQ_CANCEL:
		answer_record(jr->api, r, op);
		break;
	case STOREQ_LIST:
		answer_page(jr->api, r, op);
		break;
	case STOREQ_COUNTS:
	case STOREQ_EXPIRE:
		break;
	}
	mux_req_leave(r);
	storeq_op_free(op);
}

/* Hand op to the store thread for jr; answers 503 when it is full. */
static void
submit(struct jreq *jr, struct storeq_op *op)
{
	if (storeq_submit(jr->api->q, op) != STOREQ_OK) {
		storeq_op_free(op);
		jr->api->refused_full++;
		mux_req_respond_detail(
		    jr->r, 503, APIJSON_RETRY_AFTER, APIJSON_UNAVAILABLE);
		return;
	}
	jr->op = op;
}

/* --- the route hooks ----------------------------------------------------- */

static void
start_post(struct jreq *jr)
{
	const char *cl = mux_req_var(jr->r, MUX_V_CONTENT_LENGTH);
	long long n = 0;

	jr->post = true;
	if (cl != NULL && num_parse_int(cl, strlen(cl), &n) == NUM_OK &&
	    n > JOBS_MAX_BODY) {
		mux_req_respond_detail(jr->r, 413, NULL, APIJSON_TOO_LARGE);
		return;
	}
	if ((jr->body = malloc(JOBS_MAX_BODY)) == NULL)
		mux_req_respond_detail(jr->r, 500, NULL, APIJSON_INTERNAL);
}

static void
start_list(struct jreq *jr)
{
	struct storeq_op *op;
	char *err = NULL;
	size_t len = 0;

	op = storeq_op_new(STOREQ_LIST, request_done, jr);
	if (op == NULL) {
		mux_req_respond_detail(jr->r, 500, NULL, APIJSON_INTERNAL);
		return;
	}
	switch (jobs_parse_list_query(
	    mux_req_var(jr->r, MUX_V_QUERY), &op->q, &err, &len)) {
	case JOBS_PARSE_OK:
		submit(jr, op);
		return;
	case JOBS_PARSE_INVALID:
		storeq_op_free(op);
		mux_req_respond_json(jr->r, 422, NULL, err, len);
		return;
	case JOBS_PARSE_ENOMEM:
		break;
	}
	storeq_op_free(op);
	mux_req_respond_detail(jr->r, 500, NULL, APIJSON_INTERNAL);
}

static void
start_one(struct jreq *jr, enum storeq_kind kind)
{
	const char *id = mux_req_decision(jr->r)->path_param;
	struct storeq_op *op;
	size_t len = 0;

	if (!randid_valid(id)) {
		char *body = jobs_bad_id_body(id, &len);
		mux_req_respond_json(jr->r, 422, NULL, body, len);
		return;
	}
	if ((op = storeq_op_new(kind, request_done, jr)) == NULL) {
		mux_req_respond_detail(jr->r, 500, NULL, APIJSON_INTERNAL);
		return;
	}
	memcpy(op->id, id, sizeof(op->id));
	submit(jr, op);
}

static void
on_start(struct mux_req *r)
{
	const char *method = mux_req_var(r, MUX_V_METHOD);
	struct jreq *jr;
	bool post, del;

	if ((jr = calloc(1, sizeof(*jr))) == NULL) {
		mux_req_respond_detail(r, 500, NULL, APIJSON_INTERNAL);
		return;
	}
	jr->r = r;
	jr->api = mux_req_ctx(r);
	mux_req_set_data(r, jr);
	/* app.c let only the routes' methods through */
	post = method != NULL && strcmp(method, "POST") == 0;
	del = method != NULL && strcmp(method, "DELETE") == 0;
	if (mux_req_decision(r)->route == APP_R_JOBS && post)
		start_post(jr);
	else if (mux_req_decision(r)->route == APP_R_JOBS)
		start_list(jr);
	else
		start_one(jr, del ? STOREQ_CANCEL : STOREQ_GET);
}

static void
on_body(struct mux_req *r, const uint8_t *p, size_t n)
{
	struct jreq *jr = mux_req_data(r);

	if (!jr->post || jr->body == NULL)
		return; /* GET and DELETE ignore a body, as FastAPI does */
	if (n > JOBS_MAX_BODY - jr->len) {
		free(jr->body);
		jr->body = NULL;
		mux_req_respond_detail(r, 413, NULL, APIJSON_TOO_LARGE);
		return;
	}
	memcpy(jr->body + jr->len, p, n);
	jr->len += n;
}

static void
on_body_end(struct mux_req *r)
{
	struct jreq *jr = mux_req_data(r);
	struct storeq_op *op;
	char *err = NULL;
	size_t len = 0;
	int status = 422;

	if (!jr->post || jr->body == NULL)
		return;
	if ((op = storeq_op_new(STOREQ_ENQUEUE, request_done, jr)) == NULL) {
		mux_req_respond_detail(r, 500, NULL, APIJSON_INTERNAL);
		return;
	}
	switch (
	    jobs_parse_new(jr->api->tasks, mux_req_var(r, MUX_V_CONTENT_TYPE),
	        jr->body, jr->len, &op->job, &status, &err, &len)) {
	case JOBS_PARSE_OK:
		if (!randid_new(op->job.id))
			break;
		submit(jr, op);
		return;
	case JOBS_PARSE_INVALID:
		storeq_op_free(op);
		mux_req_respond_json(r, status, NULL, err, len);
		return;
	case JOBS_PARSE_ENOMEM:
		break;
	}
	storeq_op_free(op);
	mux_req_respond_detail(r, 500, NULL, APIJSON_INTERNAL);
}

static void
on_end(struct mux_req *r, bool answered)
{
	struct jreq *jr = mux_req_data(r);

	(void)answered;
	if (jr == NULL)
		return;
	if (jr->op != NULL)
		jr->op->owner = NULL; /* request_done will just free it */
	free(jr->body);
	free(jr);
	mux_req_set_data(r, NULL);
}

static const struct mux_route_ops jobs_ops = {
    .start = on_start,
    .body = on_body,
    .body_end = on_body_end,
    .end = on_end,
};

/* --- /metrics ------------------------------------------------------------ */

static void
counts_done(struct storeq_op *op)
{
	struct mod_jobs *api = op->owner;

	if (api != NULL) {
		api->counts_op = NULL;
		if (op->res == JOBSTORE_OK) {
			api->counts = op->counts;
			api->have_counts = true;
		}
	}
	storeq_op_free(op);
}

static void
counts_tick(struct tmr_node *node, uint64_t now, void *ctx)
{
	struct mod_jobs *api =
	    container_of(node, struct mod_jobs, counts_timer);
	struct storeq_op *op;

	(void)now;
	(void)ctx;
	if (api->counts_op == NULL &&
	    (op = storeq_op_new(STOREQ_COUNTS, counts_done, api)) != NULL) {
		if (storeq_submit(api->q, op) == STOREQ_OK)
			api->counts_op = op;
		else
			storeq_op_free(op);
	}
	ev_timer_after(api->loop, &api->counts_timer, COUNTS_INTERVAL_MS);
}

/* --- retention ------------------------------------------------------------ */

static void
expire_done(struct storeq_op *op)
{
	struct mod_jobs *api = op->owner;
	unsigned next = EXPIRE_INTERVAL_MS;

	if (api != NULL) {
		api->expire_op = NULL;
		if (op->res == JOBSTORE_OK && op->expired == op->max)
			next = EXPIRE_AGAIN_MS; /* more are due: soon */
		else if (op->res != JOBSTORE_OK)
			fprintf(stderr, "fcgilab-mux: jobs store: expiry: %s\n",
			    op->err[0] ? op->err
			               : jobstore_result_name(op->res));
		ev_timer_after(api->loop, &api->expire_timer, next);
	}
	storeq_op_free(op);
}

/* One batch of expiry on the store thread; the next is armed when it is
 * done, so at most one is ever in the thread, and the enqueues waiting
 * meanwhile go in between. */
static void
expire_tick(struct tmr_node *node, uint64_t now, void *ctx)
{
	struct mod_jobs *api =
	    container_of(node, struct mod_jobs, expire_timer);
	struct storeq_op *op;

	(void)now;
	(void)ctx;
	if ((op = storeq_op_new(STOREQ_EXPIRE, expire_done, api)) != NULL) {
		op->ttl_us = api->cfg.ttl_s * 1000000;
		op->max = EXPIRE_BATCH;
		if (storeq_submit(api->q, op) == STOREQ_OK) {
			api->expire_op = op;
			return;
		}
		storeq_op_free(op);
	}
	ev_timer_after(api->loop, &api->expire_timer, EXPIRE_INTERVAL_MS);
}

static bool
add_latency(char **t, size_t *len, const struct jobstore_counts *s)
{
	const char *name = "fcgilab_jobs_enqueue_to_start_seconds";
	uint64_t cum = 0;
	size_t i;
	bool ok;

	ok = metrics_add(t, len,
	    "# HELP %s Time from a job's enqueue to its first start.\n"
	    "# TYPE %s histogram\n",
	    name, name);
	for (i = 0; ok && i < JOBSTORE_NBUCKETS; i++) {
		cum += s->buckets[i];
		ok = metrics_add(t, len, "%s_bucket{le=\"%g\"} %llu\n", name,
		    jobstore_bucket_ms[i] / 1000.0, (unsigned long long)cum);
	}
	cum += s->buckets[JOBSTORE_NBUCKETS];
	return ok &&
	    metrics_add(t, len,
	        "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n",
	        name, (unsigned long long)cum, name,
	        (double)s->latency_sum_us / 1e6, name,
	        (unsigned long long)s->started);
}

static char *
jobs_metrics(void *ctx, size_t *lenp)
{
	struct mod_jobs *api = ctx;
	const struct jobstore_counts *s = &api->counts;
	struct storeq_counters c;
	char *t = NULL;
	size_t len = 0;
	bool ok;

	storeq_counters(api->q, &c);
	ok = metrics_add_series(&t, &len, "fcgilab_jobs_queue_depth", "gauge",
	         "Jobs queued, waiting for a worker.", s->count[JOBS_QUEUED]) &&
	    metrics_add_series(&t, &len, "fcgilab_jobs_running", "gauge",
	        "Jobs a worker holds a lease on.", s->count[JOBS_RUNNING]) &&
	    metrics_add_series(&t, &len, "fcgilab_jobs_done_total", "counter",
	        "Jobs finished with a result.", s->total[JOBS_DONE]) &&
	    metrics_add_series(&t, &len, "fcgilab_jobs_failed_total", "counter",
	        "Jobs that failed for good.", s->total[JOBS_FAILED]) &&
	    metrics_add_series(&t, &len, "fcgilab_jobs_cancelled_total",
	        "counter", "Jobs cancelled while queued.",
	        s->total[JOBS_CANCELLED]) &&
	    metrics_add_series(&t, &len, "fcgilab_jobs_finished_kept", "gauge",
	        "Finished jobs kept in the store until their TTL.",
	        s->count[JOBS_DONE] + s->count[JOBS_FAILED] +
	            s->count[JOBS_CANCELLED]) &&
	    metrics_add_series(&t, &len, "fcgilab_jobs_expired_total",
	        "counter", "Finished jobs deleted after their TTL.",
	        s->expired) &&
	    metrics_add_series(&t, &len, "fcgilab_jobs_retried_total",
	        "counter", "Jobs put back after their worker was lost.",
	        s->retried) &&
	    add_latency(&t, &len, s) &&
	    metrics_add_series(&t, &len, "fcgilab_jobs_enqueued_total",
	        "counter", "Jobs this mux stored and answered 202.",
	        api->accepted) &&
	    metrics_add_series(&t, &len, "fcgilab_jobs_store_commits_total",
	        "counter", "Enqueue transactions (many POSTs share one).",
	        c.commits) &&
	    metrics_add_series(&t, &len, "fcgilab_jobs_store_batch_max",
	        "gauge", "Most jobs committed in one transaction.",
	        c.max_batch) &&
	    metrics_add(&t, &len,
	        "# HELP %s How long the store took for the last read of "
	        "these figures.\n# TYPE %s gauge\n%s %.6f\n",
	        "fcgilab_jobs_store_counts_seconds",
	        "fcgilab_jobs_store_counts_seconds",
	        "fcgilab_jobs_store_counts_seconds",
	        (double)c.counts_us / 1e6) &&
	    metrics_add_series(&t, &len, "fcgilab_jobs_store_errors_total",
	        "counter", "Store operations that failed.", c.errors) &&
	    metrics_add_series(&t, &len, "fcgilab_jobs_store_refused_total",
	        "counter",
	        "Requests refused with 503: the store queue was full.",
	        api->refused_full) &&
	    metrics_add_series(&t, &len, "fcgilab_jobs_max_queued", "gauge",
	        "Jobs that may be queued (--max-queued); POSTs beyond are 503.",
	        api->cfg.max_queued) &&
	    metrics_add_series(&t, &len, "fcgilab_jobs_queue_full_total",
	        "counter",
	        "Jobs refused with 503: --max-queued jobs were queued.",
	        c.full);
	if (!ok) {
		free(t);
		return NULL;
	}
	*lenp = len;
	return t;
}

/* --- life cycle and the internal API -------------------------------------- */

static void
on_store_fd(struct ev_loop *loop, int fd, unsigned events, void *data)
{
	struct mod_jobs *api = data;

	(void)loop;
	(void)fd;
	(void)events;
	storeq_drain(api->q);
}

void
mod_jobs_config_init(struct mod_jobs_config *c)
{
	c->max_queued = MOD_JOBS_DEFAULT_MAX_QUEUED;
	c->ttl_s = MOD_JOBS_DEFAULT_TTL_S;
}

struct mod_jobs *
mod_jobs_new(struct mux *m, const struct jobs_tasks *tasks, const char *url,
    const char *password, const struct mod_jobs_config *cfg, char *err,
    size_t errlen)
{
	struct jobstore *store;
	struct mod_jobs *api;

	if (jobstore_open(url, password, &store, err, errlen) != JOBSTORE_OK)
		return NULL;
	if ((api = calloc(1, sizeof(*api))) == NULL) {
		jobstore_close(store);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	api->mux = m;
	api->loop = mux_loop(m);
	api->tasks = tasks;
	api->store_name = store->ops->name;
	if (cfg != NULL)
		api->cfg = *cfg;
	else
		mod_jobs_config_init(&api->cfg);
	if (storeq_new(&api->q, store, MAX_PENDING, MAX_BATCH,
	        api->cfg.max_queued) != STOREQ_OK) {
		snprintf(err, errlen, "store thread: %s", strerror(errno));
		free(api);
		return NULL;
	}
	if (ev_add(api->loop, storeq_fd(api->q), EV_READ, on_store_fd, api) !=
	    EV_OK) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		storeq_free(api->q);
		free(api);
		return NULL;
	}
	mux_route_register(m, APP_R_JOBS, &jobs_ops, api);
	mux_route_register(m, APP_R_JOB, &jobs_ops, api);
	mux_metrics_register(m, jobs_metrics, api);
	tmr_node_init(&api->counts_timer, counts_tick);
	counts_tick(&api->counts_timer, 0, NULL); /* first figures at once */
	tmr_node_init(&api->expire_timer, expire_tick);
	if (api->cfg.ttl_s > 0) /* 0: kept for ever */
		expire_tick(&api->expire_timer, 0, NULL);
	return api;
}

void
mod_jobs_free(struct mod_jobs *api)
{
	if (api == NULL)
		return;
	tmr_cancel(ev_timers(api->loop), &api->counts_timer);
	tmr_cancel(ev_timers(api->loop), &api->expire_timer);
	if (api->counts_op != NULL)
		api->counts_op->owner = NULL;
	if (api->expire_op != NULL)
		api->expire_op->owner = NULL;
	ev_del(api->loop, storeq_fd(api->q));
	storeq_free(api->q); /* stores what was accepted; runs done() */
	free(api);
}

static void
ticket_done(struct storeq_op *op)
{
	struct mod_jobs_ticket *t = op->owner;

	if (t != NULL) {
		t->cb(t->arg, op->res, op->job.id);
		free(t);
	}
	storeq_op_free(op);
}

enum jobs_parse
mod_jobs_enqueue(struct mod_jobs *api, const char *task, const json_t *params,
    int max_attempts, mod_jobs_enqueued_fn *cb, void *arg,
    struct mod_jobs_ticket **ticket, char **err, size_t *errlen)
{
	struct mod_jobs_ticket *t;
	struct storeq_op *op;
	enum jobs_parse res;

	*ticket = NULL;
	*err = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (op = storeq_op_new(STOREQ_ENQUEUE, ticket_done, t)) == NULL) {
		free(t);
		return JOBS_PARSE_ENOMEM;
	}
	res = jobs_validate_new(
	    api->tasks, task, params, max_attempts, &op->job, err, errlen);
	if (res == JOBS_PARSE_OK &&
	    (!randid_new(op->job.id) || storeq_submit(api->q, op) != STOREQ_OK))
		res = JOBS_PARSE_ENOMEM;
	if (res != JOBS_PARSE_OK) {
		storeq_op_free(op);
		free(t);
		return res;
	}
	t->cb = cb;
	t->arg = arg;
	t->op = op;
	*ticket = t;
	return JOBS_PARSE_OK;
}

void
mod_jobs_forget(struct mod_jobs_ticket *ticket)
{
	if (ticket == NULL)
		return;
	ticket->op->owner = NULL;
	free(ticket);
}
