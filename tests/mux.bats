#!/usr/bin/env bats
# The async multiplexer through lighttpd: its routes, the lesson's
# mistakes made visible, clients that give up. (Limits: mux-limits.bats.)

# code, body, headers, secs and BASE are set by helpers/stack.bash,
# abs_top_builddir by make.
# shellcheck disable=SC2154,SC2153
load helpers/stack

setup_file() { stack_start --pool 2; }
teardown_file() { stack_stop; }
teardown() { stack_logs_on_failure; }

mux_pid() { cat "$STATE/run/mux.pid"; }

# latency_of PATH: seconds one GET takes.
latency_of() {
	curl -sS -o /dev/null -w '%{time_total}\n' --max-time 30 "$BASE$1"
}

@test "GET /wait_async?secs=0.2 answers after 0.2 s, body as /wait's" {
	http GET '/wait_async?secs=0.2'
	assert_equal "$code" 200
	assert_equal "$body" '{"status":"ready","seconds":0.2}'
	assert_equal "$(header Content-Type)" application/json
	between "$secs" 0.19 1.5
}

@test "validation is the same code as /wait's: identical 422 bodies" {
	local q a b
	for q in '' 'secs=abc' 'secs=-1' 'secs=61' 'secs=nan' 'secs=' 'secs=1e400'; do
		http GET "/wait?$q"
		a="$code $body"
		http GET "/wait_async?$q"
		b="$code $body"
		assert_equal "$b" "$a"
		assert_equal "$code" 422
	done
}

@test "/cpu_async and /cpu_async_blocking give /cpu's answer" {
	http GET '/cpu?n=50000'
	local want=$body
	http GET '/cpu_async?n=50000'
	assert_equal "$code" 200
	assert_equal "$body" "$want"
	http GET '/cpu_async_blocking?n=50000'
	assert_equal "$body" "$want"
	http GET '/cpu_async?n=x'
	assert_equal "$code" 422
}

@test "unknown mux paths are 404, wrong methods 405, all JSON" {
	http GET /wait_asyncx
	assert_equal "$code" 404
	assert_equal "$body" '{"detail":"Not Found"}'
	http POST '/wait_async?secs=0' -d ''
	assert_equal "$code" 405
	assert_equal "$(header Allow)" GET
}

@test "/metrics is Prometheus text with the documented series" {
	http GET '/wait_async?secs=0'
	http GET /metrics
	assert_equal "$code" 200
	[[ $(header Content-Type) == text/plain* ]]
	for m in fcgilab_requests_in_flight fcgilab_requests_in_flight_peak \
		fcgilab_connections_open fcgilab_request_duration_seconds_count \
		fcgilab_requests_aborted_total fcgilab_protocol_errors_total; do
		grep -q "^$m " <<<"$body" || fail "no $m"
	done
	grep -q '^fcgilab_requests_total{route="wait_async",status="200"} [1-9]' <<<"$body"
	grep -q '^fcgilab_request_duration_seconds_bucket{le="+Inf"} [1-9]' <<<"$body"
	# /metrics does not count itself as in flight
	assert_equal "$(metric fcgilab_requests_in_flight)" 0
}

@test "50 concurrent waits of 0.5 s take one round: ~0.5 s, not 50 x 0.5" {
	# one send_many process holds the 50 connections (a pool of 2 would
	# need 25 rounds: 12.5 s)
	run "$abs_top_builddir/tools/send_many" --json -n 50 --secs 0.5 "$BASE/wait_async"
	assert_success
	jq -e '.ok == 50 and .wall >= 0.5 and .wall <= 2' <<<"$output"
	[ "$(metric fcgilab_requests_in_flight_peak)" -ge 40 ]
}

@test "the mistake: /wait_async_blocking stalls every other mux request" {
	local t
	curl -sS -o /dev/null "$BASE/wait_async_blocking?secs=1" &
	sleep 0.2
	t=$(latency_of '/wait_async?secs=0')
	wait
	between "$t" 0.6 5 # waited for the blocked loop
	# the same wait done right (a timer) stalls nobody
	curl -sS -o /dev/null "$BASE/wait_async?secs=1" &
	sleep 0.2
	t=$(latency_of '/wait_async?secs=0')
	wait
	between "$t" 0 0.3
}

@test "CPU work offloaded (/cpu_async) keeps the loop answering; on the loop it does not" {
	local t_off t_on
	# about 1 s of counting primes on this machine
	curl -sS -o /dev/null "$BASE/cpu_async?n=5000000" &
	sleep 0.1
	t_off=$(latency_of '/wait_async?secs=0')
	wait
	curl -sS -o /dev/null "$BASE/cpu_async_blocking?n=5000000" &
	sleep 0.1
	t_on=$(latency_of '/wait_async?secs=0')
	wait
	between "$t_off" 0 0.2
	between "$t_on" 0.3 10
}

@test "clients that give up (curl -m) free their requests (no leak of fds)" {
	local pid base after aborted0 aborted
	pid=$(mux_pid)
	base=$(find "/proc/$pid/fd" -mindepth 1 | wc -l)
	aborted0=$(metric fcgilab_requests_aborted_total)
	# 30 clients give up after 0.3 s on a 3 s wait (curl closes: a FIN).
	run concurrent 30 '/wait_async?secs=3' --max-time 0.3
	sleep 0.3
	# lighttpd (tcp-fin-propagate) shuts the backend connection down:
	# the mux sees EOF and frees the request, timer and buffers at once.
	# lighttpd 1.4.69 misses some FINs (README, "Clients that give up"):
	# those requests live until their own timer, and must then go too.
	aborted=$(($(metric fcgilab_requests_aborted_total) - aborted0))
	((aborted >= 5)) || fail "only $aborted of 30 were freed at once"
	for _ in $(seq 80); do
		[ "$(metric fcgilab_requests_in_flight)" = 0 ] && break
		sleep 0.05
	done
	assert_equal "$(metric fcgilab_requests_in_flight)" 0
	for _ in $(seq 40); do
		after=$(find "/proc/$pid/fd" -mindepth 1 | wc -l)
		((after <= base)) && break
		sleep 0.05
	done
	((after <= base)) || fail "mux fds: $base before, $after after"
}
