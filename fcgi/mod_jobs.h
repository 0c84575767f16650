/*
 * mod_jobs — the jobs API as a mux route module (mux_route.h):
 *
 *   POST   /jobs              validate, store, 202 {"id","status":"queued"}
 *                             with Location: /jobs/ID, sent once committed
 *   GET    /jobs?status=&limit=&cursor=   a page, newest first, with
 *                             "next" and a Link: <…>; rel="next" header
 *   GET    /jobs/ID           the job (jobs.h: jobs_record_json)
 *   DELETE /jobs/ID           cancel a queued job (409 when it is not)
 *
 * Contract:
 *  - Loop thread only. Store work goes to a store thread (storeq.h): the
 *    loop never waits for the disk or the network. Answers are sent from
 *    the completions. A request whose client went away detaches its
 *    operation (the job is stored all the same, nobody is told).
 *  - Bodies are bounded (JOBS_MAX_BODY: 413, judged from CONTENT_LENGTH
 *    before reading when it is given). Errors are jobs.h's shapes; a store
 *    that fails is a 503 with Retry-After (and a line on stderr); a full
 *    store queue too.
 *  - A bounded queue: a job that would make more than max_queued jobs
 *    queued in the store (counted by the store, in the commit: exact, for
 *    every mux of the store together) is not stored, and its POST is 503
 *    {"detail":MOD_JOBS_FULL_DETAIL} with Retry-After: 1.
 *  - Retention: the store thread deletes finished jobs older than ttl_s,
 *    a batch (EXPIRE_BATCH) per store operation, every second, or again
 *    soon while batches come out full; the loop only schedules it. A
 *    deleted job is a 404 like an unknown one.
 *  - /metrics gains the jobs series: queue depth, running, done, failed,
 *    cancelled, expired, retried, the enqueue-to-start latency histogram
 *    (from the store, refreshed every second on the store thread, so at
 *    most that old; the store keeps them as counts, no scan), and this
 *    mux's own enqueue, refusal and commit counters.
 *  - Other route modules enqueue jobs of registered tasks through
 *    mod_jobs_enqueue(), with the same validation and durability as POST
 *    /jobs (e.g. POST /uploads?process=stats).
 *  - Return convention: NULL / enum values as stated per function.
 */
#ifndef FCGILAB_JOBS_API_H
#define FCGILAB_JOBS_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "jobs.h"
#include "jobstore.h"

struct mux;
struct mod_jobs;

#define MOD_JOBS_DEFAULT_MAX_QUEUED 100000
#define MOD_JOBS_DEFAULT_TTL_S      86400 /* a day, as Celery's result_expires */
#define MOD_JOBS_MAX_TTL_S          (100LL * 365 * 86400)
#define MOD_JOBS_FULL_DETAIL        "Too many queued jobs"

struct mod_jobs_config {
	uint64_t max_queued; /* 1 .. : POSTs beyond are 503 */
	uint64_t ttl_s;      /* finished jobs kept this long; 0: for ever */
};

/* The defaults above. */
void mod_jobs_config_init(struct mod_jobs_config *c);

/* Open the store at url (password: Redis's from outside the URL, or NULL;
 * see jobstore_open), start its thread and serve the jobs routes on mux m.
 * tasks must outlive the api; password need not (the store copies it).
 * cfg NULL: the defaults. NULL with err set on failure. */
struct mod_jobs *mod_jobs_new(struct mux *m, const struct jobs_tasks *tasks,
    const char *url, const char *password, const struct mod_jobs_config *cfg,
    char *err, size_t errlen);

/* Stop the store thread (storing what was accepted) and free. Call after
 * mux_free(), whose requests detach. NULL is a no-op. */
void mod_jobs_free(struct mod_jobs *api);

/* --- for other route modules --------------------------------------------- */

/* Told once the job is committed (res JOBSTORE_OK, id its id) or failed:
 * JOBSTORE_FULL when max_queued jobs were queued (nothing stored: the
 * caller's 503 MOD_JOBS_FULL_DETAIL), another result when the store
 * failed. */
typedef void mod_jobs_enqueued_fn(
    void *arg, enum jobstore_result res, const char *id);

struct mod_jobs_ticket; /* a pending enqueue */

/*
 * Enqueue a job of a registered task: params is a JSON object of the
 * task's fields. Returns JOBS_PARSE_OK with *ticket (cb will be called
 * from the loop, later, never from inside this call), or
 * JOBS_PARSE_INVALID with *err the 422 body (malloc'd), or
 * JOBS_PARSE_ENOMEM (also when the store queue is full).
 */
enum jobs_parse mod_jobs_enqueue(struct mod_jobs *api, const char *task,
    const json_t *params, int max_attempts, mod_jobs_enqueued_fn *cb, void *arg,
    struct mod_jobs_ticket **ticket, char **err, size_t *errlen);

/* The caller goes away: cb will not be called (the job is still stored). */
void mod_jobs_forget(struct mod_jobs_ticket *ticket);

#endif
