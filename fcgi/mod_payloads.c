/* mod_payloads — streamed exports and pages; contract in mod_payloads.h. */
#include "config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apijson.h"
#include "dataset.h"
#include "gz.h"
#include "metrics.h"
#include "mod_payloads.h"
#include "mux_route.h"
#include "qs.h"

#define VARY        "Vary: Accept-Encoding\r\n"
#define CHUNK       (64 * 1024)
#define CSV_TYPE    "text/csv; charset=utf-8"
#define NDJSON_TYPE "application/x-ndjson"

struct mod_payloads {
	struct mux *mux;
	uint64_t exports, exports_done, rows_out, bytes_out;
};

enum export_state {
	EX_HEAD,    /* nothing written yet */
	EX_ROWS,    /* rows going out */
	EX_WAITING, /* the queue is full: wait for room */
};

struct export
{
	struct mod_payloads *pl;
	struct mux_req *r;
	enum export_state state;
	bool ndjson, gzip;
	uint64_t next, rows;
	struct gz z;
	size_t len;
	char buf[CHUNK];
};

/* --- query values --------------------------------------------------------- */

/* One integer parameter into *out; errors appended. -1 on ENOMEM. */
static int
int_param(const char *query, const char *name, double lo, double hi,
    double dflt, uint64_t *out, json_t *errors)
{
	struct app_param p = {name, 0, lo, hi, 1, dflt};
	double x = dflt;
	json_t *err = NULL;

	switch (app_query_param(query, &p, &x, &err)) {
	case APP_PARAM_OK:
		*out = (uint64_t)x;
		return 0;
	case APP_PARAM_INVALID:
		return err != NULL && json_array_append_new(errors, err) == 0
		    ? 0
		    : -1;
	case APP_PARAM_ENOMEM:
		break;
	}
	return -1;
}

/* Answer errors (stolen) as a 422, or a 500 when memory ran out. */
static void
respond_errors(struct mux_req *r, json_t *errors, int rc)
{
	size_t len = 0;
	char *body;

	if (rc != 0) {
		json_decref(errors);
		mux_req_respond_detail(r, 500, VARY, APIJSON_INTERNAL);
		return;
	}
	body = apijson_errors(errors, &len);
	mux_req_respond_json(r, 422, VARY, body, len);
}

/* --- exports -------------------------------------------------------------- */

static void
export_free(struct export *ex)
{
	if (ex->gzip)
		gz_free(&ex->z);
	free(ex);
}

static bool
sink(void *arg, const void *p, size_t n)
{
	struct export *ex = arg;

	ex->pl->bytes_out += n;
	return mux_req_stream_write(ex->r, p, n);
}

/* The buffered rows out (through gzip when asked); false: r is gone. */
static bool
emit(struct export *ex)
{
	size_t n = ex->len;

	ex->len = 0;
	if (n == 0)
		return true;
	if (ex->gzip)
		return gz_write(&ex->z, ex->buf, n, sink, ex) == GZ_OK;
	return sink(ex, ex->buf, n);
}

static bool
export_head(struct export *ex)
{
	char headers[160];

	snprintf(headers, sizeof(headers),
	    VARY
	    "%sContent-Disposition: attachment; filename=\"export.%s\"\r\n",
	    ex->gzip ? "Content-Encoding: gzip\r\n" : "",
	    ex->ndjson ? "ndjson" : "csv");
	if (!mux_req_stream_begin(ex->r, 200, headers,
	        ex->ndjson ? NDJSON_TYPE : CSV_TYPE, APP_NO_LENGTH))
		return false;
	ex->state = EX_ROWS;
	if (!ex->ndjson)
		ex->len = dataset_csv_header(ex->buf, sizeof(ex->buf));
	return true;
}

/* The rest of the answer once every row is out; false: r is gone. */
static bool
export_finish(struct export *ex)
{
	if (!emit(ex))
		return false;
	if (ex->gzip && gz_finish(&ex->z, sink, ex) != GZ_OK)
		return false;
	ex->pl->exports_done++;
	return mux_req_stream_end(ex->r);
}

/* One turn's worth of rows, until the budget is spent, the queue is
 * full, or all are out (then the request is answered). false: the
 * request ended meanwhile; stop. */
static bool
produce_turn(struct export *ex)
{
	size_t budget =
	    ex->gzip ? MOD_PAYLOADS_GZIP_TURN_BYTES : MOD_PAYLOADS_TURN_BYTES;
	size_t n, room, cap;

	if (ex->state == EX_HEAD && !export_head(ex))
		return false;
	while (ex->next <= ex->rows && budget > 0 &&
	    (room = mux_req_room(ex->r)) > 0) {
		/* the buffer goes out whole: never more than there is room */
		cap = room < sizeof(ex->buf) ? room : sizeof(ex->buf);
		if (ex->len + DATASET_ROW_MAX + 1 > cap) {
			if (ex->len == 0)
				break; /* not even a row fits: wait */
			budget -= budget < ex->len ? budget : ex->len;
			if (!emit(ex))
				return false;
			continue;
		}
		if (ex->ndjson) {
			n = dataset_json_row(ex->next, ex->buf + ex->len,
			    sizeof(ex->buf) - ex->len);
			ex->buf[ex->len + n++] = '\n';
		} else {
			n = dataset_csv_row(ex->next, ex->buf + ex->len,
			    sizeof(ex->buf) - ex->len);
		}
		ex->len += n;
		ex->next++;
		ex->pl->rows_out++;
	}
	if (ex->next > ex->rows)
		return export_finish(ex);
	if (!emit(ex) || (ex->gzip && gz_flush(&ex->z, sink, ex) != GZ_OK))
		return false;
	ex->state = EX_WAITING;
	mux_req_wait_writable(ex->r);
	return true;
}

static void
export_start(struct mux_req *r, bool ndjson)
{
	struct mod_payloads *pl = mux_req_ctx(r);
	json_t *errors = json_array();
	struct export *ex;
	uint64_t rows = 0;
	int rc;

	rc = errors ? int_param(mux_req_var(r, MUX_V_QUERY), "rows", 0,
	                  (double)DATASET_MAX_ROWS, MOD_PAYLOADS_ROWS_DEFAULT,
	                  &rows, errors)
	            : -1;
	if (rc != 0 || json_array_size(errors) > 0) {
		respond_errors(r, errors, rc);
		return;
	}
	json_decref(errors);
	if ((ex = malloc(sizeof(*ex))) == NULL) {
		mux_req_respond_detail(r, 500, VARY, APIJSON_INTERNAL);
		return;
	}
	memset(ex, 0, offsetof(struct export, buf));
	ex->pl = pl;
	ex->r = r;
	ex->ndjson = ndjson;
	ex->next = 1;
	ex->rows = rows;
	ex->gzip = gz_accepts(mux_req_var(r, MUX_V_ACCEPT_ENCODING));
	if (ex->gzip && gz_init(&ex->z, GZ_LEVEL_DEFAULT) != GZ_OK) {
		free(ex);
		mux_req_respond_detail(r, 500, VARY, APIJSON_INTERNAL);
		return;
	}
	mux_req_set_data(r, ex);
	pl->exports++;
	produce_turn(ex);
}

static void
on_export_start(struct mux_req *r)
{
	export_start(r, mux_req_decision(r)->route == APP_R_EXPORT_NDJSON);
}

static void
on_export_writable(struct mux_req *r)
{
	struct export *ex = mux_req_data(r);

	if (mux_req_room(r) == 0) {
		mux_req_wait_writable(r);
		return;
	}
	ex->state = EX_ROWS;
	produce_turn(ex);
}

static void
on_export_end(struct mux_req *r, bool answered)
{
	struct export *ex = mux_req_data(r);

	(void)answered;
	if (ex != NULL)
		export_free(ex);
}

/* --- pages ---------------------------------------------------------------- */

/* The cursor parameter: *next_id, or an error appended. */
static int
cursor_param(
    const char *query, uint64_t rows, uint64_t *next_id, json_t *errors)
{
	size_t count = 0, len = 0;
	char *val = qs_get(query, "cursor", &count, &len);
	json_t *err;

	if (val == NULL)
		return count > 0 ? -1 : 0;
	if (dataset_cursor_decode(val, len, rows, next_id)) {
		free(val);
		return 0;
	}
	err = apijson_error("value_error", "query", "cursor",
	    "Value error, invalid cursor", json_stringn(val, len),
	    json_pack("{s:{}}", "error"));
	free(val);
	return err != NULL && json_array_append_new(errors, err) == 0 ? 0 : -1;
}

/* The page's body; *link gets the Link header line (or NULL). */
static char *
page_body(
    uint64_t rows, uint64_t first, uint64_t limit, size_t *lenp, char **link)
{
	uint64_t id, last = first + limit - 1;
	char cursor[DATASET_CURSOR_LEN + 1], *buf, *p;
	size_t cap;

	if (last > rows)
		last = rows;
	*link = NULL;
	cap = (size_t)(last - first + 1) * (DATASET_ROW_MAX + 1) + 64 +
	    DATASET_CURSOR_LEN;
	if ((buf = p = malloc(cap)) == NULL)
		return NULL;
	p += sprintf(p, "{\"items\":[");
	for (id = first; id <= last && first <= rows; id++) {
		if (id > first)
			*p++ = ',';
		p += dataset_json_row(id, p, DATASET_ROW_MAX);
	}
	if (last < rows) {
		dataset_cursor_encode(rows, last + 1, cursor);
		p += sprintf(p, "],\"next\":\"%s\"}", cursor);
		if (asprintf(link,
		        "Link: </items?rows=%llu&limit=%llu&cursor=%s>; "
		        "rel=\"next\"\r\n",
		        (unsigned long long)rows, (unsigned long long)limit,
		        cursor) < 0) {
			free(buf);
			return NULL;
		}
	} else {
		p += sprintf(p, "],\"next\":null}");
	}
	*lenp = (size_t)(p - buf);
	return buf;
}

/* Answer a page, gzip'd when the client allows it. */
static void
respond_page(struct mux_req *r, char *body, size_t len, const char *link)
{
	char headers[512];
	unsigned char *gzbody;
	size_t gzlen;

	if (!gz_accepts(mux_req_var(r, MUX_V_ACCEPT_ENCODING))) {
		snprintf(headers, sizeof(headers), VARY "%s", link ? link : "");
		mux_req_respond_json(r, 200, headers, body, len);
		return;
	}
	if (gz_compress(body, len, GZ_LEVEL_DEFAULT, &gzbody, &gzlen) != GZ_OK)
		gzbody = NULL;
	free(body);
	if (gzbody == NULL) {
		mux_req_respond_detail(r, 500, VARY, APIJSON_INTERNAL);
		return;
	}
	snprintf(headers, sizeof(headers), VARY "Content-Encoding: gzip\r\n%s",
	    link ? link : "");
	mux_req_respond(r, 200, headers, "application/json", gzbody, gzlen);
	free(gzbody);
}

static void
on_items_start(struct mux_req *r)
{
	const char *query = mux_req_var(r, MUX_V_QUERY);
	json_t *errors = json_array();
	uint64_t rows = 0, limit = 0, first = 1;
	char *body, *link = NULL;
	size_t len = 0;
	int rc = errors ? 0 : -1;
	bool rows_ok;

	if (rc == 0)
		rc = int_param(query, "rows", 0, (double)DATASET_MAX_ROWS,
		    MOD_PAYLOADS_ROWS_DEFAULT, &rows, errors);
	rows_ok = rc == 0 && json_array_size(errors) == 0;
	if (rc == 0)
		rc = int_param(query, "limit", 1, MOD_PAYLOADS_PAGE_MAX,
		    MOD_PAYLOADS_PAGE_DEFAULT, &limit, errors);
	if (rc == 0 && rows_ok) /* a cursor is judged against rows */
		rc = cursor_param(query, rows, &first, errors);
	if (rc != 0 || json_array_size(errors) > 0) {
		respond_errors(r, errors, rc);
		return;
	}
	json_decref(errors);
	if ((body = page_body(rows, first, limit, &len, &link)) == NULL) {
		mux_req_respond_detail(r, 500, VARY, APIJSON_INTERNAL);
		return;
	}
	respond_page(r, body, len, link);
	free(link);
}

/* --- registration --------------------------------------------------------- */

static char *
payloads_metrics(void *ctx, size_t *lenp)
{
	const struct mod_payloads *pl = ctx;
	const struct metrics_series s[] = {
	    {"fcgilab_exports_total", "counter", "Streamed exports begun.",
	        pl->exports},
	    {"fcgilab_exports_completed_total", "counter",
	        "Exports sent to the end.", pl->exports_done},
	    {"fcgilab_export_rows_total", "counter",
	        "Rows generated by exports.", pl->rows_out},
	    {"fcgilab_export_bytes_total", "counter",
	        "Bytes sent by exports (after compression).", pl->bytes_out},
	};

	return metrics_series_text(s, sizeof(s) / sizeof(s[0]), lenp);
}

struct mod_payloads *
mod_payloads_new(struct mux *m)
{
	static const struct mux_route_ops export_ops = {
	    .start = on_export_start,
	    .writable = on_export_writable,
	    .end = on_export_end,
	};
	static const struct mux_route_ops items_ops = {
	    .start = on_items_start,
	};
	struct mod_payloads *pl;

	if ((pl = calloc(1, sizeof(*pl))) == NULL)
		return NULL;
	pl->mux = m;
	mux_route_register(m, APP_R_EXPORT_CSV, &export_ops, pl);
	mux_route_register(m, APP_R_EXPORT_NDJSON, &export_ops, pl);
	mux_route_register(m, APP_R_ITEMS, &items_ops, pl);
	mux_metrics_register(m, payloads_metrics, pl);
	return pl;
}

void
mod_payloads_free(struct mod_payloads *pl)
{
	free(pl);
}
