/* stats_task — the "stats" task of uploads; contract in stats_task.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apijson.h"
#include "filestats.h"
#include "randid.h"
#include "stats_task.h"

#define ID_PATTERN "^[0-9a-f]{32}$"

/* One optional string field: copied to params, or an error appended. */
static int
opt_string(const json_t *body, const char *name, json_t *errors, json_t *params)
{
	const json_t *v = json_object_get(body, name);

	if (v == NULL || json_is_null(v))
		return json_object_set_new(params, name, json_null());
	if (json_is_string(v))
		return json_object_set_new(
		    params, name, json_copy((json_t *)v));
	return json_array_append_new(errors,
	    apijson_error("string_type", "body", name,
	        "Input should be a valid string", json_deep_copy(v), NULL));
}

static int
upload_field(const json_t *body, json_t *errors, json_t *params)
{
	const json_t *v = json_object_get(body, "upload");

	if (v == NULL)
		return json_array_append_new(errors,
		    apijson_error("missing", "body", "upload", "Field required",
		        json_deep_copy(body), NULL));
	if (!json_is_string(v))
		return json_array_append_new(errors,
		    apijson_error("string_type", "body", "upload",
		        "Input should be a valid string", json_deep_copy(v),
		        NULL));
	if (!randid_valid(json_string_value(v)))
		return json_array_append_new(errors,
		    apijson_error("string_pattern_mismatch", "body", "upload",
		        "String should match pattern '" ID_PATTERN "'",
		        json_deep_copy(v),
		        json_pack("{s:s}", "pattern", ID_PATTERN)));
	return json_object_set_new(params, "upload", json_copy((json_t *)v));
}

static int
validate_stats(const struct jobs_task *t, const json_t *body, json_t *errors,
    json_t **params)
{
	size_t before = json_array_size(errors);
	json_t *p = json_object();

	(void)t;
	*params = NULL;
	if (p == NULL || upload_field(body, errors, p) != 0 ||
	    opt_string(body, "filename", errors, p) != 0 ||
	    opt_string(body, "content_type", errors, p) != 0) {
		json_decref(p);
		return -1;
	}
	if (json_array_size(errors) > before) {
		json_decref(p);
		return 0;
	}
	*params = p;
	return 0;
}

/* CSV by Content-Type (text/csv, parameters or not) or by name. */
static bool
is_csv(const json_t *params)
{
	const char *ct =
	    json_string_value(json_object_get(params, "content_type"));
	const char *fn = json_string_value(json_object_get(params, "filename"));
	size_t n;

	if (ct != NULL && strncasecmp(ct, "text/csv", 8) == 0 &&
	    (ct[8] == '\0' || ct[8] == ';' || ct[8] == ' '))
		return true;
	return fn != NULL && (n = strlen(fn)) >= 4 &&
	    strcasecmp(fn + n - 4, ".csv") == 0;
}

__attribute__((format(printf, 2, 3))) static enum jobs_run_result
failed(char **error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(error, fmt, ap) < 0)
		*error = NULL;
	va_end(ap);
	return JOBS_RUN_FAILED;
}

/* Read fd to its end into s: DONE, FAILED (*error says why) or stopped. */
static enum jobs_run_result
feed_file(
    int fd, struct filestats *s, const struct jobs_run_ctl *ctl, char **error)
{
	uint8_t *buf = malloc(STATS_TASK_CHUNK);
	enum jobs_run_result res = JOBS_RUN_DONE;
	ssize_t n;

	if (buf == NULL)
		return failed(error, "out of memory");
	for (;;) {
		if (ctl != NULL && ctl->should_stop != NULL &&
		    ctl->should_stop(ctl->arg)) {
			res = JOBS_RUN_ABANDONED;
			break;
		}
		if ((n = read(fd, buf, STATS_TASK_CHUNK)) < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			res = failed(
			    error, "reading the upload: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (filestats_update(s, buf, (size_t)n) != FILESTATS_OK) {
			res = failed(error, "computing the statistics");
			break;
		}
	}
	free(buf);
	return res;
}

/* Why a name could not be opened, in the job's words. */
static const char *
open_error(int e)
{
	switch (e) {
	case ENOENT:
		return "not found";
	case ELOOP: /* O_NOFOLLOW met a link */
		return "is a symbolic link (refused)";
	default:
		return strerror(e);
	}
}

/* The upload's file, opened for reading without following any link: the
 * directory with O_NOFOLLOW, the file relative to it with O_NOFOLLOW and
 * O_NONBLOCK (a FIFO put there must not hang the worker), and only a
 * regular file with one name (as the mux's rename leaves it) is taken.
 * The fd, or -1 with *error set. */
static int
open_upload(const char *dir, const char *id, char **error)
{
	struct stat st;
	int dfd, fd, e;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		e = errno;
		/* O_DIRECTORY checks first: a link there reads ENOTDIR */
		if (e == ENOTDIR && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
			e = ELOOP;
		failed(
		    error, "the upload directory %s: %s", dir, open_error(e));
		return -1;
	}
	fd = openat(
	    dfd, id, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	e = errno;
	close(dfd);
	if (fd < 0) {
		failed(error, "upload %s: %s", id, open_error(e));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		close(fd);
		failed(error, "upload %s: %s", id, strerror(e));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		failed(error, "upload %s: %s", id,
		    !S_ISREG(st.st_mode) ? "not a regular file (refused)"
		                         : "has other links (refused)");
		return -1;
	}
	return fd;
}

static enum jobs_run_result
run_stats(const struct jobs_task *t, const json_t *params,
    const struct jobs_run_ctl *ctl, char **result, char **error)
{
	const char *id = json_string_value(json_object_get(params, "upload"));
	enum jobs_run_result res;
	struct filestats s;
	json_t *out = NULL;
	int fd;

	if (!randid_valid(id))
		return failed(error, "stats: invalid params");
	if ((fd = open_upload((const char *)t->cfg, id, error)) < 0)
		return JOBS_RUN_FAILED;
	if (filestats_init(&s, is_csv(params)) != FILESTATS_OK) {
		close(fd);
		return failed(error, "out of memory");
	}
	res = feed_file(fd, &s, ctl, error);
	close(fd);
	if (res == JOBS_RUN_DONE &&
	    (filestats_final(&s, &out) != FILESTATS_OK ||
	        json_object_set_new(out, "upload", json_string(id)) != 0 ||
	        (*result = json_dumps(out, JSON_COMPACT)) == NULL))
		res = failed(error, "out of memory");
	json_decref(out);
	filestats_free(&s);
	return res;
}

bool
stats_task_add(struct jobs_tasks *ts, const char *upload_dir)
{
	struct jobs_task t = {STATS_TASK_NAME, validate_stats, NULL, NULL};

	if (upload_dir != NULL) {
		t.run = run_stats;
		t.cfg = upload_dir;
	}
	return jobs_tasks_add(ts, &t);
}
