/*
 * jobstore_redis — the shared store: one Redis server for the muxes and the
 * workers of several machines, the way ARQ and Celery scale. Contract in
 * jobstore.h; here:
 *
 *  - Every operation that reads and writes is one Lua script, so it is
 *    atomic on the server: claiming (with putting back expired leases),
 *    renewing, finishing and cancelling never interleave.
 *  - Keys, under the prefix "fcgilab:jobs:":
 *      job:<id>     HASH   the record, plus owner (the lease's token)
 *      all          ZSET   every job, member "<created_us %017d>:<id>",
 *                          score 0, so lexicographic order is (created,
 *                          id) order: pages are ZREVRANGEBYLEX from a
 *                          cursor, newest first
 *      st:<status>  ZSET   the same members, one set per status; the oldest
 *                          member of st:queued is the next job to claim
 *      leases       ZSET   the running jobs' members, scored by their
 *                          lease's expiry (µs)
 *      finished     ZSET   the finished jobs' members, scored by when they
 *                          finished (µs): expiry takes the oldest
 *      stats        HASH   the counters: total_<status>, expired,
 *                          retried, started, latency_sum_us, bucket_<i>;
 *                          and schema, indexed (see SC_EXPIRE)
 *      clock        STRING the last created_us handed out: a batch of n
 *                          jobs takes n µs, and the next batch starts
 *                          after it, so creation order is list order
 *    The counts are ZCARDs and the stats hash: O(1), no scan.
 *  - A job hash that is gone while its member is still in the indexes
 *    (evicted under maxmemory, deleted by hand) is skipped and its member
 *    removed from every index by whoever meets it: a list page, a claim,
 *    the lease reaper; GET, cancel, renew and finish see no job.
 *  - Times come from the server's TIME, so machines need no common clock.
 *  - Scripts are loaded once (SCRIPT LOAD) and run with EVALSHA; after a
 *    Redis restart (NOSCRIPT) they are loaded again. A lost connection is
 *    made again at the next call.
 *  - Every connection, the first and each one made again, begins with
 *    AUTH (when there is a password: "AUTH USER PASSWORD" for an ACL
 *    user, "AUTH PASSWORD" for the default one), then SELECT DB, then the
 *    SCRIPT LOADs. The commands a user needs are exactly those and the
 *    ones the scripts call (README, "Redis with a password"); keys are
 *    all under the prefix. The store keeps one copy of the password, for
 *    those reconnections, and erases it on close; the command buffer it
 *    formats AUTH in is erased once handed to hiredis (hiredis's own
 *    output buffer is freed by hiredis, not erased).
 */
#include "config.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "jobstore.h"
#include "jobstore_open.h"
#include "num.h"
#include "randid.h"
#include "redis_url.h"

#define PREFIX         "fcgilab:jobs:"
#define CONNECT_SECS   2
#define COMMAND_SECS   10
#define RECORD_FIELDS  11
#define MEMBER_ID_FROM 18     /* "%017d:" */
#define LIST_SCAN      "1000" /* members one list call may look at */

/* Shared by every script: ARGV[1] is the key prefix. */
#define LUA_PRELUDE                                                           \
	"local P = ARGV[1]\n"                                                 \
	"local function now_us() local t = redis.call('TIME')\n"              \
	"  return tonumber(t[1]) * 1000000 + tonumber(t[2]) end\n"            \
	"local function member(c, id) return string.format('%017d:%s', c, "   \
	"id) end\n"                                                           \
	"local function fetch(id) return redis.call('HMGET', P .. 'job:' .. " \
	"id, 'id', 'task', 'params', 'status', 'attempts', 'max_attempts', "  \
	"'result', 'error', 'created', 'started', 'finished') end\n"          \
	"local function move(id, c, from, to) local m = member(c, id)\n"      \
	"  redis.call('ZREM', P .. 'st:' .. from, m)\n"                       \
	"  redis.call('ZADD', P .. 'st:' .. to, 0, m) end\n" LUA_SETUP        \
	    LUA_FINISHED LUA_FORGET

/* The first script of this version on a store: the totals start from
 * the finished jobs it keeps, and a store with none has none to index. */
#define LUA_SETUP                                                     \
	"local function setup() local S = P .. 'stats'\n"             \
	"  if redis.call('HGET', S, 'schema') then return end\n"      \
	"  local n = 0\n"                                             \
	"  for _, st in ipairs({'done', 'failed', 'cancelled'}) do\n" \
	"    local c = redis.call('ZCARD', P .. 'st:' .. st)\n"       \
	"    redis.call('HSET', S, 'total_' .. st, c)\n"              \
	"    n = n + c\n"                                             \
	"  end\n"                                                     \
	"  if n == 0 then redis.call('HSET', S, 'indexed', 1) end\n"  \
	"  redis.call('HSET', S, 'schema', 2) end\n"

/* A job reaching status st at time t (before move): counted for good,
 * and indexed by its end for expiry. */
#define LUA_FINISHED                                                 \
	"local function finished(id, c, st, t)\n"                    \
	"  redis.call('HINCRBY', P .. 'stats', 'total_' .. st, 1)\n" \
	"  redis.call('ZADD', P .. 'finished', t, member(c, id)) end\n"

/* A member whose job hash is gone (evicted, deleted by hand): out of
 * every index, so that nothing meets it again. */
#define LUA_FORGET                                                            \
	"local function forget(m)\n"                                          \
	"  for _, k in ipairs({'all', 'st:queued', 'st:running', 'st:done', " \
	"'st:failed', 'st:cancelled', 'finished', 'leases'}) do\n"            \
	"    redis.call('ZREM', P .. k, m) end\n"                             \
	"  redis.call('ZREM', P .. 'leases', string.sub(m, 19)) end\n"

enum script {
	SC_ENQUEUE,
	SC_GET,
	SC_LIST,
	SC_CANCEL,
	SC_CLAIM,
	SC_RENEW,
	SC_FINISH,
	SC_STATS,
	SC_EXPIRE,
	SC__MAX
};

static const char *const scripts[SC__MAX] = {
    /* ARGV: P, max_queued (0: no bound), then (id, task, params,
     * max_attempts) per job; returns the created times of those stored */
    [SC_ENQUEUE] = LUA_PRELUDE
    "setup()\n"
    "local now = now_us()\n"
    /* a batch takes one µs per job: the next starts after it */
    "local last = tonumber(redis.call('GET', P .. 'clock') or 0)\n"
    "if now <= last then now = last + 1 end\n"
    "local n = (#ARGV - 2) / 4\n"
    "local max = tonumber(ARGV[2])\n"
    "if max > 0 then\n"
    "  local room = max - redis.call('ZCARD', P .. 'st:queued')\n"
    "  if room < n then n = math.max(room, 0) end\n"
    "end\n"
    "if n > 0 then redis.call('SET', P .. 'clock', now + n - 1) end\n"
    "local out = {}\n"
    "for i = 0, n - 1 do\n"
    "  local id = ARGV[3 + 4 * i]\n"
    "  local c = now + i\n"
    "  redis.call('HSET', P .. 'job:' .. id, 'id', id, 'task', ARGV[4 + 4 "
    "* i], 'params', ARGV[5 + 4 * i], 'status', 'queued', 'attempts', 0, "
    "'max_attempts', ARGV[6 + 4 * i], 'created', c)\n"
    "  redis.call('ZADD', P .. 'all', 0, member(c, id))\n"
    "  redis.call('ZADD', P .. 'st:queued', 0, member(c, id))\n"
    "  out[#out + 1] = c\n"
    "end\n"
    "return out\n",
    /* ARGV: P, id */
    [SC_GET] = LUA_PRELUDE
    "if redis.call('EXISTS', P .. 'job:' .. ARGV[2]) == 0 then return false "
    "end\n"
    "return fetch(ARGV[2])\n",
    /* ARGV: P, index key, max ("+" or "(member"), count; returns {the last
     * member looked at or nil, 1 if it stopped early, records…}: members
     * whose job is gone are skipped and forgotten, up to LIST_SCAN of
     * them in one call */
    [SC_LIST] = LUA_PRELUDE
    "local key, from, want = P .. ARGV[2], ARGV[3], tonumber(ARGV[4])\n"
    "local out, scanned = {false, 0}, 0\n"
    "while #out - 2 < want do\n"
    "  if scanned >= " LIST_SCAN " then out[2] = 1 break end\n"
    "  local ms = redis.call('ZREVRANGEBYLEX', key, from, '-', 'LIMIT', 0, "
    "want - (#out - 2))\n"
    "  if #ms == 0 then break end\n"
    "  for _, m in ipairs(ms) do\n"
    "    local r = fetch(string.sub(m, 19))\n"
    "    if r[1] then out[#out + 1] = r else forget(m) end\n"
    "    from = '(' .. m\n"
    "    out[1] = m\n"
    "  end\n"
    "  scanned = scanned + #ms\n"
    "end\n"
    "return out\n",
    /* ARGV: P, id; returns {code, record…}: 0 unknown, 1 done, 2 conflict */
    [SC_CANCEL] = LUA_PRELUDE
    "setup()\n"
    "local k = P .. 'job:' .. ARGV[2]\n"
    "local st = redis.call('HGET', k, 'status')\n"
    "if not st then return {0} end\n"
    "local code = 2\n"
    "if st == 'queued' then\n"
    "  local t, c = now_us(), tonumber(redis.call('HGET', k, 'created'))\n"
    "  redis.call('HSET', k, 'status', 'cancelled', 'finished', t)\n"
    "  finished(ARGV[2], c, 'cancelled', t)\n"
    "  move(ARGV[2], c, 'queued', 'cancelled')\n"
    "  code = 1\n"
    "end\n"
    "local r = fetch(ARGV[2])\n"
    "table.insert(r, 1, code)\n"
    "return r\n",
    /* ARGV: P, owner, lease_ms, then the bucket bounds in ms. A lease is
     * the job's member, scored by its expiry (a bare id: a lease taken
     * before this version). */
    [SC_CLAIM] = LUA_PRELUDE
    "setup()\n"
    "local now = now_us()\n"
    "for _, x in ipairs(redis.call('ZRANGEBYSCORE', P .. 'leases', "
    "'-inf', now, 'LIMIT', 0, 100)) do\n"
    "  local id = x\n"
    "  if #x > 32 then id = string.sub(x, 19) end\n"
    "  local k = P .. 'job:' .. id\n"
    "  local a = redis.call('HMGET', k, 'attempts', 'max_attempts', "
    "'created')\n"
    "  redis.call('ZREM', P .. 'leases', x)\n"
    "  if not a[3] then\n"
    "    if #x > 32 then forget(x) end\n"
    "  else\n"
    "    local att, max, c = tonumber(a[1]), tonumber(a[2]), "
    "tonumber(a[3])\n"
    "    if att >= max then\n"
    "      redis.call('HSET', k, 'status', 'failed', 'error', "
    "string.format('worker lost (lease expired) on attempt %d of %d', att, "
    "max), 'finished', now, 'owner', '')\n"
    "      finished(id, c, 'failed', now)\n"
    "      move(id, c, 'running', 'failed')\n"
    "    else\n"
    "      redis.call('HSET', k, 'status', 'queued', 'owner', '')\n"
    "      move(id, c, 'running', 'queued')\n"
    "      redis.call('HINCRBY', P .. 'stats', 'retried', 1)\n"
    "    end\n"
    "  end\n"
    "end\n"
    /* the oldest queued job whose hash is there */
    "local q\n"
    "for _ = 1, 100 do\n"
    "  local ms = redis.call('ZRANGE', P .. 'st:queued', 0, 0)\n"
    "  if #ms == 0 then return false end\n"
    "  if redis.call('EXISTS', P .. 'job:' .. string.sub(ms[1], 19)) == 1 "
    "then q = ms[1] break end\n"
    "  forget(ms[1])\n"
    "end\n"
    "if not q then return false end\n"
    "local id = string.sub(q, 19)\n"
    "local k = P .. 'job:' .. id\n"
    "redis.call('ZREM', P .. 'st:queued', q)\n"
    "redis.call('ZADD', P .. 'st:running', 0, q)\n"
    "local att = redis.call('HINCRBY', k, 'attempts', 1)\n"
    "local token = ARGV[2] .. ':' .. att\n"
    "redis.call('HSET', k, 'status', 'running', 'started', now, 'owner', "
    "token)\n"
    "redis.call('ZADD', P .. 'leases', now + tonumber(ARGV[3]) * 1000, q)\n"
    "if att == 1 then\n"
    "  local lat = now - tonumber(redis.call('HGET', k, 'created'))\n"
    "  if lat < 0 then lat = 0 end\n"
    "  local b = #ARGV - 3\n"
    "  for i = 4, #ARGV do\n"
    "    if lat <= tonumber(ARGV[i]) * 1000 then b = i - 4 break end\n"
    "  end\n"
    "  redis.call('HINCRBY', P .. 'stats', 'started', 1)\n"
    "  redis.call('HINCRBY', P .. 'stats', 'latency_sum_us', lat)\n"
    "  redis.call('HINCRBY', P .. 'stats', 'bucket_' .. b, 1)\n"
    "end\n"
    "local r = fetch(id)\n"
    "r[#r + 1] = token\n"
    "return r\n",
    /* ARGV: P, id, token, lease_ms */
    [SC_RENEW] = LUA_PRELUDE
    "local a = redis.call('HMGET', P .. 'job:' .. ARGV[2], 'status', "
    "'owner', 'created')\n"
    "if a[1] ~= 'running' or a[2] ~= ARGV[3] then return 0 end\n"
    "redis.call('ZADD', P .. 'leases', now_us() + tonumber(ARGV[4]) * "
    "1000, member(tonumber(a[3]), ARGV[2]))\n"
    "redis.call('ZREM', P .. 'leases', ARGV[2])\n"
    "return 1\n",
    /* ARGV: P, id, token, status, result ("" none), error ("" none) */
    [SC_FINISH] = LUA_PRELUDE
    "setup()\n"
    "local k = P .. 'job:' .. ARGV[2]\n"
    "local a = redis.call('HMGET', k, 'status', 'owner', 'created')\n"
    "if a[1] ~= 'running' or a[2] ~= ARGV[3] then return 0 end\n"
    "local t, c = now_us(), tonumber(a[3])\n"
    "redis.call('HSET', k, 'status', ARGV[4], 'finished', t, 'owner', "
    "'')\n"
    "if ARGV[5] ~= '' then redis.call('HSET', k, 'result', ARGV[5]) end\n"
    "if ARGV[6] ~= '' then redis.call('HSET', k, 'error', ARGV[6]) end\n"
    "redis.call('ZREM', P .. 'leases', member(c, ARGV[2]))\n"
    "redis.call('ZREM', P .. 'leases', ARGV[2])\n"
    "finished(ARGV[2], c, ARGV[4], t)\n"
    "move(ARGV[2], c, 'running', ARGV[4])\n"
    "return 1\n",
    /* ARGV: P */
    [SC_STATS] = LUA_PRELUDE
    "setup()\n"
    "local out = {}\n"
    "for _, s in ipairs({'queued', 'running', 'done', 'failed', "
    "'cancelled'}) do\n"
    "  out[#out + 1] = redis.call('ZCARD', P .. 'st:' .. s)\n"
    "end\n"
    "out[#out + 1] = redis.call('HGETALL', P .. 'stats')\n"
    "return out\n",
    /* ARGV: P, ttl_us, max; returns how many jobs were deleted. A store
     * from before retention has its finished jobs indexed first, max at
     * a time, newest first (those finishing meanwhile index themselves;
     * one whose hash is gone gets time 0, and goes at once). */
    [SC_EXPIRE] = LUA_PRELUDE
    "setup()\n"
    "local S, max = P .. 'stats', tonumber(ARGV[3])\n"
    "if not redis.call('HGET', S, 'indexed') then\n"
    "  local left = max\n"
    "  for _, st in ipairs({'done', 'failed', 'cancelled'}) do\n"
    "    local from = redis.call('HGET', S, 'indexing_' .. st) or '+'\n"
    "    if left > 0 and from ~= '-' then\n"
    "      local ms = redis.call('ZREVRANGEBYLEX', P .. 'st:' .. st, from, "
    "'-', 'LIMIT', 0, left)\n"
    "      for _, m in ipairs(ms) do\n"
    "        local t = redis.call('HGET', P .. 'job:' .. string.sub(m, 19), "
    "'finished')\n"
    "        redis.call('ZADD', P .. 'finished', tonumber(t) or 0, m)\n"
    "      end\n"
    "      if #ms < left then from = '-' else from = '(' .. ms[#ms] end\n"
    "      redis.call('HSET', S, 'indexing_' .. st, from)\n"
    "      left = left - #ms\n"
    "    end\n"
    "  end\n"
    "  if left > 0 then redis.call('HSET', S, 'indexed', 1) end\n"
    "end\n"
    "local cut = string.format('(%d', now_us() - tonumber(ARGV[2]))\n"
    "local ms = redis.call('ZRANGEBYSCORE', P .. 'finished', '-inf', cut, "
    "'LIMIT', 0, max)\n"
    "for _, m in ipairs(ms) do\n"
    "  redis.call('DEL', P .. 'job:' .. string.sub(m, 19))\n"
    "  for _, k in ipairs({'all', 'st:done', 'st:failed', 'st:cancelled', "
    "'finished'}) do redis.call('ZREM', P .. k, m) end\n"
    "end\n"
    "if #ms > 0 then redis.call('HINCRBY', S, 'expired', #ms) end\n"
    "return #ms\n",
};

struct rs {
	struct jobstore base;
	redisContext *c;
	char host[REDIS_URL_HOST_MAX];
	int port, db;
	char user[REDIS_URL_CRED_MAX]; /* "": the default user */
	char *password;                /* NULL: no AUTH */
	char sha[SC__MAX][41];
};

static const struct jobstore_ops rs_ops;

/* The error, as "redis [USER@]HOST:PORT: WHAT: WHY"; returns r. */
static enum jobstore_result
fail_as(struct rs *s, enum jobstore_result r, const char *what, const char *why)
{
	bool v6 = strchr(s->host, ':') != NULL;
	int n;

	/* a long reply is cut: the message stays one line of err's size */
	n = snprintf(s->base.err, sizeof(s->base.err),
	    "redis %.32s%s%s%.64s%s:%d: %s: %s", s->user, s->user[0] ? "@" : "",
	    v6 ? "[" : "", s->host, v6 ? "]" : "", s->port, what, why);
	(void)n;
	return r;
}

static enum jobstore_result
fail(struct rs *s, const char *what, const char *why)
{
	return fail_as(s, JOBSTORE_EIO, what, why);
}

/* Is this error reply the server refusing who we are or what we may do?
 * (Redis 6+: WRONGPASS, NOAUTH, NOPERM; older: "ERR invalid password",
 * "ERR Client sent AUTH, but no password is set".) */
static bool
is_auth_error(const char *e)
{
	static const char *const prefixes[] = {"WRONGPASS", "NOAUTH", "NOPERM",
	    "ERR AUTH", "ERR invalid password", "ERR Client sent AUTH"};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(e, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* A setup command's error reply: EAUTH (with a hint when we sent no
 * password) for the auth errors, else r. */
static enum jobstore_result
fail_reply(
    struct rs *s, enum jobstore_result r, const char *what, const char *reply)
{
	char why[160];

	if (!is_auth_error(reply))
		return fail_as(s, r, what, reply);
	snprintf(why, sizeof(why), "%.110s%s", reply,
	    s->password == NULL && strncmp(reply, "NOAUTH", 6) == 0
	        ? " (no password was given)"
	        : "");
	return fail_as(s, JOBSTORE_EAUTH,
	    strncmp(reply, "NOPERM", 6) == 0 ? "permission denied"
	                                     : "authentication failed",
	    why);
}

static void
disconnect(struct rs *s)
{
	if (s->c != NULL)
		redisFree(s->c);
	s->c = NULL;
}

static enum jobstore_result
load_scripts(struct rs *s)
{
	redisReply *rep;
	int i;

	for (i = 0; i < SC__MAX; i++) {
		rep = redisCommand(s->c, "SCRIPT LOAD %s", scripts[i]);
		if (rep == NULL || rep->type != REDIS_REPLY_STRING ||
		    rep->len != 40) {
			enum jobstore_result r =
			    fail_reply(s, JOBSTORE_EIO, "SCRIPT LOAD",
			        rep ? (rep->str ? rep->str : "bad reply")
			            : s->c->errstr);
			freeReplyObject(rep);
			return r;
		}
		memcpy(s->sha[i], rep->str, 41);
		freeReplyObject(rep);
	}
	return JOBSTORE_OK;
}

/* AUTH [USER] PASSWORD, if there is a password. The formatted command
 * is ours to erase; hiredis copies it into its output buffer. */
static enum jobstore_result
authenticate(struct rs *s)
{
	const char *argv[3] = {"AUTH"};
	size_t lens[3] = {4};
	enum jobstore_result r = JOBSTORE_OK;
	redisReply *rep = NULL;
	char *cmd = NULL;
	int argc = 1, len;

	if (s->password == NULL)
		return JOBSTORE_OK;
	if (s->user[0] != '\0') {
		argv[argc] = s->user;
		lens[argc++] = strlen(s->user);
	}
	argv[argc] = s->password;
	lens[argc++] = strlen(s->password);
	if ((len = redisFormatCommandArgv(&cmd, argc, argv, lens)) < 0)
		return fail(s, "AUTH", "out of memory");
	if (redisAppendFormattedCommand(s->c, cmd, (size_t)len) != REDIS_OK ||
	    redisGetReply(s->c, (void **)&rep) != REDIS_OK || rep == NULL)
		r = fail(s, "AUTH", s->c->errstr);
	else if (rep->type == REDIS_REPLY_ERROR)
		/* whatever the reason, a refused AUTH is ours to fix */
		r = fail_as(
		    s, JOBSTORE_EAUTH, "authentication failed", rep->str);
	explicit_bzero(cmd, (size_t)len);
	redisFreeCommand(cmd);
	freeReplyObject(rep);
	return r;
}

/* SELECT DB, always: the first command a server that wants a password
 * refuses (NOAUTH) when none was sent. */
static enum jobstore_result
select_db(struct rs *s)
{
	enum jobstore_result r = JOBSTORE_OK;
	redisReply *rep;

	rep = redisCommand(s->c, "SELECT %d", s->db);
	if (rep == NULL)
		r = fail(s, "SELECT", s->c->errstr);
	else if (rep->type == REDIS_REPLY_ERROR)
		r = fail_reply(s, JOBSTORE_EINVAL, "SELECT", rep->str);
	freeReplyObject(rep);
	return r;
}

/* A live connection, made (again) if needed: authenticated, with the db
 * selected and the scripts loaded. */
static enum jobstore_result
connect_now(struct rs *s)
{
	struct timeval ct = {CONNECT_SECS, 0}, rt = {COMMAND_SECS, 0};
	enum jobstore_result r;

	if (s->c != NULL && s->c->err == 0)
		return JOBSTORE_OK;
	disconnect(s);
	s->c = redisConnectWithTimeout(s->host, s->port, ct);
	if (s->c == NULL)
		return fail(s, "connect", "out of memory");
	if (s->c->err) {
		fail(s, "connect", s->c->errstr);
		disconnect(s);
		return JOBSTORE_EIO;
	}
	redisSetTimeout(s->c, rt);
	redisEnableKeepAlive(s->c);
	if ((r = authenticate(s)) != JOBSTORE_OK ||
	    (r = select_db(s)) != JOBSTORE_OK ||
	    (r = load_scripts(s)) != JOBSTORE_OK) {
		disconnect(s);
		return r;
	}
	return JOBSTORE_OK;
}

/*
 * EVALSHA script with argv[0..argc) after the prefix. Returns the reply
 * (the caller frees it), or NULL with the error set. A script the server
 * forgot (a restart) is loaded again once.
 */
static redisReply *
eval(struct rs *s, enum script sc, int argc, const char **argv,
    const size_t *lens)
{
	const char **av;
	redisReply *rep = NULL;
	size_t *al;
	int i, try;

	av = malloc(((size_t)argc + 4) * sizeof(*av));
	al = malloc(((size_t)argc + 4) * sizeof(*al));
	if (av == NULL || al == NULL) {
		free(av);
		free(al);
		fail(s, "EVALSHA", "out of memory");
		return NULL;
	}
	for (try = 0; try < 2; try++) {
		if (connect_now(s) != JOBSTORE_OK)
			break;
		av[0] = "EVALSHA";
		av[1] = s->sha[sc];
		av[2] = "0";
		av[3] = PREFIX;
		al[0] = 7;
		al[1] = 40;
		al[2] = 1;
		al[3] = strlen(PREFIX);
		for (i = 0; i < argc; i++) {
			av[4 + i] = argv[i];
			al[4 + i] = lens ? lens[i] : strlen(argv[i]);
		}
		rep = redisCommandArgv(s->c, argc + 4, av, al);
		if (rep == NULL) {
			fail(s, "EVALSHA", s->c->errstr);
			disconnect(s);
			continue; /* the connection broke: once more */
		}
		if (rep->type != REDIS_REPLY_ERROR ||
		    strncmp(rep->str, "NOSCRIPT", 8) != 0 || try == 1)
			break;
		freeReplyObject(rep); /* the server forgot the scripts */
		rep = NULL;
		if (load_scripts(s) != JOBSTORE_OK)
			break;
	}
	free(av);
	free(al);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
		fail(s, "script", rep->str);
		freeReplyObject(rep);
		rep = NULL;
	}
	return rep;
}

/* --- replies ------------------------------------------------------------- */

static const char *
str_of(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_STRING ? r->str : NULL;
}

static long long
int_of(const redisReply *r)
{
	long long v = 0;

	if (r == NULL)
		return 0;
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING &&
	    num_parse_int(r->str, r->len, &v) == NUM_OK)
		return v;
	return 0;
}

static char *
dup_of(const redisReply *r, bool *nomem)
{
	char *s;

	if (str_of(r) == NULL || r->len == 0)
		return NULL;
	if ((s = strndup(r->str, r->len)) == NULL)
		*nomem = true;
	return s;
}

/* A record from RECORD_FIELDS elements of an array reply, from index at. */
static enum jobstore_result
read_record(const redisReply *a, size_t at, struct jobs_record *out)
{
	redisReply *const *e = a->element + at;
	const char *st;
	enum jobs_status status = JOBS_FAILED;
	bool nomem = false;

	memset(out, 0, sizeof(*out));
	if (a->type != REDIS_REPLY_ARRAY || a->elements < at + RECORD_FIELDS ||
	    str_of(e[0]) == NULL)
		return JOBSTORE_EIO;
	snprintf(out->id, sizeof(out->id), "%s", str_of(e[0]));
	snprintf(out->task, sizeof(out->task), "%s",
	    str_of(e[1]) ? str_of(e[1]) : "");
	if ((st = str_of(e[3])) != NULL)
		jobs_status_parse(st, strlen(st), &status);
	out->status = status;
	out->attempts = (int)int_of(e[4]);
	out->max_attempts = (int)int_of(e[5]);
	out->created_us = int_of(e[8]);
	out->started_us = int_of(e[9]);
	out->finished_us = int_of(e[10]);
	out->params = dup_of(e[2], &nomem);
	out->result = dup_of(e[6], &nomem);
	out->error = dup_of(e[7], &nomem);
	if (out->params == NULL && !nomem)
		out->params = strdup("{}");
	if (nomem || out->params == NULL) {
		jobs_record_free(out);
		return JOBSTORE_ENOMEM;
	}
	return JOBSTORE_OK;
}

/* --- the mux's side ------------------------------------------------------ */

static enum jobstore_result
rs_enqueue(struct jobstore *base, struct jobs_new *jobs, size_t n,
    uint64_t max_queued, size_t *stored)
{
	struct rs *s = (struct rs *)base;
	enum jobstore_result r = JOBSTORE_OK;
	const char **argv;
	char(*max)[16], bound[24];
	redisReply *rep;
	size_t i;

	/* the whole batch is one script: what fits is stored, atomically */
	*stored = 0;
	argv = malloc((1 + 4 * n) * sizeof(*argv));
	max = malloc((n ? n : 1) * sizeof(*max));
	if (argv == NULL || max == NULL) {
		free(argv);
		free(max);
		return JOBSTORE_ENOMEM;
	}
	snprintf(bound, sizeof(bound), "%llu", (unsigned long long)max_queued);
	argv[0] = bound;
	for (i = 0; i < n; i++) {
		snprintf(max[i], sizeof(max[i]), "%d", jobs[i].max_attempts);
		argv[1 + 4 * i] = jobs[i].id;
		argv[1 + 4 * i + 1] = jobs[i].task;
		argv[1 + 4 * i + 2] = jobs[i].params;
		argv[1 + 4 * i + 3] = max[i];
	}
	rep = eval(s, SC_ENQUEUE, (int)(1 + 4 * n), argv, NULL);
	if (rep == NULL)
		r = JOBSTORE_EIO;
	else if (rep->type != REDIS_REPLY_ARRAY || rep->elements > n)
		r = fail(s, "enqueue", "bad reply");
	for (i = 0; r == JOBSTORE_OK && i < rep->elements; i++)
		jobs[i].created_us = int_of(rep->element[i]);
	if (r == JOBSTORE_OK)
		*stored = rep->elements;
	freeReplyObject(rep);
	free(argv);
	free(max);
	return r;
}

static enum jobstore_result
rs_get(struct jobstore *base, const char *id, struct jobs_record *out)
{
	struct rs *s = (struct rs *)base;
	enum jobstore_result r;
	redisReply *rep;

	if ((rep = eval(s, SC_GET, 1, &id, NULL)) == NULL)
		return JOBSTORE_EIO;
	r = rep->type == REDIS_REPLY_NIL ? JOBSTORE_NOTFOUND
	                                 : read_record(rep, 0, out);
	freeReplyObject(rep);
	return r;
}

/* The created time and id of a member "%017d:<id>"; false if garbled. */
static bool
member_parse(const redisReply *m, struct jobs_cursor *out)
{
	int64_t c = 0;
	size_t i;

	if (str_of(m) == NULL || m->len != MEMBER_ID_FROM + JOBS_ID_LEN ||
	    m->str[MEMBER_ID_FROM - 1] != ':')
		return false;
	for (i = 0; i < MEMBER_ID_FROM - 1; i++) {
		if (m->str[i] < '0' || m->str[i] > '9')
			return false;
		c = c * 10 + (m->str[i] - '0'); /* 17 digits: no overflow */
	}
	out->created_us = c;
	memcpy(out->id, m->str + MEMBER_ID_FROM, JOBS_ID_LEN);
	out->id[JOBS_ID_LEN] = '\0';
	return randid_valid(out->id);
}

static enum jobstore_result
rs_list(
    struct jobstore *base, const struct jobs_page_req *q, struct jobs_page *out)
{
	struct rs *s = (struct rs *)base;
	char key[32], max[80], count[16];
	const char *argv[3] = {key, max, count};
	enum jobstore_result r = JOBSTORE_OK;
	redisReply *rep;
	bool more;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (q->status >= 0)
		snprintf(key, sizeof(key), "st:%s",
		    jobs_status_name((enum jobs_status)q->status));
	else
		snprintf(key, sizeof(key), "all");
	if (q->has_cursor)
		snprintf(max, sizeof(max), "(%017lld:%s",
		    (long long)q->after.created_us, q->after.id);
	else
		snprintf(max, sizeof(max), "+");
	snprintf(count, sizeof(count), "%d", q->limit + 1);
	if ((rep = eval(s, SC_LIST, 3, argv, NULL)) == NULL)
		return JOBSTORE_EIO;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 2) {
		freeReplyObject(rep);
		return fail(s, "list", "bad reply");
	}
	if ((out->items = calloc((size_t)q->limit, sizeof(*out->items))) ==
	    NULL) {
		freeReplyObject(rep);
		return JOBSTORE_ENOMEM;
	}
	/* {last member looked at, stopped early, records…} */
	more = int_of(rep->element[1]) != 0;
	for (i = 2; i < rep->elements && r == JOBSTORE_OK; i++) {
		if (out->n == (size_t)q->limit) {
			out->has_next = true;
			break;
		}
		if ((r = read_record(rep->element[i], 0,
		         &out->items[out->n])) == JOBSTORE_OK)
			out->n++;
	}
	if (r == JOBSTORE_OK && out->has_next) {
		out->next.created_us = out->items[out->n - 1].created_us;
		memcpy(out->next.id, out->items[out->n - 1].id,
		    sizeof(out->next.id));
	} else if (r == JOBSTORE_OK && more) {
		/* it looked at many members of gone jobs (now forgotten):
		 * the next page goes on after the last one */
		out->has_next = member_parse(rep->element[0], &out->next);
		if (!out->has_next)
			r = fail(s, "list", "bad member");
	}
	freeReplyObject(rep);
	if (r != JOBSTORE_OK) {
		jobs_page_free(out);
		return r;
	}
	return JOBSTORE_OK;
}

static enum jobstore_result
rs_cancel(struct jobstore *base, const char *id, struct jobs_record *out)
{
	struct rs *s = (struct rs *)base;
	enum jobstore_result r;
	redisReply *rep;
	long long code;

	if ((rep = eval(s, SC_CANCEL, 1, &id, NULL)) == NULL)
		return JOBSTORE_EIO;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1) {
		freeReplyObject(rep);
		return fail(s, "cancel", "bad reply");
	}
	code = int_of(rep->element[0]);
	if (code == 0)
		r = JOBSTORE_NOTFOUND;
	else if ((r = read_record(rep, 1, out)) == JOBSTORE_OK && code == 2)
		r = JOBSTORE_CONFLICT;
	freeReplyObject(rep);
	return r;
}

static enum jobstore_result
rs_counts(struct jobstore *base, struct jobstore_counts *out)
{
	struct rs *s = (struct rs *)base;
	redisReply *rep, *h;
	enum jobs_status st;
	const char *name;
	unsigned b;
	uint64_t v;
	size_t i;

	memset(out, 0, sizeof(*out));
	if ((rep = eval(s, SC_STATS, 0, NULL, NULL)) == NULL)
		return JOBSTORE_EIO;
	if (rep->type != REDIS_REPLY_ARRAY ||
	    rep->elements != JOBS_STATUS__MAX + 1) {
		freeReplyObject(rep);
		return fail(s, "stats", "bad reply");
	}
	for (i = 0; i < JOBS_STATUS__MAX; i++)
		out->count[i] = (uint64_t)int_of(rep->element[i]);
	h = rep->element[JOBS_STATUS__MAX];
	for (i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements;
	     i += 2) {
		if ((name = str_of(h->element[i])) == NULL)
			continue;
		v = (uint64_t)int_of(h->element[i + 1]);
		if (strncmp(name, "total_", 6) == 0 &&
		    jobs_status_parse(name + 6, strlen(name + 6), &st))
			out->total[st] = v;
		else if (strcmp(name, "expired") == 0)
			out->expired = v;
		else if (strcmp(name, "retried") == 0)
			out->retried = v;
		else if (strcmp(name, "started") == 0)
			out->started = v;
		else if (strcmp(name, "latency_sum_us") == 0)
			out->latency_sum_us = v;
		else if (sscanf(name, "bucket_%u", &b) == 1 &&
		    b <= JOBSTORE_NBUCKETS)
			out->buckets[b] = v;
	}
	freeReplyObject(rep);
	return JOBSTORE_OK;
}

static enum jobstore_result
rs_expire(struct jobstore *base, uint64_t ttl_us, size_t max, size_t *deleted)
{
	struct rs *s = (struct rs *)base;
	char ttl[24], n[24];
	const char *argv[2] = {ttl, n};
	redisReply *rep;

	*deleted = 0;
	snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)ttl_us);
	snprintf(n, sizeof(n), "%zu", max);
	if ((rep = eval(s, SC_EXPIRE, 2, argv, NULL)) == NULL)
		return JOBSTORE_EIO;
	if (rep->type != REDIS_REPLY_INTEGER || rep->integer < 0) {
		freeReplyObject(rep);
		return fail(s, "expire", "bad reply");
	}
	*deleted = (size_t)rep->integer;
	freeReplyObject(rep);
	return JOBSTORE_OK;
}

/* --- the workers' side --------------------------------------------------- */

static enum jobstore_result
rs_claim(struct jobstore *base, const char *owner, uint32_t lease_ms,
    struct jobs_record *out, struct jobstore_lease *lease)
{
	struct rs *s = (struct rs *)base;
	char ms[16], bounds[JOBSTORE_NBUCKETS][16];
	const char *argv[2 + JOBSTORE_NBUCKETS] = {owner, ms};
	enum jobstore_result r;
	redisReply *rep;
	size_t i;

	snprintf(ms, sizeof(ms), "%u", lease_ms);
	for (i = 0; i < JOBSTORE_NBUCKETS; i++) {
		snprintf(
		    bounds[i], sizeof(bounds[i]), "%u", jobstore_bucket_ms[i]);
		argv[2 + i] = bounds[i];
	}
	if ((rep = eval(s, SC_CLAIM, 2 + JOBSTORE_NBUCKETS, argv, NULL)) ==
	    NULL)
		return JOBSTORE_EIO;
	if (rep->type == REDIS_REPLY_NIL) {
		freeReplyObject(rep);
		return JOBSTORE_EMPTY;
	}
	r = read_record(rep, 0, out);
	if (r == JOBSTORE_OK && rep->elements > RECORD_FIELDS &&
	    str_of(rep->element[RECORD_FIELDS]) != NULL)
		snprintf(lease->token, sizeof(lease->token), "%s",
		    str_of(rep->element[RECORD_FIELDS]));
	freeReplyObject(rep);
	return r;
}

static enum jobstore_result
rs_renew(struct jobstore *base, const char *id,
    const struct jobstore_lease *lease, uint32_t lease_ms)
{
	struct rs *s = (struct rs *)base;
	char ms[16];
	const char *argv[3] = {id, lease->token, ms};
	redisReply *rep;
	long long ok;

	snprintf(ms, sizeof(ms), "%u", lease_ms);
	if ((rep = eval(s, SC_RENEW, 3, argv, NULL)) == NULL)
		return JOBSTORE_EIO;
	ok = int_of(rep);
	freeReplyObject(rep);
	return ok ? JOBSTORE_OK : JOBSTORE_LOST;
}

static enum jobstore_result
rs_finish(struct jobstore *base, const char *id,
    const struct jobstore_lease *lease, enum jobs_status status,
    const char *result, const char *error)
{
	struct rs *s = (struct rs *)base;
	const char *argv[5] = {id, lease->token, jobs_status_name(status),
	    result ? result : "", error ? error : ""};
	redisReply *rep;
	long long ok;

	if ((rep = eval(s, SC_FINISH, 5, argv, NULL)) == NULL)
		return JOBSTORE_EIO;
	ok = int_of(rep);
	freeReplyObject(rep);
	return ok ? JOBSTORE_OK : JOBSTORE_LOST;
}

/* --- opening ------------------------------------------------------------- */

static void
rs_close(struct jobstore *base)
{
	struct rs *s = (struct rs *)base;

	disconnect(s);
	if (s->password != NULL) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s);
}

enum jobstore_result
jobstore_redis_open(
    const struct redis_url *u, struct jobstore **out, char *err, size_t errlen)
{
	enum jobstore_result r;
	struct rs *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (u->password[0] != '\0' &&
	        (s->password = strdup(u->password)) == NULL)) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return JOBSTORE_ENOMEM;
	}
	s->base.ops = &rs_ops;
	memcpy(s->host, u->host, sizeof(s->host));
	memcpy(s->user, u->user, sizeof(s->user));
	s->port = u->port;
	s->db = u->db;
	if ((r = connect_now(s)) != JOBSTORE_OK) {
		snprintf(err, errlen, "%s", s->base.err);
		rs_close(&s->base);
		return r;
	}
	*out = &s->base;
	return JOBSTORE_OK;
}

static const struct jobstore_ops rs_ops = {
    .name = "redis",
    .close = rs_close,
    .enqueue = rs_enqueue,
    .get = rs_get,
    .list = rs_list,
    .cancel = rs_cancel,
    .claim = rs_claim,
    .renew = rs_renew,
    .finish = rs_finish,
    .counts = rs_counts,
    .expire = rs_expire,
};
