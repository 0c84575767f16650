/*
 * test_stats_task — the "stats" task's run function against what can be
 * found in an upload directory: a real upload is read; a symbolic link
 * (to a file the worker may read, as root could /etc/shadow), a FIFO, a
 * directory, a second hard link and a missing name each fail the job with
 * the reason in its error and no result, and nothing of the link's target
 * ever reaches the error; an upload directory that is itself a link fails
 * the same way. Works in a private temp directory.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "jobs.h"
#include "stats_task.h"
#include "tap.h"

#define SECRET "root:$y$j9T$NOT-FOR-YOU:19000:0:99999:7:::\n"

static char top[64], dir[128], outside[128];

/* An upload id: 32 lowercase hex digits, n in the last two. */
static const char *
id_of(int n)
{
	static char id[33];

	snprintf(id, sizeof(id), "0123456789abcdef0123456789abcd%02x", n);
	return id;
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* Run the task on upload id (as CSV) in upload directory d. */
static enum jobs_run_result
run(const char *d, const char *id, char **result, char **error)
{
	struct app_config cfg;
	struct jobs_tasks ts;
	const struct jobs_task *t;
	enum jobs_run_result res;
	json_t *params = json_pack("{s:s,s:s,s:s}", "upload", id, "filename",
	    "data.csv", "content_type", "text/csv");

	app_config_init(&cfg);
	jobs_tasks_init(&ts, &cfg);
	*result = *error = NULL;
	if (params == NULL || !stats_task_add(&ts, d) ||
	    (t = jobs_tasks_find(&ts, STATS_TASK_NAME)) == NULL ||
	    t->run == NULL) {
		fprintf(stderr, "cannot set the task up\n");
		exit(2);
	}
	res = t->run(t, params, NULL, result, error);
	json_decref(params);
	return res;
}

/* The job fails with exactly "upload ID: why", no result, no secret. */
static void
refused(const char *d, int n, const char *why, const char *name)
{
	char *result, *error, want[256];
	enum jobs_run_result res = run(d, id_of(n), &result, &error);

	snprintf(want, sizeof(want), "upload %s: %s", id_of(n), why);
	ok(res == JOBS_RUN_FAILED && result == NULL, "%s: the job fails", name);
	is_str(error, want, name);
	ok(error == NULL || strstr(error, "NOT-FOR-YOU") == NULL,
	    "%s: nothing of the target in the error", name);
	free(result);
	free(error);
}

int
main(void)
{
	char path[256], target[512], *result, *error;
	enum jobs_run_result res;

	snprintf(top, sizeof(top), "/tmp/test_stats_task.XXXXXX");
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/uploads", top);
	snprintf(outside, sizeof(outside), "%s/secret.csv", top);
	if (mkdir(dir, 0700) != 0) {
		perror(dir);
		return 2;
	}
	put(outside, SECRET);

	/* 1: a real upload, as the mux leaves it */
	snprintf(path, sizeof(path), "%s/%s", dir, id_of(1));
	put(path, "a,b\n1,2\n");
	res = run(dir, id_of(1), &result, &error);
	ok(res == JOBS_RUN_DONE && error == NULL, "a regular upload is read");
	ok(result != NULL && strstr(result, "\"bytes\":8") != NULL &&
	        strstr(result, "\"rows\":1") != NULL,
	    "its statistics: %s", result ? result : "(none)");
	free(result);
	free(error);

	/* 2: a symbolic link planted under an upload id */
	snprintf(path, sizeof(path), "%s/%s", dir, id_of(2));
	if (symlink(outside, path) != 0)
		perror("symlink");
	refused(dir, 2, "is a symbolic link (refused)", "a link to a file");

	/* 3: a link to a directory, and a dangling one */
	snprintf(path, sizeof(path), "%s/%s", dir, id_of(3));
	if (symlink("/", path) != 0)
		perror("symlink");
	refused(dir, 3, "is a symbolic link (refused)", "a link to /");
	snprintf(path, sizeof(path), "%s/%s", dir, id_of(4));
	if (symlink("/nonexistent/x", path) != 0)
		perror("symlink");
	refused(dir, 4, "is a symbolic link (refused)", "a dangling link");

	/* 4: a FIFO: refused at once, not a worker blocked on open or read */
	snprintf(path, sizeof(path), "%s/%s", dir, id_of(5));
	if (mkfifo(path, 0600) != 0)
		perror("mkfifo");
	refused(dir, 5, "not a regular file (refused)", "a FIFO");

	/* 5: a directory */
	snprintf(path, sizeof(path), "%s/%s", dir, id_of(6));
	if (mkdir(path, 0700) != 0)
		perror("mkdir");
	refused(dir, 6, "not a regular file (refused)", "a directory");

	/* 6: a second name of another file (a hard link) */
	snprintf(path, sizeof(path), "%s/%s", dir, id_of(7));
	if (link(outside, path) != 0)
		perror("link");
	refused(dir, 7, "has other links (refused)", "a hard link");

	/* 7: nothing there */
	refused(dir, 8, "not found", "a missing upload");

	/* 8: the upload directory itself a link (to the real one) */
	snprintf(path, sizeof(path), "%s/uploads-link", top);
	if (symlink(dir, path) != 0)
		perror("symlink");
	res = run(path, id_of(1), &result, &error);
	snprintf(target, sizeof(target),
	    "the upload directory %s: is a symbolic link (refused)", path);
	ok(res == JOBS_RUN_FAILED && result == NULL,
	    "an upload directory that is a link: the job fails");
	is_str(error, target, "an upload directory that is a link: why");
	free(result);
	free(error);

	/* clean up: everything made here, by name */
	for (int n = 1; n <= 7; n++) {
		snprintf(path, sizeof(path), "%s/%s", dir, id_of(n));
		if (n == 6)
			rmdir(path);
		else
			unlink(path);
	}
	snprintf(path, sizeof(path), "%s/uploads-link", top);
	unlink(path);
	unlink(outside);
	rmdir(dir);
	ok(rmdir(top) == 0, "nothing left behind");
	return done_testing();
}
