#!/usr/bin/env bash
# `tarn serve` hardening beyond the reader's sandbox: a writer's DuckDB is
# the lake's, not the host's (no files outside the lake, no ATTACH, no
# settings), a writer's session state does not reach the next caller, the
# row cap bounds memory and not only the answer, the access log cannot be
# forged, a stranger's body is not read, and a thousand idle sockets from
# one address do not lock the others out.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-serve.sh"
export TMPDIR="$tmp/srvtmp"
mkdir -p "$TMPDIR"
# q TOKEN SQL [curl args...]: POST /v1/query, prints the status; the body goes to $tmp/body.
q() {
	local tok=$1 body
	body=$(python3 -c 'import json,sys; print(json.dumps({"sql": sys.argv[1]}))' "$2"); shift 2
	curl -s -o "$tmp/body" -w '%{http_code}' ${tok:+-H "Authorization: Bearer $tok"} -d "$body" "$@" "$url/v1/query"
}
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

"$TARN" init -q "$lake" &&
"$TARN" --lake "$lake" sql -c "CREATE TABLE t AS SELECT range AS i FROM range(5)" >/dev/null &&
{ echo "$("$TARN" serve --hash-token r-1) ana reader"; echo "$("$TARN" serve --hash-token w-2) bob writer"; } >"$tmp/tokens"
# One worker thread: every request meets the same sessions.
start_server --threads 1 --max-body-kb 16

test_ok 'a writer cannot read or write files outside the lake, attach, install or change settings' <<'EOF_'
	before=$(snaps) && echo secret >"$tmp/outside.txt" &&
	for sql in "SELECT * FROM read_text('$tmp/outside.txt')" "SELECT * FROM read_csv('/etc/passwd')" \
		"COPY (SELECT 42) TO '$tmp/written.csv'" "COPY t TO '$tmp/written.parquet'" \
		"COPY (SELECT 1) TO '$lake/catalog.sqlite' (FORMAT csv)" "EXPORT DATABASE '$tmp/exported'" \
		"ATTACH '$tmp/attached.duckdb' AS x" "INSTALL httpfs" "LOAD httpfs" "SET threads = 1" \
		"SET enable_external_access = true" "PRAGMA threads = 1" "INSERT INTO t VALUES (9); SET threads = 1"; do
		got=$(q w-2 "$sql")
		[ "$got" = 403 ] || { echo "writer ran: $sql -> $got"; cat "$tmp/body"; exit 1; }
	done &&
	[ ! -e "$tmp/written.csv" ] && [ ! -e "$tmp/written.parquet" ] && [ ! -e "$tmp/exported" ] &&
	[ ! -e "$tmp/attached.duckdb" ] && [ "$(snaps)" = "$before" ] &&
	"$TARN" --lake "$lake" sql --format csv -c "SELECT count(*) FROM t" >"$tmp/n" && [ "$(tail -1 "$tmp/n")" = 5 ] &&
	[ "$(q w-2 "INSERT INTO t VALUES (5)")" = 200 ] && [ "$(q w-2 "DESCRIBE t")" = 200 ] &&
	[ "$(q w-2 "CALL tarn_set_commit_message('bob', 'six'); INSERT INTO t VALUES (6)")" = 200 ] &&
	[ "$(snaps)" = $((before + 2)) ]
EOF_

test_ok "a writer's DuckDB state does not reach the next request" <<'EOF_'
	q w-2 "CREATE TEMP MACRO lower(x) AS 'hijacked'" >/dev/null
	q w-2 "SET VARIABLE v = 'left over'" >/dev/null
	q w-2 "ATTACH ':memory:' AS m; USE m" >/dev/null
	for k in 1 2 3; do
		[ "$(q w-2 "SELECT lower('ABC') AS v, getvariable('v') AS g, count(*) AS n FROM t")" = 200 ] &&
		jq_py 'd["rows"] == [["abc", None, 7]]' || exit 1
	done
EOF_

test_ok 'the row cap bounds the memory of a result, not only the answer' <<'EOF_'
	rss0=$(kb "$srv_pid" VmRSS) &&
	[ "$(curl -s -o "$tmp/body" -w '%{http_code}' -H 'Authorization: Bearer r-1' -d '{"sql": "SELECT range AS i FROM range(40000000)", "limit": 2}' "$url/v1/query")" = 200 ] &&
	jq_py 'd["rows"] == [[0], [1]] and d["truncated"]' &&
	hwm=$(kb "$srv_pid" VmHWM) &&
	echo "RSS before ${rss0} kB, peak ${hwm} kB" &&
	[ $(( hwm - rss0 )) -lt 150000 ]
EOF_

test_ok 'the access log cannot be forged with encoded newlines or escapes' <<'EOF_'
	curl -s -o /dev/null "$url/v1/nope%0aPOST%20/v1/query%20200%201.0ms%20admin" &&
	curl -s -o /dev/null -H 'Authorization: Bearer r-1' "$url/v1/tables/main.t%1b%5b31m" &&
	sleep 0.2 &&
	! grep -q '^POST /v1/query 200 1.0ms admin' "$tmp/serve.log" &&
	! grep -q "$(printf '\033')" "$tmp/serve.log" &&
	grep -q 'nope\\x0aPOST' "$tmp/serve.log"
EOF_

test_ok "a stranger's body and one declared over the limit are not read" <<'EOF_'
	head -c 100000000 /dev/zero >"$tmp/big" &&
	out=$(curl -s -o "$tmp/body" -w '%{http_code} %{size_upload}' -H 'Expect:' --data-binary @"$tmp/big" "$url/v1/query") &&
	echo "stranger: $out" && [ "${out% *}" = 401 ] && [ "${out#* }" -lt 50000000 ] &&
	out=$(curl -s -o "$tmp/body" -w '%{http_code} %{size_upload}' -H 'Expect:' -H 'Authorization: Bearer r-1' \
		--data-binary @"$tmp/big" "$url/v1/query"; true) &&
	echo "reader: $out" && [ "${out#* }" -lt 50000000 ] &&
	# the 413 is sent, then the connection closed unread: a client still
	# sending may see the reset (code 000) before it reads the answer
	{ [ "${out% *}" = 413 ] || [ "${out% *}" = 000 ]; } &&
	out=$(curl -s -o "$tmp/body" -w '%{http_code}' -H 'Authorization: Bearer r-1' --data-binary @"$tmp/big" \
		"$url/v1/query") && echo "reader with Expect: 100-continue: $out" && [ "$out" = 413 ] &&
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/health")" = 200 ]
EOF_

test_ok 'a thousand idle sockets from one address do not lock other callers out' <<'EOF_'
	python3 - "$port" "$url" <<'PY'
import socket, subprocess, sys, time
port, url = int(sys.argv[1]), sys.argv[2]
held = []
for i in range(1100):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        break
    held.append(s)
time.sleep(0.5)
r = subprocess.run(["curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", url + "/v1/health"],
                   capture_output=True, text=True)
print("held", len(held), "sockets from 127.0.0.2; /v1/health from 127.0.0.1:", r.stdout)
for s in held:
    s.close()
sys.exit(0 if r.stdout == "200" else 1)
PY
EOF_

test_ok 'SIGTERM: the server exits 0, with no sanitizer report' <<'EOF_'
	stop_server
EOF_
srv_pid=
test_done
