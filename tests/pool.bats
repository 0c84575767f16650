#!/usr/bin/env bats
# The blocking pool: P workers serve M waits in ceil(M/P) rounds, and a
# crashed worker is replaced.

# BASE, STATE (helpers/stack.bash) and abs_top_builddir (make).
# shellcheck disable=SC2153,SC2154
load helpers/stack

setup_file() { stack_start --pool 2; }
teardown_file() { stack_stop; }
teardown() { stack_logs_on_failure; }

workers() { ps --ppid "$(<"$STATE/run/sync.pid")" -o pid= | tr -d ' '; }

@test "the pool runs P=2 workers" {
	run workers
	assert_equal "${#lines[@]}" 2
}

@test "2 concurrent waits of 0.5 s on 2 workers take one round (~0.5 s)" {
	run "$abs_top_builddir/tools/send_many" --json -n 2 --secs 0.5 "$BASE/wait"
	assert_success
	jq -e '.ok == 2 and .wall >= 0.49 and .wall < 0.95' <<<"$output" # 2 rounds: 1 s
}

@test "4 concurrent waits of 0.5 s on 2 workers take two rounds (~1 s)" {
	run "$abs_top_builddir/tools/send_many" --json -n 4 --secs 0.5 "$BASE/wait"
	assert_success
	jq -e '.ok == 4 and .wall >= 0.99 and .wall < 1.45' <<<"$output" # 3 rounds: 1.5 s
}

@test "a worker killed mid-request is replaced; later requests succeed" {
	local victim pid codes
	# Both workers busy, so the victim is certainly serving a request.
	concurrent 2 '/wait?secs=1' >"$BATS_TEST_TMPDIR/codes" &
	pid=$!
	sleep 0.3
	victim=$(workers | head -n 1)
	kill -KILL "$victim"
	wait "$pid"
	codes=$(sort "$BATS_TEST_TMPDIR/codes" | tr '\n' ' ')
	# One answer is lighttpd's error for the dead worker, one is a 200.
	[[ $codes == "200 50"[02]" " || $codes == "200 500 " ]]
	# multiwatch restores the pool to two workers, without the victim.
	for _ in $(seq 50); do
		[[ $(workers | wc -l) == 2 ]] && break
		sleep 0.1
	done
	run workers
	assert_equal "${#lines[@]}" 2
	refute_line "$victim"
	run concurrent 4 '/wait?secs=0'
	assert_equal "$output" $'200\n200\n200\n200'
}
