#!/usr/bin/env bash
# t7100-share-s3: exports and pins boards of a lake whose data is in a
# bucket (s3rver on loopback, behind the fault proxy): `export dataset`
# writes to the bucket's exports/ prefix, every format read back and
# compared with the source table, the manifest checked against the
# objects; `export ls` and `prune` read the bucket; a failed upload leaves
# no manifest that names a missing object (and no half version); a pins
# board at an s3:// URL read back by the test's own pins reader.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/../tools/lib-s3.sh"
s3_need
start_s3
lake="$tmp/lake"
root="s3://$BUCKET/prod/"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
sql_val() { "$TARN" --lake "$lake" sql --format csv -c "$1" | tail -n 1; }
# mirror PREFIX DEST: copy the objects under $root$PREFIX to folder DEST.
mirror() {
	rm -rf "$2" && mkdir -p "$2" &&
	"$CLI" "$root" ls "$1" >"$tmp/keys" &&
	while IFS=$'\t' read -r _ key; do
		mkdir -p "$2/$(dirname "${key#"$1"}")" &&
		"$CLI" "$root" get "$key" "$2/${key#"$1"}" || return 1
	done <"$tmp/keys"
}
# objects PREFIX: how many objects are under $root$PREFIX.
objects() { "$CLI" "$root" ls "$1" | wc -l; }

test_ok 'a lake in a bucket with a commented schema' <<'EOF_'
	tarn 0 init -q --data "$root" "$lake" &&
	tarn 0 sql -c "CREATE SCHEMA sales" \
		-c "CREATE TABLE sales.orders (id INTEGER, amount DOUBLE, note VARCHAR)" \
		-c "INSERT INTO sales.orders SELECT i, i * 1.25, CASE WHEN i % 7 = 0 THEN NULL ELSE 'n, \"' || i || '\"' END FROM range(3000) t(i)" \
		-c "COMMENT ON TABLE sales.orders IS 'Every order'" \
		-c "COMMENT ON COLUMN sales.orders.amount IS 'EUR, net'" \
		-c "CREATE TABLE sales.items (k INTEGER, y VARCHAR)" \
		-c "INSERT INTO sales.items VALUES (1, 'a'), (2, NULL)"
EOF_

for fmt in parquet csv json; do
test_ok "export dataset --format $fmt goes to the bucket and reads back equal" <<EOF_
	tarn 0 --format json export dataset lab sales --format $fmt &&
	json_check 'd[0]["files"] == 2 and d[0]["rows"] == 3002 and d[0]["path"].startswith("${root}exports/lab/sales/")' &&
	test ! -e "\$lake/exports/lab" &&
	mirror exports/lab/sales/ "\$tmp/m" &&
	python3 - "\$tmp/m" $fmt <<'PY'
import hashlib, json, os, sys
root, fmt = sys.argv[1], sys.argv[2]
m = json.load(open(os.path.join(root, "manifest.json")))
v = [x for x in m["versions"] if x["version"] == m["latest"]][0]
assert v["format"] == fmt and len(v["files"]) == 2, v
for f in v["files"]:
    data = open(os.path.join(root, v["path"], f["file"]), "rb").read()
    assert len(data) == f["size"] and hashlib.sha256(data).hexdigest() == f["sha256"], f
orders = [f for f in v["files"] if f["table"] == "orders"][0]
assert orders["comment"] == "Every order" and orders["rows"] == 3000, orders
assert [c["comment"] for c in orders["columns"]] == [None, "EUR, net", None], orders
PY
	v=\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["latest"])' "\$tmp/m/manifest.json") &&
	case $fmt in
	parquet) rd="read_parquet('\$tmp/m/\$v/orders.parquet')" ;;
	csv) rd="read_csv('\$tmp/m/\$v/orders.csv', header = true, columns = {'id': 'INTEGER', 'amount': 'DOUBLE', 'note': 'VARCHAR'})" ;;
	json) rd="read_json('\$tmp/m/\$v/orders.json', columns = {'id': 'INTEGER', 'amount': 'DOUBLE', 'note': 'VARCHAR'})" ;;
	esac &&
	tarn 0 sql --format csv -c "SELECT (SELECT count(*) FROM (SELECT * FROM \$rd EXCEPT ALL SELECT * FROM sales.orders)) + (SELECT count(*) FROM (SELECT * FROM sales.orders EXCEPT ALL SELECT * FROM \$rd)) AS diff, (SELECT count(*) FROM \$rd) AS n" &&
	expect_out "diff,n
0,3000"
EOF_
done

test_ok 'comments are in the Parquet key-value metadata of the object' <<'EOF_'
	v=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print([x for x in m["versions"] if x["format"]=="parquet"][0]["version"])' "$tmp/m/manifest.json") &&
	mirror "exports/lab/sales/$v/" "$tmp/pq" &&
	tarn 0 sql --format csv -c "SELECT CAST(value AS VARCHAR) AS v FROM parquet_kv_metadata('$tmp/pq/orders.parquet') WHERE CAST(key AS VARCHAR) IN ('tarn.table_comment', 'tarn.column_comment.amount') ORDER BY 1" &&
	expect_out 'v
"EUR, net"
Every order'
EOF_

test_ok 'export ls reads the manifests in the bucket' <<'EOF_'
	tarn 0 export ls --format json &&
	json_check 'len(d) == 1 and d[0]["format"] == "json" and d[0]["latest"] is True' &&
	tarn 0 export ls -a --format json &&
	json_check '[r["format"] for r in d] == ["parquet", "csv", "json"]'
EOF_

test_ok 'a failed upload of a data file leaves neither a manifest entry nor a file' <<'EOF_'
	before=$(objects exports/) &&
	cp "$tmp/m/manifest.json" "$tmp/manifest.before" &&
	rules '[{"method":"PUT","key":"exports/lab/sales/","fault":"403","skip":1}]' &&
	tarn 1 export dataset lab sales &&
	expect_err_has "403" &&
	rules '[]' &&
	test "$(objects exports/)" -eq "$before" &&
	"$CLI" "$root" get exports/lab/sales/manifest.json "$tmp/manifest.after" &&
	cmp "$tmp/manifest.before" "$tmp/manifest.after" &&
	test -z "$(ls -A "$lake/exports/.staging" 2>/dev/null)"
EOF_

test_ok 'a failed manifest upload takes the uploaded version back' <<'EOF_'
	before=$(objects exports/) &&
	rules '[{"method":"PUT","key":"manifest.json","fault":"403"}]' &&
	tarn 1 export dataset lab sales &&
	rules '[]' &&
	test "$(objects exports/)" -eq "$before" &&
	tarn 0 export ls -a --format json && json_check 'len(d) == 3'
EOF_

test_ok 'export prune deletes old versions from the bucket, manifest first' <<'EOF_'
	tarn 0 export prune --keep 1 --dry-run --format json && json_check 'len(d) == 2' &&
	test "$(objects exports/lab/sales/)" -eq 7 &&
	tarn 0 export prune --keep 1 --format json && json_check 'len(d) == 2' &&
	test "$(objects exports/lab/sales/)" -eq 3 &&
	tarn 0 export ls -a --format json && json_check 'len(d) == 1 and d[0]["format"] == "json"'
EOF_

test_ok 'export pins to an s3:// board: the pins reader reads it back' <<'EOF_'
	board="${root}exports/pins/" &&
	tarn 0 sql -c "CREATE TABLE t (a INTEGER)" -c "INSERT INTO t VALUES (1), (2)" -c "COMMENT ON TABLE t IS 'tiny'" &&
	tarn 0 --format json export pins "$board" sales.orders sales.items=y t=no &&
	json_check '[r["pin"] for r in d] == ["orders", "y", "no"] and all(r["written"] for r in d)' &&
	mirror exports/pins/ "$tmp/board" &&
	expect_rc 0 python3 "$(dirname "$0")/pins_reader.py" "$tmp/board" --expect orders=1 --expect y=1 --expect no=1 &&
	grep -q "description: tiny" "$tmp/board"/no/*/data.txt &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n FROM read_parquet('$tmp/board/orders/*/orders.parquet')" &&
	expect_out "n
3000"
EOF_

test_ok 'unchanged data makes no new version; new data does, and _pins.yaml lists both' <<'EOF_'
	board="${root}exports/pins/" &&
	tarn 0 --format json export pins "$board" t=no &&
	json_check 'd[0]["written"] is False' &&
	sleep 1 &&
	tarn 0 sql -c "INSERT INTO t VALUES (3)" &&
	tarn 0 --format json export pins "$board" t=no &&
	json_check 'd[0]["written"] is True' &&
	mirror exports/pins/ "$tmp/board" &&
	expect_rc 0 python3 "$(dirname "$0")/pins_reader.py" "$tmp/board" --expect orders=1 --expect y=1 --expect no=2
EOF_

test_ok 'a failed data.txt upload leaves the board listing as it was' <<'EOF_'
	board="${root}exports/pins/" &&
	"$CLI" "$root" get exports/pins/_pins.yaml "$tmp/pins.before" &&
	tarn 0 sql -c "INSERT INTO t VALUES (4)" &&
	rules '[{"method":"PUT","key":"data.txt","fault":"403"}]' &&
	tarn 1 export pins "$board" t=no &&
	rules '[]' &&
	mirror exports/pins/ "$tmp/board" &&
	cmp "$tmp/pins.before" "$tmp/board/_pins.yaml" &&
	expect_rc 0 python3 "$(dirname "$0")/pins_reader.py" "$tmp/board" --expect no=2
EOF_

test_ok 'a bad board URL is a clear error' <<'EOF_'
	tarn 1 export pins "s3://$BUCKET/a/../b/" t &&
	expect_err_has "a/../b"
EOF_

test_done
