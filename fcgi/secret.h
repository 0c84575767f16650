/*
 * secret — a secret (a bearer token, a password) read from a file, so it
 * never appears on a command line (ps, /proc/PID/cmdline) or in a log.
 *
 * The file holds the secret on its first line; a trailing newline (LF or
 * CRLF) is dropped. A file that others may read (any "other" permission
 * bit) is refused, as ssh refuses a private key anyone can read.
 *
 * Contract: secret_read_file does the file I/O it names and nothing else;
 * it returns 0 with the NUL-terminated secret in buf, or -1 with a
 * one-line reason in err that never contains the secret. buf is the
 * caller's; secret_wipe clears it when it is no longer needed.
 */
#ifndef FCGILAB_SECRET_H
#define FCGILAB_SECRET_H

#include <stddef.h>

#define SECRET_MAX 512

int secret_read_file(
    const char *path, char *buf, size_t cap, char *err, size_t errlen);

/* Overwrite n bytes of buf in a way the compiler keeps. */
void secret_wipe(void *buf, size_t n);

#endif
