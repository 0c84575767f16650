/*
 * fcgi_codec — the FastCGI 1.0 record codec, application side: bytes from
 * a web server in, events out; values in, records for the web server out.
 * Shared by fcgilab-mux, the unit tests and the fuzzer.
 *
 * Contract:
 *  - Pure: no fds, no malloc, no clock, no logging, no globals. Every
 *    function is reentrant; a decoder belongs to one connection and is
 *    driven by one thread at a time.
 *  - The decoder is incremental, with the HEADER -> CONTENT -> PADDING
 *    shape of OpenBSD httpd's server_fcgi.c: it counts what is still to
 *    read and never needs a whole record buffered. Its only copy of input
 *    is one 8-byte header or BEGIN_REQUEST body, held inside the struct
 *    (sizeof (struct fcgi_decoder) is a few dozen bytes). Input may be
 *    split at any byte; the events (with stream data concatenated) do not
 *    depend on where.
 *  - fcgi_decode() reports at most one event per call and returns the
 *    bytes it consumed. The caller loops until FCGI_NEED_MORE:
 *        FCGI_OK         *ev holds one event; at least 1 byte was consumed,
 *                        the rest of the input is still to be fed.
 *        FCGI_NEED_MORE  every byte was consumed (returned == len) and no
 *                        event completed; feed more input later.
 *        FCGI_EPROTO     malformed input: close the connection.
 *        FCGI_ETOOBIG    a record over a limit of this codec: close it.
 *    After an error the decoder stays failed and returns the same error,
 *    consuming nothing. The bytes consumed on error are those up to and
 *    including the one that revealed the error.
 *    An event is reported by the call that consumes its last byte, so
 *    none is pending once all input is consumed:
 *        while (off < len) {
 *            off += fcgi_decode(&dec, buf + off, len - off, &ev, &r);
 *            if (r != FCGI_OK)
 *                break;           (NEED_MORE: read more; else close)
 *            handle(&ev);
 *        }
 *  - Stream data events point INTO the caller's buffer (zero copy): use
 *    or copy ev->data before the buffer is reused. One record's content may
 *    come as several events; ev->last marks the piece that ends a record.
 *  - Only what a web server sends is accepted (§4.1, §5.1-§5.4). Records
 *    only an application sends (END_REQUEST, STDOUT, STDERR,
 *    GET_VALUES_RESULT, UNKNOWN_TYPE) are FCGI_EPROTO, as are a version
 *    other than 1 (§3.3), a request id of 0 on an application record, and
 *    a non-zero id on a management record (§3.3 "Types of Record Types").
 *    A record of unknown type with id 0 is an unknown management record
 *    (FCGI_EV_UNKNOWN_TYPE, answer with fcgi_encode_unknown_type(), §4.2);
 *    with a non-zero id it is FCGI_EPROTO, as in libfcgi.
 *  - The decoder does not track which request ids are active (§3.3
 *    "Managing Request IDs"): that is the connection's business.
 *  - Encoders write whole records (or one name-value pair) into a caller
 *    buffer and return the length written, or 0 when it does not fit; they
 *    never write a partial record.
 *  - Wire fields are read and built byte by byte with shifts (the B1/B0
 *    fields of §3.3), never by casting structs over buffers.
 *
 * Limits:
 *  - GET_VALUES content: at most FCGI_GET_VALUES_MAX bytes (FCGI_ETOOBIG).
 *  - ABORT_REQUEST content (none in §5.4) is skipped if present.
 *  - Name-value lengths are below 2^31 by their encoding (§3.4).
 */
#ifndef FCGILAB_FCGI_CODEC_H
#define FCGILAB_FCGI_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* §3.3 Records: the fixed prefix, its version and the content bound. */
#define FCGI_HEADER_LEN      8
#define FCGI_VERSION_1       1
#define FCGI_MAX_CONTENT     65535
#define FCGI_MAX_PADDING     255
#define FCGI_NULL_REQUEST_ID 0

/* §8 Types and Constants: record types. */
#define FCGI_BEGIN_REQUEST     1
#define FCGI_ABORT_REQUEST     2
#define FCGI_END_REQUEST       3
#define FCGI_PARAMS            4
#define FCGI_STDIN             5
#define FCGI_STDOUT            6
#define FCGI_STDERR            7
#define FCGI_DATA              8
#define FCGI_GET_VALUES        9
#define FCGI_GET_VALUES_RESULT 10
#define FCGI_UNKNOWN_TYPE      11
#define FCGI_MAXTYPE           FCGI_UNKNOWN_TYPE

/* §5.1 FCGI_BEGIN_REQUEST: flags and roles (roles: §6). */
#define FCGI_KEEP_CONN  1
#define FCGI_RESPONDER  1
#define FCGI_AUTHORIZER 2
#define FCGI_FILTER     3

/* §5.5 FCGI_END_REQUEST: protocol status. */
#define FCGI_REQUEST_COMPLETE 0
#define FCGI_CANT_MPX_CONN    1
#define FCGI_OVERLOADED       2
#define FCGI_UNKNOWN_ROLE     3

/* §4.1 FCGI_GET_VALUES: the variables this codec answers. */
#define FCGI_MAX_CONNS  "FCGI_MAX_CONNS"
#define FCGI_MAX_REQS   "FCGI_MAX_REQS"
#define FCGI_MPXS_CONNS "FCGI_MPXS_CONNS"

/* Our bound on a GET_VALUES query (§4.1 sets none; a query naming the
 * three known variables needs 54 bytes). */
#define FCGI_GET_VALUES_MAX 1024

/* Sizes of the fixed records this module writes. */
#define FCGI_END_REQUEST_LEN  (FCGI_HEADER_LEN + 8) /* §5.5 */
#define FCGI_UNKNOWN_TYPE_LEN (FCGI_HEADER_LEN + 8) /* §4.2 */

enum fcgi_result {
	FCGI_OK,        /* an event, a pair, or bytes written */
	FCGI_NEED_MORE, /* input exhausted without completing an item */
	FCGI_EPROTO,    /* malformed input */
	FCGI_ETOOBIG,   /* well-formed but over one of our limits */
	FCGI_RESULT__MAX
};

/* A byte span; for decoder events it points into the caller's input. */
struct fcgi_span {
	const uint8_t *ptr;
	size_t len;
};

enum fcgi_event_type {
	FCGI_EV_BEGIN_REQUEST, /* role, flags (§5.1) */
	FCGI_EV_ABORT_REQUEST, /* (§5.4) */
	FCGI_EV_PARAMS,        /* data: a piece of the PARAMS stream (§5.2) */
	FCGI_EV_PARAMS_END,    /* the empty PARAMS record ends the stream */
	FCGI_EV_STDIN,         /* data: a piece of the STDIN stream (§5.3) */
	FCGI_EV_STDIN_END,
	FCGI_EV_DATA, /* data: a piece of the DATA stream (§5.3, FILTER) */
	FCGI_EV_DATA_END,
	FCGI_EV_GET_VALUES,   /* data: a piece of the query; last: all of it
	                         has come (§4.1); may be empty */
	FCGI_EV_UNKNOWN_TYPE, /* unknown_type: a management record type to
	                         echo in FCGI_UNKNOWN_TYPE (§4.2) */
	FCGI_EV__MAX
};

struct fcgi_event {
	enum fcgi_event_type type;
	uint16_t request_id;  /* 0 for GET_VALUES and UNKNOWN_TYPE */
	uint16_t role;        /* BEGIN_REQUEST */
	uint8_t flags;        /* BEGIN_REQUEST: FCGI_KEEP_CONN, others kept */
	uint8_t unknown_type; /* UNKNOWN_TYPE */
	bool last;            /* data events: this piece ends the record */
	struct fcgi_span data;
};

/* Decoder states; the order is the order within one record. */
enum fcgi_dstate {
	FCGI_DS_HEADER,  /* collecting the 8-byte header into buf */
	FCGI_DS_BODY,    /* collecting the 8-byte BEGIN_REQUEST body into buf */
	FCGI_DS_CONTENT, /* handing out stream/GET_VALUES content */
	FCGI_DS_SKIP,    /* skipping content (unknown type, ABORT) */
	FCGI_DS_PADDING, /* skipping padding (§3.3 "Padding") */
	FCGI_DS_ERROR,   /* failed: error holds the result */
	FCGI_DS__MAX
};

struct fcgi_decoder {
	enum fcgi_dstate state;
	enum fcgi_result error; /* in FCGI_DS_ERROR */
	uint16_t request_id;    /* of the current record */
	uint16_t content_left;  /* content bytes still to read */
	uint8_t type;           /* of the current record */
	uint8_t padding_left;   /* padding bytes still to skip */
	uint8_t nbuf;           /* bytes held in buf */
	uint8_t buf[FCGI_HEADER_LEN];
};

/* Start (or restart) a decoder at a record boundary. */
void fcgi_decoder_init(struct fcgi_decoder *d);

/* Consume up to len bytes of buf; see the contract for *res. */
size_t fcgi_decode(struct fcgi_decoder *d, const uint8_t *buf, size_t len,
    struct fcgi_event *ev, enum fcgi_result *res);

/* True between records: no header, content or padding half read. */
bool fcgi_decoder_idle(const struct fcgi_decoder *d);

/*
 * Walk the name-value pairs (§3.4) of a complete block, e.g. a PARAMS
 * stream or a GET_VALUES query. Starting at *off, returns FCGI_OK with the
 * next pair (spans inside buf) and *off moved past it; FCGI_NEED_MORE when
 * *off == len (the normal end); FCGI_EPROTO for a pair cut by the end of
 * the block or *off > len.
 */
enum fcgi_result fcgi_nvpair_next(const uint8_t *buf, size_t len, size_t *off,
    struct fcgi_span *name, struct fcgi_span *value);

/*
 * The same over a block that may continue (pairs may straddle PARAMS
 * records, §5.2): a pair cut by the end of buf gives FCGI_NEED_MORE with
 * *off unchanged and *need set to the whole pair's encoded size when its
 * lengths are readable (0 when not yet), so the caller can keep the tail
 * or refuse a pair over its bound. *need is 0 on FCGI_OK.
 */
enum fcgi_result fcgi_nvpair_next_partial(const uint8_t *buf, size_t len,
    size_t *off, struct fcgi_span *name, struct fcgi_span *value, size_t *need);

/* Write an 8-byte record header (§3.3). */
size_t fcgi_encode_header(uint8_t *out, size_t outlen, uint8_t type,
    uint16_t request_id, uint16_t content_len, uint8_t padding_len);

/* Padding that brings content_len to a multiple of 8 (§3.3 "Padding"). */
uint8_t fcgi_padding_for(size_t content_len);

/* Write the header of a stream record (STDOUT, STDERR, ...) carrying
 * content_len bytes, padded to 8; *padding gets the number of zero bytes
 * the caller must send after the content. content_len 0 is the stream's
 * end (§3.3 "Types of Record Types"). */
size_t fcgi_encode_stream_header(uint8_t *out, size_t outlen, uint8_t type,
    uint16_t request_id, uint16_t content_len, uint8_t *padding);

/* Write one whole stream record: header, len bytes of data (len at most
 * FCGI_MAX_CONTENT, else 0 is returned), zero padding to 8. */
size_t fcgi_encode_stream(uint8_t *out, size_t outlen, uint8_t type,
    uint16_t request_id, const void *data, size_t len);

/* Write the empty record that ends a stream (§3.3). */
size_t fcgi_encode_stream_end(
    uint8_t *out, size_t outlen, uint8_t type, uint16_t request_id);

/* Write {FCGI_END_REQUEST, id, {app_status, protocol_status}} (§5.5). */
size_t fcgi_encode_end_request(uint8_t *out, size_t outlen, uint16_t request_id,
    uint32_t app_status, uint8_t protocol_status);

/* Write {FCGI_UNKNOWN_TYPE, 0, {type}} (§4.2). */
size_t fcgi_encode_unknown_type(uint8_t *out, size_t outlen, uint8_t type);

/* Write one name-value pair (§3.4); 0 also when a length is 2^31 or more. */
size_t fcgi_encode_nvpair(uint8_t *out, size_t outlen, const void *name,
    size_t name_len, const void *value, size_t value_len);

/* What the application tells a web server in GET_VALUES_RESULT (§4.1). */
struct fcgi_mgmt_values {
	uint32_t max_conns; /* FCGI_MAX_CONNS */
	uint32_t max_reqs;  /* FCGI_MAX_REQS */
	bool mpxs_conns;    /* FCGI_MPXS_CONNS: "1" or "0" */
};

/*
 * Answer a complete GET_VALUES query (the concatenated FCGI_EV_GET_VALUES
 * data) with one {FCGI_GET_VALUES_RESULT, 0, ...} record: only the known
 * names asked for, each once, in the order first asked (§4.1: unknown
 * names are omitted; values in the query are ignored). FCGI_OK with
 * *written set; FCGI_EPROTO for a malformed query; FCGI_ETOOBIG when out
 * is too small (nothing useful written then).
 */
enum fcgi_result fcgi_encode_get_values_result(uint8_t *out, size_t outlen,
    const uint8_t *query, size_t query_len, const struct fcgi_mgmt_values *v,
    size_t *written);

/* Names for logs. */
const char *fcgi_result_name(enum fcgi_result r);
const char *fcgi_event_name(enum fcgi_event_type t);
const char *fcgi_dstate_name(enum fcgi_dstate s);

#endif
