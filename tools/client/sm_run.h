/*
 * sm_run — send_many's engine: one epoll loop that sends `count` HTTP/1.1
 * GETs over at most `concurrency` connections at once and hands each
 * result to a callback as it completes.
 *
 * Contract:
 *  - Does I/O (sockets, epoll, the monotonic clock); prints nothing. Not
 *    thread-safe; one sm_run() at a time per thread.
 *  - Each of the `concurrency` slots runs requests one after the other.
 *    The first `concurrency` requests are all intended to start at t0;
 *    every later one is intended to start when its slot frees. Latency
 *    and the timeout are measured from that intended start, so time spent
 *    connecting, or waiting for the loop, counts against the client
 *    (coordinated omission, as wrk's README explains it).
 *  - Timeouts are one duration for all, so a FIFO of in-flight requests in
 *    start order is an exact timer queue: O(1) arm, cancel and expire.
 *  - Requests are head [length] mid [secs text] tail: the caller builds
 *    head ("GET /wait?secs="), mid ("" for a GET) and tail (" HTTP/1.1\r\n
 *    Host: ...\r\n\r\n") once; the engine writes them with the request's
 *    secs between (sendmsg, no copy). With content_length (a POST whose
 *    body holds the secs), head ends in "Content-Length: ", the engine
 *    writes body_fixed + the secs text's length there, mid is "\r\n\r\n"
 *    and the body up to the secs, tail the body after them.
 *  - The responder's "X-Fcgilab-Worker" header (a pool worker's pid) is
 *    passed on with each result, "" when absent.
 *  - With keepalive, a connection whose response allows it (and whose
 *    bytes end with the response) carries the slot's next request. A
 *    reused connection that fails before any response byte was read (the
 *    server closed it while idle) is retried once on a new connection.
 *  - The addresses are tried in order: when a connect is refused or the
 *    address unreachable, the engine moves to the next one for good (as
 *    "localhost" may be ::1 first while the server listens on 127.0.0.1).
 *  - sm_run() returns SM_RUN_OK once every request has a result, or an
 *    error with a one-line message in err (epoll or memory failure).
 */
#ifndef FCGILAB_SM_RUN_H
#define FCGILAB_SM_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SM_ERR_LEN   256
#define SM_BODY_KEEP 200 /* body bytes kept for the result line */

/* What became of a request. */
enum sm_kind {
	SM_OK, /* a 2xx response */
	SM_STATUS_3XX,
	SM_STATUS_4XX,
	SM_STATUS_5XX,
	SM_REFUSED,   /* connection refused */
	SM_CONNECT,   /* any other connect failure */
	SM_TIMEOUT,   /* no complete response within the timeout */
	SM_WRITE,     /* sending the request failed */
	SM_READ,      /* reading failed (reset, ...) */
	SM_CLOSED,    /* the server closed before the response was complete */
	SM_MALFORMED, /* not a valid HTTP/1.x response */
	SM_TOOBIG,    /* a line, head or body over its bound */
	SM_KIND__MAX
};

/* A stable lowercase name: "ok", "status_4xx", "refused", ... */
const char *sm_kind_name(enum sm_kind k);

struct sm_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct sm_result {
	size_t index;      /* 1-based, in start order */
	double start, end; /* seconds since t0; start is the intended start */
	enum sm_kind kind;
	int status;         /* 0 when no complete response */
	const char *reason; /* the status line's reason phrase, or "" */
	const char *body;   /* the body's first bytes (body_len of them) */
	size_t body_len;
	uint64_t body_total; /* the whole decoded body's length */
	const char *detail;  /* why it failed, or NULL */
	const char *worker;  /* X-Fcgilab-Worker's value, or "" */
};

struct sm_progress {
	size_t done, inflight, errors;
	double elapsed;
};

struct sm_params {
	const struct sm_addr *addrs;
	size_t naddrs;
	const char *head, *mid, *tail;
	size_t head_len, mid_len, tail_len;
	bool content_length; /* write body_fixed + secs' length after head */
	size_t body_fixed;
	const double *secs; /* per request, written between head and tail;
	                       NULL: nothing in between */
	size_t count;
	size_t concurrency; /* 1..count */
	double timeout;     /* seconds, > 0 */
	bool keepalive;
	uint64_t body_max;
	void (*on_result)(void *arg, const struct sm_result *res);
	/* Called at most 10 times a second when not NULL. */
	void (*on_progress)(void *arg, const struct sm_progress *pr);
	void *arg;
};

enum sm_run_result {
	SM_RUN_OK,
	SM_RUN_ENOMEM,
	SM_RUN_ESYS, /* epoll or the clock failed */
};

/* Run every request; *wall receives t0 to the last result, in seconds. */
enum sm_run_result sm_run(
    const struct sm_params *p, double *wall, char err[SM_ERR_LEN]);

#endif
