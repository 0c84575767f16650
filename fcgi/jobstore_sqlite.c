/*
 * jobstore_sqlite — the embedded store: one SQLite database file in WAL
 * mode, shared by the mux's store thread and the workers (processes on one
 * machine). Contract in jobstore.h; here:
 *
 *  - WAL journal, synchronous=FULL (a commit is on disk before enqueue
 *    returns), busy_timeout 10 s, one connection per struct jobstore.
 *  - Writes take the write lock at once (BEGIN IMMEDIATE), so two writers
 *    never deadlock upgrading a read; readers never wait for writers.
 *  - A lease is (lease_owner, lease_expires_us) on the job's row; claim is
 *    one transaction: put back expired leases, then one UPDATE … RETURNING
 *    of the oldest queued job. An idle worker's poll is a read that takes
 *    no lock.
 *  - Counts without scans: the counters table holds n_<status> (jobs in
 *    each status now), total_<status> (jobs that ever got there: done,
 *    failed, cancelled), expired, retried, started and the latency
 *    buckets. Triggers on the jobs table keep n_ and total_ in the
 *    transaction that inserts, moves or deletes a job, whoever writes
 *    (the mux, a worker, a sqlite3 shell); the rest are added by the
 *    statements that change the job. A database made before the counts
 *    were kept is counted once, when it is first opened.
 *  - Retention: finished_us is set exactly when a job finishes, and a
 *    partial index on it holds the finished jobs only, so "finished
 *    before T, oldest first, LIMIT n" reads n index entries.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobstore.h"
#include "jobstore_open.h"

#define BUSY_TIMEOUT_MS 10000
#define REAP_BATCH      100
#define SETUP_TRIES     250

#define COLS                                                                \
	"id, task, params, status, attempts, max_attempts, result, error, " \
	"created_us, started_us, finished_us"
#define NEWEST_FIRST " ORDER BY created_us DESC, id DESC LIMIT ?"

enum st {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INSERT,
	ST_GET,
	ST_LIST,
	ST_LIST_AFTER,
	ST_LIST_STATUS,
	ST_LIST_STATUS_AFTER,
	ST_CANCEL,
	ST_HAS_WORK,
	ST_EXPIRED,
	ST_REQUEUE,
	ST_FAIL_LOST,
	ST_CLAIM,
	ST_RENEW,
	ST_FINISH,
	ST_QUEUED,
	ST_EXPIRE,
	ST_COUNTER_ADD,
	ST_COUNTERS,
	ST__MAX
};

static const char *const sql[ST__MAX] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_INSERT] = "INSERT INTO jobs (id, task, params, status, attempts, "
                  "max_attempts, created_us) VALUES (?, ?, ?, 'queued', 0, "
                  "?, ?)",
    [ST_GET] = "SELECT " COLS " FROM jobs WHERE id = ?",
    [ST_LIST] = "SELECT " COLS " FROM jobs" NEWEST_FIRST,
    [ST_LIST_AFTER] = "SELECT " COLS " FROM jobs WHERE (created_us, id) < "
                      "(?, ?)" NEWEST_FIRST,
    [ST_LIST_STATUS] =
        "SELECT " COLS " FROM jobs WHERE status = ?" NEWEST_FIRST,
    [ST_LIST_STATUS_AFTER] = "SELECT " COLS " FROM jobs WHERE status = ? "
                             "AND (created_us, id) < (?, ?)" NEWEST_FIRST,
    [ST_CANCEL] = "UPDATE jobs SET status = 'cancelled', finished_us = ? "
                  "WHERE id = ? AND status = 'queued'",
    [ST_HAS_WORK] = "SELECT EXISTS (SELECT 1 FROM jobs WHERE status = "
                    "'queued') OR EXISTS (SELECT 1 FROM jobs WHERE status "
                    "= 'running' AND lease_expires_us < ?)",
    [ST_EXPIRED] = "SELECT id, attempts, max_attempts FROM jobs WHERE "
                   "status = 'running' AND lease_expires_us < ? LIMIT 100",
    [ST_REQUEUE] = "UPDATE jobs SET status = 'queued', lease_owner = NULL, "
                   "lease_expires_us = NULL WHERE id = ?",
    [ST_FAIL_LOST] = "UPDATE jobs SET status = 'failed', error = ?, "
                     "finished_us = ?, lease_owner = NULL, "
                     "lease_expires_us = NULL WHERE id = ?",
    [ST_CLAIM] = "UPDATE jobs SET status = 'running', attempts = attempts "
                 "+ 1, started_us = ?1, lease_owner = ?2 || ':' || "
                 "(attempts + 1), lease_expires_us = ?3 WHERE id = (SELECT "
                 "id FROM jobs WHERE status = 'queued' ORDER BY "
                 "created_us, id LIMIT 1) RETURNING " COLS ", lease_owner",
    [ST_RENEW] = "UPDATE jobs SET lease_expires_us = ? WHERE id = ? AND "
                 "status = 'running' AND lease_owner = ?",
    [ST_FINISH] = "UPDATE jobs SET status = ?, result = ?, error = ?, "
                  "finished_us = ?, lease_owner = NULL, lease_expires_us "
                  "= NULL WHERE id = ? AND status = 'running' AND "
                  "lease_owner = ?",
    [ST_QUEUED] = "SELECT value FROM counters WHERE name = 'n_queued'",
    [ST_EXPIRE] = "DELETE FROM jobs WHERE rowid IN (SELECT rowid FROM jobs "
                  "WHERE finished_us < ? ORDER BY finished_us LIMIT ?)",
    [ST_COUNTER_ADD] = "INSERT INTO counters (name, value) VALUES (?, ?) "
                       "ON CONFLICT (name) DO UPDATE SET value = value + "
                       "excluded.value",
    [ST_COUNTERS] = "SELECT name, value FROM counters",
};

/* One transaction: the tables, and the counts of a database that has
 * none yet (made before they were kept: one count, once). */
static const char schema[] =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE IF NOT EXISTS jobs ("
    " id TEXT PRIMARY KEY,"
    " task TEXT NOT NULL,"
    " params TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " max_attempts INTEGER NOT NULL,"
    " result TEXT, error TEXT,"
    " created_us INTEGER NOT NULL, started_us INTEGER, finished_us INTEGER,"
    " lease_owner TEXT, lease_expires_us INTEGER);"
    "CREATE INDEX IF NOT EXISTS jobs_by_time ON jobs (created_us, id);"
    "CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_us, "
    "id);"
    "CREATE INDEX IF NOT EXISTS jobs_leases ON jobs (lease_expires_us) "
    "WHERE status = 'running';"
    "CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_us) "
    "WHERE finished_us IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value "
    "INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO counters (name, value) SELECT 'total_' || st, (SELECT "
    "count(*) FROM jobs WHERE status = st) FROM (SELECT 'done' AS st UNION "
    "ALL SELECT 'failed' UNION ALL SELECT 'cancelled') WHERE NOT EXISTS "
    "(SELECT 1 FROM counters WHERE name = 'n_queued');"
    "INSERT INTO counters (name, value) SELECT 'n_' || st, (SELECT "
    "count(*) FROM jobs WHERE status = st) FROM (SELECT 'queued' AS st "
    "UNION ALL SELECT 'running' UNION ALL SELECT 'done' UNION ALL SELECT "
    "'failed' UNION ALL SELECT 'cancelled') WHERE NOT EXISTS (SELECT 1 "
    "FROM counters WHERE name = 'n_queued');"
    "CREATE TRIGGER IF NOT EXISTS jobs_count_new AFTER INSERT ON jobs BEGIN"
    " UPDATE counters SET value = value + 1 WHERE name IN ('n_' || "
    "NEW.status, 'total_' || NEW.status); END;"
    "CREATE TRIGGER IF NOT EXISTS jobs_count_move AFTER UPDATE OF status ON "
    "jobs WHEN OLD.status IS NOT NEW.status BEGIN"
    " UPDATE counters SET value = value - 1 WHERE name = 'n_' || "
    "OLD.status;"
    " UPDATE counters SET value = value + 1 WHERE name IN ('n_' || "
    "NEW.status, 'total_' || NEW.status); END;"
    "CREATE TRIGGER IF NOT EXISTS jobs_count_gone AFTER DELETE ON jobs BEGIN"
    " UPDATE counters SET value = value - 1 WHERE name = 'n_' || "
    "OLD.status; END;"
    "COMMIT;";

struct sq {
	struct jobstore base;
	int64_t last_created; /* of this connection's last enqueue */
	sqlite3 *db;
	sqlite3_stmt *st[ST__MAX];
};

static const struct jobstore_ops sq_ops;

static enum jobstore_result
fail(struct sq *s, const char *what)
{
	snprintf(s->base.err, sizeof(s->base.err), "sqlite: %s: %s", what,
	    sqlite3_errmsg(s->db));
	return JOBSTORE_EIO;
}

/* The statement, reset and unbound, ready for binding. */
static sqlite3_stmt *
stmt(struct sq *s, enum st which)
{
	sqlite3_stmt *q = s->st[which];

	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return q;
}

/* Run a statement that returns no rows. */
static enum jobstore_result
run(struct sq *s, sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE ? JOBSTORE_OK : fail(s, what);
}

static enum jobstore_result
begin(struct sq *s)
{
	return run(s, stmt(s, ST_BEGIN), "begin");
}

static enum jobstore_result
commit(struct sq *s)
{
	enum jobstore_result r = run(s, stmt(s, ST_COMMIT), "commit");

	if (r != JOBSTORE_OK)
		sqlite3_step(stmt(s, ST_ROLLBACK));
	return r;
}

/* Roll back after a failure; returns res. */
static enum jobstore_result
rollback(struct sq *s, enum jobstore_result res)
{
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_step(stmt(s, ST_ROLLBACK));
		sqlite3_reset(s->st[ST_ROLLBACK]);
	}
	return res;
}

static void
bind_text(sqlite3_stmt *q, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(q, i);
	else
		sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
}

static char *
col_strdup(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);

	return t ? strdup((const char *)t) : NULL;
}

/* One row of COLS (from column 0) into out. */
static enum jobstore_result
read_record(sqlite3_stmt *q, struct jobs_record *out)
{
	const char *st = (const char *)sqlite3_column_text(q, 3);
	enum jobs_status status = JOBS_FAILED;

	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s",
	    (const char *)sqlite3_column_text(q, 0));
	snprintf(out->task, sizeof(out->task), "%s",
	    (const char *)sqlite3_column_text(q, 1));
	if (st != NULL)
		jobs_status_parse(st, strlen(st), &status);
	out->status = status;
	out->attempts = sqlite3_column_int(q, 4);
	out->max_attempts = sqlite3_column_int(q, 5);
	out->created_us = sqlite3_column_int64(q, 8);
	out->started_us = sqlite3_column_int64(q, 9);
	out->finished_us = sqlite3_column_int64(q, 10);
	out->params = col_strdup(q, 2);
	out->result = col_strdup(q, 6);
	out->error = col_strdup(q, 7);
	if (out->params == NULL ||
	    (sqlite3_column_type(q, 6) != SQLITE_NULL && out->result == NULL) ||
	    (sqlite3_column_type(q, 7) != SQLITE_NULL && out->error == NULL)) {
		jobs_record_free(out);
		return JOBSTORE_ENOMEM;
	}
	return JOBSTORE_OK;
}

static enum jobstore_result
counter_add(struct sq *s, const char *name, int64_t v)
{
	sqlite3_stmt *q = stmt(s, ST_COUNTER_ADD);

	bind_text(q, 1, name);
	sqlite3_bind_int64(q, 2, v);
	return run(s, q, "counter");
}

/* --- the mux's side ------------------------------------------------------ */

/* How many jobs are queued (inside the caller's transaction). */
static enum jobstore_result
queued_now(struct sq *s, uint64_t *out)
{
	sqlite3_stmt *q = stmt(s, ST_QUEUED);
	int rc = sqlite3_step(q);

	*out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(q, 0) : 0;
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? JOBSTORE_OK : fail(s, "queue depth");
}

static enum jobstore_result
sq_enqueue(struct jobstore *base, struct jobs_new *jobs, size_t n,
    uint64_t max_queued, size_t *stored)
{
	struct sq *s = (struct sq *)base;
	int64_t now = jobstore_now_us();
	enum jobstore_result r;
	uint64_t queued;
	sqlite3_stmt *q;
	size_t i;

	*stored = 0;
	/* a batch takes one µs per job: the next one starts after it, so
	 * creation order is the order jobs were accepted in */
	if (now <= s->last_created)
		now = s->last_created + 1;
	if ((r = begin(s)) != JOBSTORE_OK)
		return r;
	if (max_queued > 0) {
		/* the write lock is ours: nobody else enqueues meanwhile */
		if ((r = queued_now(s, &queued)) != JOBSTORE_OK)
			return rollback(s, r);
		if (queued >= max_queued)
			n = 0;
		else if (n > max_queued - queued)
			n = (size_t)(max_queued - queued);
	}
	for (i = 0; i < n; i++) {
		jobs[i].created_us = now + (int64_t)i;
		q = stmt(s, ST_INSERT);
		bind_text(q, 1, jobs[i].id);
		bind_text(q, 2, jobs[i].task);
		bind_text(q, 3, jobs[i].params);
		sqlite3_bind_int(q, 4, jobs[i].max_attempts);
		sqlite3_bind_int64(q, 5, jobs[i].created_us);
		if ((r = run(s, q, "insert")) != JOBSTORE_OK)
			return rollback(s, r);
	}
	if ((r = commit(s)) != JOBSTORE_OK)
		return r;
	if (n > 0)
		s->last_created = jobs[n - 1].created_us;
	*stored = n;
	return JOBSTORE_OK;
}

static enum jobstore_result
sq_get(struct jobstore *base, const char *id, struct jobs_record *out)
{
	struct sq *s = (struct sq *)base;
	sqlite3_stmt *q = stmt(s, ST_GET);
	enum jobstore_result r;
	int rc;

	bind_text(q, 1, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		r = read_record(q, out);
	else
		r = rc == SQLITE_DONE ? JOBSTORE_NOTFOUND : fail(s, "get");
	sqlite3_reset(q);
	return r;
}

static sqlite3_stmt *
list_stmt(struct sq *s, const struct jobs_page_req *qr)
{
	sqlite3_stmt *q;
	int i = 1;

	if (qr->status >= 0)
		q = stmt(
		    s, qr->has_cursor ? ST_LIST_STATUS_AFTER : ST_LIST_STATUS);
	else
		q = stmt(s, qr->has_cursor ? ST_LIST_AFTER : ST_LIST);
	if (qr->status >= 0)
		bind_text(
		    q, i++, jobs_status_name((enum jobs_status)qr->status));
	if (qr->has_cursor) {
		sqlite3_bind_int64(q, i++, qr->after.created_us);
		sqlite3_bind_text(q, i++, qr->after.id, -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_int(q, i, qr->limit + 1); /* one more: is there a next? */
	return q;
}

static enum jobstore_result
sq_list(struct jobstore *base, const struct jobs_page_req *qr,
    struct jobs_page *out)
{
	struct sq *s = (struct sq *)base;
	enum jobstore_result r = JOBSTORE_OK;
	sqlite3_stmt *q = list_stmt(s, qr);
	int rc;

	memset(out, 0, sizeof(*out));
	out->items = calloc((size_t)qr->limit, sizeof(*out->items));
	if (out->items == NULL)
		return JOBSTORE_ENOMEM;
	while (r == JOBSTORE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (out->n == (size_t)qr->limit) {
			out->has_next = true;
			break;
		}
		if ((r = read_record(q, &out->items[out->n])) == JOBSTORE_OK)
			out->n++;
	}
	if (r == JOBSTORE_OK && !out->has_next && rc != SQLITE_DONE)
		r = fail(s, "list");
	sqlite3_reset(q);
	if (r != JOBSTORE_OK) {
		jobs_page_free(out);
		return r;
	}
	if (out->has_next) {
		out->next.created_us = out->items[out->n - 1].created_us;
		memcpy(out->next.id, out->items[out->n - 1].id,
		    sizeof(out->next.id));
	}
	return JOBSTORE_OK;
}

static enum jobstore_result
sq_cancel(struct jobstore *base, const char *id, struct jobs_record *out)
{
	struct sq *s = (struct sq *)base;
	enum jobstore_result r;
	sqlite3_stmt *q;
	int changed;

	if ((r = begin(s)) != JOBSTORE_OK)
		return r;
	q = stmt(s, ST_CANCEL);
	sqlite3_bind_int64(q, 1, jobstore_now_us());
	bind_text(q, 2, id);
	if ((r = run(s, q, "cancel")) != JOBSTORE_OK)
		return rollback(s, r);
	changed = sqlite3_changes(s->db);
	if ((r = sq_get(base, id, out)) != JOBSTORE_OK)
		return rollback(s, r);
	if ((r = commit(s)) != JOBSTORE_OK) {
		jobs_record_free(out);
		return r;
	}
	return changed ? JOBSTORE_OK : JOBSTORE_CONFLICT;
}

static enum jobstore_result
sq_counts(struct jobstore *base, struct jobstore_counts *out)
{
	struct sq *s = (struct sq *)base;
	sqlite3_stmt *q = stmt(s, ST_COUNTERS);
	enum jobs_status st;
	const char *name;
	uint64_t v;
	unsigned b;
	int rc;

	/* a few rows, whatever the number of jobs: no scan */
	memset(out, 0, sizeof(*out));
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(q, 0);
		v = (uint64_t)sqlite3_column_int64(q, 1);
		if (name == NULL)
			continue;
		if (strncmp(name, "n_", 2) == 0 &&
		    jobs_status_parse(name + 2, strlen(name + 2), &st))
			out->count[st] = v;
		else if (strncmp(name, "total_", 6) == 0 &&
		    jobs_status_parse(name + 6, strlen(name + 6), &st))
			out->total[st] = v;
		else if (strcmp(name, "expired") == 0)
			out->expired = v;
		else if (strcmp(name, "retried") == 0)
			out->retried = v;
		else if (strcmp(name, "started") == 0)
			out->started = v;
		else if (strcmp(name, "latency_sum_us") == 0)
			out->latency_sum_us = v;
		else if (sscanf(name, "bucket_%u", &b) == 1 &&
		    b <= JOBSTORE_NBUCKETS)
			out->buckets[b] = v;
	}
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? JOBSTORE_OK : fail(s, "counters");
}

static enum jobstore_result
sq_expire(struct jobstore *base, uint64_t ttl_us, size_t max, size_t *deleted)
{
	struct sq *s = (struct sq *)base;
	enum jobstore_result r;
	sqlite3_stmt *q;
	int n;

	*deleted = 0;
	if ((r = begin(s)) != JOBSTORE_OK)
		return r;
	q = stmt(s, ST_EXPIRE);
	sqlite3_bind_int64(q, 1, jobstore_now_us() - (int64_t)ttl_us);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)max);
	if ((r = run(s, q, "expire")) != JOBSTORE_OK)
		return rollback(s, r);
	n = sqlite3_changes(s->db); /* the jobs, not the triggers' rows */
	if (n > 0 && (r = counter_add(s, "expired", n)) != JOBSTORE_OK)
		return rollback(s, r);
	if ((r = commit(s)) != JOBSTORE_OK)
		return r;
	*deleted = (size_t)n;
	return JOBSTORE_OK;
}

/* --- the workers' side --------------------------------------------------- */

/* Is there anything to claim? A plain read: no lock taken. */
static enum jobstore_result
has_work(struct sq *s, int64_t now, bool *yes)
{
	sqlite3_stmt *q = stmt(s, ST_HAS_WORK);
	int rc;

	sqlite3_bind_int64(q, 1, now);
	rc = sqlite3_step(q);
	*yes = rc == SQLITE_ROW && sqlite3_column_int(q, 0) != 0;
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? JOBSTORE_OK : fail(s, "poll");
}

/* Put back (or fail) jobs whose lease expired: their worker is gone. */
static enum jobstore_result
reap(struct sq *s, int64_t now)
{
	char ids[REAP_BATCH][JOBS_ID_LEN + 1], why[128];
	int att[REAP_BATCH], max[REAP_BATCH];
	enum jobstore_result r;
	sqlite3_stmt *q = stmt(s, ST_EXPIRED);
	size_t n = 0, i;

	sqlite3_bind_int64(q, 1, now);
	while (n < REAP_BATCH && sqlite3_step(q) == SQLITE_ROW) {
		snprintf(ids[n], sizeof(ids[n]), "%s",
		    (const char *)sqlite3_column_text(q, 0));
		att[n] = sqlite3_column_int(q, 1);
		max[n] = sqlite3_column_int(q, 2);
		n++;
	}
	sqlite3_reset(q);
	for (i = 0; i < n; i++) {
		if (att[i] >= max[i]) {
			snprintf(why, sizeof(why),
			    "worker lost (lease expired) on attempt %d of %d",
			    att[i], max[i]);
			q = stmt(s, ST_FAIL_LOST);
			bind_text(q, 1, why);
			sqlite3_bind_int64(q, 2, now);
			bind_text(q, 3, ids[i]);
			r = run(s, q, "fail lost job");
		} else {
			q = stmt(s, ST_REQUEUE);
			bind_text(q, 1, ids[i]);
			if ((r = run(s, q, "requeue")) == JOBSTORE_OK)
				r = counter_add(s, "retried", 1);
		}
		if (r != JOBSTORE_OK)
			return r;
	}
	return JOBSTORE_OK;
}

/* The first start of a job: its enqueue-to-start latency. */
static enum jobstore_result
count_start(struct sq *s, int64_t latency_us)
{
	char name[32];
	enum jobstore_result r;

	if (latency_us < 0)
		latency_us = 0;
	snprintf(name, sizeof(name), "bucket_%zu",
	    jobstore_bucket((uint64_t)latency_us));
	if ((r = counter_add(s, "started", 1)) != JOBSTORE_OK ||
	    (r = counter_add(s, "latency_sum_us", latency_us)) != JOBSTORE_OK)
		return r;
	return counter_add(s, name, 1);
}

static enum jobstore_result
sq_claim(struct jobstore *base, const char *owner, uint32_t lease_ms,
    struct jobs_record *out, struct jobstore_lease *lease)
{
	struct sq *s = (struct sq *)base;
	int64_t now = jobstore_now_us();
	enum jobstore_result r;
	sqlite3_stmt *q;
	bool yes;
	int rc;

	if ((r = has_work(s, now, &yes)) != JOBSTORE_OK)
		return r;
	if (!yes)
		return JOBSTORE_EMPTY;
	if ((r = begin(s)) != JOBSTORE_OK)
		return r;
	if ((r = reap(s, now)) != JOBSTORE_OK)
		return rollback(s, r);
	q = stmt(s, ST_CLAIM);
	sqlite3_bind_int64(q, 1, now);
	bind_text(q, 2, owner);
	sqlite3_bind_int64(q, 3, now + (int64_t)lease_ms * 1000);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		r = read_record(q, out);
		snprintf(lease->token, sizeof(lease->token), "%s",
		    (const char *)sqlite3_column_text(q, 11));
	} else {
		r = rc == SQLITE_DONE ? JOBSTORE_EMPTY : fail(s, "claim");
	}
	sqlite3_reset(q);
	if (r == JOBSTORE_OK && out->attempts == 1)
		r = count_start(s, now - out->created_us);
	if (r != JOBSTORE_OK && r != JOBSTORE_EMPTY) {
		if (rc == SQLITE_ROW)
			jobs_record_free(out);
		return rollback(s, r);
	}
	if (commit(s) != JOBSTORE_OK) {
		if (r == JOBSTORE_OK)
			jobs_record_free(out);
		return JOBSTORE_EIO;
	}
	return r;
}

static enum jobstore_result
sq_renew(struct jobstore *base, const char *id,
    const struct jobstore_lease *lease, uint32_t lease_ms)
{
	struct sq *s = (struct sq *)base;
	sqlite3_stmt *q = stmt(s, ST_RENEW);
	enum jobstore_result r;

	sqlite3_bind_int64(q, 1, jobstore_now_us() + (int64_t)lease_ms * 1000);
	bind_text(q, 2, id);
	bind_text(q, 3, lease->token);
	if ((r = run(s, q, "renew")) != JOBSTORE_OK)
		return r;
	return sqlite3_changes(s->db) ? JOBSTORE_OK : JOBSTORE_LOST;
}

static enum jobstore_result
sq_finish(struct jobstore *base, const char *id,
    const struct jobstore_lease *lease, enum jobs_status status,
    const char *result, const char *error)
{
	struct sq *s = (struct sq *)base;
	sqlite3_stmt *q = stmt(s, ST_FINISH);
	enum jobstore_result r;

	bind_text(q, 1, jobs_status_name(status));
	bind_text(q, 2, result);
	bind_text(q, 3, error);
	sqlite3_bind_int64(q, 4, jobstore_now_us());
	bind_text(q, 5, id);
	bind_text(q, 6, lease->token);
	if ((r = run(s, q, "finish")) != JOBSTORE_OK)
		return r;
	return sqlite3_changes(s->db) ? JOBSTORE_OK : JOBSTORE_LOST;
}

/* --- opening ------------------------------------------------------------- */

static void
sq_close(struct jobstore *base)
{
	struct sq *s = (struct sq *)base;
	int i;

	for (i = 0; i < ST__MAX; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

/* Run setup SQL, retrying while another process holds the database
 * (switching to WAL needs a moment alone; busy_timeout does not cover it).
 * A transaction the text began is rolled back before it is tried again;
 * after another error the caller closes the connection (which rolls it
 * back), so the error's message stays for the caller to show. */
static int
exec_retry(struct sq *s, const char *text)
{
	struct timespec pause = {0, 20 * 1000 * 1000};
	int rc, tries;

	for (tries = 0; tries < SETUP_TRIES; tries++) {
		rc = sqlite3_exec(s->db, text, NULL, NULL, NULL);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			return rc;
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		nanosleep(&pause, NULL);
	}
	return rc;
}

static int
sq_setup(struct sq *s)
{
	int i;

	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	if (exec_retry(s, "PRAGMA journal_mode = WAL") != SQLITE_OK ||
	    exec_retry(s, "PRAGMA synchronous = FULL") != SQLITE_OK ||
	    exec_retry(s, schema) != SQLITE_OK)
		return -1;
	for (i = 0; i < ST__MAX; i++)
		if (sqlite3_prepare_v3(s->db, sql[i], -1,
		        SQLITE_PREPARE_PERSISTENT, &s->st[i],
		        NULL) != SQLITE_OK)
			return -1;
	return 0;
}

enum jobstore_result
jobstore_sqlite_open(
    const char *path, struct jobstore **out, char *err, size_t errlen)
{
	struct sq *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return JOBSTORE_ENOMEM;
	}
	s->base.ops = &sq_ops;
	if (sqlite3_open_v2(path, &s->db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	            SQLITE_OPEN_NOMUTEX,
	        NULL) != SQLITE_OK ||
	    sq_setup(s) != 0) {
		snprintf(err, errlen, "sqlite: %s: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sq_close(&s->base);
		return JOBSTORE_EIO;
	}
	*out = &s->base;
	return JOBSTORE_OK;
}

static const struct jobstore_ops sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .enqueue = sq_enqueue,
    .get = sq_get,
    .list = sq_list,
    .cancel = sq_cancel,
    .claim = sq_claim,
    .renew = sq_renew,
    .finish = sq_finish,
    .counts = sq_counts,
    .expire = sq_expire,
};
