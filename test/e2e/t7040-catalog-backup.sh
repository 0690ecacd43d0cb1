#!/usr/bin/env bash
# t7040-catalog-backup: `tarn catalog backup|backups|restore`: backups in
# dated folders with a manifest (size, SHA-256, snapshot), a backup taken
# during concurrent writes restores to a consistent lake, a live catalog is
# replaced only with --force (and kept aside), --at and --backup pick a
# backup, and a corrupted backup is refused before anything changes.
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
bk="$lake/backups/catalog"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
sql_val() { "$TARN" --lake "$lake" sql --format csv -c "$1" | tail -n 1; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0][sys.argv[2]])' "$tmp/out" "$1"; }

test_ok 'make a lake' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 sql -c "CREATE TABLE ledger (writer INTEGER, seq INTEGER)" \
		-c "INSERT INTO ledger SELECT 0, i FROM range(100) t(i)"
EOF_

test_ok 'backup: a dated folder, backup.json and the manifest agree with the file' <<'EOF_'
	snap=$(sql_val "SELECT max(snapshot_id) FROM tarn_snapshots()") &&
	tarn 0 catalog backup --format json &&
	json_check "d[0]['snapshot'] == $snap and d[0]['latest'] is True" &&
	v=$(field version) &&
	case "$v" in [0-9][0-9][0-9][0-9]_[0-9][0-9]_[0-9][0-9]/[0-9][0-9]_[0-9][0-9]_[0-9][0-9]_[0-9][0-9][0-9]) ;; *) false;; esac &&
	test -f "$bk/$v/catalog.sqlite" && test -f "$bk/$v/backup.json" &&
	python3 - "$bk" "$v" "$snap" <<'PY'
import hashlib, json, os, sys
root, v, snap = sys.argv[1], sys.argv[2], int(sys.argv[3])
m = json.load(open(os.path.join(root, "manifest.json")))
assert m["latest"] == v and len(m["backups"]) == 1, m
e = m["backups"][0]
data = open(os.path.join(root, e["file"]), "rb").read()
assert e["size"] == len(data) and e["sha256"] == hashlib.sha256(data).hexdigest(), e
assert e["snapshot"] == snap and e["file"] == v + "/catalog.sqlite", e
assert json.load(open(os.path.join(root, v, "backup.json"))) == e
PY
EOF_

test_ok 'a backup is a usable DuckLake catalog on its own' <<'EOF_'
	v=$(ls -d "$bk"/*/* | tail -1) &&
	mkdir "$tmp/copy" && cp "$v/catalog.sqlite" "$tmp/copy/" && ln -s "$lake/data" "$tmp/copy/data" &&
	expect_rc 0 "$TARN" --lake "$tmp/copy" sql --format csv -c "SELECT count(*) AS n FROM ledger" &&
	expect_out "n
100" &&
	rm -rf "$tmp/copy"
EOF_

test_ok 'restore without --force refuses to replace the live catalog' <<'EOF_'
	sum=$(sha256sum "$lake/catalog.sqlite") &&
	tarn 1 catalog restore &&
	expect_err_has "has a catalog; restoring replaces it" && expect_err_has "--force" &&
	test "$(sha256sum "$lake/catalog.sqlite")" = "$sum"
EOF_

test_ok 'a backup taken during concurrent writes restores to a consistent lake' <<'EOF_'
	for w in 1 2 3; do
		(
			for s in $(seq 1 30); do
				"$TARN" --lake "$lake" sql -c "INSERT INTO ledger VALUES ($w, $s)" >/dev/null 2>&1
			done
		) &
	done
	sleep 1 &&
	tarn 0 catalog backup --format json &&
	wait &&
	snap=$(field snapshot) && v=$(field version) &&
	want=$(sql_val "SELECT count(*) FROM ledger AT (VERSION => $snap)") &&
	total=$(sql_val "SELECT count(*) FROM ledger") &&
	test "$total" -eq 190 && test "$want" -gt 100 &&
	tarn 0 catalog restore --force --format json &&
	json_check "d[0]['restored'] == '$v' and d[0]['snapshot'] == $snap and d[0]['problems'] == 0 and d[0]['previous_catalog'].startswith('$lake/catalog.sqlite.before-restore-')" &&
	test "$(sql_val "SELECT count(*) FROM ledger")" -eq "$want" &&
	test "$(sql_val "SELECT max(snapshot_id) FROM tarn_snapshots()")" -eq "$snap" &&
	tarn 0 fsck &&
	tarn 0 sql -c "INSERT INTO ledger VALUES (9, 9)" &&
	test "$(sql_val "SELECT count(*) FROM ledger")" -eq $((want + 1))
EOF_

test_ok 'the replaced catalog is kept and still opens' <<'EOF_'
	old=$(ls "$lake"/catalog.sqlite.before-restore-* | grep -v -- '-wal$\|-shm$' | head -1) &&
	mkdir "$tmp/old" && cp "$old" "$tmp/old/catalog.sqlite" && ln -s "$lake/data" "$tmp/old/data" &&
	test "$(expect_rc 0 "$TARN" --lake "$tmp/old" sql --format csv -c "SELECT count(*) FROM ledger" && tail -1 "$tmp/out")" -eq 190 &&
	rm -rf "$tmp/old"
EOF_

test_ok 'backups lists them oldest first; --at picks by time' <<'EOF_'
	sleep 1 && tarn 0 catalog backup >/dev/null &&
	tarn 0 catalog backups --format json &&
	json_check 'len(d) == 3 and [r["latest"] for r in d] == [False, False, True] and d[0]["snapshot"] < d[1]["snapshot"]' &&
	first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["version"])' "$tmp/out") &&
	t=$(python3 -c 'import sys; d,t=sys.argv[1].split("/"); y,m,dd=d.split("_"); h,mi,s,ms=t.split("_"); print("%s-%s-%s %s:%s:%s.%s" % (y,m,dd,h,mi,s,ms))' "$first") &&
	tarn 0 catalog restore --force --at "$t" --format json &&
	json_check "d[0]['restored'] == '$first' and d[0]['problems'] == 0" &&
	test "$(sql_val "SELECT count(*) FROM ledger")" -eq 100 &&
	tarn 1 catalog restore --force --at 2001-01-01 && expect_err_has "no backup of" &&
	tarn 1 catalog restore --force --at yesterday && expect_err_has "is not a UTC time"
EOF_

test_ok '--backup PATH restores a folder, even copied elsewhere' <<'EOF_'
	last=$(ls -d "$bk"/*/* | tail -1) &&
	cp -r "$last" "$tmp/saved" &&
	tarn 0 catalog restore --force --backup "$tmp/saved" --format json &&
	json_check 'd[0]["problems"] == 0' &&
	test "$(sql_val "SELECT count(*) FROM ledger")" -gt 100 &&
	tarn 1 catalog restore --force --backup "$tmp" && expect_err_has "is not a tarn catalog backup" &&
	tarn 1 catalog restore --force --backup "$tmp/saved" --at 2030-01-01 && expect_err_has "not both"
EOF_

test_ok 'a corrupted backup is refused and the catalog is left alone' <<'EOF_'
	last=$(ls -d "$bk"/*/* | tail -1) &&
	sum=$(sha256sum "$lake/catalog.sqlite") &&
	printf 'X' | dd of="$last/catalog.sqlite" bs=1 seek=5000 conv=notrunc 2>/dev/null &&
	tarn 1 catalog restore --force &&
	expect_err_has "is corrupt" && expect_err_has "SHA-256" &&
	test "$(sha256sum "$lake/catalog.sqlite")" = "$sum" &&
	truncate -s 4096 "$tmp/saved/catalog.sqlite" &&
	tarn 1 catalog restore --force --backup "$tmp/saved" && expect_err_has "is corrupt" &&
	test "$(sha256sum "$lake/catalog.sqlite")" = "$sum" &&
	test -z "$(ls -A "$lake" | grep '^\.restore-')" &&
	tarn 0 fsck &&
	rm -rf "$tmp/saved" "$last"   # test_done checks every catalog.sqlite under $tmp
EOF_

test_ok 'a broken backups manifest is reported' <<'EOF_'
	echo '[]' >"$bk/manifest.json" &&
	tarn 1 catalog backups && expect_err_has "is not a JSON object" &&
	tarn 1 catalog backup && expect_err_has "is not a JSON object" &&
	rm "$bk/manifest.json" && tarn 0 catalog backup
EOF_

test_done
