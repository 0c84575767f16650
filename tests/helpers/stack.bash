# stack.bash — one fcgilab stack per bats file, over real HTTP.
#
#   setup_file()    { stack_start --pool 2; }
#   teardown_file() { stack_stop; }
#   teardown()      { stack_logs_on_failure; }
#   @test "…"       { http GET /wait?secs=0; [ "$code" = 200 ]; }
#
# stack_start starts lighttpd and the backends from the build tree on a
# free port (fcgilab start --port 0) in a fresh state directory, and exports
# STATE, PORT and BASE for the tests. stack_stop stops exactly that stack
# (fcgilab stop works by pid). When a test fails, the stack's logs go to
# fd 3 so they land in the TAP log. Nothing is shared between files.

bats_load_library bats-support
bats_load_library bats-assert

: "${abs_top_builddir:?run the suites through make check}"
: "${abs_top_srcdir:?run the suites through make check}"
FCGILAB=$abs_top_builddir/tools/fcgilab
export FCGILAB

stack_start() {
	# Short paths: unix socket names are limited to 107 bytes.
	STATE=$(mktemp -d /tmp/fcgilab-test.XXXXXX)
	export STATE
	"$FCGILAB" start --port 0 --state "$STATE" "$@" 3>&- >"$STATE.start" 2>&1 || {
		cat "$STATE.start" >&3
		return 1
	}
	PORT=$(<"$STATE/port")
	BASE=http://127.0.0.1:$PORT
	export PORT BASE
}

stack_stop() {
	local rc=0
	[[ -n ${STATE:-} && -d $STATE ]] || return 0
	"$FCGILAB" stop --state "$STATE" --grace 5 3>&- || true
	stack_sanitizer_clean || rc=1
	rm -rf "$STATE" "$STATE.start"
	return "$rc"
}

# stack_sanitizer_clean: after a stop, no sanitizer report in the stack's
# logs. (A sanitizer build's servers report leaks and errors on their
# stderr, which is the logs; `fcgilab start` clears them, so check before
# starting again.) Reports go to fd 3, for the TAP log.
stack_sanitizer_clean() {
	local -a reports
	mapfile -t reports < <(grep -l -i -e 'sanitizer' -e 'runtime error' "$STATE"/log/*.log 2>/dev/null || true)
	((${#reports[@]})) || return 0
	printf '# sanitizer reports in %s:\n' "${reports[*]}" >&3
	grep -h -i -A 30 -e 'sanitizer' -e 'runtime error' "${reports[@]}" | head -n 200 | sed 's/^/# /' >&3
	return 1
}

# In teardown(): bats sets BATS_TEST_COMPLETED only for a passing test.
stack_logs_on_failure() {
	[[ -n ${BATS_TEST_COMPLETED:-} ]] || stack_logs >&3
}

stack_logs() {
	local f
	for f in "$STATE"/log/*.log; do
		[[ -s $f ]] || continue
		printf '# --- %s ---\n' "$f"
		tail -n 40 "$f" | sed 's/^/# /'
	done
}

# http METHOD PATH [curl args…]: one request; sets code, body, headers
# (the raw response head) and secs (the time it took), for the test.
# shellcheck disable=SC2034
http() {
	local method=$1 path=$2 out
	shift 2
	out=$(curl -sS -X "$method" -D "$BATS_TEST_TMPDIR/h" -o "$BATS_TEST_TMPDIR/b" \
		-w '%{http_code} %{time_total}' --max-time 30 "$@" "$BASE$path")
	code=${out% *}
	secs=${out#* }
	body=$(cat "$BATS_TEST_TMPDIR/b")
	headers=$(tr -d '\r' <"$BATS_TEST_TMPDIR/h")
}

# header NAME: the value of header NAME in the last response.
header() {
	printf '%s\n' "$headers" | awk -v n="$1" -F': ' 'tolower($1) == tolower(n) { sub(/^[^:]*: /, ""); print; exit }'
}

# elapsed CMD…: run CMD, print the wall time it took in seconds.
elapsed() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@"
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

# between X LO HI: LO <= X <= HI, as decimals.
between() {
	awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'
}

# metric NAME: one value of the stack's /metrics at BASE (empty when it
# has none).
metric() {
	curl -fsS --max-time 5 "$BASE/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

# wait_for SECS CMD…: poll CMD every 50 ms until it succeeds or SECS pass.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}

# free_port: a TCP port free on loopback now (the kernel's pick, let go
# at once: for servers that cannot take --port 0 themselves).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# concurrent N PATH [curl args…]: N requests at once; waits for all;
# prints their status codes (000 for none).
concurrent() {
	local n=$1 path=$2 i
	shift 2
	for ((i = 0; i < n; i++)); do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 "$@" "$BASE$path" &
	done
	wait
}

# no_process_of STATE: nothing alive carries this stack's marker
# (fcgilab starts every process with FCGILAB_STATE=STATE).
no_process_of() {
	local p
	for p in /proc/[0-9]*; do
		if tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qxF "FCGILAB_STATE=$1"; then
			grep -q '^State:.*Z' "$p/status" 2>/dev/null && continue
			echo "still running: ${p#/proc/}" >&2
			return 1
		fi
	done
}
