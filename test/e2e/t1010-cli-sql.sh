#!/usr/bin/env bash
# t1010-cli-sql: `tarn sql` end to end: SQL from -c, -f and standard input,
# every output format (exact CSV, JSON that parses, one JSON line per row),
# NULL in each format, and errors (the first error stops, exit 1, DuckDB's
# message on stderr).
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
sql() { expect_rc "$1" "$TARN" --lake "$lake" sql "${@:2}"; }

test_ok 'init a lake' <<'EOF'
	expect_rc 0 "$TARN" init "$lake" &&
	expect_out "initialized lake in $lake"
EOF

test_ok 'csv: exact output, comma quoted' <<'EOF'
	sql 0 -c "select 1 as a, 'x,y' as b" --format csv &&
	expect_out 'a,b
1,"x,y"'
EOF

test_ok 'csv: quotes doubled, newline quoted, NULL empty, empty string ""' <<'EOF'
	sql 0 --format csv -c "select 'say \"hi\"' as q, 'l1' || chr(10) || 'l2' as nl, NULL as n, '' as e" &&
	expect_out 'q,nl,n,e
"say ""hi""","l1
l2",,""'
EOF

test_ok '--format as a global option' <<'EOF'
	expect_rc 0 "$TARN" --lake "$lake" --format csv sql -c "select 2 as x" &&
	expect_out 'x
2'
EOF

test_ok 'json: parses, numbers bare, NULL null, strings escaped' <<'EOF'
	sql 0 --format json -c "select * from (values (1, 'a\"b\\', NULL, 2.5::double, true),
		(2, chr(9) || 'é' || chr(1), 7, NULL, false)) v(i, s, n, f, b) order by i" &&
	python3 -m json.tool "$tmp/out" >/dev/null &&
	json_check 'd == [{"i": 1, "s": "a\"b\\", "n": None, "f": 2.5, "b": True},
		{"i": 2, "s": "\té\u0001", "n": 7, "f": None, "b": False}]'
EOF

test_ok 'json: empty result is []' <<'EOF'
	sql 0 --format json -c "select 1 as a where false" &&
	json_check 'd == []'
EOF

test_ok 'json: NaN and infinity become strings, decimals stay numbers' <<'EOF'
	sql 0 --format json -c "select 'nan'::double as n, 'inf'::double as i, 12.50::decimal(6,2) as d" &&
	json_check 'd[0]["n"] == "nan" and d[0]["i"] == "inf" and d[0]["d"] == 12.5'
EOF

test_ok 'jsonl: one object per row, NULL as null' <<'EOF'
	sql 0 --format jsonl -c "select * from (values (1, NULL), (2, 'b'), (3, 'c')) v(i, s) order by i" &&
	test "$(wc -l <"$tmp/out")" -eq 3 &&
	python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows == [{"i": 1, "s": None}, {"i": 2, "s": "b"}, {"i": 3, "s": "c"}], rows
' "$tmp/out"
EOF

test_ok 'table: box, NULL shown, numbers right-aligned, row count' <<'EOF'
	sql 0 -c "select * from (values (1, NULL), (100, 'x')) v(i, s) order by i" &&
	expect_out_has "│   1 │ NULL │" &&
	expect_out_has "│ 100 │ x    │" &&
	expect_out_has "(2 rows)"
EOF

test_ok 'table: long values are cut at 80 characters with …' <<'EOF'
	sql 0 -c "select repeat('é', 200) as v" &&
	expect_out_has "│ $(printf 'é%.0s' $(seq 79))… │"
EOF

test_ok 'several -c run in order, each result printed' <<'EOF'
	sql 0 --format csv -c "select 1 as first" -c "select 2 as second; select 3 as third" &&
	expect_out 'first
1
second
2
third
3'
EOF

test_ok 'a multi-statement -f script' <<'EOF'
	cat >"$tmp/script.sql" <<-'SQL' &&
	-- a comment; with a semicolon
	CREATE TABLE t (i INTEGER, s VARCHAR);
	INSERT INTO t VALUES (1, 'a;b'), (2, NULL);
	INSERT INTO t VALUES (3, 'c');
	SELECT i, s FROM t ORDER BY i;
	SQL
	sql 0 --format csv -f "$tmp/script.sql" &&
	tail -n 4 "$tmp/out" >"$tmp/tail" &&
	printf 'i,s\n1,a;b\n2,\n3,c\n' | diff -u - "$tmp/tail"
EOF

test_ok 'the table is there in the next run' <<'EOF'
	sql 0 --format csv -c "SELECT count(*) AS n FROM t" &&
	expect_out 'n
3'
EOF

test_ok 'SQL from standard input' <<'EOF'
	printf "select 42 as x;\nselect 'y' as y;\n" >"$tmp/in.sql" &&
	expect_rc 0 "$TARN" --lake "$lake" sql --format csv <"$tmp/in.sql" &&
	expect_out 'x
42
y
y'
EOF

test_ok '-f - reads standard input' <<'EOF'
	echo "select 7 as seven" >"$tmp/in.sql" &&
	expect_rc 0 "$TARN" --lake "$lake" sql --format csv -f - <"$tmp/in.sql" &&
	expect_out 'seven
7'
EOF

test_ok 'an error exits 1 with the DuckDB message on stderr' <<'EOF'
	sql 1 -c "SELECT CAST('abc' AS INTEGER)" &&
	expect_err_has "tarn: error:" &&
	expect_err_has "Could not convert string 'abc'" &&
	test ! -s "$tmp/out"
EOF

test_ok 'the first error stops the script' <<'EOF'
	sql 1 --format csv -c "select 1 as before; select CAST('abc' AS INTEGER); select 3 as after" &&
	expect_out_has "before" &&
	expect_out_lacks "after" &&
	expect_err_has "statement 2"
EOF

test_ok 'errors in a -f script name the file' <<'EOF'
	printf "select 1;\nselect CAST('abc' AS INTEGER);\n" >"$tmp/bad.sql" &&
	sql 1 -f "$tmp/bad.sql" &&
	expect_err_has "$tmp/bad.sql: statement 2"
EOF

test_ok 'a missing -f file exits 1' <<'EOF'
	sql 1 -f "$tmp/no-such.sql" &&
	expect_err_has "no-such.sql"
EOF

test_ok 'input ending inside BEGIN is an error, and is rolled back' <<'EOF'
	sql 1 -c "BEGIN" -c "INSERT INTO t VALUES (9, 'z')" &&
	expect_err_has "transaction" &&
	sql 0 --format csv -c "SELECT count(*) AS n FROM t WHERE i = 9" &&
	expect_out 'n
0'
EOF

test_ok 'usage errors exit 2' <<'EOF'
	sql 2 -c &&
	sql 2 "select 1" &&
	expect_err_has "unexpected argument" &&
	sql 2 --format yaml -c "select 1" &&
	expect_err_has "unknown format"
EOF
test_done
