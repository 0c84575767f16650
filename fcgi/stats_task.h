/*
 * stats_task — the "stats" background task: statistics of a stored upload
 * (filestats.h: bytes, lines, words, SHA-256; for CSV, rows and column
 * sums), what POST /uploads?process=stats enqueues and a worker runs.
 *
 * Params (POST /jobs may send them too, for an upload stored earlier):
 *   {"upload": ID (32 lowercase hex digits), "filename": str|null,
 *    "content_type": str|null}
 * CSV is assumed when content_type is text/csv or the filename ends in
 * ".csv" (either case).
 *
 * Contract:
 *  - stats_task_add() registers the task in a jobs registry (jobs.h):
 *    validation in every process (pydantic shapes: missing, string_type,
 *    string_pattern_mismatch at ["body", field]); with upload_dir given
 *    (workers), the run function too, which reads "<upload_dir>/ID" in
 *    STATS_TASK_CHUNK pieces (blocking: a worker's thread), stops early
 *    when the lease is lost, and fails the job (no retry) when the upload
 *    is not there. upload_dir must outlive the registry.
 *  - Links are never followed: the directory is opened with O_NOFOLLOW and
 *    the file relative to it (openat, O_NOFOLLOW); a link, anything but a
 *    regular file, or a file with more than one name fails the job with
 *    the reason in its error ("upload ID: is a symbolic link (refused)"),
 *    so a name planted in the directory never makes a worker read what it
 *    points to.
 *  - The result is filestats' object with "upload": ID added.
 */
#ifndef FCGILAB_STATS_TASK_H
#define FCGILAB_STATS_TASK_H

#include <stdbool.h>

#include "jobs.h"

#define STATS_TASK_NAME  "stats"
#define STATS_TASK_CHUNK (256 * 1024)

/* false when the registry is full. */
bool stats_task_add(struct jobs_tasks *ts, const char *upload_dir);

#endif
