/*
 * secret — where the jobs store's Redis password comes from, for
 * fcgilab-mux and fcgilab-worker (their main(), once, at start).
 *
 * The first of these that gives one wins:
 *   1. the file --queue-password-file FILE names;
 *   2. $CREDENTIALS_DIRECTORY/redis-password, if that file exists (a
 *      systemd credential: LoadCredential=redis-password:PATH);
 *   3. the environment variable FCGILAB_REDIS_PASSWORD (empty: unset);
 *   4. the password in the redis:// URL (which ps shows: see below).
 * The more private sources win over the leakier ones. A file holds the
 * password on one line: one trailing "\n" (or "\r\n") is stripped; an
 * empty file, a second line, a NUL byte or more than SECRET_MAX - 1 bytes
 * is an error, and so is a file that cannot be read. For a store that is
 * not redis:// the sources 2-4 are ignored and a FILE is an error.
 *
 * Contract:
 *  - I/O: reads FILE or the credential (open/read/close, nothing kept
 *    open) and the environment. No threads, no globals, no logging.
 *  - secret_load parses url (redis_url.h) and returns its errors: a URL
 *    that is not valid is refused here, before any connection.
 *  - secret_load masks the URL's password IN PLACE ('*' for each byte,
 *    redis_url_mask): pass it the program's own argv string, so that ps
 *    and /proc/PID/cmdline stop showing it (they show it from exec until
 *    then). Everything after must use secret_password(), not the URL's.
 *  - The password lives in the caller's struct secret; secret_wipe()
 *    erases it once the store has its own copy.
 *  - Messages (err, errlen bytes) never hold the password.
 *  - Return convention: enum secret_result.
 */
#ifndef FCGILAB_SECRET_H
#define FCGILAB_SECRET_H

#include <stddef.h>

#include "redis_url.h"

#define SECRET_MAX        REDIS_URL_CRED_MAX /* with the NUL */
#define SECRET_ENV        "FCGILAB_REDIS_PASSWORD"
#define SECRET_CREDENTIAL "redis-password"

enum secret_result {
	SECRET_OK,
	SECRET_EINVAL, /* a bad URL, an unreadable or malformed file */
};

enum secret_source {
	SECRET_NONE, /* no password: AUTH is not sent */
	SECRET_FILE,
	SECRET_CREDENTIAL_FILE,
	SECRET_ENVIRONMENT,
	SECRET_URL,
};

struct secret {
	enum secret_source source;
	char value[SECRET_MAX]; /* NUL-terminated; "" when SECRET_NONE */
};

/* Find the password for the store url names (url may be NULL: no store);
 * file is --queue-password-file's FILE or NULL. */
enum secret_result secret_load(
    struct secret *s, const char *file, char *url, char *err, size_t errlen);

/* The password, or NULL when there is none. */
const char *secret_password(const struct secret *s);

/* Where it came from, for logs: "--queue-password-file", ... */
const char *secret_source_name(enum secret_source src);

/* Erase the password (explicit_bzero). */
void secret_wipe(struct secret *s);

#endif
