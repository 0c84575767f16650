/* mod_upload — streamed uploads and upload-then-process; contract in
 * mod_upload.h. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "apijson.h"
#include "ev.h"
#include "jobs.h"
#include "metrics.h"
#include "mod_jobs.h"
#include "mod_upload.h"
#include "multipart.h"
#include "mux_route.h"
#include "num.h"
#include "offload.h"
#include "qs.h"
#include "randid.h"
#include "stats_task.h"
#include "tmr.h"
#include "updir.h"

#define NAME_MAX_BYTES  255
#define MULTIPART_SLACK (64 * 1024) /* boundaries and part headers */
#define PARSE_ERROR     "There was an error parsing the body"
#define NO_ROOM         "Insufficient Storage"
#define NOT_FOUND       "Upload not found"
/* How often expired uploads are swept: a tenth of the TTL, within
 * these bounds. */
#define SWEEP_MIN_MS 1000
#define SWEEP_MAX_MS 60000

struct sweep {
	struct offload_job job; /* on the I/O pool */
	struct mod_upload *u;
	time_t cutoff;
	struct updir_sweep res;
};

struct mod_upload {
	struct mux *mux;
	struct ev_loop *loop;
	struct mod_jobs *jobs;
	struct offload_pool *io; /* the sweeps' */
	int dirfd;               /* the upload directory, or -1 */
	EVP_MD *sha256;          /* fetched once (OpenSSL 3), not per upload */
	uint64_t max_bytes, quota, ttl_s;
	uint64_t used;      /* bytes of the stored uploads */
	uint64_t receiving; /* bytes of the uploads being received */
	struct tmr_node sweep_timer;
	struct sweep *sweeping; /* in the pool, or NULL */
	uint64_t stored, bytes, refused, aborted, no_room;
	uint64_t deleted, expired, orphans;
};

enum up_state {
	UP_RECEIVING, /* the body is arriving */
	UP_SYNCING,   /* complete: fsync and rename on the offload pool */
	UP_ENQUEUING, /* stored: the stats job being committed */
	UP_OVER,      /* answered, or failed: nothing pending */
};

struct upreq {
	struct mod_upload *u;
	struct mux_req *r;
	enum up_state state;
	bool multipart, process;
	bool in_file, have_file; /* in the "file" part; seen it */
	int fd;                  /* the part file while receiving, or -1 */
	char id[RANDID_LEN + 1];
	char *filename, *ctype; /* metadata, malloc'd or NULL */
	uint64_t bytes;
	uint64_t reserved; /* of its bytes, those in u->receiving */
	EVP_MD_CTX *md;
	char sha256[65];
	struct mod_jobs_ticket *ticket;
	struct multipart_parser *mp; /* multipart bodies only */
};

/* The storing of a complete upload, on the I/O pool (updir_store). */
struct fin {
	struct mux_work w; /* first: the mux's view of it */
	struct mod_upload *u;
	int fd; /* the part file until work() takes it */
	int err;
	bool answered; /* done() ran: its request took the result */
	char id[RANDID_LEN + 1];
	char *meta; /* ID.json's text */
	size_t meta_len;
};

/* --- files ---------------------------------------------------------------- */

/* Close and remove the part file of a failed upload (idempotent). */
static void
discard_file(struct upreq *ur)
{
	if (ur->fd < 0)
		return;
	updir_part_discard(ur->u->dirfd, ur->id, ur->fd);
	ur->fd = -1;
}

static bool
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* --- answers -------------------------------------------------------------- */

/* Fail the upload: no file left, then the answer. */
static void
fail(struct upreq *ur, int status, const char *msg)
{
	discard_file(ur);
	ur->state = UP_OVER;
	ur->u->refused++;
	mux_req_respond_detail(
	    ur->r, status, status == 503 ? APIJSON_RETRY_AFTER : NULL, msg);
}

static void
fail_errno(struct upreq *ur, int err)
{
	fprintf(stderr, "fcgilab-mux: upload %s: %s\n", ur->id, strerror(err));
	if (err == ENOSPC || err == EDQUOT) {
		ur->u->no_room++;
		fail(ur, 507, NO_ROOM);
	} else
		fail(ur, 500, APIJSON_INTERNAL);
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* {"id","filename","content_type","bytes","sha256"} */
static json_t *
upload_json(const struct upreq *ur)
{
	return json_pack("{s:s,s:o,s:o,s:I,s:s}", "id", ur->id, "filename",
	    str_or_null(ur->filename), "content_type", str_or_null(ur->ctype),
	    "bytes", (json_int_t)ur->bytes, "sha256", ur->sha256);
}

static void
respond_json(struct upreq *ur, int status, const char *headers, json_t *j)
{
	size_t len = 0;
	char *body = apijson_dump(j, &len);

	ur->state = UP_OVER;
	mux_req_respond_json(ur->r, status, headers, body, len);
}

/* A stored upload whose answer cannot be given: it goes (an unlink, no
 * fsync: nothing needs it to last). */
static void
unstore(struct upreq *ur)
{
	uint64_t n = ur->bytes < ur->u->used ? ur->bytes : ur->u->used;

	if (updir_discard(ur->u->dirfd, ur->id) == 0)
		ur->u->used -= n;
}

static void
enqueued(void *arg, enum jobstore_result res, const char *id)
{
	struct upreq *ur = arg;
	struct mux_req *r = ur->r;
	char headers[64];

	ur->ticket = NULL;
	mux_req_enter(r); /* ur lives until mux_req_leave */
	if (res != JOBSTORE_OK) {
		unstore(ur); /* refused after storing: no file is left */
		ur->state = UP_OVER;
		mux_req_respond_detail(r, 503, APIJSON_RETRY_AFTER,
		    res == JOBSTORE_FULL ? MOD_JOBS_FULL_DETAIL
		                         : APIJSON_UNAVAILABLE);
	} else {
		snprintf(
		    headers, sizeof(headers), "Location: /jobs/%s\r\n", id);
		respond_json(ur, 202, headers,
		    json_pack("{s:s,s:s,s:o}", "id", id, "status", "queued",
		        "upload", upload_json(ur)));
	}
	mux_req_leave(r);
}

/* Stored: answer 201, or enqueue its stats job first. */
static void
stored(struct upreq *ur)
{
	json_t *params;
	char *err = NULL;
	size_t len = 0;

	ur->u->stored++;
	ur->u->bytes += ur->bytes;
	ur->u->used += ur->bytes;
	ur->u->receiving -= ur->reserved;
	ur->reserved = 0;
	if (!ur->process) {
		respond_json(ur, 201, NULL, upload_json(ur));
		return;
	}
	params = json_pack("{s:s,s:o,s:o}", "upload", ur->id, "filename",
	    str_or_null(ur->filename), "content_type", str_or_null(ur->ctype));
	ur->state = UP_ENQUEUING;
	switch (params == NULL ? JOBS_PARSE_ENOMEM
	                       : mod_jobs_enqueue(ur->u->jobs, STATS_TASK_NAME,
	                             params, JOBS_DEFAULT_MAX_ATTEMPTS,
	                             enqueued, ur, &ur->ticket, &err, &len)) {
	case JOBS_PARSE_OK:
		break;
	case JOBS_PARSE_INVALID: /* our own params: cannot happen */
		free(err);
		unstore(ur);
		ur->state = UP_OVER;
		mux_req_respond_detail(ur->r, 500, NULL, APIJSON_INTERNAL);
		break;
	case JOBS_PARSE_ENOMEM:
		unstore(ur);
		ur->state = UP_OVER;
		mux_req_respond_detail(
		    ur->r, 503, APIJSON_RETRY_AFTER, APIJSON_UNAVAILABLE);
		break;
	}
	json_decref(params);
}

/* --- storing: fsync, rename, fsync the directory (the I/O pool) ---------- */

/* ID.json: the 201's object and the time it was stored. */
static char *
meta_text(const struct upreq *ur, size_t *lenp)
{
	json_t *j = upload_json(ur);
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	if (j == NULL ||
	    json_object_set_new(j, "created_at", json_string(when)) != 0) {
		json_decref(j);
		return NULL;
	}
	return apijson_dump(j, lenp);
}

static void
fin_work(struct mux_work *w)
{
	struct fin *f = (struct fin *)w;

	f->err = updir_store(f->u->dirfd, f->id, f->fd, f->meta, f->meta_len);
	f->fd = -1; /* closed by updir_store */
}

static void
fin_done(struct mux_req *r, struct mux_work *w, bool ok)
{
	struct fin *f = (struct fin *)w;
	struct upreq *ur = mux_req_data(r);

	f->answered = true;
	if (!ok) { /* the pool shut down before it ran */
		updir_part_discard(f->u->dirfd, f->id, f->fd);
		f->fd = -1;
		fail(ur, 503, APIJSON_UNAVAILABLE);
	} else if (f->err != 0) {
		fail_errno(ur, f->err);
	} else {
		stored(ur);
	}
}

/* The pool and the mux are done with f. An upload stored for a client
 * that left meanwhile is nobody's: it goes too (orphans stay none). */
static void
fin_drop(struct mux_work *w)
{
	struct fin *f = (struct fin *)w;

	if (f->fd >= 0) /* never ran */
		updir_part_discard(f->u->dirfd, f->id, f->fd);
	else if (!f->answered && f->err == 0 &&
	    updir_discard(f->u->dirfd, f->id) == 0)
		f->u->orphans++;
	free(f->meta);
	free(f);
}

/* The body is complete: seal the digest, hand the file to the I/O pool. */
static void
finish(struct upreq *ur)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	struct fin *f;

	if (EVP_DigestFinal_ex(ur->md, md, &mdlen) != 1 || mdlen != 32) {
		fail(ur, 500, APIJSON_INTERNAL);
		return;
	}
	for (i = 0; i < mdlen; i++)
		snprintf(ur->sha256 + 2 * i, 3, "%02x", md[i]);
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->meta = meta_text(ur, &f->meta_len)) == NULL) {
		free(f);
		fail(ur, 500, APIJSON_INTERNAL);
		return;
	}
	f->w.pool = MUX_POOL_IO;
	f->w.work = fin_work;
	f->w.done = fin_done;
	f->w.drop = fin_drop;
	f->u = ur->u;
	f->fd = ur->fd;
	memcpy(f->id, ur->id, sizeof(f->id));
	if (!mux_req_offload(ur->r, &f->w)) {
		free(f->meta);
		free(f);
		fail(ur, 503, APIJSON_UNAVAILABLE);
		return;
	}
	ur->fd = -1; /* the work's now */
	ur->state = UP_SYNCING;
}

/* --- the body ------------------------------------------------------------- */

/* Is there room under the quota for n more bytes? */
static bool
room_for(const struct mod_upload *u, uint64_t n)
{
	uint64_t taken = u->used + u->receiving;

	return taken <= u->quota && n <= u->quota - taken;
}

/* File bytes: count, bound, write, hash. false: the upload failed. */
static bool
file_data(struct upreq *ur, const uint8_t *p, size_t n)
{
	if (n > ur->u->max_bytes - ur->bytes) {
		fail(ur, 413, APIJSON_TOO_LARGE);
		return false;
	}
	if (!room_for(ur->u, n)) {
		ur->u->no_room++;
		fail(ur, 507, NO_ROOM);
		return false;
	}
	ur->bytes += n;
	ur->reserved += n;
	ur->u->receiving += n;
	if (!write_all(ur->fd, p, n)) {
		fail_errno(ur, errno);
		return false;
	}
	if (EVP_DigestUpdate(ur->md, p, n) != 1) {
		fail(ur, 500, APIJSON_INTERNAL);
		return false;
	}
	return true;
}

/* The basename of a client's filename, as valid UTF-8, bounded. */
static char *
clean_filename(const char *name, size_t len)
{
	const char *s = name, *p;
	size_t n;

	for (p = name; p < name + len; p++)
		if (*p == '/' || *p == '\\')
			s = p + 1;
	n = (size_t)(name + len - s);
	if (n > NAME_MAX_BYTES)
		n = NAME_MAX_BYTES; /* a cut character becomes U+FFFD */
	return qs_utf8_sanitize(s, n, NULL);
}

static bool
on_part_begin(void *arg, const struct multipart_part *part)
{
	struct upreq *ur = arg;

	/* FastAPI's `file: UploadFile`: the part named "file". XXX the
	 * first one is taken, later ones ignored (Starlette keeps the last,
	 * which a stream cannot know). */
	if (ur->have_file || strcmp(part->name, "file") != 0)
		return true;
	if (part->filename == NULL) /* a text field, not a file: FastAPI's */
		return true;        /* UploadFile refuses it (422 here) */
	ur->in_file = ur->have_file = true;
	ur->filename = clean_filename(part->filename, strlen(part->filename));
	if (ur->filename == NULL)
		return false;
	if (part->content_type != NULL &&
	    (ur->ctype = qs_utf8_sanitize(
	         part->content_type, strlen(part->content_type), NULL)) == NULL)
		return false;
	return true;
}

static bool
on_part_data(void *arg, const uint8_t *p, size_t n)
{
	struct upreq *ur = arg;

	return !ur->in_file || file_data(ur, p, n);
}

static bool
on_part_end(void *arg)
{
	struct upreq *ur = arg;

	ur->in_file = false;
	return true;
}

static const struct multipart_callbacks multipart_cb = {
    on_part_begin, on_part_data, on_part_end};

/* --- the route hooks ------------------------------------------------------ */

static void
upreq_free(struct upreq *ur)
{
	discard_file(ur); /* (a storing in the pool is the mux's: fin_drop) */
	ur->u->receiving -= ur->reserved;
	if (ur->ticket != NULL)
		mod_jobs_forget(ur->ticket);
	if (ur->state == UP_RECEIVING || ur->state == UP_SYNCING)
		ur->u->aborted++;
	EVP_MD_CTX_free(ur->md);
	free(ur->filename);
	free(ur->ctype);
	free(ur->mp);
	free(ur);
}

/* ?process=: required, and "stats" is the one process there is. */
static bool
process_param(struct mux_req *r)
{
	const char *query = mux_req_var(r, MUX_V_QUERY);
	size_t count = 0, len = 0, blen = 0;
	char *val = qs_get(query, "process", &count, &len), *body;
	json_t *err;

	if (val != NULL && len == strlen(STATS_TASK_NAME) &&
	    memcmp(val, STATS_TASK_NAME, len) == 0) {
		free(val);
		return true;
	}
	if (val == NULL && count > 0) {
		mux_req_respond_detail(r, 500, NULL, APIJSON_INTERNAL);
		return false;
	}
	err = val == NULL
	    ? apijson_error(
	          "missing", "query", "process", "Field required", NULL, NULL)
	    : apijson_error("literal_error", "query", "process",
	          "Input should be 'stats'", json_stringn(val, len),
	          json_pack("{s:s}", "expected", "'stats'"));
	free(val);
	body = apijson_error_body(err, &blen);
	mux_req_respond_json(r, 422, NULL, body, blen);
	return false;
}

/* Refusals before any byte is read. true: go on. */
static bool
check_request(struct mux_req *r, struct mod_upload *u, bool process, bool multi)
{
	const char *cl = mux_req_var(r, MUX_V_CONTENT_LENGTH);
	long long n = 0;
	uint64_t slack = multi ? MULTIPART_SLACK : 0;

	if (u->dirfd < 0 || (process && u->jobs == NULL)) {
		mux_req_respond_detail(r, 503, NULL,
		    u->dirfd < 0 ? "Uploads are not configured"
		                 : "Background jobs are not configured");
		return false;
	}
	if (process && !process_param(r))
		return false;
	if (cl == NULL || num_parse_int(cl, strlen(cl), &n) != NUM_OK || n < 0)
		return true; /* counted as the bytes come */
	if ((uint64_t)n > u->max_bytes + slack) {
		u->refused++;
		mux_req_respond_detail(r, 413, NULL, APIJSON_TOO_LARGE);
		return false;
	}
	/* a body that cannot fit under the quota, its framing aside */
	if (!room_for(u, (uint64_t)n > slack ? (uint64_t)n - slack : 0)) {
		u->refused++;
		u->no_room++;
		mux_req_respond_detail(r, 507, NULL, NO_ROOM);
		return false;
	}
	return true;
}

/* Metadata of a raw body: ?filename= and its Content-Type. */
static bool
raw_metadata(struct upreq *ur)
{
	const char *ct = mux_req_var(ur->r, MUX_V_CONTENT_TYPE);
	size_t count = 0, len = 0;
	char *name =
	    qs_get(mux_req_var(ur->r, MUX_V_QUERY), "filename", &count, &len);

	if (name == NULL && count > 0)
		return false;
	if (name != NULL) {
		ur->filename = clean_filename(name, strnlen(name, len));
		free(name);
		if (ur->filename == NULL)
			return false;
	}
	if (ct != NULL && *ct != '\0' &&
	    (ur->ctype = qs_utf8_sanitize(ct, strlen(ct), NULL)) == NULL)
		return false;
	return true;
}

/* The part file and the digest. */
static bool
open_upload(struct upreq *ur)
{
	if (!randid_new(ur->id) ||
	    (ur->fd = updir_part_create(ur->u->dirfd, ur->id)) < 0)
		return false;
	return (ur->md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(ur->md, ur->u->sha256, NULL) == 1;
}

static bool
start_multipart(struct upreq *ur, const char *ct)
{
	char boundary[MULTIPART_BOUNDARY_MAX + 1];

	if (multipart_boundary(ct, boundary, sizeof(boundary)) !=
	    MULTIPART_OK) {
		fail(ur, 400, PARSE_ERROR);
		return false;
	}
	if ((ur->mp = malloc(sizeof(*ur->mp))) == NULL) {
		fail(ur, 500, APIJSON_INTERNAL);
		return false;
	}
	multipart_init(ur->mp, boundary);
	return true;
}

static void
on_start(struct mux_req *r)
{
	struct mod_upload *u = mux_req_ctx(r);
	const char *ct = mux_req_var(r, MUX_V_CONTENT_TYPE);
	bool process = mux_req_decision(r)->route == APP_R_UPLOADS;
	bool multi = multipart_is_multipart(ct);
	struct upreq *ur;

	if (!check_request(r, u, process, multi))
		return;
	if ((ur = calloc(1, sizeof(*ur))) == NULL) {
		mux_req_respond_detail(r, 500, NULL, APIJSON_INTERNAL);
		return;
	}
	ur->u = u;
	ur->r = r;
	ur->fd = -1;
	ur->process = process;
	ur->multipart = multi;
	ur->state = UP_RECEIVING;
	mux_req_set_data(r, ur);
	if (!open_upload(ur)) {
		fail_errno(ur, errno ? errno : ENOMEM);
		return;
	}
	if (multi)
		(void)start_multipart(ur, ct); /* answers when it fails */
	else if (!raw_metadata(ur))
		fail(ur, 500, APIJSON_INTERNAL);
}

static void
on_body(struct mux_req *r, const uint8_t *p, size_t n)
{
	struct upreq *ur = mux_req_data(r);
	enum multipart_result res;

	if (ur == NULL || ur->state != UP_RECEIVING)
		return;
	if (!ur->multipart) {
		(void)file_data(ur, p, n);
	} else if ((res = multipart_feed(ur->mp, p, n, &multipart_cb, ur)) !=
	        MULTIPART_OK &&
	    ur->state == UP_RECEIVING) {
		if (res == MULTIPART_ESTOP) /* a callback ran out of memory */
			fail(ur, 500, APIJSON_INTERNAL);
		else
			fail(ur, 400, PARSE_ERROR);
	}
}

static void
on_body_end(struct mux_req *r)
{
	struct upreq *ur = mux_req_data(r);

	if (ur == NULL || ur->state != UP_RECEIVING)
		return;
	if (ur->multipart && multipart_finish(ur->mp) != MULTIPART_OK) {
		fail(ur, 400, PARSE_ERROR);
		return;
	}
	if (ur->multipart && !ur->have_file) {
		json_t *err = apijson_error(
		    "missing", "body", "file", "Field required", NULL, NULL);
		discard_file(ur);
		respond_json(ur, 422, NULL,
		    err ? json_pack("{s:[o]}", "detail", err) : NULL);
		return;
	}
	finish(ur);
}

static void
on_end(struct mux_req *r, bool answered)
{
	struct upreq *ur = mux_req_data(r);

	(void)answered;
	if (ur != NULL)
		upreq_free(ur);
}

/* --- GET and DELETE /uploads/ID (the I/O pool) -----------------------------
 */

struct lookup {
	struct mux_work w; /* first: the mux's view of it */
	struct mod_upload *u;
	bool remove;
	int err;
	char id[RANDID_LEN + 1];
	char *meta; /* ID.json's text */
	size_t len;
	uint64_t bytes; /* of a removed upload */
};

static void
lookup_work(struct mux_work *w)
{
	struct lookup *l = (struct lookup *)w;

	l->err = updir_read_meta(l->u->dirfd, l->id, &l->meta, &l->len);
	if (l->err == 0 && l->remove)
		l->err = updir_remove(l->u->dirfd, l->id, &l->bytes);
}

static void
lookup_done(struct mux_req *r, struct mux_work *w, bool ok)
{
	struct lookup *l = (struct lookup *)w;
	struct mod_upload *u = l->u;

	if (!ok) {
		mux_req_respond_detail(
		    r, 503, APIJSON_RETRY_AFTER, APIJSON_UNAVAILABLE);
	} else if (l->err == ENOENT) {
		mux_req_respond_detail(r, 404, NULL, NOT_FOUND);
	} else if (l->err != 0) {
		fprintf(stderr, "fcgilab-mux: upload %s: %s\n", l->id,
		    strerror(l->err));
		mux_req_respond_detail(r, 500, NULL, APIJSON_INTERNAL);
	} else {
		if (l->remove) {
			u->used -= l->bytes < u->used ? l->bytes : u->used;
			u->deleted++;
		}
		mux_req_respond_json(r, 200, NULL, l->meta, l->len);
		l->meta = NULL; /* the answer's now */
	}
}

static void
lookup_drop(struct mux_work *w)
{
	struct lookup *l = (struct lookup *)w;

	free(l->meta);
	free(l);
}

static void
on_id_start(struct mux_req *r)
{
	struct mod_upload *u = mux_req_ctx(r);
	const struct app_decision *d = mux_req_decision(r);
	struct lookup *l;
	size_t len = 0;
	char *body;

	if (u->dirfd < 0) {
		mux_req_respond_detail(
		    r, 503, NULL, "Uploads are not configured");
		return;
	}
	if (!randid_valid(d->path_param)) {
		body = apijson_error_body(
		    apijson_pattern_error(
		        "path", "upload_id", d->path_param, RANDID_PATTERN),
		    &len);
		mux_req_respond_json(r, 422, NULL, body, len);
		return;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		mux_req_respond_detail(r, 500, NULL, APIJSON_INTERNAL);
		return;
	}
	l->w.pool = MUX_POOL_IO;
	l->w.work = lookup_work;
	l->w.done = lookup_done;
	l->w.drop = lookup_drop;
	l->u = u;
	l->remove = strcmp(mux_req_var(r, MUX_V_METHOD), "DELETE") == 0;
	memcpy(l->id, d->path_param, sizeof(l->id));
	if (!mux_req_offload(r, &l->w)) {
		free(l);
		mux_req_respond_detail(
		    r, 503, APIJSON_RETRY_AFTER, APIJSON_UNAVAILABLE);
	}
}

/* --- retention: expired uploads swept away (the I/O pool) ----------------- */

static void sweep_tick(struct tmr_node *node, uint64_t now, void *ctx);

static void
sweep_run(struct offload_job *job)
{
	struct sweep *sw = (struct sweep *)job;

	updir_sweep(sw->u->dirfd, sw->cutoff, &sw->res);
}

static void
sweep_done(struct offload_job *job, enum offload_status status)
{
	struct sweep *sw = (struct sweep *)job;
	struct mod_upload *u = sw->u;

	u->sweeping = NULL;
	if (status == OFFLOAD_DONE) {
		u->used -= sw->res.removed_bytes < u->used
		    ? sw->res.removed_bytes
		    : u->used;
		u->expired += sw->res.removed;
		u->orphans += sw->res.orphans;
	}
	free(sw);
}

static uint64_t
sweep_interval_ms(const struct mod_upload *u)
{
	uint64_t ms = u->ttl_s * 100; /* a tenth of the TTL */

	return ms < SWEEP_MIN_MS ? SWEEP_MIN_MS
	    : ms > SWEEP_MAX_MS  ? SWEEP_MAX_MS
	                         : ms;
}

/* Hand a sweep to the I/O pool (one at a time), then wait for the next. */
static void
sweep_tick(struct tmr_node *node, uint64_t now, void *ctx)
{
	struct mod_upload *u =
	    container_of(node, struct mod_upload, sweep_timer);
	struct sweep *sw;

	(void)now;
	(void)ctx;
	if (u->sweeping == NULL && (sw = calloc(1, sizeof(*sw))) != NULL) {
		offload_job_init(&sw->job, sweep_run, sweep_done);
		sw->u = u;
		sw->cutoff = time(NULL) - (time_t)u->ttl_s;
		if (offload_submit(u->io, &sw->job) == OFFLOAD_OK)
			u->sweeping = sw;
		else
			free(sw); /* the pool is busy: next time */
	}
	ev_timer_after(u->loop, &u->sweep_timer, sweep_interval_ms(u));
}

/* --- registration --------------------------------------------------------- */

static char *
uploads_metrics(void *ctx, size_t *lenp)
{
	const struct mod_upload *u = ctx;
	const struct metrics_series s[] = {
	    {"fcgilab_uploads_total", "counter", "Uploads stored.", u->stored},
	    {"fcgilab_upload_bytes_total", "counter",
	        "Bytes of the uploads stored.", u->bytes},
	    {"fcgilab_uploads_refused_total", "counter",
	        "Uploads refused (too large, malformed, no room).", u->refused},
	    {"fcgilab_uploads_aborted_total", "counter",
	        "Uploads whose client went away before the answer.",
	        u->aborted},
	    {"fcgilab_uploads_no_room_total", "counter",
	        "Uploads refused with 507: the quota, or a full disk.",
	        u->no_room},
	    {"fcgilab_uploads_deleted_total", "counter",
	        "Uploads removed by DELETE /uploads/ID.", u->deleted},
	    {"fcgilab_uploads_expired_total", "counter",
	        "Uploads removed when their TTL ran out.", u->expired},
	    {"fcgilab_uploads_orphans_removed_total", "counter",
	        "Files of uploads no answer could name, removed.", u->orphans},
	    {"fcgilab_uploads_stored_bytes", "gauge",
	        "Bytes of the uploads kept in the directory.", u->used},
	    {"fcgilab_uploads_quota_bytes", "gauge",
	        "The most bytes the kept uploads may take.", u->quota},
	};

	return metrics_series_text(s, sizeof(s) / sizeof(s[0]), lenp);
}

/* The quota when none is given: half of the filesystem the directory is
 * on, so that uploads alone never fill it. */
static uint64_t
default_quota(int dirfd)
{
	struct statvfs vfs;

	if (fstatvfs(dirfd, &vfs) != 0)
		return UINT64_MAX;
	return (uint64_t)vfs.f_blocks * vfs.f_frsize / 2;
}

struct mod_upload *
mod_upload_new(struct mux *m, struct mod_jobs *jobs, struct offload_pool *io,
    const struct mod_upload_config *cfg, char *err, size_t errlen)
{
	static const struct mux_route_ops ops = {
	    .start = on_start,
	    .body = on_body,
	    .body_end = on_body_end,
	    .end = on_end,
	};
	static const struct mux_route_ops id_ops = {.start = on_id_start};
	struct updir_sweep census;
	struct mod_upload *u;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	u->mux = m;
	u->loop = mux_loop(m);
	u->jobs = jobs;
	u->io = io;
	u->max_bytes = cfg->max_bytes;
	u->ttl_s = cfg->ttl_s;
	u->dirfd = -1;
	tmr_node_init(&u->sweep_timer, sweep_tick);
	if (cfg->dir != NULL &&
	    (u->dirfd = updir_open(cfg->dir, err, errlen)) < 0) {
		free(u);
		return NULL;
	}
	if ((u->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		snprintf(err, errlen, "OpenSSL has no SHA-256");
		mod_upload_free(u);
		return NULL;
	}
	if (u->dirfd >= 0) {
		/* what is there already counts against the quota */
		updir_sweep(u->dirfd, 0, &census);
		u->used = census.kept_bytes;
		u->quota =
		    cfg->quota != 0 ? cfg->quota : default_quota(u->dirfd);
		if (u->ttl_s > 0) /* the first sweep at once */
			sweep_tick(&u->sweep_timer, 0, NULL);
	}
	mux_route_register(m, APP_R_UPLOAD, &ops, u);
	mux_route_register(m, APP_R_UPLOADS, &ops, u);
	mux_route_register(m, APP_R_UPLOAD_ID, &id_ops, u);
	mux_metrics_register(m, uploads_metrics, u);
	return u;
}

void
mod_upload_free(struct mod_upload *u)
{
	if (u == NULL)
		return;
	tmr_cancel(ev_timers(u->loop), &u->sweep_timer);
	if (u->dirfd >= 0)
		close(u->dirfd);
	EVP_MD_free(u->sha256);
	free(u);
}
