#!/usr/bin/env bash
# Concurrent small commits (run by hand, not in CI): 1, 2, 4 and 8 writer
# processes, each making N single-row INSERT commits through its own tarn
# session, on a SQLite lake and on a PostgreSQL lake (a PostgreSQL 15
# started here by scripts/pg.sh), against DuckDB itself committing the same
# inserts from as many connections into a native table. Prints commits/s,
# p99 commit latency, the tarn/DuckDB ratio, and checks that no commit was
# lost (the row count at the end).
#   bash bench/bench_commits.sh [N]     (commits per writer, default 200)
# BUILD=<cmake build dir> (default build/) must hold a built tarn_core.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$here/build}
N=${1:-200}
WRITERS=${WRITERS:-"1 2 4 8"}
tmp=$(mktemp -d)
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/tarn-pg.XXXXXX") && chmod 755 "$pgdir"
trap 'bash "$here/scripts/pg.sh" stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$tmp" "$pgdir"' EXIT

# The writer: a small C program on tarn's session API (bench/tarn_commits.c).
duckroot=$(sed -n 's/^DUCKDB_ROOT:PATH=//p' "$BUILD/CMakeCache.txt")
cc -O2 -std=c11 -I"$here/src" -DTARN_VERSION='"bench"' "$here/bench/tarn_commits.c" -o "$tmp/tarn_commits" \
	"$BUILD/libtarn_core.a" -L"$duckroot/lib" -Wl,-rpath,"$duckroot/lib" -lduckdb \
	$(pkg-config --libs sqlite3 jansson libcurl libpq libxxhash yaml-0.1 libmicrohttpd) -lssl -lcrypto -lz -lpthread -lm
cmake --build "$BUILD" --target duck_commits >/dev/null
TARN="$BUILD/tarn"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=$(bash "$here/scripts/pg.sh" start "$pgdir" "$port" 2>/dev/null)
base=${url%/*}

# run KIND WRITERS -> "commits/s p99_us lost"
run() {
	local kind=$1 w=$2 lake="$tmp/lake-$1-$2" k
	if [ "$kind" = postgres ]; then
		psql "$base/postgres" -qAtc "CREATE DATABASE bench_$w" >/dev/null
		"$TARN" init -q --catalog "$base/bench_$w" "$lake"
	else
		"$TARN" init -q "$lake"
	fi
	"$TARN" --lake "$lake" sql -c "CREATE TABLE c (w INTEGER, seq INTEGER)" >/dev/null
	for k in $(seq 1 "$w"); do
		"$tmp/tarn_commits" "$lake" c "$k" "$N" >"$tmp/out.$k" &
	done
	wait
	python3 - "$tmp" "$w" <<'PY'
import sys
tmp, w = sys.argv[1], int(sys.argv[2])
starts, ends, lat = [], [], []
for k in range(1, w + 1):
    lines = open(f"{tmp}/out.{k}").read().split()
    starts.append(float(lines[1])); ends.append(float(lines[3]))
    lat += [float(x) for x in lines[4:]]
lat.sort()
print(f"{len(lat) / (max(ends) - min(starts)):.0f} {lat[int(len(lat) * 0.99)]:.0f}")
PY
	local got
	got=$("$TARN" --lake "$lake" sql --format csv -c "SELECT count(DISTINCT (w, seq)) FROM c" | tail -1)
	echo " $((w * N - got))"
}

printf "%-9s %7s %12s %10s %12s %10s %12s %6s\n" catalog writers commits/s p99_ms duck_c/s duck_p99 tarn/duck lost
for kind in sqlite postgres; do
	for w in $WRITERS; do
		res=$(run "$kind" "$w" | tr '\n' ' ')
		read -r cps p99 lost <<<"$res"
		rm -f "$tmp/duck.db" "$tmp/duck.db.wal"
		res=$("$BUILD/duck_commits" "$tmp/duck.db" "$N" "$w")
		read -r dcps dp99 <<<"$res"
		printf "%-9s %7d %12d %10.1f %12d %10.1f %12.2f %6d\n" "$kind" "$w" "$cps" \
			"$(python3 -c "print($p99/1000)")" "$dcps" "$(python3 -c "print($dp99/1000)")" \
			"$(python3 -c "print($cps/$dcps)")" "$lost"
	done
done
echo "goal: postgres, 8 writers >= 200 commits/s, 0 lost"
