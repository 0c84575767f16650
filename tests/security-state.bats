#!/usr/bin/env bats
# The state directory against another local user (issue 10): here the
# attacker is `nobody` (runuser), who plants directories, links and files
# where root's `fcgilab` will look. start, stop, status and compare must
# refuse such a directory with a clear message, write nothing in it and
# never write through a link; the jobs' workers must not read through a
# link planted under an upload id. Also: what --state and --bind may hold,
# the default state dir of root, IPv6 listeners, and a stop that cannot
# kill (a real process in state D: a frozen cgroup).
#
# Every planted path is removed by name in teardown; every stack started
# here is stopped by pid (fcgilab stop), the frozen cgroup thawed first.

# code, body and BASE are set by helpers/stack.bash; each @test runs in
# a subshell of its own, teardown in the same one (SC2030/SC2031).
# shellcheck disable=SC2154,SC2030,SC2031
load helpers/stack
load helpers/jobs

setup() {
	STACKS=() PLANTS=() FREEZER=''
	command -v runuser >/dev/null || skip "runuser not installed (Debian: util-linux)"
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	# the root-only file every planted link points at (/etc/shadow's role)
	TARGET=$BATS_TEST_TMPDIR/target
	printf 'secret_col,x\nroot:%s\n' "$RANDOM$RANDOM" >"$TARGET"
	chmod 0600 "$TARGET"
	TARGET_SUM=$(target_sum)
}

teardown() {
	local s
	stack_logs_on_failure
	if [[ -n $FREEZER && -d $FREEZER ]]; then
		echo THAWED >"$FREEZER/freezer.state" || true
	fi
	for s in "${STACKS[@]}"; do
		"$FCGILAB" stop --state "$s" --grace 2 >/dev/null 2>&1 || true
		rm -rf "$s" "$s.start"
	done
	if [[ -n $FREEZER && -d $FREEZER ]]; then
		rmdir "$FREEZER" 2>/dev/null || sleep 0.5
		rmdir "$FREEZER" 2>/dev/null || true
	fi
	for s in "${PLANTS[@]}"; do
		rm -rf -- "$s"
	done
}

as_nobody() { runuser -u nobody -- "$@"; }

# plant_name: a fresh name in /tmp, remembered for teardown.
plant_name() {
	local -n name=$1
	name=$(mktemp -u /tmp/fcgilab-evil.XXXXXX)
	PLANTS+=("$name")
}

# new_state VAR: a fresh state dir of root's (mktemp -d: 0700), stopped
# and removed in teardown.
new_state() {
	local -n dir=$1
	dir=$(mktemp -d /tmp/fcgilab-test.XXXXXX)
	STACKS+=("$dir")
}

# target_sum: the root-only file's content and metadata: a byte written
# through a link, or a chmod, changes it.
target_sum() {
	printf '%s %s\n' "$(sha256sum <"$TARGET")" "$(stat -c '%s %a %u %Y' "$TARGET")"
}

# tree DIR: every entry under DIR with its owner, mode, type, size, time
# and link target: a snapshot to compare before and after.
tree() {
	find "$1" -printf '%p %u %m %y %s %T@ %l\n' | sort
}

# refused_everywhere DIR WHY: start, stop, status and compare on DIR all
# exit 1 saying so, nothing in DIR changes, the target is untouched and
# no process of a stack in DIR exists.
refused_everywhere() {
	local dir=$1 why=$2 before cmd
	before=$(tree "$dir")
	for cmd in "start --port 0 --pool 1 --workers 0" stop status \
		"compare -n 2 --secs 0 --out $BATS_TEST_TMPDIR/cmp"; do
		# shellcheck disable=SC2086 # cmd is words
		run "$FCGILAB" $cmd --state "$dir" 3>&-
		assert_failure 1
		assert_output --partial "refusing the state directory $dir"
		assert_output --partial "$why"
	done
	assert_equal "$(tree "$dir")" "$before"
	assert_equal "$(target_sum)" "$TARGET_SUM"
	no_process_of "$dir"
	[ ! -e "$BATS_TEST_TMPDIR/cmp/pool.csv" ]
}

# --- the directory itself ----------------------------------------------------

@test "a 0777 dir another user planted in /tmp (the issue's case) is refused, untouched" {
	local d
	plant_name d
	as_nobody mkdir -m 0777 "$d"
	as_nobody mkdir "$d/uploads" "$d/run" "$d/log"
	as_nobody ln -s "$TARGET" "$d/lighttpd.conf"
	as_nobody ln -s "$TARGET" "$d/run/mux.pid"
	as_nobody ln -s "$TARGET" "$d/log/mux.log"
	as_nobody ln -s / "$d/uploads/0123456789abcdef0123456789abcdef"
	refused_everywhere "$d" "$d belongs to nobody"
}

@test "a dir another user owns is refused even at mode 0700" {
	local d
	plant_name d
	as_nobody mkdir -m 0700 "$d"
	as_nobody mkdir -m 0700 "$d/run" "$d/log"
	as_nobody ln -s "$TARGET" "$d/lighttpd.conf"
	as_nobody ln -s "$TARGET" "$d/jobs.db"
	as_nobody ln -s "$TARGET" "$d/run/lighttpd.pid"
	as_nobody ln -s "$TARGET" "$d/log/lighttpd.log"
	as_nobody touch "$d/url"
	refused_everywhere "$d" "$d belongs to nobody"
}

@test "root's dir that was open once: entries another user left are refused" {
	local d
	new_state d
	chmod 0777 "$d"
	as_nobody mkdir "$d/run"
	as_nobody ln -s "$TARGET" "$d/run/mux.pid"
	as_nobody ln -s "$TARGET" "$d/lighttpd.conf"
	chmod 0700 "$d"
	refused_everywhere "$d" "belongs to nobody"
	# and while it is still open, the mode alone is the reason
	chmod 0777 "$d"
	refused_everywhere "$d" "is writable by group or others (mode 0777)"
	chmod 0770 "$d"
	refused_everywhere "$d" "(mode 0770)"
}

@test "links at fcgilab's own names are replaced, never written through" {
	local d
	new_state d
	mkdir -m 0700 "$d/run" "$d/log" "$d/docroot" "$d/docroot/static"
	# root's own links (another user's are refused above): fcgilab writes
	# each of these names through a private file renamed over it
	for f in lighttpd.conf port url pool queue run/mux.pid run/lighttpd.pid \
		log/mux.log log/lighttpd.log log/access.log docroot/static/hello.txt; do
		ln -s "$TARGET" "$d/$f"
	done
	ln -s "$BATS_TEST_TMPDIR" "$d/errors"
	run "$FCGILAB" start --port 0 --state "$d" --pool 1 --workers 0 3>&-
	assert_success
	assert_equal "$(target_sum)" "$TARGET_SUM"
	for f in lighttpd.conf port url pool queue run/mux.pid run/lighttpd.pid \
		log/mux.log log/lighttpd.log log/access.log docroot/static/hello.txt; do
		[ -f "$d/$f" ] && [ ! -L "$d/$f" ] || fail "$d/$f is not a regular file"
	done
	[ -d "$d/errors" ] && [ ! -L "$d/errors" ]
	[ ! -e "$BATS_TEST_TMPDIR/status-404.html" ]
	grep -Eqx 'server\.bind += "127\.0\.0\.1"' "$d/lighttpd.conf"
	run curl -sS "$(<"$d/url")static/hello.txt"
	assert_output 'fcgilab static file'
	run "$FCGILAB" stop --state "$d"
	assert_success
	no_process_of "$d"
	assert_equal "$(target_sum)" "$TARGET_SUM"
}

@test "names fcgilab opens by path must not be links: jobs.db, uploads, run" {
	local d name
	for name in jobs.db jobs.db-wal uploads run; do
		new_state d
		ln -s "$TARGET" "$d/$name"
		run "$FCGILAB" start --port 0 --state "$d" --pool 1 --workers 0 3>&-
		assert_failure 1
		assert_output --partial "refusing the state directory $d: $d/$name is not a"
		no_process_of "$d"
		[ ! -e "$d/lighttpd.conf" ]
	done
	assert_equal "$(target_sum)" "$TARGET_SUM"
}

# --- the path to it ----------------------------------------------------------

@test "a link owned by another user on the path is refused; root's own is followed" {
	local l r
	plant_name l
	# nobody's link to a directory of root's: following it would put the
	# stack where nobody chose
	as_nobody ln -s "$BATS_TEST_TMPDIR" "$l"
	run "$FCGILAB" start --port 0 --state "$l/state" --pool 1 --workers 0 3>&-
	assert_failure 1
	assert_output --partial "refusing the state directory $l/state: $l is a symbolic link owned by nobody"
	[ ! -e "$BATS_TEST_TMPDIR/state" ]
	for cmd in stop status; do
		run "$FCGILAB" "$cmd" --state "$l/state"
		assert_failure 1
		assert_output --partial "$l is a symbolic link owned by nobody"
	done
	# a link that is root's is fine, and status names the real place
	plant_name r
	ln -s "$BATS_TEST_TMPDIR" "$r"
	mkdir -m 0700 "$BATS_TEST_TMPDIR/state"
	run "$FCGILAB" status --state "$r/state"
	assert_failure 3
	assert_line "state     $BATS_TEST_TMPDIR/state"
}

@test "a directory on the path that another user owns, or anyone may write, is refused" {
	local n
	plant_name n
	as_nobody mkdir -m 0755 "$n"
	run "$FCGILAB" start --port 0 --state "$n/state" --pool 1 --workers 0 3>&-
	assert_failure 1
	assert_output --partial "$n belongs to nobody"
	[ -z "$(ls -A "$n")" ]
	# root's, but world-writable without the sticky bit: anyone may rename
	# what is inside
	mkdir -m 0777 "$BATS_TEST_TMPDIR/open"
	chmod 0777 "$BATS_TEST_TMPDIR/open"
	run "$FCGILAB" start --port 0 --state "$BATS_TEST_TMPDIR/open/state" --pool 1 --workers 0 3>&-
	assert_failure 1
	assert_output --partial "$BATS_TEST_TMPDIR/open is writable by group or others (mode 0777)"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/open")" ]
	# sticky (as /tmp is): only an entry's owner may rename it: fine
	chmod 1777 "$BATS_TEST_TMPDIR/open"
	run "$FCGILAB" status --state "$BATS_TEST_TMPDIR/open/state"
	assert_failure 3
	assert_output --partial 'not running (no state directory'
}

@test "start creates a missing state dir, and its missing parents, mode 0700" {
	local d
	d=$BATS_TEST_TMPDIR/a/b/state
	STACKS+=("$d")
	run "$FCGILAB" start --port 0 --state "$d" --pool 1 --workers 0 3>&-
	assert_success
	[ "$(stat -c '%a %U' "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/a/b" "$d")" = $'700 root\n700 root\n700 root' ]
	for sub in run log errors docroot tmp uploads; do
		[ "$(stat -c %a "$d/$sub")" = 700 ] || fail "$d/$sub: mode $(stat -c %a "$d/$sub")"
	done
	run "$FCGILAB" stop --state "$d"
	assert_success
}

# --- what --state and --bind may hold ---------------------------------------

@test "characters that would break lighttpd.conf or sed are refused in --state and --bind" {
	local c d
	for c in '"' "\\" '&' '|' $'\n' '$' '`' "'" ';' '#' $'\t' 'é'; do
		d=$BATS_TEST_TMPDIR/s${c}t
		for cmd in start stop status compare; do
			run "$FCGILAB" "$cmd" --state "$d" 3>&-
			assert_failure 2
			assert_output --partial "$cmd: --state must not contain"
		done
		[ ! -e "$d" ]
	done
	for c in '127.0.0.1"' "127.0.0.1\\" 'a b' '' '1.2.3.4;' '::1]' '[::1' 'fe80::1%lo' \
		$'127.0.0.1\nserver.port = 1' '127.0.0.1|x'; do
		run "$FCGILAB" start --bind "$c" --state "$BATS_TEST_TMPDIR/ok" 3>&-
		assert_failure 2
		assert_output --partial -- '--bind'
	done
	[ ! -e "$BATS_TEST_TMPDIR/ok" ]
}

@test "a --state whose physical path holds such a character is refused, nothing written" {
	mkdir -m 0700 "$BATS_TEST_TMPDIR/a&b"
	ln -s "$BATS_TEST_TMPDIR/a&b" "$BATS_TEST_TMPDIR/ok"
	run "$FCGILAB" start --port 0 --state "$BATS_TEST_TMPDIR/ok" --pool 1 --workers 0 3>&-
	assert_failure 1
	assert_output --partial "its physical path $BATS_TEST_TMPDIR/a&b contains"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/a&b")" ]
}

# --- the default state dir ---------------------------------------------------

@test "root's default state dir without XDG_RUNTIME_DIR is /run/fcgilab-0, not /tmp" {
	local d=/run/fcgilab-0
	run env -u XDG_RUNTIME_DIR "$FCGILAB" start --help
	assert_success
	assert_output --partial "--state DIR     state directory (default $d)"
	# sudo -E passes the user's runtime dir: not root's, so not used
	mkdir -m 0700 "$BATS_TEST_TMPDIR/xdg"
	chown nobody "$BATS_TEST_TMPDIR/xdg"
	run env XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/xdg" "$FCGILAB" stop --help
	assert_output --partial "(default $d)"
	chown root "$BATS_TEST_TMPDIR/xdg"
	run env XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/xdg" "$FCGILAB" status --help
	assert_output --partial "(default $BATS_TEST_TMPDIR/xdg/fcgilab)"
	# a real start there, stopped by pid and removed (unless someone's
	# stack lives there already: then leave it alone)
	[[ ! -e $d ]] || skip "$d exists: not touching another stack"
	STACKS+=("$d")
	run env -u XDG_RUNTIME_DIR "$FCGILAB" start --port 0 --pool 1 --workers 0 3>&-
	assert_success
	assert_output --partial "state $d)"
	[ "$(stat -c '%a %U' "$d")" = '700 root' ]
	run env -u XDG_RUNTIME_DIR "$FCGILAB" stop
	assert_success
	assert_output "fcgilab: stopped the stack in $d"
	no_process_of "$d"
}

@test "another user's default /tmp/fcgilab-UID made by someone else is refused" {
	local uid d
	uid=$(id -u nobody)
	d=/tmp/fcgilab-$uid
	run runuser -u nobody -- env -u XDG_RUNTIME_DIR "$FCGILAB" start --help
	assert_output --partial "(default $d)"
	[[ ! -e $d ]] || skip "$d exists already"
	PLANTS+=("$d")
	mkdir -m 0755 "$d" # root made it first: not nobody's
	run runuser -u nobody -- env -u XDG_RUNTIME_DIR "$FCGILAB" start --port 0 --pool 1 --workers 0 3>&-
	assert_failure 1
	assert_output --partial "refusing the state directory $d: $d belongs to root (uid 0), not to you"
	[ -z "$(ls -A "$d")" ]
}

# --- uploads: a link planted under an upload id ------------------------------

@test "a stats job on an upload id that is a link fails cleanly, without the target's bytes" {
	local id=0123456789abcdef0123456789abcdef job err
	stack_start --pool 1 --workers 1
	STACKS+=("$STATE")
	# (start refuses a state dir someone else could write; this is the
	# second line: a link that got into uploads/ anyway)
	ln -s "$TARGET" "$STATE/uploads/$id"
	job=$(post_job '{"task":"stats","upload":"'"$id"'","filename":"x.csv","content_type":"text/csv"}')
	wait_job "$job" failed 20
	run job "$job"
	assert_output --partial "\"error\":\"upload $id: is a symbolic link (refused)\""
	assert_output --partial '"result":null'
	refute_output --partial secret_col
	refute_output --partial root:
	err=$(jq -r .attempts <<<"$output")
	assert_equal "$err" 1
	assert_equal "$(target_sum)" "$TARGET_SUM"
	# a real upload still works
	printf 'a,b\n1,2\n' >"$BATS_TEST_TMPDIR/ok.csv"
	http POST '/uploads?process=stats' -F "file=@$BATS_TEST_TMPDIR/ok.csv;type=text/csv"
	assert_equal "$code" 202
	job=$(jq -r .id <<<"$body")
	wait_job "$job" "done" 20
}

@test "the mux refuses an upload directory that is a link" {
	mkdir -m 0700 "$BATS_TEST_TMPDIR/real"
	ln -s "$BATS_TEST_TMPDIR/real" "$BATS_TEST_TMPDIR/link"
	run timeout 10 "$abs_top_builddir/fcgi/fcgilab-mux" --listen "$BATS_TEST_TMPDIR/m.sock" \
		--uploads "$BATS_TEST_TMPDIR/link"
	assert_failure
	assert_output --partial "$BATS_TEST_TMPDIR/link: is a symbolic link (refused)"
}

# --- listeners ---------------------------------------------------------------

# has_ipv6_loopback: ::1 is up and bindable here.
has_ipv6_loopback() {
	ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'
}

@test "--bind ::1 (and [::1]) listens on IPv6; the URL has brackets" {
	local d url
	has_ipv6_loopback || skip "no IPv6 loopback (::1) on this machine"
	for b in ::1 '[::1]'; do
		new_state d
		run "$FCGILAB" start --port 0 --bind "$b" --state "$d" --pool 1 --workers 0 3>&-
		assert_success
		assert_output --regexp 'running at http://\[::1\]:[0-9]+/'
		url=$(<"$d/url")
		[[ $url =~ ^http://\[::1\]:[0-9]+/$ ]]
		grep -Eqx 'server\.bind += "\[::1\]"' "$d/lighttpd.conf"
		run curl -sS "${url}wait_async?secs=0"
		assert_output '{"status":"ready","seconds":0}'
		run "$FCGILAB" status --state "$d"
		assert_success
		assert_line --partial "lighttpd  running, pid"
		assert_line --partial "$url"
		run "$FCGILAB" stop --state "$d"
		assert_success
		no_process_of "$d"
	done
}

@test "--bind :: is probed on ::1" {
	local d url
	has_ipv6_loopback || skip "no IPv6 loopback (::1) on this machine"
	new_state d
	run "$FCGILAB" start --port 0 --bind :: --state "$d" --pool 1 --workers 0 3>&-
	assert_success
	url=$(<"$d/url")
	[[ $url =~ ^http://\[::1\]:[0-9]+/$ ]]
	grep -Eqx 'server\.bind += "\[::\]"' "$d/lighttpd.conf"
	run curl -sS "$url"
	assert_output '{"Hello":"World"}'
	run "$FCGILAB" stop --state "$d"
	assert_success
	no_process_of "$d"
}

@test "a port in use on ::1 is refused with the reason" {
	local d1 d2 port
	has_ipv6_loopback || skip "no IPv6 loopback (::1) on this machine"
	new_state d1
	new_state d2
	"$FCGILAB" start --port 0 --bind ::1 --state "$d1" --pool 1 --workers 0 3>&- >/dev/null
	port=$(<"$d1/port")
	run "$FCGILAB" start --port "$port" --bind ::1 --state "$d2" --pool 1 --workers 0 3>&-
	assert_failure 1
	assert_output --partial "port $port is in use on [::1]"
	no_process_of "$d2"
}

# --- stop with a process that cannot die -------------------------------------

@test "stop gives up on a process SIGKILL cannot end (state D), names it, keeps its pid file" {
	local d pid rc
	[[ -w /sys/fs/cgroup/freezer ]] ||
		skip "no writable cgroup v1 freezer: cannot make a process in state D here"
	new_state d
	"$FCGILAB" start --port 0 --state "$d" --pool 1 --workers 0 3>&- >/dev/null
	pid=$(<"$d/run/mux.pid")
	# A task frozen by the v1 freezer sleeps in the kernel (state D) and
	# does not die of SIGKILL until thawed: a real stuck process.
	FREEZER=$(mktemp -d /sys/fs/cgroup/freezer/fcgilab-test.XXXXXX)
	echo "$pid" >"$FREEZER/cgroup.procs"
	echo FROZEN >"$FREEZER/freezer.state"
	for _ in $(seq 100); do
		[[ $(<"$FREEZER/freezer.state") == FROZEN ]] && break
		sleep 0.05
	done
	[ "$(ps -o stat= -p "$pid" | cut -c1)" = D ]
	SECONDS=0
	run "$FCGILAB" stop --state "$d" --grace 1
	rc=$status
	# bounded: grace, then 5 s after SIGKILL (and slack for a busy machine)
	((SECONDS <= 15)) || fail "stop took ${SECONDS}s"
	assert_equal "$rc" 1
	assert_output --partial "could not stop mux: pid $pid (fcgilab-mux, state D) still alive 5s after SIGKILL"
	assert_output --partial "could not stop mux in $d"
	# the others stopped; the mux's pid file and socket stay, status says so
	[ -e "$d/run/mux.pid" ]
	[ ! -e "$d/run/lighttpd.pid" ]
	[ ! -e "$d/run/sync.pid" ]
	[ -S "$d/mux.sock" ]
	run "$FCGILAB" status --state "$d"
	assert_line --regexp "^mux       running, pid $pid"
	# thawed, it dies of the SIGKILL it was sent; stop then finds nothing
	echo THAWED >"$FREEZER/freezer.state"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	run "$FCGILAB" stop --state "$d"
	assert_success
	[ ! -e "$d/run/mux.pid" ]
	no_process_of "$d"
}
