/*
 * metrics — the mux's counters and latency histogram, and their rendering
 * in the Prometheus text exposition format (version 0.0.4).
 *
 * Contract:
 *  - Pure data: no I/O, no clock, no locks. One struct metrics belongs to
 *    the event loop thread; callers pass durations in seconds.
 *  - Statuses are counted per route for the codes the API uses; any other
 *    code is counted under status="other".
 *  - metrics_render() returns a malloc'd NUL-terminated text owned by the
 *    caller (free()), or NULL when memory runs out. Extra lines (gauges a
 *    caller computes at render time) may be appended by the caller.
 */
#ifndef FCGILAB_METRICS_H
#define FCGILAB_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"

/* Latency bucket upper bounds in seconds (the last bucket is +Inf). */
#define METRICS_NBUCKETS 16
/* HTTP statuses counted by name; others go to "other". */
#define METRICS_NSTATUS 16

struct metrics {
	uint64_t in_flight;      /* requests dispatched, not yet answered */
	uint64_t in_flight_peak; /* highest in_flight since start */
	uint64_t conns_open;
	uint64_t conns_peak;
	uint64_t conns_total;
	uint64_t protocol_errors; /* connections closed for malformed input */
	uint64_t aborted;         /* requests whose client went away */
	uint64_t overloaded;      /* requests refused with 503 at the limit */
	uint64_t stalled; /* connections dropped: output stalled too long */
	uint64_t responses[APP_R__MAX][METRICS_NSTATUS + 1];
	uint64_t buckets[METRICS_NBUCKETS + 1]; /* not cumulative */
	double latency_sum;
	uint64_t latency_count;
};

void metrics_init(struct metrics *m);

/* A request started being served: in_flight + 1, peak kept. */
void metrics_request_begin(struct metrics *m);

/* A request ended: answered with status after secs, or (status 0)
 * abandoned because its client went away. in_flight - 1. */
void metrics_request_end(
    struct metrics *m, enum app_route route, int status, double secs);

void metrics_conn_open(struct metrics *m);
void metrics_conn_close(struct metrics *m);

/* The Prometheus text of everything above, malloc'd. */
char *metrics_render(const struct metrics *m, size_t *lenp);

/* For modules' extra series (mux_metrics_register): printf at the end of
 * a growing malloc'd text *t of *len bytes; false on ENOMEM (*t is still
 * the caller's to free). */
__attribute__((format(printf, 3, 4))) bool metrics_add(
    char **t, size_t *len, const char *fmt, ...);
/* One series with its HELP and TYPE ("counter", "gauge") lines. */
bool metrics_add_series(char **t, size_t *len, const char *name,
    const char *type, const char *help, uint64_t v);

/* A module's plain series, for a mux_metrics_fn: the text of n series in
 * a new malloc'd string (its length in *lenp), or NULL on ENOMEM. */
struct metrics_series {
	const char *name, *type, *help;
	uint64_t value;
};
char *metrics_series_text(
    const struct metrics_series *s, size_t n, size_t *lenp);

#endif
