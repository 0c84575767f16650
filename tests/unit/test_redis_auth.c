/*
 * test_redis_auth — where the Redis password comes from (redis_auth.h): each
 * source alone, their precedence (file, credential, environment, URL), a
 * file's trailing newline, bad files, the URL's password masked in place,
 * stores that are not Redis, and messages that never hold the password.
 * Works in a temp dir of its own; changes only its own environment.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "redis_auth.h"
#include "tap.h"

#define PW "S3cretPw"

static char dir[64];

/* dir/name with n bytes of data; returns its path (static buffer). */
static const char *
put(const char *name, const char *data, size_t n)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, n) != (ssize_t)n)
		printf("# cannot write %s\n", path);
	if (fd >= 0)
		close(fd);
	return path;
}

/* Load with a copy of url (it is masked); the result, s and the copy. */
static enum redis_auth_result
load(struct redis_auth *s, const char *file, const char *url, char *copy,
    char *err)
{
	snprintf(copy, 256, "%s", url);
	return redis_auth_load(s, file, copy, err, 256);
}

static void
test_file(void)
{
	struct redis_auth s;
	char url[256], err[256], big[REDIS_AUTH_MAX + 4];
	const char *f;

	f = put("a", PW "\n", strlen(PW) + 1);
	ok(load(&s, f, "redis://h", url, err) == REDIS_AUTH_OK &&
	        s.source == REDIS_AUTH_FILE && strcmp(s.value, PW) == 0 &&
	        strcmp(redis_auth_password(&s), PW) == 0,
	    "file: one trailing newline stripped");
	f = put("b", PW "\r\n", strlen(PW) + 2);
	ok(load(&s, f, "redis://h", url, err) == REDIS_AUTH_OK &&
	        strcmp(s.value, PW) == 0,
	    "file: a trailing CRLF stripped");
	f = put("c", PW, strlen(PW));
	ok(load(&s, f, "redis://h", url, err) == REDIS_AUTH_OK &&
	        strcmp(s.value, PW) == 0,
	    "file: no newline");
	f = put("d", " " PW " \n", strlen(PW) + 3);
	ok(load(&s, f, "redis://h", url, err) == REDIS_AUTH_OK &&
	        strcmp(s.value, " " PW " ") == 0,
	    "file: spaces are part of the password");
	f = put("e", PW "\n\n", strlen(PW) + 2);
	ok(load(&s, f, "redis://h", url, err) == REDIS_AUTH_EINVAL &&
	        strstr(err, "more than one line") && !strstr(err, PW) &&
	        s.source == REDIS_AUTH_NONE,
	    "file: two lines refused (%s)", err);
	f = put("f", "", 0);
	ok(load(&s, f, "redis://h", url, err) == REDIS_AUTH_EINVAL &&
	        strstr(err, "empty"),
	    "file: empty refused (%s)", err);
	f = put("g", "\n", 1);
	ok(load(&s, f, "redis://h", url, err) == REDIS_AUTH_EINVAL &&
	        strstr(err, "empty"),
	    "file: a lone newline refused (%s)", err);
	f = put("h", "ab\0cd", 5);
	ok(load(&s, f, "redis://h", url, err) == REDIS_AUTH_EINVAL &&
	        strstr(err, "NUL"),
	    "file: a NUL byte refused (%s)", err);
	memset(big, 'p', sizeof(big));
	big[REDIS_AUTH_MAX - 1] = '\n';
	f = put("i", big, REDIS_AUTH_MAX);
	ok(load(&s, f, "redis://h", url, err) == REDIS_AUTH_OK &&
	        strlen(s.value) == REDIS_AUTH_MAX - 1,
	    "file: %d bytes and a newline", REDIS_AUTH_MAX - 1);
	big[REDIS_AUTH_MAX - 1] = 'p';
	f = put("j", big, REDIS_AUTH_MAX);
	ok(load(&s, f, "redis://h", url, err) == REDIS_AUTH_EINVAL &&
	        strstr(err, "longer"),
	    "file: %d bytes refused (%s)", REDIS_AUTH_MAX, err);
	f = put("k", big, sizeof(big));
	ok(load(&s, f, "redis://h", url, err) == REDIS_AUTH_EINVAL &&
	        strstr(err, "longer"),
	    "file: longer still refused (%s)", err);
	ok(load(&s, "/nonexistent/pw", "redis://h", url, err) ==
	            REDIS_AUTH_EINVAL &&
	        strstr(err,
	            "--queue-password-file /nonexistent/pw: No such "
	            "file") != NULL,
	    "file: missing refused (%s)", err);
	ok(load(&s, dir, "redis://h", url, err) == REDIS_AUTH_EINVAL &&
	        strstr(err, "directory") != NULL,
	    "file: a directory refused (%s)", err);
	ok(load(&s, put("l", PW, strlen(PW)), "/var/lib/jobs.db", url, err) ==
	            REDIS_AUTH_EINVAL &&
	        strstr(err, "redis://") != NULL,
	    "file: for an SQLite store refused (%s)", err);
}

static void
test_precedence(void)
{
	struct redis_auth s;
	char url[256], err[256], cred[128];
	const char *f;

	snprintf(cred, sizeof(cred), "%s/cred", dir);
	mkdir(cred, 0700);
	f = put("cred/redis-password", "from-cred\n", 10);
	f = put("opt", "from-file\n", 10);
	setenv("CREDENTIALS_DIRECTORY", cred, 1);
	setenv(REDIS_AUTH_ENV, "from-env", 1);

	ok(load(&s, f, "redis://u:from-url@h", url, err) == REDIS_AUTH_OK &&
	        s.source == REDIS_AUTH_FILE &&
	        strcmp(s.value, "from-file") == 0 &&
	        strcmp(url, "redis://u:********@h") == 0,
	    "the file wins over all; the URL is masked all the same (%s)", url);
	ok(load(&s, NULL, "redis://u:from-url@h", url, err) == REDIS_AUTH_OK &&
	        s.source == REDIS_AUTH_CREDENTIAL_FILE &&
	        strcmp(s.value, "from-cred") == 0,
	    "then the credential");
	put("cred/redis-password", "", 0);
	ok(load(&s, NULL, "redis://h", url, err) == REDIS_AUTH_EINVAL &&
	        strstr(err, "credential") && strstr(err, "empty"),
	    "an empty credential is an error (%s)", err);
	snprintf(cred, sizeof(cred), "%s/cred/redis-password", dir);
	unlink(cred);
	ok(load(&s, NULL, "redis://u:from-url@h", url, err) == REDIS_AUTH_OK &&
	        s.source == REDIS_AUTH_ENVIRONMENT &&
	        strcmp(s.value, "from-env") == 0,
	    "no credential file: then the environment");
	unsetenv("CREDENTIALS_DIRECTORY");
	setenv(REDIS_AUTH_ENV, "", 1);
	ok(load(&s, NULL, "redis://u:from%2Furl@h", url, err) ==
	            REDIS_AUTH_OK &&
	        s.source == REDIS_AUTH_URL &&
	        strcmp(s.value, "from/url") == 0 &&
	        strcmp(url, "redis://u:**********@h") == 0,
	    "an empty variable is unset: then the URL's, decoded, masked");
	unsetenv(REDIS_AUTH_ENV);
	ok(load(&s, NULL, "redis://u@h", url, err) == REDIS_AUTH_OK &&
	        s.source == REDIS_AUTH_NONE && redis_auth_password(&s) == NULL,
	    "none at all: no password");
	setenv(REDIS_AUTH_ENV, "from-env", 1);
	ok(load(&s, NULL, "/var/lib/jobs.db", url, err) == REDIS_AUTH_OK &&
	        s.source == REDIS_AUTH_NONE,
	    "SQLite: the environment is ignored");
	ok(load(&s, NULL, NULL, url, err) == REDIS_AUTH_OK &&
	        s.source == REDIS_AUTH_NONE,
	    "no store: nothing");
	unsetenv(REDIS_AUTH_ENV);
}

static void
test_bad_url(void)
{
	struct redis_auth s;
	char url[256], err[256];

	ok(load(&s, NULL, "redis://:" PW "%zz@h", url, err) ==
	            REDIS_AUTH_EINVAL &&
	        strstr(err, "percent") && !strstr(err, PW) &&
	        strcmp(url, "redis://:***********@h") == 0,
	    "a bad URL is refused, masked (%s; %s)", err, url);
	ok(load(&s, NULL, "rediss://:" PW "@h", url, err) ==
	            REDIS_AUTH_EINVAL &&
	        strstr(err, "TLS") && !strstr(err, PW) && !strstr(url, PW),
	    "rediss:// is refused (%s)", err);
}

static void
test_wipe(void)
{
	struct redis_auth s;
	char url[256], err[256];
	size_t i;
	int zero = 1;

	load(&s, NULL, "redis://:" PW "@h", url, err);
	ok(s.source == REDIS_AUTH_URL, "the URL's password");
	redis_auth_wipe(&s);
	for (i = 0; i < sizeof(s.value); i++)
		zero &= s.value[i] == 0;
	ok(zero && s.source == REDIS_AUTH_NONE &&
	        redis_auth_password(&s) == NULL,
	    "wiped: zeros, no password");
	ok(strcmp(redis_auth_source_name(REDIS_AUTH_FILE),
	       "--queue-password-file") == 0 &&
	        strcmp(redis_auth_source_name(REDIS_AUTH_ENVIRONMENT),
	            "FCGILAB_REDIS_PASSWORD") == 0,
	    "source names");
}

int
main(void)
{
	static const char *const files[] = {"a", "b", "c", "d", "e", "f", "g",
	    "h", "i", "j", "k", "l", "opt", "cred/redis-password", "cred"};
	char path[128];
	size_t i;

	unsetenv("CREDENTIALS_DIRECTORY");
	unsetenv(REDIS_AUTH_ENV);
	snprintf(dir, sizeof(dir), "/tmp/test_secret.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	test_file();
	test_precedence();
	test_bad_url();
	test_wipe();
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (unlink(path) != 0)
			rmdir(path);
	}
	if (rmdir(dir) != 0)
		printf("# could not remove %s\n", dir);
	return done_testing();
}
