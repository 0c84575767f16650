#!/usr/bin/env bats
# Large payloads through lighttpd and the mux: the streamed exports
# (/export.csv, /export.ndjson), the pages of /items, uploads (/upload)
# and upload-then-process (/uploads?process=stats). Every row is checked
# against the dataset's formula computed here, independently (awk and
# date(1)); every upload against sha256sum, cmp and wc.
#
# One stack for the file, its uploads capped at UPLOAD_LIMIT bytes (the
# other tests stay under it).

# code, body, headers, secs and BASE are set by helpers/stack.bash.
# shellcheck disable=SC2154,SC2153
load helpers/stack
load helpers/jobs

UPLOAD_LIMIT=4000000

setup_file() {
	stack_start --pool 1 --workers 1 --max-upload "$UPLOAD_LIMIT"
}
teardown_file() { stack_stop; }
teardown() { stack_logs_on_failure; }

# --- helpers ------------------------------------------------------------------

mux_pid() { cat "$STATE/run/mux.pid"; }

# rss_kib PID: the process's resident memory (KiB).
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# eventually SECS CMD…: CMD succeeds within SECS (whole) seconds, polled.
eventually() {
	local n=$(($1 * 20)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

idle() { [[ $(metric fcgilab_requests_in_flight) == 0 ]]; }

# fetch PATH OUT [curl args…]: GET into the file OUT (head in OUT.h, CRs
# dropped); prints the status code.
fetch() {
	local path=$1 out=$2 c
	shift 2
	c=$(curl -sS -D "$out.h" -o "$out" -w '%{http_code}' --max-time 30 "$@" "$BASE$path")
	tr -d '\r' <"$out.h" >"$out.hh" && mv "$out.hh" "$out.h"
	printf '%s\n' "$c"
}

# head_of FILE NAME: header NAME of a head fetch() wrote ('' if none).
head_of() {
	awk -v n="$2" -F': ' 'tolower($1) == tolower(n) { sub(/^[^:]*: /, ""); print; exit }' "$1"
}

# expected_rows FIRST LAST csv|ndjson|ts: the dataset's rows FIRST..LAST
# (or only their timestamps) from the formula in dataset.h, computed here:
# value ((id*7919) mod 100003)/100 with two decimals; timestamp
# 2026-01-01T00:00:00Z + (id-1) s, its date found by counting whole years
# and months from 1970 (not the server's algorithm). mawk: printf %d stops
# at 2^31-1, hence %.0f for ids.
expected_rows() {
	awk -v first="$1" -v last="$2" -v fmt="$3" '
	function leap(y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
	function civil(days,   y, m, n, ml) {
		y = 1970
		while (days >= (n = leap(y) ? 366 : 365)) { days -= n; y++ }
		split("31 28 31 30 31 30 31 31 30 31 30 31", ml, " ")
		if (leap(y))
			ml[2] = 29
		for (m = 1; days >= ml[m] + 0; m++)
			days -= ml[m]
		return sprintf("%04d-%02d-%02d", y, m, days + 1)
	}
	BEGIN {
		cday = -1
		for (id = first; id <= last; id++) {
			t = 1767225600 + id - 1
			day = int(t / 86400)
			s = t - day * 86400
			if (day != cday) {
				cday = day
				date = civil(day)
			}
			ts = sprintf("%sT%02d:%02d:%02dZ", date, int(s / 3600), int(s / 60) % 60, s % 60)
			v = (id * 7919) % 100003
			val = sprintf("%d.%02d", int(v / 100), v % 100)
			if (fmt == "csv")
				printf "%.0f,item-%.0f,%s,%s\n", id, id, val, ts
			else if (fmt == "ndjson")
				printf "{\"id\":%.0f,\"name\":\"item-%.0f\",\"value\":%s,\"timestamp\":\"%s\"}\n", id, id, val, ts
			else
				print ts
		}
	}'
}

# ids_of PAGE: the ids of a page's items, one a line.
ids_of() { jq -r '.items[].id' <<<"$1"; }

# forge_cursor ROWS NEXT [VERSION]: a cursor made here, as dataset.c and
# token.c make them (version, rows and next id as big-endian 32 bits,
# sealed with FNV-1a of the salt and payload, base64url without padding).
# The tests first check it against one of the server's own cursors.
forge_cursor() {
	local rows=$1 next=$2 version=${3:-1} salt='fcgilab items cursor'
	local h=2166136261 i c hex
	local -a b=("$version"
		$((rows >> 24 & 255)) $((rows >> 16 & 255)) $((rows >> 8 & 255)) $((rows & 255))
		$((next >> 24 & 255)) $((next >> 16 & 255)) $((next >> 8 & 255)) $((next & 255)))
	for ((i = 0; i < ${#salt}; i++)); do
		printf -v c '%d' "'${salt:i:1}"
		h=$((((h ^ c) * 16777619) & 0xffffffff))
	done
	for c in "${b[@]}"; do
		h=$((((h ^ c) * 16777619) & 0xffffffff))
	done
	b+=($((h >> 24 & 255)) $((h >> 16 & 255)) $((h >> 8 & 255)) $((h & 255)))
	printf -v hex '\\x%02x' "${b[@]}"
	printf '%b' "$hex" | base64 -w0 | tr '+/' '-_' | tr -d '='
}

# The 422 body of a refused cursor.
cursor_422() {
	printf '{"detail":[{"type":"value_error","loc":["query","cursor"],"msg":"Value error, invalid cursor","input":"%s","ctx":{"error":{}}}]}' "$1"
}

# stored_files / part_files: what is in the upload directory.
# the stored uploads (each also has its metadata, ID.json)
stored_files() { find "$STATE/uploads" -mindepth 1 -maxdepth 1 ! -name '.part-*' ! -name '*.json' -printf '%f\n' | sort; }
part_files() { find "$STATE/uploads" -mindepth 1 -maxdepth 1 -name '.part-*' -printf '%f\n'; }
has_part_file() { [[ -n $(part_files) ]]; }
no_part_file() { [[ -z $(part_files) ]]; }

# new_files BEFORE: the stored files not in BEFORE (a stored_files list).
new_files() { comm -13 <(printf '%s\n' "$1") <(stored_files) | sed '/^$/d'; }

# --- exports -------------------------------------------------------------------

@test "the test's own oracle: its dates agree with date(1), near and far" {
	local id got want
	# first row, a day's end, Feb 28/29 2028, the last of 2026, row 10^9
	for id in 1 86400 86401 68169601 68256000 68256001 31536000 31536001 1000000000; do
		got=$(expected_rows "$id" "$id" ts)
		want=$(date -u -d "@$((1767225600 + id - 1))" +%Y-%m-%dT%H:%M:%SZ)
		assert_equal "$got" "$want"
	done
	assert_equal "$(expected_rows 1 2 csv)" $'1,item-1,79.19,2026-01-01T00:00:00Z\n2,item-2,158.38,2026-01-01T00:00:01Z'
}

@test "CSV export: the header and 2000 rows exactly as the formula gives them" {
	local f=$BATS_TEST_TMPDIR/e.csv
	assert_equal "$(fetch '/export.csv?rows=2000' "$f")" 200
	assert_equal "$(head_of "$f.h" Content-Type)" 'text/csv; charset=utf-8'
	assert_equal "$(head_of "$f.h" Vary)" Accept-Encoding
	assert_equal "$(head_of "$f.h" Content-Encoding)" ''
	assert_equal "$(wc -l <"$f")" 2001
	# LF line ends only, the last line ended too
	assert_equal "$(tr -cd '\r' <"$f" | wc -c)" 0
	assert_equal "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" '\n'
	assert_equal "$(head -n 1 "$f")" id,name,value,timestamp
	cmp <(tail -n +2 "$f") <(expected_rows 1 2000 csv)
	# the default is 1000 rows
	assert_equal "$(fetch /export.csv "$f")" 200
	assert_equal "$(wc -l <"$f")" 1001
	assert_equal "$(tail -n 1 "$f")" "$(expected_rows 1000 1000 csv)"
}

@test "CSV export far out: the last rows of rows=100000 and rows=3000000" {
	local out
	out=$(curl -sS --max-time 30 "$BASE/export.csv?rows=100000" | awk 'END { print NR "|" $0 }')
	assert_equal "$out" "100001|$(expected_rows 100000 100000 csv)"
	out=$(curl -sS --max-time 30 "$BASE/export.csv?rows=3000000" | awk 'END { print NR "|" $0 }')
	assert_equal "$out" "3000001|$(expected_rows 3000000 3000000 csv)"
}

@test "NDJSON export: one JSON object a line, the formula's values, as the CSV's" {
	local f=$BATS_TEST_TMPDIR/e.ndjson c=$BATS_TEST_TMPDIR/e.csv
	assert_equal "$(fetch '/export.ndjson?rows=2000' "$f")" 200
	assert_equal "$(head_of "$f.h" Content-Type)" application/x-ndjson
	assert_equal "$(head_of "$f.h" Vary)" Accept-Encoding
	assert_equal "$(wc -l <"$f")" 2000
	# every line on its own is a JSON object with the four keys, in order
	assert_equal "$(jq -R 'fromjson | keys_unsorted | join(",")' "$f" | sort | uniq -c | awk '{ print $1, $2 }')" \
		'2000 "id,name,value,timestamp"'
	jq -e -R -s 'split("\n")[:-1] | map(fromjson | .id) == [range(1; 2001)]' "$f" >/dev/null
	# byte for byte the formula (two decimals: "791.90")
	cmp "$f" <(expected_rows 1 2000 ndjson)
	# and the same values as the CSV export, field by field
	assert_equal "$(fetch '/export.csv?rows=2000' "$c")" 200
	cmp <(jq -c . "$f") \
		<(tail -n +2 "$c" | jq -c -R 'split(",") | {id: (.[0] | tonumber), name: .[1], value: (.[2] | tonumber), timestamp: .[3]}')
	# far out too
	assert_equal "$(curl -sS --max-time 30 "$BASE/export.ndjson?rows=100000" | tail -n 1)" \
		"$(expected_rows 100000 100000 ndjson)"
}

@test "rows=0: the CSV header alone, an empty NDJSON body" {
	local f=$BATS_TEST_TMPDIR/z
	assert_equal "$(fetch '/export.csv?rows=0' "$f")" 200
	assert_equal "$(cat "$f")" id,name,value,timestamp
	assert_equal "$(wc -c <"$f")" 24
	assert_equal "$(fetch '/export.ndjson?rows=0' "$f")" 200
	assert_equal "$(head_of "$f.h" Content-Type)" application/x-ndjson
	assert_equal "$(wc -c <"$f")" 0
	# gzip'd, nothing is still a whole gzip stream
	assert_equal "$(fetch '/export.ndjson?rows=0' "$f" -H 'Accept-Encoding: gzip')" 200
	assert_equal "$(head_of "$f.h" Content-Encoding)" gzip
	assert_equal "$(gzip -dc <"$f" | wc -c)" 0
	assert_equal "$(fetch '/export.csv?rows=0' "$f" -H 'Accept-Encoding: gzip')" 200
	assert_equal "$(gzip -dc <"$f")" id,name,value,timestamp
}

@test "bad rows: FastAPI's 422s, JSON, for both exports" {
	local p q t
	for p in /export.csv /export.ndjson; do
		http GET "$p?rows=-1"
		assert_equal "$code" 422
		assert_equal "$(header Content-Type)" application/json
		assert_equal "$(header Vary)" Accept-Encoding
		assert_equal "$body" '{"detail":[{"type":"greater_than_equal","loc":["query","rows"],"msg":"Input should be greater than or equal to 0","input":"-1","ctx":{"ge":0}}]}'
		http GET "$p?rows=1000000001"
		assert_equal "$code" 422
		assert_equal "$body" '{"detail":[{"type":"less_than_equal","loc":["query","rows"],"msg":"Input should be less than or equal to 1000000000","input":"1000000001","ctx":{"le":1000000000}}]}'
		http GET "$p?rows=abc"
		assert_equal "$body" '{"detail":[{"type":"int_parsing","loc":["query","rows"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"}]}'
		for q in 'rows=1.5:int_parsing' 'rows=:int_parsing' 'rows=1e3:int_parsing' 'rows=0x10:int_parsing' \
			'rows=99999999999999999999:less_than_equal'; do
			t=${q#*:}
			http GET "$p?${q%%:*}"
			assert_equal "$code $(jq -r '.detail[0] | .type + " " + (.loc | join("."))' <<<"$body")" "422 $t query.rows"
		done
	done
	# the upper bound itself is fine (only its first bytes are read)
	assert_equal "$(curl -sS --max-time 30 "$BASE/export.csv?rows=1000000000" | head -n 2 | tail -n 1)" \
		"$(expected_rows 1 1 csv)"
}

@test "HEAD and POST on the exports and /items: 405, Allow: GET" {
	local p
	for p in '/export.csv?rows=1' '/export.ndjson?rows=1' '/items?rows=1'; do
		http HEAD "$p" --head
		assert_equal "$code" 405
		assert_equal "$(header Allow)" GET
		http POST "$p" -d x
		assert_equal "$code" 405
		assert_equal "$(header Allow)" GET
		assert_equal "$body" '{"detail":"Method Not Allowed"}'
	done
}

@test "gzip: exports and pages compressed only when asked, always Vary" {
	local p d=$BATS_TEST_TMPDIR ae
	for p in '/export.csv?rows=5000' '/export.ndjson?rows=5000' '/items?rows=3000&limit=1000' \
		'/items?rows=3000&limit=1000&cursor='"$(forge_cursor 3000 2001)"; do
		# plain: no Content-Encoding, but Vary
		assert_equal "$(fetch "$p" "$d/plain")" 200
		assert_equal "$(head_of "$d/plain.h" Content-Encoding)" ''
		assert_equal "$(head_of "$d/plain.h" Vary)" Accept-Encoding
		[[ $(wc -c <"$d/plain") -gt 50000 ]]
		# curl --compressed: the same bytes
		assert_equal "$(fetch "$p" "$d/c" --compressed)" 200
		assert_equal "$(head_of "$d/c.h" Content-Encoding)" gzip
		cmp "$d/c" "$d/plain"
		# raw gzip: the headers say so, and gzip -d gives the plain body
		for ae in gzip 'x-gzip' 'br, gzip;q=0.5' '*'; do
			assert_equal "$(fetch "$p" "$d/gz" -H "Accept-Encoding: $ae")" 200
			assert_equal "$(head_of "$d/gz.h" Content-Encoding)" gzip
			assert_equal "$(head_of "$d/gz.h" Vary)" Accept-Encoding
			gzip -t <"$d/gz"
			cmp <(gzip -dc <"$d/gz") "$d/plain"
			[[ $(wc -c <"$d/gz") -lt $(($(wc -c <"$d/plain") / 2)) ]]
		done
		# refused or not offered: not compressed, still Vary
		for ae in 'gzip;q=0' 'deflate' 'identity' 'gzip;q=0, *' '*;q=0'; do
			assert_equal "$(fetch "$p" "$d/no" -H "Accept-Encoding: $ae")" 200
			assert_equal "$(head_of "$d/no.h" Content-Encoding)" ''
			assert_equal "$(head_of "$d/no.h" Vary)" Accept-Encoding
			cmp "$d/no" "$d/plain"
		done
	done
}

@test "first bytes early: rows=10^9 starts at once, and the stack is fine after" {
	local pid out ttfb size f=$BATS_TEST_TMPDIR/part
	pid=$(mux_pid)
	# curl gives up after 1 s (exit 28); what it got by then is what counts
	out=$(curl -sS -o "$f" -w '%{time_starttransfer} %{size_download}' --max-time 1 \
		"$BASE/export.csv?rows=1000000000" 2>/dev/null) || true
	ttfb=${out% *}
	size=${out#* }
	between "$ttfb" 0.000001 0.5
	((size > 1000000))
	assert_equal "$(head -n 1 "$f")" id,name,value,timestamp
	cmp <(head -n 1001 "$f" | tail -n +2) <(expected_rows 1 1000 csv)
	# gzip'd, the stream is flushed as it goes: its start decodes at once
	out=$(curl -sS -o "$f" -w '%{time_starttransfer}' --max-time 1 -H 'Accept-Encoding: gzip' \
		"$BASE/export.ndjson?rows=1000000000" 2>/dev/null) || true
	between "$out" 0.000001 0.5
	cmp <(gzip -dc <"$f" 2>/dev/null | head -n 1000) <(expected_rows 1 1000 ndjson)
	# both requests ended with their clients; the mux is the same one
	eventually 3 idle
	kill -0 "$pid"
	assert_equal "$(mux_pid)" "$pid"
	http GET '/export.csv?rows=3'
	assert_equal "$code" 200
	assert_equal "$body" "id,name,value,timestamp"$'\n'"$(expected_rows 1 3 csv)"
}

@test "a client that goes away stops the export: rows stop, the request ends" {
	local cpid r0 done0 ab0 r1 r2
	eventually 3 idle
	r0=$(metric fcgilab_export_rows_total)
	done0=$(metric fcgilab_exports_completed_total)
	ab0=$(metric fcgilab_requests_aborted_total)
	curl -sS -o /dev/null --max-time 30 "$BASE/export.csv?rows=1000000000" 3>&- &
	cpid=$!
	sleep 0.3
	kill "$cpid"
	wait "$cpid" || true
	# the mux sees the client's FIN (tcp-fin-propagate) and ends the request
	eventually 3 idle
	r1=$(metric fcgilab_export_rows_total)
	sleep 0.5
	r2=$(metric fcgilab_export_rows_total)
	assert_equal "$r2" "$r1"
	((r1 > r0)) # it did run
	assert_equal "$(metric fcgilab_exports_completed_total)" "$done0"
	(($(metric fcgilab_requests_aborted_total) > ab0))
}

@test "a slow reader: generation keeps its pace, the mux's memory stays flat" {
	local pid cpid lpid rss0 lrss0 rss lrss max=0 lmax=0 r0 b0 rows bytes got f=$BATS_TEST_TMPDIR/slow
	eventually 3 idle
	pid=$(mux_pid)
	lpid=$(<"$STATE/run/lighttpd.pid")
	rss0=$(rss_kib "$pid")
	lrss0=$(rss_kib "$lpid")
	r0=$(metric fcgilab_export_rows_total)
	b0=$(metric fcgilab_export_bytes_total)
	curl -sS -o "$f" --limit-rate 200k --max-time 2.5 "$BASE/export.csv?rows=1000000000" 2>/dev/null 3>&- &
	cpid=$!
	for _ in $(seq 10); do
		sleep 0.25
		rss=$(rss_kib "$pid")
		lrss=$(rss_kib "$lpid")
		max=$((rss > max ? rss : max))
		lmax=$((lrss > lmax ? lrss : lmax))
	done
	wait "$cpid" || true # 28: its time ran out, as meant
	got=$(stat -c %s "$f")
	eventually 3 idle
	rows=$(($(metric fcgilab_export_rows_total) - r0))
	bytes=$(($(metric fcgilab_export_bytes_total) - b0))
	echo "# client got $got bytes; mux made $rows rows, $bytes bytes; mux RSS $rss0 -> max $max KiB; lighttpd $lrss0 -> $lmax KiB" >&3
	((got > 100000))
	# memory: not the export's size (GBs), a few buffers at most (ASan's
	# quarantine of freed blocks is no backpressure figure: 32 MiB there)
	local bound=8192
	grep -q libasan "/proc/$pid/maps" && bound=32768
	(((max - rss0) < bound)) || fail "mux RSS grew $((max - rss0)) KiB"
	(((lmax - lrss0) < 16384)) || fail "lighttpd RSS grew $((lmax - lrss0)) KiB"
	# generation followed the reader: what was made and not read fits in
	# the buffers between them (socket buffers, lighttpd's queue: a few MB;
	# allowed 32 MiB). Unthrottled the mux makes millions of rows a second
	# (hundreds of MB in 2.5 s). A row is at least 36 bytes.
	((rows * 36 <= got + 32 * 1048576)) || fail "$rows rows made for $got bytes read"
	((bytes <= got + 32 * 1048576)) || fail "$bytes bytes made for $got bytes read"
	((bytes >= got))
}

# --- pages ------------------------------------------------------------------------

@test "pages: following \"next\" walks ids 1..2345 once, in order, Link alongside" {
	local next cursor='' link n=0 keys len d=$BATS_TEST_TMPDIR
	: >"$d/items"
	while :; do
		http GET "/items?rows=2345&limit=100${cursor:+&cursor=$cursor}"
		assert_equal "$code" 200
		assert_equal "$(header Content-Type)" application/json
		assert_equal "$(header Vary)" Accept-Encoding
		n=$((n + 1))
		# one jq a page: its keys, its size, next ("null" when none), items
		jq -r '(keys_unsorted | join(",")), (.items | length), (.next | tojson), (.items[] | tojson)' \
			<<<"$body" >"$d/page"
		{
			read -r keys
			read -r len
			read -r next
		} <"$d/page"
		tail -n +4 "$d/page" >>"$d/items"
		assert_equal "$keys" items,next
		link=$(header Link)
		if [[ $next == null ]]; then
			assert_equal "$link" ''
			assert_equal "$len" 45
			break
		fi
		assert_equal "$len" 100
		[[ $next =~ ^\"([A-Za-z0-9_-]+)\"$ ]]
		next=${BASH_REMATCH[1]}
		assert_equal "$link" "</items?rows=2345&limit=100&cursor=$next>; rel=\"next\""
		cursor=$next
		((n < 50))
	done
	assert_equal "$n" 24
	cmp <(jq -r .id "$d/items") <(seq 1 2345)
	# the items are the export's rows
	cmp "$d/items" <(expected_rows 1 2345 ndjson | jq -c .)
}

@test "pages: following the Link header walks the same ids" {
	local url='/items?rows=2345&limit=100' link n=0 d=$BATS_TEST_TMPDIR
	: >"$d/ids"
	while [[ -n $url ]]; do
		http GET "$url"
		assert_equal "$code" 200
		ids_of "$body" >>"$d/ids"
		link=$(header Link)
		url=
		if [[ -n $link ]]; then
			[[ $link =~ ^\<(/items\?[^>]*)\>\;\ rel=\"next\"$ ]]
			url=${BASH_REMATCH[1]}
		fi
		n=$((n + 1))
		((n < 50))
	done
	assert_equal "$n" 24
	cmp "$d/ids" <(seq 1 2345)
}

@test "pages: limit 1000 and 1, defaults, rows=0, and a page exactly full" {
	local page cursor='' i
	# 1000 + 1000 + 345
	http GET '/items?rows=2345&limit=1000'
	assert_equal "$(jq '.items | length' <<<"$body")" 1000
	cursor=$(jq -r .next <<<"$body")
	http GET "/items?rows=2345&limit=1000&cursor=$cursor"
	assert_equal "$(jq -c '[(.items | length), .items[0].id, .items[-1].id]' <<<"$body")" '[1000,1001,2000]'
	cursor=$(jq -r .next <<<"$body")
	http GET "/items?rows=2345&limit=1000&cursor=$cursor"
	assert_equal "$(jq -c '[(.items | length), .items[0].id, .items[-1].id, .next]' <<<"$body")" '[345,2001,2345,null]'
	assert_equal "$(header Link)" ''
	# limit=1 on 5 rows: five pages of one
	cursor=
	for i in 1 2 3 4 5; do
		http GET "/items?rows=5&limit=1${cursor:+&cursor=$cursor}"
		assert_equal "$(jq -c '[.items[].id]' <<<"$body")" "[$i]"
		assert_equal "$(jq -c '.items[0]' <<<"$body")" "$(expected_rows "$i" "$i" ndjson | jq -c .)"
		cursor=$(jq -r '.next // empty' <<<"$body")
		if ((i < 5)); then [[ -n $cursor ]]; else assert_equal "$cursor" ''; fi
	done
	# exactly one full page: no next
	http GET '/items?rows=1000&limit=1000'
	assert_equal "$(jq -c '[(.items | length), .next]' <<<"$body")" '[1000,null]'
	assert_equal "$(header Link)" ''
	# defaults: rows=1000, limit=100
	http GET /items
	assert_equal "$code" 200
	assert_equal "$(jq -c '[(.items | length), .items[0].id, .items[-1].id]' <<<"$body")" '[100,1,100]'
	page=$(jq -r .next <<<"$body")
	assert_equal "$(header Link)" "</items?rows=1000&limit=100&cursor=$page>; rel=\"next\""
	# no rows at all
	http GET '/items?rows=0'
	assert_equal "$code" 200
	assert_equal "$body" '{"items":[],"next":null}'
	assert_equal "$(header Link)" ''
}

@test "pages: bad rows and limits are FastAPI's 422s" {
	http GET '/items?limit=0'
	assert_equal "$code" 422
	assert_equal "$body" '{"detail":[{"type":"greater_than_equal","loc":["query","limit"],"msg":"Input should be greater than or equal to 1","input":"0","ctx":{"ge":1}}]}'
	http GET '/items?limit=1001'
	assert_equal "$body" '{"detail":[{"type":"less_than_equal","loc":["query","limit"],"msg":"Input should be less than or equal to 1000","input":"1001","ctx":{"le":1000}}]}'
	http GET '/items?limit=abc'
	assert_equal "$body" '{"detail":[{"type":"int_parsing","loc":["query","limit"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"}]}'
	http GET '/items?limit=2.5'
	assert_equal "$code $(jq -r '.detail[0].type' <<<"$body")" '422 int_parsing'
	http GET '/items?rows=-1'
	assert_equal "$code $(jq -r '.detail[0].type' <<<"$body")" '422 greater_than_equal'
	http GET '/items?rows=1000000001'
	assert_equal "$code $(jq -r '.detail[0].type' <<<"$body")" '422 less_than_equal'
	# both wrong: both reported, in order
	http GET '/items?rows=x&limit=y'
	assert_equal "$code" 422
	assert_equal "$(jq -r '[.detail[] | .type + " " + (.loc | join("."))] | join(", ")' <<<"$body")" \
		'int_parsing query.rows, int_parsing query.limit'
	assert_equal "$(header Vary)" Accept-Encoding
}

@test "pages: garbled, truncated, edited and foreign cursors are 422 value_error" {
	local good c i alt ch bad st n=0
	http GET '/items?rows=2345&limit=100'
	good=$(jq -r .next <<<"$body")
	[[ ${#good} -ge 8 ]]
	for bad in 'zzz' '' 'not-a-cursor' "${good}A" "${good:0:${#good}-1}" "${good:1}" \
		"$(printf '%s' "$good" | tr 'A-Za-z' 'a-zA-Z')"; do
		http GET "/items?rows=2345&limit=100&cursor=$bad"
		assert_equal "$code" 422
		assert_equal "$body" "$(cursor_422 "$bad")"
	done
	# every single character edited, each way it can be (64 - 1 others)
	alt=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_
	for ((i = 0; i < ${#good}; i++)); do
		ch=${good:i:1}
		for ((c = 0; c < 64; c += 13)); do
			[[ ${alt:c:1} == "$ch" ]] && continue
			bad=${good:0:i}${alt:c:1}${good:i+1}
			st=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$BASE/items?rows=2345&limit=100&cursor=$bad")
			[[ $st == 422 ]] || fail "edited cursor $bad (position $i) gave $st"
			n=$((n + 1))
		done
	done
	((n > 60))
	# a real cursor made for another rows value
	for bad in 2344 2346 1000 0; do
		http GET "/items?rows=$bad&limit=100&cursor=$good"
		assert_equal "$code" 422
		assert_equal "$body" "$(cursor_422 "$good")"
	done
	# the server is still fine, and the good cursor still opens (with any
	# limit: it holds only the position)
	http GET "/items?rows=2345&limit=100&cursor=$good"
	assert_equal "$(jq -c '[.items[0].id, .items[-1].id]' <<<"$body")" '[101,200]'
	http GET "/items?rows=2345&limit=7&cursor=$good"
	assert_equal "$(jq -c '[.items[0].id, .items[-1].id]' <<<"$body")" '[101,107]'
}

@test "pages deep in the dataset: a cursor at row 999999001 of 10^9" {
	local c d=$BATS_TEST_TMPDIR
	# the cursors made here are the server's (else the rest is moot)
	http GET '/items?rows=5&limit=2'
	assert_equal "$(jq -r .next <<<"$body")" "$(forge_cursor 5 3)"
	http GET '/items?rows=1000000000&limit=1000'
	assert_equal "$(jq -r .next <<<"$body")" "$(forge_cursor 1000000000 1001)"
	# the last page of the largest dataset, checked row by row
	c=$(forge_cursor 1000000000 999999001)
	http GET "/items?rows=1000000000&limit=1000&cursor=$c"
	assert_equal "$code" 200
	assert_equal "$(jq -c .next <<<"$body")" null
	jq -c '.items[]' <<<"$body" >"$d/items"
	cmp "$d/items" <(expected_rows 999999001 1000000000 ndjson | jq -c .)
	assert_equal "$(jq -r '.items[-1].timestamp' <<<"$body")" \
		"$(date -u -d @$((1767225600 + 999999999)) +%Y-%m-%dT%H:%M:%SZ)"
	# a page that runs past the end stops at it
	c=$(forge_cursor 1000000000 999999999)
	http GET "/items?rows=1000000000&limit=5&cursor=$c"
	assert_equal "$(jq -c '[[.items[].id], .next]' <<<"$body")" '[[999999999,1000000000],null]'
	# well-sealed cursors that are no position of the dataset are refused
	for c in "$(forge_cursor 100 0)" "$(forge_cursor 100 101)" "$(forge_cursor 100 4294967295)" \
		"$(forge_cursor 100 5 2)" "$(forge_cursor 100 5 0)"; do
		http GET "/items?rows=100&cursor=$c"
		assert_equal "$code" 422
		assert_equal "$body" "$(cursor_422 "$c")"
	done
	# the sealed position 100 of 100 is the last row
	http GET "/items?rows=100&cursor=$(forge_cursor 100 100)"
	assert_equal "$(jq -c '[[.items[].id], .next]' <<<"$body")" '[[100],null]'
}

# --- uploads --------------------------------------------------------------------------

@test "raw upload: 201, bytes and sha256 as sha256sum, the stored file identical" {
	local f=$BATS_TEST_TMPDIR/r.bin before id
	head -c 3000000 /dev/urandom >"$f"
	before=$(stored_files)
	http POST /upload -H 'Content-Type: application/octet-stream' --data-binary "@$f"
	assert_equal "$code" 201
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jq -r 'keys_unsorted | join(",")' <<<"$body")" id,filename,content_type,bytes,sha256
	id=$(jq -r .id <<<"$body")
	[[ $id =~ ^[0-9a-f]{32}$ ]]
	assert_equal "$(jq -c '[.filename, .content_type, .bytes]' <<<"$body")" '[null,"application/octet-stream",3000000]'
	assert_equal "$(jq -r .sha256 <<<"$body")" "$(sha256sum "$f" | cut -d' ' -f1)"
	assert_equal "$(jq -r .bytes <<<"$body")" "$(stat -c %s "$f")"
	# stored as uploads/ID, byte for byte; nothing else left
	cmp "$f" "$STATE/uploads/$id"
	assert_equal "$(new_files "$before")" "$id"
	assert_equal "$(part_files)" ''
}

@test "raw upload: ?filename= is metadata, its basename only, never a path" {
	local f=$BATS_TEST_TMPDIR/x.bin before id n name
	head -c 1000 /dev/urandom >"$f"
	name=payloads-$$-$RANDOM.bin
	for n in "../../$name" "..%2F..%2F$name" "/etc/$name" "..%5C..%5C$name" "a/b/c/$name"; do
		before=$(stored_files)
		http POST "/upload?filename=$n" -H 'Content-Type: application/octet-stream' --data-binary "@$f"
		assert_equal "$code" 201
		assert_equal "$(jq -r .filename <<<"$body")" "$name"
		id=$(jq -r .id <<<"$body")
		assert_equal "$(new_files "$before")" "$id"
		cmp "$f" "$STATE/uploads/$id"
	done
	# no file of that name anywhere near
	assert_equal "$(find "$STATE" /tmp /etc -maxdepth 3 -name "$name" 2>/dev/null)" ''
	# a name in UTF-8 survives; a content type of the client's is kept
	http POST '/upload?filename=%C3%A9t%C3%A9.txt' -H 'Content-Type: text/plain; charset=utf-8' --data-binary "@$f"
	assert_equal "$code" 201
	assert_equal "$(jq -c '[.filename, .content_type]' <<<"$body")" '["été.txt","text/plain; charset=utf-8"]'
}

@test "multipart upload: -F file=@f after a text field; filename, type, sha256" {
	local f=$BATS_TEST_TMPDIR/photo.png e=$BATS_TEST_TMPDIR/empty.txt before id
	head -c 2500000 /dev/urandom >"$f"
	before=$(stored_files)
	http POST /upload -F 'note=a text field first' -F "file=@$f;type=image/png"
	assert_equal "$code" 201
	id=$(jq -r .id <<<"$body")
	assert_equal "$(jq -c '[.filename, .content_type, .bytes]' <<<"$body")" '["photo.png","image/png",2500000]'
	assert_equal "$(jq -r .sha256 <<<"$body")" "$(sha256sum "$f" | cut -d' ' -f1)"
	cmp "$f" "$STATE/uploads/$id"
	assert_equal "$(new_files "$before")" "$id"
	# an empty file
	: >"$e"
	before=$(stored_files)
	http POST /upload -F "file=@$e"
	assert_equal "$code" 201
	id=$(jq -r .id <<<"$body")
	assert_equal "$(jq -c '[.filename, .content_type, .bytes, .sha256]' <<<"$body")" \
		'["empty.txt","text/plain",0,"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]'
	assert_equal "$(stat -c %s "$STATE/uploads/$id")" 0
	assert_equal "$(new_files "$before")" "$id"
	# a client's path in the part's filename: the basename only
	http POST /upload -F "file=@$f;filename=../../dir/evil.png"
	assert_equal "$code" 201
	assert_equal "$(jq -r .filename <<<"$body")" evil.png
	# the first "file" part is the file; other fields are ignored
	http POST /upload -F "file=@$e" -F "file=@$f" -F 'after=x'
	assert_equal "$code" 201
	assert_equal "$(jq -c '[.filename, .bytes]' <<<"$body")" '["empty.txt",0]'
	assert_equal "$(part_files)" ''
}

@test "multipart: file bytes that look almost like the boundary are data" {
	local d=$BATS_TEST_TMPDIR id
	# CRLF, dashes and boundary prefixes, none of them the delimiter
	printf 'a\r\n--XYb\r\n-\r\n--X\r\r\n\n--XY\r\n--' >"$d/content"
	{
		printf -- 'preamble\r\n--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'
		cat "$d/content"
		printf -- '\r\n--XYZ\r\nContent-Disposition: form-data; name="x"\r\n\r\n--XYZ-\r\n--XYZ--\r\nepilogue'
	} >"$d/body"
	http POST /upload -H 'Content-Type: multipart/form-data; boundary="XYZ"' --data-binary "@$d/body"
	assert_equal "$code" 201
	id=$(jq -r .id <<<"$body")
	assert_equal "$(jq -c '[.filename, .content_type, .bytes]' <<<"$body")" "[\"a.bin\",null,$(wc -c <"$d/content")]"
	cmp "$d/content" "$STATE/uploads/$id"
	# bodies arriving in small pieces, the boundary anywhere across them
	head -c 200000 /dev/urandom >"$d/f"
	http POST /upload --limit-rate 400k -F pre=abc -F "file=@$d/f" -F post=xyz
	assert_equal "$code" 201
	cmp "$d/f" "$STATE/uploads/$(jq -r .id <<<"$body")"
}

@test "concurrent uploads: each stored whole, under its own id" {
	local d=$BATS_TEST_TMPDIR i id before
	before=$(stored_files)
	for i in 1 2 3 4 5 6 7 8; do
		head -c $((100000 + i * 7919)) /dev/urandom >"$d/f$i"
		if ((i % 2)); then
			curl -sS -o "$d/r$i" --max-time 30 --limit-rate 1m -F "file=@$d/f$i" "$BASE/upload" 3>&- &
		else
			curl -sS -o "$d/r$i" --max-time 30 --limit-rate 1m --data-binary "@$d/f$i" "$BASE/upload" 3>&- &
		fi
	done
	wait
	for i in 1 2 3 4 5 6 7 8; do
		id=$(jq -r .id "$d/r$i")
		assert_equal "$(jq -r .sha256 "$d/r$i")" "$(sha256sum "$d/f$i" | cut -d' ' -f1)"
		cmp "$d/f$i" "$STATE/uploads/$id"
	done
	assert_equal "$(new_files "$before" | wc -l)" 8
	assert_equal "$(part_files)" ''
}

@test "size limit: at the limit 201; over it 413 JSON (at once), nothing left" {
	local d=$BATS_TEST_TMPDIR before ref0 out id
	head -c "$UPLOAD_LIMIT" /dev/urandom >"$d/at"
	head -c $((UPLOAD_LIMIT + 1)) /dev/urandom >"$d/over"
	head -c 5000000 /dev/urandom >"$d/big"
	# exactly the limit: stored (raw and multipart)
	before=$(stored_files)
	http POST /upload -H 'Content-Type: application/octet-stream' --data-binary "@$d/at"
	assert_equal "$code" 201
	id=$(jq -r .id <<<"$body")
	cmp "$d/at" "$STATE/uploads/$id"
	http POST /upload -F "file=@$d/at"
	assert_equal "$code" 201
	assert_equal "$(jq -r .bytes <<<"$body")" "$UPLOAD_LIMIT"
	assert_equal "$(new_files "$before" | wc -l)" 2
	before=$(stored_files)
	ref0=$(metric fcgilab_uploads_refused_total)
	# one byte over, by Content-Length: refused before the body is read
	http POST /upload -H 'Content-Type: application/octet-stream' --data-binary "@$d/over"
	assert_equal "$code" 413
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$body" '{"detail":"Content Too Large"}'
	# "at once": sending 5 MB at 100 kB/s would take 50 s
	out=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' --max-time 30 --limit-rate 100k \
		-H 'Content-Type: application/octet-stream' --data-binary "@$d/big" "$BASE/upload")
	assert_equal "${out% *}" 413
	between "${out#* }" 0 5
	# one byte over in a multipart body (its Content-Length is within the
	# slack for boundaries): refused once the file's bytes pass the limit
	http POST /upload -F "file=@$d/over"
	assert_equal "$code" 413
	assert_equal "$body" '{"detail":"Content Too Large"}'
	# a chunked body over the limit: lighttpd spools chunked bodies (it
	# cannot stream them to FastCGI), and no further than the limit
	http POST /upload -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' \
		--data-binary "@$d/big"
	assert_equal "$code" 413
	jq -e .detail <<<"$body" >/dev/null
	eventually 2 no_part_file
	assert_equal "$(new_files "$before")" ''
	# the mux refused the two within lighttpd's slack for framing (the
	# 5 MB ones got lighttpd's own 413)
	(($(metric fcgilab_uploads_refused_total) >= ref0 + 2))
}

@test "chunked upload under the limit is stored (lighttpd spools it, no 411)" {
	local f=$BATS_TEST_TMPDIR/c.bin before id
	head -c 300000 /dev/urandom >"$f"
	before=$(stored_files)
	http POST /upload -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' \
		--data-binary "@$f"
	assert_equal "$code" 201
	id=$(jq -r .id <<<"$body")
	assert_equal "$(jq -r .sha256 <<<"$body")" "$(sha256sum "$f" | cut -d' ' -f1)"
	cmp "$f" "$STATE/uploads/$id"
}

@test "an upload cut off midway leaves no file; aborted_total counts it" {
	local f=$BATS_TEST_TMPDIR/slow.bin before ab0 cpid
	head -c 1000000 /dev/urandom >"$f"
	before=$(stored_files)
	ab0=$(metric fcgilab_uploads_aborted_total)
	# 1 MB at 100 kB/s: 10 s; cut after a second or so
	curl -sS -o /dev/null --max-time 30 --limit-rate 100k \
		-H 'Content-Type: application/octet-stream' --data-binary "@$f" "$BASE/upload" 3>&- &
	cpid=$!
	eventually 5 has_part_file
	sleep 0.5
	has_part_file # still going
	kill "$cpid"
	wait "$cpid" || true
	eventually 2 no_part_file
	assert_equal "$(new_files "$before")" ''
	eventually 2 idle
	assert_equal "$(metric fcgilab_uploads_aborted_total)" $((ab0 + 1))
	# nothing stuck: the next upload goes through
	http POST /upload --data-binary 'x'
	assert_equal "$code" 201
}

@test "malformed multipart: 400; no file part: 422; GET /upload: 405" {
	local d=$BATS_TEST_TMPDIR before
	before=$(stored_files)
	# no boundary at all
	http POST /upload -H 'Content-Type: multipart/form-data' --data-binary 'x'
	assert_equal "$code" 400
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$body" '{"detail":"There was an error parsing the body"}'
	# a body that is no multipart of its boundary
	http POST /upload -H 'Content-Type: multipart/form-data; boundary=XYZ' --data-binary 'garbage'
	assert_equal "$code" 400
	assert_equal "$body" '{"detail":"There was an error parsing the body"}'
	# a file part cut off before the closing boundary
	printf -- '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n' >"$d/cut"
	http POST /upload -H 'Content-Type: multipart/form-data; boundary=XYZ' --data-binary "@$d/cut"
	assert_equal "$code" 400
	assert_equal "$body" '{"detail":"There was an error parsing the body"}'
	# a well-formed body without a "file" part
	http POST /upload -F 'note=hello' -F "other=@$d/cut"
	assert_equal "$code" 422
	assert_equal "$body" '{"detail":[{"type":"missing","loc":["body","file"],"msg":"Field required","input":null}]}'
	# the same well-formed body by hand, with the file part: fine
	printf -- '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XYZ--\r\n' >"$d/ok"
	http POST /upload -H 'Content-Type: multipart/form-data; boundary=XYZ' --data-binary "@$d/ok"
	assert_equal "$code" 201
	assert_equal "$(jq -c '[.filename, .content_type, .bytes, .sha256]' <<<"$body")" \
		"[\"a.txt\",\"text/plain\",5,\"$(printf hello | sha256sum | cut -d' ' -f1)\"]"
	before=$(stored_files)
	http GET /upload
	assert_equal "$code" 405
	assert_equal "$(header Allow)" POST
	assert_equal "$body" '{"detail":"Method Not Allowed"}'
	http PUT /upload --data-binary x
	assert_equal "$code" 405
	http GET '/uploads?process=stats'
	assert_equal "$code" 405
	assert_equal "$(new_files "$before")" ''
	assert_equal "$(part_files)" ''
}

@test "upload then process: 202, Location, the stats job's result as wc, sha256sum and awk" {
	local f=$BATS_TEST_TMPDIR/data.csv job upload res want
	# a header, numeric and text columns, empty cells, quoted commas, one
	# cell too many on one row
	awk 'BEGIN {
		print "city,qty,price,delta,opt,label"
		for (i = 1; i <= 600; i++)
			printf "c%d,%d,%.2f,%d,%s,\"word %d, quoted\"%s\n", i, i * 3, i / 4, i % 7 - 3, \
				(i % 2 ? i * 10 : ""), i, (i == 300 ? ",extra" : "")
	}' >"$f"
	http POST '/uploads?process=stats' -F "file=@$f;type=text/csv"
	assert_equal "$code" 202
	assert_equal "$(jq -r 'keys_unsorted | join(",")' <<<"$body")" id,status,upload
	job=$(jq -r .id <<<"$body")
	[[ $job =~ ^[0-9a-f]{32}$ ]]
	assert_equal "$(header Location)" "/jobs/$job"
	assert_equal "$(jq -r .status <<<"$body")" queued
	upload=$(jq -r .upload.id <<<"$body")
	assert_equal "$(jq -c '.upload | [.filename, .content_type, .bytes]' <<<"$body")" "[\"data.csv\",\"text/csv\",$(stat -c %s "$f")]"
	cmp "$f" "$STATE/uploads/$upload"
	wait_job "$job" "done" 10
	res=$(job "$job" | jq -c .result)
	assert_equal "$(jq -r .upload <<<"$res")" "$upload"
	assert_equal "$(jq -r .bytes <<<"$res")" "$(wc -c <"$f")"
	assert_equal "$(jq -r .lines <<<"$res")" "$(wc -l <"$f")"
	assert_equal "$(jq -r .words <<<"$res")" "$(wc -w <"$f")"
	assert_equal "$(jq -r .sha256 <<<"$res")" "$(sha256sum "$f" | cut -d' ' -f1)"
	# the CSV: rows, every column's sum (text columns: null), computed by
	# awk (the numeric columns come before the quoted one)
	want=$(awk -F, 'NR > 1 { n++; q += $2; p += $3; d += $4; o += $5 }
		END { printf "{\"rows\":%d,\"columns\":[{\"name\":\"city\",\"sum\":null},{\"name\":\"qty\",\"sum\":%.2f},{\"name\":\"price\",\"sum\":%.2f},{\"name\":\"delta\",\"sum\":%.2f},{\"name\":\"opt\",\"sum\":%.2f},{\"name\":\"label\",\"sum\":null}],\"extra\":1,\"malformed\":0}", n, q, p, d, o }' "$f")
	jq -e --argjson want "$want" '.csv == $want' <<<"$res" >/dev/null ||
		fail "csv: $(jq -c .csv <<<"$res"), want $want"
}

@test "process: CSV by content type or by a .csv name; other files get csv null" {
	local f=$BATS_TEST_TMPDIR/notes.txt g=$BATS_TEST_TMPDIR/T.CSV job
	printf 'a,b\n1,2\n3,4\n' >"$f"
	cp "$f" "$g"
	http POST '/uploads?process=stats' -F "file=@$f;type=text/plain"
	assert_equal "$code" 202
	job=$(jq -r .id <<<"$body")
	wait_job "$job" "done" 10
	assert_equal "$(job "$job" | jq -c '.result | [.lines, .words, .csv]')" '[3,3,null]'
	# raw body: ?filename= ends in .csv (either case)
	http POST '/uploads?process=stats&filename=T.CSV' -H 'Content-Type: application/octet-stream' --data-binary "@$g"
	assert_equal "$code" 202
	job=$(jq -r .id <<<"$body")
	wait_job "$job" "done" 10
	assert_equal "$(job "$job" | jq -c '.result.csv')" '{"rows":2,"columns":[{"name":"a","sum":4},{"name":"b","sum":6}],"extra":0,"malformed":0}'
}

@test "process: ?process= missing or wrong is 422, and nothing is stored" {
	local f=$BATS_TEST_TMPDIR/p.csv before
	printf 'a\n1\n' >"$f"
	before=$(stored_files)
	http POST /uploads -F "file=@$f"
	assert_equal "$code" 422
	assert_equal "$body" '{"detail":[{"type":"missing","loc":["query","process"],"msg":"Field required","input":null}]}'
	http POST '/uploads?process=count' -F "file=@$f"
	assert_equal "$code" 422
	assert_equal "$body" '{"detail":[{"type":"literal_error","loc":["query","process"],"msg":"Input should be '"'stats'"'","input":"count","ctx":{"expected":"'"'stats'"'"}}]}'
	http POST '/uploads?process=' -F "file=@$f"
	assert_equal "$code $(jq -r '.detail[0].type' <<<"$body")" '422 literal_error'
	http POST '/uploads?process=STATS' -F "file=@$f"
	assert_equal "$code" 422
	assert_equal "$(new_files "$before")" ''
	assert_equal "$(part_files)" ''
}

# --- metrics ---------------------------------------------------------------------------

@test "/metrics: the payload series, moved by exactly what was sent and stored" {
	local s m e0 c0 r0 b0 u0 ub0 rf0 d=$BATS_TEST_TMPDIR
	eventually 3 idle
	m=$(curl -fsS "$BASE/metrics")
	for s in fcgilab_exports_total fcgilab_exports_completed_total fcgilab_export_rows_total \
		fcgilab_export_bytes_total fcgilab_uploads_total fcgilab_upload_bytes_total \
		fcgilab_uploads_refused_total fcgilab_uploads_aborted_total; do
		grep -q "^# TYPE $s counter$" <<<"$m" || fail "no TYPE of $s"
		grep -Eq "^$s [0-9]+$" <<<"$m" || fail "no $s"
	done
	e0=$(metric fcgilab_exports_total)
	c0=$(metric fcgilab_exports_completed_total)
	r0=$(metric fcgilab_export_rows_total)
	b0=$(metric fcgilab_export_bytes_total)
	u0=$(metric fcgilab_uploads_total)
	ub0=$(metric fcgilab_upload_bytes_total)
	rf0=$(metric fcgilab_uploads_refused_total)
	assert_equal "$(fetch '/export.csv?rows=1234' "$d/a")" 200
	assert_equal "$(fetch '/export.ndjson?rows=766' "$d/b" -H 'Accept-Encoding: gzip')" 200
	assert_equal "$(metric fcgilab_exports_total)" $((e0 + 2))
	assert_equal "$(metric fcgilab_exports_completed_total)" $((c0 + 2))
	assert_equal "$(metric fcgilab_export_rows_total)" $((r0 + 2000))
	# bytes as sent: the CSV's, and the gzip'd NDJSON's compressed size
	assert_equal "$(metric fcgilab_export_bytes_total)" $((b0 + $(wc -c <"$d/a") + $(wc -c <"$d/b")))
	# a page and a 422 are no exports
	http GET '/items?rows=10'
	http GET '/export.csv?rows=-1'
	assert_equal "$(metric fcgilab_exports_total)" $((e0 + 2))
	head -c 12345 /dev/urandom >"$d/u"
	http POST /upload --data-binary "@$d/u"
	assert_equal "$code" 201
	http POST /upload -F "file=@$d/u"
	assert_equal "$code" 201
	http POST /upload -H 'Content-Type: multipart/form-data; boundary=XYZ' --data-binary 'garbage'
	assert_equal "$code" 400
	assert_equal "$(metric fcgilab_uploads_total)" $((u0 + 2))
	assert_equal "$(metric fcgilab_upload_bytes_total)" $((ub0 + 2 * 12345))
	assert_equal "$(metric fcgilab_uploads_refused_total)" $((rf0 + 1))
	m=$(curl -fsS "$BASE/metrics")
	grep -Eq '^fcgilab_requests_total\{route="export_csv",status="200"\} [1-9]' <<<"$m"
	grep -Eq '^fcgilab_requests_total\{route="upload",status="201"\} [1-9]' <<<"$m"
	grep -Eq '^fcgilab_requests_total\{route="items",status="200"\} [1-9]' <<<"$m"
}

@test "kill -9 of the mux mid-upload: stored uploads survive, the part file goes at restart" {
	local f=$BATS_TEST_TMPDIR/crash.bin kept id cpid mux
	# first the stack so far ends as stacks do (in a sanitizer build its
	# logs are checked for reports: a crashed mux would leave none), then
	# starts again in the same state dir (teardown_file stops that one)
	"$FCGILAB" stop --state "$STATE" --grace 5 3>&- >/dev/null
	stack_sanitizer_clean
	jobs_stack_restart --pool 1 --workers 1 --max-upload "$UPLOAD_LIMIT"
	head -c 200000 /dev/urandom >"$f"
	http POST /upload --data-binary "@$f"
	assert_equal "$code" 201
	id=$(jq -r .id <<<"$body")
	kept=$(stored_files)
	# a slow upload in progress when the mux dies
	curl -sS -o /dev/null --max-time 30 --limit-rate 50k \
		-H 'Content-Type: application/octet-stream' --data-binary "@$f" "$BASE/upload" 3>&- &
	cpid=$!
	eventually 5 has_part_file
	mux=$(mux_pid)
	kill -KILL "$mux"
	wait "$cpid" || true
	has_part_file # a crash leaves it: nobody was there to remove it
	jobs_stack_restart --pool 1 --workers 1 --max-upload "$UPLOAD_LIMIT"
	no_part_file
	assert_equal "$(stored_files)" "$kept"
	cmp "$f" "$STATE/uploads/$id"
	http POST /upload --data-binary 'after'
	assert_equal "$code" 201
}
