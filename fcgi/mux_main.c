/*
 * fcgilab-mux — the asynchronous FastCGI server (the lesson's `async def`).
 *
 * main() only wires things together: options, the listening socket, the
 * fd limit, signals, the event loop (ev.h), the CPU thread pool
 * (offload.h) and the server itself (mux.h).
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
 *    it /jobs is not served (404). --max-queued and --job-ttl bound it. Redis's
 * password comes from
 *    --queue-password-file, a systemd credential, the environment or the
 *    URL (redis_auth.h: the URL's is masked in our argv at once), and is
 *    erased here once the store has its copy; a password the server
 *    refuses ends the mux at start.
 *  - Once everything is set up: "fcgilab-mux: ready" on stderr (fcgilab
 *    start waits for it).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
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
#include "redis_auth.h"
#include "secret.h"
#include "stats_task.h"

struct opts {
	const char *listen;
	int backlog;
	unsigned mode;
	const char *allow;
	const char *token_file;
	unsigned cpu_threads;
	size_t cpu_queue;
	char *queue; /* argv's: its password is masked (redis_auth.h) */
	const char *uploads;
	uint64_t max_upload;
	const char *password_file;
	struct mod_jobs_config jobs;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: fcgilab-mux [OPTIONS]\n"
	    "\n"
	    "The asynchronous FastCGI server of fcgilab: one process, one "
	    "epoll\n"
	    "loop, thousands of requests waiting at once. Without --listen it\n"
	    "accepts on fd 0, as spawn-fcgi hands it over.\n"
	    "\n"
	    "  -l, --listen ADDR        bind a unix socket PATH or HOST:PORT\n"
	    "  -b, --backlog N          listen backlog with --listen (4096)\n"
	    "  -m, --mode OCTAL         unix socket mode with --listen (0660)\n"
	    "  -a, --allow ADDR,...     TCP peers that may connect (addresses "
	    "or\n"
	    "                           prefixes; default "
	    "$FCGI_WEB_SERVER_ADDRS);\n"
	    "                           required beyond loopback\n"
	    "      --blocking-routes    serve /wait_async_blocking and\n"
	    "                           /cpu_async_blocking (the lesson's "
	    "mistakes:\n"
	    "                           each stalls every request of the mux)\n"
	    "      --operator-token-file FILE  GET /jobs and /metrics also "
	    "answer\n"
	    "                           non-loopback clients with this bearer "
	    "token\n"
	    "      --max-secs S         largest accepted secs (60)\n"
	    "      --max-n N            largest accepted n (%lld)\n"
	    "      --max-conns N        connections at once (fd limit - 32)\n"
	    "      --max-inflight N     requests served at once; then 503 "
	    "(%d)\n"
	    "      --max-reqs-per-conn N  request ids per connection (%d)\n"
	    "      --max-params BYTES   PARAMS of one request (%d)\n"
	    "      --max-stdin BYTES    request body of a GET route (%d)\n"
	    "      --max-outq BYTES     output queued to one connection (%d)\n"
	    "      --idle-timeout SECS  close idle connections after (%d)\n"
	    "      --stall-timeout SECS drop a connection whose output has "
	    "not\n"
	    "                           moved for this long (%d)\n"
	    "      --grace SECS         SIGTERM: time to finish requests (%d)\n"
	    "      --cpu-threads N      threads for /cpu_async (2)\n"
	    "      --cpu-queue N        /cpu_async jobs waiting; then 503 "
	    "(1024)\n"
	    "  -q, --queue URL          serve /jobs on this store: an SQLite "
	    "file\n"
	    "                           (PATH) or "
	    "redis://[USER[:PASSWORD]@]HOST[:PORT][/DB]\n"
	    "      --queue-password-file FILE  Redis's password, from FILE "
	    "(see also\n"
	    "                           FCGILAB_REDIS_PASSWORD, "
	    "$CREDENTIALS_DIRECTORY)\n"
	    "      --max-queued N       jobs that may wait in the store; "
	    "then POST\n"
	    "                           /jobs is 503 (%d)\n"
	    "      --job-ttl SECS       keep finished jobs this long; 0: for "
	    "ever (%d)\n"
	    "  -u, --uploads DIR        store POST /upload bodies in DIR\n"
	    "      --max-upload BYTES   largest uploaded file (%llu)\n"
	    "  -v, --verbose            log every connection's end\n"
	    "  -h, --help               this text\n"
	    "  -V, --version            print the version\n",
	    APP_DEFAULT_MAX_N, MUX_DEFAULT_MAX_INFLIGHT,
	    MUX_DEFAULT_MAX_REQS_PER_CONN, MUX_DEFAULT_MAX_PARAMS,
	    MUX_DEFAULT_MAX_STDIN, MUX_DEFAULT_MAX_OUTQ,
	    MUX_DEFAULT_IDLE_TIMEOUT_MS / 1000,
	    MUX_DEFAULT_STALL_TIMEOUT_MS / 1000, MUX_DEFAULT_GRACE_MS / 1000,
	    MOD_JOBS_DEFAULT_MAX_QUEUED, MOD_JOBS_DEFAULT_TTL_S,
	    (unsigned long long)MOD_UPLOAD_DEFAULT_MAX_BYTES);
}

/* A whole number in [lo, hi] from an option argument, or -1. */
static long long
int_arg(const char *s, long long lo, long long hi)
{
	long long v;

	if (num_parse_int(s, strlen(s), &v) != NUM_OK || v < lo || v > hi)
		return -1;
	return v;
}

static int
parse_args(int argc, char **argv, struct mux_config *cfg, struct opts *o)
{
	enum {
		O_MAX_SECS = 256,
		O_MAX_N,
		O_MAX_CONNS,
		O_MAX_INFLIGHT,
		O_MAX_RPC,
		O_MAX_PARAMS,
		O_MAX_STDIN,
		O_MAX_OUTQ,
		O_IDLE,
		O_STALL,
		O_GRACE,
		O_THREADS,
		O_QUEUE,
		O_MAX_UPLOAD,
		O_BLOCKING,
		O_TOKEN,
		O_PASSWORD_FILE,
		O_MAX_QUEUED,
		O_JOB_TTL
	};
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"backlog", required_argument, NULL, 'b'},
	    {"mode", required_argument, NULL, 'm'},
	    {"allow", required_argument, NULL, 'a'},
	    {"blocking-routes", no_argument, NULL, O_BLOCKING},
	    {"operator-token-file", required_argument, NULL, O_TOKEN},
	    {"max-secs", required_argument, NULL, O_MAX_SECS},
	    {"max-n", required_argument, NULL, O_MAX_N},
	    {"max-conns", required_argument, NULL, O_MAX_CONNS},
	    {"max-inflight", required_argument, NULL, O_MAX_INFLIGHT},
	    {"max-reqs-per-conn", required_argument, NULL, O_MAX_RPC},
	    {"max-params", required_argument, NULL, O_MAX_PARAMS},
	    {"max-stdin", required_argument, NULL, O_MAX_STDIN},
	    {"max-outq", required_argument, NULL, O_MAX_OUTQ},
	    {"idle-timeout", required_argument, NULL, O_IDLE},
	    {"stall-timeout", required_argument, NULL, O_STALL},
	    {"grace", required_argument, NULL, O_GRACE},
	    {"cpu-threads", required_argument, NULL, O_THREADS},
	    {"cpu-queue", required_argument, NULL, O_QUEUE},
	    {"queue", required_argument, NULL, 'q'},
	    {"queue-password-file", required_argument, NULL, O_PASSWORD_FILE},
	    {"max-queued", required_argument, NULL, O_MAX_QUEUED},
	    {"job-ttl", required_argument, NULL, O_JOB_TTL},
	    {"uploads", required_argument, NULL, 'u'},
	    {"max-upload", required_argument, NULL, O_MAX_UPLOAD},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const long long big = 1LL << 40;
	long long v = 0;
	char *end;
	int c, idx = 0;

	while ((c = getopt_long(argc, argv, "l:b:m:a:q:u:vhV", opts, &idx)) !=
	    -1) {
		switch (c) {
		case 'l':
			o->listen = optarg;
			continue;
		case 'a':
			o->allow = optarg;
			continue;
		case O_BLOCKING:
			cfg->blocking_routes = true;
			continue;
		case O_TOKEN:
			o->token_file = optarg;
			continue;
		case 'q':
			o->queue = optarg;
			continue;
		case O_PASSWORD_FILE:
			o->password_file = optarg;
			continue;
		case 'u':
			o->uploads = optarg;
			continue;
		case 'v':
			cfg->verbose = 1;
			continue;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			puts("fcgilab-mux " PACKAGE_VERSION);
			exit(0);
		case 'm':
			errno = 0;
			v = strtol(optarg, &end, 8);
			if (errno || *end || end == optarg || v < 0 || v > 0777)
				goto bad;
			o->mode = (unsigned)v;
			continue;
		case O_MAX_SECS:
			if (num_parse_float(optarg, strlen(optarg),
			        &cfg->app.max_secs) != NUM_OK ||
			    !(cfg->app.max_secs >= 0 &&
			        cfg->app.max_secs <= 86400))
				goto bad;
			continue;
		case '?':
			usage(stderr);
			return -1;
		default:
			break;
		}
		/* the whole-number options */
		switch (c) {
		case 'b':
			v = int_arg(optarg, 1, 65535);
			break;
		case O_MAX_N:
			v = int_arg(optarg, 0, big);
			break;
		case O_MAX_CONNS:
		case O_MAX_INFLIGHT:
		case O_MAX_RPC:
		case O_THREADS:
			v = int_arg(optarg, 1, 1 << 24);
			break;
		case O_IDLE:
		case O_STALL:
		case O_GRACE: /* seconds, as milliseconds in an unsigned */
			v = int_arg(optarg, 1, 4000000);
			break;
		case O_JOB_TTL:
			v = int_arg(optarg, 0, MOD_JOBS_MAX_TTL_S);
			break;
		default:
			v = int_arg(optarg, 1, big);
			break;
		}
		if (v < 0)
			goto bad;
		switch (c) {
		case 'b':
			o->backlog = (int)v;
			break;
		case O_MAX_N:
			cfg->app.max_n = v;
			break;
		case O_MAX_CONNS:
			cfg->max_conns = (unsigned)v;
			break;
		case O_MAX_INFLIGHT:
			cfg->max_inflight = (unsigned)v;
			break;
		case O_MAX_RPC:
			cfg->max_reqs_per_conn = (unsigned)v;
			break;
		case O_MAX_PARAMS:
			cfg->max_params = (size_t)v;
			break;
		case O_MAX_STDIN:
			cfg->max_stdin = (size_t)v;
			break;
		case O_MAX_OUTQ:
			cfg->max_outq = (size_t)v;
			break;
		case O_IDLE:
			cfg->idle_timeout_ms = (unsigned)(v * 1000);
			break;
		case O_STALL:
			cfg->stall_timeout_ms = (unsigned)(v * 1000);
			break;
		case O_GRACE:
			cfg->grace_ms = (unsigned)(v * 1000);
			break;
		case O_THREADS:
			o->cpu_threads = (unsigned)v;
			break;
		case O_QUEUE:
			o->cpu_queue = (size_t)v;
			break;
		case O_MAX_UPLOAD:
			o->max_upload = (uint64_t)v;
			break;
		case O_MAX_QUEUED:
			o->jobs.max_queued = (uint64_t)v;
			break;
		case O_JOB_TTL:
			o->jobs.ttl_s = (uint64_t)v;
			break;
		default:
			break;
		}
	}
	if (optind == argc)
		return 0;
	usage(stderr);
	return -1;
bad:
	fprintf(stderr, "fcgilab-mux: bad value for --%s: %s\n",
	    c < 256 ? (c == 'b' ? "backlog" : "mode") : opts[idx].name, optarg);
	return -1;
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
	static const int sigs[] = {SIGTERM, SIGINT};
	struct opts o = {NULL, 4096, 0660, NULL, NULL, 2, 1024, NULL, NULL,
	    MOD_UPLOAD_DEFAULT_MAX_BYTES};
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
	struct offload_pool *pool = NULL;
	struct ev_loop *loop = NULL;
	struct mux_config cfg;
	struct mux *m = NULL;
	long nofile;
	int lfd, rc = 1;

	nofile = ev_raise_nofile();
	mux_config_init(&cfg, nofile > 0 ? (unsigned)nofile : 1024);
	mod_jobs_config_init(&o.jobs);
	if (parse_args(argc, argv, &cfg, &o) != 0)
		return 2;
	/* first: it masks the URL's password in our argv */
	if (redis_auth_load(&rauth, o.password_file, o.queue, err,
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
	if (offload_new(&pool, o.cpu_threads, o.cpu_queue) != OFFLOAD_OK) {
		fprintf(
		    stderr, "fcgilab-mux: thread pool: %s\n", strerror(errno));
		goto out;
	}
	if ((m = mux_new(&cfg, loop, lfd, pool)) == NULL) {
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
	if ((payloads = mod_payloads_new(m)) == NULL ||
	    (uploads = mod_upload_new(
	         m, jobs, pool, &ucfg, err, sizeof(err))) == NULL) {
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
	mod_upload_free(uploads); /* after the pool's last callbacks */
	mod_payloads_free(payloads);
	if (loop != NULL)
		ev_free(loop);
	return rc;
}
