/*
 * mux_route — how route modules plug into the mux.
 *
 * A module registers a struct mux_route_ops for an app route it serves
 * (app.h: APP_R_WAIT_ASYNC, APP_R_JOBS, APP_R_EXPORT_CSV, …). The mux then
 * drives each of that route's requests through the hooks, on the loop
 * thread:
 *
 *   start(r)        PARAMS are complete and the app routed the request
 *                   here (method checked, query of the lesson's routes
 *                   validated). Set up state (mux_req_set_data), maybe
 *                   answer at once.
 *   body(r, p, n)   a piece of the request body (FastCGI STDIN), in order.
 *                   A module with a body hook bounds the body itself
 *                   (answer 413) and pauses with mux_req_pause_body()
 *                   while it cannot take more. Without one, the mux
 *                   answers 413 past --max-stdin and discards the body.
 *   body_end(r)     the body is complete (possibly empty).
 *   writable(r)     after mux_req_wait_writable(): the connection's output
 *                   queue has drained below MUX_LOW_WATER; produce more.
 *   end(r, answered) exactly once, last: the request is released. Free
 *                   the module's state here.
 *
 * THE RULE (one lifecycle for every request): a request that ends —
 * answered, or gone with its client, a protocol error, the shutdown's
 * grace — is detached from its connection at once, but released (end(),
 * then freed) only when no hook of its module is running on it. So
 * inside a hook, r and the module's data stay valid until the hook
 * returns, whatever the calls in it did; after the request ended, the
 * mux_req_* calls on it do nothing and say so (false, or no room).
 * Work that comes back to a request from elsewhere runs as a hook too:
 * mux_req_after()'s timer, mux_req_offload()'s completion, and any other
 * completion a module brackets with mux_req_enter() / mux_req_leave()
 * (a store thread's answer, say).
 *
 * Contract:
 *  - A request is answered exactly once: mux_req_respond*() or
 *    mux_req_stream_begin() ... mux_req_stream_end(). A request answered
 *    before its body is complete has the rest of its body read and
 *    discarded by the mux (no more body() calls).
 *  - Hooks may be NULL when a module does not need them.
 *  - All of this is for the loop thread only.
 *  - Return convention: bool "still going": false means the request has
 *    ended (its answer is out, or there is nobody left to answer); a
 *    module may use it to stop producing, and need do nothing else.
 */
#ifndef FCGILAB_MUX_ROUTE_H
#define FCGILAB_MUX_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "offload.h"

struct mux;
struct mux_req;
struct ev_loop;

/* Output queue marks for streamed answers (bytes queued on the
 * connection): stop producing above HIGH, resume below LOW. With a small
 * --max-outq they scale down to a half and an eighth of it. */
#define MUX_HIGH_WATER (256 * 1024)
#define MUX_LOW_WATER  (64 * 1024)

struct mux_route_ops {
	void (*start)(struct mux_req *r);
	void (*body)(struct mux_req *r, const uint8_t *p, size_t n);
	void (*body_end)(struct mux_req *r);
	void (*writable)(struct mux_req *r);
	void (*end)(struct mux_req *r, bool answered);
};

struct mux_work;

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
 * head carries a Content-Length when len is known (else APP_NO_LENGTH):
 * then exactly len bytes must follow. Write at most mux_req_room()
 * bytes; when it says 0, call mux_req_wait_writable() and return. */
bool mux_req_stream_begin(struct mux_req *r, int status, const char *headers,
    const char *ctype, size_t len);
bool mux_req_stream_write(struct mux_req *r, const void *p, size_t n);
bool mux_req_stream_end(struct mux_req *r);
/* The last n bytes and the end together, in one write (a wait's body). */
bool mux_req_stream_finish(struct mux_req *r, const void *p, size_t n);
size_t mux_req_room(const struct mux_req *r);
void mux_req_wait_writable(struct mux_req *r);

/* Stop (true) or resume (false) reading the request's body. */
void mux_req_pause_body(struct mux_req *r, bool pause);

/* --- work that comes back later ----------------------------------------- */

/* Run fn(r) as a hook of r after ms milliseconds of the loop's clock,
 * unless r ends first (the timer is then cancelled). One timer per
 * request; arming it again moves it. false: the timer heap is full. */
bool mux_req_after(
    struct mux_req *r, uint64_t ms, void (*fn)(struct mux_req *r));

/* The mux's thread pools: CPU work (/cpu_async), and durability work
 * (fsync, rename) that must not wait behind it. */
enum mux_pool { MUX_POOL_CPU, MUX_POOL_IO, MUX_POOL__MAX };

/* Work for one of the mux's thread pools on behalf of a request. The
 * module embeds it in memory of its own and fills in the pool and the
 * functions:
 *   work(w)      on a pool thread: only w and what w owns, never r;
 *   done(r, w, ok)  on the loop, as a hook of r, when work() is over (ok)
 *                or the pool shut down before it ran (!ok);
 *   drop(w)      frees w, exactly once: after done(), or when r ended
 *                first (at once if work() had not started, else when the
 *                thread is done with w).  */
struct mux_work {
	struct offload_job job; /* the pool's */
	struct mux_req *req;    /* the mux's: NULL once r ended */
	enum mux_pool pool;
	void (*work)(struct mux_work *w);
	void (*done)(struct mux_req *r, struct mux_work *w, bool ok);
	void (*drop)(struct mux_work *w);
};

/* Hand w to its pool for r (one at a time per request). false: the
 * pool's queue is full (answer 503), or r has ended; w stays yours. */
bool mux_req_offload(struct mux_req *r, struct mux_work *w);

/* Bracket a completion that reaches r from elsewhere (see THE RULE). */
void mux_req_enter(struct mux_req *r);
void mux_req_leave(struct mux_req *r);

#endif
