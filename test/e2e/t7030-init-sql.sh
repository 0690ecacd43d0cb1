#!/usr/bin/env bash
# t7030-init-sql: `tarn tools generate-init-sql` writes a duckdb init script
# (INSTALL/LOAD ducklake, ATTACH 'ducklake:sqlite:<catalog>' with the data
# path) to local/init.sql or --out; paths are SQL literals; every statement
# parses in DuckDB (without network the extensions cannot load, so running
# them fails, but never with a parser error). The S3 form is covered by the
# unit test (test_share).
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/it's-lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }

test_ok 'make a lake whose path needs quoting' <<'EOF_'
	tarn 0 init -q "$lake"
EOF_

test_ok 'default output is local/init.sql in the current folder' <<'EOF_'
	mkdir -p "$tmp/work" &&
	(cd "$tmp/work" && expect_rc 0 "$TARN" --lake "$lake" tools generate-init-sql) &&
	test -f "$tmp/work/local/init.sql" &&
	grep -q "^INSTALL ducklake;$" "$tmp/work/local/init.sql" &&
	grep -q "^LOAD ducklake;$" "$tmp/work/local/init.sql" &&
	grep -q "^INSTALL sqlite;$" "$tmp/work/local/init.sql"
EOF_

test_ok 'ATTACH names the SQLite catalog and the data path as quoted literals' <<'EOF_'
	tarn 0 tools generate-init-sql --out - &&
	cat_path=$(cd "$lake" && pwd)/catalog.sqlite &&
	q() { printf '%s' "$1" | sed "s/'/''/g"; } &&
	expect_out_has "ATTACH 'ducklake:sqlite:$(q "$cat_path")' AS lake (DATA_PATH '$(q "$(cd "$lake" && pwd)/data/")');" &&
	expect_out_has "USE lake;" &&
	expect_out_lacks "SECRET"
EOF_

test_ok '--out writes the file (folders created) and says how to use it' <<'EOF_'
	tarn 0 tools generate-init-sql --out "$tmp/a/b/init.sql" &&
	test -f "$tmp/a/b/init.sql" &&
	expect_out_has "duckdb -init $tmp/a/b/init.sql"
EOF_

test_ok 'every statement parses in DuckDB' <<'EOF_'
	tarn 0 tools generate-init-sql --out "$tmp/init.sql" &&
	python3 - "$tmp/init.sql" "$tmp/stmts" <<'PY' &&
import os, sys
text = "\n".join(l for l in open(sys.argv[1]).read().split("\n") if not l.startswith("--"))
os.makedirs(sys.argv[2])
stmts = [s.strip() for s in text.split(";\n") if s.strip()]
assert len(stmts) == 6, stmts
for i, s in enumerate(stmts):
    open(os.path.join(sys.argv[2], "%d.sql" % i), "w").write(s.rstrip(";") + ";\n")
PY
	for f in "$tmp"/stmts/*.sql; do
		"$TARN" --lake "$lake" sql -f "$f" >"$tmp/o" 2>&1
		if grep -qi "parser error\|syntax error" "$tmp/o"; then cat "$f" "$tmp/o"; return 1; fi
	done
EOF_

test_ok 'unknown tool and stray arguments are usage errors' <<'EOF_'
	tarn 2 tools && expect_err_has "missing tool" &&
	tarn 2 tools nope && expect_err_has "unknown tool" &&
	tarn 2 tools generate-init-sql extra && expect_err_has "unexpected argument"
EOF_

test_done
