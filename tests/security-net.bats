#!/usr/bin/env bats
# Who may reach what, played by an attacker on another address: a client
# in a network namespace of its own, linked by veth to a namespace where
# the stack runs bound to every interface (10.251.N.0/24, made and removed
# here; nothing leaves this machine).
#
# From afar: the API works (/wait_async, POST /jobs, /jobs/ID, exports);
# the lesson's mistakes are 403; the operator views (the job list,
# /metrics, lighttpd's statistics) are 401/404 unless the operator's bearer
# token comes along. From loopback everything works. A backend listening
# on TCP refuses to start reachable without an allow-list, and with one
# shuts the others out.

load helpers/stack
load helpers/netns

TOKEN=Zm9vYmFyLXRva2VuLWZvci10ZXN0cw==
# shellcheck disable=SC2154 # set by make check
MUX=$abs_top_builddir/fcgi/fcgilab-mux
SYNC=$abs_top_builddir/fcgi/fcgilab-sync
PROBE=$abs_top_builddir/tests/helpers/fcgi-probe

setup_file() {
	netns_setup
	TOKEN_FILE=$(mktemp /tmp/fcgilab-token.XXXXXX)
	printf '%s\n' "$TOKEN" >"$TOKEN_FILE"
	chmod 600 "$TOKEN_FILE"
	export TOKEN_FILE
	STATE=$(mktemp -d /tmp/fcgilab-test.XXXXXX)
	in_server "$FCGILAB" start --port 0 --bind 0.0.0.0 --state "$STATE" \
		--workers 1 --operator-token-file "$TOKEN_FILE" 3>&- >"$STATE.start" 2>&1 || {
		cat "$STATE.start" >&3
		return 1
	}
	PORT=$(<"$STATE/port")
	export STATE PORT
}

teardown_file() {
	stack_stop
	[[ -n ${OPEN_STATE:-} ]] && STATE=$OPEN_STATE stack_stop
	rm -f "${TOKEN_FILE:-}"
	netns_teardown
}

teardown() {
	stack_logs_on_failure
	local pid
	for pid in ${OWN_PIDS:-}; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# from WHERE METHOD PATH [curl args…]: one request from the client
# namespace (afar) or from the server's loopback (local); sets code, body,
# headers.
from() {
	local where=$1 method=$2 path=$3 host out
	shift 3
	case $where in
	afar) host=$SERVER_IP ;;
	local) host=127.0.0.1 ;;
	esac
	out=$("in_${where/afar/client}" curl -sS -X "$method" -D "$BATS_TEST_TMPDIR/h" \
		-o "$BATS_TEST_TMPDIR/b" -w '%{http_code}' --max-time 20 "$@" \
		"http://$host:$PORT$path")
	code=$out
	body=$(cat "$BATS_TEST_TMPDIR/b")
	headers=$(tr -d '\r' <"$BATS_TEST_TMPDIR/h")
}
in_local() { in_server "$@"; }

@test "from afar: the public API answers" {
	from afar GET '/wait_async?secs=0.1'
	[ "$code" = 200 ]
	[ "$body" = '{"status":"ready","seconds":0.1}' ]
	from afar GET '/wait?secs=0'
	[ "$code" = 200 ]
	from afar GET '/export.csv?rows=2'
	[ "$code" = 200 ]
	[ "$(printf '%s\n' "$body" | wc -l)" = 3 ]
	from afar POST /jobs -H 'Content-Type: application/json' -d '{"task":"cpu","n":10}'
	[ "$code" = 202 ]
	local id
	id=$(jq -r .id <<<"$body")
	[[ $id =~ ^[0-9a-f]{32}$ ]]
	for _ in $(seq 100); do
		from afar GET "/jobs/$id"
		[[ $(jq -r .status <<<"$body") == "done" ]] && break
		sleep 0.05
	done
	[ "$code" = 200 ]
	[ "$(jq -c .result <<<"$body")" = '{"n":10,"result":4}' ]
}

@test "from afar: the lesson's mistakes are 403, and the mux is not stalled" {
	local t0 t1
	t0=$(date +%s%N)
	from afar GET '/wait_async_blocking?secs=5'
	t1=$(date +%s%N)
	[ "$code" = 403 ]
	[ "$body" = '{"detail":"Forbidden"}' ]
	grep -qi '^content-type: application/json' <<<"$headers"
	(((t1 - t0) / 1000000 < 2000))
	from afar GET '/cpu_async_blocking?n=10000000'
	[ "$code" = 403 ]
	from afar GET '/wait_async_blocking/?secs=1'
	[ "$code" = 403 ]
}

@test "from afar: the job list and /metrics are 401, lighttpd's statistics 404" {
	from afar GET /jobs
	[ "$code" = 401 ]
	[ "$body" = '{"detail":"Not authenticated"}' ]
	grep -qi '^www-authenticate: Bearer' <<<"$headers"
	from afar GET '/jobs?status=done&limit=5'
	[ "$code" = 401 ]
	from afar GET /metrics
	[ "$code" = 401 ]
	[ "$body" = '{"detail":"Not authenticated"}' ]
	from afar GET /server-statistics
	[ "$code" = 404 ]
	from afar GET /server-status
	[ "$code" = 404 ]
}

@test "from afar: a wrong or malformed token opens nothing" {
	local auth
	for auth in "Bearer wrong-token-000000000000000" "Bearer ${TOKEN}x" \
		"Bearer ${TOKEN%?}" "Basic $TOKEN" "$TOKEN" "Bearer" "bearer"; do
		from afar GET /jobs -H "Authorization: $auth"
		[ "$code" = 401 ] || fail "GET /jobs with '$auth': $code"
		from afar GET /metrics -H "Authorization: $auth"
		[ "$code" = 401 ] || fail "GET /metrics with '$auth': $code"
		from afar GET /server-statistics -H "Authorization: $auth"
		[ "$code" = 404 ] || fail "statistics with '$auth': $code"
	done
}

@test "from afar with the operator's bearer token: the views open" {
	from afar GET /jobs -H "Authorization: Bearer $TOKEN"
	[ "$code" = 200 ]
	jq -e '.items | type == "array"' <<<"$body"
	from afar GET /metrics -H "Authorization: Bearer $TOKEN"
	[ "$code" = 200 ]
	grep -q '^fcgilab_requests_total' <<<"$body"
	from afar GET /server-statistics -H "Authorization: Bearer $TOKEN"
	[ "$code" = 200 ]
	grep -q 'gw.backend' <<<"$body"
	# the token opens the operator views, not the mistakes
	from afar GET '/wait_async_blocking?secs=0' -H "Authorization: Bearer $TOKEN"
	[ "$code" = 403 ]
}

@test "from loopback: the mistakes and the operator views work" {
	from local GET '/wait_async_blocking?secs=0'
	[ "$code" = 200 ]
	from local GET '/cpu_async_blocking?n=10'
	[ "$body" = '{"n":10,"result":4}' ]
	from local GET /jobs
	[ "$code" = 200 ]
	from local GET /metrics
	[ "$code" = 200 ]
	from local GET /server-statistics
	[ "$code" = 200 ]
}

@test "fcgilab start --open-mistakes serves them to everyone; a bad token file is refused" {
	OPEN_STATE=$(mktemp -d /tmp/fcgilab-test.XXXXXX)
	export OPEN_STATE
	in_server "$FCGILAB" start --port 0 --bind 0.0.0.0 --state "$OPEN_STATE" \
		--workers 0 --open-mistakes 3>&- >/dev/null
	local port
	port=$(<"$OPEN_STATE/port")
	run in_client curl -sS "http://$SERVER_IP:$port/wait_async_blocking?secs=0"
	assert_output '{"status":"ready","seconds":0}'
	run in_client curl -sS "http://$SERVER_IP:$port/metrics"
	assert_output '{"detail":"Not authenticated"}'
	"$FCGILAB" stop --state "$OPEN_STATE" >/dev/null

	local bad=$BATS_TEST_TMPDIR/token
	printf 'short\n' >"$bad"
	chmod 600 "$bad"
	run "$FCGILAB" start --port 0 --state "$OPEN_STATE" --operator-token-file "$bad"
	assert_failure
	assert_output --partial '16 or more'
	printf '%s\n' "$TOKEN" >"$bad"
	chmod 644 "$bad"
	run "$FCGILAB" start --port 0 --state "$OPEN_STATE" --operator-token-file "$bad"
	assert_failure
	assert_output --partial 'others may read'
	refute_output --partial "$TOKEN"
	printf 'x%%s" }\ninclude_shell "id\n' >"$bad"
	chmod 600 "$bad"
	run "$FCGILAB" start --port 0 --state "$OPEN_STATE" --operator-token-file "$bad"
	assert_failure
	[ ! -e "$OPEN_STATE/lighttpd.conf" ] || ! grep -q include_shell "$OPEN_STATE/lighttpd.conf"
}

# probe_from WHERE ADDR: a FastCGI GET /wait_async?secs=0 straight to a
# backend; prints what came back (or EOF/RESET).
probe_from() {
	"in_${1/afar/client}" "$PROBE" -t 2000 "$2" \
		get /wait_async secs=0 2>&1 || true
}

# backend_up ADDR: something listens there (from the server side).
backend_up() {
	in_server bash -c "exec 3<>/dev/tcp/${1%:*}/${1##*:}" 2>/dev/null
}

# start_backend VAR PROGRAM ARGS…: a backend in the server namespace as
# our child, its pid in VAR and in OWN_PIDS (killed in teardown). ip
# netns exec execs the program in its own place: $! is the backend's pid.
start_backend() {
	local -n pid_var=$1
	shift
	ip netns exec "$NS_SERVER" "$@" 2>"$BATS_TEST_TMPDIR/backend.log" 3>&- &
	pid_var=$!
	OWN_PIDS="${OWN_PIDS:-} $pid_var"
}

@test "a backend on TCP beyond loopback: refused without an allow-list" {
	local port=$((20000 + RANDOM % 40000))
	run in_server "$MUX" --listen "0.0.0.0:$port"
	assert_failure 1
	assert_output --partial 'reachable from other machines'
	run in_server "$MUX" --listen ":$port"
	assert_failure 1
	assert_output --partial 'give the address'
	run in_server "$SYNC" --listen "$SERVER_IP:$port"
	assert_failure 1
	assert_output --partial 'reachable from other machines'
	run in_server "$SYNC" --listen "0.0.0.0:$port" --allow 10.0.0.0/8
	assert_failure 1
	assert_output --partial 'plain IPv4'
	# spawn-fcgi's socket on fd 0 is checked the same way
	run in_server spawn-fcgi -n -a 0.0.0.0 -p "$port" -- "$MUX"
	assert_failure
	assert_output --partial 'reachable from other machines'
}

@test "the mux on TCP with an allow-list: the listed front end gets in, others do not" {
	local port=$((20000 + RANDOM % 40000)) pid
	start_backend pid "$MUX" --listen "0.0.0.0:$port" \
		--allow "10.251.0.0/16,127.0.0.1" --blocking-routes
	for _ in $(seq 100); do backend_up "127.0.0.1:$port" && break; sleep 0.05; done
	run probe_from afar "$SERVER_IP:$port"
	assert_line '1| {"status":"ready","seconds":0}'
	kill -KILL "$pid"
	port=$((port + 1))
	start_backend pid "$MUX" --listen "0.0.0.0:$port" \
		--allow "10.9.9.9,127.0.0.1"
	for _ in $(seq 100); do backend_up "127.0.0.1:$port" && break; sleep 0.05; done
	run probe_from afar "$SERVER_IP:$port"
	assert_line --regexp '^(EOF|RESET)$'
	refute_output --partial '"status":"ready"'
	run probe_from local "127.0.0.1:$port"
	assert_line '1| {"status":"ready","seconds":0}'
}

@test "the pool on TCP with an allow-list: libfcgi shuts others out" {
	local port=$((20000 + RANDOM % 40000)) pid
	start_backend pid "$SYNC" --listen "0.0.0.0:$port" \
		--allow "10.9.9.9,127.0.0.1"
	for _ in $(seq 100); do backend_up "127.0.0.1:$port" && break; sleep 0.05; done
	run in_client "$PROBE" -t 2000 "$SERVER_IP:$port" get /wait secs=0
	refute_output --partial '"status":"ready"'
	run in_server "$PROBE" -t 2000 "127.0.0.1:$port" get /wait secs=0
	assert_line '1| {"status":"ready","seconds":0}'
}

@test "a direct FastCGI client cannot trigger the mistakes of a mux not told to serve them" {
	local sock=$BATS_TEST_TMPDIR/m.sock pid
	start_backend pid "$MUX" --listen "$sock"
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	sleep 0.1
	run "$PROBE" -t 2000 "$sock" get /wait_async_blocking secs=5
	assert_line '1| {"detail":"Not Found"}'
	run "$PROBE" -t 2000 "$sock" get /cpu_async_blocking n=10
	assert_line '1| {"detail":"Not Found"}'
}

@test "a unix socket path holding another file is refused and left alone" {
	local path=$BATS_TEST_TMPDIR/planted
	printf 'keep me\n' >"$path"
	run "$MUX" --listen "$path"
	assert_failure 1
	assert_output --partial 'not a socket'
	[ "$(cat "$path")" = 'keep me' ]
	ln -s /etc/passwd "$BATS_TEST_TMPDIR/link"
	run "$SYNC" --listen "$BATS_TEST_TMPDIR/link"
	assert_failure 1
	[ -L "$BATS_TEST_TMPDIR/link" ]
}
