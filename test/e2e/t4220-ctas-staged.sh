#!/usr/bin/env bash
# CREATE TABLE ... AS writes its data file before it waits for the
# catalog's write lock. While it waits (TARN_PAUSEPOINT holds it there),
# another process commits: to an unrelated table, the staged file is kept
# (the query runs once); to a table the query reads, the query runs again
# under the lock, so the new table has the newer rows; a commit that
# replaces the target first is still a clean replace. Nothing is left
# behind (fsck), in autocommit and inside BEGIN ... COMMIT.
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
q() { "$TARN" --lake "$lake" sql --format csv -c "$1" | tail -n +2; }

# ctas_while SQL OTHER: run SQL paused after staging, OTHER meanwhile; the
# trace of SQL's process is left in $tmp/trace.
ctas_while() {
	TARN_PAUSEPOINT=after_stage TARN_PAUSE_MS=1500 TARN_TRACE_SQL=1 \
		"$TARN" --lake "$lake" sql -c "$1" >"$tmp/out" 2>"$tmp/trace" &
	local pid=$!
	sleep 0.5
	"$TARN" --lake "$lake" sql -c "$2" >/dev/null || return 1
	wait "$pid"
}
copies() { grep -c '^\[duckdb .*\] COPY (' "$tmp/trace"; }

test_ok 'a lake with a source and an unrelated table' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 sql -c "CREATE TABLE src AS SELECT range AS i FROM range(1000)" -c "CREATE TABLE other (x INTEGER)"
EOF_

test_ok 'a commit to an unrelated table: the staged file is used, the query ran once' <<'EOF_'
	ctas_while "CREATE TABLE dst AS SELECT CAST(sum(i) AS BIGINT) AS s, count(*) AS n FROM src" "INSERT INTO other VALUES (1)" &&
	[ "$(copies)" = 1 ] &&
	[ "$(q "SELECT s || '/' || n FROM dst")" = "499500/1000" ] &&
	[ "$(q "SELECT count(*) FROM other")" = 1 ]
EOF_

test_ok 'a commit to a table the query reads: it runs again and sees the new rows' <<'EOF_'
	ctas_while "CREATE OR REPLACE TABLE dst AS SELECT CAST(sum(i) AS BIGINT) AS s, count(*) AS n FROM src" \
		"INSERT INTO src VALUES (1000000)" &&
	[ "$(copies)" = 2 ] &&
	[ "$(q "SELECT s || '/' || n FROM dst")" = "1499500/1001" ]
EOF_

test_ok 'the source replaced meanwhile: the new one is read' <<'EOF_'
	ctas_while "CREATE OR REPLACE TABLE dst AS SELECT count(*) AS n FROM src" \
		"CREATE OR REPLACE TABLE src AS SELECT 7 AS i" &&
	[ "$(copies)" = 2 ] && [ "$(q "SELECT n FROM dst")" = 1 ]
EOF_

test_ok 'the target replaced meanwhile: one table, the later one' <<'EOF_'
	ctas_while "CREATE OR REPLACE TABLE dst AS SELECT 'mine' AS who" \
		"CREATE OR REPLACE TABLE dst AS SELECT 'theirs' AS who" &&
	[ "$(q "SELECT string_agg(who, ',') FROM dst")" = mine ] &&
	[ "$(q "SELECT count(*) FROM tarn_tables() WHERE table_name = 'dst'")" = 1 ]
EOF_

test_ok 'inside BEGIN ... COMMIT, with a concurrent write to the source' <<'EOF_'
	TARN_PAUSEPOINT=after_stage TARN_PAUSE_MS=1500 TARN_TRACE_SQL=1 "$TARN" --lake "$lake" sql \
		-c "BEGIN" -c "CREATE OR REPLACE TABLE dst AS SELECT count(*) AS n FROM src" \
		-c "COMMENT ON TABLE dst IS 'counted'" -c "COMMIT" >"$tmp/out" 2>"$tmp/trace" &
	pid=$! && sleep 0.5 && tarn 0 sql -c "INSERT INTO src VALUES (8)" && wait "$pid" &&
	[ "$(q "SELECT n FROM dst")" = 2 ] &&
	[ "$(q "SELECT comment FROM tarn_table('dst')")" = counted ]
EOF_

test_ok 'a failing query leaves no file and no table' <<'EOF_'
	tarn 1 sql -c "CREATE TABLE broken AS SELECT 1 / 0 AS x, error('no') AS y FROM src" &&
	[ "$(q "SELECT count(*) FROM tarn_tables() WHERE table_name = 'broken'")" = 0 ] &&
	[ ! -d "$lake/data/main/broken" ] || [ -z "$(ls -A "$lake/data/main/broken")" ]
EOF_
test_done
