/* rng — MT19937 with CPython's seeding and draws; see rng.h. */
#include "config.h"

#include "rng.h"

#define MT_M     397
#define MATRIX_A 0x9908b0dfU
#define UPPER    0x80000000U
#define LOWER    0x7fffffffU

static void
init_genrand(struct rng *r, uint32_t s)
{
	int i;

	r->mt[0] = s;
	for (i = 1; i < RNG_N; i++)
		r->mt[i] = 1812433253U * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) +
		    (uint32_t)i;
	r->mti = RNG_N;
}

/* The reference init_by_array, as CPython's random_seed() calls it. */
static void
init_by_array(struct rng *r, const uint32_t *key, int len)
{
	uint32_t *mt = r->mt;
	int i = 1, j = 0, k;

	init_genrand(r, 19650218U);
	for (k = RNG_N > len ? RNG_N : len; k > 0; k--) {
		mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525U)) +
		    key[j] + (uint32_t)j;
		i++, j++;
		if (i >= RNG_N)
			mt[0] = mt[RNG_N - 1], i = 1;
		if (j >= len)
			j = 0;
	}
	for (k = RNG_N - 1; k > 0; k--) {
		mt[i] =
		    (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941U)) -
		    (uint32_t)i;
		i++;
		if (i >= RNG_N)
			mt[0] = mt[RNG_N - 1], i = 1;
	}
	mt[0] = 0x80000000U; /* non-zero initial state */
}

void
rng_seed(struct rng *r, uint64_t seed)
{
	uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};

	/* CPython: the absolute value's 32-bit words, at least one. */
	init_by_array(r, key, key[1] != 0 ? 2 : 1);
}

static void
generate(struct rng *r)
{
	uint32_t *mt = r->mt, y;
	int kk;

	for (kk = 0; kk < RNG_N; kk++) {
		y = (mt[kk] & UPPER) | (mt[(kk + 1) % RNG_N] & LOWER);
		mt[kk] = mt[(kk + MT_M) % RNG_N] ^ (y >> 1) ^
		    ((y & 1U) ? MATRIX_A : 0U);
	}
	r->mti = 0;
}

uint32_t
rng_u32(struct rng *r)
{
	uint32_t y;

	if (r->mti >= RNG_N)
		generate(r);
	y = r->mt[r->mti++];
	y ^= y >> 11;
	y ^= (y << 7) & 0x9d2c5680U;
	y ^= (y << 15) & 0xefc60000U;
	y ^= y >> 18;
	return y;
}

uint64_t
rng_bits(struct rng *r, int k)
{
	uint64_t lo;

	if (k <= 0 || k > 64)
		return 0;
	if (k <= 32)
		return rng_u32(r) >> (32 - k);
	/* CPython fills 32-bit words least significant first; the last
	 * word keeps its top bits. */
	lo = rng_u32(r);
	return lo | ((uint64_t)(rng_u32(r) >> (64 - k)) << 32);
}

static int
bit_length(uint64_t n)
{
	int k = 0;

	while (n != 0)
		n >>= 1, k++;
	return k;
}

uint64_t
rng_below(struct rng *r, uint64_t n)
{
	int k = bit_length(n);
	uint64_t x;

	if (n == 0)
		return 0;
	do
		x = rng_bits(r, k);
	while (x >= n);
	return x;
}

int64_t
rng_range(struct rng *r, int64_t lo, int64_t hi)
{
	if (lo > hi)
		return lo;
	/* Even a one-value range draws, as CPython's _randbelow(1) does. */
	return (int64_t)((uint64_t)lo +
	    rng_below(r, (uint64_t)hi - (uint64_t)lo + 1));
}

double
rng_random(struct rng *r)
{
	uint32_t a = rng_u32(r) >> 5, b = rng_u32(r) >> 6;

	return ((double)a * 67108864.0 + (double)b) *
	    (1.0 / 9007199254740992.0);
}
