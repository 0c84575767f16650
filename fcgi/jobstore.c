/* jobstore — opening a store by URL, and what the stores share;
 * contract in jobstore.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobstore.h"
#include "redis_url.h"

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

static enum jobstore_result
open_redis(const char *url, const char *password, struct jobstore **out,
    char *err, size_t errlen)
{
	enum jobstore_result r = JOBSTORE_EINVAL;
	struct redis_url u;

	if (redis_url_parse(url, &u, err, errlen) != REDIS_URL_OK)
		goto out;
	if (password != NULL) {
		if (strlen(password) >= sizeof(u.password)) {
			snprintf(err, errlen,
			    "the Redis password is longer than %zu bytes",
			    sizeof(u.password) - 1);
			goto out;
		}
		memcpy(u.password, password, strlen(password) + 1);
	}
	if (u.user[0] != '\0' && u.password[0] == '\0') {
		snprintf(err, errlen,
		    "redis URL: user %.64s needs a password, and none was "
		    "given",
		    u.user);
		goto out;
	}
	r = jobstore_redis_open(&u, out, err, errlen);
out:
	redis_url_wipe(&u);
	return r;
}

enum jobstore_result
jobstore_open(const char *url, const char *password, struct jobstore **out,
    char *err, size_t errlen)
{
	*out = NULL;
	if (url == NULL || *url == '\0') {
		snprintf(err, errlen, "no store given");
		return JOBSTORE_EINVAL;
	}
	if (redis_url_is_redis(url))
		return open_redis(url, password, out, err, errlen);
	if (strncmp(url, "sqlite:", 7) == 0)
		url += 7;
	if (strstr(url, "://") != NULL || *url == '\0') {
		/* not echoed if it may hold a password (user:pass@) */
		snprintf(err, errlen,
		    "%s: not a store (redis://HOST:PORT or a database path)",
		    strchr(url, '@') != NULL ? "the URL" : url);
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
