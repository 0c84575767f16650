/*
 * secret — a secret (the operator's bearer token, the Redis password)
 * read from a file, so it never appears on a command line (ps,
 * /proc/PID/cmdline) or in a log.
 *
 * The file holds the secret on its only line: one trailing "\n" (or
 * "\r\n") is dropped; an empty file, a second line, a NUL byte, a secret
 * of cap bytes or more, a file that is not a regular file, and one that
 * others may read or write (any "other" permission bit: chmod o-rwx, as
 * ssh asks of a private key) are refused.
 *
 * Contract: secret_read_file does the file I/O it names (open, fstat,
 * read, close) and nothing else; on SECRET_OK buf holds the NUL-terminated
 * secret; otherwise buf is wiped and err (errlen bytes) says why, naming
 * the file with label but never quoting the secret. buf is the caller's;
 * secret_wipe clears it once it is no longer needed.
 */
#ifndef FCGILAB_SECRET_H
#define FCGILAB_SECRET_H

#include <stddef.h>

#define SECRET_MAX 1024 /* a secret of up to 1023 bytes, with the NUL */

enum secret_result {
	SECRET_OK,
	SECRET_ENOENT, /* no such file (err says so) */
	SECRET_EINVAL, /* anything else refused (err says why) */
};

enum secret_result secret_read_file(const char *path, const char *label,
    char *buf, size_t cap, char *err, size_t errlen);

/* Overwrite n bytes of buf in a way the compiler keeps. */
void secret_wipe(void *buf, size_t n);

#endif
