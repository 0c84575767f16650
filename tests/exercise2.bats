#!/usr/bin/env bats
# The lesson's exercise 2 as the learner writes it: pytest + httpx
# (tests/exercise2/test_wait_async.py) against a running stack's
# /wait_async, with Debian's python3-httpx, python3-pytest and
# python3-pytest-asyncio.

# abs_top_srcdir is set by make check; BASE by helpers/stack.
# shellcheck disable=SC2154
load helpers/stack

setup_file() { stack_start --pool 2 --workers 0; }
teardown_file() { stack_stop; }
teardown() { stack_logs_on_failure; }

@test "exercise 2: pytest and httpx test /wait_async over HTTP" {
	# Debian's python3 (its packages), not another one first in PATH
	FCGILAB_URL=$BASE run /usr/bin/python3 -m pytest -q -p no:cacheprovider \
		"$abs_top_srcdir/tests/exercise2/test_wait_async.py"
	echo "$output" >&3
	assert_success
	assert_line --regexp '^6 passed'
}

@test "exercise 2 fails when the endpoint is wrong (the tests can fail)" {
	# the same tests against the blocking pool's /wait, renamed: twenty
	# waits of 0.5 s on a pool of 2 take 5 s, not one wait
	local t=$BATS_TEST_TMPDIR/test_wait.py
	sed 's|/wait_async|/wait|g' "$abs_top_srcdir/tests/exercise2/test_wait_async.py" >"$t"
	FCGILAB_URL=$BASE run /usr/bin/python3 -m pytest -q -p no:cacheprovider "$t"
	assert_failure
	assert_output --partial 'test_twenty_waits_at_once_take_one_wait_not_twenty'
}
