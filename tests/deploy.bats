#!/usr/bin/env bats
# A real deployment: what `make install` puts in place, and the lighttpd
# snippet routing to a pool started the way the systemd unit starts it.

bats_load_library bats-support
bats_load_library bats-assert
load helpers/stack

setup_file() {
	: "${abs_top_builddir:?run through make check}"
	DEST=$(mktemp -d /tmp/fcgilab-dest.XXXXXX)
	export DEST
	make -C "$abs_top_builddir" install DESTDIR="$DEST" >/dev/null 3>&-
	PREFIX=$(sed -n 's/^prefix = //p' "$abs_top_builddir/Makefile")
	SYSCONF=$(sed -n 's/^sysconfdir = //p' "$abs_top_builddir/Makefile")
	SYSCONF=${SYSCONF//\$\{prefix\}/$PREFIX}
	UNITDIR=$(sed -n 's/^systemdsystemunitdir = //p' "$abs_top_builddir/Makefile")
	UNITDIR=${UNITDIR//\$\{prefix\}/$PREFIX}
	export PREFIX SYSCONF UNITDIR
}

teardown_file() {
	rm -rf "$DEST"
}

teardown() {
	[[ -n ${POOL_PID:-} ]] && kill -TERM "$POOL_PID" 2>/dev/null && wait "$POOL_PID" 2>/dev/null
	[[ -n ${MUX_PID:-} ]] && kill -TERM "$MUX_PID" 2>/dev/null && wait "$MUX_PID" 2>/dev/null
	[[ -n ${WORKER_PID:-} ]] && kill -TERM "$WORKER_PID" 2>/dev/null && wait "$WORKER_PID" 2>/dev/null
	[[ -n ${LIGHTTPD_PID:-} ]] && kill -TERM "$LIGHTTPD_PID" 2>/dev/null && wait "$LIGHTTPD_PID" 2>/dev/null
	[[ -n ${RUN:-} ]] && rm -rf "$RUN"
	true
}

# site_start SNIPPET PROBE: a minimal lighttpd site on a free loopback port
# that includes SNIPPET, as lighty-enable-mod does; waits until PROBE (a
# path) answers. Sets port and LIGHTTPD_PID.
site_start() {
	port=$(free_port)
	cat >"$RUN/lighttpd.conf" <<-CONF
		server.document-root = "$RUN"
		server.bind = "127.0.0.1"
		server.port = $port
		server.errorlog = "$RUN/error.log"
		server.modules = ( "mod_fastcgi" )
		include "$1"
	CONF
	lighttpd -tt -f "$RUN/lighttpd.conf"
	lighttpd -D -f "$RUN/lighttpd.conf" </dev/null >/dev/null 2>&1 3>&- &
	LIGHTTPD_PID=$!
	for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port$2" && break; sleep 0.05; done
}

@test "make install DESTDIR=… installs programs, man pages, template, snippet, unit" {
	for f in bin/fcgilab bin/fcgilab-sync share/man/man1/fcgilab.1 \
		share/man/man1/fcgilab-sync.1 share/fcgilab/lighttpd.conf.in; do
		[ -e "$DEST$PREFIX/$f" ] || fail "missing $PREFIX/$f"
	done
	[ -e "$DEST$SYSCONF/lighttpd/conf-available/10-fcgilab.conf" ]
	[ -e "$DEST$UNITDIR/fcgilab-sync.service" ]
	[ -e "$DEST$UNITDIR/fcgilab-mux.service" ]
}

@test "every installed program answers --help and has a man page" {
	for p in "$DEST$PREFIX"/bin/*; do
		run "$p" --help
		assert_success
		assert_output --partial usage
		[ -e "$DEST$PREFIX/share/man/man1/$(basename "$p").1" ] || fail "no man page for $p"
	done
}

@test "the systemd units run the pool and the mux with spawn-fcgi" {
	local unit
	grep -q '^ExecStart=.*spawn-fcgi -n -s .*/sync.sock -M 0660 .*multiwatch -f .*fcgilab-sync' \
		"$DEST$UNITDIR/fcgilab-sync.service"
	grep -q '^ExecStart=.*spawn-fcgi -n -s .*/mux.sock -M 0660 .*fcgilab-mux' \
		"$DEST$UNITDIR/fcgilab-mux.service"
	if command -v systemd-analyze >/dev/null; then
		for unit in "$DEST$UNITDIR"/fcgilab-*.service; do
			# man: lookups fail outside an installed system; nothing else may.
			run systemd-analyze verify "$unit"
			refute_output --regexp '^(.*[^)]: |)[^C].*(rror|nknown|nvalid)'
		done
	fi
}

@test "the systemd unit runs the job workers under multiwatch" {
	local unit=$DEST$UNITDIR/fcgilab-worker.service
	grep -q '^ExecStart=.*multiwatch -f .*fcgilab-worker --queue ' "$unit"
	if command -v systemd-analyze >/dev/null; then
		run systemd-analyze verify "$unit"
		refute_output --regexp '^(.*[^)]: |)[^C].*(rror|nknown|nvalid)'
	fi
}

@test "the mux and worker units take Redis's password from /etc/default/fcgilab or a credential" {
	local unit name
	for name in fcgilab-mux fcgilab-worker; do
		unit=$DEST$UNITDIR/$name.service
		grep -q '^EnvironmentFile=-/etc/default/fcgilab$' "$unit"
		grep -q 'FCGILAB_REDIS_PASSWORD' "$unit"
		grep -q '^#LoadCredential=redis-password:/etc/fcgilab/redis-password$' "$unit"
		# the password is never on the command line the unit builds
		run grep -E '^ExecStart=.*(PASSWORD|password)' "$unit"
		assert_failure
		if command -v systemd-analyze >/dev/null; then
			# the unit with the credential's line, as a drop-in makes it
			RUN=$(mktemp -d /tmp/fcgilab-run.XXXXXX)
			sed 's/^#LoadCredential=/LoadCredential=/' "$unit" >"$RUN/$name.service"
			grep -q '^LoadCredential=redis-password:' "$RUN/$name.service"
			run systemd-analyze verify "$RUN/$name.service"
			refute_output --regexp '^(.*[^)]: |)[^C].*(rror|nknown|nvalid)'
			rm -rf "$RUN"
			RUN=
		fi
	done
}

@test "the lighttpd snippet routes /wait, /cpu to the pool and /wait_async to the mux" {
	local port snippet
	RUN=$(mktemp -d /tmp/fcgilab-run.XXXXXX)
	# The snippet as installed, its socket directory pointed at our temp dir.
	snippet=$RUN/10-fcgilab.conf
	sed "s|/run/fcgilab/|$RUN/|g" "$DEST$SYSCONF/lighttpd/conf-available/10-fcgilab.conf" >"$snippet"
	grep -q "$RUN/sync.sock" "$snippet"
	# The pool, as the unit's ExecStart starts it (spawn-fcgi does not
	# search PATH).
	spawn-fcgi -n -s "$RUN/sync.sock" -M 0660 -- \
		"$(command -v multiwatch)" -f 2 -- "$DEST$PREFIX/bin/fcgilab-sync" </dev/null >"$RUN/pool.log" 2>&1 3>&- &
	POOL_PID=$!
	spawn-fcgi -n -s "$RUN/mux.sock" -M 0660 -- "$DEST$PREFIX/bin/fcgilab-mux" \
		--queue "$RUN/jobs.db" </dev/null >"$RUN/mux.log" 2>&1 3>&- &
	MUX_PID=$!
	"$DEST$PREFIX/bin/fcgilab-worker" --queue "$RUN/jobs.db" --poll 20 \
		</dev/null >"$RUN/worker.log" 2>&1 3>&- &
	WORKER_PID=$!
	for _ in $(seq 100); do [ -S "$RUN/sync.sock" ] && [ -S "$RUN/mux.sock" ] && break; sleep 0.05; done
	site_start "$snippet" "/cpu?n=10"
	run curl -sS "http://127.0.0.1:$port/wait?secs=0.1"
	assert_output '{"status":"ready","seconds":0.1}'
	run curl -sS "http://127.0.0.1:$port/cpu?n=10"
	assert_output '{"n":10,"result":4}'
	run curl -sS "http://127.0.0.1:$port/wait_async?secs=0.1"
	assert_output '{"status":"ready","seconds":0.1}'
	run curl -sS "http://127.0.0.1:$port/cpu_async?n=10"
	assert_output '{"n":10,"result":4}'
	run curl -sS "http://127.0.0.1:$port/metrics"
	assert_output --partial fcgilab_requests_total
	# The lesson's mistakes would stall the whole mux: not deployed.
	run curl -sS -w ' %{http_code}' "http://127.0.0.1:$port/wait_async_blocking?secs=5"
	assert_output '{"detail":"Not Found"} 404'
	run curl -sS -w ' %{http_code}' "http://127.0.0.1:$port/cpu_async_blocking?n=10"
	assert_output '{"detail":"Not Found"} 404'
	# /jobs to the mux, the work done by a worker on the same store
	local id
	id=$(curl -sS -H 'Content-Type: application/json' -d '{"task":"cpu","n":10}' \
		"http://127.0.0.1:$port/jobs" | jq -r .id)
	[[ $id =~ ^[0-9a-f]{32}$ ]]
	for _ in $(seq 100); do
		[[ $(curl -sS "http://127.0.0.1:$port/jobs/$id" | jq -r .status) == "done" ]] && break
		sleep 0.05
	done
	run curl -sS "http://127.0.0.1:$port/jobs/$id"
	assert_output --partial '"result":{"n":10,"result":4}'
	# The rest of the site is not the snippet's business.
	run curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/"
	assert_output 403
}

# dropin_cmd FILE RUN PP MP: the ExecStart of a backend drop-in, as
# systemd would run it with the test's environment (programs from DESTDIR,
# files in RUN, ports PP and MP); one word a line.
dropin_cmd() {
	local run=$2 pp=$3 mp=$4
	# shellcheck disable=SC2016 # systemd's ${VAR}s, replaced literally
	sed -n 's/^ExecStart=\(..*\)$/\1/p' "$1" |
		sed -e "s|$PREFIX/bin/|$DEST$PREFIX/bin/|g" \
			-e "s|\${FCGILAB_LISTEN}|127.0.0.2|g" \
			-e "s|\${FCGILAB_POOL_PORT}|$pp|g" -e "s|\${FCGILAB_MUX_PORT}|$mp|g" \
			-e "s|\${FCGILAB_POOL}|2|g" -e "s|\${FCGILAB_MAX_SECS}|60|g" \
			-e "s|\${FCGILAB_QUEUE}|$run/jobs.db|g" -e "s|\${FCGILAB_UPLOADS}|$run/uploads|g" \
			-e "s|\${FCGILAB_ALLOW}|127.0.0.1|g" -e 's|\$FCGILAB_MUX_ARGS||g' |
		tr ' ' '\n' | sed '/^$/d'
}

@test "a backend host under the units' TCP drop-ins, a front under the installed front snippet" {
	local share=$DEST$PREFIX/share/fcgilab unit name conf port
	local -a cmd
	RUN=$(mktemp -d /tmp/fcgilab-run.XXXXXX)
	mkdir "$RUN/uploads"
	local PP MP
	PP=$(free_port)
	MP=$(free_port)
	for name in fcgilab-sync fcgilab-mux; do
		[ -f "$share/systemd/$name-tcp.conf" ]
		grep -q '^ExecStart=$' "$share/systemd/$name-tcp.conf"
		# shellcheck disable=SC2016 # systemd's ${VAR}s
		grep -q '^ExecStart=.*spawn-fcgi -n -a ${FCGILAB_LISTEN} .*--allow ${FCGILAB_ALLOW}' \
			"$share/systemd/$name-tcp.conf"
		if command -v systemd-analyze >/dev/null; then
			unit=$RUN/units/$name.service
			mkdir -p "$unit.d"
			cp "$DEST$UNITDIR/$name.service" "$unit"
			cp "$share/systemd/$name-tcp.conf" "$unit.d/tcp.conf"
			run systemd-analyze verify "$unit"
			refute_output --regexp '^(.*[^)]: |)[^C].*(rror|nknown|nvalid)'
		fi
	done
	# the pool and the mux as the drop-ins start them
	mapfile -t cmd < <(dropin_cmd "$share/systemd/fcgilab-sync-tcp.conf" "$RUN" "$PP" "$MP")
	[[ ${cmd[0]} == */spawn-fcgi ]]
	"${cmd[@]}" </dev/null >"$RUN/pool.log" 2>&1 3>&- &
	POOL_PID=$!
	mapfile -t cmd < <(dropin_cmd "$share/systemd/fcgilab-mux-tcp.conf" "$RUN" "$PP" "$MP")
	"${cmd[@]}" </dev/null >"$RUN/mux.log" 2>&1 3>&- &
	MUX_PID=$!
	# the installed fcgilab, its share/ pointed into DESTDIR, prints the
	# routes for the backends named in a defaults file
	sed "s|^\(\tconfdir=\).*|\1'$share'|" "$DEST$PREFIX/bin/fcgilab" >"$RUN/fcgilab"
	chmod +x "$RUN/fcgilab"
	printf 'FCGILAB_BACKENDS="127.0.0.2"\nFCGILAB_POOL_PORT=%s\nFCGILAB_MUX_PORT=%s\n' "$PP" "$MP" >"$RUN/default"
	conf=$RUN/10-fcgilab-front.conf
	sed "s|^include_shell \".*fcgilab routes\"|include_shell \"$RUN/fcgilab routes --defaults $RUN/default\"|" \
		"$DEST$SYSCONF/lighttpd/conf-available/10-fcgilab-front.conf" >"$conf"
	grep -q "^include_shell \"$RUN/fcgilab routes" "$conf"
	site_start "$conf" "/wait_async?secs=0"
	run curl -sS "http://127.0.0.1:$port/wait_async?secs=0.1"
	assert_output '{"status":"ready","seconds":0.1}'
	run curl -sS "http://127.0.0.1:$port/wait?secs=0"
	assert_output '{"status":"ready","seconds":0}'
	run curl -sS "http://127.0.0.1:$port/"
	assert_output '{"Hello":"World"}'
	run curl -sS -w ' %{http_code}' "http://127.0.0.1:$port/wait_async_blocking?secs=5"
	assert_output '{"detail":"Not Found"} 404'
	# a body past 16 KiB outside /upload: refused by the front, not spooled
	head -c 20000 /dev/zero | tr '\0' x >"$RUN/20k"
	run curl -sS -o /dev/null -w '%{http_code}' --data-binary "@$RUN/20k" \
		"http://127.0.0.1:$port/wait?secs=0"
	assert_output 413
	# a defaults file naming no backend: lighttpd refuses the config
	printf '# nothing\n' >"$RUN/default"
	run lighttpd -tt -f "$RUN/lighttpd.conf"
	assert_failure
}
