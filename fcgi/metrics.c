/* metrics — counters and Prometheus text; contract in metrics.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const double bucket_le[METRICS_NBUCKETS] = {0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};

static const int statuses[METRICS_NSTATUS] = {200, 201, 202, 204, 307, 400, 404,
    405, 409, 411, 413, 415, 422, 500, 503, 504};

void
metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
}

void
metrics_request_begin(struct metrics *m)
{
	if (++m->in_flight > m->in_flight_peak)
		m->in_flight_peak = m->in_flight;
}

static size_t
status_index(int status)
{
	size_t i;

	for (i = 0; i < METRICS_NSTATUS; i++)
		if (statuses[i] == status)
			return i;
	return METRICS_NSTATUS; /* "other" */
}

void
metrics_request_end(
    struct metrics *m, enum app_route route, int status, double secs)
{
	size_t b;

	if (m->in_flight > 0)
		m->in_flight--;
	if (status == 0) {
		m->aborted++;
		return;
	}
	if ((unsigned)route >= APP_R__MAX)
		route = APP_R_NONE;
	m->responses[route][status_index(status)]++;
	for (b = 0; b < METRICS_NBUCKETS && secs > bucket_le[b]; b++)
		;
	m->buckets[b]++;
	m->latency_sum += secs;
	m->latency_count++;
}

void
metrics_conn_open(struct metrics *m)
{
	m->conns_total++;
	if (++m->conns_open > m->conns_peak)
		m->conns_peak = m->conns_open;
}

void
metrics_conn_close(struct metrics *m)
{
	if (m->conns_open > 0)
		m->conns_open--;
}

/* A growing text buffer; on ENOMEM it sets failed and stops growing. */
struct text {
	char *buf;
	size_t len, cap;
	int failed;
};

__attribute__((format(printf, 2, 3))) static void
put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	size_t need;
	char *nb;
	int n;

	if (t->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->failed = 1;
		return;
	}
	if ((size_t)n >= t->cap - t->len) {
		need = t->len + (size_t)n + 1;
		if ((nb = realloc(t->buf, need * 2)) == NULL) {
			t->failed = 1;
			return;
		}
		t->buf = nb;
		t->cap = need * 2;
		va_start(ap, fmt);
		vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
	}
	t->len += (size_t)n;
}

static void
metric(struct text *t, const char *name, const char *type, const char *help,
    uint64_t value)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type,
	    name, (unsigned long long)value);
}

static void
render_responses(struct text *t, const struct metrics *m)
{
	size_t r, s;

	put(t,
	    "# HELP fcgilab_requests_total Requests answered, by route and "
	    "status.\n# TYPE fcgilab_requests_total counter\n");
	for (r = 0; r < APP_R__MAX; r++)
		for (s = 0; s <= METRICS_NSTATUS; s++) {
			if (m->responses[r][s] == 0)
				continue;
			if (s < METRICS_NSTATUS)
				put(t,
				    "fcgilab_requests_total{route=\"%s\","
				    "status=\"%d\"} %llu\n",
				    app_route_name((enum app_route)r),
				    statuses[s],
				    (unsigned long long)m->responses[r][s]);
			else
				put(t,
				    "fcgilab_requests_total{route=\"%s\","
				    "status=\"other\"} %llu\n",
				    app_route_name((enum app_route)r),
				    (unsigned long long)m->responses[r][s]);
		}
}

static void
render_histogram(struct text *t, const struct metrics *m)
{
	uint64_t cum = 0;
	size_t b;

	put(t,
	    "# HELP fcgilab_request_duration_seconds Time from a request's "
	    "arrival to its answer.\n"
	    "# TYPE fcgilab_request_duration_seconds histogram\n");
	for (b = 0; b < METRICS_NBUCKETS; b++) {
		cum += m->buckets[b];
		put(t,
		    "fcgilab_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    bucket_le[b], (unsigned long long)cum);
	}
	cum += m->buckets[METRICS_NBUCKETS];
	put(t,
	    "fcgilab_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "fcgilab_request_duration_seconds_sum %.6f\n"
	    "fcgilab_request_duration_seconds_count %llu\n",
	    (unsigned long long)cum, m->latency_sum,
	    (unsigned long long)m->latency_count);
}

char *
metrics_render(const struct metrics *m, size_t *lenp)
{
	struct text t = {NULL, 0, 0, 0};

	if ((t.buf = malloc(4096)) == NULL)
		return NULL;
	t.cap = 4096;
	metric(&t, "fcgilab_requests_in_flight", "gauge",
	    "Requests being served (waiting on a timer, a thread, ...).",
	    m->in_flight);
	metric(&t, "fcgilab_requests_in_flight_peak", "gauge",
	    "Highest number of requests in flight since start.",
	    m->in_flight_peak);
	render_responses(&t, m);
	render_histogram(&t, m);
	metric(&t, "fcgilab_requests_aborted_total", "counter",
	    "Requests dropped because the client went away.", m->aborted);
	metric(&t, "fcgilab_requests_overloaded_total", "counter",
	    "Requests refused with 503 at the concurrency limit.",
	    m->overloaded);
	metric(&t, "fcgilab_connections_open", "gauge",
	    "FastCGI connections open.", m->conns_open);
	metric(&t, "fcgilab_connections_open_peak", "gauge",
	    "Highest number of FastCGI connections open at once.",
	    m->conns_peak);
	metric(&t, "fcgilab_connections_total", "counter",
	    "FastCGI connections accepted.", m->conns_total);
	metric(&t, "fcgilab_protocol_errors_total", "counter",
	    "Connections closed for malformed FastCGI input.",
	    m->protocol_errors);
	metric(&t, "fcgilab_connections_stalled_total", "counter",
	    "Connections dropped because their output did not move for "
	    "--stall-timeout.",
	    m->stalled);
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	if (lenp)
		*lenp = t.len;
	return t.buf;
}

bool
metrics_add(char **t, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *more, *grown;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&more, fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((grown = realloc(*t, *len + (size_t)n + 1)) == NULL) {
		free(more);
		return false;
	}
	memcpy(grown + *len, more, (size_t)n + 1);
	*t = grown;
	*len += (size_t)n;
	free(more);
	return true;
}

bool
metrics_add_series(char **t, size_t *len, const char *name, const char *type,
    const char *help, uint64_t v)
{
	return metrics_add(t, len, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n",
	    name, help, name, type, name, (unsigned long long)v);
}

char *
metrics_series_text(const struct metrics_series *s, size_t n, size_t *lenp)
{
	char *t = NULL;
	size_t len = 0, i;

	for (i = 0; i < n; i++)
		if (!metrics_add_series(&t, &len, s[i].name, s[i].type,
		        s[i].help, s[i].value)) {
			free(t);
			return NULL;
		}
	*lenp = len;
	return t;
}
