#!/usr/bin/env bash
# A missing, foreign or damaged lake gets a clear error that names it, and
# nothing is written.
. "$(dirname "$0")/lib-cli.sh"

test_ok 'a folder without a lake' <<'EOF_'
	mkdir "$tmp/empty" &&
	expect_rc 1 "$TARN" --lake "$tmp/empty" tables &&
	expect_err_has "no lake at" &&
	expect_err_has "tarn init" &&
	test ! -e "$tmp/empty/catalog.sqlite"
EOF_

test_ok 'a SQLite file that is not a DuckLake catalog' <<'EOF_'
	mkdir "$tmp/foreign" &&
	python3 -c "import sqlite3; sqlite3.connect('$tmp/foreign/catalog.sqlite').execute('create table x(a)')" &&
	expect_rc 1 "$TARN" --lake "$tmp/foreign" sql -c "SELECT 1" &&
	expect_err_has "is not a DuckLake catalog" &&
	rm -r "$tmp/foreign"   # not a lake: the closing fsck is for lakes
EOF_

test_ok 'a catalog file that is not a database' <<'EOF_'
	mkdir "$tmp/junk" &&
	echo "not a database at all, just text" >"$tmp/junk/catalog.sqlite" &&
	expect_rc 1 "$TARN" --lake "$tmp/junk" tables &&
	expect_err_has "catalog.sqlite" &&
	test "$(cat "$tmp/junk/catalog.sqlite")" = "not a database at all, just text" &&
	rm -r "$tmp/junk"
EOF_

test_ok 'init refuses a folder that holds a lake, and changes nothing' <<'EOF_'
	expect_rc 0 "$TARN" init -q "$tmp/lake" &&
	"$TARN" --lake "$tmp/lake" sql -c "CREATE TABLE t (i INTEGER)" >/dev/null &&
	sum1=$(sha256sum "$tmp/lake/catalog.sqlite") &&
	expect_rc 1 "$TARN" init "$tmp/lake" &&
	expect_err_has "already holds a lake" &&
	test "$(sha256sum "$tmp/lake/catalog.sqlite")" = "$sum1"
EOF_

test_ok 'a bad statement changes nothing: same snapshots, same files' <<'EOF_'
	before=$("$TARN" --lake "$tmp/lake" sql --format csv -c "SELECT count(*) FROM tarn_snapshots()") &&
	files1=$(find "$tmp/lake/data" -type f | sort) &&
	expect_rc 1 "$TARN" --lake "$tmp/lake" sql -c "INSERT INTO t SELECT 'x' || range FROM range(100)" &&
	expect_rc 1 "$TARN" --lake "$tmp/lake" sql -c "INSERT INTO t VALUES (1), ('y')" &&
	expect_rc 1 "$TARN" --lake "$tmp/lake" sql -c "CREATE TABLE u AS SELECT 1/0 AS x, error('boom')" &&
	after=$("$TARN" --lake "$tmp/lake" sql --format csv -c "SELECT count(*) FROM tarn_snapshots()") &&
	test "$before" = "$after" &&
	test "$(find "$tmp/lake/data" -type f | sort)" = "$files1"
EOF_
test_done
