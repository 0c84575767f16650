/*
 * test_latency — latency statistics on synthetic data with known answers,
 * and the schedule bounds on the lesson's own numbers: Python's
 * random.seed(42); [random.randint(1, 10) for _ in range(100)] sums to
 * 509 with a largest value of 10; first-come-first-served on 40 workers
 * (uvicorn's thread pool) takes 19 s, on 4 workers 128 s.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "latency.h"
#include "tap.h"

static const double lesson42[100] = {2, 1, 5, 4, 4, 3, 2, 9, 2, 10, 7, 1, 1, 2,
    4, 4, 9, 10, 1, 9, 4, 9, 7, 4, 8, 10, 5, 1, 3, 7, 6, 5, 3, 4, 6, 2, 2, 7, 2,
    6, 6, 10, 5, 1, 8, 9, 2, 7, 2, 9, 5, 10, 6, 10, 4, 2, 1, 4, 5, 2, 4, 2, 7,
    5, 8, 6, 3, 6, 6, 4, 5, 2, 10, 3, 9, 4, 3, 8, 7, 5, 9, 4, 6, 1, 4, 1, 6, 7,
    5, 2, 4, 10, 6, 4, 8, 7, 8, 3, 5, 3};

static int
near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * (fabs(b) > 1 ? fabs(b) : 1);
}

static void
test_empty_and_one(void)
{
	struct latency s;

	latency_init(&s, 0);
	ok(latency_count(&s) == 0 && latency_min(&s) == 0 &&
	        latency_max(&s) == 0 && latency_mean(&s) == 0 &&
	        latency_stdev(&s) == 0 && latency_percentile(&s, 50) == 0,
	    "empty: all zero");
	ok(latency_record(&s, NAN) == LATENCY_EINVAL && latency_count(&s) == 0,
	    "NaN is refused");
	latency_record(&s, 7.5);
	ok(latency_count(&s) == 1 && latency_min(&s) == 7.5 &&
	        latency_max(&s) == 7.5 && latency_mean(&s) == 7.5 &&
	        latency_stdev(&s) == 0 && latency_percentile(&s, 0) == 7.5 &&
	        latency_percentile(&s, 1) == 7.5 &&
	        latency_percentile(&s, 100) == 7.5,
	    "one sample: it is every statistic, stdev 0");
	latency_free(&s);
}

/* 1..100 shuffled: nearest-rank p-th percentile of 1..100 is p itself. */
static void
test_one_to_hundred(void)
{
	struct latency s;
	int i, bad = 0;

	latency_init(&s, 0);
	for (i = 0; i < 100; i++)
		latency_record(&s, (double)((i * 37) % 100 + 1));
	for (i = 1; i <= 100; i++)
		bad += latency_percentile(&s, i) != i;
	ok(bad == 0, "1..100: p-th percentile is p for p = 1..100");
	ok(latency_percentile(&s, 0) == 1 && latency_percentile(&s, 0.5) == 1 &&
	        latency_percentile(&s, 99.5) == 100 &&
	        latency_percentile(&s, 50.01) == 51,
	    "1..100: ranks round up (0.5 -> 1, 50.01 -> 51, 99.5 -> 100)");
	ok(latency_min(&s) == 1 && latency_max(&s) == 100 &&
	        near(latency_mean(&s), 50.5),
	    "1..100: min 1, max 100, mean 50.5");
	/* sample stdev of 1..n is sqrt(n(n+1)/12) */
	ok(near(latency_stdev(&s), sqrt(100.0 * 101 / 12)),
	    "1..100: sample stdev sqrt(n(n+1)/12) = %.6f", latency_stdev(&s));
	latency_free(&s);
}

static void
test_small_known(void)
{
	static const double v[] = {15, 20, 35, 40, 50};
	struct latency s;
	size_t i;

	/* The textbook nearest-rank example: 5 samples. */
	latency_init(&s, 0);
	for (i = 0; i < 5; i++)
		latency_record(&s, v[4 - i]);
	ok(latency_percentile(&s, 5) == 15 &&
	        latency_percentile(&s, 30) == 20 &&
	        latency_percentile(&s, 40) == 20 &&
	        latency_percentile(&s, 50) == 35 &&
	        latency_percentile(&s, 100) == 50,
	    "nearest rank on {15,20,35,40,50}: p5 15, p30 20, p40 20, p50 35, "
	    "p100 50");
	/* {2,4,4,4,5,5,7,9}: mean 5, sum of squares 32, sample stdev
	 * sqrt(32/7) */
	latency_reset(&s);
	latency_record(&s, 2), latency_record(&s, 4), latency_record(&s, 4);
	latency_record(&s, 4), latency_record(&s, 5), latency_record(&s, 5);
	latency_record(&s, 7), latency_record(&s, 9);
	ok(latency_count(&s) == 8 && near(latency_mean(&s), 5) &&
	        near(latency_stdev(&s), sqrt(32.0 / 7)),
	    "reset, then {2,4,4,4,5,5,7,9}: mean 5, stdev sqrt(32/7)");
	latency_free(&s);
}

static void
test_large_and_limit(void)
{
	struct latency s;
	size_t i;

	/* 1,000,000 samples 0.001 .. 1000 s: p99.9 is exactly rank 999000. */
	latency_init(&s, 0);
	for (i = 1000000; i > 0; i--)
		latency_record(&s, (double)i / 1000);
	ok(latency_count(&s) == 1000000 &&
	        latency_percentile(&s, 99.9) == 999.0 &&
	        latency_percentile(&s, 50) == 500.0 &&
	        latency_percentile(&s, 99) == 990.0,
	    "1e6 samples: p50 500, p99 990, p99.9 999 (exact ranks)");
	latency_free(&s);
	latency_init(&s, 3);
	ok(latency_record(&s, 1) == LATENCY_OK &&
	        latency_record(&s, 2) == LATENCY_OK &&
	        latency_record(&s, 3) == LATENCY_OK &&
	        latency_record(&s, 4) == LATENCY_EFULL &&
	        latency_count(&s) == 3 && latency_max(&s) == 3,
	    "limit 3: the fourth sample is LATENCY_EFULL and not counted");
	latency_free(&s);
}

static void
test_schedules(void)
{
	static const double ten[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	static const double even[] = {3, 3, 3, 3};

	ok(latency_ideal_total(lesson42, 100, 0) == 10,
	    "seed 42: ideal unlimited = largest S = 10");
	ok(near(latency_ideal_total(lesson42, 100, 40), 509.0 / 40),
	    "seed 42: ideal with 40 workers = 509/40 = 12.725");
	ok(latency_ideal_total(lesson42, 100, 100) == 10 &&
	        latency_ideal_total(lesson42, 100, 1000) == 10,
	    "seed 42: ideal with >= 51 workers is bounded by the largest S");
	ok(latency_ideal_total(lesson42, 100, 1) == 509,
	    "seed 42: ideal with 1 worker = the sum 509");
	ok(latency_fcfs_total(lesson42, 100, 40) == 19,
	    "seed 42: FCFS with 40 workers = 19 s");
	ok(latency_fcfs_total(lesson42, 100, 4) == 128 &&
	        latency_fcfs_total(lesson42, 100, 2) == 255 &&
	        latency_fcfs_total(lesson42, 100, 1) == 509,
	    "seed 42: FCFS with 4, 2, 1 workers = 128, 255, 509 s");
	ok(latency_fcfs_total(lesson42, 100, 0) == 10 &&
	        latency_fcfs_total(lesson42, 100, 100) == 10,
	    "seed 42: FCFS unlimited or >= n workers = 10 s");
	ok(latency_ideal_total(ten, 10, 3) == 55.0 / 3 &&
	        latency_fcfs_total(ten, 10, 3) == 22,
	    "1..10 on 3 workers: ideal 55/3, FCFS 22 (w1 1+4+7+10, ...)");
	ok(latency_fcfs_total(ten, 10, 2) == 30 &&
	        latency_ideal_total(ten, 10, 2) == 27.5,
	    "1..10 on 2 workers: FCFS 30, ideal 27.5");
	ok(latency_fcfs_total(even, 4, 2) == 6 &&
	        latency_ideal_total(even, 4, 2) == 6,
	    "4 x 3 s on 2 workers: both 6 = ceil(M/P) * S");
	ok(latency_fcfs_total(NULL, 0, 4) == 0 &&
	        latency_ideal_total(NULL, 0, 4) == 0,
	    "no requests: 0");
}

int
main(void)
{
	test_empty_and_one();
	test_one_to_hundred();
	test_small_known();
	test_large_and_limit();
	test_schedules();
	return done_testing();
}
