#!/usr/bin/env bash
# `tarn ingest duckdb FILE`: every table of a DuckDB database file into the
# lake with its table and column comments, in one snapshot. The fixture is
# written by the libduckdb tarn links (through Python's ctypes).
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
q() { "$TARN" --lake "$lake" sql --format csv -c "$1"; }
snaps() { q "SELECT count(*) AS n FROM tarn_snapshots()" | tail -1; }

libduckdb=$(ldd "$TARN" | awk '/libduckdb/ { print $3 }')
# duckdb_sql FILE SQL...: run statements on a DuckDB database file.
duckdb_sql() {
	python3 - "$libduckdb" "$@" <<'PY'
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
db, con = ctypes.c_void_p(), ctypes.c_void_p()
res = ctypes.create_string_buffer(256)
lib.duckdb_result_error.restype = ctypes.c_char_p
assert lib.duckdb_open(sys.argv[2].encode(), ctypes.byref(db)) == 0, "open"
assert lib.duckdb_connect(db, ctypes.byref(con)) == 0, "connect"
for sql in sys.argv[3:]:
    if lib.duckdb_query(con, sql.encode(), res) != 0:
        sys.exit("%s: %s" % (sql, lib.duckdb_result_error(res).decode()))
    lib.duckdb_destroy_result(res)
lib.duckdb_disconnect(ctypes.byref(con))
lib.duckdb_close(ctypes.byref(db))
PY
}

test_ok 'a DuckDB file with tables, comments, a second schema, an ENUM and a view' <<'EOF_'
	[ -n "$libduckdb" ] &&
	duckdb_sql "$tmp/src.duckdb" \
		"CREATE TABLE people (id INTEGER, name VARCHAR, born DATE)" \
		"INSERT INTO people VALUES (1, 'Ada', '1815-12-10'), (2, 'Alan', '1912-06-23')" \
		"COMMENT ON TABLE people IS 'people who computed'" \
		"COMMENT ON COLUMN people.name IS 'full name'" \
		"CREATE TYPE mood AS ENUM ('ok', 'sad')" \
		"CREATE TABLE feelings (who INTEGER, m mood)" \
		"INSERT INTO feelings VALUES (1, 'ok'), (2, 'sad')" \
		"CREATE SCHEMA extra" \
		"CREATE TABLE extra.numbers AS SELECT range AS n FROM range(100)" \
		"COMMENT ON TABLE extra.numbers IS 'a hundred numbers'" \
		"CREATE VIEW adults AS SELECT * FROM people" &&
	tarn 0 init -q "$lake"
EOF_

test_ok 'every table lands in bronze in one snapshot; views are skipped with a note' <<'EOF_'
	n=$(snaps) &&
	tarn 0 ingest duckdb "$tmp/src.duckdb" &&
	expect_out_has "bronze.people: imported 2 rows" &&
	expect_out_has "bronze.feelings: imported 2 rows" &&
	expect_out_has "bronze.extra_numbers: imported 100 rows" &&
	expect_err_has "skipped 1 view" &&
	[ "$(snaps)" = "$((n + 1))" ] &&
	q "SELECT commit_message FROM tarn_snapshots() ORDER BY snapshot_id DESC LIMIT 1" >"$tmp/out" &&
	expect_out_has "tarn ingest duckdb $tmp/src.duckdb sha256:$(sha256sum "$tmp/src.duckdb" | cut -d" " -f1): 3 tables into bronze"
EOF_

test_ok 'data, table comments and column comments are kept' <<'EOF_'
	q "SELECT id, name, born FROM bronze.people ORDER BY id" >"$tmp/out" &&
	expect_out "id,name,born
1,Ada,1815-12-10
2,Alan,1912-06-23" &&
	q "SELECT table_name, comment FROM tarn_tables() WHERE comment IS NOT NULL ORDER BY 1" >"$tmp/out" &&
	expect_out "table_name,comment
extra_numbers,a hundred numbers
people,people who computed" &&
	q "SELECT column_name, comment FROM tarn_columns('bronze.people') WHERE comment IS NOT NULL" >"$tmp/out" &&
	expect_out "column_name,comment
name,full name"
EOF_

test_ok 'ENUM columns become VARCHAR' <<'EOF_'
	q "SELECT column_type FROM tarn_columns('bronze.feelings') WHERE column_name = 'm'" >"$tmp/out" &&
	expect_out "column_type
VARCHAR" &&
	[ "$(q "SELECT m FROM bronze.feelings WHERE who = 2" | tail -1)" = sad ]
EOF_

test_ok 'a second import into the same schema fails and changes nothing' <<'EOF_'
	n=$(snaps) &&
	tarn 1 ingest duckdb "$tmp/src.duckdb" &&
	expect_err_has "table bronze.feelings exists already" &&
	[ "$(snaps)" = "$n" ]
EOF_

test_ok '--schema picks another schema' <<'EOF_'
	tarn 0 ingest duckdb "$tmp/src.duckdb" --schema imported &&
	expect_out_has "imported.people: imported 2 rows" &&
	[ "$(q "SELECT count(*) FROM imported.extra_numbers" | tail -1)" = 100 ]
EOF_

test_ok 'the source file is opened read-only and detached afterwards' <<'EOF_'
	sha=$(sha256sum "$tmp/src.duckdb") &&
	tarn 0 ingest duckdb "$tmp/src.duckdb" --schema again &&
	[ "$(sha256sum "$tmp/src.duckdb")" = "$sha" ] &&
	q "SELECT count(*) FROM duckdb_databases() WHERE database_name = '__tarn_import'" >"$tmp/out" &&
	expect_out "count_star()
0"
EOF_

test_ok 'a missing file, a non-DuckDB file and a missing argument are clear errors' <<'EOF_'
	tarn 1 ingest duckdb "$tmp/nope.duckdb" && expect_err_has "no such DuckDB database file" &&
	echo "not a database" >"$tmp/fake.duckdb" &&
	n=$(snaps) &&
	tarn 1 ingest duckdb "$tmp/fake.duckdb" --schema fake &&
	expect_err_has "cannot open $tmp/fake.duckdb as a DuckDB database" &&
	[ "$(snaps)" = "$n" ] &&
	tarn 2 ingest duckdb
EOF_
test_done
