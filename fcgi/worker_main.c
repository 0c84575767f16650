/*
 * fcgilab-worker — the lesson's background worker (Celery, ARQ, Dramatiq):
 * takes one job at a time from the jobs store and does the work, blocking
 * as it likes, while the mux answers requests.
 *
 * main() wires things together:
 *  - the store (jobstore.h: --queue, an SQLite file or redis://HOST:PORT),
 *    one connection for the main thread and one for the heartbeat; Redis's
 *    password from --queue-password-file, a systemd credential, the
 *    environment or the URL (redis_auth.h), erased here once both are open;
 *    a password the server refuses ends the worker at start (exit 2);
 *  - the task registry (jobs.h) with the built-in run functions
 *    (jobs_run.h);
 *  - claim with a lease (--lease, default 10 s), renewed by a heartbeat
 *    thread every third of it while the job runs; a lost lease (the worker
 *    stalled past it and another took the job) stops the job, and its
 *    result is never written (finish is fenced by the lease's token);
 *  - at-least-once: a worker killed mid-job leaves its lease to expire;
 *    the next claim anywhere puts the job back (or fails it after
 *    max_attempts);
 *  - SIGTERM, SIGINT, SIGQUIT or SIGHUP: finish the job in hand, then
 *    exit 0. Idle, it polls every --poll ms and wakes at once for a
 *    signal.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jobs.h"
#include "jobs_run.h"
#include "jobstore.h"
#include "jobstore_open.h"
#include "num.h"
#include "opts.h"
#include "redis_auth.h"
#include "stats_task.h"

#define FINISH_TRIES 5

struct opts {
	const char *queue; /* argv's: its password is masked (redis_auth.h) */
	const char *password_file;
	const char *name;
	const char *uploads;
	unsigned lease_ms;
	uint32_t poll_ms;
	int verbose;
};

/* The heartbeat: renews the lease of the job in hand. */
struct heartbeat {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	struct jobstore *store; /* the heartbeat's own connection */
	uint32_t lease_ms;
	bool active, quit;
	uint64_t gen; /* which job: renewals of an old one are dropped */
	char id[JOBS_ID_LEN + 1];
	struct jobstore_lease lease;
	atomic_bool lost;
};

static char self[160]; /* the worker's name in logs and lease tokens */

/* One line on stderr in one write(2): the W workers share one log file
 * (O_APPEND), and lines written in pieces would interleave. */
__attribute__((format(printf, 1, 2))) static void
logf_(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n, m;

	n = snprintf(line, sizeof(line), "fcgilab-worker[%s]: ", self);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		n = 0;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n = (size_t)(n + m) < sizeof(line) - 1 ? n + m : (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

/* The options, their limits and their help: one line each (opts.h). */
static enum opts_result
parse_args(int argc, char **argv, struct opts *o, struct app_config *cfg)
{
	const struct opt table[] = {
	    {"queue", 'q', OPT_STRING, &o->queue, 0, 0, 0, "URL",
	        "the store: an SQLite file (PATH or sqlite:PATH) or "
	        "redis://[USER[:PASSWORD]@]HOST[:PORT][/DB]; required"},
	    {"queue-password-file", 0, OPT_STRING, &o->password_file, 0, 0, 0,
	        "FILE",
	        "Redis's password, from FILE (see also "
	        "FCGILAB_REDIS_PASSWORD, $CREDENTIALS_DIRECTORY)"},
	    {"name", 'n', OPT_STRING, &o->name, 0, 0, 0, "NAME",
	        "name in logs and leases; by default HOST:PID"},
	    {"uploads", 'u', OPT_STRING, &o->uploads, 0, 0, 0, "DIR",
	        "the mux's upload directory, for \"stats\" jobs"},
	    {"lease", 0, OPT_MS, &o->lease_ms, 0, 0.3, 3600, "SECS",
	        "lease per job, renewed every third"},
	    {"poll", 0, OPT_INT, &o->poll_ms, sizeof(uint32_t), 1, 60000, "MS",
	        "how often an idle worker looks"},
	    {"max-secs", 0, OPT_FLOAT, &cfg->max_secs, 0, 0, 86400, "S",
	        "largest secs a job may hold"},
	    {"max-n", 0, OPT_INT, &cfg->max_n, sizeof(long long), 1,
	        1099511627776.0, "N", "largest n a job may hold"},
	    {"verbose", 'v', OPT_FLAG, &o->verbose, sizeof(int), 0, 0, NULL,
	        "log every claim"},
	};
	const struct opts_prog prog = {"fcgilab-worker",
	    "--queue URL [OPTIONS]",
	    "The background worker of fcgilab: takes one job at a time from "
	    "the\njobs store and does the work (\"wait\": a blocking sleep, "
	    "\"cpu\": counting\nprimes), with a lease it renews while it "
	    "works.\n",
	    "SIGTERM (or SIGINT, SIGQUIT, SIGHUP): finish the job in hand, "
	    "then "
	    "exit 0.\n",
	    table, sizeof(table) / sizeof(table[0]), 0};
	enum opts_result res;
	int at;

	if ((res = opts_parse(&prog, argc, argv, &at)) == OPTS_OK &&
	    o->queue == NULL) {
		fprintf(stderr,
		    "fcgilab-worker: --queue is needed (see "
		    "fcgilab-worker --help)\n");
		res = OPTS_BAD;
	}
	return res;
}

/* --- signals: blocked everywhere, taken with sigtimedwait ----------------- */

static sigset_t stop_sigs;
static bool stopping;

/* Wait up to ms for a stop signal (0: just look). True once asked. */
static bool
stop_requested(uint32_t ms)
{
	struct timespec ts = {
	    (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	int sig;

	if (stopping)
		return true;
	sig = sigtimedwait(&stop_sigs, NULL, &ts);
	if (sig > 0) {
		logf_("%s: finishing", strsignal(sig));
		stopping = true;
	}
	return stopping;
}

/* --- the heartbeat thread ------------------------------------------------- */

static void
hb_renew(struct heartbeat *hb, uint64_t gen)
{
	char id[JOBS_ID_LEN + 1];
	struct jobstore_lease lease;
	enum jobstore_result r;

	memcpy(id, hb->id, sizeof(id));
	lease = hb->lease;
	pthread_mutex_unlock(&hb->mu);
	r = hb->store->ops->renew(hb->store, id, &lease, hb->lease_ms);
	pthread_mutex_lock(&hb->mu);
	if (gen != hb->gen)
		return;
	if (r == JOBSTORE_LOST) {
		atomic_store(&hb->lost, true);
		logf_("job %s: lease lost; stopping it", id);
	} else if (r != JOBSTORE_OK) {
		logf_("job %s: renewing the lease: %s", id,
		    jobstore_error(hb->store));
	}
}

static void *
hb_main(void *arg)
{
	struct heartbeat *hb = arg;
	struct timespec at;
	uint64_t gen, every = hb->lease_ms / 3;

	pthread_mutex_lock(&hb->mu);
	while (!hb->quit) {
		if (!hb->active) {
			pthread_cond_wait(&hb->cv, &hb->mu);
			continue;
		}
		gen = hb->gen;
		clock_gettime(CLOCK_REALTIME, &at);
		at.tv_sec += (time_t)(every / 1000);
		at.tv_nsec += (long)(every % 1000) * 1000000L;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		while (!hb->quit && hb->active && hb->gen == gen &&
		    pthread_cond_timedwait(&hb->cv, &hb->mu, &at) != ETIMEDOUT)
			;
		if (!hb->quit && hb->active && hb->gen == gen)
			hb_renew(hb, gen);
	}
	pthread_mutex_unlock(&hb->mu);
	return NULL;
}

static void
hb_begin(
    struct heartbeat *hb, const char *id, const struct jobstore_lease *lease)
{
	pthread_mutex_lock(&hb->mu);
	memcpy(hb->id, id, sizeof(hb->id));
	hb->lease = *lease;
	hb->gen++;
	hb->active = true;
	atomic_store(&hb->lost, false);
	pthread_cond_signal(&hb->cv);
	pthread_mutex_unlock(&hb->mu);
}

static void
hb_end(struct heartbeat *hb)
{
	pthread_mutex_lock(&hb->mu);
	hb->active = false;
	hb->gen++;
	pthread_cond_signal(&hb->cv);
	pthread_mutex_unlock(&hb->mu);
}

static bool
hb_lost(void *arg)
{
	struct heartbeat *hb = arg;

	return atomic_load(&hb->lost);
}

/* --- one job -------------------------------------------------------------- */

static double
secs_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Write the outcome; a store that fails is tried again for a while (the
 * lease still holds), then the job is left to be retried elsewhere. */
static void
finish(struct jobstore *st, const struct jobs_record *job,
    const struct jobstore_lease *lease, enum jobs_status status,
    const char *result, const char *error)
{
	enum jobstore_result r = JOBSTORE_EIO;
	int i;

	for (i = 0; i < FINISH_TRIES && r == JOBSTORE_EIO; i++) {
		if (i > 0)
			sleep(1);
		r = st->ops->finish(st, job->id, lease, status, result, error);
	}
	if (r == JOBSTORE_LOST)
		logf_("job %s: the lease was lost: result discarded", job->id);
	else if (r != JOBSTORE_OK)
		logf_("job %s: storing the result: %s", job->id,
		    jobstore_error(st));
}

static void
run_job(struct jobstore *st, struct heartbeat *hb, const struct jobs_tasks *ts,
    const struct jobs_record *job, const struct jobstore_lease *lease)
{
	const struct jobs_task *t = jobs_tasks_find(ts, job->task);
	struct jobs_run_ctl ctl = {hb_lost, hb};
	enum jobs_run_result res = JOBS_RUN_FAILED;
	char *result = NULL, *error = NULL;
	struct timespec t0;
	json_t *params;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	params = json_loads(job->params ? job->params : "{}", 0, NULL);
	hb_begin(hb, job->id, lease);
	if (t == NULL || t->run == NULL) {
		if (asprintf(&error, "unknown task '%s'", job->task) < 0)
			error = NULL;
	} else if (!json_is_object(params)) {
		error = strdup("params are not a JSON object");
	} else {
		res = t->run(t, params, &ctl, &result, &error);
	}
	hb_end(hb);
	json_decref(params);
	if (res == JOBS_RUN_ABANDONED || atomic_load(&hb->lost)) {
		logf_("job %s (%s) attempt %d: abandoned, lease lost", job->id,
		    job->task, job->attempts);
	} else {
		finish(st, job, lease,
		    res == JOBS_RUN_DONE ? JOBS_DONE : JOBS_FAILED, result,
		    error);
		logf_("job %s (%s) attempt %d/%d: %s in %.3f s%s%s", job->id,
		    job->task, job->attempts, job->max_attempts,
		    res == JOBS_RUN_DONE ? "done" : "failed", secs_since(&t0),
		    error ? ": " : "", error ? error : "");
	}
	free(result);
	free(error);
}

/* --- main ------------------------------------------------------------------
 */

/* Open the store, waiting (until a stop signal) while it is unreachable.
 * NULL when stopped, when the URL names no store, or when the server
 * refuses the password (a mistake to fix, not to wait out). */
static struct jobstore *
open_store(const char *url, const char *password)
{
	char err[JOBSTORE_ERR_MAX];
	struct jobstore *s;
	enum jobstore_result r;
	bool said = false;

	while ((r = jobstore_open(url, password, &s, err, sizeof(err))) !=
	    JOBSTORE_OK) {
		if (r == JOBSTORE_EINVAL || r == JOBSTORE_EAUTH) {
			fprintf(stderr, "fcgilab-worker: %s\n", err);
			return NULL;
		}
		if (!said)
			logf_("%s; retrying every second", err);
		said = true;
		if (stop_requested(1000))
			return NULL;
	}
	return s;
}

static void
work(struct jobstore *st, struct heartbeat *hb, const struct jobs_tasks *ts,
    const struct opts *o)
{
	struct jobstore_lease lease;
	struct jobs_record job;
	enum jobstore_result r;
	bool said = false;

	while (!stop_requested(0)) {
		r = st->ops->claim(st, self, o->lease_ms, &job, &lease);
		switch (r) {
		case JOBSTORE_OK:
			said = false;
			if (o->verbose)
				logf_("job %s (%s): claimed, attempt %d",
				    job.id, job.task, job.attempts);
			run_job(st, hb, ts, &job, &lease);
			jobs_record_free(&job);
			break;
		case JOBSTORE_EMPTY:
			stop_requested(o->poll_ms);
			break;
		case JOBSTORE_NOTFOUND:
		case JOBSTORE_CONFLICT:
		case JOBSTORE_LOST:
		case JOBSTORE_EIO:
		case JOBSTORE_ENOMEM:
		case JOBSTORE_EINVAL:
		case JOBSTORE_EAUTH:
		case JOBSTORE_FULL:
			if (!said)
				logf_("claiming: %s", jobstore_error(st));
			said = true;
			stop_requested(1000);
			break;
		}
	}
}

int
main(int argc, char **argv)
{
	enum opts_result res;
	struct opts o = {NULL, NULL, NULL, NULL, 10000, 100, 0};
	char err[JOBSTORE_ERR_MAX];
	enum redis_auth_source src;
	struct redis_auth rauth;
	struct heartbeat hb;
	struct jobstore *st = NULL;
	struct jobs_tasks tasks;
	struct app_config cfg;
	char host[64] = "localhost";
	int rc = 1;

	app_config_init(&cfg);
	if ((res = parse_args(argc, argv, &o, &cfg)) != OPTS_OK)
		return res == OPTS_EXIT ? 0 : 2;
	/* first: it masks the URL's password in our argv (o.queue is argv's
	 * own text) */
	if (redis_auth_load(&rauth, o.password_file, (char *)o.queue, err,
	        sizeof(err)) != REDIS_AUTH_OK) {
		fprintf(stderr, "fcgilab-worker: %s\n", err);
		return 2;
	}
	gethostname(host, sizeof(host) - 1);
	if (o.name != NULL)
		snprintf(self, sizeof(self), "%s", o.name);
	else
		snprintf(self, sizeof(self), "%s:%ld", host, (long)getpid());
	/* before any thread: every thread inherits the block */
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGINT);
	/* Debian's multiwatch 1.0 sends the signal before the one -s names
	 * (-s TERM delivers SIGQUIT): take every stop signal alike. */
	sigaddset(&stop_sigs, SIGQUIT);
	sigaddset(&stop_sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	jobs_tasks_init(&tasks, &cfg);
	jobs_run_add_builtins(&tasks);
	/* without --uploads, "stats" jobs fail here ("unknown task") */
	if (o.uploads != NULL)
		stats_task_add(&tasks, o.uploads);

	memset(&hb, 0, sizeof(hb));
	hb.lease_ms = o.lease_ms;
	if ((st = open_store(o.queue, redis_auth_password(&rauth))) == NULL ||
	    (hb.store = open_store(o.queue, redis_auth_password(&rauth))) ==
	        NULL) {
		rc = stopping ? 0 : 2;
		goto out;
	}
	src = rauth.source;
	redis_auth_wipe(&rauth); /* each store keeps its own copy */
	pthread_mutex_init(&hb.mu, NULL);
	pthread_cond_init(&hb.cv, NULL);
	if ((errno = pthread_create(&hb.thread, NULL, hb_main, &hb)) != 0) {
		fprintf(
		    stderr, "fcgilab-worker: thread: %s\n", strerror(errno));
		goto out;
	}
	logf_("ready (%s store%s%s, lease %.1f s)", st->ops->name,
	    src != REDIS_AUTH_NONE ? ", password from " : "",
	    src != REDIS_AUTH_NONE ? redis_auth_source_name(src) : "",
	    o.lease_ms / 1000.0);
	work(st, &hb, &tasks, &o);
	pthread_mutex_lock(&hb.mu);
	hb.quit = true;
	pthread_cond_signal(&hb.cv);
	pthread_mutex_unlock(&hb.mu);
	pthread_join(hb.thread, NULL);
	logf_("stopped");
	rc = 0;
out:
	redis_auth_wipe(&rauth);
	jobstore_close(hb.store);
	jobstore_close(st);
	return rc;
}
