/*
 * jobs_run — the built-in tasks' work, for fcgilab-worker: "wait" sleeps
 * (a blocking sleep: that is what workers are for) and "cpu" counts
 * primes, each answering exactly what /wait and /cpu answer.
 *
 * Contract:
 *  - Blocking, for a worker's thread; no globals.
 *  - jobs_run_add_builtins() sets the run functions of the registry's
 *    "wait" and "cpu" (jobs_tasks_init made them with validate only).
 *  - wait sleeps in slices of at most JOBS_RUN_SLICE_MS and gives up
 *    (JOBS_RUN_ABANDONED) as soon as ctl->should_stop() says so; cpu runs
 *    to its end (the count cannot be interrupted) and lets the caller
 *    discard it.
 *  - Params are checked again (a store is data from outside): a value
 *    missing or out of the registry's bounds fails the job.
 */
#ifndef FCGILAB_JOBS_RUN_H
#define FCGILAB_JOBS_RUN_H

#include "jobs.h"

#define JOBS_RUN_SLICE_MS 50

void jobs_run_add_builtins(struct jobs_tasks *ts);

#endif
