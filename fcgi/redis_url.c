/* redis_url — the jobs store's Redis URL, parsed; contract in redis_url.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qs.h"
#include "redis_url.h"

#define SCHEME     "redis://"
#define SCHEME_TLS "rediss://"

static __attribute__((format(printf, 3, 4))) enum redis_url_result
bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errlen, "redis URL: ");
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return REDIS_URL_EINVAL;
}

bool
redis_url_is_redis(const char *url)
{
	return url != NULL &&
	    (strncmp(url, SCHEME, strlen(SCHEME)) == 0 ||
	        strncmp(url, SCHEME_TLS, strlen(SCHEME_TLS)) == 0);
}

/* Percent-decode s[0..n) into out (cap bytes with the NUL). what names
 * the part in messages. */
static enum redis_url_result
decode(const char *s, size_t n, char *out, size_t cap, const char *what,
    char *err, size_t errlen)
{
	size_t i, o = 0;
	unsigned char c;
	int hi, lo;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return bad(err, errlen,
				    "bad percent-encoding in the %s (%%XX, "
				    "two hex digits)",
				    what);
			hi = qs_hexval(s[i + 1]);
			lo = qs_hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return bad(err, errlen,
				    "bad percent-encoding in the %s (%%XX, "
				    "two hex digits)",
				    what);
			c = (unsigned char)(hi << 4 | lo);
			if (c == 0)
				return bad(err, errlen,
				    "%%00 (a NUL byte) is not allowed in the "
				    "%s",
				    what);
			i += 2;
		} else if (c <= ' ' || c == 0x7f) {
			return bad(err, errlen,
			    "a space or control character in the %s must be "
			    "percent-encoded",
			    what);
		}
		if (o + 1 >= cap)
			return bad(err, errlen,
			    "the %s is longer than %zu bytes", what, cap - 1);
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return REDIS_URL_OK;
}

/* USER[:PASSWORD], s[0..n), the text before the host's '@'. */
static enum redis_url_result
parse_userinfo(
    const char *s, size_t n, struct redis_url *out, char *err, size_t errlen)
{
	const char *colon = memchr(s, ':', n);
	size_t ulen = colon ? (size_t)(colon - s) : n;
	enum redis_url_result r;

	if (memchr(s, '@', n) != NULL)
		return bad(err, errlen,
		    "a '@' in the user or password must be written %%40");
	if ((r = decode(s, ulen, out->user, sizeof(out->user), "user", err,
	         errlen)) != REDIS_URL_OK)
		return r;
	if (colon == NULL)
		return REDIS_URL_OK;
	return decode(colon + 1, n - ulen - 1, out->password,
	    sizeof(out->password), "password", err, errlen);
}

/* A decimal number s[0..n) in [lo, hi]; -1 if it is not one. */
static long
number(const char *s, size_t n, long lo, long hi)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= lo && v <= hi ? v : -1;
}

static enum redis_url_result
parse_port(
    const char *s, size_t n, struct redis_url *out, char *err, size_t errlen)
{
	long v = number(s, n, 1, 65535);

	if (v < 0)
		return bad(err, errlen, "the port must be a number 1..65535");
	out->port = (int)v;
	return REDIS_URL_OK;
}

/* HOST[:PORT], s[0..n). */
static enum redis_url_result
parse_hostport(
    const char *s, size_t n, struct redis_url *out, char *err, size_t errlen)
{
	const char *close, *colon;
	unsigned char a6[16];
	size_t hlen, i;

	if (n > 0 && s[0] == '[') {
		if ((close = memchr(s, ']', n)) == NULL)
			return bad(err, errlen,
			    "'[' without ']' around the "
			    "IPv6 address");
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(out->host))
			return bad(err, errlen, "bad IPv6 address");
		memcpy(out->host, s + 1, hlen);
		out->host[hlen] = '\0';
		if (inet_pton(AF_INET6, out->host, a6) != 1)
			return bad(err, errlen, "bad IPv6 address");
		colon = close + 1;
		if (colon == s + n)
			return REDIS_URL_OK;
		if (*colon != ':')
			return bad(err, errlen, "unexpected text after ']'");
		return parse_port(
		    colon + 1, (size_t)(s + n - colon - 1), out, err, errlen);
	}
	colon = memchr(s, ':', n);
	hlen = colon ? (size_t)(colon - s) : n;
	if (colon != NULL &&
	    memchr(colon + 1, ':', (size_t)(s + n - colon - 1)) != NULL)
		return bad(err, errlen,
		    "an IPv6 address goes in brackets, as in "
		    "redis://[::1]:6379");
	if (hlen >= sizeof(out->host))
		return bad(err, errlen, "the host name is too long");
	for (i = 0; i < hlen; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= 'A' && s[i] <= 'Z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		        s[i] == '-' || s[i] == '_'))
			return bad(err, errlen,
			    "bad character in the host name (a name, an "
			    "IPv4 address or [IPv6])");
	if (hlen == 0)
		snprintf(out->host, sizeof(out->host), "127.0.0.1");
	else {
		memcpy(out->host, s, hlen);
		out->host[hlen] = '\0';
	}
	if (colon == NULL)
		return REDIS_URL_OK;
	return parse_port(colon + 1, n - hlen - 1, out, err, errlen);
}

enum redis_url_result
redis_url_parse(
    const char *url, struct redis_url *out, char *err, size_t errlen)
{
	const char *p, *end, *at;
	enum redis_url_result r;
	long v;

	memset(out, 0, sizeof(*out));
	out->port = REDIS_URL_DEFAULT_PORT;
	if (errlen > 0)
		err[0] = '\0';
	if (url != NULL && strncmp(url, SCHEME_TLS, strlen(SCHEME_TLS)) == 0) {
		snprintf(err, errlen,
		    "redis URL: rediss:// (TLS) is not supported: Debian 12's "
		    "hiredis 0.14 has no TLS; reach a TLS Redis through a "
		    "local stunnel (README, \"Redis over TLS\")");
		return REDIS_URL_ETLS;
	}
	if (url == NULL || strncmp(url, SCHEME, strlen(SCHEME)) != 0) {
		snprintf(err, errlen, "not a redis:// URL");
		return REDIS_URL_ENOTREDIS;
	}
	p = url + strlen(SCHEME);
	end = p + strcspn(p, "/?#");
	/* the userinfo ends at the authority's last '@' (RFC 3986 §3.2) */
	at = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at != NULL) {
		if ((r = parse_userinfo(p, (size_t)(at - p), out, err,
		         errlen)) != REDIS_URL_OK)
			return r;
		p = at + 1;
	}
	if ((r = parse_hostport(p, (size_t)(end - p), out, err, errlen)) !=
	    REDIS_URL_OK)
		return r;
	if (strpbrk(end, "?#") != NULL)
		return bad(err, errlen,
		    "a query (?...) or fragment (#...) is not supported");
	if (*end == '/' && end[1] != '\0') {
		if ((v = number(
		         end + 1, strlen(end + 1), 0, REDIS_URL_DB_MAX)) < 0)
			return bad(err, errlen,
			    "the db must be a number 0..%d after the one '/'",
			    REDIS_URL_DB_MAX);
		out->db = (int)v;
	}
	return REDIS_URL_OK;
}

bool
redis_url_mask(char *url)
{
	char *p, *at, *colon;
	bool masked = false;

	if (!redis_url_is_redis(url))
		return false;
	p = strstr(url, "://") + 3;
	/* the last '@' anywhere: on a URL with a stray '/' in its password
	 * that is still where the password ends */
	if ((at = strrchr(p, '@')) == NULL)
		return false;
	if ((colon = memchr(p, ':', (size_t)(at - p))) == NULL)
		return false;
	for (p = colon + 1; p < at; p++) {
		*p = '*';
		masked = true;
	}
	return masked;
}

void
redis_url_wipe(struct redis_url *u)
{
	explicit_bzero(u->user, sizeof(u->user));
	explicit_bzero(u->password, sizeof(u->password));
}
