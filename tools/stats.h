/*
 * stats — latency statistics and the schedule bounds of the lesson.
 *
 * Contract:
 *  - No I/O, no clock, no globals. A struct stats owns one malloc'd array;
 *    stats_free() releases it. Not thread-safe: one owner at a time.
 *  - Exact, not a histogram: every sample is kept (8 bytes each, up to the
 *    limit given to stats_init) and sorted once when a percentile is first
 *    asked for. Why: a send_many run is bounded by its -n (10 million at
 *    most, 80 MB), sorting 200,000 samples takes a few ms, and exact
 *    answers can be checked against known ones, here and in `compare`. A
 *    long-lived server wanting bounded memory should take samples in
 *    windows (stats_reset) or cap the count (STATS_EFULL past the limit).
 *  - min/max/mean are exact; stdev is the sample standard deviation
 *    (divisor n - 1, as Python's statistics.stdev and wrk), computed with
 *    Welford's method; 0 for fewer than two samples. All are 0 when empty.
 *  - Percentiles are nearest-rank: the p-th percentile (0 < p <= 100) of n
 *    sorted samples is the one at 1-based rank ceil(p/100 * n); p <= 0
 *    gives the minimum. So it is always one of the samples, and at least
 *    p percent of the samples are <= it.
 *  - Recording NaN is refused (STATS_EINVAL); infinities are allowed.
 *  - stats_ideal_total and stats_fcfs_total take request durations in
 *    seconds (in send order) and a pool of P workers, P = 0 meaning
 *    unlimited. ideal = max(largest S, sum S / P): no schedule can beat
 *    it. fcfs = the makespan when each request, in order, goes to the
 *    worker that frees first (a min-heap of P free times), which is what a
 *    pool of P blocking workers fed by one FIFO queue does. Empty input
 *    gives 0; fcfs gives NAN if memory runs out.
 */
#ifndef FCGILAB_STATS_H
#define FCGILAB_STATS_H

#include <stddef.h>

enum stats_result {
	STATS_OK,
	STATS_ENOMEM, /* could not grow the sample array */
	STATS_EFULL,  /* the limit given to stats_init is reached */
	STATS_EINVAL, /* NaN sample */
};

struct stats {
	double *v; /* samples; sorted when sorted != 0 */
	size_t n, cap, limit;
	int sorted;
	double min, max;
	double mean, m2; /* Welford running mean and sum of squares */
};

/* Start empty; limit is the most samples kept (0 = SIZE_MAX / 8). */
void stats_init(struct stats *s, size_t limit);
void stats_free(struct stats *s);
/* Forget every sample, keep the memory. */
void stats_reset(struct stats *s);
/* Reserve room for n samples up front (optional). */
enum stats_result stats_reserve(struct stats *s, size_t n);
enum stats_result stats_record(struct stats *s, double v);

size_t stats_count(const struct stats *s);
double stats_min(const struct stats *s);
double stats_max(const struct stats *s);
double stats_mean(const struct stats *s);
double stats_stdev(const struct stats *s);
/* Nearest-rank percentile, p in [0, 100]; sorts the samples once. */
double stats_percentile(struct stats *s, double p);

double stats_ideal_total(const double *secs, size_t n, unsigned pool);
double stats_fcfs_total(const double *secs, size_t n, unsigned pool);

#endif
