/*
 * test_labreq — the /lab/ page's run requests: good bodies become the
 * exact argv of `fcgilab compare`; every bad value, type, size and shape
 * is refused with a {"detail":…} body and 422 (413 when too large), and
 * never reaches an argv.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "labreq.h"
#include "tap.h"

/* The argv of body joined by spaces, or "ERR <status> <detail body>". */
static char *
run(const char *body, size_t len)
{
	struct labreq r;
	char *err, **argv, *out;
	size_t i, n = 0;
	int status;

	if (labreq_parse(body, len, &r, &err, &status) != 0) {
		if (asprintf(&out, "ERR %d %s", status, err ? err : "") < 0)
			out = NULL;
		free(err);
		return out;
	}
	argv = labreq_argv(&r, "/bin/fcgilab", "/s", "/s/lab/runs/x");
	for (i = 0; argv[i] != NULL; i++)
		n += strlen(argv[i]) + 1;
	out = calloc(1, n + 1);
	for (i = 0; argv[i] != NULL; i++) {
		strcat(out, i ? " " : "");
		strcat(out, argv[i]);
	}
	labreq_argv_free(argv);
	return out;
}

#define BASE \
	"/bin/fcgilab compare --state /s --out /s/lab/runs/x --json --gauge"

static void
good(const char *body, const char *want)
{
	char *got = run(body, strlen(body));

	is_str(got, want, body);
	free(got);
}

static void
bad(const char *body, size_t len, const char *prefix, const char *what)
{
	char *got = run(body, len);

	ok(got != NULL && strncmp(got, prefix, strlen(prefix)) == 0,
	    "refused: %s -> %.120s", what, got ? got : "(null)");
	free(got);
}

int
main(void)
{
	static const struct {
		const char *body, *what;
	} bads[] = {
	    {"", "empty"},
	    {"nope", "not JSON"},
	    {"[]", "an array"},
	    {"\"wait\"", "a string"},
	    {"{\"scenario\":\"sleep\"}", "unknown scenario"},
	    {"{\"scenario\":1}", "scenario of another type"},
	    {"{\"scenario\":\"wait; rm -rf /\"}", "scenario with a shell"},
	    {"{\"pools\":[]}", "no pools"},
	    {"{\"pools\":[1,2,3,4,5,6,7]}", "7 pools"},
	    {"{\"pools\":[0]}", "pool 0"},
	    {"{\"pools\":[257]}", "pool 257"},
	    {"{\"pools\":[-4]}", "pool -4"},
	    {"{\"pools\":[4.5]}", "pool 4.5"},
	    {"{\"pools\":[\"4\"]}", "pool as a string"},
	    {"{\"pools\":4}", "pools not a list"},
	    {"{\"n\":0}", "n 0"},
	    {"{\"n\":2001}", "n 2001"},
	    {"{\"n\":1e3}", "n as a real"},
	    {"{\"n\":99999999999999999999}", "n past int64"},
	    {"{\"secs\":\"11\"}", "secs 11"},
	    {"{\"secs\":\"1..0.5\"}", "secs A > B"},
	    {"{\"secs\":\"0.123\"}", "secs with 3 decimals"},
	    {"{\"secs\":\"-1\"}", "negative secs"},
	    {"{\"secs\":\"1..\"}", "secs range without B"},
	    {"{\"secs\":\"..1\"}", "secs range without A"},
	    {"{\"secs\":\"1...2\"}", "secs with three dots"},
	    {"{\"secs\":\"1 --bogus\"}", "secs smuggling an option"},
	    {"{\"secs\":1}", "secs as a number"},
	    {"{\"secs\":\"1\\u00002\"}", "secs with a NUL"},
	    {"{\"seed\":-1}", "seed -1"},
	    {"{\"seed\":2147483648}", "seed too big"},
	    {"{\"seed\":\"42\"}", "seed as a string"},
	    {"{\"timeout\":0.4}", "timeout 0.4"},
	    {"{\"timeout\":121}", "timeout 121"},
	    {"{\"timeout\":\"60\"}", "timeout as a string"},
	    {"{\"cpu\":999}", "cpu 999"},
	    {"{\"cpu\":10000001}", "cpu too big"},
	    {"{\"state\":\"/etc\"}", "an unknown field"},
	    {"{\"n\":5,\"n\":6}", "a repeated field"},
	};
	char big[LABREQ_BODY_MAX + 64];
	size_t i;

	good("{}", BASE " --scenario wait");
	good("{\"scenario\":\"wait\",\"pools\":[40,4],\"n\":100,"
	     "\"secs\":\"0.1..1.0\",\"seed\":42,\"timeout\":60}",
	    BASE " --scenario wait --pool 40,4 -n 100 --secs 0.1..1.0 "
	         "--seed 42 --timeout 60");
	good("{\"scenario\":\"overload\",\"pools\":[1,2,4,8,16,256],"
	     "\"secs\":\"0.5\",\"timeout\":0.5}",
	    BASE " --scenario overload --pool 1,2,4,8,16,256 --secs 0.5 "
	         "--timeout 0.5");
	good("{\"scenario\":\"cpu\",\"cpu\":1000000,\"seed\":null}",
	    BASE " --scenario cpu --cpu 1000000");
	good("{\"scenario\":\"jobs\",\"seed\":0,\"secs\":\"10\"}",
	    BASE " --scenario jobs --secs 10 --seed 0");
	good("{\"scenario\":\"blocking\",\"secs\":\"0..10.0\"}",
	    BASE " --scenario blocking --secs 0..10.0");
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		bad(bads[i].body, strlen(bads[i].body),
		    "ERR 422 {\"detail\":", bads[i].what);
	bad("{\"n\":\0}", 7, "ERR 422 {\"detail\":", "a NUL byte in the body");
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	bad(big, sizeof(big), "ERR 413 {\"detail\":", "a body over 4 KiB");
	bad("{\"state\":1}", 11,
	    "ERR 422 {\"detail\":\"unknown field \\\"state\\\"\"}",
	    "names the unknown field");
	return done_testing();
}
