/*
 * test_storeq — the mux's store thread over a real SQLite store: a burst
 * of enqueues shares commits, completions arrive through the eventfd on
 * the submitting thread, detached owners are skipped, the queue is
 * bounded, shutdown stores what was accepted, and a burst past
 * max_queued stores exactly max_queued jobs, the earliest first.
 */
#include "config.h"

#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jobs.h"
#include "jobstore_open.h"
#include "storeq.h"
#include "tap.h"

#define BURST 300

static int completed, told, refused;
static char first_refused[JOBS_ID_LEN + 1];

static void
done_cb(struct storeq_op *op)
{
	completed++;
	if (op->owner != NULL && op->res == JOBSTORE_OK)
		told++;
	if (op->res == JOBSTORE_FULL && refused++ == 0)
		memcpy(first_refused, op->job.id, sizeof(first_refused));
	storeq_op_free(op);
}

static struct storeq_op *
new_enqueue(int i, void *owner)
{
	struct storeq_op *op = storeq_op_new(STOREQ_ENQUEUE, done_cb, owner);

	snprintf(op->job.id, sizeof(op->job.id), "%032x", i + 1);
	snprintf(op->job.task, sizeof(op->job.task), "wait");
	op->job.params = strdup("{\"secs\":0}");
	op->job.max_attempts = 3;
	return op;
}

/* Drain until want completions arrived (or 10 s). */
static void
wait_for(struct storeq *q, int want)
{
	struct pollfd p = {storeq_fd(q), POLLIN, 0};
	int rounds = 0;

	while (completed < want && rounds++ < 1000) {
		poll(&p, 1, 10);
		storeq_drain(q);
	}
}

static size_t
count_jobs(const char *path)
{
	char err[JOBSTORE_ERR_MAX];
	struct jobstore *s;
	struct jobstore_counts st;

	if (jobstore_open(path, NULL, &s, err, sizeof(err)) != JOBSTORE_OK)
		return 0;
	s->ops->counts(s, &st);
	jobstore_close(s);
	return st.count[JOBS_QUEUED];
}

int
main(void)
{
	char dir[] = "/tmp/test_storeq.XXXXXX", path[256], err[256];
	struct storeq_counters c;
	struct storeq_op *op, *detached;
	struct jobstore *s;
	struct storeq *q;
	sqlite3 *db;
	int i, owner = 1, full = 0;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/jobs.db", dir);
	ok(jobstore_open(path, NULL, &s, err, sizeof(err)) == JOBSTORE_OK,
	    "open an SQLite store");
	ok(storeq_new(&q, s, 1000, 512, 0) == STOREQ_OK,
	    "start the store thread");
	for (i = 0; i < BURST; i++)
		storeq_submit(q, new_enqueue(i, &owner));
	wait_for(q, BURST);
	storeq_counters(q, &c);
	ok(completed == BURST && told == BURST,
	    "a burst of %d enqueues all committed (%d)", BURST, told);
	ok(c.commits < BURST / 2 && c.max_batch > 1,
	    "  in %llu commits, up to %llu jobs each",
	    (unsigned long long)c.commits, (unsigned long long)c.max_batch);
	op = storeq_op_new(STOREQ_GET, done_cb, &owner);
	snprintf(op->id, sizeof(op->id), "%032x", 7);
	detached = storeq_op_new(STOREQ_LIST, done_cb, &owner);
	detached->q.limit = 5;
	detached->q.status = -1;
	storeq_submit(q, op);
	storeq_submit(q, detached);
	detached->owner = NULL; /* its request went away */
	told = completed = 0;
	wait_for(q, 2);
	ok(completed == 2 && told == 1,
	    "a detached operation completes and is only freed");
	/* another process holds the database: the thread waits in its
	 * commit, and the queue fills up to its bound */
	sqlite3_open(path, &db);
	sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
	for (i = 0; i < 2500; i++) {
		op = new_enqueue(BURST + i, NULL);
		if (storeq_submit(q, op) != STOREQ_OK) {
			storeq_op_free(op);
			full++;
		}
	}
	ok(full >= 500, "the queue is bounded (%d refused of 2500)", full);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	storeq_free(q); /* stores every accepted job before it returns */
	ok(count_jobs(path) == (size_t)(BURST + 2500 - full),
	    "shutdown stored every accepted job (%zu)", count_jobs(path));

	/* max_queued: a burst past it, in several batches */
	snprintf(path, sizeof(path), "%s/bounded.db", dir);
	ok(jobstore_open(path, NULL, &s, err, sizeof(err)) == JOBSTORE_OK &&
	        storeq_new(&q, s, 1000, 64, 100) == STOREQ_OK,
	    "a store thread with max_queued 100 (batches of 64)");
	told = completed = refused = 0;
	for (i = 0; i < BURST; i++)
		storeq_submit(q, new_enqueue(10000 + i, &owner));
	wait_for(q, BURST);
	storeq_counters(q, &c);
	ok(told == 100 && refused == BURST - 100 && c.full == BURST - 100 &&
	        c.enqueued == 100,
	    "a burst of %d: 100 stored, %d refused FULL (%d, %d)", BURST,
	    BURST - 100, told, refused);
	snprintf(err, sizeof(err), "%032x", 10000 + 100 + 1);
	ok(strcmp(first_refused, err) == 0,
	    "  the first 100 submitted got the room (first refused: %s)",
	    first_refused);
	storeq_free(q);
	ok(count_jobs(path) == 100, "  100 queued in the store (%zu)",
	    count_jobs(path));
	snprintf(err, sizeof(err), "rm -rf %s", dir);
	if (system(err) != 0)
		return 1;
	return done_testing();
}
