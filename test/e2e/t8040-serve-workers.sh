#!/usr/bin/env bash
# `tarn serve` under long queries: with every worker held by a query that
# runs to its time limit, /v1/health, /metrics and the catalog still answer
# at once (each connection has its own thread; only the --threads workers
# are shared); a query that finds no free worker within --queue-timeout
# gets a 503 "busy" with Retry-After and changes nothing, and one that
# waits less runs when a worker comes back. An upload loaded over HTTP
# carries the uploader as the snapshot's author, and its raw version names
# the uploader as its source, not the server's staging folder.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-serve.sh"
export TMPDIR="$tmp/srvtmp"
mkdir -p "$TMPDIR"
long='{"sql": "SELECT count(*) FROM range(100000000000) a"}'
# bg NAME TOKEN BODY: POST /v1/query in the background; status, seconds and body in $tmp/NAME.*
bg() {
	curl -s -o "$tmp/$1.body" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $2" -d "$3" \
		"$url/v1/query" >"$tmp/$1.out" &
	bg_pids="${bg_pids:-} $!"
}
# (a plain `wait` would wait for the server too)
bg_wait() { wait $bg_pids; bg_pids=; }
# quick SECONDS TOKEN METHOD PATH: answered 200 within SECONDS (the body goes to $tmp/body)
quick() {
	local out
	out=$(curl -s -o "$tmp/body" -w '%{http_code} %{time_total}' ${2:+-H "Authorization: Bearer $2"} -X "$3" "$url$4")
	echo "$4: $out"
	python3 -c "import sys; c, t = sys.argv[1].split(); sys.exit(0 if c == '200' and float(t) < $1 else 1)" "$out"
}

"$TARN" init -q "$lake" &&
"$TARN" --lake "$lake" sql -c "CREATE TABLE t AS SELECT range AS i FROM range(3)" >/dev/null &&
{ echo "$("$TARN" serve --hash-token r-1) ana reader"; echo "$("$TARN" serve --hash-token w-2) bob writer"; } >"$tmp/tokens"
printf 'id,name\n1,apple\n2,pear\n' >"$tmp/fruit.csv"
start_server --threads 2 --timeout 20 --queue-timeout 1
before=$(snaps)

bg l1 r-1 "$long"
bg l2 r-1 "$long"
sleep 0.7
test_ok 'a query that finds no free worker in --queue-timeout gets 503 busy with Retry-After' <<'EOF_'
	code=$(curl -s -D "$tmp/hdr" -o "$tmp/body" -w '%{http_code}' -H 'Authorization: Bearer w-2' \
		-d '{"sql": "INSERT INTO t VALUES (42)"}' "$url/v1/query") &&
	[ "$code" = 503 ] && jq_py 'd["error"]["code"] == "busy" and "--threads" in d["error"]["message"]' &&
	grep -qi '^retry-after: 1' "$tmp/hdr" &&
	[ "$(call "" GET /metrics)" = 200 ] && grep -q '^tarn_busy_total 1$' "$tmp/body" &&
	[ "$(snaps)" = "$before" ]
EOF_

test_ok 'with both workers held by long queries, health, metrics and the catalog answer at once' <<'EOF_'
	quick 0.5 "" GET /metrics && grep '^tarn_workers_busy 2$' "$tmp/body" &&
	quick 0.5 "" GET /v1/health &&
	quick 1 r-1 GET /v1/tables && jq_py '"t" in json.dumps(d)' &&
	quick 1 r-1 GET /v1/snapshots &&
	quick 0.5 "" GET /openapi.json
EOF_

bg_wait
test_ok 'the long queries end at the time limit (504) and free their workers' <<'EOF_'
	[ "$(cut -d' ' -f1 "$tmp/l1.out")" = 504 ] && [ "$(cut -d' ' -f1 "$tmp/l2.out")" = 504 ] &&
	[ "$(call r-1 POST /v1/query '{"sql": "SELECT count(*) AS n FROM t"}')" = 200 ] && jq_py 'd["rows"] == [[3]]' &&
	[ "$(call "" GET /metrics)" = 200 ] && grep -q '^tarn_workers_busy 0$' "$tmp/body"
EOF_

# A server with one worker and a long queue: a query waits for the worker
# held by a long query, and runs when the time limit frees it.
test_ok 'the first server stops on SIGTERM, exit 0' 'stop_server'
start_server --threads 1 --timeout 2 --queue-timeout 60
bg l3 r-1 "$long"
sleep 0.5
test_ok 'a query waiting less than --queue-timeout runs once a worker is back' <<'EOF_'
	[ "$(call r-1 POST /v1/query '{"sql": "SELECT 7 AS x"}')" = 200 ] && jq_py 'd["rows"] == [[7]]' &&
	for k in $(seq 50); do [ -s "$tmp/l3.out" ] && break; sleep 0.1; done &&
	[ "$(cut -d' ' -f1 "$tmp/l3.out")" = 504 ]
EOF_
bg_wait
test_ok 'an upload loaded over HTTP: the uploader is the author and the source' <<'EOF_'
	[ "$(curl -s -o "$tmp/body" -w '%{http_code}' -H 'Authorization: Bearer w-2' --data-binary @"$tmp/fruit.csv" \
		"$url/v1/datasets/fruit/files?filename=fruit.csv&load=bronze.fruit")" = 201 ] &&
	[ "$("$TARN" --lake "$lake" sql --format csv -c "SELECT author FROM tarn_snapshots() ORDER BY snapshot_id DESC LIMIT 1" | tail -1)" = bob ] &&
	"$TARN" --lake "$lake" ingest ls --format csv >"$tmp/ls" && grep '^fruit,' "$tmp/ls" | grep -q 'http upload by bob' &&
	! grep -q 'srvtmp' "$tmp/ls"
EOF_

test_ok 'SIGTERM: the server exits 0, with no sanitizer report' <<'EOF_'
	stop_server
EOF_
srv_pid=
test_done
