/* updir — the upload directory on disk; contract in updir.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "updir.h"

#define PART_MAX (sizeof(UPDIR_PART_PREFIX) + RANDID_LEN + 8)

/* ".part-ID" or ".part-ID.json" into out. */
static void
part_name(const char *id, bool meta, char out[PART_MAX])
{
	snprintf(out, PART_MAX, UPDIR_PART_PREFIX "%s%s", id,
	    meta ? UPDIR_META_SUFFIX : "");
}

static void
meta_name(const char *id, char out[RANDID_LEN + sizeof(UPDIR_META_SUFFIX)])
{
	snprintf(out, RANDID_LEN + sizeof(UPDIR_META_SUFFIX),
	    "%s" UPDIR_META_SUFFIX, id);
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Remove a part file unless a live mux holds its lock. 0 if removed. */
static int
remove_if_unlocked(int dirfd, const char *name)
{
	int fd = openat(
	        dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC),
	    rc = -1;

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		rc = unlinkat(dirfd, name, 0);
	close(fd);
	return rc;
}

int
updir_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int fd, e2;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
	    0) {
		/* O_DIRECTORY is checked first: a link there reads ENOTDIR */
		e2 = errno;
		snprintf(err, errlen, "%s: %s", path,
		    e2 == ELOOP ||
		            (e2 == ENOTDIR && lstat(path, &st) == 0 &&
		                S_ISLNK(st.st_mode))
		        ? "is a symbolic link (refused)"
		        : strerror(e2));
		return -1;
	}
	/* Part files a crashed mux left behind belong to no request; one
	 * another live mux still writes is locked (several muxes may share
	 * the directory: backend hosts mounting one NFS export). */
	if ((e2 = dup(fd)) >= 0 && (d = fdopendir(e2)) != NULL) {
		rewinddir(d);
		while ((e = readdir(d)) != NULL)
			if (has_prefix(e->d_name, UPDIR_PART_PREFIX))
				remove_if_unlocked(fd, e->d_name);
		closedir(d);
	} else if (e2 >= 0) {
		close(e2);
	}
	return fd;
}

int
updir_part_create(int dirfd, const char *id)
{
	char part[PART_MAX];

	int fd;

	part_name(id, false, part);
	/* O_EXCL: a name already there (a file, or a link planted to make us
	 * write elsewhere) is never opened */
	fd = openat(dirfd, part,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	/* locked until it has its final name: the mark of an upload in
	 * progress (NFS carries it to the other hosts) */
	if (fd >= 0)
		(void)flock(fd, LOCK_EX | LOCK_NB);
	return fd;
}

void
updir_part_discard(int dirfd, const char *id, int fd)
{
	char part[PART_MAX];

	if (fd >= 0)
		close(fd);
	part_name(id, false, part);
	unlinkat(dirfd, part, 0);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The metadata's part file, written and fsync'd: 0 or errno. */
static int
write_meta_part(int dirfd, const char *id, const char *meta, size_t len)
{
	char part[PART_MAX];
	int fd, err;

	part_name(id, true, part);
	fd = openat(dirfd, part,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return errno;
	if ((err = write_all(fd, meta, len)) == 0 && fsync(fd) != 0)
		err = errno;
	close(fd);
	return err;
}

int
updir_store(int dirfd, const char *id, int fd, const char *meta, size_t len)
{
	char part[PART_MAX], mpart[PART_MAX];
	char mname[RANDID_LEN + sizeof(UPDIR_META_SUFFIX)];
	int err = 0;

	part_name(id, false, part);
	part_name(id, true, mpart);
	meta_name(id, mname);
	if (fsync(fd) != 0)
		err = errno;
	if (err == 0)
		err = write_meta_part(dirfd, id, meta, len);
	/* the bytes first: a metadata file names only a stored upload; and
	 * renamed while still open, so still locked: another mux starting
	 * on a shared directory never takes it for a crash's leftover */
	if (err == 0 && renameat(dirfd, part, dirfd, id) != 0)
		err = errno;
	close(fd);
	if (err == 0 && renameat(dirfd, mpart, dirfd, mname) != 0)
		err = errno;
	/* without this, the names may not survive a crash */
	if (err == 0 && fsync(dirfd) != 0)
		err = errno;
	if (err != 0) {
		unlinkat(dirfd, part, 0);
		unlinkat(dirfd, mpart, 0);
		unlinkat(dirfd, id, 0);
		unlinkat(dirfd, mname, 0);
	}
	return err;
}

int
updir_read_meta(int dirfd, const char *id, char **meta, size_t *len)
{
	char mname[RANDID_LEN + sizeof(UPDIR_META_SUFFIX)], *buf;
	ssize_t n;
	size_t got = 0;
	int fd, err = 0;

	*meta = NULL;
	meta_name(id, mname);
	if ((fd = openat(dirfd, mname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ELOOP ? ENOENT : errno;
	if ((buf = malloc(UPDIR_META_MAX + 1)) == NULL) {
		close(fd);
		return ENOMEM;
	}
	while (got < UPDIR_META_MAX &&
	    (n = read(fd, buf + got, UPDIR_META_MAX - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (err != 0) {
		free(buf);
		return err;
	}
	buf[got] = '\0';
	*meta = buf;
	*len = got;
	return 0;
}

int
updir_remove(int dirfd, const char *id, uint64_t *bytes)
{
	char mname[RANDID_LEN + sizeof(UPDIR_META_SUFFIX)];
	struct stat st;

	*bytes = 0;
	meta_name(id, mname);
	if (fstatat(dirfd, id, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno;
	if (!S_ISREG(st.st_mode))
		return ENOENT;
	if (unlinkat(dirfd, id, 0) != 0)
		return errno;
	*bytes = (uint64_t)st.st_size;
	unlinkat(dirfd, mname, 0);
	return fsync(dirfd) == 0 ? 0 : errno;
}

int
updir_discard(int dirfd, const char *id)
{
	char mname[RANDID_LEN + sizeof(UPDIR_META_SUFFIX)];

	meta_name(id, mname);
	unlinkat(dirfd, mname, 0);
	return unlinkat(dirfd, id, 0) == 0 ? 0 : errno;
}

/* Is name a stored upload's name (ID), or its metadata's (ID.json)? */
static bool
is_upload(const char *name, bool *meta)
{
	char id[RANDID_LEN + 1];
	size_t n = strlen(name);

	*meta = n == RANDID_LEN + strlen(UPDIR_META_SUFFIX) &&
	    strcmp(name + RANDID_LEN, UPDIR_META_SUFFIX) == 0;
	if (n != RANDID_LEN && !*meta)
		return false;
	memcpy(id, name, RANDID_LEN);
	id[RANDID_LEN] = '\0';
	return randid_valid(id);
}

void
updir_sweep(int dirfd, time_t cutoff, struct updir_sweep *out)
{
	char id[RANDID_LEN + 1], mname[RANDID_LEN + sizeof(UPDIR_META_SUFFIX)];
	struct dirent *e;
	struct stat st;
	bool meta;
	DIR *d;
	int fd;

	memset(out, 0, sizeof(*out));
	if ((fd = dup(dirfd)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	rewinddir(d); /* a dup shares the offset an earlier sweep left */
	while ((e = readdir(d)) != NULL) {
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (has_prefix(e->d_name, UPDIR_PART_PREFIX)) {
			if (cutoff > 0 && st.st_mtime < cutoff &&
			    remove_if_unlocked(dirfd, e->d_name) == 0)
				out->orphans++;
			continue;
		}
		if (!is_upload(e->d_name, &meta))
			continue;
		if (meta) { /* metadata whose upload is gone */
			memcpy(id, e->d_name, RANDID_LEN);
			id[RANDID_LEN] = '\0';
			if (faccessat(dirfd, id, F_OK, AT_SYMLINK_NOFOLLOW) !=
			        0 &&
			    errno == ENOENT &&
			    unlinkat(dirfd, e->d_name, 0) == 0)
				out->orphans++;
			continue;
		}
		if (cutoff > 0 && st.st_mtime < cutoff &&
		    unlinkat(dirfd, e->d_name, 0) == 0) {
			meta_name(e->d_name, mname);
			unlinkat(dirfd, mname, 0);
			out->removed++;
			out->removed_bytes += (uint64_t)st.st_size;
			continue;
		}
		out->kept++;
		out->kept_bytes += (uint64_t)st.st_size;
	}
	closedir(d);
}
