/*
 * test_codec — the FastCGI record codec (fcgi_codec.h).
 *
 * The decoder is checked through transcripts: a text rendering of the
 * events of one input, with a record's data pieces joined, so that feeding
 * the same bytes split anywhere must give the same string. Each piece is
 * fed from its own malloc'd copy of exactly its size, so ASan or valgrind
 * catches a read past it. Records are built here byte by byte, not with the
 * encoders under test; the real lighttpd streams come from the fuzzer's
 * seed corpus (tests/fuzz/corpus, captured by tests/fuzz/make-corpus).
 */
#include "config.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi_codec.h"
#include "tap.h"

static_assert(sizeof(struct fcgi_decoder) <= 64,
    "struct fcgi_decoder must stay small: one per connection");

/* --- building input by hand ---------------------------------------------- */

struct bytes {
	uint8_t *b;
	size_t n, cap;
};

static void
put(struct bytes *s, const void *p, size_t n)
{
	if (s->n + n > s->cap) {
		s->cap = (s->n + n) * 2 + 64;
		s->b = realloc(s->b, s->cap);
		if (s->b == NULL)
			abort();
	}
	if (n > 0)
		memcpy(s->b + s->n, p, n);
	s->n += n;
}

static void
put_byte(struct bytes *s, uint8_t v)
{
	put(s, &v, 1);
}

/* A record with an explicit version, content length and padding. */
static void
rec_raw(struct bytes *s, uint8_t version, uint8_t type, uint16_t id,
    const void *content, uint16_t clen, uint8_t pad)
{
	uint8_t h[8] = {version, type, (uint8_t)(id >> 8), (uint8_t)id,
	    (uint8_t)(clen >> 8), (uint8_t)clen, pad, 0};
	uint8_t zero[255] = {0};

	put(s, h, 8);
	put(s, content, clen);
	put(s, zero, pad);
}

static void
rec(struct bytes *s, uint8_t type, uint16_t id, const char *content,
    uint8_t pad)
{
	rec_raw(s, 1, type, id, content, (uint16_t)strlen(content), pad);
}

static void
begin(struct bytes *s, uint16_t id, uint16_t role, uint8_t flags)
{
	uint8_t body[8] = {(uint8_t)(role >> 8), (uint8_t)role, flags};

	rec_raw(s, 1, FCGI_BEGIN_REQUEST, id, body, 8, 0);
}

/* Append a §3.4 pair, lengths in 1 byte when short (or when forced4). */
static void
nv_len(struct bytes *s, size_t len, int forced4)
{
	if (len < 128 && !forced4) {
		put_byte(s, (uint8_t)len);
		return;
	}
	put_byte(s, (uint8_t)(len >> 24 | 0x80));
	put_byte(s, (uint8_t)(len >> 16));
	put_byte(s, (uint8_t)(len >> 8));
	put_byte(s, (uint8_t)len);
}

static void
nv(struct bytes *s, const char *name, const char *value)
{
	nv_len(s, strlen(name), 0);
	nv_len(s, strlen(value), 0);
	put(s, name, strlen(name));
	put(s, value, strlen(value));
}

/* Read a seed of tests/fuzz/corpus, without its chunking prefix byte. */
static int
load_seed(const char *name, struct bytes *s)
{
	const char *top = getenv("abs_top_srcdir");
	char path[4096], buf[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/%s",
	    top ? top : "..", name);
	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		put(s, buf, n);
	fclose(f);
	if (s->n == 0)
		return 0;
	memmove(s->b, s->b + 1, --s->n);
	return 1;
}

/* --- transcripts --------------------------------------------------------- */

struct tr {
	struct bytes text;
	int open; /* a data record is open: its pieces are being joined */
	int broken;
	size_t total;        /* bytes consumed */
	struct bytes params; /* all PARAMS data, for walking */
};

static void tr_printf(struct tr *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tr_printf(struct tr *t, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(&t->text, buf, (size_t)n);
}

static void
tr_data(struct tr *t, const struct fcgi_event *ev, const uint8_t *lo,
    const uint8_t *hi)
{
	static const char tag[FCGI_EV__MAX] = {[FCGI_EV_PARAMS] = 'P',
	    [FCGI_EV_STDIN] = 'I',
	    [FCGI_EV_DATA] = 'D',
	    [FCGI_EV_GET_VALUES] = 'G'};
	size_t i;
	uint8_t c;

	if (ev->data.len > 0 &&
	    (ev->data.ptr < lo || ev->data.ptr + ev->data.len > hi))
		t->broken = 1; /* a span outside the input */
	if (!t->open)
		tr_printf(t, "%c%u{", tag[ev->type], ev->request_id);
	for (i = 0; i < ev->data.len; i++) {
		c = ev->data.ptr[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			put_byte(&t->text, c);
		else
			tr_printf(t, "\\%02x", c);
	}
	if (ev->type == FCGI_EV_PARAMS)
		put(&t->params, ev->data.ptr, ev->data.len);
	t->open = !ev->last;
	if (ev->last)
		tr_printf(t, "} ");
}

static void
tr_event(struct tr *t, const struct fcgi_event *ev, const uint8_t *lo,
    const uint8_t *hi)
{
	switch (ev->type) {
	case FCGI_EV_BEGIN_REQUEST:
		tr_printf(
		    t, "B%u/r%u/f%u ", ev->request_id, ev->role, ev->flags);
		break;
	case FCGI_EV_ABORT_REQUEST:
		tr_printf(t, "A%u ", ev->request_id);
		break;
	case FCGI_EV_PARAMS_END:
		tr_printf(t, "p%u ", ev->request_id);
		break;
	case FCGI_EV_STDIN_END:
		tr_printf(t, "i%u ", ev->request_id);
		break;
	case FCGI_EV_DATA_END:
		tr_printf(t, "d%u ", ev->request_id);
		break;
	case FCGI_EV_UNKNOWN_TYPE:
		tr_printf(t, "U%u ", ev->unknown_type);
		break;
	case FCGI_EV_PARAMS:
	case FCGI_EV_STDIN:
	case FCGI_EV_DATA:
	case FCGI_EV_GET_VALUES:
		tr_data(t, ev, lo, hi);
		break;
	case FCGI_EV__MAX:
		t->broken = 1;
		break;
	}
}

/* Feed one piece (from a copy of exactly its size); false after an error. */
static int
tr_feed(struct tr *t, struct fcgi_decoder *d, const uint8_t *p, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct fcgi_event ev;
	enum fcgi_result r;
	size_t off = 0, n;

	memcpy(copy, p, len);
	for (;;) {
		n = fcgi_decode(d, copy + off, len - off, &ev, &r);
		if (n > len - off || (r == FCGI_OK && n == 0) ||
		    (r == FCGI_NEED_MORE && n != len - off))
			t->broken = 1;
		off += n;
		t->total += n;
		if (r != FCGI_OK)
			break;
		tr_event(t, &ev, copy, copy + len);
	}
	free(copy);
	if (r == FCGI_NEED_MORE)
		return 1;
	tr_printf(t, "=%s@%zu", fcgi_result_name(r), t->total);
	return 0;
}

/* Decode s cut before each of the ncuts offsets (ascending); returns the
 * transcript text (malloc'd), with "=end" when all input was taken. */
static char *
transcript_cuts(const struct bytes *s, const size_t *cuts, size_t ncuts,
    struct bytes *params)
{
	struct fcgi_decoder d;
	struct tr t = {0};
	size_t i, from = 0, to;

	fcgi_decoder_init(&d);
	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : s->n;
		if (!tr_feed(&t, &d, s->b + from, to - from))
			break;
		from = to;
	}
	if (i > ncuts)
		tr_printf(&t, "=end%s", fcgi_decoder_idle(&d) ? "" : "-mid");
	if (t.broken)
		tr_printf(&t, " !BROKEN");
	put_byte(&t.text, 0);
	if (params != NULL)
		*params = t.params;
	else
		free(t.params.b);
	return (char *)t.text.b;
}

static char *
transcript(const struct bytes *s)
{
	return transcript_cuts(s, NULL, 0, NULL);
}

/* Compare the whole-input transcript with one byte at a time and with
 * every 2-way split; returns the number of mismatching runs. */
static size_t
split_mismatches(const struct bytes *s, const char *whole)
{
	size_t *cuts = malloc((s->n + 1) * sizeof(*cuts)), i, bad = 0;
	char *got;

	for (i = 0; i < s->n; i++)
		cuts[i] = i;
	got = transcript_cuts(s, cuts, s->n, NULL);
	bad += strcmp(got, whole) != 0;
	if (bad)
		printf("#   bytewise: %s\n#   whole:    %s\n", got, whole);
	free(got);
	for (i = 0; i <= s->n; i++) {
		got = transcript_cuts(s, &i, 1, NULL);
		bad += strcmp(got, whole) != 0;
		free(got);
	}
	free(cuts);
	return bad;
}

/* Every 3-way split; returns the number of mismatching runs. */
static size_t
split3_mismatches(const struct bytes *s, const char *whole)
{
	size_t cuts[2], bad = 0;
	char *got;

	for (cuts[0] = 0; cuts[0] <= s->n; cuts[0]++)
		for (cuts[1] = cuts[0]; cuts[1] <= s->n; cuts[1]++) {
			got = transcript_cuts(s, cuts, 2, NULL);
			bad += strcmp(got, whole) != 0;
			free(got);
		}
	return bad;
}

static int
is_tr(const struct bytes *s, const char *want, const char *name)
{
	char *got = transcript(s);
	int r = is_str(got, want, name);

	free(got);
	return r;
}

/* Find a name in a complete params block; its value as a C string. */
static const char *
param(const struct bytes *block, const char *name)
{
	static char value[1024];
	struct fcgi_span n, v;
	size_t off = 0;

	while (fcgi_nvpair_next(block->b, block->n, &off, &n, &v) == FCGI_OK)
		if (n.len == strlen(name) && memcmp(n.ptr, name, n.len) == 0 &&
		    v.len < sizeof(value)) {
			memcpy(value, v.ptr, v.len);
			value[v.len] = 0;
			return value;
		}
	return NULL;
}

static size_t
count_pairs(const struct bytes *block, enum fcgi_result *end)
{
	struct fcgi_span n, v;
	size_t off = 0, count = 0;

	while ((*end = fcgi_nvpair_next(block->b, block->n, &off, &n, &v)) ==
	    FCGI_OK)
		count++;
	return count;
}

/* --- the decoder on real lighttpd streams -------------------------------- */

static void
test_lighttpd_get(void)
{
	struct bytes s = {0}, params = {0};
	enum fcgi_result end;
	char *whole;

	if (!ok(load_seed("lighttpd-get-wait-async", &s),
	        "load the captured lighttpd GET /wait_async?secs=1 stream"))
		return;
	whole = transcript_cuts(&s, NULL, 0, &params);
	ok(strncmp(whole, "B1/r1/f0 P1{", 12) == 0,
	    "BEGIN_REQUEST: id 1, RESPONDER, flags 0, then PARAMS");
	ok(strstr(whole, "} p1 i1 =end") != NULL &&
	        strstr(whole, "} p1 i1 =end") + strlen("} p1 i1 =end") ==
	            whole + strlen(whole),
	    "then the empty PARAMS and the empty STDIN, at a record boundary");
	ok(count_pairs(&params, &end) >= 20 && end == FCGI_NEED_MORE,
	    "PARAMS holds %zu well-formed pairs", count_pairs(&params, &end));
	is_str(param(&params, "QUERY_STRING"), "secs=1", "QUERY_STRING");
	is_str(param(&params, "SCRIPT_NAME"), "/wait_async", "SCRIPT_NAME");
	is_str(param(&params, "REQUEST_METHOD"), "GET", "REQUEST_METHOD");
	ok(param(&params, "PATH_INFO") == NULL, "no PATH_INFO (lighttpd)");
	ok(split_mismatches(&s, whole) == 0,
	    "fed bytewise and in all %zu 2-way splits: identical events",
	    s.n + 1);
	free(whole);
	free(params.b);
	free(s.b);
}

static void
test_lighttpd_post(void)
{
	struct bytes s = {0}, params = {0};
	char *whole;

	if (!ok(load_seed("lighttpd-post-form", &s),
	        "load the captured lighttpd POST /items stream"))
		return;
	whole = transcript_cuts(&s, NULL, 0, &params);
	ok(strstr(whole, "} p1 I1{name=widget&price=3} i1 =end") != NULL,
	    "STDIN carries the form body, then ends");
	is_str(param(&params, "CONTENT_LENGTH"), "19", "CONTENT_LENGTH");
	ok(split_mismatches(&s, whole) == 0,
	    "POST: bytewise and every 2-way split give identical events");
	free(whole);
	free(params.b);
	free(s.b);
}

/* 70,000 bytes of body: a full 65535-byte STDIN record and a short one. */
static void
test_lighttpd_large_post(void)
{
	struct bytes s = {0};
	size_t cuts[2], bad = 0, i, *all;
	char *whole, *got, *body;

	if (!ok(load_seed("lighttpd-post-70k", &s),
	        "load the captured lighttpd 70,000-byte POST stream"))
		return;
	whole = transcript(&s);
	body = malloc(70000 + 1);
	memset(body, 'x', 70000);
	body[70000] = 0;
	got = strstr(whole, "} p1 I1{");
	ok(got != NULL && strncmp(got + 8, body, 65535) == 0 &&
	        strncmp(got + 8 + 65535, "} I1{", 5) == 0 &&
	        strncmp(got + 8 + 65535 + 5, body, 4465) == 0 &&
	        strcmp(got + 8 + 70000 + 5, "} i1 =end") == 0,
	    "STDIN: a 65535-byte record, a 4465-byte record, the end");
	free(body);
	all = malloc(s.n * sizeof(*all));
	for (i = 0; i < s.n; i++)
		all[i] = i;
	got = transcript_cuts(&s, all, s.n, NULL);
	ok(strcmp(got, whole) == 0, "fed one byte at a time: identical");
	free(got);
	free(all);
	/* 3-way splits: first cut at a stride, second spread over the rest. */
	for (cuts[0] = 0; cuts[0] <= s.n; cuts[0] += 97) {
		cuts[1] = cuts[0] + (cuts[0] * 7919) % (s.n - cuts[0] + 1);
		got = transcript_cuts(&s, cuts, 2, NULL);
		bad += strcmp(got, whole) != 0;
		free(got);
	}
	ok(bad == 0, "3-way splits at a stride of 97: identical");
	free(whole);
	free(s.b);
}

/* --- the decoder on hand-built streams ------------------------------------ */

static void
test_coalesced(void)
{
	struct bytes s = {0};
	char *whole;

	/* Two KEEP_CONN requests back to back in one buffer (§5.1). */
	begin(&s, 1, FCGI_RESPONDER, FCGI_KEEP_CONN);
	rec(&s, FCGI_PARAMS, 1, "\x04\x06QS__secs=1", 0);
	rec(&s, FCGI_PARAMS, 1, "", 0);
	rec(&s, FCGI_STDIN, 1, "", 0);
	begin(&s, 1, FCGI_RESPONDER, FCGI_KEEP_CONN);
	rec(&s, FCGI_PARAMS, 1, "\x04\x06QS__secs=2", 0);
	rec(&s, FCGI_PARAMS, 1, "", 0);
	rec(&s, FCGI_STDIN, 1, "", 0);
	whole = transcript(&s);
	is_str(whole,
	    "B1/r1/f1 P1{\\04\\06QS__secs=1} p1 i1 "
	    "B1/r1/f1 P1{\\04\\06QS__secs=2} p1 i1 =end",
	    "two KEEP_CONN requests in one buffer");
	ok(split3_mismatches(&s, whole) == 0,
	    "all %zu 3-way splits of the %zu bytes: identical events",
	    (s.n + 1) * (s.n + 2) / 2, s.n);
	free(whole);
	free(s.b);
}

static void
test_interleaved(void)
{
	struct bytes s = {0};
	char *whole;

	/* Two requests multiplexed on one connection (§3.3 request ids). */
	begin(&s, 1, FCGI_RESPONDER, FCGI_KEEP_CONN);
	begin(&s, 2, FCGI_AUTHORIZER, FCGI_KEEP_CONN);
	rec(&s, FCGI_PARAMS, 2,
	    "\x01\x01"
	    "ab",
	    6);
	rec(&s, FCGI_PARAMS, 1,
	    "\x01\x01"
	    "cd",
	    4);
	rec(&s, FCGI_PARAMS, 2,
	    "\x01\x01"
	    "ef",
	    0);
	rec(&s, FCGI_PARAMS, 1, "", 0);
	rec(&s, FCGI_STDIN, 2, "", 0);
	rec(&s, FCGI_PARAMS, 2, "", 0);
	rec(&s, FCGI_STDIN, 1, "body", 4);
	rec(&s, FCGI_ABORT_REQUEST, 2, "", 0);
	rec(&s, FCGI_STDIN, 1, "", 0);
	whole = transcript(&s);
	is_str(whole,
	    "B1/r1/f1 B2/r2/f1 P2{\\01\\01ab} P1{\\01\\01cd} P2{\\01\\01ef} "
	    "p1 i2 p2 I1{body} A2 i1 =end",
	    "two request ids interleaved: every record keeps its id");
	ok(split_mismatches(&s, whole) == 0,
	    "interleaved: bytewise and every 2-way split identical");
	free(whole);
	free(s.b);
}

static void
test_padding(void)
{
	struct bytes s = {0};
	uint8_t body[8] = {0, FCGI_FILTER, 0};
	char *whole;

	/* §3.3 "Padding": receivers skip paddingLength bytes, 0..255. */
	rec_raw(&s, 1, FCGI_BEGIN_REQUEST, 7, body, 8, 255);
	rec_raw(&s, 1, FCGI_PARAMS, 7, "\x01\x00x", 3, 5);
	rec(&s, FCGI_PARAMS, 7, "", 255);
	rec(&s, FCGI_STDIN, 7, "in", 1);
	rec(&s, FCGI_STDIN, 7, "", 8);
	rec(&s, FCGI_DATA, 7, "file", 200);
	rec(&s, FCGI_DATA, 7, "", 3);
	rec(&s, 99, 0, "future", 17); /* unknown management type */
	rec_raw(&s, 1, FCGI_GET_VALUES, 0, "\x0d\x00" FCGI_MAX_REQS, 15, 1);
	rec(&s, FCGI_ABORT_REQUEST, 7, "junk", 12);
	whole = transcript(&s);
	is_str(whole,
	    "B7/r3/f0 P7{\\01\\00x} p7 I7{in} i7 D7{file} d7 U99 "
	    "G0{\\0d\\00FCGI_MAX_REQS} A7 =end",
	    "padding of 1..255 bytes skipped on every record type");
	ok(split_mismatches(&s, whole) == 0,
	    "padded: bytewise and every 2-way split identical");
	free(whole);
	free(s.b);
}

static void
test_max_record(void)
{
	struct bytes s = {0};
	char *content = malloc(FCGI_MAX_CONTENT), *whole;
	size_t cuts[3] = {3, 9, 40000};

	memset(content, 'z', FCGI_MAX_CONTENT);
	begin(&s, 65535, FCGI_RESPONDER, 0);
	rec_raw(&s, 1, FCGI_STDIN, 65535, content, FCGI_MAX_CONTENT, 1);
	rec(&s, FCGI_STDIN, 65535, "", 0);
	whole = transcript_cuts(&s, cuts, 3, NULL);
	ok(strlen(whole) ==
	            strlen("B65535/r1/f0 I65535{} i65535 =end") +
	                FCGI_MAX_CONTENT &&
	        strspn(whole + strlen("B65535/r1/f0 I65535{"), "z") ==
	            FCGI_MAX_CONTENT,
	    "a 65535-byte record with id 65535, delivered in 3 pieces");
	free(whole);
	free(content);
	free(s.b);
}

/* The event fields: one call, one event, a record's pieces flagged. */
static void
test_event_fields(void)
{
	struct bytes s = {0};
	struct fcgi_decoder d;
	struct fcgi_event ev;
	enum fcgi_result r;
	size_t n;

	begin(&s, 0x1234, FCGI_FILTER, 0xff);
	rec(&s, FCGI_STDIN, 0x1234, "abcdef", 2);
	fcgi_decoder_init(&d);
	ok(fcgi_decoder_idle(&d), "a new decoder is idle");
	n = fcgi_decode(&d, s.b, 0, &ev, &r);
	ok(n == 0 && r == FCGI_NEED_MORE, "no input: FCGI_NEED_MORE, 0");
	n = fcgi_decode(&d, s.b, 5, &ev, &r);
	ok(n == 5 && r == FCGI_NEED_MORE && !fcgi_decoder_idle(&d),
	    "half a header: all consumed, not idle");
	n = fcgi_decode(&d, s.b + 5, s.n - 5, &ev, &r);
	ok(n == 11 && r == FCGI_OK && ev.type == FCGI_EV_BEGIN_REQUEST &&
	        ev.request_id == 0x1234 && ev.role == FCGI_FILTER &&
	        ev.flags == 0xff,
	    "BEGIN_REQUEST: stops right after the record, fields decoded");
	n = fcgi_decode(&d, s.b + 16, 11, &ev, &r);
	ok(n == 11 && r == FCGI_OK && ev.type == FCGI_EV_STDIN &&
	        ev.data.ptr == s.b + 24 && ev.data.len == 3 && !ev.last &&
	        ev.role == 0,
	    "a first piece points into the input, other fields cleared");
	n = fcgi_decode(&d, s.b + 27, 3, &ev, &r);
	ok(n == 3 && r == FCGI_OK && ev.data.ptr == s.b + 27 &&
	        ev.data.len == 3 && ev.last,
	    "the piece that ends the record has last set");
	n = fcgi_decode(&d, s.b + 30, 2, &ev, &r);
	ok(n == 2 && r == FCGI_NEED_MORE && fcgi_decoder_idle(&d),
	    "padding consumed without an event; idle again");
	free(s.b);
}

/* --- malformed input ------------------------------------------------------ */

/* Decode s whole; the result and where it stopped, and stickiness. */
static int
fails_with(const struct bytes *s, enum fcgi_result want, size_t at)
{
	struct fcgi_decoder d;
	struct fcgi_event ev;
	enum fcgi_result r;
	size_t off = 0, n;

	fcgi_decoder_init(&d);
	do {
		n = fcgi_decode(&d, s->b + off, s->n - off, &ev, &r);
		off += n;
	} while (r == FCGI_OK);
	if (r != want || off != at)
		return 0;
	n = fcgi_decode(&d, s->b, s->n, &ev, &r);
	return n == 0 && r == want && d.state == FCGI_DS_ERROR;
}

static void
bad_header(uint8_t version, uint8_t type, uint16_t id, uint16_t clen,
    enum fcgi_result want, const char *what)
{
	struct bytes s = {0};
	char content[2048] = {0};
	size_t at;

	begin(&s, 1, FCGI_RESPONDER, 0);
	at = s.n + 8;
	rec_raw(&s, version, type, id, content, clen, 0);
	ok(fails_with(&s, want, at), "%s: %s after its header, sticky", what,
	    fcgi_result_name(want));
	free(s.b);
}

static void
test_malformed(void)
{
	static const struct {
		uint8_t type;
		const char *name;
	} app_only[] = {
	    {FCGI_END_REQUEST, "END_REQUEST"},
	    {FCGI_STDOUT, "STDOUT"},
	    {FCGI_STDERR, "STDERR"},
	    {FCGI_GET_VALUES_RESULT, "GET_VALUES_RESULT"},
	    {FCGI_UNKNOWN_TYPE, "UNKNOWN_TYPE"},
	};
	struct bytes s = {0};
	char *t;
	size_t i;

	bad_header(0, FCGI_PARAMS, 1, 0, FCGI_EPROTO, "version 0");
	bad_header(2, FCGI_PARAMS, 1, 0, FCGI_EPROTO, "version 2");
	bad_header(1, FCGI_BEGIN_REQUEST, 2, 0, FCGI_EPROTO,
	    "BEGIN_REQUEST with no body");
	bad_header(1, FCGI_BEGIN_REQUEST, 2, 7, FCGI_EPROTO,
	    "BEGIN_REQUEST with 7 body bytes");
	bad_header(1, FCGI_BEGIN_REQUEST, 2, 9, FCGI_EPROTO,
	    "BEGIN_REQUEST with 9 body bytes");
	bad_header(1, FCGI_BEGIN_REQUEST, 0, 8, FCGI_EPROTO,
	    "BEGIN_REQUEST with request id 0");
	bad_header(1, FCGI_ABORT_REQUEST, 0, 0, FCGI_EPROTO,
	    "ABORT_REQUEST with request id 0");
	bad_header(1, FCGI_PARAMS, 0, 3, FCGI_EPROTO, "PARAMS with id 0");
	bad_header(1, FCGI_STDIN, 0, 0, FCGI_EPROTO, "empty STDIN with id 0");
	bad_header(1, FCGI_DATA, 0, 1, FCGI_EPROTO, "DATA with id 0");
	bad_header(1, FCGI_GET_VALUES, 1, 0, FCGI_EPROTO,
	    "GET_VALUES (management) with request id 1");
	bad_header(1, FCGI_GET_VALUES, 0, FCGI_GET_VALUES_MAX + 1, FCGI_ETOOBIG,
	    "GET_VALUES of 1025 bytes");
	bad_header(
	    1, 12, 1, 0, FCGI_EPROTO, "unknown type 12 with a non-zero id");
	for (i = 0; i < sizeof(app_only) / sizeof(app_only[0]); i++)
		bad_header(
		    1, app_only[i].type, 1, 8, FCGI_EPROTO, app_only[i].name);
	bad_header(1, FCGI_STDOUT, 0, 0, FCGI_EPROTO, "STDOUT with id 0");

	/* The same errors found when the input comes a byte at a time. */
	begin(&s, 1, FCGI_RESPONDER, 0);
	rec(&s, FCGI_STDIN, 1, "ok", 0);
	rec(&s, FCGI_STDOUT, 1, "oops", 0);
	t = transcript(&s);
	is_str(t, "B1/r1/f0 I1{ok} =protocol-error@34",
	    "events before the bad record are delivered, then the error");
	ok(split_mismatches(&s, t) == 0,
	    "the error and its offset do not depend on the split");
	free(t);
	free(s.b);
}

static void
test_management(void)
{
	struct bytes s = {0}, q = {0};
	char content[FCGI_GET_VALUES_MAX];
	char *t;

	memset(content, 'n', sizeof(content));
	rec_raw(&s, 1, FCGI_GET_VALUES, 0, content, FCGI_GET_VALUES_MAX, 0);
	t = transcript(&s);
	ok(strncmp(t, "G0{nnn", 6) == 0 && strstr(t, "n} =end") != NULL,
	    "GET_VALUES of exactly 1024 bytes is delivered");
	free(t);
	free(s.b);
	s = (struct bytes){0};

	nv(&q, FCGI_MAX_CONNS, "");
	rec_raw(&s, 1, FCGI_GET_VALUES, 0, q.b, (uint16_t)q.n, 0);
	rec(&s, FCGI_GET_VALUES, 0, "", 0);
	rec(&s, 0, 0, "", 0);
	rec(&s, 255, 0, "xyz", 5);
	begin(&s, 1, 4, 0);
	is_tr(&s, "G0{\\0e\\00FCGI_MAX_CONNS} G0{} U0 U255 B1/r4/f0 =end",
	    "GET_VALUES (also empty), unknown types 0 and 255 with id 0, "
	    "an unknown role passed through");
	free(s.b);
	free(q.b);
}

/* --- name-value pairs ---------------------------------------------------- */

/* Walk a block from a copy of exactly its size. */
static enum fcgi_result
walk(const uint8_t *b, size_t len, size_t *pairs, size_t *end_off)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct fcgi_span n, v;
	enum fcgi_result r;
	size_t off = 0;

	memcpy(copy, b, len);
	*pairs = 0;
	while ((r = fcgi_nvpair_next(copy, len, &off, &n, &v)) == FCGI_OK) {
		if (n.ptr < copy || v.ptr < n.ptr + n.len ||
		    v.ptr + v.len > copy + len)
			r = FCGI_ETOOBIG; /* a span outside: report oddly */
		(*pairs)++;
	}
	free(copy);
	*end_off = off;
	return r;
}

static void
test_nvpairs(void)
{
	struct bytes s = {0};
	char big[300];
	size_t bounds[8], nb = 0, i, pairs, end, bad = 0, off;
	struct fcgi_span n, v;
	enum fcgi_result r;

	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	bounds[nb++] = s.n;
	nv(&s, "A", "1"); /* 1 + 1 byte lengths */
	bounds[nb++] = s.n;
	nv(&s, "LONG", big); /* 1 + 4 */
	bounds[nb++] = s.n;
	nv(&s, big + 100, "x"); /* 4 + 1: a 199-byte name */
	bounds[nb++] = s.n;
	nv(&s, big + 50, big); /* 4 + 4 */
	bounds[nb++] = s.n;
	nv(&s, "", ""); /* both empty */
	bounds[nb++] = s.n;
	nv_len(&s, 3, 1); /* a short length in 4 bytes is legal */
	nv_len(&s, 0, 1);
	put(&s, "abc", 3);
	bounds[nb++] = s.n;

	r = walk(s.b, s.n, &pairs, &end);
	ok(r == FCGI_NEED_MORE && pairs == 6 && end == s.n,
	    "six pairs: 1/1, 1/4, 4/1, 4/4 byte lengths, empty, padded 4");
	off = 0;
	fcgi_nvpair_next(s.b, s.n, &off, &n, &v);
	fcgi_nvpair_next(s.b, s.n, &off, &n, &v);
	ok(n.len == 4 && memcmp(n.ptr, "LONG", 4) == 0 && v.len == 299 &&
	        v.ptr == n.ptr + 4,
	    "a 299-byte value: spans into the block");

	/* Every cut of the block: a cut pair is FCGI_EPROTO, a cut
	 * between pairs is a clean (shorter) block. */
	for (i = 0; i <= s.n; i++) {
		size_t k, at_bound = 0;

		for (k = 0; k < nb; k++)
			if (bounds[k] == i)
				at_bound = k + 1;
		r = walk(s.b, i, &pairs, &end);
		if (at_bound ? (r != FCGI_NEED_MORE || pairs != at_bound - 1)
		             : r != FCGI_EPROTO)
			bad++;
	}
	ok(bad == 0, "all %zu truncations: EPROTO inside a pair only", s.n);
	free(s.b);
}

static void
test_nvpair_bounds(void)
{
	static const uint8_t huge_name[] = {
	    0xff, 0xff, 0xff, 0xff, 0x01, 'a', 'b'};
	static const uint8_t huge_value[] = {
	    0x01, 0xff, 0xff, 0xff, 0xff, 'a', 'b'};
	static const uint8_t value_past[] = {0x01, 0x05, 'n', 'v', 'v'};
	static const uint8_t cut_length[] = {0x80, 0x00, 0x01};
	static const uint8_t cut_value_length[] = {0x01, 0x80, 0x00};
	struct fcgi_span n, v;
	size_t off, need, pairs, end;

	ok(walk(huge_name, sizeof(huge_name), &pairs, &end) == FCGI_EPROTO &&
	        end == 0,
	    "name length 2^31-1 in a 7-byte block: EPROTO, nothing read");
	ok(walk(huge_value, sizeof(huge_value), &pairs, &end) == FCGI_EPROTO,
	    "value length 2^31-1 past the end: EPROTO");
	ok(walk(value_past, sizeof(value_past), &pairs, &end) == FCGI_EPROTO,
	    "value length 5 with 2 bytes left: EPROTO");
	ok(walk(cut_length, sizeof(cut_length), &pairs, &end) == FCGI_EPROTO,
	    "a 4-byte name length cut after 3 bytes: EPROTO");
	ok(walk(cut_value_length, sizeof(cut_value_length), &pairs, &end) ==
	        FCGI_EPROTO,
	    "a 4-byte value length cut: EPROTO");
	off = 4;
	ok(fcgi_nvpair_next(value_past, 3, &off, &n, &v) == FCGI_EPROTO &&
	        off == 4,
	    "*off past the block: EPROTO");
	off = 0;
	ok(fcgi_nvpair_next(value_past, 0, &off, &n, &v) == FCGI_NEED_MORE,
	    "an empty block: the end at once");

	/* The streaming variant: how much a cut pair needs. */
	off = 0;
	ok(fcgi_nvpair_next_partial(value_past, sizeof(value_past), &off, &n,
	       &v, &need) == FCGI_NEED_MORE &&
	        off == 0 && need == 8,
	    "partial: a cut pair leaves *off, needs 8 bytes in all");
	ok(fcgi_nvpair_next_partial(cut_length, sizeof(cut_length), &off, &n,
	       &v, &need) == FCGI_NEED_MORE &&
	        need == 0,
	    "partial: lengths not yet readable: need 0");
	ok(fcgi_nvpair_next_partial(huge_value, sizeof(huge_value), &off, &n,
	       &v, &need) == FCGI_NEED_MORE &&
	        need ==
	            (SIZE_MAX > 0xffffffffu ? 5 + 1 + (size_t)0x7fffffff
	                                    : SIZE_MAX),
	    "partial: need reports a 2^31-byte value without overflow");
	ok(fcgi_nvpair_next_partial(value_past, 3, &off, &n, &v, &need) ==
	            FCGI_NEED_MORE &&
	        need == 8,
	    "partial: the same pair cut inside its name");
}

/* --- encoders ------------------------------------------------------------- */

static int
same_bytes(const uint8_t *got, size_t n, const uint8_t *want, size_t wn)
{
	return n == wn && memcmp(got, want, n) == 0;
}

static void
test_encode_fixed(void)
{
	static const uint8_t hdr[] = {1, 6, 0x12, 0x34, 0xab, 0xcd, 0xef, 0};
	static const uint8_t endreq[] = {1, 3, 0, 9, 0, 8, 0, 0, 0x01, 0x02,
	    0x03, 0x04, FCGI_OVERLOADED, 0, 0, 0};
	static const uint8_t unknown[] = {
	    1, 11, 0, 0, 0, 8, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t sterm[] = {1, 6, 0, 1, 0, 0, 0, 0};
	uint8_t out[64];
	size_t n;

	memset(out, 0xaa, sizeof(out));
	n = fcgi_encode_header(out, 8, FCGI_STDOUT, 0x1234, 0xabcd, 0xef);
	ok(same_bytes(out, n, hdr, sizeof(hdr)),
	    "header: B1/B0 fields big-endian, reserved 0");
	ok(fcgi_encode_header(out, 7, FCGI_STDOUT, 1, 0, 0) == 0,
	    "header: 0 when 7 bytes are left");
	memset(out, 0xaa, sizeof(out));
	n = fcgi_encode_end_request(out, 16, 9, 0x01020304, FCGI_OVERLOADED);
	ok(same_bytes(out, n, endreq, sizeof(endreq)),
	    "END_REQUEST: appStatus B3..B0, protocolStatus, reserved (§5.5)");
	ok(fcgi_encode_end_request(out, 15, 9, 0, 0) == 0,
	    "END_REQUEST: 0 when it does not fit");
	memset(out, 0xaa, sizeof(out));
	n = fcgi_encode_unknown_type(out, sizeof(out), 42);
	ok(same_bytes(out, n, unknown, sizeof(unknown)),
	    "UNKNOWN_TYPE: {FCGI_UNKNOWN_TYPE, 0, {42}} (§4.2)");
	ok(fcgi_encode_unknown_type(out, 15, 42) == 0,
	    "UNKNOWN_TYPE: 0 when it does not fit");
	n = fcgi_encode_stream_end(out, sizeof(out), FCGI_STDOUT, 1);
	ok(same_bytes(out, n, sterm, sizeof(sterm)),
	    "stream end: the empty record");
	ok(fcgi_padding_for(0) == 0 && fcgi_padding_for(1) == 7 &&
	        fcgi_padding_for(7) == 1 && fcgi_padding_for(8) == 0 &&
	        fcgi_padding_for(13) == 3 && fcgi_padding_for(65535) == 1,
	    "padding to a multiple of 8");
}

static void
test_encode_stream(void)
{
	static const uint8_t want[] = {
	    1, 6, 0, 1, 0, 5, 3, 0, 'h', 'e', 'l', 'l', 'o', 0, 0, 0};
	uint8_t out[32], pad = 99;
	uint8_t *big = malloc(FCGI_HEADER_LEN + FCGI_MAX_CONTENT + 1);
	uint8_t *src = malloc(FCGI_MAX_CONTENT + 1);
	size_t n;

	n = fcgi_encode_stream_header(out, 8, FCGI_STDOUT, 1, 5, &pad);
	ok(n == 8 && pad == 3 && memcmp(out, want, 8) == 0,
	    "stream header for 5 bytes: padding 3");
	pad = 99;
	ok(fcgi_encode_stream_header(out, 7, FCGI_STDOUT, 1, 5, &pad) == 0 &&
	        pad == 99,
	    "stream header: 0 when it does not fit, *padding untouched");
	memset(out, 0xaa, sizeof(out));
	n = fcgi_encode_stream(out, 16, FCGI_STDOUT, 1, "hello", 5);
	ok(same_bytes(out, n, want, sizeof(want)),
	    "stream record: header, data, zero padding");
	ok(fcgi_encode_stream(out, 15, FCGI_STDOUT, 1, "hello", 5) == 0,
	    "stream record: 0 when the padding does not fit");
	ok(fcgi_encode_stream(big, FCGI_HEADER_LEN + FCGI_MAX_CONTENT + 1,
	       FCGI_STDOUT, 1, src, FCGI_MAX_CONTENT + 1) == 0,
	    "stream record: 0 for more than 65535 bytes");
	memset(src, 'q', FCGI_MAX_CONTENT);
	n = fcgi_encode_stream(big, FCGI_HEADER_LEN + FCGI_MAX_CONTENT + 1,
	    FCGI_STDOUT, 1, src, FCGI_MAX_CONTENT);
	ok(n == FCGI_HEADER_LEN + FCGI_MAX_CONTENT + 1 && big[4] == 0xff &&
	        big[5] == 0xff && big[6] == 1 && big[n - 2] == 'q' &&
	        big[n - 1] == 0,
	    "stream record of 65535 bytes: padding 1");
	free(src);
	free(big);
}

static void
test_encode_nvpair(void)
{
	static const uint8_t short_pair[] = {1, 2, 'A', 'b', 'c'};
	char v128[129];
	uint8_t out[300];
	size_t n, len, i, bad = 0;

	n = fcgi_encode_nvpair(out, sizeof(out), "A", 1, "bc", 2);
	ok(same_bytes(out, n, short_pair, sizeof(short_pair)),
	    "nvpair with 1-byte lengths");
	memset(v128, 'v', 128);
	n = fcgi_encode_nvpair(out, sizeof(out), v128, 127, v128, 128);
	ok(n == 1 + 4 + 127 + 128 && out[0] == 127 && out[1] == 0x80 &&
	        out[2] == 0 && out[3] == 0 && out[4] == 128,
	    "127 fits one byte, 128 takes four with the high bit set");
	len = n;
	for (i = 0; i < len; i++)
		bad += fcgi_encode_nvpair(out, i, v128, 127, v128, 128) != 0;
	ok(bad == 0, "0 for every buffer shorter than the pair");
	ok(fcgi_encode_nvpair(out, sizeof(out), "x", (size_t)1 << 31, "", 0) ==
	            0 &&
	        fcgi_encode_nvpair(
	            out, sizeof(out), "", 0, "x", (size_t)1 << 31) == 0,
	    "0 for a length of 2^31 (not encodable, §3.4)");
}

/* Encoders through the decoder: a request written with the encoders (as
 * a web server would) decodes to what was written. */
static void
test_roundtrip(void)
{
	struct bytes s = {0}, block = {0}, params = {0};
	uint8_t hdr[8], zero[8] = {0}, pad, rec8[16], *pair;
	char *value = malloc(100001), *t;
	struct fcgi_span nm, v;
	size_t off, chunk, n;
	uint8_t body[8] = {0, FCGI_RESPONDER, FCGI_KEEP_CONN};

	memset(value, 'w', 100000);
	value[100000] = 0;
	n = fcgi_encode_nvpair(rec8, sizeof(rec8), "K", 1, "v", 1);
	put(&block, rec8, n);
	pair = malloc(100016);
	n = fcgi_encode_nvpair(pair, 100016, "BIG", 3, value, 100000);
	put(&block, pair, n);
	free(pair);
	/* BEGIN_REQUEST by the header encoder plus its body. */
	put(&s, hdr, fcgi_encode_header(hdr, 8, FCGI_BEGIN_REQUEST, 3, 8, 0));
	put(&s, body, 8);
	/* The 100,012-byte block framed in chunks of at most 65535. */
	for (off = 0; off < block.n; off += chunk) {
		chunk = block.n - off > FCGI_MAX_CONTENT ? FCGI_MAX_CONTENT
		                                         : block.n - off;
		put(&s, hdr,
		    fcgi_encode_stream_header(
		        hdr, 8, FCGI_PARAMS, 3, (uint16_t)chunk, &pad));
		put(&s, block.b + off, chunk);
		put(&s, zero, pad);
	}
	put(&s, hdr, fcgi_encode_stream_end(hdr, 8, FCGI_PARAMS, 3));
	n = fcgi_encode_stream(rec8, sizeof(rec8), FCGI_STDIN, 3, "posted", 6);
	put(&s, rec8, n);
	put(&s, hdr, fcgi_encode_stream_end(hdr, 8, FCGI_STDIN, 3));

	t = transcript_cuts(&s, NULL, 0, &params);
	ok(strncmp(t, "B3/r1/f1 P3{", 12) == 0 &&
	        strstr(t, "} p3 I3{posted} i3 =end") != NULL,
	    "encoded request decodes: BEGIN, PARAMS, STDIN");
	ok(params.n == block.n && memcmp(params.b, block.b, block.n) == 0,
	    "the PARAMS stream (2 records) is the block, byte for byte");
	ok(param(&params, "K") != NULL && strcmp(param(&params, "K"), "v") == 0,
	    "its first pair walks back");
	off = 0;
	fcgi_nvpair_next(params.b, params.n, &off, &nm, &v);
	ok(fcgi_nvpair_next(params.b, params.n, &off, &nm, &v) == FCGI_OK &&
	        v.len == 100000 && memcmp(v.ptr, value, 100000) == 0 &&
	        off == params.n,
	    "and so does a 100,000-byte value split across records");
	free(t);
	free(value);
	free(params.b);
	free(block.b);
	free(s.b);
}

/* A GET_VALUES query through the decoder, two bytes at a time. */
static size_t
decode_query(const struct bytes *q, uint8_t *got, size_t cap)
{
	struct bytes s = {0};
	struct fcgi_decoder d;
	struct fcgi_event ev = {0};
	enum fcgi_result r;
	size_t off, piece, gl = 0;

	rec_raw(&s, 1, FCGI_GET_VALUES, 0, q->b, (uint16_t)q->n, 3);
	fcgi_decoder_init(&d);
	for (off = 0; off < s.n;) {
		piece = s.n - off < 2 ? s.n - off : 2;
		off += fcgi_decode(&d, s.b + off, piece, &ev, &r);
		if (r != FCGI_OK && r != FCGI_NEED_MORE)
			break;
		if (r == FCGI_OK && gl + ev.data.len <= cap) {
			memcpy(got + gl, ev.data.ptr, ev.data.len);
			gl += ev.data.len;
		}
	}
	free(s.b);
	return ev.last && fcgi_decoder_idle(&d) ? gl : 0;
}

/* GET_VALUES query -> decoder -> fcgi_encode_get_values_result (§4.1). */
static void
test_get_values_result(void)
{
	static const struct fcgi_mgmt_values vals = {10000, 4294967295u, false};
	struct bytes q = {0}, want = {0};
	uint8_t out[256], got[256];
	size_t n = 0, gl, i, bad = 0, unused;

	nv(&q, FCGI_MPXS_CONNS, "");
	nv(&q, "FCGI_UNHEARD_OF", "");
	nv(&q, FCGI_MAX_REQS, "");
	nv(&q, FCGI_MPXS_CONNS, "");
	nv(&q, FCGI_MAX_CONNS, "ignored");
	gl = decode_query(&q, got, sizeof(got));
	ok(gl == q.n && memcmp(got, q.b, q.n) == 0,
	    "the query comes out of the decoder whole");
	ok(fcgi_encode_get_values_result(
	       out, sizeof(out), got, gl, &vals, &n) == FCGI_OK &&
	        n % 8 == 0 && out[0] == 1 && out[1] == FCGI_GET_VALUES_RESULT &&
	        out[2] == 0 && out[3] == 0 &&
	        (size_t)(out[4] << 8 | out[5]) + out[6] + 8 == n,
	    "GET_VALUES_RESULT record, id 0, padded to 8 (%zu bytes)", n);
	nv(&want, FCGI_MPXS_CONNS, "0");
	nv(&want, FCGI_MAX_REQS, "4294967295");
	nv(&want, FCGI_MAX_CONNS, "10000");
	ok(same_bytes(out + 8, (size_t)(out[4] << 8 | out[5]), want.b, want.n),
	    "known names answered once each, in the order asked; "
	    "the unknown one omitted");
	for (i = 0; i < n; i++)
		bad += fcgi_encode_get_values_result(
		           out, i, got, gl, &vals, &unused) != FCGI_ETOOBIG;
	ok(bad == 0, "FCGI_ETOOBIG for every buffer under %zu bytes", n);
	free(want.b);
	free(q.b);
}

static void
test_get_values_edges(void)
{
	static const struct fcgi_mgmt_values vals = {1, 1, true};
	uint8_t out[64];
	struct fcgi_span nm, v;
	size_t n, off = FCGI_HEADER_LEN;

	ok(fcgi_encode_get_values_result(out, sizeof(out),
	       (const uint8_t *)"\x05\x00OTHER", 7, &vals, &n) == FCGI_OK &&
	        n == 8 && out[4] == 0 && out[5] == 0,
	    "nothing known asked: an empty GET_VALUES_RESULT");
	ok(fcgi_encode_get_values_result(out, sizeof(out),
	       (const uint8_t *)"\x0f\x00" FCGI_MPXS_CONNS, 17, &vals,
	       &n) == FCGI_OK &&
	        fcgi_nvpair_next(
	            out, FCGI_HEADER_LEN + out[5], &off, &nm, &v) == FCGI_OK &&
	        v.len == 1 && v.ptr[0] == '1',
	    "FCGI_MPXS_CONNS true is \"1\"");
	ok(fcgi_encode_get_values_result(out, sizeof(out),
	       (const uint8_t *)"\x0e\x00"
	                        "FCGI_MAX",
	       10, &vals, &n) == FCGI_EPROTO &&
	        n == 0,
	    "a cut query: FCGI_EPROTO");
}

static void
test_unknown_roundtrip(void)
{
	struct bytes s = {0};
	struct fcgi_decoder d;
	struct fcgi_event ev;
	enum fcgi_result r;
	uint8_t out[16];

	rec(&s, 200, 0, "some future management query", 3);
	fcgi_decoder_init(&d);
	fcgi_decode(&d, s.b, s.n, &ev, &r);
	ok(r == FCGI_OK && ev.type == FCGI_EV_UNKNOWN_TYPE &&
	        ev.unknown_type == 200 && ev.request_id == 0 &&
	        fcgi_encode_unknown_type(out, sizeof(out), ev.unknown_type) ==
	            16 &&
	        out[8] == 200,
	    "an unknown management record is answered with its type");
	free(s.b);
}

static void
test_names(void)
{
	int i, bad = 0;

	for (i = 0; i < FCGI_RESULT__MAX; i++)
		bad += strcmp(fcgi_result_name((enum fcgi_result)i), "?") == 0;
	for (i = 0; i < FCGI_EV__MAX; i++)
		bad +=
		    strcmp(fcgi_event_name((enum fcgi_event_type)i), "?") == 0;
	for (i = 0; i < FCGI_DS__MAX; i++)
		bad += strcmp(fcgi_dstate_name((enum fcgi_dstate)i), "?") == 0;
	ok(bad == 0 && strcmp(fcgi_event_name(FCGI_EV__MAX), "?") == 0,
	    "every result, event and state has a name for logs");
}

int
main(void)
{
	ok(sizeof(struct fcgi_decoder) <= 64,
	    "struct fcgi_decoder is %zu bytes", sizeof(struct fcgi_decoder));
	test_lighttpd_get();
	test_lighttpd_post();
	test_lighttpd_large_post();
	test_coalesced();
	test_interleaved();
	test_padding();
	test_max_record();
	test_event_fields();
	test_malformed();
	test_management();
	test_nvpairs();
	test_nvpair_bounds();
	test_encode_fixed();
	test_encode_stream();
	test_encode_nvpair();
	test_roundtrip();
	test_get_values_result();
	test_get_values_edges();
	test_unknown_roundtrip();
	test_names();
	return done_testing();
}
