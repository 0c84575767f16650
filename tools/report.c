/* report — comparison table, explanation and SVG; contract in report.h. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "stats.h"

#define MAX_ROWS 10000000u

static void
summarize(struct report_run *run)
{
	struct stats lat;
	double *secs;
	size_t i;

	stats_init(&lat, 0);
	run->ok = run->failed = run->timeouts = 0;
	run->wall = run->sum_secs = run->max_secs = 0;
	secs = malloc((run->n ? run->n : 1) * sizeof(*secs));
	for (i = 0; i < run->n; i++) {
		const struct report_row *r = &run->rows[i];

		if (r->status >= 200 && r->status < 300)
			run->ok++;
		else
			run->failed++;
		if (strcmp(r->error, "timeout") == 0)
			run->timeouts++;
		if (r->status != 0)
			stats_record(&lat, r->latency);
		if (r->end > run->wall)
			run->wall = r->end;
		run->sum_secs += r->secs;
		if (r->secs > run->max_secs)
			run->max_secs = r->secs;
		if (secs != NULL)
			secs[r->index - 1 < run->n ? r->index - 1 : i] =
			    r->secs;
	}
	run->ideal = secs ? stats_ideal_total(secs, run->n, run->pool) : NAN;
	run->fcfs = secs ? stats_fcfs_total(secs, run->n, run->pool) : NAN;
	run->rps = run->wall > 0 ? (double)run->n / run->wall : 0;
	run->p50 = stats_percentile(&lat, 50);
	run->p95 = stats_percentile(&lat, 95);
	run->max_latency = stats_max(&lat);
	stats_free(&lat);
	free(secs);
}

static int
parse_row(const char *line, struct report_row *row)
{
	int used = 0;

	if (sscanf(line, "%zu,%lf,%lf,%lf,%lf,%d,%23[a-z_0-9]%n", &row->index,
	        &row->secs, &row->start, &row->end, &row->latency, &row->status,
	        row->error, &used) != 7)
		return -1;
	return row->index >= 1 && isfinite(row->end) ? 0 : -1;
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
	if ((run->label = strdup(label)) == NULL ||
	    (f = fopen(csv_path, "r")) == NULL) {
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
	free(run->rows);
	memset(run, 0, sizeof(*run));
}

/* --- the table ------------------------------------------------------------ */

static void
row_label(FILE *f, const char *name)
{
	fprintf(f, "%-22s", name);
}

static const char *
workers_text(const struct report_run *r, char *buf, size_t cap)
{
	if (r->pool == 0)
		return "1 process, async";
	snprintf(buf, cap, "%u, blocking", r->pool);
	return buf;
}

/* ideal / wall, or a negative value when it means nothing: requests that
 * failed (timed out) end the run early, and then the wall is no measure
 * of the schedule (it can come out below the ideal). */
static double
efficiency(const struct report_run *r)
{
	return r->failed == 0 && r->wall > 0 ? r->ideal / r->wall : -1;
}

static const char *
efficiency_text(const struct report_run *r, char *buf, size_t cap)
{
	if (efficiency(r) < 0)
		return "n/a: not all answered";
	snprintf(buf, cap, "%.0f %%", 100 * efficiency(r));
	return buf;
}

void
report_table(FILE *f, const struct report_run *runs, size_t n)
{
	char cell[64], workers[32], eff[32];
	size_t i;

	row_label(f, "");
	for (i = 0; i < n; i++)
		fprintf(f, " %24s", runs[i].label);
	fputc('\n', f);
#define ROW(name, ...)                                             \
	do {                                                       \
		row_label(f, name);                                \
		for (i = 0; i < n; i++) {                          \
			snprintf(cell, sizeof(cell), __VA_ARGS__); \
			fprintf(f, " %24s", cell);                 \
		}                                                  \
		fputc('\n', f);                                    \
	} while (0)
	ROW("requests", "%zu", runs[i].n);
	ROW("workers", "%s", workers_text(&runs[i], workers, sizeof(workers)));
	ROW("sum of waits", "%.2f s", runs[i].sum_secs);
	ROW("total wall", "%.2f s", runs[i].wall);
	ROW("ideal total", "%.2f s", runs[i].ideal);
	ROW("efficiency", "%s", efficiency_text(&runs[i], eff, sizeof(eff)));
	ROW("requests/s", "%.1f", runs[i].rps);
	ROW("latency p50", "%.2f s", runs[i].p50);
	ROW("latency p95", "%.2f s", runs[i].p95);
	ROW("latency max", "%.2f s", runs[i].max_latency);
	ROW("ok / errors", "%zu / %zu", runs[i].ok, runs[i].failed);
	ROW("of which timeouts", "%zu", runs[i].timeouts);
#undef ROW
}

/* --- the explanation --------------------------------------------------------
 */

#define WRAP_COLS 76

/* Print a formatted text wrapped at WRAP_COLS, line by line; wrapped
 * continuation lines are indented by two spaces (under a "- "). */
__attribute__((format(printf, 2, 3))) static void
para(FILE *f, const char *fmt, ...)
{
	char text[2048], *line, *next, *p, *brk;
	size_t width;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (line = text; *line != '\0'; line = next) {
		next = strchrnul(line, '\n');
		if (*next == '\n')
			*next++ = '\0';
		for (p = line, width = WRAP_COLS; strlen(p) > width;) {
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

static void
explain_run(FILE *f, const struct report_run *r, double timeout)
{
	if (r->pool == 0) {
		para(f,
		    "- %s: one process keeps all %zu waits on timers at once, "
		    "so "
		    "the total can be no shorter than the longest single wait, "
		    "%.2f s. It took %.2f s: %.2f s of overhead for %zu "
		    "requests.\n",
		    r->label, r->n, r->max_secs, r->wall, r->wall - r->max_secs,
		    r->n);
		return;
	}
	para(f,
	    "- %s: each of the %u workers blocks for its request's whole wait, "
	    "so %zu requests whose waits add up to %.2f s need at least "
	    "%.2f s / %u = %.2f s (and never less than the longest wait, "
	    "%.2f s). Served first come, first served, they take %.2f s; "
	    "measured: %.2f s%s.\n",
	    r->label, r->pool, r->n, r->sum_secs, r->sum_secs, r->pool,
	    r->sum_secs / r->pool, r->max_secs, r->fcfs, r->wall,
	    r->failed ? ", when the last one had failed or been answered" : "");
	if (r->timeouts > 0)
		para(f,
		    "  %zu of %zu requests passed the client's %.0f s timeout "
		    "while they were still queued behind the others: the "
		    "server was not broken, only busy, and those users got an "
		    "error.\n",
		    r->timeouts, r->n, timeout);
}

void
report_explain(FILE *f, const struct report_run *runs, size_t n, double timeout)
{
	const struct report_run *pool = NULL, *mux = NULL;
	size_t i;

	fprintf(f, "What the numbers say:\n");
	for (i = 0; i < n; i++) {
		explain_run(f, &runs[i], timeout);
		if (runs[i].pool && pool == NULL)
			pool = &runs[i];
		if (!runs[i].pool && mux == NULL)
			mux = &runs[i];
	}
	if (pool == NULL || mux == NULL || mux->wall <= 0)
		return;
	if (pool->failed > 0)
		para(f,
		    "- Same requests: the async server answered %zu of %zu in "
		    "%.2f s; the pool answered %zu, and %zu got an error "
		    "instead of an answer.\n",
		    mux->ok, mux->n, mux->wall, pool->ok, pool->failed);
	else
		para(f,
		    "- Same requests, same seed: the pool took %.1fx as long "
		    "as the "
		    "async server. More workers help only linearly (P workers: "
		    "about "
		    "sum/P); serving %zu waits at once would take %zu blocking "
		    "workers, each a process or thread with its own memory, "
		    "where "
		    "the async server needs one.\n",
		    pool->wall / mux->wall, pool->n, pool->n);
	para(f, "%s",
	    "- In production: use the blocking style for CPU-bound work and "
	    "for calls that cannot be made asynchronous, sized to the cores; "
	    "use the async style when requests mostly wait (other services, "
	    "databases, timers), and never block its loop.\n");
}

/* --- the picture -------------------------------------------------------------
 */

#define SVG_W      960
#define SVG_LEFT   70
#define SVG_RIGHT  20
#define PANEL_GAP  60
#define BAR_AREA   240
#define HEADER     70
#define AXIS_SPACE 40

static int
cmp_rows(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;

	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* A tick step of 1, 2 or 5 times a power of ten, about span / 8. */
static double
nice_step(double span)
{
	double raw = span / 8, mag, m;

	if (!(raw > 0))
		return 1;
	mag = pow(10, floor(log10(raw)));
	m = raw / mag;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * mag;
}

static void
svg_axis(FILE *f, double y0, double tmax)
{
	double step = nice_step(tmax), t, x;
	double scale = (SVG_W - SVG_LEFT - SVG_RIGHT) / tmax;

	fprintf(f,
	    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
	    "stroke=\"#333\"/>\n",
	    SVG_LEFT, y0, SVG_W - SVG_RIGHT, y0);
	for (t = 0; t <= tmax + 1e-9; t += step) {
		x = SVG_LEFT + t * scale;
		fprintf(f,
		    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		    "stroke=\"#333\"/><text x=\"%.1f\" y=\"%.1f\" "
		    "text-anchor=\"middle\">%g</text>\n",
		    x, y0, x, y0 + 5, x, y0 + 18, t);
	}
	fprintf(f,
	    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\">seconds since "
	    "the requests were sent</text>\n",
	    (SVG_W + SVG_LEFT) / 2, y0 + 34);
}

static void
svg_escape(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
}

static void
svg_panel(FILE *f, const struct report_run *r, double y0, double tmax)
{
	double scale = (SVG_W - SVG_LEFT - SVG_RIGHT) / tmax;
	double h = r->n ? BAR_AREA / (double)r->n : 1, y, served, x0, x1, x2;
	struct report_row *rows;
	size_t i;

	fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-weight=\"bold\">", SVG_LEFT,
	    y0 - 8);
	svg_escape(f, r->label);
	fprintf(f, ": %zu requests, %.2f s</text>\n", r->n, r->wall);
	fprintf(f,
	    "<text transform=\"translate(%d,%.1f) rotate(-90)\" "
	    "text-anchor=\"middle\">requests</text>\n",
	    SVG_LEFT - 40, y0 + BAR_AREA / 2);
	if ((rows = malloc(r->n * sizeof(*rows) + 1)) == NULL)
		return;
	memcpy(rows, r->rows, r->n * sizeof(*rows));
	qsort(rows, r->n, sizeof(*rows), cmp_rows);
	for (i = 0; i < r->n; i++) {
		y = y0 + (double)i * h;
		x0 = SVG_LEFT + rows[i].start * scale;
		x2 = SVG_LEFT + rows[i].end * scale;
		served = rows[i].status >= 200 && rows[i].status < 300;
		x1 = served ? SVG_LEFT +
		        fmax(rows[i].start, rows[i].end - rows[i].secs) * scale
		            : x2;
		/* one group per request, its details as a tooltip */
		fprintf(f,
		    "<g data-request=\"%zu\"><title>request %zu: wait %g s, "
		    "status %d (%s), answered after %.3f s</title>",
		    rows[i].index, rows[i].index, rows[i].secs, rows[i].status,
		    rows[i].error, rows[i].latency);
		if (x1 > x0)
			fprintf(f,
			    "<rect class=\"%s\" x=\"%.1f\" y=\"%.2f\" "
			    "width=\"%.1f\" height=\"%.2f\"/>",
			    served ? "queued" : "failed", x0, y, x1 - x0,
			    h * 0.9);
		if (served && x2 > x1)
			fprintf(f,
			    "<rect class=\"%s\" x=\"%.1f\" y=\"%.2f\" "
			    "width=\"%.1f\" height=\"%.2f\"/>",
			    r->pool ? "served-pool" : "served-async", x1, y,
			    x2 - x1, h * 0.9);
		fprintf(f, "</g>\n");
	}
	free(rows);
	svg_axis(f, y0 + BAR_AREA + 4, tmax);
}

static void
svg_legend(FILE *f, double y)
{
	static const struct {
		const char *cls, *text;
	} items[] = {{"queued", "waiting for a free worker"},
	    {"served-pool", "being served (blocking worker)"},
	    {"served-async", "being served (async timer)"},
	    {"failed", "failed (timeout, error)"}};
	size_t i;
	int x = SVG_LEFT;

	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		fprintf(f,
		    "<rect class=\"%s\" x=\"%d\" y=\"%.1f\" width=\"14\" "
		    "height=\"14\"/><text x=\"%d\" y=\"%.1f\">%s</text>\n",
		    items[i].cls, x, y - 11, x + 20, y, items[i].text);
		x += 225;
	}
}

void
report_svg(FILE *f, const struct report_run *runs, size_t n, const char *title)
{
	double tmax = 0, y;
	size_t i;
	int height = HEADER + (int)n * (BAR_AREA + AXIS_SPACE + PANEL_GAP);

	for (i = 0; i < n; i++)
		tmax = fmax(tmax, runs[i].wall);
	if (tmax <= 0)
		tmax = 1;
	fprintf(f,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
	    "font-size=\"12\">\n"
	    "<style>.queued{fill:#c7c7c7}.served-pool{fill:#1f77b4}"
	    ".served-async{fill:#2ca02c}.failed{fill:#d62728}</style>\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	    "<text x=\"%d\" y=\"22\" font-size=\"16\" font-weight=\"bold\">",
	    SVG_W, height, SVG_W, height, SVG_LEFT);
	svg_escape(f, title);
	fprintf(f, "</text>\n");
	svg_legend(f, 48);
	for (i = 0, y = HEADER + 20; i < n; i++) {
		svg_panel(f, &runs[i], y, tmax);
		y += BAR_AREA + AXIS_SPACE + PANEL_GAP;
	}
	fprintf(f, "</svg>\n");
}

/* --- JSON ----------------------------------------------------------------- */

int
report_json(FILE *f, const struct report_run *runs, size_t n)
{
	json_t *arr = json_array(), *o;
	size_t i;
	int rc;

	if (arr == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		const struct report_run *r = &runs[i];

		o = json_pack(
		    "{s:s,s:i,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:o,"
		    "s:f,s:f,s:f,s:f}",
		    "label", r->label, "pool", (int)r->pool, "requests",
		    (json_int_t)r->n, "ok", (json_int_t)r->ok, "failed",
		    (json_int_t)r->failed, "timeouts", (json_int_t)r->timeouts,
		    "wall", r->wall, "sum_secs", r->sum_secs, "max_secs",
		    r->max_secs, "ideal", r->ideal, "fcfs", r->fcfs,
		    "efficiency",
		    efficiency(r) < 0 ? json_null() : json_real(efficiency(r)),
		    "requests_per_sec", r->rps, "p50", r->p50, "p95", r->p95,
		    "max_latency", r->max_latency);
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return -1;
		}
	}
	o = json_pack("{s:o}", "runs", arr);
	if (o == NULL)
		return -1;
	rc = json_dumpf(o, f, JSON_INDENT(2));
	fputc('\n', f);
	json_decref(o);
	return rc;
}
