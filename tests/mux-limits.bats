#!/usr/bin/env bats
# The mux at its configured limits, and its SIGTERM drain: a stack with a
# concurrency limit of 5, and a mux run directly with --listen.

# code, body, headers and secs are set by http() in helpers/stack.bash;
# MUX_PID is per test (bats runs a test and its teardown in one shell).
# shellcheck disable=SC2154,SC2030,SC2031
load helpers/stack

setup_file() { stack_start --pool 1 --mux-arg --max-inflight=5; }
teardown_file() { stack_stop; }
teardown() {
	stack_logs_on_failure
	if [[ -n ${MUX_PID:-} ]]; then
		kill -KILL "$MUX_PID" 2>/dev/null || true
		wait "$MUX_PID" 2>/dev/null || true
	fi
}

@test "beyond --max-inflight=5 requests get 503 at once, not a hang" {
	local out
	out=$(concurrent 8 '/wait_async?secs=1.5' | sort | uniq -c | awk '{ print $2 ":" $1 }' | tr '\n' ' ')
	assert_equal "$out" "200:5 503:3 "
	[ "$(metric fcgilab_requests_overloaded_total)" -ge 3 ]
}

@test "the 503 is JSON with Retry-After, and answers quickly" {
	local i
	for ((i = 0; i < 5; i++)); do
		curl -sS -o /dev/null "$BASE/wait_async?secs=1" &
	done
	sleep 0.3
	http GET '/wait_async?secs=0'
	wait
	assert_equal "$code" 503
	assert_equal "$(header Retry-After)" 1
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$body" '{"detail":"Service Unavailable"}'
	between "$secs" 0 0.5
	http GET '/wait_async?secs=0' # and once they are done, service again
	assert_equal "$code" 200
}

# run_mux ARGS…: fcgilab-mux on its own unix socket, as our child.
run_mux() {
	SOCK=$BATS_TEST_TMPDIR/mux.sock
	rm -f "$SOCK" # an earlier mux's: waiting on it would not wait at all
	"$abs_top_builddir/fcgi/fcgilab-mux" --listen "$SOCK" "$@" \
		2>"$BATS_TEST_TMPDIR/mux.log" 3>&- &
	MUX_PID=$!
	for _ in $(seq 100); do [ -S "$SOCK" ] && return 0; sleep 0.02; done
	fail "no socket"
}

# fcgi_get PATH QUERY: one request straight to the mux with libfcgi's
# cgi-fcgi (no lighttpd); prints the CGI response.
fcgi_get() {
	REQUEST_METHOD=GET SCRIPT_NAME=$1 QUERY_STRING=$2 SERVER_PROTOCOL=HTTP/1.1 \
		cgi-fcgi -bind -connect "$SOCK" </dev/null
}

@test "--listen PATH: a socket of mode 0660 that cgi-fcgi can talk to" {
	run_mux
	[ "$(stat -c %a "$SOCK")" = 660 ]
	run fcgi_get /wait_async 'secs=0.1'
	assert_success
	assert_line --partial 'Status: 200 OK'
	assert_line '{"status":"ready","seconds":0.1}'
	run fcgi_get /wait_async 'secs=x'
	assert_line --partial 'Status: 422'
}

@test "SIGTERM: in-flight requests finish, new ones are refused, exit 0" {
	local rc
	run_mux --grace 10
	fcgi_get /wait_async 'secs=0.8' >"$BATS_TEST_TMPDIR/out" &
	local client=$!
	sleep 0.3
	kill -TERM "$MUX_PID"
	sleep 0.1
	run fcgi_get /wait_async 'secs=0' # the listener is closed now
	refute_line --partial 'Status: 200'
	wait "$client"
	grep -q '{"status":"ready","seconds":0.8}' "$BATS_TEST_TMPDIR/out"
	rc=0
	wait "$MUX_PID" || rc=$?
	MUX_PID=
	assert_equal "$rc" 0
}

@test "SIGTERM: the grace period bounds the drain" {
	local t0 rc=0
	run_mux --grace 1
	fcgi_get /wait_async 'secs=30' >/dev/null &
	sleep 0.3
	t0=$SECONDS
	kill -TERM "$MUX_PID"
	wait "$MUX_PID" || rc=$?
	MUX_PID=
	assert_equal "$rc" 0
	((SECONDS - t0 <= 3))
}

@test "bad options: exit 2 with a message" {
	run "$abs_top_builddir/fcgi/fcgilab-mux" --max-inflight 0
	assert_failure 2
	assert_output --partial 'max-inflight'
	run "$abs_top_builddir/fcgi/fcgilab-mux" --bogus
	assert_failure 2
	run "$abs_top_builddir/fcgi/fcgilab-mux" </dev/null
	assert_failure 1
	assert_output --partial 'not a listening socket'
}

# fcgi_post PATH QUERY BODY: a POST of BODY straight to the mux.
fcgi_post() {
	REQUEST_METHOD=POST SCRIPT_NAME=$1 QUERY_STRING=$2 CONTENT_LENGTH=${#3} \
		CONTENT_TYPE=application/octet-stream SERVER_PROTOCOL=HTTP/1.1 \
		cgi-fcgi -bind -connect "$SOCK" < <(printf '%s' "$3")
}

@test "uploads and jobs not configured: 503 JSON for their routes, exports still served" {
	run_mux
	run fcgi_post /upload '' hello
	assert_line --partial 'Status: 503'
	assert_line '{"detail":"Uploads are not configured"}'
	run fcgi_get /export.csv 'rows=2'
	assert_line --partial 'Status: 200'
	assert_line '2,item-2,158.38,2026-01-01T00:00:01Z'
	kill -TERM "$MUX_PID"
	wait "$MUX_PID" || true
	mkdir "$BATS_TEST_TMPDIR/up"
	run_mux --uploads "$BATS_TEST_TMPDIR/up"
	run fcgi_post /uploads 'process=stats' hello
	assert_line --partial 'Status: 503'
	assert_line '{"detail":"Background jobs are not configured"}'
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/up")" ]
	run fcgi_post /upload '' hello
	assert_line --partial 'Status: 201'
	assert_output --partial '"bytes":5'
	assert_output --partial '"sha256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"'
}

@test "--uploads DIR that cannot be opened: the mux says so and exits 1" {
	run "$abs_top_builddir/fcgi/fcgilab-mux" --listen "$BATS_TEST_TMPDIR/m.sock" \
		--uploads "$BATS_TEST_TMPDIR/missing" 3>&-
	assert_failure 1
	assert_output --partial "$BATS_TEST_TMPDIR/missing"
	# a start that failed leaves no socket behind
	[ ! -e "$BATS_TEST_TMPDIR/m.sock" ]
}
