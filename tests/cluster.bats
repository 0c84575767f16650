#!/usr/bin/env bats
# Past one machine, on loopback addresses: three backend hosts (fcgilab
# start --role backend on 127.0.0.2, .3 and .4, the same ports) and a
# front (--role front) on 127.0.0.1 balancing them, all sharing one Redis
# with a password and one upload directory. A host "dies" by SIGKILL to
# every process it runs.
#
#   A  127.0.0.2   pool + mux, no workers
#   B  127.0.0.3   pool + mux, 2 workers
#   C  127.0.0.4   pool + mux, 2 workers
#
# What a shared upload directory proves here: the file a mux wrote under
# one host's processes is found by name, and hashed, by a worker of
# another host's (another state dir, other processes, another address),
# and a mux starting on the directory leaves another's upload in progress
# alone (its lock). Not proved: NFS itself (close-to-open consistency,
# attribute caching, its locks): all hosts here share one kernel.

load helpers/stack
load helpers/jobs
load helpers/cluster

# shellcheck disable=SC2154 # set by make check
SEND_MANY=$abs_top_builddir/tools/send_many

setup_file() {
	cluster_redis_start
	cluster_ports
	SHARED=$(mktemp -d /tmp/fcgilab-shared.XXXXXX)
	export SHARED
	local -a wargs=(--uploads "$SHARED" --worker-arg --lease=2 --worker-arg -v --worker-arg --poll=20)
	backend_start A 127.0.0.2 --workers 0 --uploads "$SHARED"
	backend_start B 127.0.0.3 --workers 2 "${wargs[@]}"
	backend_start C 127.0.0.4 --workers 2 "${wargs[@]}"
	front_start F 127.0.0.2,127.0.0.3,127.0.0.4
	export A B C F
}

teardown_file() {
	cluster_stop
	rm -rf "${SHARED:-}"
}

teardown() {
	[[ -n ${BATS_TEST_COMPLETED:-} ]] || cluster_logs
	local s
	# a test that failed with B or C down leaves them up for the next ones
	for s in B:127.0.0.3 C:127.0.0.4; do
		local name=${s%%:*} st
		st=${!name}
		backend_ok "$st" 2>/dev/null || backend_restart "$st" "${s#*:}" --workers 2 \
			--uploads "$SHARED" --worker-arg --lease=2 --worker-arg -v --worker-arg --poll=20 || true
	done
	for s in ${EXTRA_STATES:-}; do
		"$FCGILAB" stop --state "$s" --grace 2 >/dev/null 2>&1 || true
		rm -rf "$s" "$s.start"
	done
}

# get PATH [curl args…]: through the front; sets code and body.
get() {
	local path=$1 out
	shift
	out=$(curl -sS -o "$BATS_TEST_TMPDIR/b" -w '%{http_code}' --max-time 20 "$@" "${F_URL}${path#/}")
	code=$out
	body=$(cat "$BATS_TEST_TMPDIR/b")
}

# backend_ok STATE: every process of that backend is up (status exit 0).
backend_ok() { "$FCGILAB" status --state "$1" >/dev/null; }

@test "start --role: wrong uses are refused with the reason (exit 2)" {
	local s=$BATS_TEST_TMPDIR/s
	run "$FCGILAB" start --role middle --state "$s"
	assert_failure 2
	assert_output --partial 'all, backend or front'
	run "$FCGILAB" start --role backend --state "$s" --queue redis://127.0.0.1:1
	assert_failure 2
	assert_output --partial 'needs --listen'
	run "$FCGILAB" start --role backend --listen 0.0.0.0 --state "$s" --queue redis://127.0.0.1:1
	assert_failure 2
	assert_output --partial 'name the front ends'
	run "$FCGILAB" start --role backend --listen 0.0.0.0 --allow 10.0.0.0/8 --state "$s" --queue redis://127.0.0.1:1
	assert_failure 2
	assert_output --partial 'plain IPv4'
	run "$FCGILAB" start --role backend --listen 127.0.0.2 --state "$s"
	assert_failure 2
	assert_output --partial 'needs --queue redis://'
	run "$FCGILAB" start --role backend --listen host.example --state "$s" --queue redis://127.0.0.1:1
	assert_failure 2
	assert_output --partial 'IPv4 or IPv6 address'
	run "$FCGILAB" start --role backend --listen 127.0.0.2 --pool-port 9000 --mux-port 9000 --state "$s" --queue redis://127.0.0.1:1
	assert_failure 2
	run "$FCGILAB" start --role backend --listen 127.0.0.2 --port 8000 --state "$s" --queue redis://127.0.0.1:1
	assert_failure 2
	assert_output --partial -- '--port does not apply to --role backend'
	run "$FCGILAB" start --role front --state "$s"
	assert_failure 2
	assert_output --partial 'needs --backends'
	for bad in 'a;b' '127.0.0.2,127.0.0.2' '"x"' '-x' ' , '; do
		run "$FCGILAB" start --role front --backends "$bad" --state "$s"
		assert_failure 2
	done
	run "$FCGILAB" start --role front --backends 127.0.0.2 --workers 2 --state "$s"
	assert_failure 2
	assert_output --partial -- '--workers does not apply to --role front'
	run "$FCGILAB" start --role front --backends 127.0.0.2 --read-timeout 0 --state "$s"
	assert_failure 2
	[ ! -e "$s/lighttpd.conf" ]
}

@test "status per role: the front shows each backend from lighttpd's statistics" {
	run "$FCGILAB" status --state "$F"
	assert_success
	assert_line 'role      front'
	assert_line --regexp '^lighttpd  running, pid [0-9]+'
	assert_line --regexp "^backend   127\.0\.0\.2 +up +pool :$PP load [0-9]+, [0-9]+ connections, [0-9]+ connect errors; mux :$MP load"
	assert_line --regexp '^backend   127\.0\.0\.3 +up '
	assert_line --regexp '^backend   127\.0\.0\.4 +up '
	run "$FCGILAB" status --state "$B"
	assert_success
	assert_line 'role      backend on 127.0.0.3, front ends on loopback'
	assert_line --regexp "^pool      running, supervisor pid [0-9]+, 2 workers: .*, on 127\.0\.0\.3:$PP\$"
	assert_line --regexp "^mux       running, pid [0-9]+, on 127\.0\.0\.3:$MP\$"
	assert_line --regexp '^workers   running, .* 2 workers: .*; jobs in redis://127\.0\.0\.1:[0-9]+$'
	refute_output --partial "$(<"$REDIS_PW_FILE")"
	# a backend runs no lighttpd
	[ ! -e "$B/run/lighttpd.pid" ]
}

@test "every route works through the front, and each backend gets its share" {
	local c2 c3 c4
	get /
	assert_equal "$body" '{"Hello":"World"}'
	get '/wait?secs=0'
	assert_equal "$code" 200
	get '/cpu_async?n=10'
	assert_equal "$body" '{"n":10,"result":4}'
	get '/export.csv?rows=2'
	assert_equal "$(printf '%s\n' "$body" | wc -l)" 3
	get '/items?rows=3&limit=2'
	jq -e '.items | length == 2' <<<"$body"
	get /static/hello.txt
	assert_equal "$body" 'fcgilab static file'
	get /metrics
	assert_equal "$code" 200
	# 60 waits at once: least-connection spreads them over the three
	run "$SEND_MANY" -q -n 60 --secs 0.5 --timeout 20 "${F_URL}wait_async"
	assert_success
	for h in 2 3 4; do
		c=$(stat_of "$F_URL" "gw.backend.mux-wait@127.0.0.$h:$MP.0.connected")
		((c >= 5)) || fail "backend 127.0.0.$h got $c of 60 waits"
	done
	# and the pools too
	run "$SEND_MANY" -q -n 12 --secs 0.3 --timeout 20 "${F_URL}wait"
	assert_success
	c2=$(stat_of "$F_URL" "gw.backend.pool@127.0.0.2:$PP.0.connected")
	c3=$(stat_of "$F_URL" "gw.backend.pool@127.0.0.3:$PP.0.connected")
	c4=$(stat_of "$F_URL" "gw.backend.pool@127.0.0.4:$PP.0.connected")
	((c2 > 0 && c3 > 0 && c4 > 0)) || fail "pools: $c2 $c3 $c4"
}

@test "jobs: accepted by one host, seen by every host, done by another's workers" {
	local id i
	local BASE=${F_URL%/}
	id=$(post_job '{"task":"cpu","n":1000}')
	# GET /jobs/ID lands on any backend (least-connection ties go to the
	# first: load the others by hand, at once)
	for i in 1 2 3 4 5 6; do
		curl -sS -o "$BATS_TEST_TMPDIR/j$i" -w '%{http_code}\n' "${F_URL}jobs/$id" &
	done >"$BATS_TEST_TMPDIR/codes"
	wait
	run sort -u "$BATS_TEST_TMPDIR/codes"
	assert_output 200
	wait_job "$id" "done"
	assert_equal "$(job "$id" | jq -c .result)" '{"n":1000,"result":168}'
}

@test "a backend host dies mid-job: its leases expire, the jobs end on another host, none lost" {
	local -a ids
	local id i retried=0
	# shellcheck disable=SC2034 # read by the jobs helpers
	local BASE=${F_URL%/}
	for i in 1 2 3 4 5 6; do
		ids+=("$(post_job '{"task":"wait","secs":1.5}')")
	done
	# four running (two workers on B, two on C), two queued
	wait_for 20 bash -c "grep -c ': job .* claimed' '$B/log/workers.log' '$C/log/workers.log' |
		awk -F: '{ n += \$NF } END { exit !(n >= 4) }'"
	grep -q ': job .* claimed' "$B/log/workers.log"
	host_kill "$B"
	# nothing accepted is lost: every job ends done; those B held in hand
	# ran again on C, after their lease expired
	for id in "${ids[@]}"; do
		wait_job "$id" "done" 40
		if [[ $(job_field "$id" attempts) == 2 ]]; then
			retried=$((retried + 1))
			grep -q ": job $id (wait): claimed, attempt 2" "$C/log/workers.log"
			grep -q ": job $id (wait): claimed, attempt 1" "$B/log/workers.log"
		fi
	done
	echo "# $retried of 6 jobs ran again on C after B died" >&3
	((retried >= 1))
	# B comes back for the tests that follow
	backend_restart "$B" 127.0.0.3 --workers 2 --uploads "$SHARED" \
		--worker-arg --lease=2 --worker-arg -v --worker-arg --poll=20
}

@test "uploads: the file on one host, its stats job on another's worker (a shared directory)" {
	local id job sum
	# a front over A alone (A has no workers): the upload lands on A
	front_start FA 127.0.0.2
	EXTRA_STATES=$FA
	seq 1 5000 | awk '{ print $1 "," $1 * 2 }' | sed '1i a,b' >"$BATS_TEST_TMPDIR/data.csv"
	run curl -sS -F "file=@$BATS_TEST_TMPDIR/data.csv;type=text/csv" "${FA_URL}uploads?process=stats"
	assert_success
	job=$(jq -r .id <<<"$output")
	id=$(jq -r .upload.id <<<"$output")
	[ -f "$SHARED/$id" ]
	BASE=${F_URL%/} wait_job "$job" "done" 30
	run curl -sS "${F_URL}jobs/$job"
	sum=$(sha256sum <"$BATS_TEST_TMPDIR/data.csv")
	assert_equal "$(jq -r .result.sha256 <<<"$output")" "${sum%% *}"
	assert_equal "$(jq -c '.result.csv.columns[] | select(.name == "b") | .sum' <<<"$output")" 25005000
	assert_equal "$(jq -c .result.csv.rows <<<"$output")" 5000
	# done by a worker of B or C, never on A, which runs none
	grep -q ": job $job (stats): claimed" "$B/log/workers.log" "$C/log/workers.log"
}

@test "a mux starting on the shared upload directory leaves another host's upload in progress alone" {
	local pid
	front_start FA 127.0.0.2
	EXTRA_STATES=$FA
	# a part file a crash left (no one holds it): the starting mux removes it
	printf 'left by a crash\n' >"$SHARED/.part-00000000000000000000000000000000"
	head -c 3000000 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	curl -sS --limit-rate 1M -H 'Content-Type: application/octet-stream' \
		--data-binary "@$BATS_TEST_TMPDIR/big" "${FA_URL}upload" >"$BATS_TEST_TMPDIR/up.json" &
	pid=$!
	wait_for 10 bash -c "ls -a '$SHARED' | grep -q '^\\.part-[0-9a-f]*[1-9a-f]'"
	# C's mux starts again, on the same directory, while A writes
	"$FCGILAB" stop --state "$C" --grace 3 >/dev/null
	backend_restart "$C" 127.0.0.4 --workers 2 --uploads "$SHARED" \
		--worker-arg --lease=2 --worker-arg -v --worker-arg --poll=20
	[ ! -e "$SHARED/.part-00000000000000000000000000000000" ]
	wait "$pid"
	run jq -r .sha256 "$BATS_TEST_TMPDIR/up.json"
	assert_output "$(sha256sum <"$BATS_TEST_TMPDIR/big" | cut -d' ' -f1)"
	[ "$(jq -r .bytes "$BATS_TEST_TMPDIR/up.json")" = 3000000 ]
}

@test "failover: 2,000 /wait_async, one backend host killed mid-run, back later" {
	local csv=$BATS_TEST_TMPDIR/run.csv t_kill failed late hung died0 died1 conn0 conn1 load
	died0=$(stat_of "$F_URL" "gw.backend.mux-wait@127.0.0.3:$MP.0.died")
	"$SEND_MANY" -q -n 2000 -c 300 --secs 0.2..0.8 --seed 7 --timeout 20 \
		--csv "$csv" "${F_URL}wait_async" >"$BATS_TEST_TMPDIR/sm.out" 2>&1 &
	local sm=$!
	local t0
	t0=$(date +%s.%N)
	sleep 1
	load=$(stat_of "$F_URL" "gw.backend.mux-wait@127.0.0.3:$MP.0.load")
	host_kill "$B"
	# B is gone now (every process checked): a request sent later cannot
	# have been in flight on it
	t_kill=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
	wait "$sm" || true
	died1=$(stat_of "$F_URL" "gw.backend.mux-wait@127.0.0.3:$MP.0.died")
	local status_down
	status_down=$("$FCGILAB" status --state "$F" || true)
	# B comes back (before the checks, so that a failing one leaves the
	# cluster whole for the tests that follow)
	backend_restart "$B" 127.0.0.3 --workers 2 --uploads "$SHARED" \
		--worker-arg --lease=2 --worker-arg -v --worker-arg --poll=20
	# none hung: every request has an answer, none a client timeout
	assert_equal "$(($(wc -l <"$csv") - 1))" 2000
	hung=$(awk -F, 'NR > 1 && $7 == "timeout"' "$csv" | wc -l)
	assert_equal "$hung" 0
	# the failures: requests in flight on B when it died (lighttpd's 500)
	failed=$(awk -F, 'NR > 1 && $7 != "ok"' "$csv" | wc -l)
	awk -F, 'NR > 1 && $7 != "ok" { print "#", $6, $7 }' "$csv" | sort | uniq -c >&3 || true
	echo "# failover: $failed of 2000 failed; the killed host had $load in flight just before" >&3
	# at most those in flight on B (sampled just before the kill, plus
	# those lighttpd sent it in between); some, unless B had none
	((failed <= load + 100)) || fail "$failed failed, $load were in flight on B"
	((load == 0 || failed >= 1)) || fail "none failed though $load were in flight on B"
	# every request sent after B was gone succeeded
	late=$(awk -F, -v k="$t_kill" 'NR > 1 && $3 > k + 0.1 && $7 != "ok"' "$csv" | wc -l)
	assert_equal "$late" 0
	# lighttpd took B out of rotation: connect errors counted and logged
	((died1 > died0))
	grep -q "establishing connection failed: socket: tcp:127.0.0.3:$MP" "$F/log/lighttpd.log"
	grep -Eq '^backend   127\.0\.0\.3 +(disabled|down) ' <<<"$status_down"
	# back: lighttpd re-enables B and it gets traffic again
	conn0=$(stat_of "$F_URL" "gw.backend.mux-wait@127.0.0.3:$MP.0.connected")
	sleep 2.2 # past disable-time (1 s; lighttpd's timer ticks each second)
	run "$SEND_MANY" -q -n 300 -c 60 --secs 0.3 --timeout 20 "${F_URL}wait_async"
	assert_success
	conn1=$(stat_of "$F_URL" "gw.backend.mux-wait@127.0.0.3:$MP.0.connected")
	((conn1 > conn0)) || fail "B got no traffic after it came back ($conn0 -> $conn1)"
	grep -q "gw-server re-enabled: tcp:127.0.0.3:$MP" "$F/log/lighttpd.log"
	run "$FCGILAB" status --state "$F"
	assert_line --regexp '^backend   127\.0\.0\.3 +up '
}

@test "stop per role: a backend and the front stop what they started, nothing else" {
	"$FCGILAB" stop --state "$A" >/dev/null
	no_process_of "$A"
	run "$FCGILAB" status --state "$A"
	assert_failure 3
	# the others are untouched
	backend_ok "$B"
	backend_ok "$C"
	run "$FCGILAB" status --state "$F"
	assert_success
	assert_line --regexp '^backend   127\.0\.0\.2 +(down|disabled) '
	"$FCGILAB" stop --state "$F" >/dev/null
	no_process_of "$F"
	backend_ok "$B"
}
