#!/usr/bin/env bash
# `tarn serve` queries beyond the basics: params bound through DuckDB's
# parse tree (injection stays a value), "at" pinning a whole query to a
# snapshot (version and timestamp), Parquet and CSV results read back, the
# row cap on a streamed result, the per-query time limit (504, nothing
# changed), transactions that may not outlive a request, exports, the
# author of a commit, maintenance statements and Parquet refused to
# readers, and the role matrix over these endpoints.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-serve.sh"
export TMPDIR="$tmp/srvtmp"
mkdir -p "$TMPDIR"
# q TOKEN BODY [curl args...]: POST /v1/query, prints the status; the body goes to $tmp/body.
q() {
	local tok=$1 body=$2; shift 2
	curl -s -o "$tmp/body" -w '%{http_code}' ${tok:+-H "Authorization: Bearer $tok"} -d "$body" "$@" "$url/v1/query"
}

"$TARN" init -q "$lake" &&
"$TARN" --lake "$lake" sql -c "CREATE SCHEMA gold; CREATE TABLE gold.t AS SELECT range AS i, 'v' || range AS s FROM range(5)" >/dev/null &&
sleep 1.1 && v1=$(( $(snaps) - 1 )) && t1=$(date -u '+%Y-%m-%d %H:%M:%S') && sleep 1.1 &&
"$TARN" --lake "$lake" sql -c "DELETE FROM gold.t WHERE i >= 3" >/dev/null &&
{ echo "$("$TARN" serve --hash-token r-1) ana reader"; echo "$("$TARN" serve --hash-token w-2) bob writer";
  echo "$("$TARN" serve --hash-token a-3) cy admin"; } >"$tmp/tokens"
start_server --timeout 1 --max-rows 1000

test_ok 'params: positional, ?, named; a quote stays a value; a missing one is a 400' <<'EOF_'
	[ "$(q r-1 '{"sql": "SELECT s FROM gold.t WHERE i >= $1 AND s <> $2 ORDER BY i", "params": [1, "v2"]}')" = 200 ] &&
	jq_py 'd["rows"] == [["v1"]]' &&
	[ "$(q r-1 '{"sql": "SELECT ? AS a, ? AS b, ? AS c", "params": ["x'"'"' OR 1=1 --", 2.5, null]}')" = 200 ] &&
	jq_py 'd["rows"] == [["x'"'"' OR 1=1 --", 2.5, None]]' &&
	[ "$(q r-1 '{"sql": "SELECT count(*) AS n FROM gold.t WHERE s = $name", "params": {"name": "v0"}}')" = 200 ] &&
	jq_py 'd["rows"] == [[1]]' &&
	[ "$(q r-1 '{"sql": "SELECT $1 + $2 AS n", "params": [1]}')" = 400 ] && jq_py '"$2" in d["error"]["message"]' &&
	[ "$(q r-1 '{"sql": "SELECT $1 AS n", "params": [[1]]}')" = 400 ] &&
	[ "$(q w-2 '{"sql": "DELETE FROM gold.t WHERE i = $1", "params": [0]}')" = 400 ]
EOF_

test_ok '"at" reads every table at a version or a timestamp; an own AT clause wins' <<'EOF_'
	[ "$(q r-1 "{\"sql\": \"SELECT count(*) AS n FROM gold.t\", \"at\": {\"version\": $v1}}")" = 200 ] && jq_py 'd["rows"] == [[5]]' &&
	[ "$(q r-1 "{\"sql\": \"WITH x AS (SELECT * FROM gold.t) SELECT count(*) AS n FROM x\", \"at\": {\"timestamp\": \"$t1\"}}")" = 200 ] &&
	jq_py 'd["rows"] == [[5]]' &&
	[ "$(q r-1 '{"sql": "SELECT count(*) AS n FROM gold.t"}')" = 200 ] && jq_py 'd["rows"] == [[3]]' &&
	[ "$(q r-1 "{\"sql\": \"SELECT (SELECT count(*) FROM gold.t) AS a, (SELECT count(*) FROM gold.t AT (VERSION => $(( v1 + 1 )))) AS b\", \"at\": {\"version\": $v1}}")" = 200 ] &&
	jq_py 'd["rows"] == [[5, 3]]' &&
	[ "$(q r-1 '{"sql": "SELECT * FROM gold.t", "at": {"version": 999}}')" = 400 ] &&
	[ "$(q r-1 '{"sql": "SELECT 1", "at": {"version": "x"}}')" = 400 ] &&
	[ "$(q r-1 '{"sql": "SELECT * FROM gold.t", "at": {"timestamp": "1999-01-01"}}')" = 400 ] &&
	[ "$(q r-1 '{"sql": "SELECT 1", "at": {"version": 1, "timestamp": "2020-01-01"}}')" = 400 ]
EOF_

test_ok 'Parquet and CSV results read back' <<'EOF_'
	[ "$(q r-1 '{"sql": "SELECT i, s FROM gold.t ORDER BY i"}' -H 'Accept: application/vnd.apache.parquet')" = 200 ] && mv "$tmp/body" "$tmp/r.parquet" &&
	[ "$(head -c 4 "$tmp/r.parquet")" = PAR1 ] &&
	[ "$("$TARN" --lake "$lake" sql --format csv -c "SELECT string_agg(s, '|' ORDER BY i) FROM read_parquet('$tmp/r.parquet')" | tail -1)" = 'v0|v1|v2' ] &&
	[ "$(q w-2 '{"sql": "SELECT range AS x FROM range(5000)", "limit": 10}' -H 'Accept: application/vnd.apache.parquet')" = 200 ] && mv "$tmp/body" "$tmp/w.parquet" &&
	[ "$("$TARN" --lake "$lake" sql --format csv -c "SELECT count(*) FROM read_parquet('$tmp/w.parquet')" | tail -1)" = 10 ] &&
	[ "$(q r-1 '{"sql": "SELECT i, s FROM gold.t ORDER BY i"}' -H 'Accept: text/csv')" = 200 ] && mv "$tmp/body" "$tmp/r.csv" &&
	[ "$("$TARN" --lake "$lake" sql --format csv -c "SELECT sum(i) FROM read_csv('$tmp/r.csv')" | tail -1)" = 3 ] &&
	[ -z "$(find "$TMPDIR" -name '*.parquet')" ]
EOF_

test_ok 'a streamed result is capped by the server and by "limit"' <<'EOF_'
	[ "$(q r-1 '{"sql": "SELECT range AS x, repeat($$y$$, 50) AS pad FROM range(50000)"}')" = 200 ] &&
	jq_py 'd["row_count"] == 1000 and d["truncated"] and d["rows"][-1][0] == 999' &&
	[ "$(q r-1 '{"sql": "SELECT range AS x FROM range(50000)", "limit": 7}')" = 200 ] && jq_py 'd["row_count"] == 7' &&
	[ "$(q r-1 '{"sql": "SELECT range AS x FROM range(50000)"}' -H 'Accept: text/csv')" = 200 ] && mv "$tmp/body" "$tmp/big.csv" &&
	[ "$(wc -l <"$tmp/big.csv")" = 1001 ]
EOF_

test_ok 'a query past the time limit is stopped (504) and changes nothing' <<'EOF_'
	before=$(snaps) &&
	[ "$(q r-1 '{"sql": "SELECT count(*) FROM range(100000000000) a"}')" = 504 ] && jq_py 'd["error"]["code"] == "timeout"' &&
	[ "$(q w-2 '{"sql": "INSERT INTO gold.t SELECT range, $$x$$ FROM range(100000000000)"}')" = 504 ] &&
	[ "$(snaps)" = "$before" ] &&
	[ "$(q r-1 '{"sql": "SELECT 1 AS one"}')" = 200 ] &&
	curl -s "$url/metrics" | grep -q '^tarn_query_timeouts_total 2$'
EOF_

test_ok 'writes carry the token name as author; a transaction cannot outlive its request' <<'EOF_'
	[ "$(q w-2 '{"sql": "INSERT INTO gold.t VALUES (10, $$w$$)"}')" = 200 ] &&
	[ "$("$TARN" --lake "$lake" sql --format csv -c "SELECT author FROM tarn_snapshots() ORDER BY snapshot_id DESC LIMIT 1" | tail -1)" = bob ] &&
	before=$(snaps) &&
	[ "$(q w-2 '{"sql": "BEGIN; INSERT INTO gold.t VALUES (11, $$t$$)"}')" = 400 ] && jq_py 'd["error"]["code"] == "open_transaction"' &&
	[ "$(snaps)" = "$before" ] &&
	for k in 1 2 3 4 5 6 7 8; do q w-2 '{"sql": "SELECT count(*) AS n FROM gold.t WHERE i = 11"}' >/dev/null; jq_py 'd["rows"] == [[0]]' || exit 1; done
EOF_

test_ok 'readers: maintenance statements, Parquet tricks and file reads are refused (403), nothing changes' <<'EOF_'
	before=$(snaps) &&
	for sql in "CHECKPOINT" "VACUUM" "CALL ducklake_expire_snapshots('lake', older_than => now())" \
		"SELECT * FROM read_text('/etc/passwd')" "SELECT * FROM read_parquet('$TMPDIR/*/rw/*.parquet')" \
		"SELECT 1) TO '$tmp/leak.csv' (FORMAT csv); SELECT (1"; do
		for accept in application/json application/vnd.apache.parquet; do
			body=$(python3 -c 'import json,sys; print(json.dumps({"sql": sys.argv[1]}))' "$sql")
			got=$(q r-1 "$body" -H "Accept: $accept")
			[ "$got" = 403 ] || { echo "reader ran: $sql ($accept) -> $got"; cat "$tmp/body"; exit 1; }
		done
	done &&
	[ "$(snaps)" = "$before" ] && [ ! -e "$tmp/leak.csv" ]
EOF_

test_ok 'exports: writers export, everyone with a token lists them' <<'EOF_'
	[ "$(call w-2 POST /v1/exports '{"domain": "sales", "schema": "gold", "format": "parquet"}')" = 201 ] &&
	jq_py 'd["dataset"] == "gold" and d["files"] == 1 and d["rows"] == 4' &&
	[ "$(call r-1 GET /v1/exports)" = 200 ] && jq_py 'len(d["exports"]) == 1 and d["exports"][0]["domain"] == "sales"' &&
	[ "$(call w-2 POST /v1/exports '{"domain": "../x", "schema": "gold"}')" = 400 ] &&
	[ "$(call w-2 POST /v1/exports '{"domain": "sales", "schema": "nosuch"}')" = 404 ] &&
	[ "$(call w-2 POST /v1/exports 'nope')" = 400 ] && [ ! -e "$lake/x" ] && [ ! -e "$tmp/x" ]
EOF_

test_ok 'the role matrix over every endpoint' <<'EOF_'
	ds='{"domain": "m", "schema": "gold"}'
	for row in \
		"|GET|/v1/health|200" "|GET|/openapi.json|200" "|GET|/docs|200" "|GET|/metrics|200" \
		"|GET|/v1/tables|401" "|GET|/v1/tables/gold.t|401" "|GET|/v1/tables/gold.t/snapshots|401" "|GET|/v1/snapshots|401" \
		"|GET|/v1/datasets|401" "|GET|/v1/exports|401" "|POST|/v1/exports|401" "|POST|/v1/query|401" \
		"r-1|GET|/v1/tables|200" "r-1|GET|/v1/tables/gold.t|200" "r-1|GET|/v1/tables/gold.t/snapshots|200" \
		"r-1|GET|/v1/snapshots|200" "r-1|GET|/v1/datasets|200" "r-1|GET|/v1/exports|200" "r-1|POST|/v1/exports|403" \
		"r-1|POST|/v1/query|200" \
		"w-2|GET|/v1/tables|200" "w-2|GET|/v1/tables/gold.t|200" "w-2|GET|/v1/snapshots|200" "w-2|GET|/v1/datasets|200" \
		"w-2|GET|/v1/exports|200" "w-2|POST|/v1/exports|201" "w-2|POST|/v1/query|200" \
		"a-3|GET|/v1/tables|200" "a-3|GET|/v1/tables/gold.t/snapshots|200" "a-3|GET|/v1/exports|200" \
		"a-3|POST|/v1/exports|201" "a-3|POST|/v1/query|200"; do
		IFS='|' read -r tok m p want <<<"$row"
		body='{"sql": "SELECT 1 AS x"}'; [ "$p" = /v1/exports ] && body=$ds
		got=$(call "$tok" "$m" "$p" "$body")
		[ "$got" = "$want" ] || { echo "$tok $m $p: $got, wanted $want"; cat "$tmp/body"; exit 1; }
	done &&
	[ "$(call r-1 GET /v1/tables/gold.t)" = 200 ] && jq_py '[r[3] for r in d["rows"]] == ["i", "s"] and d["rows"][0][-3] == 4' &&
	[ "$(call "" GET /openapi.json)" = 200 ] &&
	jq_py 'all(p in d["paths"] for p in ["/v1/query", "/v1/datasets/{name}/files", "/v1/exports", "/v1/tables/{table}/snapshots", "/v1/datasets", "/metrics", "/docs"])'
EOF_

kill "$srv_pid"; wait "$srv_pid" 2>/dev/null; srv_pid=
test_done
