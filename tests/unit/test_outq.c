/*
 * test_outq — a connection's output queue over real sockets and pipes:
 * gathered writes (outq_sendv) taken whole, cut by a full socket in the
 * middle of a piece and queued in order, appended behind queued bytes,
 * refused past the limit, failing on a closed peer; and spare.h's kept
 * blocks.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "outq.h"
#include "spare.h"
#include "tap.h"

/* Read everything the peer has now (non-blocking) into out at *n. */
static void
drain(int fd, unsigned char *out, size_t cap, size_t *n)
{
	ssize_t r;

	while (*n < cap && (r = read(fd, out + *n, cap - *n)) > 0)
		*n += (size_t)r;
}

static void
test_pipe(void)
{
	struct outq q;
	struct iovec iov[3] = {{"head:", 5}, {"", 0}, {"body", 4}};
	char got[16] = "";
	int p[2];

	outq_init(&q, 1024);
	if (!ok(pipe(p) == 0, "a pipe"))
		return;
	ok(outq_sendv(&q, p[1], iov, 3) == OUTQ_OK && outq_len(&q) == 0,
	    "sendv on a pipe (writev): all taken, nothing queued");
	ok(read(p[0], got, sizeof(got) - 1) == 9 &&
	        strcmp(got, "head:body") == 0,
	    "  the pieces arrive in order, the empty one skipped");
	ok(outq_sendv(&q, p[1], iov, OUTQ_IOV_MAX + 1) == OUTQ_EIO &&
	        errno == EINVAL && outq_len(&q) == 0,
	    "more than OUTQ_IOV_MAX pieces: refused, nothing written");
	close(p[0]);
	ok(outq_sendv(&q, p[1], iov, 3) == OUTQ_EIO && errno == EPIPE,
	    "a closed reader: EPIPE, and no SIGPIPE killed us");
	close(p[1]);
	outq_clear(&q);
}

static void
test_socket(void)
{
	enum { BIG = 300000 };
	unsigned char *a = malloc(BIG), *b = malloc(BIG), *got, *want;
	struct outq q;
	struct iovec iov[4];
	size_t total = 2 * BIG + 3 + 4, n = 0, i, queued;
	int sv[2], sndbuf = 4096;

	got = malloc(total + 16);
	want = malloc(total + 16);
	for (i = 0; i < BIG; i++) {
		a[i] = (unsigned char)(i * 7);
		b[i] = (unsigned char)(i * 13 + 1);
	}
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	outq_init(&q, 1 << 20);
	iov[0] = (struct iovec){"<<<", 3};
	iov[1] = (struct iovec){a, BIG};
	iov[2] = (struct iovec){b, BIG};
	iov[3] = (struct iovec){">>>>", 4};
	memcpy(want, "<<<", 3);
	memcpy(want + 3, a, BIG);
	memcpy(want + 3 + BIG, b, BIG);
	memcpy(want + 3 + 2 * BIG, ">>>>", 4);
	ok(outq_sendv(&q, sv[0], iov, 4) == OUTQ_OK, "sendv of 600 KB");
	queued = outq_len(&q);
	ok(queued > 0 && queued < total,
	    "  the socket took part of it (%zu of %zu queued)", queued, total);
	iov[0] = (struct iovec){"tail", 4};
	memcpy(want + total, "tail", 4);
	ok(outq_sendv(&q, sv[0], iov, 1) == OUTQ_OK &&
	        outq_len(&q) == queued + 4,
	    "with bytes queued, a sendv is appended behind them");
	for (i = 0; i < 100000 && (outq_len(&q) > 0 || n < total + 4); i++) {
		drain(sv[1], got, total + 4, &n);
		if (outq_flush(&q, sv[0]) != OUTQ_OK)
			break;
	}
	drain(sv[1], got, total + 4, &n);
	ok(n == total + 4 && memcmp(got, want, n) == 0,
	    "every byte arrives once, in order, across the cut");
	outq_clear(&q);

	/* past the limit: refused whole */
	outq_init(&q, 1000);
	iov[0] = (struct iovec){a, BIG};
	ok(outq_sendv(&q, sv[0], iov, 1) == OUTQ_EFULL && outq_len(&q) == 0,
	    "more than the limit left over: OUTQ_EFULL, nothing queued");
	outq_clear(&q);
	close(sv[0]);
	close(sv[1]);
	free(a);
	free(b);
	free(got);
	free(want);
}

static void
test_spare(void)
{
	struct spare s;
	void *p, *q, *r;

	spare_init(&s, 100, 2);
	p = spare_get(&s);
	q = spare_get(&s);
	r = spare_get(&s);
	ok(p != NULL && q != NULL && r != NULL && p != q && q != r,
	    "spare_get: distinct blocks");
	memset(p, 1, 100);
	spare_put(&s, p);
	spare_put(&s, q);
	spare_put(&s, r); /* over max: freed */
	ok(s.n == (s.max ? 2u : 0u), "spare_put keeps at most max (%u)", s.max);
	if (s.max) {
		ok(spare_get(&s) == q && spare_get(&s) == p && s.n == 0,
		    "  and hands them back last in, first out");
		free(p);
		free(q);
	} else {
		ok(1, "  (AddressSanitizer: nothing kept)");
	}
	spare_put(&s, NULL);
	ok(s.n == 0, "spare_put(NULL) is a no-op");
	spare_put(&s, spare_get(&s));
	spare_fini(&s);
	ok(s.n == 0 && s.head == NULL, "spare_fini frees what is kept");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN); /* the mux's setting; the test checks EPIPE */
	test_pipe();
	test_socket();
	test_spare();
	return done_testing();
}
