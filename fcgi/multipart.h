/*
 * multipart — a streaming multipart/form-data parser (RFC 7578 on top of
 * the RFC 2046 §5.1.1 multipart grammar), for request bodies such as the
 * one `curl -F file=@x` sends to POST /upload.
 *
 * Contract:
 *  - Pure: no I/O, no malloc, no clock, no logging, no globals. All state
 *    lives in a caller-owned struct multipart_parser of fixed size (about 8.3
 * KiB, nearly all of it the part-headers buffer); one parser per request body,
 *    driven by one thread at a time.
 *  - multipart_feed() takes any piece of the body and always consumes all of it
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
 *  - struct multipart_part's strings live in the parser: valid until that
 * part's part_end returns (or, when the body fails first, until
 * multipart_init).
 *  - A callback returning false stops the parser with MULTIPART_ESTOP (e.g. a
 *    size limit was reached). A NULL callback is skipped.
 *  - multipart_feed() returns MULTIPART_OK, or an error: MULTIPART_EPROTO
 * (malformed body), MULTIPART_ETOOBIG (over a limit below), MULTIPART_ESTOP.
 * Errors are sticky: later feeds and multipart_finish() return the same error
 * and call nothing. p->consumed counts the body bytes taken: all of them on
 * MULTIPART_OK; on MULTIPART_EPROTO/MULTIPART_ETOOBIG up to and including the
 * byte that revealed the error (the same offset for any split); on
 * MULTIPART_ESTOP at least the bytes handed to the refusing callback.
 *  - multipart_finish() when the body is over: MULTIPART_OK only if the close
 * delimiter was seen, else MULTIPART_EPROTO (truncated). part_end is never
 * called for a part that was cut off.
 *
 * Grammar (RFC 2046 §5.1.1), as accepted here:
 *  - A preamble before the first delimiter is ignored; the first
 *    delimiter may open the body without a leading CRLF.
 *  - A delimiter is CRLF "--" boundary; only that exact sequence ends a
 *    part's data, which may hold CR, LF, "--" and partial boundaries.
 *  - After the boundary: "--" (close delimiter: the rest is the epilogue,
 *    ignored), or transport padding (SP/HTAB, any amount) then CRLF. Any
 *    other byte is MULTIPART_EPROTO: §5.1.1 forbids the delimiter as the prefix
 *    of a line of the content, preamble included here.
 *  - A close delimiter right away (no parts, as browsers send for an
 *    empty form) is accepted, although §5.1.1 asks for one part at least.
 *  - Part headers end with an empty line. Line ends must be CRLF: a bare
 *    LF or CR, or a NUL, in the header block is MULTIPART_EPROTO (curl and
 *    browsers send CRLF). Folded lines (a line starting with SP/HTAB) are
 *    joined to the previous one (RFC 5322 §2.2.3). A line without ':' or
 *    with an empty or non-token name is MULTIPART_EPROTO. Names are
 *    case-insensitive; values are trimmed of SP/HTAB.
 *  - Every part must carry "Content-Disposition: form-data" with a name
 *    parameter (RFC 7578 §4.2); a part without one, of another
 *    disposition type, or with Content-Disposition, Content-Type, name or
 *    filename given twice is MULTIPART_EPROTO (not skipped), as Starlette
 * refuses it too.
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
 *  - boundary: 1..MULTIPART_BOUNDARY_MAX (70, RFC 2046 §5.1.1) printable ASCII
 *    bytes (0x20-0x7e), not ending in a space: RFC 2046's bchars widened as
 *    Werkzeug does, but never CR/LF/controls, which the delimiter matcher
 *    relies on. multipart_init() with any other boundary leaves the parser
 * failed with MULTIPART_EPROTO.
 *  - part header block, final empty line included: at most
 * MULTIPART_MAX_HEADERS bytes (MULTIPART_ETOOBIG).
 *  - no limit on the number of parts, part sizes or padding: the caller
 *    counts and stops through a callback.
 */
#ifndef FCGILAB_MULTIPART_H
#define FCGILAB_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MULTIPART_BOUNDARY_MAX 70 /* RFC 2046 §5.1.1 */
#define MULTIPART_DELIM_MAX \
	(MULTIPART_BOUNDARY_MAX + 4) /* CRLF "--" boundary */
#define MULTIPART_MAX_HEADERS 8192   /* one part's header block */

enum multipart_result {
	MULTIPART_OK,
	MULTIPART_EPROTO,  /* malformed body or Content-Type */
	MULTIPART_ETOOBIG, /* over one of our limits, or a too small buffer */
	MULTIPART_ESTOP,   /* a callback returned false */
	MULTIPART_RESULT__MAX
};

/* The headers of one part (RFC 7578 §4.2, §4.4); NUL-free strings. */
struct multipart_part {
	const char *name;         /* Content-Disposition name; never NULL */
	const char *filename;     /* NULL when absent; may be "" */
	const char *content_type; /* trimmed value; NULL when absent */
};

struct multipart_callbacks {
	bool (*part_begin)(void *arg, const struct multipart_part *part);
	bool (*part_data)(void *arg, const uint8_t *p, size_t n);
	bool (*part_end)(void *arg);
};

/* Parser states; the order is the order within a body. */
enum multipart_state {
	MULTIPART_S_PREAMBLE,   /* before the first delimiter: discarded */
	MULTIPART_S_DELIM_TAIL, /* after "--" boundary: "-", padding or CR next
	                         */
	MULTIPART_S_CLOSE,      /* after "--" boundary "-": the second "-" */
	MULTIPART_S_PADDING,    /* transport padding after a boundary */
	MULTIPART_S_DELIM_LF,   /* the LF that ends a delimiter line */
	MULTIPART_S_HEADERS,    /* collecting a part's header block into hdr */
	MULTIPART_S_BODY,       /* a part's data, looking for the delimiter */
	MULTIPART_S_EPILOGUE,   /* after the close delimiter: discarded */
	MULTIPART_S_ERROR,      /* failed: error holds the result */
	MULTIPART_S__MAX
};

struct multipart_parser {
	enum multipart_state state;
	enum multipart_result error; /* in MULTIPART_S_ERROR */
	bool in_part;                /* part_begin done, part_end not yet */
	uint8_t dlen;                /* bytes in delim */
	uint8_t matched;   /* bytes of delim matched (held back in BODY) */
	uint16_t hlen;     /* bytes in hdr */
	uint64_t consumed; /* body bytes taken, see the contract */
	uint8_t
	    delim[MULTIPART_DELIM_MAX]; /* CRLF "--" boundary, not terminated */
	char hdr[MULTIPART_MAX_HEADERS];
};

/* True when content_type is multipart/form-data (case-insensitive),
 * parameters or not; the caller's choice of raw body or multipart. */
bool multipart_is_multipart(const char *content_type);

/*
 * Copy the boundary parameter of a multipart/form-data Content-Type value
 * (RFC 7578 §4.1, RFC 2046 §5.1.1), unquoted, NUL-terminated, into out.
 * MULTIPART_OK; MULTIPART_EPROTO when content_type is not multipart/form-data,
 * has no, an empty, a repeated or an invalid boundary (see Limits) or a
 * malformed parameter list; MULTIPART_ETOOBIG when out (cap bytes) cannot hold
 * it (71 bytes always do). out is "" on failure when cap > 0.
 */
enum multipart_result multipart_boundary(
    const char *content_type, char *out, size_t cap);

/* Start (or restart) a parser for a body with this boundary. */
void multipart_init(struct multipart_parser *p, const char *boundary);

/* Parse len more bytes of the body; see the contract. */
enum multipart_result multipart_feed(struct multipart_parser *p,
    const uint8_t *buf, size_t len, const struct multipart_callbacks *cb,
    void *arg);

/* The body is over: MULTIPART_OK only after the close delimiter. */
enum multipart_result multipart_finish(struct multipart_parser *p);

/* Names for logs. */
const char *multipart_result_name(enum multipart_result r);
const char *multipart_state_name(enum multipart_state s);

#endif
