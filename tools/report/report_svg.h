/*
 * report_svg — the pictures of a comparison (report.h's runs): the
 * timeline, one panel per run on a shared time axis, and the pool-size
 * sweep, total time against the pool's size.
 *
 * Contract:
 *  - Writers print one self-contained SVG document (no script, no
 *    external reference) to a FILE the caller owns; they allocate only
 *    transiently and return -1 when memory runs out (the document is then
 *    incomplete), else 0. Text from the caller (labels, title) is
 *    escaped. No I/O besides the FILE, no threads.
 *  - Timeline: a pool run is drawn as one lane per worker (report_load's
 *    lanes), each request a bar while its worker served it, with the
 *    number of requests waiting for a worker drawn under the lanes; an
 *    async run as one row per request (grey while waiting to be served,
 *    green while served). Every request is one <g data-request="I"> group
 *    in its panel; failed requests are red. Vertical marks: the ideal
 *    total, the first come, first served prediction (pools) and the
 *    client's timeout, when they fall on the axis (else the panel's title
 *    gives them).
 *  - Sweep: measured totals of the pool runs against P (log scale), with
 *    sum / P, the longest wait, the FCFS prediction and the async run's
 *    total drawn for comparison.
 */
#ifndef FCGILAB_REPORT_SVG_H
#define FCGILAB_REPORT_SVG_H

#include <stdio.h>

#include "report.h"

int report_svg_timeline(FILE *f, const struct report_run *runs, size_t n,
    const char *title, double timeout);

int report_svg_sweep(
    FILE *f, const struct report_run *runs, size_t n, const char *title);

#endif
