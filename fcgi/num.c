/* num — pydantic-compatible number parsing and printing; see num.h. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "num.h"

/* Python's default limit on the digits of an int parsed from a string. */
#define INT_MAX_DIGITS 4300

/* Length of the Unicode White_Space character (UTF-8) at s, or 0. */
static size_t
space_at(const unsigned char *s, size_t len)
{
	if (len >= 1 && ((s[0] >= 0x09 && s[0] <= 0x0d) || s[0] == ' '))
		return 1;
	if (len >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2;
	if (len < 3)
		return 0;
	if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) /* U+1680 */
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x80 &&
	    ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 ||
	        s[2] == 0xaf)) /* U+2000-200A, U+2028, U+2029, U+202F */
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) /* U+205F */
		return 3;
	if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80) /* U+3000 */
		return 3;
	return 0;
}

/* Length of the whitespace character that ends s[0..len), or 0. */
static size_t
space_before(const unsigned char *s, size_t len)
{
	size_t k;

	for (k = 1; k <= 3 && k <= len; k++)
		if (space_at(s + len - k, k) == k)
			return k;
	return 0;
}

static void
trim(const char **s, size_t *len)
{
	size_t k;

	while ((k = space_at((const unsigned char *)*s, *len)) > 0)
		*s += k, *len -= k;
	while ((k = space_before((const unsigned char *)*s, *len)) > 0)
		*len -= k;
}

static size_t
digits(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

static int
is_word(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

/* Rust's f64 grammar: Sign? (inf | infinity | nan | Number). */
static int
float_grammar(const char *s, size_t len)
{
	size_t i = 0, n, m = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	if (is_word(s + i, len - i, "inf") ||
	    is_word(s + i, len - i, "infinity") ||
	    is_word(s + i, len - i, "nan"))
		return 1;
	n = digits(s + i, len - i);
	i += n;
	if (i < len && s[i] == '.') {
		i++;
		m = digits(s + i, len - i);
		i += m;
	}
	if (n == 0 && m == 0)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if ((n = digits(s + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return i == len;
}

/* pydantic's strip_underscores: copy s without '_' into buf, if s has an
 * underscore, none leading or trailing and never two in a row. */
static int
strip_underscores(const char *s, size_t len, char *buf, size_t *outlen)
{
	size_t i, o = 0;
	int seen = 0;

	if (len == 0 || s[0] == '_' || s[len - 1] == '_' ||
	    len > NUM_SCRATCH_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '_') {
			if (s[i - 1] == '_')
				return 0;
			seen = 1;
		} else {
			buf[o++] = s[i];
		}
	}
	buf[o] = '\0';
	*outlen = o;
	return seen;
}

/* Value of text already known to match float_grammar, NUL at s[len]. */
static double
float_value(const char *s, size_t len)
{
	const char *w = s + (s[0] == '+' || s[0] == '-');
	size_t wlen = len - (size_t)(w - s);

	if (is_word(w, wlen, "nan"))
		return NAN;
	if (is_word(w, wlen, "inf") || is_word(w, wlen, "infinity"))
		return s[0] == '-' ? -INFINITY : INFINITY;
	/* The text ends at whitespace or the NUL; strtod stops there too and
	 * rounds correctly; overflow gives +-HUGE_VAL, which is +-inf. */
	return strtod(s, NULL);
}

enum num_status
num_parse_float(const char *s, size_t len, double *out)
{
	char buf[NUM_SCRATCH_MAX + 1];
	const char *t = s;
	size_t tlen = len, blen;

	trim(&t, &tlen);
	if (tlen > 0 && float_grammar(t, tlen)) {
		*out = float_value(t, tlen);
		return NUM_OK;
	}
	if (strip_underscores(s, len, buf, &blen) && float_grammar(buf, blen)) {
		*out = float_value(buf, blen);
		return NUM_OK;
	}
	return NUM_EPARSE;
}

/* Parse "0|[1-9][0-9]*" (no sign) exactly, saturating at LLONG_MAX. */
static enum num_status
json_uint(const char *s, size_t len, unsigned long long *out)
{
	size_t i;

	if (len == 0 || digits(s, len) != len || (s[0] == '0' && len > 1))
		return NUM_EPARSE;
	if (len > INT_MAX_DIGITS)
		return NUM_EPARSE;
	*out = 0;
	for (i = 0; i < len; i++) {
		if (*out > (unsigned long long)LLONG_MAX / 10) {
			*out = (unsigned long long)LLONG_MAX + 1;
			break;
		}
		*out = *out * 10 + (unsigned long long)(s[i] - '0');
	}
	return NUM_OK;
}

static void
signed_value(int neg, unsigned long long u, long long *out)
{
	if (u > (unsigned long long)LLONG_MAX)
		*out = neg ? LLONG_MIN : LLONG_MAX;
	else
		*out = neg ? -(long long)u : (long long)u;
}

/* pydantic's clean_int_str: trim, strip one sign, leading zeros and a
 * ".000" fraction, then underscores. buf receives the digits left. */
static int
clean_int(const char *s, size_t len, char *buf, size_t *blen, int *neg)
{
	const char *t = s;
	size_t tlen = len, i, z;
	int changed;

	trim(&t, &tlen);
	changed = tlen != len;
	*neg = 0;
	if (tlen > 0 && t[0] == '+') {
		if (tlen > 1 && t[1] == '-')
			return 0;
		t++, tlen--, changed = 1;
	}
	if (tlen > 0 && t[0] == '-') {
		if (tlen > 1 && (t[1] == '-' || t[1] == '+'))
			return 0;
		t++, tlen--, changed = 1, *neg = 1;
	}
	/* Leading zeros: after a leading '0', skip the run of '0'/'_' (but
	 * keep one character before a '.'); a string of only zeros keeps its
	 * last one. Whatever follows is left for the final parse to judge. */
	if (tlen == 0 || t[0] < '0' || t[0] > '9')
		return 0;
	z = 0;
	if (t[0] == '0') {
		for (z = 1; z < tlen && (t[z] == '0' || t[z] == '_'); z++)
			;
		if (z == tlen)
			z = tlen - 1;
		else if (t[z] == '.')
			z--;
	}
	if (z > 0)
		t += z, tlen -= z, changed = 1;
	/* A fraction made only of zeros is cut off. */
	for (i = 0; i < tlen && t[i] != '.'; i++)
		;
	if (i < tlen && i + 1 < tlen) {
		for (z = i + 1; z < tlen && t[z] == '0'; z++)
			;
		if (z == tlen)
			tlen = i, changed = 1;
	}
	if (tlen > NUM_SCRATCH_MAX)
		return 0;
	if (strip_underscores(t, tlen, buf, blen))
		return 1;
	if (!changed)
		return 0;
	memcpy(buf, t, tlen);
	buf[tlen] = '\0';
	*blen = tlen;
	return 1;
}

enum num_status
num_parse_int(const char *s, size_t len, long long *out)
{
	char buf[NUM_SCRATCH_MAX + 1];
	unsigned long long u;
	size_t i, blen;
	int neg;

	/* 1. The raw text as a JSON integer: -?(0|[1-9][0-9]*). */
	neg = len > 0 && s[0] == '-';
	i = (size_t)neg;
	if (len > i && s[i] >= '1' && s[i] <= '9' &&
	    neg + digits(s + i, len - i) > INT_MAX_DIGITS)
		return NUM_ESIZE;
	if (json_uint(s + i, len - i, &u) == NUM_OK) {
		signed_value(neg, u, out);
		return NUM_OK;
	}
	/* 2. pydantic's cleaned form, its sign put back: -?(0|[1-9][0-9]*). */
	if (!clean_int(s, len, buf, &blen, &neg))
		return NUM_EPARSE;
	i = 0;
	if (blen > 0 && buf[0] == '-') {
		if (neg)
			return NUM_EPARSE; /* "--5" */
		neg = 1, i = 1;
	}
	if (json_uint(buf + i, blen - i, &u) != NUM_OK)
		return NUM_EPARSE;
	signed_value(neg, u, out);
	return NUM_OK;
}

int
num_precision(double v)
{
	char buf[NUM_FMT_MAX];
	int p;

	for (p = 1; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return p;
	}
	return 17;
}

size_t
num_format(double v, char buf[NUM_FMT_MAX])
{
	int n;

	if (v == 0)
		v = 0; /* print -0 as 0 */
	if (v == floor(v) && fabs(v) < 1e17)
		n = snprintf(buf, NUM_FMT_MAX, "%.0f", v);
	else
		n = snprintf(buf, NUM_FMT_MAX, "%.*g", num_precision(v), v);
	return n < 0 ? 0 : (size_t)n;
}
