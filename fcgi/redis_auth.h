/*
 * redis_auth — where the jobs store's Redis password comes from, for
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
 * empty file, a second line, a NUL byte, more than REDIS_AUTH_MAX - 1 bytes,
 * a file others may read and one that cannot be read are errors (the
 * rules of secret.h, which reads it). For a store that is
 * not redis:// the sources 2-4 are ignored and a FILE is an error.
 *
 * Contract:
 *  - I/O: reads FILE or the credential (open/read/close, nothing kept
 *    open) and the environment. No threads, no globals, no logging.
 *  - redis_auth_load parses url (redis_url.h) and returns its errors: a URL
 *    that is not valid is refused here, before any connection.
 *  - redis_auth_load masks the URL's password IN PLACE ('*' for each byte,
 *    redis_url_mask): pass it the program's own argv string, so that ps
 *    and /proc/PID/cmdline stop showing it (they show it from exec until
 *    then). Everything after must use redis_auth_password(), not the URL's.
 *  - The password lives in the caller's struct redis_auth; redis_auth_wipe()
 *    erases it once the store has its own copy.
 *  - Messages (err, errlen bytes) never hold the password.
 *  - Return convention: enum redis_auth_result.
 */
#ifndef FCGILAB_REDIS_AUTH_H
#define FCGILAB_REDIS_AUTH_H

#include <stddef.h>

#include "redis_url.h"

#define REDIS_AUTH_MAX        REDIS_URL_CRED_MAX /* with the NUL */
#define REDIS_AUTH_ENV        "FCGILAB_REDIS_PASSWORD"
#define REDIS_AUTH_CREDENTIAL "redis-password"

enum redis_auth_result {
	REDIS_AUTH_OK,
	REDIS_AUTH_EINVAL, /* a bad URL, an unreadable or malformed file */
};

enum redis_auth_source {
	REDIS_AUTH_NONE, /* no password: AUTH is not sent */
	REDIS_AUTH_FILE,
	REDIS_AUTH_CREDENTIAL_FILE,
	REDIS_AUTH_ENVIRONMENT,
	REDIS_AUTH_URL,
};

struct redis_auth {
	enum redis_auth_source source;
	char
	    value[REDIS_AUTH_MAX]; /* NUL-terminated; "" when REDIS_AUTH_NONE */
};

/* Find the password for the store url names (url may be NULL: no store);
 * file is --queue-password-file's FILE or NULL. */
enum redis_auth_result redis_auth_load(struct redis_auth *s, const char *file,
    char *url, char *err, size_t errlen);

/* The password, or NULL when there is none. */
const char *redis_auth_password(const struct redis_auth *s);

/* Where it came from, for logs: "--queue-password-file", ... */
const char *redis_auth_source_name(enum redis_auth_source src);

/* Erase the password (explicit_bzero). */
void redis_auth_wipe(struct redis_auth *s);

#endif
