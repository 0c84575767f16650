/*
 * fuzz_codec — libFuzzer target for fcgi_codec (build: --enable-fuzzing,
 * run: tools/dev/fuzz codec).
 *
 * Input: byte 0 holds K = data[0] % 8, the next K bytes are chunk sizes,
 * the rest is what a web server sent. The stream is decoded twice: in one
 * call sequence over the whole buffer, and in chunks whose sizes cycle
 * through the K bytes (a 0 there also feeds an empty chunk). Each piece is
 * a malloc'd copy of exactly its size, so ASan sees any read past it.
 *
 * Checked (a failure aborts):
 *  - per call: consumed <= len; FCGI_OK consumed >= 1; FCGI_NEED_MORE
 *    consumed == len; an error is sticky (same error, nothing consumed);
 *    a data span is the tail of the bytes just consumed; the decoder's
 *    own fields stay in range; the number of calls is bounded;
 *  - per event: the fields the contract promises (ids, sizes, GET_VALUES
 *    bounded);
 *  - across the two runs: the same events (a hash with data joined per
 *    record), the same final result, the same bytes consumed;
 *  - PARAMS data, gathered until PARAMS_END: fcgi_nvpair_next walks it
 *    with spans inside the block and strict progress; the streaming
 *    fcgi_nvpair_next_partial, fed as the pieces arrive, finds the same
 *    pairs and stops at the same offset; each pair re-encodes and parses
 *    back to the same name and value;
 *  - GET_VALUES: the answer is a well-formed GET_VALUES_RESULT holding
 *    only known names, each once; UNKNOWN_TYPE: the answer echoes it;
 *  - STDIN pieces re-framed with fcgi_encode_stream decode back to the
 *    same bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

#define PARAMS_MAX 65536

struct run {
	struct fcgi_decoder d;
	uint64_t hash;
	size_t total;  /* bytes consumed */
	size_t calls;  /* fcgi_decode calls */
	int open;      /* a data record is half delivered */
	bool reencode; /* run the encoder round trips */
	enum fcgi_result end;
	/* PARAMS gathered, and the streaming walk over it */
	uint8_t params[PARAMS_MAX];
	size_t plen, poff, ppairs;
	bool poverflow;
	/* GET_VALUES gathered */
	uint8_t query[FCGI_GET_VALUES_MAX];
	size_t qlen;
};

static void
mix(struct run *r, uint64_t v)
{
	r->hash = (r->hash ^ v) * 0x100000001b3ull;
}

/* Walk a complete block; check every pair; returns pairs, *end_off. */
static size_t
walk_complete(
    const uint8_t *b, size_t len, size_t *end_off, enum fcgi_result *res)
{
	uint8_t again[1024];
	struct fcgi_span n, v, n2, v2;
	size_t off = 0, prev, pairs = 0, w, o2, want;

	for (;;) {
		prev = off;
		*res = fcgi_nvpair_next(b, len, &off, &n, &v);
		if (*res != FCGI_OK)
			break;
		CHECK(off > prev && off <= len);
		CHECK(n.ptr >= b + prev && n.ptr + n.len == v.ptr);
		CHECK(v.ptr + v.len == b + off);
		pairs++;
		/* Re-encode small pairs and parse them back. */
		w = fcgi_encode_nvpair(
		    again, sizeof(again), n.ptr, n.len, v.ptr, v.len);
		want = (n.len < 128 ? 1 : 4) + (v.len < 128 ? 1 : 4) + n.len +
		    v.len;
		CHECK(w == (want <= sizeof(again) ? want : 0));
		if (w > 0) {
			o2 = 0;
			CHECK(fcgi_nvpair_next(again, w, &o2, &n2, &v2) ==
			        FCGI_OK &&
			    o2 == w);
			CHECK(n2.len == n.len && v2.len == v.len);
			CHECK(memcmp(n2.ptr, n.ptr, n.len) == 0);
			CHECK(memcmp(v2.ptr, v.ptr, v.len) == 0);
		}
	}
	CHECK(*res == FCGI_NEED_MORE ? off == len
	                             : (*res == FCGI_EPROTO && off < len));
	*end_off = off;
	return pairs;
}

/* Advance the streaming walk over what has been gathered so far. */
static void
walk_partial(struct run *r)
{
	struct fcgi_span n, v;
	enum fcgi_result res;
	size_t prev, need;

	for (;;) {
		prev = r->poff;
		res = fcgi_nvpair_next_partial(
		    r->params, r->plen, &r->poff, &n, &v, &need);
		if (res != FCGI_OK)
			break;
		CHECK(need == 0 && r->poff > prev && r->poff <= r->plen);
		r->ppairs++;
	}
	CHECK(res == FCGI_NEED_MORE && r->poff == prev);
	CHECK(need == 0 || need > r->plen - r->poff);
}

static void
on_params_end(struct run *r)
{
	size_t pairs, end_off;
	enum fcgi_result res;

	if (!r->poverflow) {
		pairs = walk_complete(r->params, r->plen, &end_off, &res);
		CHECK(pairs == r->ppairs && end_off == r->poff);
		mix(r, pairs);
		mix(r, res);
	}
	r->plen = r->poff = r->ppairs = 0;
	r->poverflow = false;
}

/* Answer a whole GET_VALUES query and check the answer (§4.1). */
static void
on_get_values(struct run *r)
{
	static const struct fcgi_mgmt_values vals = {10000, 10000, false};
	uint8_t out[128];
	struct fcgi_span n, v;
	enum fcgi_result res, qres;
	size_t w, off, end_off, clen;
	unsigned seen = 0, bit;

	res = fcgi_encode_get_values_result(
	    out, sizeof(out), r->query, r->qlen, &vals, &w);
	walk_complete(r->query, r->qlen, &end_off, &qres);
	CHECK(res == (qres == FCGI_NEED_MORE ? FCGI_OK : FCGI_EPROTO));
	if (res != FCGI_OK) {
		CHECK(w == 0);
		return;
	}
	CHECK(w >= 8 && w <= sizeof(out) && w % 8 == 0);
	CHECK(out[0] == 1 && out[1] == FCGI_GET_VALUES_RESULT);
	CHECK(out[2] == 0 && out[3] == 0);
	clen = (size_t)(out[4] << 8 | out[5]);
	CHECK(8 + clen + out[6] == w);
	off = 8;
	while (fcgi_nvpair_next(out, 8 + clen, &off, &n, &v) == FCGI_OK) {
		if (n.len == strlen(FCGI_MAX_CONNS) &&
		    memcmp(n.ptr, FCGI_MAX_CONNS, n.len) == 0)
			bit = 1;
		else if (n.len == strlen(FCGI_MAX_REQS) &&
		    memcmp(n.ptr, FCGI_MAX_REQS, n.len) == 0)
			bit = 2;
		else
			bit = 4;
		CHECK(n.len == strlen(FCGI_MPXS_CONNS) || bit != 4);
		CHECK((seen & bit) == 0);
		seen |= bit;
	}
	CHECK(off == 8 + clen);
	mix(r, w);
}

/* STDIN re-framed by the encoder decodes back to the same bytes. */
static void
reframe(const struct fcgi_event *ev)
{
	static uint8_t rec[FCGI_HEADER_LEN + FCGI_MAX_CONTENT + 8];
	struct fcgi_decoder d;
	struct fcgi_event e2;
	enum fcgi_result res;
	size_t w, n;

	w = fcgi_encode_stream(rec, sizeof(rec), FCGI_STDIN, ev->request_id,
	    ev->data.ptr, ev->data.len);
	CHECK(w ==
	    FCGI_HEADER_LEN + ev->data.len + fcgi_padding_for(ev->data.len));
	fcgi_decoder_init(&d);
	n = fcgi_decode(&d, rec, w, &e2, &res);
	if (ev->data.len == 0) {
		CHECK(res == FCGI_OK && e2.type == FCGI_EV_STDIN_END);
		return;
	}
	CHECK(res == FCGI_OK && e2.type == FCGI_EV_STDIN && e2.last);
	CHECK(e2.request_id == ev->request_id && e2.data.len == ev->data.len);
	CHECK(memcmp(e2.data.ptr, ev->data.ptr, ev->data.len) == 0);
	CHECK(fcgi_decode(&d, rec + n, w - n, &e2, &res) == w - n &&
	    res == FCGI_NEED_MORE && fcgi_decoder_idle(&d));
}

/* A data event: hashed with the record's pieces joined, so the hash does
 * not depend on how the input was split. */
static void
on_data(struct run *r, const struct fcgi_event *ev)
{
	CHECK(ev->data.len <= FCGI_MAX_CONTENT);
	CHECK(
	    ev->data.len >= 1 || (ev->type == FCGI_EV_GET_VALUES && ev->last));
	if (!r->open) {
		mix(r, 0x1000u + ev->type);
		mix(r, ev->request_id);
	}
	for (size_t i = 0; i < ev->data.len; i++)
		mix(r, ev->data.ptr[i]);
	r->open = !ev->last;
	if (ev->last)
		mix(r, 0x2000);
	switch (ev->type) {
	case FCGI_EV_PARAMS:
		if (ev->data.len > PARAMS_MAX - r->plen)
			r->poverflow = true;
		if (!r->poverflow) {
			memcpy(r->params + r->plen, ev->data.ptr, ev->data.len);
			r->plen += ev->data.len;
			walk_partial(r);
		}
		break;
	case FCGI_EV_STDIN:
		if (r->reencode)
			reframe(ev);
		break;
	case FCGI_EV_GET_VALUES:
		CHECK(ev->request_id == 0);
		CHECK(r->qlen + ev->data.len <= FCGI_GET_VALUES_MAX);
		if (ev->data.len > 0)
			memcpy(r->query + r->qlen, ev->data.ptr, ev->data.len);
		r->qlen += ev->data.len;
		if (ev->last) {
			on_get_values(r);
			r->qlen = 0;
		}
		break;
	case FCGI_EV_DATA:
		break;
	case FCGI_EV_BEGIN_REQUEST:
	case FCGI_EV_ABORT_REQUEST:
	case FCGI_EV_PARAMS_END:
	case FCGI_EV_STDIN_END:
	case FCGI_EV_DATA_END:
	case FCGI_EV_UNKNOWN_TYPE:
	case FCGI_EV__MAX:
		abort();
	}
}

/* The END_REQUEST a BEGIN_REQUEST will get, checked field by field. */
static void
end_request(const struct fcgi_event *ev)
{
	uint8_t out[FCGI_END_REQUEST_LEN + 8], pad;
	uint32_t app = (uint32_t)ev->role << 16 | ev->flags;

	CHECK(fcgi_encode_end_request(out, FCGI_END_REQUEST_LEN - 1,
	          ev->request_id, app, FCGI_UNKNOWN_ROLE) == 0);
	CHECK(fcgi_encode_end_request(out, sizeof(out), ev->request_id, app,
	          FCGI_UNKNOWN_ROLE) == FCGI_END_REQUEST_LEN);
	CHECK(out[0] == 1 && out[1] == FCGI_END_REQUEST);
	CHECK((out[2] << 8 | out[3]) == ev->request_id);
	CHECK(out[4] == 0 && out[5] == 8 && out[6] == 0);
	CHECK(((uint32_t)out[8] << 24 | (uint32_t)out[9] << 16 |
	          (uint32_t)out[10] << 8 | out[11]) == app);
	CHECK(out[12] == FCGI_UNKNOWN_ROLE);
	CHECK(fcgi_encode_stream_header(out, sizeof(out), FCGI_STDOUT,
	          ev->request_id, ev->role, &pad) == FCGI_HEADER_LEN);
	CHECK((ev->role + pad) % 8 == 0 && out[6] == pad);
	CHECK((out[4] << 8 | out[5]) == ev->role);
}

/* Any other event: hashed whole. */
static void
on_event(struct run *r, const struct fcgi_event *ev)
{
	uint8_t out[FCGI_UNKNOWN_TYPE_LEN];

	CHECK(ev->type < FCGI_EV__MAX);
	CHECK((ev->request_id == 0) == (ev->type == FCGI_EV_UNKNOWN_TYPE));
	CHECK(!r->open); /* no event inside a record's pieces */
	mix(r, 0x3000u + ev->type);
	mix(r, ev->request_id);
	switch (ev->type) {
	case FCGI_EV_BEGIN_REQUEST:
		mix(r, ev->role);
		mix(r, ev->flags);
		end_request(ev);
		break;
	case FCGI_EV_UNKNOWN_TYPE:
		CHECK(ev->unknown_type == 0 || ev->unknown_type > FCGI_MAXTYPE);
		CHECK(fcgi_encode_unknown_type(
		          out, sizeof(out), ev->unknown_type) == sizeof(out) &&
		    out[1] == FCGI_UNKNOWN_TYPE && out[8] == ev->unknown_type);
		mix(r, ev->unknown_type);
		break;
	case FCGI_EV_PARAMS_END:
		on_params_end(r);
		break;
	case FCGI_EV_ABORT_REQUEST:
	case FCGI_EV_STDIN_END:
	case FCGI_EV_DATA_END:
		break;
	case FCGI_EV_PARAMS:
	case FCGI_EV_STDIN:
	case FCGI_EV_DATA:
	case FCGI_EV_GET_VALUES:
	case FCGI_EV__MAX:
		abort();
	}
}

static bool
is_data(enum fcgi_event_type t)
{
	return t == FCGI_EV_PARAMS || t == FCGI_EV_STDIN || t == FCGI_EV_DATA ||
	    t == FCGI_EV_GET_VALUES;
}

/* Feed one piece; false once the decoder has failed. */
static bool
feed(struct run *r, const uint8_t *piece, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);
	struct fcgi_event ev;
	enum fcgi_result res;
	size_t off = 0, n;

	memcpy(buf, piece, len);
	for (;;) {
		r->calls++;
		n = fcgi_decode(&r->d, buf + off, len - off, &ev, &res);
		CHECK(n <= len - off);
		CHECK(r->d.state < FCGI_DS__MAX && r->d.nbuf <= 8);
		off += n;
		r->total += n;
		if (res != FCGI_OK)
			break;
		CHECK(n >= 1);
		if (is_data(ev.type)) {
			CHECK(ev.data.len <= n);
			CHECK(ev.data.len == 0 ||
			    ev.data.ptr + ev.data.len == buf + off);
			on_data(r, &ev);
		} else {
			on_event(r, &ev);
		}
	}
	free(buf);
	if (res == FCGI_NEED_MORE) {
		CHECK(off == len);
		return true;
	}
	CHECK(res == FCGI_EPROTO || res == FCGI_ETOOBIG);
	CHECK(
	    fcgi_decode(&r->d, piece, len, &ev, &r->end) == 0 && r->end == res);
	return false;
}

static void
run_init(struct run *r, bool reencode)
{
	fcgi_decoder_init(&r->d);
	r->hash = 0xcbf29ce484222325ull;
	r->total = r->calls = 0;
	r->open = 0;
	r->reencode = reencode;
	r->end = FCGI_NEED_MORE;
	r->plen = r->poff = r->ppairs = r->qlen = 0;
	r->poverflow = false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, chunked;
	const uint8_t *sizes, *s;
	size_t k, n, off, i, c, pieces = 0;

	if (size < 1 || 1 + (size_t)(data[0] % 8) > size)
		return 0;
	k = data[0] % 8;
	sizes = data + 1;
	s = data + 1 + k;
	n = size - 1 - k;

	run_init(&whole, true);
	feed(&whole, s, n);
	CHECK(whole.calls <= n + 2);

	run_init(&chunked, false);
	for (off = 0, i = 0; off < n || (k > 0 && i == 0); i++) {
		c = k > 0 ? sizes[i % k] : n;
		if (c > n - off)
			c = n - off;
		pieces++;
		if (!feed(&chunked, s + off, c))
			break;
		off += c;
		if (c == 0 && off < n) { /* an empty piece, then one byte */
			pieces++;
			if (!feed(&chunked, s + off, 1))
				break;
			off++;
		}
	}
	CHECK(chunked.calls <= n + 2 * pieces + 2);
	CHECK(chunked.hash == whole.hash);
	CHECK(chunked.end == whole.end && chunked.total == whole.total);
	CHECK(fcgi_decoder_idle(&chunked.d) == fcgi_decoder_idle(&whole.d));
	return 0;
}
