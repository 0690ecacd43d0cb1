#!/usr/bin/env bash
# bench_serve.sh: `tarn serve` under wrk on loopback. Queries per second
# and p99 latency of a small query at 1, 8 and 64 connections, compared
# with the same query run in-process (plain DuckDB, and a tarn session)
# as a ratio of per-query time; 10 MB uploads (MB/s); the server's RSS
# sampled every second over the whole run. Run by hand, not in CI:
#   bench/bench_serve.sh                 # ~30 s of load (DUR=30)
#   DUR=600 CONNS=8 bench/bench_serve.sh # the 10-minute memory check: one
#                                        # load level, RSS by minute
# CONNS (default "1 8 64") lists the connection counts; DUR is split among them.
# BUILD (default build-release or /tmp/b-srv) holds tarn and duck_sql.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$here/build-release}
[ -x "$BUILD/tarn" ] || BUILD=/tmp/b-srv
DUR=${DUR:-30}
THREADS=${THREADS:-8}
UPLOADS=${UPLOADS:-10}
CONNS=${CONNS:-1 8 64}
cmake --build "$BUILD" --target tarn duck_sql -j2 >/dev/null
TARN=$BUILD/tarn DUCK=$BUILD/duck_sql
command -v wrk >/dev/null || { echo "bench_serve: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
lake=$work/lake
setup="CREATE TABLE t AS SELECT range AS x, range % 10 AS k, 'row ' || range AS s FROM range(10000)"
query="SELECT k, count(*) AS n, sum(x) AS total FROM t WHERE x < 5000 GROUP BY k ORDER BY k"
"$TARN" init -q "$lake"
"$TARN" --lake "$lake" sql -c "$setup" >/dev/null

# In-process per-query time: N runs of the query after the setup, minus the setup alone.
N=2000
{ echo "$setup;"; for i in $(seq $N); do echo "$query;"; done; } >"$work/many.sql"
echo "$setup;" >"$work/one.sql"
duck_s=$(python3 -c "print(($("$DUCK" :memory: run "$work/many.sql") - $("$DUCK" :memory: run "$work/one.sql")) / $N)")
{ for i in $(seq $N); do echo "$query;"; done; } >"$work/q.sql"
t0=$(date +%s.%N); "$TARN" --lake "$lake" sql -f "$work/q.sql" >/dev/null; t1=$(date +%s.%N)
"$TARN" --lake "$lake" sql -c "SELECT 1" >/dev/null; t2=$(date +%s.%N)
tarn_s=$(python3 -c "print((($t1 - $t0) - ($t2 - $t1)) / $N)")

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$TARN" --lake "$lake" serve -q --port "$port" --threads "$THREADS" --max-upload-mb 64 2>"$work/serve.log" &
srv=$!
for k in $(seq 100); do curl -s "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
( while kill -0 "$srv" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$srv/status" 2>/dev/null; sleep 1; done ) >"$work/rss" &

python3 -c 'import json,sys; print("wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = " + json.dumps(json.dumps({"sql": sys.argv[1]})))' "$query" >"$work/q.lua"
nconns=$(echo $CONNS | wc -w)
phase=$(( DUR / nconns > 1 ? DUR / nconns : 1 ))
printf '%-12s %10s %10s %10s %14s %14s\n' connections qps p50_ms p99_ms "ratio/duckdb" "ratio/session"
for c in $CONNS; do
	wrk -t $(( c < 4 ? c : 4 )) -c "$c" -d "${phase}s" --latency -s "$work/q.lua" "http://127.0.0.1:$port/v1/query" >"$work/wrk.$c"
	python3 - "$work/wrk.$c" "$c" "$duck_s" "$tarn_s" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(v, u): return float(v) * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
qps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = ms(*re.search(r"50%\s+([\d.]+)(us|ms|s)", t).groups())
p99 = ms(*re.search(r"99%\s+([\d.]+)(us|ms|s)", t).groups())
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
c = int(sys.argv[2]); per = c / qps   # seconds per query per connection
print("%-12d %10.0f %10.2f %10.2f %14.1f %14.1f%s" % (c, qps, p50, p99, per / float(sys.argv[3]),
      per / float(sys.argv[4]), "  (%s errors)" % errs.group(1) if errs else ""))
PY
done
echo "in-process per query: duckdb $(python3 -c "print('%.3f ms' % ($duck_s * 1e3))"), tarn session $(python3 -c "print('%.3f ms' % ($tarn_s * 1e3))")"

head -c $(( 10 * 1024 * 1024 )) /dev/urandom >"$work/up.bin"
t0=$(date +%s.%N)
for i in $(seq "$UPLOADS"); do
	code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$work/up.bin" \
		"http://127.0.0.1:$port/v1/datasets/bench_up/files?filename=up.bin")
	[ "$code" = 201 ] || { echo "upload $i: $code" >&2; exit 1; }
done
t1=$(date +%s.%N)
python3 -c "d = $t1 - $t0; print('uploads: %d x 10 MB in %.2f s: %.0f MB/s, %.0f ms each' % ($UPLOADS, d, $UPLOADS * 10 / d, d / $UPLOADS * 1e3))"
kill "$srv"; wait "$srv" 2>/dev/null || true; srv=
python3 - "$work/rss" <<'PY'
import sys
v = [int(x) for x in open(sys.argv[1]).read().split()]
if v:
    q = len(v) // 4 or 1
    print("RSS (MB) over %d s: first %.0f, max %.0f, last %.0f; mean of first quarter %.0f, of last quarter %.0f"
          % (len(v), v[0] / 1024, max(v) / 1024, v[-1] / 1024, sum(v[:q]) / q / 1024, sum(v[-q:]) / q / 1024))
    if len(v) >= 120:
        print("RSS (MB) by minute: " + " ".join("%.0f" % (sum(v[i:i + 60]) / len(v[i:i + 60]) / 1024)
                                                for i in range(0, len(v), 60)))
PY
