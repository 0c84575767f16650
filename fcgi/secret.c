/* secret — secrets from files; contract in secret.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"

int
secret_read_file(
    const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_mode & S_IRWXO) {
		snprintf(err, errlen,
		    "%s: others may read or change it (chmod o-rwx %s)", path,
		    path);
		goto fail;
	}
	if (cap < 2 || (n = read(fd, buf, cap - 1)) < 0) {
		snprintf(err, errlen, "%s: %s", path,
		    cap < 2 ? "no room" : strerror(errno));
		goto fail;
	}
	buf[n] = '\0';
	for (len = 0; len < (size_t)n && buf[len] != '\n' && buf[len] != '\r';
	     len++)
		if (buf[len] == '\0')
			break;
	if (len < (size_t)n && buf[len] == '\0') {
		snprintf(err, errlen, "%s: a NUL byte in the secret", path);
		goto fail;
	}
	if (len == cap - 1) {
		snprintf(
		    err, errlen, "%s: longer than %zu bytes", path, cap - 2);
		goto fail;
	}
	buf[len] = '\0';
	if (len == 0) {
		snprintf(err, errlen, "%s: no secret on its first line", path);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	secret_wipe(buf, cap);
	close(fd);
	return -1;
}

void
secret_wipe(void *buf, size_t n)
{
	volatile unsigned char *p = buf;

	while (n--)
		*p++ = 0;
}
