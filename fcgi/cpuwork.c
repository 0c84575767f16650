/* cpuwork — CPU-bound work; contract in cpuwork.h. */
#include "config.h"

#include "cpuwork.h"

static int
is_prime(unsigned long k)
{
	unsigned long d;

	if (k < 2)
		return 0;
	if (k < 4)
		return 1;
	if (k % 2 == 0)
		return 0;
	for (d = 3; d <= k / d; d += 2)
		if (k % d == 0)
			return 0;
	return 1;
}

unsigned long
cpu_count_primes(unsigned long n)
{
	unsigned long k, count = 0;

	for (k = 2; k < n; k++)
		count += (unsigned long)is_prime(k);
	return count;
}
