/*
 * report — the comparison of send_many runs that `fcgilab compare` prints
 * and draws: per run its totals, the ideal total for its backend, latency
 * percentiles and errors; an explanation computed from those figures; an
 * SVG timeline with one bar per request.
 *
 * Contract:
 *  - A run is read from send_many's CSV (index,secs,start,end,latency,
 *    status,error; times in seconds since the run began). report_load()
 *    owns what it allocates; report_run_free() releases it.
 *  - Writers print to a FILE the caller owns; they allocate only
 *    transiently. Numbers in the text come from the runs, never canned.
 *  - pool = 0 means "no pool": one asynchronous process, whose ideal
 *    total is the longest wait; pool P > 0: max(largest S, sum S / P),
 *    with first-come-first-served (the pool's real queue) beside it.
 *  - Errors are returned (-1 with errno, or with a message in err),
 *    never exit()ed.
 */
#ifndef FCGILAB_REPORT_H
#define FCGILAB_REPORT_H

#include <stddef.h>
#include <stdio.h>

struct report_row {
	size_t index;
	double secs, start, end, latency;
	int status;     /* 0: no response */
	char error[24]; /* "ok" or send_many's error kind */
};

struct report_run {
	char *label;
	unsigned pool; /* 0: the async server */
	struct report_row *rows;
	size_t n;
	/* computed by report_load */
	size_t ok, failed, timeouts;
	double wall, sum_secs, max_secs, ideal, fcfs, rps;
	double p50, p95, max_latency; /* over answered requests */
};

/* Read a send_many CSV into run; err (128 bytes) says why on -1. */
int report_load(struct report_run *run, const char *label, unsigned pool,
    const char *csv_path, char err[128]);
void report_run_free(struct report_run *run);

/* The side-by-side table. */
void report_table(FILE *f, const struct report_run *runs, size_t n);

/* The explanation, from the figures; timeout is the client's (seconds). */
void report_explain(
    FILE *f, const struct report_run *runs, size_t n, double timeout);

/* A self-contained SVG: one panel per run on a shared time axis. */
void report_svg(
    FILE *f, const struct report_run *runs, size_t n, const char *title);

/* The figures as one JSON object (for --json). */
int report_json(FILE *f, const struct report_run *runs, size_t n);

#endif
