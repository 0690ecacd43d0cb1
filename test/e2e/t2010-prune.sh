#!/usr/bin/env bash
# Files are pruned by their column statistics before DuckDB sees them: with
# a file's bytes spoiled, a query whose WHERE rules that file out still
# answers (the file is never opened), and a query that needs it fails;
# EXPLAIN [ANALYZE] plans the same pruned query.
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }

test_ok 'make a table of three files with disjoint ranges' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 sql -c "CREATE TABLE t (i INTEGER, s VARCHAR)" \
		-c "INSERT INTO t SELECT range, 'a' FROM range(0, 100)" \
		-c "INSERT INTO t SELECT range, 'b' FROM range(100, 200)" \
		-c "INSERT INTO t SELECT range, 'c' FROM range(200, 300)"
EOF_

test_ok 'a query that rules the middle file out does not open it' <<'EOF_'
	f=$("$TARN" --lake "$lake" sql --format csv -c "SELECT path FROM tarn_files('t') WHERE data_file_id = 1" | tail -1) &&
	cp "$lake/data/main/t/$f" "$tmp/middle.parquet" &&
	echo "not a parquet file" >"$lake/data/main/t/$f" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n FROM t WHERE i < 100" -c "SELECT count(*) AS n FROM t WHERE i >= 250" &&
	expect_out_has "50" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n FROM t WHERE i BETWEEN 250 AND 260" &&
	expect_out "n
11" &&
	tarn 1 sql -c "SELECT count(*) FROM t WHERE i BETWEEN 150 AND 160" &&
	tarn 0 sql --format csv -c "EXPLAIN ANALYZE SELECT count(*) AS n FROM t WHERE i >= 250" && expect_out_has "READ_PARQUET" &&
	tarn 0 sql -c "EXPLAIN SELECT count(*) AS n FROM t WHERE i < 100" &&
	tarn 1 sql -c "EXPLAIN ANALYZE SELECT count(*) AS n FROM t WHERE i BETWEEN 150 AND 160" &&
	tarn 1 sql -c "SELECT count(*) FROM t" &&
	cp "$tmp/middle.parquet" "$lake/data/main/t/$f"
EOF_

test_ok 'with the file back every query answers' <<'EOF_'
	tarn 0 sql --format csv -c "SELECT count(*) AS n FROM t WHERE i >= 50 AND i < 150" &&
	expect_out_has "100"
EOF_
test_done
