/*
 * test_send_many — send_many's pure helpers: the PRNG (CPython's answers),
 * --secs parsing and drawing (bounds, determinism, formatting), and URL
 * parsing (good URLs, https, bad hosts and ports, the secs parameter).
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "num.h"
#include "rng.h"
#include "secs.h"
#include "tap.h"
#include "url.h"

/* Known answers from CPython 3.11's random module. */
static void
test_rng(void)
{
	static const int64_t lesson42[100] = {2, 1, 5, 4, 4, 3, 2, 9, 2, 10, 7,
	    1, 1, 2, 4, 4, 9, 10, 1, 9, 4, 9, 7, 4, 8, 10, 5, 1, 3, 7, 6, 5, 3,
	    4, 6, 2, 2, 7, 2, 6, 6, 10, 5, 1, 8, 9, 2, 7, 2, 9, 5, 10, 6, 10, 4,
	    2, 1, 4, 5, 2, 4, 2, 7, 5, 8, 6, 3, 6, 6, 4, 5, 2, 10, 3, 9, 4, 3,
	    8, 7, 5, 9, 4, 6, 1, 4, 1, 6, 7, 5, 2, 4, 10, 6, 4, 8, 7, 8, 3, 5,
	    3};
	struct rng r;
	int64_t v, sum = 0;
	int i, same = 1;

	rng_seed(&r, 0);
	ok(rng_u32(&r) == 0xd82c07cdU && rng_u32(&r) == 0x629f6fbeU &&
	        rng_u32(&r) == 0xc2094cacU,
	    "seed 0: getrandbits(32) d82c07cd 629f6fbe c2094cac");
	rng_seed(&r, 42);
	for (i = 0; i < 100; i++) {
		v = rng_range(&r, 1, 10);
		same &= v == lesson42[i];
		sum += v;
	}
	ok(same && sum == 509,
	    "seed 42: 100 x randint(1, 10) is the lesson's sequence, sum 509");
	rng_seed(&r, ((uint64_t)1 << 40) + 5);
	ok(rng_range(&r, 1, 10) == 9 && rng_range(&r, 1, 10) == 9 &&
	        rng_range(&r, 1, 10) == 5 && rng_range(&r, 1, 10) == 1,
	    "seed 2^40+5 (two key words): randint 9 9 5 1");
	rng_seed(&r, UINT64_MAX);
	ok(rng_bits(&r, 64) == 0x3faff32805965e7eULL &&
	        rng_bits(&r, 64) == 0x9e667b13568d6a40ULL,
	    "seed 2^64-1: getrandbits(64) pinned");
	rng_seed(&r, 7);
	ok(rng_random(&r) == 0.32383276483316237 &&
	        rng_random(&r) == 0.15084917392450192,
	    "seed 7: random() 0.32383276483316237 0.15084917392450192");
	rng_seed(&r, 7);
	ok(rng_bits(&r, 40) == 0xf252e6b438ULL &&
	        rng_bits(&r, 40) == 0x65269e0d37ULL,
	    "seed 7: getrandbits(40) f252e6b438 65269e0d37");
	rng_seed(&r, 9);
	ok(rng_range(&r, 0, (int64_t)1 << 40) == 585718914800LL &&
	        rng_range(&r, 0, (int64_t)1 << 40) == 408616915370LL,
	    "seed 9: randint(0, 2^40) 585718914800 408616915370");
	rng_seed(&r, 1);
	ok(rng_range(&r, 10, 100) == 27 && rng_range(&r, 10, 100) == 82 &&
	        rng_range(&r, 10, 100) == 18,
	    "seed 1: randint(10, 100) 27 82 18");
	rng_seed(&r, 3);
	ok(rng_range(&r, 5, 5) == 5 && rng_range(&r, 5, 5) == 5 &&
	        rng_u32(&r) == 1588945316U,
	    "seed 3: randint(5, 5) draws like CPython's, then 1588945316");
}

static void
test_rng_properties(void)
{
	struct rng r, r2;
	int64_t v, counts[10] = {0};
	int i, in_range = 1, same = 1;

	rng_seed(&r, 11);
	rng_seed(&r2, 11);
	for (i = 0; i < 100000; i++) {
		v = rng_range(&r, 1, 10);
		same &= v == rng_range(&r2, 1, 10);
		in_range &= v >= 1 && v <= 10;
		if (v >= 1 && v <= 10)
			counts[v - 1]++;
	}
	ok(same && in_range, "same seed, same sequence; always in [1, 10]");
	for (i = 0, same = 1; i < 10; i++)
		same &= counts[i] > 9500 && counts[i] < 10500;
	ok(same, "100000 draws of 1..10: each value 9500..10500 times");
	ok(rng_range(&r, 9, 3) == 9 && rng_bits(&r, 0) == 0 &&
	        rng_bits(&r, 65) == 0 && rng_below(&r, 0) == 0,
	    "degenerate arguments: lo > hi gives lo; bad k and n give 0");
}

static void
test_secs_parse(void)
{
	static const struct {
		const char *in;
		enum secs_result want;
	} bad[] = {
	    {"5..1", SECS_EORDER},
	    {"a..b", SECS_ESYNTAX},
	    {"-1", SECS_ESYNTAX},
	    {"", SECS_ESYNTAX},
	    {"..", SECS_ESYNTAX},
	    {"1..", SECS_ESYNTAX},
	    {"..5", SECS_ESYNTAX},
	    {"1...5", SECS_ESYNTAX},
	    {"1..5..7", SECS_ESYNTAX},
	    {" 1", SECS_ESYNTAX},
	    {"1e3", SECS_ESYNTAX},
	    {"inf", SECS_ESYNTAX},
	    {"nan", SECS_ESYNTAX},
	    {".5", SECS_ESYNTAX},
	    {"5.", SECS_ESYNTAX},
	    {"+3", SECS_ESYNTAX},
	    {"0x10", SECS_ESYNTAX},
	    {"86401", SECS_ETOOBIG},
	    {"1..100000", SECS_ETOOBIG},
	    {"99999999999999999999999999999999", SECS_ETOOBIG},
	    {"0.001..0.004", SECS_EEMPTY},
	    {"1.5..1.2", SECS_EORDER},
	};
	struct secs_spec sp;
	size_t i;
	int all = 1;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum secs_result got = secs_parse(bad[i].in, &sp);
		if (got != bad[i].want) {
			printf("# '%s': got %d want %d\n", bad[i].in, got,
			    bad[i].want);
			all = 0;
		}
	}
	ok(all, "bad --secs values are refused with their reason");
	ok(secs_parse("1..10", &sp) == SECS_OK && sp.mode == SECS_RANGE_INT &&
	        sp.ilo == 1 && sp.ihi == 10,
	    "1..10: integer range");
	ok(secs_parse("0.1..1.0", &sp) == SECS_OK &&
	        sp.mode == SECS_RANGE_CENT && sp.ilo == 10 && sp.ihi == 100,
	    "0.1..1.0: hundredths 10..100");
	ok(secs_parse("1..2.0", &sp) == SECS_OK && sp.mode == SECS_RANGE_CENT &&
	        sp.ilo == 100 && sp.ihi == 200,
	    "1..2.0: a decimal point makes it hundredths");
	ok(secs_parse("0.125..0.5", &sp) == SECS_OK && sp.ilo == 13 &&
	        sp.ihi == 50,
	    "0.125..0.5: only multiples of 0.01 inside (0.13..0.5)");
	ok(secs_parse("3", &sp) == SECS_OK && sp.mode == SECS_FIXED &&
	        sp.lo == 3 && secs_parse("0.25", &sp) == SECS_OK &&
	        sp.lo == 0.25,
	    "fixed 3 and 0.25");
	ok(secs_parse("0", &sp) == SECS_OK &&
	        secs_parse("0..0", &sp) == SECS_OK &&
	        secs_parse("86400", &sp) == SECS_OK,
	    "0, 0..0 and 86400 are allowed");
	ok(strstr(secs_strerror(SECS_EORDER), "A <= B") != NULL,
	    "errors have words: %s", secs_strerror(SECS_EORDER));
}

static void
test_secs_draw(void)
{
	struct secs_spec sp;
	struct rng r, r2;
	char buf[NUM_FMT_MAX];
	double v, hundred;
	int i, ok_range = 1, ok_two = 1, same = 1, seen_lo = 0, seen_hi = 0;

	secs_parse("0.1..1.0", &sp);
	rng_seed(&r, 1);
	rng_seed(&r2, 1);
	for (i = 0; i < 20000; i++) {
		v = secs_draw(&sp, &r);
		same &= v == secs_draw(&sp, &r2);
		ok_range &= v >= 0.1 && v <= 1.0;
		hundred = v * 100;
		ok_two &= fabs(hundred - round(hundred)) < 1e-9;
		num_format(v, buf);
		ok_two &= strlen(buf) <= 4; /* "0.xy" or "1" at most */
		seen_lo |= v == 0.1;
		seen_hi |= v == 1.0;
	}
	ok(same && ok_range, "0.1..1.0: deterministic, inside the bounds");
	ok(ok_two && seen_lo && seen_hi,
	    "0.1..1.0: 2 decimals at most, both bounds reachable");
	secs_parse("1..10", &sp);
	rng_seed(&r, 42);
	v = secs_draw(&sp, &r);
	num_format(v, buf);
	is_str(buf, "2", "1..10 seed 42: first value sent as \"2\"");
	secs_parse("0.25", &sp);
	num_format(secs_draw(&sp, &r), buf);
	is_str(buf, "0.25", "fixed 0.25 sent as \"0.25\"");
}

static void
test_url(void)
{
	struct url u;
	const char *v;
	size_t vlen;

	ok(url_parse("http://localhost:8000/wait", &u) == URL_OK &&
	        strcmp(u.host, "localhost") == 0 && u.port == 8000 &&
	        strcmp(u.target, "/wait") == 0 &&
	        strcmp(u.authority, "localhost:8000") == 0 && !u.ipv6,
	    "http://localhost:8000/wait");
	ok(url_parse("HTTP://127.0.0.1", &u) == URL_OK && u.port == 80 &&
	        strcmp(u.target, "/") == 0 && strcmp(u.port_text, "80") == 0,
	    "no port, no path: 80 and /");
	ok(url_parse("http://[::1]:8080/a?b=c#frag", &u) == URL_OK &&
	        strcmp(u.host, "::1") == 0 && u.ipv6 && u.port == 8080 &&
	        strcmp(u.target, "/a?b=c") == 0 &&
	        strcmp(u.authority, "[::1]:8080") == 0,
	    "IPv6 literal; the fragment is dropped");
	ok(url_parse("http://example.org?x=1", &u) == URL_OK &&
	        strcmp(u.target, "/?x=1") == 0,
	    "a query without a path gets /");
	ok(url_parse("http://h:/p", &u) == URL_OK && u.port == 80 &&
	        strcmp(u.authority, "h") == 0,
	    "an empty port is 80");
	ok(url_parse("https://localhost/", &u) == URL_EHTTPS &&
	        strstr(url_strerror(URL_EHTTPS), "not supported") != NULL,
	    "https: not supported, said so");
	ok(url_parse("ftp://x/", &u) == URL_ESCHEME &&
	        url_parse("localhost:8000/wait", &u) == URL_ESCHEME &&
	        url_parse("", &u) == URL_ESCHEME,
	    "other schemes or none");
	ok(url_parse("http://", &u) == URL_EHOST &&
	        url_parse("http:///x", &u) == URL_EHOST &&
	        url_parse("http://a$b/", &u) == URL_EHOST &&
	        url_parse("http://[::1/", &u) == URL_EHOST &&
	        url_parse("http://[]/", &u) == URL_EHOST &&
	        url_parse("http://[fe80::1%25eth0]/", &u) == URL_EHOST,
	    "bad hosts");
	ok(url_parse("http://h:0/", &u) == URL_EPORT &&
	        url_parse("http://h:65536/", &u) == URL_EPORT &&
	        url_parse("http://h:80a/", &u) == URL_EPORT &&
	        url_parse("http://h:123456/", &u) == URL_EPORT &&
	        url_parse("http://h:65535/", &u) == URL_OK,
	    "ports 1..65535 only");
	ok(url_parse("http://u:p@h/", &u) == URL_EUSERINFO, "userinfo refused");
	ok(url_parse("http://h/a b", &u) == URL_ECHAR &&
	        url_parse("http://h/\xc3\xa9", &u) == URL_ECHAR &&
	        url_parse("http://h/\t", &u) == URL_ECHAR,
	    "spaces, controls, non-ASCII refused");
	ok(url_query_get("/wait?secs=3", "secs", &v, &vlen) && vlen == 1 &&
	        *v == '3',
	    "query: secs=3 found");
	ok(url_query_get("/w?a=1&secs=1&secs=22&b", "secs", &v, &vlen) &&
	        vlen == 2 && strncmp(v, "22", 2) == 0,
	    "query: the last secs wins");
	ok(!url_query_get("/w?xsecs=1&secsx=2", "secs", &v, &vlen) &&
	        !url_query_get("/secs=1", "secs", &v, &vlen),
	    "query: only the exact name, only after '?'");
	ok(url_query_get("/w?secs", "secs", &v, &vlen) && vlen == 0,
	    "query: a bare name has an empty value");
	ok(url_has_query("/w?") && !url_has_query("/w"), "url_has_query");
}

int
main(void)
{
	test_rng();
	test_rng_properties();
	test_secs_parse();
	test_secs_draw();
	test_url();
	return done_testing();
}
