/* latency — exact latency statistics and schedule bounds; see latency.h. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"

void
latency_init(struct latency *s, size_t limit)
{
	memset(s, 0, sizeof(*s));
	s->limit = limit != 0 ? limit : SIZE_MAX / sizeof(double);
}

void
latency_free(struct latency *s)
{
	free(s->v);
	latency_init(s, s->limit);
}

void
latency_reset(struct latency *s)
{
	s->n = 0;
	s->sorted = 0;
	s->min = s->max = s->mean = s->m2 = 0;
}

enum latency_result
latency_reserve(struct latency *s, size_t n)
{
	double *nv;

	if (n > s->limit)
		n = s->limit;
	if (n <= s->cap)
		return LATENCY_OK;
	nv = realloc(s->v, n * sizeof(*nv));
	if (nv == NULL)
		return LATENCY_ENOMEM;
	s->v = nv;
	s->cap = n;
	return LATENCY_OK;
}

enum latency_result
latency_record(struct latency *s, double v)
{
	double delta;
	size_t want;

	if (isnan(v))
		return LATENCY_EINVAL;
	if (s->n >= s->limit)
		return LATENCY_EFULL;
	if (s->n == s->cap) {
		want = s->cap < 1024 ? 1024 : s->cap * 2;
		if (want > s->limit || want < s->cap)
			want = s->limit;
		if (latency_reserve(s, want) != LATENCY_OK)
			return LATENCY_ENOMEM;
	}
	if (s->n == 0 || v < s->min)
		s->min = v;
	if (s->n == 0 || v > s->max)
		s->max = v;
	s->v[s->n++] = v;
	s->sorted = 0;
	delta = v - s->mean;
	s->mean += delta / (double)s->n;
	s->m2 += delta * (v - s->mean);
	return LATENCY_OK;
}

size_t
latency_count(const struct latency *s)
{
	return s->n;
}

double
latency_min(const struct latency *s)
{
	return s->min;
}

double
latency_max(const struct latency *s)
{
	return s->max;
}

double
latency_mean(const struct latency *s)
{
	return s->mean;
}

double
latency_stdev(const struct latency *s)
{
	return s->n < 2 ? 0.0 : sqrt(s->m2 / (double)(s->n - 1));
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
latency_percentile(struct latency *s, double p)
{
	double rank;
	size_t k;

	if (s->n == 0)
		return 0.0;
	if (!s->sorted) {
		qsort(s->v, s->n, sizeof(*s->v), cmp_double);
		s->sorted = 1;
	}
	if (!(p > 0))
		return s->v[0];
	if (p >= 100)
		return s->v[s->n - 1];
	/* ceil(p/100 * n), with the product taken in a way that is exact for
	 * the usual p (50, 95, 99, 99.9) when n is a multiple of 1000. */
	rank = ceil(p * (double)s->n / 100.0 - 1e-9);
	k = rank < 1 ? 1 : (size_t)rank;
	if (k > s->n)
		k = s->n;
	return s->v[k - 1];
}

double
latency_ideal_total(const double *secs, size_t n, unsigned pool)
{
	double sum = 0, max = 0, spread;
	size_t i;

	for (i = 0; i < n; i++) {
		sum += secs[i];
		if (secs[i] > max)
			max = secs[i];
	}
	if (pool == 0)
		return max;
	spread = sum / (double)pool;
	return spread > max ? spread : max;
}

/* Restore the min-heap property downwards from the root. */
static void
sift_down(double *h, size_t n)
{
	size_t i = 0, c;
	double x = h[0];

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && h[c + 1] < h[c])
			c++;
		if (!(h[c] < x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

double
latency_fcfs_total(const double *secs, size_t n, unsigned pool)
{
	double *heap, end, makespan = 0;
	size_t p, i;

	if (n == 0)
		return 0.0;
	if (pool == 0 || pool >= n)
		return latency_ideal_total(secs, n, 0);
	p = pool;
	heap = calloc(p, sizeof(*heap)); /* every worker free at 0 */
	if (heap == NULL)
		return NAN;
	for (i = 0; i < n; i++) {
		/* The earliest-free worker takes request i. */
		end = heap[0] + secs[i];
		if (end > makespan)
			makespan = end;
		heap[0] = end;
		sift_down(heap, p);
	}
	free(heap);
	return makespan;
}
