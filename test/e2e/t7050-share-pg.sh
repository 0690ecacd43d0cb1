#!/usr/bin/env bash
# t7050-share-pg: the sharing commands on a lake whose catalog is in
# PostgreSQL 15 (started on loopback by scripts/pg.sh): exports, pins and
# search work through the session as on SQLite; generate-init-sql attaches
# ducklake:postgres without the password; catalog backup copies the
# catalog into a SQLite file (restores: t7130).
. "$(dirname "$0")/lib-cli.sh"
src=${TARN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib-pg.sh"
lake="$tmp/lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }

test_ok 'a lake with its catalog in PostgreSQL' <<'EOF_'
	psql "$base/postgres" -qAtc "CREATE DATABASE share1" >/dev/null &&
	tarn 0 init -q --catalog "$base/share1" "$lake" &&
	tarn 0 sql -c "CREATE TABLE y (a INTEGER)" -c "INSERT INTO y SELECT range FROM range(50)" \
		-c "COMMENT ON TABLE y IS 'on postgres'"
EOF_

test_ok 'export dataset, pins and search work as on SQLite' <<'EOF_'
	tarn 0 --format json export dataset lab main &&
	json_check 'd[0]["rows"] == 50' &&
	tarn 0 export pins "$tmp/board" y &&
	expect_rc 0 python3 "$(dirname "$0")/pins_reader.py" "$tmp/board" --expect y=1 &&
	tarn 0 catalog search --format json postgres &&
	json_check 'd[0]["table_name"] == "y"'
EOF_

test_ok 'generate-init-sql attaches ducklake:postgres, never with a password' <<'EOF_'
	tarn 0 tools generate-init-sql --out - &&
	expect_out_has "INSTALL postgres;" &&
	expect_out_has "ATTACH 'ducklake:postgres:" &&
	expect_out_has "/share1' AS lake (DATA_PATH '" &&
	expect_out_has "PGPASSWORD" &&
	expect_out_lacks "catalog.sqlite" &&
	pw=$(printf '%s' "$base" | sed -n 's|^[a-z]*://[^:/@]*:\([^@]*\)@.*|\1|p') &&
	{ test -z "$pw" || expect_out_lacks ":$pw@"; }
EOF_

test_ok 'catalog backup copies a PostgreSQL catalog into a SQLite file (more in t7130)' <<'EOF_'
	tarn 0 catalog backup --format json &&
	json_check 'd[0]["catalog"] == "postgres" and d[0]["snapshot"] >= 2' &&
	test ! -e "$lake/catalog.sqlite" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n FROM y" && expect_out "n
50"
EOF_

test_done
