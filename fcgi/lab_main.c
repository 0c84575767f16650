/*
 * fcgilab-lab — the runner behind the live page /lab/: starts one
 * `fcgilab compare` at a time on the server's side and says where its
 * files are; lighttpd serves the files (STATE/lab/runs/ID/) and the page
 * polls them as the run fills them in.
 *
 * Why on the server: a browser opens at most 6 connections per host over
 * HTTP/1.1, so 100 requests sent by the page would go 6 at a time and the
 * browser would be the bottleneck. The runner adds no load of its own:
 * compare's send_many is the load client; the runner only forks it and
 * answers the page's few small requests, on a socket of its own.
 *
 *  - A libfcgi responder, one request at a time, spawned by lighttpd
 *    (fastcgi "bin-path", the lab block of lighttpd.conf.in) on fd 0.
 *  - Routes (under /lab/api/; JSON answers, errors as {"detail":…}):
 *      GET  stack             the stack's pool size and the run going on
 *      GET  runs              the run going on and the runs kept
 *      POST runs              start a run (labreq.h checks the body):
 *                             202 {"id","files"}; 409 while one runs
 *      POST runs/ID/stop      stop the run going on: 202; 404 otherwise
 *    A POST without Content-Type: application/json is a 415: a web page
 *    from elsewhere cannot make the browser send one without a CORS
 *    preflight, which nothing here answers.
 *  - The run is `fcgilab compare` in a process group of its own (setsid),
 *    stdout and stderr in its directory; it is reaped before each request
 *    is answered. The newest LAB_KEEP run directories are kept.
 *  - SIGTERM/SIGINT (lighttpd stopping): stop the run (its compare stops
 *    the stacks it started), wait for it (bounded), exit 0.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "labreq.h"

#define LAB_KEEP     10
#define LAB_ID_LEN   24 /* "YYYYmmdd-HHMMSS-xxxxxxxx" */
#define STOP_WAIT_MS 20000

static volatile sig_atomic_t stopping;

struct lab {
	const char *fcgilab, *state;
	char runs[4096];
	pid_t child;             /* the run going on, or 0 */
	char id[LAB_ID_LEN + 1]; /* its id */
};

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* --- answers ---------------------------------------------------------------
 */

/* The answer, text already JSON. (libfcgi's own FCGX_FPrintF knows no
 * %zu: format here, then put the bytes.) */
static void
reply_text(FCGX_Request *rq, int status, const char *reason, const char *text)
{
	char head[256];
	int n;

	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\nContent-Type: application/json\r\n"
	    "Cache-Control: no-store\r\nContent-Length: %zu\r\n\r\n",
	    status, reason, strlen(text));
	if (n > 0 && n < (int)sizeof(head))
		FCGX_PutStr(head, n, rq->out);
	FCGX_PutStr(text, (int)strlen(text), rq->out);
}

static void
reply(FCGX_Request *rq, int status, const char *reason, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	reply_text(rq, status, reason, text ? text : "{}");
	free(text);
	json_decref(body);
}

static void
detail(FCGX_Request *rq, int status, const char *reason, const char *msg)
{
	reply(rq, status, reason, json_pack("{s:s}", "detail", msg));
}

/* --- the run
 * ------------------------------------------------------------------ */

/* Reap the run if it ended. */
static void
reap(struct lab *lab)
{
	int st;

	if (lab->child > 0 && waitpid(lab->child, &st, WNOHANG) == lab->child)
		lab->child = 0;
}

static int
new_id(char id[LAB_ID_LEN + 1])
{
	unsigned char r[4];
	char buf[96];
	struct tm tm;
	time_t now = time(NULL);

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r) ||
	    gmtime_r(&now, &tm) == NULL)
		return -1;
	if (snprintf(buf, sizeof(buf),
	        "%04d%02d%02d-%02d%02d%02d-%02x%02x%02x%02x", tm.tm_year + 1900,
	        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	        r[0], r[1], r[2], r[3]) != LAB_ID_LEN)
		return -1;
	memcpy(id, buf, LAB_ID_LEN + 1);
	return 0;
}

/* Only names this runner makes: digits, '-', lowercase hex. */
static int
is_id(const char *s)
{
	size_t i;

	if (strlen(s) != LAB_ID_LEN)
		return 0;
	for (i = 0; i < LAB_ID_LEN; i++)
		if (i == 8 || i == 15 ? s[i] != '-'
		                      : !((s[i] >= '0' && s[i] <= '9') ||
		                            (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0; /* go on: remove what can be removed */
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a); /* newest first */
}

/* The kept runs' ids, newest first: a malloc'd array of *n strings. */
static char **
list_runs(const struct lab *lab, size_t *n)
{
	DIR *d = opendir(lab->runs);
	struct dirent *e;
	char **v = NULL, **grown;
	size_t cap = 0;

	*n = 0;
	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (!is_id(e->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grown = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = grown;
		}
		if ((v[*n] = strdup(e->d_name)) != NULL)
			++*n;
	}
	closedir(d);
	if (v != NULL)
		qsort(v, *n, sizeof(*v), cmp_names);
	return v;
}

static void
free_list(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

/* Keep the newest LAB_KEEP - 1 (the next run makes LAB_KEEP). */
static void
prune(const struct lab *lab)
{
	char path[4200];
	size_t n, i;
	char **v = list_runs(lab, &n);

	for (i = LAB_KEEP - 1; v != NULL && i < n; i++) {
		if (strcmp(v[i], lab->id) == 0 && lab->child > 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", lab->runs, v[i]);
		nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	}
	free_list(v, n);
}

/* The run's status.json until compare writes its own: the page polls it
 * from the moment it has the id. */
static int
first_status(const char *dir)
{
	static const char text[] =
	    "{\"state\":\"starting\",\"message\":\"starting the run\","
	    "\"runs\":[],\"timeout\":0}\n";
	char path[4200];
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/status.json", dir) >=
	        (int)sizeof(path) ||
	    (f = fopen(path, "wx")) == NULL)
		return -1;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -1;
}

/* In the child: the run's stdio in its directory, nothing else open. */
static void
exec_run(char **argv, const char *dir)
{
	char path[4200];
	int fd, max = (int)sysconf(_SC_OPEN_MAX);

	setsid();
	if ((fd = open("/dev/null", O_RDONLY)) >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	if (snprintf(path, sizeof(path), "%s/compare.out", dir) <
	        (int)sizeof(path) &&
	    (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0) {
		dup2(fd, 1);
		close(fd);
	}
	if (snprintf(path, sizeof(path), "%s/compare.err", dir) <
	        (int)sizeof(path) &&
	    (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0) {
		dup2(fd, 2);
		close(fd);
	}
	for (fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		close(fd);
	signal(SIGPIPE, SIG_DFL);
	execv(argv[0], argv);
	_exit(127);
}

static void
start_run(struct lab *lab, FCGX_Request *rq, const char *body, size_t len)
{
	struct labreq req;
	char *err = NULL, dir[4200], id[LAB_ID_LEN + 1], **argv;
	int status;
	pid_t pid;

	if (labreq_parse(body, len, &req, &err, &status) != 0) {
		reply_text(rq, status,
		    status == 413 ? "Content Too Large"
		                  : "Unprocessable Content",
		    err ? err : "{\"detail\":\"out of memory\"}");
		free(err);
		return;
	}
	if (lab->child > 0) {
		reply(rq, 409, "Conflict",
		    json_pack("{s:s,s:s}", "detail",
		        "a run is going on; wait for it or stop it", "id",
		        lab->id));
		return;
	}
	if (new_id(id) != 0 ||
	    snprintf(dir, sizeof(dir), "%s/%s", lab->runs, id) >=
	        (int)sizeof(dir) ||
	    mkdir(dir, 0755) != 0 || first_status(dir) != 0) {
		detail(rq, 500, "Internal Server Error",
		    "could not make the run's directory");
		return;
	}
	if ((argv = labreq_argv(&req, lab->fcgilab, lab->state, dir)) == NULL) {
		detail(rq, 500, "Internal Server Error", "out of memory");
		return;
	}
	pid = fork();
	if (pid == 0)
		exec_run(argv, dir);
	labreq_argv_free(argv);
	if (pid < 0) {
		detail(rq, 500, "Internal Server Error",
		    "could not start the run");
		return;
	}
	lab->child = pid;
	memcpy(lab->id, id, sizeof(id));
	prune(lab);
	reply(rq, 202, "Accepted",
	    json_pack("{s:s,s:s++}", "id", id, "files", "/lab/runs/", id, "/"));
}

/* Stop the run: SIGTERM to its group (compare stops its stacks), then
 * wait up to ms; SIGKILL what is left. */
static void
stop_run(struct lab *lab, int ms)
{
	int st, waited;

	if (lab->child <= 0)
		return;
	kill(-lab->child, SIGTERM);
	for (waited = 0; waited < ms; waited += 50) {
		if (waitpid(lab->child, &st, WNOHANG) == lab->child) {
			lab->child = 0;
			return;
		}
		usleep(50000);
	}
	kill(-lab->child, SIGKILL);
	waitpid(lab->child, &st, 0);
	lab->child = 0;
}

/* --- routes -----------------------------------------------------------------
 */

static void
get_stack(struct lab *lab, FCGX_Request *rq)
{
	char path[4200], buf[32] = "";
	long pool = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/pool", lab->state);
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL)
			pool = strtol(buf, NULL, 10);
		fclose(f);
	}
	reply(rq, 200, "OK",
	    json_pack("{s:i,s:o}", "pool", (int)pool, "running",
	        lab->child > 0 ? json_string(lab->id) : json_null()));
}

static void
get_runs(struct lab *lab, FCGX_Request *rq)
{
	json_t *arr = json_array();
	size_t n, i;
	char **v = list_runs(lab, &n);

	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, json_string(v[i]));
	free_list(v, n);
	reply(rq, 200, "OK",
	    json_pack("{s:o,s:o}", "running",
	        lab->child > 0 ? json_string(lab->id) : json_null(), "runs",
	        arr ? arr : json_array()));
}

/* The body, up to LABREQ_BODY_MAX + 1 bytes (more is refused anyway). */
static size_t
read_body(FCGX_Request *rq, char *buf, size_t cap)
{
	size_t len = 0;
	int got;

	while (len < cap &&
	    (got = FCGX_GetStr(buf + len, (int)(cap - len), rq->in)) > 0)
		len += (size_t)got;
	return len;
}

/* A POST must say its body is JSON: a form or a plain-text POST, which
 * any web page can make a browser send here without asking, is refused
 * (a page from elsewhere must ask first, in a CORS preflight, to send
 * application/json, and nothing here answers it). */
static int
json_post(FCGX_Request *rq)
{
	const char *ct = FCGX_GetParam("CONTENT_TYPE", rq->envp);

	if (ct != NULL && strncmp(ct, "application/json", 16) == 0 &&
	    (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' '))
		return 1;
	detail(rq, 415, "Unsupported Media Type",
	    "send Content-Type: application/json");
	return 0;
}

static void
serve(struct lab *lab, FCGX_Request *rq)
{
	const char *method = FCGX_GetParam("REQUEST_METHOD", rq->envp);
	const char *script = FCGX_GetParam("SCRIPT_NAME", rq->envp);
	const char *info = FCGX_GetParam("PATH_INFO", rq->envp);
	char path[512], body[LABREQ_BODY_MAX + 1];
	const char *rest;
	size_t len;

	reap(lab);
	snprintf(
	    path, sizeof(path), "%s%s", script ? script : "", info ? info : "");
	if (method == NULL || strncmp(path, "/lab/api/", 9) != 0) {
		detail(rq, 404, "Not Found", "Not Found");
		return;
	}
	rest = path + 9;
	if (strcmp(rest, "stack") == 0 || strcmp(rest, "runs") == 0) {
		if (strcmp(rest, "runs") == 0 && strcmp(method, "POST") == 0) {
			if (!json_post(rq))
				return;
			len = read_body(rq, body, sizeof(body));
			start_run(lab, rq, body, len);
		} else if (strcmp(method, "GET") == 0) {
			(rest[0] == 's' ? get_stack : get_runs)(lab, rq);
		} else {
			FCGX_PutS(rest[0] == 's' ? "Allow: GET\r\n"
			                         : "Allow: GET, POST\r\n",
			    rq->out);
			detail(rq, 405, "Method Not Allowed",
			    "Method Not Allowed");
		}
		return;
	}
	if (strncmp(rest, "runs/", 5) == 0 &&
	    strlen(rest) == 5 + LAB_ID_LEN + 5 &&
	    strcmp(rest + 5 + LAB_ID_LEN, "/stop") == 0) {
		if (strcmp(method, "POST") != 0) {
			FCGX_PutS("Allow: POST\r\n", rq->out);
			detail(rq, 405, "Method Not Allowed",
			    "Method Not Allowed");
		} else if (!json_post(rq)) {
			return;
		} else if (lab->child > 0 &&
		    strncmp(rest + 5, lab->id, LAB_ID_LEN) == 0) {
			stop_run(lab, STOP_WAIT_MS);
			reply(rq, 202, "Accepted",
			    json_pack("{s:s}", "stopped", lab->id));
		} else {
			detail(rq, 404, "Not Found", "no such run going on");
		}
		return;
	}
	detail(rq, 404, "Not Found", "Not Found");
}

/* --- main
 * ---------------------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: fcgilab-lab --fcgilab PATH --state DIR\n"
	    "\n"
	    "The runner behind fcgilab's live page /lab/: starts `fcgilab "
	    "compare`\n"
	    "runs for the page, one at a time, in DIR/lab/runs/. lighttpd "
	    "spawns it\n"
	    "(it accepts FastCGI on fd 0).\n"
	    "\n"
	    "  --fcgilab PATH   the fcgilab command to run\n"
	    "  --state DIR      the stack's state directory\n"
	    "  -h, --help       this text;  -V, --version  the version\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"fcgilab", required_argument, NULL, 'f'},
	    {"state", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
	struct lab lab;
	struct sigaction sa;
	FCGX_Request rq;
	char labdir[4200];
	int c;

	memset(&lab, 0, sizeof(lab));
	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			lab.fcgilab = optarg;
			break;
		case 's':
			lab.state = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("fcgilab-lab " PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (lab.fcgilab == NULL || lab.state == NULL || optind != argc ||
	    lab.fcgilab[0] != '/' || lab.state[0] != '/') {
		usage(stderr);
		return 2;
	}
	snprintf(labdir, sizeof(labdir), "%s/lab", lab.state);
	snprintf(lab.runs, sizeof(lab.runs), "%s/lab/runs", lab.state);
	if ((mkdir(labdir, 0755) != 0 && errno != EEXIST) ||
	    (mkdir(lab.runs, 0755) != 0 && errno != EEXIST)) {
		fprintf(stderr, "fcgilab-lab: cannot make %s: %s\n", lab.runs,
		    strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: accept() must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&rq, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		fprintf(stderr, "fcgilab-lab: libfcgi failed to start\n");
		return 1;
	}
	while (!stopping && FCGX_Accept_r(&rq) >= 0) {
		serve(&lab, &rq);
		FCGX_Finish_r(&rq);
	}
	stop_run(&lab, STOP_WAIT_MS);
	FCGX_Free(&rq, 1);
	return 0;
}
