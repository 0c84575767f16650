/*
 * test_http_resp — the incremental HTTP/1.1 response parser: every valid
 * response gives the same answer whole, split at every point, and byte by
 * byte; every malformed one gives its error at every split; every proper
 * prefix followed by a close is a truncation; random garbage never
 * crashes (run this under ASan and valgrind).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_resp.h"
#include "rng.h"
#include "tap.h"

#define BIG ((uint64_t)1 << 40)

struct outcome {
	enum http_resp_result res;
	size_t used; /* bytes consumed in total */
	int status;
	bool keep_alive;
	char reason[HTTP_RESP_REASON_MAX];
	char body[256];
	size_t kept;
	uint64_t body_len;
	char captured[HTTP_RESP_CAPTURE_MAX];
};

/*
 * Feed s[0..len) in pieces cut at cuts[0..ncuts) (ascending), stopping at
 * the first result that is not NEED_MORE; then, if eof, tell the parser
 * the peer closed.
 */
static void
run(const char *s, size_t len, const size_t *cuts, size_t ncuts, bool eof,
    uint64_t body_max, struct outcome *o)
{
	struct http_resp r;
	size_t from = 0, to, i, used;

	memset(o, 0, sizeof(*o));
	http_resp_init(&r, body_max, o->body, sizeof(o->body) - 1);
	http_resp_capture(&r, "X-Fcgilab-Worker");
	o->res = HTTP_RESP_NEED_MORE;
	for (i = 0; i <= ncuts && o->res == HTTP_RESP_NEED_MORE; i++) {
		to = i < ncuts ? cuts[i] : len;
		o->res = http_resp_feed(&r, s + from, to - from, &used);
		o->used += used;
		if (o->res == HTTP_RESP_NEED_MORE && used != to - from)
			o->res = HTTP_RESP_EPROTO + 100; /* contract broken */
		from = to;
	}
	if (eof && o->res == HTTP_RESP_NEED_MORE)
		o->res = http_resp_eof(&r);
	o->status = r.status;
	o->keep_alive = r.keep_alive;
	memcpy(o->reason, r.reason, sizeof(o->reason));
	o->kept = r.kept;
	o->body[r.kept] = '\0';
	o->body_len = r.body_len;
	memcpy(o->captured, r.captured, sizeof(o->captured));
}

static bool
same(const struct outcome *a, const struct outcome *b)
{
	return a->res == b->res && a->used == b->used &&
	    a->status == b->status && a->keep_alive == b->keep_alive &&
	    strcmp(a->reason, b->reason) == 0 &&
	    strcmp(a->body, b->body) == 0 && a->body_len == b->body_len &&
	    strcmp(a->captured, b->captured) == 0;
}

/* Every two-piece split and the byte-by-byte feed agree with `want`. */
static bool
all_splits_agree(const char *s, size_t len, bool eof, uint64_t body_max,
    const struct outcome *want)
{
	struct outcome got;
	size_t cut, *cuts, i;
	bool ok = true;

	for (cut = 0; cut <= len && ok; cut++) {
		run(s, len, &cut, 1, eof, body_max, &got);
		ok = same(&got, want);
		if (!ok)
			printf("# differs when split at %zu (res %d)\n", cut,
			    got.res);
	}
	cuts = calloc(len + 1, sizeof(*cuts));
	for (i = 0; i < len; i++)
		cuts[i] = i + 1;
	run(s, len, cuts, len > 0 ? len - 1 : 0, eof, body_max, &got);
	free(cuts);
	if (ok && !same(&got, want))
		printf("# differs byte by byte (res %d)\n", got.res);
	return ok && same(&got, want);
}

static const struct valid {
	const char *name, *text;
	bool eof; /* the body ends with the close */
	int status;
	const char *reason, *body;
	bool keep_alive;
} valid[] = {
    {"lighttpd-like 200",
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "Content-Length: 32\r\nDate: Tue, 01 Jul 2025 10:00:00 GMT\r\n"
        "Server: "
        "lighttpd/1.4.69\r\n\r\n{\"status\":\"ready\",\"seconds\":3}\r\n",
        false, 200, "OK", "{\"status\":\"ready\",\"seconds\":3}\r\n", true},
    {"chunked, extensions, trailer",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;ext=1\r\nhello\r\n6 ; a=\"b\"\r\n world\r\n0\r\nX-T: y\r\n\r\n",
        false, 200, "OK", "hello world", true},
    {"chunked, hex digits in both cases",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
        "a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n",
        false, 200, "OK", "0123456789abcdefghijk", true},
    {"gzip, chunked is chunked",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\n",
        false, 200, "OK", "abc", true},
    {"Connection: close",
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
        "Content-Length: 4\r\n\r\nbusy",
        false, 503, "Service Unavailable", "busy", false},
    {"Connection list with close",
        "HTTP/1.1 200 OK\r\nConnection: Upgrade , CLOSE\r\n"
        "Content-Length: 0\r\n\r\n",
        false, 200, "OK", "", false},
    {"HTTP/1.0 body to close", "HTTP/1.0 200 OK\r\n\r\nall of it\n", true, 200,
        "OK", "all of it\n", false},
    {"HTTP/1.0 keep-alive",
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
        "Content-Length: 2\r\n\r\nhi",
        false, 200, "OK", "hi", true},
    {"HTTP/1.1 no length: to close", "HTTP/1.1 200 OK\r\n\r\nstream", true, 200,
        "OK", "stream", false},
    {"gzip only: to close",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz", true, 200,
        "OK", "zzz", false},
    {"100 Continue first",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nA: b\r\n\r\n"
        "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
        false, 201, "Created", "x", true},
    {"204 has no body", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
        false, 204, "No Content", "", true},
    {"304 has no body", "HTTP/1.1 304 Not Modified\r\n\r\n", false, 304,
        "Not Modified", "", true},
    {"bare LF line ends", "HTTP/1.1 404 Not Found\nContent-Length: 3\n\nnop",
        false, 404, "Not Found", "nop", true},
    {"no reason phrase", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", false,
        200, "", "", true},
    {"empty reason phrase", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", false,
        200, "", "", true},
    {"leading empty line", "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        false, 200, "OK", "", true},
    {"same Content-Length twice",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length:2 \r\n\r\nok",
        false, 200, "OK", "ok", true},
    {"obs-fold on a header we ignore",
        "HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\nContent-Length: 0\r\n\r\n",
        false, 200, "OK", "", true},
    {"Content-Length beats nothing, TE beats CL",
        "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked"
        "\r\n\r\n1\r\nz\r\n0\r\n\r\n",
        false, 200, "OK", "z", true},
};

static void
test_valid(void)
{
	struct outcome whole;
	size_t i, len;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		const struct valid *v = &valid[i];

		len = strlen(v->text);
		run(v->text, len, NULL, 0, v->eof, BIG, &whole);
		ok(whole.res == HTTP_RESP_DONE && whole.used == len &&
		        whole.status == v->status &&
		        strcmp(whole.reason, v->reason) == 0 &&
		        strcmp(whole.body, v->body) == 0 &&
		        whole.body_len == strlen(v->body) &&
		        whole.keep_alive == v->keep_alive,
		    "valid: %s (res %d, status %d, body '%s')", v->name,
		    whole.res, whole.status, whole.body);
		ok(all_splits_agree(v->text, len, v->eof, BIG, &whole),
		    "valid: %s, every split point and byte by byte", v->name);
	}
}

/* Every proper prefix, then a close, is a truncation (never DONE). */
static void
test_truncation(void)
{
	struct outcome o;
	size_t i, cut, len, bad = 0;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		len = strlen(valid[i].text);
		for (cut = 0; cut < len; cut++) {
			run(valid[i].text, cut, NULL, 0, true, BIG, &o);
			/* A body to the close may end anywhere in the body. */
			if (o.res == HTTP_RESP_DONE && valid[i].eof &&
			    cut >= len - strlen(valid[i].body))
				continue;
			if (o.res != HTTP_RESP_ETRUNC) {
				printf("# %s: prefix %zu gave %d\n",
				    valid[i].name, cut, o.res);
				bad++;
			}
		}
	}
	ok(bad == 0, "every proper prefix then close is ETRUNC");
}

static const struct bad {
	const char *name, *text;
	enum http_resp_result want;
} bad[] = {
    {"HTTP/2 status line", "HTTP/2 200 OK\r\n\r\n", HTTP_RESP_EPROTO},
    {"not HTTP", "HTTX/1.1 200 OK\r\n\r\n", HTTP_RESP_EPROTO},
    {"garbage line", "hello world\r\n", HTTP_RESP_EPROTO},
    {"two-digit status", "HTTP/1.1 20 OK\r\n\r\n", HTTP_RESP_EPROTO},
    {"four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", HTTP_RESP_EPROTO},
    {"status 099", "HTTP/1.1 099 x\r\n\r\n", HTTP_RESP_EPROTO},
    {"status 600", "HTTP/1.1 600 x\r\n\r\n", HTTP_RESP_EPROTO},
    {"status with letters", "HTTP/1.1 2x0 OK\r\n\r\n", HTTP_RESP_EPROTO},
    {"two spaces after version", "HTTP/1.1  200 OK\r\n\r\n", HTTP_RESP_EPROTO},
    {"header without colon", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        HTTP_RESP_EPROTO},
    {"space before colon", "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        HTTP_RESP_EPROTO},
    {"empty header name", "HTTP/1.1 200 OK\r\n: x\r\n\r\n", HTTP_RESP_EPROTO},
    {"Content-Length abc", "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
        HTTP_RESP_EPROTO},
    {"Content-Length -1", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        HTTP_RESP_EPROTO},
    {"Content-Length empty", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
        HTTP_RESP_EPROTO},
    {"Content-Length list", "HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx",
        HTTP_RESP_EPROTO},
    {"Content-Length 19 digits",
        "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000\r\n\r\n",
        HTTP_RESP_EPROTO},
    {"conflicting Content-Length",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
        HTTP_RESP_EPROTO},
    {"obs-fold on Content-Length",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 2\r\n\r\nx",
        HTTP_RESP_EPROTO},
    {"empty Transfer-Encoding",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n", HTTP_RESP_EPROTO},
    {"101 never asked for", "HTTP/1.1 101 Switching Protocols\r\n\r\n",
        HTTP_RESP_EPROTO},
    {"chunk size zz",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        HTTP_RESP_EPROTO},
    {"chunk size empty",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
        HTTP_RESP_EPROTO},
    {"chunk size with junk",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\n",
        HTTP_RESP_EPROTO},
    {"chunk size 16 hex digits",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "1000000000000000\r\n",
        HTTP_RESP_EPROTO},
    {"no CRLF after chunk data",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n",
        HTTP_RESP_EPROTO},
};

static void
test_malformed(void)
{
	struct outcome whole, got;
	size_t i, len, cut;
	bool agree;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = strlen(bad[i].text);
		run(bad[i].text, len, NULL, 0, true, BIG, &whole);
		ok(whole.res == bad[i].want, "malformed: %s (res %d)",
		    bad[i].name, whole.res);
		for (cut = 0, agree = true; cut <= len && agree; cut++) {
			run(bad[i].text, len, &cut, 1, true, BIG, &got);
			agree = got.res == bad[i].want;
		}
		ok(agree, "malformed: %s, at every split", bad[i].name);
	}
}

static char *
repeat(const char *head, const char *unit, size_t times, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char *s = malloc(hl + ul * times + tl + 1), *p = s;

	memcpy(p, head, hl);
	p += hl;
	for (i = 0; i < times; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl + 1);
	return s;
}

static void
test_bounds(void)
{
	struct outcome o;
	char *s;

	s = repeat("HTTP/1.1 200 OK\r\nX-Long: ", "a", HTTP_RESP_LINE_MAX, "");
	run(s, strlen(s), NULL, 0, false, BIG, &o);
	ok(o.res == HTTP_RESP_ETOOBIG, "a line over LINE_MAX is ETOOBIG");
	free(s);
	s = repeat("HTTP/1.1 200 OK\r\n", "X-Many: 0123456789012345678901\r\n",
	    HTTP_RESP_HEAD_MAX / 32 + 1, "\r\n");
	run(s, strlen(s), NULL, 0, false, BIG, &o);
	ok(o.res == HTTP_RESP_ETOOBIG, "a head over HEAD_MAX is ETOOBIG");
	free(s);
	s = repeat("HTTP/1.1 200 OK\r\nX-Long: ", "a", 1000,
	    "\r\nContent-Length: 0\r\n\r\n");
	run(s, strlen(s), NULL, 0, false, BIG, &o);
	ok(o.res == HTTP_RESP_DONE, "a long header we ignore is fine");
	free(s);
	s = repeat(
	    "HTTP/1.1 200 OK\r\nConnection: ", "x,", 100, "close\r\n\r\n");
	run(s, strlen(s), NULL, 0, false, BIG, &o);
	ok(o.res == HTTP_RESP_EPROTO,
	    "a Connection line we cannot keep: EPROTO");
	free(s);

	s = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world";
	run(s, strlen(s), NULL, 0, false, 10, &o);
	ok(o.res == HTTP_RESP_ETOOBIG, "Content-Length over body_max: ETOOBIG");
	run(s, strlen(s), NULL, 0, false, 11, &o);
	ok(o.res == HTTP_RESP_DONE, "Content-Length at body_max: DONE");
	s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n";
	run(s, strlen(s), NULL, 0, false, 10, &o);
	ok(o.res == HTTP_RESP_ETOOBIG, "chunks over body_max: ETOOBIG");
	s = "HTTP/1.0 200 OK\r\n\r\nhello world";
	run(s, strlen(s), NULL, 0, true, 10, &o);
	ok(o.res == HTTP_RESP_ETOOBIG, "body to close over body_max: ETOOBIG");
}

static void
test_pipelined_and_keep(void)
{
	const char *two =
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
	    "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nBC";
	struct http_resp r;
	char keep[4];
	size_t used, used2, len = strlen(two);
	enum http_resp_result a, b;

	http_resp_init(&r, BIG, NULL, 0);
	a = http_resp_feed(&r, two, len, &used);
	ok(a == HTTP_RESP_DONE && r.status == 200 && used == 39,
	    "DONE stops at the end of the response (used %zu)", used);
	ok(http_resp_feed(&r, two + used, len - used, &used2) ==
	            HTTP_RESP_DONE &&
	        used2 == 0,
	    "feeding after DONE consumes nothing");
	http_resp_init(&r, BIG, keep, 1);
	b = http_resp_feed(&r, two + used, len - used, &used2);
	ok(b == HTTP_RESP_DONE && r.status == 404 && used + used2 == len &&
	        r.kept == 1 && keep[0] == 'B' && r.body_len == 2,
	    "the next response parses after init; keep buffer is bounded");
	http_resp_init(&r, BIG, NULL, 0);
	http_resp_feed(&r, "HTTP/9", 6, &used);
	http_resp_feed(&r, "\r\n", 2, &used);
	ok(r.state == HR_ERROR &&
	        http_resp_feed(&r, "x", 1, &used) == HTTP_RESP_EPROTO &&
	        http_resp_eof(&r) == HTTP_RESP_EPROTO && r.why != NULL,
	    "an error sticks: %s", r.why ? r.why : "(null)");
	http_resp_init(&r, BIG, NULL, 0);
	ok(http_resp_eof(&r) == HTTP_RESP_ETRUNC && r.why != NULL &&
	        strstr(r.why, "before") != NULL,
	    "close before any byte says so: %s", r.why);
	ok(strcmp(http_resp_state_name(HR_CHUNK_DATA), "chunk-data") == 0 &&
	        strcmp(http_resp_state_name(HR__MAX), "?") == 0,
	    "state names");
}

/* Random bytes, and random mutations of valid responses: no crash, and
 * every feed consumes what it says. Worth most under ASan/valgrind. */
static void
test_garbage(void)
{
	struct rng g;
	struct outcome o;
	char buf[512];
	size_t round, i, len, cuts[3], bad_used = 0;

	rng_seed(&g, 12345);
	for (round = 0; round < 20000; round++) {
		if (round % 2 == 0) {
			len = (size_t)rng_range(&g, 0, sizeof(buf));
			for (i = 0; i < len; i++)
				buf[i] = (char)rng_range(&g, 0, 255);
		} else {
			const char *v = valid[round / 2 %
			    (sizeof(valid) / sizeof(valid[0]))]
			                    .text;
			len = strlen(v);
			memcpy(buf, v, len);
			for (i = 0; i < 3; i++)
				buf[rng_range(&g, 0, (int64_t)len - 1)] =
				    (char)rng_range(&g, 0, 255);
		}
		for (i = 0; i < 3; i++)
			cuts[i] = (size_t)rng_range(&g, 0, (int64_t)len);
		if (cuts[0] > cuts[1]) {
			size_t t = cuts[0];
			cuts[0] = cuts[1], cuts[1] = t;
		}
		cuts[2] = cuts[1] > cuts[2] ? cuts[1] : cuts[2];
		run(buf, len, cuts, 3, round % 3 == 0, 1000, &o);
		if (o.res > HTTP_RESP_ETRUNC || o.used > len)
			bad_used++;
	}
	ok(bad_used == 0, "20000 random and mutated inputs: sane results");
}

/* The one header asked for is kept, at every split, cleaned and cut. */
static void
test_capture(void)
{
	static const struct {
		const char *resp, *want, *what;
	} cases[] = {
	    {"HTTP/1.1 200 OK\r\nX-Fcgilab-Worker: 4242\r\n"
	     "Content-Length: 2\r\n\r\nok",
	        "4242", "present"},
	    {"HTTP/1.1 200 OK\r\nx-fcgilab-worker:   77  \r\n"
	     "Content-Length: 0\r\n\r\n",
	        "77", "any case, OWS trimmed"},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "", "absent"},
	    {"HTTP/1.1 200 OK\r\nX-Fcgilab-Worker: 12,x\"y\r\n"
	     "Content-Length: 0\r\n\r\n",
	        "12", "cut at a byte outside the set (no CSV breakage)"},
	    {"HTTP/1.1 200 OK\r\nX-Fcgilab-Worker: "
	     "0123456789012345678901234567890123456789\r\n"
	     "Content-Length: 0\r\n\r\n",
	        "0123456789012345678901234567890", "cut at its bound"},
	    {"HTTP/1.1 100 Continue\r\nX-Fcgilab-Worker: 1\r\n\r\n"
	     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	        "", "an interim response's header does not count"},
	    {"HTTP/1.1 200 OK\r\nX-Fcgilab-Workers: 9\r\n"
	     "Content-Length: 0\r\n\r\n",
	        "", "another name"},
	};
	struct outcome want;
	size_t i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = strlen(cases[i].resp);
		run(cases[i].resp, len, NULL, 0, false, 1000, &want);
		ok(want.res == HTTP_RESP_DONE &&
		        strcmp(want.captured, cases[i].want) == 0 &&
		        all_splits_agree(
		            cases[i].resp, len, false, 1000, &want),
		    "capture: %s ('%s')", cases[i].what, want.captured);
	}
}

int
main(void)
{
	test_valid();
	test_truncation();
	test_malformed();
	test_bounds();
	test_pipelined_and_keep();
	test_garbage();
	test_capture();
	return done_testing();
}
