/* fcgi-probe's scenarios: what each one sends and waits for (FastCGI 1.0
 * section numbers in the comments); see fcgi-probe.c for the output. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi-probe.h"

#define FLOOD_MAX 4096
#define LONG_WAIT "30" /* secs of a request that must not finish */

/* --- scenarios: well-formed ---------------------------------------------- */

/* GET PATH?QUERY without FCGI_KEEP_CONN: answered, then closed (§5.1). */
static int
scn_get(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};

	wb_get(&b, 1, 0, argv[0], argc > 1 ? argv[1] : "");
	if (send_wbuf(p, c, &b))
		conn_wait(p, c, 1);
	free(b.p);
	return finish(p, c, true);
}

/* N requests one after the other on one connection with FCGI_KEEP_CONN
 * (§5.1), each after the previous answer (and GAP_MS more). */
static int
scn_keepconn(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};
	unsigned n = uint_arg(argv[0], 1, 100000), i;
	unsigned gap = argc > 3 ? uint_arg(argv[3], 0, 60000) : 0;

	for (i = 1; i <= n; i++) {
		wb_get(&b, 1, FCGI_KEEP_CONN, argv[1], argc > 2 ? argv[2] : "");
		if (!send_wbuf(p, c, &b) || !conn_wait(p, c, i))
			break;
		if (i < n && gap > 0)
			conn_idle(c, gap);
	}
	free(b.p);
	return finish(p, c, false);
}

/* Two request ids interleaved record by record on one connection (§3.3
 * "Managing Request IDs"): id 1 waits 0.3 s, id 2 none, so id 2's answer
 * must come first. */
static int
scn_mpx(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0}, p1 = {NULL, 0, 0}, p2 = {NULL, 0, 0};
	size_t half;

	(void)argv;
	(void)argc;
	wb_get_pairs(&p1, "/wait_async", "secs=0.3");
	wb_get_pairs(&p2, "/wait_async", "secs=0");
	half = p1.len / 2;
	wb_begin(&b, 1, FCGI_RESPONDER, FCGI_KEEP_CONN, 0);
	wb_begin(&b, 2, FCGI_RESPONDER, FCGI_KEEP_CONN, 0);
	wb_record(&b, FCGI_PARAMS, 1, p1.p, half, 0);
	wb_record(&b, FCGI_PARAMS, 2, p2.p, p2.len, 0);
	wb_record(&b, FCGI_PARAMS, 1, p1.p + half, p1.len - half, 0);
	wb_record(&b, FCGI_PARAMS, 2, NULL, 0, 0);
	wb_record(&b, FCGI_PARAMS, 1, NULL, 0, 0);
	wb_record(&b, FCGI_STDIN, 2, NULL, 0, 0);
	wb_record(&b, FCGI_STDIN, 1, NULL, 0, 0);
	if (send_wbuf(p, c, &b))
		conn_wait(p, c, 2);
	free(b.p);
	free(p1.p);
	free(p2.p);
	return finish(p, c, false);
}

/* A request written one byte at a time, DELAY_MS (1) apart: the server's
 * parser must not depend on how input is split. Slower than the idle
 * timeout in all, it is a slow loris and should be cut off. */
static int
scn_split(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};
	unsigned delay = argc > 0 ? uint_arg(argv[0], 0, 10000) : 1;
	size_t i;

	wb_get(&b, 1, 0, "/wait_async", "secs=0");
	for (i = 0; i < b.len;) {
		if (!conn_send(p, c, b.p + i, 1))
			break;
		i++;
		if (delay > 0)
			conn_idle(c, delay);
		if (conn_ended(c))
			break;
	}
	printf("SENT %zu/%zu\n", i, b.len);
	if (i == b.len)
		conn_wait(p, c, 1);
	free(b.p);
	return finish(p, c, true);
}

/* Three requests and a GET_VALUES in one write (§3.3): all answered. */
static int
scn_coalesce(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0}, q = {NULL, 0, 0};

	(void)argv;
	(void)argc;
	wb_get(&b, 1, FCGI_KEEP_CONN, "/wait_async", "secs=0");
	wb_get(&b, 2, FCGI_KEEP_CONN, "/wait_async", "secs=0.1");
	wb_get(&b, 3, FCGI_KEEP_CONN, "/cpu_async", "n=1000");
	wb_pair(&q, FCGI_MPXS_CONNS, "");
	wb_record(&b, FCGI_GET_VALUES, 0, q.p, q.len, 0);
	if (send_wbuf(p, c, &b))
		conn_wait(p, c, 4);
	free(b.p);
	free(q.p);
	return finish(p, c, false);
}

/* Every record padded, some well past 8-byte alignment, padding bytes
 * non-zero (§3.3 "Padding": the receiver skips paddingLength bytes). */
static int
scn_padding(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0}, pairs = {NULL, 0, 0};
	size_t third;

	(void)argv;
	(void)argc;
	wb_get_pairs(&pairs, "/wait_async", "secs=0.01");
	third = pairs.len / 3;
	wb_begin(&b, 1, FCGI_RESPONDER, 0, 255);
	wb_record(&b, FCGI_PARAMS, 1, pairs.p, third, 1);
	wb_record(&b, FCGI_PARAMS, 1, pairs.p + third, third, 7);
	wb_record(&b, FCGI_PARAMS, 1, pairs.p + 2 * third,
	    pairs.len - 2 * third, 200);
	wb_record(&b, FCGI_PARAMS, 1, NULL, 0, 5);
	wb_record(&b, FCGI_STDIN, 1, "x", 1, 3);
	wb_record(&b, FCGI_STDIN, 1, NULL, 0, 8);
	if (send_wbuf(p, c, &b))
		conn_wait(p, c, 1);
	free(b.p);
	free(pairs.p);
	return finish(p, c, true);
}

/* FCGI_GET_VALUES (§4.1): the three known names and one unknown, which
 * the answer must leave out. */
static int
scn_get_values(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0}, q = {NULL, 0, 0};

	(void)argv;
	(void)argc;
	wb_pair(&q, FCGI_MAX_CONNS, "");
	wb_pair(&q, FCGI_MAX_REQS, "");
	wb_pair(&q, FCGI_MPXS_CONNS, "");
	wb_pair(&q, "FCGILAB_NO_SUCH_VARIABLE", "");
	wb_record(&b, FCGI_GET_VALUES, 0, q.p, q.len, 0);
	if (send_wbuf(p, c, &b))
		conn_wait(p, c, 1);
	free(b.p);
	free(q.p);
	return finish(p, c, false);
}

/* A management record of a type no one knows (§4.2), then a request on
 * the same connection. */
static int
scn_unknown_mgmt(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};

	(void)argv;
	(void)argc;
	wb_record(&b, 42, 0, "hello", 5, 3);
	if (send_wbuf(p, c, &b) && conn_wait(p, c, 1)) {
		wb_get(&b, 1, 0, "/wait_async", "secs=0");
		if (send_wbuf(p, c, &b))
			conn_wait(p, c, 2);
	}
	free(b.p);
	return finish(p, c, true);
}

/* A whole request in role N with FCGI_KEEP_CONN, as a web server sends
 * it, then a responder request with id 2. A responder refuses other roles
 * with FCGI_UNKNOWN_ROLE (§5.5), ignores the rest of the refused request
 * (its id is inactive, §3.3) and serves id 2. */
static int
scn_role(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};
	unsigned role = uint_arg(argv[0], 0, 65535);

	(void)argc;
	wb_begin(&b, 1, (uint16_t)role, FCGI_KEEP_CONN, 0);
	wb_get_streams(&b, 1, "/wait_async", "secs=0");
	if (role == FCGI_FILTER) /* §6.4: the file to filter */
		wb_stream(&b, FCGI_DATA, 1, (const uint8_t *)"data", 4, 4);
	wb_get(&b, 2, 0, "/wait_async", "secs=0");
	if (send_wbuf(p, c, &b))
		conn_wait(p, c, 2);
	free(b.p);
	return finish(p, c, true);
}

/* Records for a request id never begun (§3.3: ignored while the id is
 * inactive), then a request on the same connection. */
static int
scn_unknown_id(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};

	(void)argv;
	(void)argc;
	wb_get_streams(&b, 7, "/wait_async", "secs=0");
	wb_get(&b, 1, 0, "/wait_async", "secs=0");
	if (send_wbuf(p, c, &b))
		conn_wait(p, c, 1);
	free(b.p);
	return finish(p, c, true);
}

/* N request ids begun at once, each a whole request with FCGI_KEEP_CONN
 * of /wait_async?QUERY (secs=0.2): past --max-reqs-per-conn the server
 * refuses with FCGI_OVERLOADED (§5.5), ignores the rest of each refused
 * request (§3.3) and serves the others. */
static int
scn_many_ids(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};
	unsigned n = uint_arg(argv[0], 1, 65535), i;

	for (i = 1; i <= n; i++)
		wb_get(&b, (uint16_t)i, FCGI_KEEP_CONN, "/wait_async",
		    argc > 1 ? argv[1] : "secs=0.2");
	if (send_wbuf(p, c, &b))
		conn_wait(p, c, n);
	free(b.p);
	return finish(p, c, false);
}

/* --- scenarios: clients that give up ------------------------------------ */

/* FCGI_ABORT_REQUEST (§5.4) for a long wait: END_REQUEST at once. With
 * "keep", FCGI_KEEP_CONN is set and id 1 is then used again; without it
 * the server closes the connection after the END_REQUEST (§5.1). */
static int
scn_abort(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};
	bool keep = argc > 0 && strcmp(argv[0], "keep") == 0;

	wb_get(
	    &b, 1, keep ? FCGI_KEEP_CONN : 0, "/wait_async", "secs=" LONG_WAIT);
	if (!send_wbuf(p, c, &b))
		goto out;
	conn_idle(c, 200);
	wb_record(&b, FCGI_ABORT_REQUEST, 1, NULL, 0, 0);
	if (!send_wbuf(p, c, &b) || !conn_wait(p, c, 1) || !keep)
		goto out;
	wb_get(&b, 1, 0, "/wait_async", "secs=0");
	if (send_wbuf(p, c, &b))
		conn_wait(p, c, 2);
out:
	free(b.p);
	return finish(p, c, true);
}

/* A request answered before its STDIN ended (a body of 80,000 bytes,
 * over the default --max-stdin, gets 413): its id is inactive from that
 * END_REQUEST (§3.3), so a late FCGI_ABORT_REQUEST (with "abort") must
 * not bring a second END_REQUEST, and id 1 may begin again. */
static int
scn_answered_early(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};
	static uint8_t body[40000];

	wb_begin(&b, 1, FCGI_RESPONDER, FCGI_KEEP_CONN, 0);
	wb_get_params(&b, 1, "/wait_async", "secs=0");
	memset(body, 'b', sizeof(body));
	wb_record(&b, FCGI_STDIN, 1, body, sizeof(body), 0);
	wb_record(&b, FCGI_STDIN, 1, body, sizeof(body), 0);
	if (!send_wbuf(p, c, &b) || !conn_wait(p, c, 1))
		goto out;
	if (argc > 0 && strcmp(argv[0], "abort") == 0)
		wb_record(&b, FCGI_ABORT_REQUEST, 1, NULL, 0, 0);
	wb_get(&b, 1, 0, "/wait_async", "secs=0");
	if (send_wbuf(p, c, &b))
		conn_wait(p, c, 2);
out:
	free(b.p);
	return finish(p, c, true);
}

/* Begin a long wait (or PATH?QUERY), then close the socket (§3.5: the
 * web server aborts by closing): the server must free it at once. */
static int
scn_close_midway(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};

	wb_get(&b, 1, 0, argc > 0 ? argv[0] : "/wait_async",
	    argc > 1 ? argv[1] : "secs=" LONG_WAIT);
	if (send_wbuf(p, c, &b))
		conn_idle(c, 200);
	free(b.p);
	close(c->fd);
	c->fd = -1;
	c->closed_by_us = true;
	return finish(p, c, true);
}

/* POST PATH with a body of N bytes (all of it, and its end), then close
 * at once without reading the answer: a client gone just as its upload
 * is being stored. */
static int
scn_post_close(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0}, pairs = {NULL, 0, 0};
	unsigned n = uint_arg(argv[1], 0, 64 * 1024 * 1024), i;
	char len[24];
	uint8_t *body;

	(void)argc;
	if ((body = malloc(n + 1)) == NULL)
		die("out of memory");
	for (i = 0; i < n; i++)
		body[i] = (uint8_t)('a' + i % 26);
	snprintf(len, sizeof(len), "%u", n);
	wb_pair(&pairs, "REQUEST_METHOD", "POST");
	wb_pair(&pairs, "SCRIPT_NAME", argv[0]);
	wb_pair(&pairs, "QUERY_STRING", "");
	wb_pair(&pairs, "CONTENT_LENGTH", len);
	wb_pair(&pairs, "CONTENT_TYPE", "application/octet-stream");
	wb_pair(&pairs, "REMOTE_ADDR", "127.0.0.1");
	wb_begin(&b, 1, FCGI_RESPONDER, 0, 0);
	wb_stream(&b, FCGI_PARAMS, 1, pairs.p, pairs.len, FCGI_MAX_CONTENT);
	wb_stream(&b, FCGI_STDIN, 1, body, n, FCGI_MAX_CONTENT);
	send_wbuf(p, c, &b);
	free(body);
	free(b.p);
	free(pairs.p);
	close(c->fd);
	c->fd = -1;
	c->closed_by_us = true;
	return finish(p, c, true);
}

/* Connect and send nothing: the idle timeout must close it. */
static int
scn_silent(struct probe *p, struct conn *c, char **argv, int argc)
{
	(void)argv;
	(void)argc;
	return finish(p, c, true);
}

/* N pipelined FCGI_KEEP_CONN requests of PATH (/metrics) without reading
 * any answer: the server must give up on the connection once its output
 * queue is full (--max-outq), not buffer without end. */
static int
scn_no_read(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};
	unsigned n = uint_arg(argv[0], 1, 1000000), i;

	wb_get(&b, 1, FCGI_KEEP_CONN, argc > 1 ? argv[1] : "/metrics", "");
	for (i = 0; i < n; i++)
		if (!conn_send(p, c, b.p, b.len))
			break;
	printf("SENT %u/%u\n", i, n);
	free(b.p);
	c->quiet = true;
	return finish(p, c, true);
}

/* GET PATH?QUERY (a large answer, an export), then nothing read for
 * HOLD_MS: a front end that stopped reading. Then whatever is left is
 * read: "HOLDING" is printed when the hold begins. */
static int
scn_stall(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};
	unsigned hold = uint_arg(argv[0], 0, 600000);

	wb_get(&b, 1, 0, argv[1], argc > 2 ? argv[2] : "");
	if (send_wbuf(p, c, &b)) {
		puts("HOLDING");
		fflush(stdout);
		sleep_ms(hold);
		c->quiet = true;
		conn_wait(p, c, 1);
	}
	free(b.p);
	return finish(p, c, true);
}

/* N requests of /metrics, the last without FCGI_KEEP_CONN, none of their
 * answers read for HOLD_MS, and a few bytes more sent meanwhile: the
 * server, closing after its answers (§5.1) with output still queued, waits
 * for the socket without spinning on input it will not read. Then all of
 * it is read. "HOLDING" is printed when the hold begins. */
static int
scn_stalled_close(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};
	unsigned n = uint_arg(argv[0], 1, 100000), i;
	unsigned hold = argc > 1 ? uint_arg(argv[1], 0, 600000) : 1000;

	for (i = 0; i < n; i++)
		wb_get(&b, 1, i + 1 < n ? FCGI_KEEP_CONN : 0, "/metrics", "");
	if (send_wbuf(p, c, &b)) {
		sleep_ms(200);
		wb_record(&b, FCGI_GET_VALUES, 0, NULL, 0, 0);
		send_wbuf(p, c, &b);
		puts("HOLDING");
		sleep_ms(hold);
		c->quiet = true;
		conn_wait(p, c, n);
	}
	free(b.p);
	return finish(p, c, true);
}

/* Open N connections, hold them HOLD_MS (1000), close them. */
static int
scn_flood_conns(struct probe *p, struct conn *c, char **argv, int argc)
{
	static struct conn *conns[FLOOD_MAX];
	unsigned n = uint_arg(argv[0], 1, FLOOD_MAX), i, closed = 0;
	unsigned hold = argc > 1 ? uint_arg(argv[1], 0, 600000) : 1000;

	conns[0] = c;
	for (i = 1; i < n; i++)
		conns[i] = conn_open(p);
	printf("CONNECTED %u\n", n);
	fflush(stdout);
	sleep_ms(hold);
	for (i = 0; i < n; i++) {
		conn_pump(conns[i], 0);
		closed += conns[i]->eof || conns[i]->reset;
		if (i > 0)
			conn_free(conns[i]);
	}
	printf("SERVER_CLOSED %u\n", closed);
	close(c->fd);
	c->fd = -1;
	c->closed_by_us = true;
	return finish(p, c, true);
}

/* --- scenarios: malformed input, each to close this connection only ---- */

static int
malformed(struct probe *p, struct conn *c, struct wbuf *b)
{
	send_wbuf(p, c, b);
	free(b->p);
	return finish(p, c, true);
}

/* §3.3: FCGI_VERSION_1 is the only version there is. */
static int
scn_bad_version(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};

	(void)argv;
	(void)argc;
	wb_get(&b, 1, 0, "/wait_async", "secs=0");
	b.p[0] = 2;
	return malformed(p, c, &b);
}

/* §5.1: the content of BEGIN_REQUEST is exactly FCGI_BeginRequestBody. */
static int
scn_bad_begin_len(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};
	uint8_t body[16] = {0, FCGI_RESPONDER};

	(void)argv;
	(void)argc;
	wb_record(&b, FCGI_BEGIN_REQUEST, 1, body, sizeof(body), 0);
	wb_get_streams(&b, 1, "/wait_async", "secs=0");
	return malformed(p, c, &b);
}

/* STDOUT goes from the application to the web server only (§5.3). */
static int
scn_stdout_from_client(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};

	(void)argv;
	(void)argc;
	wb_begin(&b, 1, FCGI_RESPONDER, 0, 0);
	wb_get_params(&b, 1, "/wait_async", "secs=0");
	wb_record(&b, FCGI_STDOUT, 1, "hi", 2, 6);
	return malformed(p, c, &b);
}

/* PARAMS of 70,000 bytes: over the default --max-params (64 KiB). */
static int
scn_params_overflow(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0}, pairs = {NULL, 0, 0};
	char *big;

	(void)argv;
	(void)argc;
	if ((big = malloc(70001)) == NULL)
		die("out of memory");
	memset(big, 'v', 70000);
	big[70000] = '\0';
	wb_get_pairs(&pairs, "/wait_async", "secs=0");
	wb_pair(&pairs, "HTTP_X_BIG", big);
	wb_begin(&b, 1, FCGI_RESPONDER, 0, 0);
	wb_stream(&b, FCGI_PARAMS, 1, pairs.p, pairs.len, 32768);
	wb_record(&b, FCGI_STDIN, 1, NULL, 0, 0);
	free(big);
	free(pairs.p);
	return malformed(p, c, &b);
}

/* A second BEGIN_REQUEST for an id that is active (§3.3). */
static int
scn_dup_begin(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};

	(void)argv;
	(void)argc;
	wb_begin(&b, 1, FCGI_RESPONDER, 0, 0);
	wb_get(&b, 1, 0, "/wait_async", "secs=0");
	return malformed(p, c, &b);
}

/* A management record (GET_VALUES) with requestId 1: management records
 * have requestId 0 (§3.3 "Types of Record Types"). */
static int
scn_mgmt_nonzero_id(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0}, q = {NULL, 0, 0};

	(void)argv;
	(void)argc;
	wb_pair(&q, FCGI_MPXS_CONNS, "");
	wb_record(&b, FCGI_GET_VALUES, 1, q.p, q.len, 0);
	free(q.p);
	return malformed(p, c, &b);
}

/* A PARAMS stream ending inside a name-value pair (§3.4): it says 10 + 200
 * bytes and brings 15. */
static int
scn_truncated_nvpair(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};
	static const uint8_t cut[] = {10, 200, 'S', 'C', 'R', 'I', 'P', 'T',
	    '_', 'N', 'A', 'M', '/', 'w', 'a', 'i', 't'};

	(void)argv;
	(void)argc;
	wb_begin(&b, 1, FCGI_RESPONDER, 0, 0);
	wb_stream(&b, FCGI_PARAMS, 1, cut, sizeof(cut), sizeof(cut));
	wb_record(&b, FCGI_STDIN, 1, NULL, 0, 0);
	return malformed(p, c, &b);
}

/* STDIN before the PARAMS stream has ended (§5.2, §5.3 order). */
static int
scn_stdin_early(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0}, pairs = {NULL, 0, 0};

	(void)argv;
	(void)argc;
	wb_get_pairs(&pairs, "/wait_async", "secs=0");
	wb_begin(&b, 1, FCGI_RESPONDER, 0, 0);
	wb_record(&b, FCGI_PARAMS, 1, pairs.p, pairs.len, 0);
	wb_record(&b, FCGI_STDIN, 1, "x", 1, 7);
	free(pairs.p);
	return malformed(p, c, &b);
}

/* DATA for a responder request: DATA is the FILTER role's (§6.2, §6.4). */
static int
scn_data_responder(struct probe *p, struct conn *c, char **argv, int argc)
{
	struct wbuf b = {NULL, 0, 0};

	(void)argv;
	(void)argc;
	wb_begin(&b, 1, FCGI_RESPONDER, 0, 0);
	wb_get_params(&b, 1, "/wait_async", "secs=0");
	wb_record(&b, FCGI_DATA, 1, "x", 1, 7);
	return malformed(p, c, &b);
}

const struct scenario probe_scenarios[] = {
    {"get", 1, 2, "PATH [QUERY]", scn_get},
    {"keepconn", 2, 4, "N PATH [QUERY [GAP_MS]]", scn_keepconn},
    {"mpx", 0, 0, "", scn_mpx},
    {"split", 0, 1, "[DELAY_MS]", scn_split},
    {"coalesce", 0, 0, "", scn_coalesce},
    {"padding", 0, 0, "", scn_padding},
    {"get_values", 0, 0, "", scn_get_values},
    {"unknown_mgmt", 0, 0, "", scn_unknown_mgmt},
    {"role", 1, 1, "ROLE", scn_role},
    {"unknown_id", 0, 0, "", scn_unknown_id},
    {"many_ids", 1, 2, "N [QUERY]", scn_many_ids},
    {"abort", 0, 1, "[keep]", scn_abort},
    {"answered_early", 0, 1, "[abort]", scn_answered_early},
    {"close_midway", 0, 2, "[PATH QUERY]", scn_close_midway},
    {"silent", 0, 0, "", scn_silent},
    {"post_close", 2, 2, "PATH N", scn_post_close},
    {"no_read", 1, 2, "N [PATH]", scn_no_read},
    {"stalled_close", 1, 2, "N [HOLD_MS]", scn_stalled_close},
    {"stall", 2, 3, "HOLD_MS PATH [QUERY]", scn_stall},
    {"flood_conns", 1, 2, "N [HOLD_MS]", scn_flood_conns},
    {"bad_version", 0, 0, "", scn_bad_version},
    {"bad_begin_len", 0, 0, "", scn_bad_begin_len},
    {"stdout_from_client", 0, 0, "", scn_stdout_from_client},
    {"params_overflow", 0, 0, "", scn_params_overflow},
    {"dup_begin", 0, 0, "", scn_dup_begin},
    {"mgmt_nonzero_id", 0, 0, "", scn_mgmt_nonzero_id},
    {"truncated_nvpair", 0, 0, "", scn_truncated_nvpair},
    {"stdin_early", 0, 0, "", scn_stdin_early},
    {"data_responder", 0, 0, "", scn_data_responder},
};

const size_t probe_nscenarios =
    sizeof(probe_scenarios) / sizeof(probe_scenarios[0]);
