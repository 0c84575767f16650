/*
 * num — number parsing and printing with the semantics of the original
 * FastAPI app: pydantic v2 (pydantic-core 2.46) in lax mode, validating a
 * query-string value as `float` or `int`.
 *
 * Contract:
 *  - Pure: no I/O, no allocation, no globals; the program must not change
 *    LC_NUMERIC. Inputs are byte spans that must be followed by a NUL at
 *    s[len]; a span holding a NUL byte is never a number.
 *  - num_parse_float: Unicode whitespace around the value is ignored; the
 *    rest follows Rust's f64 grammar (decimal, "inf", "infinity", "nan",
 *    any case, optional sign). Failing that, single underscores between
 *    characters are dropped (no trimming then), as pydantic does. Overflow
 *    gives +-inf (the range check that follows rejects it).
 *  - num_parse_int: trimmed; optional sign; decimal digits with single
 *    underscores; a fraction of only zeros ("3.0") is allowed, anything
 *    else (1.5, 1e3, 1.) is NUM_EPARSE; a digit run longer than 4300
 *    directly at the start is NUM_ESIZE (Python's int limit). Values
 *    beyond long long saturate to LLONG_MIN/LLONG_MAX; the caller's range
 *    check then rejects them, as pydantic does with its big integers.
 *  - Limit: a literal longer than NUM_SCRATCH_MAX bytes that needs its
 *    underscores removed is rejected (pydantic would accept it).
 *  - num_format: the shortest text that reads back as the same double,
 *    with no ".0" for integral values (2 -> "2", 0.1 -> "0.1").
 */
#ifndef FCGILAB_NUM_H
#define FCGILAB_NUM_H

#include <stddef.h>

enum num_status {
	NUM_OK,
	NUM_EPARSE, /* not a number of the wanted kind */
	NUM_ESIZE,  /* an integer with more than 4300 digits */
};

#define NUM_SCRATCH_MAX 1024

enum num_status num_parse_float(const char *s, size_t len, double *out);
enum num_status num_parse_int(const char *s, size_t len, long long *out);

/* Longest text num_format writes, NUL included. */
#define NUM_FMT_MAX 32
/* Write the shortest round-trip text of v into buf; returns its length. */
size_t num_format(double v, char buf[NUM_FMT_MAX]);

/* The smallest printf %g precision (1..17) that reads back as v, for
 * encoders such as jansson's JSON_REAL_PRECISION. */
int num_precision(double v);

#endif
