/*
 * mux — the asynchronous FastCGI server (the lesson's `async def`): one
 * thread, one epoll loop, thousands of requests waiting at once.
 *
 * Contract:
 *  - mux owns its connections and requests: every struct conn and struct
 *    req is allocated here and released here, in exactly one place each
 *    (conn_free_later, req_release), to a stack of spare blocks the mux
 *    keeps for the next ones (spare.h; freed by mux_free). The loop (ev),
 *    the listening fd and the offload pool are the caller's (mux_main),
 *    handed in at mux_new().
 *  - The hot path (lighttpd's one connection per request) allocates
 *    nothing and costs four system calls: accept4, one read of the whole
 *    request (right after the accept: a connection answered and closed
 *    in that turn never enters epoll, ev_add_deferred), one gathered
 *    write of the whole answer (records built in place, outq_sendv),
 *    close.
 *  - A connection is read by the codec (fcgi_codec.h), which turns bytes
 *    into events; each event moves one request through its states (enum
 *    req_state); the app module (app.h) decides what a request means; mux
 *    decides how to do it without blocking: a timer for /wait_async, the
 *    offload pool for /cpu_async — and, on purpose, the loop itself for
 *    the *_blocking routes.
 *  - Faults are per connection: malformed input closes that connection
 *    (and counts a protocol error); a front end that goes away (EOF, RST,
 *    FCGI_ABORT_REQUEST) frees its requests, timers and buffers at once.
 *    Nothing here exits the process.
 *  - Limits are all in struct mux_config and enforced here.
 *
 * Protocol (FastCGI 1.0): responder role only (others get
 * FCGI_UNKNOWN_ROLE, §5.5); FCGI_KEEP_CONN honoured (§5.1); several
 * request ids per connection (FCGI_MPXS_CONNS=1, §4.1); GET_VALUES and
 * unknown management records answered (§4.1, §4.2); records for an
 * inactive request id (never begun, refused, or already answered) ignored
 * (§3.3 "Managing Request IDs").
 */
#ifndef FCGILAB_MUX_H
#define FCGILAB_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "metrics.h"

struct ev_loop;
struct listener_acl;
struct offload_pool;

struct mux_config {
	struct app_config app;
	unsigned max_conns;    /* connections at once; beyond: stop accepting */
	unsigned max_inflight; /* requests being served; beyond: 503 */
	unsigned max_reqs_per_conn; /* concurrent request ids per connection */
	size_t max_params;          /* PARAMS bytes of one request */
	size_t max_stdin;           /* request body of the GET routes */
	size_t max_outq;            /* bytes queued to one connection */
	unsigned idle_timeout_ms;   /* a connection with nothing running */
	unsigned stall_timeout_ms;  /* output that has not moved: drop it */
	unsigned grace_ms;          /* SIGTERM: how long in-flight may finish */
	int verbose;                /* log every connection's life */
	/* Serve the lesson's mistakes, /wait_async_blocking and
	 * /cpu_async_blocking, which stall the whole loop (off by default:
	 * one request would stall every client of the mux). */
	bool blocking_routes;
	/* TCP peers that may connect (listener.h); NULL or empty: all.
	 * Not owned. */
	const struct listener_acl *allow;
};

#define MUX_DEFAULT_MAX_INFLIGHT      20000
#define MUX_DEFAULT_MAX_REQS_PER_CONN 64
#define MUX_DEFAULT_MAX_PARAMS        (64 * 1024)
#define MUX_DEFAULT_MAX_STDIN         (64 * 1024)
#define MUX_DEFAULT_MAX_OUTQ          (1024 * 1024)
#define MUX_DEFAULT_IDLE_TIMEOUT_MS   60000
#define MUX_DEFAULT_STALL_TIMEOUT_MS  30000
#define MUX_DEFAULT_GRACE_MS          30000

/* Defaults; max_conns from the fd limit the caller passes. */
void mux_config_init(struct mux_config *cfg, unsigned fd_limit);

struct mux;

/* A server on loop, accepting on listen_fd, offloading work to its
 * pools (mux_route.h: enum mux_pool; the I/O pool may be the CPU pool).
 * Returns NULL (errno) when memory or the loop refuses. */
struct mux *mux_new(const struct mux_config *cfg, struct ev_loop *loop,
    int listen_fd, struct offload_pool *cpu, struct offload_pool *io);

/* Stop accepting; let requests in flight finish for up to grace_ms, then
 * close what is left. mux_done() turns true when nothing is left. */
void mux_drain(struct mux *m);
int mux_done(const struct mux *m);

/* Close every connection and free everything mux allocated; the struct
 * itself and its spare blocks at the end of the loop's turn (or in
 * ev_free()), after the connections' own deferred releases. */
void mux_free(struct mux *m);

const struct metrics *mux_metrics(const struct mux *m);

#endif
