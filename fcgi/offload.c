/* offload — a fixed thread pool for CPU work; contract in offload.h. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "offload.h"

enum job_state {
	JOB_IDLE,     /* the caller's */
	JOB_QUEUED,   /* on pool->queue */
	JOB_RUNNING,  /* on pool->running, work() under way */
	JOB_COMPLETE, /* on pool->finished, waiting for drain */
};

/* Reasons in job->stop. */
#define STOP_CANCEL   0x1
#define STOP_SHUTDOWN 0x2

struct job_list {
	struct offload_job *head, *tail;
	size_t len;
};

struct offload_pool {
	pthread_mutex_t mu; /* guards everything below but efd and threads */
	pthread_cond_t cv;  /* workers wait here for jobs or shutdown */
	struct job_list queue, running, finished;
	size_t max_queue;
	bool shutdown;
	int efd;
	unsigned nthreads; /* started */
	pthread_t *threads;
};

static void
list_append(struct job_list *l, struct offload_job *j)
{
	j->next = NULL;
	j->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	l->len++;
}

static void
list_remove(struct job_list *l, struct offload_job *j)
{
	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		l->head = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	else
		l->tail = j->prev;
	j->prev = j->next = NULL;
	l->len--;
}

static struct offload_job *
list_pop(struct job_list *l)
{
	struct offload_job *j = l->head;

	if (j != NULL)
		list_remove(l, j);
	return j;
}

static void
signal_loop(struct offload_pool *pool)
{
	uint64_t one = 1;
	ssize_t n;

	/* Fails only if the counter would overflow: it is readable then. */
	n = write(pool->efd, &one, sizeof(one));
	(void)n;
}

static void *
worker_main(void *arg)
{
	struct offload_pool *pool = arg;
	struct offload_job *job;
	bool was_empty;

	pthread_mutex_lock(&pool->mu);
	for (;;) {
		while (!pool->shutdown && pool->queue.head == NULL)
			pthread_cond_wait(&pool->cv, &pool->mu);
		if (pool->shutdown)
			break;
		job = list_pop(&pool->queue);
		job->state = JOB_RUNNING;
		list_append(&pool->running, job);
		pthread_mutex_unlock(&pool->mu);

		job->work(job);

		pthread_mutex_lock(&pool->mu);
		list_remove(&pool->running, job);
		job->state = JOB_COMPLETE;
		was_empty = pool->finished.head == NULL;
		list_append(&pool->finished, job);
		/* One write per empty-to-non-empty change: drain reads the
		 * eventfd before it empties the list, so none is lost. */
		if (was_empty)
			signal_loop(pool);
	}
	pthread_mutex_unlock(&pool->mu);
	return NULL;
}

/* Ask every thread to leave and join those started. */
static void
stop_threads(struct offload_pool *pool)
{
	struct offload_job *j;
	unsigned i;

	pthread_mutex_lock(&pool->mu);
	pool->shutdown = true;
	for (j = pool->running.head; j != NULL; j = j->next)
		atomic_fetch_or(&j->stop, STOP_SHUTDOWN);
	pthread_cond_broadcast(&pool->cv);
	pthread_mutex_unlock(&pool->mu);
	for (i = 0; i < pool->nthreads; i++)
		pthread_join(pool->threads[i], NULL);
	pool->nthreads = 0;
}

/* Start n threads with every signal blocked (they inherit the mask). */
static enum offload_result
start_threads(struct offload_pool *pool, unsigned n)
{
	sigset_t all, old;
	int err = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (pool->nthreads < n) {
		err = pthread_create(
		    &pool->threads[pool->nthreads], NULL, worker_main, pool);
		if (err != 0)
			break;
		pool->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		errno = err;
		return OFFLOAD_ESYS;
	}
	return OFFLOAD_OK;
}

enum offload_result
offload_new(struct offload_pool **out, unsigned nthreads, size_t max_queue)
{
	struct offload_pool *pool;
	enum offload_result r;
	int err;

	*out = NULL;
	if (nthreads == 0 || max_queue == 0)
		return OFFLOAD_EINVAL;
	if ((pool = calloc(1, sizeof(*pool))) == NULL)
		return OFFLOAD_ENOMEM;
	if ((pool->threads = calloc(nthreads, sizeof(*pool->threads))) ==
	    NULL) {
		free(pool);
		return OFFLOAD_ENOMEM;
	}
	pool->max_queue = max_queue;
	pool->efd = -1;
	pthread_mutex_init(&pool->mu, NULL);
	pthread_cond_init(&pool->cv, NULL);
	if ((pool->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		r = OFFLOAD_ESYS;
		goto fail;
	}
	if ((r = start_threads(pool, nthreads)) != OFFLOAD_OK)
		goto fail;
	*out = pool;
	return OFFLOAD_OK;
fail:
	err = errno;
	offload_free(pool);
	errno = err;
	return r;
}

static enum offload_status
final_status(const struct offload_job *job)
{
	int stop = atomic_load(&job->stop);

	if (stop & STOP_CANCEL)
		return OFFLOAD_CANCELLED;
	if (stop & STOP_SHUTDOWN)
		return OFFLOAD_ABORTED;
	return OFFLOAD_DONE;
}

/* Take the next job off l under the lock and make it the caller's. */
static struct offload_job *
take(struct offload_pool *pool, struct job_list *l, enum offload_status *st)
{
	struct offload_job *job;

	pthread_mutex_lock(&pool->mu);
	if ((job = list_pop(l)) != NULL) {
		job->state = JOB_IDLE;
		*st = l == &pool->queue ? OFFLOAD_ABORTED : final_status(job);
	}
	pthread_mutex_unlock(&pool->mu);
	return job;
}

void
offload_free(struct offload_pool *pool)
{
	struct offload_job *job;
	enum offload_status st;

	if (pool == NULL)
		return;
	stop_threads(pool);
	/* Single-threaded from here; done() may still call submit (refused)
	 * or cancel, which take the lock. */
	while ((job = take(pool, &pool->queue, &st)) != NULL)
		if (job->done != NULL)
			job->done(job, st);
	while ((job = take(pool, &pool->finished, &st)) != NULL)
		if (job->done != NULL)
			job->done(job, st);
	if (pool->efd != -1)
		close(pool->efd);
	pthread_cond_destroy(&pool->cv);
	pthread_mutex_destroy(&pool->mu);
	free(pool->threads);
	free(pool);
}

int
offload_fd(const struct offload_pool *pool)
{
	return pool->efd;
}

void
offload_job_init(
    struct offload_job *job, offload_work_fn *work, offload_done_fn *done)
{
	job->prev = job->next = NULL;
	job->work = work;
	job->done = done;
	job->state = JOB_IDLE;
	atomic_init(&job->stop, 0);
}

enum offload_result
offload_submit(struct offload_pool *pool, struct offload_job *job)
{
	enum offload_result r = OFFLOAD_OK;

	if (job->work == NULL)
		return OFFLOAD_EINVAL;
	pthread_mutex_lock(&pool->mu);
	if (pool->shutdown)
		r = OFFLOAD_ESHUTDOWN;
	else if (job->state != JOB_IDLE)
		r = OFFLOAD_EBUSY;
	else if (pool->queue.len >= pool->max_queue)
		r = OFFLOAD_EFULL;
	else {
		atomic_store(&job->stop, 0);
		job->state = JOB_QUEUED;
		list_append(&pool->queue, job);
		pthread_cond_signal(&pool->cv);
	}
	pthread_mutex_unlock(&pool->mu);
	return r;
}

enum offload_cancel
offload_cancel(struct offload_pool *pool, struct offload_job *job)
{
	enum offload_cancel r = OFFLOAD_CANCEL_IDLE;

	pthread_mutex_lock(&pool->mu);
	switch ((enum job_state)job->state) {
	case JOB_IDLE:
		break;
	case JOB_QUEUED:
		list_remove(&pool->queue, job);
		job->state = JOB_IDLE;
		r = OFFLOAD_CANCEL_REMOVED;
		break;
	case JOB_RUNNING:
		atomic_fetch_or(&job->stop, STOP_CANCEL);
		r = OFFLOAD_CANCEL_DETACHED;
		break;
	case JOB_COMPLETE:
		list_remove(&pool->finished, job);
		job->state = JOB_IDLE;
		r = OFFLOAD_CANCEL_REMOVED;
		break;
	}
	pthread_mutex_unlock(&pool->mu);
	return r;
}

int
offload_cancelled(const struct offload_job *job)
{
	return atomic_load(&job->stop) != 0;
}

size_t
offload_drain(struct offload_pool *pool)
{
	struct offload_job *job;
	enum offload_status st;
	uint64_t count;
	size_t n = 0;
	ssize_t rd;

	/* Read before emptying the list (see worker_main). */
	rd = read(pool->efd, &count, sizeof(count));
	(void)rd;
	while ((job = take(pool, &pool->finished, &st)) != NULL) {
		n++;
		if (job->done != NULL)
			job->done(job, st);
	}
	return n;
}

void
offload_counts(struct offload_pool *pool, size_t *queued, size_t *running,
    size_t *finished)
{
	pthread_mutex_lock(&pool->mu);
	if (queued != NULL)
		*queued = pool->queue.len;
	if (running != NULL)
		*running = pool->running.len;
	if (finished != NULL)
		*finished = pool->finished.len;
	pthread_mutex_unlock(&pool->mu);
}
