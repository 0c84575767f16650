/* secret — where the jobs store's Redis password comes from; contract in
 * secret.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secret.h"

#define OPTION "--queue-password-file"

/*
 * Read the password file path into out (SECRET_MAX bytes). label names it
 * in messages. With missing_ok, a file that does not exist is not an
 * error: *found says whether there was one.
 */
static enum secret_result
read_file(const char *path, const char *label, bool missing_ok, bool *found,
    char *out, char *err, size_t errlen)
{
	char buf[SECRET_MAX + 2]; /* room for "\r\n" after the longest */
	enum secret_result r = SECRET_EINVAL;
	size_t n = 0;
	ssize_t k;
	int fd;

	*found = false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		if (missing_ok && errno == ENOENT)
			return SECRET_OK;
		snprintf(
		    err, errlen, "%s %s: %s", label, path, strerror(errno));
		return SECRET_EINVAL;
	}
	*found = true;
	while (n < sizeof(buf)) {
		if ((k = read(fd, buf + n, sizeof(buf) - n)) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s %s: %s", label, path,
			    strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0)
		snprintf(err, errlen, "%s %s: the file is empty", label, path);
	else if (n >= SECRET_MAX)
		snprintf(err, errlen, "%s %s: longer than %d bytes", label,
		    path, SECRET_MAX - 1);
	else if (memchr(buf, '\0', n) != NULL)
		snprintf(err, errlen, "%s %s: holds a NUL byte", label, path);
	else if (memchr(buf, '\n', n) != NULL)
		snprintf(err, errlen,
		    "%s %s: more than one line (the password is the first "
		    "and only line)",
		    label, path);
	else {
		memcpy(out, buf, n);
		out[n] = '\0';
		r = SECRET_OK;
	}
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return r;
}

/* Sources 1-3 of secret.h, in order; s->source stays SECRET_NONE if none
 * gives a password. */
static enum secret_result
load_outside(struct secret *s, const char *file, char *err, size_t errlen)
{
	const char *dir, *env;
	char path[4096];
	bool found;

	if (file != NULL) {
		if (read_file(file, OPTION, false, &found, s->value, err,
		        errlen) != SECRET_OK)
			return SECRET_EINVAL;
		s->source = SECRET_FILE;
		return SECRET_OK;
	}
	dir = getenv("CREDENTIALS_DIRECTORY");
	if (dir != NULL && *dir != '\0') {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		        SECRET_CREDENTIAL) >= sizeof(path)) {
			snprintf(err, errlen,
			    "CREDENTIALS_DIRECTORY: the path is too long");
			return SECRET_EINVAL;
		}
		if (read_file(path, "credential", true, &found, s->value, err,
		        errlen) != SECRET_OK)
			return SECRET_EINVAL;
		if (found) {
			s->source = SECRET_CREDENTIAL_FILE;
			return SECRET_OK;
		}
	}
	env = getenv(SECRET_ENV);
	if (env != NULL && *env != '\0') {
		if (strlen(env) >= SECRET_MAX) {
			snprintf(err, errlen, "%s: longer than %d bytes",
			    SECRET_ENV, SECRET_MAX - 1);
			return SECRET_EINVAL;
		}
		snprintf(s->value, sizeof(s->value), "%s", env);
		s->source = SECRET_ENVIRONMENT;
	}
	return SECRET_OK;
}

enum secret_result
secret_load(
    struct secret *s, const char *file, char *url, char *err, size_t errlen)
{
	enum secret_result r = SECRET_EINVAL;
	struct redis_url u;

	memset(s, 0, sizeof(*s));
	if (errlen > 0)
		err[0] = '\0';
	if (url == NULL || !redis_url_is_redis(url)) {
		if (file == NULL)
			return SECRET_OK;
		snprintf(err, errlen, OPTION " is for a redis:// store");
		return SECRET_EINVAL;
	}
	if (redis_url_parse(url, &u, err, errlen) == REDIS_URL_OK &&
	    (r = load_outside(s, file, err, errlen)) == SECRET_OK &&
	    s->source == SECRET_NONE && u.password[0] != '\0') {
		memcpy(s->value, u.password, sizeof(s->value));
		s->source = SECRET_URL;
	}
	redis_url_wipe(&u);
	redis_url_mask(url);
	if (r != SECRET_OK)
		secret_wipe(s);
	return r;
}

const char *
secret_password(const struct secret *s)
{
	return s->source == SECRET_NONE ? NULL : s->value;
}

const char *
secret_source_name(enum secret_source src)
{
	switch (src) {
	case SECRET_NONE:
		return "none";
	case SECRET_FILE:
		return OPTION;
	case SECRET_CREDENTIAL_FILE:
		return "$CREDENTIALS_DIRECTORY/" SECRET_CREDENTIAL;
	case SECRET_ENVIRONMENT:
		return SECRET_ENV;
	case SECRET_URL:
		return "the URL";
	}
	return "?";
}

void
secret_wipe(struct secret *s)
{
	explicit_bzero(s->value, sizeof(s->value));
	s->source = SECRET_NONE;
}
