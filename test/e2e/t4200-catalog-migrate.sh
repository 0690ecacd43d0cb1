#!/usr/bin/env bash
# `tarn catalog migrate`: a SQLite lake with history (snapshots, deletes,
# schema changes, inlined rows, comments, a view, two schemas) moves to
# PostgreSQL 15 (started here by scripts/pg.sh) and back; every old version
# reads the same, fsck passes, writes go on. Dry runs, non-empty targets and
# bad targets change nothing; passwords never show.
. "$(dirname "$0")/lib-cli.sh"
src=${TARN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib-pg.sh"
newdb() { psql "$base/postgres" -qAtc "CREATE DATABASE $1" >/dev/null; echo "$base/$1"; }
ducklake_tables() { psql "$base/$1" -qAtc "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'ducklake%'"; }
lake="$tmp/lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
# The trust server takes any password: this one must never be printed.
secret='S3cr3t-pw'
with_pw() { echo "$1" | sed "s|://postgres@|://postgres:$secret@|"; }
no_secret() { ! grep -q "$secret" "$tmp/out" "$tmp/err"; }

# Every version of every table, and the snapshot list, as CSV in $1.
answers() {
	local v t
	: >"$1"
	for v in $(seq 1 "$last"); do
		for t in main.t main.w sales.o v_big; do
			echo "== $t @ $v" >>"$1"
			"$TARN" --lake "$lake" sql --format csv -c "SELECT * FROM $t AT (VERSION => $v) ORDER BY ALL" \
				>>"$1" 2>/dev/null || echo "(none)" >>"$1"
		done
	done
	"$TARN" --lake "$lake" snapshots --format csv >>"$1"
	"$TARN" --lake "$lake" describe --format json t | sed 's/"size_bytes":[0-9]*//' >>"$1"
}

test_ok 'a SQLite lake with history' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 sql -c "CREATE TABLE t (i INTEGER, s VARCHAR)" \
		-c "INSERT INTO t VALUES (1, 'a'), (2, 'b')" \
		-c "INSERT INTO t SELECT range, 'bulk' FROM range(100, 400)" \
		-c "DELETE FROM t WHERE i = 1 OR i BETWEEN 150 AND 160" \
		-c "ALTER TABLE t ADD COLUMN j BIGINT" \
		-c "INSERT INTO t VALUES (3, 'c', 33)" \
		-c "UPDATE t SET s = 'upd' WHERE i = 200" \
		-c "ALTER TABLE t RENAME COLUMN s TO label" \
		-c "COMMENT ON TABLE t IS 'the table'" \
		-c "COMMENT ON COLUMN t.i IS 'an id'" \
		-c "CREATE TABLE w (k INTEGER, note VARCHAR)" \
		-c "INSERT INTO w VALUES (1, 'x'), (2, NULL)" \
		-c "ALTER TABLE w DROP COLUMN note" \
		-c "INSERT INTO w VALUES (3)" \
		-c "CREATE SCHEMA sales" \
		-c "CREATE TABLE sales.o (id INTEGER, amount DOUBLE, ts TIMESTAMP, ok BOOLEAN)" \
		-c "INSERT INTO sales.o VALUES (1, 2.5, TIMESTAMP '2024-05-01 10:00:00', true), (2, NULL, NULL, false)" \
		-c "DELETE FROM sales.o WHERE id = 2" \
		-c "CREATE VIEW v_big AS SELECT i, label FROM t WHERE i > 390" >/dev/null &&
	tarn 0 sql --format csv -c "SELECT max(snapshot_id) FROM tarn_snapshots()" &&
	test "$(sed -n 2p "$tmp/out")" -ge 19 &&
	tarn 0 fsck
EOF_
last=$("$TARN" --lake "$lake" sql --format csv -c "SELECT max(snapshot_id) FROM tarn_snapshots()" | sed -n 2p)
answers "$tmp/before"

test_ok 'a dry run copies and checks, then leaves the lake and the target as they were' <<'EOF_'
	db=$(newdb dry) && sha=$(sha256sum <"$lake/catalog.sqlite") &&
	tarn 0 catalog migrate --dry-run --to "$db" --format json &&
	json_check 'd[0]["dry_run"] is True and d[0]["tables"] >= 28 and d[0]["snapshots"] == '"$((last + 1))" &&
	test ! -e "$lake/catalog.url" && test "$(sha256sum <"$lake/catalog.sqlite")" = "$sha" &&
	test "$(ducklake_tables dry)" -eq 0
EOF_

test_ok 'bad targets are refused and change nothing' <<'EOF_'
	sha=$(sha256sum <"$lake/catalog.sqlite") &&
	tarn 1 catalog migrate --to mysql://x/y && expect_err_has "use postgres://" &&
	tarn 1 catalog migrate --to sqlite && expect_err_has "already a SQLite file" &&
	tarn 2 catalog migrate && expect_err_has "needs --to" &&
	tarn 1 catalog migrate --to "postgres://postgres@127.0.0.1:1/nowhere" && expect_err_has "cannot connect" &&
	test ! -e "$lake/catalog.url" && test "$(sha256sum <"$lake/catalog.sqlite")" = "$sha" &&
	ls "$lake" >"$tmp/files" && test "$(grep -c . "$tmp/files")" -eq 2
EOF_

test_ok 'a target that already holds a lake is refused' <<'EOF_'
	db=$(newdb taken) && "$TARN" init -q --catalog "$db" "$tmp/other" &&
	sha=$(sha256sum <"$lake/catalog.sqlite") &&
	tarn 1 catalog migrate --to "$db" && expect_err_has "already holds DuckLake tables" &&
	test ! -e "$lake/catalog.url" && test "$(sha256sum <"$lake/catalog.sqlite")" = "$sha"
EOF_

test_ok 'migrate to PostgreSQL: the old catalog is kept untouched, no password shows' <<'EOF_'
	db=$(newdb team) && sha=$(sha256sum <"$lake/catalog.sqlite") &&
	tarn 0 catalog migrate --to "$(with_pw "$db")" --format csv && no_secret &&
	expect_err_has "the lake now uses" &&
	grep -q "catalog.sqlite.before-migrate-" "$tmp/out" &&
	test -f "$lake/catalog.url" && test ! -e "$lake/catalog.sqlite" &&
	test "$(stat -c %a "$lake/catalog.url")" = 600 &&
	kept=$(ls "$lake"/catalog.sqlite.before-migrate-* | grep -v -- '-wal$\|-shm$') &&
	test "$(sha256sum <"$kept")" = "$sha" &&
	test "$(ducklake_tables team)" -ge 28 &&
	psql "$base/team" -qAtc "SELECT count(*) FROM ducklake_snapshot" >"$tmp/n" &&
	test "$(cat "$tmp/n")" -eq $((last + 1))
EOF_

test_ok 'on PostgreSQL every old version reads the same, and fsck passes' <<'EOF_'
	answers "$tmp/after_pg" &&
	diff -u "$tmp/before" "$tmp/after_pg" &&
	tarn 0 fsck && no_secret
EOF_

test_ok 'writes go on after the move (inlined, Parquet, delete, DDL)' <<'EOF_'
	tarn 0 sql -c "INSERT INTO t VALUES (4, 'pg', 44)" -c "INSERT INTO t SELECT range, 'pgbulk', range FROM range(1000, 1100)" \
		-c "DELETE FROM t WHERE i = 2" -c "ALTER TABLE w ADD COLUMN z VARCHAR" -c "INSERT INTO w VALUES (4, 'z')" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n, sum(i) AS s FROM t" -c "SELECT count(*) AS n FROM w" &&
	expect_out "n,s
391,178102
n
4" &&
	tarn 0 fsck
EOF_

test_ok 'and back to SQLite: old and new versions read the same, writes go on' <<'EOF_'
	last=$("$TARN" --lake "$lake" sql --format csv -c "SELECT max(snapshot_id) FROM tarn_snapshots()" | sed -n 2p) &&
	answers "$tmp/pg_full" &&
	tarn 0 catalog migrate --to sqlite --format json && no_secret &&
	json_check 'd[0]["to"].endswith("/catalog.sqlite") and d[0]["old_catalog_kept_as"].startswith("'"$lake"'/catalog.url.before-migrate-")' &&
	test -f "$lake/catalog.sqlite" && test ! -e "$lake/catalog.url" &&
	test "$(stat -c %a "$lake"/catalog.url.before-migrate-*)" = 600 &&
	answers "$tmp/back" && diff -u "$tmp/pg_full" "$tmp/back" &&
	tarn 0 fsck &&
	tarn 0 sql -c "INSERT INTO t VALUES (5, 'lite', 55)" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n FROM t" && expect_out "n
392" &&
	psql "$base/team" -qAtc "SELECT count(*) FROM ducklake_snapshot" >"$tmp/n" &&
	test "$(cat "$tmp/n")" -eq $((last + 1))
EOF_

test_done
