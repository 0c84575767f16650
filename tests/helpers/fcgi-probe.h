/*
 * fcgi-probe.h — the probe's two halves: fcgi-probe.c (connections,
 * reading and printing answers, main) and fcgi-probe-scenarios.c (what
 * each scenario sends). Test tool only; see fcgi-probe.c for the usage,
 * the output format and the exit status.
 *
 *  - Builders (wb_*) append whole records to a growing buffer; a record
 *    is built with fcgi_codec.h's encoders, padding is explicit.
 *  - Connection calls share one deadline (struct probe): conn_wait()
 *    and friends stop at it, and report the connection's end in struct
 *    conn (eof, reset) rather than failing.
 *  - A scenario returns finish()'s exit status. die() is for the
 *    probe's own failures (usage, connect, memory): exit 2.
 */
#ifndef FCGILAB_FCGI_PROBE_H
#define FCGILAB_FCGI_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcgi_codec.h"

#define IDS         16
#define BODY_MAX    (1u << 20)
#define RX_MAX      (FCGI_HEADER_LEN + FCGI_MAX_CONTENT + FCGI_MAX_PADDING)
#define EXIT_CLOSED 0
#define EXIT_OPEN   1
#define EXIT_ERROR  2

struct opts {
	int timeout_ms, linger_ms;
	bool quiet;
	const char *companion; /* secs, or NULL */
	const char *addr;
};

struct body {
	char *buf;
	size_t len;
};

/* One connection to the server and what came back on it. */
struct conn {
	int fd;
	bool quiet;
	bool eof, reset, bad, closed_by_us;
	unsigned answers; /* END_REQUEST, GET_VALUES_RESULT, UNKNOWN_TYPE */
	unsigned records, end_requests;
	int last_proto;         /* of the last END_REQUEST, -1 before one */
	uint64_t t_open, t_end; /* ms: connected; ended (0: not yet) */
	struct body body[IDS];
	size_t rx_len;
	uint8_t rx[RX_MAX]; /* the start of a record not yet complete */
};

struct probe {
	struct opts o;
	uint64_t deadline; /* ms, monotonic */
};

/* Bytes to send, built record by record. */
struct wbuf {
	uint8_t *p;
	size_t len, cap;
};

struct scenario {
	const char *name;
	int min_args, max_args;
	const char *args; /* for the usage text */
	int (*run)(struct probe *p, struct conn *c, char **argv, int argc);
};

extern const struct scenario probe_scenarios[];
extern const size_t probe_nscenarios;

__attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...);
void sleep_ms(unsigned ms);
/* A decimal in [lo, hi] from an argument, or die(). */
unsigned uint_arg(const char *s, unsigned lo, unsigned hi);

/* One record; its pad bytes of padding are non-zero (§3.3 says a receiver
 * ignores them, whatever they hold). */
void wb_record(struct wbuf *b, uint8_t type, uint16_t id, const void *content,
    size_t len, uint8_t pad);
/* {FCGI_BEGIN_REQUEST, id, {role, flags}} (§5.1). */
void wb_begin(
    struct wbuf *b, uint16_t id, uint16_t role, uint8_t flags, uint8_t pad);
/* A stream in records of at most chunk bytes, then its empty record. */
void wb_stream(struct wbuf *b, uint8_t type, uint16_t id, const uint8_t *data,
    size_t len, size_t chunk);
/* One name-value pair (§3.4), appended to a block of pairs. */
void wb_pair(struct wbuf *b, const char *name, const char *value);
/* The CGI variables of GET path?query as pairs. */
void wb_get_pairs(struct wbuf *pairs, const char *path, const char *query);
/* Their PARAMS stream; with the empty STDIN; the whole request. */
void wb_get_params(
    struct wbuf *b, uint16_t id, const char *path, const char *query);
void wb_get_streams(
    struct wbuf *b, uint16_t id, const char *path, const char *query);
void wb_get(struct wbuf *b, uint16_t id, uint8_t flags, const char *path,
    const char *query);

struct conn *conn_open(const struct probe *p);
void conn_free(struct conn *c);
/* True once the server closed it (or the probe did, or it answered
 * garbage). */
bool conn_ended(const struct conn *c);
/* Wait up to ms for input and take it; false once the connection ended. */
bool conn_pump(struct conn *c, int ms);
/* Read until n answers came in all; false if the end or the deadline came
 * first. */
bool conn_wait(const struct probe *p, struct conn *c, unsigned n);
/* Read whatever comes for ms. */
void conn_idle(struct conn *c, unsigned ms);
/* Send it all; false if the server has closed the connection. */
bool conn_send(
    const struct probe *p, struct conn *c, const void *buf, size_t len);
/* conn_send() the buffer and empty it. */
bool send_wbuf(const struct probe *p, struct conn *c, struct wbuf *b);
/* Watch for the connection's end, print it, the STDOUT text and the
 * totals; returns the exit status. */
int finish(const struct probe *p, struct conn *c, bool close_expected);

#endif
