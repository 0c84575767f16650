/*
 * qs — query-string access with the semantics of Python's
 * urllib.parse.parse_qsl(keep_blank_values=True), which Starlette uses.
 *
 * Contract:
 *  - Pure: no I/O, no globals. Input is the raw QUERY_STRING (may be NULL).
 *  - Pairs are split on '&'; a pair without '=' has the empty value; '+' is
 *    a space; %XX is decoded (a malformed escape is kept as written); the
 *    decoded bytes are made valid UTF-8 by replacing each invalid sequence
 *    with U+FFFD, as Python's decode(errors="replace") does.
 *  - Keys are compared after decoding.
 *  - A repeated key yields its LAST value (Starlette's QueryParams.get);
 *    *countp, when given, receives the number of occurrences.
 *  - Returns a malloc'd NUL-terminated string owned by the caller (free()),
 *    or NULL when the key is absent (count 0) or memory ran out (count > 0).
 *    The decoded value may hold NUL bytes (%00): *lenp is its true length.
 */
#ifndef FCGILAB_QS_H
#define FCGILAB_QS_H

#include <stddef.h>

char *qs_get(const char *query, const char *name, size_t *countp, size_t *lenp);

/* The same, without allocating in the common case: the value goes into
 * buf (cap bytes, NUL included) when it is plain ASCII with nothing to
 * decode and fits; otherwise it is malloc'd as qs_get's is. Free the
 * result only when it is not buf. */
char *qs_get_buf(const char *query, const char *name, char *buf, size_t cap,
    size_t *countp, size_t *lenp);

/* Decode one component (len bytes) by the rules above into a new
 * malloc'd NUL-terminated string. NULL on ENOMEM. */
char *qs_decode(const char *s, size_t len, size_t *outlen);

/* Copy s (len bytes) replacing invalid UTF-8 with U+FFFD; malloc'd,
 * NUL-terminated, its length in *outlen (when given). */
char *qs_utf8_sanitize(const char *s, size_t len, size_t *outlen);

/* The value of hex digit c (either case), or -1. */
int qs_hexval(int c);

#endif
