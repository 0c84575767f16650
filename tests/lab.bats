#!/usr/bin/env bats
# The live page /lab/: its files and its runner's API over HTTP, bad input
# refused with a JSON detail, a run started, followed, refused twice and
# stopped; `fcgilab stop` ending a run and the stacks it started; clients
# on another address (a network namespace made here) refused unless
# --open-lab; and the page itself in Debian's Chromium (puppeteer-core,
# tests/browser), its screenshot kept as _build/tests/lab-page.png.

# BASE, STATE, FCGILAB (helpers/stack.bash), abs_top_* (make check).
# shellcheck disable=SC2153,SC2154
load helpers/stack
load helpers/netns

setup_file() { stack_start --pool 2; }
teardown_file() { stack_stop; }

teardown() {
	stack_logs_on_failure
	local pid
	for pid in ${OWN_PIDS:-}; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n ${OWN_STATE:-} ]]; then
		"$FCGILAB" stop --state "$OWN_STATE" --grace 5 >/dev/null 2>&1 || true
		rm -rf "$OWN_STATE"
	fi
	netns_teardown
}

post_run() { http POST /lab/api/runs -H 'Content-Type: application/json' -d "$1"; }

# run_state BASE ID: the state of a run, from its status.json.
run_state() {
	curl -fsS --max-time 5 "$1/lab/runs/$2/status.json" | jq -r .state
}

# wait_state BASE ID STATE...: until the run is in one of the states
# (30 s at most).
wait_state() {
	local base=$1 id=$2 s i
	shift 2
	for ((i = 0; i < 300; i++)); do
		s=$(run_state "$base" "$id" 2>/dev/null) || s=''
		[[ " $* " == *" $s "* ]] && return 0
		sleep 0.1
	done
	echo "run $id is '$s', not one of: $*" >&2
	return 1
}

# own_port BASE ID: the port of the stack of its own the run started
# (30 s at most).
own_port() {
	local i port
	for ((i = 0; i < 300; i++)); do
		port=$(curl -fsS "$1/lab/runs/$2/status.json" |
			jq -r '.header.stacks // ""' | grep -o 'of its own (http://127.0.0.1:[0-9]*' |
			sed 's/.*://') || true
		[[ -n $port ]] && { echo "$port"; return 0; }
		sleep 0.1
	done
	return 1
}

@test "the page and its files: HTML, CSS and JavaScript of their own, nothing from elsewhere" {
	http GET /lab/
	[ "$code" = 200 ]
	[ "$(header content-type)" = 'text/html; charset=utf-8' ]
	[[ $body == *'<script src="lab.js"></script>'* ]]
	http GET /lab
	[ "$code" = 301 ]
	[ "$(header location)" = /lab/ ]
	http GET /lab/lab.js
	[ "$(header content-type)" = 'text/javascript; charset=utf-8' ]
	http GET /lab/lab.css
	[ "$(header content-type)" = 'text/css; charset=utf-8' ]
	# no URL of another host in the page's files
	# (the SVG namespace is a name, not an address)
	run sh -c "grep -nE '(src|href)=\"(https?:)?//|url\\(|@import|https?://' \
		'$abs_top_srcdir'/lab/index.html '$abs_top_srcdir'/lab/lab.css '$abs_top_srcdir'/lab/lab.js |
		grep -v 'http://www.w3.org/2000/svg'"
	assert_failure
	http GET /lab/api/stack
	[ "$code" = 200 ]
	[ "$(jq -c . <<<"$body")" = '{"pool":2,"running":null}' ]
}

@test "the runner refuses bad requests with a JSON detail, and starts nothing; POSTs must be JSON" {
	local b
	for b in 'nope' '[]' '{"scenario":"x"}' '{"n":0}' '{"n":"5"}' '{"pools":[0]}' \
		'{"pools":[1,2,3,4,5,6,7]}' '{"secs":"1; rm -rf /"}' '{"secs":"0.1..99"}' \
		'{"seed":-1}' '{"timeout":1000}' '{"state":"/etc"}' '{"n":5,"n":6}'; do
		post_run "$b"
		[ "$code" = 422 ] || { echo "$b -> $code $body"; return 1; }
		jq -e '.detail | type == "string"' <<<"$body"
		[ "$(header content-type)" = application/json ]
	done
	http POST /lab/api/runs -H 'Content-Type: application/json' -d "{\"pad\":\"$(printf '%05000d' 0)\"}"
	[ "$code" = 413 ]
	# what any web page can make a browser send: a form, plain text
	for ct in application/x-www-form-urlencoded text/plain multipart/form-data application/jsonx; do
		http POST /lab/api/runs -H "Content-Type: $ct" -d '{}'
		[ "$code" = 415 ] || { echo "$ct -> $code"; return 1; }
	done
	http PUT /lab/api/runs
	[ "$code" = 405 ]
	[ "$(header allow)" = 'GET, POST' ]
	http DELETE /lab/api/stack
	[ "$code" = 405 ]
	http GET /lab/api/nope
	[ "$code" = 404 ]
	[ "$body" = '{"detail":"Not Found"}' ]
	http POST /lab/api/runs/../../stop -d ''
	[ "$code" = 404 ]
	http POST /lab/api/runs/x/stop -d '' --path-as-is
	[ "$code" = 404 ]
	http POST /lab/api/runs/20260101-000000-00000000/stop -H 'Content-Type: application/json' -d ''
	[ "$code" = 404 ]
	[ "$body" = '{"detail":"no such run going on"}' ]
	http GET /lab/api/runs/20260101-000000-00000000/stop
	[ "$code" = 405 ]
	http GET /lab/api/runs
	[ "$(jq -c . <<<"$body")" = '{"running":null,"runs":[]}' ]
	# nothing but the runs' files under /lab/runs/
	http GET '/lab/runs/%2e%2e/%2e%2e/lighttpd.conf'
	[ "$code" = 404 ]
	http GET /lab/runs/../lighttpd.conf
	[ "$code" = 404 ]
}

@test "a run: its id at once, its files filling in, a second refused while it goes on" {
	local id
	post_run '{"pools":[2],"n":6,"secs":"0.3","seed":3,"timeout":20}'
	[ "$code" = 202 ]
	id=$(jq -r .id <<<"$body")
	[[ $id =~ ^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$ ]]
	[ "$(jq -r .files <<<"$body")" = "/lab/runs/$id/" ]
	http GET /lab/api/runs
	[ "$(jq -r .running <<<"$body")" = "$id" ]
	post_run '{"n":1}'
	[ "$code" = 409 ]
	[ "$(jq -r .id <<<"$body")" = "$id" ]
	wait_state "$BASE" "$id" "done"
	http GET "/lab/runs/$id/pool-2.csv"
	[ "$(header content-type)" = 'text/csv; charset=utf-8' ]
	[ "$(tail -n +2 <<<"$body" | wc -l)" = 6 ]
	http GET "/lab/runs/$id/report.json"
	jq -e '.runs | map(.requests) == [6, 6]' <<<"$body"
	jq -e '.header.replay == "fcgilab compare --scenario wait --pool 2 -n 6 --secs 0.3 --seed 3 --timeout 20"' <<<"$body"
	http GET /lab/api/runs
	[ "$(jq -c '[.running, .runs[0]]' <<<"$body")" = "[null,\"$id\"]" ]
}

@test "stop: the run going on ends, and so does the stack it started" {
	local id port
	post_run '{"pools":[3],"n":12,"secs":"3","timeout":30}'
	[ "$code" = 202 ]
	id=$(jq -r .id <<<"$body")
	port=$(own_port "$BASE" "$id")
	curl -fsS -o /dev/null -m 2 "http://127.0.0.1:$port/static/hello.txt"
	http POST "/lab/api/runs/$id/stop" -d ''
	[ "$code" = 415 ]
	http POST "/lab/api/runs/$id/stop" -H 'Content-Type: application/json' -d ''
	[ "$code" = 202 ]
	run curl -s -o /dev/null -m 2 "http://127.0.0.1:$port/static/hello.txt"
	assert_failure
	# (polled: lighttpd may serve status.json as it was earlier in the
	# same second, its stat cache's granularity)
	wait_state "$BASE" "$id" failed
	http GET /lab/api/runs
	[ "$(jq -r .running <<<"$body")" = null ]
}

@test "fcgilab stop ends the runner, the run going on and the stacks it started" {
	local base id port
	OWN_STATE=$(mktemp -d /tmp/fcgilab-test.XXXXXX)
	"$FCGILAB" start --port 0 --state "$OWN_STATE" --pool 2 --workers 0 >/dev/null 3>&-
	base=http://127.0.0.1:$(<"$OWN_STATE/port")
	body=$(curl -fsS -H 'Content-Type: application/json' -d '{"pools":[3],"n":12,"secs":"3"}' "$base/lab/api/runs")
	id=$(jq -r .id <<<"$body")
	port=$(own_port "$base" "$id")
	"$FCGILAB" stop --state "$OWN_STATE" --grace 10 3>&-
	no_process_of "$OWN_STATE"
	run curl -s -o /dev/null -m 2 "http://127.0.0.1:$port/static/hello.txt"
	assert_failure
}

@test "another address: the page and its API are 403 while the API works; --open-lab opens them" {
	netns_setup
	OWN_STATE=$(mktemp -d /tmp/fcgilab-test.XXXXXX)
	in_server "$FCGILAB" start --port 0 --bind 0.0.0.0 --state "$OWN_STATE" --workers 0 >/dev/null 3>&-
	local port url code
	port=$(<"$OWN_STATE/port")
	url=http://$SERVER_IP:$port
	for path in /lab/ /lab/lab.js /lab/api/stack /lab/api/runs /lab/runs/x/status.json; do
		code=$(in_client curl -s -o /dev/null -w '%{http_code}' -m 5 "$url$path")
		[ "$code" = 403 ] || { echo "$path -> $code"; return 1; }
	done
	code=$(in_client curl -s -o /dev/null -w '%{http_code}' -m 5 -H 'Content-Type: application/json' -d '{}' "$url/lab/api/runs")
	[ "$code" = 403 ]
	code=$(in_client curl -s -o /dev/null -w '%{http_code}' -m 5 "$url/wait_async?secs=0")
	[ "$code" = 200 ]
	code=$(in_server curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:$port/lab/")
	[ "$code" = 200 ]
	in_server "$FCGILAB" stop --state "$OWN_STATE" >/dev/null 3>&-
	in_server "$FCGILAB" start --port 0 --bind 0.0.0.0 --state "$OWN_STATE" --workers 0 \
		--open-lab >/dev/null 3>&-
	port=$(<"$OWN_STATE/port")
	code=$(in_client curl -s -o /dev/null -w '%{http_code}' -m 5 "http://$SERVER_IP:$port/lab/api/stack")
	[ "$code" = 200 ]
}

@test "the page in Chromium: no script error, the gauge, a run's bars filling in, a screenshot" {
	local shot=$abs_top_builddir/tests/lab-page.png
	# as lint.bats without shellcheck: tools/dev/setup (so tools/run-tests and
	# CI) installs both; a tree without them (make distcheck) skips
	command -v chromium >/dev/null || skip "chromium not installed (Debian: chromium; tools/dev/setup)"
	[ -d "$abs_top_srcdir/tests/browser/node_modules/puppeteer-core" ] ||
		skip "puppeteer-core not installed (tools/dev/setup runs npm ci in tests/browser)"
	# load from a terminal, for the gauge to show
	"$abs_top_builddir/tools/send_many" -q -n 20 --secs 20 --timeout 30 "$BASE/wait_async" >/dev/null 2>&1 &
	OWN_PIDS=$!
	rm -f "$shot"
	run node "$abs_top_srcdir/tests/browser/lab-page.mjs" "$BASE" "$shot" 8
	echo "$output" >&3
	assert_success
	jq -e '.ok and .seen.bars == {"pool-2": 8, "mux": 8} and .seen.gauge_mux_in_flight > 0' <<<"$output"
	[ -s "$shot" ]
	echo "# screenshot: $shot" >&3
}
