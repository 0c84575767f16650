#!/usr/bin/env bats
# The fcgilab control command: start, stop, status, their errors, and
# several stacks side by side. Each test starts and stops its own stacks.

load helpers/stack

teardown() {
	stack_logs_on_failure
	local s
	for s in "${STACKS[@]}"; do
		"$FCGILAB" stop --state "$s" --grace 2 >/dev/null 2>&1 || true
		rm -rf "$s"
	done
}

setup() {
	STACKS=()
}

# new_state VAR: a fresh state dir in VAR, remembered for teardown (not in
# a $(…) subshell, or teardown would never learn of it).
new_state() {
	local -n dir=$1
	dir=$(mktemp -d /tmp/fcgilab-test.XXXXXX)
	STACKS+=("$dir")
}

@test "--help for every command, and --version" {
	for c in start stop status; do
		run "$FCGILAB" "$c" --help
		assert_success
		assert_output --partial "usage: fcgilab $c"
	done
	run "$FCGILAB" --help
	assert_success
	run "$FCGILAB" --version
	assert_output --regexp '^fcgilab [0-9]+\.[0-9]+'
}

@test "bad arguments: exit 2 with a message" {
	run "$FCGILAB" start --pool 0
	assert_failure 2
	assert_output --partial -- '--pool'
	run "$FCGILAB" start --port 70000
	assert_failure 2
	for v in 0 -1 1k ''; do
		run "$FCGILAB" start --max-upload "$v"
		assert_failure 2
		assert_output --partial -- '--max-upload'
	done
	run "$FCGILAB" start --bogus
	assert_failure 2
	run "$FCGILAB" frobnicate
	assert_failure 2
	run "$FCGILAB"
	assert_failure 2
}

@test "start prints the URL; status shows it; stop leaves nothing behind" {
	local s
	new_state s
	run "$FCGILAB" start --port 0 --state "$s" --pool 3 3>&-
	assert_success
	assert_output --regexp 'running at http://127\.0\.0\.1:[0-9]+/'
	run curl -sS "$(<"$s/url")wait?secs=0"
	assert_output '{"status":"ready","seconds":0}'
	run "$FCGILAB" status --state "$s"
	assert_success
	assert_line --regexp '^lighttpd  running, pid [0-9]+'
	assert_line --regexp '^pool      running, supervisor pid [0-9]+, 3 workers'
	[ "$(stat -c %a "$s/sync.sock")" = 660 ]
	run "$FCGILAB" stop --state "$s"
	assert_success
	assert_output --partial stopped
	no_process_of "$s"
	[ ! -e "$s/sync.sock" ]
	run "$FCGILAB" status --state "$s"
	assert_failure 3
}

@test "a port in use is refused with the reason" {
	local s1 s2 port
	new_state s1
	new_state s2
	"$FCGILAB" start --port 0 --state "$s1" --pool 1 3>&- >/dev/null
	port=$(<"$s1/port")
	run "$FCGILAB" start --port "$port" --state "$s2" --pool 1 3>&-
	assert_failure 1
	assert_output --partial "port $port is in use"
	no_process_of "$s2"
}

@test "two stacks run side by side and stop independently" {
	local a b
	new_state a
	new_state b
	"$FCGILAB" start --port 0 --state "$a" --pool 1 3>&- >/dev/null
	"$FCGILAB" start --port 0 --state "$b" --pool 2 3>&- >/dev/null
	[ "$(<"$a/port")" != "$(<"$b/port")" ]
	run curl -sS "$(<"$a/url")"
	assert_output '{"Hello":"World"}'
	"$FCGILAB" stop --state "$a" >/dev/null
	no_process_of "$a"
	run curl -sS "$(<"$b/url")"
	assert_output '{"Hello":"World"}'
}

@test "starting twice in one state dir is refused" {
	local s
	new_state s
	"$FCGILAB" start --port 0 --state "$s" --pool 1 3>&- >/dev/null
	run "$FCGILAB" start --port 0 --state "$s" --pool 1 3>&-
	assert_failure 1
	assert_output --partial 'already running'
}

@test "stop lets a request in flight finish" {
	local s url pid
	new_state s
	"$FCGILAB" start --port 0 --state "$s" --pool 1 3>&- >/dev/null
	url=$(<"$s/url")
	curl -sS "${url}wait?secs=0.6" >"$BATS_TEST_TMPDIR/out" &
	pid=$!
	sleep 0.2
	"$FCGILAB" stop --state "$s" >/dev/null
	wait "$pid"
	assert_equal "$(<"$BATS_TEST_TMPDIR/out")" '{"status":"ready","seconds":0.6}'
	no_process_of "$s"
}

# drains_a_long_wait STATE: a wait of 11 s (past lighttpd 1.4.69's default
# graceful limit of 8 s) started, then `fcgilab stop`: the wait ends 200.
drains_a_long_wait() {
	local pid
	curl -sS -w ' %{http_code}' "$(<"$1/url")wait_async?secs=11" >"$BATS_TEST_TMPDIR/out" &
	pid=$!
	sleep 0.5
	"$FCGILAB" stop --state "$1" --grace 20 >/dev/null
	wait "$pid"
	assert_equal "$(<"$BATS_TEST_TMPDIR/out")" '{"status":"ready","seconds":11} 200'
}

@test "a wait longer than lighttpd 1.4.69's default graceful limit (8 s) finishes through stop" {
	local s
	new_state s
	"$FCGILAB" start --port 0 --state "$s" --pool 1 --workers 0 3>&- >/dev/null
	run grep -c 'unknown config-key' "$s/log/lighttpd.log"
	assert_output 0
	drains_a_long_wait "$s"
	no_process_of "$s"
}

@test "--capacity past one lighttpd's fd limit: prefork workers, one access log, a graceful stop" {
	local s url per pids i
	per=$(($(ulimit -Sn) / 2 - 16)) # what one lighttpd process holds
	((per > 0 && per + 1 <= $(ulimit -Hn) - 32)) || skip "fd limits too small here"
	new_state s
	run "$FCGILAB" start --port 0 --state "$s" --pool 1 --workers 0 --capacity "$((per + 1))" 3>&-
	assert_success
	assert_output --partial 'lighttpd: 2 prefork workers'
	run grep -E '^server\.max-(worker|connections) ' "$s/lighttpd.conf"
	assert_line --regexp "^server\.max-connections = $per\$"
	assert_line --regexp '^server\.max-worker += 2$'
	run "$FCGILAB" status --state "$s"
	assert_success
	assert_line --regexp '^lighttpd  running, pid [0-9]+, .* \(2 prefork workers: [0-9]+ [0-9]+\)$'
	pids=$(ps --ppid "$(<"$s/run/lighttpd.pid")" -o pid=,comm= | awk '$2 == "lighttpd"' | wc -l)
	assert_equal "$pids" 2
	url=$(<"$s/url")
	# 40 requests, a connection each: every worker logs to the one file
	: >"$s/log/access.log"
	for ((i = 0; i < 40; i++)); do
		curl -sS -o /dev/null "${url}wait_async?secs=0"
	done
	# the master passes SIGINT on; the worker holding the wait drains it
	drains_a_long_wait "$s"
	run grep -c ' "GET /wait_async?secs=0 HTTP/1.1" 200 ' "$s/log/access.log"
	assert_output 40
	no_process_of "$s"
}

@test "--capacity: bad values, and more than the mux's fd limit, are refused" {
	local s hard
	for v in 0 -1 abc 1.5 '' 12345678; do
		run "$FCGILAB" start --capacity "$v"
		assert_failure 2
		assert_output --partial -- '--capacity'
	done
	hard=$(ulimit -Hn)
	[[ $hard != unlimited ]] || skip "no hard fd limit here"
	((hard + 1 <= 9999999)) || skip "hard fd limit too large to exceed"
	new_state s
	run "$FCGILAB" start --port 0 --state "$s" --capacity "$((hard + 1))" 3>&-
	assert_failure 1
	assert_output --partial "its limit is $hard"
	no_process_of "$s"
}

@test "--max-secs sets the largest accepted secs" {
	local s
	new_state s
	"$FCGILAB" start --port 0 --state "$s" --pool 1 --max-secs 2 3>&- >/dev/null
	run curl -sS "$(<"$s/url")wait?secs=3"
	assert_output --partial '"ctx":{"le":2.0}'
}

@test "a stale pid file never makes stop signal a stranger" {
	local s
	new_state s
	mkdir -p "$s/run"
	sleep 30 &
	echo "$!" >"$s/run/lighttpd.pid"
	run "$FCGILAB" stop --state "$s"
	assert_success
	assert_output --partial 'nothing was running'
	kill -0 "$!"
	kill "$!"
}
