#!/usr/bin/env bats
# Bounded under abuse: each attack of issue 11, played against a stack of
# its own, and what must hold afterwards (answers whole, nothing kept,
# nothing lost, the server up).

# code, body, headers: set by http() in helpers/stack.bash; abs_top_builddir
# by make check.
# shellcheck disable=SC2154
load helpers/stack

setup_file() {
	stack_start --pool 2 --workers 2
}

teardown_file() {
	stack_stop
}

# evil_csv FILE: a CSV whose header has 256 column names of 256 control
# bytes each (each \u00XX in JSON: a stats result of ~380 KB).
evil_csv() {
	awk 'BEGIN {
		for (c = 1; c < 32; c++)
			if (c != 9 && c != 10 && c != 13)
				ctl[n++] = sprintf("%c", c)
		for (i = 0; i < 255; i++)
			name = name ctl[i % n]
		for (i = 0; i < 256; i++)
			printf "%s%s%c", i ? "," : "", name, 65 + i % 26
		printf "\n"
		for (i = 0; i < 256; i++)
			printf "%s1", i ? "," : ""
		printf "\n"
	}' >"$1"
}

@test "an answer larger than the output queue arrives whole (GET /jobs of 5 huge results)" {
	local f=$BATS_TEST_TMPDIR/evil.csv id ids=() n got size
	evil_csv "$f"
	for _ in 1 2 3 4 5; do
		id=$(curl -sS -F "file=@$f;type=text/csv" "$BASE/uploads?process=stats" | jq -r .id)
		[[ $id =~ ^[0-9a-f]{32}$ ]]
		ids+=("$id")
	done
	for id in "${ids[@]}"; do
		for _ in $(seq 200); do
			[[ $(curl -sS "$BASE/jobs/$id" | jq -r .status) == "done" ]] && break
			sleep 0.05
		done
	done
	# The mux's output queue holds 1 MiB; this answer is about 1.9 MB.
	run curl -sS -o "$BATS_TEST_TMPDIR/list.json" -w '%{http_code} %{size_download}' \
		"$BASE/jobs?limit=20"
	assert_success
	read -r got size <<<"$output"
	[ "$got" = 200 ]
	((size > 1500000)) || fail "only $size bytes"
	n=$(jq '[.items[] | select(.task == "stats" and .status == "done")
		| .result.csv.columns | length] | add' "$BATS_TEST_TMPDIR/list.json")
	[ "$n" -ge 1280 ]
	# the same through mod_deflate, and again: the mux is still up
	run curl -sS --compressed -o "$BATS_TEST_TMPDIR/list2.json" "$BASE/jobs?limit=20"
	assert_success
	cmp "$BATS_TEST_TMPDIR/list.json" "$BATS_TEST_TMPDIR/list2.json"
	http GET '/wait_async?secs=0'
	[ "$code" = 200 ]
}

@test "100 clients that send a whole request and leave after 0.5 s are freed within 1 s" {
	local -a fds=()
	local fd i in_flight aborted0 aborted
	aborted0=$(metric fcgilab_requests_aborted_total)
	for ((i = 0; i < 100; i++)); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
		# the whole request in one write, as a raw client sends it
		printf 'GET /wait_async?secs=5 HTTP/1.1\r\nHost: x\r\n\r\n' >&"$fd"
		fds+=("$fd")
	done
	sleep 0.5
	in_flight=$(metric fcgilab_requests_in_flight)
	((in_flight >= 100)) || fail "only $in_flight in flight before they left"
	for fd in "${fds[@]}"; do exec {fd}>&-; done
	sleep 1
	in_flight=$(metric fcgilab_requests_in_flight)
	aborted=$(metric fcgilab_requests_aborted_total)
	((in_flight <= 1)) || fail "$in_flight of 100 still in flight 1 s after their clients left"
	((aborted - aborted0 >= 99)) || fail "only $((aborted - aborted0)) counted as aborted"
}

@test "a client that stays gets the same bytes from a wait of a second or more" {
	run curl -sS -D - "$BASE/wait_async?secs=1"
	assert_success
	assert_line --regexp $'^Content-Length: 30\r$'
	refute_line --partial 'Transfer-Encoding'
	assert_line '{"status":"ready","seconds":1}'
	run curl -sS -D - "$BASE/wait_async?secs=0.5"
	assert_line --regexp $'^Content-Length: 32\r$'
}

# own_stack ARGS…: a stack of this test's own (OWN_STATE, OWN_BASE),
# stopped in teardown_own.
own_stack() {
	OWN_STATE=${OWN_STATE:-$(mktemp -d /tmp/fcgilab-test.XXXXXX)}
	"$FCGILAB" start --port 0 --state "$OWN_STATE" "$@" 3>&- >"$BATS_TEST_TMPDIR/own.start" 2>&1 || {
		cat "$BATS_TEST_TMPDIR/own.start" >&3
		return 1
	}
	OWN_BASE=http://127.0.0.1:$(<"$OWN_STATE/port")
}

teardown_own() {
	[[ -n ${OWN_STATE:-} ]] || return 0
	"$FCGILAB" stop --state "$OWN_STATE" --grace 5 3>&- >/dev/null 2>&1 || true
	if [[ -n ${OWN_MOUNT:-} ]]; then
		umount "$OWN_MOUNT/tmp" 2>/dev/null || true
		umount "$OWN_MOUNT" 2>/dev/null || true
	fi
	rm -rf "$OWN_STATE"
	unset OWN_STATE OWN_MOUNT
}

teardown() {
	stack_logs_on_failure
	teardown_own
}

# files_in DIR: the names in DIR, one per line (hidden ones too).
files_in() {
	find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort
}

@test "uploads: GET and DELETE /uploads/ID, bad and unknown ids" {
	local f=$BATS_TEST_TMPDIR/f id
	head -c 5000 /dev/urandom >"$f"
	id=$(curl -sS -F "file=@$f;type=text/plain" "$BASE/upload" | jq -r .id)
	http GET "/uploads/$id"
	[ "$code" = 200 ]
	[ "$(jq -r '.id, .bytes, .content_type' <<<"$body" | tr '\n' ' ')" = "$id 5000 text/plain " ]
	[ "$(jq -r .sha256 <<<"$body")" = "$(sha256sum "$f" | cut -d' ' -f1)" ]
	[[ $(jq -r .created_at <<<"$body") =~ ^20[0-9-]{8}T[0-9:]{8}Z$ ]]
	http DELETE "/uploads/$id"
	[ "$code" = 200 ]
	[ "$(jq -r .id <<<"$body")" = "$id" ]
	[ ! -e "$STATE/uploads/$id" ] && [ ! -e "$STATE/uploads/$id.json" ]
	http DELETE "/uploads/$id"
	[ "$code" = 404 ]
	[ "$body" = '{"detail":"Upload not found"}' ]
	http GET "/uploads/$id"
	[ "$code" = 404 ]
	http GET /uploads/..%2fjobs.db
	[ "$code" = 404 ] || [ "$code" = 422 ]
	http GET /uploads/NOT-AN-ID
	[ "$code" = 422 ]
	[ "$(jq -r '.detail[0].type, .detail[0].loc[1]' <<<"$body" | tr '\n' ' ')" = "string_pattern_mismatch upload_id " ]
	http POST "/uploads/$id" --data ''
	[ "$code" = 405 ]
}

@test "uploads: the quota answers 507, by Content-Length and as the bytes come; no part file is left" {
	local f=$BATS_TEST_TMPDIR/f id
	own_stack --workers 0 --uploads-quota 100000
	head -c 60000 /dev/urandom >"$f"
	id=$(curl -sS -F "file=@$f" "$OWN_BASE/upload" | jq -r .id)
	[[ $id =~ ^[0-9a-f]{32}$ ]]
	# by its Content-Length: at once
	run curl -sS -w ' %{http_code}' --data-binary "@$f" "$OWN_BASE/upload"
	assert_output '{"detail":"Insufficient Storage"} 507'
	# chunked: lighttpd spools it, the mux counts the bytes
	run curl -sS -w ' %{http_code}' -H 'Transfer-Encoding: chunked' --data-binary "@$f" "$OWN_BASE/upload"
	assert_output '{"detail":"Insufficient Storage"} 507'
	# multipart: its framing aside, by length too
	run curl -sS -w ' %{http_code}' -F "file=@$f" "$OWN_BASE/upload"
	assert_output '{"detail":"Insufficient Storage"} 507'
	[ "$(files_in "$OWN_STATE/uploads")" = "$id
$id.json" ]
	# room again once the first goes
	curl -fsS -X DELETE "$OWN_BASE/uploads/$id" >/dev/null
	run curl -sS -o /dev/null -w '%{http_code}' -F "file=@$f" "$OWN_BASE/upload"
	assert_output 201
	run curl -sS "$OWN_BASE/metrics"
	assert_line --regexp '^fcgilab_uploads_no_room_total 3$'
	assert_line 'fcgilab_uploads_quota_bytes 100000'
	assert_line 'fcgilab_uploads_stored_bytes 60000'
}

@test "uploads: kept for --upload-ttl, then swept away (off the loop)" {
	local id
	own_stack --workers 0 --upload-ttl 1
	id=$(printf 'short-lived\n' | curl -sS --data-binary @- "$OWN_BASE/upload?filename=x.txt" | jq -r .id)
	[ -e "$OWN_STATE/uploads/$id" ]
	for _ in $(seq 60); do
		[ -e "$OWN_STATE/uploads/$id" ] || [ -e "$OWN_STATE/uploads/$id.json" ] || break
		sleep 0.1
	done
	[ ! -e "$OWN_STATE/uploads/$id" ] && [ ! -e "$OWN_STATE/uploads/$id.json" ]
	run curl -sS -w ' %{http_code}' "$OWN_BASE/uploads/$id"
	assert_output '{"detail":"Upload not found"} 404'
	run curl -sS "$OWN_BASE/metrics"
	assert_line 'fcgilab_uploads_expired_total 1'
}

@test "uploads: 20 front ends that close as the body ends leave no file but those answered" {
	local dir=$BATS_TEST_TMPDIR/up sock=$BATS_TEST_TMPDIR/m.sock pid n i answered removed
	mkdir -m 0700 "$dir"
	"$abs_top_builddir/fcgi/fcgilab-mux" --listen "$sock" --uploads "$dir" \
		2>"$BATS_TEST_TMPDIR/mux.log" 3>&- &
	pid=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	sleep 0.1
	# each is gone while its upload is stored (or before): whatever was
	# stored for it goes too, nothing is left half-written. Only an upload
	# answered 201 before its front end closed stays (on a busy machine
	# the mux may store one that fast): it is the client's.
	for ((i = 0; i < 20; i++)); do
		"$abs_top_builddir/tests/helpers/fcgi-probe" -t 2000 "$sock" post_close /upload 300000 >/dev/null 2>&1 || true
	done
	probe_metric() {
		"$abs_top_builddir/tests/helpers/fcgi-probe" -t 2000 "$sock" get /metrics |
			awk -v n="$1" '$2 == n { print $3 }'
	}
	for _ in $(seq 50); do
		answered=$(probe_metric fcgilab_uploads_total)
		n=$(files_in "$dir" | wc -l)
		((n == 2 * answered)) && break
		sleep 0.1
	done
	removed=$(probe_metric fcgilab_uploads_orphans_removed_total)
	run files_in "$dir"
	kill -TERM "$pid"
	wait "$pid" || true
	# a data file and its .json for each upload answered, nothing else
	assert_equal "$(find "$dir" -mindepth 1 ! -name '*.json' | wc -l) $(find "$dir" -mindepth 1 -name '*.json' | wc -l)" \
		"$answered $answered"
	refute_output --partial .part
	# and the others were seen to go: stored, then removed
	((removed >= 1 && answered + removed <= 20)) || fail "answered $answered, removed $removed"
	# (through lighttpd, a client that leaves once its whole body is sent
	# is not seen: its upload is stored, and goes at --upload-ttl)
}

@test "uploads finish while /cpu_async fills the CPU pool: durability has its own pool" {
	local f=$BATS_TEST_TMPDIR/f pids=() i code
	own_stack --workers 0 --mux-arg --cpu-threads=1 --mux-arg --cpu-queue=4
	head -c 100000 /dev/urandom >"$f"
	for ((i = 0; i < 8; i++)); do
		curl -sS -o /dev/null --max-time 30 "$OWN_BASE/cpu_async?n=10000000" &
		pids+=($!)
	done
	sleep 0.3
	# the CPU pool is full now: more CPU work is refused…
	run curl -sS -w ' %{http_code}' "$OWN_BASE/cpu_async?n=10"
	assert_output --partial ' 503'
	# …and uploads still go through
	for ((i = 0; i < 3; i++)); do
		code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -F "file=@$f" "$OWN_BASE/upload")
		[ "$code" = 201 ] || fail "upload $i: $code"
	done
	kill "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
}

@test "a full disk: 507, no part file, and the jobs store keeps working" {
	local mnt id
	mnt=$(mktemp -d /tmp/fcgilab-test.XXXXXX)
	mount -t tmpfs -o size=4m,mode=0700 tmpfs "$mnt" 2>/dev/null ||
		skip "cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)"
	OWN_STATE=$mnt OWN_MOUNT=$mnt
	# lighttpd's spool (STATE/tmp) on a filesystem of its own: when the mux
	# falls behind the client, lighttpd buffers some of the body there, and
	# on the full disk its write would fail first (lighttpd's own 500)
	mkdir -m 0700 "$mnt/tmp"
	mount -t tmpfs -o size=16m,mode=0700 tmpfs "$mnt/tmp"
	own_stack --workers 1 --uploads-quota 100000000
	head -c 6000000 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	run curl -sS -w ' %{http_code}' -H 'Content-Type: application/octet-stream' \
		--limit-rate 2M -T "$BATS_TEST_TMPDIR/big" -X POST "$OWN_BASE/upload"
	assert_output '{"detail":"Insufficient Storage"} 507'
	run files_in "$OWN_STATE/uploads"
	assert_output ''
	# the space came back: jobs are stored and done, small uploads stored
	id=$(curl -sS -H 'Content-Type: application/json' -d '{"task":"cpu","n":10}' "$OWN_BASE/jobs" | jq -r .id)
	[[ $id =~ ^[0-9a-f]{32}$ ]]
	for _ in $(seq 100); do
		[[ $(curl -sS "$OWN_BASE/jobs/$id" | jq -r .status) == "done" ]] && break
		sleep 0.05
	done
	[[ $(curl -sS "$OWN_BASE/jobs/$id" | jq -r .status) == "done" ]]
	run curl -sS -o /dev/null -w '%{http_code}' --data-binary 'small' "$OWN_BASE/upload"
	assert_output 201
}

@test "bodies past a route's limit: lighttpd's 413 at once, JSON, nothing spooled" {
	local route
	head -c 5000 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/5k"
	head -c 20000 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/20k"
	# 4 KiB on the routes that take no body, 16 KiB on /jobs
	for route in "/wait?secs=0" "/wait_async?secs=0" "/cpu?n=1" "/items" "/metrics" "/"; do
		run curl -sS -o "$BATS_TEST_TMPDIR/b" -w "%{http_code} $route" \
			--data-binary "@$BATS_TEST_TMPDIR/5k" "$BASE$route"
		assert_output "413 $route"
		jq -e '.detail' "$BATS_TEST_TMPDIR/b" >/dev/null
	done
	run curl -sS -o "$BATS_TEST_TMPDIR/b" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$BATS_TEST_TMPDIR/20k" "$BASE/jobs"
	assert_output 413
	jq -e '.detail' "$BATS_TEST_TMPDIR/b" >/dev/null
	# 5 KB on /jobs passes lighttpd: the mux judges it (bad JSON: 422)
	run curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$BATS_TEST_TMPDIR/5k" "$BASE/jobs"
	assert_output 422
	# a client announcing 1 GB and sending nothing is answered at once
	run curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -H 'Content-Length: 1000000000' \
		-H 'Expect:' --data-binary x "$BASE/wait?secs=0"
	assert_output 413
	run files_in "$STATE/tmp"
	assert_output ''
}
