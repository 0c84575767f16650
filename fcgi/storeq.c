/* storeq — the mux's store thread; contract in storeq.h. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "storeq.h"

struct op_list {
	struct storeq_op *head, *tail;
	size_t len;
};

struct storeq {
	pthread_mutex_t mu; /* guards pending, finished, stopping, counters */
	pthread_cond_t cv;  /* the thread waits here for work */
	struct op_list pending, finished;
	size_t max_pending, max_batch;
	uint64_t max_queued;
	bool stopping;
	int efd;
	pthread_t thread;
	struct jobstore *store; /* the thread's */
	struct storeq_counters counters;
	/* the thread's scratch for one batch of enqueues */
	struct jobs_new *batch;
	uint64_t counts_us; /* the thread's: the last COUNTS, timed */
};

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
list_append(struct op_list *l, struct storeq_op *op)
{
	op->next = NULL;
	if (l->tail != NULL)
		l->tail->next = op;
	else
		l->head = op;
	l->tail = op;
	l->len++;
}

static struct op_list
list_take(struct op_list *l)
{
	struct op_list all = *l;

	l->head = l->tail = NULL;
	l->len = 0;
	return all;
}

struct storeq_op *
storeq_op_new(enum storeq_kind kind, storeq_done_fn *done, void *owner)
{
	struct storeq_op *op = calloc(1, sizeof(*op));

	if (op == NULL)
		return NULL;
	op->kind = kind;
	op->done = done;
	op->owner = owner;
	return op;
}

void
storeq_op_free(struct storeq_op *op)
{
	if (op == NULL)
		return;
	jobs_new_free(&op->job);
	jobs_record_free(&op->rec);
	jobs_page_free(&op->page);
	free(op);
}

/* --- the store thread ---------------------------------------------------- */

static void
note_error(struct storeq *q, struct storeq_op *op)
{
	if (op->res == JOBSTORE_EIO) {
		snprintf(
		    op->err, sizeof(op->err), "%s", jobstore_error(q->store));
		q->counters.errors++; /* under mu: see finish_batch */
	}
}

/* Commit up to max_batch ENQUEUEs of the list in one transaction. */
static void
run_enqueues(struct storeq *q, struct storeq_op **ops, size_t n)
{
	enum jobstore_result res;
	size_t i, stored = 0;

	for (i = 0; i < n; i++)
		q->batch[i] = ops[i]->job; /* shallow: the strings stay */
	res = q->store->ops->enqueue(
	    q->store, q->batch, n, q->max_queued, &stored);
	for (i = 0; i < n; i++) {
		/* the first `stored` found room; the others, none */
		ops[i]->res =
		    res == JOBSTORE_OK && i >= stored ? JOBSTORE_FULL : res;
		ops[i]->job.created_us = q->batch[i].created_us;
	}
}

static void
run_one(struct storeq *q, struct storeq_op *op)
{
	struct jobstore *s = q->store;

	switch (op->kind) {
	case STOREQ_GET:
		op->res = s->ops->get(s, op->id, &op->rec);
		break;
	case STOREQ_CANCEL:
		op->res = s->ops->cancel(s, op->id, &op->rec);
		break;
	case STOREQ_LIST:
		op->res = s->ops->list(s, &op->q, &op->page);
		break;
	case STOREQ_COUNTS: {
		uint64_t t0 = mono_us();

		op->res = s->ops->counts(s, &op->counts);
		q->counts_us = mono_us() - t0;
		break;
	}
	case STOREQ_EXPIRE:
		op->res = s->ops->expire(s, op->ttl_us, op->max, &op->expired);
		break;
	case STOREQ_ENQUEUE: /* batched by run_batch */
		break;
	}
}

/* Run one batch taken from pending: enqueues first, in commits of up to
 * max_batch jobs, then the rest in order. */
static void
run_batch(struct storeq *q, struct op_list *work, struct storeq_op **enq,
    uint64_t *commits, uint64_t *biggest)
{
	struct storeq_op *op;
	size_t n = 0;

	for (op = work->head; op != NULL; op = op->next) {
		if (op->kind != STOREQ_ENQUEUE)
			continue;
		enq[n++] = op;
		if (n == q->max_batch) {
			run_enqueues(q, enq, n);
			(*commits)++;
			*biggest = n > *biggest ? n : *biggest;
			n = 0;
		}
	}
	if (n > 0) {
		run_enqueues(q, enq, n);
		(*commits)++;
		*biggest = n > *biggest ? n : *biggest;
	}
	for (op = work->head; op != NULL; op = op->next)
		run_one(q, op);
}

static void
signal_loop(struct storeq *q)
{
	uint64_t one = 1;
	ssize_t n;

	n = write(q->efd, &one, sizeof(one)); /* fails only when readable */
	(void)n;
}

static void
finish_batch(
    struct storeq *q, struct op_list *work, uint64_t commits, uint64_t biggest)
{
	struct storeq_op *op, *next;
	bool was_empty;

	pthread_mutex_lock(&q->mu);
	q->counters.commits += commits;
	q->counters.counts_us = q->counts_us;
	if (biggest > q->counters.max_batch)
		q->counters.max_batch = biggest;
	was_empty = q->finished.head == NULL;
	for (op = work->head; op != NULL; op = next) {
		next = op->next;
		q->counters.ops++;
		if (op->kind == STOREQ_ENQUEUE && op->res == JOBSTORE_OK)
			q->counters.enqueued++;
		if (op->kind == STOREQ_ENQUEUE && op->res == JOBSTORE_FULL)
			q->counters.full++;
		note_error(q, op);
		list_append(&q->finished, op);
	}
	/* one write per empty-to-non-empty change, as offload does */
	if (was_empty && q->finished.head != NULL)
		signal_loop(q);
	pthread_mutex_unlock(&q->mu);
}

static void *
thread_main(void *arg)
{
	struct storeq *q = arg;
	struct storeq_op **enq;
	struct op_list work;
	uint64_t commits, biggest;

	enq = calloc(q->max_batch, sizeof(*enq));
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->stopping && q->pending.head == NULL)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->pending.head == NULL)
			break; /* stopping, and everything is done */
		work = list_take(&q->pending);
		pthread_mutex_unlock(&q->mu);
		commits = biggest = 0;
		if (enq != NULL) {
			run_batch(q, &work, enq, &commits, &biggest);
		} else { /* no scratch: each job its own failure */
			for (struct storeq_op *op = work.head; op;
			     op = op->next)
				op->res = JOBSTORE_ENOMEM;
		}
		finish_batch(q, &work, commits, biggest);
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	free(enq);
	return NULL;
}

/* --- the loop's side ----------------------------------------------------- */

enum storeq_result
storeq_new(struct storeq **out, struct jobstore *store, size_t max_pending,
    size_t max_batch, uint64_t max_queued)
{
	sigset_t all, old;
	struct storeq *q;
	int err;

	*out = NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->batch = calloc(max_batch, sizeof(*q->batch))) == NULL) {
		free(q);
		jobstore_close(store);
		return STOREQ_ENOMEM;
	}
	q->store = store;
	q->max_pending = max_pending;
	q->max_batch = max_batch;
	q->max_queued = max_queued;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	if ((q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		goto fail;
	/* signals belong to the loop's signalfd, never to this thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&q->thread, NULL, thread_main, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		close(q->efd);
		errno = err;
		goto fail;
	}
	*out = q;
	return STOREQ_OK;
fail:
	err = errno;
	jobstore_close(store);
	free(q->batch);
	free(q);
	errno = err;
	return STOREQ_ESYS;
}

int
storeq_fd(const struct storeq *q)
{
	return q->efd;
}

enum storeq_result
storeq_submit(struct storeq *q, struct storeq_op *op)
{
	pthread_mutex_lock(&q->mu);
	if (q->pending.len >= q->max_pending || q->stopping) {
		pthread_mutex_unlock(&q->mu);
		return STOREQ_EFULL;
	}
	list_append(&q->pending, op);
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return STOREQ_OK;
}

size_t
storeq_drain(struct storeq *q)
{
	struct storeq_op *op, *next;
	struct op_list done;
	uint64_t v;
	size_t n = 0;
	ssize_t r;

	r = read(q->efd, &v, sizeof(v)); /* before taking the list */
	(void)r;
	pthread_mutex_lock(&q->mu);
	done = list_take(&q->finished);
	pthread_mutex_unlock(&q->mu);
	for (op = done.head; op != NULL; op = next) {
		next = op->next;
		op->next = NULL;
		op->done(op);
		n++;
	}
	return n;
}

void
storeq_counters(struct storeq *q, struct storeq_counters *out)
{
	pthread_mutex_lock(&q->mu);
	*out = q->counters;
	pthread_mutex_unlock(&q->mu);
}

void
storeq_free(struct storeq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	storeq_drain(q);
	jobstore_close(q->store);
	close(q->efd);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q->batch);
	free(q);
}
