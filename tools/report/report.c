/* report — comparison figures, table, explanation, JSON; see report.h. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"
#include "report.h"

#define MAX_ROWS 10000000u
/* A request that reached its worker within this long did not queue:
 * lighttpd and the connection take some ms even with a worker free. */
#define QUEUED_MIN 0.05

/* --- loading and the figures ------------------------------------------- */

/* When a request reached its worker: the answer's end minus its wait, and
 * never before it was sent; a request that failed never did (its end). */
static double
served_from(const struct report_row *r)
{
	if (r->status >= 200 && r->status < 300)
		return fmax(r->start, r->end - r->secs);
	return r->end;
}

static int
served(const struct report_row *r)
{
	return r->status >= 200 && r->status < 300;
}

static void
count_kind(struct report_run *run, const char *name)
{
	size_t i;

	for (i = 0; i < run->nkinds; i++)
		if (strcmp(run->kinds[i].name, name) == 0) {
			run->kinds[i].count++;
			return;
		}
	if (run->nkinds == REPORT_KINDS_MAX)
		return;
	snprintf(run->kinds[run->nkinds].name, sizeof(run->kinds[0].name), "%s",
	    name);
	run->kinds[run->nkinds++].count = 1;
}

static int
cmp_ptr_served(const void *a, const void *b)
{
	const struct report_row *x = *(struct report_row *const *)a;
	const struct report_row *y = *(struct report_row *const *)b;
	double sx = served_from(x), sy = served_from(y);

	if (sx != sy)
		return sx < sy ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Lanes: a pool's requests by the worker that named itself, in the order
 * the workers first served; requests served without a name (jobs, whose
 * worker is not told) are packed into the first lane free at their start.
 * Failed requests and the async server's get none.
 */
static void
assign_lanes(struct report_run *run)
{
	struct report_row **by = malloc((run->n + 1) * sizeof(*by));
	char(*names)[32] = calloc(run->n + 1, sizeof(*names));
	double *free_at = calloc(run->n + 1, sizeof(*free_at));
	size_t i, k, named = 0, packed = 0, m = 0;

	run->lanes = 0;
	for (i = 0; i < run->n; i++)
		run->rows[i].lane = -1;
	if (by == NULL || names == NULL || free_at == NULL || run->pool == 0)
		goto out;
	for (i = 0; i < run->n; i++)
		if (served(&run->rows[i]))
			by[m++] = &run->rows[i];
	qsort(by, m, sizeof(*by), cmp_ptr_served);
	for (i = 0; i < m; i++) {
		if (by[i]->worker[0] == '\0')
			continue;
		for (k = 0; k < named && strcmp(names[k], by[i]->worker); k++)
			;
		if (k == named)
			memcpy(names[named++], by[i]->worker, 32);
		by[i]->lane = (int)k;
	}
	for (i = 0; i < m; i++) {
		if (by[i]->worker[0] != '\0')
			continue;
		for (k = 0;
		     k < packed && free_at[k] > served_from(by[i]) + 1e-9; k++)
			;
		if (k == packed)
			packed++;
		free_at[k] = by[i]->end;
		by[i]->lane = (int)(named + k);
	}
	run->lanes = named + packed;
out:
	free(by);
	free(names);
	free(free_at);
}

static int
cmp_pair(const void *a, const void *b)
{
	const double *x = a, *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	/* at the same instant, leave the queue before joining it */
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

double *
report_queue_series(const struct report_run *r, size_t *np)
{
	double *ev = malloc((2 * r->n + 1) * 2 * sizeof(*ev));
	double depth = 0;
	size_t i, k = 0;

	*np = 0;
	if (ev == NULL)
		return NULL;
	for (i = 0; i < r->n; i++) {
		if (served_from(&r->rows[i]) - r->rows[i].start < QUEUED_MIN)
			continue;
		ev[2 * k] = r->rows[i].start;
		ev[2 * k++ + 1] = 1;
		ev[2 * k] = served_from(&r->rows[i]);
		ev[2 * k++ + 1] = -1;
	}
	qsort(ev, k, 2 * sizeof(*ev), cmp_pair);
	for (i = 0; i < k; i++) {
		depth += ev[2 * i + 1];
		ev[2 * i + 1] = depth; /* the depth from this instant on */
	}
	*np = k;
	return ev;
}

static void
summarize(struct report_run *run)
{
	struct latency lat;
	double *secs, *series;
	size_t i, np;

	latency_init(&lat, 0);
	secs = malloc((run->n ? run->n : 1) * sizeof(*secs));
	for (i = 0; i < run->n; i++) {
		const struct report_row *r = &run->rows[i];

		if (served(r))
			run->ok++;
		else
			run->failed++;
		if (strcmp(r->error, "ok") != 0)
			count_kind(run, r->error);
		if (strcmp(r->error, "timeout") == 0)
			run->timeouts++;
		if (r->status > 0 && r->status < REPORT_STATUS_MAX) {
			if (run->statuses[r->status]++ == 0)
				run->status_first[r->status] = r->latency;
			run->status_first[r->status] =
			    fmin(run->status_first[r->status], r->latency);
			run->status_last[r->status] =
			    fmax(run->status_last[r->status], r->latency);
			latency_record(&lat, r->latency);
		}
		if (r->end > run->wall)
			run->wall = r->end;
		run->sum_secs += r->secs;
		if (r->secs > run->max_secs)
			run->max_secs = r->secs;
		if (secs != NULL)
			secs[r->index - 1 < run->n ? r->index - 1 : i] =
			    r->secs;
	}
	run->mean_secs = run->n ? run->sum_secs / (double)run->n : 0;
	run->ideal = secs ? latency_ideal_total(secs, run->n, run->pool) : NAN;
	run->fcfs = secs ? latency_fcfs_total(secs, run->n, run->pool) : NAN;
	run->rate = run->wall > 0 ? (double)run->n / run->wall : 0;
	run->capacity = run->pool > 0 && run->mean_secs > 0
	    ? run->pool / run->mean_secs
	    : 0;
	run->p50 = latency_percentile(&lat, 50);
	run->p95 = latency_percentile(&lat, 95);
	run->max_latency = latency_max(&lat);
	latency_free(&lat);
	free(secs);
	assign_lanes(run);
	run->peak_queue = 0;
	if (run->pool > 0 && (series = report_queue_series(run, &np)) != NULL) {
		for (i = 0; i < np; i++)
			if (series[2 * i + 1] > (double)run->peak_queue)
				run->peak_queue = (size_t)series[2 * i + 1];
		free(series);
	}
}

/* index,secs,start,end,latency,status,error[,worker] */
static int
parse_row(const char *line, struct report_row *row)
{
	int used = 0;

	memset(row, 0, sizeof(*row));
	if (sscanf(line, "%zu,%lf,%lf,%lf,%lf,%d,%23[a-z_0-9]%n", &row->index,
	        &row->secs, &row->start, &row->end, &row->latency, &row->status,
	        row->error, &used) != 7)
		return -1;
	if (line[used] == ',')
		sscanf(line + used + 1, "%31[A-Za-z0-9._:-]", row->worker);
	return row->index >= 1 && isfinite(row->end) && isfinite(row->secs) &&
	        row->secs >= 0
	    ? 0
	    : -1;
}

static int
set_label(struct report_run *run, const char *label)
{
	const char *bar = strchr(label, '|');

	run->label =
	    bar ? strndup(label, (size_t)(bar - label)) : strdup(label);
	run->model = strdup(bar ? bar + 1 : "");
	return run->label && run->model ? 0 : -1;
}

int
report_load(struct report_run *run, const char *label, unsigned pool,
    const char *csv_path, char err[128])
{
	struct report_row *grown;
	char line[256];
	size_t cap = 0;
	FILE *f;

	memset(run, 0, sizeof(*run));
	run->pool = pool;
	if (set_label(run, label) != 0 || (f = fopen(csv_path, "r")) == NULL) {
		snprintf(err, 128, "%s: %s", csv_path, strerror(errno));
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL ||
	    strncmp(line, "index,secs,start,end", 20) != 0) {
		snprintf(err, 128, "%s: not a send_many CSV", csv_path);
		goto fail;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (run->n == cap) {
			cap = cap ? cap * 2 : 256;
			if (cap > MAX_ROWS ||
			    (grown = realloc(
			         run->rows, cap * sizeof(*grown))) == NULL) {
				snprintf(
				    err, 128, "%s: too many rows", csv_path);
				goto fail;
			}
			run->rows = grown;
		}
		if (parse_row(line, &run->rows[run->n]) != 0) {
			snprintf(
			    err, 128, "%s: bad row %zu", csv_path, run->n + 2);
			goto fail;
		}
		run->n++;
	}
	fclose(f);
	summarize(run);
	return 0;
fail:
	fclose(f);
	return -1;
}

void
report_run_free(struct report_run *run)
{
	free(run->label);
	free(run->model);
	free(run->rows);
	memset(run, 0, sizeof(*run));
}

double
report_efficiency(const struct report_run *r)
{
	return r->failed == 0 && r->wall > 0 ? r->ideal / r->wall : -1;
}

/* How many requests the first come, first served model says end after
 * the timeout: each, in send order, to the worker that frees first (a
 * min-heap of free times), ending its wait after that. -1 on ENOMEM. */
static long
fcfs_late(const struct report_run *r, double timeout)
{
	double *secs, *heap, end, x;
	size_t i, k, c, p = r->pool;
	long late = 0;

	if (p == 0 || r->n == 0)
		return 0;
	p = p < r->n ? p : r->n;
	secs = calloc(r->n, sizeof(*secs));
	heap = calloc(p, sizeof(*heap));
	if (secs == NULL || heap == NULL) {
		free(secs);
		free(heap);
		return -1;
	}
	for (i = 0; i < r->n; i++)
		secs[r->rows[i].index - 1 < r->n ? r->rows[i].index - 1 : i] =
		    r->rows[i].secs;
	for (i = 0; i < r->n; i++) {
		end = heap[0] + secs[i];
		late += end > timeout;
		for (k = 0, x = end; (c = 2 * k + 1) < p; k = c) {
			if (c + 1 < p && heap[c + 1] < heap[c])
				c++;
			if (!(heap[c] < x))
				break;
			heap[k] = heap[c];
		}
		heap[k] = x;
	}
	free(secs);
	free(heap);
	return late;
}

/* --- the header and the table ------------------------------------------ */

void
report_header(FILE *f, const struct report_info *info, size_t ninfo)
{
	size_t i;

	for (i = 0; i < ninfo; i++)
		fprintf(f, "%-14s %s\n", info[i].key, info[i].value);
	if (ninfo > 0)
		fputc('\n', f);
}

static const char *
workers_text(const struct report_run *r, char *buf, size_t cap)
{
	if (r->pool == 0)
		return "1 process, async";
	snprintf(buf, cap, "%u, blocking", r->pool);
	return buf;
}

static const char *
efficiency_text(const struct report_run *r, char *buf, size_t cap)
{
	if (report_efficiency(r) < 0)
		return "n/a: not all answered";
	snprintf(buf, cap, "%.0f %%", 100 * report_efficiency(r));
	return buf;
}

/* "200 x100, 500 x3": every status seen, or "none". */
static const char *
statuses_text(const struct report_run *r, char *buf, size_t cap)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < REPORT_STATUS_MAX && used + 1 < cap; i++)
		if (r->statuses[i] > 0)
			used += (size_t)snprintf(buf + used, cap - used,
			    "%s%zu x%zu", used ? ", " : "", i, r->statuses[i]);
	return used ? buf : "none";
}

#define COL 25

static void
table_columns(FILE *f, const struct report_run *runs, size_t n)
{
	char cell[96], a[32], st[96];
	size_t i;

	fprintf(f, "%-24s", "");
	for (i = 0; i < n; i++)
		fprintf(f, " %*s", COL, runs[i].label);
	fputc('\n', f);
#define ROW(name, ...)                                             \
	do {                                                       \
		fprintf(f, "%-24s", name);                         \
		for (i = 0; i < n; i++) {                          \
			snprintf(cell, sizeof(cell), __VA_ARGS__); \
			fprintf(f, " %*s", COL, cell);             \
		}                                                  \
		fputc('\n', f);                                    \
	} while (0)
	for (i = 0; i < n && runs[i].model[0] == '\0'; i++)
		;
	if (i < n)
		ROW("models", "%s", runs[i].model);
	ROW("requests", "%zu", runs[i].n);
	ROW("workers", "%s", workers_text(&runs[i], a, sizeof(a)));
	ROW("sum of waits", "%.2f s", runs[i].sum_secs);
	ROW("longest wait", "%.2f s", runs[i].max_secs);
	ROW("total wall", "%.2f s", runs[i].wall);
	ROW("ideal total", "%.2f s", runs[i].ideal);
	ROW("FCFS prediction", "%.2f s", runs[i].fcfs);
	ROW("efficiency", "%s", efficiency_text(&runs[i], a, sizeof(a)));
	ROW("completions/s (run)", "%.1f", runs[i].rate);
	ROW("capacity (P/mean wait)", "%s",
	    runs[i].pool
	        ? (snprintf(a, sizeof(a), "%.1f /s", runs[i].capacity), a)
	        : "no pool to fill");
	ROW("latency p50", "%.2f s", runs[i].p50);
	ROW("latency p95", "%.2f s", runs[i].p95);
	ROW("latency max", "%.2f s", runs[i].max_latency);
	ROW("ok / errors", "%zu / %zu", runs[i].ok, runs[i].failed);
	ROW("of which timeouts", "%zu", runs[i].timeouts);
	ROW("statuses", "%s", statuses_text(&runs[i], st, sizeof(st)));
	ROW("workers seen", "%s",
	    runs[i].pool ? (snprintf(a, sizeof(a), "%zu", runs[i].lanes), a)
	                 : "-");
	ROW("most queued at once", "%s",
	    runs[i].pool
	        ? (snprintf(a, sizeof(a), "%zu", runs[i].peak_queue), a)
	        : "-");
#undef ROW
}

static void
table_sweep(FILE *f, const struct report_run *runs, size_t n)
{
	size_t i;

	fprintf(f, "%-22s %8s %8s %8s %8s %8s %8s %9s %8s %6s\n", "", "total",
	    "sum/P", "longest", "ideal", "FCFS", "p50", "timeouts", "cap./s",
	    "seen");
	for (i = 0; i < n; i++) {
		const struct report_run *r = &runs[i];

		fprintf(f, "%-22.22s %6.2f s ", r->label, r->wall);
		if (r->pool)
			fprintf(f, "%6.2f s ", r->sum_secs / r->pool);
		else
			fprintf(f, "%8s ", "-");
		fprintf(f, "%6.2f s %6.2f s %6.2f s %6.2f s %9zu ", r->max_secs,
		    r->ideal, r->fcfs, r->p50, r->timeouts);
		if (r->pool)
			fprintf(f, "%8.1f %6zu\n", r->capacity, r->lanes);
		else
			fprintf(f, "%8s %6s\n", "-", "-");
	}
}

void
report_table(FILE *f, const struct report_run *runs, size_t n, int sweep)
{
	if (sweep || n > 3)
		table_sweep(f, runs, n);
	else
		table_columns(f, runs, n);
}

/* --- the explanation ------------------------------------------------------ */

struct paras {
	char **v;
	size_t n, cap;
	int oom;
};

__attribute__((format(printf, 2, 3))) static void
para(struct paras *p, const char *fmt, ...)
{
	char **grown, *s;
	va_list ap;
	int rc;

	if (p->oom)
		return;
	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		p->oom = 1;
		return;
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 8;
		if ((grown = realloc(p->v, p->cap * sizeof(*grown))) == NULL) {
			free(s);
			p->oom = 1;
			return;
		}
		p->v = grown;
	}
	p->v[p->n++] = s;
}

/* What a status the clients saw means here. */
static const char *
status_meaning(int status)
{
	switch (status) {
	case 500:
		return "lighttpd could not hand the request over: the pool's "
		       "accept queue (spawn-fcgi's backlog) was full, so after "
		       "a few tries it answered with an error instead of "
		       "queueing more";
	case 502:
		return "the backend closed the connection without an answer";
	case 503:
		return "the backend was down, or at its limit of requests at "
		       "once";
	case 504:
		return "the backend did not answer within lighttpd's timeout";
	case 429:
		return "refused: too many requests";
	default:
		return NULL;
	}
}

static void
explain_failures(struct paras *p, const struct report_run *r, double timeout)
{
	const char *why;
	size_t i;

	long late = fcfs_late(r, timeout);
	char model[96] = "";

	if (r->pool && late >= 0)
		snprintf(model, sizeof(model),
		    " (served first come, first served in send order, %ld "
		    "would: a model's figure)",
		    late);
	if (r->timeouts > 0)
		para(p,
		    "  %zu of %zu requests passed the client's %g s timeout "
		    "%s%s: the server was not broken, only busy, and those "
		    "users got an error.",
		    r->timeouts, r->n, timeout,
		    r->pool ? "while still queued behind the others"
		            : "before their answer came",
		    model);
	for (i = 0; i < REPORT_STATUS_MAX; i++) {
		if (r->statuses[i] == 0 || (i >= 200 && i < 300))
			continue;
		why = status_meaning((int)i);
		para(p,
		    "  %zu answer%s had status %zu, after %.2f to %.2f s%s%s.",
		    r->statuses[i], r->statuses[i] == 1 ? "" : "s", i,
		    r->status_first[i], r->status_last[i], why ? ": " : "",
		    why ? why : "");
	}
	for (i = 0; i < r->nkinds; i++) {
		const char *k = r->kinds[i].name;

		if (strcmp(k, "timeout") == 0 || strncmp(k, "status_", 7) == 0)
			continue;
		para(p, "  %zu request%s got no HTTP answer (%s).",
		    r->kinds[i].count, r->kinds[i].count == 1 ? "" : "s", k);
	}
}

static void
explain_pool(struct paras *p, const struct report_run *r, double timeout)
{
	char model[160] = "", cmp[200] = "";

	if (r->model[0])
		snprintf(model, sizeof(model), " (%s)", r->model);
	if (r->failed == 0 && r->fcfs > 0) {
		if (r->wall < r->fcfs * 0.99)
			snprintf(cmp, sizeof(cmp),
			    " (%.0f %% of the prediction: the workers accept "
			    "requests in the order they reach the socket, not "
			    "strictly the order they were sent, and that order "
			    "happened to pack them better)",
			    100 * r->wall / r->fcfs);
		else
			snprintf(cmp, sizeof(cmp),
			    " (%.0f %% of the prediction)",
			    100 * r->wall / r->fcfs);
	}
	if (r->pool >= r->n) {
		para(p,
		    "- %s%s: %u workers for %zu requests, so every request had "
		    "a worker of its own at once, as with the async server: "
		    "the "
		    "total is the longest wait, %.2f s. Measured: %.2f s.",
		    r->label, model, r->pool, r->n, r->max_secs, r->wall);
	} else {
		para(p,
		    "- %s%s: %s %u worker%s blocks for its request's "
		    "whole wait, so %zu requests whose waits add up to %.2f s "
		    "need at least %.2f s / %u = %.2f s (and never less than "
		    "the longest wait, %.2f s). Served first come, first "
		    "served in the order they were sent, they take %.2f s; "
		    "measured: %.2f s%s%s.",
		    r->label, model, r->pool == 1 ? "the" : "each of the",
		    r->pool, r->pool == 1 ? "" : "s", r->n, r->sum_secs,
		    r->sum_secs, r->pool, r->sum_secs / r->pool, r->max_secs,
		    r->fcfs, r->wall, cmp,
		    r->failed ? ", when the last one had failed or been "
		                "answered"
		              : "");
	}
	if (r->lanes > 0)
		para(p,
		    "  %zu %sworker%s answered%s; at most %zu request%s "
		    "waited for a free worker at once.",
		    r->lanes, r->lanes == 1 ? "" : "different ",
		    r->lanes == 1 ? "" : "s",
		    r->lanes < r->pool && r->lanes < r->n
		        ? " (fewer than the pool holds: the rest had nothing "
		          "to "
		          "do or were not asked in time)"
		        : "",
		    r->peak_queue, r->peak_queue == 1 ? "" : "s");
	explain_failures(p, r, timeout);
}

static void
explain_async(struct paras *p, const struct report_run *r, double timeout)
{
	para(p,
	    "- %s%s%s%s: one process keeps all %zu waits on timers at once, "
	    "so the total can be no shorter than the longest single wait, "
	    "%.2f s. It took %.2f s: %.2f s of overhead for %zu requests.",
	    r->label, r->model[0] ? " (" : "", r->model, r->model[0] ? ")" : "",
	    r->n, r->max_secs, r->wall, r->wall - r->max_secs, r->n);
	explain_failures(p, r, timeout);
}

static int
cmp_pool(const void *a, const void *b)
{
	const struct report_run *x = *(const struct report_run *const *)a;
	const struct report_run *y = *(const struct report_run *const *)b;

	return x->pool < y->pool ? -1 : x->pool > y->pool;
}

static void
explain_compare(struct paras *p, const struct report_run *runs, size_t n)
{
	const struct report_run *mux = NULL, **pools;
	size_t i, np = 0;

	if ((pools = malloc((n + 1) * sizeof(*pools))) == NULL) {
		p->oom = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		if (runs[i].pool)
			pools[np++] = &runs[i];
		else if (mux == NULL)
			mux = &runs[i];
	}
	qsort(pools, np, sizeof(*pools), cmp_pool);
	for (i = 0; mux != NULL && mux->wall > 0 && i < np; i++) {
		if (pools[i]->failed > 0)
			para(p,
			    "- Same requests: the async server answered %zu of "
			    "%zu in %.2f s; the pool of %u answered %zu, and "
			    "%zu "
			    "got an error instead of an answer.",
			    mux->ok, mux->n, mux->wall, pools[i]->pool,
			    pools[i]->ok, pools[i]->failed);
		else
			para(p,
			    "- Same requests, same seed: the pool of %u took "
			    "%.1fx as long as the async server.",
			    pools[i]->pool, pools[i]->wall / mux->wall);
	}
	if (np >= 2 && pools[np - 1]->pool > pools[0]->pool &&
	    pools[0]->failed == 0 && pools[np - 1]->failed == 0 &&
	    pools[np - 1]->wall > 0)
		para(p,
		    "- %.1fx the workers (%u instead of %u) made the pool "
		    "%.1fx as fast (%.2f s instead of %.2f s): more workers "
		    "help at most linearly (sum / P) and never below the "
		    "longest wait. Holding %zu waits at once takes %zu "
		    "blocking "
		    "workers, each a thread or process with its own stack, "
		    "where the async server needs one.",
		    (double)pools[np - 1]->pool / pools[0]->pool,
		    pools[np - 1]->pool, pools[0]->pool,
		    pools[0]->wall / pools[np - 1]->wall, pools[np - 1]->wall,
		    pools[0]->wall, pools[0]->n, pools[0]->n);
	else if (np == 1 && mux != NULL && pools[0]->failed == 0)
		para(p,
		    "- More workers help only linearly (P workers: about "
		    "sum / P); holding %zu waits at once takes %zu blocking "
		    "workers, each a thread or process with its own stack, "
		    "where the async server needs one.",
		    pools[0]->n, pools[0]->n);
	free(pools);
}

char **
report_explain(
    const struct report_run *runs, size_t n, double timeout, size_t *count)
{
	struct paras p = {0};
	size_t i;

	for (i = 0; i < n; i++) {
		if (runs[i].pool)
			explain_pool(&p, &runs[i], timeout);
		else
			explain_async(&p, &runs[i], timeout);
	}
	explain_compare(&p, runs, n);
	if (p.oom) {
		report_paras_free(p.v, p.n);
		return NULL;
	}
	*count = p.n;
	return p.v != NULL ? p.v : calloc(1, sizeof(char *));
}

void
report_paras_free(char **paras, size_t count)
{
	size_t i;

	for (i = 0; paras != NULL && i < count; i++)
		free(paras[i]);
	free(paras);
}

#define WRAP_COLS 76

/* Each paragraph wrapped at WRAP_COLS; continuation lines are indented
 * by two spaces (under a "- "). */
void
report_paras_print(FILE *f, char *const *paras, size_t count)
{
	const char *p, *brk;
	size_t i, width;

	for (i = 0; i < count; i++) {
		for (p = paras[i], width = WRAP_COLS; strlen(p) > width;) {
			for (brk = p + width; brk > p && *brk != ' '; brk--)
				;
			if (brk == p)
				break;
			fprintf(f, "%.*s\n  ", (int)(brk - p), p);
			p = brk + 1;
			width = WRAP_COLS - 2;
		}
		fprintf(f, "%s\n", p);
	}
}

/* --- JSON ----------------------------------------------------------------- */

static json_t *
run_json(const struct report_run *r, double timeout)
{
	json_t *o, *st = json_object(), *er = json_object(),
	           *ss = json_object();
	char key[16];
	size_t i;

	for (i = 0; st != NULL && ss != NULL && i < REPORT_STATUS_MAX; i++)
		if (r->statuses[i] > 0) {
			snprintf(key, sizeof(key), "%zu", i);
			json_object_set_new(
			    st, key, json_integer((json_int_t)r->statuses[i]));
			json_object_set_new(ss, key,
			    json_pack("{s:f,s:f}", "first", r->status_first[i],
			        "last", r->status_last[i]));
		}
	for (i = 0; er != NULL && i < r->nkinds; i++)
		json_object_set_new(er, r->kinds[i].name,
		    json_integer((json_int_t)r->kinds[i].count));
	o = json_pack("{s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:f,"
	              "s:o,s:f,s:o,s:f,s:f,s:f,s:o,s:o,s:o,s:o,s:o}",
	    "label", r->label, "model", r->model, "pool", (int)r->pool,
	    "requests", (json_int_t)r->n, "ok", (json_int_t)r->ok, "failed",
	    (json_int_t)r->failed, "timeouts", (json_int_t)r->timeouts, "wall",
	    r->wall, "sum_secs", r->sum_secs, "max_secs", r->max_secs,
	    "mean_secs", r->mean_secs, "ideal", r->ideal, "fcfs", r->fcfs,
	    "efficiency",
	    report_efficiency(r) < 0 ? json_null()
	                             : json_real(report_efficiency(r)),
	    "completions_per_sec", r->rate, "capacity_per_sec",
	    r->pool ? json_real(r->capacity) : json_null(), "p50", r->p50,
	    "p95", r->p95, "max_latency", r->max_latency, "statuses", st,
	    "status_secs", ss, "errors", er, "workers_seen",
	    r->pool ? json_integer((json_int_t)r->lanes) : json_null(),
	    "peak_queue",
	    r->pool ? json_integer((json_int_t)r->peak_queue) : json_null());
	if (o != NULL && r->pool)
		json_object_set_new(o, "fcfs_timeouts",
		    json_integer((json_int_t)fcfs_late(r, timeout)));
	return o;
}

int
report_json(FILE *f, const struct report_info *info, size_t ninfo,
    const struct report_run *runs, size_t n, double timeout)
{
	json_t *arr = json_array(), *hdr = json_object(), *ex = json_array();
	json_t *o;
	char **paras;
	size_t i, np = 0;
	int rc;

	paras = report_explain(runs, n, timeout, &np);
	if (arr == NULL || hdr == NULL || ex == NULL || paras == NULL)
		goto oom;
	for (i = 0; i < ninfo; i++)
		json_object_set_new(
		    hdr, info[i].key, json_string(info[i].value));
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, run_json(&runs[i], timeout)) !=
		    0)
			goto oom;
	for (i = 0; i < np; i++)
		json_array_append_new(ex, json_string(paras[i]));
	report_paras_free(paras, np);
	o = json_pack("{s:o,s:f,s:o,s:o}", "header", hdr, "timeout", timeout,
	    "runs", arr, "explanation", ex);
	if (o == NULL)
		return -1;
	rc = json_dumpf(o, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	fputc('\n', f);
	json_decref(o);
	return rc;
oom:
	report_paras_free(paras, np);
	json_decref(arr);
	json_decref(hdr);
	json_decref(ex);
	return -1;
}
