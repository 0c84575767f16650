/*
 * app — the HTTP API of fcgilab as pure logic: routing, query validation
 * and JSON bodies, written once and linked by every backend.
 *
 * Contract:
 *  - No I/O, no clock, no sleeping, no globals. The caller passes the CGI
 *    facts of one request and receives a decision.
 *  - A decision says WHAT to do: reply now, reply after S seconds, or reply
 *    with the CPU work for N. HOW is the server's business: the sync
 *    responder blocks, the mux arms a timer or uses its thread pool. Routes
 *    marked APP_ON_LOOP ask the mux to do it the wrong way on purpose.
 *  - A server states which routes it serves (a mask of APP_SRV_*); a route
 *    served elsewhere is 404 here, exactly as an unknown path.
 *  - Operator views (the job list, /metrics) are decided here too: a
 *    client that is neither on loopback nor presents the operator's
 *    bearer token gets 401 {"detail":"Not authenticated"} with
 *    WWW-Authenticate: Bearer, as FastAPI's HTTPBearer answers.
 *  - Errors have FastAPI's current shapes (pydantic v2): 422 with a
 *    "detail" list, 404 {"detail":"Not Found"}, 405 {"detail":"Method Not
 *    Allowed"} with Allow. Error bodies are always JSON. As in FastAPI, a
 *    route with a trailing slash added is a 307 to the route.
 *  - struct app_decision owns its body and headers (malloc'd);
 *    app_decision_free() releases them. Functions return -1 only when
 *    memory runs out.
 */
#ifndef FCGILAB_APP_H
#define FCGILAB_APP_H

#include <stddef.h>

struct json_t; /* jansson's json_t */

enum app_route {
	APP_R_NONE, /* no route matched */
	APP_R_ROOT,
	APP_R_WAIT,
	APP_R_CPU,
	APP_R_WAIT_ASYNC,
	APP_R_WAIT_ASYNC_BLOCKING,
	APP_R_CPU_ASYNC,
	APP_R_CPU_ASYNC_BLOCKING,
	APP_R_METRICS,
	APP_R_JOBS,          /* GET (list), POST (enqueue) /jobs */
	APP_R_JOB,           /* GET, DELETE /jobs/ID */
	APP_R_ITEMS,         /* GET /items: pages of the dataset */
	APP_R_EXPORT_CSV,    /* GET /export.csv: streamed */
	APP_R_EXPORT_NDJSON, /* GET /export.ndjson: streamed */
	APP_R_UPLOAD,        /* POST /upload */
	APP_R_UPLOADS,       /* POST /uploads?process=…: upload, then a job */
	APP_R_UPLOAD_ID,     /* GET, DELETE /uploads/ID */
	APP_R__MAX
};

/* Which process serves a route. The lesson's mistakes (the *_blocking
 * routes, which block the mux's loop on purpose) are a server of their
 * own: the mux adds APP_SRV_MISTAKES only when told to (a lab), so
 * anywhere else they are 404 like any unknown path. */
#define APP_SRV_SYNC     0x1u
#define APP_SRV_MUX      0x2u
#define APP_SRV_MISTAKES 0x4u

enum app_action {
	APP_REPLY,  /* reply now: status, body */
	APP_WAIT,   /* wait secs, then app_wait_body() with status 200 */
	APP_CPU,    /* compute cpu_count_primes(n), then app_cpu_body() */
	APP_SERVER, /* the server answers itself (e.g. /metrics) */
};

/* How the work should be done, for servers that have a choice. */
enum app_how {
	APP_OFF_LOOP, /* the right way: timer / thread pool / blocking worker */
	APP_ON_LOOP,  /* the mistake: block the event loop */
};

struct app_config {
	double max_secs; /* upper bound for secs (default 60) */
	long long max_n; /* upper bound for n (default 10,000,000) */
	/* The operator views (GET /jobs, the list; /metrics) answer loopback
	 * clients, and others only with "Authorization: Bearer <token>" when
	 * a token is set (NULL: loopback only). Not owned. */
	const char *operator_token;
};

#define APP_DEFAULT_MAX_SECS 60.0
#define APP_DEFAULT_MAX_N    10000000LL

void app_config_init(struct app_config *cfg);

/* The CGI facts of one request; any of them may be NULL. The path is
 * SCRIPT_NAME followed by PATH_INFO, both already URL-decoded by the front
 * end (lighttpd, nginx and cgi-fcgi all split it that way). */
struct app_request {
	const char *method;        /* REQUEST_METHOD */
	const char *script_name;   /* SCRIPT_NAME */
	const char *path_info;     /* PATH_INFO */
	const char *query;         /* QUERY_STRING, raw */
	const char *remote_addr;   /* REMOTE_ADDR: the HTTP client */
	const char *authorization; /* HTTP_AUTHORIZATION */
};

struct app_decision {
	enum app_route route;
	enum app_action action;
	enum app_how how;
	int status;    /* APP_REPLY */
	char *headers; /* APP_REPLY: extra "Name: value\r\n" lines or NULL
	                  (Allow for a 405, Location for a 307); malloc'd */
	char *body;    /* APP_REPLY: JSON or NULL (307), malloc'd */
	size_t body_len;
	double secs;      /* APP_WAIT */
	long long n;      /* APP_CPU */
	char *path_param; /* prefix routes: the segment after the prefix
	                     (the ID of /jobs/ID), malloc'd */
};

/* Route and validate one request. Returns 0, or -1 on ENOMEM. */
int app_decide(const struct app_config *cfg, unsigned served,
    const struct app_request *req, struct app_decision *d);
void app_decision_free(struct app_decision *d);

/* The 200 bodies of the deferred actions, malloc'd; NULL on ENOMEM. */
char *app_wait_body(double secs, size_t *lenp);
char *app_cpu_body(long long n, unsigned long result, size_t *lenp);

/* Room for any body the two below write, NUL included. */
#define APP_BODY_MAX 96

/* The same bodies, byte for byte, written into the caller's buffer
 * without jansson or allocation (the mux's hot path). Return the length;
 * 0 for a secs that is not finite (no JSON number: app_wait_body gives
 * NULL for it too). */
size_t app_wait_body_text(double secs, char buf[APP_BODY_MAX]);
size_t app_cpu_body_text(
    long long n, unsigned long result, char buf[APP_BODY_MAX]);

/* A numeric query parameter as the original app declares it:
 * `name: float|int = Query(default?, ge=lo, le=hi)`. */
struct app_param {
	const char *name;
	int is_float;    /* float (else int) */
	double lo, hi;   /* inclusive bounds (ge, le) */
	int has_default; /* missing is fine: dflt */
	double dflt;
};

enum app_param_result {
	APP_PARAM_OK,      /* *out holds the value */
	APP_PARAM_INVALID, /* *err holds pydantic's error (apijson.h) */
	APP_PARAM_ENOMEM,
};

/* Validate one query parameter as pydantic does (last value wins, the
 * same parsing, bounds and error shapes as /wait's secs). For modules of
 * the servers with routes of their own (jobs, exports, pages). */
enum app_param_result app_query_param(const char *query,
    const struct app_param *p, double *out, struct json_t **err);

/* Route name for logs and metrics labels ("wait_async", …). */
const char *app_route_name(enum app_route r);

/* Reason phrase for a status code ("OK", "Not Found", …). */
const char *app_reason(int status);

/* content_length for a streamed answer: no Content-Length header. */
#define APP_NO_LENGTH ((size_t)-1)

/* Room for any head app_cgi_head writes for a decision of app_decide(). */
#define APP_HEAD_MAX 32768

/*
 * Write a CGI response head (Status, Content-Type, Content-Length, any
 * extra header lines, blank line) into buf. extra is NULL or a string of
 * complete "Name: value\r\n" lines. Returns the length, or 0 if it does
 * not fit in cap.
 */
size_t app_cgi_head(char *buf, size_t cap, int status, const char *content_type,
    size_t content_length, const char *extra);

#endif
