/*
 * filestats — statistics of an uploaded file in one streaming pass: the
 * "stats" job of POST /uploads?process=stats, run in a worker process.
 *
 * Contract:
 *  - No I/O, no globals: the caller reads the file and feeds it in chunks
 *    of any size, split anywhere. Nothing grows with the file: init
 *    allocates an OpenSSL digest context and, for CSV, one table of
 *    FILESTATS_MAX_COLUMNS columns (72 KiB); filestats_free releases
 *    both (idempotent, safe on a zeroed struct and after a failed init).
 *  - filestats_final gives a new json_t (caller owns, json_decref):
 *      {"bytes":B,"lines":L,"words":W,"sha256":"<64 lowercase hex>",
 *       "csv":null | {"rows":R,"columns":[{"name":N,"sum":S|null},…],
 *                     "extra":E,"malformed":M}}
 *  - bytes/lines/words: `wc -c`, `wc -l` (count of '\n') and POSIX words,
 *    the maximal runs of bytes other than " \t\n\v\f\r". XXX GNU wc 9.1 in
 *    the C locale counts only runs holding a printable ASCII byte, so it
 *    differs on runs made only of control bytes or bytes >= 0x80 (binary
 *    data; "été" alone); on ASCII text the two agree.
 *  - sha256: OpenSSL 3 EVP, the digest `sha256sum` prints.
 *  - csv (RFC 4180, lenient):
 *    - Fields split on ',', records end at LF, CRLF or a lone CR; a field
 *      starting with '"' is quoted and may hold ',', CR, LF and "" (a
 *      quote). Blank lines (no byte before the line end) are no records,
 *      anywhere, as Python's csv.DictReader skips them; `""` is a record.
 *    - The first record is the header; "rows" counts the records after
 *      it. A record shorter than the header has empty trailing cells.
 *    - "columns": the header's first FILESTATS_MAX_COLUMNS names, each cut
 *      to FILESTATS_FIELD_MAX bytes (on a UTF-8 boundary), invalid UTF-8
 *      shown as U+FFFD. "extra" counts the data cells that have no column
 *      there (beyond the header's count or the cap); they are not summed.
 *    - "sum": cells are trimmed of spaces and tabs; empty cells (also ""
 *      and blanks only) are skipped; every other cell must be a decimal
 *      number as strtod reads it (sign, digits, '.', exponent; no hex,
 *      inf or nan, nothing after it), finite, and at most
 *      FILESTATS_FIELD_MAX bytes, or the column's sum is null. Quoted
 *      numbers count. Sums are doubles (an integer column stays exact up
 *      to 2^53) added with Neumaier compensation; a column with no values
 *      sums to 0; an overflowing sum is null. Assumes LC_NUMERIC "C".
 *    - Malformed input never fails the job, it bumps "malformed": a quote
 *      inside an unquoted field is kept as a literal byte (`ab"c`);
 *      bytes after a closing quote are appended (`"ab"c` is `abc`); an
 *      unterminated quote at the end makes the rest of the file one
 *      field, which then ends its record. The values stay as read, so
 *      such a cell usually turns its column's sum to null.
 *  - Results are filestats_result values; after FILESTATS_ECRYPTO the
 *    stream is dead and every later call returns it.
 *  - Single-threaded per struct filestats.
 */
#ifndef FCGILAB_FILESTATS_H
#define FCGILAB_FILESTATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FILESTATS_MAX_COLUMNS 256
#define FILESTATS_FIELD_MAX   256 /* bytes of a field kept */

enum filestats_result {
	FILESTATS_OK,
	FILESTATS_ENOMEM,  /* allocation failed (init, or the JSON) */
	FILESTATS_ECRYPTO, /* an OpenSSL digest call failed */
	FILESTATS_EARG,    /* NULL data with n > 0 */
	FILESTATS_ESTATE,  /* not initialised, already final, or freed */
};

enum filestats_csv_state {
	FILESTATS_CSV_START,    /* at the start of a field */
	FILESTATS_CSV_UNQUOTED, /* inside an unquoted field */
	FILESTATS_CSV_QUOTED,   /* inside a quoted field */
	FILESTATS_CSV_QUOTE,    /* a '"' inside a quoted field: end or "" */
};

struct filestats_col {
	double sum, comp; /* Neumaier: the true sum is sum + comp */
	bool numeric;     /* every non-empty cell so far was a number */
	bool name_cut;    /* the name was longer than FILESTATS_FIELD_MAX */
	size_t namelen;
	char name[FILESTATS_FIELD_MAX];
};

struct filestats {
	uint64_t bytes, lines, words;
	bool in_word;
	struct evp_md_ctx_st *md; /* EVP_MD_CTX; NULL when not live */
	enum filestats_result err;
	bool final;

	/* CSV, when cols != NULL */
	struct filestats_col *cols;
	enum filestats_csv_state st;
	bool in_record;   /* a byte of the current record was seen */
	bool header_done; /* the header record has ended */
	bool field_long;  /* the field outgrew field[] */
	bool field_text;  /* the field has a byte other than ' ', '\t' */
	size_t col, ncols, flen;
	uint64_t rows, extra, malformed;
	char field[FILESTATS_FIELD_MAX];
};

/* A short constant name for r ("FILESTATS_OK", …). */
const char *filestats_result_name(enum filestats_result r);

/* Start; csv asks for the "csv" member. On failure s is left freed. */
enum filestats_result filestats_init(struct filestats *s, bool csv);

/* Feed the next n bytes of the file. */
enum filestats_result filestats_update(
    struct filestats *s, const uint8_t *p, size_t n);

/* End of file: the JSON object above in *out (NULL on error). Once only;
 * filestats_free is still needed. */
enum filestats_result filestats_final(struct filestats *s, json_t **out);

/* Release the digest context and the column table. Idempotent. */
void filestats_free(struct filestats *s);

#endif
