/*
 * updir — the upload directory on disk: how an upload is written, kept,
 * found, swept and removed. Every name is relative to the directory's fd,
 * opened once without following links, and no call follows a link found
 * in it (O_NOFOLLOW, O_EXCL, renameat, unlinkat):
 *
 *   .part-ID   an upload while its body arrives, flock()ed until it has
 *              its final name (a crash leaves these: updir_open removes
 *              those it can lock, never one another live mux writes, so
 *              several muxes may share the directory, e.g. backend hosts
 *              mounting one NFS export)
 *   ID         a stored upload's bytes: what "stats" jobs read
 *   ID.json    its metadata: {"id","filename","content_type","bytes",
 *              "sha256","created_at"}, the 201's object and its time
 *
 * ID is a randid (randid.h): 32 hex digits, never a client's name.
 *
 * Contract:
 *  - Blocking file I/O. updir_part_create and writes to its fd happen on
 *    the mux's loop (page cache); updir_store, updir_read_meta,
 *    updir_remove and updir_sweep are for the I/O pool's threads (fsync,
 *    readdir); updir_open at start.
 *  - Durable: updir_store fsyncs the file and its metadata, renames both
 *    into place, and fsyncs the directory before it returns 0; on failure
 *    nothing of the upload is left.
 *  - Results are 0 or an errno value (ENOENT: no such upload); never
 *    exit, never log.
 */
#ifndef FCGILAB_UPDIR_H
#define FCGILAB_UPDIR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "randid.h"

#define UPDIR_PART_PREFIX ".part-"
#define UPDIR_META_SUFFIX ".json"
#define UPDIR_META_MAX    8192 /* the longest metadata object */

/* The directory as an fd (O_DIRECTORY|O_NOFOLLOW), with the part files a
 * crash left removed; -1 and err when it cannot be opened (a link in its
 * place included). */
int updir_open(const char *path, char *err, size_t errlen);

/* A new part file for id, created exclusively: its fd, or -1 (errno). */
int updir_part_create(int dirfd, const char *id);

/* Close fd (if >= 0) and remove id's part file. */
void updir_part_discard(int dirfd, const char *id, int fd);

/* Make id's part file a stored upload with meta (len bytes of JSON):
 * fsync, write ID.json, rename both, fsync the directory. fd is closed
 * here whatever happens. 0, or an errno value with nothing left. */
int updir_store(
    int dirfd, const char *id, int fd, const char *meta, size_t len);

/* id's metadata, malloc'd and NUL-terminated in *meta: 0, ENOENT, errno. */
int updir_read_meta(int dirfd, const char *id, char **meta, size_t *len);

/* Remove a stored upload (its bytes and its metadata): 0, ENOENT, errno.
 * *bytes: the size it had. */
int updir_remove(int dirfd, const char *id, uint64_t *bytes);

/* Remove a stored upload that no one will ask for (its answer could not
 * be given): unlinks only, no fsync, so the loop may call it. 0 or errno. */
int updir_discard(int dirfd, const char *id);

struct updir_sweep {
	uint64_t kept, kept_bytes;       /* stored uploads left */
	uint64_t removed, removed_bytes; /* expired ones removed */
	uint64_t orphans;                /* stray part or metadata files */
};

/* Remove stored uploads older than cutoff (by their time of storing),
 * and part files untouched since then; count what is left. cutoff 0
 * removes nothing (a census, e.g. at start). */
void updir_sweep(int dirfd, time_t cutoff, struct updir_sweep *out);

#endif
