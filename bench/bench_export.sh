#!/usr/bin/env bash
# Export benchmark (run by hand, not in CI): `tarn export dataset` of one
# large table (DuckDB COPY to Parquet, then SHA-256, manifest, rename)
# against DuckDB's own COPY ... TO parquet of the same table's files, in the
# same run. Prints the ratio of the best of 5 runs each.
#   bash bench/bench_export.sh [ROWS]   (default 10,000,000; goal <= 1.10)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
TARN=${TARN:-$here/build/tarn}
ROWS=${1:-10000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
export TARN_LAKE="$tmp/lake"

"$TARN" init -q "$tmp/lake"
"$TARN" sql -c "CREATE SCHEMA big" -c "CREATE TABLE big.t (id BIGINT, g INTEGER, v DOUBLE, s VARCHAR, d DATE)" \
	-c "COMMENT ON TABLE big.t IS 'benchmark table'" -c "COMMENT ON COLUMN big.t.v IS 'a random value'" >/dev/null
"$TARN" sql -c "INSERT INTO big.t SELECT i, CAST(i % 1000 AS INTEGER), random(), 'row' || (i % 97), DATE '2020-01-01' + CAST(i % 3650 AS INTEGER) FROM range($ROWS) r(i)" >/dev/null
# The table's data files (schema and table folders are their names here).
files="'$tmp/lake/data/big/t/*.parquet'"

# the best time of 5 runs of a command (the machines are shared: best, not mean)
best() {
	local b=999 a z
	for k in 1 2 3 4 5; do
		a=$(now); "$@" >/dev/null; z=$(now)
		b=$(python3 -c "print(min($b, $z - $a))")
	done
	echo "$b"
}
duck() { "$TARN" sql -c "COPY (SELECT * FROM read_parquet([$files])) TO '$tmp/plain.parquet' (FORMAT parquet)"; }
exp() { "$TARN" export dataset bench big; }

duck_t=$(best duck)
tarn_t=$(best exp)
size=$(stat -c %s "$tmp/plain.parquet")
printf 'export of %s rows (%s MB of Parquet): tarn %.2fs, duckdb COPY %.2fs, tarn/duckdb = %s  (goal <= 1.10)\n' \
	"$ROWS" "$((size / 1000000))" "$tarn_t" "$duck_t" "$(python3 -c "print(f'{$tarn_t/$duck_t:.2f}')")"
