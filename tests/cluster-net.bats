#!/usr/bin/env bats
# Past one machine, where a real network matters: a front and two backend
# hosts, each in a network namespace of its own, joined by veth links to a
# bridge in the front's namespace (10.252.N.0/24, made and removed here;
# nothing leaves this machine). Redis (with a password) runs on the
# front's host. The backends listen beyond loopback, so they must name the
# front (--allow).
#
#   front  10.252.N.1   lighttpd (--bind 0.0.0.0), Redis
#   B1     10.252.N.2   pool + mux, 1 worker
#   B2     10.252.N.3   pool + mux, 1 worker
#
# A partitioned host is one whose link goes down (packets vanish, nothing
# is refused); a slow one has its link rate-limited (tc tbf: this kernel
# has no netem).

load helpers/stack
load helpers/jobs
load helpers/cluster

# shellcheck disable=SC2154 # set by make check
SEND_MANY=$abs_top_builddir/tools/send_many

setup_file() {
	local n=$(($$ % 250 + 1)) i
	NS_F=flf-$$ NS_B1=flb1-$$ NS_B2=flb2-$$
	NET=10.252.$n
	LINK_B2=flp2$$ # B2's end of its link
	export NS_F NS_B1 NS_B2 NET LINK_B2
	ip netns add "$NS_F" 2>/dev/null || skip "network namespaces need root (CAP_NET_ADMIN)"
	ip netns add "$NS_B1"
	ip netns add "$NS_B2"
	ip -n "$NS_F" link add br0 type bridge
	ip -n "$NS_F" addr add "$NET.1/24" dev br0
	ip -n "$NS_F" link set br0 up
	ip -n "$NS_F" link set lo up
	for i in 1 2; do
		ip link add "flv$i$$" type veth peer name "flp$i$$"
		ip link set "flv$i$$" netns "$NS_F"
		ip -n "$NS_F" link set "flv$i$$" master br0 up
		ip link set "flp$i$$" netns "flb$i-$$"
		ip -n "flb$i-$$" addr add "$NET.$((i + 1))/24" dev "flp$i$$"
		ip -n "flb$i-$$" link set "flp$i$$" up
		ip -n "flb$i-$$" link set lo up
	done
	# Redis on the front's host, reached by both backends
	printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NS_F" "${REDIS_SERVER:-redis-server}" \
		>"$BATS_FILE_TMPDIR/redis-in-ns"
	chmod +x "$BATS_FILE_TMPDIR/redis-in-ns"
	REDIS_SERVER=$BATS_FILE_TMPDIR/redis-in-ns cluster_redis_start "$NET.1"
	cluster_ports
	CLUSTER_IN="ip netns exec $NS_B1" backend_start B1 "$NET.2" --allow "$NET.1" --workers 1
	CLUSTER_IN="ip netns exec $NS_B2" backend_start B2 "$NET.3" --allow "$NET.1" --workers 1
	CLUSTER_IN="ip netns exec $NS_F" front_start F "$NET.2,$NET.3" --bind 0.0.0.0 \
		--connect-timeout 1 --read-timeout 3
	PORT=$(<"$F/port")
	export B1 B2 F PORT
}

teardown_file() {
	cluster_stop
	[[ -n ${NS_F:-} ]] || return 0
	ip netns del "$NS_F" 2>/dev/null || true
	ip netns del "$NS_B1" 2>/dev/null || true
	ip netns del "$NS_B2" 2>/dev/null || true
}

teardown() {
	[[ -n ${BATS_TEST_COMPLETED:-} ]] || cluster_logs
	# whatever a test did to B2's link, undone
	ip -n "$NS_B2" link set "$LINK_B2" up 2>/dev/null || true
	ip netns exec "$NS_B2" tc qdisc del dev "$LINK_B2" root 2>/dev/null || true
}

in_f() { ip netns exec "$NS_F" "$@"; }
in_b1() { ip netns exec "$NS_B1" "$@"; }

# connected IP: connections lighttpd made so far to that backend's /wait_async.
connected() {
	in_f curl -fsS --max-time 5 "${F_URL}server-statistics" |
		awk -v k="gw.backend.mux-wait@$1:$MP.0.connected:" '$1 == k { print $2 }'
}

# from WHERE PATH: one GET to the front, from its own loopback (local) or
# from B1's host (afar); prints the status code and the body.
from() {
	local url=$F_URL
	[[ $1 == local ]] || url=http://$NET.1:$PORT/
	"in_${1/local/f}" curl -sS -w ' %{http_code}' --max-time 10 "$url${2#/}"
}
in_afar() { in_b1 "$@"; }

@test "a backend beyond loopback must name its front ends" {
	run in_b1 "$FCGILAB" start --role backend --listen "$NET.2" --pool-port 1 --mux-port 2 \
		--state "$BATS_TEST_TMPDIR/s" --queue "$REDIS_URL"
	assert_failure 2
	assert_output --partial 'name the front ends that may connect (--allow)'
	[ ! -e "$BATS_TEST_TMPDIR/s/run" ]
}

@test "the front balances over the network; status sees both backends" {
	run in_f "$SEND_MANY" -q -n 40 --secs 0.3 --timeout 20 "${F_URL}wait_async"
	assert_success
	(($(connected "$NET.2") > 0))
	(($(connected "$NET.3") > 0))
	run in_f "$FCGILAB" status --state "$F"
	assert_success
	assert_line --regexp "^backend   $NET\\.2 +up "
	assert_line --regexp "^backend   $NET\\.3 +up "
	# a job posted from afar, done by a worker on either host
	run in_b1 curl -sS -H 'Content-Type: application/json' -d '{"task":"cpu","n":10}' \
		"http://$NET.1:$PORT/jobs"
	local id
	id=$(jq -r .id <<<"$output")
	for _ in $(seq 100); do
		[[ $(in_f curl -sS "${F_URL}jobs/$id" | jq -r .status) == "done" ]] && break
		sleep 0.1
	done
	run in_f curl -sS "${F_URL}jobs/$id"
	assert_output --partial '"result":{"n":10,"result":4}'
}

@test "the front keeps the lab's rules: mistakes and operator views are loopback's" {
	run from afar '/wait_async?secs=0'
	assert_output '{"status":"ready","seconds":0} 200'
	run from afar '/wait_async_blocking?secs=0'
	assert_output '{"detail":"Forbidden"} 403'
	run from afar /server-statistics
	assert_output --regexp ' 404$'
	# the mux sees the client's address (REMOTE_ADDR), not the front's
	run from afar /metrics
	assert_output '{"detail":"Not authenticated"} 401'
	run from afar /jobs
	assert_output '{"detail":"Not authenticated"} 401'
	run from local '/wait_async_blocking?secs=0'
	assert_output '{"status":"ready","seconds":0} 200'
	run from local /server-statistics
	assert_output --regexp ' 200$'
	run from local /metrics
	assert_output --regexp ' 200$'
}

@test "a partitioned backend host: its requests end at the read timeout, none hang; new ones go to the other" {
	local csv=$BATS_TEST_TMPDIR/run.csv ok failed c0
	in_f "$SEND_MANY" -q -n 40 --secs 1.5 --timeout 20 --csv "$csv" \
		"${F_URL}wait_async" >/dev/null 2>&1 &
	local sm=$!
	sleep 0.7
	ip -n "$NS_B2" link set "$LINK_B2" down
	wait "$sm" || true
	# every request ended (none hung past the client's 20 s)
	assert_equal "$(($(wc -l <"$csv") - 1))" 40
	assert_equal "$(awk -F, 'NR > 1 && $7 == "timeout"' "$csv" | wc -l)" 0
	ok=$(awk -F, 'NR > 1 && $7 == "ok"' "$csv" | wc -l)
	failed=$((40 - ok))
	echo "# partition: $failed of 40 in flight failed (those on the cut-off host), $ok ok" >&3
	((failed >= 1 && ok >= 1))
	# the failures took the read timeout (3 s), not forever
	awk -F, 'NR > 1 && $7 != "ok" && $5 > 15 { exit 1 }' "$csv"
	# meanwhile: new requests all succeed (a connect that times out is
	# retried on the other backend)
	run in_f "$SEND_MANY" -q -n 20 -c 5 --secs 0 --timeout 20 "${F_URL}wait_async"
	assert_success
	grep -q "establishing connection failed: socket: tcp:$NET.3:$MP: Connection timed out" "$F/log/lighttpd.log"
	# the link comes back: so does the host
	ip -n "$NS_B2" link set "$LINK_B2" up
	c0=$(connected "$NET.3")
	sleep 2.2
	run in_f "$SEND_MANY" -q -n 60 -c 20 --secs 0.3 --timeout 20 "${F_URL}wait_async"
	assert_success
	(($(connected "$NET.3") > c0))
}

@test "a slow backend host (a rate-limited link) gets fewer requests: least connections" {
	local a0 b0 a b
	ip netns exec "$NS_B2" tc qdisc add dev "$LINK_B2" root tbf rate 100kbit burst 1600 latency 2s
	a0=$(connected "$NET.2")
	b0=$(connected "$NET.3")
	run in_f "$SEND_MANY" -q -n 300 -c 20 --secs 0 --timeout 30 "${F_URL}wait_async"
	assert_success
	a=$(($(connected "$NET.2") - a0))
	b=$(($(connected "$NET.3") - b0))
	echo "# slow host: $b of 300 requests, the other $a" >&3
	((b < a)) || fail "the slow host got $b, the other $a"
}
