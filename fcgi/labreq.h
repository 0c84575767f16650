/*
 * labreq — what the /lab/ page may ask the lab runner (fcgilab-lab) to
 * run: a JSON body checked field by field and turned into the argv of
 * `fcgilab compare`.
 *
 * Contract:
 *  - Pure: no I/O, no clock, no globals; not thread-aware (callers own
 *    their structs).
 *  - labreq_parse() takes the request body (any bytes, any length) and
 *    fills a struct labreq, or returns -1 with *err set to a malloc'd
 *    JSON error body {"detail":"…"} (the caller frees it) and *status to
 *    the HTTP status to answer (413 too large, 422 anything else). Every
 *    field is bounded, so a run the page can start is bounded in time:
 *    at most LABREQ_POOLS_MAX pools of at most LABREQ_POOL_MAX workers,
 *    LABREQ_N_MAX requests of at most LABREQ_SECS_MAX s, a timeout of at
 *    most LABREQ_TIMEOUT_MAX s.
 *  - labreq_argv() returns a malloc'd NULL-terminated argv (the strings
 *    malloc'd too; labreq_argv_free releases all), or NULL on ENOMEM. It
 *    never goes through a shell: values are separate words, and every
 *    value has been checked to be digits, dots and commas or a scenario
 *    name.
 */
#ifndef FCGILAB_LABREQ_H
#define FCGILAB_LABREQ_H

#include <stdbool.h>
#include <stddef.h>

#define LABREQ_BODY_MAX    4096
#define LABREQ_POOLS_MAX   6
#define LABREQ_POOL_MAX    256
#define LABREQ_N_MAX       2000
#define LABREQ_SECS_MAX    10
#define LABREQ_TIMEOUT_MAX 120
#define LABREQ_CPU_MAX     10000000

struct labreq {
	char scenario[16];
	unsigned pools[LABREQ_POOLS_MAX];
	size_t npools;    /* 0: the scenario's default */
	unsigned n;       /* 0: the default */
	char secs[24];    /* "A..B" or "S", or "" for the default */
	long long seed;   /* -1: random */
	char timeout[16]; /* or "" */
	unsigned cpu;     /* 0: the default */
};

int labreq_parse(
    const char *body, size_t len, struct labreq *out, char **err, int *status);

char **labreq_argv(const struct labreq *r, const char *fcgilab,
    const char *state, const char *out);
void labreq_argv_free(char **argv);

#endif
