/*
 * url — the http:// URLs send_many accepts, split into what it needs to
 * connect and to write a request line (RFC 3986 §3, RFC 9110 §4.2.1).
 *
 * Contract:
 *  - Pure: no I/O, no allocation, no globals; struct url is filled in
 *    place with NUL-terminated copies. Nothing is resolved here.
 *  - Accepted: "http://" (any case) host [":" port] [path] ["?" query]
 *    ["#" fragment]. host is a name of letters, digits, '-', '.', '_', an
 *    IPv4 literal, or an IPv6 literal in brackets (no zone id). The port is
 *    1..65535, 80 when absent or empty. An empty path becomes "/". The
 *    fragment is dropped (it is never sent).
 *  - Refused with a distinct result: https (not supported), any other
 *    scheme or none, userinfo ("user@"), a bad host or port, bytes outside
 *    printable ASCII (spaces, controls, UTF-8: percent-encode them), more
 *    than URL_MAX bytes.
 *  - url_query_get() finds a query parameter by its raw (undecoded) name;
 *    a repeated name yields its last value, as Starlette reads it.
 */
#ifndef FCGILAB_URL_H
#define FCGILAB_URL_H

#include <stdbool.h>
#include <stddef.h>

#define URL_MAX      4096
#define URL_HOST_MAX 256

enum url_result {
	URL_OK,
	URL_ESCHEME,   /* no "http://" */
	URL_EHTTPS,    /* https:// is not supported */
	URL_EUSERINFO, /* user@host */
	URL_EHOST,     /* empty or bad host */
	URL_EPORT,     /* not 1..65535 */
	URL_ECHAR,     /* a byte outside printable ASCII */
	URL_ETOOLONG,  /* over URL_MAX */
};

struct url {
	char host[URL_HOST_MAX]; /* IPv6 literals without brackets */
	bool ipv6;               /* host was a bracketed IPv6 literal */
	unsigned port;
	char port_text[6];
	char authority[URL_HOST_MAX + 8]; /* for Host:, port only if given */
	char target[URL_MAX];             /* path and query, never empty */
};

enum url_result url_parse(const char *s, struct url *u);
/* One line of text for a result ("https is not supported", ...). */
const char *url_strerror(enum url_result e);

/*
 * The raw value of the last parameter called name in target's query:
 * returns true with *val pointing into target and *vlen its length, or
 * false if absent.
 */
bool url_query_get(
    const char *target, const char *name, const char **val, size_t *vlen);
/* Whether target already has a query ('?'), so more go after '&'. */
bool url_has_query(const char *target);

#endif
