/*
 * rng — a seedable pseudo-random generator that draws exactly what
 * CPython's `random` module draws: MT19937 (Matsumoto and Nishimura, 1998)
 * seeded as random.seed(n) seeds it, with getrandbits, randint and
 * random() done the way CPython 3 does them. So `send_many --seed 42`
 * sends the secs of the lesson's Python script under random.seed(42)
 * (100 x randint(1, 10): sum 509, largest 10).
 *
 * Contract:
 *  - Pure and deterministic: the same seed gives the same sequence on
 *    every machine and build (no rand(), no libc state). Not for secrets.
 *  - struct rng is plain data (2.5 KB) owned by the caller; no allocation.
 *  - rng_seed(n) == random.seed(n) for 0 <= n < 2^64 (an int seed: its
 *    32-bit words, least significant first, go to init_by_array).
 *  - rng_bits(k) == random.getrandbits(k) for 1 <= k <= 64 (0 otherwise).
 *  - rng_below(n) == random._randbelow(n) for n >= 1 (rejection sampling
 *    on bit_length(n) bits: no modulo bias); 0 when n == 0.
 *  - rng_range(lo, hi) == random.randint(lo, hi) for lo <= hi with
 *    hi - lo < 2^63; lo > hi is the caller's bug and returns lo.
 *  - rng_random() == random.random(), in [0, 1) with 53 bits.
 */
#ifndef FCGILAB_RNG_H
#define FCGILAB_RNG_H

#include <stdint.h>

#define RNG_N 624

struct rng {
	uint32_t mt[RNG_N];
	int mti;
};

void rng_seed(struct rng *r, uint64_t seed);
/* The next 32-bit output of MT19937 (genrand_uint32). */
uint32_t rng_u32(struct rng *r);
uint64_t rng_bits(struct rng *r, int k);
uint64_t rng_below(struct rng *r, uint64_t n);
int64_t rng_range(struct rng *r, int64_t lo, int64_t hi);
double rng_random(struct rng *r);

#endif
