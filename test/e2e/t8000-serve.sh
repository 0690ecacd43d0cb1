#!/usr/bin/env bash
# `tarn serve` with curl: every endpoint's happy path, JSON and CSV results,
# time travel over HTTP, the role matrix, a reader's refusals (each 403 and
# the lake unchanged), a body over the limit, a slow client that does not
# block others, and SIGTERM letting a running query finish.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-serve.sh"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
"$TARN" init -q "$lake" &&
"$TARN" --lake "$lake" sql -c "CREATE TABLE t AS SELECT range AS i, 'v' || range AS s FROM range(5)" >/dev/null &&
{ echo "# hash name role"; echo "$("$TARN" serve --hash-token r-secret-1) ana reader";
  echo "$("$TARN" serve --hash-token w-secret-2) bob writer"; echo "$("$TARN" serve --hash-token a-secret-3) cy admin"; } >"$tmp/tokens"
start_server --threads 4 --max-body-kb 16

test_ok 'the server answers /v1/health' <<'EOF_'
	for k in $(seq 100); do curl -s "$url/v1/health" >/dev/null && break; sleep 0.1; done &&
	[ "$(call "" GET /v1/health)" = 200 ] && jq_py 'd["status"] == "ok"'
EOF_

test_ok 'queries: JSON with types, CSV, a row cap, time travel' <<'EOF_'
	[ "$(call r-secret-1 POST /v1/query '{"sql": "SELECT i, s FROM t ORDER BY i", "limit": 3}')" = 200 ] &&
	jq_py 'd["columns"] == [{"name": "i", "type": "BIGINT"}, {"name": "s", "type": "VARCHAR"}] and d["rows"] == [[0, "v0"], [1, "v1"], [2, "v2"]] and d["truncated"]' &&
	curl -s -H "Authorization: Bearer r-secret-1" -H "Accept: text/csv" -d '{"sql": "SELECT i, s || $$,x$$ AS s FROM t WHERE i < 2 ORDER BY i"}' "$url/v1/query" >"$tmp/out.csv" &&
	[ "$(cat "$tmp/out.csv" | tr -d '\r')" = 'i,s
0,"v0,x"
1,"v1,x"' ] &&
	[ "$(call w-secret-2 POST /v1/query '{"sql": "DELETE FROM t WHERE i >= 3"}')" = 200 ] &&
	v=$(( $(snaps) - 2 )) &&
	[ "$(call r-secret-1 POST /v1/query "{\"sql\": \"SELECT count(*) AS n FROM t AT (VERSION => $v)\"}")" = 200 ] &&
	jq_py 'd["rows"] == [[5]]' &&
	[ "$(call r-secret-1 POST /v1/query '{"sql": "SELECT count(*) AS n FROM t"}')" = 200 ] && jq_py 'd["rows"] == [[3]]'
EOF_

test_ok 'catalog endpoints, OpenAPI, docs and metrics' <<'EOF_'
	[ "$(call r-secret-1 GET /v1/tables)" = 200 ] && jq_py '[r[1] for r in d["rows"]] == ["t"]' &&
	[ "$(call r-secret-1 GET /v1/snapshots)" = 200 ] && jq_py 'len(d["rows"]) >= 3' &&
	[ "$(call r-secret-1 GET /v1/tables/main.t)" = 200 ] && jq_py '[r[3] for r in d["rows"]] == ["i", "s"]' &&
	[ "$(call r-secret-1 GET /v1/tables/main.t/snapshots)" = 200 ] && jq_py 'len(d["rows"]) >= 2' &&
	[ "$(call r-secret-1 GET "/v1/tables/main.t'%20OR%20'1")" = 404 ] &&
	[ "$(call r-secret-1 GET /v1/tables/main.nosuch)" = 404 ] &&
	[ "$(call r-secret-1 GET /v1/datasets)" = 200 ] && jq_py 'd["versions"] == []' &&
	[ "$(call "" GET /v1/datasets)" = 401 ] &&
	[ "$(call "" GET /openapi.json)" = 200 ] && jq_py 'd["openapi"].startswith("3.") and "/v1/query" in d["paths"]' &&
	[ "$(call "" GET /docs)" = 200 ] && grep -q "openapi.json" "$tmp/body" &&
	[ "$(call "" GET /metrics)" = 200 ] && grep -q '^tarn_queries_total [1-9]' "$tmp/body" &&
	[ "$(call r-secret-1 GET /v1/nope)" = 404 ] && jq_py 'd["error"]["code"] == "not_found"' &&
	[ "$(call r-secret-1 GET /v1/query)" = 405 ]
EOF_

test_ok 'the role matrix' <<'EOF_'
	for row in "|GET|/v1/tables|401" "bad-token|GET|/v1/tables|401" "r-secret-1|GET|/v1/tables|200" \
		"w-secret-2|GET|/v1/tables|200" "a-secret-3|GET|/v1/snapshots|200" "|POST|/v1/query|401" \
		"r-secret-1|POST|/v1/query|200" "w-secret-2|POST|/v1/query|200" "a-secret-3|POST|/v1/query|200"; do
		IFS='|' read -r tok m p want <<<"$row"
		got=$(call "$tok" "$m" "$p" '{"sql": "SELECT 1 AS x"}')
		[ "$got" = "$want" ] || { echo "$tok $m $p: $got, wanted $want"; exit 1; }
	done &&
	for row in "r-secret-1|403" "w-secret-2|200" "a-secret-3|200"; do
		IFS='|' read -r tok want <<<"$row"
		got=$(call "$tok" POST /v1/query '{"sql": "INSERT INTO t VALUES (100, $$m$$)"}')
		[ "$got" = "$want" ] || { echo "$tok INSERT: $got, wanted $want"; exit 1; }
	done
EOF_

test_ok 'a reader cannot write, touch files or settings: 403 each, and the lake is unchanged' <<'EOF_'
	before=$(snaps) &&
	for sql in "INSERT INTO t VALUES (7, 'x')" "DELETE FROM t" "UPDATE t SET s = 'x'" "CREATE TABLE u (a INT)" \
		"DROP TABLE t" "COPY (SELECT 1) TO '$tmp/leak.csv'" "ATTACH '$tmp/other.db' AS o" "INSTALL httpfs" \
		"SELECT * FROM read_text('/etc/passwd')" "SELECT * FROM read_csv('/etc/passwd')" "SET threads = 1" \
		"SELECT 1; SELECT 2" "CALL tarn_set_commit_message('a', 'b')" "PRAGMA version" "EXPORT DATABASE '$tmp/ex'" \
		"SELECT * FROM glob('/etc/*')"; do
		body=$(python3 -c 'import json,sys; print(json.dumps({"sql": sys.argv[1]}))' "$sql")
		got=$(call r-secret-1 POST /v1/query "$body")
		[ "$got" = 403 ] || { echo "reader ran: $sql -> $got"; cat "$tmp/body"; exit 1; }
	done &&
	[ "$(snaps)" = "$before" ] && [ ! -e "$tmp/leak.csv" ] && [ ! -e "$tmp/other.db" ] && [ ! -e "$tmp/ex" ] &&
	! grep -q "r-secret-1\|w-secret-2" "$tmp/serve.log"
EOF_

test_ok 'a body over the limit is refused with 413; a bad body with 400' <<'EOF_'
	big=$(python3 -c 'import json; print(json.dumps({"sql": "SELECT 1 -- " + "x" * 40000}))') &&
	[ "$(call w-secret-2 POST /v1/query "$big")" = 413 ] &&
	[ "$(call w-secret-2 POST /v1/query 'not json')" = 400 ] &&
	[ "$(call w-secret-2 POST /v1/query '{"sql": "SELECT nosuch FROM t"}')" = 400 ] && jq_py '"nosuch" in d["error"]["message"]'
EOF_

test_ok 'a slow client holding a connection does not block others' <<'EOF_'
	python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"sql\"")
time.sleep(3)
' "$port" &
	slow=$! && sleep 0.3 &&
	for k in 1 2 3 4 5 6; do [ "$(call r-secret-1 POST /v1/query '{"sql": "SELECT 42 AS x"}')" = 200 ] || exit 1; done &&
	kill $slow 2>/dev/null; wait $slow 2>/dev/null; true
EOF_

test_ok 'SIGTERM lets a running query finish, then the server exits 0' <<'EOF_'
	pid=$srv_pid &&
	{ curl -s -o "$tmp/slow.json" -w '%{http_code}' -H "Authorization: Bearer r-secret-1" \
		-d '{"sql": "SELECT count(*) AS n FROM range(400000000) r(x) WHERE x % 7 = 3"}' "$url/v1/query" >"$tmp/slow.code" & } &&
	q=$! && sleep 0.3 && kill -TERM "$pid" && wait $q &&
	[ "$(cat "$tmp/slow.code")" = 200 ] && grep -q '"rows":\[\[57142857\]\]' "$tmp/slow.json" &&
	for k in $(seq 100); do [ -s "$tmp/serve.rc" ] && break; sleep 0.1; done &&
	[ "$(cat "$tmp/serve.rc")" = 0 ] && grep -q "finishing requests in flight" "$tmp/serve.log"
EOF_

test_ok 'without tokens: loopback only, with a warning' <<'EOF_'
	tarn 1 serve --host 0.0.0.0 --port "$port" && expect_err_has "only listens on 127.0.0.1" &&
	tarn 2 serve --port 0 && tarn 1 serve --tokens "$tmp/nonexistent" --port "$port" && expect_err_has "tokens file"
EOF_

test_done
