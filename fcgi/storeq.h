/*
 * storeq — the mux's store thread: job store calls (jobstore.h) taken off
 * the event loop, with enqueues batched into one commit.
 *
 * The lesson's point, applied to the jobs API: a blocking call inside an
 * async endpoint stalls every request the loop serves. An SQLite commit
 * waits for the disk, a Redis call for the network; so the loop only
 * queues an operation here and goes on, and the answer (the 202 of POST
 * /jobs) is sent from the operation's completion, on the loop, once the
 * job is committed.
 *
 * Contract:
 *  - Threads: storeq_submit, storeq_drain and storeq_free are for ONE
 *    thread, the loop's. One store thread owns the struct jobstore (one
 *    connection) and runs the operations; done() runs on the loop thread
 *    inside storeq_drain(), which the loop calls when storeq_fd() (an
 *    eventfd) turns readable.
 *  - Batching: the store thread takes every operation waiting at once;
 *    the ENQUEUEs among them (up to max_batch) go to the store in ONE
 *    transaction, so under load many POSTs share one commit; then the
 *    reads and cancels run one by one. An idle queue costs nothing: the
 *    thread sleeps on a condition variable.
 *  - Operations are caller-allocated; the thread touches only their
 *    inputs and outputs between submit and done(). The owner field is the
 *    loop thread's alone: an owner that goes away (a client gone) sets it
 *    to NULL and done() then just frees the operation. So nothing needs
 *    cancelling: a job whose client left is stored all the same.
 *  - Bounded: at most max_pending operations wait (STOREQ_EFULL beyond,
 *    the caller's 503). And the store's queue: an ENQUEUE finds room
 *    only while fewer than max_queued jobs are queued (0: no bound),
 *    counted by the store in the commit itself; one that does not is
 *    done() with res JOBSTORE_FULL, and nothing of it is stored. Within
 *    a batch, the earlier operations get the room first.
 *  - Shutdown: storeq_free() lets the thread finish every operation that
 *    was submitted (accepted jobs are stored), joins it, runs the done()
 *    callbacks left, and closes the store.
 *  - Return convention: enum storeq_result; STOREQ_ESYS leaves errno.
 */
#ifndef FCGILAB_STOREQ_H
#define FCGILAB_STOREQ_H

#include <stddef.h>
#include <stdint.h>

#include "jobs.h"
#include "jobstore.h"

enum storeq_result {
	STOREQ_OK,
	STOREQ_EFULL, /* max_pending operations wait already */
	STOREQ_ENOMEM,
	STOREQ_ESYS, /* eventfd or the thread could not be made: errno */
};

enum storeq_kind {
	STOREQ_ENQUEUE, /* job -> res, job.created_us */
	STOREQ_GET,     /* id -> res, rec */
	STOREQ_LIST,    /* q -> res, page */
	STOREQ_CANCEL,  /* id -> res, rec */
	STOREQ_COUNTS,  /* -> res, counts */
	STOREQ_EXPIRE,  /* ttl_us, max -> res, expired */
};

struct storeq_op;
typedef void storeq_done_fn(struct storeq_op *op);

struct storeq_op {
	struct storeq_op *next; /* private to storeq */
	enum storeq_kind kind;
	storeq_done_fn *done; /* called once, on the loop thread */
	void *owner;          /* the loop thread's: NULL once detached */
	/* inputs */
	struct jobs_new job;
	char id[JOBS_ID_LEN + 1];
	struct jobs_page_req q;
	uint64_t ttl_us;
	size_t max;
	/* outputs */
	enum jobstore_result res;
	struct jobs_record rec;
	struct jobs_page page;
	struct jobstore_counts counts;
	size_t expired;
	char err[JOBSTORE_ERR_MAX]; /* the store's message when res is EIO */
};

/* A new operation of kind (zeroed), or NULL on ENOMEM. */
struct storeq_op *storeq_op_new(
    enum storeq_kind kind, storeq_done_fn *done, void *owner);
/* Free an operation and what its outputs hold. NULL is a no-op. */
void storeq_op_free(struct storeq_op *op);

struct storeq;

/* What the thread did, for /metrics (read on the loop thread). */
struct storeq_counters {
	uint64_t ops;       /* operations run */
	uint64_t enqueued;  /* jobs committed */
	uint64_t full;      /* jobs refused: max_queued were queued */
	uint64_t commits;   /* enqueue transactions */
	uint64_t max_batch; /* most jobs in one commit */
	uint64_t errors;    /* operations that failed with EIO */
	uint64_t counts_us; /* how long the last COUNTS took in the store */
};

/* Start the thread, which owns store from now on (also on failure). */
enum storeq_result storeq_new(struct storeq **out, struct jobstore *store,
    size_t max_pending, size_t max_batch, uint64_t max_queued);

/* Shut down as the contract says. NULL is a no-op. */
void storeq_free(struct storeq *q);

int storeq_fd(const struct storeq *q);

enum storeq_result storeq_submit(struct storeq *q, struct storeq_op *op);

/* Run done() of every finished operation. Returns how many. */
size_t storeq_drain(struct storeq *q);

void storeq_counters(struct storeq *q, struct storeq_counters *out);

#endif
