#!/usr/bin/env bash
# t7000-export-dataset: `tarn export dataset|ls|prune`: every format read back
# with DuckDB and compared with the source table, the manifest (sizes,
# SHA-256, rows, snapshot, latest), comments in the Parquet key-value
# metadata, --tables and --at, names that must not escape the exports
# folder, concurrent exports of one dataset, ls and prune.
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
ex="$lake/exports"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
# sql_val SQL: the single value the query returns (csv, no header).
sql_val() { "$TARN" --lake "$lake" sql --format csv -c "$1" | tail -n 1; }
# The version folder of the last `export dataset` (printed as json).
last_path() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["path"])' "$tmp/out"; }

test_ok 'make a lake with a commented schema' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 sql -c "CREATE SCHEMA sales" \
		-c "CREATE TABLE sales.orders (id INTEGER, amount DOUBLE, note VARCHAR, day DATE, ok BOOLEAN)" \
		-c "INSERT INTO sales.orders SELECT i, i * 1.25, CASE WHEN i % 7 = 0 THEN NULL WHEN i % 5 = 0 THEN 'a, \"b\"' ELSE 'n' || i END, DATE '2024-01-01' + CAST(i AS INTEGER), i % 2 = 0 FROM range(500) t(i)" \
		-c "COMMENT ON TABLE sales.orders IS 'Every order, one row each'" \
		-c "COMMENT ON COLUMN sales.orders.id IS 'order number'" \
		-c "COMMENT ON COLUMN sales.orders.amount IS 'EUR, it''s net'" \
		-c "CREATE TABLE sales.\"odd name/../x\" (k INTEGER)" \
		-c "INSERT INTO sales.\"odd name/../x\" VALUES (1), (2)" \
		-c "CREATE TABLE sales.later (z INTEGER)"
EOF_

test_ok 'export dataset (parquet) writes a version folder and a manifest' <<'EOF_'
	tarn 0 --format json export dataset lab sales &&
	json_check 'd[0]["domain"] == "lab" and d[0]["dataset"] == "sales" and d[0]["files"] == 3 and d[0]["rows"] == 502' &&
	p=$(last_path) &&
	case "$p" in "$ex"/lab/sales/[0-9][0-9][0-9][0-9]_[0-9][0-9]_[0-9][0-9]/[0-9][0-9]_[0-9][0-9]_[0-9][0-9]_[0-9][0-9][0-9]) ;; *) echo "bad path $p"; false;; esac &&
	test -f "$p/orders.parquet" && test -f "$p/later.parquet" &&
	test "$(ls "$p" | wc -l)" -eq 3 &&
	test -f "$ex/lab/sales/manifest.json"
EOF_

test_ok 'a table name with / and .. becomes one safe file name' <<'EOF_'
	p=$(ls -d "$ex"/lab/sales/*/* | head -1) &&
	test -f "$p/odd_name_.._x.parquet" &&
	test -z "$(find "$ex" -name x.parquet)" &&
	test "$(find "$lake" -path "$ex" -prune -o -name '*odd*' -print | wc -l)" -eq 0
EOF_

test_ok 'manifest: sizes, SHA-256, rows, snapshot, latest, comments' <<'EOF_'
	snap=$(sql_val "SELECT max(snapshot_id) FROM tarn_snapshots()") &&
	python3 - "$ex/lab/sales" "$snap" <<'PY'
import hashlib, json, os, sys
root, snap = sys.argv[1], int(sys.argv[2])
m = json.load(open(os.path.join(root, "manifest.json")))
assert m["domain"] == "lab" and m["dataset"] == "sales" and m["schema"] == "sales", m
assert len(m["versions"]) == 1 and m["latest"] == m["versions"][0]["version"], m
v = m["versions"][0]
assert v["snapshot"] == snap and v["at"] is None and v["format"] == "parquet", v
assert sorted(f["table"] for f in v["files"]) == ["later", "odd name/../x", "orders"], v
total = 0
for f in v["files"]:
    data = open(os.path.join(root, v["path"], f["file"]), "rb").read()
    assert len(data) == f["size"], f
    assert hashlib.sha256(data).hexdigest() == f["sha256"], f
    total += f["size"]
assert total == v["bytes"], v
o = [f for f in v["files"] if f["table"] == "orders"][0]
assert o["rows"] == 500 and o["comment"] == "Every order, one row each", o
cols = {c["name"]: c for c in o["columns"]}
assert cols["id"]["comment"] == "order number" and cols["amount"]["comment"] == "EUR, it's net", cols
assert cols["note"]["comment"] is None and cols["day"]["type"] == "DATE", cols
PY
EOF_

test_ok 'parquet read back equals the source table' <<'EOF_'
	p=$(ls -d "$ex"/lab/sales/*/* | tail -1) &&
	tarn 0 sql --format csv -c "SELECT (SELECT count(*) FROM (SELECT * FROM sales.orders EXCEPT ALL SELECT * FROM read_parquet('$p/orders.parquet'))) + (SELECT count(*) FROM (SELECT * FROM read_parquet('$p/orders.parquet') EXCEPT ALL SELECT * FROM sales.orders)) AS diff, (SELECT count(*) FROM read_parquet('$p/orders.parquet')) AS n" &&
	expect_out "diff,n
0,500"
EOF_

test_ok 'table and column comments are in the Parquet key-value metadata' <<'EOF_'
	p=$(ls -d "$ex"/lab/sales/*/* | tail -1) &&
	tarn 0 sql --format csv -c "SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('$p/orders.parquet') WHERE decode(key) LIKE 'tarn.%' ORDER BY 1" &&
	expect_out_has "tarn.table,sales.orders" &&
	expect_out_has "tarn.table_comment,\"Every order, one row each\"" &&
	expect_out_has "tarn.column_comment.id,order number" &&
	expect_out_has "tarn.column_comment.amount,\"EUR, it's net\"" &&
	expect_out_lacks "column_comment.note" &&
	grep -q "^tarn.snapshot,[0-9]" "$tmp/out"
EOF_

test_ok 'csv export read back equals the source table' <<'EOF_'
	tarn 0 --format json export dataset lab sales --format csv --tables orders &&
	p=$(last_path) &&
	test "$(ls "$p")" = "orders.csv" &&
	tarn 0 sql --format csv -c "SELECT (SELECT count(*) FROM (SELECT * FROM sales.orders EXCEPT ALL SELECT * FROM read_csv('$p/orders.csv', header = true, columns = {'id': 'INTEGER', 'amount': 'DOUBLE', 'note': 'VARCHAR', 'day': 'DATE', 'ok': 'BOOLEAN'}))) AS diff, (SELECT count(*) FROM read_csv('$p/orders.csv', header = true)) AS n" &&
	expect_out "diff,n
0,500"
EOF_

test_ok 'json export (JSON lines) read back equals the source table' <<'EOF_'
	tarn 0 --format json export dataset lab sales --format json --tables orders,later &&
	p=$(last_path) &&
	test -f "$p/orders.json" && test -f "$p/later.json" &&
	tarn 0 sql --format csv -c "SELECT (SELECT count(*) FROM (SELECT * FROM sales.orders EXCEPT ALL SELECT id, amount, note, CAST(day AS DATE), ok FROM read_json('$p/orders.json', format = 'newline_delimited'))) AS diff, (SELECT count(*) FROM read_json('$p/orders.json', format = 'newline_delimited')) AS n" &&
	expect_out "diff,n
0,500"
EOF_

test_ok 'csv and json versions carry the comments in the manifest' <<'EOF_'
	python3 - "$ex/lab/sales/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
fmts = [v["format"] for v in m["versions"]]
assert fmts == ["parquet", "csv", "json"], fmts
for v in m["versions"][1:]:
    o = [f for f in v["files"] if f["table"] == "orders"][0]
    assert o["comment"] == "Every order, one row each", o
    assert {c["name"]: c["comment"] for c in o["columns"]}["id"] == "order number"
assert m["latest"] == m["versions"][-1]["version"]
PY
EOF_

test_ok '--at exports an old snapshot; tables made after it are left out' <<'EOF_'
	snap=$(sql_val "SELECT min(snapshot_id) FROM tarn_snapshots() WHERE changes LIKE 'inserted_into_table%'") &&
	tarn 0 sql -c "DELETE FROM sales.orders WHERE id < 100" &&
	tarn 0 --format json export dataset lab sales --at "$snap" &&
	json_check "d[0]['snapshot'] == $snap and d[0]['rows'] == 500 and d[0]['files'] == 1" &&
	p=$(last_path) &&
	test "$(ls "$p")" = "orders.parquet" &&
	tarn 0 sql --format csv -c "SELECT (SELECT count(*) FROM (SELECT * FROM sales.orders AT (VERSION => $snap) EXCEPT ALL SELECT * FROM read_parquet('$p/orders.parquet'))) AS diff, (SELECT count(*) FROM read_parquet('$p/orders.parquet')) AS n" &&
	expect_out "diff,n
0,500" &&
	tarn 0 sql --format csv -c "SELECT decode(value) AS s FROM parquet_kv_metadata('$p/orders.parquet') WHERE decode(key) = 'tarn.snapshot'" &&
	expect_out "s
$snap"
EOF_

test_ok 'without --at the export sees the delete' <<'EOF_'
	tarn 0 --format json export dataset lab sales --tables orders &&
	json_check 'd[0]["rows"] == 400'
EOF_

test_ok 'bad domains are refused before anything is written' <<'EOF_'
	for d in .. ../up a/b .hidden "" "sp ace"; do
		tarn 1 export dataset "$d" sales &&
		expect_err_has "cannot be a domain folder" || return 1
	done &&
	test ! -e "$lake/up" && test ! -e "$ex/a" && test ! -e "$ex/.hidden"
EOF_

test_ok 'unknown format, schema, table and snapshot are errors; nothing is published' <<'EOF_'
	before=$(find "$ex" -type f | wc -l) &&
	tarn 1 export dataset lab sales --format xlsx && expect_err_has "unknown export format 'xlsx'" &&
	tarn 1 export dataset lab nosuch && expect_err_has "schema nosuch has no tables" &&
	tarn 1 export dataset lab sales --tables orders,nosuch && expect_err_has "no table sales.nosuch" &&
	tarn 1 export dataset lab sales --at 9999 && expect_err_has "there is no snapshot 9999" &&
	tarn 2 export dataset lab && expect_err_has "needs DOMAIN and SCHEMA" &&
	tarn 2 export dataset lab sales --at x && expect_err_has "--at takes a snapshot id" &&
	test "$(find "$ex" -type f | wc -l)" -eq "$before" &&
	test -z "$(ls -A "$ex/.staging")"
EOF_

test_ok 'two exports of one dataset at once are both recorded' <<'EOF_'
	"$TARN" --lake "$lake" export dataset team sales --tables orders >"$tmp/a.out" 2>&1 &
	"$TARN" --lake "$lake" export dataset team sales --tables orders >"$tmp/b.out" 2>&1 &
	wait &&
	python3 - "$ex/team/sales" <<'PY'
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], "manifest.json")))
vs = [v["version"] for v in m["versions"]]
assert len(vs) == 2 and len(set(vs)) == 2, vs
for v in vs:
    assert os.path.isfile(os.path.join(sys.argv[1], v, "orders.parquet")), v
PY
EOF_

test_ok 'export ls shows the latest version of each dataset' <<'EOF_'
	tarn 0 export ls --format json &&
	json_check '[(r["domain"], r["dataset"]) for r in d] == [("lab", "sales"), ("team", "sales")] and all(r["latest"] for r in d)' &&
	tarn 0 export ls &&
	expect_out_has "(2 rows)"
EOF_

test_ok 'export ls -a shows every version; DOMAIN and DATASET filter' <<'EOF_'
	tarn 0 export ls -a --format json lab &&
	json_check 'len(d) == 5 and [r["format"] for r in d] == ["parquet", "csv", "json", "parquet", "parquet"] and [r["latest"] for r in d] == [False] * 4 + [True]' &&
	tarn 0 export ls -a --format csv lab nosuch &&
	expect_out "domain,dataset,version,created,snapshot,format,files,rows,bytes,latest"
EOF_

test_ok 'prune needs a rule; --dry-run changes nothing' <<'EOF_'
	tarn 2 export prune && expect_err_has "needs --keep N and/or --older-than AGE" &&
	tarn 2 export prune --older-than 3x && expect_err_has "--older-than takes an age" &&
	tarn 0 export prune --keep 2 --dry-run --format json lab &&
	json_check 'len(d) == 3' &&
	tarn 0 export ls -a --format json lab && json_check 'len(d) == 5'
EOF_

test_ok 'prune --older-than spares recent versions' <<'EOF_'
	tarn 0 export prune --older-than 1d --format json &&
	json_check 'd == []' &&
	tarn 0 export ls -a --format json && json_check 'len(d) == 7'
EOF_

test_ok 'prune --keep 2 deletes the older versions: manifest and folders' <<'EOF_'
	gone=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(" ".join(v["version"] for v in m["versions"][:3]))' "$ex/lab/sales/manifest.json") &&
	tarn 0 export prune --keep 2 --format json lab sales &&
	json_check 'len(d) == 3' &&
	for v in $gone; do test ! -e "$ex/lab/sales/$v" || return 1; done &&
	tarn 0 export ls -a --format json lab && json_check 'len(d) == 2 and d[-1]["latest"]' &&
	tarn 0 export ls -a --format json team && json_check 'len(d) == 2'
EOF_

test_ok 'prune --keep 0 still keeps the latest version' <<'EOF_'
	tarn 0 export prune --keep 0 --format json &&
	json_check 'len(d) == 2' &&
	tarn 0 export ls -a --format json && json_check 'len(d) == 2 and all(r["latest"] for r in d)' &&
	test "$(find "$ex/lab/sales" -name '*.parquet' | wc -l)" -eq 1
EOF_

test_ok 'a broken manifest is reported, not overwritten' <<'EOF_'
	echo '{not json' >"$ex/team/sales/manifest.json" &&
	tarn 1 export ls && expect_err_has "manifest.json is not a JSON object" &&
	tarn 1 export dataset team sales --tables orders && expect_err_has "restore it from a copy or remove it" &&
	test "$(cat "$ex/team/sales/manifest.json")" = '{not json' &&
	rm -rf "$ex/team"
EOF_

test_done
