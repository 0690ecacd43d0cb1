#!/usr/bin/env bash
# Crash safety: kill -9 the writer at each named point of the commit, and at
# random moments in a loop of commits. Afterwards `tarn fsck` must be clean
# and the table must hold exactly the committed rows.
set -u
TARN=${TARN:-build/tarn}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }
count() { "$TARN" --lake "$1" sql --format csv -c "SELECT count(*) AS n FROM t" | tail -1; }

# Each point for a Parquet write (INSERT ... SELECT) and, where it applies,
# for rows kept in the catalog (a small INSERT ... VALUES, data inlining).
for case in after_data_write:select after_data_sync:select before_catalog_commit:select \
	    after_catalog_commit:select before_catalog_commit:values after_catalog_commit:values; do
	point=${case%%:*}
	how=${case##*:}
	lake="$tmp/$point-$how"
	stmt="INSERT INTO t SELECT 2"
	[ $how = values ] && stmt="INSERT INTO t VALUES (2)"
	"$TARN" init "$lake" >/dev/null
	"$TARN" --lake "$lake" sql -c "CREATE TABLE t (i INTEGER)" -c "INSERT INTO t VALUES (1)" >/dev/null
	TARN_CRASHPOINT=$point "$TARN" --lake "$lake" sql -c "$stmt" >/dev/null 2>&1
	rc=$?
	[ $rc -eq 137 ] && ok "$case: writer killed" || bad "$case: writer exit $rc, expected 137 (SIGKILL)"
	if "$TARN" --lake "$lake" fsck >"$tmp/fsck.out" 2>&1; then ok "$case: fsck clean"; else bad "$case: fsck: $(cat "$tmp/fsck.out")"; fi
	want=1
	[ $point = after_catalog_commit ] && want=2
	got=$(count "$lake")
	[ "$got" = "$want" ] && ok "$case: $got rows" || bad "$case: $got rows, expected $want"
	# The lake keeps working after the crash.
	"$TARN" --lake "$lake" sql -c "INSERT INTO t VALUES (3)" >/dev/null && ok "$case: next commit works" || bad "$case: next commit failed"
done

# Random kills in a loop of commits: every acknowledged commit survives, at
# most one unacknowledged commit may also be there, and fsck stays clean.
lake="$tmp/loop"
"$TARN" init "$lake" >/dev/null
"$TARN" --lake "$lake" sql -c "CREATE TABLE t (i INTEGER)" >/dev/null
acked=0
for round in $(seq 1 15); do
	( for j in $(seq 1 1000); do
		"$TARN" --lake "$lake" sql -c "INSERT INTO t VALUES ($j)" >/dev/null 2>&1 && echo ack
	  done ) >"$tmp/acks.$round" &
	pid=$!
	sleep "0.$((RANDOM % 9 + 1))"
	pkill -9 -P $pid 2>/dev/null
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	acked=$((acked + $(grep -c ack "$tmp/acks.$round")))
done
got=$(count "$lake")
if [ "$got" -ge "$acked" ] && [ "$got" -le $((acked + 15)) ]; then
	ok "random kills: $got rows for $acked acknowledged commits"
else
	bad "random kills: $got rows for $acked acknowledged commits"
fi
if "$TARN" --lake "$lake" fsck >"$tmp/fsck.out" 2>&1; then ok "random kills: fsck clean"; else bad "random kills: fsck: $(cat "$tmp/fsck.out")"; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
