/*
 * test_filestats — counts and SHA-256 against published facts (FIPS 180-2
 * vectors, counts done by hand) and against wc(1)/sha256sum(1) on a random
 * ASCII text; CSV statistics against expected JSON, each input fed whole,
 * split at every point (every pair of points for short ones) and byte by
 * byte, with the same result every time.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filestats.h"
#include "tap.h"

/* Feed p in the pieces [0,a) [a,b) [b,n), or in pieces of step bytes when
 * step > 0; the final JSON, or NULL on any error. */
static json_t *
run(const void *p, size_t n, bool csv, size_t a, size_t b, size_t step)
{
	const uint8_t *u = p;
	struct filestats s;
	json_t *out = NULL;
	size_t off, k;
	bool good = filestats_init(&s, csv) == FILESTATS_OK;

	if (step > 0) {
		for (off = 0; good && off < n; off += k) {
			k = n - off < step ? n - off : step;
			good = filestats_update(&s, u + off, k) == FILESTATS_OK;
		}
	} else if (good) {
		good = filestats_update(&s, u, a) == FILESTATS_OK &&
		    filestats_update(&s, u + a, b - a) == FILESTATS_OK &&
		    filestats_update(&s, u + b, n - b) == FILESTATS_OK;
	}
	if (good && filestats_final(&s, &out) != FILESTATS_OK)
		out = NULL;
	filestats_free(&s);
	return out;
}

static void
diag(const char *what, const json_t *j)
{
	char *t = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	printf("#   %s: %s\n", what, t ? t : "(null)");
	free(t);
}

/* The same result whole, at every split (pairs when n <= 128), bytewise;
 * the "csv" member (or, with csv false, the whole object) equals want. */
static void
check(const char *name, const void *p, size_t n, bool csv, const json_t *want)
{
	json_t *whole = run(p, n, csv, 0, 0, 0), *got, *part;
	size_t a, b, bad = 0, tries = 0;

	part = whole && csv ? json_object_get(whole, "csv") : whole;
	if (!ok(part != NULL && json_equal(part, want), "%s", name)) {
		diag("got ", part);
		diag("want", want);
	}
	for (a = 0; a <= n; a++) {
		for (b = n <= 128 ? a : n; b <= n; b++) {
			got = run(p, n, csv, a, b, 0);
			bad += !json_equal(got, whole);
			tries++;
			json_decref(got);
		}
	}
	got = run(p, n, csv, 0, 0, 1);
	ok(bad == 0 && json_equal(got, whole),
	    "  same when split %zu ways and bytewise", tries);
	json_decref(got);
	json_decref(whole);
}

static void
check_text(const char *name, const char *p, size_t n, int bytes, int lines,
    int words, const char *sha)
{
	json_t *want = json_pack("{s:i, s:i, s:i, s:s, s:n}", "bytes", bytes,
	    "lines", lines, "words", words, "sha256", sha, "csv");

	check(name, p, n, false, want);
	json_decref(want);
}

#define SHA_EMPTY \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void
test_text(void)
{
	static const char m448[] =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char *million = malloc(1000000);
	json_t *j;

	/* FIPS 180-2 appendix B: B.1, B.2, B.3. */
	check_text("empty", "", 0, 0, 0, 0, SHA_EMPTY);
	check_text("\"abc\"", "abc", 3, 3, 0, 1,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_text("FIPS 180-2 B.2, 448 bits", m448, 56, 56, 0, 1,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', 1000000);
	j = run(million, 1000000, false, 0, 0, 4093);
	is_str(json_string_value(json_object_get(j, "sha256")),
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	    "FIPS 180-2 B.3: a million 'a', in 4093-byte pieces");
	ok(json_integer_value(json_object_get(j, "words")) == 1 &&
	        json_integer_value(json_object_get(j, "bytes")) == 1000000,
	    "  one word of 10^6 bytes");
	json_decref(j);
	free(million);

	/* Counted by hand; the digest is sha256sum's. */
	check_text("hello world\\n", "hello world\n", 12, 12, 1, 2,
	    "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");
	j = run(" \t\v\f\r\n", 6, false, 0, 0, 0);
	ok(json_integer_value(json_object_get(j, "words")) == 0 &&
	        json_integer_value(json_object_get(j, "lines")) == 1,
	    "all six C-locale spaces: no word, one line");
	json_decref(j);
	j = run("a\nb\n\nc", 6, false, 0, 0, 0);
	ok(json_integer_value(json_object_get(j, "words")) == 3 &&
	        json_integer_value(json_object_get(j, "lines")) == 3,
	    "no final newline: 3 lines counted as wc -l, 3 words");
	json_decref(j);
	j = run("\x01 a\x01"
	        "b \xc3\xa9t\xc3\xa9 \xff",
	    13, false, 0, 0, 0);
	ok(json_integer_value(json_object_get(j, "words")) == 4,
	    "POSIX words: \\x01, a\\x01b, été and \\xff are 4 words");
	json_decref(j);
}

/* Read "N1 N2 N3" from a command's output. */
static bool
read_counts(const char *cmd, long long v[3])
{
	FILE *f = popen(cmd, "r");
	int n;

	if (f == NULL)
		return false;
	n = fscanf(f, "%lld %lld %lld", &v[0], &v[1], &v[2]);
	return pclose(f) == 0 && n == 3;
}

/* Against the system's tools, on ASCII (where GNU wc's words are POSIX's). */
static void
test_tools(void)
{
	static const char alphabet[] = "ab XY,.\t\n\v\f\r019\"";
	char path[] = "/tmp/test_filestats.XXXXXX", cmd[128], sha[65] = "";
	size_t n = 3 << 20, i;
	uint64_t r = 2463534242u;
	char *buf = malloc(n);
	long long v[3];
	json_t *j;
	FILE *f;
	int fd;

	for (i = 0; i < n; i++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		buf[i] = alphabet[(r >> 32) % (sizeof(alphabet) - 1)];
	}
	if ((fd = mkstemp(path)) < 0 || write(fd, buf, n) != (ssize_t)n) {
		ok(1, "wc and sha256sum # SKIP no temporary file");
		free(buf);
		return;
	}
	close(fd);
	j = run(buf, n, true, 0, 0, 65536);
	snprintf(cmd, sizeof(cmd), "LC_ALL=C wc -l -w -c < %s", path);
	if (!read_counts(cmd, v)) {
		ok(1, "wc # SKIP wc(1) did not run");
	} else {
		ok(json_integer_value(json_object_get(j, "lines")) == v[0] &&
		        json_integer_value(json_object_get(j, "words")) ==
		            v[1] &&
		        json_integer_value(json_object_get(j, "bytes")) == v[2],
		    "3 MiB of random ASCII: wc says %lld %lld %lld", v[0], v[1],
		    v[2]);
	}
	snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
	if ((f = popen(cmd, "r")) == NULL || fscanf(f, "%64s", sha) != 1 ||
	    pclose(f) != 0)
		ok(1, "sha256sum # SKIP sha256sum(1) did not run");
	else
		is_str(json_string_value(json_object_get(j, "sha256")), sha,
		    "  and sha256sum agrees");
	json_decref(j);
	unlink(path);
	free(buf);
}

static void
check_csv(const char *name, const char *p, const char *want_json)
{
	json_error_t e;
	json_t *want = json_loads(want_json, 0, &e);

	if (!ok(want != NULL, "%s: (expected JSON parses)", name))
		printf("#   %s\n", e.text);
	check(name, p, strlen(p), true, want);
	json_decref(want);
}

static const struct {
	const char *name, *csv, *want;
} csvs[] = {
    {"plain", "id,name,price\n1,a,1.5\n2,b,2.25\n",
        "{\"rows\":2,\"columns\":[{\"name\":\"id\",\"sum\":3.0},"
        "{\"name\":\"name\",\"sum\":null},{\"name\":\"price\",\"sum\":3.75}],"
        "\"extra\":0,\"malformed\":0}"},
    {"quotes, commas and newlines",
        "id,\"na,me\",\"q\"\"uote\"\n1,\"x,y\",\"3\"\n"
        "2,\"multi\nline\",\"4.5\"\n",
        "{\"rows\":2,\"columns\":[{\"name\":\"id\",\"sum\":3.0},"
        "{\"name\":\"na,me\",\"sum\":null},"
        "{\"name\":\"q\\\"uote\",\"sum\":7.5}],\"extra\":0,"
        "\"malformed\":0}"},
    {"CRLF", "a,b\r\n1,2\r\n3,4\r\n",
        "{\"rows\":2,\"columns\":[{\"name\":\"a\",\"sum\":4.0},"
        "{\"name\":\"b\",\"sum\":6.0}],\"extra\":0,\"malformed\":0}"},
    {"CRLF in quotes", "a,b\r\n\"x\r\ny\",1\r\n\"\",2\r\n",
        "{\"rows\":2,\"columns\":[{\"name\":\"a\",\"sum\":null},"
        "{\"name\":\"b\",\"sum\":3.0}],\"extra\":0,\"malformed\":0}"},
    {"lone CR ends records", "a\r1\r2",
        "{\"rows\":2,\"columns\":[{\"name\":\"a\",\"sum\":3.0}],"
        "\"extra\":0,\"malformed\":0}"},
    {"empty cells", "a,b,c\n1,,x\n,2,\n3,,\n",
        "{\"rows\":3,\"columns\":[{\"name\":\"a\",\"sum\":4.0},"
        "{\"name\":\"b\",\"sum\":2.0},{\"name\":\"c\",\"sum\":null}],"
        "\"extra\":0,\"malformed\":0}"},
    {"no trailing newline", "a,b\n1,2\n3,4",
        "{\"rows\":2,\"columns\":[{\"name\":\"a\",\"sum\":4.0},"
        "{\"name\":\"b\",\"sum\":6.0}],\"extra\":0,\"malformed\":0}"},
    {"trailing comma, no newline", "a,b\n1,",
        "{\"rows\":1,\"columns\":[{\"name\":\"a\",\"sum\":1.0},"
        "{\"name\":\"b\",\"sum\":0.0}],\"extra\":0,\"malformed\":0}"},
    {"header only", "a,b\n",
        "{\"rows\":0,\"columns\":[{\"name\":\"a\",\"sum\":0.0},"
        "{\"name\":\"b\",\"sum\":0.0}],\"extra\":0,\"malformed\":0}"},
    {"header only, no newline", "a,b",
        "{\"rows\":0,\"columns\":[{\"name\":\"a\",\"sum\":0.0},"
        "{\"name\":\"b\",\"sum\":0.0}],\"extra\":0,\"malformed\":0}"},
    {"empty file", "",
        "{\"rows\":0,\"columns\":[],\"extra\":0,"
        "\"malformed\":0}"},
    {"blank lines are no records", "\na\n\n1\r\n\r\n2\n\n\n",
        "{\"rows\":2,\"columns\":[{\"name\":\"a\",\"sum\":3.0}],"
        "\"extra\":0,\"malformed\":0}"},
    {"a quoted empty field is a record", "a\n\"\"\n  \n1\n",
        "{\"rows\":3,\"columns\":[{\"name\":\"a\",\"sum\":1.0}],"
        "\"extra\":0,\"malformed\":0}"},
    {"cells beyond the header: extra", "a,b\n1,2,3,4\n5\n",
        "{\"rows\":2,\"columns\":[{\"name\":\"a\",\"sum\":6.0},"
        "{\"name\":\"b\",\"sum\":2.0}],\"extra\":2,\"malformed\":0}"},
    {"duplicate names", "a,a\n1,2\n",
        "{\"rows\":1,\"columns\":[{\"name\":\"a\",\"sum\":1.0},"
        "{\"name\":\"a\",\"sum\":2.0}],\"extra\":0,\"malformed\":0}"},
    {"closing quote at EOF", "a,b\n\"1\",\"2\"",
        "{\"rows\":1,\"columns\":[{\"name\":\"a\",\"sum\":1.0},"
        "{\"name\":\"b\",\"sum\":2.0}],\"extra\":0,\"malformed\":0}"},
    {"quotes inside unquoted fields, text after a closing quote",
        "a,b\n1,x\"y\n\"2\"z,3\n",
        "{\"rows\":2,\"columns\":[{\"name\":\"a\",\"sum\":null},"
        "{\"name\":\"b\",\"sum\":null}],\"extra\":0,\"malformed\":2}"},
    {"\"5\"5 reads as 55", "a\n\"5\"5\n",
        "{\"rows\":1,\"columns\":[{\"name\":\"a\",\"sum\":55.0}],"
        "\"extra\":0,\"malformed\":1}"},
    {"unterminated quote swallows the rest", "a,b\n1,\"open\n2,3\n",
        "{\"rows\":1,\"columns\":[{\"name\":\"a\",\"sum\":1.0},"
        "{\"name\":\"b\",\"sum\":null}],\"extra\":0,\"malformed\":1}"},
    {"unterminated quote at EOF", "a\n\"5",
        "{\"rows\":1,\"columns\":[{\"name\":\"a\",\"sum\":5.0}],"
        "\"extra\":0,\"malformed\":1}"},
    {"number forms", "n\n 1 \n+2\n-0.5\n1e2\n.5\n3.\n\t4E-1\t\n",
        "{\"rows\":7,\"columns\":[{\"name\":\"n\",\"sum\":106.4}],"
        "\"extra\":0,\"malformed\":0}"},
    {"not numbers",
        "ok,hex,inf,nan,big,exp,sign,dots,space,under,dot,plus\n"
        "1,0x10,inf,nan,1e400,1e,--1,1.2.3,1 2,1_0,.,+\n",
        "{\"rows\":1,\"columns\":[{\"name\":\"ok\",\"sum\":1.0},"
        "{\"name\":\"hex\",\"sum\":null},{\"name\":\"inf\",\"sum\":null},"
        "{\"name\":\"nan\",\"sum\":null},{\"name\":\"big\",\"sum\":null},"
        "{\"name\":\"exp\",\"sum\":null},{\"name\":\"sign\",\"sum\":null},"
        "{\"name\":\"dots\",\"sum\":null},"
        "{\"name\":\"space\",\"sum\":null},"
        "{\"name\":\"under\",\"sum\":null},{\"name\":\"dot\",\"sum\":null},"
        "{\"name\":\"plus\",\"sum\":null}],\"extra\":0,\"malformed\":0}"},
    {"a sum overflowing to inf is null", "a,b\n1e308,1\n1e308,2\n",
        "{\"rows\":2,\"columns\":[{\"name\":\"a\",\"sum\":null},"
        "{\"name\":\"b\",\"sum\":3.0}],\"extra\":0,\"malformed\":0}"},
    {"names: invalid UTF-8 becomes U+FFFD", "\xff\xfe,\xc3\xa9\n1,2\n",
        "{\"rows\":1,\"columns\":[{\"name\":\"\\ufffd\\ufffd\","
        "\"sum\":1.0},{\"name\":\"\\u00e9\",\"sum\":2.0}],\"extra\":0,"
        "\"malformed\":0}"},
};

static void
test_csv_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(csvs) / sizeof(csvs[0]); i++)
		check_csv(csvs[i].name, csvs[i].csv, csvs[i].want);
}

/* Append s to b at *len (b has room). */
static void
put(char *b, size_t *len, const char *s)
{
	size_t n = strlen(s);

	memcpy(b + *len, s, n);
	*len += n;
	b[*len] = '\0';
}

static double
sum_of(json_t *j, size_t col)
{
	json_t *c = json_object_get(json_object_get(j, "csv"), "columns");

	return json_real_value(json_object_get(json_array_get(c, col), "sum"));
}

static void
test_csv_sums(void)
{
	char *b = malloc(1 << 16), num[32];
	size_t len = 0, i;
	json_t *j;

	put(b, &len, "x\n");
	for (i = 0; i < 10; i++)
		put(b, &len, "0.1\n");
	j = run(b, len, true, 0, 0, 3);
	ok(sum_of(j, 0) == 1.0, "ten times 0.1 sums to 1.0 (compensated)");
	json_decref(j);

	len = 0;
	put(b, &len, "n\n");
	for (i = 1; i <= 1000; i++) {
		snprintf(num, sizeof(num), "%zu\n", i);
		put(b, &len, num);
	}
	j = run(b, len, true, 0, 0, 7);
	ok(sum_of(j, 0) == 500500.0, "1..1000 sums to 500500 exactly");
	json_decref(j);

	len = 0;
	put(b, &len, "big\n9007199254740991\n-9007199254740990\n");
	j = run(b, len, true, 0, 0, 0);
	ok(sum_of(j, 0) == 1.0, "2^53-1 and -(2^53-2) sum to 1");
	json_decref(j);
	free(b);
}

/* Field limits: long names are cut, long numbers are no numbers, columns
 * past FILESTATS_MAX_COLUMNS land in "extra". */
static void
test_csv_limits(void)
{
	char *b = malloc(1 << 16), xs[FILESTATS_FIELD_MAX + 1], ys[256],
	     long_num[301], cell[16];
	size_t len = 0, i;
	json_t *want, *cols, *col;

	memset(xs, 'x', FILESTATS_FIELD_MAX);
	xs[FILESTATS_FIELD_MAX] = '\0';
	memset(ys, 'y', 255);
	ys[255] = '\0';
	memset(long_num, '0', 299);
	strcpy(long_num + 299, "1");
	/* 300 x, then 255 y + "é" (cut inside the é), then n. */
	put(b, &len, xs);
	put(b, &len, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx,");
	put(b, &len, ys);
	put(b, &len, "\xc3\xa9,n\n1,2,");
	put(b, &len, long_num);
	put(b, &len, "\n");
	want = json_pack("{s:i, s:[{s:s, s:f}, {s:s, s:f}, {s:s, s:n}], "
	                 "s:i, s:i}",
	    "rows", 1, "columns", "name", xs, "sum", 1.0, "name", ys, "sum",
	    2.0, "name", "n", "sum", "extra", 0, "malformed", 0);
	check("300-byte name cut to 256, a cut é dropped, 300-digit number "
	      "no number",
	    b, len, true, want);
	json_decref(want);

	len = 0;
	put(b, &len, "a\n");
	memset(b + len, ' ', 300);
	len += 300;
	put(b, &len, "\n1\n");
	want = json_pack("{s:i, s:[{s:s, s:f}], s:i, s:i}", "rows", 2,
	    "columns", "name", "a", "sum", 1.0, "extra", 0, "malformed", 0);
	check("a cell of 300 spaces is empty", b, len, true, want);
	json_decref(want);

	len = 0;
	cols = json_array();
	for (i = 0; i < 300; i++) {
		snprintf(cell, sizeof(cell), "%sc%zu", i ? "," : "", i);
		put(b, &len, cell);
		if (i < FILESTATS_MAX_COLUMNS) {
			col = json_pack("{s:s, s:f}", "name", cell + (i > 0),
			    "sum", (double)i);
			json_array_append_new(cols, col);
		}
	}
	put(b, &len, "\n");
	for (i = 0; i < 300; i++) {
		snprintf(cell, sizeof(cell), "%s%zu", i ? "," : "", i);
		put(b, &len, cell);
	}
	want = json_pack("{s:i, s:o, s:i, s:i}", "rows", 1, "columns", cols,
	    "extra", 300 - FILESTATS_MAX_COLUMNS, "malformed", 0);
	check("300 columns: the first 256, 44 extra cells", b, len, true, want);
	json_decref(want);
	free(b);
}

static void
test_states(void)
{
	struct filestats s, zero;
	json_t *j = NULL;

	memset(&zero, 0, sizeof(zero));
	ok(filestats_update(&zero, (const uint8_t *)"a", 1) ==
	            FILESTATS_ESTATE &&
	        filestats_final(&zero, &j) == FILESTATS_ESTATE && j == NULL,
	    "a zeroed struct: FILESTATS_ESTATE");
	filestats_free(&zero);

	filestats_init(&s, true);
	ok(filestats_update(&s, NULL, 0) == FILESTATS_OK &&
	        filestats_update(&s, NULL, 1) == FILESTATS_EARG,
	    "NULL with 0 bytes is fine, with 1 byte FILESTATS_EARG");
	ok(filestats_final(&s, &j) == FILESTATS_OK && j != NULL, "final once");
	json_decref(j);
	ok(filestats_final(&s, &j) == FILESTATS_ESTATE && j == NULL &&
	        filestats_update(&s, (const uint8_t *)"a", 1) ==
	            FILESTATS_ESTATE,
	    "  then final and update: FILESTATS_ESTATE");
	filestats_free(&s);
	filestats_free(&s);
	ok(filestats_update(&s, (const uint8_t *)"a", 1) == FILESTATS_ESTATE,
	    "  freed twice, still FILESTATS_ESTATE");
	ok(strcmp(filestats_result_name(FILESTATS_EARG), "FILESTATS_EARG") ==
	            0 &&
	        strcmp(filestats_result_name((enum filestats_result)77),
	            "FILESTATS_?") == 0,
	    "filestats_result_name");

	j = run("a,b\n1,2\n", 8, false, 0, 0, 0);
	ok(json_is_null(json_object_get(j, "csv")) &&
	        json_integer_value(json_object_get(j, "lines")) == 2,
	    "csv false: \"csv\": null");
	json_decref(j);
}

int
main(void)
{
	test_text();
	test_tools();
	test_csv_table();
	test_csv_sums();
	test_csv_limits();
	test_states();
	return done_testing();
}
