/*
 * outq — a connection's queue of bytes waiting for the socket to drain.
 *
 * Contract:
 *  - The common case costs nothing: outq_send() writes straight to the fd
 *    when nothing is queued, and queues only what the kernel did not take.
 *    Queued bytes live in malloc'd chunks owned by the queue; outq_clear()
 *    frees them (the owner calls it once, when the connection goes).
 *  - Bounded: a queue refuses to grow past its limit (OUTQ_EFULL), so a
 *    peer that stops reading cannot make us buffer without end. Callers
 *    that produce data in a loop (streams) watch outq_len() against their
 *    high/low water marks and pause themselves.
 *  - I/O results use enum outq_result; OUTQ_EIO leaves errno (EPIPE,
 *    ECONNRESET, …): the connection is gone.
 *  - Not thread-safe; one queue belongs to one connection on the loop.
 */
#ifndef FCGILAB_OUTQ_H
#define FCGILAB_OUTQ_H

#include <stddef.h>
#include <sys/uio.h>

enum outq_result {
	OUTQ_OK,     /* all written, or the rest queued */
	OUTQ_EFULL,  /* queuing the rest would pass the limit: nothing queued */
	OUTQ_ENOMEM, /* could not allocate a chunk: nothing queued */
	OUTQ_EIO,    /* the socket failed (errno) */
};

struct outq_chunk;

struct outq {
	struct outq_chunk *head, *tail;
	size_t len;   /* bytes queued */
	size_t limit; /* most bytes it may hold */
};

void outq_init(struct outq *q, size_t limit);

/* Free every queued chunk. */
void outq_clear(struct outq *q);

size_t outq_len(const struct outq *q);

/* Write buf to fd if the queue is empty, queuing what is not taken;
 * append all of it when the queue is not empty (order is kept). */
enum outq_result outq_send(struct outq *q, int fd, const void *buf, size_t len);

/* Most pieces outq_sendv takes at once. */
#define OUTQ_IOV_MAX 16

/* The same for n pieces (at most OUTQ_IOV_MAX) gathered into one write
 * (sendmsg; writev on a pipe) when the queue is empty, so an answer in
 * several buffers costs one system call and no copy; what the kernel does
 * not take is queued (copied) in order. */
enum outq_result outq_sendv(
    struct outq *q, int fd, const struct iovec *iov, int n);

/* Write queued bytes to fd until the kernel stops taking them (writev).
 * OUTQ_OK whether or not the queue is empty afterwards. */
enum outq_result outq_flush(struct outq *q, int fd);

#endif
