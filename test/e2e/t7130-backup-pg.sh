#!/usr/bin/env bash
# t7130-backup-pg: catalog backups of a lake whose catalog is in
# PostgreSQL 15 (scripts/pg.sh on loopback): a backup taken during
# concurrent writes is a SQLite DuckLake catalog holding one consistent
# snapshot; restoring it into the live database needs --force, keeps the
# old tables in a schema of their own and leaves a consistent lake; a
# corrupted backup is refused; the same backup restores into a fresh
# database (--to URI) and into SQLite (--to sqlite).
. "$(dirname "$0")/lib-cli.sh"
src=${TARN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib-pg.sh"
lake="$tmp/lake"
bk="$lake/backups/catalog"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
sql_val() { "$TARN" --lake "$lake" sql --format csv -c "$1" | tail -n 1; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[-1][sys.argv[2]])' "$tmp/out" "$1"; }
psql_val() { psql "$base/$1" -qAtc "$2"; }

test_ok 'a lake with its catalog in PostgreSQL, inlined rows and files' <<'EOF_'
	psql "$base/postgres" -qAtc "CREATE DATABASE bk1" >/dev/null &&
	tarn 0 init -q --catalog "$base/bk1" "$lake" &&
	tarn 0 sql -c "CREATE TABLE ledger (w INTEGER, seq INTEGER)" \
		-c "INSERT INTO ledger SELECT 0, i FROM range(100) t(i)" \
		-c "INSERT INTO ledger VALUES (0, 1000)" \
		-c "COMMENT ON TABLE ledger IS 'who wrote what'" \
		-c "CREATE TABLE flags (b BOOLEAN, t TIMESTAMPTZ, u UUID)" \
		-c "INSERT INTO flags VALUES (true, TIMESTAMPTZ '2024-05-01 12:30:45.123456+00', uuid())"
EOF_

test_ok 'backup: a SQLite DuckLake catalog with the snapshot, size and SHA-256 recorded' <<'EOF_'
	snap=$(sql_val "SELECT max(snapshot_id) FROM tarn_snapshots()") &&
	tarn 0 catalog backup --format json &&
	json_check "d[0]['snapshot'] == $snap and d[0]['catalog'] == 'postgres' and d[0]['latest'] is True" &&
	v=$(field version) &&
	python3 - "$bk" "$v" "$snap" <<'PY'
import hashlib, json, os, sqlite3, sys
root, v, snap = sys.argv[1], sys.argv[2], int(sys.argv[3])
m = json.load(open(os.path.join(root, "manifest.json")))
e = m["backups"][0]
path = os.path.join(root, e["file"])
data = open(path, "rb").read()
assert e["size"] == len(data) and e["sha256"] == hashlib.sha256(data).hexdigest(), e
db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
assert db.execute("SELECT max(snapshot_id) FROM ducklake_snapshot").fetchone()[0] == snap
tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
assert "ducklake_data_file" in tables and any(t.startswith("ducklake_inlined_data_") for t in tables), tables
assert db.execute("SELECT count(*) FROM ducklake_tag WHERE value = 'who wrote what'").fetchone()[0] == 1
PY
EOF_

test_ok 'each catalog table has the same rows in the backup as in PostgreSQL' <<'EOF_'
	v=$(ls -d "$bk"/*/* | tail -1) &&
	for t in $(psql_val bk1 "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'ducklake%' ORDER BY 1"); do
		a=$(psql_val bk1 "SELECT count(*) FROM $t") &&
		b=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM " + sys.argv[2]).fetchone()[0])' "$v/catalog.sqlite" "$t") &&
		{ test "$a" = "$b" || { echo "$t: $a in PostgreSQL, $b in the backup"; false; }; } || exit 1
	done
EOF_

test_ok 'a backup during concurrent writes restores to a consistent lake' <<'EOF_'
	for w in 1 2 3; do
		( for s in $(seq 1 20); do
			"$TARN" --lake "$lake" sql -c "INSERT INTO ledger VALUES ($w, $s)" >/dev/null 2>&1
		  done ) &
	done
	sleep 1 &&
	tarn 0 catalog backup --format json &&
	wait &&
	snap=$(field snapshot) && v=$(field version) &&
	want=$(sql_val "SELECT count(*) FROM ledger AT (VERSION => $snap)") &&
	test "$(sql_val "SELECT count(*) FROM ledger")" -eq 161 &&
	test "$want" -ge 101 &&
	tarn 1 catalog restore &&
	expect_err_has "holds a lake's catalog" && expect_err_has "--force" &&
	test "$(sql_val "SELECT count(*) FROM ledger")" -eq 161 &&
	tarn 0 catalog restore --force --format json &&
	json_check "d[0]['restored'] == '$v' and d[0]['snapshot'] == $snap and d[0]['problems'] == 0 and d[0]['previous_catalog'].startswith('schema tarn_before_restore_')" &&
	test "$(sql_val "SELECT count(*) FROM ledger")" -eq "$want" &&
	test "$(sql_val "SELECT max(snapshot_id) FROM tarn_snapshots()")" -eq "$snap" &&
	tarn 0 fsck &&
	tarn 0 sql -c "INSERT INTO ledger VALUES (9, 9)" &&
	test "$(sql_val "SELECT count(*) FROM ledger")" -eq $((want + 1)) &&
	tarn 0 sql --format csv -c "SELECT b, CAST(t AS VARCHAR) AS t FROM flags" &&
	expect_out "b,t
true,2024-05-01 12:30:45.123456+00"
EOF_

test_ok 'the replaced tables are kept whole in their own schema' <<'EOF_'
	s=$(psql_val bk1 "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tarn_before_restore_%'") &&
	test -n "$s" &&
	test "$(psql_val bk1 "SELECT max(snapshot_id) FROM $s.ducklake_snapshot")" -gt 0 &&
	test "$(psql_val bk1 "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$s'")" -ge 28
EOF_

test_ok 'a corrupted backup is refused and PostgreSQL is left alone' <<'EOF_'
	before=$(psql_val bk1 "SELECT max(snapshot_id) || '/' || count(*) FROM ducklake_snapshot") &&
	last=$(ls -d "$bk"/*/* | tail -1) &&
	cp "$last/catalog.sqlite" "$tmp/good.sqlite" &&
	printf 'X' | dd of="$last/catalog.sqlite" bs=1 seek=5000 conv=notrunc 2>/dev/null &&
	tarn 1 catalog restore --force &&
	expect_err_has "is corrupt" && expect_err_has "SHA-256" &&
	test "$(psql_val bk1 "SELECT max(snapshot_id) || '/' || count(*) FROM ducklake_snapshot")" = "$before" &&
	test "$(psql_val bk1 "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tarn_before_restore_%'")" -eq 1 &&
	cp "$tmp/good.sqlite" "$last/catalog.sqlite" &&
	tarn 0 fsck
EOF_

test_ok '--to a fresh database: the lake then uses it' <<'EOF_'
	psql "$base/postgres" -qAtc "CREATE DATABASE bk2" >/dev/null &&
	tarn 0 catalog backups --format json &&
	v=$(field version) && snap=$(field snapshot) &&
	tarn 0 catalog restore --to "$base/bk2" --format json &&
	json_check "d[0]['restored'] == '$v' and d[0]['problems'] == 0" &&
	grep -q "/bk2" "$lake/catalog.url" && test "$(stat -c %a "$lake/catalog.url")" = 600 &&
	test "$(psql_val bk2 "SELECT max(snapshot_id) FROM ducklake_snapshot")" -eq "$snap" &&
	tarn 0 sql -c "INSERT INTO ledger VALUES (7, 7)" &&
	test "$(psql_val bk2 "SELECT max(snapshot_id) FROM ducklake_snapshot")" -eq $((snap + 1)) &&
	tarn 0 fsck
EOF_

test_ok '--to sqlite: the lake gets a SQLite catalog, the server one is set aside' <<'EOF_'
	n=$(sql_val "SELECT count(*) FROM ledger") &&
	tarn 0 catalog backup >/dev/null &&
	tarn 1 catalog restore --to sqlite && expect_err_has "--force" &&
	tarn 0 catalog restore --to sqlite --force --format json &&
	json_check "d[0]['problems'] == 0 and '/catalog.url.before-restore-' in d[0]['previous_catalog']" &&
	test -f "$lake/catalog.sqlite" && test ! -e "$lake/catalog.url" &&
	test "$(sql_val "SELECT count(*) FROM ledger")" -eq "$n" &&
	tarn 0 sql -c "INSERT INTO ledger VALUES (8, 8)" &&
	test "$(sql_val "SELECT count(*) FROM ledger")" -eq $((n + 1)) &&
	tarn 1 catalog restore --to mysql://x && expect_err_has "use sqlite or postgres://"
EOF_

test_done
