/*
 * fcgilab-sync — the blocking FastCGI responder (the lesson's `def`).
 *
 * One request at a time: accept, decide (app.h), do the work right here —
 * sleeping for /wait, counting primes for /cpu — and answer. While it
 * sleeps, this process serves no one; that is the point. A pool of P of
 * them (spawn-fcgi + multiwatch) serves M waits in ceil(M/P) rounds.
 *
 *  - Listens on fd 0 as spawn-fcgi hands it over, or binds --listen
 *    PATH | HOST:PORT itself (listener.h). In TCP mode libfcgi admits only
 *    the peers of FCGI_WEB_SERVER_ADDRS (or --allow, which sets it), by
 *    exact IPv4 address; a listener beyond loopback needs such a list.
 *  - SIGTERM/SIGINT: stop accepting; a request in progress is finished
 *    first; exit 0.
 *  - Every answer carries "X-Fcgilab-Worker: PID", this process's id, so
 *    `fcgilab compare` can draw one lane per worker of the pool.
 */
#include "config.h"

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apijson.h"
#include "app.h"
#include "cpuwork.h"
#include "listener.h"
#include "opts.h"

static volatile sig_atomic_t stopping;
/* "X-Fcgilab-Worker: PID\r\n" on every answer: the responder names
 * itself, so a client can draw which worker served which request. */
static char worker_header[48];

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Block this process for secs seconds, whatever signals arrive. */
static void
sleep_blocking(double secs)
{
	struct timespec end;
	double whole = (double)(time_t)secs;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)whole;
	end.tv_nsec += (long)((secs - whole) * 1e9);
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) ==
	    EINTR)
		;
}

static void
respond(FCGX_Request *rq, int status, const char *headers, const char *body,
    size_t len)
{
	char head[APP_HEAD_MAX], extra[APP_HEAD_MAX];
	size_t hlen;

	snprintf(extra, sizeof(extra), "%s%s", worker_header,
	    headers != NULL ? headers : "");
	hlen = app_cgi_head(
	    head, sizeof(head), status, "application/json", len, extra);
	if (hlen == 0) { /* cannot happen within APP_HEAD_MAX; stay correct */
		respond(rq, 500, NULL, APIJSON_INTERNAL_BODY,
		    sizeof(APIJSON_INTERNAL_BODY) - 1);
		return;
	}
	FCGX_PutStr(head, (int)hlen, rq->out);
	if (len > 0)
		FCGX_PutStr(body, (int)len, rq->out);
}

static void
serve(const struct app_config *cfg, FCGX_Request *rq)
{
	struct app_request req;
	struct app_decision d;
	char *body = NULL;
	size_t len = 0;

	req.method = FCGX_GetParam("REQUEST_METHOD", rq->envp);
	req.script_name = FCGX_GetParam("SCRIPT_NAME", rq->envp);
	req.path_info = FCGX_GetParam("PATH_INFO", rq->envp);
	req.query = FCGX_GetParam("QUERY_STRING", rq->envp);
	if (app_decide(cfg, APP_SRV_SYNC, &req, &d) != 0)
		goto oom;
	switch (d.action) {
	case APP_REPLY:
		respond(rq, d.status, d.headers, d.body, d.body_len);
		app_decision_free(&d);
		return;
	case APP_WAIT:
		sleep_blocking(d.secs); /* the blocking the lesson is about */
		body = app_wait_body(d.secs, &len);
		break;
	case APP_CPU:
		body = app_cpu_body(
		    d.n, cpu_count_primes((unsigned long)d.n), &len);
		break;
	case APP_SERVER: /* no server-answered route is served here */
		body = apijson_detail(APIJSON_NOT_FOUND, &len);
		if (body != NULL)
			respond(rq, 404, NULL, body, len);
		free(body);
		app_decision_free(&d);
		return;
	}
	app_decision_free(&d);
	if (body == NULL)
		goto oom;
	respond(rq, 200, NULL, body, len);
	free(body);
	return;
oom:
	respond(rq, 500, NULL, APIJSON_INTERNAL_BODY,
	    sizeof(APIJSON_INTERNAL_BODY) - 1);
}

/* The options, their limits and their help: one line each (opts.h). */
static enum opts_result
parse_args(int argc, char **argv, struct app_config *cfg, const char **listen,
    int *backlog, const char **allow)
{
	const struct opt table[] = {
	    {"listen", 'l', OPT_STRING, listen, 0, 0, 0, "ADDR",
	        "bind a unix socket path or HOST:PORT itself"},
	    {"backlog", 'b', OPT_INT, backlog, sizeof(int), 1, 65535, "N",
	        "listen backlog with --listen"},
	    {"allow", 'a', OPT_STRING, allow, 0, 0, 0, "ADDR,...",
	        "IPv4 peers that may connect over TCP (default "
	        "$FCGI_WEB_SERVER_ADDRS); required beyond loopback"},
	    {"max-secs", 0, OPT_FLOAT, &cfg->max_secs, 0, 0, 86400, "S",
	        "largest accepted secs"},
	    {"max-n", 0, OPT_INT, &cfg->max_n, sizeof(long long), 0,
	        1099511627776.0, "N", "largest accepted n for /cpu"},
	};
	const struct opts_prog prog = {"fcgilab-sync", "[OPTIONS]",
	    "A blocking FastCGI responder for fcgilab's /, /wait and /cpu.\n"
	    "Without --listen it accepts on fd 0, as spawn-fcgi hands it "
	    "over.\n",
	    NULL, table, sizeof(table) / sizeof(table[0]), 0};
	int at;

	return opts_parse(&prog, argc, argv, &at);
}

int
main(int argc, char **argv)
{
	enum opts_result res;
	struct app_config cfg;
	struct sigaction sa;
	FCGX_Request rq;
	const char *listen = NULL, *allow = NULL;
	struct listener_acl acl;
	struct listener_spec ls;
	char err[LISTENER_ERR_MAX];
	int backlog = 1024, sock;

	app_config_init(&cfg);
	if ((res = parse_args(argc, argv, &cfg, &listen, &backlog, &allow)) !=
	    OPTS_OK)
		return res == OPTS_EXIT ? 0 : 2;
	/* libfcgi reads FCGI_WEB_SERVER_ADDRS in FCGX_Init: --allow is it. */
	if (allow != NULL && setenv("FCGI_WEB_SERVER_ADDRS", allow, 1) != 0)
		return 1;
	if (listener_acl_parse(
	        &acl, getenv("FCGI_WEB_SERVER_ADDRS"), err, sizeof(err)) != 0) {
		fprintf(stderr, "fcgilab-sync: %s\n", err);
		return 2;
	}
	snprintf(worker_header, sizeof(worker_header),
	    "X-Fcgilab-Worker: %ld\r\n", (long)getpid());

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: accept() must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (FCGX_Init() != 0) {
		fprintf(stderr, "fcgilab-sync: FCGX_Init failed\n");
		return 1;
	}
	ls = (struct listener_spec){listen, backlog, 0660, &acl, true};
	if ((sock = listener_open(&ls, err, sizeof(err))) < 0) {
		fprintf(stderr, "fcgilab-sync: cannot listen: %s\n", err);
		return 1;
	}
	if (FCGX_InitRequest(&rq, sock, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		fprintf(stderr, "fcgilab-sync: FCGX_InitRequest failed\n");
		return 1;
	}
	while (!stopping && FCGX_Accept_r(&rq) >= 0) {
		serve(&cfg, &rq);
		FCGX_Finish_r(&rq);
	}
	FCGX_Free(&rq, 1);
	return 0;
}
