/*
 * mux_route — how route modules (jobs, payloads) plug into the mux.
 *
 * A module registers a struct mux_route_ops for an app route it serves
 * (app.h: APP_R_JOBS, APP_R_EXPORT_CSV, …). The mux then drives each of
 * that route's requests through the hooks, on the loop thread:
 *
 *   start(r)        PARAMS are complete and the app routed the request
 *                   here (method checked). Validate the query, set up
 *                   state (mux_req_set_data), maybe answer at once.
 *   body(r, p, n)   a piece of the request body (FastCGI STDIN), in order.
 *                   No size limit is applied for module routes: enforce
 *                   your own (answer 413) and pause with
 *                   mux_req_pause_body() while you cannot take more.
 *   body_end(r)     the body is complete (possibly empty).
 *   writable(r)     after mux_req_wait_writable(): the connection's output
 *                   queue has drained below MUX_LOW_WATER; produce more.
 *   end(r, answered) exactly once, when the request goes: answered, or
 *                   not (its client went away, a protocol error, the
 *                   shutdown's grace ran out). Free the module's state
 *                   here; a module with work in another thread must
 *                   detach it (the thread must not touch r afterwards).
 *
 * Contract:
 *  - A request is answered exactly once: mux_req_respond*() or
 *    mux_req_stream_begin() ... mux_req_stream_end(). After respond or
 *    stream_end, r may be gone (end() has run): do not touch it again.
 *    A request answered before its body is complete has the rest of its
 *    body read and discarded by the mux (no more body() calls).
 *  - Hooks may be NULL when a module does not need them (except start).
 *  - All of this is for the loop thread only.
 *  - Return convention: bool "still alive" where noted; false means the
 *    connection failed under the call (the request is gone, end() ran).
 */
#ifndef FCGILAB_MUX_ROUTE_H
#define FCGILAB_MUX_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"

struct mux;
struct mux_req;
struct ev_loop;

/* Output queue marks for streamed answers (bytes queued on the
 * connection): stop producing above HIGH, resume below LOW. */
#define MUX_HIGH_WATER (256 * 1024)
#define MUX_LOW_WATER  (64 * 1024)

struct mux_route_ops {
	void (*start)(struct mux_req *r);
	void (*body)(struct mux_req *r, const uint8_t *p, size_t n);
	void (*body_end)(struct mux_req *r);
	void (*writable)(struct mux_req *r);
	void (*end)(struct mux_req *r, bool answered);
};

/* Serve route with ops; ctx is handed back by mux_req_ctx(). */
void mux_route_register(struct mux *m, enum app_route route,
    const struct mux_route_ops *ops, void *ctx);

/* Extra /metrics text: fn returns malloc'd Prometheus lines (or NULL). */
typedef char *mux_metrics_fn(void *ctx, size_t *lenp);
void mux_metrics_register(struct mux *m, mux_metrics_fn *fn, void *ctx);

struct ev_loop *mux_loop(struct mux *m);

/* --- a request, for its module ------------------------------------------ */

/* CGI variables the mux keeps for modules (NULL when absent). */
enum mux_var {
	MUX_V_METHOD,          /* REQUEST_METHOD */
	MUX_V_QUERY,           /* QUERY_STRING */
	MUX_V_CONTENT_LENGTH,  /* CONTENT_LENGTH */
	MUX_V_CONTENT_TYPE,    /* CONTENT_TYPE */
	MUX_V_ACCEPT_ENCODING, /* HTTP_ACCEPT_ENCODING */
	MUX_V_REQUEST_URI,     /* REQUEST_URI */
	MUX_V__MAX
};
const char *mux_req_var(const struct mux_req *r, enum mux_var v);

/* The app's decision for it (route, path_param of /jobs/ID). */
const struct app_decision *mux_req_decision(const struct mux_req *r);

void *mux_req_ctx(const struct mux_req *r); /* the module's ctx */
void *mux_req_data(const struct mux_req *r);
void mux_req_set_data(struct mux_req *r, void *data);
struct mux *mux_req_mux(const struct mux_req *r);
uint64_t mux_req_started_ms(const struct mux_req *r); /* loop clock */

/* Complete answers. headers: NULL or "Name: value\r\n" lines. */
bool mux_req_respond(struct mux_req *r, int status, const char *headers,
    const char *ctype, const void *body, size_t len);
/* JSON body, taken over (freed here; NULL means out of memory: 500). */
bool mux_req_respond_json(
    struct mux_req *r, int status, const char *headers, char *body, size_t len);
/* {"detail": msg} */
bool mux_req_respond_detail(
    struct mux_req *r, int status, const char *headers, const char *msg);

/* Streamed answers: a head now, the body in pieces, then the end. The
 * head carries no Content-Length. Write while mux_req_backlog() is under
 * MUX_HIGH_WATER; then call mux_req_wait_writable() and return. */
bool mux_req_stream_begin(
    struct mux_req *r, int status, const char *headers, const char *ctype);
bool mux_req_stream_write(struct mux_req *r, const void *p, size_t n);
bool mux_req_stream_end(struct mux_req *r);
size_t mux_req_backlog(const struct mux_req *r);
void mux_req_wait_writable(struct mux_req *r);

/* Stop (true) or resume (false) reading the request's body. */
void mux_req_pause_body(struct mux_req *r, bool pause);

#endif
