/*
 * fuzz_multipart — libFuzzer target for the multipart/form-data parser
 * (multipart.h).
 *
 * Input: byte 0 holds flags: bits 0-2 are K, the number of chunk sizes
 * that follow; bit 3 expands the macro bytes below; bits 4-6 pick a
 * boundary; bit 7 makes the first line (up to LF) a Content-Type whose
 * boundary, if multipart_boundary() finds one, is used instead (a 0xff opening
 * that line stands for "multipart/form-data; boundary="). Byte 1 picks a
 * callback to refuse (the low nibble: stop at the n-th part_begin or
 * part_end, 0 for never) and a data limit (the high nibble: stop once more than
 * 64 * n data bytes came, 0 for never). Then K chunk sizes, then the body. With
 * bit 3, bytes 0xf8-0xff stand for pieces of multipart syntax (delimiter,
 * CRLF, header names, ...), so that the fuzzer reaches the deep states
 * without a corpus.
 *
 * The body is parsed three times: in one multipart_feed, in chunks whose sizes
 * cycle through the K bytes (a 0 there also feeds an empty chunk), and one
 * byte at a time (short bodies only). Each piece is a malloc'd copy of
 * exactly its size, so ASan sees any read past it.
 *
 * Checked (a failure aborts):
 *  - per feed: the result is in range; MULTIPART_OK consumed exactly the piece,
 *    an error no more than it; an error is sticky (same error, nothing
 *    consumed, no callback) and multipart_finish() returns it too; the parser's
 *    fields stay in range (held-back bytes below the delimiter length);
 *  - per callback: begin/data/end nest properly; the part's strings are
 *    NUL-terminated within the header limit, name never NULL; data is
 *    never empty and lies in the piece being fed or is a held-back prefix
 *    of the parser's own delimiter;
 *  - in the single-feed run, against a memmem oracle: a part's data is
 *    one contiguous span of the input, right after an empty line, followed
 *    by the delimiter and holding none;
 *  - across the runs: the same callbacks (a hash with data joined per
 *    part), the same result, the same bytes consumed (unless the data
 *    limit stopped it, whose position depends on the split);
 *  - multipart_boundary(): a boundary it returns is 1..70 bytes and accepted by
 *    multipart_init(); the type is multipart; too small a buffer is
 * MULTIPART_ETOOBIG.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

#define BODY_MAX     (1 << 16)
#define BYTEWISE_MAX 2048

static const char *const boundaries[8] = {
    "b", "AaB", "------------------------14cd8286d0c822db",
    "----WebKitFormBoundary7MA4YWxkTrZu0gW", "a b:c", "--",
    "1234567890123456789012345678901234567890123456789012345678901234567890",
    "\r\n", /* refused by multipart_init */
};

struct run {
	struct multipart_parser p;
	uint64_t hash;
	const uint8_t *lo, *hi; /* the piece being fed */
	bool in_part, whole;
	int events, stop_event; /* part_begin and part_end */
	size_t data, stop_data;
	bool stopped_by_data;
	/* the single-feed run: where the current part's data is */
	const uint8_t *span;
	size_t span_len;
};

static void
mix(struct run *r, uint64_t v)
{
	r->hash = (r->hash ^ v) * 0x100000001b3ull;
}

static void
mix_str(struct run *r, const char *s)
{
	size_t n;

	if (s == NULL) {
		mix(r, 0x5000);
		return;
	}
	n = strnlen(s, MULTIPART_MAX_HEADERS);
	CHECK(n < MULTIPART_MAX_HEADERS);
	CHECK(s >= r->p.hdr && s + n < r->p.hdr + MULTIPART_MAX_HEADERS);
	for (; *s != '\0'; s++)
		mix(r, (uint8_t)*s);
	mix(r, 0x5001);
}

static bool
on_begin(void *arg, const struct multipart_part *part)
{
	struct run *r = arg;

	CHECK(!r->in_part && part->name != NULL);
	r->in_part = true;
	r->span = NULL;
	r->span_len = 0;
	mix(r, 0x1000);
	mix_str(r, part->name);
	mix_str(r, part->filename);
	mix_str(r, part->content_type);
	return ++r->events != r->stop_event;
}

static bool
on_data(void *arg, const uint8_t *d, size_t n)
{
	struct run *r = arg;
	size_t i;

	CHECK(r->in_part && n > 0);
	CHECK((d >= r->lo && d + n <= r->hi) ||
	    (d == r->p.delim && n < r->p.dlen));
	if (r->whole) {
		/* One feed: nothing is ever held across pieces. */
		CHECK(d >= r->lo && d + n <= r->hi);
		CHECK(r->span == NULL || r->span + r->span_len == d);
		if (r->span == NULL)
			r->span = d;
		r->span_len += n;
	}
	for (i = 0; i < n; i++)
		mix(r, d[i]);
	r->data += n;
	if (r->stop_data > 0 && r->data > r->stop_data) {
		r->stopped_by_data = true;
		return false;
	}
	return true;
}

static bool
contains(const uint8_t *h, size_t hn, const uint8_t *n, size_t nn)
{
	size_t i;

	for (i = 0; i + nn <= hn; i++)
		if (memcmp(h + i, n, nn) == 0)
			return true;
	return false;
}

static bool
on_end(void *arg)
{
	struct run *r = arg;
	const uint8_t *d = r->p.delim;
	size_t dl = r->p.dlen;

	CHECK(r->in_part);
	r->in_part = false;
	mix(r, 0x2000);
	if (r->whole && r->span != NULL) {
		/* The oracle: headers' empty line, data, then the delimiter. */
		CHECK((size_t)(r->span - r->lo) >= 4);
		CHECK(memcmp(r->span - 4, "\r\n\r\n", 4) == 0);
		CHECK(r->span + r->span_len + dl <= r->hi);
		CHECK(memcmp(r->span + r->span_len, d, dl) == 0);
		CHECK(!contains(r->span, r->span_len, d, dl));
	}
	return ++r->events != r->stop_event;
}

static const struct multipart_callbacks cbs = {on_begin, on_data, on_end};

/* Feed one piece; false once the parser has failed. */
static bool
feed(
    struct run *r, const uint8_t *piece, size_t len, enum multipart_result *res)
{
	uint8_t *buf = malloc(len ? len : 1);
	uint64_t before = r->p.consumed, hash;

	memcpy(buf, piece, len);
	r->lo = buf;
	r->hi = buf + len;
	*res = multipart_feed(&r->p, buf, len, &cbs, r);
	CHECK((unsigned)*res < MULTIPART_RESULT__MAX);
	CHECK(r->p.state < MULTIPART_S__MAX);
	CHECK(r->p.hlen <= MULTIPART_MAX_HEADERS);
	CHECK(r->p.state == MULTIPART_S_ERROR || r->p.dlen >= 5);
	CHECK(r->p.state != MULTIPART_S_BODY || r->p.matched < r->p.dlen);
	if (*res == MULTIPART_OK) {
		CHECK(r->p.consumed == before + len);
		CHECK(r->p.state != MULTIPART_S_ERROR);
	} else {
		CHECK(r->p.consumed <= before + len);
		CHECK(r->p.state == MULTIPART_S_ERROR && r->p.error == *res);
		/* Sticky: nothing consumed, nothing called. */
		hash = r->hash;
		before = r->p.consumed;
		CHECK(multipart_feed(&r->p, buf, len, &cbs, r) == *res);
		CHECK(multipart_finish(&r->p) == *res);
		CHECK(r->p.consumed == before && r->hash == hash);
	}
	free(buf);
	return *res == MULTIPART_OK;
}

static void
run_init(struct run *r, const char *boundary, int stop_event, size_t stop_data,
    bool whole)
{
	multipart_init(&r->p, boundary);
	r->hash = 0xcbf29ce484222325ull;
	r->in_part = false;
	r->whole = whole;
	r->events = 0;
	r->stop_event = stop_event;
	r->data = 0;
	r->stop_data = stop_data;
	r->stopped_by_data = false;
	r->span = NULL;
	r->span_len = 0;
}

static enum multipart_result
run_end(struct run *r, enum multipart_result res)
{
	if (res == MULTIPART_OK)
		res = multipart_finish(&r->p);
	CHECK(res != MULTIPART_OK || r->p.state == MULTIPART_S_EPILOGUE);
	CHECK(res != MULTIPART_OK || !r->in_part);
	mix(r, res);
	return res;
}

/* Expand the macro bytes 0xf8-0xff into multipart syntax. */
static size_t
expand(const uint8_t *in, size_t n, const char *boundary, uint8_t *out)
{
	static const char *const macro[8] = {
	    NULL, /* the delimiter */
	    "\r\n",
	    "\r\n\r\n",
	    "Content-Disposition: form-data; name=",
	    "; filename=",
	    "Content-Type: ",
	    "--",
	    "\"",
	};
	size_t i, o = 0, len;
	const char *m;

	for (i = 0; i < n && o + 4 + MULTIPART_BOUNDARY_MAX + 64 < BODY_MAX;
	     i++) {
		if (in[i] < 0xf8) {
			out[o++] = in[i];
			continue;
		}
		m = macro[in[i] - 0xf8];
		if (m == NULL) {
			memcpy(out + o, "\r\n--", 4);
			o += 4;
			m = boundary;
		}
		len = strlen(m);
		memcpy(out + o, m, len);
		o += len;
	}
	return o;
}

/* multipart_boundary on the first line; its boundary (into b) if it has one. */
static bool
content_type(const uint8_t *s, size_t n, size_t *used, char *b)
{
	static const char type[] = "multipart/form-data; boundary=";
	char ct[1024], small[MULTIPART_BOUNDARY_MAX + 1];
	const uint8_t *lf = memchr(s, '\n', n);
	size_t len = lf != NULL ? (size_t)(lf - s) : n, bl, o = 0;
	enum multipart_result r;

	*used = lf != NULL ? len + 1 : n;
	b[0] = '\0';
	if (len + sizeof(type) >= sizeof(ct))
		return false;
	if (len > 0 && s[0] == 0xff) {
		memcpy(ct, type, sizeof(type) - 1);
		o = sizeof(type) - 1;
		s++;
		len--;
	}
	memcpy(ct + o, s, len);
	ct[o + len] = '\0';
	r = multipart_boundary(ct, b, MULTIPART_BOUNDARY_MAX + 1);
	CHECK(r == MULTIPART_OK || r == MULTIPART_EPROTO);
	if (r != MULTIPART_OK) {
		CHECK(b[0] == '\0');
		return false;
	}
	bl = strlen(b);
	CHECK(bl >= 1 && bl <= MULTIPART_BOUNDARY_MAX);
	CHECK(multipart_is_multipart(ct));
	CHECK(multipart_boundary(ct, small, bl) == MULTIPART_ETOOBIG &&
	    small[0] == '\0');
	CHECK(multipart_boundary(ct, small, bl + 1) == MULTIPART_OK &&
	    strcmp(small, b) == 0);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, chunked, bytewise;
	static uint8_t body[BODY_MAX];
	char ctb[MULTIPART_BOUNDARY_MAX + 1];
	const char *boundary;
	const uint8_t *sizes, *s;
	size_t k, n, off, i, c, used, stop_data;
	enum multipart_result rw, rc, rb, res = MULTIPART_OK;
	int stop_event;

	if (size < 2 || 2 + (size_t)(data[0] & 7) > size)
		return 0;
	k = data[0] & 7;
	stop_event = data[1] & 15;
	stop_data = (size_t)(data[1] >> 4) * 64;
	sizes = data + 2;
	s = data + 2 + k;
	n = size - 2 - k;
	boundary = boundaries[(data[0] >> 4) & 7];
	if (data[0] & 0x80) {
		if (content_type(s, n, &used, ctb))
			boundary = ctb;
		s += used;
		n -= used;
	}
	if (data[0] & 8) {
		n = expand(
		    s, n, strcmp(boundary, "\r\n") ? boundary : "b", body);
		s = body;
	}

	run_init(&whole, boundary, stop_event, stop_data, true);
	CHECK(boundary != ctb || whole.p.state == MULTIPART_S_PREAMBLE);
	feed(&whole, s, n, &res);
	rw = run_end(&whole, res);

	run_init(&chunked, boundary, stop_event, stop_data, false);
	res = MULTIPART_OK;
	for (off = 0, i = 0; off < n || (k > 0 && i == 0); i++) {
		c = k > 0 ? sizes[i % k] : n;
		if (c > n - off)
			c = n - off;
		if (!feed(&chunked, s + off, c, &res))
			break;
		off += c;
		if (c == 0 && off < n) { /* an empty piece, then one byte */
			if (!feed(&chunked, s + off, 1, &res))
				break;
			off++;
		}
	}
	rc = run_end(&chunked, res);

	CHECK(rw == rc);
	CHECK(whole.stopped_by_data == chunked.stopped_by_data);
	if (!whole.stopped_by_data) {
		CHECK(whole.hash == chunked.hash);
		CHECK(whole.p.consumed == chunked.p.consumed);
	}
	if (n > BYTEWISE_MAX)
		return 0;

	run_init(&bytewise, boundary, stop_event, stop_data, false);
	res = MULTIPART_OK;
	for (off = 0; off < n && feed(&bytewise, s + off, 1, &res); off++)
		;
	rb = run_end(&bytewise, res);
	CHECK(rb == rw);
	if (!whole.stopped_by_data) {
		CHECK(bytewise.hash == whole.hash);
		CHECK(bytewise.p.consumed == whole.p.consumed);
	}
	return 0;
}
