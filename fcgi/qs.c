/* qs — query-string access; contract in qs.h. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qs.h"

int
qs_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_seq_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and values above U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

char *
qs_utf8_sanitize(const char *s, size_t len, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o;
	size_t i, n;

	/* Worst case: every byte becomes the 3-byte U+FFFD. */
	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	if ((out = malloc(len * 3 + 1)) == NULL)
		return NULL;
	o = out;
	for (i = 0; i < len; i += n) {
		if ((n = utf8_seq_len(p + i, len - i)) == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		} else {
			memcpy(o, p + i, n);
			o += n;
		}
	}
	*o = '\0';
	if (outlen)
		*outlen = (size_t)(o - out);
	return out;
}

/* The byte s[*i] stands for ('+' is a space, %XX a hex escape; anything
 * else, a malformed escape included, itself); *i moves past its last
 * byte less one, as a for loop's i++ then steps over it. */
static unsigned char
decoded_byte(const char *s, size_t len, size_t *i)
{
	int hi, lo;

	if (s[*i] == '+')
		return ' ';
	if (s[*i] == '%' && *i + 2 < len && (hi = qs_hexval(s[*i + 1])) >= 0 &&
	    (lo = qs_hexval(s[*i + 2])) >= 0) {
		*i += 2;
		return (unsigned char)(hi << 4 | lo);
	}
	return (unsigned char)s[*i];
}

char *
qs_decode(const char *s, size_t len, size_t *outlen)
{
	char *raw, *out;
	size_t i, o = 0;

	if ((raw = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		raw[o++] = (char)decoded_byte(s, len, &i);
	out = qs_utf8_sanitize(raw, o, outlen);
	free(raw);
	return out;
}

/* Does the key k (klen raw bytes) decode to name? Decoded on the fly,
 * without allocating, for an ASCII name: a byte sequence the UTF-8 pass
 * would replace can never equal ASCII bytes, so comparing the decoded
 * bytes is comparing the decoded text. Other names go the long way. */
static int
key_is(const char *k, size_t klen, const char *name)
{
	const unsigned char *n = (const unsigned char *)name;
	size_t i, j = 0, keylen;
	int c, same;
	char *key;

	for (i = 0; n[i] != '\0'; i++)
		if (n[i] >= 0x80) {
			if ((key = qs_decode(k, klen, &keylen)) == NULL)
				return -1;
			same = keylen == strlen(name) &&
			    memcmp(key, name, keylen) == 0;
			free(key);
			return same;
		}
	for (i = 0; i < klen; i++, j++) {
		c = decoded_byte(k, klen, &i);
		if (n[j] == '\0' || c != n[j])
			return 0;
	}
	return n[j] == '\0';
}

/* The raw span of name's last value in query; the count of its keys. */
static size_t
qs_find(const char *query, const char *name, const char **vp, size_t *vlenp,
    int *enomem)
{
	const char *p, *amp, *eq;
	size_t count = 0, klen;
	int m;

	*enomem = 0;
	if (query == NULL)
		return 0;
	for (p = query; *p != '\0'; p = *amp ? amp + 1 : amp) {
		amp = strchrnul(p, '&');
		if (amp == p)
			continue;
		eq = memchr(p, '=', (size_t)(amp - p));
		klen = (size_t)((eq ? eq : amp) - p);
		if ((m = key_is(p, klen, name)) < 0) {
			*enomem = 1;
			return 1;
		}
		if (m) {
			count++;
			*vp = eq ? eq + 1 : amp;
			*vlenp = (size_t)(amp - *vp);
		}
	}
	return count;
}

char *
qs_get(const char *query, const char *name, size_t *countp, size_t *lenp)
{
	const char *v = NULL;
	size_t count, vlen = 0;
	int enomem;

	count = qs_find(query, name, &v, &vlen, &enomem);
	if (countp)
		*countp = count;
	return count && !enomem ? qs_decode(v, vlen, lenp) : NULL;
}

char *
qs_get_buf(const char *query, const char *name, char *buf, size_t cap,
    size_t *countp, size_t *lenp)
{
	const char *v = NULL;
	size_t count, vlen = 0, i;
	int enomem;

	count = qs_find(query, name, &v, &vlen, &enomem);
	if (countp)
		*countp = count;
	if (count == 0 || enomem)
		return NULL;
	/* Plain ASCII with nothing to decode: the raw bytes are the value. */
	for (i = 0; i < vlen; i++)
		if (v[i] == '%' || v[i] == '+' || (unsigned char)v[i] >= 0x80)
			break;
	if (i < vlen || vlen >= cap)
		return qs_decode(v, vlen, lenp);
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
	if (lenp)
		*lenp = vlen;
	return buf;
}
