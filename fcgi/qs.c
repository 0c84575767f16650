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

char *
qs_decode(const char *s, size_t len, size_t *outlen)
{
	char *raw, *out;
	size_t i, o = 0;
	int hi, lo;

	if ((raw = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '+') {
			raw[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < len &&
		    (hi = qs_hexval(s[i + 1])) >= 0 &&
		    (lo = qs_hexval(s[i + 2])) >= 0) {
			raw[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			raw[o++] = s[i];
		}
	}
	out = qs_utf8_sanitize(raw, o, outlen);
	free(raw);
	return out;
}

char *
qs_get(const char *query, const char *name, size_t *countp, size_t *lenp)
{
	const char *p, *amp, *eq, *vstart = NULL;
	size_t count = 0, klen, vlen = 0, keylen;
	char *key;

	if (countp)
		*countp = 0;
	if (query == NULL)
		return NULL;
	for (p = query; *p != '\0'; p = *amp ? amp + 1 : amp) {
		amp = strchrnul(p, '&');
		if (amp == p)
			continue;
		eq = memchr(p, '=', (size_t)(amp - p));
		klen = (size_t)((eq ? eq : amp) - p);
		if ((key = qs_decode(p, klen, &keylen)) == NULL)
			return NULL;
		if (keylen == strlen(name) && memcmp(key, name, keylen) == 0) {
			count++;
			vstart = eq ? eq + 1 : amp;
			vlen = (size_t)(amp - vstart);
		}
		free(key);
	}
	if (countp)
		*countp = count;
	return count ? qs_decode(vstart, vlen, lenp) : NULL;
}
