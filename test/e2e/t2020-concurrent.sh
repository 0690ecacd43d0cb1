#!/usr/bin/env bash
# Several writer processes on one lake (SQLite catalog): commits queue on the
# catalog's write lock; every acknowledged insert is there exactly once, and
# snapshot ids stay contiguous.
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }

test_ok 'make a lake and a ledger table' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 sql -c "CREATE TABLE ledger (writer INTEGER, seq INTEGER)"
EOF_

test_ok '4 writers x 40 commits, small and Parquet inserts mixed' <<'EOF_'
	for w in 1 2 3 4; do
		(
			for s in $(seq 1 40); do
				if [ $((s % 4)) -eq 0 ]; then
					stmt="INSERT INTO ledger SELECT $w, $s"
				else
					stmt="INSERT INTO ledger VALUES ($w, $s)"
				fi
				"$TARN" --lake "$lake" sql -c "$stmt" >/dev/null 2>>"$tmp/errors.$w" && echo "$w $s" >>"$tmp/acked.$w"
			done
		) &
	done
	wait
	cat "$tmp"/errors.* >&2
	acked=$(cat "$tmp"/acked.* | wc -l) &&
	test "$acked" -eq 160 &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n, count(DISTINCT (writer, seq)) AS d FROM ledger" &&
	expect_out "n,d
160,160"
EOF_

test_done
