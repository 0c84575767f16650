/* filestats — one-pass file statistics; contract in filestats.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "filestats.h"

static const char *const filestats_names[] = {
    [FILESTATS_OK] = "FILESTATS_OK",
    [FILESTATS_ENOMEM] = "FILESTATS_ENOMEM",
    [FILESTATS_ECRYPTO] = "FILESTATS_ECRYPTO",
    [FILESTATS_EARG] = "FILESTATS_EARG",
    [FILESTATS_ESTATE] = "FILESTATS_ESTATE",
};

const char *
filestats_result_name(enum filestats_result r)
{
	if ((size_t)r >= sizeof(filestats_names) / sizeof(filestats_names[0]))
		return "FILESTATS_?";
	return filestats_names[r];
}

enum filestats_result
filestats_init(struct filestats *s, bool csv)
{
	memset(s, 0, sizeof(*s));
	s->err = FILESTATS_ESTATE;
	if ((s->md = EVP_MD_CTX_new()) == NULL)
		return FILESTATS_ENOMEM;
	if (EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
		filestats_free(s);
		return FILESTATS_ECRYPTO;
	}
	if (csv &&
	    (s->cols = calloc(FILESTATS_MAX_COLUMNS, sizeof(s->cols[0]))) ==
	        NULL) {
		filestats_free(s);
		return FILESTATS_ENOMEM;
	}
	s->st = FILESTATS_CSV_START;
	s->err = FILESTATS_OK;
	return FILESTATS_OK;
}

void
filestats_free(struct filestats *s)
{
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
	free(s->cols);
	s->cols = NULL;
}

/* ---- bytes, lines, words ---- */

/* The C locale's isspace(): " \t\n\v\f\r". */
static const bool is_ws[256] = {
    [' '] = true,
    ['\t'] = true,
    ['\n'] = true,
    ['\v'] = true,
    ['\f'] = true,
    ['\r'] = true,
};

static void
count_text(struct filestats *s, const uint8_t *p, size_t n)
{
	uint64_t lines = 0, words = 0;
	bool in_word = s->in_word;
	size_t i;

	for (i = 0; i < n; i++) {
		if (is_ws[p[i]]) {
			lines += p[i] == '\n';
			in_word = false;
		} else {
			words += !in_word;
			in_word = true;
		}
	}
	s->bytes += n;
	s->lines += lines;
	s->words += words;
	s->in_word = in_word;
}

/* ---- CSV (RFC 4180 §2, leniently) ---- */

/* A decimal number as strtod reads one, the whole of s (len bytes, spaces
 * and tabs already trimmed): [+-] (D+ [. D*] | . D+) [(e|E) [+-] D+]. */
static bool
is_decimal(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < len && s[i] == '.')
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == len || s[i] < '0' || s[i] > '9')
			return false;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == len;
}

/* Add a data cell (the field buffer) to column c. */
static void
cell_add(struct filestats *s, struct filestats_col *c)
{
	char buf[FILESTATS_FIELD_MAX + 1], *end;
	size_t a = 0, b = s->flen;
	double v, t;

	if (!s->field_text || !c->numeric)
		return; /* empty or blanks only: skipped */
	while (a < b && (s->field[a] == ' ' || s->field[a] == '\t'))
		a++;
	while (b > a && (s->field[b - 1] == ' ' || s->field[b - 1] == '\t'))
		b--;
	if (s->field_long || !is_decimal(s->field + a, b - a)) {
		c->numeric = false;
		return;
	}
	memcpy(buf, s->field + a, b - a);
	buf[b - a] = '\0';
	v = strtod(buf, &end);
	if (end != buf + (b - a) || !isfinite(v)) {
		c->numeric = false;
		return;
	}
	/* Neumaier's improved Kahan summation. */
	t = c->sum + v;
	if (fabs(c->sum) >= fabs(v))
		c->comp += (c->sum - t) + v;
	else
		c->comp += (v - t) + c->sum;
	c->sum = t;
}

static void
field_end(struct filestats *s)
{
	struct filestats_col *c;

	if (!s->header_done) {
		if (s->col < FILESTATS_MAX_COLUMNS) {
			c = &s->cols[s->col];
			memcpy(c->name, s->field, s->flen);
			c->namelen = s->flen;
			c->name_cut = s->field_long;
			c->numeric = true;
			s->ncols = s->col + 1;
		}
	} else if (s->col < s->ncols) {
		cell_add(s, &s->cols[s->col]);
	} else {
		s->extra++;
	}
	s->col++;
	s->flen = 0;
	s->field_long = false;
	s->field_text = false;
	s->st = FILESTATS_CSV_START;
}

static void
record_end(struct filestats *s)
{
	field_end(s);
	if (s->header_done)
		s->rows++;
	s->header_done = true;
	s->col = 0;
	s->in_record = false;
}

static void
field_put(struct filestats *s, uint8_t c)
{
	if (c != ' ' && c != '\t')
		s->field_text = true;
	if (s->flen < sizeof(s->field))
		s->field[s->flen++] = (char)c;
	else
		s->field_long = true;
}

/* A line end (LF, or CR alone or before LF) outside quotes ends the
 * record; at the start of a record it is a blank line, which is how the LF
 * of a CRLF is taken too. */
static void
csv_eol(struct filestats *s)
{
	if (s->in_record)
		record_end(s);
}

static void
csv_byte(struct filestats *s, uint8_t c)
{
	switch (s->st) {
	case FILESTATS_CSV_START:
		if (c == '\n' || c == '\r') {
			csv_eol(s);
			return;
		}
		s->in_record = true;
		if (c == '"') {
			s->st = FILESTATS_CSV_QUOTED;
		} else if (c == ',') {
			field_end(s);
		} else {
			field_put(s, c);
			s->st = FILESTATS_CSV_UNQUOTED;
		}
		return;
	case FILESTATS_CSV_QUOTE:
		if (c == '"') {
			field_put(s, c); /* "" is one quote */
			s->st = FILESTATS_CSV_QUOTED;
			return;
		}
		if (c != ',' && c != '\n' && c != '\r') {
			s->malformed++; /* "ab"c: keep c, as Python's csv */
			field_put(s, c);
			s->st = FILESTATS_CSV_UNQUOTED;
			return;
		}
		/* A delimiter after the closing quote ends the field. */
		/* FALLTHROUGH */
	case FILESTATS_CSV_UNQUOTED:
		if (c == ',') {
			field_end(s);
		} else if (c == '\n' || c == '\r') {
			csv_eol(s);
		} else {
			if (c == '"')
				s->malformed++; /* ab"c: a literal quote */
			field_put(s, c);
		}
		return;
	case FILESTATS_CSV_QUOTED:
		if (c == '"')
			s->st = FILESTATS_CSV_QUOTE;
		else
			field_put(s, c);
		return;
	}
}

/* End of input: the last record may lack its line end. */
static void
csv_eof(struct filestats *s)
{
	if (s->st == FILESTATS_CSV_QUOTED)
		s->malformed++; /* unterminated: the rest was one field */
	if (s->in_record)
		record_end(s);
}

enum filestats_result
filestats_update(struct filestats *s, const uint8_t *p, size_t n)
{
	size_t i;

	if (s->err != FILESTATS_OK)
		return s->err;
	if (s->md == NULL || s->final)
		return FILESTATS_ESTATE;
	if (n == 0)
		return FILESTATS_OK;
	if (p == NULL)
		return FILESTATS_EARG;
	if (EVP_DigestUpdate(s->md, p, n) != 1)
		return s->err = FILESTATS_ECRYPTO;
	count_text(s, p, n);
	if (s->cols != NULL)
		for (i = 0; i < n; i++)
			csv_byte(s, p[i]);
	return FILESTATS_OK;
}

/* ---- the JSON ---- */

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0; *prefix
 * tells whether the bytes are a valid start cut short by n. */
static size_t
utf8_seq(const unsigned char *p, size_t n, bool *prefix)
{
	size_t len, i;
	unsigned lo = 0x80, hi = 0xbf;

	*prefix = false;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* The second byte's range rules out overlongs, surrogates and
	 * values above U+10FFFF (RFC 3629 §4). */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	for (i = 1; i < len; i++) {
		if (i == n) {
			*prefix = true;
			return 0;
		}
		if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xbf))
			return 0;
	}
	return len;
}

/* The column's name as a JSON string: invalid UTF-8 becomes U+FFFD, and a
 * character cut by the truncation is dropped. */
static json_t *
name_json(const struct filestats_col *c)
{
	const unsigned char *p = (const unsigned char *)c->name;
	char out[3 * FILESTATS_FIELD_MAX];
	size_t i = 0, o = 0, len;
	bool prefix;

	while (i < c->namelen) {
		len = utf8_seq(p + i, c->namelen - i, &prefix);
		if (len == 0 && prefix && c->name_cut)
			break;
		if (len == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, p + i, len);
			o += len;
			i += len;
		}
	}
	return json_stringn(out, o);
}

static json_t *
csv_json(const struct filestats *s)
{
	json_t *cols, *col;
	const struct filestats_col *c;
	double sum;
	size_t i;

	if ((cols = json_array()) == NULL)
		return NULL;
	for (i = 0; i < s->ncols; i++) {
		c = &s->cols[i];
		sum = c->sum + c->comp;
		col = json_pack("{s:o, s:o}", "name", name_json(c), "sum",
		    c->numeric && isfinite(sum) ? json_real(sum) : json_null());
		if (json_array_append_new(cols, col) != 0) {
			json_decref(cols);
			return NULL;
		}
	}
	return json_pack("{s:I, s:o, s:I, s:I}", "rows", (json_int_t)s->rows,
	    "columns", cols, "extra", (json_int_t)s->extra, "malformed",
	    (json_int_t)s->malformed);
}

enum filestats_result
filestats_final(struct filestats *s, json_t **out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned mdlen = 0, i;
	json_t *csv;

	*out = NULL;
	if (s->err != FILESTATS_OK)
		return s->err;
	if (s->md == NULL || s->final)
		return FILESTATS_ESTATE;
	s->final = true;
	if (EVP_DigestFinal_ex(s->md, md, &mdlen) != 1 || mdlen != 32)
		return s->err = FILESTATS_ECRYPTO;
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	hex[2 * mdlen] = '\0';
	if (s->cols != NULL) {
		csv_eof(s);
		if ((csv = csv_json(s)) == NULL)
			return FILESTATS_ENOMEM;
	} else {
		csv = json_null();
	}
	*out = json_pack("{s:I, s:I, s:I, s:s, s:o}", "bytes",
	    (json_int_t)s->bytes, "lines", (json_int_t)s->lines, "words",
	    (json_int_t)s->words, "sha256", hex, "csv", csv);
	return *out != NULL ? FILESTATS_OK : FILESTATS_ENOMEM;
}
