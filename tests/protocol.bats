#!/usr/bin/env bats
# The mux at the FastCGI record level (FastCGI 1.0), with
# tests/helpers/fcgi-probe playing the web server: the exact records of
# every scenario; malformed input closing its own connection only (a
# healthy companion connection opened before still gets its answer); and
# the limits that keep the mux standing: idle timeout, slow loris,
# --max-outq, --max-conns, FCGI_WEB_SERVER_ADDRS in TCP mode.
#
# One mux for the file, run directly (--listen) as our child with small
# limits; the tests that need other options start their own.

# MUX_PID, SOCK, DIR and FDS0 come from setup_file; output from bats' run.
# shellcheck disable=SC2154,SC2030,SC2031
load helpers/stack

PROBE=$abs_top_builddir/tests/helpers/fcgi-probe
MUX=$abs_top_builddir/fcgi/fcgilab-mux

# mux_start SOCK|HOST:PORT LOG ARGS…: a mux as our child; sets MUX_STARTED.
mux_start() {
	local addr=$1 log=$2
	shift 2
	"$MUX" --listen "$addr" "$@" 2>"$log" 3>&- &
	MUX_STARTED=$!
}

# answering PATH: the mux on PATH accepts and answers. (Its socket file
# exists from bind() on, a moment before listen(): a connect in between is
# refused, and a loaded machine can make that moment long.)
answering() {
	ADDR=$1 probe get /wait_async secs=0 2>/dev/null | grep -q '"status":"ready"'
}

# mux_stop PID: SIGKILL, and reap it.
mux_stop() {
	[[ -n ${1:-} ]] || return 0
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# exited PID: the process is gone, or a zombie (our parent reaps it).
exited() {
	[[ ! -e /proc/$1/stat ]] || [[ $(awk '{ print $3 }' "/proc/$1/stat") == Z ]]
}

setup_file() {
	# Short paths: unix socket names are limited to 107 bytes.
	DIR=$(mktemp -d /tmp/fcgilab-proto.XXXXXX)
	SOCK=$DIR/mux.sock
	mux_start "$SOCK" "$DIR/mux.log" --max-params 4096 --max-outq 65536 \
		--idle-timeout 2 --max-stdin 1024 --max-reqs-per-conn 4 \
		--max-conns 500 --max-inflight 1000 --blocking-routes \
		--stall-timeout 2
	MUX_PID=$MUX_STARTED
	export DIR SOCK MUX_PID
	wait_for 5 test -S "$SOCK"
	FDS0=$(fds)
	export FDS0
}

teardown_file() {
	mux_stop "${MUX_PID:-}"
	rm -rf "${DIR:-}"
}

teardown() {
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		printf '# --- mux log ---\n' >&3
		tail -n 20 "$DIR/mux.log" | sed 's/^/# /' >&3
	fi
	mux_stop "${OWN_PID:-}"
}

# probe [-q] [-t MS] [-l MS] [-c SECS] SCENARIO ARGS…: fcgi-probe against
# the file's mux (ADDR set: against that address).
probe() {
	local opts=()
	while [[ $1 == -* ]]; do
		if [[ $1 == -q ]]; then
			opts+=("$1")
			shift
		else
			opts+=("$1" "$2")
			shift 2
		fi
	done
	"$PROBE" "${opts[@]}" "${ADDR:-$SOCK}" "$@"
}

# metric NAME: its value in the mux's /metrics, asked over FastCGI by the probe
# (this suite has no lighttpd: it replaces helpers/stack's metric).
metric() {
	probe get /metrics | awk -v n="$1" '$1 == "1|" && $2 == n { print $3 }'
}

# took_ms: how long the probe's connection lasted (its TIME line), in ms.
took_ms() {
	sed -n 's/^TIME ms=//p' <<<"$output"
}

# took_between LO HI: LO <= took_ms <= HI.
took_between() {
	local ms
	ms=$(took_ms)
	((ms >= $1 && ms <= $2)) || fail "the connection lasted $ms ms, not $1..$2"
}

# metric_is NAME VALUE
metric_is() {
	[ "$(metric "$1")" = "$2" ]
}

fds() {
	find "/proc/$MUX_PID/fd" -mindepth 1 -maxdepth 1 | wc -l
}

# records: the record lines of the last run, content lengths as N.
records() {
	printf '%s\n' "$output" | grep -v -e '^[0-9]*|' -e '^TOTAL ' -e '^TIME ' |
		sed 's/len=[1-9][0-9]*/len=N/'
}

answer() { # answer ID [PROTO]: the three records of a one-record answer
	printf 'STDOUT id=%s len=N\nSTDOUT id=%s len=0\n' "$1" "$1"
	printf 'END_REQUEST id=%s app=0 proto=%s\n' "$1" "${2:-REQUEST_COMPLETE}"
}

# The mux is at rest: alive, nothing in flight, only the asking connection
# open, as many fds as it had before the first connection.
at_rest() {
	kill -0 "$MUX_PID"
	wait_for 5 metric_is fcgilab_connections_open 1
	assert_equal "$(metric fcgilab_requests_in_flight)" 0
	assert_equal "$(fds)" "$FDS0"
}

@test "a request without FCGI_KEEP_CONN: STDOUT, its end, END_REQUEST, then close (§5.1)" {
	run probe get /wait_async secs=0.1
	assert_success
	assert_equal "$(records)" "$(answer 1)
EOF"
	assert_line '1| Status: 200 OK'
	assert_line '1| {"status":"ready","seconds":0.1}'
	at_rest
}

@test "FCGI_KEEP_CONN: five requests one after another on one connection, which stays open" {
	run probe keepconn 5 /wait_async secs=0
	assert_failure 1
	assert_equal "$(records)" "$(for i in 1 2 3 4 5; do answer 1; done)
OPEN"
	assert_equal "$(grep -c '^1| {"status":"ready","seconds":0}$' <<<"$output")" 5
}

@test "answers given at once (/metrics, 404, 422, *_blocking) leave a kept connection usable" {
	local target
	for target in /metrics /nothing '/wait_async secs=x' \
		'/wait_async_blocking secs=0' '/cpu_async_blocking n=10'; do
		# shellcheck disable=SC2086 # PATH and QUERY
		run probe keepconn 3 $target
		assert_failure 1
		assert_equal "$(records)" "$(for i in 1 2 3; do answer 1; done)
OPEN"
	done
	at_rest
}

@test "without FCGI_KEEP_CONN an answer given at once closes at once, not at the idle timeout" {
	run probe get /nothing
	assert_equal "$(records)" "$(answer 1)
EOF"
	assert_line '1| {"detail":"Not Found"}'
	took_between 0 1500 # the idle timeout is 2 s
	at_rest
}

@test "multiplexing: two ids interleaved record by record; the quicker answers first" {
	run probe mpx
	assert_failure 1
	assert_equal "$(records)" "$(answer 2)
$(answer 1)
OPEN"
	assert_line '1| {"status":"ready","seconds":0.3}'
	assert_line '2| {"status":"ready","seconds":0}'
}

@test "a request written one byte at a time is answered the same" {
	run probe split 1
	assert_success
	assert_line --regexp '^SENT ([0-9]+)/\1$'
	assert_equal "$(records | grep -v ^SENT)" "$(answer 1)
EOF"
	assert_line '1| {"status":"ready","seconds":0}'
}

@test "three requests and a GET_VALUES in one write: all answered" {
	run probe coalesce
	assert_failure 1
	assert_line 'GET_VALUES_RESULT FCGI_MPXS_CONNS=1'
	assert_line 'END_REQUEST id=1 app=0 proto=REQUEST_COMPLETE'
	assert_line 'END_REQUEST id=2 app=0 proto=REQUEST_COMPLETE'
	assert_line 'END_REQUEST id=3 app=0 proto=REQUEST_COMPLETE'
	assert_line '1| {"status":"ready","seconds":0}'
	assert_line '2| {"status":"ready","seconds":0.1}'
	assert_line '3| {"n":1000,"result":168}'
	assert_line 'OPEN'
}

@test "records with padding, non-zero and up to 255 bytes, are read right (§3.3)" {
	run probe padding
	assert_success
	assert_equal "$(records)" "$(answer 1)
EOF"
	assert_line '1| {"status":"ready","seconds":0.01}'
}

@test "FCGI_GET_VALUES: the three known variables, the unknown one left out (§4.1)" {
	run probe get_values
	assert_failure 1
	assert_equal "$(records)" "GET_VALUES_RESULT FCGI_MAX_CONNS=500 FCGI_MAX_REQS=1000 FCGI_MPXS_CONNS=1
OPEN"
}

@test "an unknown management record gets FCGI_UNKNOWN_TYPE; the connection serves on (§4.2)" {
	run probe unknown_mgmt
	assert_success
	assert_equal "$(records)" "UNKNOWN_TYPE type=42
$(answer 1)
EOF"
}

@test "FCGI_ABORT_REQUEST with FCGI_KEEP_CONN: END_REQUEST at once, the id begins again (§5.4)" {
	local aborted
	aborted=$(metric fcgilab_requests_aborted_total)
	run probe abort keep
	assert_success
	# a wait of 30 s sends its head at once (mod_lesson.h), then the abort
	assert_equal "$(records)" "STDOUT id=1 len=N
END_REQUEST id=1 app=0 proto=REQUEST_COMPLETE
$(answer 1)
EOF"
	assert_equal "$(metric fcgilab_requests_aborted_total)" $((aborted + 1))
	at_rest
}

@test "FCGI_ABORT_REQUEST without FCGI_KEEP_CONN: END_REQUEST, then the connection closes (§5.4, §5.1)" {
	local aborted
	aborted=$(metric fcgilab_requests_aborted_total)
	run probe abort
	assert_equal "$(records)" "STDOUT id=1 len=N
END_REQUEST id=1 app=0 proto=REQUEST_COMPLETE
EOF"
	took_between 0 1500 # the abort comes at 200 ms, the idle timeout is 2 s
	assert_equal "$(metric fcgilab_requests_aborted_total)" $((aborted + 1))
	at_rest
}

# no_new_errors CMD…: run CMD; the mux counts no protocol error meanwhile.
no_new_errors() {
	local errs
	errs=$(metric fcgilab_protocol_errors_total)
	"$@"
	assert_equal "$(metric fcgilab_protocol_errors_total)" "$errs"
}

role_refused() {
	run probe role "$1"
	assert_success
	assert_equal "$(records)" "END_REQUEST id=1 app=0 proto=UNKNOWN_ROLE
$(answer 2)
EOF"
	assert_line '2| {"status":"ready","seconds":0}'
}

@test "AUTHORIZER and FILTER: FCGI_UNKNOWN_ROLE, the rest of the request ignored, the connection serves on (§5.5, §3.3)" {
	no_new_errors role_refused 2
	no_new_errors role_refused 3
	at_rest
}

overloaded() {
	run probe many_ids 6
	assert_failure 1
	# The two past --max-reqs-per-conn 4 are refused at once; the rest of
	# their records are ignored; the four others are served.
	assert_equal "$(records | head -n 2)" "END_REQUEST id=5 app=0 proto=OVERLOADED
END_REQUEST id=6 app=0 proto=OVERLOADED"
	for i in 1 2 3 4; do
		assert_line "END_REQUEST id=$i app=0 proto=REQUEST_COMPLETE"
		assert_line "$i| {\"status\":\"ready\",\"seconds\":0.2}"
	done
	assert_line OPEN
}

@test "past --max-reqs-per-conn: FCGI_OVERLOADED for the extra ids, the others served (§5.5)" {
	no_new_errors overloaded
	at_rest
}

unknown_id() {
	run probe unknown_id
	assert_success
	assert_equal "$(records)" "$(answer 1)
EOF"
}

@test "records for an id never begun are ignored, not an error (§3.3)" {
	no_new_errors unknown_id
	at_rest
}

answered_early() {
	run probe answered_early "$@"
	assert_success
	assert_equal "$(records)" "$(answer 1)
$(answer 1)
EOF"
	assert_line '1| Status: 413 Content Too Large'
	assert_line '1| Status: 200 OK'
}

@test "answered before its STDIN ended (413): its id is inactive, may begin again, and a late abort brings no second END_REQUEST (§3.3)" {
	no_new_errors answered_early
	no_new_errors answered_early abort
	at_rest
}

# closed_midway [PATH QUERY]: the request is dropped at once.
closed_midway() {
	local aborted
	aborted=$(metric fcgilab_requests_aborted_total)
	run probe close_midway "$@"
	assert_success
	assert_line CLOSED
	wait_for 2 metric_is fcgilab_requests_aborted_total $((aborted + 1))
	at_rest
}

@test "a front end that closes mid-request frees it at once (§3.5)" {
	closed_midway
}

@test "... also while a thread works for it (/cpu_async): the result is dropped" {
	# ~2 s of work; the request is gone at once, the thread finishes alone.
	closed_midway /cpu_async n=10000000
	run probe get /cpu_async n=1000
	assert_line '1| {"n":1000,"result":168}'
}

# --- malformed input: that connection closes, nothing else ----------------

# malformed SCENARIO: run beside a healthy companion connection opened
# before it; only the scenario's connection is closed, and counted.
malformed() {
	local errs
	errs=$(metric fcgilab_protocol_errors_total)
	run probe -c 0.3 "$1"
	assert_success
	assert_line --regexp '^(EOF|RESET)$'
	assert_line 'TOTAL records=0 end_requests=0'
	assert_line 'COMPANION status=200 proto=REQUEST_COMPLETE EOF'
	assert_equal "$(metric fcgilab_protocol_errors_total)" $((errs + 1))
	at_rest
}

@test "malformed: version 2 (§3.3)" { malformed bad_version; }
@test "malformed: BEGIN_REQUEST of 16 bytes (§5.1)" { malformed bad_begin_len; }
@test "malformed: STDOUT from the web server (§5.3)" { malformed stdout_from_client; }
@test "malformed: PARAMS over --max-params" { malformed params_overflow; }
@test "malformed: BEGIN_REQUEST for an active id (§3.3)" { malformed dup_begin; }
@test "malformed: GET_VALUES with requestId 1 (§3.3)" { malformed mgmt_nonzero_id; }
@test "malformed: PARAMS ending inside a name-value pair (§3.4)" { malformed truncated_nvpair; }
@test "malformed: STDIN before the PARAMS stream ended (§5.3)" { malformed stdin_early; }
@test "malformed: DATA for a responder (§6.2)" { malformed data_responder; }

# --- limits -----------------------------------------------------------------

@test "--idle-timeout closes a silent connection" {
	run probe silent
	assert_line EOF
	took_between 1500 5000
	at_rest
}

@test "--idle-timeout counts from the last answer: a kept connection in use stays open" {
	# Requests 1 s apart with the idle timeout at 2 s: the fourth comes
	# 3 s after the connection opened, 1 s after the last answer.
	run probe keepconn 4 /metrics '' 1000
	assert_failure 1
	assert_equal "$(records)" "$(for i in 1 2 3 4; do answer 1; done)
OPEN"
	run probe keepconn 4 /nothing '' 1000
	assert_failure 1
	assert_equal "$(grep -c 'proto=REQUEST_COMPLETE' <<<"$output")" 4
}

@test "a slow loris (a request trickled slower than --idle-timeout) is cut off" {
	run probe split 25
	assert_line EOF
	refute_line --partial END_REQUEST
	refute_line --regexp '^SENT ([0-9]+)/\1$'
	took_between 1500 5000
	at_rest
}

# rss_kib: the mux's resident memory.
rss_kib() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$MUX_PID/status"
}

@test "a front end that stops reading an export is dropped after --stall-timeout, all it held freed" {
	local rss0 rss stalled0 i
	stalled0=$(metric fcgilab_connections_stalled_total)
	for i in 1 2 3; do
		run probe -t 15000 stall 4000 /export.csv rows=1000000000
		assert_success
		assert_line HOLDING
		assert_line --regexp '^(EOF|RESET)$'
		assert_line --regexp 'end_requests=0$'
		((i > 1)) || rss0=$(rss_kib)
	done
	assert_equal "$(metric fcgilab_connections_stalled_total)" "$((stalled0 + 3))"
	at_rest
	rss=$(rss_kib)
	# the first round's high-water allocations stay with malloc; three
	# rounds must not add up
	((rss - rss0 < 1024)) || fail "RSS grew from $rss0 to $rss KiB"
}

@test "a front end that never reads is dropped at --max-outq, not buffered without end" {
	local ends
	run probe no_read 2000 /metrics
	assert_success
	assert_line --regexp '^(EOF|RESET)$'
	# It read on, answering into its queue, until the queue was full.
	ends=$(sed -n 's/^TOTAL records=[0-9]* end_requests=//p' <<<"$output")
	((ends > 0 && ends < 2000))
	at_rest
}

# cpu_ticks PID: user + system time so far, in clock ticks (1/100 s).
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

@test "closing with output still queued, the mux waits for the socket without spinning on unread input" {
	local own=$DIR/own.sock client t0 t1
	mux_start "$own" "$DIR/own.log" --idle-timeout 30
	OWN_PID=$MUX_STARTED
	wait_for 5 answering "$own"
	# 200 answers of /metrics (~500 KiB) fill the socket; the last request
	# has no FCGI_KEEP_CONN, so the mux is closing, and more bytes follow.
	ADDR=$own
	probe stalled_close 200 2500 >"$DIR/out" 3>&- &
	client=$!
	wait_for 5 grep -q HOLDING "$DIR/out"
	sleep 0.3
	t0=$(cpu_ticks "$OWN_PID")
	sleep 1
	t1=$(cpu_ticks "$OWN_PID")
	wait "$client" || true
	run cat "$DIR/out"
	assert_line 'TOTAL records=600 end_requests=200'
	assert_line --regexp '^(EOF|RESET)$'
	# Busy looping would be ~100 ticks in that second.
	((t1 - t0 < 30)) || fail "the mux used $((t1 - t0)) ticks of CPU in 1 s"
}

@test "200 connections at once: the mux serves beside them and frees them all" {
	run probe -c 0.2 flood_conns 200 500
	assert_success
	assert_line 'CONNECTED 200'
	assert_line 'COMPANION status=200 proto=REQUEST_COMPLETE EOF'
	at_rest
}

@test "--max-conns: beyond it connections wait in the backlog and are served later" {
	local own=$DIR/own.sock flood
	mux_start "$own" "$DIR/own.log" --max-conns 4
	OWN_PID=$MUX_STARTED
	wait_for 5 answering "$own"
	ADDR=$own
	probe flood_conns 4 3000 >"$DIR/flood" 3>&- &
	flood=$!
	sleep 0.5
	# The fifth waits in the backlog until the four go, ~2.5 s from now.
	run probe get /wait_async secs=0
	assert_line '1| {"status":"ready","seconds":0}'
	took_between 1000 10000
	wait "$flood"
	grep -qx 'CONNECTED 4' "$DIR/flood"
	grep -qx 'SERVER_CLOSED 0' "$DIR/flood"
	run probe get /metrics
	assert_line '1| fcgilab_connections_open_peak 4'
}

# tcp_up: 0 once the TCP mux takes connections, 2 if it died (port taken).
tcp_up() {
	kill -0 "$OWN_PID" 2>/dev/null || return 2
	"$PROBE" -t 300 -l 0 "$ADDR" silent >/dev/null 2>&1
	[ $? != 2 ]
}

# tcp_mux ALLOWED: a mux on a free loopback port (tried at random) with
# FCGI_WEB_SERVER_ADDRS=ALLOWED; sets ADDR and OWN_PID.
tcp_mux() {
	local try rc
	export FCGI_WEB_SERVER_ADDRS=$1
	for try in $(seq 20); do
		ADDR=127.0.0.1:$((20000 + (RANDOM + try) % 40000))
		mux_start "$ADDR" "$DIR/tcp.log"
		OWN_PID=$MUX_STARTED
		for _ in $(seq 100); do
			rc=0
			tcp_up || rc=$?
			case $rc in 0) return 0 ;; 2) break ;; esac
			sleep 0.05
		done
		mux_stop "$OWN_PID"
	done
	fail "no free port"
}

@test "TCP: FCGI_WEB_SERVER_ADDRS listing 127.0.0.1 lets us in" {
	tcp_mux 10.1.2.3,127.0.0.1
	run probe get /wait_async secs=0
	assert_success
	assert_line '1| {"status":"ready","seconds":0}'
}

@test "TCP: FCGI_WEB_SERVER_ADDRS without 127.0.0.1 shuts us out" {
	tcp_mux 10.1.2.3
	run probe get /wait_async secs=0
	assert_success
	assert_line --regexp '^(EOF|RESET)$'
	assert_line 'TOTAL records=0 end_requests=0'
}

# Last: the file's mux has been through every scenario above.
@test "SIGTERM after all of it: the mux exits, its log free of sanitizer reports" {
	kill -TERM "$MUX_PID"
	wait_for 10 exited "$MUX_PID"
	run grep -i -e sanitizer -e 'runtime error' "$DIR/mux.log"
	assert_output ''
}
