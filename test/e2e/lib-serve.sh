# lib-serve.sh: what the `tarn serve` tests (t80*) share, sourced after
# lib-cli.sh: a lake ($lake), a free loopback port ($port, $url), and
#   start_server ARGS...  `tarn serve` on the lake with --tokens $tmp/tokens and
#                         ARGS, beside the test; waits until /v1/health answers.
#                         $srv_pid is its pid; its log is $tmp/serve.log and its
#                         exit status lands in $tmp/serve.rc.
#   call TOKEN METHOD PATH [BODY]  prints the status code; the body goes to $tmp/body
#   jq_py EXPR            $tmp/body parses as JSON (bound to d) and EXPR holds
#   snaps                 the lake's snapshot count
#   stop_server           SIGTERM; true when it exited 0 with no sanitizer report
#                         (then start_server may start another)
# The server is killed and $tmp removed at exit.
lake="$tmp/lake"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
srv_pid=
trap '[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

start_server() {
	( "$TARN" --lake "$lake" serve --port "$port" --tokens "$tmp/tokens" "$@" \
		>/dev/null 2>"$tmp/serve.log" & echo $! >"$tmp/serve.pid"; wait $!; echo $? >"$tmp/serve.rc" ) &
	for k in $(seq 50); do [ -s "$tmp/serve.pid" ] && break; sleep 0.05; done
	srv_pid=$(cat "$tmp/serve.pid")
	for k in $(seq 100); do curl -s "$url/v1/health" >/dev/null && break; sleep 0.1; done
}
call() { curl -s -o "$tmp/body" -w '%{http_code}' ${1:+-H "Authorization: Bearer $1"} -X "$2" ${4:+-d "$4"} "$url$3"; }
jq_py() { python3 -c "import json,sys; d = json.load(open('$tmp/body')); sys.exit(0 if ($1) else 1)" || { cat "$tmp/body"; return 1; }; }
snaps() { "$TARN" --lake "$lake" sql --format csv -c "SELECT count(*) FROM tarn_snapshots()" | tail -1; }
stop_server() {
	kill "$srv_pid" && for k in $(seq 100); do [ -s "$tmp/serve.rc" ] && break; sleep 0.1; done &&
	[ "$(cat "$tmp/serve.rc")" = 0 ] && ! grep -E 'Sanitizer|runtime error' "$tmp/serve.log" &&
	rm -f "$tmp/serve.pid" "$tmp/serve.rc"
}
