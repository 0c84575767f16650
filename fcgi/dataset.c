/* dataset — the deterministic rows; contract in dataset.h. */
#include "config.h"

#include <string.h>

#include "dataset.h"

#define CURSOR_VERSION 1
#define CURSOR_PAYLOAD 9 /* version, rows (4), next id (4) */
#define CURSOR_SALT    "fcgilab items cursor"

/* Decimal digits of v at p, most significant first; returns the count. */
static size_t
put_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

static void
put_2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

/* Howard Hinnant's civil_from_days: days since 1970-01-01 → y, m, d. */
static void
civil(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

/* "YYYY-MM-DDTHH:MM:SSZ" (20 characters) for unix time t ≥ 0. */
static size_t
put_time(char *p, int64_t t)
{
	int64_t y;
	unsigned mo, d, s = (unsigned)(t % 86400);

	civil(t / 86400, &y, &mo, &d);
	p[0] = (char)('0' + y / 1000 % 10);
	p[1] = (char)('0' + y / 100 % 10);
	put_2(p + 2, (unsigned)(y % 100));
	p[4] = '-';
	put_2(p + 5, mo);
	p[7] = '-';
	put_2(p + 8, d);
	p[10] = 'T';
	put_2(p + 11, s / 3600);
	p[13] = ':';
	put_2(p + 14, s / 60 % 60);
	p[16] = ':';
	put_2(p + 17, s % 60);
	p[19] = 'Z';
	return 20;
}

/* "79.19" */
static size_t
put_value(char *p, uint64_t id)
{
	uint64_t v = id % 100003 * 7919 % 100003;
	size_t n = put_u64(p, v / 100);

	p[n] = '.';
	put_2(p + n + 1, (unsigned)(v % 100));
	return n + 3;
}

size_t
dataset_csv_header(char *buf, size_t cap)
{
	static const char h[] = "id,name,value,timestamp\n";

	if (cap < sizeof(h) - 1)
		return 0;
	memcpy(buf, h, sizeof(h) - 1);
	return sizeof(h) - 1;
}

size_t
dataset_csv_row(uint64_t id, char *buf, size_t cap)
{
	char *p = buf;

	if (cap < DATASET_ROW_MAX)
		return 0;
	p += put_u64(p, id);
	memcpy(p, ",item-", 6);
	p += 6;
	p += put_u64(p, id);
	*p++ = ',';
	p += put_value(p, id);
	*p++ = ',';
	p += put_time(p, DATASET_EPOCH + (int64_t)id - 1);
	*p++ = '\n';
	return (size_t)(p - buf);
}

size_t
dataset_json_row(uint64_t id, char *buf, size_t cap)
{
	char *p = buf;

	if (cap < DATASET_ROW_MAX)
		return 0;
	memcpy(p, "{\"id\":", 6);
	p += 6;
	p += put_u64(p, id);
	memcpy(p, ",\"name\":\"item-", 14);
	p += 14;
	p += put_u64(p, id);
	memcpy(p, "\",\"value\":", 10);
	p += 10;
	p += put_value(p, id);
	memcpy(p, ",\"timestamp\":\"", 14);
	p += 14;
	p += put_time(p, DATASET_EPOCH + (int64_t)id - 1);
	memcpy(p, "\"}", 2);
	p += 2;
	return (size_t)(p - buf);
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

void
dataset_cursor_encode(
    uint64_t rows, uint64_t next_id, char out[DATASET_CURSOR_LEN + 1])
{
	uint8_t raw[CURSOR_PAYLOAD];

	raw[0] = CURSOR_VERSION;
	put_be32(raw + 1, (uint32_t)rows);
	put_be32(raw + 5, (uint32_t)next_id);
	token_seal(CURSOR_SALT, raw, sizeof(raw), out);
}

bool
dataset_cursor_decode(
    const char *s, size_t len, uint64_t rows, uint64_t *next_id)
{
	uint8_t raw[CURSOR_PAYLOAD];
	uint64_t id;

	if (!token_open(CURSOR_SALT, s, len, raw, sizeof(raw)) ||
	    raw[0] != CURSOR_VERSION || get_be32(raw + 1) != rows)
		return false;
	id = get_be32(raw + 5);
	if (id < 1 || id > rows)
		return false;
	*next_id = id;
	return true;
}
