/* redis_auth — where the jobs store's Redis password comes from; contract
 * in redis_auth.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redis_auth.h"
#include "secret.h"

#define OPTION "--queue-password-file"

/*
 * Read the password file path into out (REDIS_AUTH_MAX bytes) by
 * secret.h's rules. label names it in messages. With missing_ok, a file
 * that does not exist is not an error: *found says whether there was one.
 */
static enum redis_auth_result
read_file(const char *path, const char *label, bool missing_ok, bool *found,
    char *out, char *err, size_t errlen)
{
	switch (
	    secret_read_file(path, label, out, REDIS_AUTH_MAX, err, errlen)) {
	case SECRET_OK:
		*found = true;
		return REDIS_AUTH_OK;
	case SECRET_ENOENT:
		*found = false;
		return missing_ok ? REDIS_AUTH_OK : REDIS_AUTH_EINVAL;
	case SECRET_EINVAL:
		break;
	}
	*found = true;
	return REDIS_AUTH_EINVAL;
}

/* Sources 1-3 of redis_auth.h, in order; s->source stays REDIS_AUTH_NONE if
 * none gives a password. */
static enum redis_auth_result
load_outside(struct redis_auth *s, const char *file, char *err, size_t errlen)
{
	const char *dir, *env;
	char path[4096];
	bool found;

	if (file != NULL) {
		if (read_file(file, OPTION, false, &found, s->value, err,
		        errlen) != REDIS_AUTH_OK)
			return REDIS_AUTH_EINVAL;
		s->source = REDIS_AUTH_FILE;
		return REDIS_AUTH_OK;
	}
	dir = getenv("CREDENTIALS_DIRECTORY");
	if (dir != NULL && *dir != '\0') {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		        REDIS_AUTH_CREDENTIAL) >= sizeof(path)) {
			snprintf(err, errlen,
			    "CREDENTIALS_DIRECTORY: the path is too long");
			return REDIS_AUTH_EINVAL;
		}
		if (read_file(path, "credential", true, &found, s->value, err,
		        errlen) != REDIS_AUTH_OK)
			return REDIS_AUTH_EINVAL;
		if (found) {
			s->source = REDIS_AUTH_CREDENTIAL_FILE;
			return REDIS_AUTH_OK;
		}
	}
	env = getenv(REDIS_AUTH_ENV);
	if (env != NULL && *env != '\0') {
		if (strlen(env) >= REDIS_AUTH_MAX) {
			snprintf(err, errlen, "%s: longer than %d bytes",
			    REDIS_AUTH_ENV, REDIS_AUTH_MAX - 1);
			return REDIS_AUTH_EINVAL;
		}
		snprintf(s->value, sizeof(s->value), "%s", env);
		s->source = REDIS_AUTH_ENVIRONMENT;
	}
	return REDIS_AUTH_OK;
}

enum redis_auth_result
redis_auth_load(
    struct redis_auth *s, const char *file, char *url, char *err, size_t errlen)
{
	enum redis_auth_result r = REDIS_AUTH_EINVAL;
	struct redis_url u;

	memset(s, 0, sizeof(*s));
	if (errlen > 0)
		err[0] = '\0';
	if (url == NULL || !redis_url_is_redis(url)) {
		if (file == NULL)
			return REDIS_AUTH_OK;
		snprintf(err, errlen, OPTION " is for a redis:// store");
		return REDIS_AUTH_EINVAL;
	}
	if (redis_url_parse(url, &u, err, errlen) == REDIS_URL_OK &&
	    (r = load_outside(s, file, err, errlen)) == REDIS_AUTH_OK &&
	    s->source == REDIS_AUTH_NONE && u.password[0] != '\0') {
		memcpy(s->value, u.password, sizeof(s->value));
		s->source = REDIS_AUTH_URL;
	}
	redis_url_wipe(&u);
	redis_url_mask(url);
	if (r != REDIS_AUTH_OK)
		redis_auth_wipe(s);
	return r;
}

const char *
redis_auth_password(const struct redis_auth *s)
{
	return s->source == REDIS_AUTH_NONE ? NULL : s->value;
}

const char *
redis_auth_source_name(enum redis_auth_source src)
{
	switch (src) {
	case REDIS_AUTH_NONE:
		return "none";
	case REDIS_AUTH_FILE:
		return OPTION;
	case REDIS_AUTH_CREDENTIAL_FILE:
		return "$CREDENTIALS_DIRECTORY/" REDIS_AUTH_CREDENTIAL;
	case REDIS_AUTH_ENVIRONMENT:
		return REDIS_AUTH_ENV;
	case REDIS_AUTH_URL:
		return "the URL";
	}
	return "?";
}

void
redis_auth_wipe(struct redis_auth *s)
{
	secret_wipe(s->value, sizeof(s->value));
	s->source = REDIS_AUTH_NONE;
}
