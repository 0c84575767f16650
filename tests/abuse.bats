#!/usr/bin/env bats
# Bounded under abuse: each attack of issue 11, played against a stack of
# its own, and what must hold afterwards (answers whole, nothing kept,
# nothing lost, the server up).

load helpers/stack

setup_file() {
	stack_start --pool 2 --workers 2
}

teardown_file() {
	stack_stop
}

teardown() {
	stack_logs_on_failure
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
	local f=$BATS_TEST_TMPDIR/evil.csv id ids=() n
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
	read -r code size <<<"$output"
	[ "$code" = 200 ]
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

# metric NAME: its value in the mux's /metrics (asked from loopback).
metric() {
	curl -fsS "$BASE/metrics" | awk -v n="$1" '$1 == n { print $2 }'
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
