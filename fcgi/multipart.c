/* multipart — a streaming multipart/form-data parser; see multipart.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <assert.h>
#include <string.h>

#include "multipart.h"

/* hlen and matched must hold their limits. */
static_assert(MULTIPART_MAX_HEADERS <= UINT16_MAX, "hlen is a uint16_t");
static_assert(MULTIPART_DELIM_MAX <= UINT8_MAX, "dlen is a uint8_t");

/* What scanning one parameter of a header value found. */
enum param_scan {
	PS_PARAM, /* *pm holds one */
	PS_END,   /* the end of the value */
	PS_BAD,   /* malformed */
};

/* One name=value parameter, as offsets into the scanned string. */
struct param {
	size_t name, nlen;
	size_t val, vlen; /* raw: with the quotes when quoted */
	bool quoted;
};

static enum multipart_result
fail(struct multipart_parser *p, enum multipart_result err)
{
	p->state = MULTIPART_S_ERROR;
	p->error = err;
	return err;
}

/* --- lexical pieces (RFC 9110 §5.6) --------------------------------------- */

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* s[0..n) equals the lower-case word w, ignoring ASCII case. */
static bool
word_eq(const char *s, size_t n, const char *w)
{
	size_t i;

	if (strlen(w) != n)
		return false;
	for (i = 0; i < n; i++)
		if (lower((unsigned char)s[i]) != w[i])
			return false;
	return true;
}

/* s begins with the lower-case word w, ignoring ASCII case. */
static bool
prefix_eq(const char *s, const char *w)
{
	size_t i;

	for (i = 0; w[i] != '\0'; i++)
		if (lower((unsigned char)s[i]) != w[i])
			return false;
	return true;
}

/* tchar (RFC 9110 §5.6.2). */
static bool
is_tchar(int c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static size_t
skip_ows(const char *s, size_t i)
{
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	return i;
}

static size_t
skip_token(const char *s, size_t i)
{
	while (is_tchar((unsigned char)s[i]))
		i++;
	return i;
}

/* qdtext or the second byte of a quoted-pair (RFC 9110 §5.6.4): HTAB, SP,
 * VCHAR, obs-text. */
static bool
is_qchar(int c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* The index just past the quoted-string at s[i] == '"', or 0. */
static size_t
skip_quoted(const char *s, size_t i)
{
	for (i++; s[i] != '"'; i++) {
		if (s[i] == '\\')
			i++;
		if (!is_qchar((unsigned char)s[i]))
			return 0; /* a control, or the end: unterminated */
	}
	return i + 1;
}

/*
 * The next parameter after *pos, which is at the end of the type or of
 * the previous parameter (RFC 9110 §5.6.6):
 *     parameters = *( OWS ";" OWS [ parameter ] )
 *     parameter  = token "=" ( token / quoted-string )
 */
static enum param_scan
next_param(const char *s, size_t *pos, struct param *pm)
{
	size_t i = *pos;

	for (;;) {
		i = skip_ows(s, i);
		if (s[i] == '\0')
			return PS_END;
		if (s[i] != ';')
			return PS_BAD;
		i = skip_ows(s, i + 1);
		if (s[i] != ';' && s[i] != '\0')
			break; /* else an empty parameter */
	}
	pm->name = i;
	i = skip_token(s, i);
	pm->nlen = i - pm->name;
	if (pm->nlen == 0 || s[i] != '=')
		return PS_BAD;
	pm->val = ++i;
	pm->quoted = s[i] == '"';
	i = pm->quoted ? skip_quoted(s, i) : skip_token(s, i);
	if (i <= pm->val)
		return PS_BAD; /* unterminated quote, or an empty token */
	pm->vlen = i - pm->val;
	*pos = i;
	return PS_PARAM;
}

/*
 * Decode a parameter value into dst (or only count when dst is NULL);
 * returns the decoded length. dst may be at or before src: each byte is
 * written at or before the one it comes from. \" and \\ are unescaped;
 * other backslashes are kept (see the contract).
 */
static size_t
unquote(char *dst, const char *src, const struct param *pm)
{
	const char *v = src + pm->val;
	size_t i = 0, n = pm->vlen, out = 0;

	if (pm->quoted) {
		i = 1;
		n--; /* the closing quote */
	}
	for (; i < n; i++, out++) {
		if (pm->quoted && v[i] == '\\' &&
		    (v[i + 1] == '"' || v[i + 1] == '\\'))
			i++;
		if (dst != NULL)
			dst[out] = v[i];
	}
	return out;
}

/* A boundary we accept (see the Limits in multipart.h). */
static bool
boundary_ok(const char *b, size_t n)
{
	size_t i;

	if (n < 1 || n > MULTIPART_BOUNDARY_MAX || b[n - 1] == ' ')
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)b[i] < 0x20 || (unsigned char)b[i] > 0x7e)
			return false;
	return true;
}

/* --- Content-Type (RFC 7578 §4.1) ----------------------------------------- */

/* The index past "multipart/form-data" in s, or 0 if s is another type. */
static size_t
form_data_type(const char *s)
{
	static const char type[] = "multipart/form-data";
	size_t i = skip_ows(s, 0);

	if (!prefix_eq(s + i, type))
		return 0;
	i += sizeof(type) - 1;
	if (s[i] != '\0' && s[i] != ';' && s[i] != ' ' && s[i] != '\t')
		return 0; /* e.g. multipart/form-datax */
	return i;
}

bool
multipart_is_multipart(const char *content_type)
{
	return content_type != NULL && form_data_type(content_type) > 0;
}

enum multipart_result
multipart_boundary(const char *content_type, char *out, size_t cap)
{
	char tmp[MULTIPART_BOUNDARY_MAX + 1];
	struct param pm, b = {0};
	enum param_scan ps;
	size_t pos, n;
	bool found = false;

	if (cap > 0)
		out[0] = '\0';
	if (content_type == NULL || (pos = form_data_type(content_type)) == 0)
		return MULTIPART_EPROTO;
	while ((ps = next_param(content_type, &pos, &pm)) == PS_PARAM) {
		if (!word_eq(content_type + pm.name, pm.nlen, "boundary"))
			continue;
		if (found)
			return MULTIPART_EPROTO; /* which one? */
		found = true;
		b = pm;
	}
	if (ps != PS_END || !found)
		return MULTIPART_EPROTO;
	if ((n = unquote(NULL, content_type, &b)) > MULTIPART_BOUNDARY_MAX)
		return MULTIPART_EPROTO;
	unquote(tmp, content_type, &b);
	if (!boundary_ok(tmp, n))
		return MULTIPART_EPROTO;
	if (n >= cap)
		return MULTIPART_ETOOBIG;
	memcpy(out, tmp, n);
	out[n] = '\0';
	return MULTIPART_OK;
}

/* --- part headers (RFC 7578 §4.2, §4.4, §4.8) ----------------------------- */

/*
 * Content-Disposition: form-data; name="..."; filename="..." at v, a
 * NUL-terminated value inside p->hdr. The decoded name and filename are
 * written over their own parameter (at its name), which is already read.
 */
static enum multipart_result
parse_disposition(char *v, struct multipart_part *part)
{
	struct param pm;
	enum param_scan ps;
	const char **slot;
	size_t pos = skip_token(v, 0);

	/* The disposition type is case-insensitive (RFC 6266 §4.1). */
	if (!word_eq(v, pos, "form-data"))
		return MULTIPART_EPROTO;
	while ((ps = next_param(v, &pos, &pm)) == PS_PARAM) {
		if (word_eq(v + pm.name, pm.nlen, "name"))
			slot = &part->name;
		else if (word_eq(v + pm.name, pm.nlen, "filename"))
			slot = &part->filename;
		else
			continue; /* filename* and others, see multipart.h */
		if (*slot != NULL)
			return MULTIPART_EPROTO;
		v[pm.name + unquote(v + pm.name, v, &pm)] = '\0';
		*slot = v + pm.name;
	}
	if (ps != PS_END || part->name == NULL)
		return MULTIPART_EPROTO; /* RFC 7578 §4.2: name is required */
	return MULTIPART_OK;
}

/* One NUL-terminated header line: field-name ":" OWS value OWS. */
static enum multipart_result
parse_header_line(char *line, struct multipart_part *part, bool *disposition)
{
	size_t n = skip_token(line, 0), end;
	char *v;

	if (n == 0 || line[n] != ':')
		return MULTIPART_EPROTO;
	v = line + skip_ows(line, n + 1);
	end = strlen(v);
	while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t'))
		end--;
	v[end] = '\0';
	if (word_eq(line, n, "content-disposition")) {
		if (*disposition)
			return MULTIPART_EPROTO;
		*disposition = true;
		return parse_disposition(v, part);
	}
	if (word_eq(line, n, "content-type")) {
		if (part->content_type != NULL)
			return MULTIPART_EPROTO;
		part->content_type = v;
	}
	return MULTIPART_OK; /* others are ignored (RFC 7578 §4.8) */
}

/* The complete header block in p->hdr (CRLF line ends, checked as it
 * came, ending with an empty line), parsed in place into *part. */
static enum multipart_result
parse_headers(struct multipart_parser *p, struct multipart_part *part)
{
	char *h = p->hdr, *line, *cr;
	bool disposition = false;
	enum multipart_result r;
	size_t i;

	memset(part, 0, sizeof(*part));
	/* Unfold: a CRLF before SP/HTAB is whitespace (RFC 5322 §2.2.3). */
	for (i = 0; i + 2 < p->hlen; i++)
		if (h[i] == '\r' && (h[i + 2] == ' ' || h[i + 2] == '\t'))
			h[i] = h[i + 1] = ' ';
	for (line = h; *line != '\r'; line = cr + 2) {
		cr = memchr(line, '\r', (size_t)(h + p->hlen - line));
		*cr = '\0';
		if ((r = parse_header_line(line, part, &disposition)) !=
		    MULTIPART_OK)
			return r;
	}
	return disposition ? MULTIPART_OK
	                   : MULTIPART_EPROTO; /* RFC 7578 §4.2 */
}

/* The header block ends with an empty line: it is CRLF alone (no
 * headers), or ends with CRLF CRLF. */
static bool
block_done(const struct multipart_parser *p)
{
	const char *end = p->hdr + p->hlen;

	if (p->hlen == 0 || end[-1] != '\n')
		return false;
	return p->hlen == 2 ||
	    (p->hlen >= 4 && memcmp(end - 4, "\r\n\r\n", 4) == 0);
}

/* Collect header bytes until the empty line; returns the bytes taken. */
static size_t
headers(struct multipart_parser *p, const uint8_t *b, size_t n,
    const struct multipart_callbacks *cb, void *arg)
{
	struct multipart_part part;
	size_t i;
	uint8_t c, prev;
	enum multipart_result r;

	for (i = 0; i < n; i++) {
		c = b[i];
		prev = p->hlen > 0 ? (uint8_t)p->hdr[p->hlen - 1] : 0;
		if (p->hlen == MULTIPART_MAX_HEADERS) {
			fail(p, MULTIPART_ETOOBIG);
			return i + 1;
		}
		if (c == '\0' || (prev == '\r') != (c == '\n')) {
			fail(p, MULTIPART_EPROTO); /* NUL, bare CR or bare LF */
			return i + 1;
		}
		p->hdr[p->hlen++] = (char)c;
		if (!block_done(p))
			continue;
		if ((r = parse_headers(p, &part)) != MULTIPART_OK)
			fail(p, r);
		else if (cb->part_begin != NULL && !cb->part_begin(arg, &part))
			fail(p, MULTIPART_ESTOP);
		else {
			p->in_part = true;
			p->state = MULTIPART_S_BODY;
			p->matched = 0;
		}
		return i + 1;
	}
	return n;
}

/* --- delimiters (RFC 2046 §5.1.1) ----------------------------------------- */

static bool
emit(struct multipart_parser *p, const uint8_t *d, size_t n,
    const struct multipart_callbacks *cb, void *arg)
{
	if (n == 0 || p->state != MULTIPART_S_BODY || cb->part_data == NULL)
		return true;
	if (cb->part_data(arg, d, n))
		return true;
	fail(p, MULTIPART_ESTOP);
	return false;
}

/*
 * Look for the delimiter in the preamble (dropped) or a part's data
 * (handed out); returns the bytes taken. The bytes matched so far are
 * p->delim[0..matched), so held-back data needs no copy. The boundary
 * holds no CR, so CR appears in delim only at 0: after a mismatch the
 * match restarts at the mismatching byte, with no KMP table.
 */
static size_t
scan(struct multipart_parser *p, const uint8_t *b, size_t n,
    const struct multipart_callbacks *cb, void *arg)
{
	size_t i = 0, held = p->matched; /* matched in earlier pieces */
	const uint8_t *cr;

	while (i < n) {
		if (p->matched == 0) {
			if ((cr = memchr(b + i, '\r', n - i)) == NULL)
				break;
			i = (size_t)(cr - b);
		}
		if (b[i] == p->delim[p->matched]) {
			i++;
			if (++p->matched < p->dlen)
				continue;
			/* The data ends where the delimiter began. */
			if (!emit(p, b, i - (p->dlen - held), cb, arg))
				return i;
			p->matched = 0;
			p->state = MULTIPART_S_DELIM_TAIL;
			return i;
		}
		/* Not the delimiter: what was held back is data after all. */
		if (held > 0 && !emit(p, p->delim, held, cb, arg))
			return i;
		held = 0;
		p->matched = 0;
	}
	emit(p, b, n - (p->matched - held), cb, arg);
	return n;
}

/* The end of a delimiter line: part_end for the part it closes. */
static bool
end_part(
    struct multipart_parser *p, const struct multipart_callbacks *cb, void *arg)
{
	if (!p->in_part)
		return true;
	p->in_part = false;
	if (cb->part_end == NULL || cb->part_end(arg))
		return true;
	fail(p, MULTIPART_ESTOP);
	return false;
}

/* One byte of what follows "--" boundary (RFC 2046 §5.1.1):
 *     delimiter transport-padding CRLF            (another part)
 *     delimiter "--" [transport-padding CRLF] ... (the close delimiter)
 * LWSP padding is SP and HTAB; anything else after the boundary means the
 * boundary began a line of content, which §5.1.1 forbids. */
static void
delim_line(struct multipart_parser *p, uint8_t c,
    const struct multipart_callbacks *cb, void *arg)
{
	switch (p->state) {
	case MULTIPART_S_DELIM_TAIL:
	case MULTIPART_S_PADDING:
		if (c == '-' && p->state == MULTIPART_S_DELIM_TAIL)
			p->state = MULTIPART_S_CLOSE;
		else if (c == ' ' || c == '\t')
			p->state = MULTIPART_S_PADDING;
		else if (c == '\r')
			p->state = MULTIPART_S_DELIM_LF;
		else
			fail(p, MULTIPART_EPROTO);
		return;
	case MULTIPART_S_CLOSE:
		if (c != '-')
			fail(p, MULTIPART_EPROTO);
		else if (end_part(p, cb, arg))
			p->state =
			    MULTIPART_S_EPILOGUE; /* the rest is ignored */
		return;
	case MULTIPART_S_DELIM_LF:
		if (c != '\n')
			fail(p, MULTIPART_EPROTO);
		else if (end_part(p, cb, arg)) {
			p->state = MULTIPART_S_HEADERS;
			p->hlen = 0;
		}
		return;
	case MULTIPART_S_PREAMBLE:
	case MULTIPART_S_HEADERS:
	case MULTIPART_S_BODY:
	case MULTIPART_S_EPILOGUE:
	case MULTIPART_S_ERROR:
	case MULTIPART_S__MAX:
		break;
	}
	fail(p, MULTIPART_EPROTO); /* unreachable: a corrupted parser */
}

/* --- the parser ----------------------------------------------------------- */

void
multipart_init(struct multipart_parser *p, const char *boundary)
{
	size_t n = boundary != NULL ? strlen(boundary) : 0;

	memset(p, 0, sizeof(*p));
	if (!boundary_ok(boundary, n)) {
		fail(p, MULTIPART_EPROTO);
		return;
	}
	memcpy(p->delim, "\r\n--", 4);
	memcpy(p->delim + 4, boundary, n);
	p->dlen = (uint8_t)(n + 4);
	p->state = MULTIPART_S_PREAMBLE;
	/* The first delimiter may open the body: its CRLF is taken as read
	 * (RFC 2046 §5.1.1 dash-boundary). */
	p->matched = 2;
}

/* One step over b[0..n), n > 0; returns the bytes taken. */
static size_t
step(struct multipart_parser *p, const uint8_t *b, size_t n,
    const struct multipart_callbacks *cb, void *arg)
{
	switch (p->state) {
	case MULTIPART_S_PREAMBLE:
	case MULTIPART_S_BODY:
		return scan(p, b, n, cb, arg);
	case MULTIPART_S_HEADERS:
		return headers(p, b, n, cb, arg);
	case MULTIPART_S_DELIM_TAIL:
	case MULTIPART_S_CLOSE:
	case MULTIPART_S_PADDING:
	case MULTIPART_S_DELIM_LF:
		delim_line(p, b[0], cb, arg);
		return 1;
	case MULTIPART_S_EPILOGUE:
		return n; /* RFC 2046 §5.1.1: ignored */
	case MULTIPART_S_ERROR:
	case MULTIPART_S__MAX:
		break;
	}
	fail(p, MULTIPART_EPROTO); /* unreachable: a corrupted parser */
	return 0;
}

enum multipart_result
multipart_feed(struct multipart_parser *p, const uint8_t *buf, size_t len,
    const struct multipart_callbacks *cb, void *arg)
{
	size_t off = 0, n;

	while (off < len && p->state != MULTIPART_S_ERROR) {
		n = step(p, buf + off, len - off, cb, arg);
		off += n;
		p->consumed += n;
	}
	return p->state == MULTIPART_S_ERROR ? p->error : MULTIPART_OK;
}

enum multipart_result
multipart_finish(struct multipart_parser *p)
{
	if (p->state == MULTIPART_S_ERROR)
		return p->error;
	if (p->state != MULTIPART_S_EPILOGUE)
		return fail(p, MULTIPART_EPROTO); /* truncated */
	return MULTIPART_OK;
}

/* --- names for logs ------------------------------------------------------- */

const char *
multipart_result_name(enum multipart_result r)
{
	static const char *const names[MULTIPART_RESULT__MAX] = {
	    [MULTIPART_OK] = "ok",
	    [MULTIPART_EPROTO] = "protocol-error",
	    [MULTIPART_ETOOBIG] = "too-big",
	    [MULTIPART_ESTOP] = "stopped",
	};

	return (unsigned)r < MULTIPART_RESULT__MAX ? names[r] : "?";
}

const char *
multipart_state_name(enum multipart_state s)
{
	static const char *const names[MULTIPART_S__MAX] = {
	    [MULTIPART_S_PREAMBLE] = "preamble",
	    [MULTIPART_S_DELIM_TAIL] = "delimiter-tail",
	    [MULTIPART_S_CLOSE] = "close",
	    [MULTIPART_S_PADDING] = "padding",
	    [MULTIPART_S_DELIM_LF] = "delimiter-lf",
	    [MULTIPART_S_HEADERS] = "headers",
	    [MULTIPART_S_BODY] = "body",
	    [MULTIPART_S_EPILOGUE] = "epilogue",
	    [MULTIPART_S_ERROR] = "error",
	};

	return (unsigned)s < MULTIPART_S__MAX ? names[s] : "?";
}
