#!/usr/bin/env bash
# t7120-time-travel-share: `COPY (SELECT … FROM t AT (VERSION => n)) TO …`
# runs through tarn's time-travel rewrite (the old snapshot, before and
# after a schema change, with comments and quotes that hold parentheses);
# `tarn export dataset --at N` after a schema change writes the columns
# and rows of snapshot N; `tarn describe T` lists the snapshots that
# touched T (id, time, author, message, kind of change), also in JSON.
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
sql_val() { "$TARN" --lake "$lake" sql --format csv -c "$1" | tail -n 1; }
snap() { sql_val "SELECT max(snapshot_id) FROM tarn_snapshots()"; }

test_ok 'a table whose schema changes' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 sql -c "CREATE TABLE t (i INTEGER, s VARCHAR)" \
		-c "INSERT INTO t SELECT range, 'v' || range FROM range(50)" &&
	echo "$(snap)" >"$tmp/s1" &&
	tarn 0 sql -c "CALL tarn_set_commit_message('ada', 'drop s, add d')" \
		-c "ALTER TABLE t DROP COLUMN s" &&
	tarn 0 sql -c "ALTER TABLE t ADD COLUMN d DOUBLE" \
		-c "INSERT INTO t VALUES (100, 1.5)" -c "DELETE FROM t WHERE i < 10" \
		-c "COMMENT ON COLUMN t.i IS 'the key'" &&
	tarn 0 sql -c "CREATE TABLE other (x INTEGER)" -c "INSERT INTO other VALUES (1)"
EOF_

test_ok 'COPY (SELECT … AT (VERSION => n)) TO writes the old snapshot' <<'EOF_'
	s1=$(cat "$tmp/s1") &&
	tarn 0 sql -c "COPY (SELECT * FROM t AT (VERSION => $s1) ORDER BY i) TO '$tmp/old.csv' (HEADER true)" &&
	head -2 "$tmp/old.csv" >"$tmp/out" && expect_out "i,s
0,v0" &&
	test "$(wc -l <"$tmp/old.csv")" -eq 51 &&
	tarn 0 sql -c "COPY (SELECT * FROM t ORDER BY i) TO '$tmp/new.csv' (HEADER true)" &&
	head -2 "$tmp/new.csv" >"$tmp/out" && expect_out "i,d
10," &&
	test "$(wc -l <"$tmp/new.csv")" -eq 42
EOF_

test_ok 'COPY with a join of two snapshots, comments and a ) inside a string' <<'EOF_'
	s1=$(cat "$tmp/s1") &&
	tarn 0 sql -c "COPY ( -- a comment with (
		SELECT a.i, b.s, ')(' AS p FROM t b AT (VERSION => $s1) /* ( */ JOIN t a ON a.i = b.i WHERE a.i = 20
	) TO '$tmp/j.csv'" &&
	cat "$tmp/j.csv" >"$tmp/out" && expect_out "i,s,p
20,v20,)(" &&
	tarn 1 sql -c "COPY (SELECT count(*) FROM t AT (VERSION => 0)) TO '$tmp/x.csv'" &&
	expect_err_has "does not exist at version 0"
EOF_

test_ok 'COPY … AT into Parquet reads back through read_parquet' <<'EOF_'
	s1=$(cat "$tmp/s1") &&
	tarn 0 sql -c "COPY (SELECT * FROM main.t AT (VERSION => $s1)) TO '$tmp/old.parquet' (FORMAT parquet)" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n, count(s) AS s FROM read_parquet('$tmp/old.parquet')" &&
	expect_out "n,s
50,50"
EOF_

test_ok 'export --at after a schema change: the columns and rows of that snapshot' <<'EOF_'
	s1=$(cat "$tmp/s1") &&
	tarn 0 --format json export dataset lab main --at "$s1" &&
	json_check "d[0]['snapshot'] == $s1 and d[0]['files'] == 1 and d[0]['rows'] == 50" &&
	p=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["path"])' "$tmp/out") &&
	tarn 0 sql --format csv -c "SELECT string_agg(name, ' ' ORDER BY name) AS cols FROM parquet_schema('$p/t.parquet') WHERE name IN ('i', 's', 'd')" &&
	expect_out "cols
i s" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS diff FROM (SELECT * FROM read_parquet('$p/t.parquet') EXCEPT ALL SELECT * FROM t AT (VERSION => $s1))" &&
	expect_out "diff
0" &&
	python3 - "$lake/exports/lab/main/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
f = m["versions"][-1]["files"][0]
cols = [(c["name"], c["type"], c["comment"]) for c in f["columns"]]
assert cols == [("i", "INTEGER", "the key"), ("s", "VARCHAR", None)], cols
PY
EOF_

test_ok 'export --at and today agree with the table at each snapshot' <<'EOF_'
	tarn 0 --format json export dataset lab main --format csv --tables t &&
	p=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["path"])' "$tmp/out") &&
	head -1 "$p/t.csv" >"$tmp/out" && expect_out "i,d" &&
	test "$(wc -l <"$p/t.csv")" -eq 42
EOF_

test_ok 'describe lists the snapshots that touched the table' <<'EOF_'
	tarn 0 describe --format json t &&
	python3 - "$tmp/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["snapshots"]
kinds = [r["change"] for r in s]
assert kinds == ["create", "insert", "alter", "alter", "insert", "delete", "alter"], kinds
ids = [r["snapshot_id"] for r in s]
assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
drop = s[2]
assert drop["author"] == "ada" and drop["commit_message"] == "drop s, add d", drop
assert all(r["snapshot_time"] for r in s), s
PY
	tarn 0 describe --format json other &&
	json_check '[r["change"] for r in d["snapshots"]] == ["create", "insert"]' &&
	tarn 0 describe t &&
	expect_out_has "snapshots" && expect_out_has "ada"
EOF_

test_ok 'describe: an UPDATE is a delete and an insert; a new table of an old name starts afresh' <<'EOF_'
	tarn 0 sql -c "UPDATE other SET x = 2" &&
	tarn 0 describe --format json other &&
	json_check 'd["snapshots"][-1]["change"] == "delete, insert"' &&
	tarn 0 sql -c "DROP TABLE other" -c "CREATE TABLE other (y VARCHAR)" &&
	tarn 0 describe --format json other &&
	json_check '[r["change"] for r in d["snapshots"]] == ["create"]'
EOF_

test_done
