/*
 * test_jobstore — the store contract (jobstore.h), run against a fresh
 * SQLite file, or against the empty store FCGILAB_TEST_STORE names (the
 * Redis suite, tests/jobs-redis.bats, runs this binary on its own
 * redis-server): enqueue in batches, get, pages that walk every job once,
 * cancel, claim with leases, renew, fenced finish, expired leases put back
 * or failed, the counts, two connections claiming at once, the bounded
 * queue (max_queued), expiry of finished jobs after a TTL; and after
 * each step, the counts (kept by the store, never scanned) against a walk
 * of every job. On SQLite, a database from before the counts were kept
 * is counted once when opened.
 */
#include "config.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jobs.h"
#include "jobstore.h"
#include "jobstore_open.h"
#include "tap.h"

static char url[512];
static int serial;

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static struct jobstore *
open_store(void)
{
	char err[JOBSTORE_ERR_MAX];
	struct jobstore *s = NULL;

	if (jobstore_open(url, NULL, &s, err, sizeof(err)) != JOBSTORE_OK)
		printf("# open %s: %s\n", url, err);
	return s;
}

/* n new wait jobs with distinct ids; max_attempts as given. */
static void
make_jobs(struct jobs_new *jobs, size_t n, int max_attempts)
{
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		snprintf(jobs[i].id, sizeof(jobs[i].id), "%08x%024x",
		    (unsigned)getpid(), ++serial);
		snprintf(jobs[i].task, sizeof(jobs[i].task), "wait");
		jobs[i].params = strdup("{\"secs\":0.1}");
		jobs[i].max_attempts = max_attempts;
	}
}

/* Enqueue all of jobs (no bound): OK only if all n were stored. */
static enum jobstore_result
enqueue(struct jobstore *s, struct jobs_new *jobs, size_t n)
{
	enum jobstore_result r;
	size_t stored = 0;

	r = s->ops->enqueue(s, jobs, n, 0, &stored);
	return r == JOBSTORE_OK && stored != n ? JOBSTORE_FULL : r;
}

static void
free_jobs(struct jobs_new *jobs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		jobs_new_free(&jobs[i]);
}

static void
test_enqueue_get(struct jobstore *s, struct jobs_new *jobs)
{
	struct jobs_record r;

	make_jobs(jobs, 3, 3);
	ok(enqueue(s, jobs, 3) == JOBSTORE_OK, "enqueue a batch of 3");
	ok(jobs[0].created_us > 0 && jobs[0].created_us < jobs[1].created_us &&
	        jobs[1].created_us < jobs[2].created_us,
	    "  created_us set, in batch order");
	ok(s->ops->get(s, jobs[1].id, &r) == JOBSTORE_OK, "get one");
	ok(strcmp(r.id, jobs[1].id) == 0 && strcmp(r.task, "wait") == 0 &&
	        strcmp(r.params, "{\"secs\":0.1}") == 0 &&
	        r.status == JOBS_QUEUED && r.attempts == 0 &&
	        r.max_attempts == 3 && r.result == NULL && r.error == NULL &&
	        r.created_us == jobs[1].created_us && r.started_us == 0,
	    "  every field as stored");
	jobs_record_free(&r);
	ok(s->ops->get(s, "ffffffffffffffffffffffffffffffff", &r) ==
	        JOBSTORE_NOTFOUND,
	    "get an unknown id: NOTFOUND");
}

/* Walk every page of a listing; count the jobs seen, check the order. */
static size_t
walk(struct jobstore *s, int status, int limit, size_t *pages, bool *sorted)
{
	struct jobs_page_req q = {status, limit, false, {0, ""}};
	struct jobs_page p;
	int64_t last_t = INT64_MAX;
	char last_id[JOBS_ID_LEN + 1] = "~";
	size_t seen = 0, i;

	*pages = 0;
	*sorted = true;
	for (;;) {
		if (s->ops->list(s, &q, &p) != JOBSTORE_OK)
			return (size_t)-1;
		if (++*pages > 10000) { /* a cursor that never ends */
			jobs_page_free(&p);
			return (size_t)-1;
		}
		for (i = 0; i < p.n; i++) {
			if (p.items[i].created_us > last_t ||
			    (p.items[i].created_us == last_t &&
			        strcmp(p.items[i].id, last_id) >= 0))
				*sorted = false;
			last_t = p.items[i].created_us;
			memcpy(last_id, p.items[i].id, sizeof(last_id));
			if (status >= 0 && (int)p.items[i].status != status)
				*sorted = false;
		}
		seen += p.n;
		if (!p.has_next) {
			jobs_page_free(&p);
			return seen;
		}
		q.has_cursor = true;
		q.after = p.next;
		jobs_page_free(&p);
	}
}

/* The store's counts against a walk of every status (and, before any
 * expiry, the totals equal the counts); label says after what. */
static void
check_counts(struct jobstore *s, const char *label, bool expired)
{
	struct jobstore_counts c;
	size_t pages, n[JOBS_STATUS__MAX];
	bool sorted, same = true;
	int st;

	if (!ok(s->ops->counts(s, &c) == JOBSTORE_OK, "counts after %s", label))
		return;
	for (st = 0; st < JOBS_STATUS__MAX; st++) {
		n[st] = walk(s, st, 100, &pages, &sorted);
		same = same && n[st] == c.count[st];
		if (st >= JOBS_DONE)
			same = same &&
			    (expired ? c.total[st] >= c.count[st]
			             : c.total[st] == c.count[st]);
	}
	ok(same,
	    "  exact: queued %llu, running %llu, done %llu, failed %llu, "
	    "cancelled %llu (walked %zu %zu %zu %zu %zu)",
	    (unsigned long long)c.count[0], (unsigned long long)c.count[1],
	    (unsigned long long)c.count[2], (unsigned long long)c.count[3],
	    (unsigned long long)c.count[4], n[0], n[1], n[2], n[3], n[4]);
}

static void
test_pages(struct jobstore *s)
{
	struct jobs_new more[22];
	size_t pages, n;
	bool sorted;

	make_jobs(more, 22, 3);
	ok(enqueue(s, more, 10) == JOBSTORE_OK &&
	        enqueue(s, more + 10, 12) == JOBSTORE_OK,
	    "enqueue 22 more");
	ok(more[10].created_us > more[9].created_us &&
	        more[21].created_us > more[20].created_us,
	    "  a batch starts after the one before: creation is accept order");
	free_jobs(more, 22);
	n = walk(s, -1, 1, &pages, &sorted);
	ok(n == 25 && pages == 25 && sorted,
	    "pages of 1 walk all 25 jobs once, newest first (%zu in %zu)", n,
	    pages);
	n = walk(s, -1, 7, &pages, &sorted);
	ok(n == 25 && pages == 4 && sorted, "pages of 7: 4 pages");
	n = walk(s, -1, 25, &pages, &sorted);
	ok(n == 25 && pages == 1, "a page of exactly 25: no next page");
	n = walk(s, JOBS_QUEUED, 4, &pages, &sorted);
	ok(n == 25 && sorted, "status=queued: all 25");
	n = walk(s, JOBS_DONE, 4, &pages, &sorted);
	ok(n == 0 && pages == 1, "status=done: none yet");
}

static void
test_cancel(struct jobstore *s, const struct jobs_new *jobs)
{
	struct jobs_record r;

	ok(s->ops->cancel(s, jobs[0].id, &r) == JOBSTORE_OK &&
	        r.status == JOBS_CANCELLED && r.finished_us > 0,
	    "cancel a queued job");
	jobs_record_free(&r);
	ok(s->ops->cancel(s, jobs[0].id, &r) == JOBSTORE_CONFLICT &&
	        r.status == JOBS_CANCELLED,
	    "cancel it again: CONFLICT, with the record");
	jobs_record_free(&r);
	ok(s->ops->cancel(s, "ffffffffffffffffffffffffffffffff", &r) ==
	        JOBSTORE_NOTFOUND,
	    "cancel an unknown id: NOTFOUND");
}

static void
test_claim_finish(struct jobstore *s, const struct jobs_new *jobs)
{
	struct jobstore_lease lease, other;
	struct jobs_record r;

	ok(s->ops->claim(s, "w1", 5000, &r, &lease) == JOBSTORE_OK,
	    "claim: a job");
	ok(strcmp(r.id, jobs[1].id) == 0 && r.status == JOBS_RUNNING &&
	        r.attempts == 1 && r.started_us > 0,
	    "  the oldest queued one (not the cancelled), running, attempt 1");
	ok(strcmp(lease.token, "w1:1") == 0, "  leased to w1:1 (%s)",
	    lease.token);
	jobs_record_free(&r);
	ok(s->ops->renew(s, jobs[1].id, &lease, 5000) == JOBSTORE_OK,
	    "renew the lease");
	snprintf(other.token, sizeof(other.token), "w2:1");
	ok(s->ops->renew(s, jobs[1].id, &other, 5000) == JOBSTORE_LOST &&
	        s->ops->finish(s, jobs[1].id, &other, JOBS_DONE, "{}", NULL) ==
	            JOBSTORE_LOST,
	    "another token cannot renew or finish it");
	ok(s->ops->finish(s, jobs[1].id, &lease, JOBS_DONE,
	       "{\"status\":\"ready\",\"seconds\":0.1}", NULL) == JOBSTORE_OK,
	    "finish with the lease");
	ok(s->ops->get(s, jobs[1].id, &r) == JOBSTORE_OK &&
	        r.status == JOBS_DONE && r.finished_us >= r.started_us &&
	        r.result &&
	        strcmp(r.result, "{\"status\":\"ready\",\"seconds\":0.1}") == 0,
	    "  done, with its result");
	jobs_record_free(&r);
	ok(s->ops->finish(s, jobs[1].id, &lease, JOBS_DONE, "{}", NULL) ==
	        JOBSTORE_LOST,
	    "  finishing twice: LOST");
	ok(s->ops->cancel(s, jobs[1].id, &r) == JOBSTORE_CONFLICT &&
	        r.status == JOBS_DONE,
	    "  a done job cannot be cancelled");
	jobs_record_free(&r);
}

/* Claim and finish every queued job (the board is cleared). */
static size_t
drain(struct jobstore *s)
{
	struct jobstore_lease lease;
	struct jobs_record r;
	size_t n = 0;

	while (n < 10000 &&
	    s->ops->claim(s, "drain", 5000, &r, &lease) == JOBSTORE_OK) {
		s->ops->finish(s, r.id, &lease, JOBS_DONE, "{}", NULL);
		jobs_record_free(&r);
		n++;
	}
	return n;
}

static void
test_leases(struct jobstore *s)
{
	struct jobstore_lease l1, l2;
	struct jobs_new j[2];
	struct jobs_record r;
	struct jobstore_counts st;

	ok(drain(s) == 23, "drain the other 23 jobs");
	make_jobs(j, 1, 2);
	make_jobs(j + 1, 1, 1);
	ok(enqueue(s, j, 2) == JOBSTORE_OK, "two jobs: max_attempts 2 and 1");
	ok(s->ops->claim(s, "dead", 60, &r, &l1) == JOBSTORE_OK &&
	        strcmp(r.id, j[0].id) == 0,
	    "a worker claims the first with a 60 ms lease");
	jobs_record_free(&r);
	ok(s->ops->claim(s, "dead", 60, &r, &l2) == JOBSTORE_OK &&
	        strcmp(r.id, j[1].id) == 0,
	    "  and the second");
	jobs_record_free(&r);
	ok(s->ops->claim(s, "w2", 5000, &r, &l2) == JOBSTORE_EMPTY,
	    "while the leases hold, nothing else to claim");
	sleep_ms(150); /* the worker died: its leases expire */
	ok(s->ops->claim(s, "w2", 5000, &r, &l2) == JOBSTORE_OK &&
	        strcmp(r.id, j[0].id) == 0 && r.attempts == 2,
	    "after expiry another worker gets the first, attempt 2");
	ok(strcmp(l2.token, "w2:2") == 0, "  leased to w2:2");
	jobs_record_free(&r);
	ok(s->ops->finish(s, j[0].id, &l1, JOBS_DONE, "{}", NULL) ==
	        JOBSTORE_LOST,
	    "the dead worker's late finish is refused");
	ok(s->ops->get(s, j[1].id, &r) == JOBSTORE_OK &&
	        r.status == JOBS_FAILED && r.error &&
	        strcmp(r.error,
	            "worker lost (lease expired) on attempt 1 of 1") == 0,
	    "the job out of attempts failed: %s", r.error ? r.error : "-");
	jobs_record_free(&r);
	ok(s->ops->finish(s, j[0].id, &l2, JOBS_DONE, "{}", NULL) ==
	        JOBSTORE_OK,
	    "the second attempt finishes");
	ok(s->ops->counts(s, &st) == JOBSTORE_OK, "stats");
	ok(st.count[JOBS_DONE] == 25 && st.count[JOBS_FAILED] == 1 &&
	        st.count[JOBS_CANCELLED] == 1 && st.count[JOBS_QUEUED] == 0 &&
	        st.count[JOBS_RUNNING] == 0,
	    "  counts: 25 done, 1 failed, 1 cancelled");
	ok(st.retried == 1 && st.started == 26,
	    "  retried 1, first starts 26 (%llu, %llu)",
	    (unsigned long long)st.retried, (unsigned long long)st.started);
	free_jobs(j, 2);
}

struct claimer {
	size_t n;
	char ids[200][JOBS_ID_LEN + 1];
};

static void *
claimer_main(void *arg)
{
	struct claimer *c = arg;
	struct jobstore *s = open_store();
	struct jobstore_lease lease;
	struct jobs_record r;
	enum jobstore_result res;
	unsigned fails = 0;

	/* A failed claim (SQLite busy) is tried again, a bounded number of
	 * times: a store that always fails must fail the test, not hang it. */
	while (s != NULL && c->n < 200 && fails < 1000 &&
	    (res = s->ops->claim(s, "t", 5000, &r, &lease)) != JOBSTORE_EMPTY) {
		if (res != JOBSTORE_OK) {
			fails++;
			continue;
		}
		memcpy(c->ids[c->n++], r.id, JOBS_ID_LEN + 1);
		s->ops->finish(s, r.id, &lease, JOBS_DONE, "{}", NULL);
		jobs_record_free(&r);
	}
	jobstore_close(s);
	return NULL;
}

static void
test_concurrent(struct jobstore *s)
{
	static struct claimer a, b;
	struct jobs_new j[100];
	pthread_t ta, tb;
	size_t i, k, dup = 0;

	make_jobs(j, 100, 3);
	ok(enqueue(s, j, 100) == JOBSTORE_OK, "100 jobs in one commit");
	pthread_create(&ta, NULL, claimer_main, &a);
	pthread_create(&tb, NULL, claimer_main, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	for (i = 0; i < a.n; i++)
		for (k = 0; k < b.n; k++)
			dup += strcmp(a.ids[i], b.ids[k]) == 0;
	ok(a.n + b.n == 100 && dup == 0,
	    "two connections claiming at once: %zu + %zu jobs, %zu twice", a.n,
	    b.n, dup);
	free_jobs(j, 100);
}

/* Is there no job id (NOTFOUND)? */
static bool
gone(struct jobstore *s, const char *id)
{
	struct jobs_record r;
	enum jobstore_result res = s->ops->get(s, id, &r);

	if (res == JOBSTORE_OK)
		jobs_record_free(&r);
	return res == JOBSTORE_NOTFOUND;
}

static void
test_bounded(struct jobstore *s)
{
	struct jobstore_lease lease;
	struct jobs_record r;
	struct jobs_new j[5];
	enum jobstore_result res;
	size_t stored = 99;

	make_jobs(j, 5, 3);
	res = s->ops->enqueue(s, j, 5, 3, &stored);
	ok(res == JOBSTORE_OK && stored == 3,
	    "max_queued 3, none queued: 3 of a batch of 5 stored (%zu)",
	    stored);
	ok(s->ops->get(s, j[2].id, &r) == JOBSTORE_OK && gone(s, j[3].id) &&
	        gone(s, j[4].id),
	    "  the first 3 of the batch; the others not at all");
	jobs_record_free(&r);
	res = s->ops->enqueue(s, j + 3, 1, 3, &stored);
	ok(res == JOBSTORE_OK && stored == 0,
	    "  3 queued: the next stores nothing (%zu)", stored);
	check_counts(s, "a refused enqueue", false);
	ok(s->ops->claim(s, "w", 5000, &r, &lease) == JOBSTORE_OK,
	    "a worker claims one");
	res = s->ops->enqueue(s, j + 3, 2, 3, &stored);
	ok(res == JOBSTORE_OK && stored == 1,
	    "  which makes room for one more (%zu)", stored);
	ok(s->ops->enqueue(s, j + 4, 1, 0, &stored) == JOBSTORE_OK &&
	        stored == 1,
	    "max_queued 0: no bound");
	s->ops->finish(s, r.id, &lease, JOBS_DONE, "{}", NULL);
	jobs_record_free(&r);
	check_counts(s, "bounded enqueues", false);
	ok(drain(s) == 4, "drain the 4 queued");
	free_jobs(j, 5);
}

static void
test_expire(struct jobstore *s, const struct jobs_new *old_job)
{
	struct jobstore_counts before, after;
	struct jobstore_lease la, lb;
	struct jobs_record r;
	struct jobs_new j[3];
	enum jobstore_result res;
	size_t n = 99, deleted = 0, rounds = 0, finished;
	bool small = true;

	res = s->ops->expire(s, 3600ULL * 1000000, 10, &n);
	ok(res == JOBSTORE_OK && n == 0,
	    "expire with a TTL of an hour: none that old (%zu)", n);
	s->ops->counts(s, &before);
	finished = before.count[JOBS_DONE] + before.count[JOBS_FAILED] +
	    before.count[JOBS_CANCELLED];
	sleep_ms(1100);
	make_jobs(j, 3, 3);
	ok(enqueue(s, j, 3) == JOBSTORE_OK &&
	        s->ops->claim(s, "w", 10000, &r, &la) == JOBSTORE_OK,
	    "then: 3 jobs, one running");
	jobs_record_free(&r);
	ok(s->ops->claim(s, "w", 10000, &r, &lb) == JOBSTORE_OK &&
	        s->ops->finish(s, j[1].id, &lb, JOBS_DONE, "{}", NULL) ==
	            JOBSTORE_OK,
	    "  one done just now, one queued");
	jobs_record_free(&r);
	while (s->ops->expire(s, 1000000, 10, &n) == JOBSTORE_OK && n > 0 &&
	    rounds++ < 1000) {
		deleted += n;
		small = small && n <= 10;
	}
	ok(deleted == finished && small && rounds >= finished / 10,
	    "TTL 1 s: the %zu jobs finished more than 1 s ago are deleted, "
	    "10 at a time (%zu in %zu batches)",
	    finished, deleted, rounds);
	ok(gone(s, old_job->id),
	    "  a deleted job is NOTFOUND, as an unknown one");
	ok(s->ops->get(s, j[0].id, &r) == JOBSTORE_OK &&
	        r.status == JOBS_RUNNING,
	    "  the running job is kept");
	jobs_record_free(&r);
	ok(s->ops->get(s, j[1].id, &r) == JOBSTORE_OK && r.status == JOBS_DONE,
	    "  the job done just now is kept");
	jobs_record_free(&r);
	ok(s->ops->get(s, j[2].id, &r) == JOBSTORE_OK &&
	        r.status == JOBS_QUEUED,
	    "  the queued job is kept");
	jobs_record_free(&r);
	s->ops->counts(s, &after);
	ok(after.count[JOBS_DONE] == 1 && after.count[JOBS_FAILED] == 0 &&
	        after.count[JOBS_CANCELLED] == 0 &&
	        after.count[JOBS_QUEUED] == 1 && after.count[JOBS_RUNNING] == 1,
	    "  counts: 1 queued, 1 running, 1 done");
	ok(after.total[JOBS_DONE] == before.total[JOBS_DONE] + 1 &&
	        after.total[JOBS_FAILED] == before.total[JOBS_FAILED] &&
	        after.total[JOBS_CANCELLED] == before.total[JOBS_CANCELLED] &&
	        after.expired == before.expired + finished,
	    "  totals go on (done %llu), expired %llu",
	    (unsigned long long)after.total[JOBS_DONE],
	    (unsigned long long)after.expired);
	check_counts(s, "expiry", true);
	ok(s->ops->finish(s, j[0].id, &la, JOBS_DONE, "{}", NULL) ==
	            JOBSTORE_OK &&
	        drain(s) == 1,
	    "the rest finish");
	free_jobs(j, 3);
}

/* SQLite: a database made before the counts were kept (no counts, no
 * triggers) is counted when first opened, and its jobs expire. */
static void
test_sqlite_before_counts(const char *dir)
{
	static const char old[] =
	    "CREATE TABLE jobs (id TEXT PRIMARY KEY, task TEXT NOT NULL, "
	    "params TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT "
	    "NULL DEFAULT 0, max_attempts INTEGER NOT NULL, result TEXT, error "
	    "TEXT, created_us INTEGER NOT NULL, started_us INTEGER, "
	    "finished_us INTEGER, lease_owner TEXT, lease_expires_us INTEGER);"
	    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT "
	    "NULL) WITHOUT ROWID;"
	    "INSERT INTO counters VALUES ('retried', 2);"
	    "INSERT INTO jobs (id, task, params, status, max_attempts, "
	    "created_us, finished_us) VALUES "
	    "('0000000000000000000000000000000a', 'wait', '{}', 'queued', 3, "
	    "1, NULL),"
	    "('0000000000000000000000000000000b', 'wait', '{}', 'queued', 3, "
	    "2, NULL),"
	    "('0000000000000000000000000000000c', 'wait', '{}', 'running', 3, "
	    "3, NULL),"
	    "('0000000000000000000000000000000d', 'wait', '{}', 'done', 3, 4, "
	    "5),"
	    "('0000000000000000000000000000000e', 'wait', '{}', 'done', 3, 6, "
	    "7),"
	    "('0000000000000000000000000000000f', 'wait', '{}', 'failed', 3, "
	    "8, 9),"
	    "('00000000000000000000000000000010', 'wait', '{}', 'cancelled', "
	    "3, 10, 11);";
	char path[256], err[JOBSTORE_ERR_MAX];
	struct jobstore_counts c;
	enum jobstore_result res;
	struct jobstore *s;
	sqlite3 *db;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/old.db", dir);
	if (!ok(sqlite3_open(path, &db) == SQLITE_OK &&
	            sqlite3_exec(db, old, NULL, NULL, NULL) == SQLITE_OK,
	        "a database of an earlier version, without counts"))
		return;
	sqlite3_close(db);
	if (!ok(jobstore_open(path, NULL, &s, err, sizeof(err)) ==
	                JOBSTORE_OK &&
	            s->ops->counts(s, &c) == JOBSTORE_OK,
	        "open it: %s", s ? "ok" : err))
		return;
	ok(c.count[JOBS_QUEUED] == 2 && c.count[JOBS_RUNNING] == 1 &&
	        c.count[JOBS_DONE] == 2 && c.count[JOBS_FAILED] == 1 &&
	        c.count[JOBS_CANCELLED] == 1 && c.total[JOBS_DONE] == 2 &&
	        c.retried == 2,
	    "  counted once: 2 queued, 1 running, 2 done, 1 failed, 1 "
	    "cancelled; retried kept");
	res = s->ops->expire(s, 1000000, 100, &n);
	ok(res == JOBSTORE_OK && n == 4, "  its finished jobs expire (%zu)", n);
	check_counts(s, "expiring an old database", true);
	jobstore_close(s);
	unlink(path);
	snprintf(path, sizeof(path), "%s/old.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/old.db-shm", dir);
	unlink(path);
}

int
main(void)
{
	const char *env = getenv("FCGILAB_TEST_STORE");
	struct jobs_new jobs[3];
	struct jobstore *s;
	char dir[] = "/tmp/test_jobstore.XXXXXX", path[256];

	if (env != NULL && *env != '\0') {
		snprintf(url, sizeof(url), "%s", env);
	} else {
		if (mkdtemp(dir) == NULL)
			return 1;
		snprintf(url, sizeof(url), "%s/jobs.db", dir);
	}
	printf("# store %s\n", url);
	if (!ok((s = open_store()) != NULL, "open the store"))
		return done_testing();
	test_enqueue_get(s, jobs);
	test_pages(s);
	check_counts(s, "enqueues", false);
	test_cancel(s, jobs);
	check_counts(s, "cancels", false);
	test_claim_finish(s, jobs);
	check_counts(s, "claim and finish", false);
	test_leases(s);
	check_counts(s, "leases put back (retried) and failed", false);
	test_concurrent(s);
	check_counts(s, "concurrent claims", false);
	test_bounded(s);
	test_expire(s, &jobs[1]);
	free_jobs(jobs, 3);
	if (env == NULL || *env == '\0')
		test_sqlite_before_counts(dir);
	jobstore_close(s);
	if (env == NULL || *env == '\0') {
		snprintf(path, sizeof(path), "%s/jobs.db", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/jobs.db-wal", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/jobs.db-shm", dir);
		unlink(path);
		rmdir(dir);
	}
	ok(jobstore_open("http://x", NULL, &s, path, sizeof(path)) ==
	        JOBSTORE_EINVAL,
	    "a URL of another scheme: EINVAL (%s)", path);
	ok(jobstore_open("redis://h:0", NULL, &s, path, sizeof(path)) ==
	        JOBSTORE_EINVAL,
	    "redis://h:0: EINVAL");
	return done_testing();
}
