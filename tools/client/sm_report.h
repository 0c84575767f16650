/*
 * sm_report — what send_many prints: one line per result, the live
 * progress line, the CSV rows, and the summary as text or JSON.
 *
 * Contract:
 *  - Does output to the FILEs it is given (stdout, stderr, the CSV file);
 *    never reads, never exits. Counts everything it is shown.
 *  - smr_on_result and smr_on_progress have the sm_run callback shapes
 *    (arg is the struct sm_report).
 *  - The result line is exactly
 *      request I (secs=S) -> STATUS REASON BODY in T s
 *    with the body's first SM_BODY_KEEP bytes on one line (controls shown
 *    as spaces, "..." when cut), or for a failure
 *      request I (secs=S) -> KIND (DETAIL) in T s
 *    "(secs=S)" is left out when requests carry no secs.
 *  - Latency statistics cover the requests that got a complete response
 *    (any status); failures without one are counted by kind only.
 *  - The CSV has one row per request, in completion order:
 *      index,secs,start,end,latency,status,error,worker
 *    times in seconds since the run's start (6 decimals), start being the
 *    intended start; status 0 without a response; error is the kind name
 *    ("ok" for a 2xx); worker the responder's X-Fcgilab-Worker (a pool
 *    worker's pid), empty when it sent none. Rows are flushed as they
 *    are written, so a reader (the /lab/ page) sees the run fill in.
 */
#ifndef FCGILAB_SM_REPORT_H
#define FCGILAB_SM_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "latency.h"
#include "sm_run.h"

#define SMR_STATUS_MAX 600

/* The run's parameters, as shown in the header and summary. */
struct smr_info {
	const char *url;
	size_t count;
	size_t concurrency; /* effective, 1..count */
	bool unlimited;     /* -c not given: all at once */
	bool keepalive;
	const char *secs_mode; /* "range", "fixed", "url" or "none" */
	const char *secs_text; /* e.g. "1..10", "3", or NULL */
	const double *secs;    /* per request, or NULL */
	const char *url_secs;  /* the URL's own secs value (mode "url") */
	uint64_t seed;
	bool seed_given;
	double timeout;
};

struct sm_report {
	const struct smr_info *info;
	FILE *out;  /* result lines and text summary (stdout) */
	FILE *tty;  /* progress line (stderr), or NULL for none */
	FILE *csv;  /* or NULL */
	bool lines; /* print a line per result */
	bool out_is_tty;
	bool progress_shown;
	size_t done, ok;
	size_t kinds[SM_KIND__MAX];
	size_t statuses[SMR_STATUS_MAX];
	struct latency latency;
	double wall;
};

void smr_init(struct sm_report *r, const struct smr_info *info);
void smr_free(struct sm_report *r);

void smr_on_result(void *arg, const struct sm_result *res);
void smr_on_progress(void *arg, const struct sm_progress *pr);
/* Erase the progress line if one is shown. */
void smr_progress_clear(struct sm_report *r);

/* The line printed before the run (text mode). */
void smr_header(struct sm_report *r);
void smr_summary_text(struct sm_report *r);
/* Returns -1 if memory ran out or writing failed. */
int smr_summary_json(struct sm_report *r, FILE *f);

void smr_csv_header(FILE *f);

#endif
