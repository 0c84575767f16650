/* secret — secrets from files; contract in secret.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"

enum secret_result
secret_read_file(const char *path, const char *label, char *buf, size_t cap,
    char *err, size_t errlen)
{
	char tmp[SECRET_MAX + 2]; /* the longest secret, then "\r\n" */
	enum secret_result r = SECRET_EINVAL;
	struct stat st;
	size_t n = 0;
	ssize_t k;
	int fd;

	if (cap > SECRET_MAX)
		cap = SECRET_MAX;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		snprintf(
		    err, errlen, "%s %s: %s", label, path, strerror(errno));
		return errno == ENOENT ? SECRET_ENOENT : SECRET_EINVAL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: %s", label, path,
		    S_ISDIR(st.st_mode) ? "is a directory"
		                        : "not a regular file");
		goto out;
	}
	if (st.st_mode & S_IRWXO) {
		snprintf(err, errlen,
		    "%s %s: others may read or change it (chmod o-rwx %s)",
		    label, path, path);
		goto out;
	}
	while (n < sizeof(tmp)) {
		if ((k = read(fd, tmp + n, sizeof(tmp) - n)) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s %s: %s", label, path,
			    strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n > 0 && tmp[n - 1] == '\n')
		n--;
	if (n > 0 && tmp[n - 1] == '\r')
		n--;
	if (n == 0)
		snprintf(err, errlen, "%s %s: the file is empty", label, path);
	else if (n >= cap)
		snprintf(err, errlen, "%s %s: longer than %zu bytes", label,
		    path, cap - 1);
	else if (memchr(tmp, '\0', n) != NULL)
		snprintf(err, errlen, "%s %s: holds a NUL byte", label, path);
	else if (memchr(tmp, '\n', n) != NULL || memchr(tmp, '\r', n) != NULL)
		snprintf(err, errlen,
		    "%s %s: more than one line (the secret is the first and "
		    "only line)",
		    label, path);
	else {
		memcpy(buf, tmp, n);
		buf[n] = '\0';
		r = SECRET_OK;
	}
out:
	secret_wipe(tmp, sizeof(tmp));
	if (r != SECRET_OK)
		secret_wipe(buf, cap);
	close(fd);
	return r;
}

void
secret_wipe(void *buf, size_t n)
{
	volatile unsigned char *p = buf;

	while (n--)
		*p++ = 0;
}
