#!/usr/bin/env bats
# The store contract (tests/unit/test_jobstore) against a real, empty
# redis-server of our own, as it runs against SQLite in the unit tests.

# abs_top_builddir comes from make check.
# shellcheck disable=SC2154
load helpers/stack
load helpers/jobs

setup_file() { redis_start; }
teardown_file() { redis_stop; }

@test "test_jobstore passes on Redis" {
	FCGILAB_TEST_STORE=redis://127.0.0.1:$REDIS_PORT \
		run "$abs_top_builddir/tests/unit/test_jobstore"
	[[ $output != *'not ok'* ]] || fail "$output"
	assert_success
	assert_line --regexp '^1\.\.[0-9]+$'
}
