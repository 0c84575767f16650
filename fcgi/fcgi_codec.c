/* fcgi_codec — the FastCGI 1.0 record codec; see fcgi_codec.h. */
#include "config.h"

#include <assert.h>
#include <string.h>

#include "fcgi_codec.h"

/* The per-connection budget (about 3 KiB, all state) needs this small. */
static_assert(sizeof(struct fcgi_decoder) <= 32, "fcgi_decoder grew");

/* What one step of the decoder did. */
enum step {
	STEP_CONTINUE, /* state changed, keep going with the input left */
	STEP_EVENT,    /* *ev is filled in */
	STEP_NEED,     /* input exhausted */
	STEP_FAIL,     /* d->error is set */
};

void
fcgi_decoder_init(struct fcgi_decoder *d)
{
	memset(d, 0, sizeof(*d));
	d->state = FCGI_DS_HEADER;
}

bool
fcgi_decoder_idle(const struct fcgi_decoder *d)
{
	return d->state == FCGI_DS_HEADER && d->nbuf == 0;
}

static enum step
fail(struct fcgi_decoder *d, enum fcgi_result err)
{
	d->state = FCGI_DS_ERROR;
	d->error = err;
	return STEP_FAIL;
}

/* After the content (or at once when there is none): padding, then the
 * next header (§3.3 "Padding": receivers skip paddingData). */
static void
after_content(struct fcgi_decoder *d)
{
	d->state = d->padding_left > 0 ? FCGI_DS_PADDING : FCGI_DS_HEADER;
}

/* Start skipping the current record's content. */
static void
skip_content(struct fcgi_decoder *d)
{
	if (d->content_left > 0)
		d->state = FCGI_DS_SKIP;
	else
		after_content(d);
}

static void
event(const struct fcgi_decoder *d, struct fcgi_event *ev,
    enum fcgi_event_type type)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->request_id = d->request_id;
}

/* The data event of a record with content: PARAMS, STDIN, DATA or
 * GET_VALUES (the only types that reach FCGI_DS_CONTENT). */
static enum fcgi_event_type
data_event(uint8_t type)
{
	switch (type) {
	case FCGI_PARAMS:
		return FCGI_EV_PARAMS;
	case FCGI_STDIN:
		return FCGI_EV_STDIN;
	case FCGI_DATA:
		return FCGI_EV_DATA;
	default:
		return FCGI_EV_GET_VALUES;
	}
}

/* The end event of an empty PARAMS, STDIN or DATA record. */
static enum fcgi_event_type
end_event(uint8_t type)
{
	switch (type) {
	case FCGI_PARAMS:
		return FCGI_EV_PARAMS_END;
	case FCGI_STDIN:
		return FCGI_EV_STDIN_END;
	default:
		return FCGI_EV_DATA_END;
	}
}

/*
 * An input stream record (§5.2, §5.3): an empty one ends its stream (§3.3
 * "Types of Record Types"), any other is handed out piece by piece.
 */
static enum step
on_stream_header(struct fcgi_decoder *d, struct fcgi_event *ev)
{
	if (d->request_id == FCGI_NULL_REQUEST_ID)
		return fail(d, FCGI_EPROTO); /* application record, §3.3 */
	if (d->content_left > 0) {
		d->state = FCGI_DS_CONTENT;
		return STEP_CONTINUE;
	}
	event(d, ev, end_event(d->type));
	after_content(d);
	return STEP_EVENT;
}

/* §4.1: a management record whose content is a query of names. */
static enum step
on_get_values_header(struct fcgi_decoder *d, struct fcgi_event *ev)
{
	if (d->request_id != FCGI_NULL_REQUEST_ID)
		return fail(d, FCGI_EPROTO);
	if (d->content_left > FCGI_GET_VALUES_MAX)
		return fail(d, FCGI_ETOOBIG);
	if (d->content_left > 0) {
		d->state = FCGI_DS_CONTENT;
		return STEP_CONTINUE;
	}
	event(d, ev, FCGI_EV_GET_VALUES);
	ev->last = true;
	after_content(d);
	return STEP_EVENT;
}

/* A type this codec does not know: §4.2 for management records. */
static enum step
on_unknown_header(struct fcgi_decoder *d, struct fcgi_event *ev)
{
	if (d->request_id != FCGI_NULL_REQUEST_ID)
		return fail(d, FCGI_EPROTO);
	event(d, ev, FCGI_EV_UNKNOWN_TYPE);
	ev->unknown_type = d->type;
	skip_content(d);
	return STEP_EVENT;
}

/* A complete header is in d->buf (§3.3 FCGI_Record, §8 FCGI_Header). */
static enum step
on_header(struct fcgi_decoder *d, struct fcgi_event *ev)
{
	const uint8_t *h = d->buf;

	d->nbuf = 0;
	if (h[0] != FCGI_VERSION_1)
		return fail(d, FCGI_EPROTO);
	d->type = h[1];
	d->request_id = (uint16_t)(h[2] << 8 | h[3]);
	d->content_left = (uint16_t)(h[4] << 8 | h[5]);
	d->padding_left = h[6];
	/* h[7] is reserved. */

	switch (d->type) {
	case FCGI_BEGIN_REQUEST:
		/* §5.1: the body is exactly an FCGI_BeginRequestBody. */
		if (d->request_id == FCGI_NULL_REQUEST_ID ||
		    d->content_left != 8)
			return fail(d, FCGI_EPROTO);
		d->state = FCGI_DS_BODY;
		return STEP_CONTINUE;
	case FCGI_ABORT_REQUEST:
		/* §5.4: no body is defined; skip any that comes. */
		if (d->request_id == FCGI_NULL_REQUEST_ID)
			return fail(d, FCGI_EPROTO);
		event(d, ev, FCGI_EV_ABORT_REQUEST);
		skip_content(d);
		return STEP_EVENT;
	case FCGI_PARAMS:
	case FCGI_STDIN:
	case FCGI_DATA:
		return on_stream_header(d, ev);
	case FCGI_GET_VALUES:
		return on_get_values_header(d, ev);
	case FCGI_END_REQUEST:
	case FCGI_STDOUT:
	case FCGI_STDERR:
	case FCGI_GET_VALUES_RESULT:
	case FCGI_UNKNOWN_TYPE:
		/* Appendix A: only an application sends these. */
		return fail(d, FCGI_EPROTO);
	default:
		return on_unknown_header(d, ev);
	}
}

/* A complete FCGI_BeginRequestBody is in d->buf (§5.1). */
static enum step
on_begin_body(struct fcgi_decoder *d, struct fcgi_event *ev)
{
	const uint8_t *b = d->buf;

	d->nbuf = 0;
	d->content_left = 0;
	event(d, ev, FCGI_EV_BEGIN_REQUEST);
	ev->role = (uint16_t)(b[0] << 8 | b[1]);
	ev->flags = b[2];
	/* b[3..7] are reserved. */
	after_content(d);
	return STEP_EVENT;
}

/* Copy input into d->buf until it holds 8 bytes; true when it does. */
static bool
fill(struct fcgi_decoder *d, const uint8_t *buf, size_t len, size_t *off)
{
	size_t n = FCGI_HEADER_LEN - d->nbuf;

	if (n > len - *off)
		n = len - *off;
	memcpy(d->buf + d->nbuf, buf + *off, n);
	d->nbuf = (uint8_t)(d->nbuf + n);
	*off += n;
	return d->nbuf == FCGI_HEADER_LEN;
}

/* Hand out as much of the current record's content as the input holds. */
static enum step
content(struct fcgi_decoder *d, const uint8_t *buf, size_t len, size_t *off,
    struct fcgi_event *ev)
{
	size_t n = len - *off;

	if (n > d->content_left)
		n = d->content_left;
	event(d, ev, data_event(d->type));
	ev->data.ptr = buf + *off;
	ev->data.len = n;
	d->content_left = (uint16_t)(d->content_left - n);
	*off += n;
	ev->last = d->content_left == 0;
	if (ev->last)
		after_content(d);
	return STEP_EVENT;
}

/* Skip up to *left bytes of input; true when none are left to skip. */
static bool
skip(size_t *left, size_t len, size_t *off)
{
	size_t n = len - *off;

	if (n > *left)
		n = *left;
	*left -= n;
	*off += n;
	return *left == 0;
}

/* One step of the state machine over buf[*off..len). */
static enum step
step(struct fcgi_decoder *d, const uint8_t *buf, size_t len, size_t *off,
    struct fcgi_event *ev)
{
	size_t left;

	if (d->state == FCGI_DS_ERROR)
		return STEP_FAIL;
	if (*off == len)
		return STEP_NEED;
	switch (d->state) {
	case FCGI_DS_HEADER:
		return fill(d, buf, len, off) ? on_header(d, ev) : STEP_NEED;
	case FCGI_DS_BODY:
		return fill(d, buf, len, off) ? on_begin_body(d, ev)
		                              : STEP_NEED;
	case FCGI_DS_CONTENT:
		return content(d, buf, len, off, ev);
	case FCGI_DS_SKIP:
		left = d->content_left;
		if (skip(&left, len, off))
			after_content(d);
		d->content_left = (uint16_t)left;
		return STEP_CONTINUE;
	case FCGI_DS_PADDING:
		left = d->padding_left;
		if (skip(&left, len, off))
			d->state = FCGI_DS_HEADER;
		d->padding_left = (uint8_t)left;
		return STEP_CONTINUE;
	case FCGI_DS_ERROR:
	case FCGI_DS__MAX:
		break;
	}
	return fail(d, FCGI_EPROTO); /* unreachable: a corrupted decoder */
}

size_t
fcgi_decode(struct fcgi_decoder *d, const uint8_t *buf, size_t len,
    struct fcgi_event *ev, enum fcgi_result *res)
{
	size_t off = 0;

	for (;;) {
		switch (step(d, buf, len, &off, ev)) {
		case STEP_CONTINUE:
			continue;
		case STEP_EVENT:
			*res = FCGI_OK;
			return off;
		case STEP_NEED:
			*res = FCGI_NEED_MORE;
			return off;
		case STEP_FAIL:
			*res = d->error;
			return off;
		}
	}
}

/* --- name-value pairs (§3.4) ------------------------------------------- */

/* Read one length at buf[*pos]: 1 byte when its high bit is 0, else 4
 * bytes with the high bit masked off (so at most 2^31-1). */
static bool
nv_length(const uint8_t *buf, size_t len, size_t *pos, size_t *out)
{
	const uint8_t *p = buf + *pos;

	if (*pos >= len)
		return false;
	if ((p[0] & 0x80) == 0) {
		*out = p[0];
		*pos += 1;
		return true;
	}
	if (len - *pos < 4)
		return false;
	*out = (size_t)((uint32_t)(p[0] & 0x7f) << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
	*pos += 4;
	return true;
}

enum fcgi_result
fcgi_nvpair_next_partial(const uint8_t *buf, size_t len, size_t *off,
    struct fcgi_span *name, struct fcgi_span *value, size_t *need)
{
	size_t pos = *off, nlen, vlen;
	uint64_t total;

	*need = 0;
	if (*off > len)
		return FCGI_EPROTO;
	if (!nv_length(buf, len, &pos, &nlen) ||
	    !nv_length(buf, len, &pos, &vlen))
		return FCGI_NEED_MORE;
	/* Compare against what remains: no sum that could wrap. */
	if (nlen > len - pos || vlen > len - pos - nlen) {
		total = (uint64_t)(pos - *off) + nlen + vlen;
		*need = total > SIZE_MAX ? SIZE_MAX : (size_t)total;
		return FCGI_NEED_MORE;
	}
	name->ptr = buf + pos;
	name->len = nlen;
	value->ptr = buf + pos + nlen;
	value->len = vlen;
	*off = pos + nlen + vlen;
	return FCGI_OK;
}

enum fcgi_result
fcgi_nvpair_next(const uint8_t *buf, size_t len, size_t *off,
    struct fcgi_span *name, struct fcgi_span *value)
{
	enum fcgi_result r;
	size_t need;

	r = fcgi_nvpair_next_partial(buf, len, off, name, value, &need);
	if (r == FCGI_NEED_MORE && *off != len)
		return FCGI_EPROTO; /* the block is complete: a cut pair */
	return r;
}

/* --- encoders ------------------------------------------------------------ */

size_t
fcgi_encode_header(uint8_t *out, size_t outlen, uint8_t type,
    uint16_t request_id, uint16_t content_len, uint8_t padding_len)
{
	if (outlen < FCGI_HEADER_LEN)
		return 0;
	out[0] = FCGI_VERSION_1;
	out[1] = type;
	out[2] = (uint8_t)(request_id >> 8);
	out[3] = (uint8_t)request_id;
	out[4] = (uint8_t)(content_len >> 8);
	out[5] = (uint8_t)content_len;
	out[6] = padding_len;
	out[7] = 0;
	return FCGI_HEADER_LEN;
}

uint8_t
fcgi_padding_for(size_t content_len)
{
	return (uint8_t)((8 - content_len % 8) % 8);
}

size_t
fcgi_encode_stream_header(uint8_t *out, size_t outlen, uint8_t type,
    uint16_t request_id, uint16_t content_len, uint8_t *padding)
{
	uint8_t pad = fcgi_padding_for(content_len);
	size_t n;

	n = fcgi_encode_header(out, outlen, type, request_id, content_len, pad);
	if (n > 0)
		*padding = pad;
	return n;
}

size_t
fcgi_encode_stream(uint8_t *out, size_t outlen, uint8_t type,
    uint16_t request_id, const void *data, size_t len)
{
	uint8_t pad;

	if (len > FCGI_MAX_CONTENT)
		return 0;
	pad = fcgi_padding_for(len);
	if (outlen < FCGI_HEADER_LEN || outlen - FCGI_HEADER_LEN < len + pad)
		return 0;
	fcgi_encode_header(out, outlen, type, request_id, (uint16_t)len, pad);
	if (len > 0)
		memcpy(out + FCGI_HEADER_LEN, data, len);
	memset(out + FCGI_HEADER_LEN + len, 0, pad);
	return FCGI_HEADER_LEN + len + pad;
}

size_t
fcgi_encode_stream_end(
    uint8_t *out, size_t outlen, uint8_t type, uint16_t request_id)
{
	return fcgi_encode_header(out, outlen, type, request_id, 0, 0);
}

size_t
fcgi_encode_end_request(uint8_t *out, size_t outlen, uint16_t request_id,
    uint32_t app_status, uint8_t protocol_status)
{
	uint8_t *b = out + FCGI_HEADER_LEN;

	if (outlen < FCGI_END_REQUEST_LEN)
		return 0;
	fcgi_encode_header(out, outlen, FCGI_END_REQUEST, request_id, 8, 0);
	/* §5.5 FCGI_EndRequestBody */
	b[0] = (uint8_t)(app_status >> 24);
	b[1] = (uint8_t)(app_status >> 16);
	b[2] = (uint8_t)(app_status >> 8);
	b[3] = (uint8_t)app_status;
	b[4] = protocol_status;
	memset(b + 5, 0, 3);
	return FCGI_END_REQUEST_LEN;
}

size_t
fcgi_encode_unknown_type(uint8_t *out, size_t outlen, uint8_t type)
{
	if (outlen < FCGI_UNKNOWN_TYPE_LEN)
		return 0;
	fcgi_encode_header(
	    out, outlen, FCGI_UNKNOWN_TYPE, FCGI_NULL_REQUEST_ID, 8, 0);
	/* §4.2 FCGI_UnknownTypeBody */
	out[FCGI_HEADER_LEN] = type;
	memset(out + FCGI_HEADER_LEN + 1, 0, 7);
	return FCGI_UNKNOWN_TYPE_LEN;
}

/* Write one §3.4 length; returns its size. */
static size_t
put_nv_length(uint8_t *out, size_t v)
{
	if (v < 0x80) {
		out[0] = (uint8_t)v;
		return 1;
	}
	out[0] = (uint8_t)(v >> 24 | 0x80);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
	return 4;
}

size_t
fcgi_encode_nvpair(uint8_t *out, size_t outlen, const void *name,
    size_t name_len, const void *value, size_t value_len)
{
	size_t hdr, n;

	if (name_len > 0x7fffffff || value_len > 0x7fffffff)
		return 0;
	hdr = (name_len < 0x80 ? 1 : 4) + (value_len < 0x80 ? 1 : 4);
	if (outlen < hdr || outlen - hdr < name_len ||
	    outlen - hdr - name_len < value_len)
		return 0;
	n = put_nv_length(out, name_len);
	n += put_nv_length(out + n, value_len);
	if (name_len > 0)
		memcpy(out + n, name, name_len);
	if (value_len > 0)
		memcpy(out + n + name_len, value, value_len);
	return n + name_len + value_len;
}

/* Write v in decimal; returns its length (at most 10). */
static size_t
put_decimal(char *out, uint32_t v)
{
	char tmp[10];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* The §4.1 variables this codec answers, in the order of this table. */
enum mgmt_var { MV_MAX_CONNS, MV_MAX_REQS, MV_MPXS_CONNS, MV__MAX };
static const char *const mgmt_names[MV__MAX] = {
    [MV_MAX_CONNS] = FCGI_MAX_CONNS,
    [MV_MAX_REQS] = FCGI_MAX_REQS,
    [MV_MPXS_CONNS] = FCGI_MPXS_CONNS,
};

static int
mgmt_lookup(const struct fcgi_span *name)
{
	int i;

	for (i = 0; i < MV__MAX; i++)
		if (name->len == strlen(mgmt_names[i]) &&
		    memcmp(name->ptr, mgmt_names[i], name->len) == 0)
			return i;
	return -1;
}

/* Append the pair for variable i to out[*n..outlen); false if no room. */
static bool
put_mgmt_pair(uint8_t *out, size_t outlen, size_t *n, enum mgmt_var i,
    const struct fcgi_mgmt_values *v)
{
	char val[10];
	size_t vlen = 0, w;

	switch (i) {
	case MV_MAX_CONNS:
		vlen = put_decimal(val, v->max_conns);
		break;
	case MV_MAX_REQS:
		vlen = put_decimal(val, v->max_reqs);
		break;
	case MV_MPXS_CONNS:
		vlen = put_decimal(val, v->mpxs_conns ? 1 : 0);
		break;
	case MV__MAX:
		return false;
	}
	w = fcgi_encode_nvpair(out + *n, outlen - *n, mgmt_names[i],
	    strlen(mgmt_names[i]), val, vlen);
	*n += w;
	return w > 0;
}

enum fcgi_result
fcgi_encode_get_values_result(uint8_t *out, size_t outlen, const uint8_t *query,
    size_t query_len, const struct fcgi_mgmt_values *v, size_t *written)
{
	struct fcgi_span name, value;
	size_t off = 0, n = FCGI_HEADER_LEN;
	unsigned answered = 0;
	enum fcgi_result r;
	uint8_t pad;
	int i;

	*written = 0;
	if (outlen < FCGI_HEADER_LEN)
		return FCGI_ETOOBIG;
	while ((r = fcgi_nvpair_next(query, query_len, &off, &name, &value)) ==
	    FCGI_OK) {
		/* The query's values should be empty (§4.1); ignore them. */
		i = mgmt_lookup(&name);
		if (i < 0 || (answered & 1u << i))
			continue;
		answered |= 1u << i;
		if (!put_mgmt_pair(out, outlen, &n, (enum mgmt_var)i, v))
			return FCGI_ETOOBIG;
	}
	if (r != FCGI_NEED_MORE)
		return r;
	/* Three pairs of at most 27 bytes each: always one record. */
	pad = fcgi_padding_for(n - FCGI_HEADER_LEN);
	if (outlen - n < pad)
		return FCGI_ETOOBIG;
	fcgi_encode_header(out, outlen, FCGI_GET_VALUES_RESULT,
	    FCGI_NULL_REQUEST_ID, (uint16_t)(n - FCGI_HEADER_LEN), pad);
	memset(out + n, 0, pad);
	*written = n + pad;
	return FCGI_OK;
}

/* --- names for logs ------------------------------------------------------ */

const char *
fcgi_result_name(enum fcgi_result r)
{
	static const char *const names[FCGI_RESULT__MAX] = {
	    [FCGI_OK] = "ok",
	    [FCGI_NEED_MORE] = "need-more",
	    [FCGI_EPROTO] = "protocol-error",
	    [FCGI_ETOOBIG] = "too-big",
	};

	return (unsigned)r < FCGI_RESULT__MAX ? names[r] : "?";
}

const char *
fcgi_event_name(enum fcgi_event_type t)
{
	static const char *const names[FCGI_EV__MAX] = {
	    [FCGI_EV_BEGIN_REQUEST] = "BEGIN_REQUEST",
	    [FCGI_EV_ABORT_REQUEST] = "ABORT_REQUEST",
	    [FCGI_EV_PARAMS] = "PARAMS",
	    [FCGI_EV_PARAMS_END] = "PARAMS_END",
	    [FCGI_EV_STDIN] = "STDIN",
	    [FCGI_EV_STDIN_END] = "STDIN_END",
	    [FCGI_EV_DATA] = "DATA",
	    [FCGI_EV_DATA_END] = "DATA_END",
	    [FCGI_EV_GET_VALUES] = "GET_VALUES",
	    [FCGI_EV_UNKNOWN_TYPE] = "UNKNOWN_TYPE",
	};

	return (unsigned)t < FCGI_EV__MAX ? names[t] : "?";
}

const char *
fcgi_dstate_name(enum fcgi_dstate s)
{
	static const char *const names[FCGI_DS__MAX] = {
	    [FCGI_DS_HEADER] = "header",
	    [FCGI_DS_BODY] = "body",
	    [FCGI_DS_CONTENT] = "content",
	    [FCGI_DS_SKIP] = "skip",
	    [FCGI_DS_PADDING] = "padding",
	    [FCGI_DS_ERROR] = "error",
	};

	return (unsigned)s < FCGI_DS__MAX ? names[s] : "?";
}
