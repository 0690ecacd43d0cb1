#!/usr/bin/env bash
# A lake whose catalog is in PostgreSQL 15 (started here on loopback by
# scripts/pg.sh): init, the CLI, the whole SQL suite again (a fresh database
# per test file), many writer processes with no lost or doubled commit, and
# clear errors for a dead server or a lake already in a database.
. "$(dirname "$0")/lib-cli.sh"
src=${TARN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SLT=${TARN_SLT:-$(dirname "$TARN")/test/tarn-slt}
. "$(dirname "$0")/lib-pg.sh"
newdb() { psql "$base/postgres" -qAtc "CREATE DATABASE $1" >/dev/null; echo "$base/$1"; }
lake="$tmp/lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }

test_ok 'init a lake with its catalog in PostgreSQL' <<'EOF_'
	db=$(newdb lake1) &&
	tarn 0 init -q --catalog "$db" "$lake" &&
	test -f "$lake/catalog.url" && test ! -e "$lake/catalog.sqlite" &&
	test "$(stat -c %a "$lake/catalog.url")" = 600 &&
	tarn 0 sql -c "CREATE TABLE t (i INTEGER, s VARCHAR)" -c "INSERT INTO t VALUES (1, 'a'), (2, 'b')" \
		-c "INSERT INTO t SELECT range, 'c' FROM range(10, 20)" -c "DELETE FROM t WHERE i = 1" \
		-c "UPDATE t SET s = 'z' WHERE i = 2" -c "COMMENT ON TABLE t IS 'on postgres'" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n, max(s) AS m FROM t" &&
	expect_out "n,m
11,z" &&
	tarn 0 describe --format json t &&
	json_check 'd["table"][0]["comment"] == "on postgres" and d["table"][0]["row_count"] == 11'
EOF_

test_ok 'the catalog tables are real PostgreSQL tables' <<'EOF_'
	psql "$base/lake1" -qAtc "SELECT count(*) FROM ducklake_snapshot" >"$tmp/out" &&
	test "$(cat "$tmp/out")" -ge 7
EOF_

test_ok 'a second init into the same database is refused' <<'EOF_'
	expect_rc 1 "$TARN" init --catalog "$base/lake1" "$tmp/other" &&
	expect_err_has "already holds a lake"
EOF_

test_ok '6 writer processes x 30 commits: every acknowledged commit once' <<'EOF_'
	tarn 0 sql -c "CREATE TABLE ledger (w INTEGER, seq INTEGER)" &&
	for w in 1 2 3 4 5 6; do
		( for s in $(seq 1 30); do
			"$TARN" --lake "$lake" sql -c "INSERT INTO ledger VALUES ($w, $s)" >/dev/null 2>>"$tmp/werr.$w" && echo "$w $s"
		  done >"$tmp/acked.$w" ) &
	done
	wait
	cat "$tmp"/werr.* >&2
	test "$(cat "$tmp"/acked.* | wc -l)" -eq 180 &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n, count(DISTINCT (w, seq)) AS d FROM ledger" &&
	expect_out "n,d
180,180" &&
	tarn 0 fsck
EOF_

test_ok 'writers killed at random moments: acknowledged commits stay, none is partial' <<'EOF_'
	tarn 0 sql -c "CREATE TABLE batches (w INTEGER, b INTEGER, k INTEGER)" &&
	for round in $(seq 1 6); do
		pids=""
		for w in 1 2 3; do
			( for b in $(seq 1 200); do
				"$TARN" --lake "$lake" sql -c "INSERT INTO batches SELECT $w, $round * 1000 + $b, range FROM range(5)" \
					>/dev/null 2>&1 && echo "$w $((round * 1000 + b))"
			  done >>"$tmp/kacked.$w" ) &
			pids="$pids $!"
		done
		sleep "0.$((RANDOM % 8 + 2))"
		for p in $pids; do
			pkill -9 -P "$p" 2>/dev/null
			kill -9 "$p" 2>/dev/null
		done
		wait $pids 2>/dev/null
	done
	acked=$(cat "$tmp"/kacked.* | wc -l) &&
	tarn 0 sql --format csv -c "SELECT count(*) AS batches, count(*) FILTER (WHERE n <> 5) AS partial FROM (SELECT w, b, count(*) AS n FROM batches GROUP BY w, b)" &&
	got=$(sed -n 2p "$tmp/out" | cut -d, -f1) && partial=$(sed -n 2p "$tmp/out" | cut -d, -f2) &&
	echo "acknowledged $acked, present $got, partial $partial" &&
	test "$partial" -eq 0 && test "$got" -ge "$acked" && test "$got" -le $((acked + 18)) &&
	for line in $(cat "$tmp"/kacked.* | tr ' ' ':'); do echo "$line"; done | sort >"$tmp/ack.sorted" &&
	"$TARN" --lake "$lake" sql --format csv -c "SELECT DISTINCT w || ':' || b FROM batches" | tail -n +2 | sort >"$tmp/have.sorted" &&
	test -z "$(comm -23 "$tmp/ack.sorted" "$tmp/have.sorted")" &&
	tarn 0 fsck
EOF_

test_ok 'a dead server gives a clear error' <<'EOF_'
	mkdir -p "$tmp/dead" && printf 'postgres://postgres@127.0.0.1:1/nowhere' >"$tmp/dead/catalog.url" &&
	expect_rc 1 "$TARN" --lake "$tmp/dead" tables &&
	expect_err_has "127.0.0.1" &&
	rm -r "$tmp/dead"
EOF_

test_ok 'the whole SQL suite with the catalog in PostgreSQL' <<'EOF_'
	fails=0 k=0
	for f in $(find "$src/test/sql" -name '*.test' | grep -v slt_selftest | sort); do
		k=$((k + 1))
		db=$(newdb "suite_$k") || { fails=$((fails + 1)); continue; }
		if ! TARN_CATALOG="$db" "$SLT" "$f" >"$tmp/slt.out" 2>&1; then
			echo "FAILED: $f"; tail -20 "$tmp/slt.out"; fails=$((fails + 1))
		fi
	done
	test $fails -eq 0
EOF_
test_done
