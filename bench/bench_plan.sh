#!/usr/bin/env bash
# Planning with a lot of metadata (run by hand, not in CI): a table with
# 100,000 data files over 10,000 snapshots, on a SQLite lake and on a
# PostgreSQL lake (a PostgreSQL 15 started here by scripts/pg.sh). The
# catalog rows are generated in the catalog database itself (INSERT ...
# SELECT over a recursive series, each file with its own min/max of `id`),
# copied from one real file that every generated row points at. Times, as a
# median over REPS runs in one process: opening the lake and a session, and
# a query whose WHERE prunes to one file (planned and run); compared with the same
# on the lake before the metadata was added (1 file, a few snapshots).
#   bash bench/bench_plan.sh [FILES] [SNAPSHOTS] [REPS]  (default 100000 10000 5)
# BUILD=<cmake build dir> (default build/) must hold a built tarn_core;
# KEEP=PREFIX keeps copies of the lakes as PREFIX-sqlite, PREFIX-postgres.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$here/build}
NF=${1:-100000}
NS=${2:-10000}
REPS=${3:-5}
tmp=$(mktemp -d)
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/tarn-pg.XXXXXX") && chmod 755 "$pgdir"
trap 'bash "$here/scripts/pg.sh" stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$tmp" "$pgdir"' EXIT
[ $((NF % NS)) -eq 0 ] || { echo "FILES must be a multiple of SNAPSHOTS" >&2; exit 2; }
PER=$((NF / NS))

duckroot=$(sed -n 's/^DUCKDB_ROOT:PATH=//p' "$BUILD/CMakeCache.txt")
cc -O2 -std=c11 -I"$here/src" -DTARN_VERSION='"bench"' "$here/bench/tarn_plan.c" -o "$tmp/tarn_plan" \
	"$BUILD/libtarn_core.a" -L"$duckroot/lib" -Wl,-rpath,"$duckroot/lib" -lduckdb \
	$(pkg-config --libs sqlite3 jansson libcurl libpq libxxhash yaml-0.1 libmicrohttpd) -lssl -lcrypto -lz -lpthread -lm
TARN="$BUILD/tarn"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=$(bash "$here/scripts/pg.sh" start "$pgdir" "$port" 2>/dev/null)
base=${url%/*}

# catalog_sql KIND LAKE: run standard input on the lake's catalog database.
catalog_sql() {
	if [ "$1" = sqlite ]; then
		sqlite3 -bail "$2/catalog.sqlite"
	else
		psql "$(cat "$2/catalog.url")" -qAt -v ON_ERROR_STOP=1
	fi
}

series() { echo "(WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < $1) SELECT i AS k FROM g) g"; }

# One real file of 20 rows (ids 0..19), then NS snapshots of PER files each.
generate() {
	local kind=$1 lake=$2 s0 f0 t idc
	read -r s0 f0 t idc <<<"$(catalog_sql "$kind" "$lake" <<'SQL' | tr '|' ' '
SELECT (SELECT max(snapshot_id) FROM ducklake_snapshot), max(d.data_file_id), max(d.table_id),
       (SELECT column_id FROM ducklake_column WHERE column_name = 'id' AND end_snapshot IS NULL)
FROM ducklake_data_file d;
SQL
)"
	catalog_sql "$kind" "$lake" <<SQL
BEGIN;
INSERT INTO ducklake_snapshot SELECT $s0 + k, s.snapshot_time, s.schema_version, s.next_catalog_id, $f0 + $NF + 1
  FROM $(series "$NS"), ducklake_snapshot s WHERE s.snapshot_id = $s0;
INSERT INTO ducklake_snapshot_changes SELECT $s0 + k, 'inserted_into_table:$t', NULL, NULL, NULL FROM $(series "$NS");
INSERT INTO ducklake_data_file SELECT $f0 + k, d.table_id, $s0 + (k - 1) / $PER + 1, NULL, d.file_order, d.path,
  d.path_is_relative, d.file_format, d.record_count, d.file_size_bytes, d.footer_size,
  d.row_id_start + d.record_count * k, d.partition_id, d.encryption_key, d.mapping_id, d.partial_max
  FROM $(series "$NF"), ducklake_data_file d WHERE d.data_file_id = $f0;
INSERT INTO ducklake_file_column_stats SELECT $f0 + k, c.table_id, c.column_id, c.column_size_bytes, c.value_count,
  c.null_count, CASE WHEN c.column_id = $idc THEN CAST(k * 1000 AS VARCHAR) ELSE c.min_value END,
  CASE WHEN c.column_id = $idc THEN CAST(k * 1000 + 19 AS VARCHAR) ELSE c.max_value END, c.contains_nan, c.extra_stats
  FROM $(series "$NF"), ducklake_file_column_stats c WHERE c.data_file_id = $f0;
UPDATE ducklake_table_stats SET record_count = record_count * ($NF + 1), next_row_id = next_row_id * ($NF + 2)
  WHERE table_id = $t;
COMMIT;
SQL
	if [ "$kind" = postgres ]; then echo "ANALYZE;" | catalog_sql "$kind" "$lake"; fi
}

# >= and <= (not BETWEEN): the predicates tarn prunes by
q="SELECT count(*) FROM big WHERE id >= $((NF / 2 * 1000)) AND id <= $((NF / 2 * 1000 + 10))"
printf "%-9s %8s %10s %9s %9s %9s %12s\n" catalog files snapshots open_ms plan_ms total_ms vs_1_file
for kind in sqlite postgres; do
	lake="$tmp/lake-$kind"
	if [ "$kind" = postgres ]; then
		psql "$base/postgres" -qAtc "CREATE DATABASE plan" >/dev/null
		"$TARN" init -q --catalog "$base/plan" "$lake"
	else
		"$TARN" init -q "$lake"
	fi
	"$TARN" --lake "$lake" sql -c "CREATE TABLE big (id BIGINT, v VARCHAR)" \
		-c "INSERT INTO big SELECT range, 'v' || range FROM range(20)" >/dev/null
	read -r o1 p1 a1 <<<"$("$tmp/tarn_plan" "$lake" "$q" "$REPS")"
	generate "$kind" "$lake"
	if [ -n "${KEEP:-}" ]; then cp -r "$lake" "$KEEP-$kind"; fi   # to look into it afterwards
	read -r o p a <<<"$("$tmp/tarn_plan" "$lake" "$q" "$REPS")"
	printf "%-9s %8d %10d %9.1f %9.1f %9.1f %12.1f\n" "$kind" "$NF" "$NS" "$o" "$p" "$a" \
		"$(python3 -c "print($a/$a1)")"
	printf "%-9s %8d %10d %9.1f %9.1f %9.1f\n" "$kind" 1 3 "$o1" "$p1" "$a1"
done
echo "goal: open + plan <= 20 ms with 100000 files and 10000 snapshots"
