/*
 * dataset — the deterministic rows behind /export.csv, /export.ndjson and
 * /items: row i is computed from i alone, so any page or any stretch of an
 * export can be produced on demand, in constant memory, and checked by a
 * test that computes the same formula independently.
 *
 * Row id (1 ≤ id ≤ DATASET_MAX_ROWS):
 *   id         id
 *   name       "item-<id>"
 *   value      ((id × 7919) mod 100003) / 100, two decimals ("79.19")
 *   timestamp  2026-01-01T00:00:00Z + (id − 1) seconds, ISO 8601 UTC
 *
 * Contract:
 *  - Pure: no I/O, no allocation, no globals. Writers format into the
 *    caller's buffer and return the length written (no NUL counted), or 0
 *    when cap is too small; DATASET_ROW_MAX always suffices for one row.
 *  - Cursors (/items?cursor=) are tokens (token.h) of (version, rows,
 *    next id): opaque, refused when garbled or made for another dataset
 *    size, and only ever a position inside the dataset once opened.
 */
#ifndef FCGILAB_DATASET_H
#define FCGILAB_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "token.h"

#define DATASET_MAX_ROWS   1000000000LL
#define DATASET_ROW_MAX    160
#define DATASET_EPOCH      1767225600LL /* 2026-01-01T00:00:00Z */
#define DATASET_CURSOR_LEN TOKEN_LEN(9)

/* "id,name,value,timestamp\n" */
size_t dataset_csv_header(char *buf, size_t cap);
/* "1,item-1,79.19,2026-01-01T00:00:00Z\n" */
size_t dataset_csv_row(uint64_t id, char *buf, size_t cap);
/* {"id":1,"name":"item-1","value":79.19,"timestamp":"…"} (no newline) */
size_t dataset_json_row(uint64_t id, char *buf, size_t cap);

/* The cursor of the page starting at next_id of a dataset of rows rows. */
void dataset_cursor_encode(
    uint64_t rows, uint64_t next_id, char out[DATASET_CURSOR_LEN + 1]);
/* Open a cursor: true with *next_id in 1..rows, else false. */
bool dataset_cursor_decode(
    const char *s, size_t len, uint64_t rows, uint64_t *next_id);

#endif
