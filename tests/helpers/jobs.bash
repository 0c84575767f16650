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

# jobs_metric NAME: an unlabelled series of /metrics.
jobs_metric() {
	curl -fsS --max-time 5 "$BASE/metrics" | awk -v n="$1" '$1 == n { print $2 }'
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
