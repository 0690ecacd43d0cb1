# lib-maint.sh: the `tarn maintenance` scenario, sourced by t1050 (SQLite)
# and t1051 (PostgreSQL, with $init_catalog set) after lib-cli.sh.
lake="$tmp/lake"
t() { "$TARN" --lake "$lake" "$@"; }
csv() { t sql --format csv -c "$1" | tail -n +2; }
state() { { t sql --format csv -c "SELECT * FROM tarn_snapshots(); SELECT * FROM tarn_files('t')"; find "$lake/data" -type f | sort; } | sha256sum; }

t init -q "$lake" ${init_catalog:+--catalog "$init_catalog"} &&
t sql -c "CREATE TABLE t AS SELECT 1 AS i, 'a' AS s" >/dev/null &&
for i in 2 3 4 5; do t sql -c "INSERT INTO t SELECT $i, 'x$i'" >/dev/null; done &&
t sql -c "DELETE FROM t WHERE i = 2" >/dev/null &&
t sql -c "CREATE TABLE gone AS SELECT range AS x FROM range(3)" >/dev/null &&
t sql -c "DROP TABLE gone" >/dev/null

test_ok '--help and bad arguments' <<'EOF_'
	expect_rc 0 "$TARN" maintenance --help && grep -q 'expire' "$tmp/out" &&
	expect_rc 2 "$TARN" --lake "$lake" maintenance polish && grep -q 'compact, expire, cleanup or all' "$tmp/err" &&
	expect_rc 2 "$TARN" --lake "$lake" maintenance expire --older-than soon && grep -q 'soon' "$tmp/err" &&
	expect_rc 1 "$TARN" --lake "$lake" maintenance compact main.nope && grep -q 'no table main.nope' "$tmp/err"
EOF_

test_ok 'dry runs change nothing' <<'EOF_'
	before=$(state) &&
	t maintenance compact --dry-run --format csv >"$tmp/o" && grep -q '^compact,true,1,4,' "$tmp/o" &&
	t maintenance all --dry-run >/dev/null && [ "$(state)" = "$before" ]
EOF_

test_ok 'compact: one file, the same rows, one snapshot; older versions still read the old files' <<'EOF_'
	v=$(csv "SELECT max(snapshot_id) FROM tarn_snapshots()") && rows=$(csv "SELECT * FROM t ORDER BY i") &&
	t maintenance compact --format csv >"$tmp/o" && grep -q '^compact,false,1,4,' "$tmp/o" &&
	[ "$(csv "SELECT count(*) FROM tarn_files('t')")" = 1 ] &&
	[ "$(csv "SELECT * FROM t ORDER BY i")" = "$rows" ] &&
	[ "$(csv "SELECT max(snapshot_id) FROM tarn_snapshots()")" = $((v + 1)) ] &&
	csv "SELECT commit_message FROM tarn_snapshots() ORDER BY snapshot_id DESC LIMIT 1" | grep -q 'compact main.t' &&
	[ "$(csv "SELECT count(*) FROM t AT (VERSION => 3)")" = 3 ] &&
	t maintenance compact --format csv >"$tmp/o" && grep -q '^compact,false,0,0,' "$tmp/o" &&
	expect_rc 0 "$TARN" --lake "$lake" fsck
EOF_

test_ok 'expire: old versions are gone with a clear error, kept ones read as before; unseen files scheduled' <<'EOF_'
	last=$(csv "SELECT max(snapshot_id) FROM tarn_snapshots()") &&
	kept=$(csv "SELECT * FROM t AT (VERSION => $((last - 1))) ORDER BY i") &&
	t maintenance expire --keep 2 --format csv >"$tmp/o" && grep -q "^expire,false,0,0,$((last - 1)),[1-9]" "$tmp/o" &&
	[ "$(csv "SELECT count(*) FROM tarn_snapshots()")" = 2 ] &&
	[ "$(csv "SELECT * FROM t AT (VERSION => $((last - 1))) ORDER BY i")" = "$kept" ] &&
	expect_rc 1 "$TARN" --lake "$lake" sql -c "SELECT * FROM t AT (VERSION => 2)" && grep -q 'No snapshot found at version 2' "$tmp/err" &&
	expect_rc 0 "$TARN" --lake "$lake" fsck && grep -q ' 0 orphans' "$tmp/out"
EOF_

test_ok 'cleanup: scheduled files leave the disk; fsck clean; the table reads the same' <<'EOF_'
	n=$(find "$lake/data" -name '*.parquet' | wc -l) && rows=$(csv "SELECT * FROM t ORDER BY i") &&
	t maintenance cleanup --format csv >"$tmp/o" && d=$(cut -d, -f7 <"$tmp/o" | tail -1) && [ "$d" -ge 1 ] &&
	[ "$(find "$lake/data" -name '*.parquet' | wc -l)" = $((n - d)) ] &&
	[ ! -e "$lake/data/main/gone" ] || [ -z "$(ls -A "$lake/data/main/gone")" ] &&
	[ "$(csv "SELECT * FROM t ORDER BY i")" = "$rows" ] &&
	expect_rc 0 "$TARN" --lake "$lake" fsck && grep -q '0 problems, 0 orphans' "$tmp/out" &&
	t maintenance cleanup --format csv >"$tmp/o" && grep -q '^cleanup,false,0,0,0,0,0,0' "$tmp/o"
EOF_

test_ok 'writes go on after maintenance' <<'EOF_'
	t sql -c "INSERT INTO t SELECT 9, 'z'" >/dev/null && [ "$(csv "SELECT count(*) FROM t")" = 5 ] &&
	t maintenance all --format csv >"$tmp/o" && grep -q '^all,false,1,2,' "$tmp/o" &&
	[ "$(csv "SELECT count(*) FROM t")" = 5 ] && expect_rc 0 "$TARN" --lake "$lake" fsck
EOF_
