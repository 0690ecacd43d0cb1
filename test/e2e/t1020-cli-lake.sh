#!/usr/bin/env bash
# t1020-cli-lake: the commands about the lake: init, tables, snapshots,
# describe (headings, JSON, names passed safely as SQL literals) and fsck
# (exit 0 with only orphans, exit 1 with problems, JSON report).
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }

test_ok 'init creates a lake; a second init fails' <<'EOF'
	expect_rc 0 "$TARN" init "$lake" &&
	expect_out "initialized lake in $lake" &&
	test -f "$lake/catalog.sqlite" &&
	expect_rc 1 "$TARN" init "$lake" &&
	expect_err_has "tarn: error:"
EOF

test_ok 'init -q prints nothing; DIR defaults to --lake' <<'EOF'
	expect_rc 0 "$TARN" --lake "$tmp/quiet" init -q &&
	test ! -s "$tmp/out" &&
	test -f "$tmp/quiet/catalog.sqlite"
EOF

test_ok 'init with no DIR and no --lake makes ./lake' <<'EOF'
	mkdir "$tmp/cwd" &&
	(cd "$tmp/cwd" && expect_rc 0 "$TARN" init) &&
	test -f "$tmp/cwd/lake/catalog.sqlite" &&
	(cd "$tmp/cwd" && expect_rc 0 "$TARN" tables)
EOF

test_ok 'TARN_LAKE picks the lake; --lake wins over it' <<'EOF'
	TARN_LAKE="$tmp/quiet" expect_rc 0 "$TARN" tables &&
	TARN_LAKE="$tmp/nowhere" expect_rc 0 "$TARN" --lake "$tmp/quiet" tables
EOF

test_ok 'make tables' <<'EOF'
	tarn 0 sql -c "CREATE TABLE t (i INTEGER, s VARCHAR)" \
		-c "INSERT INTO t SELECT * FROM (VALUES (1, 'a'), (2, NULL))" \
		-c "CREATE SCHEMA s2" -c "CREATE TABLE s2.u (x DOUBLE)"
EOF

test_ok 'tables lists both tables (json)' <<'EOF'
	tarn 0 tables --format json &&
	json_check 'sorted((r["schema_name"], r["table_name"]) for r in d) == [("main", "t"), ("s2", "u")]'
EOF

test_ok 'tables in csv has a header and one line per table' <<'EOF'
	tarn 0 --format csv tables &&
	head -1 "$tmp/out" | grep -q "table_name" &&
	test "$(wc -l <"$tmp/out")" -eq 3
EOF

test_ok 'snapshots: one per commit, in every format' <<'EOF'
	tarn 0 snapshots --format json &&
	json_check 'len(d) >= 4' &&
	tarn 0 snapshots --format jsonl &&
	test "$(wc -l <"$tmp/out")" -ge 4 &&
	tarn 0 snapshots &&
	expect_out_has "rows)"
EOF

test_ok 'describe: headings before the table, columns and files' <<'EOF'
	tarn 0 describe t &&
	head -1 "$tmp/out" | grep -qx "table" &&
	grep -qx "columns" "$tmp/out" &&
	grep -qx "files" "$tmp/out" &&
	expect_out_has "row_count" &&
	expect_out_has "│ i " &&
	expect_out_has ".parquet"
EOF

test_ok 'describe --format json is one object with the table, columns, files and snapshots' <<'EOF'
	tarn 0 describe --format json s2.u &&
	json_check 'sorted(d) == ["columns", "files", "snapshots", "table"] and [s["change"] for s in d["snapshots"]] == ["create"] and [c["column_name"] for c in d["columns"]] == ["x"] and d["files"] == [] and d["table"][0]["row_count"] == 0'
EOF

test_ok 'describe of a missing table: exit 1' <<'EOF'
	tarn 1 describe nosuch &&
	expect_err_has "nosuch"
EOF

test_ok 'describe passes the name as a literal, never as SQL' <<'EOF'
	tarn 1 describe "t'); DROP TABLE t; --" &&
	tarn 0 --format csv sql -c "SELECT count(*) AS n FROM t" &&
	expect_out 'n
2'
EOF

test_ok 'describe without TABLE or with two: exit 2' <<'EOF'
	tarn 2 describe &&
	expect_err_has "missing TABLE" &&
	tarn 2 describe t u &&
	expect_err_has "unexpected argument"
EOF

test_ok 'fsck on a healthy lake: exit 0, ok in json' <<'EOF'
	tarn 0 fsck &&
	expect_out_has "0 problems" &&
	tarn 0 fsck --format json &&
	json_check 'd["ok"] is True and d["problems"] == [] and d["tables"] == 2 and d["files"] >= 1'
EOF

test_ok 'fsck lists an orphan file but still exits 0' <<'EOF'
	echo junk >"$lake/data/orphan-test.parquet" &&
	tarn 0 fsck --format json &&
	json_check 'd["ok"] is True and any("orphan-test" in o for o in d["orphans"])' &&
	tarn 0 fsck &&
	expect_out_has "orphan-test" &&
	rm "$lake/data/orphan-test.parquet"
EOF

test_ok 'fsck with a data file missing: exit 1, problem reported' <<'EOF'
	f=$(find "$lake/data" -name "*.parquet" | head -1) &&
	test -n "$f" &&
	mv "$f" "$tmp/saved.parquet" &&
	tarn 1 fsck &&
	expect_out_has "problem:" &&
	expect_err_has "1 problem" &&
	tarn 1 fsck --format json &&
	json_check 'd["ok"] is False and len(d["problems"]) == 1' &&
	mv "$tmp/saved.parquet" "$f" &&
	tarn 0 fsck
EOF
test_done
