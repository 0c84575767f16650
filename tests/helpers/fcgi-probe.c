/*
 * fcgi-probe — a raw FastCGI client for the protocol tests (a
 * check_PROGRAM: built by `make check`, never installed). It connects to a
 * FastCGI server, sends one scripted scenario (well-formed or malformed
 * byte sequences, built with fcgi_codec.h's encoders) and prints what
 * comes back in a stable text form for bats to grep.
 *
 *   fcgi-probe [-q] [-t MS] [-l MS] [-c SECS] ADDR SCENARIO [ARGS...]
 *
 * ADDR is a unix socket path (it contains a '/') or HOST:PORT.
 *  -t MS    give up waiting after MS (10000)
 *  -l MS    when the server should keep the connection: how long to
 *           watch for it closing anyway after the last answer (200)
 *  -c SECS  a companion: before the scenario, open a second connection
 *           with a GET /wait_async?secs=SECS; after it, read its answer
 *  -q       no record lines and no STDOUT text (the TOTAL line stays)
 *
 * Output. One line per record received (FastCGI 1.0 §3.3, §4, §5):
 *   STDOUT id=1 len=120                 STDERR id=1 len=5
 *   END_REQUEST id=1 app=0 proto=REQUEST_COMPLETE       (§5.5 names)
 *   GET_VALUES_RESULT FCGI_MAX_CONNS=4064 FCGI_MPXS_CONNS=1  (§4.1, as sent)
 *   UNKNOWN_TYPE type=42                RECORD type=T id=N len=L (others)
 *   BAD what                            (a malformed answer: reading stops)
 * then how the connection ended: EOF (the server closed it), RESET, OPEN
 * (still open when the probe stopped waiting) or CLOSED (the probe closed
 * it); then each request id's STDOUT stream, one line per line as
 * "ID| text" (CR dropped); then "TOTAL records=R end_requests=E" and
 * "TIME ms=T", from the connect to the connection's end (or to now).
 * Some scenarios add SENT k/N, CONNECTED N or SERVER_CLOSED N. The
 * companion adds "COMPANION status=200 proto=REQUEST_COMPLETE EOF".
 *
 * Exit status: 0 when the connection ended closed (EOF, RESET, CLOSED),
 * 1 when it was still open, 2 for a usage, connect or I/O error or a
 * malformed answer.
 *
 * Limits: STDOUT is kept for ids 0..15, up to 1 MiB each (counted beyond);
 * flood_conns opens at most 4096 connections.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fcgi-probe.h"

static const char *const proto_names[] = {
    [FCGI_REQUEST_COMPLETE] = "REQUEST_COMPLETE",
    [FCGI_CANT_MPX_CONN] = "CANT_MPX_CONN",
    [FCGI_OVERLOADED] = "OVERLOADED",
    [FCGI_UNKNOWN_ROLE] = "UNKNOWN_ROLE",
};

__attribute__((format(printf, 1, 2), noreturn)) void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("fcgi-probe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_ERROR);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* --- building what to send --------------------------------------------- */

static void
wb_raw(struct wbuf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 256;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			die("out of memory");
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* One record with pad bytes of padding, each 0xA5: §3.3 says a receiver
 * ignores them, whatever they hold. */
void
wb_record(struct wbuf *b, uint8_t type, uint16_t id, const void *content,
    size_t len, uint8_t pad)
{
	uint8_t hdr[FCGI_HEADER_LEN], padding[FCGI_MAX_PADDING];

	if (len > FCGI_MAX_CONTENT)
		die("record content of %zu bytes", len);
	fcgi_encode_header(hdr, sizeof(hdr), type, id, (uint16_t)len, pad);
	memset(padding, 0xA5, pad);
	wb_raw(b, hdr, sizeof(hdr));
	wb_raw(b, content, len);
	wb_raw(b, padding, pad);
}

/* {FCGI_BEGIN_REQUEST, id, FCGI_BeginRequestBody} (§5.1). */
void
wb_begin(struct wbuf *b, uint16_t id, uint16_t role, uint8_t flags, uint8_t pad)
{
	uint8_t body[8] = {(uint8_t)(role >> 8), (uint8_t)role, flags};

	wb_record(b, FCGI_BEGIN_REQUEST, id, body, sizeof(body), pad);
}

/* A whole stream (§3.3 "Types of Record Types"): records of at most
 * chunk bytes, padded to 8, then the empty record that ends it. */
void
wb_stream(struct wbuf *b, uint8_t type, uint16_t id, const uint8_t *data,
    size_t len, size_t chunk)
{
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		wb_record(b, type, id, data + off, n, fcgi_padding_for(n));
	}
	wb_record(b, type, id, NULL, 0, 0);
}

void
wb_pair(struct wbuf *b, const char *name, const char *value)
{
	size_t cap = 8 + strlen(name) + strlen(value), n;
	uint8_t *tmp;

	if ((tmp = malloc(cap)) == NULL)
		die("out of memory");
	n = fcgi_encode_nvpair(
	    tmp, cap, name, strlen(name), value, strlen(value));
	if (n == 0)
		die("name-value pair too long: %s", name);
	wb_raw(b, tmp, n);
	free(tmp);
}

/* The CGI variables of GET path?query, as name-value pairs (§3.4). */
void
wb_get_pairs(struct wbuf *pairs, const char *path, const char *query)
{
	wb_pair(pairs, "GATEWAY_INTERFACE", "CGI/1.1");
	wb_pair(pairs, "REQUEST_METHOD", "GET");
	wb_pair(pairs, "SCRIPT_NAME", path);
	wb_pair(pairs, "QUERY_STRING", query);
	wb_pair(pairs, "SERVER_PROTOCOL", "HTTP/1.1");
	/* as a front end passes its HTTP client's address: a local one */
	wb_pair(pairs, "REMOTE_ADDR", "127.0.0.1");
}

/* The PARAMS stream of GET path?query (§5.2). */
void
wb_get_params(struct wbuf *b, uint16_t id, const char *path, const char *query)
{
	struct wbuf pairs = {NULL, 0, 0};

	wb_get_pairs(&pairs, path, query);
	wb_stream(b, FCGI_PARAMS, id, pairs.p, pairs.len, FCGI_MAX_CONTENT);
	free(pairs.p);
}

/* PARAMS of GET path?query and the empty STDIN (§5.2, §5.3). */
void
wb_get_streams(struct wbuf *b, uint16_t id, const char *path, const char *query)
{
	wb_get_params(b, id, path, query);
	wb_record(b, FCGI_STDIN, id, NULL, 0, 0);
}

/* A whole responder request: BEGIN_REQUEST, PARAMS, STDIN. */
void
wb_get(struct wbuf *b, uint16_t id, uint8_t flags, const char *path,
    const char *query)
{
	wb_begin(b, id, FCGI_RESPONDER, flags, 0);
	wb_get_streams(b, id, path, query);
}

/* --- connections --------------------------------------------------------- */

static int
connect_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		die("%s: socket path too long", path);
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		die("connect %s: %s", path, strerror(errno));
	return fd;
}

static int
connect_tcp(const char *addr)
{
	struct addrinfo hints = {0}, *res, *ai;
	const char *colon = strrchr(addr, ':');
	char host[256];
	int fd = -1, err;

	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host))
		die("%s: neither a socket path nor HOST:PORT", addr);
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	hints.ai_socktype = SOCK_STREAM;
	if ((err = getaddrinfo(host, colon + 1, &hints, &res)) != 0)
		die("%s: %s", addr, gai_strerror(err));
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		die("connect %s: %s", addr, strerror(errno));
	return fd;
}

/* A connection to the server, non-blocking once connected. */
struct conn *
conn_open(const struct probe *p)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		die("out of memory");
	c->fd = strchr(p->o.addr, '/') ? connect_unix(p->o.addr)
	                               : connect_tcp(p->o.addr);
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	c->t_open = now_ms();
	c->quiet = p->o.quiet;
	c->last_proto = -1;
	return c;
}

void
conn_free(struct conn *c)
{
	int i;

	if (c->fd >= 0)
		close(c->fd);
	for (i = 0; i < IDS; i++)
		free(c->body[i].buf);
	free(c);
}

bool
conn_ended(const struct conn *c)
{
	return c->eof || c->reset || c->bad || c->closed_by_us;
}

/* --- reading answers ----------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void
say(const struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
keep_stdout(struct conn *c, uint16_t id, const uint8_t *p, size_t n)
{
	struct body *b = id < IDS ? &c->body[id] : NULL;

	if (b == NULL || b->len + n > BODY_MAX)
		return;
	if ((b->buf = realloc(b->buf, b->len + n)) == NULL)
		die("out of memory");
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

/* {FCGI_GET_VALUES_RESULT, 0, pairs} (§4.1): the pairs as NAME=VALUE. */
static void
print_values(struct conn *c, const uint8_t *p, size_t n)
{
	struct fcgi_span name, value;
	size_t off = 0;
	enum fcgi_result r;

	if (c->quiet)
		return;
	fputs("GET_VALUES_RESULT", stdout);
	while ((r = fcgi_nvpair_next(p, n, &off, &name, &value)) == FCGI_OK)
		printf(" %.*s=%.*s", (int)name.len, (const char *)name.ptr,
		    (int)value.len, (const char *)value.ptr);
	puts(r == FCGI_NEED_MORE ? "" : " BAD-PAIRS");
}

static void
on_end_request(struct conn *c, uint16_t id, const uint8_t *p, size_t n)
{
	uint32_t app;

	if (n != 8) {
		say(c, "BAD END_REQUEST id=%u len=%zu", id, n);
		c->bad = true;
		return;
	}
	app = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	c->last_proto = p[4];
	c->end_requests++;
	/* The next answer on this id starts on a line of its own. */
	if (id < IDS && c->body[id].len > 0 &&
	    c->body[id].buf[c->body[id].len - 1] != '\n')
		keep_stdout(c, id, (const uint8_t *)"\n", 1);
	if (p[4] <= FCGI_UNKNOWN_ROLE)
		say(c, "END_REQUEST id=%u app=%u proto=%s", id, app,
		    proto_names[p[4]]);
	else
		say(c, "END_REQUEST id=%u app=%u proto=%u", id, app, p[4]);
}

/* One whole record from the server. */
static void
on_record(struct conn *c, uint8_t type, uint16_t id, const uint8_t *p, size_t n)
{
	c->records++;
	switch (type) {
	case FCGI_STDOUT:
		say(c, "STDOUT id=%u len=%zu", id, n);
		keep_stdout(c, id, p, n);
		return;
	case FCGI_STDERR:
		say(c, "STDERR id=%u len=%zu", id, n);
		return;
	case FCGI_END_REQUEST:
		on_end_request(c, id, p, n);
		break;
	case FCGI_GET_VALUES_RESULT:
		print_values(c, p, n);
		break;
	case FCGI_UNKNOWN_TYPE:
		say(c, "UNKNOWN_TYPE type=%u", n > 0 ? p[0] : 0);
		break;
	default:
		say(c, "RECORD type=%u id=%u len=%zu", type, id, n);
		return;
	}
	c->answers++;
}

/* Take every complete record from the receive buffer (§3.3 FCGI_Record). */
static void
rx_parse(struct conn *c)
{
	size_t off = 0, clen, total;
	const uint8_t *h;

	while (!c->bad && c->rx_len - off >= FCGI_HEADER_LEN) {
		h = c->rx + off;
		if (h[0] != FCGI_VERSION_1) {
			say(c, "BAD version=%u", h[0]);
			c->bad = true;
			break;
		}
		clen = (size_t)h[4] << 8 | h[5];
		total = FCGI_HEADER_LEN + clen + h[6];
		if (c->rx_len - off < total)
			break;
		on_record(c, h[1], (uint16_t)(h[2] << 8 | h[3]),
		    h + FCGI_HEADER_LEN, clen);
		off += total;
	}
	memmove(c->rx, c->rx + off, c->rx_len - off);
	c->rx_len -= off;
}

/* Wait up to ms for input and take it. False once the connection ended. */
bool
conn_pump(struct conn *c, int ms)
{
	struct pollfd pfd = {c->fd, POLLIN, 0};
	ssize_t n;

	if (conn_ended(c))
		return false;
	if (poll(&pfd, 1, ms < 0 ? 0 : ms) <= 0)
		return true;
	n = read(c->fd, c->rx + c->rx_len, sizeof(c->rx) - c->rx_len);
	if (n > 0) {
		c->rx_len += (size_t)n;
		rx_parse(c);
	} else if (n == 0) {
		c->eof = true;
	} else if (errno == ECONNRESET) {
		c->reset = true;
	} else if (errno != EAGAIN && errno != EINTR) {
		die("read: %s", strerror(errno));
	}
	if (conn_ended(c))
		c->t_end = now_ms();
	return !conn_ended(c);
}

static int
left_ms(const struct probe *p)
{
	uint64_t now = now_ms();

	return now >= p->deadline ? 0 : (int)(p->deadline - now);
}

/* Read until n answers came in all; false if the connection ended or the
 * deadline passed first. */
bool
conn_wait(const struct probe *p, struct conn *c, unsigned n)
{
	while (c->answers < n && left_ms(p) > 0)
		if (!conn_pump(c, left_ms(p)))
			break;
	return c->answers >= n;
}

/* Read whatever comes for ms (stopping early if the connection ends). */
void
conn_idle(struct conn *c, unsigned ms)
{
	uint64_t until = now_ms() + ms, now;

	while ((now = now_ms()) < until && conn_pump(c, (int)(until - now)))
		;
}

/* Send all of buf; false (and the connection marked) if the server has
 * closed it. */
bool
conn_send(const struct probe *p, struct conn *c, const void *buf, size_t len)
{
	const uint8_t *s = buf;
	struct pollfd pfd = {c->fd, POLLOUT, 0};
	ssize_t n;

	while (len > 0) {
		n = send(c->fd, s, len, MSG_NOSIGNAL);
		if (n > 0) {
			s += n;
			len -= (size_t)n;
		} else if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			return false;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			die("send: %s", strerror(errno));
		} else if (poll(&pfd, 1, left_ms(p)) == 0) {
			die("send: timed out");
		}
	}
	return true;
}

bool
send_wbuf(const struct probe *p, struct conn *c, struct wbuf *b)
{
	bool ok = conn_send(p, c, b->p, b->len);

	b->len = 0;
	return ok;
}

/* --- the end of a scenario ----------------------------------------------- */

static void
print_stdout(const struct conn *c)
{
	const struct body *b;
	size_t i, start, len;
	int id;

	for (id = 0; id < IDS; id++) {
		b = &c->body[id];
		for (i = start = 0; i <= b->len; i++) {
			if (i < b->len && b->buf[i] != '\n')
				continue;
			if (i > start && b->buf[i - 1] == '\r')
				len = i - 1 - start;
			else
				len = i - start;
			if (len > 0)
				printf(
				    "%d| %.*s\n", id, (int)len, b->buf + start);
			else if (i < b->len)
				printf("%d|\n", id);
			start = i + 1;
		}
	}
}

/* Watch the connection for its end, print how it ended, the STDOUT text
 * and the totals; the exit status. A server that should close (§5.1
 * FCGI_KEEP_CONN clear, or malformed input) gets until the deadline; one
 * that should keep it gets the linger time to close it anyway. */
int
finish(const struct probe *p, struct conn *c, bool close_expected)
{
	unsigned ms =
	    close_expected ? (unsigned)left_ms(p) : (unsigned)p->o.linger_ms;

	conn_idle(c, ms);
	if (c->bad)
		return EXIT_ERROR;
	puts(c->eof               ? "EOF"
	        : c->reset        ? "RESET"
	        : c->closed_by_us ? "CLOSED"
	                          : "OPEN");
	if (!p->o.quiet)
		print_stdout(c);
	printf(
	    "TOTAL records=%u end_requests=%u\n", c->records, c->end_requests);
	printf("TIME ms=%llu\n",
	    (unsigned long long)((c->t_end ? c->t_end : now_ms()) - c->t_open));
	return conn_ended(c) ? EXIT_CLOSED : EXIT_OPEN;
}

/* --- the companion: a healthy connection beside the scenario's ---------- */

static struct conn *
companion_open(const struct probe *p)
{
	struct wbuf b = {NULL, 0, 0};
	char query[64];
	struct conn *c;

	if (p->o.companion == NULL)
		return NULL;
	c = conn_open(p);
	c->quiet = true;
	snprintf(query, sizeof(query), "secs=%s", p->o.companion);
	wb_get(&b, 1, 0, "/wait_async", query);
	if (!send_wbuf(p, c, &b))
		die("companion: closed at once");
	free(b.p);
	sleep_ms(50); /* let the server start it before the scenario */
	return c;
}

/* "COMPANION status=200 proto=REQUEST_COMPLETE EOF" */
static void
companion_report(const struct probe *p, struct conn *c)
{
	const struct body *b;
	int status = 0;

	if (c == NULL)
		return;
	while (!conn_ended(c) && left_ms(p) > 0)
		conn_pump(c, left_ms(p));
	b = &c->body[1];
	if (b->len > 8 && memcmp(b->buf, "Status: ", 8) == 0)
		status = atoi(b->buf + 8);
	printf("COMPANION status=%d proto=%s %s\n", status,
	    c->last_proto >= 0 && c->last_proto <= FCGI_UNKNOWN_ROLE
	        ? proto_names[c->last_proto]
	        : "none",
	    c->eof         ? "EOF"
	        : c->reset ? "RESET"
	                   : "OPEN");
	conn_free(c);
}

unsigned
uint_arg(const char *s, unsigned lo, unsigned hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		die("bad number: %s (%u..%u)", s, lo, hi);
	return (unsigned)v;
}

/* --- main ---------------------------------------------------------------- */

__attribute__((noreturn)) static void
usage(void)
{
	size_t i;

	fputs("usage: fcgi-probe [-q] [-t MS] [-l MS] [-c SECS] ADDR "
	      "SCENARIO [ARGS...]\nscenarios:\n",
	    stderr);
	for (i = 0; i < probe_nscenarios; i++)
		fprintf(stderr, "  %s %s\n", probe_scenarios[i].name,
		    probe_scenarios[i].args);
	exit(EXIT_ERROR);
}

static const struct scenario *
parse_args(int argc, char **argv, struct opts *o, int *first_arg)
{
	int ch, nargs;
	size_t i;

	while ((ch = getopt(argc, argv, "qt:l:c:")) != -1) {
		if (ch == 'q')
			o->quiet = true;
		else if (ch == 't')
			o->timeout_ms = (int)uint_arg(optarg, 1, 3600000);
		else if (ch == 'l')
			o->linger_ms = (int)uint_arg(optarg, 0, 3600000);
		else if (ch == 'c')
			o->companion = optarg;
		else
			usage();
	}
	if (argc - optind < 2)
		usage();
	o->addr = argv[optind];
	nargs = argc - optind - 2;
	*first_arg = optind + 2;
	for (i = 0; i < probe_nscenarios; i++)
		if (strcmp(probe_scenarios[i].name, argv[optind + 1]) == 0) {
			if (nargs < probe_scenarios[i].min_args ||
			    nargs > probe_scenarios[i].max_args)
				usage();
			return &probe_scenarios[i];
		}
	usage();
}

int
main(int argc, char **argv)
{
	struct probe p = {{10000, 200, false, NULL, NULL}, 0};
	const struct scenario *s;
	struct conn *c, *companion;
	int first, rc;

	s = parse_args(argc, argv, &p.o, &first);
	setvbuf(stdout, NULL, _IOLBF, 0);
	p.deadline = now_ms() + (uint64_t)p.o.timeout_ms;
	companion = companion_open(&p);
	c = conn_open(&p);
	rc = s->run(&p, c, argv + first, argc - first);
	companion_report(&p, companion);
	conn_free(c);
	return rc;
}
