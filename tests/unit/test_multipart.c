/*
 * test_multipart — the multipart/form-data parser (multipart.h).
 *
 * Bodies are checked through transcripts: a text rendering of the
 * callbacks with a part's data pieces joined, ending with the result (and,
 * for an error, the offset where it was found), so that feeding the same
 * bytes split anywhere must give the same string. Each piece is fed from
 * its own malloc'd copy of exactly its size, so ASan or valgrind catches a
 * read past it, and every data pointer must lie in that copy or in the
 * parser's own delimiter (held-back bytes). The curl body is byte for byte
 * what curl 7.88.1 sent for -F name=widget -F 'file=@x.csv;type=text/csv'.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"
#include "tap.h"

static_assert(sizeof(struct multipart_parser) <= MULTIPART_MAX_HEADERS + 256,
    "struct multipart_parser: the header buffer and a few fields");

#define CURL_BOUNDARY "------------------------14cd8286d0c822db"
#define CURL_CT       "multipart/form-data; boundary=" CURL_BOUNDARY

static const char curl_body[] =
    "--" CURL_BOUNDARY "\r\n"
    "Content-Disposition: form-data; name=\"name\"\r\n"
    "\r\n"
    "widget\r\n"
    "--" CURL_BOUNDARY "\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n"
    "Content-Type: text/csv\r\n"
    "\r\n"
    "a,b\r\n1,2\n\r\n"
    "--" CURL_BOUNDARY "--\r\n";

/* --- byte strings --------------------------------------------------------- */

struct bytes {
	uint8_t *b;
	size_t n, cap;
};

static void
put(struct bytes *s, const void *p, size_t n)
{
	if (s->n + n + 1 > s->cap) {
		s->cap = (s->n + n + 1) * 2 + 64;
		s->b = realloc(s->b, s->cap);
		if (s->b == NULL)
			abort();
	}
	if (n > 0)
		memcpy(s->b + s->n, p, n);
	s->n += n;
	s->b[s->n] = 0; /* always a C string too */
}

static void
puts_(struct bytes *s, const char *str)
{
	put(s, str, strlen(str));
}

static void putf(struct bytes *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
putf(struct bytes *s, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(s, buf, (size_t)n);
}

/* Render bytes readably: printable ASCII as is, the rest (and the
 * transcript's own punctuation, special) as \xx. */
static void
put_escaped(struct bytes *s, const uint8_t *p, size_t n, const char *special)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' &&
		    strchr(special, p[i]) == NULL)
			put(s, p + i, 1);
		else
			putf(s, "\\%02x", p[i]);
}

static void
put_field(struct bytes *s, const char *v)
{
	if (v == NULL)
		puts_(s, "~");
	else
		put_escaped(s, (const uint8_t *)v, strlen(v), "<>,~");
}

/* --- transcripts ---------------------------------------------------------- */

struct tr {
	struct bytes text;
	struct multipart_parser p;
	const uint8_t *lo, *hi; /* the piece being fed */
	int open;               /* a part's data is being joined */
	int in_part;
	int broken;
	size_t data;  /* data bytes delivered */
	size_t calls; /* part_data calls */
	int stop_at;  /* refuse the stop_at-th callback (1-based), or 0 */
	int ncb;      /* callbacks so far */
};

static bool
refuse(struct tr *t)
{
	return t->stop_at > 0 && ++t->ncb == t->stop_at;
}

static bool
on_begin(void *arg, const struct multipart_part *part)
{
	struct tr *t = arg;

	if (t->in_part || part->name == NULL)
		t->broken = 1;
	t->in_part = 1;
	puts_(&t->text, "<");
	put_field(&t->text, part->name);
	puts_(&t->text, ",");
	put_field(&t->text, part->filename);
	puts_(&t->text, ",");
	put_field(&t->text, part->content_type);
	puts_(&t->text, ">");
	return !refuse(t);
}

static bool
on_data(void *arg, const uint8_t *p, size_t n)
{
	struct tr *t = arg;
	const uint8_t *d = t->p.delim;

	if (!t->in_part || n == 0)
		t->broken = 1;
	/* In the piece, or held-back bytes: a prefix of the delimiter. */
	if (!(p >= t->lo && p + n <= t->hi) && !(p == d && n < t->p.dlen))
		t->broken = 1;
	if (!t->open)
		puts_(&t->text, "{");
	t->open = 1;
	put_escaped(&t->text, p, n, "{}");
	t->data += n;
	t->calls++;
	return !refuse(t);
}

static bool
on_end(void *arg)
{
	struct tr *t = arg;

	if (!t->in_part)
		t->broken = 1;
	t->in_part = 0;
	if (t->open)
		puts_(&t->text, "}");
	t->open = 0;
	puts_(&t->text, "$ ");
	return !refuse(t);
}

static const struct multipart_callbacks cbs = {on_begin, on_data, on_end};

/* Feed one piece from a copy of exactly its size. */
static enum multipart_result
tr_feed(struct tr *t, const uint8_t *b, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	uint64_t before = t->p.consumed;
	enum multipart_result r;

	memcpy(copy, b, n);
	t->lo = copy;
	t->hi = copy + n;
	r = multipart_feed(&t->p, copy, n, &cbs, t);
	free(copy);
	if (r == MULTIPART_OK && t->p.consumed != before + n)
		t->broken = 1;
	if (r != MULTIPART_OK && t->p.consumed > before + n)
		t->broken = 1;
	/* Held back: never more than boundary length + 3 bytes. */
	if (t->p.state == MULTIPART_S_BODY && t->p.matched >= t->p.dlen)
		t->broken = 1;
	return r;
}

/* Parse s cut before each of the ncuts offsets (ascending); returns the
 * transcript (malloc'd). */
static char *
transcript_cuts(const char *boundary, const struct bytes *s, const size_t *cuts,
    size_t ncuts, int stop_at)
{
	struct tr *t = calloc(1, sizeof(*t));
	enum multipart_result r = MULTIPART_OK;
	size_t i, from = 0, to;
	char *text;

	multipart_init(&t->p, boundary);
	t->stop_at = stop_at;
	for (i = 0; i <= ncuts && r == MULTIPART_OK; i++) {
		to = i < ncuts ? cuts[i] : s->n;
		r = tr_feed(t, s->b + from, to - from);
		from = to;
	}
	if (r == MULTIPART_OK)
		r = multipart_finish(&t->p);
	if (t->open)
		puts_(&t->text, "}");
	putf(&t->text, "=%s", multipart_result_name(r));
	if (r != MULTIPART_OK)
		putf(&t->text, "@%llu", (unsigned long long)t->p.consumed);
	/* Sticky: the same error again, and no callback. */
	if (r != MULTIPART_OK) {
		i = t->text.n;
		if (multipart_feed(
		        &t->p, (const uint8_t *)"\r\n", 2, &cbs, t) != r ||
		    multipart_finish(&t->p) != r || t->text.n != i)
			t->broken = 1;
	}
	if (t->broken)
		puts_(&t->text, " !BROKEN");
	put(&t->text, "", 0);
	text = (char *)t->text.b;
	free(t);
	return text;
}

static char *
transcript(const char *boundary, const struct bytes *s)
{
	return transcript_cuts(boundary, s, NULL, 0, 0);
}

/* Whole vs one byte at a time vs every 2-way split (and every 3-way
 * split when small); returns the number of mismatching runs. */
static size_t
split_mismatches(const char *boundary, const struct bytes *s, const char *whole)
{
	size_t *cuts = malloc((s->n + 1) * sizeof(*cuts)), i, bad = 0;
	size_t c[2];
	char *got;

	for (i = 0; i < s->n; i++)
		cuts[i] = i;
	got = transcript_cuts(boundary, s, cuts, s->n, 0);
	if (strcmp(got, whole) != 0 && ++bad)
		printf("#   bytewise: %s\n#   whole:    %s\n", got, whole);
	free(got);
	for (i = 0; i <= s->n; i++) {
		got = transcript_cuts(boundary, s, &i, 1, 0);
		if (strcmp(got, whole) != 0 && ++bad == 1)
			printf("#   cut %zu: %s\n", i, got);
		free(got);
	}
	for (c[0] = 0; s->n <= 160 && c[0] <= s->n; c[0]++)
		for (c[1] = c[0]; c[1] <= s->n; c[1]++) {
			got = transcript_cuts(boundary, s, c, 2, 0);
			bad += strcmp(got, whole) != 0;
			free(got);
		}
	free(cuts);
	return bad;
}

/* The transcript of s is want, and the same whatever the split points. */
static void
is_body(const char *boundary, const struct bytes *s, const char *want,
    const char *name)
{
	char *whole = transcript(boundary, s);

	is_str(whole, want, name);
	ok(split_mismatches(boundary, s, whole) == 0,
	    "%s: bytewise and every split identical", name);
	free(whole);
}

static void
is_body_str(
    const char *boundary, const char *body, const char *want, const char *name)
{
	struct bytes s = {0};

	puts_(&s, body);
	is_body(boundary, &s, want, name);
	free(s.b);
}

/* --- well-formed bodies --------------------------------------------------- */

static void
test_curl(void)
{
	char b[MULTIPART_BOUNDARY_MAX + 1];

	ok(multipart_is_multipart(CURL_CT), "curl's Content-Type is multipart");
	ok(multipart_boundary(CURL_CT, b, sizeof(b)) == MULTIPART_OK,
	    "curl: a boundary");
	is_str(b, CURL_BOUNDARY, "curl: the 24 dashes and 16 hex digits");
	is_body_str(b, curl_body,
	    "<name,~,~>{widget}$ <file,x.csv,text/csv>{a,b\\0d\\0a1,2\\0a}$ "
	    "=ok",
	    "curl -F: a text field and a file");
}

/* What Chrome sends for a form with a text field, an empty file input and
 * a file; also an empty form. */
static void
test_browser(void)
{
	is_body_str("----WebKitFormBoundary7MA4YWxkTrZu0gW",
	    "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
	    "Content-Disposition: form-data; name=\"title\"\r\n\r\n"
	    "caf\xc3\xa9\r\n"
	    "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
	    "Content-Disposition: form-data; name=\"none\"; filename=\"\"\r\n"
	    "Content-Type: application/octet-stream\r\n\r\n"
	    "\r\n"
	    "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
	    "Content-Disposition: form-data; name=\"doc\"; "
	    "filename=\"r\xc3\xa9sum\xc3\xa9 %22q%22.txt\"\r\n"
	    "Content-Type: text/plain\r\n\r\n"
	    "line\r\n"
	    "------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n",
	    "<title,~,~>{caf\\c3\\a9}$ <none,,application/octet-stream>$ "
	    "<doc,r\\c3\\a9sum\\c3\\a9 %22q%22.txt,text/plain>{line}$ =ok",
	    "browser: UTF-8 raw, an empty file part, a file");
	is_body_str("----WebKitFormBoundaryx",
	    "------WebKitFormBoundaryx--\r\n", "=ok",
	    "an empty form: only the close delimiter");
}

/* Data holding CR, LF, "--", "\r\n--", and near misses of the delimiter. */
static void
test_binary(void)
{
	static const uint8_t bin[] = {0x00, 0xff, '\r', '\n', '-', '-', 0x0d,
	    0x0a, 0x0d, 0x0d, 0x0a, '-', 0x00};
	struct bytes s = {0};
	char *got;

	puts_(&s,
	    "--XyZ\r\nContent-Disposition: form-data; name=b; "
	    "filename=b.bin\r\nContent-Type: application/octet-stream"
	    "\r\n\r\n");
	put(&s, bin, sizeof(bin));
	puts_(&s,
	    "\r\n--XyA\r\n--Xy\r\n-XyZ\n--XyZ\r--XyZ--XyZ\r\r\n--X\r\n"
	    "\r\n\r\n--XY\r\n--xyz\r\r");
	puts_(&s,
	    "\r\n--XyZ\r\nContent-Disposition: form-data; name=e\r\n\r\n"
	    "\r\n--XyZ--");
	is_body("XyZ", &s,
	    "<b,b.bin,application/octet-stream>{\\00\\ff\\0d\\0a--\\0d\\0a"
	    "\\0d\\0d\\0a-\\00\\0d\\0a--XyA\\0d\\0a--Xy\\0d\\0a-XyZ\\0a--XyZ"
	    "\\0d--XyZ--XyZ\\0d\\0d\\0a--X\\0d\\0a\\0d\\0a\\0d\\0a--XY\\0d\\0a"
	    "--xyz\\0d\\0d}$ <e,~,~>$ =ok",
	    "binary data with CR, LF, \"--\" and near misses");
	free(s.b);

	/* 1 MiB of pseudo-random bytes with a CR every 64: whole, it comes
	 * in one piece pointing into the caller's buffer. */
	s = (struct bytes){0};
	puts_(&s, "--r\r\nContent-Disposition: form-data; name=big\r\n\r\n");
	{
		uint32_t x = 12345;
		size_t i;
		uint8_t c;

		for (i = 0; i < 1 << 20; i++) {
			x = x * 1103515245u + 12345u;
			c = i % 64 == 0 ? '\r' : (uint8_t)(x >> 16);
			put(&s, &c, 1);
		}
	}
	puts_(&s, "\r\n--r--\r\n");
	got = transcript("r", &s);
	ok(strncmp(got, "<big,~,~>{", 10) == 0 &&
	        strcmp(got + strlen(got) - 6, "}$ =ok") == 0,
	    "1 MiB of binary data");
	free(got);
	free(s.b);
}

/* Bytes that might begin the delimiter are held back, then released. */
static void
test_hold_back(void)
{
	static const char head[] =
	    "--boundary\r\nContent-Disposition: form-data; name=f\r\n\r\nhello";
	struct tr *t = calloc(1, sizeof(*t));

	multipart_init(&t->p, "boundary");
	tr_feed(t, (const uint8_t *)head, strlen(head));
	ok(t->data == 5 && t->p.state == MULTIPART_S_BODY,
	    "data handed out at once");
	tr_feed(t, (const uint8_t *)"\r\n--bounda", 10);
	ok(t->data == 5 && t->p.matched == 10,
	    "a partial delimiter is held back (%u bytes)", t->p.matched);
	tr_feed(t, (const uint8_t *)"rX", 2);
	ok(t->data == 17 && t->p.matched == 0,
	    "released when it turns out not to be one");
	tr_feed(t, (const uint8_t *)"\r\n--boundary", 12);
	ok(t->data == 17 && t->p.matched == 0 && t->p.dlen == 12 &&
	        t->p.state == MULTIPART_S_DELIM_TAIL,
	    "a whole delimiter: nothing handed out");
	tr_feed(t, (const uint8_t *)"--", 2);
	is_str((char *)t->text.b, "<f,~,~>{hello\\0d\\0a--boundarX}$ ",
	    "then the close delimiter ends the part");
	ok(multipart_finish(&t->p) == MULTIPART_OK && !t->broken,
	    "and the body");
	free(t->text.b);
	free(t);
}

static void
test_preamble_epilogue(void)
{
	is_body_str("b",
	    "This is the preamble. --b is not at a line start, nor \r\n-b\r\n"
	    "\r\n--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
	    "--b--this is the epilogue\r\n--b\r\ngarbage\r\n--b--\r\n",
	    "<a,~,~>{1}$ =ok", "preamble and epilogue ignored");
	is_body_str("b",
	    "\r\n--b\r\nContent-Disposition: form-data; "
	    "name=a\r\n\r\n\r\n--b--",
	    "<a,~,~>$ =ok", "an empty preamble line; an empty part");
	is_body_str("b",
	    "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n--b--",
	    "<a,~,~>{--b--}=protocol-error@52",
	    "no CRLF: \"--b--\" in data does not end it (then truncated)");
}

static void
test_padding(void)
{
	is_body_str("pad",
	    "--pad \t \r\nContent-Disposition: form-data; name=x\r\n\r\nv\r\n"
	    "--pad\t\r\nContent-Disposition: form-data; name=y\r\n\r\nw\r\n"
	    "--pad--  \t\r\n",
	    "<x,~,~>{v}$ <y,~,~>{w}$ =ok",
	    "transport padding after boundaries (RFC 2046 §5.1.1)");
}

static void
test_headers(void)
{
	is_body_str("h",
	    "--h\r\n"
	    "content-DISPOSITION:Form-Data ; NAME=\"a\\\"b\\\\c\";"
	    "FileName=\"C:\\dir\\x.txt\"; filename*=UTF-8''x%20y; size=3\r\n"
	    "X-Other: ignored\r\n"
	    "CONTENT-TYPE:  text/plain; charset=utf-8 \t\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    "data\r\n--h--",
	    "<a\"b\\5cc,C:\\5cdir\\5cx.txt,text/plain; charset=utf-8>{data}$ "
	    "=ok",
	    "case-insensitive names, escapes, filename* and others ignored");
	is_body_str("h",
	    "--h\r\nContent-Disposition: form-data;\r\n name=\"folded\"\r\n"
	    "\r\n\r\n--h--",
	    "<folded,~,~>$ =ok", "a folded header line");
	is_body_str("h",
	    "--h\r\nContent-Disposition: form-data; ; name=\"\" ;\r\n"
	    "Content-Type:\r\n\r\nx\r\n--h--",
	    "<,~,>{x}$ =ok",
	    "empty parameters, an empty name and Content-Type");
}

/* The same bodies with the boundary found by multipart_boundary, quoted or not.
 */
static void
test_quoted_boundary(void)
{
	char b[MULTIPART_BOUNDARY_MAX + 1];

	ok(multipart_boundary("multipart/form-data; boundary=\"a b:c\"", b,
	       sizeof(b)) == MULTIPART_OK,
	    "a quoted boundary with a space and a colon");
	is_body_str(b,
	    "--a b:c\r\nContent-Disposition: form-data; name=q\r\n\r\n"
	    "--a b:\r\n--a b:c--",
	    "<q,~,~>{--a b:}$ =ok", "quoted boundary");
	ok(multipart_boundary("Multipart/Form-Data; charset=x; boundary=simple",
	       b, sizeof(b)) == MULTIPART_OK,
	    "an unquoted boundary after another parameter");
	is_body_str(b,
	    "--simple\r\nContent-Disposition: form-data; name=u\r\n\r\n"
	    "--simple\r\n--simple--",
	    "<u,~,~>{--simple}$ =ok", "unquoted boundary");
}

/* --- malformed bodies ----------------------------------------------------- */

struct bad_case {
	const char *name, *body, *want;
};

static void
test_malformed(void)
{
	static const struct bad_case cases[] = {
	    {"empty body", "", "=protocol-error@0"},
	    {"preamble only", "no delimiter\r\n", "=protocol-error@14"},
	    {"missing close delimiter",
	        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nabc",
	        "<a,~,~>{abc}=protocol-error@50"},
	    {"cut in the last delimiter",
	        "--b\r\nContent-Disposition: form-data; "
	        "name=a\r\n\r\nabc\r\n--b",
	        "<a,~,~>{abc}=protocol-error@55"},
	    {"cut after the last delimiter's first dash",
	        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--b-",
	        "<a,~,~>=protocol-error@53"},
	    {"cut in the headers", "--b\r\nContent-Disposition: form-data",
	        "=protocol-error@35"},
	    {"garbage after boundary", "x\r\n--bX\r\n", "=protocol-error@7"},
	    {"garbage after the opening boundary", "--b=\r\n",
	        "=protocol-error@4"},
	    {"garbage after a part's boundary",
	        "--b\r\nContent-Disposition: form-data; "
	        "name=a\r\n\r\n1\r\n--bb",
	        "<a,~,~>{1}=protocol-error@54"},
	    {"one dash after boundary", "--b-x", "=protocol-error@5"},
	    {"padding then garbage", "--b  x", "=protocol-error@6"},
	    {"CR without LF after boundary", "--b\rx", "=protocol-error@5"},
	    {"header line without colon",
	        "--b\r\nContent-Disposition form-data; name=a\r\n\r\n--b--",
	        "=protocol-error@46"},
	    {"space before colon",
	        "--b\r\nContent-Disposition : form-data; name=a\r\n\r\n--b--",
	        "=protocol-error@48"},
	    {"no blank line after headers",
	        "--b\r\nContent-Disposition: form-data; "
	        "name=a\r\nvalue\r\n--b--",
	        "=protocol-error@57"},
	    {"no blank line, cut",
	        "--b\r\nContent-Disposition: form-data; name=a\r\n",
	        "=protocol-error@45"},
	    {"bare LF in headers",
	        "--b\r\nContent-Disposition: form-data; name=a\n\n--b--",
	        "=protocol-error@44"},
	    {"bare CR in headers", "--b\r\nContent-Disposition:\rx",
	        "=protocol-error@27"},
	    {"NUL in headers", "--b\r\nContent-Disposition: form-data; n\0",
	        "=protocol-error@39"},
	    {"no headers at all", "--b\r\n\r\n--b--", "=protocol-error@7"},
	    {"folded first line", "--b\r\n x: y\r\n\r\n", "=protocol-error@14"},
	    {"no Content-Disposition",
	        "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",
	        "=protocol-error@33"},
	    {"not form-data",
	        "--b\r\nContent-Disposition: attachment; name=a\r\n\r\n",
	        "=protocol-error@48"},
	    {"form-data without a name",
	        "--b\r\nContent-Disposition: form-data; filename=a\r\n\r\n",
	        "=protocol-error@51"},
	    {"two names",
	        "--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\n",
	        "=protocol-error@55"},
	    {"two Content-Dispositions",
	        "--b\r\nContent-Disposition: form-data; name=a\r\n"
	        "Content-Disposition: form-data; name=b\r\n\r\n",
	        "=protocol-error@87"},
	    {"two Content-Types",
	        "--b\r\nContent-Disposition: form-data; name=a\r\n"
	        "Content-Type: a/b\r\ncontent-type: c/d\r\n\r\n",
	        "=protocol-error@85"},
	    {"unterminated quote",
	        "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\n",
	        "=protocol-error@48"},
	    {"garbage after a quoted value",
	        "--b\r\nContent-Disposition: form-data; name=\"a\"b\r\n\r\n",
	        "=protocol-error@50"},
	    {"space around =",
	        "--b\r\nContent-Disposition: form-data; name = a\r\n\r\n",
	        "=protocol-error@49"},
	    {"missing ;",
	        "--b\r\nContent-Disposition: form-data name=a\r\n\r\n",
	        "=protocol-error@46"},
	    {"a control in a quoted value",
	        "--b\r\nContent-Disposition: form-data; name=\"a\x01\"\r\n\r\n",
	        "=protocol-error@50"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bytes s = {0};
		char *whole;

		/* "NUL in headers" holds a NUL: its length is fixed. */
		put(&s, cases[i].body,
		    strcmp(cases[i].name, "NUL in headers") == 0
		        ? 39
		        : strlen(cases[i].body));
		whole = transcript("b", &s);
		if (is_str(whole, cases[i].want, cases[i].name))
			ok(split_mismatches("b", &s, whole) == 0,
			    "%s: the same error at the same offset for any "
			    "split",
			    cases[i].name);
		free(whole);
		free(s.b);
	}
}

/* The header block limit: MULTIPART_MAX_HEADERS bytes fit, one more does not.
 */
static void
test_headers_too_big(void)
{
	static const char cd[] = "Content-Disposition: form-data; name=big\r\n";
	struct bytes s = {0};
	char pad[MULTIPART_MAX_HEADERS], *got;
	size_t fill, cuts[1];

	puts_(&s, "--b\r\n");
	puts_(&s, cd);
	/* "X: " fill CRLF, then the empty line: exactly the limit. */
	fill = MULTIPART_MAX_HEADERS - strlen(cd) - 3 - 2 - 2;
	memset(pad, 'y', sizeof(pad));
	puts_(&s, "X: ");
	put(&s, pad, fill);
	puts_(&s, "\r\n\r\nok\r\n--b--");
	got = transcript("b", &s);
	is_str(got, "<big,~,~>{ok}$ =ok", "a header block of exactly 8192");
	free(got);
	cuts[0] = 5 + 100;
	got = transcript_cuts("b", &s, cuts, 1, 0);
	is_str(got, "<big,~,~>{ok}$ =ok", "the same split in two");
	free(got);

	s.n = 5 + strlen(cd) + 3;
	put(&s, pad, fill + 1);
	puts_(&s, "\r\n\r\nok\r\n--b--");
	got = transcript("b", &s);
	is_str(got, "=too-big@8198", "8193 bytes: MULTIPART_ETOOBIG");
	free(got);
	free(s.b);

	s = (struct bytes){0};
	puts_(&s, "--b\r\n");
	memset(pad, 'z', sizeof(pad));
	put(&s, pad, sizeof(pad));
	put(&s, pad, sizeof(pad));
	got = transcript("b", &s);
	is_str(got, "=too-big@8198",
	    "a header line with no end: MULTIPART_ETOOBIG");
	free(got);
	free(s.b);
}

/* multipart_init with a boundary it refuses: every feed fails. */
static void
test_bad_init(void)
{
	char b71[72];
	static const char *const bad[] = {
	    "", "trailing ", "cr\r", "\x7f", NULL};
	size_t i;
	char *got;
	struct bytes s = {0};

	puts_(&s, "--x\r\n");
	memset(b71, 'x', 71);
	b71[71] = 0;
	got = transcript(b71, &s);
	is_str(got, "=protocol-error@0", "multipart_init: a 71-byte boundary");
	free(got);
	b71[70] = 0;
	got = transcript(b71, &s);
	is_str(got, "=protocol-error@5", "multipart_init: 70 bytes are fine");
	free(got);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		got = transcript(bad[i], &s);
		is_str(got, "=protocol-error@0",
		    "multipart_init: an invalid boundary");
		free(got);
	}
	free(s.b);
}

/* A callback refusing: MULTIPART_ESTOP at once, sticky, nothing more called. */
static void
test_stop(void)
{
	static const char *const want[] = {
	    /* in one piece, data goes out when its delimiter is found */
	    "<name,~,~>=stopped@91",
	    "<name,~,~>{widget}=stopped@141",
	    "<name,~,~>{widget}$ =stopped@143",
	    "<name,~,~>{widget}$ <file,x.csv,text/csv>=stopped@232",
	    "<name,~,~>{widget}$ <file,x.csv,text/csv>{a,b\\0d\\0a1,2\\0a}"
	    "=stopped@285",
	    "<name,~,~>{widget}$ <file,x.csv,text/csv>{a,b\\0d\\0a1,2\\0a}$ "
	    "=stopped@287",
	};
	struct bytes s = {0};
	size_t i;
	char *got;

	puts_(&s, curl_body);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		got = transcript_cuts(CURL_BOUNDARY, &s, NULL, 0, (int)i + 1);
		is_str(got, want[i], "MULTIPART_ESTOP from a callback");
		free(got);
	}
	free(s.b);
}

static bool
count_begin(void *arg, const struct multipart_part *part)
{
	(void)part;
	++*(int *)arg;
	return true;
}

/* NULL callbacks are skipped; an empty feed is fine. */
static void
test_null_callbacks(void)
{
	static const struct multipart_callbacks none = {NULL, NULL, NULL};
	static const struct multipart_callbacks some = {
	    count_begin, NULL, NULL};
	struct multipart_parser *p = malloc(sizeof(*p));
	int n = 0;

	multipart_init(p, CURL_BOUNDARY);
	ok(multipart_feed(p, NULL, 0, &none, NULL) == MULTIPART_OK,
	    "an empty feed");
	ok(multipart_feed(p, (const uint8_t *)curl_body, strlen(curl_body),
	       &none, NULL) == MULTIPART_OK &&
	        multipart_finish(p) == MULTIPART_OK,
	    "no callbacks at all");
	multipart_init(p, CURL_BOUNDARY);
	ok(multipart_finish(p) == MULTIPART_EPROTO &&
	        multipart_feed(p, NULL, 0, &none, NULL) == MULTIPART_EPROTO,
	    "multipart_finish before any input: truncated, sticky");
	multipart_init(p, CURL_BOUNDARY);
	ok(multipart_feed(p, (const uint8_t *)curl_body, strlen(curl_body),
	       &some, &n) == MULTIPART_OK &&
	        n == 2 && multipart_finish(p) == MULTIPART_OK &&
	        multipart_finish(p) == MULTIPART_OK,
	    "part_begin only: two parts; multipart_finish twice");
	free(p);
}

/* --- multipart_boundary and multipart_is_multipart
 * -------------------------------------- */

struct ct_case {
	const char *ct;
	size_t cap;
	enum multipart_result want;
	const char *out;
};

static void
test_boundary_table(void)
{
	static const char b70[] = "12345678901234567890123456789012345678901234"
	                          "56789012345678901234567890";
	static const struct ct_case cases[] = {
	    {CURL_CT, 71, MULTIPART_OK, CURL_BOUNDARY},
	    {"Multipart/Form-Data; charset=x; boundary=\"quoted value\"", 71,
	        MULTIPART_OK, "quoted value"},
	    {"MULTIPART/FORM-DATA;boundary=abc", 71, MULTIPART_OK, "abc"},
	    {"multipart/form-data ; BOUNDARY=abc ;", 71, MULTIPART_OK, "abc"},
	    {" multipart/form-data;;\tboundary=abc;;", 71, MULTIPART_OK, "abc"},
	    {"multipart/form-data; x=\"y;boundary=z\"; boundary=abc", 71,
	        MULTIPART_OK, "abc"},
	    {"multipart/form-data; boundary=\"a\\\"b\\\\c\"", 71, MULTIPART_OK,
	        "a\"b\\c"},
	    {"multipart/form-data; boundary=\"a\\xb\"", 71, MULTIPART_OK,
	        "a\\xb"},
	    {"multipart/form-data; boundary=\"=_Part;0/x?\"", 71, MULTIPART_OK,
	        "=_Part;0/x?"},
	    {"multipart/form-data; boundary="
	     "1234567890123456789012345678901"
	     "234567890123456789012345678901234567890",
	        71, MULTIPART_OK, b70},
	    {"multipart/form-data; boundary=abc", 4, MULTIPART_OK, "abc"},
	    {"multipart/form-data; boundary=abc", 3, MULTIPART_ETOOBIG, ""},
	    {"multipart/form-data; boundary=abc", 0, MULTIPART_ETOOBIG, NULL},
	    {NULL, 71, MULTIPART_EPROTO, ""},
	    {"", 71, MULTIPART_EPROTO, ""},
	    {"text/plain; boundary=abc", 71, MULTIPART_EPROTO, ""},
	    {"multipart/mixed; boundary=abc", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-datax; boundary=abc", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data;", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data; charset=utf-8", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary=", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary=\"\"", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary="
	     "1234567890123456789012345678901"
	     "2345678901234567890123456789012345678901",
	        71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary=\"1234567890123456789012345678901"
	     "2345678901234567890123456789012345678901\"",
	        200, MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary=\"abc", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary=abc\"", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary=\"ab\\", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary = abc", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary=a b", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data boundary=abc", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary=abc; boundary=abc", 71,
	        MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary=\"ends in space \"", 71,
	        MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary=\"tab\there\"", 71,
	        MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary=\"caf\xc3\xa9\"", 71,
	        MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary=a\x01", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data; =abc", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary=abc; x", 71, MULTIPART_EPROTO, ""},
	    {"multipart/form-data; boundary=a/b", 71, MULTIPART_EPROTO, ""},
	};
	char out[200];
	enum multipart_result r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, '#', sizeof(out));
		r = multipart_boundary(cases[i].ct, out, cases[i].cap);
		ok(r == cases[i].want &&
		        (cases[i].out == NULL ? out[0] == '#'
		                              : strcmp(out, cases[i].out) == 0),
		    "multipart_boundary(%s, cap %zu): %s [%s]",
		    cases[i].ct ? cases[i].ct : "NULL", cases[i].cap,
		    multipart_result_name(cases[i].want),
		    cases[i].out ? out : "-");
	}
}

static void
test_is_multipart(void)
{
	static const char *const yes[] = {"multipart/form-data",
	    "Multipart/Form-Data; boundary=x", " multipart/form-data ;",
	    "multipart/form-data\t; boundary=x"};
	static const char *const no[] = {NULL, "", "multipart/form-datax",
	    "multipart/form", "multipart/mixed; boundary=x",
	    "application/x-www-form-urlencoded", "text/plain"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ok(multipart_is_multipart(yes[i]), "multipart: %s", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ok(!multipart_is_multipart(no[i]), "not multipart: %s",
		    no[i] ? no[i] : "NULL");
}

static void
test_names(void)
{
	ok(strcmp(multipart_result_name(MULTIPART_ESTOP), "stopped") == 0 &&
	        strcmp(multipart_result_name(MULTIPART_RESULT__MAX), "?") == 0,
	    "multipart_result_name");
	ok(strcmp(multipart_state_name(MULTIPART_S_BODY), "body") == 0 &&
	        strcmp(multipart_state_name(MULTIPART_S__MAX), "?") == 0,
	    "multipart_state_name");
}

int
main(void)
{
	test_curl();
	test_browser();
	test_binary();
	test_hold_back();
	test_preamble_epilogue();
	test_padding();
	test_headers();
	test_quoted_boundary();
	test_malformed();
	test_headers_too_big();
	test_bad_init();
	test_stop();
	test_null_callbacks();
	test_boundary_table();
	test_is_multipart();
	test_names();
	return done_testing();
}
