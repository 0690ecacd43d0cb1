#!/usr/bin/env bash
# A 1 GB CSV through the front door: `tarn ingest dataset` copies and hashes
# it in a stream, `tarn load` turns it into Parquet, and memory stays flat:
# the peak RSS of the ingestion does not grow with the file, and the load's
# stays under 1.5 GB and within a quarter of what DuckDB itself needs to
# convert the same file to Parquet (DuckDB's own peak grows with the file). TARN_E2E_BIG_MB picks
# the size (default 1024).
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
MB=${TARN_E2E_BIG_MB:-1024}
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
# peak_kib CMD...: run CMD, fail if it fails; print its peak RSS in KiB.
peak_kib() {
	python3 -c '
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
if r.returncode:
    sys.exit(r.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
' "$@"
}
# make_csv FILE MB: about MB megabytes of CSV (a row is ~100 bytes), with
# quoted fields holding commas; prints the row count.
make_csv() {
	local rows=$(( $2 * 11300 ))
	"$TARN" --lake "$lake" sql -c "COPY (SELECT i AS id, i % 1000 AS grp, (i * 7919) % 100003 / 7.0 AS amount,
		'customer ' || (i % 9973) || ', \"vip\"' AS note, DATE '2020-01-01' + CAST(i % 1500 AS INTEGER) AS day,
		repeat('x', 20 + CAST(i % 17 AS INTEGER)) AS pad FROM range($rows) r(i))
		TO '$1' (FORMAT csv, HEADER)" >/dev/null && echo "$rows"
}

test_ok 'a lake' 'tarn 0 init -q "$lake"'

test_ok "a small and a ${MB} MB CSV" <<'EOF_'
	small_rows=$(make_csv "$tmp/small.csv" $(( MB / 8 > 1 ? MB / 8 : 1 ))) &&
	big_rows=$(make_csv "$tmp/big.csv" "$MB") &&
	echo "$small_rows $big_rows" >"$tmp/rows" &&
	sz=$(stat -c %s "$tmp/big.csv") && echo "# big.csv: $((sz / 1048576)) MiB" >>"$tmp/figures" &&
	[ "$sz" -gt $(( MB * 1048576 * 8 / 10 )) ]
EOF_

test_ok 'ingesting streams: peak RSS is the same for the small and the big file' <<'EOF_'
	s=$(peak_kib "$TARN" --lake "$lake" -q ingest dataset "$tmp/small.csv") &&
	b=$(peak_kib "$TARN" --lake "$lake" -q ingest dataset "$tmp/big.csv") &&
	echo "# ingest peak RSS: small $((s / 1024)) MiB, big $((b / 1024)) MiB" >>"$tmp/figures" &&
	[ "$b" -lt $(( s + 65536 )) ] && [ "$b" -lt 524288 ] &&
	rm "$tmp/small.csv" "$tmp/big.csv"
EOF_

test_ok 'loading the big file needs no more memory than DuckDB converting it; every row arrives' <<'EOF_'
	read -r small_rows big_rows <"$tmp/rows" &&
	csv=$("$TARN" --lake "$lake" ingest ls | grep /big/)/big.csv &&
	d=$(peak_kib "$TARN" --lake "$lake" sql -c "COPY (SELECT *, 'big/v/big.csv' AS _source_file,
		TIMESTAMP '2024-01-01 00:00:00' AS _ingested_at FROM read_csv('$csv')) TO '$tmp/duck.parquet' (FORMAT parquet)") &&
	rm -f "$tmp/duck.parquet" &&
	b=$(peak_kib "$TARN" --lake "$lake" -q load big) &&
	echo "# load peak RSS $((b / 1024)) MiB; DuckDB COPY of the same file with the same columns $((d / 1024)) MiB" >>"$tmp/figures" &&
	[ "$b" -lt 1572864 ] && [ "$b" -lt $(( d * 5 / 4 + 65536 )) ] &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n, count(DISTINCT _source_file) AS f, max(note) AS m FROM bronze.big" &&
	expect_out "n,f,m
$big_rows,1,\"customer 999, \"\"vip\"\"\""
EOF_

cat "$tmp/figures" 2>/dev/null
test_done
