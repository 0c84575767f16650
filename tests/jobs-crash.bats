#!/usr/bin/env bats
# Lose nothing: workers killed mid-job (the lease runs out, another worker
# retries), the mux killed right after accepting 200 jobs, the whole stack
# restarted. Like tests/jobs.bats, this file runs on SQLite and make writes
# tests/jobs-crash-redis.bats from it for Redis.

# BASE and STATE are set by helpers/stack.bash.
# shellcheck disable=SC2154,SC2153
# shellcheck disable=SC2034 # read by helpers/jobs.bash
JOBS_STORE=sqlite
load "${abs_top_srcdir:?}/tests/helpers/stack"
load "${abs_top_srcdir:?}/tests/helpers/jobs"

# Short leases (renewed every third) so a dead worker's job comes back
# within a second; -v logs each claim with the worker's pid.
STACK_ARGS=(--pool 1 --worker-arg --lease=1 --worker-arg --poll=20 --worker-arg -v)

setup_file() { jobs_stack_start "${STACK_ARGS[@]}" --workers 2; }
teardown_file() { jobs_stack_stop; }
teardown() { stack_logs_on_failure; }
# A test that restarts the stack moves it to a new port; tests run in
# processes of their own, so each reads the port again.
setup() {
	PORT=$(<"$STATE/port")
	BASE=http://127.0.0.1:$PORT
}

# running_on ID: wait until job ID runs; print its worker's pid.
running_on() {
	local pid
	wait_job "$1" running 10 || return 1
	for _ in $(seq 100); do
		pid=$(worker_of "$1")
		[[ -n $pid ]] && break
		sleep 0.02
	done
	[[ -n $pid ]] || { echo "no worker logged job $1" >&2; return 1; }
	printf '%s\n' "$pid"
}

@test "kill -9 of a worker mid-job: the job completes elsewhere, attempts = 2" {
	local id pid want
	id=$(post_job '{"task":"wait","secs":1.5}')
	pid=$(running_on "$id")
	kill -KILL "$pid"
	wait_job "$id" "done" 15
	run job "$id"
	assert_equal "$(jq -r .attempts <<<"$output")" 2
	assert_equal "$(jq -r .error <<<"$output")" null
	want=$(curl -fsS "$BASE/wait?secs=1.5")
	assert_equal "$(jq -c .result <<<"$output")" "$want"
	# another worker ran the second attempt
	[[ $(worker_of "$id") != "$pid" ]]
	# and /metrics counts the retry
	for _ in $(seq 30); do
		(($(metric fcgilab_jobs_retried_total) >= 1)) && break
		sleep 0.1
	done
	(($(metric fcgilab_jobs_retried_total) >= 1))
}

@test "multiwatch replaces the killed worker" {
	local n
	for _ in $(seq 50); do
		n=$("$FCGILAB" status --state "$STATE" | sed -n 's/^workers .*, \([0-9]*\) workers:.*/\1/p')
		[[ $n == 2 ]] && break
		sleep 0.1
	done
	assert_equal "$n" 2
}

@test "a worker lost on the last attempt: failed, with the reason" {
	local id pid
	id=$(post_job '{"task":"wait","secs":1.5,"max_attempts":1}')
	pid=$(running_on "$id")
	kill -KILL "$pid"
	wait_job "$id" failed 15
	assert_equal "$(job_field "$id" error)" "worker lost (lease expired) on attempt 1 of 1"
	assert_equal "$(job_field "$id" attempts)" 1
	assert_equal "$(job_field "$id" result)" null
}

@test "kill -9 of the mux right after 200 accepted jobs: all 200 there after restart, all complete" {
	local ids n id
	# no workers for now: the 200 jobs stay queued
	jobs_stack_restart "${STACK_ARGS[@]}" --workers 0
	ids=$(seq 200 | xargs -P 20 -I{} curl -sS --max-time 20 \
		-H 'Content-Type: application/json' -d '{"task":"wait","secs":0.01}' \
		-w '\n%{http_code}\n' "$BASE/jobs" | paste - - |
		awk '$2 == 202 { print $1 }' | jq -r .id)
	kill -KILL "$(cat "$STATE/run/mux.pid")"
	n=$(grep -c '^[0-9a-f]\{32\}$' <<<"$ids")
	assert_equal "$n" 200
	# the whole stack again, with workers, on the same state and store
	jobs_stack_restart "${STACK_ARGS[@]}" --workers 2
	for id in $ids; do
		[[ $(job_field "$id" status) =~ ^(queued|running|done)$ ]] ||
			fail "job $id lost: $(job "$id")"
	done
	for id in $ids; do
		wait_job "$id" "done" 30
	done
}

@test "restart of the whole stack: queued jobs are kept and run" {
	local a b
	jobs_stack_restart "${STACK_ARGS[@]}" --workers 0
	# no worker of an earlier stack may be left behind
	run "$FCGILAB" status --state "$STATE"
	assert_line 'workers   none'
	a=$(post_job '{"task":"wait","secs":0}')
	b=$(post_job '{"task":"cpu","n":1000}')
	jobs_stack_restart "${STACK_ARGS[@]}" --workers 0
	assert_equal "$(job_field "$a" status)" queued
	assert_equal "$(job_field "$b" status)" queued
	jobs_stack_restart "${STACK_ARGS[@]}" --workers 2
	wait_job "$a" "done"
	wait_job "$b" "done"
	assert_equal "$(job_field "$b" result | jq -c .)" '{"n":1000,"result":168}'
}

@test "fcgilab stop mid-job: the worker finishes the job in hand first" {
	local id
	id=$(post_job '{"task":"wait","secs":1}')
	wait_job "$id" running
	jobs_stack_restart "${STACK_ARGS[@]}" --workers 2
	# stop waited for it: done on its first attempt, not retried
	assert_equal "$(job_field "$id" status)" "done"
	assert_equal "$(job_field "$id" attempts)" 1
}
