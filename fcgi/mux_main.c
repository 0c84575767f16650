/*
 * fcgilab-mux — the asynchronous FastCGI server (the lesson's `async def`).
 *
 * main() only wires things together: options, the listening socket, the
 * fd limit, signals, the event loop (ev.h), the thread pools for CPU and
 * for durability work (offload.h) and the server itself (mux.h).
 *
 *  - Listens on fd 0 as spawn-fcgi hands it over, or binds --listen PATH
 *    (mode --mode, default 0660) or --listen HOST:PORT itself; a TCP
 *    listener beyond loopback needs an allow-list (--allow, else
 *    FCGI_WEB_SERVER_ADDRS): listener.h.
 *  - --blocking-routes serves the lesson's mistakes (*_blocking); without
 *    it they are 404. --operator-token-file opens the operator views
 *    (GET /jobs, /metrics) to clients with that bearer token; without it
 *    they answer loopback clients only (app.h).
 *  - Raises the soft RLIMIT_NOFILE to the hard limit at start.
 *  - SIGTERM/SIGINT: stop accepting, let in-flight requests finish (up to
 *    --grace seconds), exit 0.
 *  - --queue URL: serve the jobs API (mod_jobs.h) on that store; without
 *    it /jobs is not served (404); --max-queued and --job-ttl bound it.
 *    Redis's password comes from
 *    --queue-password-file, a systemd credential, the environment or the
 *    URL (redis_auth.h: the URL's is masked in our argv at once), and is
 *    erased here once the store has its copy; a password the server
 *    refuses ends the mux at start.
 *  - Once everything is set up: "fcgilab-mux: ready" on stderr (fcgilab
 *    start waits for it).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "jobs.h"
#include "listener.h"
#include "mod_jobs.h"
#include "mod_lesson.h"
#include "mod_payloads.h"
#include "mod_upload.h"
#include "mux.h"
#include "num.h"
#include "offload.h"
#include "opts.h"
#include "redis_auth.h"
#include "secret.h"
#include "stats_task.h"

struct opts {
	const char *listen;
	int backlog;
	unsigned mode;
	const char *allow;
	const char *token_file;
	unsigned cpu_threads, io_threads;
	size_t cpu_queue;
	const char *queue; /* argv's: its password is masked (redis_auth.h) */
	const char *uploads;
	uint64_t max_upload, uploads_quota;
	unsigned upload_ttl_ms;
	const char *password_file;
	struct mod_jobs_config jobs;
};

#define BIG  1099511627776.0 /* 2^40 */
#define SECS 4000000.0       /* the most seconds kept as milliseconds */

/* The options, their limits and their help: one line each (opts.h). */
static enum opts_result
parse_args(int argc, char **argv, struct mux_config *cfg, struct opts *o)
{
	const struct opt table[] = {
	    {"listen", 'l', OPT_STRING, &o->listen, 0, 0, 0, "ADDR",
	        "bind a unix socket PATH or HOST:PORT"},
	    {"backlog", 'b', OPT_INT, &o->backlog, sizeof(int), 1, 65535, "N",
	        "listen backlog with --listen"},
	    {"mode", 'm', OPT_OCTAL, &o->mode, 0, 0, 0777, "OCTAL",
	        "unix socket mode with --listen"},
	    {"allow", 'a', OPT_STRING, &o->allow, 0, 0, 0, "ADDR,...",
	        "TCP peers that may connect (addresses or prefixes; default "
	        "$FCGI_WEB_SERVER_ADDRS); required beyond loopback"},
	    {"blocking-routes", 0, OPT_FLAG, &cfg->blocking_routes,
	        sizeof(bool), 0, 0, NULL,
	        "serve /wait_async_blocking and /cpu_async_blocking (the "
	        "lesson's mistakes: each stalls every request of the mux)"},
	    {"operator-token-file", 0, OPT_STRING, &o->token_file, 0, 0, 0,
	        "FILE",
	        "GET /jobs and /metrics also answer non-loopback clients "
	        "sending this bearer token"},
	    {"max-secs", 0, OPT_FLOAT, &cfg->app.max_secs, 0, 0, 86400, "S",
	        "largest accepted secs"},
	    {"max-n", 0, OPT_INT, &cfg->app.max_n, sizeof(long long), 0, BIG,
	        "N", "largest accepted n"},
	    {"max-conns", 0, OPT_INT, &cfg->max_conns, sizeof(unsigned), 1,
	        1 << 24, "N",
	        "connections at once; by default the fd limit - 32"},
	    {"max-inflight", 0, OPT_INT, &cfg->max_inflight, sizeof(unsigned),
	        1, 1 << 24, "N", "requests served at once; then 503"},
	    {"max-reqs-per-conn", 0, OPT_INT, &cfg->max_reqs_per_conn,
	        sizeof(unsigned), 1, 1 << 24, "N",
	        "request ids per connection"},
	    {"max-params", 0, OPT_INT, &cfg->max_params, sizeof(size_t), 1, BIG,
	        "BYTES", "PARAMS of one request"},
	    {"max-stdin", 0, OPT_INT, &cfg->max_stdin, sizeof(size_t), 1, BIG,
	        "BYTES", "request body of a GET route"},
	    {"max-outq", 0, OPT_INT, &cfg->max_outq, sizeof(size_t), 1, BIG,
	        "BYTES", "output queued to one connection"},
	    {"idle-timeout", 0, OPT_MS, &cfg->idle_timeout_ms, 0, 1, SECS,
	        "SECS", "close a connection with nothing running after SECS"},
	    {"stall-timeout", 0, OPT_MS, &cfg->stall_timeout_ms, 0, 1, SECS,
	        "SECS",
	        "drop a connection whose output has not moved for SECS"},
	    {"grace", 0, OPT_MS, &cfg->grace_ms, 0, 1, SECS, "SECS",
	        "SIGTERM: time to finish the requests in flight"},
	    {"cpu-threads", 0, OPT_INT, &o->cpu_threads, sizeof(unsigned), 1,
	        1024, "N", "threads for /cpu_async"},
	    {"cpu-queue", 0, OPT_INT, &o->cpu_queue, sizeof(size_t), 1, 1 << 24,
	        "N", "/cpu_async work waiting; then 503"},
	    {"io-threads", 0, OPT_INT, &o->io_threads, sizeof(unsigned), 1,
	        1024, "N",
	        "threads for durability work (an upload's fsync), which CPU "
	        "work never delays"},
	    {"queue", 'q', OPT_STRING, &o->queue, 0, 0, 0, "URL",
	        "serve /jobs on this store: an SQLite file (PATH) or "
	        "redis://[USER[:PASSWORD]@]HOST[:PORT][/DB]"},
	    {"queue-password-file", 0, OPT_STRING, &o->password_file, 0, 0, 0,
	        "FILE",
	        "Redis's password, from FILE (see also "
	        "FCGILAB_REDIS_PASSWORD, $CREDENTIALS_DIRECTORY)"},
	    {"max-queued", 0, OPT_INT, &o->jobs.max_queued, sizeof(uint64_t), 1,
	        BIG, "N",
	        "jobs that may wait in the store; then POST /jobs is 503"},
	    {"job-ttl", 0, OPT_INT, &o->jobs.ttl_s, sizeof(uint64_t), 0,
	        MOD_JOBS_MAX_TTL_S, "SECS",
	        "keep finished jobs this long; 0: for ever"},
	    {"uploads", 'u', OPT_STRING, &o->uploads, 0, 0, 0, "DIR",
	        "store POST /upload bodies in DIR"},
	    {"max-upload", 0, OPT_INT, &o->max_upload, sizeof(uint64_t), 1, BIG,
	        "BYTES", "largest uploaded file"},
	    {"uploads-quota", 0, OPT_INT, &o->uploads_quota, sizeof(uint64_t),
	        0, BIG * 1024, "BYTES",
	        "all uploads kept, at most, then 507; 0: half the filesystem"},
	    {"upload-ttl", 0, OPT_MS, &o->upload_ttl_ms, 0, 0, SECS, "SECS",
	        "how long an upload is kept; 0: for ever"},
	    {"verbose", 'v', OPT_FLAG, &cfg->verbose, sizeof(int), 0, 0, NULL,
	        "log every connection's end"},
	};
	const struct opts_prog prog = {"fcgilab-mux", "[OPTIONS]",
	    "The asynchronous FastCGI server of fcgilab: one process, one "
	    "epoll\nloop, thousands of requests waiting at once. Without "
	    "--listen it\naccepts on fd 0, as spawn-fcgi hands it over.\n",
	    NULL, table, sizeof(table) / sizeof(table[0]), 0};
	int at;

	return opts_parse(&prog, argc, argv, &at);
}

/* A bearer token as RFC 6750 has it (b64token), long enough to guess in
 * no reasonable time. */
static bool
token_ok(const char *t)
{
	size_t n = strspn(t,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	    "-._~+/");

	return n >= 16 && strspn(t + n, "=") == strlen(t + n);
}

static void
on_signal(struct ev_loop *loop, int signo, void *data)
{
	(void)loop;
	fprintf(stderr, "fcgilab-mux: %s: finishing the requests in flight\n",
	    strsignal(signo));
	mux_drain(data);
}

int
main(int argc, char **argv)
{
	enum opts_result res;
	static const int sigs[] = {SIGTERM, SIGINT};
	struct opts o = {.backlog = 4096,
	    .mode = 0660,
	    .cpu_threads = 2,
	    .io_threads = 2,
	    .cpu_queue = 1024,
	    .max_upload = MOD_UPLOAD_DEFAULT_MAX_BYTES,
	    .upload_ttl_ms = MOD_UPLOAD_DEFAULT_TTL_S * 1000u};
	struct listener_acl acl;
	struct listener_spec ls;
	static char token[SECRET_MAX];
	struct mod_upload_config ucfg;
	struct mod_payloads *payloads = NULL;
	struct mod_upload *uploads = NULL;
	struct mod_jobs *jobs = NULL;
	struct jobs_tasks tasks;
	char err[JOBSTORE_ERR_MAX];
	enum redis_auth_source src;
	struct redis_auth rauth;
	struct offload_pool *pool = NULL, *io = NULL;
	struct ev_loop *loop = NULL;
	struct mux_config cfg;
	struct mux *m = NULL;
	long nofile;
	int lfd, rc = 1;

	nofile = ev_raise_nofile();
	mux_config_init(&cfg, nofile > 0 ? (unsigned)nofile : 1024);
	mod_jobs_config_init(&o.jobs);
	if ((res = parse_args(argc, argv, &cfg, &o)) != OPTS_OK)
		return res == OPTS_EXIT ? 0 : 2;
	/* first: it masks the URL's password in our argv */
	/* o.queue is argv's own text: masking it there is the point */
	if (redis_auth_load(&rauth, o.password_file, (char *)o.queue, err,
	        sizeof(err)) != REDIS_AUTH_OK) {
		fprintf(stderr, "fcgilab-mux: jobs: %s\n", err);
		return 2;
	}
	src = rauth.source;
	signal(SIGPIPE, SIG_IGN);
	if (o.token_file != NULL) {
		if (secret_read_file(o.token_file, "operator token", token,
		        sizeof(token), err, sizeof(err)) != SECRET_OK) {
			fprintf(stderr, "fcgilab-mux: %s\n", err);
			return 1;
		}
		if (!token_ok(token)) {
			fprintf(stderr,
			    "fcgilab-mux: operator token %s: want 16 or more "
			    "of A-Z a-z 0-9 - . _ ~ + / (e.g. openssl rand "
			    "-base64 24)\n",
			    o.token_file);
			return 1;
		}
		cfg.app.operator_token = token;
	}
	if (listener_acl_parse(&acl,
	        o.allow ? o.allow : getenv("FCGI_WEB_SERVER_ADDRS"), err,
	        sizeof(err)) != 0) {
		fprintf(stderr, "fcgilab-mux: %s\n", err);
		return 2;
	}
	cfg.allow = &acl;
	ls = (struct listener_spec){o.listen, o.backlog, o.mode, &acl, false};
	if ((lfd = listener_open(&ls, err, sizeof(err))) < 0) {
		fprintf(stderr, "fcgilab-mux: cannot listen: %s\n", err);
		return 1;
	}
	/* Signals first: the offload threads inherit the blocked mask. */
	if (ev_new(&loop, 0) != EV_OK ||
	    ev_signal(loop, sigs, 2, on_signal, NULL) != EV_OK) {
		fprintf(
		    stderr, "fcgilab-mux: event loop: %s\n", strerror(errno));
		goto out;
	}
	if (offload_new(&pool, o.cpu_threads, o.cpu_queue) != OFFLOAD_OK ||
	    offload_new(&io, o.io_threads, o.cpu_queue) != OFFLOAD_OK) {
		fprintf(
		    stderr, "fcgilab-mux: thread pool: %s\n", strerror(errno));
		goto out;
	}
	if ((m = mux_new(&cfg, loop, lfd, pool, io)) == NULL) {
		fprintf(stderr, "fcgilab-mux: %s\n", strerror(errno));
		goto out;
	}
	mod_lesson_register(m);
	if (o.queue != NULL) {
		jobs_tasks_init(&tasks, &cfg.app);
		stats_task_add(
		    &tasks, NULL); /* validated here, run by workers */
		jobs = mod_jobs_new(m, &tasks, o.queue,
		    redis_auth_password(&rauth), &o.jobs, err, sizeof(err));
		redis_auth_wipe(&rauth); /* the store has its own copy */
		if (jobs == NULL) {
			fprintf(stderr, "fcgilab-mux: jobs: %s\n", err);
			goto out;
		}
	}
	ucfg.dir = o.uploads;
	ucfg.max_bytes = o.max_upload;
	ucfg.quota = o.uploads_quota;
	ucfg.ttl_s = o.upload_ttl_ms / 1000;
	if ((payloads = mod_payloads_new(m)) == NULL ||
	    (uploads = mod_upload_new(m, jobs, io, &ucfg, err, sizeof(err))) ==
	        NULL) {
		fprintf(stderr, "fcgilab-mux: uploads: %s\n",
		    payloads ? err : strerror(errno));
		goto out;
	}
	ev_signal(loop, sigs, 2, on_signal, m);
	fprintf(stderr, "fcgilab-mux: ready%s%s%s\n",
	    src != REDIS_AUTH_NONE ? " (Redis password from " : "",
	    src != REDIS_AUTH_NONE ? redis_auth_source_name(src) : "",
	    src != REDIS_AUTH_NONE ? ")" : "");
	while (!mux_done(m))
		if (ev_run_once(loop, -1) != EV_OK) {
			fprintf(stderr, "fcgilab-mux: epoll: %s\n",
			    strerror(errno));
			goto out;
		}
	rc = 0;
out:
	/* a start that failed leaves no socket of ours behind */
	if (rc != 0 && listener_is_unix(&ls))
		unlink(ls.addr);
	redis_auth_wipe(&rauth);
	if (m != NULL)
		mux_free(m);
	mod_jobs_free(jobs); /* after the requests detached */
	offload_free(pool);
	offload_free(io);
	mod_upload_free(uploads); /* after the pools' last callbacks */
	mod_payloads_free(payloads);
	if (loop != NULL)
		ev_free(loop);
	return rc;
}
