/*
 * test_app — the shared app logic: routing, validation, JSON bodies, and the
 * qs/num modules beneath it. The 422 bodies below are what current FastAPI
 * (pydantic-core 2.46) returns for the lesson's app, byte for byte.
 */
#include "config.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apijson.h"
#include "app.h"
#include "cpuwork.h"
#include "num.h"
#include "qs.h"
#include "tap.h"

static const struct {
	const char *path, *query;
	int status;
	const char *body;
} invalid[] = {
    {"/wait", "", 422,
        "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"query\",\"secs\"],"
        "\"msg\":\"Field required\",\"input\":null}]}"},
    {"/wait", "secs", 422,
        "{\"detail\":[{\"type\":\"float_parsing\",\"loc\":[\"query\",\"secs\"],"
        "\"msg\":\"Input should be a valid number, unable to parse string as a "
        "number\",\"input\":\"\"}]}"},
    {"/wait", "secs=", 422,
        "{\"detail\":[{\"type\":\"float_parsing\",\"loc\":[\"query\",\"secs\"],"
        "\"msg\":\"Input should be a valid number, unable to parse string as a "
        "number\",\"input\":\"\"}]}"},
    {"/wait", "secs=abc", 422,
        "{\"detail\":[{\"type\":\"float_parsing\",\"loc\":[\"query\",\"secs\"],"
        "\"msg\":\"Input should be a valid number, unable to parse string as a "
        "number\",\"input\":\"abc\"}]}"},
    {"/wait", "secs=nan", 422,
        "{\"detail\":[{\"type\":\"less_than_equal\",\"loc\":[\"query\","
        "\"secs\"],\"msg\":\"Input should be less than or equal to "
        "60\",\"input\":\"nan\",\"ctx\":{\"le\":60.0}}]}"},
    {"/wait", "secs=inf", 422,
        "{\"detail\":[{\"type\":\"less_than_equal\",\"loc\":[\"query\","
        "\"secs\"],\"msg\":\"Input should be less than or equal to "
        "60\",\"input\":\"inf\",\"ctx\":{\"le\":60.0}}]}"},
    {"/wait", "secs=-inf", 422,
        "{\"detail\":[{\"type\":\"greater_than_equal\",\"loc\":[\"query\","
        "\"secs\"],\"msg\":\"Input should be greater than or equal to "
        "0\",\"input\":\"-inf\",\"ctx\":{\"ge\":0.0}}]}"},
    {"/wait", "secs=61", 422,
        "{\"detail\":[{\"type\":\"less_than_equal\",\"loc\":[\"query\","
        "\"secs\"],\"msg\":\"Input should be less than or equal to "
        "60\",\"input\":\"61\",\"ctx\":{\"le\":60.0}}]}"},
    {"/wait", "secs=-1", 422,
        "{\"detail\":[{\"type\":\"greater_than_equal\",\"loc\":[\"query\","
        "\"secs\"],\"msg\":\"Input should be greater than or equal to "
        "0\",\"input\":\"-1\",\"ctx\":{\"ge\":0.0}}]}"},
    {"/wait", "secs=1e400", 422,
        "{\"detail\":[{\"type\":\"less_than_equal\",\"loc\":[\"query\","
        "\"secs\"],\"msg\":\"Input should be less than or equal to "
        "60\",\"input\":\"1e400\",\"ctx\":{\"le\":60.0}}]}"},
    {"/wait", "secs=1&secs=99", 422,
        "{\"detail\":[{\"type\":\"less_than_equal\",\"loc\":[\"query\","
        "\"secs\"],\"msg\":\"Input should be less than or equal to "
        "60\",\"input\":\"99\",\"ctx\":{\"le\":60.0}}]}"},
    {"/wait", "secs=%FF", 422,
        "{\"detail\":[{\"type\":\"float_parsing\",\"loc\":[\"query\",\"secs\"],"
        "\"msg\":\"Input should be a valid number, unable to parse string as a "
        "number\",\"input\":\"�\"}]}"},
    {"/wait", "secs=%C3%A9", 422,
        "{\"detail\":[{\"type\":\"float_parsing\",\"loc\":[\"query\",\"secs\"],"
        "\"msg\":\"Input should be a valid number, unable to parse string as a "
        "number\",\"input\":\"é\"}]}"},
    {"/wait", "secs=0x10", 422,
        "{\"detail\":[{\"type\":\"float_parsing\",\"loc\":[\"query\",\"secs\"],"
        "\"msg\":\"Input should be a valid number, unable to parse string as a "
        "number\",\"input\":\"0x10\"}]}"},
    {"/wait", "secs=%201_0", 422,
        "{\"detail\":[{\"type\":\"float_parsing\",\"loc\":[\"query\",\"secs\"],"
        "\"msg\":\"Input should be a valid number, unable to parse string as a "
        "number\",\"input\":\" 1_0\"}]}"},
    {"/wait", "secs=60.0000001", 422,
        "{\"detail\":[{\"type\":\"less_than_equal\",\"loc\":[\"query\","
        "\"secs\"],\"msg\":\"Input should be less than or equal to "
        "60\",\"input\":\"60.0000001\",\"ctx\":{\"le\":60.0}}]}"},
    {"/wait", "secs=%00", 422,
        "{\"detail\":[{\"type\":\"float_parsing\",\"loc\":[\"query\",\"secs\"],"
        "\"msg\":\"Input should be a valid number, unable to parse string as a "
        "number\",\"input\":\"\\u0000\"}]}"},
    {"/wait", "other=1", 422,
        "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"query\",\"secs\"],"
        "\"msg\":\"Field required\",\"input\":null}]}"},
    {"/cpu", "", 422,
        "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"query\",\"n\"],\"msg\":"
        "\"Field required\",\"input\":null}]}"},
    {"/cpu", "n=1.5", 422,
        "{\"detail\":[{\"type\":\"int_parsing\",\"loc\":[\"query\",\"n\"],"
        "\"msg\":\"Input should be a valid integer, unable to parse string as "
        "an integer\",\"input\":\"1.5\"}]}"},
    {"/cpu", "n=1e3", 422,
        "{\"detail\":[{\"type\":\"int_parsing\",\"loc\":[\"query\",\"n\"],"
        "\"msg\":\"Input should be a valid integer, unable to parse string as "
        "an integer\",\"input\":\"1e3\"}]}"},
    {"/cpu", "n=-1", 422,
        "{\"detail\":[{\"type\":\"greater_than_equal\",\"loc\":[\"query\","
        "\"n\"],\"msg\":\"Input should be greater than or equal to "
        "0\",\"input\":\"-1\",\"ctx\":{\"ge\":0}}]}"},
    {"/cpu", "n=10000001", 422,
        "{\"detail\":[{\"type\":\"less_than_equal\",\"loc\":[\"query\",\"n\"],"
        "\"msg\":\"Input should be less than or equal to "
        "10000000\",\"input\":\"10000001\",\"ctx\":{\"le\":10000000}}]}"},
    {"/cpu", "n=99999999999999999999999", 422,
        "{\"detail\":[{\"type\":\"less_than_equal\",\"loc\":[\"query\",\"n\"],"
        "\"msg\":\"Input should be less than or equal to "
        "10000000\",\"input\":\"99999999999999999999999\",\"ctx\":{\"le\":"
        "10000000}}]}"},
    {"/cpu", "n=-99999999999999999999999", 422,
        "{\"detail\":[{\"type\":\"greater_than_equal\",\"loc\":[\"query\","
        "\"n\"],\"msg\":\"Input should be greater than or equal to "
        "0\",\"input\":\"-99999999999999999999999\",\"ctx\":{\"ge\":0}}]}"},
    {"/cpu", "n=", 422,
        "{\"detail\":[{\"type\":\"int_parsing\",\"loc\":[\"query\",\"n\"],"
        "\"msg\":\"Input should be a valid integer, unable to parse string as "
        "an integer\",\"input\":\"\"}]}"},
    {"/cpu", "n=abc", 422,
        "{\"detail\":[{\"type\":\"int_parsing\",\"loc\":[\"query\",\"n\"],"
        "\"msg\":\"Input should be a valid integer, unable to parse string as "
        "an integer\",\"input\":\"abc\"}]}"},
    {"/cpu", "n=0-28", 422,
        "{\"detail\":[{\"type\":\"greater_than_equal\",\"loc\":[\"query\","
        "\"n\"],\"msg\":\"Input should be greater than or equal to "
        "0\",\"input\":\"0-28\",\"ctx\":{\"ge\":0}}]}"},
    {"/cpu", "n=--1", 422,
        "{\"detail\":[{\"type\":\"int_parsing\",\"loc\":[\"query\",\"n\"],"
        "\"msg\":\"Input should be a valid integer, unable to parse string as "
        "an integer\",\"input\":\"--1\"}]}"},
};

static void
decide(const char *method, const char *path, const char *query, unsigned served,
    struct app_decision *d)
{
	struct app_config cfg;
	struct app_request req = {method, path, NULL, query};

	app_config_init(&cfg);
	if (app_decide(&cfg, served, &req, d) != 0)
		abort();
}

static void
test_invalid(void)
{
	struct app_decision d;
	size_t i;

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		decide(
		    "GET", invalid[i].path, invalid[i].query, APP_SRV_SYNC, &d);
		ok(d.action == APP_REPLY && d.status == invalid[i].status,
		    "%s?%s is %d", invalid[i].path, invalid[i].query,
		    invalid[i].status);
		is_str(d.body, invalid[i].body, "  with FastAPI's body");
		app_decision_free(&d);
	}
}

static void
test_valid(void)
{
	struct app_decision d;
	char *body;
	size_t len;

	decide("GET", "/", NULL, APP_SRV_SYNC, &d);
	ok(d.action == APP_REPLY && d.status == 200, "GET / is 200");
	is_str(d.body, "{\"Hello\":\"World\"}", "  Hello World");
	app_decision_free(&d);

	decide("GET", "/wait", "secs=0.25", APP_SRV_SYNC, &d);
	ok(d.action == APP_WAIT && d.secs == 0.25 && d.route == APP_R_WAIT,
	    "/wait?secs=0.25 waits 0.25 s");
	app_decision_free(&d);
	decide("GET", "/wait", "secs=99&secs=2", APP_SRV_SYNC, &d);
	ok(d.action == APP_WAIT && d.secs == 2,
	    "a repeated secs: the last wins");
	app_decision_free(&d);
	decide("GET", "/wait", "secs=60", APP_SRV_SYNC, &d);
	ok(d.action == APP_WAIT && d.secs == 60,
	    "secs=60 (the maximum) is fine");
	app_decision_free(&d);
	decide("GET", "/cpu", "n=1_000.0", APP_SRV_SYNC, &d);
	ok(d.action == APP_CPU && d.n == 1000, "/cpu?n=1_000.0 is n=1000");
	app_decision_free(&d);

	body = app_wait_body(2, &len);
	is_str(
	    body, "{\"status\":\"ready\",\"seconds\":2}", "seconds 2, not 2.0");
	ok(len == strlen(body), "  length reported");
	free(body);
	body = app_wait_body(0.1, &len);
	is_str(body, "{\"status\":\"ready\",\"seconds\":0.1}", "seconds 0.1");
	free(body);
	body = app_cpu_body(100, cpu_count_primes(100), &len);
	is_str(body, "{\"n\":100,\"result\":25}", "25 primes below 100");
	free(body);
	ok(cpu_count_primes(0) == 0 && cpu_count_primes(3) == 1 &&
	        cpu_count_primes(1000000) == 78498,
	    "prime counts");
}

static void
test_routing(void)
{
	struct app_decision d;

	decide("GET", "/nope", NULL, APP_SRV_SYNC, &d);
	ok(d.status == 404, "unknown path: 404");
	is_str(d.body, "{\"detail\":\"Not Found\"}", "  its body");
	app_decision_free(&d);

	decide("GET", "/wait_async", "secs=1", APP_SRV_SYNC, &d);
	ok(d.status == 404, "a mux route asked of the pool: 404");
	app_decision_free(&d);
	decide("GET", "/wait_async", "secs=1", APP_SRV_MUX, &d);
	ok(d.action == APP_WAIT && d.how == APP_OFF_LOOP, "  the mux waits");
	app_decision_free(&d);
	decide("GET", "/wait_async_blocking", "secs=1",
	    APP_SRV_MUX | APP_SRV_MISTAKES, &d);
	ok(d.action == APP_WAIT && d.how == APP_ON_LOOP,
	    "  /wait_async_blocking waits on the loop");
	app_decision_free(&d);
	decide("GET", "/wait_async_blocking", "secs=1", APP_SRV_MUX, &d);
	ok(d.action == APP_REPLY && d.status == 404,
	    "  /wait_async_blocking: 404 unless the mistakes are served");
	app_decision_free(&d);
	decide("GET", "/cpu_async_blocking", "n=1", APP_SRV_MUX, &d);
	ok(d.action == APP_REPLY && d.status == 404,
	    "  /cpu_async_blocking: 404 likewise");
	app_decision_free(&d);
	decide("GET", "/cpu_async_blocking", "n=1",
	    APP_SRV_MUX | APP_SRV_MISTAKES, &d);
	ok(d.action == APP_CPU && d.how == APP_ON_LOOP,
	    "  /cpu_async_blocking: on the loop when served");
	app_decision_free(&d);
	decide("GET", "/wait_async_blocking/", "secs=1", APP_SRV_MUX, &d);
	ok(d.status == 404, "  no redirect to a mistake not served");
	app_decision_free(&d);

	decide("POST", "/wait", "secs=1", APP_SRV_SYNC, &d);
	ok(d.status == 405, "POST /wait: 405");
	is_str(d.body, "{\"detail\":\"Method Not Allowed\"}", "  its body");
	is_str(d.headers, "Allow: GET\r\n", "  Allow: GET");
	app_decision_free(&d);
	decide("HEAD", "/wait", "secs=1", APP_SRV_SYNC, &d);
	ok(d.status == 405, "HEAD /wait: 405, as FastAPI");
	app_decision_free(&d);
	decide(NULL, "/", NULL, APP_SRV_SYNC, &d);
	ok(d.status == 405, "no method at all: 405");
	app_decision_free(&d);

	decide("GET", "/wait/", "secs=1", APP_SRV_SYNC, &d);
	ok(d.status == 307 && d.body == NULL, "/wait/ redirects (307)");
	is_str(
	    d.headers, "Location: /wait?secs=1\r\n", "  to /wait, query kept");
	app_decision_free(&d);
	decide("GET", "/wait/", "a=%0d%0a\r\nX: y", APP_SRV_SYNC, &d);
	is_str(d.headers, "Location: /wait?a=%0d%0a%0D%0AX:%20y\r\n",
	    "  raw CR/LF in a query cannot split the header");
	app_decision_free(&d);
}

/* One decision of an operator view, asked from addr with authorization. */
static int
operator_status(const char *method, const char *path, const char *addr,
    const char *authorization, const char *token, struct app_decision *d)
{
	struct app_config cfg;
	struct app_request req = {
	    method, path, NULL, NULL, addr, authorization};

	app_config_init(&cfg);
	cfg.operator_token = token;
	if (app_decide(&cfg, APP_SRV_MUX, &req, d) != 0)
		abort();
	return d->status;
}

static void
test_operator_views(void)
{
	static const char *const loopback[] = {
	    "127.0.0.1", "127.9.8.7", "::1", "::ffff:127.0.0.1"};
	static const char *const others[] = {"10.0.0.1", "192.168.1.1", "::2",
	    "::ffff:10.0.0.1", "fe80::1", "0.0.0.0", "", "127.0.0.1 ",
	    "localhost", "128.0.0.1", "::ffff:128.0.0.1"};
	const char *tok = "s3cret-token-0123456789";
	struct app_decision d;
	size_t i;

	for (i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		operator_status("GET", "/metrics", loopback[i], NULL, NULL, &d);
		ok(d.action == APP_SERVER, "GET /metrics from %s: served",
		    loopback[i]);
		app_decision_free(&d);
	}
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		ok(operator_status("GET", "/jobs", others[i], NULL, NULL, &d) ==
		        401,
		    "GET /jobs from '%s': 401", others[i]);
		app_decision_free(&d);
	}
	operator_status("GET", "/metrics", NULL, NULL, NULL, &d);
	ok(d.status == 401, "no REMOTE_ADDR at all: 401");
	is_str(d.body, "{\"detail\":\"Not authenticated\"}", "  its body");
	is_str(d.headers, "WWW-Authenticate: Bearer\r\n", "  and challenge");
	app_decision_free(&d);

	operator_status("POST", "/jobs", "10.0.0.1", NULL, NULL, &d);
	ok(d.action == APP_SERVER,
	    "POST /jobs from afar: not an operator view");
	app_decision_free(&d);
	operator_status("GET", "/jobs/abc", "10.0.0.1", NULL, NULL, &d);
	ok(d.action == APP_SERVER, "GET /jobs/ID from afar: served");
	app_decision_free(&d);
	operator_status("DELETE", "/metrics", "10.0.0.1", NULL, NULL, &d);
	ok(d.status == 405, "DELETE /metrics: 405 before any 401");
	app_decision_free(&d);

	operator_status("GET", "/metrics", "10.0.0.1",
	    "Bearer s3cret-token-0123456789", tok, &d);
	ok(d.action == APP_SERVER, "the right bearer token: served");
	app_decision_free(&d);
	operator_status("GET", "/metrics", "10.0.0.1",
	    "bearer  s3cret-token-0123456789 ", tok, &d);
	ok(d.action == APP_SERVER, "  scheme in any case, spaces around");
	app_decision_free(&d);
	ok(operator_status("GET", "/metrics", "10.0.0.1",
	       "Bearer s3cret-token-012345678", tok, &d) == 401,
	    "  one character short: 401");
	app_decision_free(&d);
	ok(operator_status("GET", "/metrics", "10.0.0.1",
	       "Bearer s3cret-token-01234567890", tok, &d) == 401,
	    "  one character more: 401");
	app_decision_free(&d);
	ok(operator_status("GET", "/metrics", "10.0.0.1",
	       "Basic s3cret-token-0123456789", tok, &d) == 401,
	    "  another scheme: 401");
	app_decision_free(&d);
	ok(operator_status("GET", "/metrics", "10.0.0.1", "Bearer ", "", &d) ==
	        401,
	    "  an empty token configured opens nothing");
	app_decision_free(&d);
	ok(operator_status("GET", "/metrics", "10.0.0.1",
	       "Bearer s3cret-token-0123456789", NULL, &d) == 401,
	    "  no token configured: loopback only");
	app_decision_free(&d);
}

static void
test_qs_num(void)
{
	char *v, buf[NUM_FMT_MAX];
	size_t n, len;
	long long ll;
	double x;

	v = qs_get("a=1&b=x+y%21&a=3", "a", &n, &len);
	is_str(v, "3", "qs: last of a repeated key");
	ok(n == 2, "  counted twice");
	free(v);
	v = qs_get("a=1&b=x+y%21&a=3", "b", &n, &len);
	is_str(v, "x y!", "qs: + and %XX decoded");
	free(v);
	v = qs_get("%61=5", "a", &n, &len);
	is_str(v, "5", "qs: keys are decoded");
	free(v);
	v = qs_get("a=%zz%4", "a", &n, &len);
	is_str(v, "%zz%4", "qs: bad escapes kept as written");
	free(v);
	v = qs_get("a=x%00y", "a", &n, &len);
	ok(v != NULL && len == 3 && v[1] == '\0', "qs: %%00 kept, length 3");
	free(v);
	v = qs_get("a=%ff", "a", &n, &len);
	is_str(v, "\xef\xbf\xbd", "qs: invalid UTF-8 becomes U+FFFD");
	free(v);
	ok(qs_get("b=1", "a", &n, &len) == NULL && n == 0, "qs: absent key");
	ok(qs_get(NULL, "a", &n, &len) == NULL && n == 0, "qs: no query");

	ok(num_parse_float(" 2.5 ", 5, &x) == NUM_OK && x == 2.5,
	    "num: whitespace trimmed");
	ok(num_parse_float("1e400", 5, &x) == NUM_OK && isinf(x),
	    "num: overflow is inf");
	ok(num_parse_float("0x10", 4, &x) == NUM_EPARSE, "num: no hex");
	ok(num_parse_float("1_0", 3, &x) == NUM_OK && x == 10,
	    "num: underscores");
	ok(num_parse_float("1__0", 4, &x) == NUM_EPARSE,
	    "num: not two of them");
	ok(num_parse_int("99999999999999999999999", 23, &ll) == NUM_OK &&
	        ll == LLONG_MAX,
	    "num: big ints saturate");
	ok(num_parse_int("1.5", 3, &ll) == NUM_EPARSE, "num: 1.5 is no int");
	num_format(2, buf);
	is_str(buf, "2", "num_format(2)");
	num_format(0.1, buf);
	is_str(buf, "0.1", "num_format(0.1)");
	num_format(60, buf);
	is_str(buf, "60", "num_format(60)");
	num_format(1.0 / 3, buf);
	ok(strtod(buf, NULL) == 1.0 / 3, "num_format round-trips 1/3");
}

/* --- the hot path's bodies and heads, against the slow references ---- */

/* The wait body as it was built before app_wait_body_text: jansson. */
static char *
wait_body_jansson(double secs)
{
	json_t *n = secs == floor(secs) && fabs(secs) < 9007199254740992.0
	    ? json_integer((json_int_t)secs)
	    : json_real(secs);

	return apijson_dump(
	    json_pack("{s:s,s:o}", "status", "ready", "seconds", n), NULL);
}

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
test_bodies(void)
{
	static const double fixed[] = {0, -0.0, 1, 2, 60, 86400, 0.1, 0.5, 0.25,
	    1e-5, 3e-5, 1e-7, 0.0001, 0.001, 12.25, 59.999999, 1.0 / 3, 2.0 / 3,
	    1e-300, 5e-324, 2.2250738585072014e-308, 1e15, 1e16, 1e17, 1.5e16,
	    9007199254740992.0, 9007199254740994.0, 123456789012345678.0,
	    1.7976931348623157e308, -1.5, -0.001, 0.30000000000000004, 100.5,
	    1e21, 1e22, 4.35, 2.675};
	char buf[APP_BODY_MAX], *want, seed_text[32];
	size_t i, len, bad = 0, n = 0;
	uint64_t seed = 42, bits;
	double x;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		want = wait_body_jansson(fixed[i]);
		len = app_wait_body_text(fixed[i], buf);
		if (want == NULL || len != strlen(want) ||
		    strcmp(buf, want) != 0) {
			bad++;
			printf("#   %.17g: got %s, want %s\n", fixed[i], buf,
			    want ? want : "(null)");
		}
		free(want);
	}
	ok(bad == 0, "wait body: the jansson bytes for %zu chosen values",
	    sizeof(fixed) / sizeof(fixed[0]));
	/* random doubles of every exponent, and short decimals as a client
	 * would send them (secs=12.345) */
	for (i = 0; i < 200000; i++) {
		bits = splitmix(&seed);
		if (i % 2) {
			memcpy(&x, &bits, sizeof(x));
			if (!isfinite(x))
				continue;
		} else {
			snprintf(seed_text, sizeof(seed_text), "%llu.%0*llu",
			    (unsigned long long)(bits % 100),
			    (int)(1 + (bits >> 8) % 6),
			    (unsigned long long)((bits >> 16) % 1000000));
			x = strtod(seed_text, NULL);
		}
		want = wait_body_jansson(x);
		len = app_wait_body_text(x, buf);
		n++;
		if (want == NULL || len != strlen(want) ||
		    strcmp(buf, want) != 0) {
			if (bad++ < 5)
				printf("#   %.17g: got %s, want %s\n", x, buf,
				    want ? want : "(null)");
		}
		free(want);
	}
	ok(bad == 0, "wait body: the jansson bytes for %zu random values", n);
	ok(app_wait_body_text(NAN, buf) == 0 &&
	        app_wait_body_text(INFINITY, buf) == 0 &&
	        app_wait_body(NAN, &len) == NULL,
	    "wait body: no text for NaN or infinity (as jansson refuses)");
	len = app_cpu_body_text(LLONG_MAX, ULONG_MAX / 2, buf);
	want = apijson_dump(json_pack("{s:I,s:I}", "n", (json_int_t)LLONG_MAX,
	                        "result", (json_int_t)(ULONG_MAX / 2)),
	    NULL);
	ok(want != NULL && len == strlen(want) && strcmp(buf, want) == 0,
	    "cpu body: the jansson bytes at the extremes (%s)", buf);
	free(want);
	len = app_cpu_body_text(0, 0, buf);
	is_str(buf, "{\"n\":0,\"result\":0}", "cpu body: zeros");
}

/* The head as snprintf wrote it before app_cgi_head was hand-written. */
static size_t
head_snprintf(char *buf, size_t cap, int status, const char *ctype, size_t clen,
    const char *extra)
{
	char len[48] = "";
	int n;

	if (clen != APP_NO_LENGTH)
		snprintf(len, sizeof(len), "Content-Length: %zu\r\n", clen);
	n = snprintf(buf, cap, "Status: %d %s\r\nContent-Type: %s\r\n%s%s\r\n",
	    status, app_reason(status), ctype, len, extra ? extra : "");
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static void
test_heads(void)
{
	static const int statuses[] = {200, 201, 307, 404, 422, 503, 599};
	static const size_t lens[] = {
	    0, 7, 30, 65535, APP_NO_LENGTH, (size_t)1 << 40};
	static const char *const extras[] = {
	    NULL, "", "Retry-After: 1\r\n", "Allow: GET, POST\r\nX-A: b\r\n"};
	char got[256], want[256];
	size_t si, li, ei, cap, g, w, bad = 0, n = 0;

	for (si = 0; si < sizeof(statuses) / sizeof(statuses[0]); si++)
		for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++)
			for (ei = 0; ei < sizeof(extras) / sizeof(extras[0]);
			     ei++)
				for (cap = 1; cap <= sizeof(got); cap++) {
					g = app_cgi_head(got, cap, statuses[si],
					    "application/json", lens[li],
					    extras[ei]);
					w = head_snprintf(want, cap,
					    statuses[si], "application/json",
					    lens[li], extras[ei]);
					n++;
					if (g != w ||
					    (g > 0 && strcmp(got, want) != 0))
						bad++;
				}
	ok(bad == 0,
	    "app_cgi_head: snprintf's bytes, or 0 when it does not fit, in "
	    "%zu cases",
	    n);
}

static void
test_qs_buf(void)
{
	char small[16], *v;
	size_t count, len;

	v = qs_get_buf(
	    "a=1&secs=2.5&b", "secs", small, sizeof(small), &count, &len);
	ok(v == small && count == 1 && len == 3 && strcmp(v, "2.5") == 0,
	    "qs_get_buf: a plain value lands in the caller's buffer");
	v = qs_get_buf(
	    "secs=1&secs=%32", "secs", small, sizeof(small), &count, &len);
	ok(v != small && v != NULL && count == 2 && strcmp(v, "2") == 0,
	    "qs_get_buf: the last of two, %%-decoded in a malloc'd copy");
	if (v != small)
		free(v);
	v = qs_get_buf(
	    "%73ec%73=3&se+cs=9", "secs", small, sizeof(small), &count, &len);
	ok(v == small && count == 1 && strcmp(v, "3") == 0,
	    "qs_get_buf: keys compare decoded (%%73ec%%73 is secs; se+cs is "
	    "not)");
	v = qs_get_buf("a+b=1", "a b", small, sizeof(small), &count, &len);
	ok(v == small && count == 1 && strcmp(v, "1") == 0,
	    "qs_get_buf: '+' in a key is a space");
	v = qs_get_buf("secs=0123456789abcdefXYZ", "secs", small, sizeof(small),
	    &count, &len);
	ok(v != small && v != NULL && len == 19 &&
	        strcmp(v, "0123456789abcdefXYZ") == 0,
	    "qs_get_buf: too long for the buffer: malloc'd");
	if (v != small)
		free(v);
	v = qs_get_buf("secs=%FF", "secs", small, sizeof(small), &count, &len);
	ok(v != small && v != NULL && strcmp(v, "\xef\xbf\xbd") == 0,
	    "qs_get_buf: invalid UTF-8 still becomes U+FFFD");
	if (v != small)
		free(v);
	v = qs_get_buf("other=1", "secs", small, sizeof(small), &count, &len);
	ok(v == NULL && count == 0, "qs_get_buf: absent");
	v = qs_get_buf(
	    "%C3%A9=1", "\xc3\xa9", small, sizeof(small), &count, &len);
	ok(v == small && count == 1, "qs_get_buf: a non-ASCII key name");
	v = qs_get_buf(NULL, "secs", small, sizeof(small), &count, &len);
	ok(v == NULL && count == 0, "qs_get_buf: no query at all");
}

int
main(void)
{
	test_invalid();
	test_valid();
	test_routing();
	test_operator_views();
	test_qs_num();
	test_bodies();
	test_heads();
	test_qs_buf();
	return done_testing();
}
