/*
 * multipart — a streaming multipart/form-data parser (RFC 7578 on top of
 * the RFC 2046 §5.1.1 multipart grammar), for request bodies such as the
 * one `curl -F file=@x` sends to POST /upload.
 *
 * Contract:
 *  - Pure: no I/O, no malloc, no clock, no logging, no globals. All state
 *    lives in a caller-owned struct mp_parser of fixed size (about 8.3 KiB,
 *    nearly all of it the part-headers buffer); one parser per request body,
 *    driven by one thread at a time.
 *  - mp_feed() takes any piece of the body and always consumes all of it
 *    (or stops at an error). Callbacks report parts: part_begin with the
 *    parsed headers, part_data zero or more times with body bytes (never
 *    with n == 0), part_end once the delimiter after the part is complete.
 *    The events, with a part's data joined, are the same whatever the
 *    split points, one byte at a time included.
 *  - part_data points into the caller's buffer (zero copy), except for
 *    body bytes held back at the end of an earlier piece because they
 *    could have begun the delimiter: those (at most boundary length + 3
 *    bytes, always a prefix of CRLF "--" boundary) are released from the
 *    parser's own copy of the delimiter once the next byte rules it out.
 *    Use or copy the bytes before returning.
 *  - struct mp_part's strings live in the parser: valid until that part's
 *    part_end returns (or, when the body fails first, until mp_init).
 *  - A callback returning false stops the parser with MP_ESTOP (e.g. a
 *    size limit was reached). A NULL callback is skipped.
 *  - mp_feed() returns MP_OK, or an error: MP_EPROTO (malformed body),
 *    MP_ETOOBIG (over a limit below), MP_ESTOP. Errors are sticky: later
 *    feeds and mp_finish() return the same error and call nothing.
 *    p->consumed counts the body bytes taken: all of them on MP_OK; on
 *    MP_EPROTO/MP_ETOOBIG up to and including the byte that revealed the
 *    error (the same offset for any split); on MP_ESTOP at least the bytes
 *    handed to the refusing callback.
 *  - mp_finish() when the body is over: MP_OK only if the close delimiter
 *    was seen, else MP_EPROTO (truncated). part_end is never called for a
 *    part that was cut off.
 *
 * Grammar (RFC 2046 §5.1.1), as accepted here:
 *  - A preamble before the first delimiter is ignored; the first
 *    delimiter may open the body without a leading CRLF.
 *  - A delimiter is CRLF "--" boundary; only that exact sequence ends a
 *    part's data, which may hold CR, LF, "--" and partial boundaries.
 *  - After the boundary: "--" (close delimiter: the rest is the epilogue,
 *    ignored), or transport padding (SP/HTAB, any amount) then CRLF. Any
 *    other byte is MP_EPROTO: §5.1.1 forbids the delimiter as the prefix
 *    of a line of the content, preamble included here.
 *  - A close delimiter right away (no parts, as browsers send for an
 *    empty form) is accepted, although §5.1.1 asks for one part at least.
 *  - Part headers end with an empty line. Line ends must be CRLF: a bare
 *    LF or CR, or a NUL, in the header block is MP_EPROTO (curl and
 *    browsers send CRLF). Folded lines (a line starting with SP/HTAB) are
 *    joined to the previous one (RFC 5322 §2.2.3). A line without ':' or
 *    with an empty or non-token name is MP_EPROTO. Names are
 *    case-insensitive; values are trimmed of SP/HTAB.
 *  - Every part must carry "Content-Disposition: form-data" with a name
 *    parameter (RFC 7578 §4.2); a part without one, of another
 *    disposition type, or with Content-Disposition, Content-Type, name or
 *    filename given twice is MP_EPROTO (not skipped), as Starlette refuses
 *    it too.
 *  - Parameters follow RFC 9110 §5.6.6: ';'-separated (empty ones
 *    allowed), name "=" token or quoted-string, no space around '='.
 *    In a quoted-string, \" and \\ stand for " and \; any other
 *    backslash is kept as sent (what Python's email.utils.unquote, and so
 *    FastAPI, does), so "C:\dir\x.txt" survives. Bytes 0x80-0xFF are taken
 *    as they come (browsers send UTF-8 filenames raw, RFC 7578 §4.2).
 *  - filename* (RFC 5987 encoding) is ignored, as are unknown parameters:
 *    RFC 7578 §4.2 says senders must not use it. Content-Type is passed
 *    through as sent (NULL when absent; RFC 7578 §4.4 makes that
 *    text/plain). Content-Transfer-Encoding (deprecated, RFC 7578 §4.7)
 *    and other headers are ignored (RFC 7578 §4.8): data is passed raw.
 *  - The filename is returned as sent; taking its basename is the
 *    caller's job (RFC 7578 §4.2: it must not be trusted as a path).
 *
 * Limits:
 *  - boundary: 1..MP_BOUNDARY_MAX (70, RFC 2046 §5.1.1) printable ASCII
 *    bytes (0x20-0x7e), not ending in a space: RFC 2046's bchars widened as
 *    Werkzeug does, but never CR/LF/controls, which the delimiter matcher
 *    relies on. mp_init() with any other boundary leaves the parser failed
 *    with MP_EPROTO.
 *  - part header block, final empty line included: at most MP_MAX_HEADERS
 *    bytes (MP_ETOOBIG).
 *  - no limit on the number of parts, part sizes or padding: the caller
 *    counts and stops through a callback.
 */
#ifndef FCGILAB_MULTIPART_H
#define FCGILAB_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_BOUNDARY_MAX 70                    /* RFC 2046 §5.1.1 */
#define MP_DELIM_MAX    (MP_BOUNDARY_MAX + 4) /* CRLF "--" boundary */
#define MP_MAX_HEADERS  8192                  /* one part's header block */

enum mp_result {
	MP_OK,
	MP_EPROTO,  /* malformed body or Content-Type */
	MP_ETOOBIG, /* over one of our limits, or a too small buffer */
	MP_ESTOP,   /* a callback returned false */
	MP_RESULT__MAX
};

/* The headers of one part (RFC 7578 §4.2, §4.4); NUL-free strings. */
struct mp_part {
	const char *name;         /* Content-Disposition name; never NULL */
	const char *filename;     /* NULL when absent; may be "" */
	const char *content_type; /* trimmed value; NULL when absent */
};

struct mp_callbacks {
	bool (*part_begin)(void *arg, const struct mp_part *part);
	bool (*part_data)(void *arg, const uint8_t *p, size_t n);
	bool (*part_end)(void *arg);
};

/* Parser states; the order is the order within a body. */
enum mp_state {
	MP_S_PREAMBLE,   /* before the first delimiter: discarded */
	MP_S_DELIM_TAIL, /* after "--" boundary: "-", padding or CR next */
	MP_S_CLOSE,      /* after "--" boundary "-": the second "-" */
	MP_S_PADDING,    /* transport padding after a boundary */
	MP_S_DELIM_LF,   /* the LF that ends a delimiter line */
	MP_S_HEADERS,    /* collecting a part's header block into hdr */
	MP_S_BODY,       /* a part's data, looking for the delimiter */
	MP_S_EPILOGUE,   /* after the close delimiter: discarded */
	MP_S_ERROR,      /* failed: error holds the result */
	MP_S__MAX
};

struct mp_parser {
	enum mp_state state;
	enum mp_result error; /* in MP_S_ERROR */
	bool in_part;         /* part_begin done, part_end not yet */
	uint8_t dlen;         /* bytes in delim */
	uint8_t matched;      /* bytes of delim matched (held back in BODY) */
	uint16_t hlen;        /* bytes in hdr */
	uint64_t consumed;    /* body bytes taken, see the contract */
	uint8_t delim[MP_DELIM_MAX]; /* CRLF "--" boundary, not terminated */
	char hdr[MP_MAX_HEADERS];
};

/* True when content_type is multipart/form-data (case-insensitive),
 * parameters or not; the caller's choice of raw body or multipart. */
bool mp_is_multipart(const char *content_type);

/*
 * Copy the boundary parameter of a multipart/form-data Content-Type value
 * (RFC 7578 §4.1, RFC 2046 §5.1.1), unquoted, NUL-terminated, into out.
 * MP_OK; MP_EPROTO when content_type is not multipart/form-data, has no,
 * an empty, a repeated or an invalid boundary (see Limits) or a malformed
 * parameter list; MP_ETOOBIG when out (cap bytes) cannot hold it (71 bytes
 * always do). out is "" on failure when cap > 0.
 */
enum mp_result mp_boundary(const char *content_type, char *out, size_t cap);

/* Start (or restart) a parser for a body with this boundary. */
void mp_init(struct mp_parser *p, const char *boundary);

/* Parse len more bytes of the body; see the contract. */
enum mp_result mp_feed(struct mp_parser *p, const uint8_t *buf, size_t len,
    const struct mp_callbacks *cb, void *arg);

/* The body is over: MP_OK only after the close delimiter. */
enum mp_result mp_finish(struct mp_parser *p);

/* Names for logs. */
const char *mp_result_name(enum mp_result r);
const char *mp_state_name(enum mp_state s);

#endif
