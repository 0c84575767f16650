/*
 * mod_payloads — large answers with flat memory, as a mux route module
 * (mux_route.h): the lesson's streaming responses and pagination.
 *
 *   GET /export.csv?rows=N      the dataset (dataset.h), streamed as it is
 *   GET /export.ndjson?rows=N   generated; 0 ≤ N ≤ 10^9, default 1000
 *   GET /items?rows=N&limit=L&cursor=C   a page of the same dataset:
 *                               {"items":[…],"next":C|null} and, when there
 *                               is a next page, Link: <…>; rel="next";
 *                               1 ≤ L ≤ 1000 (default 100)
 *
 * Contract:
 *  - Loop thread only. An export produces at most MOD_PAYLOADS_TURN_BYTES per
 *    loop turn (MOD_PAYLOADS_GZIP_TURN_BYTES when compressing: deflate runs at
 *    about 100 MB/s, so a turn costs the other requests well under a
 *    millisecond), and only as much as mux_req_room() allows (the
 *    connection's output queue up to its high-water mark, mux_route.h):
 *    a slow reader pauses generation (lighttpd, with
 *    stream-response-body 2, stops reading us when its client is slow), a
 *    client that goes away stops it at once (the request ends).
 *  - gzip when Accept-Encoding allows it (gz.h): exports are compressed
 *    here, incrementally, with a sync flush per turn so the first rows
 *    arrive early; pages in one piece. Every answer of these routes says
 *    Vary: Accept-Encoding.
 *  - Bad values are FastAPI's 422s (app_query_param; a cursor that does
 *    not open, or was made for another rows, is a value_error at
 *    ["query","cursor"]).
 *  - struct mod_payloads is the caller's (mod_payloads_new/_free); a request's
 *    state is this module's, freed in the route's end hook.
 */
#ifndef FCGILAB_PAYLOADS_H
#define FCGILAB_PAYLOADS_H

#include <stdint.h>

struct mux;

#define MOD_PAYLOADS_TURN_BYTES      (256 * 1024)
#define MOD_PAYLOADS_GZIP_TURN_BYTES (64 * 1024)
#define MOD_PAYLOADS_ROWS_DEFAULT    1000
#define MOD_PAYLOADS_PAGE_DEFAULT    100
#define MOD_PAYLOADS_PAGE_MAX        1000

struct mod_payloads;

/* Serve the export and page routes on m; NULL when memory runs out. */
struct mod_payloads *mod_payloads_new(struct mux *m);

/* Free; call after mux_free(). NULL is a no-op. */
void mod_payloads_free(struct mod_payloads *pl);

#endif
