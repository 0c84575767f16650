#!/usr/bin/env bats
# A Redis that speaks only TLS, reached the way the README says, since
# Debian 12's hiredis 0.14 has no TLS: a local stunnel (Debian's stunnel4)
# takes plain connections on loopback and carries them over TLS, checking
# the server's certificate against our CA and its name. Everything is the
# suite's own: a CA and a server certificate made with openssl in a temp
# dir, a redis-server with --port 0 --tls-port (no plaintext port at all)
# and a password, stunnel on a free loopback port; all stopped by pid.

# abs_top_builddir comes from make check; BASE, STATE from helpers/stack.
# shellcheck disable=SC2154
load "${abs_top_srcdir:?}/tests/helpers/stack"
load "${abs_top_srcdir:?}/tests/helpers/jobs"

STUNNEL=${STUNNEL:-stunnel4}

# make_certs DIR: DIR/ca.crt, and DIR/redis.{crt,key} for CN localhost
# (subjectAltName localhost, 127.0.0.1), signed by that CA.
make_certs() {
	local d=$1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fcgilab-test-ca \
		-keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null &&
		openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
			-keyout "$d/redis.key" -out "$d/redis.csr" 2>/dev/null &&
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$d/ext" &&
		openssl x509 -req -in "$d/redis.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-CAcreateserial -days 2 -extfile "$d/ext" -out "$d/redis.crt" 2>/dev/null
}

# stunnel_start NAME CHECKHOST: a stunnel client on a free loopback port
# (NAME_PORT, its pid NAME_PID) to the TLS Redis, verifying its
# certificate with our CA and the name CHECKHOST. The README's recipe.
stunnel_start() {
	local name=$1 host=$2 port pid conf
	conf=$TLS_DIR/$name.conf
	for _ in $(seq 20); do
		port=$((20000 + RANDOM % 40000))
		cat >"$conf" <<-EOF
			foreground = yes
			pid =
			[redis]
			client = yes
			accept = 127.0.0.1:$port
			connect = 127.0.0.1:$REDIS_PORT
			CAfile = $TLS_DIR/ca.crt
			verifyChain = yes
			checkHost = $host
		EOF
		"$STUNNEL" "$conf" </dev/null >"$TLS_DIR/$name.log" 2>&1 3>&- &
		pid=$!
		for _ in $(seq 100); do
			if (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				printf -v "${name}_PORT" '%s' "$port"
				printf -v "${name}_PID" '%s' "$pid"
				export "${name}_PORT" "${name}_PID"
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	cat "$TLS_DIR/$name.log" >&3
	return 1
}

stunnel_stop() {
	local pid=$1
	[[ -n $pid ]] || return 0
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

setup_file() {
	TLS_DIR=$(mktemp -d /tmp/fcgilab-tls.XXXXXX)
	export TLS_DIR
	make_certs "$TLS_DIR"
	TLS_PW="tls-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
	printf '%s\n' "$TLS_PW" >"$TLS_DIR/password"
	chmod 0600 "$TLS_DIR/password" "$TLS_DIR"/*.key
	export TLS_PW
	redis_start --port 0 --tls-port @PORT@ --requirepass "$TLS_PW" \
		--tls-cert-file "$TLS_DIR/redis.crt" --tls-key-file "$TLS_DIR/redis.key" \
		--tls-ca-cert-file "$TLS_DIR/ca.crt" --tls-auth-clients no
	stunnel_start GOOD localhost
	stunnel_start BADNAME redis.example.com
}

teardown_file() {
	stunnel_stop "${GOOD_PID:-}"
	stunnel_stop "${BADNAME_PID:-}"
	redis_stop
	rm -rf "${TLS_DIR:?}"
}

teardown() {
	if [[ -n ${STATE:-} ]]; then
		stack_logs_on_failure
		stack_stop
		STATE=
	fi
}

@test "the TLS Redis has no plaintext port: a plain client gets nowhere" {
	run timeout 5 redis-cli -p "$REDIS_PORT" PING
	refute_output PONG
	# it listens on that one port only
	run ss -tlnpH
	assert_equal "$(grep -c "pid=$REDIS_PID," <<<"$output")" 1
	assert_line --regexp "127\.0\.0\.1:$REDIS_PORT .*pid=$REDIS_PID,"
	# and redis-cli over TLS is answered (the server is fine)
	REDISCLI_AUTH=$TLS_PW run redis-cli --tls --cacert "$TLS_DIR/ca.crt" \
		-h localhost -p "$REDIS_PORT" PING
	assert_output PONG
}

@test "through stunnel: the store contract passes" {
	FCGILAB_TEST_STORE="redis://:$TLS_PW@127.0.0.1:$GOOD_PORT/1" \
		run "$abs_top_builddir/tests/unit/test_jobstore"
	[[ $output != *'not ok'* ]] || fail "$output"
	assert_success
}

@test "through stunnel: fcgilab start, a job end to end" {
	stack_start --pool 1 --workers 2 --worker-arg --poll=20 \
		--queue "redis://127.0.0.1:$GOOD_PORT/2" \
		--queue-password-file "$TLS_DIR/password"
	local id
	id=$(post_job '{"task":"cpu","n":100}')
	wait_job "$id" "done"
	assert_equal "$(job "$id" | jq -c .result)" '{"n":100,"result":25}'
	# the connections went over TLS: stunnel carried them
	grep -q 'Service \[redis\] connected remote server' "$TLS_DIR/GOOD.log"
	run grep -rlF "$TLS_PW" "$STATE"
	assert_output ''
}

@test "a certificate for another name: stunnel refuses it, the mux stops at start" {
	run timeout 30 "$abs_top_builddir/fcgi/fcgilab-mux" \
		--listen "$BATS_TEST_TMPDIR/m.sock" \
		--queue "redis://127.0.0.1:$BADNAME_PORT/2" \
		--queue-password-file "$TLS_DIR/password"
	[[ $status -ne 0 && $status -ne 124 ]] || fail "status $status: $output"
	assert_output --regexp "^fcgilab-mux: jobs: redis 127\\.0\\.0\\.1:$BADNAME_PORT: (AUTH|SELECT): "
	[[ $output != *"$TLS_PW"* ]] || fail "the password leaked: $output"
	grep -q -i 'certificate' "$TLS_DIR/BADNAME.log"
}
