/*
 * latency — latency statistics and the schedule bounds of the lesson.
 *
 * Contract:
 *  - No I/O, no clock, no globals. A struct latency owns one malloc'd array;
 *    latency_free() releases it. Not thread-safe: one owner at a time.
 *  - Exact, not a histogram: every sample is kept (8 bytes each, up to the
 *    limit given to latency_init) and sorted once when a percentile is first
 *    asked for. Why: a send_many run is bounded by its -n (10 million at
 *    most, 80 MB), sorting 200,000 samples takes a few ms, and exact
 *    answers can be checked against known ones, here and in `compare`. A
 *    long-lived server wanting bounded memory should take samples in
 *    windows (latency_reset) or cap the count (LATENCY_EFULL past the limit).
 *  - min/max/mean are exact; stdev is the sample standard deviation
 *    (divisor n - 1, as Python's statistics.stdev and wrk), computed with
 *    Welford's method; 0 for fewer than two samples. All are 0 when empty.
 *  - Percentiles are nearest-rank: the p-th percentile (0 < p <= 100) of n
 *    sorted samples is the one at 1-based rank ceil(p/100 * n); p <= 0
 *    gives the minimum. So it is always one of the samples, and at least
 *    p percent of the samples are <= it.
 *  - Recording NaN is refused (LATENCY_EINVAL); infinities are allowed.
 *  - latency_ideal_total and latency_fcfs_total take request durations in
 *    seconds (in send order) and a pool of P workers, P = 0 meaning
 *    unlimited. ideal = max(largest S, sum S / P): no schedule can beat
 *    it. fcfs = the makespan when each request, in order, goes to the
 *    worker that frees first (a min-heap of P free times), which is what a
 *    pool of P blocking workers fed by one FIFO queue does. Empty input
 *    gives 0; fcfs gives NAN if memory runs out.
 */
#ifndef FCGILAB_LATENCY_H
#define FCGILAB_LATENCY_H

#include <stddef.h>

enum latency_result {
	LATENCY_OK,
	LATENCY_ENOMEM, /* could not grow the sample array */
	LATENCY_EFULL,  /* the limit given to latency_init is reached */
	LATENCY_EINVAL, /* NaN sample */
};

struct latency {
	double *v; /* samples; sorted when sorted != 0 */
	size_t n, cap, limit;
	int sorted;
	double min, max;
	double mean, m2; /* Welford running mean and sum of squares */
};

/* Start empty; limit is the most samples kept (0 = SIZE_MAX / 8). */
void latency_init(struct latency *s, size_t limit);
void latency_free(struct latency *s);
/* Forget every sample, keep the memory. */
void latency_reset(struct latency *s);
/* Reserve room for n samples up front (optional). */
enum latency_result latency_reserve(struct latency *s, size_t n);
enum latency_result latency_record(struct latency *s, double v);

size_t latency_count(const struct latency *s);
double latency_min(const struct latency *s);
double latency_max(const struct latency *s);
double latency_mean(const struct latency *s);
double latency_stdev(const struct latency *s);
/* Nearest-rank percentile, p in [0, 100]; sorts the samples once. */
double latency_percentile(struct latency *s, double p);

double latency_ideal_total(const double *secs, size_t n, unsigned pool);
double latency_fcfs_total(const double *secs, size_t n, unsigned pool);

#endif
