/* jobs — the pure part of background jobs; contract in jobs.h. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apijson.h"
#include "jobs.h"
#include "num.h"
#include "pyjson.h"
#include "qs.h"
#include "randid.h"
#include "token.h"

static const char *const status_names[JOBS_STATUS__MAX] = {
    [JOBS_QUEUED] = "queued",
    [JOBS_RUNNING] = "running",
    [JOBS_DONE] = "done",
    [JOBS_FAILED] = "failed",
    [JOBS_CANCELLED] = "cancelled",
};

const char *
jobs_status_name(enum jobs_status s)
{
	return (unsigned)s < JOBS_STATUS__MAX ? status_names[s] : "?";
}

bool
jobs_status_parse(const char *s, size_t len, enum jobs_status *out)
{
	int i;

	for (i = 0; i < JOBS_STATUS__MAX; i++)
		if (strlen(status_names[i]) == len &&
		    memcmp(s, status_names[i], len) == 0) {
			*out = (enum jobs_status)i;
			return true;
		}
	return false;
}

void
jobs_record_free(struct jobs_record *r)
{
	free(r->params);
	free(r->result);
	free(r->error);
	r->params = r->result = r->error = NULL;
}

void
jobs_new_free(struct jobs_new *n)
{
	free(n->params);
	n->params = NULL;
}

/* --- JSON text ----------------------------------------------------------- */

/* A growable text buffer for the record and page bodies, which splice
 * stored JSON texts (params, result) in as they are. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* s as a JSON string (or null when s is NULL). */
static void
sb_json_string(struct sbuf *b, const char *s)
{
	json_t *v;
	char *q;

	if (s == NULL) {
		sb_str(b, "null");
		return;
	}
	v = json_string(s);
	q = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
	json_decref(v);
	if (q == NULL) { /* not UTF-8 (never stored so) or ENOMEM */
		b->failed = true;
		return;
	}
	sb_str(b, q);
	free(q);
}

static char *
sb_finish(struct sbuf *b, size_t *lenp)
{
	if (b->failed) {
		free(b->p);
		return NULL;
	}
	if (lenp != NULL)
		*lenp = b->len;
	return b->p;
}

void
jobs_time_iso(int64_t us, char out[JOBS_TIME_MAX])
{
	time_t secs = (time_t)(us / 1000000);
	long frac = (long)(us % 1000000);
	struct tm tm;
	size_t n;

	if (gmtime_r(&secs, &tm) == NULL) {
		snprintf(out, JOBS_TIME_MAX, "1970-01-01T00:00:00Z");
		return;
	}
	n = strftime(out, JOBS_TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac > 0)
		snprintf(out + n, JOBS_TIME_MAX - n, ".%06ldZ", frac);
	else
		snprintf(out + n, JOBS_TIME_MAX - n, "Z");
}

static void
sb_time(struct sbuf *b, int64_t us)
{
	char t[JOBS_TIME_MAX];

	if (us <= 0) {
		sb_str(b, "null");
		return;
	}
	jobs_time_iso(us, t);
	sb_str(b, "\"");
	sb_str(b, t);
	sb_str(b, "\"");
}

static void
sb_record(struct sbuf *b, const struct jobs_record *r)
{
	char num[64];

	sb_str(b, "{\"id\":");
	sb_json_string(b, r->id);
	sb_str(b, ",\"task\":");
	sb_json_string(b, r->task);
	sb_str(b, ",\"params\":");
	sb_str(b, r->params ? r->params : "{}");
	sb_str(b, ",\"status\":\"");
	sb_str(b, jobs_status_name(r->status));
	snprintf(num, sizeof(num), "\",\"attempts\":%d,\"max_attempts\":%d",
	    r->attempts, r->max_attempts);
	sb_str(b, num);
	sb_str(b, ",\"result\":");
	sb_str(b, r->result ? r->result : "null");
	sb_str(b, ",\"error\":");
	sb_json_string(b, r->error);
	sb_str(b, ",\"created_at\":");
	sb_time(b, r->created_us);
	sb_str(b, ",\"started_at\":");
	sb_time(b, r->started_us);
	sb_str(b, ",\"finished_at\":");
	sb_time(b, r->finished_us);
	sb_str(b, "}");
}

char *
jobs_record_json(const struct jobs_record *r, size_t *lenp)
{
	struct sbuf b = {NULL, 0, 0, false};

	sb_record(&b, r);
	return sb_finish(&b, lenp);
}

static int
add_error(json_t *errors, json_t *err)
{
	if (err == NULL)
		return -1;
	return json_array_append_new(errors, err) == 0 ? 0 : -1;
}

/* --- numeric fields, as pydantic's lax float and int ---------------------- */

struct field {
	const char *name;
	bool is_float;
	double lo, hi;
};

static int
bound_error(const struct field *f, const json_t *v, double x, json_t *errors)
{
	char msg[96], num[NUM_FMT_MAX];
	bool le = !(x <= f->hi); /* le is checked first; NaN fails it */
	double bound = le ? f->hi : f->lo;
	json_t *b;

	num_format(bound, num);
	snprintf(msg, sizeof(msg), "Input should be %s %s",
	    le ? "less than or equal to" : "greater than or equal to", num);
	b = f->is_float ? json_real(bound) : json_integer((json_int_t)bound);
	return add_error(errors,
	    apijson_error(le ? "less_than_equal" : "greater_than_equal", "body",
	        f->name, msg, json_deep_copy(v),
	        json_pack("{s:o}", le ? "le" : "ge", b)));
}

/* The value of a JSON string as pydantic parses str into float or int.
 * Returns the error type, or NULL with *x set. */
static const char *
parse_string(const struct field *f, const json_t *v, double *x)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	long long n;

	if (f->is_float)
		return num_parse_float(s, len, x) == NUM_OK ? NULL
		                                            : "float_parsing";
	switch (num_parse_int(s, len, &n)) {
	case NUM_OK:
		*x = (double)n;
		return NULL;
	case NUM_ESIZE:
		return "int_parsing_size";
	case NUM_EPARSE:
		break;
	}
	return "int_parsing";
}

static const char *
type_msg(const char *type)
{
	static const struct {
		const char *type, *msg;
	} msgs[] = {
	    {"float_type", "Input should be a valid number"},
	    {"float_parsing",
	        "Input should be a valid number, unable to parse string as a "
	        "number"},
	    {"int_type", "Input should be a valid integer"},
	    {"int_parsing",
	        "Input should be a valid integer, unable to parse string as an "
	        "integer"},
	    {"int_parsing_size",
	        "Unable to parse input string as an integer, exceeded maximum "
	        "size"},
	    {"int_from_float",
	        "Input should be a valid integer, got a number with a "
	        "fractional part"},
	};
	size_t i;

	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (strcmp(msgs[i].type, type) == 0)
			return msgs[i].msg;
	return type;
}

/* Field f of body: 1 with *x when valid, 0 after adding its error (or
 * when absent with dflt given: *x = *dflt), -1 on ENOMEM. */
static int
number_field(const struct field *f, const json_t *body, const double *dflt,
    json_t *errors, double *x)
{
	const json_t *v = json_object_get(body, f->name);
	const char *bad = NULL;

	if (v == NULL && dflt != NULL) {
		*x = *dflt;
		return 1;
	}
	if (v == NULL)
		return add_error(errors,
		           apijson_error("missing", "body", f->name,
		               "Field required", json_deep_copy(body), NULL))
		    ? -1
		    : 0;
	switch (json_typeof(v)) {
	case JSON_INTEGER:
		*x = (double)json_integer_value(v);
		break;
	case JSON_REAL:
		*x = json_real_value(v);
		if (!f->is_float && *x != floor(*x))
			bad = "int_from_float";
		break;
	case JSON_TRUE:
	case JSON_FALSE: /* lax mode takes booleans as 1 and 0 */
		*x = json_is_true(v) ? 1 : 0;
		break;
	case JSON_STRING:
		bad = parse_string(f, v, x);
		break;
	case JSON_NULL:
	case JSON_OBJECT:
	case JSON_ARRAY:
		bad = f->is_float ? "float_type" : "int_type";
		break;
	}
	if (bad != NULL)
		return add_error(errors,
		           apijson_error(bad, "body", f->name, type_msg(bad),
		               json_deep_copy(v), NULL))
		    ? -1
		    : 0;
	if (*x <= f->hi && *x >= f->lo)
		return 1;
	return bound_error(f, v, *x, errors) ? -1 : 0;
}

/* --- the built-in tasks -------------------------------------------------- */

/* {"<name>": x}, x printed as /wait and /cpu print it. */
static int
one_number_params(const char *name, double x, bool is_float, json_t **params)
{
	json_t *num;

	if (is_float && x != floor(x))
		num = json_real(x);
	else
		num = json_integer((json_int_t)x);
	*params = json_pack("{s:o}", name, num);
	return *params ? 0 : -1;
}

static int
validate_wait(const struct jobs_task *t, const json_t *body, json_t *errors,
    json_t **params)
{
	const struct app_config *cfg = t->cfg;
	struct field f = {"secs", true, 0, cfg->max_secs};
	double x = 0;
	int rc;

	*params = NULL;
	if ((rc = number_field(&f, body, NULL, errors, &x)) <= 0)
		return rc;
	return one_number_params("secs", x, true, params);
}

static int
validate_cpu(const struct jobs_task *t, const json_t *body, json_t *errors,
    json_t **params)
{
	const struct app_config *cfg = t->cfg;
	struct field f = {"n", false, 0, (double)cfg->max_n};
	double x = 0;
	int rc;

	*params = NULL;
	if ((rc = number_field(&f, body, NULL, errors, &x)) <= 0)
		return rc;
	return one_number_params("n", x, false, params);
}

void
jobs_tasks_init(struct jobs_tasks *ts, const struct app_config *cfg)
{
	memset(ts, 0, sizeof(*ts));
	ts->app = *cfg;
	ts->t[0] = (struct jobs_task){"wait", validate_wait, NULL, &ts->app};
	ts->t[1] = (struct jobs_task){"cpu", validate_cpu, NULL, &ts->app};
	ts->n = 2;
}

bool
jobs_tasks_add(struct jobs_tasks *ts, const struct jobs_task *t)
{
	size_t i;

	if (t->name == NULL || strlen(t->name) >= JOBS_TASK_MAX ||
	    t->validate == NULL)
		return false;
	for (i = 0; i < ts->n; i++)
		if (strcmp(ts->t[i].name, t->name) == 0) {
			ts->t[i] = *t;
			return true;
		}
	if (ts->n == JOBS_MAX_TASKS)
		return false;
	ts->t[ts->n++] = *t;
	return true;
}

const struct jobs_task *
jobs_tasks_find(const struct jobs_tasks *ts, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < ts->n; i++)
		if (strcmp(ts->t[i].name, name) == 0)
			return &ts->t[i];
	return NULL;
}

/* pydantic's list of literals: "'a'", "'a' or 'b'", "'a', 'b' or 'c'". */
static void
literal_list(const char *const *names, size_t n, char *buf, size_t cap)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%s'%s'",
		    i == 0 ? "" : (i + 1 == n ? " or " : ", "), names[i]);
}

/* The task field: the task, or NULL after adding its error. */
static const struct jobs_task *
task_field(
    const struct jobs_tasks *ts, const json_t *body, json_t *errors, int *rc)
{
	const json_t *v = json_object_get(body, "task");
	const char *names[JOBS_MAX_TASKS];
	const struct jobs_task *t;
	char expected[JOBS_MAX_TASKS * (JOBS_TASK_MAX + 6)],
	    msg[sizeof(expected) + 32];
	size_t i;

	*rc = 0;
	if (v == NULL) {
		*rc = add_error(errors,
		    apijson_error("missing", "body", "task", "Field required",
		        json_deep_copy(body), NULL));
		return NULL;
	}
	if (json_is_string(v) &&
	    (t = jobs_tasks_find(ts, json_string_value(v))))
		return t;
	for (i = 0; i < ts->n; i++)
		names[i] = ts->t[i].name;
	literal_list(names, ts->n, expected, sizeof(expected));
	snprintf(msg, sizeof(msg), "Input should be %s", expected);
	*rc = add_error(errors,
	    apijson_error("literal_error", "body", "task", msg,
	        json_deep_copy(v), json_pack("{s:s}", "expected", expected)));
	return NULL;
}

/* Validate a body that is a JSON object. */
static enum jobs_parse
validate_object(const struct jobs_tasks *ts, const json_t *body,
    struct jobs_new *out, int *status, char **err, size_t *errlen)
{
	struct field fa = {"max_attempts", false, 1, JOBS_MAX_MAX_ATTEMPTS};
	const double dflt = JOBS_DEFAULT_MAX_ATTEMPTS;
	const struct jobs_task *t;
	json_t *errors, *params = NULL;
	double attempts = dflt;
	int rc = -1;

	if ((errors = json_array()) == NULL)
		return JOBS_PARSE_ENOMEM;
	if ((t = task_field(ts, body, errors, &rc)) != NULL &&
	    (rc = t->validate(t, body, errors, &params)) == 0)
		rc = number_field(&fa, body, &dflt, errors, &attempts) < 0 ? -1
		                                                           : 0;
	if (rc == 0 && json_array_size(errors) == 0 && params != NULL) {
		memset(out, 0, sizeof(*out));
		snprintf(out->task, sizeof(out->task), "%s", t->name);
		out->max_attempts = (int)attempts;
		out->params = apijson_dump(params, NULL);
		json_decref(errors);
		return out->params ? JOBS_PARSE_OK : JOBS_PARSE_ENOMEM;
	}
	json_decref(params);
	if (rc != 0) {
		json_decref(errors);
		return JOBS_PARSE_ENOMEM;
	}
	*status = 422;
	*err = apijson_errors(errors, errlen);
	return *err ? JOBS_PARSE_INVALID : JOBS_PARSE_ENOMEM;
}

/* --- POST /jobs bodies --------------------------------------------------- */

/* FastAPI reads a body as JSON when there is no Content-Type, or when it
 * is application/json or application/<anything>+json (parameters and
 * case ignored, as Python's email.message does). */
static bool
ctype_is_json(const char *ctype)
{
	const char *semi, *slash, *end;
	size_t sub;

	if (ctype == NULL || *ctype == '\0')
		return true;
	while (*ctype == ' ' || *ctype == '\t')
		ctype++;
	semi = strchr(ctype, ';');
	end = semi ? semi : ctype + strlen(ctype);
	while (end > ctype && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	slash = memchr(ctype, '/', (size_t)(end - ctype));
	if (slash == NULL || (size_t)(slash - ctype) != 11 ||
	    strncasecmp(ctype, "application", 11) != 0)
		return false;
	sub = (size_t)(end - slash - 1);
	return (sub == 4 && strncasecmp(slash + 1, "json", 4) == 0) ||
	    (sub >= 5 && strncasecmp(end - 5, "+json", 5) == 0);
}

static char *
json_invalid_body(
    const json_error_t *e, const char *body, size_t len, size_t *lenp)
{
	const char *msg = "Expecting value";
	size_t pos = (size_t)e->position;
	json_t *err, *loc;

	/* Python's own words where its scanner sees the error; else (a text
	 * Python reads but jansson does not: NaN, huge integers) jansson's
	 * position */
	pyjson_error(body, len, &msg, &pos);
	loc = json_pack("[s,I]", "body", (json_int_t)pos);
	err = json_pack("{s:s,s:o,s:s,s:{},s:{s:s}}", "type", "json_invalid",
	    "loc", loc, "msg", "JSON decode error", "input", "ctx", "error",
	    msg);
	return apijson_error_body(err, lenp);
}

static enum jobs_parse
invalid_with(char *body, int code, int *status, char **err)
{
	*status = code;
	*err = body;
	return body ? JOBS_PARSE_INVALID : JOBS_PARSE_ENOMEM;
}

static enum jobs_parse
not_an_object(json_t *input, int *status, char **err, size_t *errlen)
{
	return invalid_with(
	    apijson_error_body(
	        apijson_error("model_attributes_type", "body", NULL,
	            "Input should be a valid dictionary or object "
	            "to extract fields from",
	            input, NULL),
	        errlen),
	    422, status, err);
}

enum jobs_parse
jobs_parse_new(const struct jobs_tasks *ts, const char *ctype, const char *body,
    size_t len, struct jobs_new *out, int *status, char **err, size_t *errlen)
{
	enum jobs_parse res;
	json_error_t e;
	char *text;
	json_t *v;

	*err = NULL;
	if (len == 0)
		return invalid_with(
		    apijson_error_body(apijson_error("missing", "body", NULL,
		                           "Field required", json_null(), NULL),
		        errlen),
		    422, status, err);
	if (!ctype_is_json(ctype)) {
		/* the bytes themselves reach pydantic, as a str */
		if ((text = qs_utf8_sanitize(body, len, NULL)) == NULL)
			return JOBS_PARSE_ENOMEM;
		v = json_string(text);
		free(text);
		return not_an_object(v, status, err, errlen);
	}
	v = json_loadb(body, len, JSON_DECODE_ANY, &e);
	if (v == NULL && json_error_code(&e) == json_error_invalid_utf8)
		return invalid_with(apijson_detail("There was an error "
		                                   "parsing the body",
		                        errlen),
		    400, status, err);
	if (v == NULL && json_error_code(&e) == json_error_out_of_memory)
		return JOBS_PARSE_ENOMEM;
	if (v == NULL)
		return invalid_with(
		    json_invalid_body(&e, body, len, errlen), 422, status, err);
	if (!json_is_object(v))
		return not_an_object(v, status, err, errlen);
	res = validate_object(ts, v, out, status, err, errlen);
	json_decref(v);
	return res;
}

enum jobs_parse
jobs_validate_new(const struct jobs_tasks *ts, const char *task,
    const json_t *params, int max_attempts, struct jobs_new *out, char **err,
    size_t *errlen)
{
	enum jobs_parse res;
	int status = 0;
	json_t *body;

	*err = NULL;
	body = params ? json_deep_copy(params) : json_object();
	if (body == NULL || !json_is_object(body) ||
	    json_object_set_new(body, "task", json_string(task)) != 0 ||
	    json_object_set_new(
	        body, "max_attempts", json_integer(max_attempts)) != 0) {
		json_decref(body);
		return JOBS_PARSE_ENOMEM;
	}
	res = validate_object(ts, body, out, &status, err, errlen);
	json_decref(body);
	return res;
}

char *
jobs_bad_id_body(const char *id, size_t *lenp)
{
	return apijson_error_body(
	    apijson_pattern_error("path", "job_id", id, RANDID_PATTERN), lenp);
}

/* --- cursors ------------------------------------------------------------- */

#define CURSOR_VERSION 1
#define CURSOR_PAYLOAD 26 /* version, filter, created (8), id (16) */
#define CURSOR_SALT    "fcgilab jobs cursor"

void
jobs_cursor_encode(
    const struct jobs_cursor *c, int status, char out[JOBS_CURSOR_MAX])
{
	uint8_t raw[CURSOR_PAYLOAD];
	uint64_t t = (uint64_t)c->created_us;
	size_t i;

	raw[0] = CURSOR_VERSION;
	raw[1] = (uint8_t)(status + 1);
	for (i = 0; i < 8; i++)
		raw[2 + i] = (uint8_t)(t >> (56 - 8 * i));
	randid_raw(c->id, raw + 10);
	token_seal(CURSOR_SALT, raw, sizeof(raw), out);
}

bool
jobs_cursor_decode(
    const char *s, size_t len, int status, struct jobs_cursor *out)
{
	uint8_t raw[CURSOR_PAYLOAD];
	uint64_t t = 0;
	size_t i;

	if (!token_open(CURSOR_SALT, s, len, raw, sizeof(raw)) ||
	    raw[0] != CURSOR_VERSION || raw[1] != (uint8_t)(status + 1))
		return false;
	for (i = 0; i < 8; i++)
		t = t << 8 | raw[2 + i];
	if (t > (uint64_t)INT64_MAX)
		return false;
	out->created_us = (int64_t)t;
	randid_format(raw + 10, out->id);
	return true;
}

/* --- GET /jobs queries and pages ----------------------------------------- */

static int
status_param(const char *query, struct jobs_page_req *out, json_t *errors)
{
	const char *names[JOBS_STATUS__MAX];
	char expected[128], msg[160];
	enum jobs_status st;
	size_t count, len;
	char *val;
	int i, rc;

	out->status = -1;
	if ((val = qs_get(query, "status", &count, &len)) == NULL)
		return count > 0 ? -1 : 0;
	if (strlen(val) == len && jobs_status_parse(val, len, &st)) {
		out->status = (int)st;
		free(val);
		return 0;
	}
	for (i = 0; i < JOBS_STATUS__MAX; i++)
		names[i] = status_names[i];
	literal_list(names, JOBS_STATUS__MAX, expected, sizeof(expected));
	snprintf(msg, sizeof(msg), "Input should be %s", expected);
	rc = add_error(errors,
	    apijson_error("literal_error", "query", "status", msg,
	        json_stringn(val, len),
	        json_pack("{s:s}", "expected", expected)));
	free(val);
	return rc;
}

static int
cursor_param(const char *query, struct jobs_page_req *out, bool status_ok,
    json_t *errors)
{
	size_t count, len;
	char *val;
	int rc = 0;

	out->has_cursor = false;
	if ((val = qs_get(query, "cursor", &count, &len)) == NULL)
		return count > 0 ? -1 : 0;
	if (!status_ok ||
	    jobs_cursor_decode(val, len, out->status, &out->after))
		out->has_cursor = status_ok;
	else
		rc = add_error(errors,
		    apijson_error("value_error", "query", "cursor",
		        "Value error, invalid cursor", json_stringn(val, len),
		        json_pack("{s:{}}", "error")));
	free(val);
	return rc;
}

enum jobs_parse
jobs_parse_list_query(
    const char *query, struct jobs_page_req *out, char **err, size_t *errlen)
{
	struct app_param lim = {
	    "limit", 0, 1, JOBS_PAGE_MAX, 1, JOBS_PAGE_DEFAULT};
	json_t *errors, *e = NULL;
	double x = JOBS_PAGE_DEFAULT;
	int rc;

	*err = NULL;
	memset(out, 0, sizeof(*out));
	if ((errors = json_array()) == NULL)
		return JOBS_PARSE_ENOMEM;
	rc = status_param(query, out, errors);
	if (rc == 0) {
		switch (app_query_param(query, &lim, &x, &e)) {
		case APP_PARAM_OK:
			break;
		case APP_PARAM_INVALID:
			rc = add_error(errors, e);
			break;
		case APP_PARAM_ENOMEM:
			rc = -1;
			break;
		}
	}
	out->limit = (int)x;
	if (rc == 0) /* a cursor is checked against a valid filter only */
		rc = cursor_param(
		    query, out, json_array_size(errors) == 0, errors);
	if (rc != 0) {
		json_decref(errors);
		return JOBS_PARSE_ENOMEM;
	}
	if (json_array_size(errors) == 0) {
		json_decref(errors);
		return JOBS_PARSE_OK;
	}
	*err = apijson_errors(errors, errlen);
	return *err ? JOBS_PARSE_INVALID : JOBS_PARSE_ENOMEM;
}

void
jobs_page_free(struct jobs_page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		jobs_record_free(&p->items[i]);
	free(p->items);
	p->items = NULL;
	p->n = 0;
}

/* "Link: </jobs?status=S&limit=N&cursor=C>; rel="next"\r\n" */
static char *
next_link(const struct jobs_page_req *q, const char *cursor)
{
	char *s;

	if (asprintf(&s,
	        "Link: </jobs?%s%s%slimit=%d&cursor=%s>; rel=\"next\"\r\n",
	        q->status >= 0 ? "status=" : "",
	        q->status >= 0 ? jobs_status_name((enum jobs_status)q->status)
	                       : "",
	        q->status >= 0 ? "&" : "", q->limit, cursor) < 0)
		return NULL;
	return s;
}

char *
jobs_page_json(const struct jobs_page *p, const struct jobs_page_req *q,
    size_t *lenp, char **link)
{
	struct sbuf b = {NULL, 0, 0, false};
	char cursor[JOBS_CURSOR_MAX];
	size_t i;

	*link = NULL;
	sb_str(&b, "{\"items\":[");
	for (i = 0; i < p->n; i++) {
		if (i > 0)
			sb_str(&b, ",");
		sb_record(&b, &p->items[i]);
	}
	sb_str(&b, "],\"next\":");
	if (p->has_next) {
		jobs_cursor_encode(&p->next, q->status, cursor);
		sb_str(&b, "\"");
		sb_str(&b, cursor);
		sb_str(&b, "\"}");
		if ((*link = next_link(q, cursor)) == NULL)
			b.failed = true;
	} else {
		sb_str(&b, "null}");
	}
	if (b.failed) {
		free(*link);
		*link = NULL;
	}
	return sb_finish(&b, lenp);
}
