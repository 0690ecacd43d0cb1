#!/usr/bin/env bash
# Automatic retry of commits the catalog refused for a passing reason (busy,
# lock timeout, serialization failure, an id taken by a foreign writer),
# simulated with TARN_TEST_COMMIT_CONFLICTS=N (the first N commits of the
# process fail that way), on a SQLite and a PostgreSQL lake: autocommit
# statements are re-run, write-only transactions replayed (commit message
# kept), transactions that read are not; past the budget the error says so;
# nothing of a failed attempt stays (no row, no orphan file).
. "$(dirname "$0")/lib-cli.sh"
src=${TARN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib-pg.sh"
psql "$base/postgres" -qAtc "CREATE DATABASE retry" >/dev/null

for kind in sqlite postgres; do
	lake="$tmp/lake-$kind"
	if [ $kind = sqlite ]; then
		"$TARN" init -q "$lake"
	else
		"$TARN" init -q --catalog "$base/retry" "$lake"
	fi
	"$TARN" --lake "$lake" sql -c "CREATE TABLE t (w VARCHAR, i INTEGER)" >/dev/null
	export lake kind

	test_ok "$kind: an autocommit INSERT that meets 3 conflicts lands once" <<'EOF_'
	TARN_TEST_COMMIT_CONFLICTS=3 expect_rc 0 "$TARN" --lake "$lake" sql -c "INSERT INTO t VALUES ('a', 1)" &&
	TARN_TEST_COMMIT_CONFLICTS=3 expect_rc 0 "$TARN" --lake "$lake" sql \
		-c "INSERT INTO t SELECT 'b', range FROM range(100)" &&
	expect_rc 0 "$TARN" --lake "$lake" sql --format csv -c "SELECT w, count(*) AS n FROM t GROUP BY w ORDER BY w" &&
	expect_out "w,n
a,1
b,100"
EOF_

	test_ok "$kind: past the budget the statement fails, says so, and leaves nothing" <<'EOF_'
	TARN_TEST_COMMIT_CONFLICTS=50 TARN_COMMIT_RETRIES=3 expect_rc 1 "$TARN" --lake "$lake" sql \
		-c "INSERT INTO t SELECT 'c', range FROM range(100)" &&
	expect_err_has "gave up after 4 attempts" && expect_err_has "TARN_COMMIT_RETRIES" &&
	TARN_TEST_COMMIT_CONFLICTS=1 TARN_COMMIT_RETRIES=0 expect_rc 1 "$TARN" --lake "$lake" sql -c "INSERT INTO t VALUES ('c', 1)" &&
	expect_err_has "injected conflict" &&
	expect_rc 0 "$TARN" --lake "$lake" sql --format csv -c "SELECT count(*) AS n FROM t WHERE w = 'c'" &&
	expect_out "n
0" &&
	expect_rc 0 "$TARN" --lake "$lake" fsck && grep -q " 0 orphans" "$tmp/out"
EOF_

	test_ok "$kind: a write-only transaction is replayed whole, with its commit message" <<'EOF_'
	before=$("$TARN" --lake "$lake" sql --format csv -c "SELECT max(snapshot_id) FROM tarn_snapshots()" | sed -n 2p) &&
	TARN_TEST_COMMIT_CONFLICTS=2 expect_rc 0 "$TARN" --lake "$lake" sql \
		-c "CALL tarn_set_commit_message('ann', 'batch 7')" -c "BEGIN" -c "INSERT INTO t VALUES ('d', 1)" \
		-c "INSERT INTO t SELECT 'd', range FROM range(10, 60)" -c "DELETE FROM t WHERE w = 'a'" -c "COMMIT" &&
	expect_rc 0 "$TARN" --lake "$lake" sql --format csv \
		-c "SELECT (SELECT count(*) FROM t WHERE w = 'd') AS d, (SELECT count(*) FROM t WHERE w = 'a') AS a" &&
	expect_out "d,a
51,0" &&
	expect_rc 0 "$TARN" --lake "$lake" snapshots --format json &&
	json_check '[s["author"] for s in d if s["snapshot_id"] > '"$before"'] == ["ann"] and d[-1]["commit_message"] == "batch 7"' &&
	expect_rc 0 "$TARN" --lake "$lake" fsck && grep -q " 0 orphans" "$tmp/out"
EOF_

	test_ok "$kind: a transaction that read is not replayed, and leaves nothing" <<'EOF_'
	TARN_TEST_COMMIT_CONFLICTS=1 expect_rc 1 "$TARN" --lake "$lake" sql \
		-c "BEGIN" -c "SELECT count(*) FROM t" -c "INSERT INTO t SELECT 'e', range FROM range(100)" -c "COMMIT" &&
	expect_err_has "not replayed: run it again" &&
	expect_rc 0 "$TARN" --lake "$lake" sql --format csv -c "SELECT count(*) AS n FROM t WHERE w = 'e'" &&
	expect_out "n
0" &&
	expect_rc 0 "$TARN" --lake "$lake" fsck && grep -q " 0 orphans" "$tmp/out"
EOF_

	test_ok "$kind: 6 writers x 15 commits, each process meeting conflicts: every commit once" <<'EOF_'
	for w in 1 2 3 4 5 6; do
		( for s in $(seq 1 15); do
			TARN_TEST_COMMIT_CONFLICTS=$((s % 3)) "$TARN" --lake "$lake" sql -c "INSERT INTO t VALUES ('w$w', $s)" \
				>/dev/null 2>>"$tmp/werr.$kind" && echo "$w $s"
		  done >"$tmp/acked.$kind.$w" ) &
	done
	wait
	cat "$tmp/werr.$kind" 2>/dev/null
	test "$(cat "$tmp"/acked.$kind.* | wc -l)" -eq 90 &&
	expect_rc 0 "$TARN" --lake "$lake" sql --format csv \
		-c "SELECT count(*) AS n, count(DISTINCT (w, i)) AS d FROM t WHERE w LIKE 'w%'" &&
	expect_out "n,d
90,90"
EOF_
done

test_done
