/* jobstore — what the stores share; contract in jobstore.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobstore.h"

const uint32_t jobstore_bucket_ms[JOBSTORE_NBUCKETS] = {5, 10, 25, 50, 100, 250,
    500, 1000, 2500, 5000, 10000, 30000, 60000, 300000};

const char *
jobstore_result_name(enum jobstore_result r)
{
	switch (r) {
	case JOBSTORE_OK:
		return "ok";
	case JOBSTORE_NOTFOUND:
		return "not found";
	case JOBSTORE_CONFLICT:
		return "conflict";
	case JOBSTORE_EMPTY:
		return "empty";
	case JOBSTORE_LOST:
		return "lease lost";
	case JOBSTORE_EIO:
		return "store error";
	case JOBSTORE_ENOMEM:
		return "out of memory";
	case JOBSTORE_EINVAL:
		return "invalid store URL";
	case JOBSTORE_EAUTH:
		return "authentication failed";
	case JOBSTORE_FULL:
		return "too many queued jobs";
	}
	return "?";
}

size_t
jobstore_bucket(uint64_t latency_us)
{
	size_t i;

	for (i = 0; i < JOBSTORE_NBUCKETS; i++)
		if (latency_us <= (uint64_t)jobstore_bucket_ms[i] * 1000)
			return i;
	return JOBSTORE_NBUCKETS;
}

int64_t
jobstore_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
jobstore_close(struct jobstore *s)
{
	if (s != NULL)
		s->ops->close(s);
}

const char *
jobstore_error(const struct jobstore *s)
{
	return s->err;
}
