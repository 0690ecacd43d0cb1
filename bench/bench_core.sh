#!/usr/bin/env bash
# Benchmarks of the core lake (run by hand, not in CI). Each compares tarn
# with DuckDB itself doing the same work in the same run and prints ratios.
#   bash bench/bench_core.sh [ROWS]   (default 10,000,000)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
TARN=${TARN:-$here/build/tarn}
ROWS=${1:-10000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

"$TARN" init "$tmp/lake" >/dev/null
export TARN_LAKE="$tmp/lake"
"$TARN" sql -c "CREATE TABLE t (id BIGINT, g INTEGER, v DOUBLE, s VARCHAR)" >/dev/null
src="SELECT i AS id, CAST(i % 1000 AS INTEGER) AS g, random() AS v, 'row' || (i % 97) AS s FROM range($ROWS) r(i)"

# 1. bulk INSERT ... SELECT vs DuckDB COPY ... TO parquet
t0=$(now); "$TARN" sql -c "INSERT INTO t $src" >/dev/null; t1=$(now)
"$TARN" sql -c "COPY ($src) TO '$tmp/plain.parquet' (FORMAT parquet)" >/dev/null; t2=$(now)
ins=$(python3 -c "print($t1-$t0)"); cp=$(python3 -c "print($t2-$t1)")
echo "insert $ROWS rows: tarn/duckdb = $(ratio $ins $cp)  (goal <= 1.10)"

# 2. scan with filter and group-by vs read_parquet of the same files
files=$("$TARN" sql --format csv -c "SELECT string_agg('''' || path || '''', ',') FROM tarn_files('t')" | tail -1)
q="SELECT g, count(*), sum(v) FROM SRC WHERE id % 7 = 0 GROUP BY g ORDER BY g"
best() { local b=999; for k in 1 2 3; do local a=$(now); "$TARN" sql -c "$1" >/dev/null; local z=$(now); b=$(python3 -c "print(min($b, $z-$a))"); done; echo $b; }
lake_t=$(best "${q/SRC/t}")
dir=$("$TARN" sql --format csv -c "SELECT 1" >/dev/null; echo "$tmp/lake/data/main/t")
rep="read_parquet('$dir/*.parquet')"
duck_t=$(best "${q/SRC/$rep}")
echo "scan+filter+group-by: tarn/duckdb = $(ratio $lake_t $duck_t)  (goal <= 1.05)"

# 3. 1,000 single-row INSERT commits in one session vs DuckDB committing
#    the same inserts one by one into a database file
{ for i in $(seq 1 1000); do echo "INSERT INTO t VALUES ($i, 1, 1.0, 'x');"; done; } >"$tmp/small.sql"
t0=$(now); "$TARN" sql -f "$tmp/small.sql" >/dev/null; t1=$(now)
tarn_cps=$(python3 -c "print(f'{1000/($t1-$t0):.0f}')")
cmake --build "$here/build" --target duck_commits >/dev/null 2>&1
duck_cps=$("$here/build/duck_commits" "$tmp/duck.db" 1000)
echo "1000 single-row commits: tarn $tarn_cps commits/s (goal >= 1000), tarn/duckdb rate = $(ratio $tarn_cps $duck_cps)"

# 4. a selective filter over many files: tarn prunes by statistics, DuckDB
#    reads every footer of the glob
"$TARN" sql -c "CREATE TABLE m (id BIGINT, v DOUBLE)" >/dev/null
for k in $(seq 0 99); do echo "INSERT INTO m SELECT $k * 10000 + range, random() FROM range(10000);"; done >"$tmp/many.sql"
"$TARN" sql -f "$tmp/many.sql" >/dev/null
mq="SELECT count(*), sum(v) FROM SRC WHERE id BETWEEN 123000 AND 123999 AND id >= 123000 AND id <= 123999"
lake_t=$(best "${mq/SRC/m}")
rep="read_parquet('$tmp/lake/data/main/m/*.parquet')"
duck_t=$(best "${mq/SRC/$rep}")
echo "selective filter over 100 files: tarn/duckdb = $(ratio $lake_t $duck_t)  (below 1 = pruning pays)"
