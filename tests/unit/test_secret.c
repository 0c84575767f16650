/*
 * test_secret — a secret read from a file (secret.h): its only line, a
 * trailing newline dropped; refused: others' permissions, an empty file,
 * a second line, a NUL byte, too long, not a regular file, missing (told
 * apart). Messages never hold the secret. Works in a temp dir of its own.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"
#include "tap.h"

static char dir[] = "/tmp/test_secret.XXXXXX", path[128];

/* The file holds data (n bytes), mode mode. */
static void
put(const char *data, size_t n, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, n) != (ssize_t)n || fchmod(fd, mode))
		abort();
	close(fd);
}

static enum secret_result
rd(char *buf, size_t cap, char *err)
{
	return secret_read_file(path, "token", buf, cap, err, 256);
}

int
main(void)
{
	char buf[SECRET_MAX], small[8], err[256], big[SECRET_MAX + 8];

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/token", dir);

	put("s3cret-one\n", 11, 0600);
	ok(rd(buf, sizeof(buf), err) == SECRET_OK &&
	        strcmp(buf, "s3cret-one") == 0,
	    "the only line, its newline dropped");
	put("s3cret-one\r\n", 12, 0640);
	ok(rd(buf, sizeof(buf), err) == SECRET_OK &&
	        strcmp(buf, "s3cret-one") == 0,
	    "CRLF dropped; group may read");
	put("s3cret-one", 10, 0400);
	ok(rd(buf, sizeof(buf), err) == SECRET_OK &&
	        strcmp(buf, "s3cret-one") == 0,
	    "no newline at all");

	put("s3cret-one\n", 11, 0604);
	ok(rd(buf, sizeof(buf), err) == SECRET_EINVAL &&
	        strstr(err, "others may read") != NULL &&
	        strstr(err, "s3cret") == NULL && buf[0] == '\0',
	    "others may read it: refused, the secret neither shown nor kept");
	put("s3cret-one\n", 11, 0602);
	ok(rd(buf, sizeof(buf), err) == SECRET_EINVAL,
	    "others may write it: refused");
	put("", 0, 0600);
	ok(rd(buf, sizeof(buf), err) == SECRET_EINVAL &&
	        strstr(err, "empty") != NULL,
	    "an empty file");
	put("\n", 1, 0600);
	ok(rd(buf, sizeof(buf), err) == SECRET_EINVAL, "a lone newline");
	put("one\ntwo\n", 8, 0600);
	ok(rd(buf, sizeof(buf), err) == SECRET_EINVAL &&
	        strstr(err, "more than one line") != NULL &&
	        strstr(err, "one\n") == NULL,
	    "a second line");
	put("a\0b\n", 4, 0600);
	ok(rd(buf, sizeof(buf), err) == SECRET_EINVAL &&
	        strstr(err, "NUL") != NULL,
	    "a NUL byte");
	put("12345678\n", 9, 0600);
	ok(rd(small, sizeof(small), err) == SECRET_EINVAL &&
	        strstr(err, "longer than 7") != NULL,
	    "longer than the caller's buffer");
	put("1234567\n", 8, 0600);
	ok(rd(small, sizeof(small), err) == SECRET_OK &&
	        strcmp(small, "1234567") == 0,
	    "exactly as long as the buffer holds");
	memset(big, 'x', sizeof(big));
	put(big, sizeof(big), 0600);
	ok(rd(buf, sizeof(buf), err) == SECRET_EINVAL &&
	        strstr(err, "longer than") != NULL,
	    "longer than SECRET_MAX");
	ok(secret_read_file(dir, "token", buf, sizeof(buf), err, 256) ==
	        SECRET_EINVAL,
	    "a directory");
	unlink(path);
	ok(rd(buf, sizeof(buf), err) == SECRET_ENOENT &&
	        strstr(err, "No such file") != NULL,
	    "a missing file, told apart");
	if (symlink("/etc/hostname", path) == 0) {
		ok(rd(buf, sizeof(buf), err) == SECRET_EINVAL,
		    "a link to a file others may read");
		unlink(path);
	}
	rmdir(dir);
	return done_testing();
}
