/*
 * cpuwork — the deterministic CPU-bound work behind /cpu and friends.
 *
 * Contract:
 *  - Pure and thread-safe: no I/O, no globals, no allocation; the same n
 *    always gives the same result, so every backend's answer can be
 *    checked against every other's.
 *  - cpu_count_primes(n) counts the primes p < n by trial division. The
 *    cost grows a little faster than n (about n^1.5 / log n divisions),
 *    which is the point: it keeps a core busy for a predictable while.
 */
#ifndef FCGILAB_CPUWORK_H
#define FCGILAB_CPUWORK_H

unsigned long cpu_count_primes(unsigned long n);

#endif
