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
	python3 - "$1" <<'PY'
import sys
ctl = [c for c in range(1, 32) if c not in (9, 10, 13)]
name = ''.join(chr(ctl[i % len(ctl)]) for i in range(255))
cols = ','.join(name + chr(65 + i % 26) for i in range(256))
with open(sys.argv[1], 'w') as f:
    f.write(cols + '\n' + ','.join(['1'] * 256) + '\n')
PY
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
