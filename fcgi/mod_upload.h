/*
 * mod_upload — request bodies of any size, streamed to disk, as a mux route
 * module (mux_route.h): the lesson's uploads, and upload-then-process.
 *
 *   POST /upload                 a raw body (any Content-Type but
 *                                multipart), or multipart/form-data with a
 *                                file part named "file" (curl -F file=@x,
 *                                FastAPI's UploadFile) → 201 {"id",
 *                                "filename","content_type","bytes",
 *                                "sha256"}
 *   POST /uploads?process=stats  the same, then a job of the "stats" task
 *                                (stats_task.h) → 202 {"id","status",
 *                                "upload"} with Location: /jobs/ID, once
 *                                the file and the job are both durable
 *
 * Contract:
 *  - Loop thread only. The body is parsed as it arrives (multipart.h), its
 *    file bytes written to "<dir>/.part-ID" and hashed (SHA-256) on the
 *    fly; memory per upload is fixed whatever the size. ID is 128 random
 *    bits: no name from the client ever becomes a path (the filename is
 *    metadata: its basename, as valid UTF-8). A raw body's filename is
 *    the ?filename= query value, if any.
 *  - Durable before answered: once the body is complete, a job on the
 *    offload pool fsyncs the file, renames it to "<dir>/ID" and fsyncs the
 *    directory; only then the 201 (or the job's enqueue). An upload cut
 *    off midway, refused, or over the limit leaves no file: the part file
 *    is removed as soon as the request fails or its client goes. A part
 *    file is flock()ed until it has its final name; a mux that starts
 *    removes the part files a crash left (those it can lock), never one
 *    another live mux writes: several muxes (backend hosts mounting one
 *    NFS export) may share the directory.
 *  - Links are never followed: the directory is opened once with
 *    O_DIRECTORY|O_NOFOLLOW (a link in its place fails mod_upload_new), and
 *    every file in it is reached through that fd: part files created with
 *    O_CREAT|O_EXCL|O_NOFOLLOW, renamed and removed with renameat and
 *    unlinkat, none of which follows a link.
 *  - Limits: cfg->max_bytes of file data (413 at once from CONTENT_LENGTH,
 *    else as soon as the count passes it). lighttpd streams the body
 *    (stream-request-body 2), so a slow disk slows the client, not memory.
 *    XXX the write()s and the hashing happen on the loop: writes go to the
 *    page cache, and both are cheap here (tools/bench-payloads: during a
 *    1 GiB upload /wait_async's p99 stayed under 3 ms). A disk slower
 *    than the network (dirty-page throttling) would stall the loop; a
 *    writer thread, pausing the body meanwhile, is the fix then.
 *  - Errors: 400 {"detail":"There was an error parsing the body"} for a
 *    malformed multipart body (Starlette's words), 422 missing
 *    ["body","file"] without a file part, 422 for a bad ?process=, 413,
 *    503 when uploads (or, for /uploads, jobs) are not configured or the
 *    pool is full, 507 when the disk is full.
 *  - struct mod_upload is the caller's; per-request state is freed in the
 *    route's end hook; a finishing job whose request went away finishes
 *    (the file is kept) and frees itself.
 */
#ifndef FCGILAB_UPLOAD_H
#define FCGILAB_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

struct mux;
struct mod_jobs;
struct offload_pool;

#define MOD_UPLOAD_DEFAULT_MAX_BYTES (1024ULL * 1024 * 1024)

struct mod_upload_config {
	const char *dir;    /* where uploads are stored; NULL: 503 */
	uint64_t max_bytes; /* file data of one upload */
};

struct mod_upload;

/* Serve the upload routes on m. jobs may be NULL (/uploads is then 503).
 * NULL with err set when the directory cannot be opened. */
struct mod_upload *mod_upload_new(struct mux *m, struct mod_jobs *jobs,
    struct offload_pool *pool, const struct mod_upload_config *cfg, char *err,
    size_t errlen);

/* Free; call after mux_free() and offload_free() (whose last callbacks may
 * still finish an upload). NULL is a no-op. */
void mod_upload_free(struct mod_upload *u);

#endif
