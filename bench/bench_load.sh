#!/usr/bin/env bash
# `tarn load` of a large CSV against DuckDB converting the same file to
# Parquet, COPY (FROM read_csv(...)) TO ... (FORMAT parquet), in the same
# embedded DuckDB (run by hand, not in CI). Prints the time ratio (goal
# <= 1.10) and the peak RSS of both (goal: tarn <= 1.5 GB, and flat: it
# must not grow with the file).
#   bash bench/bench_load.sh [ROWS [RUNS]]   (default 20,000,000 rows, about
#   1.6 GB of CSV; best of 3 runs each, since shared machines are noisy)
# TMPDIR picks where the CSV and the lake go (they need ~3x the CSV size).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
TARN=${TARN:-$here/build/tarn}
ROWS=${1:-20000000}
RUNS=${2:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tarn-bench-load.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
# once OUT CMD...: run CMD under /usr/bin/time -v and append "secs kib"
# (wall time, peak RSS) to OUT.all.
once() {
	local out=$1
	shift
	/usr/bin/time -v "$@" >/dev/null 2>"$tmp/time.log"
	awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
			for (i = 1; i <= n; i++) s = s * 60 + p[i]; secs = s }
		/Maximum resident set size/ { kib = $2 }
		END { print secs, kib }' "$tmp/time.log" >>"$out.all"
}
# best OUT: "secs kib" = the best time and the largest peak RSS of the runs.
best() {
	awk 'NR == 1 || $1 < t { t = $1 } $2 > m { m = $2 } END { print t, m }' "$1.all" >"$1"
}
mib() { python3 -c "print(f'{$1/1024:.0f} MiB')"; }

"$TARN" init -q "$tmp/lake"
export TARN_LAKE="$tmp/lake"
echo "writing $ROWS rows of CSV ..."
"$TARN" sql -c "COPY (SELECT i AS id, CAST(i % 1000 AS INTEGER) AS g, random() AS v,
	'row ' || (i % 97) || ', \"quoted\"' AS s, DATE '2020-01-01' + CAST(i % 1500 AS INTEGER) AS d,
	TIMESTAMP '2020-01-01 00:00:00' + to_seconds(i) AS ts FROM range($ROWS) r(i))
	TO '$tmp/big.csv' (FORMAT csv, HEADER)" >/dev/null
echo "CSV: $(du -h "$tmp/big.csv" | cut -f1)"
# The raw zone copy and its SHA-256 are part of ingesting, not of loading.
"$TARN" -q ingest dataset "$tmp/big.csv" >/dev/null

# The same two provenance columns written by DuckDB, for scale.
cols="'big/v/big.csv' AS _source_file, TIMESTAMP '2024-01-01 00:00:00' AS _ingested_at"
# Rounds of all four, so a machine that gets busier or quieter part way
# through weighs on each the same.
for k in $(seq "$RUNS"); do
	once "$tmp/duck" "$TARN" sql -c "COPY (FROM read_csv('$tmp/big.csv')) TO '$tmp/plain.parquet' (FORMAT parquet)"
	once "$tmp/duck2" "$TARN" sql -c "COPY (SELECT *, $cols FROM read_csv('$tmp/big.csv')) TO '$tmp/plain.parquet' (FORMAT parquet)"
	once "$tmp/load" "$TARN" load big --no-provenance --mode replace
	once "$tmp/prov" "$TARN" load big --table bronze.big_prov --mode replace
done
for r in duck duck2 load prov; do best "$tmp/$r"; done
read -r dt dk <"$tmp/duck"
read -r d2t d2k <"$tmp/duck2"
read -r lt lk <"$tmp/load"
read -r pt pk <"$tmp/prov"
rows=$("$TARN" sql --format csv -c "SELECT count(*) FROM bronze.big" | tail -1)
[ "$rows" = "$ROWS" ] || { echo "loaded $rows rows, wanted $ROWS" >&2; exit 1; }
echo "duckdb COPY read_csv -> parquet:        ${dt}s, peak RSS $(mib "$dk")"
echo "  the same plus two provenance columns:   ${d2t}s, peak RSS $(mib "$d2k")"
echo "tarn load --no-provenance:              ${lt}s, peak RSS $(mib "$lk")"
echo "tarn load (with provenance, the default): ${pt}s, peak RSS $(mib "$pk")"
echo "load --no-provenance / duckdb = $(ratio "$lt" "$dt")  (goal <= 1.10)"
echo "load / duckdb with the same columns = $(ratio "$pt" "$d2t"); load / plain duckdb = $(ratio "$pt" "$dt")"
