/*
 * jobstore — where jobs live: one interface (a vtable), two stores.
 *
 *   sqlite  (default) an SQLite database file in WAL mode (jobstore_sqlite.c)
 *   redis   a Redis server shared by machines (jobstore_redis.c)
 *
 * Contract:
 *  - One struct jobstore is one connection, for ONE thread at a time
 *    (SQLite: one connection per thread; hiredis contexts are not
 *    thread-safe). Open one per thread that needs the store.
 *  - Every call blocks on I/O (disk or network): never call it on the
 *    mux's event loop (mod_jobs uses a store thread, storeq.h).
 *  - Durability: jobstore_enqueue returns JOBSTORE_OK only after the jobs
 *    are committed (SQLite: the transaction is on disk, synchronous=FULL;
 *    Redis: the server applied the script; its persistence is Redis's).
 *    The batch is one transaction: all jobs or none.
 *  - A bounded queue: enqueue stores jobs only while fewer than
 *    max_queued jobs are queued (0: no bound), counted in the same
 *    transaction, so the bound is exact even for several muxes on one
 *    store: the first *stored jobs of the batch are stored, the others
 *    are not (and JOBSTORE_OK is returned all the same).
 *  - Retention: expire deletes up to max jobs that finished (done,
 *    failed, cancelled) more than ttl_us ago, oldest first, in one short
 *    transaction (script); the caller repeats it while it deletes a full
 *    batch. Queued and running jobs are never deleted. A deleted job is
 *    NOTFOUND, like one that never was.
 *  - Counts without scans: the counts of jobs in each status, the totals
 *    and the counters are kept by the store as jobs change (in the same
 *    transaction), so counts reads a few numbers whatever the store holds.
 *  - Leases (at-least-once): claim takes the oldest queued job, marks it
 *    running with attempts + 1 and a lease of lease_ms owned by a token
 *    (owner ":" attempt). Before it looks for work, claim puts back jobs
 *    whose lease expired (their worker died): queued again, counted as
 *    retried, or failed with the reason when attempts reached
 *    max_attempts. Renew and finish succeed only for the token holding
 *    the lease (JOBSTORE_LOST otherwise), so a worker that lost its lease
 *    cannot overwrite the next attempt. A job is never leased twice at
 *    once while its worker renews the lease in time.
 *  - Cancel moves a queued job to cancelled (CONFLICT: it is running or
 *    finished; NOTFOUND: no such id). *out receives the job either way.
 *  - Times are µs since the epoch, from the store's clock (SQLite: the
 *    caller's machine; Redis: the server's TIME, shared by every machine).
 *  - Records and pages handed out are the caller's (jobs_record_free,
 *    jobs_page_free).
 *  - Return convention: enum jobstore_result; on JOBSTORE_EIO the store's
 *    jobstore_error() says what failed. A store that reported EIO may be
 *    closed and opened again (a Redis restart, a locked database).
 */
#ifndef FCGILAB_JOBSTORE_H
#define FCGILAB_JOBSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "jobs.h"

enum jobstore_result {
	JOBSTORE_OK,
	JOBSTORE_NOTFOUND, /* no job with that id */
	JOBSTORE_CONFLICT, /* cancel: the job is not queued */
	JOBSTORE_EMPTY,    /* claim: nothing to do */
	JOBSTORE_LOST,     /* renew/finish: the lease is someone else's */
	JOBSTORE_EIO,      /* the database or the server failed */
	JOBSTORE_ENOMEM,
	JOBSTORE_EINVAL, /* open: a URL that names no store */
	JOBSTORE_EAUTH,  /* open: the server refused our credentials */
	JOBSTORE_FULL,   /* (storeq) not stored: max_queued jobs are queued */
};

const char *jobstore_result_name(enum jobstore_result r);

/* Enqueue-to-start latency buckets, in ms (the last one is +Inf). */
#define JOBSTORE_NBUCKETS 14
extern const uint32_t jobstore_bucket_ms[JOBSTORE_NBUCKETS];

struct jobstore_counts {
	uint64_t count[JOBS_STATUS__MAX]; /* jobs in each status now */
	/* jobs that ever reached done, failed, cancelled (never decreases:
	 * expiry takes jobs out of count[], not out of total[]) */
	uint64_t total[JOBS_STATUS__MAX];
	uint64_t expired; /* finished jobs deleted after their TTL */
	uint64_t retried; /* jobs put back after their worker was lost */
	uint64_t started; /* first starts (the latency's count) */
	uint64_t latency_sum_us;
	uint64_t buckets[JOBSTORE_NBUCKETS + 1]; /* not cumulative */
};

/* A claimed job's lease. */
#define JOBSTORE_TOKEN_MAX 128
struct jobstore_lease {
	char token[JOBSTORE_TOKEN_MAX];
};

struct jobstore;

struct jobstore_ops {
	const char *name;
	void (*close)(struct jobstore *s);
	enum jobstore_result (*enqueue)(struct jobstore *s,
	    struct jobs_new *jobs, size_t n, uint64_t max_queued,
	    size_t *stored);
	enum jobstore_result (*get)(
	    struct jobstore *s, const char *id, struct jobs_record *out);
	enum jobstore_result (*list)(struct jobstore *s,
	    const struct jobs_page_req *q, struct jobs_page *out);
	enum jobstore_result (*cancel)(
	    struct jobstore *s, const char *id, struct jobs_record *out);
	enum jobstore_result (*claim)(struct jobstore *s, const char *owner,
	    uint32_t lease_ms, struct jobs_record *out,
	    struct jobstore_lease *lease);
	enum jobstore_result (*renew)(struct jobstore *s, const char *id,
	    const struct jobstore_lease *lease, uint32_t lease_ms);
	enum jobstore_result (*finish)(struct jobstore *s, const char *id,
	    const struct jobstore_lease *lease, enum jobs_status status,
	    const char *result, const char *error);
	enum jobstore_result (*counts)(
	    struct jobstore *s, struct jobstore_counts *out);
	enum jobstore_result (*expire)(
	    struct jobstore *s, uint64_t ttl_us, size_t max, size_t *deleted);
};

/* The common head of every store. */
#define JOBSTORE_ERR_MAX 256
struct jobstore {
	const struct jobstore_ops *ops;
	char err[JOBSTORE_ERR_MAX];
};

/* Thin wrappers over the ops, for readable call sites. */
void jobstore_close(struct jobstore *s);
const char *jobstore_error(const struct jobstore *s);

/* Which bucket an enqueue-to-start latency falls in. */
size_t jobstore_bucket(uint64_t latency_us);

/* Wall clock in µs since the epoch. */
int64_t jobstore_now_us(void);

#endif
