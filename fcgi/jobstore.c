/* jobstore — opening a store by URL, and what the stores share;
 * contract in jobstore.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobstore.h"
#include "num.h"

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

/* redis://HOST[:PORT][/DB]; host may be [v6]. Returns 0 or -1. */
static int
parse_redis_url(const char *rest, char *host, size_t hcap, int *port, int *db)
{
	const char *end = rest + strcspn(rest, "/"), *colon = NULL, *p;
	long long v;

	*port = 6379;
	*db = 0;
	if (*rest == '[') {
		if ((p = memchr(rest, ']', (size_t)(end - rest))) == NULL)
			return -1;
		if ((size_t)(p - rest - 1) >= hcap)
			return -1;
		memcpy(host, rest + 1, (size_t)(p - rest - 1));
		host[p - rest - 1] = '\0';
		colon = p[1] == ':' ? p + 1 : NULL;
	} else {
		colon = memchr(rest, ':', (size_t)(end - rest));
		p = colon ? colon : end;
		if ((size_t)(p - rest) >= hcap)
			return -1;
		memcpy(host, rest, (size_t)(p - rest));
		host[p - rest] = '\0';
	}
	if (host[0] == '\0')
		snprintf(host, hcap, "127.0.0.1");
	if (colon != NULL) {
		if (num_parse_int(colon + 1, (size_t)(end - colon - 1), &v) !=
		        NUM_OK ||
		    v < 1 || v > 65535 || end == colon + 1)
			return -1;
		*port = (int)v;
	}
	if (*end == '/' && end[1] != '\0') {
		if (num_parse_int(end + 1, strlen(end + 1), &v) != NUM_OK ||
		    v < 0 || v > 1000)
			return -1;
		*db = (int)v;
	}
	return 0;
}

enum jobstore_result
jobstore_open(const char *url, struct jobstore **out, char *err, size_t errlen)
{
	char host[256];
	int port, db;

	*out = NULL;
	if (url == NULL || *url == '\0') {
		snprintf(err, errlen, "no store given");
		return JOBSTORE_EINVAL;
	}
	if (strncmp(url, "redis://", 8) == 0) {
		if (parse_redis_url(url + 8, host, sizeof(host), &port, &db)) {
			snprintf(err, errlen,
			    "%s: not redis://HOST[:PORT][/DB]", url);
			return JOBSTORE_EINVAL;
		}
		return jobstore_redis_open(host, port, db, out, err, errlen);
	}
	if (strncmp(url, "sqlite:", 7) == 0)
		url += 7;
	if (strstr(url, "://") != NULL || *url == '\0') {
		snprintf(err, errlen,
		    "%s: not a store (redis://HOST:PORT or a database path)",
		    url);
		return JOBSTORE_EINVAL;
	}
	return jobstore_sqlite_open(url, out, err, errlen);
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
