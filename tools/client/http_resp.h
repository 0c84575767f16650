/*
 * http_resp — an incremental HTTP/1.1 response parser (RFC 9112): bytes
 * in, state out. Used by send_many for every response it reads.
 *
 * Contract:
 *  - Pure: no I/O, no allocation, no clock, no globals. One struct
 *    http_resp per response; http_resp_init() before the first byte and
 *    again before the next response on a kept-alive connection.
 *  - http_resp_feed() takes any split of the byte stream (down to one byte
 *    at a time) and gives the same result for every split. It consumes
 *    bytes up to the end of the response and no further: on
 *    HTTP_RESP_DONE, *used tells where the next response would start.
 *  - http_resp_eof() says the peer closed: it completes a body delimited
 *    by the close (RFC 9112 §6.3 rule 8) and reports anything else
 *    unfinished as HTTP_RESP_ETRUNC.
 *  - Errors are values, never crashes: HTTP_RESP_EPROTO (malformed),
 *    HTTP_RESP_ETOOBIG (over a bound below), HTTP_RESP_ETRUNC. After an
 *    error every later call returns the same error; r->why says what went
 *    wrong in a few words (a static string).
 *  - Understood: the status line (HTTP/1.x only), Content-Length, chunked
 *    Transfer-Encoding with extensions and trailers (§7.1), other
 *    transfer codings (body until close, §6.3 rule 7), Connection: close /
 *    keep-alive and the HTTP/1.0 default, interim 1xx responses (skipped),
 *    204 and 304 (no body). Bare LF line ends are accepted (§2.2).
 *    Rejected: 101 (never asked for), obs-fold on a header we interpret,
 *    conflicting Content-Length values. The request is assumed to be a
 *    GET (a HEAD response would need a flag: XXX not supported).
 *  - Limits: a line (status, header, chunk size) is at most
 *    HTTP_RESP_LINE_MAX bytes and only its first HTTP_RESP_LINE_KEEP bytes
 *    are interpreted (a longer Content-Length, Transfer-Encoding or
 *    Connection line is HTTP_RESP_EPROTO); the header section (and the
 *    trailer section) at most HTTP_RESP_HEAD_MAX bytes; the body at most
 *    the body_max given to http_resp_init().
 *  - The first keep_cap bytes of the decoded body are copied into the
 *    caller's keep buffer (the body itself is counted, not stored).
 *  - One header named by http_resp_capture() (after init) has its value
 *    kept in r->captured: its first HTTP_RESP_CAPTURE_MAX - 1 bytes of
 *    letters, digits and ".-_:" (anything else ends it), "" when absent;
 *    e.g. the pool worker's "X-Fcgilab-Worker" pid for send_many's CSV.
 */
#ifndef FCGILAB_HTTP_RESP_H
#define FCGILAB_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_RESP_LINE_KEEP   128
#define HTTP_RESP_LINE_MAX    8192
#define HTTP_RESP_HEAD_MAX    65536
#define HTTP_RESP_REASON_MAX  48
#define HTTP_RESP_CAPTURE_MAX 32

enum http_resp_result {
	HTTP_RESP_NEED_MORE, /* all bytes used, response not complete */
	HTTP_RESP_DONE,      /* a complete response; *used may be < len */
	HTTP_RESP_EPROTO,    /* malformed */
	HTTP_RESP_ETOOBIG,   /* a line, the head or the body over its bound */
	HTTP_RESP_ETRUNC,    /* peer closed before the response was complete */
};

enum http_resp_state {
	HR_STATUS,     /* the status line (empty lines before it ignored) */
	HR_HEADER,     /* header lines up to the empty line */
	HR_BODY_LEN,   /* Content-Length bytes remain */
	HR_BODY_EOF,   /* body delimited by the connection close */
	HR_CHUNK_SIZE, /* chunk-size [ ; ext ] CRLF */
	HR_CHUNK_DATA, /* chunk data */
	HR_CHUNK_END,  /* the CRLF after chunk data */
	HR_TRAILER,    /* trailer lines up to the empty line */
	HR_DONE,
	HR_ERROR,
	HR__MAX
};

struct http_resp {
	enum http_resp_state state;
	enum http_resp_result error; /* valid in HR_ERROR */
	const char *why;             /* static text for an error, or NULL */

	/* The response, valid once the headers are in (state > HR_HEADER). */
	int status; /* 100..599 */
	int minor;  /* HTTP/1.minor */
	char reason[HTTP_RESP_REASON_MAX];
	bool keep_alive; /* the connection may carry another request */

	/* Header facts (RFC 9112 §6.1, §6.3; RFC 9110 §7.6.1). */
	bool has_length, chunked, te_present, conn_close, conn_keep_alive;
	bool last_hdr_ours; /* the last header line was one we interpret */
	uint64_t content_length;

	/* Progress. */
	uint64_t total;     /* bytes consumed so far */
	uint64_t remaining; /* of the body or the current chunk */
	uint64_t body_len;  /* decoded body bytes so far */
	uint64_t body_max;
	size_t head_len; /* bytes of the current head or trailer section */
	size_t line_len; /* bytes of the current line, '\n' excluded */
	char line_last;  /* last byte of the current line so far */
	char line[HTTP_RESP_LINE_KEEP];

	char *keep; /* caller's buffer for the body's first bytes */
	size_t keep_cap, kept;

	const char *capture_name; /* a header to keep, or NULL */
	char captured[HTTP_RESP_CAPTURE_MAX];
};

/* Start a response. keep may be NULL when keep_cap is 0. */
void http_resp_init(
    struct http_resp *r, uint64_t body_max, char *keep, size_t keep_cap);

/* Keep the value of header name (a static string) in r->captured. */
void http_resp_capture(struct http_resp *r, const char *name);

/* Feed len bytes; *used receives how many were consumed. */
enum http_resp_result http_resp_feed(
    struct http_resp *r, const char *buf, size_t len, size_t *used);

/* The peer closed the connection (read returned 0). */
enum http_resp_result http_resp_eof(struct http_resp *r);

/* A short name for a state, for logs ("status", "header", ...). */
const char *http_resp_state_name(enum http_resp_state s);

#endif
