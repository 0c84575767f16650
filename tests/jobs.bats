#!/usr/bin/env bats
# The jobs API over HTTP, through lighttpd and the mux, with two workers:
# every endpoint and error. One source, two stores: this file runs on the
# embedded SQLite store, and make writes tests/jobs-redis.bats from it with
# JOBS_STORE=redis (a redis-server of the suite's own).

# code, body, headers, secs and BASE are set by helpers/stack.bash.
# shellcheck disable=SC2154,SC2153
# shellcheck disable=SC2034 # read by helpers/jobs.bash
JOBS_STORE=sqlite
load "${abs_top_srcdir:?}/tests/helpers/stack"
load "${abs_top_srcdir:?}/tests/helpers/jobs"

setup_file() { jobs_stack_start --pool 1 --workers 2 --worker-arg --poll=20; }
teardown_file() { jobs_stack_stop; }
teardown() { stack_logs_on_failure; }
# The last tests restart the stack with other limits, on a new port;
# tests run in processes of their own, so each reads the port again.
setup() {
	PORT=$(<"$STATE/port")
	BASE=http://127.0.0.1:$PORT
}

# post BODY [curl args…]: POST /jobs with a JSON Content-Type.
post() {
	local b=$1
	shift
	http POST /jobs -H 'Content-Type: application/json' --data-binary "$b" "$@"
}

@test "POST /jobs: 202 at once, {id, status: queued}, Location" {
	post '{"task":"wait","secs":0.2}'
	assert_equal "$code" 202
	assert_equal "$(header Content-Type)" application/json
	local id
	id=$(jq -r .id <<<"$body")
	[[ $id =~ ^[0-9a-f]{32}$ ]]
	assert_equal "$body" "{\"id\":\"$id\",\"status\":\"queued\"}"
	assert_equal "$(header Location)" "/jobs/$id"
	between "$secs" 0 0.5 # answered on commit, not after the work
}

@test "a wait job runs on a worker: result is exactly /wait's body" {
	local id want
	id=$(post_job '{"task":"wait","secs":0.3}')
	http GET "/jobs/$id"
	assert_equal "$code" 200
	[[ $(jq -r .status <<<"$body") =~ ^(queued|running|done)$ ]]
	wait_job "$id" "done"
	want=$(curl -fsS "$BASE/wait?secs=0.3")
	http GET "/jobs/$id"
	assert_equal "$(jq -c .result <<<"$body")" "$want"
	assert_equal "$(jq -c .params <<<"$body")" '{"secs":0.3}'
	assert_equal "$(jq -r '[.task, .attempts, .max_attempts, .error] | join(" ")' <<<"$body")" "wait 1 3 "
	# the keys of the contract, times as ISO 8601 UTC, in order
	assert_equal "$(jq -r 'keys_unsorted | join(",")' <<<"$body")" \
		id,task,params,status,attempts,max_attempts,result,error,created_at,started_at,finished_at
	[[ $(jq -r .created_at <<<"$body") =~ ^20[0-9-]{8}T[0-9:]{8}(\.[0-9]{6})?Z$ ]]
	# it took the work's time between start and finish
	jq -e '(.finished_at | sub("\\.[0-9]+Z";"Z") | fromdate) >= (.started_at | sub("\\.[0-9]+Z";"Z") | fromdate)' <<<"$body" >/dev/null
}

@test "a cpu job: result is exactly /cpu's body" {
	local id want
	id=$(post_job '{"task":"cpu","n":20000,"max_attempts":1}')
	wait_job "$id" "done"
	want=$(curl -fsS "$BASE/cpu?n=20000")
	assert_equal "$(job "$id" | jq -c .result)" "$want"
	assert_equal "$(job_field "$id" max_attempts)" 1
}

@test "a long job does not delay the 202 (the work is the worker's)" {
	local id
	post '{"task":"wait","secs":3}'
	assert_equal "$code" 202
	between "$secs" 0 0.5
	id=$(jq -r .id <<<"$body")
	wait_job "$id" running 5
}

@test "bad bodies: FastAPI's 422 shapes, and nothing stored" {
	local before after
	before=$(all_ids | wc -l)
	post 'not json'
	assert_equal "$code" 422
	assert_equal "$body" '{"detail":[{"type":"json_invalid","loc":["body",0],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting value"}}]}'
	post '{"task":"wait","secs":"soon"}'
	assert_equal "$code" 422
	assert_equal "$body" '{"detail":[{"type":"float_parsing","loc":["body","secs"],"msg":"Input should be a valid number, unable to parse string as a number","input":"soon"}]}'
	post '{"task":"cpu","n":1.5}'
	assert_equal "$(jq -r '.detail[0].type' <<<"$body")" int_from_float
	post '{"task":"wait","secs":61}'
	assert_equal "$body" '{"detail":[{"type":"less_than_equal","loc":["body","secs"],"msg":"Input should be less than or equal to 60","input":61,"ctx":{"le":60.0}}]}'
	post '{"task":"mine","secs":1}'
	assert_equal "$body" '{"detail":[{"type":"literal_error","loc":["body","task"],"msg":"Input should be '"'wait', 'cpu' or 'stats'"'","input":"mine","ctx":{"expected":"'"'wait', 'cpu' or 'stats'"'"}}]}'
	post '{"task":"wait"}'
	assert_equal "$body" '{"detail":[{"type":"missing","loc":["body","secs"],"msg":"Field required","input":{"task":"wait"}}]}'
	post '[]'
	assert_equal "$(jq -r '.detail[0].type' <<<"$body")" model_attributes_type
	post ''
	assert_equal "$body" '{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}'
	post '{"task":"wait","secs":1,"max_attempts":0}'
	assert_equal "$(jq -r '.detail[0] | .type + " " + (.loc | join("."))' <<<"$body")" "greater_than_equal body.max_attempts"
	after=$(all_ids | wc -l)
	assert_equal "$after" "$before"
}

@test "wrong Content-Type: 422 as FastAPI (the body is not read as JSON)" {
	http POST /jobs -H 'Content-Type: text/plain' --data-binary '{"task":"wait","secs":1}'
	assert_equal "$code" 422
	assert_equal "$body" '{"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":"{\"task\":\"wait\",\"secs\":1}"}]}'
	http POST /jobs -d 'task=wait&secs=1' # curl's form default
	assert_equal "$code" 422
	# no Content-Type at all is read as JSON
	http POST /jobs -H 'Content-Type:' --data-binary '{"task":"wait","secs":0}'
	assert_equal "$code" 202
}

@test "too large a body: 413 JSON, nothing stored" {
	local big
	big=$(head -c 17000 /dev/zero | tr '\0' ' ')
	post "{\"task\":\"wait\",\"secs\":0,\"pad\":\"$big\"}"
	assert_equal "$code" 413
	assert_equal "$body" '{"detail":"Content Too Large"}'
	# just under the bound is fine
	big=$(head -c 16000 /dev/zero | tr '\0' ' ')
	post "{\"task\":\"wait\",\"secs\":0,\"pad\":\"$big\"}"
	assert_equal "$code" 202
}

@test "bad and unknown ids: 422 and 404, JSON" {
	http GET /jobs/nope
	assert_equal "$code" 422
	assert_equal "$body" '{"detail":[{"type":"string_pattern_mismatch","loc":["path","job_id"],"msg":"String should match pattern '"'^[0-9a-f]{32}\$'"'","input":"nope","ctx":{"pattern":"^[0-9a-f]{32}$"}}]}'
	http GET /jobs/0123456789abcdef0123456789abcdef
	assert_equal "$code" 404
	assert_equal "$body" '{"detail":"Job not found"}'
	http DELETE /jobs/0123456789abcdef0123456789abcdef
	assert_equal "$code" 404
	http DELETE /jobs/0123456789ABCDEF0123456789ABCDEF
	assert_equal "$code" 422
}

@test "wrong methods: 405 with Allow" {
	http PUT /jobs -d '{}'
	assert_equal "$code" 405
	assert_equal "$(header Allow)" 'GET, POST'
	http POST /jobs/0123456789abcdef0123456789abcdef -d '{}'
	assert_equal "$code" 405
	assert_equal "$(header Allow)" 'GET, DELETE'
	assert_equal "$body" '{"detail":"Method Not Allowed"}'
}

@test "DELETE cancels a queued job; 409 once running or finished" {
	local a b c d
	wait_idle
	# two long jobs keep both workers busy (they go on after this test);
	# the third waits
	a=$(post_job '{"task":"wait","secs":6}')
	b=$(post_job '{"task":"wait","secs":6}')
	wait_job "$a" running
	wait_job "$b" running
	c=$(post_job '{"task":"wait","secs":0}')
	http DELETE "/jobs/$c"
	assert_equal "$code" 200
	assert_equal "$(jq -r .status <<<"$body")" cancelled
	[[ $(jq -r .finished_at <<<"$body") != null ]]
	http DELETE "/jobs/$c"
	assert_equal "$code" 409
	assert_equal "$body" '{"detail":"Job is cancelled: only a queued job can be cancelled"}'
	http DELETE "/jobs/$a"
	assert_equal "$code" 409
	# (running, unless the machine is so slow that it is done already)
	[[ $body =~ ^\{\"detail\":\"Job\ is\ (running|done):\ only\ a\ queued\ job\ can\ be\ cancelled\"\}$ ]]
	d=$(all_ids status=done | head -n 1)
	http DELETE "/jobs/$d"
	assert_equal "$code" 409
	assert_equal "$body" '{"detail":"Job is done: only a queued job can be cancelled"}'
	# a cancelled job never runs
	assert_equal "$(job_field "$c" status)" cancelled
	assert_equal "$(job_field "$c" attempts)" 0
}

@test "GET /jobs: pages newest first walk every job exactly once" {
	local -a posted=() seen=()
	local i page cursor="" link next n=0
	for ((i = 0; i < 23; i++)); do
		posted+=("$(post_job '{"task":"wait","secs":0}')")
	done
	while :; do
		http GET "/jobs?limit=5${cursor:+&cursor=$cursor}"
		assert_equal "$code" 200
		page=$body
		mapfile -t -O "${#seen[@]}" seen < <(jq -r '.items[].id' <<<"$page")
		next=$(jq -r '.next // empty' <<<"$page")
		link=$(header Link)
		if [[ -z $next ]]; then
			assert_equal "$link" ''
			break
		fi
		assert_equal "$link" "</jobs?limit=5&cursor=$next>; rel=\"next\""
		cursor=$next
		((++n < 100))
	done
	# every job once (the other tests' jobs too), no repeats
	assert_equal "$(printf '%s\n' "${seen[@]}" | sort | uniq -d)" ''
	assert_equal "${#seen[@]}" "$(all_ids | wc -l)"
	# the 23 just posted are the newest, newest first
	for ((i = 0; i < 23; i++)); do
		assert_equal "${seen[$i]}" "${posted[$((22 - i))]}"
	done
}

@test "GET /jobs?status=…: a filtered walk, its own cursors" {
	local id page next
	id=$(post_job '{"task":"wait","secs":0}')
	wait_job "$id" "done"
	http GET '/jobs?status=done&limit=2'
	assert_equal "$code" 200
	assert_equal "$(jq -r '[.items[].status] | unique | join(",")' <<<"$body")" "done"
	next=$(jq -r .next <<<"$body")
	[[ $(header Link) == "</jobs?status=done&limit=2&cursor=$next>; rel=\"next\"" ]]
	http GET "/jobs?status=done&limit=2&cursor=$next"
	assert_equal "$code" 200
	# a cursor of one filter is refused by another
	http GET "/jobs?limit=2&cursor=$next"
	assert_equal "$code" 422
	assert_equal "$(jq -r '.detail[0] | .type + " " + (.loc | join("."))' <<<"$body")" "value_error query.cursor"
	# every done job in all_ids status=done is "done"
	for id in $(all_ids status=done | head -n 30); do
		assert_equal "$(job_field "$id" status)" "done"
	done
}

@test "bad list queries: 422 (status, limit, garbled cursor)" {
	http GET '/jobs?status=finished'
	assert_equal "$code" 422
	assert_equal "$(jq -r '.detail[0].type' <<<"$body")" literal_error
	http GET '/jobs?limit=0'
	assert_equal "$(jq -r '.detail[0].type' <<<"$body")" greater_than_equal
	http GET '/jobs?limit=101'
	assert_equal "$(jq -r '.detail[0].type' <<<"$body")" less_than_equal
	http GET '/jobs?limit=x'
	assert_equal "$(jq -r '.detail[0].type' <<<"$body")" int_parsing
	http GET '/jobs?cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
	assert_equal "$code" 422
	http GET '/jobs?cursor=not-a-cursor%21'
	assert_equal "$code" 422
	assert_equal "$(header Content-Type)" application/json
}

@test "50 concurrent POSTs: all 202, all done" {
	local ids n
	ids=$(seq 50 | xargs -P 25 -I{} curl -sS --max-time 20 -H 'Content-Type: application/json' \
		-d '{"task":"wait","secs":0}' "$BASE/jobs" | jq -r .id)
	n=$(grep -c '^[0-9a-f]\{32\}$' <<<"$ids")
	assert_equal "$n" 50
	for id in $ids; do
		wait_job "$id" "done" 20
	done
}

@test "/metrics: queue depth, running, done, failed, retried, latency" {
	local m
	for _ in $(seq 40); do # the figures are refreshed every second
		m=$(curl -fsS "$BASE/metrics")
		grep -q '^fcgilab_jobs_done_total [1-9]' <<<"$m" && break
		sleep 0.1
	done
	for s in fcgilab_jobs_queue_depth fcgilab_jobs_running fcgilab_jobs_done_total \
		fcgilab_jobs_failed_total fcgilab_jobs_retried_total fcgilab_jobs_cancelled_total \
		fcgilab_jobs_enqueue_to_start_seconds_count fcgilab_jobs_enqueue_to_start_seconds_sum \
		fcgilab_jobs_enqueued_total fcgilab_jobs_store_commits_total; do
		grep -q "^$s [0-9]" <<<"$m" || fail "no $s"
	done
	grep -q '^fcgilab_jobs_enqueue_to_start_seconds_bucket{le="+Inf"} [1-9]' <<<"$m"
	grep -q '^fcgilab_requests_total{route="jobs",status="202"} [1-9]' <<<"$m"
}

@test "fcgilab status shows the workers and the store" {
	run "$FCGILAB" status --state "$STATE"
	assert_success
	assert_line --regexp '^workers   running, supervisor pid [0-9]+, 2 workers: [0-9]+ [0-9]+; jobs in '
}

# --- retention and a bounded queue (these restart the stack) ---------------

@test "100,000 finished jobs two days old: counted as written, expired in batches while POSTs are served" {
	local done0 expired0 kept ids id
	wait_idle
	wait_metric fcgilab_jobs_queue_depth -eq 0
	done0=$(metric fcgilab_jobs_done_total)
	expired0=$(metric fcgilab_jobs_expired_total)
	# behind the store's back, as a long-running stack would have left
	# them; the default TTL is a day
	jobs_fill_finished 100000 $((2 * 86400))
	wait_metric fcgilab_jobs_done_total -ge $((done0 + 100000))
	# the expiry goes on a batch at a time: jobs posted meanwhile are
	# stored, run and kept
	ids=$(for _ in $(seq 20); do post_job '{"task":"wait","secs":0}'; done)
	assert_equal "$(grep -c . <<<"$ids")" 20
	wait_metric fcgilab_jobs_expired_total -ge $((expired0 + 100000)) 120
	for id in $ids; do
		wait_job "$id" "done"
	done
	http GET /jobs/f0000000000000000000000000000001
	assert_equal "$code" 404
	assert_equal "$body" '{"detail":"Job not found"}'
	# the counts say what the list holds: nothing of the 100,000 is left
	sleep 1.1
	kept=$(metric fcgilab_jobs_finished_kept)
	assert_equal "$kept" "$(($(all_ids status=done | wc -l) + $(all_ids status=failed | wc -l) + $(all_ids status=cancelled | wc -l)))"
	# and the totals never go down
	(($(metric fcgilab_jobs_done_total) >= done0 + 100000 + 20))
}

@test "--max-queued 5: the 6th POST is 503 with Retry-After and a JSON detail, and nothing is stored" {
	local before i f codes
	wait_idle
	jobs_stack_restart --pool 1 --workers 0 --max-queued 5
	before=$(all_ids | wc -l)
	for i in 1 2 3 4 5; do
		post_job '{"task":"wait","secs":0}' >/dev/null
	done
	post '{"task":"wait","secs":0}'
	assert_equal "$code" 503
	assert_equal "$(header Retry-After)" 1
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$body" '{"detail":"Too many queued jobs"}'
	# a flood of 40 at once: every one refused, none stored
	codes=$(concurrent 40 /jobs -H 'Content-Type: application/json' -d '{"task":"wait","secs":0}')
	assert_equal "$(sort -u <<<"$codes")" 503
	# a stats upload enqueues its job through the same bound
	f=$BATS_TEST_TMPDIR/a.csv
	printf 'x\n1\n' >"$f"
	http POST '/uploads?process=stats' -F "file=@$f;type=text/csv"
	assert_equal "$code" 503
	assert_equal "$(header Retry-After)" 1
	assert_equal "$body" '{"detail":"Too many queued jobs"}'
	assert_equal "$(all_ids | wc -l)" $((before + 5))
	assert_equal "$(all_ids status=queued | wc -l)" 5
	wait_metric fcgilab_jobs_queue_full_total -ge 42
	assert_equal "$(metric fcgilab_jobs_max_queued)" 5
	# the mux is fine, and once workers drain the queue there is room
	jobs_stack_restart --pool 1 --workers 2 --worker-arg --poll=20 --max-queued 5
	wait_idle
	post '{"task":"wait","secs":0}'
	assert_equal "$code" 202
}

@test "--max-queued 10: a burst of 60 at once from an empty queue stores exactly 10, and all 10 run" {
	local out codes ids id
	wait_idle
	jobs_stack_restart --pool 1 --workers 0 --max-queued 10
	# each answer to a file of its own: nothing interleaves
	out=$(seq 60 | xargs -P 30 -I{} curl -sS --max-time 20 -H 'Content-Type: application/json' \
		-d '{"task":"wait","secs":0}' -o "$BATS_TEST_TMPDIR/r{}" -w '%{http_code}\n' "$BASE/jobs")
	codes=$(sort <<<"$out" | uniq -c | awk '{ print $2 "x" $1 }' | paste -sd ' ')
	assert_equal "$codes" "202x10 503x50"
	ids=$(cat "$BATS_TEST_TMPDIR"/r* | jq -r '.id // empty')
	assert_equal "$(grep -c . <<<"$ids")" 10
	assert_equal "$(all_ids status=queued | sort)" "$(sort <<<"$ids")"
	jobs_stack_restart --pool 1 --workers 2 --worker-arg --poll=20
	for id in $ids; do
		wait_job "$id" "done"
	done
}

@test "--job-ttl 1: a finished job is gone after it (404, off the list); queued and running jobs are kept" {
	local quick a b c done0 i
	wait_idle
	jobs_stack_restart --pool 1 --workers 2 --worker-arg --poll=20 --job-ttl 1
	done0=$(metric fcgilab_jobs_done_total)
	quick=$(post_job '{"task":"wait","secs":0}')
	wait_job "$quick" "done"
	a=$(post_job '{"task":"wait","secs":8}')
	b=$(post_job '{"task":"wait","secs":8}')
	wait_job "$a" running
	wait_job "$b" running
	c=$(post_job '{"task":"wait","secs":0}') # waits: both workers busy
	for i in $(seq 100); do
		[[ $(curl -sS -o /dev/null -w '%{http_code}' "$BASE/jobs/$quick") == 404 ]] && break
		sleep 0.1
	done
	http GET "/jobs/$quick"
	assert_equal "$code" 404
	assert_equal "$body" '{"detail":"Job not found"}'
	run all_ids
	refute_line "$quick"
	assert_equal "$(job_field "$a" status)" running
	assert_equal "$(job_field "$b" status)" running
	assert_equal "$(job_field "$c" status)" queued
	# nothing finished is kept past a second or two; the totals go on
	for i in $(seq 50); do
		[[ -z $(all_ids status=done) ]] && break
		sleep 0.1
	done
	assert_equal "$(all_ids status=done)" ''
	wait_metric fcgilab_jobs_expired_total -ge 1
	(($(metric fcgilab_jobs_done_total) >= done0 + 1))
	# and the others, once finished, go too
	wait_job "$c" "done" 30
	for i in $(seq 100); do
		[[ $(curl -sS -o /dev/null -w '%{http_code}' "$BASE/jobs/$c") == 404 ]] && break
		sleep 0.1
	done
	[[ $(curl -sS -o /dev/null -w '%{http_code}' "$BASE/jobs/$c") == 404 ]]
}

@test "--job-ttl and --max-queued: bad values are refused at start" {
	run "$FCGILAB" start --port 0 --state "$STATE.bad" --max-queued 0
	assert_failure 2
	assert_output --partial 'max-queued must be'
	run "$FCGILAB" start --port 0 --state "$STATE.bad" --job-ttl -1
	assert_failure 2
	run "$FCGILAB" start --port 0 --state "$STATE.bad" --job-ttl 99999999999999999999
	assert_failure 2
	assert_output --partial 'job-ttl must be'
	run "$abs_top_builddir/fcgi/fcgilab-mux" --job-ttl x
	assert_failure 2
	assert_output --partial 'bad value for --job-ttl: x'
	run "$abs_top_builddir/fcgi/fcgilab-mux" --max-queued 0
	assert_failure 2
	assert_output --partial 'bad value for --max-queued: 0'
	[[ ! -e $STATE.bad ]]
}

@test "Redis: a job hash gone from under its indexes: pages skip it, GET is 404, workers skip it" {
	[[ $JOBS_STORE == redis ]] || skip "the Redis store's own case"
	local -a ids=() seen=()
	local i id
	wait_idle
	jobs_stack_restart --pool 1 --workers 0
	for i in $(seq 7); do
		ids+=("$(post_job '{"task":"wait","secs":0}')")
	done
	# evicted (maxmemory) or deleted by hand: the hash goes, the
	# indexes keep its member
	assert_equal "$(rcli DEL "fcgilab:jobs:job:${ids[3]}")" 1
	mapfile -t seen < <(all_ids | head -n 6)
	assert_equal "${seen[*]}" "${ids[6]} ${ids[5]} ${ids[4]} ${ids[2]} ${ids[1]} ${ids[0]}"
	http GET "/jobs?limit=4&status=queued"
	assert_equal "$code" 200
	assert_equal "$(jq -r '[.items[].id] | join(" ")' <<<"$body")" "${ids[6]} ${ids[5]} ${ids[4]} ${ids[2]}"
	http GET "/jobs/${ids[3]}"
	assert_equal "$code" 404
	http DELETE "/jobs/${ids[3]}"
	assert_equal "$code" 404
	# an eviction storm: 2,500 members without a hash, newer than any job
	awk 'BEGIN { for (i = 0; i < 2500; i++)
		printf "ZADD fcgilab:jobs:all 0 %017d:e%031x\r\n", 90000000000000000 + i, i }' |
		rcli --pipe >/dev/null
	run all_ids
	assert_success
	refute_line --regexp '^e0{20}'
	assert_line "${ids[0]}"
	assert_line "${ids[6]}"
	# the walk forgot them (and the gone job): the index holds jobs only
	assert_equal "$(rcli ZCARD fcgilab:jobs:all)" "$(all_ids | wc -l)"
	# a worker meets a queued job whose hash is gone: it skips it
	rcli DEL "fcgilab:jobs:job:${ids[5]}" >/dev/null
	jobs_stack_restart --pool 1 --workers 2 --worker-arg --poll=20
	for i in 0 1 2 4 6; do
		wait_job "${ids[$i]}" "done"
	done
	wait_metric fcgilab_jobs_queue_depth -eq 0
	assert_equal "$(rcli ZCARD fcgilab:jobs:st:queued)" 0
	http GET "/jobs/${ids[5]}"
	assert_equal "$code" 404
}

@test "Redis: a store from before retention: its finished jobs are indexed, counted and expire" {
	[[ $JOBS_STORE == redis ]] || skip "the Redis store's own case"
	local id ndone
	wait_idle
	jobs_stack_restart --pool 1 --workers 2 --worker-arg --poll=20
	id=$(post_job '{"task":"wait","secs":0}')
	wait_job "$id" "done"
	# as an earlier version left it: no index by end time, no totals
	rcli DEL fcgilab:jobs:finished >/dev/null
	rcli HDEL fcgilab:jobs:stats schema indexed total_done total_failed total_cancelled \
		indexing_done indexing_failed indexing_cancelled >/dev/null
	ndone=$(rcli ZCARD fcgilab:jobs:st:done)
	((ndone >= 1))
	jobs_stack_restart --pool 1 --workers 2 --worker-arg --poll=20 --job-ttl 1
	for _ in $(seq 100); do
		[[ $(curl -sS -o /dev/null -w '%{http_code}' "$BASE/jobs/$id") == 404 ]] && break
		sleep 0.1
	done
	http GET "/jobs/$id"
	assert_equal "$code" 404
	(($(metric fcgilab_jobs_done_total) >= ndone))
	assert_equal "$(rcli ZCARD fcgilab:jobs:st:done)" 0
	assert_equal "$(rcli HGET fcgilab:jobs:stats indexed)" 1
}
