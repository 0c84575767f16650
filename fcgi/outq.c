/* outq — a connection's output queue; contract in outq.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "outq.h"

/* Chunks are sized to what they hold: queued output is rare and small for
 * most requests, large only for streams, whose producers cap it. */
struct outq_chunk {
	struct outq_chunk *next;
	size_t len, off; /* data[off..len) is still to write */
	unsigned char data[];
};

#define OUTQ_IOV OUTQ_IOV_MAX

void
outq_init(struct outq *q, size_t limit)
{
	q->head = q->tail = NULL;
	q->len = 0;
	q->limit = limit;
}

void
outq_clear(struct outq *q)
{
	struct outq_chunk *c, *next;

	for (c = q->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	q->head = q->tail = NULL;
	q->len = 0;
}

size_t
outq_len(const struct outq *q)
{
	return q->len;
}

static enum outq_result append_iov(
    struct outq *q, const struct iovec *iov, int n, size_t skip);

/* Queue buf as one chunk. */
static enum outq_result
append(struct outq *q, const unsigned char *buf, size_t len)
{
	struct iovec iov = {(void *)buf, len};

	return append_iov(q, &iov, 1, 0);
}

enum outq_result
outq_send(struct outq *q, int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t n;

	if (q->head == NULL) {
		while (len > 0) {
			/* MSG_NOSIGNAL: a vanished peer is EPIPE, not a signal
			 */
			n = send(fd, p, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n < 0 && errno == ENOTSOCK)
				n = write(fd, p, len); /* pipes in tests */
			if (n < 0)
				return OUTQ_EIO;
			p += n;
			len -= (size_t)n;
		}
	}
	return append(q, p, len);
}

/* Queue iov[0..n), the first skip bytes of it left out, as one chunk. */
static enum outq_result
append_iov(struct outq *q, const struct iovec *iov, int n, size_t skip)
{
	struct outq_chunk *c;
	size_t len = 0, o = 0, take;
	int i;

	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	len -= skip;
	if (len == 0)
		return OUTQ_OK;
	if (len > q->limit - q->len)
		return OUTQ_EFULL;
	if ((c = malloc(sizeof(*c) + len)) == NULL)
		return OUTQ_ENOMEM;
	for (i = 0; i < n; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		take = iov[i].iov_len - skip;
		memcpy(c->data + o,
		    (const unsigned char *)iov[i].iov_base + skip, take);
		o += take;
		skip = 0;
	}
	c->next = NULL;
	c->len = len;
	c->off = 0;
	if (q->tail != NULL)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->len += len;
	return OUTQ_OK;
}

enum outq_result
outq_sendv(struct outq *q, int fd, const struct iovec *iov, int n)
{
	struct iovec rest[OUTQ_IOV];
	struct msghdr mh;
	size_t skip = 0; /* bytes of iov[0] already written */
	ssize_t w;
	int i;

	if (n < 0 || n > OUTQ_IOV) {
		errno = EINVAL;
		return OUTQ_EIO;
	}
	while (q->head == NULL && n > 0) {
		for (i = 0; i < n; i++)
			rest[i] = iov[i];
		rest[0].iov_base = (unsigned char *)rest[0].iov_base + skip;
		rest[0].iov_len -= skip;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = rest;
		mh.msg_iovlen = (size_t)n;
		/* MSG_NOSIGNAL: a vanished peer is EPIPE, not a signal */
		w = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = writev(fd, rest, n); /* pipes in tests */
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w < 0)
			return OUTQ_EIO;
		skip += (size_t)w;
		while (n > 0 && skip >= iov[0].iov_len) {
			skip -= iov[0].iov_len;
			iov++;
			n--;
		}
	}
	return append_iov(q, iov, n, skip);
}

enum outq_result
outq_flush(struct outq *q, int fd)
{
	struct iovec iov[OUTQ_IOV];
	struct outq_chunk *c;
	ssize_t n;
	size_t left;
	int i;

	while (q->head != NULL) {
		for (i = 0, c = q->head; c != NULL && i < OUTQ_IOV;
		     c = c->next, i++) {
			iov[i].iov_base = c->data + c->off;
			iov[i].iov_len = c->len - c->off;
		}
		n = writev(fd, iov, i);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return OUTQ_OK;
		if (n < 0)
			return OUTQ_EIO;
		q->len -= (size_t)n;
		for (left = (size_t)n; left > 0 && q->head != NULL;) {
			c = q->head;
			if (left < c->len - c->off) {
				c->off += left;
				break;
			}
			left -= c->len - c->off;
			q->head = c->next;
			free(c);
		}
		if (q->head == NULL)
			q->tail = NULL;
	}
	return OUTQ_OK;
}
