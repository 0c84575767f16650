#!/usr/bin/env bats
# The jobs store on a Redis that wants a password, played as an attacker.
# One redis-server of our own (a free loopback port, 127.0.0.1 and ::1,
# stopped by pid) with:
#   - the default user's password (requirepass), awkward on purpose: a
#     space, '@', ':', '/', '#' and '%', so URLs must percent-encode it;
#   - alice, an ACL user with exactly the commands the store needs
#     (ALICE_ACL, as the README documents) on its own keys;
#   - bob, who lacks one of them (SCRIPT LOAD).
# Passwords are new random strings each run, so "not found anywhere" means
# something. Cases: the password from a file, a systemd credential, the
# environment, the URL; an ACL user; wrong, missing, a wrong user, a user
# without a needed command; bad URLs refused before any connection; every
# connection authenticated, reconnects included; a job end to end through
# lighttpd; and the password in no ps, log, state dir or status output.

# abs_top_builddir comes from make check; BASE, STATE from helpers/stack.
# shellcheck disable=SC2154
load "${abs_top_srcdir:?}/tests/helpers/stack"
load "${abs_top_srcdir:?}/tests/helpers/jobs"

# The commands the store sends (and its Lua scripts call): no more.
ALICE_ACL=(resetchannels '~fcgilab:jobs:*' -@all +select '+script|load'
	+evalsha +time +get +set +exists +hset +hget +hmget +hincrby +hgetall
	+zadd +zrem +zcard +zrange +zrangebyscore +zrevrangebylex +del)

WORKER=$abs_top_builddir/fcgi/fcgilab-worker
MUX=$abs_top_builddir/fcgi/fcgilab-mux

random_word() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }

setup_file() {
	ADMIN_PW="Adm1n p@ss:w/rd#%$(random_word)"
	# the same, percent-encoded for a URL
	ADMIN_PW_URL=${ADMIN_PW//%/%25}
	ADMIN_PW_URL=${ADMIN_PW_URL// /%20}
	ADMIN_PW_URL=${ADMIN_PW_URL//@/%40}
	ADMIN_PW_URL=${ADMIN_PW_URL//\//%2F}
	ADMIN_PW_URL=${ADMIN_PW_URL//#/%23}
	ALICE_PW="al1ce-$(random_word)"
	BOB_PW="b0b-$(random_word)"
	export ADMIN_PW ADMIN_PW_URL ALICE_PW BOB_PW
	redis_start --bind '127.0.0.1 ::1' --requirepass "$ADMIN_PW" \
		--user alice on ">$ALICE_PW" "${ALICE_ACL[@]}" \
		--user bob on ">$BOB_PW" '~fcgilab:jobs:*' -@all +select +evalsha
	SECRETS=$(mktemp -d /tmp/fcgilab-secrets.XXXXXX)
	chmod 0700 "$SECRETS"
	printf '%s\n' "$ADMIN_PW" >"$SECRETS/admin"
	printf '%s\n' "$ALICE_PW" >"$SECRETS/alice"
	printf 'not-the-password\n' >"$SECRETS/wrong"
	chmod 0600 "$SECRETS"/*
	export SECRETS
}

teardown_file() {
	redis_stop
	rm -rf "${SECRETS:?}"
}

teardown() {
	if [[ -n ${WPID:-} ]]; then
		kill "$WPID" 2>/dev/null || true
		wait "$WPID" 2>/dev/null || true
		WPID=
	fi
	if [[ -n ${STATE:-} ]]; then
		stack_logs_on_failure
		stack_stop
		STATE=
	fi
	if [[ -z ${BATS_TEST_COMPLETED:-} && -s $BATS_TEST_TMPDIR/w.log ]]; then
		sed 's/^/# worker: /' "$BATS_TEST_TMPDIR/w.log" >&3
	fi
}

# admin ARG…: redis-cli as the default user (the password through the
# environment, not the command line).
admin() {
	REDISCLI_AUTH=$ADMIN_PW redis-cli -p "$REDIS_PORT" "$@"
}

# worker_start ARG…: fcgilab-worker in the background (WPID, its log
# w.log), until it says ready (0) or exits (1, with its log on stdout).
worker_start() {
	"$WORKER" --poll 20 "$@" </dev/null 2>"$BATS_TEST_TMPDIR/w.log" 3>&- &
	WPID=$!
	for _ in $(seq 200); do
		grep -q ': ready' "$BATS_TEST_TMPDIR/w.log" && return 0
		if ! kill -0 "$WPID" 2>/dev/null; then
			wait "$WPID" || true
			WPID=
			cat "$BATS_TEST_TMPDIR/w.log"
			return 1
		fi
		sleep 0.05
	done
	echo "fcgilab-worker not ready in 10 s" >&2
	return 1
}

# refused WANT ARG…: fcgilab-worker and fcgilab-mux with these args both
# stop at start: exit non-zero, one line that says WANT, no password.
refused() {
	local want=$1
	shift
	run timeout 20 "$WORKER" "$@"
	assert_equal "$status" 2
	assert_equal "${#lines[@]}" 1
	assert_output --partial "$want"
	no_secret_in "$output"
	run timeout 20 "$MUX" --listen "$BATS_TEST_TMPDIR/m.sock" "$@"
	[[ $status -ne 0 && $status -ne 124 ]] || fail "mux: status $status"
	assert_equal "${#lines[@]}" 1
	assert_output --partial "$want"
	no_secret_in "$output"
}

# no_secret_in TEXT: none of our passwords (nor the URL form) is in TEXT.
no_secret_in() {
	local pw
	for pw in "$ADMIN_PW" "$ADMIN_PW_URL" "$ALICE_PW" "$BOB_PW"; do
		[[ $1 != *"$pw"* ]] || fail "a password leaked: $1"
	done
}

# clients_of USER: how many connections the server has as USER.
clients_of() {
	admin CLIENT LIST | grep -c " user=$1 " || true
}

# users_of PID: the Redis user of each connection process PID has to our
# server, one a line (its local ports, found with ss, in CLIENT LIST).
users_of() {
	local port list
	list=$(admin CLIENT LIST)
	for port in $(ss -tnpH "( dport = :$REDIS_PORT )" | grep "pid=$1," |
		awk '{ sub(/.*:/, "", $4); print $4 }'); do
		grep -o "addr=127\.0\.0\.1:$port .* user=[^ ]*" <<<"$list" |
			sed 's/.* user=//'
	done
}

@test "the store contract passes as alice, with only the commands it needs" {
	admin ACL LOG RESET >/dev/null
	FCGILAB_TEST_STORE="redis://alice:$ALICE_PW@127.0.0.1:$REDIS_PORT/1" \
		run "$abs_top_builddir/tests/unit/test_jobstore"
	[[ $output != *'not ok'* ]] || fail "$output"
	assert_success
	# nothing was refused along the way
	run admin ACL LOG
	assert_output ''
}

@test "and each of those commands is needed: without any one, the contract fails" {
	local drop a
	local -a acl
	for drop in "${ALICE_ACL[@]}"; do
		[[ $drop == +* ]] || continue
		acl=()
		for a in "${ALICE_ACL[@]}"; do
			[[ $a == "$drop" ]] || acl+=("$a")
		done
		admin ACL SETUSER carol reset on ">$ALICE_PW" "${acl[@]}" >/dev/null
		admin -n 6 FLUSHDB >/dev/null
		FCGILAB_TEST_STORE="redis://carol:$ALICE_PW@127.0.0.1:$REDIS_PORT/6" \
			run "$abs_top_builddir/tests/unit/test_jobstore"
		[[ $output == *'not ok'* ]] || fail "the contract passes without $drop"
	done
	admin ACL DELUSER carol >/dev/null
}

@test "the password from --queue-password-file (its newline stripped)" {
	worker_start --queue "redis://127.0.0.1:$REDIS_PORT/2" \
		--queue-password-file "$SECRETS/admin"
	grep -q 'ready (redis store, password from --queue-password-file' "$BATS_TEST_TMPDIR/w.log"
}

@test "the password from FCGILAB_REDIS_PASSWORD" {
	FCGILAB_REDIS_PASSWORD=$ADMIN_PW worker_start --queue "redis://127.0.0.1:$REDIS_PORT/2"
	grep -q 'password from FCGILAB_REDIS_PASSWORD' "$BATS_TEST_TMPDIR/w.log"
}

@test "the password from a systemd credential (\$CREDENTIALS_DIRECTORY/redis-password)" {
	local creds=$BATS_TEST_TMPDIR/creds
	mkdir -m 0700 "$creds"
	cp "$SECRETS/admin" "$creds/redis-password"
	# the credential wins over the environment
	CREDENTIALS_DIRECTORY=$creds FCGILAB_REDIS_PASSWORD=wrong \
		worker_start --queue "redis://127.0.0.1:$REDIS_PORT/2"
	# shellcheck disable=SC2016 # a '$' of the log line
	grep -qF 'password from $CREDENTIALS_DIRECTORY/redis-password' "$BATS_TEST_TMPDIR/w.log"
}

@test "the password in the URL, percent-encoded; the worker masks it in its argv" {
	worker_start --queue "redis://:$ADMIN_PW_URL@127.0.0.1:$REDIS_PORT/2"
	grep -q 'password from the URL' "$BATS_TEST_TMPDIR/w.log"
	run tr '\0' ' ' <"/proc/$WPID/cmdline"
	no_secret_in "$output"
	assert_output --partial "redis://:${ADMIN_PW_URL//?/*}@127.0.0.1:$REDIS_PORT/2"
	run ps -o args= -p "$WPID"
	no_secret_in "$output"
}

@test "an IPv6 host in brackets: redis://[::1]:PORT" {
	FCGILAB_REDIS_PASSWORD=$ADMIN_PW worker_start --queue "redis://[::1]:$REDIS_PORT/2"
}

@test "ACL user alice: both of a worker's connections authenticate as alice" {
	worker_start --queue "redis://alice@127.0.0.1:$REDIS_PORT/2" \
		--queue-password-file "$SECRETS/alice"
	# the main connection and the heartbeat's
	run users_of "$WPID"
	assert_output $'alice\nalice'
}

@test "a wrong password: one clear line at start, exit non-zero" {
	refused 'redis 127.0.0.1:'"$REDIS_PORT"': authentication failed: WRONGPASS' \
		--queue "redis://127.0.0.1:$REDIS_PORT/2" --queue-password-file "$SECRETS/wrong"
	FCGILAB_REDIS_PASSWORD=$ALICE_PW refused 'authentication failed: WRONGPASS' \
		--queue "redis://127.0.0.1:$REDIS_PORT/2"
	refused 'authentication failed: WRONGPASS' \
		--queue "redis://alice:$BOB_PW@127.0.0.1:$REDIS_PORT/2"
}

@test "no password: NOAUTH, and it says none was given" {
	refused 'authentication failed: NOAUTH Authentication required. (no password was given)' \
		--queue "redis://127.0.0.1:$REDIS_PORT/2"
}

@test "a wrong user: WRONGPASS, the user named" {
	refused "redis mallory@127.0.0.1:$REDIS_PORT: authentication failed: WRONGPASS" \
		--queue "redis://mallory@127.0.0.1:$REDIS_PORT/2" --queue-password-file "$SECRETS/alice"
}

@test "a user lacking a command the store needs: permission denied at start" {
	FCGILAB_REDIS_PASSWORD=$BOB_PW refused \
		"redis bob@127.0.0.1:$REDIS_PORT: permission denied: NOPERM" \
		--queue "redis://bob@127.0.0.1:$REDIS_PORT/2"
}

@test "a user and no password, bad files, bad URLs: refused before connecting" {
	local before after
	before=$(admin INFO stats | sed -n 's/^total_connections_received:\([0-9]*\).*/\1/p')
	refused 'user alice needs a password' --queue "redis://alice@127.0.0.1:$REDIS_PORT"
	refused "--queue-password-file $SECRETS/missing: No such file" \
		--queue "redis://127.0.0.1:$REDIS_PORT" --queue-password-file "$SECRETS/missing"
	printf '' >"$BATS_TEST_TMPDIR/empty"
	chmod 600 "$BATS_TEST_TMPDIR/empty"
	refused 'the file is empty' --queue "redis://127.0.0.1:$REDIS_PORT" \
		--queue-password-file "$BATS_TEST_TMPDIR/empty"
	printf 'secret\n' >"$BATS_TEST_TMPDIR/open"
	chmod 644 "$BATS_TEST_TMPDIR/open"
	refused 'others may read or change it' --queue "redis://127.0.0.1:$REDIS_PORT" \
		--queue-password-file "$BATS_TEST_TMPDIR/open"
	refused '--queue-password-file is for a redis:// store' \
		--queue "$BATS_TEST_TMPDIR/jobs.db" --queue-password-file "$SECRETS/admin"
	refused 'rediss:// (TLS) is not supported' --queue "rediss://:$ADMIN_PW_URL@127.0.0.1:$REDIS_PORT"
	refused 'port must be a number' --queue "redis://:$ADMIN_PW_URL@127.0.0.1:0"
	refused 'must be written %40' --queue "redis://:$ALICE_PW@x@127.0.0.1:$REDIS_PORT"
	refused 'bad percent-encoding' --queue "redis://:$ALICE_PW%zz@127.0.0.1:$REDIS_PORT"
	refused 'IPv6 address goes in brackets' --queue "redis://::1:$REDIS_PORT"
	refused 'the db must be a number' --queue "redis://:$ADMIN_PW_URL@127.0.0.1:$REDIS_PORT/$ALICE_PW"
	refused 'query' --queue "redis://127.0.0.1:$REDIS_PORT?password=$ALICE_PW"
	after=$(admin INFO stats | sed -n 's/^total_connections_received:\([0-9]*\).*/\1/p')
	# only the admin's own INFO connected in between
	assert_equal "$after" "$((before + 1))"
}

@test "a db the server does not have: a clear error at start" {
	refused 'SELECT: ERR DB index is out of range' \
		--queue "redis://127.0.0.1:$REDIS_PORT/999" --queue-password-file "$SECRETS/admin"
}

# The stack's processes (by their FCGILAB_STATE), one "PID ARGS" a line.
stack_processes() {
	local p
	for p in /proc/[0-9]*; do
		tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qxF "FCGILAB_STATE=$STATE" || continue
		printf '%s %s\n' "${p#/proc/}" "$(tr '\0' ' ' <"$p/cmdline")"
	done
}

# no_secret_around: the password is in no process's arguments (ps, as any
# user sees them), no file of the state dir, no status output.
no_secret_around() {
	local out
	out=$(ps -eo args)
	no_secret_in "$out"
	out=$(stack_processes)
	[[ $(wc -l <<<"$out") -ge 6 ]] || fail "too few processes: $out"
	no_secret_in "$out"
	if grep -rlF -e "$ALICE_PW" -e "$ADMIN_PW" "$STATE" "$STATE.start"; then
		fail "a password in the files above"
	fi
	out=$("$FCGILAB" status --state "$STATE") || fail "status: $out"
	no_secret_in "$out"
}

@test "end to end: fcgilab start as alice, password from a file; a job is done" {
	stack_start --pool 1 --workers 2 --worker-arg --poll=20 \
		--queue "redis://alice@127.0.0.1:$REDIS_PORT/3" \
		--queue-password-file "$SECRETS/alice"
	local id
	id=$(post_job '{"task":"cpu","n":1000}')
	wait_job "$id" "done"
	assert_equal "$(job "$id" | jq -c .result)" '{"n":1000,"result":168}'
	grep -q '^fcgilab-mux: ready (Redis password from --queue-password-file)' "$STATE/log/mux.log"
	run cat "$STATE/queue"
	assert_output "redis://alice@127.0.0.1:$REDIS_PORT/3"
	no_secret_around
	# the mux's store thread and the workers' connections, all as alice
	[[ $(clients_of alice) -ge 5 ]] || fail "$(admin CLIENT LIST)"
}

@test "reconnects authenticate again: kill alice's connections, jobs still go through" {
	stack_start --pool 1 --workers 1 --worker-arg --poll=20 \
		--queue "redis://alice@127.0.0.1:$REDIS_PORT/3" \
		--queue-password-file "$SECRETS/alice"
	local id n
	admin ACL LOG RESET >/dev/null
	id=$(post_job '{"task":"wait","secs":0}')
	wait_job "$id" "done"
	n=$(admin CLIENT KILL USER alice)
	[[ $n -ge 3 ]] || fail "killed $n connections"
	id=$(post_job '{"task":"wait","secs":0}')
	wait_job "$id" "done"
	[[ $(clients_of alice) -ge 2 ]] || fail "$(admin CLIENT LIST)"
	run admin ACL LOG
	assert_output ''
}

@test "fcgilab start with the password in the URL: taken out of every command line" {
	stack_start --pool 1 --workers 1 --worker-arg --poll=20 \
		--queue "redis://:$ADMIN_PW_URL@127.0.0.1:$REDIS_PORT/4"
	local id
	id=$(post_job '{"task":"wait","secs":0}')
	wait_job "$id" "done"
	run cat "$STATE/queue"
	assert_output "redis://127.0.0.1:$REDIS_PORT/4"
	grep -q '^fcgilab-mux: ready (Redis password from FCGILAB_REDIS_PASSWORD)' "$STATE/log/mux.log"
	no_secret_around
}

@test "the attacker: another local user learns nothing, and Redis refuses strangers" {
	stack_start --pool 1 --workers 1 --worker-arg --poll=20 \
		--queue "redis://:$ADMIN_PW_URL@127.0.0.1:$REDIS_PORT/4"
	local mux
	mux=$(<"$STATE/run/mux.pid")
	# ps and /proc as nobody: no password in any command line
	run runuser -u nobody -- ps -eo args
	assert_success
	no_secret_in "$output"
	run runuser -u nobody -- cat "/proc/$mux/cmdline"
	no_secret_in "$output"
	# the environment (which holds it), the password files, the state dir
	run runuser -u nobody -- cat "/proc/$mux/environ"
	assert_failure
	run runuser -u nobody -- cat "$SECRETS/admin"
	assert_failure
	run runuser -u nobody -- ls "$STATE/log"
	assert_failure
	# Redis itself: nothing without the password, nothing with a wrong one
	run runuser -u nobody -- redis-cli -p "$REDIS_PORT" KEYS '*'
	assert_output --partial NOAUTH
	REDISCLI_AUTH=guess run runuser -u nobody -- redis-cli -p "$REDIS_PORT" KEYS '*'
	assert_output --partial WRONGPASS
	# and alice's password opens only the store's keys and commands
	REDISCLI_AUTH=$ALICE_PW run redis-cli -p "$REDIS_PORT" --user alice KEYS '*'
	assert_output --partial NOPERM
	REDISCLI_AUTH=$ALICE_PW run redis-cli -p "$REDIS_PORT" --user alice GET other
	assert_output --partial NOPERM
	REDISCLI_AUTH=$ALICE_PW run redis-cli -p "$REDIS_PORT" --user alice CONFIG GET requirepass
	assert_output --partial NOPERM
	REDISCLI_AUTH=$ALICE_PW run redis-cli -p "$REDIS_PORT" --user alice FLUSHALL
	assert_output --partial NOPERM
}

@test "fcgilab start with a refused password: fails at once, says why, no password" {
	STATE=$(mktemp -d /tmp/fcgilab-test.XXXXXX)
	run timeout 60 "$FCGILAB" start --port 0 --state "$STATE" --pool 1 \
		--queue "redis://alice@127.0.0.1:$REDIS_PORT/3" \
		--queue-password-file "$SECRETS/wrong"
	assert_failure
	assert_output --partial "fcgilab-mux: jobs: redis alice@127.0.0.1:$REDIS_PORT: authentication failed: WRONGPASS"
	assert_output --partial 'the mux did not start'
	no_secret_in "$output"
	run timeout 60 "$FCGILAB" start --port 0 --state "$STATE" --pool 1 --workers 0 \
		--queue "redis://127.0.0.1:$REDIS_PORT/3"
	assert_failure
	assert_output --partial 'NOAUTH Authentication required. (no password was given)'
	run timeout 60 "$FCGILAB" start --port 0 --state "$STATE" --pool 1 \
		--queue "rediss://127.0.0.1:$REDIS_PORT/3"
	assert_failure
	assert_output --partial 'stunnel'
	run "$FCGILAB" start --port 0 --state "$STATE" \
		--queue "redis://:$ALICE_PW%zz@127.0.0.1:$REDIS_PORT"
	assert_failure
	assert_output --partial 'bad percent-encoding in the password'
	no_secret_in "$output"
	no_process_of "$STATE"
}
