/*
 * offload — a small fixed pool of threads for CPU work, so the event loop
 * stays responsive while a core counts primes (/cpu_async).
 *
 * Contract:
 *  - Threads: offload_submit, offload_cancel, offload_drain and
 *    offload_free are for ONE thread, the loop's ("the owner thread").
 *    A job's work() runs on a pool thread; its done() runs on the owner
 *    thread, inside offload_drain() (or offload_free()). Pool threads
 *    block every signal (signals belong to the loop's signalfd).
 *  - Signalling: when a job finishes, a worker writes the pool's eventfd
 *    (offload_fd()). The loop watches it for reading (ev_add(..., EV_READ))
 *    and calls offload_drain(), which reads it and runs done() callbacks.
 *  - Jobs are caller-allocated and intrusive (struct offload_job embedded
 *    in, or pointing back to, its owner): the pool allocates nothing per
 *    job. The queue is bounded: offload_submit() says OFFLOAD_EFULL.
 *  - Who owns a job:
 *      IDLE (never submitted, or done() called, or cancel REMOVED it):
 *        the caller; it may free or resubmit it.
 *      QUEUED, RUNNING, COMPLETE (finished, done() not yet called):
 *        the pool. The caller must not touch the job's fields, except
 *        through offload_cancel(). work() may use only the job and what
 *        the job owns, never its submitter: a submitter may go away.
 *  - Cancelling (the request whose client went away):
 *      offload_cancel() on a QUEUED or COMPLETE job takes it out
 *        (OFFLOAD_CANCEL_REMOVED): done() will not be called and the job
 *        is the caller's again at once.
 *      on a RUNNING job it cannot stop the thread; it DETACHES the job
 *        (OFFLOAD_CANCEL_DETACHED): the pool keeps it until work()
 *        returns, discards the result, and calls done(job,
 *        OFFLOAD_CANCELLED) on the owner thread, the last time it touches
 *        the job. work() may poll offload_cancelled() to stop early.
 *    So an owner that must be freed at once keeps its job in memory of
 *    its own (a slab slot, a small malloc) holding the inputs and outputs
 *    work() needs, and on DETACHED clears the job's pointer back to it;
 *    done(CANCELLED) then frees just the job. An owner that embeds its
 *    job frees itself in done(CANCELLED) instead.
 *  - Shutdown: offload_free() stops taking jobs, asks running jobs to stop
 *    (offload_cancelled() turns true), joins the threads, then calls
 *    done() for every job still in the pool: OFFLOAD_ABORTED for queued
 *    jobs and for jobs running at shutdown, OFFLOAD_DONE or
 *    OFFLOAD_CANCELLED for finished ones.
 *  - Return convention: enum offload_result; OFFLOAD_ESYS leaves errno.
 */
#ifndef FCGILAB_OFFLOAD_H
#define FCGILAB_OFFLOAD_H

#include <stdatomic.h>
#include <stddef.h>

enum offload_result {
	OFFLOAD_OK,
	OFFLOAD_EFULL,     /* the queue holds max_queue jobs: try later */
	OFFLOAD_EBUSY,     /* the job is already in the pool */
	OFFLOAD_ESHUTDOWN, /* offload_free() has begun */
	OFFLOAD_EINVAL,    /* a bad argument (0 threads, no work function) */
	OFFLOAD_ENOMEM,
	OFFLOAD_ESYS, /* eventfd or a thread could not be made; errno */
};

/* What done() is told. */
enum offload_status {
	OFFLOAD_DONE,      /* work() ran to the end: the result is good */
	OFFLOAD_CANCELLED, /* detached by offload_cancel(): discard it */
	OFFLOAD_ABORTED,   /* shutdown: never ran, or was asked to stop */
};

enum offload_cancel {
	OFFLOAD_CANCEL_IDLE,     /* not in the pool: nothing done */
	OFFLOAD_CANCEL_REMOVED,  /* taken out; done() will not be called */
	OFFLOAD_CANCEL_DETACHED, /* running: done(CANCELLED) will follow */
};

struct offload_job;
typedef void offload_work_fn(struct offload_job *job);
typedef void offload_done_fn(
    struct offload_job *job, enum offload_status status);

/* 40 bytes on LP64. Fields are private to offload. */
struct offload_job {
	struct offload_job *prev, *next; /* queue links */
	offload_work_fn *work;
	offload_done_fn *done;
	int state;       /* enum in offload.c, under the pool's lock */
	atomic_int stop; /* why work() should stop: cancel or shutdown */
};

struct offload_pool;

/* Start nthreads (>= 1) threads; at most max_queue (>= 1) jobs wait. */
enum offload_result offload_new(
    struct offload_pool **out, unsigned nthreads, size_t max_queue);

/* Shut down as the contract says, then free the pool. NULL is a no-op. */
void offload_free(struct offload_pool *pool);

/* The eventfd that turns readable when finished jobs wait for drain. */
int offload_fd(const struct offload_pool *pool);

/* Prepare a job (IDLE). done may be NULL. */
void offload_job_init(
    struct offload_job *job, offload_work_fn *work, offload_done_fn *done);

/* Queue an IDLE job. */
enum offload_result offload_submit(
    struct offload_pool *pool, struct offload_job *job);

/* Cancel as the contract says. */
enum offload_cancel offload_cancel(
    struct offload_pool *pool, struct offload_job *job);

/* For work(): true once the job was cancelled or the pool shuts down. */
int offload_cancelled(const struct offload_job *job);

/* Run done() for every finished job, on this (the owner) thread; done()
 * may submit or cancel jobs. Returns the number of callbacks made. */
size_t offload_drain(struct offload_pool *pool);

/* Jobs queued, running, and finished but not yet drained (a snapshot). */
void offload_counts(struct offload_pool *pool, size_t *queued, size_t *running,
    size_t *finished);

#endif
