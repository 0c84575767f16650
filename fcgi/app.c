/* app — routing, validation and JSON bodies; contract in app.h. */
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apijson.h"
#include "app.h"
#include "ipaddr.h"
#include "num.h"
#include "qs.h"

/* Methods a route accepts. FastAPI's GET routes do not take HEAD (a HEAD
 * is a 405 there, FastAPI issue #1773), so neither do ours. */
#define M_GET    0x1u
#define M_POST   0x2u
#define M_DELETE 0x4u

static const struct {
	unsigned bit;
	const char *name;
} methods[] = {{M_GET, "GET"}, {M_POST, "POST"}, {M_DELETE, "DELETE"}};

enum param_kind { P_NONE, P_FLOAT, P_INT };

static const struct route {
	const char *path;
	enum app_route id;
	unsigned srv;
	unsigned methods;
	enum param_kind param;
	const char *pname;
	enum app_action action;
	enum app_how how;
	unsigned operator; /* methods that are operator views (app.h) */
} routes[] = {
    {"/", APP_R_ROOT, APP_SRV_SYNC, M_GET, P_NONE, NULL, APP_REPLY,
        APP_OFF_LOOP},
    {"/wait", APP_R_WAIT, APP_SRV_SYNC, M_GET, P_FLOAT, "secs", APP_WAIT,
        APP_OFF_LOOP},
    {"/cpu", APP_R_CPU, APP_SRV_SYNC, M_GET, P_INT, "n", APP_CPU, APP_OFF_LOOP},
    {"/wait_async", APP_R_WAIT_ASYNC, APP_SRV_MUX, M_GET, P_FLOAT, "secs",
        APP_WAIT, APP_OFF_LOOP},
    {"/wait_async_blocking", APP_R_WAIT_ASYNC_BLOCKING, APP_SRV_MISTAKES, M_GET,
        P_FLOAT, "secs", APP_WAIT, APP_ON_LOOP},
    {"/cpu_async", APP_R_CPU_ASYNC, APP_SRV_MUX, M_GET, P_INT, "n", APP_CPU,
        APP_OFF_LOOP},
    {"/cpu_async_blocking", APP_R_CPU_ASYNC_BLOCKING, APP_SRV_MISTAKES, M_GET,
        P_INT, "n", APP_CPU, APP_ON_LOOP},
    {"/metrics", APP_R_METRICS, APP_SRV_MUX, M_GET, P_NONE, NULL, APP_SERVER,
        APP_OFF_LOOP, M_GET},
    /* Served by the mux's route modules (jobs, payloads), which validate
     * their own parameters and bodies. A path ending in '/' is a prefix:
     * what follows it (one non-empty segment) is the path parameter. */
    {"/jobs", APP_R_JOBS, APP_SRV_MUX, M_GET | M_POST, P_NONE, NULL, APP_SERVER,
        APP_OFF_LOOP, M_GET},
    {"/jobs/", APP_R_JOB, APP_SRV_MUX, M_GET | M_DELETE, P_NONE, NULL,
        APP_SERVER, APP_OFF_LOOP},
    {"/items", APP_R_ITEMS, APP_SRV_MUX, M_GET, P_NONE, NULL, APP_SERVER,
        APP_OFF_LOOP},
    {"/export.csv", APP_R_EXPORT_CSV, APP_SRV_MUX, M_GET, P_NONE, NULL,
        APP_SERVER, APP_OFF_LOOP},
    {"/export.ndjson", APP_R_EXPORT_NDJSON, APP_SRV_MUX, M_GET, P_NONE, NULL,
        APP_SERVER, APP_OFF_LOOP},
    {"/upload", APP_R_UPLOAD, APP_SRV_MUX, M_POST, P_NONE, NULL, APP_SERVER,
        APP_OFF_LOOP},
    {"/uploads", APP_R_UPLOADS, APP_SRV_MUX, M_POST, P_NONE, NULL, APP_SERVER,
        APP_OFF_LOOP},
    {"/uploads/", APP_R_UPLOAD_ID, APP_SRV_MUX, M_GET | M_DELETE, P_NONE, NULL,
        APP_SERVER, APP_OFF_LOOP},
};

static const char *const route_names[APP_R__MAX] = {
    [APP_R_NONE] = "none",
    [APP_R_ROOT] = "root",
    [APP_R_WAIT] = "wait",
    [APP_R_CPU] = "cpu",
    [APP_R_WAIT_ASYNC] = "wait_async",
    [APP_R_WAIT_ASYNC_BLOCKING] = "wait_async_blocking",
    [APP_R_CPU_ASYNC] = "cpu_async",
    [APP_R_CPU_ASYNC_BLOCKING] = "cpu_async_blocking",
    [APP_R_METRICS] = "metrics",
    [APP_R_JOBS] = "jobs",
    [APP_R_JOB] = "job",
    [APP_R_ITEMS] = "items",
    [APP_R_EXPORT_CSV] = "export_csv",
    [APP_R_EXPORT_NDJSON] = "export_ndjson",
    [APP_R_UPLOAD] = "upload",
    [APP_R_UPLOADS] = "uploads",
    [APP_R_UPLOAD_ID] = "upload_id",
};

void
app_config_init(struct app_config *cfg)
{
	cfg->max_secs = APP_DEFAULT_MAX_SECS;
	cfg->max_n = APP_DEFAULT_MAX_N;
	cfg->operator_token = NULL;
}

/* Does authorization carry "Bearer <token>"? The scheme is
 * case-insensitive (RFC 9110 11.1); the token is compared in time that
 * does not depend on where it differs. */
static int
bearer_matches(const char *authorization, const char *token)
{
	size_t i, n, tlen = strlen(token);
	unsigned char diff = 0;

	if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7))
		return 0;
	authorization += 7;
	while (*authorization == ' ')
		authorization++;
	n = strlen(authorization);
	while (n > 0 && authorization[n - 1] == ' ')
		n--;
	if (n != tlen)
		return 0;
	for (i = 0; i < n; i++)
		diff |= (unsigned char)(authorization[i] ^ token[i]);
	return diff == 0;
}

static int
operator_allowed(const struct app_config *cfg, const struct app_request *req)
{
	struct ipaddr ip;

	if (ipaddr_parse(&ip, req->remote_addr) && ipaddr_is_loopback(&ip))
		return 1;
	return cfg->operator_token != NULL && *cfg->operator_token != '\0' &&
	    bearer_matches(req->authorization, cfg->operator_token);
}

const char *
app_route_name(enum app_route r)
{
	return (unsigned)r < APP_R__MAX ? route_names[r] : "?";
}

const char *
app_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 307:
		return "Temporary Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 507:
		return "Insufficient Storage";
	default:
		return "Unknown";
	}
}

static int
is_integral(double v)
{
	return v == floor(v) && fabs(v) < 9007199254740992.0;
}

/* Write v in decimal at o; returns the length. */
static size_t
put_ll(char *o, long long v)
{
	char tmp[24], *t = tmp + sizeof(tmp);
	unsigned long long u =
	    v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	size_t n;

	do
		*--t = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--t = '-';
	n = (size_t)(tmp + sizeof(tmp) - t);
	memcpy(o, t, n);
	return n;
}

#define WAIT_PREFIX "{\"status\":\"ready\",\"seconds\":"

/* As jansson writes {"status":"ready","seconds":secs} for apijson_dump:
 * an integer when secs is integral (2, not 2.0), else the real as
 * apijson_real_text prints it. */
size_t
app_wait_body_text(double secs, char buf[APP_BODY_MAX])
{
	size_t n = sizeof(WAIT_PREFIX) - 1, k;

	memcpy(buf, WAIT_PREFIX, n);
	if (is_integral(secs)) {
		n += put_ll(buf + n, (long long)secs);
	} else {
		if ((k = apijson_real_text(secs, buf + n)) == 0)
			return 0;
		n += k;
	}
	buf[n++] = '}';
	buf[n] = '\0';
	return n;
}

size_t
app_cpu_body_text(long long n, unsigned long result, char buf[APP_BODY_MAX])
{
	size_t o = 0;

	memcpy(buf, "{\"n\":", 5);
	o = 5;
	o += put_ll(buf + o, n);
	memcpy(buf + o, ",\"result\":", 10);
	o += 10;
	o += put_ll(buf + o, (long long)result);
	buf[o++] = '}';
	buf[o] = '\0';
	return o;
}

/* A malloc'd copy of len bytes of text; NULL on ENOMEM. */
static char *
dup_body(const char *text, size_t len, size_t *lenp)
{
	char *s;

	if (len == 0 || (s = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(s, text, len + 1);
	if (lenp != NULL)
		*lenp = len;
	return s;
}

char *
app_wait_body(double secs, size_t *lenp)
{
	char buf[APP_BODY_MAX];

	return dup_body(buf, app_wait_body_text(secs, buf), lenp);
}

char *
app_cpu_body(long long n, unsigned long result, size_t *lenp)
{
	char buf[APP_BODY_MAX];

	return dup_body(buf, app_cpu_body_text(n, result, buf), lenp);
}

/*
 * One pydantic error of a query parameter. input is the raw query value
 * (NULL for a missing one: JSON null); ctx_key/ctx_val give the violated
 * bound, when there is one, printed as a float for float fields
 * ({"le":60.0}) and as an integer for int fields ({"le":100}).
 */
static json_t *
param_item(const char *type, const char *pname, const char *msg,
    const char *input, size_t input_len, const char *ctx_key, double ctx_val,
    int ctx_float)
{
	json_t *ctx = NULL;

	if (ctx_key != NULL &&
	    (ctx = json_pack("{s:o}", ctx_key,
	         ctx_float ? json_real(ctx_val)
	                   : json_integer((json_int_t)ctx_val))) == NULL)
		return NULL;
	return apijson_error(type, "query", pname, msg,
	    input ? json_stringn(input, input_len) : NULL, ctx);
}

static void
reply(struct app_decision *d, int status, char *body, size_t len)
{
	d->action = APP_REPLY;
	d->status = status;
	d->body = body;
	d->body_len = len;
}

/* Bound text for a message: "60", "0.5" (Python prints int bounds bare). */
static void
bound_msg(char *buf, size_t cap, const char *what, double bound)
{
	char num[NUM_FMT_MAX];

	num_format(bound, num);
	snprintf(buf, cap, "Input should be %s %s", what, num);
}

/* The error of a parameter whose value val (vlen bytes) does not parse
 * or is out of p's range; x is the parsed value when st is NUM_OK. */
static json_t *
param_error(const struct app_param *p, enum num_status st, double x,
    const char *val, size_t vlen)
{
	char msg[96];

	if (st == NUM_EPARSE)
		return param_item(p->is_float ? "float_parsing" : "int_parsing",
		    p->name,
		    p->is_float
		        ? "Input should be a valid number, unable to parse "
		          "string as a number"
		        : "Input should be a valid integer, unable to parse "
		          "string as an integer",
		    val, vlen, NULL, 0, 0);
	if (st == NUM_ESIZE)
		return param_item("int_parsing_size", p->name,
		    "Unable to parse input string as an integer, exceeded "
		    "maximum size",
		    val, vlen, NULL, 0, 0);
	if (!(x <= p->hi)) { /* pydantic checks le before ge; NaN fails */
		bound_msg(msg, sizeof(msg), "less than or equal to", p->hi);
		return param_item("less_than_equal", p->name, msg, val, vlen,
		    "le", p->hi, p->is_float);
	}
	bound_msg(msg, sizeof(msg), "greater than or equal to", p->lo);
	return param_item("greater_than_equal", p->name, msg, val, vlen, "ge",
	    p->lo, p->is_float);
}

enum app_param_result
app_query_param(
    const char *query, const struct app_param *p, double *out, json_t **err)
{
	enum num_status st;
	size_t count, vlen;
	long long n = 0;
	double x = 0;
	char small[64], *val;

	*err = NULL;
	val = qs_get_buf(query, p->name, small, sizeof(small), &count, &vlen);
	if (val == NULL && count > 0)
		return APP_PARAM_ENOMEM;
	if (val == NULL && p->has_default) {
		*out = p->dflt;
		return APP_PARAM_OK;
	}
	if (val == NULL) {
		*err = param_item(
		    "missing", p->name, "Field required", NULL, 0, NULL, 0, 0);
		return *err ? APP_PARAM_INVALID : APP_PARAM_ENOMEM;
	}
	if (p->is_float) {
		st = num_parse_float(val, vlen, &x);
	} else {
		st = num_parse_int(val, vlen, &n);
		x = (double)n;
	}
	if (st == NUM_OK && x <= p->hi && x >= p->lo) {
		if (val != small)
			free(val);
		*out = x;
		return APP_PARAM_OK;
	}
	*err = param_error(p, st, x, val, vlen);
	if (val != small)
		free(val);
	return *err ? APP_PARAM_INVALID : APP_PARAM_ENOMEM;
}

/*
 * Validate the route's numeric parameter against [0, max]. On success
 * fills d->secs or d->n and returns 0 with d->body NULL; on a validation
 * error sets a 422 reply. Returns -1 on ENOMEM.
 */
static int
validate_param(const struct route *rt, const struct app_config *cfg,
    const char *query, struct app_decision *d)
{
	struct app_param p = {rt->pname, rt->param == P_FLOAT, 0, 0, 0, 0};
	json_t *err;
	char *body;
	size_t blen = 0;
	double x;

	p.hi = p.is_float ? cfg->max_secs : (double)cfg->max_n;
	switch (app_query_param(query, &p, &x, &err)) {
	case APP_PARAM_OK:
		d->secs = x;
		d->n = (long long)x;
		return 0;
	case APP_PARAM_INVALID:
		if ((body = apijson_error_body(err, &blen)) == NULL)
			return -1;
		reply(d, 422, body, blen);
		return 0;
	case APP_PARAM_ENOMEM:
		break;
	}
	return -1;
}

/* The request path: SCRIPT_NAME then PATH_INFO, in buf; 0 if too long. */
static int
request_path(const struct app_request *req, char *buf, size_t cap)
{
	const char *sn = req->script_name ? req->script_name : "";
	const char *pi = req->path_info ? req->path_info : "";
	size_t a = strlen(sn), b = strlen(pi);

	if (a + b >= cap || cap < 2)
		return 0;
	memcpy(buf, sn, a);
	memcpy(buf + a, pi, b + 1);
	if (buf[0] == '\0')
		memcpy(buf, "/", 2);
	return 1;
}

/* Exact routes match the whole path; a prefix route ("/jobs/") matches
 * the prefix and one non-empty segment after it. */
static int
route_matches(const struct route *rt, const char *path)
{
	size_t n = strlen(rt->path);

	if (rt->path[n - 1] != '/' || n == 1)
		return strcmp(rt->path, path) == 0;
	return strncmp(rt->path, path, n) == 0 && path[n] != '\0' &&
	    strchr(path + n, '/') == NULL;
}

static unsigned
method_bit(const char *method)
{
	size_t i;

	for (i = 0; method != NULL && i < sizeof(methods) / sizeof(methods[0]);
	     i++)
		if (strcmp(method, methods[i].name) == 0)
			return methods[i].bit;
	return 0;
}

static int
method_allowed(unsigned mask, const char *method)
{
	return (mask & method_bit(method)) != 0;
}

/* "Allow: GET, POST\r\n" for a method mask; malloc'd. */
static char *
allow_header(unsigned mask)
{
	char buf[64] = "Allow: ";
	const char *sep = "";
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (mask & methods[i].bit) {
			strcat(buf, sep);
			strcat(buf, methods[i].name);
			sep = ", ";
		}
	}
	strcat(buf, "\r\n");
	return strdup(buf);
}

/* Append s to the header value at *o, %-encoding bytes that may not
 * appear raw in a header (controls, space, DEL, non-ASCII). */
static void
header_escape(char **o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f) {
			*(*o)++ = '%';
			*(*o)++ = hex[*p >> 4];
			*(*o)++ = hex[*p & 15];
		} else {
			*(*o)++ = (char)*p;
		}
	}
}

/*
 * FastAPI's redirect_slashes: "/wait/" is a 307 to "/wait", the query kept.
 * Returns 1 with d set when path is a served route plus a slash.
 */
static int
redirect_slash(unsigned served, const char *path, const char *query,
    struct app_decision *d)
{
	size_t i, len = strlen(path);
	char *hdr, *o;

	if (len < 2 || path[len - 1] != '/')
		return 0;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if ((routes[i].srv & served) &&
		    strlen(routes[i].path) == len - 1 &&
		    strncmp(routes[i].path, path, len - 1) == 0)
			break;
	if (i == sizeof(routes) / sizeof(routes[0]))
		return 0;
	query = query ? query : "";
	hdr = malloc(sizeof("Location: ?\r\n") + 3 * (len + strlen(query)));
	if (hdr == NULL)
		return -1;
	o = hdr + sprintf(hdr, "Location: ");
	header_escape(&o, routes[i].path);
	if (*query != '\0') {
		*o++ = '?';
		header_escape(&o, query);
	}
	strcpy(o, "\r\n");
	d->action = APP_REPLY;
	d->status = 307;
	d->route = routes[i].id;
	d->headers = hdr;
	return 1;
}

int
app_decide(const struct app_config *cfg, unsigned served,
    const struct app_request *req, struct app_decision *d)
{
	const struct route *rt = NULL;
	char path[1024], *body;
	size_t i, len = 0;

	memset(d, 0, sizeof(*d));
	d->route = APP_R_NONE;
	if (!request_path(req, path, sizeof(path)))
		path[0] = '\0'; /* too long for any route: 404 */
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]) && rt == NULL; i++)
		if ((routes[i].srv & served) && route_matches(&routes[i], path))
			rt = &routes[i];
	if (rt == NULL) {
		switch (redirect_slash(served, path, req->query, d)) {
		case 1:
			return 0;
		case -1:
			return -1;
		default:
			break;
		}
		if ((body = apijson_detail(APIJSON_NOT_FOUND, &len)) == NULL)
			return -1;
		reply(d, 404, body, len);
		return 0;
	}
	d->route = rt->id;
	d->how = rt->how;
	if (rt->path[strlen(rt->path) - 1] == '/' && strlen(rt->path) > 1 &&
	    (d->path_param = strdup(path + strlen(rt->path))) == NULL)
		return -1;
	if (!method_allowed(rt->methods, req->method)) {
		if ((body = apijson_detail("Method Not Allowed", &len)) == NULL)
			return -1;
		reply(d, 405, body, len);
		if ((d->headers = allow_header(rt->methods)) == NULL)
			return -1;
		return 0;
	}
	if ((rt->operator& method_bit(req->method)) &&
	    !operator_allowed(cfg, req)) {
		if ((body = apijson_detail("Not authenticated", &len)) ==
		        NULL ||
		    (d->headers = strdup("WWW-Authenticate: Bearer\r\n")) ==
		        NULL) {
			free(body);
			return -1;
		}
		reply(d, 401, body, len);
		return 0;
	}
	if (rt->param != P_NONE) {
		if (validate_param(rt, cfg, req->query, d) != 0)
			return -1;
		if (d->body != NULL)
			return 0;
	}
	d->action = rt->action;
	if (rt->id == APP_R_ROOT) {
		body = apijson_dump(json_pack("{s:s}", "Hello", "World"), &len);
		if (body == NULL)
			return -1;
		reply(d, 200, body, len);
	}
	return 0;
}

void
app_decision_free(struct app_decision *d)
{
	free(d->body);
	free(d->headers);
	free(d->path_param);
	d->body = NULL;
	d->headers = NULL;
	d->path_param = NULL;
}

/* Bounded appends for app_cgi_head: past cap, nothing more is written
 * and the head is refused. */
struct head_out {
	char *buf;
	size_t cap, len;
	bool over;
};

static void
head_put(struct head_out *o, const char *s, size_t n)
{
	if (o->over || n >= o->cap - o->len) {
		o->over = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
head_puts(struct head_out *o, const char *s)
{
	head_put(o, s, strlen(s));
}

/* Written by hand, not with snprintf: it runs for every answer. */
size_t
app_cgi_head(char *buf, size_t cap, int status, const char *content_type,
    size_t content_length, const char *extra)
{
	struct head_out o = {buf, cap, 0, cap == 0};
	char num[24];

	head_put(&o, "Status: ", 8);
	head_put(&o, num, put_ll(num, status));
	head_put(&o, " ", 1);
	head_puts(&o, app_reason(status));
	head_put(&o, "\r\nContent-Type: ", 16);
	head_puts(&o, content_type);
	head_put(&o, "\r\n", 2);
	if (content_length != APP_NO_LENGTH) {
		head_put(&o, "Content-Length: ", 16);
		head_put(&o, num, put_ll(num, (long long)content_length));
		head_put(&o, "\r\n", 2);
	}
	if (extra != NULL)
		head_puts(&o, extra);
	head_put(&o, "\r\n", 2);
	if (o.over)
		return 0;
	buf[o.len] = '\0';
	return o.len;
}
