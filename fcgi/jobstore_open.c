/* jobstore_open — a store by its URL; contract in jobstore_open.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "jobstore_open.h"
#include "redis_url.h"

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
