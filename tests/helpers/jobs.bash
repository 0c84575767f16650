# jobs.bash — helpers for the jobs suites (tests/jobs*.bats): a stack with
# workers on the store JOBS_STORE names, and small verbs over HTTP.
#
#   JOBS_STORE=sqlite   the embedded default (STATE/jobs.db)
#   JOBS_STORE=redis    a redis-server of our own: started on a free
#                       loopback port in a temp dir, as our child, and
#                       stopped by its pid (tests restart the stack, never
#                       Redis)
#
# jobs_stack_start ARGS… starts both (ARGS go to fcgilab start);
# jobs_stack_stop stops both; jobs_stack_restart ARGS… restarts the stack
# on the same state dir and store. Needs helpers/stack.bash loaded first.

: "${JOBS_STORE:=sqlite}"

REDIS_SERVER=${REDIS_SERVER:-redis-server}

# redis_start [ARG…]: REDIS_PID, REDIS_PORT, REDIS_DIR; a fresh server with
# no persistence on a free port of 127.0.0.1 (tried until one binds). ARGs
# go to redis-server after ours (e.g. --requirepass PW, --user …), with
# @PORT@ replaced by the port (e.g. --port 0 --tls-port @PORT@: TLS only).
# shellcheck disable=SC2120 # the ARGs come from other suites
redis_start() {
	local try
	REDIS_DIR=$(mktemp -d /tmp/fcgilab-redis.XXXXXX)
	for try in $(seq 20); do
		REDIS_PORT=$((20000 + RANDOM % 40000))
		"$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 \
			--dir "$REDIS_DIR" --save '' --appendonly no \
			--daemonize no --logfile "$REDIS_DIR/redis.log" \
			"${@//@PORT@/$REDIS_PORT}" 3>&- &
		REDIS_PID=$!
		for _ in $(seq 100); do
			if grep -q 'Ready to accept connections' "$REDIS_DIR/redis.log" 2>/dev/null; then
				export REDIS_PID REDIS_PORT REDIS_DIR
				return 0
			fi
			kill -0 "$REDIS_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill "$REDIS_PID" 2>/dev/null || true
		wait "$REDIS_PID" 2>/dev/null || true
		: "$try"
	done
	cat "$REDIS_DIR/redis.log" >&3
	return 1
}

redis_stop() {
	[[ -n ${REDIS_PID:-} ]] || return 0
	kill "$REDIS_PID" 2>/dev/null || true
	wait "$REDIS_PID" 2>/dev/null || true
	rm -rf "$REDIS_DIR"
	REDIS_PID=
}

jobs_queue_args() {
	if [[ $JOBS_STORE == redis ]]; then
		printf '%s\n' --queue "redis://127.0.0.1:$REDIS_PORT"
	fi
}

jobs_stack_start() {
	local -a q
	if [[ $JOBS_STORE == redis ]]; then
		redis_start || return 1
	fi
	mapfile -t q < <(jobs_queue_args)
	stack_start "${q[@]}" "$@"
}

jobs_stack_stop() {
	stack_stop
	redis_stop
}

# jobs_stack_restart ARGS…: stop the stack and start it again on the same
# state dir and store (a new port).
jobs_stack_restart() {
	local -a q
	mapfile -t q < <(jobs_queue_args)
	"$FCGILAB" stop --state "$STATE" --grace 10 3>&- >/dev/null 2>&1 || true
	"$FCGILAB" start --port 0 --state "$STATE" "${q[@]}" "$@" 3>&- >"$STATE.start" 2>&1 || {
		cat "$STATE.start" >&3
		return 1
	}
	PORT=$(<"$STATE/port")
	BASE=http://127.0.0.1:$PORT
	export PORT BASE
}

# post_job JSON: POST /jobs; prints the new id (fails unless 202).
post_job() {
	local out
	out=$(curl -sS -w '\n%{http_code}' -H 'Content-Type: application/json' \
		--max-time 30 -d "$1" "$BASE/jobs")
	[[ ${out##*$'\n'} == 202 ]] || {
		echo "POST /jobs $1: $out" >&2
		return 1
	}
	jq -r .id <<<"${out%$'\n'*}"
}

# job ID: the job's JSON.
job() {
	curl -sS --max-time 10 "$BASE/jobs/$1"
}

# job_field ID FIELD: one field of the job (jq -r).
job_field() {
	job "$1" | jq -r ".$2"
}

# wait_job ID STATUS [SECS]: poll until the job has STATUS (default 20 s:
# generous, for a machine busy with other suites).
wait_job() {
	local id=$1 want=$2 secs=${3:-20} deadline st
	deadline=$((SECONDS + secs))
	while :; do
		st=$(job_field "$id" status)
		[[ $st == "$want" ]] && return 0
		if ((SECONDS >= deadline)); then
			echo "job $id: status $st, not $want after ${secs}s" >&2
			job "$id" >&2
			return 1
		fi
		sleep 0.05
	done
}

# all_ids [QUERY]: every job id of GET /jobs?QUERY, following "next".
all_ids() {
	local query=${1:-} page cursor=
	while :; do
		page=$(curl -fsS --max-time 10 "$BASE/jobs?limit=100${query:+&$query}${cursor:+&cursor=$cursor}") || return 1
		jq -r '.items[].id' <<<"$page"
		cursor=$(jq -r '.next // empty' <<<"$page")
		[[ -n $cursor ]] || return 0
	done
}

# worker_of ID: the pid of the worker that logged claiming job ID (the
# workers run with -v).
worker_of() {
	sed -n "s/^fcgilab-worker\[[^]]*:\([0-9]*\)\]: job $1 ([a-z]*): claimed.*/\1/p" \
		"$STATE/log/workers.log" | tail -n 1
}

# wait_idle [SECS]: until no job is queued or running (default 20 s).
wait_idle() {
	local deadline=$((SECONDS + ${1:-20}))
	while [[ -n $(all_ids status=queued) || -n $(all_ids status=running) ]]; do
		((SECONDS < deadline)) || { echo "jobs still busy" >&2; return 1; }
		sleep 0.1
	done
}

# rcli ARG…: redis-cli on the suite's own Redis.
rcli() {
	redis-cli -p "$REDIS_PORT" "$@"
}

# jobs_fill_finished N AGE: N done jobs, finished AGE seconds ago, written
# straight into the store behind the stack's back (sqlite3 in one
# transaction; Redis through redis-cli --pipe), the way a long-running
# stack would have left them. Ids start with "f" (never one of ours:
# those are random, so this prefix is theirs only by chance of 1 in 16,
# and a collision would fail the insert, not pass the test).
jobs_fill_finished() {
	local n=$1 age=$2 now
	now=$(($(date +%s) * 1000000))
	if [[ $JOBS_STORE == redis ]]; then
		awk -v n="$n" -v now="$now" -v age="$age" 'BEGIN {
			P = "fcgilab:jobs:"
			for (i = 1; i <= n; i++) {
				id = sprintf("f%031x", i)
				c = now - (age + 10) * 1000000 + i
				f = now - age * 1000000 + i
				m = sprintf("%017d:%s", c, id)
				printf "HSET %sjob:%s id %s task wait params {} status done attempts 1 max_attempts 3 created %d started %d finished %d result {}\r\n", P, id, id, c, c, f
				printf "ZADD %sall 0 %s\r\nZADD %sst:done 0 %s\r\nZADD %sfinished %d %s\r\n", P, m, P, m, P, f, m
			}
			printf "HINCRBY %sstats total_done %d\r\n", P, n
		}' | redis-cli -p "$REDIS_PORT" --pipe >/dev/null
	else
		"${SQLITE3_SHELL:-sqlite3}" "$STATE/jobs.db" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
BEGIN IMMEDIATE;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $n)
INSERT INTO jobs (id, task, params, status, attempts, max_attempts, result,
	created_us, started_us, finished_us)
SELECT printf('f%031x', i), 'wait', '{}', 'done', 1, 3, '{}',
	$now - ($age + 10) * 1000000 + i, $now - ($age + 10) * 1000000 + i,
	$now - $age * 1000000 + i FROM k;
COMMIT;
SQL
	fi
}

# wait_metric NAME OP VALUE [SECS]: until /metrics' NAME OP VALUE (an
# arithmetic comparison: -eq, -ge, -le …); the store's figures are
# refreshed every second.
wait_metric() {
	local deadline=$((SECONDS + ${4:-20})) v
	while :; do
		v=$(metric "$1")
		[[ -n $v ]] && test "$v" "$2" "$3" && return 0
		if ((SECONDS >= deadline)); then
			echo "metric $1 = ${v:-none}, not $2 $3" >&2
			return 1
		fi
		sleep 0.1
	done
}
