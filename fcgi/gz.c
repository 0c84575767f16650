/* gz — incremental gzip over zlib; contract in gz.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gz.h"

/* windowBits 15 plus 16 asks zlib for the gzip wrapper (zlib.h,
 * deflateInit2); memLevel 8 is zlib's default (see the memory figure in
 * gz.h). */
#define GZ_WBITS    (15 + 16)
#define GZ_MEMLEVEL 8

/* The most input handed to one deflate() call: avail_in is a uInt. */
#define GZ_SLICE (1u << 30)

static const char *const gz_names[] = {
    [GZ_OK] = "GZ_OK",
    [GZ_ENOMEM] = "GZ_ENOMEM",
    [GZ_EARG] = "GZ_EARG",
    [GZ_ESINK] = "GZ_ESINK",
    [GZ_EZLIB] = "GZ_EZLIB",
    [GZ_ESTATE] = "GZ_ESTATE",
};

const char *
gz_result_name(enum gz_result r)
{
	if ((size_t)r >= sizeof(gz_names) / sizeof(gz_names[0]))
		return "GZ_?";
	return gz_names[r];
}

/* ---- Accept-Encoding (RFC 9110 §12.5.3, §12.4.2, §5.6) ---- */

/* tchar of RFC 9110 §5.6.2. */
static bool
is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static const char *
skip_token(const char *p)
{
	while (is_tchar((unsigned char)*p))
		p++;
	return p;
}

/* Past the end of the current list element: the next ',' outside a
 * quoted-string, or the NUL. */
static const char *
skip_element(const char *p)
{
	bool quoted = false;

	for (; *p != '\0'; p++) {
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == ',')
			break;
	}
	return p;
}

static bool
token_is(const char *p, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(p, word, len) == 0;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), RFC 9110
 * §12.4.2; in thousandths in *q. */
static bool
parse_qvalue(const char *p, size_t len, int *q)
{
	size_t i;
	int v, scale = 100;

	if (len == 0 || (p[0] != '0' && p[0] != '1'))
		return false;
	v = (p[0] - '0') * 1000;
	if (len == 1) {
		*q = v;
		return true;
	}
	if (p[1] != '.' || len > 5)
		return false;
	for (i = 2; i < len; i++, scale /= 10) {
		if (p[i] < '0' || p[i] > '9' || (v == 1000 && p[i] != '0'))
			return false;
		v += (p[i] - '0') * scale;
	}
	*q = v;
	return true;
}

/* One parameter after its ';': name "=" ( token / quoted-string ). Sets
 * *q for a "q" parameter; false on broken syntax. */
static bool
parse_param(const char **pp, int *q)
{
	const char *name = *pp, *val, *p;

	p = skip_token(name);
	if (p == name || *p != '=')
		return false;
	val = ++p;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '\0')
				return false;
		}
		p++;
	} else {
		p = skip_token(p);
	}
	*pp = p;
	if (token_is(name, (size_t)(val - 1 - name), "q"))
		return parse_qvalue(val, (size_t)(p - val), q);
	return true;
}

/* Parse the parameters of the element whose coding token ends at *pp, and
 * move *pp past the element; its weight in thousandths, 0 when malformed. */
static int
element_weight(const char **pp)
{
	const char *p = *pp;
	int q = 1000;
	bool good = true;

	for (;;) {
		p = skip_ows(p);
		if (*p != ';')
			break;
		p = skip_ows(p + 1);
		if (!parse_param(&p, &q)) {
			good = false;
			break;
		}
	}
	if (good && *p != ',' && *p != '\0')
		good = false;
	*pp = skip_element(p);
	return good ? q : 0;
}

bool
gz_accepts(const char *ae)
{
	const char *p, *tok;
	size_t len;
	bool gz_yes = false, gz_no = false, any_yes = false, any_no = false;
	int q;

	if (ae == NULL)
		return false;
	for (p = ae; *p != '\0';) {
		p = skip_ows(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '\0')
			break;
		tok = p;
		p = skip_token(p);
		if ((len = (size_t)(p - tok)) == 0) {
			/* No coding name: nothing to attribute it to. */
			p = skip_element(p);
			continue;
		}
		q = element_weight(&p);
		if (token_is(tok, len, "gzip") || token_is(tok, len, "x-gzip"))
			*(q > 0 ? &gz_yes : &gz_no) = true;
		else if (token_is(tok, len, "*"))
			*(q > 0 ? &any_yes : &any_no) = true;
	}
	if (gz_no)
		return false;
	if (gz_yes)
		return true;
	return any_yes && !any_no;
}

/* ---- the encoder ---- */

enum gz_result
gz_init(struct gz *z, int level)
{
	int rc;

	memset(z, 0, sizeof(*z));
	z->err = GZ_ESTATE;
	if (level == -1)
		level = GZ_LEVEL_DEFAULT;
	if (level < 0 || level > 9)
		return GZ_EARG;
	rc = deflateInit2(&z->zs, level, Z_DEFLATED, GZ_WBITS, GZ_MEMLEVEL,
	    Z_DEFAULT_STRATEGY);
	switch (rc) {
	case Z_OK:
		break;
	case Z_MEM_ERROR:
		return GZ_ENOMEM;
	case Z_STREAM_ERROR:
		return GZ_EARG;
	default:
		return GZ_EZLIB;
	}
	z->live = true;
	z->err = GZ_OK;
	return GZ_OK;
}

static enum gz_result
gz_fail(struct gz *z, enum gz_result r)
{
	z->err = r;
	return r;
}

/* Run deflate with the input already in z->zs until zlib has taken all of
 * it and has no more output for this flush mode, pushing each chunk. */
static enum gz_result
gz_pump(struct gz *z, int flush, gz_sink_fn *sink, void *arg)
{
	unsigned char out[GZ_CHUNK];
	size_t have;
	int rc;

	do {
		z->zs.next_out = out;
		z->zs.avail_out = sizeof(out);
		rc = deflate(&z->zs, flush);
		/* Z_BUF_ERROR only says "no progress possible": the last
		 * round filled out exactly. Not an error (zlib FAQ). */
		if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END)
			return gz_fail(z, GZ_EZLIB);
		have = sizeof(out) - z->zs.avail_out;
		if (have > 0 && !sink(arg, out, have))
			return gz_fail(z, GZ_ESINK);
	} while (z->zs.avail_out == 0);
	if (z->zs.avail_in != 0 || (flush == Z_FINISH && rc != Z_STREAM_END))
		return gz_fail(z, GZ_EZLIB);
	return GZ_OK;
}

/* The error a call on z must return before doing anything, or GZ_OK. */
static enum gz_result
gz_usable(const struct gz *z)
{
	if (z->err != GZ_OK)
		return z->err;
	if (!z->live || z->finished)
		return GZ_ESTATE;
	return GZ_OK;
}

enum gz_result
gz_write(struct gz *z, const void *in, size_t n, gz_sink_fn *sink, void *arg)
{
	const unsigned char *p = in;
	enum gz_result r;
	size_t slice;

	if ((r = gz_usable(z)) != GZ_OK)
		return r;
	if (n > 0 && in == NULL)
		return GZ_EARG;
	while (n > 0) {
		slice = n < GZ_SLICE ? n : GZ_SLICE;
		/* zlib never writes through next_in (ZLIB_CONST aside). */
		z->zs.next_in = (Bytef *)(uintptr_t)p;
		z->zs.avail_in = (uInt)slice;
		if ((r = gz_pump(z, Z_NO_FLUSH, sink, arg)) != GZ_OK)
			return r;
		p += slice;
		n -= slice;
		z->dirty = true;
	}
	return GZ_OK;
}

enum gz_result
gz_flush(struct gz *z, gz_sink_fn *sink, void *arg)
{
	enum gz_result r;

	if ((r = gz_usable(z)) != GZ_OK)
		return r;
	if (!z->dirty)
		return GZ_OK;
	z->zs.next_in = NULL;
	z->zs.avail_in = 0;
	if ((r = gz_pump(z, Z_SYNC_FLUSH, sink, arg)) != GZ_OK)
		return r;
	z->dirty = false;
	return GZ_OK;
}

enum gz_result
gz_finish(struct gz *z, gz_sink_fn *sink, void *arg)
{
	enum gz_result r;

	if (z->finished && z->err == GZ_OK)
		return GZ_OK;
	if ((r = gz_usable(z)) != GZ_OK)
		return r;
	z->zs.next_in = NULL;
	z->zs.avail_in = 0;
	if ((r = gz_pump(z, Z_FINISH, sink, arg)) != GZ_OK)
		return r;
	z->finished = true;
	z->dirty = false;
	return GZ_OK;
}

void
gz_free(struct gz *z)
{
	if (z->live) {
		(void)deflateEnd(&z->zs);
		z->live = false;
	}
}

/* ---- one shot ---- */

struct gz_mem {
	unsigned char *buf;
	size_t len, cap;
	bool nomem;
};

static bool
gz_mem_sink(void *arg, const void *p, size_t n)
{
	struct gz_mem *m = arg;
	unsigned char *nb;
	size_t ncap;

	if (n > m->cap - m->len) {
		ncap = m->cap;
		while (n > ncap - m->len) {
			if (ncap > SIZE_MAX / 2) {
				m->nomem = true;
				return false;
			}
			ncap *= 2;
		}
		if ((nb = realloc(m->buf, ncap)) == NULL) {
			m->nomem = true;
			return false;
		}
		m->buf = nb;
		m->cap = ncap;
	}
	memcpy(m->buf + m->len, p, n);
	m->len += n;
	return true;
}

enum gz_result
gz_compress(
    const void *in, size_t n, int level, unsigned char **outp, size_t *outlenp)
{
	struct gz z;
	struct gz_mem m = {NULL, 0, 0, false};
	enum gz_result r;
	unsigned char *shrunk;

	*outp = NULL;
	*outlenp = 0;
	if ((r = gz_init(&z, level)) != GZ_OK)
		goto out;
	/* deflateBound covers the gzip header and trailer, so the sink
	 * normally never grows the buffer. */
	m.cap = deflateBound(&z.zs, (uLong)n);
	if ((m.buf = malloc(m.cap)) == NULL) {
		r = GZ_ENOMEM;
		goto out;
	}
	if ((r = gz_write(&z, in, n, gz_mem_sink, &m)) != GZ_OK ||
	    (r = gz_finish(&z, gz_mem_sink, &m)) != GZ_OK) {
		if (r == GZ_ESINK && m.nomem)
			r = GZ_ENOMEM;
		goto out;
	}
	if (m.cap - m.len > 4096 && (shrunk = realloc(m.buf, m.len)) != NULL)
		m.buf = shrunk;
	*outp = m.buf;
	*outlenp = m.len;
	m.buf = NULL;
out:
	free(m.buf);
	gz_free(&z);
	return r;
}
