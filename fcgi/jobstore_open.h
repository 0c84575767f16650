/*
 * jobstore_open — the one place that knows every store: it opens the one
 * a URL names (the stores themselves know only jobstore.h's interface).
 *
 * Contract: blocks on I/O (connecting, opening the database); returns
 * enum jobstore_result; the store returned is the caller's
 * (jobstore_close).
 */
#ifndef FCGILAB_JOBSTORE_OPEN_H
#define FCGILAB_JOBSTORE_OPEN_H

#include "jobstore.h"

/*
 * Open the store a URL names:
 *   redis://[USER[:PASSWORD]@]HOST[:PORT][/DB]
 *                              a Redis server (port 6379, db 0 by default;
 *                              the URL's rules: redis_url.h)
 *   sqlite:PATH or PATH        an SQLite database file, created if needed
 * password, if not NULL, is Redis's password from outside the URL (a
 * file, a credential, the environment: redis_auth.h) and replaces the URL's;
 * SQLite ignores it. With a password, every connection the store makes (the
 * first, and each one made again after a failure) sends AUTH [USER] PASSWORD,
 * then SELECT DB, before anything else; a USER without any password is EINVAL,
 * before connecting. On failure *out is NULL and err (errlen bytes) says why,
 * without the password: EINVAL for a bad URL (or a db the server does not
 * have), EAUTH when the server refuses the credentials (WRONGPASS, NOAUTH) or
 * the user lacks a command (NOPERM), EIO when it cannot be reached.
 */
enum jobstore_result jobstore_open(const char *url, const char *password,
    struct jobstore **out, char *err, size_t errlen);

/* The per-store constructors jobstore_open dispatches to. The Redis store
 * keeps its own copy of u's credentials (for reconnecting) and erases it
 * when closed. */
struct redis_url;
enum jobstore_result jobstore_sqlite_open(
    const char *path, struct jobstore **out, char *err, size_t errlen);
enum jobstore_result jobstore_redis_open(
    const struct redis_url *u, struct jobstore **out, char *err, size_t errlen);

#endif
