#!/usr/bin/env bash
# t7010-export-pins: `tarn export pins` writes a pins board (api_version 1)
# that test/e2e/pins_reader.py, a reader written from the format notes, reads
# cleanly: folder names, data.txt fields, XXH64 pin_hash, _pins.yaml, and pin
# names YAML 1.1 would misread (y, no, 1e3). The data read back equals the
# source tables; the reader itself is shown to fail on broken boards.
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
board="$tmp/board"
reader="$(dirname "$0")/pins_reader.py"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
read_board() { expect_rc 0 python3 "$reader" "$@"; }

test_ok 'the reader passes its self-test (XXH64 known answers, YAML 1.1 resolution)' <<'EOF_'
	expect_rc 0 python3 "$reader" --selftest &&
	expect_out "selftest: ok"
EOF_

test_ok 'make a lake with tables named y, no and 1e3' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 sql -c "CREATE TABLE y (a INTEGER, \"no\" VARCHAR)" \
		-c "INSERT INTO y VALUES (1, 'on'), (2, NULL), (3, 'it''s')" \
		-c "CREATE TABLE \"no\" (v DOUBLE)" -c "INSERT INTO \"no\" SELECT i / 4 FROM range(10) t(i)" \
		-c "CREATE TABLE \"1e3\" (k BIGINT, s VARCHAR)" -c "INSERT INTO \"1e3\" SELECT i, 'x' || i FROM range(1000) t(i)" \
		-c "CREATE SCHEMA sales" -c "CREATE TABLE sales.orders (id INTEGER, amount DOUBLE)" \
		-c "INSERT INTO sales.orders SELECT i, i * 2.5 FROM range(300) t(i)" \
		-c "COMMENT ON TABLE y IS 'yes: a table called y'" \
		-c "COMMENT ON COLUMN y.\"no\" IS 'no'" \
		-c "COMMENT ON TABLE sales.orders IS 'Orders, with ''quotes'' and a
second line'" \
		-c "COMMENT ON COLUMN sales.orders.amount IS 'true'"
EOF_

test_ok 'export pins writes one version per table' <<'EOF_'
	tarn 0 --format json export pins "$board" main.y no main.1e3 sales.orders &&
	json_check '[r["pin"] for r in d] == ["y", "no", "1e3", "orders"] and all(r["written"] for r in d) and [r["rows"] for r in d] == [3, 10, 1000, 300]' &&
	read_board "$board" --expect y=1 no=1 1e3=1 orders=1 &&
	expect_out_has "4 pins, 4 versions, 0 problems"
EOF_

test_ok 'version folders: YYYYMMDDTHHMMSSZ-<5 hex of XXH64>, data file <pin>.parquet' <<'EOF_'
	for p in y no 1e3 orders; do
		v=$(ls "$board/$p") &&
		echo "$v" | grep -Eq '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{5}$' &&
		test -f "$board/$p/$v/$p.parquet" && test -f "$board/$p/$v/data.txt" &&
		test "$(ls "$board/$p/$v" | wc -l)" -eq 2 || return 1
	done
EOF_

test_ok 'names YAML would misread are quoted in _pins.yaml and data.txt' <<'EOF_'
	grep -qx "'y':" "$board/_pins.yaml" &&
	grep -qx "'no':" "$board/_pins.yaml" &&
	grep -qx "'1e3':" "$board/_pins.yaml" &&
	grep -qx "orders:" "$board/_pins.yaml" &&
	grep -qx "    'no': 'no'" "$board"/y/*/data.txt &&
	grep -qx "    amount: 'true'" "$board"/orders/*/data.txt &&
	grep -q "^created: [0-9]\{8\}T[0-9]\{6\}Z$" "$board"/y/*/data.txt
EOF_

test_ok 'data.txt: fields, title, description from the comment, columns under user' <<'EOF_'
	expect_rc 0 python3 "$reader" "$board" --json &&
	json_check 'd["y"][0]["title"] == "y: a pinned 3 x 2 data frame" and d["y"][0]["description"] == "yes: a table called y" and d["y"][0]["user"]["columns"] == {"a": None, "no": "no"} and d["y"][0]["user"]["source"] == "main.y"' &&
	json_check 'd["orders"][0]["description"] == "Orders, with '"'"'quotes'"'"' and a\nsecond line" and d["orders"][0]["user"]["columns"]["amount"] == "true"' &&
	json_check 'd["no"][0]["description"] is None and d["1e3"][0]["title"] == "1e3: a pinned 1000 x 2 data frame"'
EOF_

test_ok 'the pinned data read back equals the source tables' <<'EOF_'
	for spec in y:y no:'"no"' 1e3:'"1e3"' orders:sales.orders; do
		pin=${spec%%:*} tbl=${spec#*:}
		f=$(ls "$board/$pin"/*/"$pin.parquet") &&
		tarn 0 sql --format csv -c "SELECT (SELECT count(*) FROM (SELECT * FROM $tbl EXCEPT ALL SELECT * FROM read_parquet('$f'))) + (SELECT count(*) FROM (SELECT * FROM read_parquet('$f') EXCEPT ALL SELECT * FROM $tbl)) AS diff" &&
		expect_out "diff
0" || return 1
	done
EOF_

test_ok 'the same data again is not a new version; --force makes one' <<'EOF_'
	v1=$(ls "$board/y") &&
	tarn 0 --format json export pins "$board" y &&
	json_check 'd[0]["written"] is False and d[0]["version"] == "'"$v1"'"' &&
	test "$(ls "$board/y" | wc -l)" -eq 1 &&
	sleep 1 &&
	tarn 0 --format json export pins "$board" y --force &&
	json_check 'd[0]["written"] is True' &&
	read_board "$board" --expect y=2
EOF_

test_ok 'changed data is a new version, listed last in _pins.yaml' <<'EOF_'
	tarn 0 sql -c "INSERT INTO sales.orders VALUES (1000, 1.0)" &&
	tarn 0 --format json export pins "$board" sales.orders &&
	json_check 'd[0]["written"] is True and d[0]["rows"] == 301' &&
	read_board "$board" --expect orders=2 y=2 no=1 1e3=1 &&
	new=$(ls "$board/orders" | tail -1) &&
	test "$(grep -A2 '^orders:' "$board/_pins.yaml" | tail -1)" = "- orders/$new/"
EOF_

test_ok 'PIN names a pin; csv pins are <pin>.csv' <<'EOF_'
	tarn 0 export pins "$board" sales.orders=orders-csv --type csv &&
	f=$(ls "$board"/orders-csv/*/orders-csv.csv) &&
	grep -q "^type: csv$" "$board"/orders-csv/*/data.txt &&
	read_board "$board" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n FROM read_csv('$f')" &&
	expect_out "n
301"
EOF_

test_ok 'bad pin names are refused before anything is written' <<'EOF_'
	before=$(find "$board" | wc -l) &&
	for spec in 'y=../x' 'y=.hidden' 'y=_pins.yaml' 'y=a/b' 'sales.orders=' 'y=sp ace'; do
		tarn 1 export pins "$board" "$spec" &&
		expect_err_has "cannot be a pin name" || return 1
	done &&
	tarn 1 export pins "$board" y y && expect_err_has "two tables would both be pin 'y'" &&
	tarn 1 export pins "$board" main.nosuch && expect_err_has "no table main.nosuch" &&
	tarn 1 export pins "$board" y --type rds && expect_err_has "not supported" &&
	tarn 2 export pins "$board" && expect_err_has "needs BOARD and at least one" &&
	test "$(find "$board" | wc -l)" -eq "$before" &&
	test ! -e "$tmp/x" && read_board "$board"
EOF_

test_ok 'nothing but pins and _pins.yaml at the board root; no staging leftovers' <<'EOF_'
	test "$(ls -A "$board" | sort | tr '\n' ' ')" = "1e3 _pins.yaml no orders orders-csv y " &&
	test -z "$(ls -A "$lake/exports/.staging")"
EOF_

test_ok 'the reader fails on an unquoted y, a wrong hash, a stray file' <<'EOF_'
	cp -r "$board" "$tmp/b1" && sed -i "s/^'y':/y:/" "$tmp/b1/_pins.yaml" &&
	expect_rc 1 python3 "$reader" "$tmp/b1" && expect_out_has "key True is not a string" &&
	cp -r "$board" "$tmp/b2" && d=$(ls -d "$tmp"/b2/no/*) &&
	sed -i 's/^pin_hash: .*/pin_hash: 0123456789abcdef/' "$d/data.txt" &&
	expect_rc 1 python3 "$reader" "$tmp/b2" && expect_out_has "pin_hash 0123456789abcdef but XXH64" &&
	cp -r "$board" "$tmp/b3" && touch "$tmp/b3/README" "$tmp/b3/y/notes.txt" &&
	expect_rc 1 python3 "$reader" "$tmp/b3" && expect_out_has "README: only pin folders" &&
	expect_out_has "notes.txt: a stray entry" &&
	cp -r "$board" "$tmp/b4" && d=$(ls -d "$tmp"/b4/1e3/*) && sed -i 's/^created: \(.*\)$/created: 2020-01-01/' "$d/data.txt" &&
	expect_rc 1 python3 "$reader" "$tmp/b4" && expect_out_has "created is ('timestamp'"
EOF_

test_ok 'PyYAML, when present, reads _pins.yaml and data.txt the same way' <<'EOF_'
	python3 - "$board" <<'PY'
import os, sys
try:
    import yaml
except ImportError:
    print("no PyYAML: skipped"); sys.exit(0)
b = sys.argv[1]
man = yaml.safe_load(open(os.path.join(b, "_pins.yaml")))
assert sorted(man) == ["1e3", "no", "orders", "orders-csv", "y"], man
for pin, versions in man.items():
    for v in versions:
        meta = yaml.safe_load(open(os.path.join(b, v, "data.txt")))
        assert meta["file"] == pin + "." + meta["type"] and isinstance(meta["pin_hash"], str), meta
        assert isinstance(meta["created"], str) and meta["api_version"] == 1, meta
PY
EOF_

test_done
