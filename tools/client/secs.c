/* secs — parse --secs and draw the per-request values; see secs.h. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "secs.h"

/* Enough digits for any value up to SECS_MAX with room for decimals. */
#define VALUE_TEXT_MAX 32

static const char *const messages[] = {
    [SECS_OK] = "ok",
    [SECS_ESYNTAX] = "expected S or A..B with plain non-negative decimal "
                     "numbers (e.g. 3, 1..10, 0.1..1.0)",
    [SECS_ETOOBIG] = "a value is over 86400 seconds",
    [SECS_EORDER] = "the range A..B needs A <= B",
    [SECS_EEMPTY] = "the range holds no value with 2 decimals",
};

const char *
secs_strerror(enum secs_result e)
{
	return (unsigned)e < sizeof(messages) / sizeof(messages[0])
	    ? messages[e]
	    : "bad --secs";
}

enum secs_result
secs_parse_value(const char *s, size_t len, double *out, int *has_point)
{
	char buf[VALUE_TEXT_MAX];
	size_t i = 0, int_digits, frac_digits = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	int_digits = i;
	*has_point = i < len && s[i] == '.';
	if (*has_point) {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, frac_digits++;
	}
	if (int_digits == 0 || (*has_point && frac_digits == 0) || i != len)
		return SECS_ESYNTAX;
	if (len >= sizeof(buf))
		return int_digits > 5 ? SECS_ETOOBIG : SECS_ESYNTAX;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*out = strtod(buf, NULL); /* the text is C-locale safe: no ',' */
	return *out > SECS_MAX ? SECS_ETOOBIG : SECS_OK;
}

/* Fill sp for a range once both bounds are known. */
static enum secs_result
make_range(struct secs_spec *sp, int lo_point, int hi_point)
{
	if (sp->lo > sp->hi)
		return SECS_EORDER;
	if (!lo_point && !hi_point) {
		sp->mode = SECS_RANGE_INT;
		sp->ilo = (int64_t)sp->lo;
		sp->ihi = (int64_t)sp->hi;
		return SECS_OK;
	}
	/* Multiples of 0.01 inside [lo, hi]; the epsilon absorbs the binary
	 * error of decimal input (0.1 * 100 is 10.000000000000002). */
	sp->mode = SECS_RANGE_CENT;
	sp->ilo = (int64_t)ceil(sp->lo * 100 - 1e-6);
	sp->ihi = (int64_t)floor(sp->hi * 100 + 1e-6);
	return sp->ilo <= sp->ihi ? SECS_OK : SECS_EEMPTY;
}

enum secs_result
secs_parse(const char *s, struct secs_spec *out)
{
	const char *dots = strstr(s, "..");
	enum secs_result e;
	int lo_point, hi_point;

	memset(out, 0, sizeof(*out));
	if (dots == NULL) {
		e = secs_parse_value(s, strlen(s), &out->lo, &lo_point);
		out->hi = out->lo;
		out->mode = SECS_FIXED;
		return e;
	}
	e = secs_parse_value(s, (size_t)(dots - s), &out->lo, &lo_point);
	if (e != SECS_OK)
		return e;
	e = secs_parse_value(dots + 2, strlen(dots + 2), &out->hi, &hi_point);
	if (e != SECS_OK)
		return e;
	return make_range(out, lo_point, hi_point);
}

double
secs_draw(const struct secs_spec *sp, struct rng *r)
{
	switch (sp->mode) {
	case SECS_FIXED:
		return sp->lo;
	case SECS_RANGE_INT:
		return (double)rng_range(r, sp->ilo, sp->ihi);
	case SECS_RANGE_CENT:
		return (double)rng_range(r, sp->ilo, sp->ihi) / 100.0;
	}
	return sp->lo;
}
