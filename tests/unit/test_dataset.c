/* test_dataset — rows, cursors and the tokens under them (TAP). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "dataset.h"
#include "tap.h"
#include "token.h"

/* Expected rows computed independently (Python's datetime). */
static const struct {
	uint64_t id;
	const char *csv;
} rows[] = {
    {1, "1,item-1,79.19,2026-01-01T00:00:00Z\n"},
    {2, "2,item-2,158.38,2026-01-01T00:00:01Z\n"},
    {86401, "86401,item-86401,889.96,2026-01-02T00:00:00Z\n"},
    {68169601, "68169601,item-68169601,757.55,2028-02-29T00:00:00Z\n"},
    {100003, "100003,item-100003,0.00,2026-01-02T03:46:42Z\n"},
    {100004, "100004,item-100004,79.19,2026-01-02T03:46:43Z\n"},
    {1000000000, "1000000000,item-1000000000,371.28,2057-09-09T01:46:39Z\n"},
};

static void
test_rows(void)
{
	char buf[DATASET_ROW_MAX];
	size_t i, n;

	n = dataset_csv_header(buf, sizeof(buf));
	ok(n == 24 && memcmp(buf, "id,name,value,timestamp\n", n) == 0,
	    "csv header");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = dataset_csv_row(rows[i].id, buf, sizeof(buf));
		buf[n] = '\0';
		is_str(buf, rows[i].csv, "csv row");
	}
	n = dataset_json_row(2, buf, sizeof(buf));
	buf[n] = '\0';
	is_str(buf,
	    "{\"id\":2,\"name\":\"item-2\",\"value\":158.38,"
	    "\"timestamp\":\"2026-01-01T00:00:01Z\"}",
	    "json row");
	ok(dataset_csv_row(1, buf, DATASET_ROW_MAX - 1) == 0,
	    "a buffer under DATASET_ROW_MAX is refused");
}

static void
test_tokens(void)
{
	uint8_t p[7] = {1, 2, 3, 4, 5, 6, 7}, q[7];
	char t[TOKEN_LEN(7) + 1], bad[TOKEN_LEN(7) + 1];
	size_t i, len, refused = 0;

	token_seal("salt", p, sizeof(p), t);
	len = strlen(t);
	ok(len == TOKEN_LEN(7), "token length %zu", len);
	ok(token_open("salt", t, len, q, sizeof(q)) &&
	        memcmp(p, q, sizeof(p)) == 0,
	    "a token opens to its payload");
	ok(!token_open("pepper", t, len, q, sizeof(q)),
	    "another salt refuses it");
	ok(!token_open("salt", t, len - 1, q, sizeof(q)),
	    "a truncated token is refused");
	ok(!token_open("salt", t, len, q, sizeof(q) - 1),
	    "a token of another size is refused");
	for (i = 0; i < len; i++) { /* every one-character edit */
		memcpy(bad, t, sizeof(t));
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		refused += !token_open("salt", bad, len, q, sizeof(q));
	}
	ok(refused == len, "every edited character is refused (%zu/%zu)",
	    refused, len);
	memcpy(bad, t, sizeof(t));
	bad[3] = '=';
	ok(!token_open("salt", bad, len, q, sizeof(q)),
	    "a character outside base64url is refused");
	ok(!token_open("salt", "", 0, q, 0) || TOKEN_LEN(0) != 0,
	    "an empty text is no token");
}

static void
test_cursors(void)
{
	char c[DATASET_CURSOR_LEN + 1];
	uint64_t id = 0;

	dataset_cursor_encode(1000, 101, c);
	ok(strlen(c) == DATASET_CURSOR_LEN, "cursor length");
	ok(dataset_cursor_decode(c, strlen(c), 1000, &id) && id == 101,
	    "a cursor opens to its position");
	ok(!dataset_cursor_decode(c, strlen(c), 999, &id),
	    "a cursor of another dataset size is refused");
	dataset_cursor_encode(1000, 1001, c);
	ok(!dataset_cursor_decode(c, strlen(c), 1000, &id),
	    "a position past the end is refused");
	dataset_cursor_encode(1000, 0, c);
	ok(!dataset_cursor_decode(c, strlen(c), 1000, &id),
	    "position 0 is refused");
	ok(!dataset_cursor_decode("garbage", 7, 1000, &id),
	    "garbage is refused");
	dataset_cursor_encode(DATASET_MAX_ROWS, DATASET_MAX_ROWS, c);
	ok(dataset_cursor_decode(c, strlen(c), DATASET_MAX_ROWS, &id) &&
	        id == DATASET_MAX_ROWS,
	    "the largest dataset's last row");
}

int
main(void)
{
	test_rows();
	test_tokens();
	test_cursors();
	return done_testing();
}
