/*
 * report — the comparison of send_many runs that `fcgilab compare` prints:
 * per run its totals, the ideal total and the first come, first served
 * prediction for its backend, rates, latency percentiles, statuses and
 * errors, the pool's queue over time; a header saying how to replay it; an
 * explanation computed from those figures; the same as JSON. The pictures
 * are report_svg.h's.
 *
 * Contract:
 *  - A run is read from send_many's CSV (index,secs,start,end,latency,
 *    status,error[,worker]; times in seconds since the run began; worker
 *    the pool responder's pid, empty or absent otherwise). report_load()
 *    owns what it allocates; report_run_free() releases it.
 *  - A run's label may be "NAME|MODEL": NAME heads its column, MODEL says
 *    what it stands for ("FastAPI def: AnyIO's 40 threads").
 *  - pool = 0 means "no pool": one asynchronous process, whose ideal
 *    total is the longest wait; pool P > 0: max(largest S, sum S / P),
 *    with first-come-first-served (the pool's real queue) beside it.
 *  - Writers print to a FILE the caller owns; they allocate only
 *    transiently. Every number and every sentence comes from the runs and
 *    the header the caller gives, never canned: a sentence about an event
 *    (a timeout, a status) is written only when the run saw it.
 *  - Errors are returned (-1 with errno, or with a message in err),
 *    never exit()ed. No threads.
 */
#ifndef FCGILAB_REPORT_H
#define FCGILAB_REPORT_H

#include <stddef.h>
#include <stdio.h>

#define REPORT_STATUS_MAX 600
#define REPORT_KINDS_MAX  16

struct report_row {
	size_t index;
	double secs, start, end, latency;
	int status;      /* 0: no response */
	char error[24];  /* "ok" or send_many's error kind */
	char worker[32]; /* the pool responder's id, or "" */
	int lane;        /* set by report_load: the worker's lane, -1 none */
};

struct report_kind {
	char name[24];
	size_t count;
};

struct report_run {
	char *label;   /* NAME (the part before '|') */
	char *model;   /* MODEL, or "" */
	unsigned pool; /* 0: the async server */
	struct report_row *rows;
	size_t n;
	/* computed by report_load */
	size_t ok, failed, timeouts;
	double wall, sum_secs, max_secs, mean_secs, ideal, fcfs;
	double rate;     /* completions per second of this run: n / wall */
	double capacity; /* the pool's: P / mean wait; 0 for no pool */
	double p50, p95, max_latency; /* over answered requests */
	size_t statuses[REPORT_STATUS_MAX];
	double status_first[REPORT_STATUS_MAX];     /* fastest answer of each */
	double status_last[REPORT_STATUS_MAX];      /* slowest */
	struct report_kind kinds[REPORT_KINDS_MAX]; /* errors by kind */
	size_t nkinds;
	size_t lanes;      /* workers seen (pool), or lanes packed */
	size_t peak_queue; /* most requests waiting for a worker at once */
};

/* Header lines: what was run and how to run it again. */
struct report_info {
	const char *key, *value;
};

/* Read a send_many CSV into run; err (128 bytes) says why on -1. */
int report_load(struct report_run *run, const char *label, unsigned pool,
    const char *csv_path, char err[128]);
void report_run_free(struct report_run *run);

/* The ideal total, the efficiency (ideal / wall), or -1 when it means
 * nothing (requests failed: the run then ends early). */
double report_efficiency(const struct report_run *r);

/* The queue of a pool run over time: at each of the *np points (time,
 * depth), depth requests had been sent and not yet reached a worker (or
 * failed); one that reached its worker within 50 ms did not queue.
 * Returns malloc'd pairs t[2i], depth[2i+1] or NULL (ENOMEM). */
double *report_queue_series(const struct report_run *r, size_t *np);

/* The header block ("key  value" lines). */
void report_header(FILE *f, const struct report_info *info, size_t ninfo);

/* The side-by-side table (a column per run); with more than three runs,
 * or sweep set, one row per run instead (the pool-size sweep). */
void report_table(FILE *f, const struct report_run *runs, size_t n, int sweep);

/* The explanation as paragraphs: a malloc'd array of malloc'd strings
 * (free with report_paras_free), or NULL on ENOMEM. timeout is the
 * client's (seconds). */
char **report_explain(
    const struct report_run *runs, size_t n, double timeout, size_t *count);
void report_paras_print(FILE *f, char *const *paras, size_t count);
void report_paras_free(char **paras, size_t count);

/* Everything above as one JSON object: header, runs, explanation. */
int report_json(FILE *f, const struct report_info *info, size_t ninfo,
    const struct report_run *runs, size_t n, double timeout);

#endif
