/*
 * fcgi-instant — the fastest FastCGI backend there can be behind
 * lighttpd, for tools/bench-peers' upper bound: it does the least a
 * backend must do for each of lighttpd's connections (one per request)
 * and nothing else. Accept, read the request at once (lighttpd writes
 * it right after connecting), write an answer built once at start (the
 * mux's bytes for /wait_async?secs=0), close: four system calls. A
 * request not all there yet waits in epoll, so a slow one does not hold
 * up the others. No timers, no routing, no allocation per request.
 *
 *   fcgi-instant SOCKET-PATH
 *
 * Not a server to deploy: it answers every request alike and takes
 * lighttpd's request id (always 1) without looking at the rest. Stops on
 * SIGTERM or SIGINT.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "app.h"
#include "fcgi_codec.h"

/* The answer for request id 1: one STDOUT record, its end, END_REQUEST. */
static size_t
build_answer(uint8_t *out, size_t cap)
{
	char head[256], body[APP_BODY_MAX], both[512];
	size_t blen, hlen, n;

	blen = app_wait_body_text(0, body);
	hlen = app_cgi_head(
	    head, sizeof(head), 200, "application/json", blen, NULL);
	memcpy(both, head, hlen);
	memcpy(both + hlen, body, blen);
	n = fcgi_encode_stream(out, cap, FCGI_STDOUT, 1, both, hlen + blen);
	n += fcgi_encode_stream_end(out + n, cap - n, FCGI_STDOUT, 1);
	n += fcgi_encode_end_request(
	    out + n, cap - n, 1, 0, FCGI_REQUEST_COMPLETE);
	return n;
}

enum step { MORE, DONE, GONE };

/* Read what fd has; DONE once its empty STDIN record came. */
static enum step
read_request(int fd, struct fcgi_decoder *dec, uint8_t *buf, size_t cap)
{
	struct fcgi_event ev;
	enum fcgi_result res;
	size_t off, len;
	ssize_t n;

	for (;;) {
		n = read(fd, buf, cap);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return MORE;
		if (n <= 0)
			return GONE;
		for (off = 0, len = (size_t)n; off < len;) {
			off +=
			    fcgi_decode(dec, buf + off, len - off, &ev, &res);
			if (res == FCGI_NEED_MORE)
				break;
			if (res != FCGI_OK)
				return GONE;
			if (ev.type == FCGI_EV_STDIN_END)
				return DONE;
		}
	}
}

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	static uint8_t buf[65536];
	uint8_t answer[512];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sigaction act = {.sa_handler = on_signal};
	struct epoll_event e, evs[256];
	struct fcgi_decoder *decs; /* one per fd, for requests in pieces */
	struct rlimit rl;
	enum step st;
	size_t alen, nfds;
	int lfd, ep, fd, n, i;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: fcgi-instant SOCKET-PATH\n");
		return 2;
	}
	sigaction(SIGTERM, &act, NULL); /* no SA_RESTART: epoll_wait returns */
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	getrlimit(RLIMIT_NOFILE, &rl);
	nfds = rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : (size_t)rl.rlim_cur;
	alen = build_answer(answer, sizeof(answer));
	strcpy(sa.sun_path, argv[1]);
	if ((decs = calloc(nfds, sizeof(*decs))) == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (lfd = socket(
	         AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(argv[1], 0600) < 0 || listen(lfd, 4096) < 0) {
		fprintf(
		    stderr, "fcgi-instant: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	e.events = EPOLLIN;
	e.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e);
	while (!stop) {
		if ((n = epoll_wait(ep, evs, 256, -1)) < 0)
			continue; /* EINTR: see stop */
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd) {
				/* accept and read at once: answered and closed
				 * without ever entering epoll, as a rule */
				while (
				    (fd = accept4(lfd, NULL, NULL,
				         SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					if ((size_t)fd >= nfds) {
						close(fd);
						continue;
					}
					fcgi_decoder_init(&decs[fd]);
					st = read_request(
					    fd, &decs[fd], buf, sizeof(buf));
					if (st == MORE) {
						e.events = EPOLLIN;
						e.data.fd = fd;
						epoll_ctl(
						    ep, EPOLL_CTL_ADD, fd, &e);
						continue;
					}
					if (st == DONE)
						(void)send(fd, answer, alen,
						    MSG_NOSIGNAL);
					close(fd);
				}
				continue;
			}
			fd = evs[i].data.fd;
			st = read_request(fd, &decs[fd], buf, sizeof(buf));
			if (st == MORE)
				continue;
			if (st == DONE)
				(void)send(fd, answer, alen, MSG_NOSIGNAL);
			close(fd); /* leaves epoll with it */
		}
	}
	close(lfd);
	unlink(argv[1]);
	free(decs);
	return 0;
}
