/*
 * send_many — the lesson's client as a real tool: COUNT concurrent GETs of
 * URL?secs=S, each result printed as it completes, then a summary.
 *
 * This file only wires things together: options (a usage error is one
 * line on stderr and exit 2), name resolution, the fd limit, the request
 * text; sm_run does the I/O, sm_report the printing.
 * Exit status: 0 when every request got a 2xx, 1 otherwise, 2 for usage.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "num.h"
#include "opts.h"
#include "rng.h"
#include "secs.h"
#include "sm_report.h"
#include "sm_run.h"
#include "url.h"

#define COUNT_MAX    10000000 /* 8 bytes of secs + 8 of latency each */
#define CONC_MAX     1000000
#define FD_RESERVE   16 /* stdio, epoll, the CSV file, resolver, slack */
#define ADDRS_MAX    8
#define BODY_MAX     ((uint64_t)4 << 30) /* counted, never stored */
#define DEFAULT_URL  "http://localhost:8000/wait"
#define DEFAULT_SECS "1..10"
#define URL_SECS_MAX 32
#define POST_MAX     4096 /* bytes of a --post template */
#define SECS_MARK    "{secs}"

struct opts {
	const char *url;
	size_t count, concurrency; /* concurrency 0: all at once */
	const char *secs_text;     /* NULL: not given */
	bool no_secs, keepalive, quiet, json, seed_given;
	uint64_t seed;
	double timeout;
	const char *csv;
	const char *post; /* --post BODY, or NULL for GETs */
};

__attribute__((format(printf, 1, 2), noreturn)) static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("send_many: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see send_many --help)\n", stderr);
	exit(2);
}

/* The options, their limits and their help: one line each (opts.h). */
static void
parse_args(int argc, char **argv, struct opts *o)
{
	const char *seed = NULL;
	const struct opt table[] = {
	    {"count", 'n', OPT_INT, &o->count, sizeof(size_t), 1, COUNT_MAX,
	        "N", "requests to send"},
	    {"concurrency", 'c', OPT_INT, &o->concurrency, sizeof(size_t), 1,
	        CONC_MAX, "C", "connections at once; by default all at once"},
	    {"secs", 0, OPT_STRING, &o->secs_text, 0, 0, 0, "A..B|S",
	        "random secs per request (integers if A and B are, else 2 "
	        "decimals), or the same S for every one; by "
	        "default " DEFAULT_SECS},
	    {"no-secs", 0, OPT_FLAG, &o->no_secs, sizeof(bool), 0, 0, NULL,
	        "send URL as is (static files, /)"},
	    {"seed", 0, OPT_STRING, &seed, 0, 0, 0, "N",
	        "seed of the secs, as Python's random.seed(N); by default "
	        "random, printed"},
	    {"timeout", 0, OPT_FLOAT, &o->timeout, 0, 0.001, 86400, "T",
	        "seconds per request from its intended start"},
	    {"keepalive", 0, OPT_FLAG, &o->keepalive, sizeof(bool), 0, 0, NULL,
	        "reuse connections when -c < -n (HTTP/1.1 keep-alive)"},
	    {"post", 0, OPT_STRING, &o->post, 0, 0, 0, "BODY",
	        "POST BODY as JSON instead of GET; \"{secs}\" in it is "
	        "replaced by each request's secs"},
	    {"quiet", 'q', OPT_FLAG, &o->quiet, sizeof(bool), 0, 0, NULL,
	        "print the summary only"},
	    {"json", 0, OPT_FLAG, &o->json, sizeof(bool), 0, 0, NULL,
	        "print only a JSON summary on stdout"},
	    {"csv", 0, OPT_STRING, &o->csv, 0, 0, 0, "FILE",
	        "write one row per request to FILE"},
	};
	const struct opts_prog prog = {"send_many", "[OPTIONS] [URL]",
	    "Send COUNT concurrent GET requests to URL?secs=S and print each "
	    "result\nas it completes, then a summary (the lesson's "
	    "send_many.py, in C).\nURL: by default " DEFAULT_URL ".\n",
	    "Latency is measured from each request's intended start. Exit "
	    "status:\n0 when every request got a 2xx, 1 otherwise, 2 for usage "
	    "errors.\n",
	    table, sizeof(table) / sizeof(table[0]), 1};
	long long v;
	int at;

	memset(o, 0, sizeof(*o));
	o->url = DEFAULT_URL;
	o->count = 100;
	o->timeout = 60;
	switch (opts_parse(&prog, argc, argv, &at)) {
	case OPTS_OK:
		break;
	case OPTS_EXIT:
		exit(0);
	case OPTS_BAD:
		exit(2);
	}
	if (at < argc)
		o->url = argv[at];
	if (seed != NULL) {
		if (num_parse_int(seed, strlen(seed), &v) != NUM_OK || v < 0 ||
		    v >= INT64_MAX)
			usage_error(
			    "--seed needs a whole number from 0 to %lld, "
			    "not '%s'",
			    (long long)INT64_MAX - 1, seed);
		o->seed = (uint64_t)v;
		o->seed_given = true;
	}
	if (o->post != NULL && strlen(o->post) > POST_MAX)
		usage_error("--post: the body is over %d bytes", POST_MAX);
	if (o->no_secs && o->secs_text != NULL)
		usage_error("--secs and --no-secs exclude each other");
}

/* Resolve once, at start; a failure is a usage error (exit 2). */
static size_t
resolve(const struct url *u, struct sm_addr *addrs)
{
	struct addrinfo hints, *res, *ai;
	size_t n = 0;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (u->ipv6 ? AI_NUMERICHOST : 0);
	rc = getaddrinfo(u->host, u->port_text, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "send_many: cannot resolve host '%s': %s\n",
		    u->host, gai_strerror(rc));
		exit(2);
	}
	for (ai = res; ai != NULL && n < ADDRS_MAX; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(addrs[n].ss))
			continue;
		memcpy(&addrs[n].ss, ai->ai_addr, ai->ai_addrlen);
		addrs[n++].len = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (n == 0) {
		fprintf(
		    stderr, "send_many: host '%s' has no address\n", u->host);
		exit(2);
	}
	return n;
}

/* Whether one connection to addr completes within ms: 0, or an errno. */
static int
try_connect(const struct sm_addr *addr, int ms)
{
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, err = 0;

	fd = socket(
	    addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0) {
		err = errno;
		if (err == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, ms) != 1)
				err = ETIMEDOUT;
			else if (getsockopt(
			             fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
				err = errno;
		}
	}
	close(fd);
	return err;
}

/* An unreachable server is a usage error (exit 2), said in one line,
 * not COUNT refused requests: try one connection first (3 s at most). */
static void
check_reachable(const struct url *u, const struct sm_addr *addrs, size_t n)
{
	int err = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if ((err = try_connect(&addrs[i], 3000)) == 0)
			return;
	fprintf(stderr, "send_many: cannot connect to %s:%s: %s\n", u->host,
	    u->port_text, strerror(err));
	exit(2);
}

/* Raise the soft fd limit to the hard one and check conns fit. */
static void
check_fds(size_t conns)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur != RLIM_INFINITY && conns + FD_RESERVE > rl.rlim_cur) {
		fprintf(stderr,
		    "send_many: %zu connections at once need %zu file "
		    "descriptors but the limit is %llu (ulimit -Hn); lower "
		    "-c\n",
		    conns, conns + FD_RESERVE, (unsigned long long)rl.rlim_cur);
		exit(2);
	}
}

static uint64_t
random_seed(void)
{
	uint32_t x;

	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != (ssize_t)sizeof(x))
		x = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
	return x;
}

/* Everything the run needs, derived from the options. */
struct plan {
	struct url url;
	struct secs_spec spec;
	double *secs; /* per request, NULL without secs */
	char url_secs[URL_SECS_MAX + 4];
	bool url_has_secs;
	struct sm_addr addrs[ADDRS_MAX];
	size_t naddrs;
	char *head, *mid, *tail;
	size_t body_fixed; /* --post: the body's bytes besides the secs */
};

static void
plan_secs(struct opts *o, struct plan *pl)
{
	const char *v;
	size_t vlen, i;
	enum secs_result e;
	struct rng rng;

	pl->url_has_secs = url_query_get(pl->url.target, "secs", &v, &vlen);
	if (pl->url_has_secs && o->secs_text != NULL)
		usage_error("the URL already has secs; drop it or --secs");
	if (pl->url_has_secs && !o->no_secs)
		snprintf(pl->url_secs, sizeof(pl->url_secs), "%.*s%s",
		    (int)(vlen > URL_SECS_MAX ? URL_SECS_MAX : vlen), v,
		    vlen > URL_SECS_MAX ? "..." : "");
	if (o->no_secs || pl->url_has_secs)
		return;
	if (o->secs_text == NULL)
		o->secs_text = DEFAULT_SECS;
	if ((e = secs_parse(o->secs_text, &pl->spec)) != SECS_OK)
		usage_error("--secs '%s': %s", o->secs_text, secs_strerror(e));
	if (!o->seed_given)
		o->seed = random_seed();
	pl->secs = malloc(o->count * sizeof(*pl->secs));
	if (pl->secs == NULL) {
		fputs("send_many: out of memory\n", stderr);
		exit(1);
	}
	rng_seed(&rng, o->seed);
	for (i = 0; i < o->count; i++)
		pl->secs[i] = secs_draw(&pl->spec, &rng);
}

static char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fputs("send_many: out of memory\n", stderr);
		exit(1);
	}
	return s;
}

/* --post: "POST target", the body around {secs} as mid and tail. */
static void
plan_post(const struct opts *o, struct plan *pl, const char *close)
{
	const char *mark = strstr(o->post, SECS_MARK);
	size_t pre = mark != NULL ? (size_t)(mark - o->post) : strlen(o->post);

	if (pl->secs != NULL && mark == NULL)
		usage_error("--post needs \"%s\" where the secs go, or "
		            "--no-secs",
		    SECS_MARK);
	if (pl->secs == NULL && mark != NULL)
		usage_error(
		    "--post has \"%s\" but requests carry no secs", SECS_MARK);
	pl->head = xasprintf("POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
	                     "send_many/%s\r\nAccept: */*\r\nContent-Type: "
	                     "application/json\r\n%sContent-Length: ",
	    pl->url.target, pl->url.authority, PACKAGE_VERSION, close);
	pl->mid = xasprintf("\r\n\r\n%.*s", (int)pre, o->post);
	pl->tail =
	    xasprintf("%s", mark != NULL ? mark + strlen(SECS_MARK) : "");
	pl->body_fixed =
	    strlen(o->post) - (mark != NULL ? strlen(SECS_MARK) : 0);
}

static void
plan_run(struct opts *o, struct plan *pl)
{
	enum url_result ue;
	/* HTTP/1.1 is persistent by default (RFC 9112 §9.3); without
	 * --keepalive each request asks for its own connection. */
	const char *close = o->keepalive ? "" : "Connection: close\r\n";

	memset(pl, 0, sizeof(*pl));
	if ((ue = url_parse(o->url, &pl->url)) != URL_OK)
		usage_error("bad URL '%s': %s", o->url, url_strerror(ue));
	plan_secs(o, pl);
	if (o->post != NULL) {
		plan_post(o, pl, close);
	} else {
		pl->head = xasprintf("GET %s%s", pl->url.target,
		    pl->secs == NULL                    ? ""
		        : url_has_query(pl->url.target) ? "&secs="
		                                        : "?secs=");
		pl->mid = xasprintf("%s", "");
		pl->tail = xasprintf(" HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
		                     "send_many/%s\r\nAccept: */*\r\n%s\r\n",
		    pl->url.authority, PACKAGE_VERSION, close);
	}
	pl->naddrs = resolve(&pl->url, pl->addrs);
}

static void
fill_info(const struct opts *o, const struct plan *pl, struct smr_info *in)
{
	memset(in, 0, sizeof(*in));
	in->url = o->url;
	in->count = o->count;
	in->unlimited = o->concurrency == 0 || o->concurrency >= o->count;
	in->concurrency = in->unlimited ? o->count : o->concurrency;
	in->keepalive = o->keepalive;
	in->secs = pl->secs;
	in->secs_text = pl->secs != NULL ? o->secs_text : NULL;
	in->secs_mode = pl->secs == NULL  ? (pl->url_secs[0] ? "url" : "none")
	    : pl->spec.mode == SECS_FIXED ? "fixed"
	                                  : "range";
	in->url_secs = pl->url_secs[0] ? pl->url_secs : NULL;
	in->seed = o->seed;
	in->seed_given = o->seed_given;
	in->timeout = o->timeout;
}

static void
setup_output(const struct opts *o, struct sm_report *r)
{
	static char outbuf[1 << 16];

	r->out_is_tty = isatty(STDOUT_FILENO);
	if (!r->out_is_tty) /* results are many: write them in blocks */
		setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	r->lines = !o->quiet && !o->json;
	r->tty = isatty(STDERR_FILENO) ? stderr : NULL;
	if (o->csv != NULL) {
		r->csv = fopen(o->csv, "w");
		if (r->csv == NULL) {
			fprintf(stderr, "send_many: cannot write '%s': %s\n",
			    o->csv, strerror(errno));
			exit(2);
		}
		/* a row a line, at once: a reader sees the run fill in */
		setvbuf(r->csv, NULL, _IOLBF, 0);
		smr_csv_header(r->csv);
	}
}

static void
fill_params(const struct opts *o, const struct plan *pl,
    const struct smr_info *info, struct sm_report *rep, struct sm_params *p)
{
	memset(p, 0, sizeof(*p));
	p->addrs = pl->addrs;
	p->naddrs = pl->naddrs;
	p->head = pl->head;
	p->head_len = strlen(pl->head);
	p->mid = pl->mid;
	p->mid_len = strlen(pl->mid);
	p->content_length = o->post != NULL;
	p->body_fixed = pl->body_fixed;
	p->tail = pl->tail;
	p->tail_len = strlen(pl->tail);
	p->secs = pl->secs;
	p->count = o->count;
	p->concurrency = info->concurrency;
	p->timeout = o->timeout;
	p->keepalive = o->keepalive;
	p->body_max = BODY_MAX;
	p->on_result = smr_on_result;
	p->on_progress = rep->tty != NULL ? smr_on_progress : NULL;
	p->arg = rep;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct plan pl;
	struct smr_info info;
	struct sm_report rep;
	struct sm_params p;
	char err[SM_ERR_LEN];
	int status;

	parse_args(argc, argv, &o);
	plan_run(&o, &pl);
	check_reachable(&pl.url, pl.addrs, pl.naddrs);
	fill_info(&o, &pl, &info);
	check_fds(info.concurrency);
	smr_init(&rep, &info);
	setup_output(&o, &rep);
	fill_params(&o, &pl, &info, &rep, &p);
	if (rep.lines)
		smr_header(&rep);
	if (sm_run(&p, &rep.wall, err) != SM_RUN_OK) {
		smr_progress_clear(&rep);
		fprintf(stderr, "send_many: %s\n", err);
		return 1;
	}
	smr_progress_clear(&rep);
	if (o.json ? smr_summary_json(&rep, stdout) != 0
	           : (smr_summary_text(&rep), 0))
		fputs("send_many: could not write the JSON summary\n", stderr);
	status = rep.ok == o.count ? 0 : 1;
	if (rep.csv != NULL && fclose(rep.csv) != 0) {
		fprintf(stderr, "send_many: writing '%s' failed\n", o.csv);
		status = 1;
	}
	if (fflush(stdout) != 0)
		status = 1;
	smr_free(&rep);
	free(pl.secs);
	free(pl.head);
	free(pl.mid);
	free(pl.tail);
	return status;
}
