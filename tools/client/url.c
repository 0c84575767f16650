/* url — parse the http:// URLs send_many accepts; see url.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "url.h"

static const char *const messages[] = {
    [URL_OK] = "ok",
    [URL_ESCHEME] = "the URL must start with http://",
    [URL_EHTTPS] = "https is not supported (send_many speaks plain HTTP/1.1)",
    [URL_EUSERINFO] = "user names in URLs are not supported",
    [URL_EHOST] = "the URL has no valid host",
    [URL_EPORT] = "the URL's port must be 1..65535",
    [URL_ECHAR] = "the URL holds a space, control or non-ASCII byte "
                  "(percent-encode it)",
    [URL_ETOOLONG] = "the URL is too long",
};

const char *
url_strerror(enum url_result e)
{
	return (unsigned)e < sizeof(messages) / sizeof(messages[0])
	    ? messages[e]
	    : "bad URL";
}

static int
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

static int
is_v6_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

/* Host from s[0..n): a name or an IPv6 literal in brackets. */
static enum url_result
parse_host(const char *s, size_t n, struct url *u)
{
	size_t i;

	if (n > 0 && s[0] == '[') {
		if (n < 4 || s[n - 1] != ']' || n - 2 >= URL_HOST_MAX)
			return URL_EHOST;
		for (i = 1; i < n - 1; i++)
			if (!is_v6_char(s[i]))
				return URL_EHOST;
		memcpy(u->host, s + 1, n - 2);
		u->host[n - 2] = '\0';
		u->ipv6 = true;
		return URL_OK;
	}
	if (n == 0 || n >= URL_HOST_MAX)
		return URL_EHOST;
	for (i = 0; i < n; i++)
		if (!is_name_char(s[i]))
			return URL_EHOST;
	memcpy(u->host, s, n);
	u->host[n] = '\0';
	return URL_OK;
}

static enum url_result
parse_port(const char *s, size_t n, struct url *u)
{
	unsigned port = 0;
	size_t i;

	if (n == 0) {
		u->port = 80;
		return URL_OK;
	}
	if (n > 5)
		return URL_EPORT;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return URL_EPORT;
		port = port * 10 + (unsigned)(s[i] - '0');
	}
	if (port == 0 || port > 65535)
		return URL_EPORT;
	u->port = port;
	return URL_OK;
}

/* Split "host[:port]" of n bytes at the last ':' outside brackets. */
static enum url_result
parse_authority(const char *s, size_t n, struct url *u)
{
	size_t hn = n, i;
	enum url_result e;

	if (memchr(s, '@', n) != NULL)
		return URL_EUSERINFO;
	for (i = n; i > 0; i--) {
		if (s[i - 1] == ']')
			break;
		if (s[i - 1] == ':') {
			hn = i - 1;
			break;
		}
	}
	if ((e = parse_host(s, hn, u)) != URL_OK)
		return e;
	if ((e = parse_port(hn < n ? s + hn + 1 : "", hn < n ? n - hn - 1 : 0,
	         u)) != URL_OK)
		return e;
	snprintf(u->port_text, sizeof(u->port_text), "%u", u->port);
	/* Host: echoes the authority as given, minus an empty port. */
	snprintf(u->authority, sizeof(u->authority), "%.*s",
	    (int)(hn < n && n - hn > 1 ? n : hn), s);
	return URL_OK;
}

enum url_result
url_parse(const char *s, struct url *u)
{
	const char *auth, *end;
	size_t len = strlen(s), i, an, tn;
	enum url_result e;

	memset(u, 0, sizeof(*u));
	if (len >= URL_MAX)
		return URL_ETOOLONG;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return URL_ECHAR;
	if (strncasecmp(s, "https://", 8) == 0)
		return URL_EHTTPS;
	if (strncasecmp(s, "http://", 7) != 0)
		return URL_ESCHEME;
	auth = s + 7;
	an = strcspn(auth, "/?#");
	if ((e = parse_authority(auth, an, u)) != URL_OK)
		return e;
	end = auth + an;
	tn = strcspn(end, "#");
	if (tn == 0 || end[0] != '/') { /* "" or "?q": the path is "/" */
		u->target[0] = '/';
		memcpy(u->target + 1, end, tn);
		u->target[tn + 1] = '\0';
	} else {
		memcpy(u->target, end, tn);
		u->target[tn] = '\0';
	}
	return URL_OK;
}

bool
url_has_query(const char *target)
{
	return strchr(target, '?') != NULL;
}

bool
url_query_get(
    const char *target, const char *name, const char **val, size_t *vlen)
{
	const char *q = strchr(target, '?'), *p, *eq;
	size_t nlen = strlen(name), plen;
	bool found = false;

	if (q == NULL)
		return false;
	for (p = q + 1; *p != '\0'; p += plen + (p[plen] == '&')) {
		plen = strcspn(p, "&");
		eq = memchr(p, '=', plen);
		if ((size_t)((eq != NULL ? eq : p + plen) - p) != nlen ||
		    memcmp(p, name, nlen) != 0)
			continue;
		found = true;
		*val = eq != NULL ? eq + 1 : p + plen;
		*vlen = (size_t)(p + plen - *val);
	}
	return found;
}
