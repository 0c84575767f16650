# cluster.bash — several fcgilab hosts on this one machine, for the
# cluster suites (tests/cluster*.bats): backend hosts (fcgilab start --role
# backend) and fronts (--role front), each in a state dir of its own, all
# sharing one Redis with a password (started here, as our child).
#
#   cluster_redis_start [ADDR]   Redis with a password on ADDR (default
#                                127.0.0.1) and a free port: REDIS_URL,
#                                REDIS_PW_FILE
#   cluster_ports                PP, MP: the backends' pool and mux ports
#                                (free ones, the same on every backend)
#   backend_start VAR ADDR [ARG…]   a backend on ADDR; its state dir in VAR
#   front_start VAR ADDRS [ARG…]    a front over ADDRS; its state dir in
#                                   VAR, its URL in VAR_URL
#   host_kill STATE              the host dies: SIGKILL to every process
#                                group it runs (its pid files; each pid
#                                checked to carry FCGILAB_STATE=STATE)
#   cluster_stop                 stops every host started here, by pid,
#                                and Redis
#   stat_of URL KEY              one value of lighttpd's statistics
# A command prefix in CLUSTER_IN (e.g. "ip netns exec NS") runs a host in
# a network namespace. Needs helpers/stack.bash and helpers/jobs.bash.

CLUSTER_STATES=()

cluster_redis_start() {
	local addr=${1:-127.0.0.1}
	REDIS_PW_FILE=$(mktemp /tmp/fcgilab-redis-pw.XXXXXX)
	printf 'cluster-%s-%s\n' "$RANDOM" "$RANDOM" >"$REDIS_PW_FILE"
	redis_start --bind "$addr" --requirepass "$(<"$REDIS_PW_FILE")" || return 1
	REDIS_URL=redis://$addr:$REDIS_PORT
	export REDIS_PW_FILE REDIS_URL
}

cluster_ports() {
	PP=$(free_port)
	MP=$(free_port)
	[ "$MP" != "$PP" ] || MP=$(free_port)
	export PP MP
}

# backend_start VAR ADDR [ARG…]: a backend host in a fresh state dir.
backend_start() {
	local -n st=$1
	local addr=$2
	shift 2
	st=$(mktemp -d /tmp/fcgilab-be.XXXXXX)
	CLUSTER_STATES+=("$st")
	backend_restart "$st" "$addr" "$@"
}

# backend_restart STATE ADDR [ARG…]: a backend host on STATE (the same
# backend again, after it died).
backend_restart() {
	local st=$1 addr=$2
	shift 2
	${CLUSTER_IN:-} "$FCGILAB" start --role backend --listen "$addr" --state "$st" \
		--pool-port "$PP" --mux-port "$MP" --pool 2 \
		--queue "$REDIS_URL" --queue-password-file "$REDIS_PW_FILE" \
		"$@" 3>&- >"$st.start" 2>&1 || {
		cat "$st.start" >&3
		return 1
	}
}

# front_start VAR ADDRS [ARG…]
front_start() {
	local name=$1 addrs=$2
	local -n st=$1
	shift 2
	st=$(mktemp -d /tmp/fcgilab-fe.XXXXXX)
	CLUSTER_STATES+=("$st")
	${CLUSTER_IN:-} "$FCGILAB" start --role front --backends "$addrs" --state "$st" \
		--port 0 --pool-port "$PP" --mux-port "$MP" "$@" 3>&- >"$st.start" 2>&1 || {
		cat "$st.start" >&3
		return 1
	}
	printf -v "${name}_URL" '%s' "$(<"$st/url")"
	export "${name?}_URL"
}

host_kill() {
	local st=$1 f pid
	for f in "$st"/run/*.pid; do
		[[ -f $f ]] || continue
		pid=$(<"$f")
		tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "FCGILAB_STATE=$st" ||
			continue
		kill -KILL -- "-$pid" 2>/dev/null || true
	done
	for _ in $(seq 100); do
		no_process_of "$st" 2>/dev/null && return 0
		sleep 0.05
	done
	no_process_of "$st"
}

cluster_stop() {
	local st
	for st in "${CLUSTER_STATES[@]}"; do
		${CLUSTER_IN:-} "$FCGILAB" stop --state "$st" --grace 3 3>&- >/dev/null 2>&1 || true
		rm -rf "$st" "$st.start"
	done
	CLUSTER_STATES=()
	redis_stop
	rm -f "${REDIS_PW_FILE:-}"
}

# cluster_logs: every host's logs, for a failed test (to fd 3).
cluster_logs() {
	local st f
	for st in "${CLUSTER_STATES[@]}"; do
		for f in "$st"/log/*.log; do
			[[ -s $f ]] || continue
			printf '# --- %s ---\n' "$f"
			tail -n 15 "$f" | sed 's/^/# /'
		done
	done >&3
}

# stat_of URL KEY: one value of lighttpd's /server-statistics at URL.
stat_of() {
	curl -fsS --max-time 5 "${1}server-statistics" |
		awk -v k="$2:" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}

