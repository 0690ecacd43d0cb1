#!/usr/bin/env bash
# t7020-catalog-search: `tarn catalog ls` (description, rows, size, last
# change; --schema; json) and `tarn catalog search` (tables, views and
# columns by name or description, ranked; words passed safely as literals).
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }

test_ok 'make a lake with comments' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 sql -c "CREATE SCHEMA sales" -c "CREATE SCHEMA hr" \
		-c "CREATE TABLE sales.orders (id INTEGER, amount DOUBLE, customer VARCHAR)" \
		-c "CREATE TABLE sales.customers (id INTEGER, name VARCHAR, country VARCHAR)" \
		-c "CREATE TABLE hr.staff (id INTEGER, salary DOUBLE)" \
		-c "INSERT INTO sales.orders SELECT i, i, 'c' || i FROM range(2000) t(i)" \
		-c "INSERT INTO hr.staff VALUES (1, 10)" \
		-c "CREATE VIEW sales.big_orders AS SELECT * FROM sales.orders WHERE amount > 100" \
		-c "COMMENT ON TABLE sales.orders IS 'Every order placed in the web shop'" \
		-c "COMMENT ON COLUMN sales.orders.amount IS 'Order total in EUR'" \
		-c "COMMENT ON TABLE sales.customers IS 'People who bought something'" \
		-c "COMMENT ON COLUMN hr.staff.salary IS 'Gross yearly pay in EUR'" \
		-c "COMMENT ON VIEW sales.big_orders IS 'Orders above 100 EUR'"
EOF_

test_ok 'catalog ls: tables and views with description, rows, size, last change' <<'EOF_'
	tarn 0 catalog ls --format json &&
	json_check '[(r["schema_name"], r["name"], r["kind"]) for r in d] == [("hr", "staff", "table"), ("sales", "big_orders", "view"), ("sales", "customers", "table"), ("sales", "orders", "table")]' &&
	json_check '{r["name"]: r["description"] for r in d} == {"staff": None, "big_orders": "Orders above 100 EUR", "customers": "People who bought something", "orders": "Every order placed in the web shop"}' &&
	json_check '[r["rows"] for r in d if r["name"] == "orders"] == [2000] and [r["bytes"] > 0 for r in d if r["name"] == "orders"] == [True]' &&
	json_check 'all(r["last_snapshot"] is not None and r["last_change"] for r in d)'
EOF_

test_ok 'last change follows inserts, deletes and comments' <<'EOF_'
	tarn 0 catalog ls --format json &&
	before=$(python3 -c 'import json,sys; print([r["last_snapshot"] for r in json.load(open(sys.argv[1])) if r["name"] == "customers"][0])' "$tmp/out") &&
	tarn 0 sql -c "INSERT INTO sales.customers VALUES (1, 'Ann', 'NL')" &&
	snap=$("$TARN" --lake "$lake" sql --format csv -c "SELECT max(snapshot_id) FROM tarn_snapshots()" | tail -1) &&
	tarn 0 catalog ls --schema sales --format json &&
	json_check "[r['last_snapshot'] for r in d if r['name'] == 'customers'] == [$snap] and $snap > $before" &&
	json_check '[r["last_snapshot"] for r in d if r["name"] == "orders"][0] < '"$snap" &&
	json_check 'all(r["schema_name"] == "sales" for r in d) and len(d) == 3'
EOF_

test_ok 'catalog ls of an unknown schema is empty; table output has a footer' <<'EOF_'
	tarn 0 catalog ls --schema nosuch --format csv &&
	expect_out "schema_name,name,kind,description,rows,bytes,columns,last_snapshot,last_change" &&
	tarn 0 catalog ls &&
	expect_out_has "(4 rows)"
EOF_

test_ok 'search finds tables, views and columns by name and description' <<'EOF_'
	tarn 0 catalog search --format json eur &&
	json_check 'sorted((r["kind"], r["table_name"], r["column_name"]) for r in d) == [("column", "orders", "amount"), ("column", "staff", "salary"), ("view", "big_orders", None)]'
EOF_

test_ok 'search ranks whole-name matches first, then more words' <<'EOF_'
	tarn 0 catalog search --format json orders &&
	json_check 'd[0]["kind"] == "table" and d[0]["table_name"] == "orders" and d[0]["score"] == max(r["score"] for r in d)' &&
	tarn 0 catalog search --format json "order total" &&
	json_check 'd[0]["column_name"] == "amount" and d[0]["matched"] == 2'
EOF_

test_ok 'search is case-insensitive and treats % and quotes literally' <<'EOF_'
	tarn 0 catalog search --format json CUSTOMER &&
	json_check '("table", "customers", None) in [(r["kind"], r["table_name"], r["column_name"]) for r in d]' &&
	tarn 0 catalog search --format json "%" &&
	json_check 'd == []' &&
	tarn 0 catalog search --format json "it's" "x'); DROP TABLE sales.orders; --" &&
	json_check 'd == []' &&
	tarn 0 tables --format json && json_check 'len(d) == 4'
EOF_

test_ok 'search without words is a usage error' <<'EOF_'
	tarn 2 catalog search && expect_err_has "at least one word" &&
	tarn 2 catalog search " " && expect_err_has "at least one word" &&
	tarn 2 catalog ls extra && expect_err_has "unexpected argument" &&
	tarn 2 catalog ls --force && expect_err_has "has no option --force" &&
	tarn 2 catalog nope && expect_err_has "unknown subcommand 'nope'"
EOF_

test_done
