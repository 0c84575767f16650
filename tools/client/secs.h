/*
 * secs — the --secs option of send_many: what each request's secs=S is.
 *
 * Contract:
 *  - Pure: no I/O, no allocation, no globals.
 *  - secs_parse() takes "S" (fixed) or "A..B" (a range). Numbers are plain
 *    decimals: digits, optionally "." and digits ("3", "0.25"); no sign,
 *    exponent, spaces or "inf". Each is at most SECS_MAX. A > B, or a
 *    range holding no value at 2 decimals (0.001..0.004), is an error.
 *  - A range whose bounds are both written without a decimal point draws
 *    integers: rng_range(A, B), which is Python's random.randint(A, B),
 *    draw for draw. Otherwise it draws hundredths, uniform over the
 *    multiples of 0.01 in [A, B]: randint(ceil(100 A), floor(100 B)) / 100
 *    (so every value sent has at most 2 decimals).
 *  - secs_draw() is a pure function of the spec and the generator state:
 *    the same seed gives the same sequence (Python's, see rng.h).
 *  - Values are sent as num_format() writes them: shortest text, "3" not
 *    "3.0", "0.25".
 */
#ifndef FCGILAB_SECS_H
#define FCGILAB_SECS_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

#define SECS_MAX 86400.0

enum secs_mode {
	SECS_FIXED,      /* always lo */
	SECS_RANGE_INT,  /* integers in [ilo, ihi] */
	SECS_RANGE_CENT, /* hundredths in [ilo, ihi], sent as n / 100 */
};

struct secs_spec {
	enum secs_mode mode;
	double lo, hi;    /* the bounds as given (lo == hi when fixed) */
	int64_t ilo, ihi; /* the bounds in the unit drawn */
};

enum secs_result {
	SECS_OK,
	SECS_ESYNTAX, /* not a plain non-negative decimal, or not "A..B" */
	SECS_ETOOBIG, /* over SECS_MAX */
	SECS_EORDER,  /* A > B */
	SECS_EEMPTY,  /* no multiple of 0.01 in [A, B] */
};

enum secs_result secs_parse(const char *s, struct secs_spec *out);
const char *secs_strerror(enum secs_result e);

/*
 * A plain decimal: digits ["." digits]. Returns SECS_OK with the value,
 * and *has_point set when it was written with a decimal point.
 */
enum secs_result secs_parse_value(
    const char *s, size_t len, double *out, int *has_point);

/* The next value of the sequence. */
double secs_draw(const struct secs_spec *sp, struct rng *r);

#endif
