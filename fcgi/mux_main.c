/*
 * fcgilab-mux — the asynchronous FastCGI server (the lesson's `async def`).
 *
 * main() only wires things together: options, the listening socket, the
 * fd limit, signals, the event loop (ev.h), the CPU thread pool
 * (offload.h) and the server itself (mux.h).
 *
 *  - Listens on fd 0 as spawn-fcgi hands it over, or binds --listen PATH
 *    (mode --mode, default 0660) or --listen HOST:PORT itself; in TCP mode
 *    FCGI_WEB_SERVER_ADDRS (comma-separated addresses) limits who may
 *    connect.
 *  - Raises the soft RLIMIT_NOFILE to the hard limit at start.
 *  - SIGTERM/SIGINT: stop accepting, let in-flight requests finish (up to
 *    --grace seconds), exit 0.
 *  - --queue URL: serve the jobs API (jobs_api.h) on that store; without
 *    it /jobs is not served (404). Redis's password comes from
 *    --queue-password-file, a systemd credential, the environment or the
 *    URL (secret.h: the URL's is masked in our argv at once), and is
 *    erased here once the store has its copy; a password the server
 *    refuses ends the mux at start.
 *  - Once everything is set up: "fcgilab-mux: ready" on stderr (fcgilab
 *    start waits for it).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ev.h"
#include "jobs.h"
#include "jobs_api.h"
#include "mux.h"
#include "num.h"
#include "offload.h"
#include "payloads.h"
#include "secret.h"
#include "stats_task.h"
#include "upload.h"

struct opts {
	const char *listen;
	int backlog;
	unsigned mode;
	unsigned cpu_threads;
	size_t cpu_queue;
	char *queue; /* argv's: its password is masked (secret.h) */
	const char *uploads;
	uint64_t max_upload;
	const char *password_file;
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
	    "  -u, --uploads DIR        store POST /upload bodies in DIR\n"
	    "      --max-upload BYTES   largest uploaded file (%llu)\n"
	    "  -v, --verbose            log every connection's end\n"
	    "  -h, --help               this text\n"
	    "  -V, --version            print the version\n",
	    APP_DEFAULT_MAX_N, MUX_DEFAULT_MAX_INFLIGHT,
	    MUX_DEFAULT_MAX_REQS_PER_CONN, MUX_DEFAULT_MAX_PARAMS,
	    MUX_DEFAULT_MAX_STDIN, MUX_DEFAULT_MAX_OUTQ,
	    MUX_DEFAULT_IDLE_TIMEOUT_MS / 1000, MUX_DEFAULT_GRACE_MS / 1000,
	    (unsigned long long)UPLOAD_DEFAULT_MAX_BYTES);
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
		O_GRACE,
		O_THREADS,
		O_QUEUE,
		O_MAX_UPLOAD,
		O_PASSWORD_FILE
	};
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"backlog", required_argument, NULL, 'b'},
	    {"mode", required_argument, NULL, 'm'},
	    {"max-secs", required_argument, NULL, O_MAX_SECS},
	    {"max-n", required_argument, NULL, O_MAX_N},
	    {"max-conns", required_argument, NULL, O_MAX_CONNS},
	    {"max-inflight", required_argument, NULL, O_MAX_INFLIGHT},
	    {"max-reqs-per-conn", required_argument, NULL, O_MAX_RPC},
	    {"max-params", required_argument, NULL, O_MAX_PARAMS},
	    {"max-stdin", required_argument, NULL, O_MAX_STDIN},
	    {"max-outq", required_argument, NULL, O_MAX_OUTQ},
	    {"idle-timeout", required_argument, NULL, O_IDLE},
	    {"grace", required_argument, NULL, O_GRACE},
	    {"cpu-threads", required_argument, NULL, O_THREADS},
	    {"cpu-queue", required_argument, NULL, O_QUEUE},
	    {"queue", required_argument, NULL, 'q'},
	    {"queue-password-file", required_argument, NULL, O_PASSWORD_FILE},
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

	while (
	    (c = getopt_long(argc, argv, "l:b:m:q:u:vhV", opts, &idx)) != -1) {
		switch (c) {
		case 'l':
			o->listen = optarg;
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

/* Bind a unix socket at path (a stale socket file is replaced; a live
 * one is refused) with the given mode. Returns the fd, or -1. */
static int
listen_unix(const char *path, int backlog, unsigned mode)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		errno = EADDRINUSE;
		return -1;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, mode) != 0 || listen(fd, backlog) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Bind HOST:PORT (the last colon separates the port; [v6]:port works). */
static int
listen_tcp(const char *addr, int backlog)
{
	struct addrinfo hints, *res, *ai;
	char host[256];
	const char *colon = strrchr(addr, ':');
	size_t hlen;
	int fd = -1, one = 1, err;

	if (colon == NULL || (hlen = (size_t)(colon - addr)) >= sizeof(host)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((err = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res))) {
		fprintf(
		    stderr, "fcgilab-mux: %s: %s\n", addr, gai_strerror(err));
		errno = EINVAL;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, backlog) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int
open_listener(const struct opts *o)
{
	int accepting = 0;
	socklen_t len = sizeof(accepting);

	if (o->listen == NULL) {
		/* FastCGI convention: the listening socket is fd 0. */
		if (getsockopt(
		        0, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 ||
		    !accepting) {
			fprintf(stderr,
			    "fcgilab-mux: fd 0 is not a listening socket "
			    "(start it with spawn-fcgi, or use --listen)\n");
			return -1;
		}
		return 0;
	}
	if (o->listen[0] == '/' || strchr(o->listen, ':') == NULL)
		return listen_unix(o->listen, o->backlog, o->mode);
	return listen_tcp(o->listen, o->backlog);
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
	struct opts o = {
	    NULL, 4096, 0660, 2, 1024, NULL, NULL, UPLOAD_DEFAULT_MAX_BYTES};
	struct upload_config ucfg;
	struct payloads *payloads = NULL;
	struct uploads *uploads = NULL;
	struct jobs_api *jobs = NULL;
	struct jobs_tasks tasks;
	char err[JOBSTORE_ERR_MAX];
	enum secret_source src;
	struct secret secret;
	struct offload_pool *pool = NULL;
	struct ev_loop *loop = NULL;
	struct mux_config cfg;
	struct mux *m = NULL;
	long nofile;
	int lfd, rc = 1;

	nofile = ev_raise_nofile();
	mux_config_init(&cfg, nofile > 0 ? (unsigned)nofile : 1024);
	if (parse_args(argc, argv, &cfg, &o) != 0)
		return 2;
	/* first: it masks the URL's password in our argv */
	if (secret_load(&secret, o.password_file, o.queue, err, sizeof(err)) !=
	    SECRET_OK) {
		fprintf(stderr, "fcgilab-mux: jobs: %s\n", err);
		return 2;
	}
	src = secret.source;
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = open_listener(&o)) < 0) {
		if (o.listen != NULL)
			fprintf(stderr,
			    "fcgilab-mux: cannot listen on %s: %s\n", o.listen,
			    strerror(errno));
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
	if (o.queue != NULL) {
		jobs_tasks_init(&tasks, &cfg.app);
		stats_task_add(
		    &tasks, NULL); /* validated here, run by workers */
		jobs = jobs_api_new(m, &tasks, o.queue,
		    secret_password(&secret), err, sizeof(err));
		secret_wipe(&secret); /* the store has its own copy */
		if (jobs == NULL) {
			fprintf(stderr, "fcgilab-mux: jobs: %s\n", err);
			goto out;
		}
	}
	ucfg.dir = o.uploads;
	ucfg.max_bytes = o.max_upload;
	if ((payloads = payloads_new(m)) == NULL ||
	    (uploads = uploads_new(m, jobs, pool, &ucfg, err, sizeof(err))) ==
	        NULL) {
		fprintf(stderr, "fcgilab-mux: uploads: %s\n",
		    payloads ? err : strerror(errno));
		goto out;
	}
	ev_signal(loop, sigs, 2, on_signal, m);
	fprintf(stderr, "fcgilab-mux: ready%s%s%s\n",
	    src != SECRET_NONE ? " (Redis password from " : "",
	    src != SECRET_NONE ? secret_source_name(src) : "",
	    src != SECRET_NONE ? ")" : "");
	while (!mux_done(m))
		if (ev_run_once(loop, -1) != EV_OK) {
			fprintf(stderr, "fcgilab-mux: epoll: %s\n",
			    strerror(errno));
			goto out;
		}
	rc = 0;
out:
	secret_wipe(&secret);
	if (m != NULL)
		mux_free(m);
	jobs_api_free(jobs); /* after the requests detached */
	offload_free(pool);
	uploads_free(uploads); /* after the pool's last callbacks */
	payloads_free(payloads);
	if (loop != NULL)
		ev_free(loop);
	return rc;
}
