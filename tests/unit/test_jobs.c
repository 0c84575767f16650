/*
 * test_jobs — the pure part of background jobs: POST /jobs validation in
 * FastAPI's shapes, list queries, cursors, ids, record and page JSON. The
 * json_invalid positions and messages are Python 3.11's json.loads ones.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "jobs_run.h"
#include "randid.h"
#include "tap.h"

static struct jobs_tasks tasks;

#define ERR1(type, field, msg, input)                                 \
	"{\"detail\":[{\"type\":\"" type "\",\"loc\":[\"body\"" field \
	"],\"msg\":\"" msg "\",\"input\":" input "}]}"

static const struct {
	const char *ctype, *body;
	int status;
	const char *want; /* the error body, or for 0 "task params attempts" */
} posts[] = {
    {"application/json", "{\"task\":\"wait\",\"secs\":0.1}", 0,
        "wait {\"secs\":0.1} 3"},
    {NULL, "{\"task\":\"wait\",\"secs\":2}", 0, "wait {\"secs\":2} 3"},
    {"application/json; charset=utf-8",
        " {\"task\":\"cpu\",\"n\":1000,\"max_attempts\":1,\"x\":[1]}", 0,
        "cpu {\"n\":1000} 1"},
    {"application/vnd.api+json", "{\"task\":\"wait\",\"secs\":\"0.25\"}", 0,
        "wait {\"secs\":0.25} 3"},
    {"APPLICATION/JSON", "{\"task\":\"cpu\",\"n\":\"1_000\"}", 0,
        "cpu {\"n\":1000} 3"},
    {NULL, "{\"task\":\"cpu\",\"n\":10.0,\"max_attempts\":10}", 0,
        "cpu {\"n\":10} 10"},
    {NULL, "{\"task\":\"wait\",\"secs\":true}", 0, "wait {\"secs\":1} 3"},
    {NULL, "", 422,
        "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\"],\"msg\":"
        "\"Field required\",\"input\":null}]}"},
    {"application/json", "{\"task\":\"wait\"}", 422,
        ERR1("missing", ",\"secs\"", "Field required", "{\"task\":\"wait\"}")},
    {NULL, "{}", 422, ERR1("missing", ",\"task\"", "Field required", "{}")},
    {NULL, "{\"task\":\"sleep\",\"secs\":1}", 422,
        "{\"detail\":[{\"type\":\"literal_error\",\"loc\":[\"body\","
        "\"task\"],\"msg\":\"Input should be 'wait' or 'cpu'\",\"input\":"
        "\"sleep\",\"ctx\":{\"expected\":\"'wait' or 'cpu'\"}}]}"},
    {NULL, "{\"task\":\"wait\",\"secs\":\"abc\"}", 422,
        ERR1("float_parsing", ",\"secs\"",
            "Input should be a valid number, unable to parse string as a "
            "number",
            "\"abc\"")},
    {NULL, "{\"task\":\"wait\",\"secs\":[]}", 422,
        ERR1(
            "float_type", ",\"secs\"", "Input should be a valid number", "[]")},
    {NULL, "{\"task\":\"wait\",\"secs\":61.5}", 422,
        "{\"detail\":[{\"type\":\"less_than_equal\",\"loc\":[\"body\","
        "\"secs\"],\"msg\":\"Input should be less than or equal to 60\","
        "\"input\":61.5,\"ctx\":{\"le\":60.0}}]}"},
    {NULL, "{\"task\":\"wait\",\"secs\":-0.5}", 422,
        "{\"detail\":[{\"type\":\"greater_than_equal\",\"loc\":[\"body\","
        "\"secs\"],\"msg\":\"Input should be greater than or equal to 0\","
        "\"input\":-0.5,\"ctx\":{\"ge\":0.0}}]}"},
    {NULL, "{\"task\":\"cpu\",\"n\":1.5}", 422,
        ERR1("int_from_float", ",\"n\"",
            "Input should be a valid integer, got a number with a "
            "fractional part",
            "1.5")},
    {NULL, "{\"task\":\"cpu\",\"n\":null}", 422,
        ERR1("int_type", ",\"n\"", "Input should be a valid integer", "null")},
    {NULL, "{\"task\":\"cpu\",\"n\":-1}", 422,
        "{\"detail\":[{\"type\":\"greater_than_equal\",\"loc\":[\"body\","
        "\"n\"],\"msg\":\"Input should be greater than or equal to 0\","
        "\"input\":-1,\"ctx\":{\"ge\":0}}]}"},
    {NULL, "{\"task\":\"wait\",\"secs\":1,\"max_attempts\":11}", 422,
        "{\"detail\":[{\"type\":\"less_than_equal\",\"loc\":[\"body\","
        "\"max_attempts\"],\"msg\":\"Input should be less than or equal to "
        "10\",\"input\":11,\"ctx\":{\"le\":10}}]}"},
    {NULL, "[1,2]", 422,
        ERR1("model_attributes_type", "",
            "Input should be a valid dictionary or object to extract "
            "fields from",
            "[1,2]")},
    {"text/plain", "{\"task\":\"wait\",\"secs\":1}", 422,
        ERR1("model_attributes_type", "",
            "Input should be a valid dictionary or object to extract "
            "fields from",
            "\"{\\\"task\\\":\\\"wait\\\",\\\"secs\\\":1}\"")},
    {"application/x-www-form-urlencoded", "task=wait&secs=1", 422,
        ERR1("model_attributes_type", "",
            "Input should be a valid dictionary or object to extract "
            "fields from",
            "\"task=wait&secs=1\"")},
    {NULL, "not json", 422,
        "{\"detail\":[{\"type\":\"json_invalid\",\"loc\":[\"body\",0],"
        "\"msg\":\"JSON decode error\",\"input\":{},\"ctx\":{\"error\":"
        "\"Expecting value\"}}]}"},
    {NULL, "{\"task\":\"wait\",}", 422,
        "{\"detail\":[{\"type\":\"json_invalid\",\"loc\":[\"body\",15],"
        "\"msg\":\"JSON decode error\",\"input\":{},\"ctx\":{\"error\":"
        "\"Expecting property name enclosed in double quotes\"}}]}"},
    {NULL, "{\"task\" \"wait\"}", 422,
        "{\"detail\":[{\"type\":\"json_invalid\",\"loc\":[\"body\",8],"
        "\"msg\":\"JSON decode error\",\"input\":{},\"ctx\":{\"error\":"
        "\"Expecting ':' delimiter\"}}]}"},
    {NULL, "{\"a\":1} {}", 422,
        "{\"detail\":[{\"type\":\"json_invalid\",\"loc\":[\"body\",8],"
        "\"msg\":\"JSON decode error\",\"input\":{},\"ctx\":{\"error\":"
        "\"Extra data\"}}]}"},
    {NULL, "{\"t\u00e9\":\"x\" 1}", 422,
        "{\"detail\":[{\"type\":\"json_invalid\",\"loc\":[\"body\",10],"
        "\"msg\":\"JSON decode error\",\"input\":{},\"ctx\":{\"error\":"
        "\"Expecting ',' delimiter\"}}]}"},
    {NULL, "\"abc", 422,
        "{\"detail\":[{\"type\":\"json_invalid\",\"loc\":[\"body\",0],"
        "\"msg\":\"JSON decode error\",\"input\":{},\"ctx\":{\"error\":"
        "\"Unterminated string starting at\"}}]}"},
    {NULL, "{\"task\":\"\xff\"}", 400,
        "{\"detail\":\"There was an error parsing the body\"}"},
};

static void
test_posts(void)
{
	struct jobs_new n;
	char got[256], *err;
	size_t i, len;
	int status;

	for (i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
		status = 0;
		err = NULL;
		switch (jobs_parse_new(&tasks, posts[i].ctype, posts[i].body,
		    strlen(posts[i].body), &n, &status, &err, &len)) {
		case JOBS_PARSE_OK:
			snprintf(got, sizeof(got), "%s %s %d", n.task, n.params,
			    n.max_attempts);
			ok(posts[i].status == 0, "POST %s: accepted",
			    posts[i].body);
			is_str(
			    got, posts[i].want, "  as task, params, attempts");
			jobs_new_free(&n);
			break;
		case JOBS_PARSE_INVALID:
			ok(status == posts[i].status, "POST %s: %d",
			    posts[i].body, status);
			is_str(err, posts[i].want, "  the error body");
			ok(strlen(err) == len, "  its length");
			free(err);
			break;
		case JOBS_PARSE_ENOMEM:
			ok(0, "POST %s: ENOMEM", posts[i].body);
			break;
		}
	}
}

static void
test_internal(void)
{
	json_t *params = json_pack("{s:f}", "secs", 0.5);
	struct jobs_new n;
	char *err = NULL;
	size_t len;

	ok(jobs_validate_new(&tasks, "wait", params, 2, &n, &err, &len) ==
	        JOBS_PARSE_OK,
	    "jobs_validate_new: a module's wait job");
	is_str(n.params, "{\"secs\":0.5}", "  its params");
	ok(n.max_attempts == 2, "  its attempts");
	jobs_new_free(&n);
	ok(jobs_validate_new(&tasks, "stats", params, 2, &n, &err, &len) ==
	            JOBS_PARSE_INVALID &&
	        strstr(err, "literal_error") != NULL,
	    "an unregistered task is a literal_error");
	free(err);
	json_decref(params);
}

static enum jobs_run_result
run_echo(const struct jobs_task *t, const json_t *params,
    const struct jobs_run_ctl *ctl, char **result, char **error)
{
	(void)t;
	(void)ctl;
	(void)error;
	*result = json_dumps(params, JSON_COMPACT);
	return JOBS_RUN_DONE;
}

static int
validate_echo(const struct jobs_task *t, const json_t *body, json_t *errors,
    json_t **params)
{
	(void)t;
	(void)errors;
	*params = json_pack("{s:O}", "file", json_object_get(body, "file"));
	return *params ? 0 : -1;
}

static void
test_registry(void)
{
	struct jobs_tasks ts = tasks;
	struct jobs_task echo = {"stats", validate_echo, run_echo, NULL};
	const struct jobs_task *t;
	struct jobs_new n;
	char *err = NULL, *result = NULL;
	size_t len;
	int status;
	json_t *p;

	ok(jobs_tasks_add(&ts, &echo), "a module registers a task");
	ok(jobs_parse_new(&ts, NULL, "{\"task\":\"x\"}", 12, &n, &status, &err,
	       &len) == JOBS_PARSE_INVALID,
	    "unknown tasks still refused");
	is_str(strstr(err, "\"msg\""),
	    "\"msg\":\"Input should be 'wait', 'cpu' or 'stats'\",\"input\":"
	    "\"x\",\"ctx\":{\"expected\":\"'wait', 'cpu' or 'stats'\"}}]}",
	    "  and the literal list grows as pydantic prints it");
	free(err);
	ok(jobs_parse_new(&ts, NULL, "{\"task\":\"stats\",\"file\":\"f1\"}", 28,
	       &n, &status, &err, &len) == JOBS_PARSE_OK,
	    "the module's task validates");
	is_str(n.params, "{\"file\":\"f1\"}", "  with its params");
	jobs_new_free(&n);
	t = jobs_tasks_find(&ts, "stats");
	p = json_pack("{s:s}", "file", "f1");
	ok(t && t->run(t, p, NULL, &result, &err) == JOBS_RUN_DONE,
	    "  and runs");
	free(result);
	json_decref(p);
	ok(jobs_tasks_find(&tasks, "stats") == NULL,
	    "registries are values: the original has no stats");
	jobs_run_add_builtins(&ts);
	ok(jobs_tasks_find(&ts, "wait")->run != NULL &&
	        jobs_tasks_find(&ts, "cpu")->run != NULL,
	    "jobs_run_add_builtins sets wait's and cpu's run");
}

static void
test_runs(void)
{
	struct jobs_tasks ts = tasks;
	const struct jobs_task *t;
	char *result = NULL, *error = NULL;
	json_t *p;

	jobs_run_add_builtins(&ts);
	t = jobs_tasks_find(&ts, "wait");
	p = json_pack("{s:f}", "secs", 0.01);
	ok(t->run(t, p, NULL, &result, &error) == JOBS_RUN_DONE,
	    "wait 0.01 runs");
	is_str(result, "{\"status\":\"ready\",\"seconds\":0.01}",
	    "  and answers /wait's body");
	free(result);
	json_decref(p);
	t = jobs_tasks_find(&ts, "cpu");
	p = json_pack("{s:i}", "n", 100);
	ok(t->run(t, p, NULL, &result, &error) == JOBS_RUN_DONE,
	    "cpu 100 runs");
	is_str(
	    result, "{\"n\":100,\"result\":25}", "  and answers /cpu's body");
	free(result);
	json_decref(p);
	p = json_pack("{s:i}", "n", -5);
	ok(t->run(t, p, NULL, &result, &error) == JOBS_RUN_FAILED,
	    "bad params from a store fail the job");
	is_str(error, "cpu: invalid params", "  saying why");
	free(error);
	json_decref(p);
}

static void
test_ids(void)
{
	uint8_t raw[16];
	char id[JOBS_ID_LEN + 1];
	size_t len;
	char *body;
	int i;

	for (i = 0; i < 16; i++)
		raw[i] = (uint8_t)(i * 17);
	randid_format(raw, id);
	is_str(id, "00112233445566778899aabbccddeeff", "id: 32 hex digits");
	ok(randid_valid(id), "  valid");
	ok(!randid_valid("00112233445566778899AABBCCDDEEFF"),
	    "  uppercase is not");
	ok(!randid_valid("00112233445566778899aabbccddeef"), "  short is not");
	ok(!randid_valid("00112233445566778899aabbccddeeff0"), "  long is not");
	ok(!randid_valid("../etc/passwd") && !randid_valid(NULL),
	    "  nor paths, nor NULL");
	body = jobs_bad_id_body("nope", &len);
	is_str(body,
	    "{\"detail\":[{\"type\":\"string_pattern_mismatch\",\"loc\":"
	    "[\"path\",\"job_id\"],\"msg\":\"String should match pattern "
	    "'^[0-9a-f]{32}$'\",\"input\":\"nope\",\"ctx\":{\"pattern\":"
	    "\"^[0-9a-f]{32}$\"}}]}",
	    "a bad id is a 422 string_pattern_mismatch");
	free(body);
}

static void
test_cursors(void)
{
	struct jobs_cursor c = {1764026760123456LL,
	                       "00112233445566778899aabbccddeeff"},
	                   d;
	char text[JOBS_CURSOR_MAX], bad[JOBS_CURSOR_MAX];
	size_t i, n, decoded = 0;

	jobs_cursor_encode(&c, -1, text);
	ok(strlen(text) == 40, "a cursor is 40 base64url characters");
	ok(jobs_cursor_decode(text, strlen(text), -1, &d) &&
	        d.created_us == c.created_us && strcmp(d.id, c.id) == 0,
	    "  and decodes to its position");
	ok(!jobs_cursor_decode(text, strlen(text), JOBS_DONE, &d),
	    "  but not for another status filter");
	jobs_cursor_encode(&c, JOBS_DONE, text);
	ok(jobs_cursor_decode(text, strlen(text), JOBS_DONE, &d),
	    "a filtered cursor decodes with its filter");
	n = strlen(text);
	for (i = 0; i < n; i++) { /* every one-character change */
		memcpy(bad, text, n + 1);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		decoded += jobs_cursor_decode(bad, n, JOBS_DONE, &d);
	}
	ok(decoded == 0, "no garbled cursor decodes (%zu of %zu did)", decoded,
	    n);
	ok(!jobs_cursor_decode(text, n - 1, JOBS_DONE, &d) &&
	        !jobs_cursor_decode("", 0, JOBS_DONE, &d) &&
	        !jobs_cursor_decode("=====", 5, JOBS_DONE, &d),
	    "truncated, empty or foreign text does not decode");
}

static void
test_queries(void)
{
	struct jobs_page_req q;
	struct jobs_cursor c = {5, "00112233445566778899aabbccddeeff"};
	char text[JOBS_CURSOR_MAX], query[128], want[256], *err;
	size_t len;

	ok(jobs_parse_list_query(NULL, &q, &err, &len) == JOBS_PARSE_OK &&
	        q.status == -1 && q.limit == 20 && !q.has_cursor,
	    "list: defaults");
	ok(jobs_parse_list_query("status=done&limit=5", &q, &err, &len) ==
	            JOBS_PARSE_OK &&
	        q.status == JOBS_DONE && q.limit == 5,
	    "list: status and limit");
	jobs_cursor_encode(&c, JOBS_DONE, text);
	snprintf(query, sizeof(query), "status=done&cursor=%s", text);
	ok(jobs_parse_list_query(query, &q, &err, &len) == JOBS_PARSE_OK &&
	        q.has_cursor && q.after.created_us == 5,
	    "list: a cursor");
	snprintf(query, sizeof(query), "cursor=%s", text);
	ok(jobs_parse_list_query(query, &q, &err, &len) == JOBS_PARSE_INVALID,
	    "list: a cursor of another filter is refused");
	snprintf(want, sizeof(want),
	    "{\"detail\":[{\"type\":\"value_error\",\"loc\":[\"query\","
	    "\"cursor\"],\"msg\":\"Value error, invalid cursor\",\"input\":"
	    "\"%s\",\"ctx\":{\"error\":{}}}]}",
	    text);
	is_str(err, want, "  as a value_error");
	free(err);
	ok(jobs_parse_list_query("status=finished&limit=0", &q, &err, &len) ==
	        JOBS_PARSE_INVALID,
	    "list: bad status and limit");
	is_str(err,
	    "{\"detail\":[{\"type\":\"literal_error\",\"loc\":[\"query\","
	    "\"status\"],\"msg\":\"Input should be 'queued', 'running', "
	    "'done', 'failed' or 'cancelled'\",\"input\":\"finished\",\"ctx\":"
	    "{\"expected\":\"'queued', 'running', 'done', 'failed' or "
	    "'cancelled'\"}},{\"type\":\"greater_than_equal\",\"loc\":"
	    "[\"query\",\"limit\"],\"msg\":\"Input should be greater than or "
	    "equal to 1\",\"input\":\"0\",\"ctx\":{\"ge\":1}}]}",
	    "  both reported, in order");
	free(err);
	ok(jobs_parse_list_query("limit=101", &q, &err, &len) ==
	        JOBS_PARSE_INVALID,
	    "list: limit at most 100");
	free(err);
}

static void
test_json(void)
{
	struct jobs_record r = {"00112233445566778899aabbccddeeff", "wait",
	    (char *)"{\"secs\":0.1}", JOBS_DONE, 1, 3,
	    (char *)"{\"status\":\"ready\",\"seconds\":0.1}", NULL,
	    1764026760123456LL, 1764026761000000LL, 1764026761100000LL};
	struct jobs_page p = {
	    &r, 1, true, {5, "00112233445566778899aabbccddeeff"}};
	struct jobs_page_req q = {JOBS_DONE, 1, false, {0, ""}};
	char *body, *link;
	size_t len;

	body = jobs_record_json(&r, &len);
	is_str(body,
	    "{\"id\":\"00112233445566778899aabbccddeeff\",\"task\":\"wait\","
	    "\"params\":{\"secs\":0.1},\"status\":\"done\",\"attempts\":1,"
	    "\"max_attempts\":3,\"result\":{\"status\":\"ready\",\"seconds\":"
	    "0.1},\"error\":null,\"created_at\":\"2025-11-24T23:26:00."
	    "123456Z\","
	    "\"started_at\":\"2025-11-24T23:26:01Z\",\"finished_at\":"
	    "\"2025-11-24T23:26:01.100000Z\"}",
	    "a record as JSON, times as pydantic prints them");
	free(body);
	r.status = JOBS_QUEUED;
	r.result = NULL;
	r.error = (char *)"worker \"lost\"";
	r.started_us = r.finished_us = 0;
	body = jobs_record_json(&r, &len);
	ok(strstr(body,
	       "\"result\":null,\"error\":\"worker \\\"lost\\\"\","
	       "\"created_at\":\"2025-11-24T23:26:00.123456Z\","
	       "\"started_at\":null,\"finished_at\":null}") != NULL,
	    "null times and an escaped error");
	free(body);
	body = jobs_page_json(&p, &q, &len, &link);
	ok(strncmp(body, "{\"items\":[{\"id\":", 16) == 0 &&
	        strstr(body, "],\"next\":\"") != NULL,
	    "a page: items and next");
	ok(link != NULL &&
	        strncmp(link, "Link: </jobs?status=done&limit=1&cursor=", 40) ==
	            0 &&
	        strstr(link, ">; rel=\"next\"\r\n") != NULL,
	    "  and the Link header: %s", link ? link : "(none)");
	free(body);
	free(link);
	p.has_next = false;
	body = jobs_page_json(&p, &q, &len, &link);
	ok(strstr(body, "],\"next\":null}") != NULL && link == NULL,
	    "the last page: next null, no Link");
	free(body);
}

int
main(void)
{
	struct app_config cfg;

	app_config_init(&cfg);
	jobs_tasks_init(&tasks, &cfg);
	test_posts();
	test_internal();
	test_registry();
	test_runs();
	test_ids();
	test_cursors();
	test_queries();
	test_json();
	return done_testing();
}
