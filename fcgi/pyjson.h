/*
 * pyjson — where and why Python's json.loads would fail on a text, so that
 * FastAPI's json_invalid error (jobs.h) carries Python's message and
 * position, not jansson's.
 *
 * Contract:
 *  - Pure: no I/O, no allocation, no globals.
 *  - A scanner with the steps of Python's json.decoder (3.11): whitespace
 *    " \t\n\r", objects, arrays, strings with their escapes, the number
 *    grammar, null/true/false and Python's NaN/Infinity/-Infinity, then
 *    "Extra data" after the value. Messages are the C scanner's words
 *    ("Expecting value", "Expecting ',' delimiter", "Unterminated string
 *    starting at", "Invalid \\escape", …); the position is in characters
 *    (UTF-8 code points), as Python counts.
 *  - It judges syntax only: a text it accepts may still be refused by a
 *    stricter parser (jansson: NaN, huge numbers), which then reports its
 *    own position.
 *  - Bounded: nesting deeper than PYJSON_MAX_DEPTH gives up (Python itself
 *    raises RecursionError near 1000) without recursing further.
 */
#ifndef FCGILAB_PYJSON_H
#define FCGILAB_PYJSON_H

#include <stdbool.h>
#include <stddef.h>

#define PYJSON_MAX_DEPTH 900

/* true with *msg (static text) and *pos (characters) when Python's
 * json.loads fails on body (len bytes); false when it would not, or when
 * the scanner gives up. */
bool pyjson_error(const char *body, size_t len, const char **msg, size_t *pos);

#endif
