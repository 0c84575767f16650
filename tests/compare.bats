#!/usr/bin/env bats
# fcgilab compare end to end with tiny numbers: the table, the figures
# against the ideal schedules, the SVG, JSON, replay by seed, bad input.

# BASE, STATE, FCGILAB (helpers/stack.bash) and abs_top_builddir (make).
# shellcheck disable=SC2153,SC2154
load helpers/stack

setup_file() { stack_start --pool 2; }
teardown_file() { stack_stop; }
teardown() { stack_logs_on_failure; }

compare() { "$FCGILAB" compare --state "$STATE" "$@"; }

@test "compare (wait): table, explanation, a valid SVG with one bar per request" {
	local out=$BATS_TEST_TMPDIR/out
	run compare -n 12 --secs 0.1..0.3 --seed 7 --out "$out"
	assert_success
	for row in requests workers 'sum of waits' 'total wall' 'ideal total' \
		efficiency requests/s 'latency p50' 'latency p95' 'latency max' \
		'ok / errors'; do
		assert_line --regexp "^$row "
	done
	assert_line --regexp '^requests +12 +12$'
	assert_output --partial 'What the numbers say:'
	assert_output --partial "Timeline: $out/timeline.svg"
	xmllint --noout "$out/timeline.svg"
	# one bar (a group: queued, then served) per request, in each panel
	[ "$(grep -c '<g data-request=' "$out/timeline.svg")" = 24 ]
	[ "$(grep '<g data-request=' "$out/timeline.svg" | grep -c 'class="served-pool"')" = 12 ]
	[ "$(grep '<g data-request=' "$out/timeline.svg" | grep -c 'class="served-async"')" = 12 ]
}

@test "the mux takes about max S, the pool about sum S / P (first come, first served)" {
	local out=$BATS_TEST_TMPDIR/out j
	compare -n 12 --secs 0.1..0.3 --seed 11 --out "$out" >/dev/null
	j=$("$abs_top_builddir/tools/fcgilab-report" --json \
		pool 2 "$out/pool.csv" mux 0 "$out/mux.csv")
	# generous slack: a busy 2-core machine runs the suites in parallel
	jq -e '.runs[1] | .wall >= .max_secs and .wall <= .max_secs + 0.5' <<<"$j"
	jq -e '.runs[0] | .wall >= .ideal * 0.98 and .wall <= .fcfs + 1.0' <<<"$j"
	jq -e '.runs[0].ok == 12 and .runs[1].ok == 12' <<<"$j"
}

@test "requests that time out are counted and explained, and no efficiency is claimed" {
	local out=$BATS_TEST_TMPDIR/out j
	# 8 waits of 0.4 s on a pool of 2 need 1.6 s: a 1 s timeout cuts the
	# last ones off (the mux answers all 8 in 0.4 s)
	run compare -n 8 --secs 0.4 --timeout 1 --seed 3 --out "$out"
	assert_line --regexp '^efficiency +n/a: not all answered +[0-9]+ %$'
	assert_line --regexp '^of which timeouts +[1-9][0-9]* +0$'
	assert_output --partial "passed the client's 1 s timeout"
	j=$("$abs_top_builddir/tools/fcgilab-report" --json \
		pool 2 "$out/pool.csv" mux 0 "$out/mux.csv")
	jq -e '.runs[0].efficiency == null and .runs[1].efficiency > 0.5' <<<"$j"
}

@test "--json prints the figures only, with the pool size" {
	run compare -n 4 --secs 0.1 --seed 1 --json --out "$BATS_TEST_TMPDIR/o"
	assert_success
	jq -e '.runs | length == 2' <<<"$output"
	jq -e '.runs[0].pool == 2 and .runs[1].pool == 0' <<<"$output"
	jq -e '.runs[0].requests == 4' <<<"$output"
}

@test "the same seed sends the same waits to both, and again on replay" {
	local a=$BATS_TEST_TMPDIR/a b=$BATS_TEST_TMPDIR/b
	compare -n 8 --secs 0.1..0.3 --seed 5 --out "$a" >/dev/null
	compare -n 8 --secs 0.1..0.3 --seed 5 --out "$b" >/dev/null
	secs_of() { tail -n +2 "$1" | sort -t, -k1,1n | cut -d, -f1,2; }
	assert_equal "$(secs_of "$a/pool.csv")" "$(secs_of "$a/mux.csv")"
	assert_equal "$(secs_of "$a/pool.csv")" "$(secs_of "$b/pool.csv")"
}

@test "--scenario blocking shows the stall in numbers" {
	run compare --scenario blocking --out "$BATS_TEST_TMPDIR/o"
	assert_success
	assert_output --regexp '/wait_async_blocking \(sleep\) +[0-9.]+ s'
	# ten blocking sleeps of 0.5 s run one after another: about 5 s
	jq -e '.wall >= 4.5' "$BATS_TEST_TMPDIR/o/blk-wrong.json"
	jq -e '.wall <= 2' "$BATS_TEST_TMPDIR/o/blk-right.json"
}

@test "without a running stack, compare starts one and stops it" {
	local s=/tmp/fcgilab-test-none.$$ started
	run "$FCGILAB" compare --state "$s" -n 4 --secs 0.1 --seed 3 --out "$BATS_TEST_TMPDIR/o"
	assert_success
	assert_output --partial 'requests'
	started=$(sed -n 's/^fcgilab: started a stack for this comparison in \([^ ]*\) .*/\1/p' <<<"$output")
	[ -n "$started" ]
	no_process_of "$started"
	[ ! -e "$started" ]
}

@test "bad arguments: exit 2 with a message" {
	run compare --scenario bogus
	assert_failure 2
	assert_output --partial scenario
	run compare -n 0
	assert_failure 2
	run compare --pool x
	assert_failure 2
	run compare --timeout soon
	assert_failure 2
	run compare --bogus
	assert_failure 2
}
