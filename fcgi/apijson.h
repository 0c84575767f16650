/*
 * apijson — the API's JSON text, as FastAPI (pydantic v2, Python's json)
 * writes it, in one place for every module that answers: the app's
 * routes, the jobs, the payloads, the uploads.
 *
 *   any body      apijson_dump: compact (FastAPI's separators), each
 *                 float in Python's shortest form (60.0, 0.1)
 *   422           {"detail":[{"type","loc","msg","input"[,"ctx"]}, …]}:
 *                 apijson_error for each error, apijson_errors for the
 *                 body (apijson_error_body for one)
 *   4xx/5xx       {"detail":"<message>"}: apijson_detail
 *
 * and the words and header the mux's answers share (APIJSON_*).
 *
 * Contract: no I/O, no globals; jansson values and malloc'd text. Values
 * passed in are stolen (also on failure); a NULL result means ENOMEM.
 * apijson_real_text is the exception: caller's buffer, no allocation.
 */
#ifndef FCGILAB_APIJSON_H
#define FCGILAB_APIJSON_H

#include <jansson.h>
#include <stddef.h>

#define APIJSON_INTERNAL    "Internal Server Error"
#define APIJSON_UNAVAILABLE "Service Unavailable"
#define APIJSON_NOT_FOUND   "Not Found"
#define APIJSON_TOO_LARGE   "Content Too Large"
/* The 500 body ready-made, for when there is no memory to build one. */
#define APIJSON_INTERNAL_BODY "{\"detail\":\"" APIJSON_INTERNAL "\"}"
/* With every 503: when to try again (seconds). */
#define APIJSON_RETRY_AFTER "Retry-After: 1\r\n"

/* v (stolen) as text. */
char *apijson_dump(json_t *v, size_t *lenp);

/* One pydantic error. where is "query", "body" or "path"; field may be
 * NULL (loc is then [where]); input NULL is JSON null; ctx NULL is none. */
json_t *apijson_error(const char *type, const char *where, const char *field,
    const char *msg, json_t *input, json_t *ctx);

/* pydantic's string_pattern_mismatch of input against pattern. */
json_t *apijson_pattern_error(const char *where, const char *field,
    const char *input, const char *pattern);

/* {"detail": errors} (a JSON array, stolen) as text. */
char *apijson_errors(json_t *errors, size_t *lenp);

/* {"detail": [error]} (stolen) as text. */
char *apijson_error_body(json_t *error, size_t *lenp);

/* {"detail": msg} as text. */
char *apijson_detail(const char *msg, size_t *lenp);

/* Room for any text apijson_real_text writes, NUL included. */
#define APIJSON_REAL_MAX 32

/* A lone real x as apijson_dump prints it (json_real(x) as the whole
 * document, or a document's only real), without jansson or allocation:
 * for the hot paths that print one number. Returns the length, or 0 for
 * a NaN or an infinity (which JSON cannot carry: jansson refuses them). */
size_t apijson_real_text(double x, char buf[APIJSON_REAL_MAX]);

#endif
