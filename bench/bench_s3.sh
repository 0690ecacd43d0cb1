#!/usr/bin/env bash
# S3 benchmarks, run by hand (not in CI), against s3rver on loopback:
#  1. upload/download throughput of tarn's S3 client vs the curl command line
#     (test/tools/s3-throughput.sh; goal >= 0.9x);
#  2. a scan of a lake table on S3, cold (empty cache) and warm, vs the same
#     table in a lake on local disk, as ratios.
#   bash bench/bench_s3.sh [ROWS] [MB]
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
export TARN=${TARN:-$here/build/tarn}
export TARN_STORE_CLI=${TARN_STORE_CLI:-$here/build/test/tools/tarn-store-cli}
rows=${1:-5000000}
mb=${2:-100}

bash "$here/test/tools/s3-throughput.sh" "$mb" 3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tarn-bench-s3.XXXXXX")
. "$here/test/tools/lib-s3.sh"
s3_need
start_s3
export S3_ENDPOINT="http://127.0.0.1:$S3PORT"   # no fault proxy in the way
now() { date +%s.%N; }
q="SELECT g, count(*), sum(v) FROM t WHERE id % 7 = 0 GROUP BY g ORDER BY g"
mk="CREATE TABLE t AS SELECT i AS id, CAST(i % 1000 AS INTEGER) AS g, random() AS v FROM range($rows) r(i)"

"$TARN" init -q "$tmp/local" && "$TARN" --lake "$tmp/local" sql -c "$mk" >/dev/null
"$TARN" init -q --data "s3://$BUCKET/bench/" "$tmp/s3" && "$TARN" --lake "$tmp/s3" sql -c "$mk" >/dev/null

best_local=999
for k in 1 2 3; do
	a=$(now); "$TARN" --lake "$tmp/local" sql -c "$q" >/dev/null; b=$(now)
	best_local=$(python3 -c "print(min($best_local, $b - $a))")
done
rm -rf "$TARN_CACHE_DIR"
a=$(now); "$TARN" --lake "$tmp/s3" sql -c "$q" >/dev/null; b=$(now)
cold=$(python3 -c "print($b - $a)")
best_warm=999
for k in 1 2 3; do
	a=$(now); "$TARN" --lake "$tmp/s3" sql -c "$q" >/dev/null; b=$(now)
	best_warm=$(python3 -c "print(min($best_warm, $b - $a))")
done
python3 -c "print(f'scan of {$rows} rows on S3: cold/local = {$cold/$best_local:.2f}, warm/local = {$best_warm/$best_local:.2f}')"
