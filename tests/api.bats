#!/usr/bin/env bats
# The API served by the blocking pool through lighttpd: every route, every
# bad input, FastAPI's status codes and bodies, JSON everywhere.

# code, body, headers and secs are set by http() in helpers/stack.bash.
# shellcheck disable=SC2154
load helpers/stack

setup_file() { stack_start --pool 2; }
teardown_file() { stack_stop; }
teardown() { stack_logs_on_failure; }

assert_json() {
	[ "$(header Content-Type)" = application/json ]
	jq -e . <<<"$body" >/dev/null
}

# assert_422 QUERY TYPE INPUT: GET /wait?QUERY is FastAPI's 422 of TYPE.
assert_422() {
	http GET "/wait?$1"
	assert_equal "$code" 422
	assert_json
	assert_equal "$(jq -r '.detail[0].type' <<<"$body")" "$2"
	assert_equal "$(jq -c '.detail[0].loc' <<<"$body")" '["query","secs"]'
	assert_equal "$(jq -c '.detail[0].input' <<<"$body")" "$3"
}

@test "GET / is Hello World" {
	http GET /
	assert_equal "$code" 200
	assert_equal "$body" '{"Hello":"World"}'
	assert_json
}

@test "GET /wait?secs=0.2 answers after 0.2 s with the lesson's body" {
	http GET '/wait?secs=0.2'
	assert_equal "$code" 200
	assert_equal "$body" '{"status":"ready","seconds":0.2}'
	assert_json
	between "$secs" 0.19 2
}

@test "seconds echoes integers without a decimal point" {
	http GET '/wait?secs=0'
	assert_equal "$body" '{"status":"ready","seconds":0}'
	http GET '/wait?secs=1e-1'
	assert_equal "$body" '{"status":"ready","seconds":0.1}'
}

@test "GET /cpu?n=N counts the primes below N" {
	http GET '/cpu?n=100000'
	assert_equal "$code" 200
	assert_equal "$body" '{"n":100000,"result":9592}'
	assert_json
}

@test "missing secs: 422 missing, input null" {
	http GET /wait
	assert_equal "$code" 422
	assert_equal "$body" '{"detail":[{"type":"missing","loc":["query","secs"],"msg":"Field required","input":null}]}'
	assert_json
}

@test "non-numeric secs: 422 float_parsing echoing the input" {
	assert_422 'secs=abc' float_parsing '"abc"'
	assert_equal "$(jq -r '.detail[0].msg' <<<"$body")" \
		'Input should be a valid number, unable to parse string as a number'
}

@test "empty secs (secs= and bare secs): 422 float_parsing" {
	assert_422 'secs=' float_parsing '""'
	assert_422 'secs' float_parsing '""'
}

@test "negative secs: 422 greater_than_equal with ctx" {
	assert_422 'secs=-1' greater_than_equal '"-1"'
	assert_equal "$body" '{"detail":[{"type":"greater_than_equal","loc":["query","secs"],"msg":"Input should be greater than or equal to 0","input":"-1","ctx":{"ge":0.0}}]}'
}

@test "secs above the maximum (60): 422 less_than_equal with ctx" {
	assert_422 'secs=60.5' less_than_equal '"60.5"'
	# ctx as FastAPI prints a float bound (jq would normalise 60.0 to 60)
	assert_equal "$body" '{"detail":[{"type":"less_than_equal","loc":["query","secs"],"msg":"Input should be less than or equal to 60","input":"60.5","ctx":{"le":60.0}}]}'
}

@test "nan, inf, -inf and an overflowing 1e400 are out of range" {
	assert_422 'secs=nan' less_than_equal '"nan"'
	assert_422 'secs=inf' less_than_equal '"inf"'
	assert_422 'secs=-inf' greater_than_equal '"-inf"'
	assert_422 'secs=1e400' less_than_equal '"1e400"'
}

@test "hex, commas and percent-encoded junk are not numbers" {
	assert_422 'secs=0x10' float_parsing '"0x10"'
	assert_422 'secs=1,5' float_parsing '"1,5"'
	assert_422 'secs=%C3%A9' float_parsing '"é"'
}

@test "a repeated parameter: the last value wins, as in FastAPI" {
	http GET '/wait?secs=99&secs=0'
	assert_equal "$code" 200
	assert_equal "$body" '{"status":"ready","seconds":0}'
	assert_422 'secs=0&secs=99' less_than_equal '"99"'
}

@test "/cpu validation: int_parsing for 1.5, ranges, huge numbers" {
	http GET '/cpu?n=1.5'
	assert_equal "$code" 422
	assert_equal "$(jq -r '.detail[0].type' <<<"$body")" int_parsing
	http GET '/cpu?n=-1'
	assert_equal "$(jq -c '.detail[0].ctx' <<<"$body")" '{"ge":0}'
	http GET '/cpu?n=99999999999999999999999'
	assert_equal "$code" 422
	assert_equal "$(jq -c '.detail[0].ctx' <<<"$body")" '{"le":10000000}'
	http GET '/cpu'
	assert_equal "$(jq -r '.detail[0].type' <<<"$body")" missing
}

@test "unknown paths: 404 {\"detail\":\"Not Found\"}" {
	for p in /nope /wait/extra /waitx '/a%20b' /index.html; do
		http GET "$p"
		assert_equal "$code" 404
		assert_equal "$body" '{"detail":"Not Found"}'
		assert_json
	done
}

@test "wrong method: 405 with Allow: GET" {
	http POST '/wait?secs=0' -d ''
	assert_equal "$code" 405
	assert_equal "$body" '{"detail":"Method Not Allowed"}'
	assert_equal "$(header Allow)" GET
	assert_json
	http DELETE /
	assert_equal "$code" 405
	http PUT /cpu?n=1 -d x
	assert_equal "$code" 405
}

@test "HEAD on a GET route is 405, as FastAPI answers it" {
	run curl -sS -I -o /dev/null -w '%{http_code}' "$BASE/wait?secs=0"
	assert_output 405
}

@test "a trailing slash redirects (307) to the route, query kept" {
	http GET '/wait/?secs=0'
	assert_equal "$code" 307
	assert_equal "$(header Location)" '/wait?secs=0'
}

@test "errors lighttpd answers itself are JSON too" {
	http GET '/wait?secs=%FF' # invalid UTF-8 in the URL: 400 from lighttpd
	assert_equal "$code" 400
	assert_equal "$body" '{"detail":"Bad Request"}'
	assert_json
	http POST /wait # no Content-Length
	assert_equal "$code" 411
	assert_json
}

@test "after bad input the same workers still serve (no crash)" {
	local before after
	before=$(ps --ppid "$(<"$STATE/run/sync.pid")" -o pid= | sort | tr -d ' \n')
	for q in secs=abc secs=-1 secs=nan 'secs=%00' 'secs=%FF' "secs=$(printf '9%.0s' {1..5000})"; do
		http GET "/wait?$q"
		[[ $code == 4?? ]] # 422 from the app, or 400 from lighttpd
		assert_json
	done
	http GET '/wait?secs=0'
	assert_equal "$code" 200
	after=$(ps --ppid "$(<"$STATE/run/sync.pid")" -o pid= | sort | tr -d ' \n')
	assert_equal "$after" "$before"
}

@test "lighttpd's statistics are served to localhost" {
	http GET /server-statistics
	assert_equal "$code" 200
	[[ $body == *gw.backend.pool.load* ]]
}
