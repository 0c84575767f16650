#!/usr/bin/env bats
# send_many against a real stack (lighttpd, the pool of 4, the mux): the
# result lines, the summary, JSON and CSV, replay by seed, timeouts,
# errors by kind, exit statuses, and the lesson's effect in miniature.

# abs_top_builddir comes from make check; stderr_lines from bats' run.
# shellcheck disable=SC2154
load helpers/stack

SM=$abs_top_builddir/tools/send_many

setup_file() { stack_start --pool 4; }
teardown_file() { stack_stop; }
teardown() { stack_logs_on_failure; }

@test "each result is one line in the lesson's format, then a summary" {
	run "$SM" -n 6 --secs 0.2 "$BASE/wait"
	assert_success
	assert_equal "$(grep -cE '^request [1-6] \(secs=0\.2\) -> 200 OK \{"status":"ready","seconds":0\.2\} in [0-9]+\.[0-9]{3} s$' <<<"$output")" 6
	assert_line --regexp '^summary: 6 requests, 6 ok \(2xx\), 0 failed$'
	assert_line --regexp '^latency \(6 responses, from intended start\): min .* p50 .* p95 .* p99 .* max '
	assert_line 'errors: none'
}

@test "--json: one JSON object on stdout, everything counted" {
	run --separate-stderr "$SM" --json -n 8 --secs 0.1 "$BASE/wait"
	assert_success
	assert_equal "$(jq -r '[.count, .ok, .failed, .latency.count, .errors.timeout, .status."200"] | @tsv' <<<"$output")" \
		"$(printf '8\t8\t0\t8\t0\t8')"
	assert_equal "$(jq -r '.secs.mode, .secs.sum, .seed' <<<"$output")" "$(printf 'fixed\n0.8\nnull')"
}

@test "8 waits of 0.5 s on a pool of 4 take two rounds (~1 s)" {
	run "$SM" --json -n 8 --secs 0.5 "$BASE/wait"
	assert_success
	between "$(jq .wall <<<"$output")" 0.95 1.6
}

@test "the mux does 40 waits of 0.5 s at once (~0.5 s)" {
	run "$SM" --json -n 40 --secs 0.5 "$BASE/wait_async"
	assert_success
	between "$(jq .wall <<<"$output")" 0.45 0.95
}

@test "the same seed sends the same secs; the seed is printed" {
	"$SM" -q -n 12 --secs 0.01..0.09 --seed 7 --csv "$BATS_TEST_TMPDIR/a.csv" "$BASE/wait"
	"$SM" -q -n 12 --secs 0.01..0.09 --seed 7 --csv "$BATS_TEST_TMPDIR/b.csv" "$BASE/wait"
	a=$(tail -n +2 "$BATS_TEST_TMPDIR/a.csv" | cut -d, -f1,2 | sort -n)
	b=$(tail -n +2 "$BATS_TEST_TMPDIR/b.csv" | cut -d, -f1,2 | sort -n)
	assert_equal "$a" "$b"
	run "$SM" -n 2 --secs 0..0 "$BASE/wait"
	assert_line --regexp '^seed: [0-9]+ \(random; replay with --seed\)$'
}

@test "--seed 42 draws the lesson's Python sequence (sum 509)" {
	# (the mux holds all 100; a 0.05 s timeout ends the run at once)
	run "$SM" --json -n 100 --seed 42 --timeout 0.05 "$BASE/wait_async"
	assert_failure 1
	assert_equal "$(jq -r '.secs.sum, .secs.max, .errors.timeout' <<<"$output")" "$(printf '509\n10\n100')"
}

@test "--csv: a header and one row per request, with the pool worker that served it" {
	"$SM" -q -n 5 --secs 0 --csv "$BATS_TEST_TMPDIR/r.csv" "$BASE/wait"
	run cat "$BATS_TEST_TMPDIR/r.csv"
	assert_line --index 0 'index,secs,start,end,latency,status,error,worker'
	assert_equal "${#lines[@]}" 6
	assert_equal "$(grep -cE '^[1-5],0,0\.000000,[0-9]+\.[0-9]{6},[0-9]+\.[0-9]{6},200,ok,[0-9]+$' "$BATS_TEST_TMPDIR/r.csv")" 5
	# the worker is a pid of the pool (a child of its supervisor)
	local w sup
	sup=$(<"$STATE/run/sync.pid")
	for w in $(tail -n +2 "$BATS_TEST_TMPDIR/r.csv" | cut -d, -f8 | sort -u); do
		[ "$(ps -o ppid= -p "$w" | tr -d ' ')" = "$sup" ]
	done
	# the mux names no worker
	"$SM" -q -n 2 --secs 0 --csv "$BATS_TEST_TMPDIR/m.csv" "$BASE/wait_async"
	assert_equal "$(grep -c ',200,ok,$' "$BATS_TEST_TMPDIR/m.csv")" 2
}

@test "8 waits of 0.3 s on a pool of 4: each worker serves two, one after the other" {
	"$SM" -q -n 8 --secs 0.3 --csv "$BATS_TEST_TMPDIR/w.csv" "$BASE/wait"
	run sh -c "tail -n +2 '$BATS_TEST_TMPDIR/w.csv' | cut -d, -f8 | sort | uniq -c | awk '{ print \$1 }' | sort -u"
	assert_output 2
}

@test "--post: a JSON body with each request's secs in it" {
	run --separate-stderr "$SM" --json -n 4 --secs 0.1..0.3 --seed 2 \
		--post '{"task":"wait","secs":{secs}}' "$BASE/jobs"
	assert_success
	assert_equal "$(jq -r '.status."202", .ok' <<<"$output")" "$(printf '4\n4')"
	# the jobs hold exactly the waits the seed gives
	run "$SM" -n 4 --secs 0.1..0.3 --seed 2 --timeout 0.001 "$BASE/wait_async"
	local want got
	want=$(grep -oE 'secs=[0-9.]+' <<<"$output" | cut -d= -f2 | sort | tr '\n' ' ')
	got=$(curl -sS "$BASE/jobs?limit=4" | jq -r '.items[].params.secs' | sort | tr '\n' ' ')
	assert_equal "$got" "$want"
	# a body without secs
	run "$SM" -q -n 2 --no-secs --post '{"task":"cpu","n":100}' "$BASE/jobs"
	assert_success
	assert_line 'status: 202 x2'
	# a bad body is the server's 422, counted
	run "$SM" -q -n 1 --no-secs --post '{"task":' "$BASE/jobs"
	assert_failure 1
	assert_line 'status: 422 x1'
}

@test "a timeout counts from the intended start, and exits 1" {
	run "$SM" --json -n 3 --secs 2 --timeout 0.3 "$BASE/wait_async"
	assert_failure 1
	assert_equal "$(jq -r '.errors.timeout, .ok' <<<"$output")" "$(printf '3\n0')"
	between "$(jq .wall <<<"$output")" 0.29 0.8
}

@test "errors by kind: 4xx from the server; no server at all is a usage error" {
	run "$SM" -n 2 "$BASE/wait?secs=abc"
	assert_failure 1
	assert_line --regexp '^request 1 \(secs=abc\) -> 422 Unprocessable Entity \{"detail":'
	assert_line 'errors: status_4xx 2'
	run "$SM" -n 2 --no-secs http://127.0.0.1:1/
	assert_failure 2
	assert_output 'send_many: cannot connect to 127.0.0.1:1: Connection refused'
}

@test "--no-secs and --keepalive with -c < -n" {
	run "$SM" -q --keepalive -c 2 -n 50 --no-secs "$BASE/"
	assert_success
	assert_line 'status: 200 x50'
}

@test "usage errors: one line on stderr, exit 2" {
	local args
	for args in "-n 0" "--secs 5..1" "--secs a..b" "--secs -1" "--bogus" \
		"https://localhost/" "http://h:0/" "-n 10000000" \
		"--post {} $BASE/jobs" "--no-secs --post {secs} $BASE/jobs" \
		"--post $(printf '%05000d' 0) $BASE/jobs"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$SM" $args
		assert_equal "$status" 2
		assert_equal "${#stderr_lines[@]}" 1
		assert_output ''
	done
}
