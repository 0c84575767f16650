/* jobs_run — the built-in tasks' work; contract in jobs_run.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpuwork.h"
#include "jobs_run.h"

/* The number params[name] within [lo, hi], or false. */
static bool
param_number(
    const json_t *params, const char *name, double lo, double hi, double *x)
{
	const json_t *v = json_object_get(params, name);

	if (!json_is_number(v))
		return false;
	*x = json_number_value(v);
	return *x >= lo && *x <= hi;
}

static enum jobs_run_result
bad_params(const char *task, char **error)
{
	if (asprintf(error, "%s: invalid params", task) < 0)
		*error = NULL;
	return JOBS_RUN_FAILED;
}

/* Sleep ms, in slices, unless told to stop; false when stopped. */
static bool
sleep_ms(uint64_t ms, const struct jobs_run_ctl *ctl)
{
	struct timespec ts, left;
	uint64_t slice;

	while (ms > 0) {
		if (ctl != NULL && ctl->should_stop != NULL &&
		    ctl->should_stop(ctl->arg))
			return false;
		slice = ms < JOBS_RUN_SLICE_MS ? ms : JOBS_RUN_SLICE_MS;
		ts.tv_sec = (time_t)(slice / 1000);
		ts.tv_nsec = (long)(slice % 1000) * 1000000L;
		while (nanosleep(&ts, &left) != 0 && errno == EINTR)
			ts = left;
		ms -= slice;
	}
	return true;
}

static enum jobs_run_result
run_wait(const struct jobs_task *t, const json_t *params,
    const struct jobs_run_ctl *ctl, char **result, char **error)
{
	const struct app_config *cfg = t->cfg;
	double secs;

	if (!param_number(params, "secs", 0, cfg->max_secs, &secs))
		return bad_params(t->name, error);
	if (!sleep_ms((uint64_t)(secs * 1000.0 + 0.5), ctl))
		return JOBS_RUN_ABANDONED;
	*result = app_wait_body(secs, NULL);
	return *result ? JOBS_RUN_DONE : JOBS_RUN_FAILED;
}

static enum jobs_run_result
run_cpu(const struct jobs_task *t, const json_t *params,
    const struct jobs_run_ctl *ctl, char **result, char **error)
{
	const struct app_config *cfg = t->cfg;
	unsigned long primes;
	double n;

	if (!param_number(params, "n", 0, (double)cfg->max_n, &n))
		return bad_params(t->name, error);
	primes = cpu_count_primes((unsigned long)n);
	if (ctl != NULL && ctl->should_stop != NULL &&
	    ctl->should_stop(ctl->arg))
		return JOBS_RUN_ABANDONED;
	*result = app_cpu_body((long long)n, primes, NULL);
	return *result ? JOBS_RUN_DONE : JOBS_RUN_FAILED;
}

void
jobs_run_add_builtins(struct jobs_tasks *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		if (strcmp(ts->t[i].name, "wait") == 0)
			ts->t[i].run = run_wait;
		else if (strcmp(ts->t[i].name, "cpu") == 0)
			ts->t[i].run = run_cpu;
	}
}
