/* report_svg — timeline and pool-size sweep; see report_svg.h. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_svg.h"

#define SVG_W      960
#define SVG_LEFT   80
#define SVG_RIGHT  20
#define PANEL_GAP  56
#define BAR_AREA   240
#define QUEUE_AREA 60
#define HEADER     78
#define AXIS_SPACE 40

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
svg_open(FILE *f, int w, int h, const char *title)
{
	fprintf(f,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
	    "font-size=\"12\">\n"
	    "<style>.queued{fill:#c7c7c7}.served-pool{fill:#1f77b4}"
	    ".served-pool2{fill:#6baed6}.served-async{fill:#2ca02c}"
	    ".failed{fill:#d62728}.queue{fill:#fdae6b}"
	    ".mark{stroke-width:1.5;stroke-dasharray:6 4}"
	    ".m-ideal{stroke:#2ca02c}.m-fcfs{stroke:#ff7f0e}"
	    ".m-timeout{stroke:#d62728}</style>\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	    "<text x=\"%d\" y=\"22\" font-size=\"16\" font-weight=\"bold\">",
	    w, h, w, h, SVG_LEFT);
	svg_escape(f, title);
	fprintf(f, "</text>\n");
}

/* --- the timeline ---------------------------------------------------------
 */

struct axis {
	double tmax, scale;
};

static double
tx(const struct axis *a, double t)
{
	return SVG_LEFT + t * a->scale;
}

static void
time_axis(FILE *f, const struct axis *a, double y0)
{
	double step = nice_step(a->tmax), t;

	fprintf(f,
	    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
	    "stroke=\"#333\"/>\n",
	    SVG_LEFT, y0, SVG_W - SVG_RIGHT, y0);
	for (t = 0; t <= a->tmax + 1e-9; t += step)
		fprintf(f,
		    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		    "stroke=\"#333\"/><text x=\"%.1f\" y=\"%.1f\" "
		    "text-anchor=\"middle\">%g</text>\n",
		    tx(a, t), y0, tx(a, t), y0 + 5, tx(a, t), y0 + 18, t);
	fprintf(f,
	    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\">seconds since "
	    "the requests were sent</text>\n",
	    (SVG_W + SVG_LEFT) / 2, y0 + 34);
}

/* A vertical mark at t over [y0, y1], or its name in *off when it falls
 * past the axis. */
static void
mark(FILE *f, const struct axis *a, double t, double y0, double y1,
    const char *cls, const char *name, char *off, size_t offcap)
{
	size_t used = strlen(off);
	double ly = y0 + (strcmp(cls, "ideal") == 0 ? 10 : 22);

	if (!(t > 0))
		return;
	if (t > a->tmax) {
		snprintf(off + used, offcap - used, "%s%s %.2f s",
		    used ? ", " : "", name, t);
		return;
	}
	fprintf(f,
	    "<g class=\"mark-%s\"><title>%s: %.2f s</title><line class=\"mark "
	    "m-%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
	    "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
	    "text-anchor=\"end\">%s</text></g>\n",
	    cls, name, t, cls, tx(a, t), y0, tx(a, t), y1, tx(a, t) - 3, ly,
	    name);
}

static void
group_open(FILE *f, const struct report_row *r)
{
	fprintf(f,
	    "<g data-request=\"%zu\"><title>request %zu: wait %g s, status %d "
	    "(%s)%s%s, answered after %.3f s</title>",
	    r->index, r->index, r->secs, r->status, r->error,
	    r->worker[0] ? ", worker " : "", r->worker, r->latency);
}

static void
rect(FILE *f, const char *cls, double x0, double y, double x1, double h)
{
	fprintf(f,
	    "<rect class=\"%s\" x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" "
	    "height=\"%.2f\"/>",
	    cls, x0, y, fmax(x1 - x0, 0.8), h);
}

static int
cmp_end(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;

	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* One row per request, in the order they ended. */
static int
rows_panel(FILE *f, const struct report_run *r, const struct axis *a, double y0)
{
	double h = r->n ? BAR_AREA / (double)r->n : 1, y, x0, x1, x2;
	struct report_row *rows;
	size_t i;
	int ok;

	if ((rows = malloc(r->n * sizeof(*rows) + 1)) == NULL)
		return -1;
	memcpy(rows, r->rows, r->n * sizeof(*rows));
	qsort(rows, r->n, sizeof(*rows), cmp_end);
	for (i = 0; i < r->n; i++) {
		y = y0 + (double)i * h;
		ok = rows[i].status >= 200 && rows[i].status < 300;
		x0 = tx(a, rows[i].start);
		x2 = tx(a, rows[i].end);
		x1 = ok ? tx(a, fmax(rows[i].start, rows[i].end - rows[i].secs))
		        : x2;
		group_open(f, &rows[i]);
		if (!ok)
			rect(f, "failed", x0, y, x2, h * 0.9);
		else {
			if (x1 > x0 + 0.5)
				rect(f, "queued", x0, y, x1, h * 0.9);
			rect(f, r->pool ? "served-pool" : "served-async", x1, y,
			    x2, h * 0.9);
		}
		fprintf(f, "</g>\n");
	}
	free(rows);
	fprintf(f,
	    "<text transform=\"translate(%d,%.1f) rotate(-90)\" "
	    "text-anchor=\"middle\">requests</text>\n",
	    SVG_LEFT - 40, y0 + BAR_AREA / 2);
	return 0;
}

/* A pool's lanes take 18 px each, up to BAR_AREA in all. */
static double
lanes_height(const struct report_run *r)
{
	return fmin(BAR_AREA, 18 * (double)(r->lanes ? r->lanes : 1));
}

/* One lane per worker; under them, the requests waiting for one. */
static int
lanes_panel(
    FILE *f, const struct report_run *r, const struct axis *a, double y0)
{
	double lh = lanes_height(r) / (double)(r->lanes ? r->lanes : 1);
	double qy = y0 + lanes_height(r) + 8, *series, qmax = 1, peak = 0, x, y;
	size_t i, np, *count;

	if ((count = calloc(r->lanes + 1, sizeof(*count))) == NULL)
		return -1;
	for (i = 0; i < r->n; i++) {
		const struct report_row *row = &r->rows[i];

		group_open(f, row);
		if (row->lane >= 0) {
			y = y0 + row->lane * lh;
			rect(f,
			    count[row->lane]++ % 2 ? "served-pool2"
			                           : "served-pool",
			    tx(a, fmax(row->start, row->end - row->secs)),
			    y + 1, tx(a, row->end), lh - 2);
		} else {
			rect(f, "failed", tx(a, row->start),
			    qy + QUEUE_AREA - 4, tx(a, row->end), 3);
		}
		fprintf(f, "</g>\n");
	}
	free(count);
	fprintf(f,
	    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\">"
	    "%zu worker%s</text><text x=\"%d\" y=\"%.1f\" "
	    "text-anchor=\"end\" font-size=\"10\">(pool of %u)</text>\n",
	    SVG_LEFT - 4, y0 + lanes_height(r) / 2, r->lanes,
	    r->lanes == 1 ? "" : "s", SVG_LEFT - 4,
	    y0 + lanes_height(r) / 2 + 12, r->pool);
	/* the queue: a step line of its depth */
	if ((series = report_queue_series(r, &np)) == NULL)
		return -1;
	for (i = 0; i < np; i++)
		peak = fmax(peak, series[2 * i + 1]);
	qmax = fmax(qmax, peak);
	fprintf(f, "<path class=\"queue\" data-peak=\"%.0f\" d=\"M%.1f %.1f",
	    peak, tx(a, 0), qy + QUEUE_AREA);
	for (i = 0, y = qy + QUEUE_AREA; i < np; i++) {
		x = tx(a, series[2 * i]);
		fprintf(f, " L%.1f %.1f", x, y);
		y = qy + QUEUE_AREA - QUEUE_AREA * series[2 * i + 1] / qmax;
		fprintf(f, " L%.1f %.1f", x, y);
	}
	fprintf(f, " L%.1f %.1f Z\"/>\n", tx(a, a->tmax), qy + QUEUE_AREA);
	fprintf(f,
	    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\">"
	    "waiting</text><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
	    "font-size=\"10\">(max %.0f)</text>\n",
	    SVG_LEFT - 4, qy + QUEUE_AREA / 2, SVG_LEFT - 4,
	    qy + QUEUE_AREA / 2 + 12, peak);
	free(series);
	return 0;
}

static double
panel_height(const struct report_run *r)
{
	return r->pool ? lanes_height(r) + QUEUE_AREA + 8 : BAR_AREA;
}

static int
panel(FILE *f, const struct report_run *r, const struct axis *a, double y0,
    double timeout)
{
	char off[160] = "";
	double h = panel_height(r);
	int rc;

	rc = r->pool ? lanes_panel(f, r, a, y0) : rows_panel(f, r, a, y0);
	mark(f, a, r->ideal, y0, y0 + h, "ideal", "ideal", off, sizeof(off));
	if (r->pool && fabs(r->fcfs - r->ideal) > 0.01 * r->ideal)
		mark(f, a, r->fcfs, y0, y0 + h, "fcfs", "FCFS", off,
		    sizeof(off));
	if (timeout > 0 && timeout < 86400)
		mark(f, a, timeout, y0, y0 + h, "timeout", "timeout", off,
		    sizeof(off));
	fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-weight=\"bold\">", SVG_LEFT,
	    y0 - 8);
	svg_escape(f, r->label);
	if (r->model[0]) {
		fputs(" \xe2\x80\x94 ", f);
		svg_escape(f, r->model);
	}
	fprintf(f, ": %zu requests, %.2f s%s%s</text>\n", r->n, r->wall,
	    off[0] ? "; beyond the axis: " : "", off);
	time_axis(f, a, y0 + h + 4);
	return rc;
}

static void
legend(FILE *f, double y)
{
	static const struct {
		const char *cls, *text;
	} items[] = {{"served-pool", "served by a blocking worker"},
	    {"queue", "waiting for a worker"},
	    {"served-async", "served by the async loop"},
	    {"queued", "not yet served"}, {"failed", "failed"}};
	size_t i;
	int x = SVG_LEFT;

	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		fprintf(f,
		    "<rect class=\"%s\" x=\"%d\" y=\"%.1f\" width=\"12\" "
		    "height=\"12\"/><text x=\"%d\" y=\"%.1f\">%s</text>\n",
		    items[i].cls, x, y - 10, x + 16, y, items[i].text);
		x += 16 + 6 * (int)strlen(items[i].text) + 18;
	}
	fprintf(f,
	    "<text x=\"%d\" y=\"%.1f\" font-size=\"11\">dashed lines: "
	    "<tspan fill=\"#2ca02c\">ideal total</tspan>, <tspan "
	    "fill=\"#ff7f0e\">first come, first served prediction</tspan>, "
	    "<tspan fill=\"#d62728\">client timeout</tspan></text>\n",
	    SVG_LEFT, y + 18);
}

int
report_svg_timeline(FILE *f, const struct report_run *runs, size_t n,
    const char *title, double timeout)
{
	struct axis a = {0, 0};
	double y, height = HEADER;
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		a.tmax = fmax(a.tmax, runs[i].wall);
		height += panel_height(&runs[i]) + AXIS_SPACE + PANEL_GAP;
	}
	for (i = 0; i < n; i++) /* show the marks that are close by */
		if (runs[i].fcfs <= 1.25 * a.tmax)
			a.tmax = fmax(a.tmax, runs[i].fcfs);
	if (timeout <= 1.25 * a.tmax)
		a.tmax = fmax(a.tmax, timeout);
	a.tmax = a.tmax > 0 ? a.tmax * 1.02 : 1;
	a.scale = (SVG_W - SVG_LEFT - SVG_RIGHT) / a.tmax;
	svg_open(f, SVG_W, (int)height, title);
	legend(f, 44);
	for (i = 0, y = HEADER + 20; i < n; i++) {
		if (panel(f, &runs[i], &a, y, timeout) != 0)
			rc = -1;
		y += panel_height(&runs[i]) + AXIS_SPACE + PANEL_GAP;
	}
	fprintf(f, "</svg>\n");
	return rc;
}

/* --- the sweep -------------------------------------------------------------
 */

#define SW_W      760
#define SW_H      440
#define SW_TOP    70
#define SW_BOTTOM 60
#define SW_RIGHT  180

struct plot {
	double lmin, lmax, ymax;
};

static double
px(const struct plot *p, double pool)
{
	return SVG_LEFT +
	    (log2(pool) - p->lmin) / (p->lmax - p->lmin) *
	    (SW_W - SVG_LEFT - SW_RIGHT);
}

static double
py(const struct plot *p, double secs)
{
	return SW_H - SW_BOTTOM - secs / p->ymax * (SW_H - SW_TOP - SW_BOTTOM);
}

static void
sweep_axes(
    FILE *f, const struct plot *p, const struct report_run *runs, size_t n)
{
	double step = nice_step(p->ymax), t;
	size_t i;

	fprintf(f,
	    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>"
	    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n",
	    SVG_LEFT, SW_H - SW_BOTTOM, SW_W - SW_RIGHT, SW_H - SW_BOTTOM,
	    SVG_LEFT, SW_TOP, SVG_LEFT, SW_H - SW_BOTTOM);
	for (t = 0; t <= p->ymax + 1e-9; t += step)
		fprintf(f,
		    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>"
		    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
		    "stroke=\"#eee\"/>\n",
		    SVG_LEFT - 6, py(p, t) + 4, t, SVG_LEFT, py(p, t),
		    SW_W - SW_RIGHT, py(p, t));
	for (i = 0; i < n; i++)
		if (runs[i].pool)
			fprintf(f,
			    "<text x=\"%.1f\" y=\"%d\" "
			    "text-anchor=\"middle\">%u</text>\n",
			    px(p, runs[i].pool), SW_H - SW_BOTTOM + 18,
			    runs[i].pool);
	fprintf(f,
	    "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">workers in the "
	    "pool, P (log scale)</text>\n<text transform=\"translate(%d,%d) "
	    "rotate(-90)\" text-anchor=\"middle\">total time (s)</text>\n",
	    (SVG_LEFT + SW_W - SW_RIGHT) / 2, SW_H - SW_BOTTOM + 40,
	    SVG_LEFT - 46, (SW_TOP + SW_H - SW_BOTTOM) / 2);
}

static void
sweep_legend(FILE *f)
{
	static const struct {
		const char *color, *dash, *text;
	} items[] = {{"#1f77b4", "", "measured total"},
	    {"#ff7f0e", "4 3", "FCFS prediction"},
	    {"#7f7f7f", "6 4", "sum of waits / P"},
	    {"#9467bd", "2 3", "longest wait"},
	    {"#2ca02c", "", "the async server"}};
	size_t i;

	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++)
		fprintf(f,
		    "<line x1=\"%d\" y1=\"%zu\" x2=\"%d\" y2=\"%zu\" "
		    "stroke=\"%s\" stroke-width=\"2\" "
		    "stroke-dasharray=\"%s\"/><text x=\"%d\" "
		    "y=\"%zu\">%s</text>\n",
		    SW_W - SW_RIGHT + 14, SW_TOP + 10 + 20 * i,
		    SW_W - SW_RIGHT + 40, SW_TOP + 10 + 20 * i, items[i].color,
		    items[i].dash, SW_W - SW_RIGHT + 46, SW_TOP + 14 + 20 * i,
		    items[i].text);
}

int
report_svg_sweep(
    FILE *f, const struct report_run *runs, size_t n, const char *title)
{
	struct plot p = {0, 1, 0};
	double pmin = INFINITY, pmax = 0, sum = 0, longest = 0, q;
	const struct report_run *mux = NULL;
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (runs[i].pool == 0) {
			mux = mux ? mux : &runs[i];
			continue;
		}
		pmin = fmin(pmin, runs[i].pool);
		pmax = fmax(pmax, runs[i].pool);
		sum = fmax(sum, runs[i].sum_secs);
		longest = fmax(longest, runs[i].max_secs);
		p.ymax = fmax(p.ymax, fmax(runs[i].wall, runs[i].fcfs));
	}
	if (pmax == 0)
		return 0; /* no pool, nothing to draw */
	p.lmin = log2(pmin) - 0.3;
	p.lmax = log2(pmax) + 0.3;
	p.ymax = fmax(p.ymax, mux ? mux->wall : 0) * 1.08;
	if (!(p.ymax > 0))
		p.ymax = 1;
	svg_open(f, SW_W, SW_H, title);
	sweep_axes(f, &p, runs, n);
	/* sum / P, continuous in P, clipped to the plot */
	fprintf(f,
	    "<path fill=\"none\" stroke=\"#7f7f7f\" stroke-width=\"2\" "
	    "stroke-dasharray=\"6 4\" d=\"");
	for (k = 0; k <= 100; k++) {
		q = exp2(p.lmin + (p.lmax - p.lmin) * (double)k / 100);
		fprintf(f, "%s%.1f %.1f", k ? " L" : "M", px(&p, q),
		    py(&p, fmin(sum / q, p.ymax)));
	}
	fprintf(f,
	    "\"/>\n<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
	    "stroke=\"#9467bd\" stroke-width=\"2\" "
	    "stroke-dasharray=\"2 3\"/>\n",
	    SVG_LEFT, py(&p, longest), SW_W - SW_RIGHT, py(&p, longest));
	if (mux != NULL)
		fprintf(f,
		    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
		    "stroke=\"#2ca02c\" stroke-width=\"2\"><title>%s: %.2f "
		    "s</title></line>\n",
		    SVG_LEFT, py(&p, mux->wall), SW_W - SW_RIGHT,
		    py(&p, mux->wall), mux->label, mux->wall);
	/* the measured totals, then the FCFS prediction over them (hollow
	 * points, dashed), as points joined in order of P */
	for (k = 2; k-- > 0;) {
		const char *color = k ? "#1f77b4" : "#ff7f0e";
		unsigned last = 0, next;
		const struct report_run *r;
		size_t j;

		fprintf(f,
		    "<path fill=\"none\" stroke=\"%s\" "
		    "stroke-width=\"2\" stroke-dasharray=\"%s\" d=\"",
		    color, k ? "none" : "4 3");
		for (j = 0; j < n; j++) {
			for (i = 0, r = NULL, next = 0; i < n; i++)
				if (runs[i].pool > last &&
				    (next == 0 || runs[i].pool < next)) {
					next = runs[i].pool;
					r = &runs[i];
				}
			if (r == NULL)
				break;
			fprintf(f, "%s%.1f %.1f", last ? " L" : "M",
			    px(&p, r->pool), py(&p, k ? r->wall : r->fcfs));
			last = next;
		}
		fprintf(f, "\"/>\n");
		for (i = 0; i < n; i++)
			if (runs[i].pool)
				fprintf(f,
				    "<circle class=\"%s\" data-pool=\"%u\" "
				    "cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" "
				    "fill=\"%s\" stroke=\"%s\" "
				    "stroke-width=\"2\">"
				    "<title>P = %u: %s %.2f "
				    "s</title></circle>\n",
				    k ? "measured" : "fcfs", runs[i].pool,
				    px(&p, runs[i].pool),
				    py(&p, k ? runs[i].wall : runs[i].fcfs),
				    k ? 4 : 6, k ? color : "none", color,
				    runs[i].pool,
				    k ? "measured" : "FCFS prediction",
				    k ? runs[i].wall : runs[i].fcfs);
	}
	sweep_legend(f);
	fprintf(f, "</svg>\n");
	return 0;
}
