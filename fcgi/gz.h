/*
 * gz — incremental gzip (RFC 1952) over zlib for streamed HTTP answers, and
 * the Accept-Encoding test that decides whether to use it. The mux
 * compresses its own streamed CSV/NDJSON exports: lighttpd's mod_deflate
 * does not compress streamed responses.
 *
 * Contract:
 *  - No I/O, no globals, no logging. Compressed bytes leave only through the
 *    caller's sink, in pieces of at most GZ_CHUNK bytes, never of 0 bytes;
 *    a sink returning false aborts the call with GZ_ESINK.
 *  - struct gz owns one z_stream (sizeof ~120 bytes). The output chunk
 *    lives on the stack of gz_write/gz_flush/gz_finish (GZ_CHUNK bytes).
 *    zlib's own state at windowBits 15, memLevel 8 (zlib's default) is the
 *    same for every level: window 64 KiB + prev 64 KiB + head 64 KiB +
 *    pending 64 KiB + deflate_state, 268,096 bytes (~262 KiB) measured
 *    with zlib 1.2.13; allocated by gz_init, released by gz_free.
 *  - Level: 0..9 as zlib, or GZ_LEVEL_DEFAULT (also given as -1). The
 *    default is 1 (deflate_fast): on export-like CSV it ran at ~190 MB/s
 *    against ~60 MB/s for zlib's 6, for output 1.19x larger (ratio 3.7
 *    against 4.5). Compression runs on the mux's event-loop thread, so CPU
 *    per byte is latency for every other connection; level 1 keeps a
 *    1 GiB export network-bound. Level 4 gives 6's ratio at ~2x 6's speed
 *    where bandwidth matters more.
 *  - After any error (GZ_ESINK, GZ_EZLIB) the stream is dead: every later
 *    call but gz_free returns that same error. gz_write/gz_flush after
 *    gz_finish, or on a stream not initialised, return GZ_ESTATE.
 *  - gz_free is idempotent and safe on a zeroed struct, after a failed
 *    gz_init and after gz_finish; it is always needed after gz_init.
 *  - Single-threaded per struct gz; different streams are independent.
 */
#ifndef FCGILAB_GZ_H
#define FCGILAB_GZ_H

#include <stdbool.h>
#include <stddef.h>
#include <zlib.h>

#define GZ_CHUNK         16384
#define GZ_LEVEL_DEFAULT 1

enum gz_result {
	GZ_OK,
	GZ_ENOMEM, /* zlib (or gz_compress) could not allocate */
	GZ_EARG,   /* a level outside -1..9, or a NULL buffer with n > 0 */
	GZ_ESINK,  /* the sink returned false */
	GZ_EZLIB,  /* zlib reported an internal error */
	GZ_ESTATE, /* not initialised, already finished, or freed */
};

/* Receives n > 0 compressed bytes; false aborts the stream. */
typedef bool gz_sink_fn(void *arg, const void *p, size_t n);

struct gz {
	z_stream zs;
	enum gz_result err; /* sticky: GZ_OK while the stream is usable */
	bool live;          /* deflateInit2 succeeded, deflateEnd not done */
	bool finished;      /* gz_finish completed */
	bool dirty;         /* input given since the last flush */
};

/* A short constant name for r ("GZ_OK", "GZ_ESINK", …). */
const char *gz_result_name(enum gz_result r);

/* true when an Accept-Encoding value (RFC 9110 §12.5.3) allows gzip:
 *  - codings are case-insensitive tokens in a comma-separated list with
 *    optional whitespace and empty elements; "x-gzip" means gzip (§8.4.1.3);
 *  - "gzip"/"x-gzip" with q > 0 allows it; with q = 0 it forbids it, and
 *    that wins over "*" and over another gzip entry (safer to send
 *    identity than a coding the client refused);
 *  - otherwise "*" decides the same way; NULL, "" and "identity" alone
 *    give false;
 *  - q follows the qvalue grammar strictly (0, 0.5, 0.125, 1, 1.000; "q"
 *    or "Q"); an entry with a malformed q or broken parameters counts as
 *    q = 0 for its coding; other parameters are ignored. */
bool gz_accepts(const char *accept_encoding);

/* Start a gzip member at level (see above). On failure the stream is left
 * freed (gz_free is still allowed). */
enum gz_result gz_init(struct gz *z, int level);

/* Compress n bytes of in (any size, also 0). Output is pushed to sink as
 * zlib produces it; some may stay buffered in zlib until flush/finish. */
enum gz_result gz_write(
    struct gz *z, const void *in, size_t n, gz_sink_fn *sink, void *arg);

/* Z_SYNC_FLUSH: everything written so far reaches the sink, ending on a
 * byte boundary, so a client can inflate it now. A no-op when nothing was
 * written since the last flush. Costs ~5 bytes each; do it per batch. */
enum gz_result gz_flush(struct gz *z, gz_sink_fn *sink, void *arg);

/* End the member (final block and the CRC-32/ISIZE trailer). A second call
 * after success returns GZ_OK and writes nothing. */
enum gz_result gz_finish(struct gz *z, gz_sink_fn *sink, void *arg);

/* Release zlib's state. Idempotent. */
void gz_free(struct gz *z);

/* One shot: a complete gzip member of in (n bytes) in a malloc'd buffer,
 * *outp (caller frees), of *outlenp bytes. On error *outp is NULL. */
enum gz_result gz_compress(
    const void *in, size_t n, int level, unsigned char **outp, size_t *outlenp);

#endif
