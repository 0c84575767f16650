/*
 * test_gz — Accept-Encoding decisions, and gzip streams checked by an
 * independent decoder: zlib's inflate (windowBits 15+32, gzip detected
 * from the header) fed from the sink as the bytes come out, and gzip(1)
 * on a file when it is installed.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "gz.h"
#include "tap.h"

#define BIG (10u * 1000 * 1000)

static const struct {
	const char *ae;
	bool want;
} accepts[] = {
    {NULL, false},
    {"", false},
    {"   ", false},
    {",", false},
    {"identity", false},
    {"identity;q=1", false},
    {"gzip", true},
    {"GZip", true},
    {"x-gzip", true},
    {"X-GZIP", true},
    {"deflate, gzip", true},
    {"gzip, deflate, br, zstd", true},
    {"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
    {"  gzip  ", true},
    {",,gzip,,", true},
    {"deflate,br", false},
    {"gzipper", false},
    {"gzip2", false},
    {"gzi", false},
    {"gzip;q=0", false},
    {"gzip;q=0.", false},
    {"gzip;q=0.0", false},
    {"gzip;q=0.000", false},
    {"gzip ; q=0", false},
    {"gzip;Q=0", false},
    {"gzip;q=0.001", true},
    {"gzip;q=0.5", true},
    {"gzip;q=1", true},
    {"gzip;q=1.", true},
    {"gzip;q=1.000", true},
    {"gzip;q=0, *", false},
    {"*, gzip;q=0", false},
    {"*;q=1, gzip;q=0.0", false},
    {"x-gzip;q=0, *", false},
    {"gzip;q=0, x-gzip", false},
    {"*", true},
    {"*;q=0.3", true},
    {"*;q=0", false},
    {"identity, *;q=0", false},
    {"*;q=0, gzip", true},
    {"deflate;q=0, *", true},
    /* Malformed weights make their entry count as q=0. */
    {"gzip;q=", false},
    {"gzip;q=abc", false},
    {"gzip;q=1.5", false},
    {"gzip;q=2", false},
    {"gzip;q=0.0001", false},
    {"gzip;q=.5", false},
    {"gzip;q=-1", false},
    {"gzip;q=1.001", false},
    {"gzip;q= 1", false},
    {"gzip;q=0.5x", false},
    {"gzip;q=\"1\"", false},
    {"gzip;q=abc, *", false},
    {"gzip;q", false},
    {"gzip;", false},
    {"gzip garbage", false},
    {"*;q=bad", false},
    {"*;q=bad, gzip", true},
    {"gzip;level=\"a,b\";q=1", true},
    {"gzip;level=\"a,b;q=0\"", true},
    {"br;x=\"unterminated, gzip", false},
    {"gzip;foo=bar", true},
    {"gzip;q=0.5;foo=bar", true},
    {"\tgzip\t;\tq=0.5\t", true},
};

static void
test_accepts(void)
{
	size_t i;

	for (i = 0; i < sizeof(accepts) / sizeof(accepts[0]); i++)
		ok(gz_accepts(accepts[i].ae) == accepts[i].want,
		    "Accept-Encoding \"%s\" -> %s",
		    accepts[i].ae ? accepts[i].ae : "(null)",
		    accepts[i].want ? "gzip" : "identity");
}

/* A sink that inflates what it gets and compares it with the expected
 * plain text; it can also keep the compressed bytes and fail on demand. */
struct check {
	z_stream inf;
	const unsigned char *want;
	size_t wantlen, plain; /* plain: bytes inflated and matched so far */
	unsigned char *keep;   /* compressed copy, when asked for */
	size_t keeplen, keepcap, calls, fail_at;
	bool bad, ended, badsize;
};

static bool
check_init(struct check *c, const void *want, size_t wantlen, bool keep)
{
	memset(c, 0, sizeof(*c));
	c->want = want;
	c->wantlen = wantlen;
	c->fail_at = SIZE_MAX;
	if (keep) {
		c->keepcap = 1 << 16;
		if ((c->keep = malloc(c->keepcap)) == NULL)
			return false;
	}
	return inflateInit2(&c->inf, 15 + 32) == Z_OK;
}

static void
check_free(struct check *c)
{
	inflateEnd(&c->inf);
	free(c->keep);
}

static void
check_keep(struct check *c, const void *p, size_t n)
{
	while (c->keepcap - c->keeplen < n) {
		c->keepcap *= 2;
		if ((c->keep = realloc(c->keep, c->keepcap)) == NULL)
			abort();
	}
	memcpy(c->keep + c->keeplen, p, n);
	c->keeplen += n;
}

static bool
check_sink(void *arg, const void *p, size_t n)
{
	struct check *c = arg;
	unsigned char out[8192];
	size_t have;
	int rc;

	if (++c->calls >= c->fail_at)
		return false;
	if (n == 0 || n > GZ_CHUNK)
		c->badsize = true;
	if (c->keep != NULL)
		check_keep(c, p, n);
	c->inf.next_in = (Bytef *)(uintptr_t)p;
	c->inf.avail_in = (uInt)n;
	do {
		c->inf.next_out = out;
		c->inf.avail_out = sizeof(out);
		rc = inflate(&c->inf, Z_SYNC_FLUSH);
		if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) {
			c->bad = true;
			return true;
		}
		have = sizeof(out) - c->inf.avail_out;
		if (have > c->wantlen - c->plain ||
		    memcmp(out, c->want + c->plain, have) != 0)
			c->bad = true;
		else
			c->plain += have;
		if (rc == Z_STREAM_END) {
			c->ended = true;
			if (c->inf.avail_in != 0)
				c->bad = true; /* bytes after the member */
			break;
		}
	} while (c->inf.avail_out == 0 || c->inf.avail_in > 0);
	return true;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned char *
make_random(size_t n)
{
	unsigned char *b = malloc(n);
	size_t i;

	if (b == NULL)
		abort();
	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(xorshift() >> 56);
	return b;
}

/* CSV rows like the exports: "123,item-123,456.78,2026-01-01T00:02:03Z". */
static unsigned char *
make_csv(size_t n)
{
	unsigned char *b = malloc(n + 128);
	size_t len = 0;
	unsigned i = 0;

	if (b == NULL)
		abort();
	while (len < n) {
		len += (size_t)snprintf((char *)b + len, 128,
		    "%u,item-%u,%u.%02u,2026-01-01T%02u:%02u:%02uZ\n", i, i,
		    (i * 7919) % 100000, i % 100, i / 3600 % 24, i / 60 % 60,
		    i % 60);
		i++;
	}
	return b;
}

/* Compress data in pieces of varying size (0 included), flushing every
 * few pieces and checking each time that all of it came through. */
static void
round_trip(const char *name, const unsigned char *data, size_t n, size_t maxp,
    int level)
{
	struct check c;
	struct gz z;
	size_t off = 0, piece, pieces = 0, flushes = 0, flush_ok = 0;
	enum gz_result r = GZ_OK;

	if (!ok(check_init(&c, data, n, false) && gz_init(&z, level) == GZ_OK,
	        "%s: init", name))
		return;
	while (off < n && r == GZ_OK) {
		piece = maxp ? (size_t)(xorshift() % (maxp + 1)) : n;
		if (piece > n - off)
			piece = n - off;
		r = gz_write(&z, data + off, piece, check_sink, &c);
		off += piece;
		if (r == GZ_OK && ++pieces % 7 == 0) {
			r = gz_flush(&z, check_sink, &c);
			flushes++;
			flush_ok += c.plain == off;
		}
	}
	ok(r == GZ_OK && flush_ok == flushes,
	    "%s: %zu pieces, %zu flushes, each flush delivers all so far", name,
	    pieces, flushes);
	r = gz_finish(&z, check_sink, &c);
	ok(r == GZ_OK && c.ended && !c.bad && c.plain == n && !c.badsize,
	    "%s: %zu bytes inflate back exactly (%zu compressed chunks)", name,
	    n, c.calls);
	gz_free(&z);
	check_free(&c);
}

static void
test_round_trips(void)
{
	unsigned char *rnd = make_random(BIG), *csv = make_csv(BIG);

	round_trip("empty", (const unsigned char *)"", 0, 0, GZ_LEVEL_DEFAULT);
	round_trip("small", (const unsigned char *)"hello, world\n", 13, 0,
	    GZ_LEVEL_DEFAULT);
	round_trip("small, bytewise", (const unsigned char *)"hello, world\n",
	    13, 1, GZ_LEVEL_DEFAULT);
	round_trip("10 MB random, whole", rnd, BIG, 0, GZ_LEVEL_DEFAULT);
	round_trip("10 MB random, pieces", rnd, BIG, 70000, GZ_LEVEL_DEFAULT);
	round_trip("10 MB CSV, pieces", csv, BIG, 70000, GZ_LEVEL_DEFAULT);
	round_trip("1 MB CSV, small pieces", csv, BIG / 10, 300, 6);
	round_trip("10 MB repetitive, level 9", csv, BIG, 100000, 9);
	round_trip("1 MB random, level 0", rnd, BIG / 10, 5000, 0);
	memset(rnd, 'x', BIG);
	round_trip("10 MB of one byte", rnd, BIG, 1 << 20, GZ_LEVEL_DEFAULT);
	free(rnd);
	free(csv);
}

/* A gzip member by RFC 1952: magic, CM=8, and the CRC-32/ISIZE trailer. */
static void
test_format(void)
{
	static const char text[] = "id,name\n1,a\n2,b\n";
	struct check c;
	struct gz z;
	const unsigned char *k;
	uint32_t crc, isize;
	char dir[] = "/tmp/test_gz.XXXXXX", cmd[256];
	FILE *f;
	int rc;

	check_init(&c, text, sizeof(text) - 1, true);
	gz_init(&z, GZ_LEVEL_DEFAULT);
	gz_write(&z, text, sizeof(text) - 1, check_sink, &c);
	rc = gz_finish(&z, check_sink, &c);
	ok(rc == GZ_OK && c.keeplen >= 18, "format: a member of %zu bytes",
	    c.keeplen);
	k = c.keep;
	ok(k[0] == 0x1f && k[1] == 0x8b && k[2] == 8, "  magic 1f 8b, CM 8");
	crc = (uint32_t)k[c.keeplen - 8] | (uint32_t)k[c.keeplen - 7] << 8 |
	    (uint32_t)k[c.keeplen - 6] << 16 | (uint32_t)k[c.keeplen - 5] << 24;
	isize = (uint32_t)k[c.keeplen - 4] | (uint32_t)k[c.keeplen - 3] << 8 |
	    (uint32_t)k[c.keeplen - 2] << 16 | (uint32_t)k[c.keeplen - 1] << 24;
	ok(crc == crc32(0, (const Bytef *)text, sizeof(text) - 1) &&
	        isize == sizeof(text) - 1,
	    "  trailer: CRC-32 and ISIZE of the input");
	gz_free(&z);

	if (system("gzip --version >/dev/null 2>&1") != 0 ||
	    mkdtemp(dir) == NULL) {
		ok(1, "gzip -d # SKIP no gzip(1) or no temporary directory");
	} else {
		snprintf(cmd, sizeof(cmd), "%s/a.gz", dir);
		f = fopen(cmd, "wb");
		fwrite(c.keep, 1, c.keeplen, f);
		fclose(f);
		snprintf(cmd, sizeof(cmd),
		    "cd %s && gzip -d a.gz && printf 'id,name\\n1,a\\n2,b\\n' |"
		    " cmp -s - a && rm -f a && rmdir %s",
		    dir, dir);
		rc = system(cmd);
		ok(rc == 0, "gzip -d decompresses it to the same bytes");
	}
	check_free(&c);
}

/* The sink's false aborts the call, and every later one. */
static void
test_sink_failure(void)
{
	unsigned char *rnd = make_random(1 << 20);
	struct check c;
	struct gz z;
	enum gz_result r;

	check_init(&c, rnd, 1 << 20, false);
	c.fail_at = 3;
	gz_init(&z, GZ_LEVEL_DEFAULT);
	r = gz_write(&z, rnd, 1 << 20, check_sink, &c);
	ok(r == GZ_ESINK && c.calls == 3, "sink fails on call 3: GZ_ESINK");
	ok(gz_write(&z, "x", 1, check_sink, &c) == GZ_ESINK &&
	        gz_flush(&z, check_sink, &c) == GZ_ESINK &&
	        gz_finish(&z, check_sink, &c) == GZ_ESINK && c.calls == 3,
	    "  later calls return GZ_ESINK without calling the sink");
	gz_free(&z);
	gz_free(&z);
	check_free(&c);

	check_init(&c, "abc", 3, false);
	c.fail_at = 2;
	gz_init(&z, GZ_LEVEL_DEFAULT);
	ok(gz_write(&z, "abc", 3, check_sink, &c) == GZ_OK && c.calls == 1,
	    "a small write sends only the gzip header");
	ok(gz_flush(&z, check_sink, &c) == GZ_ESINK, "  failing flush");
	gz_free(&z);
	check_free(&c);

	check_init(&c, "abc", 3, false);
	c.fail_at = 1;
	gz_init(&z, GZ_LEVEL_DEFAULT);
	gz_write(&z, "abc", 3, check_sink, &c);
	ok(gz_finish(&z, check_sink, &c) == GZ_ESINK, "  failing finish");
	gz_free(&z);
	check_free(&c);
	free(rnd);
}

static void
test_states(void)
{
	struct check c;
	struct gz z, zero;
	size_t calls;

	memset(&zero, 0, sizeof(zero));
	check_init(&c, "ab", 2, false);
	ok(gz_write(&zero, "a", 1, check_sink, &c) == GZ_ESTATE &&
	        gz_finish(&zero, check_sink, &c) == GZ_ESTATE,
	    "a zeroed struct gz: GZ_ESTATE");
	gz_free(&zero);
	ok(gz_init(&z, 10) == GZ_EARG && gz_init(&z, -2) == GZ_EARG,
	    "levels 10 and -2: GZ_EARG");
	gz_free(&z);
	ok(gz_write(&z, "a", 1, check_sink, &c) == GZ_ESTATE,
	    "  the failed stream is unusable, gz_free was safe");

	gz_init(&z, GZ_LEVEL_DEFAULT);
	ok(gz_flush(&z, check_sink, &c) == GZ_OK && c.calls == 0,
	    "flush with nothing written sends nothing");
	gz_write(&z, "a", 1, check_sink, &c);
	gz_flush(&z, check_sink, &c);
	calls = c.calls;
	ok(gz_flush(&z, check_sink, &c) == GZ_OK && c.calls == calls,
	    "  nor does a second flush");
	ok(gz_write(&z, NULL, 0, check_sink, &c) == GZ_OK &&
	        gz_write(&z, NULL, 1, check_sink, &c) == GZ_EARG,
	    "NULL with 0 bytes is fine, with 1 byte GZ_EARG");
	gz_write(&z, "b", 1, check_sink, &c);
	ok(gz_finish(&z, check_sink, &c) == GZ_OK && c.ended && !c.bad &&
	        c.plain == 2,
	    "write, flush, write, finish: \"ab\"");
	calls = c.calls;
	ok(gz_finish(&z, check_sink, &c) == GZ_OK && c.calls == calls,
	    "  a second finish is a no-op");
	ok(gz_write(&z, "c", 1, check_sink, &c) == GZ_ESTATE &&
	        gz_flush(&z, check_sink, &c) == GZ_ESTATE,
	    "  write and flush after finish: GZ_ESTATE");
	gz_free(&z);
	gz_free(&z);
	ok(gz_write(&z, "c", 1, check_sink, &c) == GZ_ESTATE,
	    "  and after gz_free (twice)");
	check_free(&c);
	ok(strcmp(gz_result_name(GZ_ESINK), "GZ_ESINK") == 0 &&
	        strcmp(gz_result_name((enum gz_result)99), "GZ_?") == 0,
	    "gz_result_name");
}

static void
test_compress(void)
{
	unsigned char *csv = make_csv(1 << 20), *out, *back, *again;
	size_t outlen, againlen;
	enum gz_result r;
	uLongf backlen;
	z_stream s;
	int rc;

	r = gz_compress(csv, 1 << 20, GZ_LEVEL_DEFAULT, &out, &outlen);
	ok(r == GZ_OK && outlen < (1 << 20) / 3,
	    "gz_compress: 1 MiB of CSV to %zu bytes", outlen);
	back = malloc(1 << 20);
	memset(&s, 0, sizeof(s));
	inflateInit2(&s, 15 + 16);
	s.next_in = out;
	s.avail_in = (uInt)outlen;
	s.next_out = back;
	s.avail_out = 1 << 20;
	rc = inflate(&s, Z_FINISH);
	backlen = s.total_out;
	inflateEnd(&s);
	ok(rc == Z_STREAM_END && backlen == 1 << 20 &&
	        memcmp(back, csv, 1 << 20) == 0,
	    "  inflates back");
	ok(gz_compress(csv, 1 << 20, -1, &again, &againlen) == GZ_OK &&
	        againlen == outlen && memcmp(again, out, outlen) == 0,
	    "  level -1 is GZ_LEVEL_DEFAULT");
	free(again);
	free(out);
	ok(gz_compress(NULL, 0, 9, &out, &outlen) == GZ_OK && outlen == 20 &&
	        out[0] == 0x1f && out[1] == 0x8b,
	    "  empty input: a 20-byte member");
	free(out);
	r = gz_compress(csv, 1000, 0, &out, &outlen);
	ok(r == GZ_OK && outlen > 1000, "  level 0 stores (%zu bytes for 1000)",
	    outlen);
	free(out);
	ok(gz_compress(csv, 10, 11, &out, &outlen) == GZ_EARG && out == NULL,
	    "  bad level: GZ_EARG, no buffer");
	free(back);
	free(csv);
}

int
main(void)
{
	test_accepts();
	test_round_trips();
	test_format();
	test_sink_failure();
	test_states();
	test_compress();
	return done_testing();
}
