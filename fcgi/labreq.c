/* labreq — the lab page's run requests; contract in labreq.h. */
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labreq.h"

static const char *const scenarios[] = {
    "wait", "cpu", "jobs", "blocking", "overload"};

__attribute__((format(printf, 3, 4))) static int
fail(char **err, int *status, const char *fmt, ...)
{
	char msg[256];
	json_t *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = json_pack("{s:s}", "detail", msg);
	*err = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (*status == 0)
		*status = 422;
	return -1;
}

/* A whole JSON number in [lo, hi]. */
static int
get_uint(const json_t *v, long long lo, long long hi, long long *out)
{
	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return *out >= lo && *out <= hi ? 0 : -1;
}

/* "D[D][.D[D]]": its value in hundredths in *v, or -1. */
static int
decimal(const char *s, size_t len, long *v)
{
	size_t i = 0, intd = 0, frac = 0;
	long whole = 0, part = 0;

	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, intd++)
		whole = whole * 10 + (s[i] - '0');
	if (intd == 0 || intd > 2)
		return -1;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, frac++)
			part = part * 10 + (s[i] - '0');
		if (frac == 0 || frac > 2)
			return -1;
		if (frac == 1)
			part *= 10;
	}
	if (i != len)
		return -1;
	*v = whole * 100 + part;
	return 0;
}

/* "S" or "A..B", 0 <= A <= B <= LABREQ_SECS_MAX. */
static int
check_secs(const char *s, size_t len)
{
	const char *dots;
	long a, b;

	if (len == 0 || len >= sizeof(((struct labreq *)0)->secs) ||
	    memchr(s, '\0', len) != NULL)
		return -1;
	if ((dots = strstr(s, "..")) == NULL)
		return decimal(s, len, &a) == 0 && a <= 100 * LABREQ_SECS_MAX
		    ? 0
		    : -1;
	if (decimal(s, (size_t)(dots - s), &a) != 0 ||
	    decimal(dots + 2, len - (size_t)(dots - s) - 2, &b) != 0)
		return -1;
	return a <= b && b <= 100 * LABREQ_SECS_MAX ? 0 : -1;
}

static int
field(const char *key, json_t *v, struct labreq *r, char **err, int *status)
{
	long long x;
	size_t i;

	if (strcmp(key, "scenario") == 0) {
		for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), scenarios[i]) == 0) {
				snprintf(r->scenario, sizeof(r->scenario), "%s",
				    scenarios[i]);
				return 0;
			}
		return fail(err, status,
		    "scenario must be one of wait, cpu, jobs, blocking, "
		    "overload");
	}
	if (strcmp(key, "pools") == 0) {
		if (!json_is_array(v) || json_array_size(v) < 1 ||
		    json_array_size(v) > LABREQ_POOLS_MAX)
			return fail(err, status,
			    "pools must be a list of 1 to %d pool sizes",
			    LABREQ_POOLS_MAX);
		for (i = 0; i < json_array_size(v); i++) {
			if (get_uint(json_array_get(v, i), 1, LABREQ_POOL_MAX,
			        &x) != 0)
				return fail(err, status,
				    "each pool size must be a whole number "
				    "from 1 to %d",
				    LABREQ_POOL_MAX);
			r->pools[i] = (unsigned)x;
		}
		r->npools = json_array_size(v);
		return 0;
	}
	if (strcmp(key, "n") == 0) {
		if (get_uint(v, 1, LABREQ_N_MAX, &x) != 0)
			return fail(err, status,
			    "n must be a whole number from 1 to %d",
			    LABREQ_N_MAX);
		r->n = (unsigned)x;
		return 0;
	}
	if (strcmp(key, "secs") == 0) {
		if (!json_is_string(v) ||
		    check_secs(json_string_value(v), json_string_length(v)) !=
		        0)
			return fail(err, status,
			    "secs must be \"S\" or \"A..B\", seconds from 0 "
			    "to %d with at most 2 decimals",
			    LABREQ_SECS_MAX);
		snprintf(r->secs, sizeof(r->secs), "%s", json_string_value(v));
		return 0;
	}
	if (strcmp(key, "seed") == 0) {
		if (json_is_null(v))
			return 0;
		if (get_uint(v, 0, 2147483647, &x) != 0)
			return fail(err, status,
			    "seed must be null or a whole number from 0 to "
			    "2147483647");
		r->seed = x;
		return 0;
	}
	if (strcmp(key, "timeout") == 0) {
		double t = json_is_number(v) ? json_number_value(v) : NAN;

		if (!(t >= 0.5 && t <= LABREQ_TIMEOUT_MAX))
			return fail(err, status,
			    "timeout must be a number of seconds from 0.5 to "
			    "%d",
			    LABREQ_TIMEOUT_MAX);
		snprintf(r->timeout, sizeof(r->timeout), "%g", t);
		return 0;
	}
	if (strcmp(key, "cpu") == 0) {
		if (get_uint(v, 1000, LABREQ_CPU_MAX, &x) != 0)
			return fail(err, status,
			    "cpu must be a whole number from 1000 to %d",
			    LABREQ_CPU_MAX);
		r->cpu = (unsigned)x;
		return 0;
	}
	return fail(err, status, "unknown field \"%.40s\"", key);
}

int
labreq_parse(
    const char *body, size_t len, struct labreq *out, char **err, int *status)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *key;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->scenario, sizeof(out->scenario), "wait");
	out->seed = -1;
	*err = NULL;
	*status = 0;
	if (len > LABREQ_BODY_MAX) {
		*status = 413;
		return fail(
		    err, status, "the body is over %d bytes", LABREQ_BODY_MAX);
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return fail(err, status, "the body is not JSON: %s", jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return fail(err, status, "the body must be a JSON object");
	}
	json_object_foreach(root, key, v)
	{
		if ((rc = field(key, v, out, err, status)) != 0)
			break;
	}
	json_decref(root);
	return rc;
}

static int push(char ***argv, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
push(char ***argv, size_t *n, const char *fmt, ...)
{
	char **grown;
	va_list ap;
	int rc;

	if ((grown = realloc(*argv, (*n + 2) * sizeof(**argv))) == NULL)
		return -1;
	*argv = grown;
	va_start(ap, fmt);
	rc = vasprintf(&grown[*n], fmt, ap);
	va_end(ap);
	if (rc < 0) {
		grown[*n] = NULL;
		return -1;
	}
	grown[++*n] = NULL;
	return 0;
}

char **
labreq_argv(const struct labreq *r, const char *fcgilab, const char *state,
    const char *out)
{
	char **argv = NULL, pools[LABREQ_POOLS_MAX * 8] = "";
	size_t n = 0, i, used = 0;
	int bad = 0;

	bad |= push(&argv, &n, "%s", fcgilab);
	bad |= push(&argv, &n, "compare");
	bad |= push(&argv, &n, "--state");
	bad |= push(&argv, &n, "%s", state);
	bad |= push(&argv, &n, "--out");
	bad |= push(&argv, &n, "%s", out);
	bad |= push(&argv, &n, "--json");
	bad |= push(&argv, &n, "--gauge");
	bad |= push(&argv, &n, "--scenario");
	bad |= push(&argv, &n, "%s", r->scenario);
	for (i = 0; i < r->npools; i++)
		used += (size_t)snprintf(pools + used, sizeof(pools) - used,
		    "%s%u", i ? "," : "", r->pools[i]);
	if (r->npools > 0) {
		bad |= push(&argv, &n, "--pool");
		bad |= push(&argv, &n, "%s", pools);
	}
	if (r->n > 0) {
		bad |= push(&argv, &n, "-n");
		bad |= push(&argv, &n, "%u", r->n);
	}
	if (r->secs[0]) {
		bad |= push(&argv, &n, "--secs");
		bad |= push(&argv, &n, "%s", r->secs);
	}
	if (r->seed >= 0) {
		bad |= push(&argv, &n, "--seed");
		bad |= push(&argv, &n, "%lld", r->seed);
	}
	if (r->timeout[0]) {
		bad |= push(&argv, &n, "--timeout");
		bad |= push(&argv, &n, "%s", r->timeout);
	}
	if (r->cpu > 0) {
		bad |= push(&argv, &n, "--cpu");
		bad |= push(&argv, &n, "%u", r->cpu);
	}
	if (bad) {
		labreq_argv_free(argv);
		return NULL;
	}
	return argv;
}

void
labreq_argv_free(char **argv)
{
	size_t i;

	for (i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}
