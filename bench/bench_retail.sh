#!/usr/bin/env bash
# The retail example against DuckDB alone (run by hand, not in CI).
#   bash bench/bench_retail.sh [SCALE ...]      (default: 10; RUNS=3, BUILD=build)
# For each scale: `tarn gen retail`, landed and loaded into bronze; then,
# best of RUNS, whole-process wall times of
#   duckdb  a fresh DuckDB file with bronze as views over the same Parquet,
#           the seed, the project's SQL as `tarn compile` renders it, closed
#           (so its checkpoint, the durable write, is counted as tarn's
#           commits are);
#   run     `tarn run --full-refresh`: the same models as Parquet, a lake
#           commit per model and the run history;
#   duck+t  the DuckDB script above, then the query of every test
#           (`tarn compile --tests`);
#   build   `tarn build --full-refresh` of the models and the seed: the run
#           plus the seed and the project's 22 tests (the SCD2 snapshot,
#           which the DuckDB script has no counterpart for, is left out).
# The ratios are tarn / duckdb doing the same work (goal <= 1.15). The last lines split one run
# (TARN_TRACE_SQL) into the models' own SQL and everything else (catalog
# reads, commits, statistics, history), which is what the ratio pays for.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$here/build}
RUNS=${RUNS:-3}
TARN=$BUILD/tarn
cmake --build "$BUILD" --target tarn duck_sql >/dev/null
DUCK=$BUILD/duck_sql
proj=$here/examples/retail
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tarn-bench-retail.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
[ $# -gt 0 ] || set -- 10
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'; }
best() { sort -n | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
duck_once() { rm -f "$tmp/duck.db" "$tmp/duck.db.wal"; "$DUCK" "$tmp/duck.db" run "$tmp/${1:-all}.sql"; }

printf '%-6s %9s %9s %9s %8s %9s %9s %8s\n' scale sales duckdb_s run_s run/duck duck+t_s build_s build/d+t
for scale in "$@"; do
	rm -rf "$tmp/data" "$tmp/lake" "$tmp"/*.times
	"$TARN" -q gen retail --out "$tmp/data" --scale "$scale" >/dev/null
	"$TARN" init -q "$tmp/lake"
	export TARN_LAKE=$tmp/lake
	"$TARN" -q ingest dataset "$tmp/data" --name retail >/dev/null
	"$TARN" -q load retail
	{
		echo "CREATE SCHEMA bronze; CREATE SCHEMA silver; CREATE SCHEMA gold;"
		for t in customers stores products sales; do
			echo "CREATE VIEW bronze.$t AS SELECT * FROM read_parquet('$tmp/data/$t.parquet');"
		done
		echo "CREATE TABLE silver.regions AS SELECT * FROM read_csv('$proj/seeds/regions.csv', header = true);"
		"$TARN" -q compile --project "$proj"
	} >"$tmp/all.sql"
	{ cat "$tmp/all.sql"; "$TARN" -q compile --project "$proj" --tests | sed -n '/^-- test /,$p'; } >"$tmp/tests.sql"
	"$TARN" -q build --project "$proj" --threads 2 >/dev/null   # warm the page cache, make the seed
	for k in $(seq "$RUNS"); do
		secs duck_once >>"$tmp/duck.times"
		secs "$TARN" -q run --project "$proj" --threads 2 --full-refresh >>"$tmp/run.times"
		secs duck_once tests >>"$tmp/duckt.times"
		secs "$TARN" -q build --project "$proj" --threads 2 --full-refresh --select "path:models path:seeds" \
			>>"$tmp/build.times"
	done
	d=$(best <"$tmp/duck.times"); r=$(best <"$tmp/run.times"); b=$(best <"$tmp/build.times")
	dt=$(best <"$tmp/duckt.times")
	n=$("$TARN" sql --format csv -c "SELECT count(*) FROM bronze.sales" | tail -1)
	printf '%-6s %9s %9s %9s %8s %9s %9s %8s\n' "$scale" "$n" "$d" "$r" "$(ratio "$r" "$d")" "$dt" "$b" \
		"$(ratio "$b" "$dt")"
	TARN_TRACE_SQL=1 "$TARN" -q run --project "$proj" --threads 2 --full-refresh 2>"$tmp/trace" >/dev/null
	awk '/^\[duckdb / { ms = $2 + 0; s = substr($0, index($0, "]") + 2);
		if (s ~ /^(COPY \(|CREATE OR REPLACE (TABLE|VIEW) "(silver|gold)")/) m += ms; else o += ms }
		END { printf "       traced: models %.0f ms, bookkeeping %.0f ms (%.0f%% of traced time)\n", m, o, 100 * o / (m + o) }' \
		"$tmp/trace"
done
