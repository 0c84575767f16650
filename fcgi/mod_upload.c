/* mod_upload — streamed uploads and upload-then-process; contract in
 * mod_upload.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jobs.h"
#include "metrics.h"
#include "mod_jobs.h"
#include "mod_upload.h"
#include "multipart.h"
#include "mux_route.h"
#include "num.h"
#include "offload.h"
#include "qs.h"
#include "stats_task.h"

#define PART_PREFIX     ".part-"
#define NAME_MAX_BYTES  255
#define MULTIPART_SLACK (64 * 1024) /* boundaries and part headers */
#define PARSE_ERROR     "There was an error parsing the body"

struct mod_upload {
	struct mux *mux;
	struct mod_jobs *jobs;
	struct offload_pool *pool;
	int dirfd;      /* the upload directory, or -1 */
	EVP_MD *sha256; /* fetched once (OpenSSL 3), not per upload */
	uint64_t max_bytes;
	uint64_t stored, bytes, refused, aborted;
};

enum up_state {
	UP_RECEIVING, /* the body is arriving */
	UP_SYNCING,   /* complete: fsync and rename on the offload pool */
	UP_ENQUEUING, /* stored: the stats job being committed */
	UP_OVER,      /* answered, or failed: nothing pending */
};

struct fin_job; /* the fsync + rename of a complete upload */

struct upreq {
	struct mod_upload *u;
	struct mux_req *r;
	enum up_state state;
	bool multipart, process;
	bool in_file, have_file; /* in the "file" part; seen it */
	int fd;                  /* the part file while receiving, or -1 */
	char id[JOBS_ID_LEN + 1];
	char *filename, *ctype; /* metadata, malloc'd or NULL */
	uint64_t bytes;
	EVP_MD_CTX *md;
	char sha256[65];
	struct fin_job *fin;
	struct mod_jobs_ticket *ticket;
	struct multipart_parser *mp; /* multipart bodies only */
};

struct fin_job {
	struct offload_job job;
	struct mod_upload *u;
	struct upreq *owner; /* NULL once its request went away */
	int fd;
	int err; /* errno of work(), 0 when stored */
	char id[JOBS_ID_LEN + 1];
};

/* --- files ---------------------------------------------------------------- */

static void
part_name(const char *id, char out[sizeof(PART_PREFIX) + JOBS_ID_LEN])
{
	snprintf(out, sizeof(PART_PREFIX) + JOBS_ID_LEN, PART_PREFIX "%s", id);
}

/* Close and remove the part file of a failed upload (idempotent). */
static void
discard_file(struct upreq *ur)
{
	char part[sizeof(PART_PREFIX) + JOBS_ID_LEN];

	if (ur->fd < 0)
		return;
	close(ur->fd);
	ur->fd = -1;
	part_name(ur->id, part);
	unlinkat(ur->u->dirfd, part, 0);
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

/* Fail the upload: no file left, then the answer (r may be gone after). */
static void
fail(struct upreq *ur, int status, const char *msg)
{
	discard_file(ur);
	ur->state = UP_OVER;
	ur->u->refused++;
	mux_req_respond_detail(
	    ur->r, status, status == 503 ? "Retry-After: 1\r\n" : NULL, msg);
}

static void
fail_errno(struct upreq *ur, int err)
{
	fprintf(stderr, "fcgilab-mux: upload %s: %s\n", ur->id, strerror(err));
	if (err == ENOSPC || err == EDQUOT)
		fail(ur, 507, "Insufficient Storage");
	else
		fail(ur, 500, "Internal Server Error");
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
	char *body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	ur->state = UP_OVER;
	mux_req_respond_json(
	    ur->r, status, headers, body, body ? strlen(body) : 0);
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
		ur->state = UP_OVER;
		mux_req_respond_detail(
		    r, 503, "Retry-After: 1\r\n", "Service Unavailable");
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
		ur->state = UP_OVER;
		mux_req_respond_detail(
		    ur->r, 500, NULL, "Internal Server Error");
		break;
	case JOBS_PARSE_ENOMEM:
		ur->state = UP_OVER;
		mux_req_respond_detail(
		    ur->r, 503, "Retry-After: 1\r\n", "Service Unavailable");
		break;
	}
	json_decref(params);
}

/* --- finishing: fsync, rename, fsync the directory (offload pool) --------- */

static void
fin_work(struct offload_job *job)
{
	struct fin_job *f = (struct fin_job *)job;
	char part[sizeof(PART_PREFIX) + JOBS_ID_LEN];

	part_name(f->id, part);
	if (fsync(f->fd) != 0)
		f->err = errno;
	/* renamed while still open, so still locked: another mux starting on
	 * a shared directory never takes it for a crash's leftover */
	if (f->err == 0 && renameat(f->u->dirfd, part, f->u->dirfd, f->id) != 0)
		f->err = errno;
	if (f->err != 0)
		unlinkat(f->u->dirfd, part, 0);
	close(f->fd);
	f->fd = -1;
	if (f->err != 0)
		return;
	if (fsync(f->u->dirfd) != 0) { /* its name may not survive a crash */
		f->err = errno;
		unlinkat(f->u->dirfd, f->id, 0);
	}
}

/* A job that never ran (shutdown, or taken out of the queue). */
static void
fin_discard(struct fin_job *f)
{
	char part[sizeof(PART_PREFIX) + JOBS_ID_LEN];

	if (f->fd >= 0) {
		close(f->fd);
		part_name(f->id, part);
		unlinkat(f->u->dirfd, part, 0);
	}
	free(f);
}

static void fin_settle(
    struct fin_job *f, struct upreq *ur, enum offload_status status);

/* The pool is done with f (loop thread). */
static void
fin_done(struct offload_job *job, enum offload_status status)
{
	struct fin_job *f = (struct fin_job *)job;
	struct upreq *ur = f->owner;
	struct mux_req *r = ur != NULL ? ur->r : NULL;

	if (r != NULL)
		mux_req_enter(r); /* ur lives until mux_req_leave */
	fin_settle(f, ur, status);
	if (r != NULL)
		mux_req_leave(r);
}

static void
fin_settle(struct fin_job *f, struct upreq *ur, enum offload_status status)
{
	if (status == OFFLOAD_ABORTED) {
		if (ur != NULL)
			ur->fin = NULL;
		fin_discard(f);
		if (ur != NULL)
			fail(ur, 503, "Service Unavailable");
		return;
	}
	if (ur == NULL || status == OFFLOAD_CANCELLED) { /* client gone */
		free(f);
		return;
	}
	ur->fin = NULL;
	if (f->err != 0) {
		int err = f->err;

		free(f);
		ur->state = UP_OVER;
		fail_errno(ur, err);
		return;
	}
	free(f);
	stored(ur);
}

/* The body is complete: seal the digest, hand the file to the pool. */
static void
finish(struct upreq *ur)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	struct fin_job *f;

	if (EVP_DigestFinal_ex(ur->md, md, &mdlen) != 1 || mdlen != 32) {
		fail(ur, 500, "Internal Server Error");
		return;
	}
	for (i = 0; i < mdlen; i++)
		snprintf(ur->sha256 + 2 * i, 3, "%02x", md[i]);
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		fail(ur, 500, "Internal Server Error");
		return;
	}
	offload_job_init(&f->job, fin_work, fin_done);
	f->u = ur->u;
	f->owner = ur;
	f->fd = ur->fd;
	memcpy(f->id, ur->id, sizeof(f->id));
	if (offload_submit(ur->u->pool, &f->job) != OFFLOAD_OK) {
		free(f);
		fail(ur, 503, "Service Unavailable");
		return;
	}
	ur->fd = -1; /* the job's now */
	ur->fin = f;
	ur->state = UP_SYNCING;
}

/* --- the body ------------------------------------------------------------- */

/* File bytes: count, bound, write, hash. false: the upload failed. */
static bool
file_data(struct upreq *ur, const uint8_t *p, size_t n)
{
	if (n > ur->u->max_bytes - ur->bytes) {
		fail(ur, 413, "Content Too Large");
		return false;
	}
	ur->bytes += n;
	if (!write_all(ur->fd, p, n)) {
		fail_errno(ur, errno);
		return false;
	}
	if (EVP_DigestUpdate(ur->md, p, n) != 1) {
		fail(ur, 500, "Internal Server Error");
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
	enum offload_cancel c;

	discard_file(ur);
	if (ur->fin != NULL) {
		c = offload_cancel(ur->u->pool, &ur->fin->job);
		if (c == OFFLOAD_CANCEL_DETACHED)
			ur->fin->owner = NULL; /* done(CANCELLED) frees it */
		else
			fin_discard(ur->fin);
	}
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
	size_t count = 0, len = 0;
	char *val = qs_get(query, "process", &count, &len), *body;
	json_t *err, *j;

	if (val != NULL && len == strlen(STATS_TASK_NAME) &&
	    memcmp(val, STATS_TASK_NAME, len) == 0) {
		free(val);
		return true;
	}
	if (val == NULL && count > 0) {
		mux_req_respond_detail(r, 500, NULL, "Internal Server Error");
		return false;
	}
	err = val == NULL
	    ? jobs_pyd_error(
	          "missing", "query", "process", "Field required", NULL, NULL)
	    : jobs_pyd_error("literal_error", "query", "process",
	          "Input should be 'stats'", json_stringn(val, len),
	          json_pack("{s:s}", "expected", "'stats'"));
	free(val);
	j = err ? json_pack("{s:[o]}", "detail", err) : NULL;
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	mux_req_respond_json(r, 422, NULL, body, body ? strlen(body) : 0);
	return false;
}

/* Refusals before any byte is read. true: go on. */
static bool
check_request(struct mux_req *r, struct mod_upload *u, bool process, bool multi)
{
	const char *cl = mux_req_var(r, MUX_V_CONTENT_LENGTH);
	long long n = 0;
	uint64_t cap = u->max_bytes + (multi ? MULTIPART_SLACK : 0);

	if (u->dirfd < 0 || (process && u->jobs == NULL)) {
		mux_req_respond_detail(r, 503, NULL,
		    u->dirfd < 0 ? "Uploads are not configured"
		                 : "Background jobs are not configured");
		return false;
	}
	if (process && !process_param(r))
		return false;
	if (cl != NULL && num_parse_int(cl, strlen(cl), &n) == NUM_OK &&
	    n >= 0 && (uint64_t)n > cap) {
		u->refused++;
		mux_req_respond_detail(r, 413, NULL, "Content Too Large");
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
	char part[sizeof(PART_PREFIX) + JOBS_ID_LEN];
	uint8_t raw[16];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return false;
	jobs_id_format(raw, ur->id);
	part_name(ur->id, part);
	/* O_EXCL: a name already there (a file, or a link planted to make us
	 * write elsewhere) is never opened */
	ur->fd = openat(ur->u->dirfd, part,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (ur->fd < 0)
		return false;
	/* held until the file has its final name: the mark of an upload in
	 * progress (remove_stale_parts); NFS carries it to the other hosts */
	(void)flock(ur->fd, LOCK_EX | LOCK_NB);
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
		fail(ur, 500, "Internal Server Error");
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
		mux_req_respond_detail(r, 500, NULL, "Internal Server Error");
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
		fail(ur, 500, "Internal Server Error");
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
			fail(ur, 500, "Internal Server Error");
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
		json_t *err = jobs_pyd_error(
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
	};

	return metrics_series_text(s, sizeof(s) / sizeof(s[0]), lenp);
}

/* Part files a crashed mux left behind belong to no request: remove them.
 * Several muxes may share the directory (backend hosts mounting one NFS
 * export): a part file some mux still writes is locked (open_upload), so
 * only the ones whose lock can be taken are removed. */
static void
remove_stale_parts(int dirfd)
{
	struct dirent *e;
	DIR *d;
	int fd = dup(dirfd), pfd;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, PART_PREFIX, strlen(PART_PREFIX)) != 0)
			continue;
		pfd = openat(dirfd, e->d_name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (pfd < 0)
			continue;
		if (flock(pfd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dirfd, e->d_name, 0);
		close(pfd);
	}
	closedir(d);
}

struct mod_upload *
mod_upload_new(struct mux *m, struct mod_jobs *jobs, struct offload_pool *pool,
    const struct mod_upload_config *cfg, char *err, size_t errlen)
{
	static const struct mux_route_ops ops = {
	    .start = on_start,
	    .body = on_body,
	    .body_end = on_body_end,
	    .end = on_end,
	};
	struct mod_upload *u;
	struct stat st;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	u->mux = m;
	u->jobs = jobs;
	u->pool = pool;
	u->max_bytes = cfg->max_bytes;
	u->dirfd = -1;
	/* O_NOFOLLOW: the directory itself, never a link put in its place;
	 * every file in it is then reached through this fd (openat, renameat,
	 * unlinkat), so its path is resolved once */
	if (cfg->dir != NULL &&
	    (u->dirfd = open(cfg->dir,
	         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		/* O_DIRECTORY checks first: a link there reads ENOTDIR */
		int e = errno;
		bool link = e == ELOOP ||
		    (e == ENOTDIR && lstat(cfg->dir, &st) == 0 &&
		        S_ISLNK(st.st_mode));

		snprintf(err, errlen, "%s: %s", cfg->dir,
		    link ? "is a symbolic link (refused)" : strerror(e));
		free(u);
		return NULL;
	}
	if ((u->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		snprintf(err, errlen, "OpenSSL has no SHA-256");
		mod_upload_free(u);
		return NULL;
	}
	if (u->dirfd >= 0)
		remove_stale_parts(u->dirfd);
	mux_route_register(m, APP_R_UPLOAD, &ops, u);
	mux_route_register(m, APP_R_UPLOADS, &ops, u);
	mux_metrics_register(m, uploads_metrics, u);
	return u;
}

void
mod_upload_free(struct mod_upload *u)
{
	if (u == NULL)
		return;
	if (u->dirfd >= 0)
		close(u->dirfd);
	EVP_MD_free(u->sha256);
	free(u);
}
