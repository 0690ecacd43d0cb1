#!/usr/bin/env bash
# A session builds the DuckDB view of a table (which lists its files) only
# when a query reads that table: with the file of table b gone, queries on a
# still answer; anything that reads b, directly, through a lake view, a temp
# view or a subquery, reads it for real (an error while its file is gone,
# the right rows once it is back), never the empty stand-in.
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }

test_ok 'two tables and a lake view over the second' <<'EOF_'
	tarn 0 init -q --inline-limit 0 "$lake" &&
	tarn 0 sql -c "CREATE TABLE a AS SELECT range AS x FROM range(10)" \
		-c "CREATE SCHEMA s2" -c "CREATE TABLE s2.b AS SELECT range AS x FROM range(5, 25)" \
		-c "CREATE VIEW vb AS SELECT * FROM s2.b"
EOF_

test_ok 'with the file of b gone, queries that read only a answer' <<'EOF_'
	f=$("$TARN" --lake "$lake" sql --format csv -c "SELECT path FROM tarn_files('s2.b')" | tail -1) &&
	mv "$lake/data/s2/b/$f" "$tmp/b.parquet" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n FROM a" -c "SELECT sum(x) AS s FROM a WHERE x > 4" \
		-c "WITH b AS (SELECT 1 AS x) SELECT count(*) AS c FROM a, b" &&
	expect_out_has "35"
EOF_

test_ok 'reading b in any way reads its files (and fails while one is gone)' <<'EOF_'
	tarn 1 sql -c "SELECT count(*) FROM s2.b" &&
	tarn 1 sql -c "SELECT count(*) FROM a JOIN s2.b USING (x)" &&
	tarn 1 sql -c "SELECT count(*) FROM a WHERE x IN (SELECT x FROM s2.b)" &&
	tarn 1 sql -c "SELECT count(*) FROM vb" &&
	tarn 1 sql -c "CREATE TEMP VIEW tv AS SELECT * FROM s2.b" -c "SELECT count(*) FROM tv" &&
	tarn 1 sql -c "SET schema = 's2'" -c "SELECT count(*) FROM b"
EOF_

test_ok 'with the file back, each of them gives the right rows, never the empty stand-in' <<'EOF_'
	f=$("$TARN" --lake "$lake" sql --format csv -c "SELECT path FROM tarn_files('s2.b')" | tail -1) &&
	mv "$tmp/b.parquet" "$lake/data/s2/b/$f" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n FROM a" \
		-c "SELECT (SELECT count(*) FROM s2.b) AS n1, (SELECT count(*) FROM a JOIN s2.b USING (x)) AS n2" &&
	expect_out "n
10
n1,n2
20,5" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n FROM a" -c "SELECT count(*) AS n FROM a WHERE x IN (SELECT x FROM s2.b)" &&
	expect_out "n
10
n
5" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n FROM a" -c "SELECT count(*) AS n FROM vb" && expect_out "n
10
n
20" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n FROM a" -c "CREATE TEMP VIEW tv AS SELECT * FROM s2.b" \
		-c "SELECT count(*) AS n FROM tv" && expect_out "n
10
n
20" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n FROM a" -c "SET schema = 's2'" -c "SELECT count(*) AS n FROM b" &&
	expect_out "n
10
n
20"
EOF_

test_done
