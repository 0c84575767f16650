#!/usr/bin/env bats
# fcgilab compare end to end with tiny numbers: every scenario, the header
# and its replay command, the table against the ideal schedules, one lane
# per pool worker, the sweep, JSON carrying what the text says, sentences
# only about what happened, private stacks stopped, bad input.

# BASE, STATE, FCGILAB (helpers/stack.bash) and abs_top_builddir (make).
# shellcheck disable=SC2153,SC2154
load helpers/stack

setup_file() { stack_start --pool 2; }
teardown_file() { stack_stop; }
teardown() { stack_logs_on_failure; }

compare() { "$FCGILAB" compare --state "$STATE" "$@"; }
report() { "$abs_top_builddir/tools/fcgilab-report" "$@"; }

# ports_of JSON: the ports of the stacks compare started itself.
own_ports() {
	jq -r '.header.stacks' "$1" | grep -o 'of its own (http://127.0.0.1:[0-9]*' | sed 's/.*://'
}

@test "compare (wait) on the running pool: header, table against the ideal schedules, explanation, one lane per worker" {
	local out=$BATS_TEST_TMPDIR/out
	run compare --pool 2 -n 12 --secs 0.1..0.3 --seed 7 --out "$out" --gauge
	assert_success
	for row in scenario requests waits seed 'client timeout' 'pool sizes' cores fcgilab replay stacks; do
		assert_line --regexp "^$row +[^ ]"
	done
	assert_line --regexp '^replay +fcgilab compare --scenario wait --pool 2 -n 12 --secs 0.1..0.3 --seed 7 --timeout 60$'
	assert_line --regexp "^stacks +pool of 2: the running stack \(http://127.0.0.1:$PORT/\); the mux: the running stack.s$"
	for row in requests workers 'sum of waits' 'longest wait' 'total wall' 'ideal total' \
		'FCFS prediction' efficiency 'completions/s \(run\)' 'capacity \(P/mean wait\)' \
		'latency p50' 'latency p95' 'latency max' 'ok / errors' statuses 'workers seen' \
		'most queued at once'; do
		assert_line --regexp "^$row "
	done
	refute_line --regexp '^requests/s'
	assert_line --regexp '^requests +12 +12$'
	assert_line --regexp '^statuses +200 x12 +200 x12$'
	assert_line --regexp '^workers seen +2 +-$'
	assert_output --partial 'What the numbers say:'
	assert_output --partial "Timeline: $out/timeline.svg"
	xmllint --noout "$out/timeline.svg"
	# one group per request in each panel; the pool's in two lanes
	[ "$(grep -c '<g data-request=' "$out/timeline.svg")" = 24 ]
	[ "$(grep '<g data-request=' "$out/timeline.svg" | grep -c 'class="served-pool')" = 12 ]
	[ "$(grep '<g data-request=' "$out/timeline.svg" | grep -c 'class="served-async"')" = 12 ]
	# the marks: ideal and FCFS (the timeout, 60 s, is beyond the axis)
	grep -q 'class="mark-ideal"' "$out/timeline.svg"
	grep -q 'beyond the axis: timeout 60.00 s' "$out/timeline.svg"
	# the CSV names the worker of each request: two pids, six each
	run sh -c "tail -n +2 '$out/pool-2.csv' | cut -d, -f8 | sort | uniq -c | wc -l"
	assert_output 2
	# the page's files: the plan, and the gauge of each backend
	jq -e '.state == "done" and (.runs | map(.csv)) == ["pool-2.csv", "mux.csv"]' "$out/status.json"
	head -n 1 "$out/gauge.csv" | grep -qx 't,backend,active,queued'
	grep -qE '^[0-9.]+,pool of 2,[0-2],[0-9]+$' "$out/gauge.csv"
	grep -qE '^[0-9.]+,mux,[0-9]+,0$' "$out/gauge.csv"
	# the mux takes about max S, the pool about sum S / P (FCFS); generous
	# slack: a busy 2-core machine runs the suites in parallel
	local j=$out/report.json
	jq -e '.runs[1] | .wall >= .max_secs and .wall <= .max_secs + 0.5' "$j"
	jq -e '.runs[0] | .wall >= .ideal * 0.98 and .wall <= .fcfs + 1.0' "$j"
	jq -e '.runs[0] | (.capacity_per_sec - 2 / .mean_secs | fabs) < 1e-6 and (.completions_per_sec - 12 / .wall | fabs) < 1e-6' "$j"
}

@test "by default: FastAPI's pool of 40 and a php-fpm-style pool of 4 beside the mux, their stacks stopped after" {
	local out=$BATS_TEST_TMPDIR/out port
	run compare -n 12 --secs 0.1..0.2 --seed 8 --out "$out"
	assert_success
	assert_line --regexp '^ +/wait, pool of 40 +/wait, pool of 4 +/wait_async, mux$'
	assert_line --regexp '^models +FastAPI def \(AnyIO: 40\) +php-fpm-style fixed pool +FastAPI async def$'
	assert_line --regexp '^pool sizes +40,4$'
	# 40 workers for 12 requests: nobody waited for one
	jq -e '.runs[0].pool == 40 and .runs[0].workers_seen == 12 and .runs[0].peak_queue == 0' "$out/report.json"
	jq -e '.runs[1].pool == 4 and .runs[1].workers_seen == 4 and .runs[1].peak_queue >= 4' "$out/report.json"
	assert_output --partial 'so every request had a worker of its own at once'
	for port in $(own_ports "$out/report.json"); do
		run curl -s -o /dev/null -m 2 "http://127.0.0.1:$port/"
		assert_failure
	done
	[ "$(own_ports "$out/report.json" | wc -l)" = 2 ]
}

@test "fixed waits on a pool of 2: waves, each worker serving one request after another" {
	local out=$BATS_TEST_TMPDIR/out
	compare --pool 2 -n 6 --secs 0.3 --out "$out" >/dev/null
	# each of the 2 workers served 3, and never two at once
	run sh -c "tail -n +2 '$out/pool-2.csv' | cut -d, -f8 | sort | uniq -c | awk '{ print \$1 }' | sort -u"
	assert_output 3
	run awk -F, 'NR > 1 { print $8, $4 - $2, $4 }' "$out/pool-2.csv"
	sort -k1,1 -k2,2n <<<"$output" | awk '$1 == w && $2 < prev - 0.01 { bad = 1 } { w = $1; prev = $3 } END { exit bad }'
	jq -e '.runs[0].workers_seen == 2' "$out/report.json"
}

@test "requests that time out are counted and explained, and no efficiency is claimed" {
	local out=$BATS_TEST_TMPDIR/out
	# 8 waits of 0.4 s on a pool of 2 need 1.6 s: a 1 s timeout cuts the
	# last ones off (the mux answers all 8 in 0.4 s)
	run compare --pool 2 -n 8 --secs 0.4 --timeout 1 --seed 3 --out "$out"
	assert_line --regexp '^efficiency +n/a: not all answered +[0-9]+ %$'
	assert_line --regexp '^of which timeouts +[1-9][0-9]* +0$'
	assert_output --partial "passed the client's 1 s timeout"
	grep -q 'class="mark-timeout"' "$out/timeline.svg"
	jq -e '.runs[0].efficiency == null and .runs[1].efficiency > 0.5' "$out/report.json"
}

@test "work left by clients that gave up: compare waits for the pool to be free, and says so" {
	local out=$BATS_TEST_TMPDIR/out
	# two clients give up on 2 s waits: both workers sleep on regardless
	curl -sS -o /dev/null --max-time 0.2 "$BASE/wait?secs=2" &
	curl -sS -o /dev/null --max-time 0.2 "$BASE/wait?secs=2" &
	wait || true
	run compare --pool 2 -n 4 --secs 0.1 --seed 1 --out "$out"
	assert_success
	assert_line 'fcgilab: the pool of 2 is still busy with requests whose clients gave up; waiting for it'
	assert_line --regexp '^fcgilab: the pool of 2 is free again \([0-9]+ s\)$'
	# measured once the workers were free: no request waited for them
	jq -e '.runs[0].wall < 0.9' "$out/report.json" >/dev/null ||
		fail "the pool's measurement waited behind the abandoned work: $(jq -c '.runs[0]' "$out/report.json")"
}

@test "--json carries every figure and sentence the text shows" {
	local out=$BATS_TEST_TMPDIR/o text
	run --separate-stderr compare --pool 2 -n 6 --secs 0.1 --seed 1 --json --out "$out"
	assert_success
	jq -e '.runs | length == 2' <<<"$output"
	jq -e '.runs[0].pool == 2 and .runs[1].pool == 0 and .runs[0].requests == 6' <<<"$output"
	jq -e '.header.replay | startswith("fcgilab compare --scenario wait --pool 2 -n 6")' <<<"$output"
	jq -e '.header.cores == "'"$(nproc)"'"' <<<"$output"
	# the text of the same run: its sentences are the JSON's, rewrapped
	text=$(sed -n '/^What the numbers say:/,$p' "$out/report.txt" | tail -n +2 | tr -s ' \n' '  ')
	assert_equal "$text" "$(jq -r '.explanation[]' "$out/report.json" | tr -s ' \n' '  ')"
	# and its table's figures
	grep -qE "^total wall +$(jq -r '.runs[0].wall * 100 | round / 100' "$out/report.json" | xargs printf '%.2f') s" "$out/report.txt"
}

@test "the header's replay command sends the same waits again" {
	local a=$BATS_TEST_TMPDIR/a b=$BATS_TEST_TMPDIR/b replay
	compare --pool 2 -n 8 --secs 0.1..0.3 --seed 5 --out "$a" >/dev/null
	replay=$(jq -r .header.replay "$a/report.json")
	read -r -a words <<<"${replay#fcgilab }"
	"$FCGILAB" "${words[@]}" --state "$STATE" --out "$b" >/dev/null
	secs_of() { tail -n +2 "$1" | sort -t, -k1,1n | cut -d, -f1,2; }
	assert_equal "$(secs_of "$a/pool-2.csv")" "$(secs_of "$a/mux.csv")"
	assert_equal "$(secs_of "$a/pool-2.csv")" "$(secs_of "$b/pool-2.csv")"
}

@test "--pool 1,2,4: one table row per pool and a plot of total time against P" {
	local out=$BATS_TEST_TMPDIR/out
	run compare --pool 1,2,4 -n 8 --secs 0.1 --out "$out"
	assert_success
	assert_line --regexp '^ +total +sum/P +longest +ideal +FCFS +p50 +timeouts +cap./s +seen$'
	assert_line --regexp '^/wait, pool of 1 +[0-9.]+ s +0.80 s +0.10 s +0.80 s +0.80 s '
	assert_line --regexp '^/wait, pool of 4 +[0-9.]+ s +0.20 s +0.10 s +0.20 s +0.20 s '
	assert_line --regexp '^/wait_async, mux +[0-9.]+ s +- '
	assert_output --partial "Sweep:    $out/sweep.svg"
	xmllint --noout "$out/sweep.svg"
	[ "$(grep -c '<circle class="measured"' "$out/sweep.svg")" = 3 ]
	[ "$(grep -c '<circle class="fcfs"' "$out/sweep.svg")" = 3 ]
	# total time falls with P
	jq -e '[.runs[0:3][] | .wall] | . == (sort | reverse)' "$out/report.json"
}

@test "--scenario cpu: CPU work and waits together, four ways, with the GIL note" {
	local out=$BATS_TEST_TMPDIR/o
	run compare --scenario cpu --pool 2 -n 10 --secs 0.2 --cpu 1000000 --out "$out"
	assert_success
	assert_line --regexp '^pool of 2: /cpu \+ /wait +[0-9.]+ s +[0-9.]+ s +[0-9.]+ s$'
	assert_line --regexp '^mux offloaded: /cpu_async \+ /wait_async +[0-9.]+ s'
	assert_line --regexp '^mux loop: /cpu_async_blocking \+ /wait_async +[0-9.]+ s'
	assert_line --regexp '^jobs: POST /jobs \+ /wait_async +[0-9.]+ s'
	assert_output --partial 'GIL'
	jq -e '.variants | length == 4 and all(.waits_ok == 10 and .cpu_ok == 4)' "$out/report.json"
	# on the loop the waits stall behind the CPU work; offloaded they do not
	jq -e '.variants[2].waits_max > .variants[1].waits_max' "$out/report.json"
	jq -e '.variants[3].work_done > 0 and .variants[3].post_max < .variants[2].waits_max' "$out/report.json"
	jq -e '.header.replay | endswith("--cpu 1000000")' "$out/report.json"
}

@test "--scenario jobs: POSTs answered at once, the work done by the workers, beside holding the connection" {
	local out=$BATS_TEST_TMPDIR/o port
	run compare --scenario jobs --pool 2 -n 8 --secs 0.1..0.3 --seed 4 --out "$out"
	assert_success
	assert_line --regexp '^POST /jobs +8 x 202, p50 [0-9]+ ms, max [0-9]+ ms$'
	assert_line --regexp '^models +holds the connection +answered at once$'
	assert_output --partial 'POSTs were answered in at most'
	jq -e '.runs[1].ok == 8 and .runs[1].pool == 2 and .runs[1].workers_seen <= 2' "$out/report.json"
	# the jobs did the same waits
	secs_of() { tail -n +2 "$1" | cut -d, -f2 | sort -n; }
	assert_equal "$(secs_of "$out/jobs.csv")" "$(secs_of "$out/pool-2.csv")"
	jq -e '.explanation | last | test("answered in at most [0-9]+ ms")' "$out/report.json"
	for port in $(own_ports "$out/report.json"); do
		run curl -s -o /dev/null -m 2 "http://127.0.0.1:$port/"
		assert_failure
	done
}

@test "--scenario blocking shows the stall in numbers" {
	run compare --scenario blocking -n 6 --secs 0.3 --out "$BATS_TEST_TMPDIR/o"
	assert_success
	assert_output --regexp '/wait_async_blocking \(sleep\) +[0-9.]+ s'
	assert_line --regexp '^pool sizes +- \(the mux only\)$'
	# six blocking sleeps of 0.3 s run one after another: about 1.8 s
	jq -e '.wall >= 1.6' "$BATS_TEST_TMPDIR/o/blk-wrong.json"
	jq -e '.wall <= 1.2' "$BATS_TEST_TMPDIR/o/blk-right.json"
	jq -e '.variants[1].probe_max > .variants[0].probe_max and (.explanation | length == 3)' "$BATS_TEST_TMPDIR/o/report.json"
}

@test "--scenario overload: the statuses seen and the queue over time; 500 only when it happened" {
	local out=$BATS_TEST_TMPDIR/o
	run compare --scenario overload --pool 2 -n 40 --secs 0.2 --timeout 1 --out "$out"
	assert_line --regexp '^statuses +200 x[0-9]+ +200 x40$'
	refute_output --partial 'status 500'
	assert_output --regexp 'requests passed the client.s 1 s timeout'
	jq -e '.runs[0].peak_queue > 10 and .runs[0].errors.timeout > 0' "$out/report.json"
	grep -qE '<path class="queue" data-peak="[1-9][0-9]*"' "$out/timeline.svg"
}

@test "each status seen is counted and explained, with when it came" {
	local csv=$BATS_TEST_TMPDIR/s.csv
	{
		echo 'index,secs,start,end,latency,status,error,worker'
		echo '1,0.5,0,0.5,0.5,200,ok,11'
		echo '2,0.5,0,0.31,0.31,500,status_5xx,'
		echo '3,0.5,0,0.42,0.42,500,status_5xx,'
		echo '4,0.5,0,0.05,0.05,503,status_5xx,'
		echo '5,0.5,0,2,2,0,timeout,'
	} >"$csv"
	run report --timeout 2 'p|m' 1 "$csv"
	assert_success
	assert_output --partial '2 answers had status 500, after 0.31 to 0.42 s: lighttpd could not hand'
	assert_output --partial '1 answer had status 503'
	assert_output --partial "1 of 5 requests passed the client's 2 s timeout"
	assert_line --regexp '^statuses +200 x1, 500 x2, 503 x1$'
	run report --json 'p|m' 1 "$csv"
	jq -e '.runs[0].statuses == {"200": 1, "500": 2, "503": 1} and .runs[0].status_secs["500"].last == 0.42' <<<"$output"
}

@test "without a running stack, compare starts one and stops it" {
	local s=/tmp/fcgilab-test-none.$$ port
	run "$FCGILAB" compare --state "$s" --pool 2 -n 4 --secs 0.1 --seed 3 --out "$BATS_TEST_TMPDIR/o"
	assert_success
	assert_output --partial 'requests'
	assert_output --partial 'started 1 stack(s) of its own'
	port=$(own_ports "$BATS_TEST_TMPDIR/o/report.json")
	[ -n "$port" ]
	run curl -s -o /dev/null -m 2 "http://127.0.0.1:$port/"
	assert_failure
	[ ! -e "$s" ]
}

@test "bad arguments: exit 2 with a message" {
	local a
	for a in "--scenario bogus" "-n 0" "--pool x" "--pool 0" "--pool 2,,4" "--pool 1025" \
		"--pool 1,2,3,4,5,6,7,8,9,10,11,12,13" "--timeout soon" "--timeout 0" \
		"--secs abc" "--secs 1..x" "--seed -1" "--cpu x" "--bogus"; do
		# shellcheck disable=SC2086
		run compare $a
		assert_failure 2
		assert_output --partial 'compare'
	done
}
