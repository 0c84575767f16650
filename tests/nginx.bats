#!/usr/bin/env bats
# The mux behind nginx, the other common FastCGI front end: nginx keeps
# its FastCGI connections (fastcgi_keep_conn on, an upstream keepalive
# cache), where lighttpd opens one per request. Answers come through
# right, sequential requests reuse connections, concurrent ones run at
# once, and a client that gives up frees its request.
#
# nginx and the mux run as children of this file (nginx not daemonized,
# every path of its inside the temp dir), on a free loopback port.

# DIR, SOCK, BASE, MUX_PID, NGINX_PID come from setup_file.
# shellcheck disable=SC2154
load helpers/stack

PROBE=$abs_top_builddir/tests/helpers/fcgi-probe
MUX=$abs_top_builddir/fcgi/fcgilab-mux
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# exited PID: the process is gone, or a zombie (our parent reaps it).
exited() {
	[[ ! -e /proc/$1/stat ]] || [[ $(awk '{ print $3 }' "/proc/$1/stat") == Z ]]
}

# nginx_conf PORT: a configuration with everything under DIR.
nginx_conf() {
	cat <<EOF
# Workers as the user running the tests: the socket is 0660, DIR 0700.
user $(id -un) $(id -gn);
worker_processes 1;
pid $DIR/nginx.pid;
events { worker_connections 256; }
http {
	access_log $DIR/access.log;
	client_body_temp_path $DIR/tmp/body;
	fastcgi_temp_path $DIR/tmp/fastcgi;
	proxy_temp_path $DIR/tmp/proxy;
	scgi_temp_path $DIR/tmp/scgi;
	uwsgi_temp_path $DIR/tmp/uwsgi;
	upstream mux {
		server unix:$SOCK;
		keepalive 8;
	}
	server {
		listen 127.0.0.1:$1;
		location / {
			fastcgi_pass mux;
			fastcgi_keep_conn on;
			fastcgi_param REQUEST_METHOD \$request_method;
			fastcgi_param SCRIPT_NAME \$fastcgi_script_name;
			fastcgi_param QUERY_STRING \$query_string;
			fastcgi_param CONTENT_TYPE \$content_type;
			fastcgi_param CONTENT_LENGTH \$content_length;
			fastcgi_param REQUEST_URI \$request_uri;
			fastcgi_param SERVER_PROTOCOL \$server_protocol;
			fastcgi_param GATEWAY_INTERFACE CGI/1.1;
			fastcgi_param REMOTE_ADDR \$remote_addr;
		}
	}
}
EOF
}

# nginx_start: nginx on a free port (tried at random until one binds);
# sets NGINX_PID and BASE.
nginx_start() {
	local try port
	mkdir -p "$DIR/tmp"
	for try in $(seq 10); do
		port=$((20000 + (RANDOM + try) % 40000))
		nginx_conf "$port" >"$DIR/nginx.conf"
		"$NGINX" -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/error.log" \
			-g 'daemon off;' 3>&- &
		NGINX_PID=$!
		BASE=http://127.0.0.1:$port
		# nginx retries a taken port for ~2.5 s before it gives up.
		wait_for 10 nginx_up_or_gone || true
		if kill -0 "$NGINX_PID" 2>/dev/null; then
			nginx_up_or_gone && return 0
		fi
		stop_pid "$NGINX_PID"
	done
	return 1
}

# nginx_up_or_gone: nginx answers, or has exited (its port was taken).
nginx_up_or_gone() {
	kill -0 "$NGINX_PID" 2>/dev/null || return 0
	curl -fsS -o /dev/null --max-time 1 "$BASE/metrics" 2>/dev/null
}

setup_file() {
	if [[ ! -x $NGINX ]]; then # bats 1.8 cannot skip from setup_file
		export NO_NGINX=1
		return 0
	fi
	# Short paths: unix socket names are limited to 107 bytes.
	DIR=$(mktemp -d /tmp/fcgilab-nginx.XXXXXX)
	SOCK=$DIR/mux.sock
	"$MUX" --listen "$SOCK" 2>"$DIR/mux.log" 3>&- &
	MUX_PID=$!
	wait_for 5 test -S "$SOCK"
	FDS0=$(find "/proc/$MUX_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
	nginx_start
	kill -0 "$NGINX_PID"
	export DIR SOCK MUX_PID FDS0 NGINX_PID BASE
}

stop_pid() {
	[[ -n ${1:-} ]] || return 0
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

setup() {
	[[ -z ${NO_NGINX:-} ]] || skip "nginx is not installed (Debian package nginx)"
}

teardown_file() {
	stop_pid "${NGINX_PID:-}"
	stop_pid "${MUX_PID:-}"
	rm -rf "${DIR:-}"
}

teardown() {
	[[ -z ${BATS_TEST_COMPLETED:-} && -z ${NO_NGINX:-} ]] || return 0
	local f
	for f in "$DIR/error.log" "$DIR/mux.log"; do
		printf '# --- %s ---\n' "$f" >&3
		tail -n 20 "$f" | sed 's/^/# /' >&3
	done
}

# metric_is NAME VALUE
metric_is() {
	[ "$(metric "$1")" = "$2" ]
}

@test "through nginx: /wait_async answers with the mux's JSON" {
	http GET '/wait_async?secs=0.2'
	assert_equal "$code" 200
	assert_equal "$body" '{"status":"ready","seconds":0.2}'
	assert_equal "$(header Content-Type)" application/json
	between "$secs" 0.2 5
}

@test "through nginx: errors keep their status and JSON body" {
	http GET '/wait_async?secs=x'
	assert_equal "$code" 422
	assert_equal "$(jq -r '.detail[0].type' <<<"$body")" float_parsing
	http GET /nothing
	assert_equal "$code" 404
	assert_equal "$body" '{"detail":"Not Found"}'
	http GET '/cpu_async?n=1000'
	assert_equal "$code" 200
	assert_equal "$body" '{"n":1000,"result":168}'
}

@test "sequential requests reuse the kept FastCGI connections" {
	local before after target
	before=$(metric fcgilab_connections_total)
	for _ in $(seq 10); do
		# Answers given at once and answers that waited, alternately.
		for target in '/wait_async?secs=0' /metrics /nothing; do
			curl -sS -o /dev/null -w '%{http_code}\n' "$BASE$target"
		done
	done >"$DIR/codes"
	after=$(metric fcgilab_connections_total)
	assert_equal "$(sort "$DIR/codes" | uniq -c | awk '{ print $2 ":" $1 }' | tr '\n' ' ')" \
		"200:20 404:10 "
	# 31 requests (with the last /metrics) over one or two connections.
	((after - before <= 2)) || fail "$((after - before)) new FastCGI connections for 31 requests"
}

@test "50 concurrent waits of 0.5 s through nginx take one round, not 50" {
	# one send_many process holds the 50 connections (one after another:
	# 25 s); nginx opens a FastCGI connection for each one in flight
	run "$abs_top_builddir/tools/send_many" --json -n 50 --secs 0.5 "$BASE/wait_async"
	assert_success
	jq -e '.ok == 50 and .wall >= 0.5 and .wall <= 3' <<<"$output"
}

@test "a client that gives up (curl -m) frees its request: nginx closes the upstream connection" {
	local aborted rc=0
	aborted=$(metric fcgilab_requests_aborted_total)
	curl -sS -o /dev/null --max-time 1 "$BASE/wait_async?secs=30" 2>/dev/null || rc=$?
	assert_equal "$rc" 28 # curl: operation timed out
	wait_for 5 metric_is fcgilab_requests_aborted_total $((aborted + 1))
	assert_equal "$(metric fcgilab_requests_in_flight)" 0
}

# mux_metric NAME: its value, asked of the mux directly.
mux_metric() {
	"$PROBE" "$SOCK" get /metrics | awk -v n="$1" '$1 == "1|" && $2 == n { print $3 }'
}

mux_connections_open_is_1() {
	[ "$(mux_metric fcgilab_connections_open)" = 1 ]
}

@test "stopping nginx closes its kept connections; the mux is back at rest" {
	# nginx is setup_file's child: teardown_file reaps it.
	kill -TERM "$NGINX_PID"
	wait_for 10 mux_connections_open_is_1
	assert_equal "$(mux_metric fcgilab_requests_in_flight)" 0
	assert_equal "$(find "/proc/$MUX_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)" "$FDS0"
	# And nginx found nothing wrong with the mux's records all along.
	run grep -F -e '[error]' -e '[crit]' -e '[alert]' "$DIR/error.log"
	assert_output ''
}

@test "SIGTERM: the mux exits, its log free of sanitizer reports" {
	kill -TERM "$MUX_PID"
	wait_for 10 exited "$MUX_PID"
	run grep -i -e sanitizer -e 'runtime error' "$DIR/mux.log"
	assert_output ''
}
