# netns.bash — hosts of our own, made and removed by a test: network
# namespaces joined by veth links, with private addresses no one else
# uses. Traffic to them never leaves this machine.
#
#   netns_setup             makes NS_SERVER (10.251.N.1) and NS_CLIENT
#                           (10.251.N.2) on one veth link; sets SERVER_IP,
#                           CLIENT_IP; skips the test file when namespaces
#                           cannot be made (not root, no CAP_NET_ADMIN)
#   netns_teardown          removes both (the veth pair goes with them)
#   in_server CMD…, in_client CMD…   run CMD inside that namespace
#
# N is derived from the pid, so parallel suites get their own subnets.

netns_setup() {
	local n=$(($$ % 250 + 1))
	NS_SERVER=fl-srv-$$
	NS_CLIENT=fl-cli-$$
	SERVER_IP=10.251.$n.1
	CLIENT_IP=10.251.$n.2
	export NS_SERVER NS_CLIENT SERVER_IP CLIENT_IP
	if ! ip netns add "$NS_SERVER" 2>/dev/null; then
		skip "network namespaces need root (CAP_NET_ADMIN)"
	fi
	ip netns add "$NS_CLIENT"
	ip link add "fls$$" type veth peer name "flc$$"
	ip link set "fls$$" netns "$NS_SERVER"
	ip link set "flc$$" netns "$NS_CLIENT"
	ip -n "$NS_SERVER" addr add "$SERVER_IP/24" dev "fls$$"
	ip -n "$NS_CLIENT" addr add "$CLIENT_IP/24" dev "flc$$"
	ip -n "$NS_SERVER" link set lo up
	ip -n "$NS_CLIENT" link set lo up
	ip -n "$NS_SERVER" link set "fls$$" up
	ip -n "$NS_CLIENT" link set "flc$$" up
}

netns_teardown() {
	[[ -n ${NS_SERVER:-} ]] || return 0
	ip netns del "$NS_SERVER" 2>/dev/null || true
	ip netns del "$NS_CLIENT" 2>/dev/null || true
}

in_server() { ip netns exec "$NS_SERVER" "$@"; }
in_client() { ip netns exec "$NS_CLIENT" "$@"; }
