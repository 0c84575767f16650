/*
 * redis_url — the jobs store's Redis URL, parsed. Pure: no I/O, no
 * allocation, no globals, no locale; safe on any thread.
 *
 *   redis://[USER[:PASSWORD]@][HOST][:PORT][/DB]
 *
 * Contract:
 *  - USER and PASSWORD are percent-decoded (RFC 3986 §2.1): a '@', '/',
 *    '?', '#' or '%' in either, and a ':' in the user, must be written
 *    %40, %2F, %3F, %23, %25, %3A. The first ':' of the userinfo ends the
 *    user, so a ':' in the password may stay as it is. Spaces and control
 *    characters must be percent-encoded; %00 is refused (a password is a
 *    C string here). Both are at most REDIS_URL_CRED_MAX - 1 bytes once
 *    decoded. An empty password is no password.
 *  - HOST: a name or an IPv4 address (letters, digits, '.', '-', '_'), or
 *    an IPv6 address in brackets ("[::1]"); empty means 127.0.0.1.
 *    PORT: 1..65535, default 6379. DB: 0..REDIS_URL_DB_MAX, default 0
 *    ("/" alone is db 0). A query ("?…") or fragment ("#…") is refused.
 *  - rediss:// (TLS) is refused with REDIS_URL_ETLS: Debian 12's hiredis
 *    0.14 has no TLS (README, "Redis over TLS": a local stunnel).
 *  - Error messages (err, errlen bytes, always NUL-terminated) say what is
 *    wrong without quoting the URL, which may hold a password.
 *  - The struct is the caller's; it holds the decoded password, so wipe it
 *    (redis_url_wipe) once done. On failure its contents are undefined
 *    (wipe it all the same).
 */
#ifndef FCGILAB_REDIS_URL_H
#define FCGILAB_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>

#define REDIS_URL_HOST_MAX     256
#define REDIS_URL_CRED_MAX     1024 /* user or password, with the NUL */
#define REDIS_URL_DEFAULT_PORT 6379
#define REDIS_URL_DB_MAX       1000

enum redis_url_result {
	REDIS_URL_OK,
	REDIS_URL_ENOTREDIS, /* not redis:// nor rediss:// */
	REDIS_URL_ETLS,      /* rediss:// */
	REDIS_URL_EINVAL,    /* a redis:// URL with something wrong in it */
};

struct redis_url {
	char host[REDIS_URL_HOST_MAX]; /* an IPv6 address without brackets */
	int port;
	int db;
	char user[REDIS_URL_CRED_MAX];     /* "": none (Redis's default user) */
	char password[REDIS_URL_CRED_MAX]; /* "": none given in the URL */
};

/* Is url a redis:// or rediss:// URL (one this module answers for)? */
bool redis_url_is_redis(const char *url);

/* Parse url into *out. */
enum redis_url_result redis_url_parse(
    const char *url, struct redis_url *out, char *err, size_t errlen);

/*
 * Overwrite, in place, the password of a redis:// URL with '*' of the
 * same length (for a program's own argv, which ps shows). Works on
 * invalid URLs too: whatever stands where a password would is covered.
 * Returns true if there was one.
 */
bool redis_url_mask(char *url);

/* Erase the decoded credentials (explicit_bzero: not optimised away). */
void redis_url_wipe(struct redis_url *u);

#endif
