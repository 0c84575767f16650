/* http_resp — incremental HTTP/1.1 response parser; see http_resp.h. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "http_resp.h"
#include "qs.h"

/* Content-Length digits accepted: 18 fit an int64 with room to spare. */
#define CL_DIGITS_MAX 18
/* Chunk-size hex digits accepted: 15 keep the sum of chunks in range. */
#define CHUNK_DIGITS_MAX 15

static const char *const state_names[HR__MAX] = {
    [HR_STATUS] = "status",
    [HR_HEADER] = "header",
    [HR_BODY_LEN] = "body",
    [HR_BODY_EOF] = "body-to-close",
    [HR_CHUNK_SIZE] = "chunk-size",
    [HR_CHUNK_DATA] = "chunk-data",
    [HR_CHUNK_END] = "chunk-end",
    [HR_TRAILER] = "trailer",
    [HR_DONE] = "done",
    [HR_ERROR] = "error",
};

const char *
http_resp_state_name(enum http_resp_state s)
{
	return (unsigned)s < HR__MAX ? state_names[s] : "?";
}

void
http_resp_init(
    struct http_resp *r, uint64_t body_max, char *keep, size_t keep_cap)
{
	memset(r, 0, sizeof(*r));
	r->state = HR_STATUS;
	r->body_max = body_max;
	r->keep = keep;
	r->keep_cap = keep != NULL ? keep_cap : 0;
}

void
http_resp_capture(struct http_resp *r, const char *name)
{
	r->capture_name = name;
	r->captured[0] = '\0';
}

/* The captured header's value, cut at the first byte outside the set. */
static void
capture(struct http_resp *r, const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < sizeof(r->captured); i++) {
		unsigned char c = (unsigned char)v[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		        (c >= 'A' && c <= 'Z') || c == '.' || c == '-' ||
		        c == '_' || c == ':'))
			break;
		r->captured[i] = (char)c;
	}
	r->captured[i] = '\0';
}

static enum http_resp_result
fail(struct http_resp *r, enum http_resp_result e, const char *why)
{
	r->state = HR_ERROR;
	r->error = e;
	r->why = why;
	return e;
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 §5.6.2 tchar. */
static int
is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Case-insensitive comparison of s[0..len) with a NUL-terminated word. */
static int
word_is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

/* The status line, RFC 9112 §4: HTTP/1.x SP 3DIGIT [SP reason]. */
static enum http_resp_result
on_status(struct http_resp *r, const char *s, size_t n)
{
	size_t i, o = 0;

	if (n == 0)
		return HTTP_RESP_NEED_MORE; /* stray empty line before it */
	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' ||
	    s[7] > '9' || s[8] != ' ')
		return fail(r, HTTP_RESP_EPROTO, "bad status line");
	for (i = 9; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return fail(r, HTTP_RESP_EPROTO, "bad status code");
	if (n > 12 && s[12] != ' ')
		return fail(r, HTTP_RESP_EPROTO, "bad status code");
	r->minor = s[7] - '0';
	r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if (r->status < 100 || r->status > 599)
		return fail(r, HTTP_RESP_EPROTO, "status code out of range");
	for (i = 13; i < n && o + 1 < sizeof(r->reason); i++)
		r->reason[o++] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	r->reason[o] = '\0';
	r->has_length = r->chunked = r->te_present = false;
	r->conn_close = r->conn_keep_alive = r->last_hdr_ours = false;
	r->captured[0] = '\0'; /* an interim response's does not count */
	r->state = HR_HEADER;
	return HTTP_RESP_NEED_MORE;
}

/* Call fn on each comma-separated, OWS-trimmed element of a list. */
static void
each_token(struct http_resp *r, const char *v, size_t n,
    void (*fn)(struct http_resp *, const char *, size_t))
{
	size_t i = 0, start, end;

	while (i < n) {
		while (i < n && (is_ows(v[i]) || v[i] == ','))
			i++;
		start = i;
		while (i < n && v[i] != ',')
			i++;
		end = i;
		while (end > start && is_ows(v[end - 1]))
			end--;
		if (end > start)
			fn(r, v + start, end - start);
	}
}

static void
te_token(struct http_resp *r, const char *t, size_t n)
{
	/* Only a final "chunked" frames the body (RFC 9112 §6.3 rule 4). */
	r->chunked = word_is(t, n, "chunked");
	r->te_present = true;
}

static void
conn_token(struct http_resp *r, const char *t, size_t n)
{
	if (word_is(t, n, "close"))
		r->conn_close = true;
	else if (word_is(t, n, "keep-alive"))
		r->conn_keep_alive = true;
}

static enum http_resp_result
on_content_length(struct http_resp *r, const char *v, size_t n)
{
	uint64_t cl = 0;
	size_t i;

	if (n == 0 || n > CL_DIGITS_MAX)
		return fail(r, HTTP_RESP_EPROTO, "bad Content-Length");
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return fail(r, HTTP_RESP_EPROTO, "bad Content-Length");
		cl = cl * 10 + (uint64_t)(v[i] - '0');
	}
	/* RFC 9112 §6.3 rule 5: differing values are unrecoverable. */
	if (r->has_length && r->content_length != cl)
		return fail(r, HTTP_RESP_EPROTO, "conflicting Content-Length");
	r->has_length = true;
	r->content_length = cl;
	return HTTP_RESP_NEED_MORE;
}

/* The empty line ends the head: decide how the body is framed (§6.3). */
static enum http_resp_result
end_of_head(struct http_resp *r)
{
	if (r->status < 200) {
		if (r->status == 101)
			return fail(r, HTTP_RESP_EPROTO, "unexpected 101");
		r->state =
		    HR_STATUS; /* interim response: the real one follows */
		return HTTP_RESP_NEED_MORE;
	}
	r->keep_alive = r->minor >= 1 ? !r->conn_close
	                              : r->conn_keep_alive && !r->conn_close;
	r->head_len = 0;
	if (r->status == 204 || r->status == 304) {
		r->state = HR_DONE;
	} else if (r->te_present) {
		r->state = r->chunked ? HR_CHUNK_SIZE : HR_BODY_EOF;
		r->keep_alive = r->keep_alive && r->chunked;
	} else if (r->has_length) {
		if (r->content_length > r->body_max)
			return fail(r, HTTP_RESP_ETOOBIG, "body too large");
		r->remaining = r->content_length;
		r->state = r->remaining > 0 ? HR_BODY_LEN : HR_DONE;
	} else {
		r->state = HR_BODY_EOF;
		r->keep_alive = false;
	}
	return r->state == HR_DONE ? HTTP_RESP_DONE : HTTP_RESP_NEED_MORE;
}

/* A header field line, RFC 9112 §5: name ":" OWS value OWS. */
static enum http_resp_result
on_header(struct http_resp *r, const char *s, size_t n, int trunc)
{
	const char *colon, *v;
	size_t i, name_len, vn;
	int ours;

	if (n == 0)
		return end_of_head(r);
	if (is_ows(s[0])) { /* obs-fold, §5.2: only harmless if ignored */
		if (r->last_hdr_ours)
			return fail(r, HTTP_RESP_EPROTO, "obs-fold");
		return HTTP_RESP_NEED_MORE;
	}
	colon = memchr(s, ':', n);
	if (colon == NULL) /* a name longer than we keep is not ours */
		return trunc
		    ? HTTP_RESP_NEED_MORE
		    : fail(r, HTTP_RESP_EPROTO, "header without colon");
	name_len = (size_t)(colon - s);
	for (i = 0; i < name_len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return fail(r, HTTP_RESP_EPROTO, "bad header name");
	if (name_len == 0)
		return fail(r, HTTP_RESP_EPROTO, "bad header name");
	v = colon + 1;
	vn = n - name_len - 1;
	while (vn > 0 && is_ows(v[0]))
		v++, vn--;
	while (vn > 0 && is_ows(v[vn - 1]))
		vn--;
	ours = word_is(s, name_len, "content-length") ||
	    word_is(s, name_len, "transfer-encoding") ||
	    word_is(s, name_len, "connection");
	r->last_hdr_ours = ours;
	if (ours && trunc)
		return fail(r, HTTP_RESP_EPROTO, "header line too long");
	if (r->capture_name != NULL && r->state == HR_HEADER &&
	    word_is(s, name_len, r->capture_name))
		capture(r, v, vn);
	if (word_is(s, name_len, "content-length"))
		return on_content_length(r, v, vn);
	if (word_is(s, name_len, "transfer-encoding")) {
		if (vn == 0)
			return fail(
			    r, HTTP_RESP_EPROTO, "empty Transfer-Encoding");
		each_token(r, v, vn, te_token);
	} else if (word_is(s, name_len, "connection")) {
		each_token(r, v, vn, conn_token);
	}
	return HTTP_RESP_NEED_MORE;
}

/* chunk-size [ BWS ";" chunk-ext ] CRLF, RFC 9112 §7.1 and §7.1.1. */
static enum http_resp_result
on_chunk_size(struct http_resp *r, const char *s, size_t n, int trunc)
{
	uint64_t size = 0;
	size_t i = 0;
	int d;

	while (i < n && (d = qs_hexval((unsigned char)s[i])) >= 0) {
		if (i >= CHUNK_DIGITS_MAX)
			return fail(
			    r, HTTP_RESP_EPROTO, "chunk size too large");
		size = size * 16 + (uint64_t)d;
		i++;
	}
	if (i == 0)
		return fail(r, HTTP_RESP_EPROTO, "bad chunk size");
	while (i < n && is_ows(s[i]))
		i++;
	if ((i < n && s[i] != ';') || (i == n && trunc))
		return fail(r, HTTP_RESP_EPROTO, "bad chunk size");
	if (size == 0) {
		r->state = HR_TRAILER;
		return HTTP_RESP_NEED_MORE;
	}
	if (size > r->body_max - r->body_len)
		return fail(r, HTTP_RESP_ETOOBIG, "body too large");
	r->remaining = size;
	r->state = HR_CHUNK_DATA;
	return HTTP_RESP_NEED_MORE;
}

/*
 * Gather the current line from buf[*pos..len). Returns 1 with the line
 * complete (its first bytes in r->line), 0 when more bytes are needed,
 * -1 after fail().
 */
static int
take_line(struct http_resp *r, const char *buf, size_t len, size_t *pos)
{
	const char *p = buf + *pos, *nl;
	size_t avail = len - *pos, n, room;

	nl = memchr(p, '\n', avail);
	n = nl != NULL ? (size_t)(nl - p) : avail;
	if (r->line_len < HTTP_RESP_LINE_KEEP) {
		room = HTTP_RESP_LINE_KEEP - r->line_len;
		memcpy(r->line + r->line_len, p, n < room ? n : room);
	}
	if (n > 0)
		r->line_last = p[n - 1];
	r->line_len += n;
	*pos += n + (nl != NULL);
	if (r->line_len > HTTP_RESP_LINE_MAX) {
		fail(r, HTTP_RESP_ETOOBIG, "line too long");
		return -1;
	}
	return nl != NULL;
}

/* One step in a line-oriented state. */
static enum http_resp_result
step_line(struct http_resp *r, const char *buf, size_t len, size_t *pos)
{
	size_t n, full;
	int got, trunc;

	got = take_line(r, buf, len, pos);
	if (got <= 0)
		return got < 0 ? r->error : HTTP_RESP_NEED_MORE;
	n = r->line_len - (r->line_len > 0 && r->line_last == '\r');
	full = r->line_len + 1;
	trunc = n > HTTP_RESP_LINE_KEEP;
	if (trunc)
		n = HTTP_RESP_LINE_KEEP;
	r->line_len = 0;
	r->line_last = '\0';
	if (r->state == HR_STATUS || r->state == HR_HEADER ||
	    r->state == HR_TRAILER) {
		r->head_len += full;
		if (r->head_len > HTTP_RESP_HEAD_MAX)
			return fail(
			    r, HTTP_RESP_ETOOBIG, "header section too long");
	}
	switch (r->state) {
	case HR_STATUS:
		return on_status(r, r->line, n);
	case HR_HEADER:
		return on_header(r, r->line, n, trunc);
	case HR_CHUNK_SIZE:
		return on_chunk_size(r, r->line, n, trunc);
	case HR_CHUNK_END:
		if (n != 0 || trunc)
			return fail(r, HTTP_RESP_EPROTO, "no CRLF after chunk");
		r->state = HR_CHUNK_SIZE;
		return HTTP_RESP_NEED_MORE;
	case HR_TRAILER:
		if (n != 0 || trunc)
			return HTTP_RESP_NEED_MORE; /* trailer fields: ignored
			                             */
		r->state = HR_DONE;
		return HTTP_RESP_DONE;
	case HR_BODY_LEN:
	case HR_BODY_EOF:
	case HR_CHUNK_DATA:
	case HR_DONE:
	case HR_ERROR:
	case HR__MAX:
		break;
	}
	return fail(r, HTTP_RESP_EPROTO, "internal: bad line state");
}

static void
keep_body(struct http_resp *r, const char *p, size_t n)
{
	size_t room = r->keep_cap - r->kept;

	if (room > 0) {
		memcpy(r->keep + r->kept, p, n < room ? n : room);
		r->kept += n < room ? n : room;
	}
	r->body_len += n;
}

/* One step in a body state: consume what belongs to the body. */
static enum http_resp_result
step_data(struct http_resp *r, const char *buf, size_t len, size_t *pos)
{
	size_t avail = len - *pos, n = avail;

	if (r->state == HR_BODY_EOF) {
		if (n > r->body_max - r->body_len)
			return fail(r, HTTP_RESP_ETOOBIG, "body too large");
	} else if (r->remaining < n) {
		n = (size_t)r->remaining;
	}
	keep_body(r, buf + *pos, n);
	*pos += n;
	if (r->state == HR_BODY_EOF)
		return HTTP_RESP_NEED_MORE;
	r->remaining -= n;
	if (r->remaining > 0)
		return HTTP_RESP_NEED_MORE;
	if (r->state == HR_CHUNK_DATA) {
		r->state = HR_CHUNK_END;
		return HTTP_RESP_NEED_MORE;
	}
	r->state = HR_DONE;
	return HTTP_RESP_DONE;
}

enum http_resp_result
http_resp_feed(struct http_resp *r, const char *buf, size_t len, size_t *used)
{
	enum http_resp_result res = HTTP_RESP_NEED_MORE;
	size_t pos = 0;

	while (res == HTTP_RESP_NEED_MORE) {
		if (r->state == HR_DONE) {
			res = HTTP_RESP_DONE;
			break;
		}
		if (r->state == HR_ERROR) {
			res = r->error;
			break;
		}
		if (pos == len)
			break;
		switch (r->state) {
		case HR_BODY_LEN:
		case HR_BODY_EOF:
		case HR_CHUNK_DATA:
			res = step_data(r, buf, len, &pos);
			break;
		case HR_STATUS:
		case HR_HEADER:
		case HR_CHUNK_SIZE:
		case HR_CHUNK_END:
		case HR_TRAILER:
		case HR_DONE:
		case HR_ERROR:
		case HR__MAX:
			res = step_line(r, buf, len, &pos);
			break;
		}
	}
	r->total += pos;
	if (used != NULL)
		*used = pos;
	return res;
}

enum http_resp_result
http_resp_eof(struct http_resp *r)
{
	switch (r->state) {
	case HR_BODY_EOF:
		r->state = HR_DONE;
		return HTTP_RESP_DONE;
	case HR_DONE:
		return HTTP_RESP_DONE;
	case HR_ERROR:
		return r->error;
	case HR_STATUS:
		if (r->total == 0)
			return fail(
			    r, HTTP_RESP_ETRUNC, "closed before responding");
		/* FALLTHROUGH */
	case HR_HEADER:
	case HR_BODY_LEN:
	case HR_CHUNK_SIZE:
	case HR_CHUNK_DATA:
	case HR_CHUNK_END:
	case HR_TRAILER:
	case HR__MAX:
		break;
	}
	return fail(r, HTTP_RESP_ETRUNC, "closed mid-response");
}
