#!/usr/bin/env bash
# Transformations (run by hand, not in CI):
#  1. the retail example at scale N (default 10): `tarn build` (seeds, nine
#     models, their tests, a commit per model, run history) against DuckDB
#     itself running the same rendered SQL (`tarn compile`) over the same
#     Parquet into a DuckDB file. Goal: <= 1.15x.
#  2. parse and plan a generated project of M models (default 1000):
#     `tarn compile` wall time (goal <= 1 s), and DuckDB parsing the
#     compiled SQL, for scale.
#   bash bench/bench_transform.sh [SCALE [MODELS [RUNS]]]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$here/build}
TARN=$BUILD/tarn
SCALE=${1:-10}
MODELS=${2:-1000}
RUNS=${3:-3}
cmake --build "$BUILD" --target duck_sql >/dev/null
DUCK=$BUILD/duck_sql
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tarn-bench-transform.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | awk '{ split($0, a, " - "); printf "%.3f\n", a[1] - a[2] }'; }
best() { sort -n | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "retail scale $SCALE ..."
"$TARN" -q gen retail --out "$tmp/data" --scale "$SCALE" >/dev/null
"$TARN" init -q "$tmp/lake"
export TARN_LAKE=$tmp/lake
"$TARN" -q ingest dataset "$tmp/data" --name retail >/dev/null
"$TARN" -q load retail
proj=$here/examples/retail
# DuckDB side: bronze as views over the same Parquet, the seed, then the
# compiled models written into a DuckDB file.
{
	echo "CREATE SCHEMA bronze; CREATE SCHEMA silver; CREATE SCHEMA gold;"
	for t in customers stores products sales; do
		echo "CREATE VIEW bronze.$t AS SELECT * FROM read_parquet('$tmp/data/$t.parquet');"
	done
	echo "CREATE TABLE silver.regions AS SELECT * FROM read_csv('$proj/seeds/regions.csv', header = true);"
} >"$tmp/setup.sql"
"$TARN" -q compile --project "$proj" >"$tmp/models.sql"
for k in $(seq "$RUNS"); do
	rm -f "$tmp/duck.db" "$tmp/duck.db.wal"
	"$DUCK" "$tmp/duck.db" run "$tmp/setup.sql" >/dev/null
	"$DUCK" "$tmp/duck.db" run "$tmp/models.sql" >>"$tmp/duck.times"
	secs "$TARN" -q build --project "$proj" --threads 2 >>"$tmp/tarn.times"
	secs "$TARN" -q run --project "$proj" --threads 2 --full-refresh >>"$tmp/run.times"
	secs "$TARN" -q run --project "$proj" --threads 2 >>"$tmp/inc.times"
done
d=$(best <"$tmp/duck.times"); b=$(best <"$tmp/tarn.times"); r=$(best <"$tmp/run.times"); i=$(best <"$tmp/inc.times")
echo "duckdb, the compiled models into a file:   ${d}s"
echo "tarn run --full-refresh (commits, history): ${r}s   ratio $(ratio "$r" "$d")  (goal <= 1.15)"
echo "tarn run, incremental, nothing new:         ${i}s   ratio $(ratio "$i" "$d")"
echo "tarn build (+ seeds and 20 tests):          ${b}s   ratio $(ratio "$b" "$d")"

echo "a generated project of $MODELS models ..."
gp=$tmp/gen-project
mkdir -p "$gp/models/silver" "$gp/models/gold"
printf 'name: generated\n' >"$gp/tarn.yml"
printf 'version: 2\nsources:\n  - name: raw\n    schema: bronze\n    tables: [{name: events}]\n' >"$gp/models/sources.yml"
python3 - "$gp" "$MODELS" <<'PY'
import sys, random
root, n = sys.argv[1], int(sys.argv[2])
random.seed(1)
for i in range(n):
    layer = "silver" if i < n // 2 else "gold"
    if i < 10:
        body = "SELECT id, amount, category FROM {{ source('raw', 'events') }} WHERE amount > %d" % i
    else:
        deps = sorted(set(random.randrange(0, i) for _ in range(random.randint(1, 3))))
        body = "SELECT a.id, a.amount + %d AS amount, a.category\nFROM {{ ref('m%04d') }} a\n" % (i, deps[0])
        for d in deps[1:]:
            body += "JOIN {{ ref('m%04d') }} USING (id, category)\n" % d
        body += "WHERE a.amount > {{ var('floor', 0) }}"
    open("%s/models/%s/m%04d.sql" % (root, layer, i), "w").write(
        "{{ config(materialized='table', tags=['t%d']) }}\n-- model %d\n%s\n" % (i % 7, i, body))
PY
for k in $(seq "$RUNS"); do
	secs "$TARN" -q compile --project "$gp" >>"$tmp/compile.times"
done
"$TARN" -q compile --project "$gp" >"$tmp/gen.sql"
for k in $(seq "$RUNS"); do "$DUCK" :memory: parse "$tmp/gen.sql" >>"$tmp/parse.times"; done
c=$(best <"$tmp/compile.times"); p=$(best <"$tmp/parse.times")
echo "tarn compile (read, render, order $MODELS models): ${c}s  (goal <= 1 s)"
echo "duckdb parsing the compiled SQL:              ${p}s  ratio $(ratio "$c" "$p")"
