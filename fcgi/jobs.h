/*
 * jobs — background jobs as pure logic: the task registry, validation of
 * POST /jobs bodies and of GET /jobs queries, job records and their JSON,
 * job ids and page cursors. Shared by the mux (mod_jobs), the worker
 * (fcgilab-worker) and the stores (jobstore_*.c).
 *
 * Contract:
 *  - No I/O, no clock, no globals. Random bytes (ids) and times (records)
 *    come from the caller.
 *  - Errors have FastAPI's current shapes (pydantic v2), as app.h's do:
 *      body not JSON   422 json_invalid, loc ["body", pos], input {},
 *                      ctx {"error": Python's json message} (the message
 *                      and position follow Python's for the usual cases;
 *                      jansson finds the error, so rare ones differ);
 *                      a body that is not UTF-8: 400 "There was an error
 *                      parsing the body" (Starlette's json() raises a
 *                      UnicodeDecodeError there, which FastAPI maps so).
 *      wrong Content-Type  FastAPI does not parse it as JSON and pydantic
 *                      refuses the bytes: 422 model_attributes_type with
 *                      loc ["body"] and the body text as input. A missing
 *                      Content-Type is read as JSON, as FastAPI does.
 *      empty body      422 missing, loc ["body"], input null.
 *      not an object   422 model_attributes_type, loc ["body"].
 *      fields          loc ["body", name]: missing (input: the whole
 *                      body), float_type / float_parsing, int_type /
 *                      int_parsing / int_from_float, greater_than_equal
 *                      / less_than_equal with ctx (le checked first), and
 *                      literal_error for an unknown task (then no other
 *                      field is checked: the task says which fields exist).
 *                      Unknown fields are ignored, as pydantic does.
 *      query           loc ["query", name]: status is a literal_error,
 *                      limit as app_query_param, a cursor that does not
 *                      decode, or was made for another status filter, is a
 *                      value_error ("ctx":{"error":{}}, as FastAPI
 *                      serialises the exception).
 *      path            a job id that is not 32 lowercase hex digits is a
 *                      422 string_pattern_mismatch at loc ["path","job_id"].
 *    Bodies larger than JOBS_MAX_BODY are the caller's 413.
 *  - A task is validated by its registry entry: the built-in "wait" and
 *    "cpu" take the fields, bounds and error shapes of /wait's secs and
 *    /cpu's n (struct app_config's maxima). Other modules add tasks with
 *    jobs_tasks_add() (validate in every process; run only in workers).
 *  - Cursors are opaque: base64url (no padding) of a version byte, the
 *    status filter, (created_us, id) of the last job shown, and a
 *    checksum. A garbled or truncated cursor never decodes; a forged one
 *    that does is only a position in the list.
 *  - Memory: strings in struct jobs_record / jobs_new are malloc'd and
 *    owned by the struct (jobs_record_free, jobs_new_free). Functions
 *    returning char * return malloc'd text (NULL: out of memory).
 */
#ifndef FCGILAB_JOBS_H
#define FCGILAB_JOBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "randid.h"

#include "app.h"

#define JOBS_ID_LEN               RANDID_LEN /* a job id is a randid */
#define JOBS_TASK_MAX             32         /* a task name, NUL included */
#define JOBS_MAX_BODY             (16 * 1024)
#define JOBS_DEFAULT_MAX_ATTEMPTS 3
#define JOBS_MAX_MAX_ATTEMPTS     10
#define JOBS_MAX_TASKS            8
#define JOBS_PAGE_DEFAULT         20
#define JOBS_PAGE_MAX             100
#define JOBS_CURSOR_MAX           48 /* base64url text, NUL included */

enum jobs_status {
	JOBS_QUEUED,
	JOBS_RUNNING,
	JOBS_DONE,
	JOBS_FAILED,
	JOBS_CANCELLED,
	JOBS_STATUS__MAX
};

/* "queued", "running", … */
const char *jobs_status_name(enum jobs_status s);
/* The status named s (len bytes); false when none is. */
bool jobs_status_parse(const char *s, size_t len, enum jobs_status *out);

/* One job as stored and shown. Times are µs since the epoch, 0 = not yet. */
struct jobs_record {
	char id[JOBS_ID_LEN + 1];
	char task[JOBS_TASK_MAX];
	char *params; /* JSON object text */
	enum jobs_status status;
	int attempts, max_attempts;
	char *result; /* JSON text of the task's answer, or NULL */
	char *error;  /* why it failed, or NULL */
	int64_t created_us, started_us, finished_us;
};

void jobs_record_free(struct jobs_record *r);

/* The GET /jobs/ID body: {"id","task","params","status","attempts",
 * "max_attempts","result","error","created_at","started_at",
 * "finished_at"}, times as ISO 8601 UTC (pydantic: "…T…[.ffffff]Z"). */
char *jobs_record_json(const struct jobs_record *r, size_t *lenp);

/* A new job, validated, before it is stored. */
struct jobs_new {
	char id[JOBS_ID_LEN + 1];
	char task[JOBS_TASK_MAX];
	char *params; /* JSON object text */
	int max_attempts;
	int64_t created_us; /* set by the store */
};

void jobs_new_free(struct jobs_new *n);

/* --- the task registry --------------------------------------------------- */

struct jobs_task;

/* Validate body (a JSON object holding "task") for this task: append
 * pydantic error objects to errors (loc ["body", field]) and, when none
 * were added, return the task's params as a new JSON object in *params
 * (the fields the task uses, with their validated values). Returns -1 on
 * ENOMEM, else 0. */
typedef int jobs_validate_fn(const struct jobs_task *t, const json_t *body,
    json_t *errors, json_t **params);

/* What a worker's run function reports. */
enum jobs_run_result {
	JOBS_RUN_DONE,      /* *result holds the answer (JSON text) */
	JOBS_RUN_FAILED,    /* *error says why; not retried */
	JOBS_RUN_ABANDONED, /* stopped early (the lease was lost) */
};

/* How a running job is told to stop early (its lease was lost). */
struct jobs_run_ctl {
	bool (*should_stop)(void *arg);
	void *arg;
};

/* Do the work of a job in a worker (blocking is fine there). params is
 * what validate produced. result/error are malloc'd by run. */
typedef enum jobs_run_result jobs_run_fn(const struct jobs_task *t,
    const json_t *params, const struct jobs_run_ctl *ctl, char **result,
    char **error);

struct jobs_task {
	const char *name;
	jobs_validate_fn *validate;
	jobs_run_fn *run; /* NULL in processes that do not run jobs */
	const void *cfg;  /* the task's own settings */
};

struct jobs_tasks {
	struct jobs_task t[JOBS_MAX_TASKS];
	size_t n;
	struct app_config app; /* the built-ins' bounds (cfg of wait/cpu) */
};

/* The registry with the built-in tasks "wait" and "cpu" (validate only;
 * jobs_run.h adds their run functions). */
void jobs_tasks_init(struct jobs_tasks *ts, const struct app_config *cfg);
/* Add (or, for a name already there, replace) a task; false when full or
 * the name is too long. */
bool jobs_tasks_add(struct jobs_tasks *ts, const struct jobs_task *t);
const struct jobs_task *jobs_tasks_find(
    const struct jobs_tasks *ts, const char *name);

/* --- POST /jobs ---------------------------------------------------------- */

enum jobs_parse {
	JOBS_PARSE_OK,      /* the job (or query) is valid */
	JOBS_PARSE_INVALID, /* *status and *err (JSON body) say why */
	JOBS_PARSE_ENOMEM,
};

/* Validate a POST /jobs body (len bytes; ctype: CONTENT_TYPE or NULL)
 * into out (id left empty, created_us 0). */
enum jobs_parse jobs_parse_new(const struct jobs_tasks *ts, const char *ctype,
    const char *body, size_t len, struct jobs_new *out, int *status, char **err,
    size_t *errlen);

/* Validate a job that another module builds: task and params (a JSON
 * object of the task's fields) as if they had been POSTed. */
enum jobs_parse jobs_validate_new(const struct jobs_tasks *ts, const char *task,
    const json_t *params, int max_attempts, struct jobs_new *out, char **err,
    size_t *errlen);

/* The 422 body for a bad job id in the path; NULL on ENOMEM. */
char *jobs_bad_id_body(const char *id, size_t *lenp);

/* --- GET /jobs: pages and cursors ---------------------------------------- */

struct jobs_cursor {
	int64_t created_us;
	char id[JOBS_ID_LEN + 1];
};

struct jobs_page_req {
	int status; /* enum jobs_status, or -1 for every status */
	int limit;  /* 1 .. JOBS_PAGE_MAX */
	bool has_cursor;
	struct jobs_cursor after; /* jobs strictly older than this one */
};

/* Parse ?status=&limit=&cursor= (Starlette's query rules: last wins). */
enum jobs_parse jobs_parse_list_query(
    const char *query, struct jobs_page_req *out, char **err, size_t *errlen);

/* Encode c for a list filtered by status (-1: none) into out. */
void jobs_cursor_encode(
    const struct jobs_cursor *c, int status, char out[JOBS_CURSOR_MAX]);
/* Decode s (len bytes) made for filter status; false when it does not
 * decode, fails its checksum, or was made for another filter. */
bool jobs_cursor_decode(
    const char *s, size_t len, int status, struct jobs_cursor *out);

struct jobs_page {
	struct jobs_record *items; /* newest first */
	size_t n;
	bool has_next;
	struct jobs_cursor next; /* when has_next: the last item's position */
};

void jobs_page_free(struct jobs_page *p);

/* The GET /jobs body {"items":[…],"next":cursor|null}, and in *link the
 * matching "Link: </jobs?…>; rel=\"next\"\r\n" header line (NULL when
 * there is no next page). NULL on ENOMEM. */
char *jobs_page_json(const struct jobs_page *p, const struct jobs_page_req *q,
    size_t *lenp, char **link);

/* µs since the epoch as ISO 8601 UTC: "2026-11-24T23:26:00.123456Z", the
 * fraction left out when it is zero (as pydantic prints a datetime). */
#define JOBS_TIME_MAX 40
void jobs_time_iso(int64_t us, char out[JOBS_TIME_MAX]);

#endif
