#!/usr/bin/env bash
# t7110-backup-s3: catalog backups of a lake whose data is in a bucket go to
# the bucket's backups/catalog/ prefix (copy, backup.json, manifest last);
# `backups` lists them from the bucket; restore fetches, verifies and puts
# one back; a failed upload records nothing; a corrupted object is refused
# and the catalog left alone; --backup takes an s3:// URL.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/../tools/lib-s3.sh"
s3_need
start_s3
lake="$tmp/lake"
root="s3://$BUCKET/prod/"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
sql_val() { "$TARN" --lake "$lake" sql --format csv -c "$1" | tail -n 1; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[-1][sys.argv[2]])' "$tmp/out" "$1"; }
objects() { "$CLI" "$root" ls "$1" | wc -l; }

test_ok 'a lake in a bucket' <<'EOF_'
	tarn 0 init -q --data "$root" "$lake" &&
	tarn 0 sql -c "CREATE TABLE ledger (w INTEGER, seq INTEGER)" \
		-c "INSERT INTO ledger SELECT 0, i FROM range(100) t(i)"
EOF_

test_ok 'backup goes to the bucket: copy, backup.json and manifest agree' <<'EOF_'
	snap=$(sql_val "SELECT max(snapshot_id) FROM tarn_snapshots()") &&
	tarn 0 catalog backup --format json &&
	json_check "d[0]['snapshot'] == $snap and d[0]['catalog'] == 'sqlite' and d[0]['path'].startswith('${root}backups/catalog/')" &&
	v=$(field version) &&
	test -z "$(ls "$lake/backups/catalog" | grep -v '^\.')" &&
	mkdir -p "$tmp/b" &&
	"$CLI" "$root" get backups/catalog/manifest.json "$tmp/b/manifest.json" &&
	"$CLI" "$root" get "backups/catalog/$v/catalog.sqlite" "$tmp/b/catalog.sqlite" &&
	"$CLI" "$root" get "backups/catalog/$v/backup.json" "$tmp/b/backup.json" &&
	python3 - "$tmp/b" "$v" "$snap" <<'PY'
import hashlib, json, os, sys
d, v, snap = sys.argv[1], sys.argv[2], int(sys.argv[3])
m = json.load(open(os.path.join(d, "manifest.json")))
assert m["latest"] == v and len(m["backups"]) == 1, m
e = m["backups"][0]
data = open(os.path.join(d, "catalog.sqlite"), "rb").read()
assert e["size"] == len(data) and e["sha256"] == hashlib.sha256(data).hexdigest(), e
assert e["snapshot"] == snap and e["file"] == v + "/catalog.sqlite", e
assert json.load(open(os.path.join(d, "backup.json"))) == e
PY
EOF_

test_ok 'a failed upload records no backup and leaves no object' <<'EOF_'
	before=$(objects backups/) &&
	rules '[{"method":"PUT","key":"backup.json","fault":"403"}]' &&
	tarn 1 catalog backup && expect_err_has "403" &&
	rules '[{"method":"PUT","key":"manifest.json","fault":"403"}]' &&
	tarn 1 catalog backup && expect_err_has "403" &&
	rules '[]' &&
	test "$(objects backups/)" -eq "$before" &&
	tarn 0 catalog backups --format json && json_check 'len(d) == 1'
EOF_

test_ok 'a backup during concurrent writes restores to a consistent lake' <<'EOF_'
	for w in 1 2 3; do
		( for s in $(seq 1 15); do
			"$TARN" --lake "$lake" sql -c "INSERT INTO ledger VALUES ($w, $s)" >/dev/null 2>&1
		  done ) &
	done
	sleep 1 &&
	tarn 0 catalog backup --format json &&
	wait &&
	snap=$(field snapshot) && v=$(field version) &&
	want=$(sql_val "SELECT count(*) FROM ledger AT (VERSION => $snap)") &&
	test "$(sql_val "SELECT count(*) FROM ledger")" -eq 145 &&
	tarn 1 catalog restore && expect_err_has "--force" &&
	rm -rf "$TARN_CACHE_DIR" &&
	tarn 0 catalog restore --force --format json &&
	json_check "d[0]['restored'] == '$v' and d[0]['snapshot'] == $snap and d[0]['problems'] == 0" &&
	test "$(sql_val "SELECT count(*) FROM ledger")" -eq "$want" &&
	tarn 0 fsck &&
	tarn 0 sql -c "INSERT INTO ledger VALUES (9, 9)" &&
	test "$(sql_val "SELECT count(*) FROM ledger")" -eq $((want + 1))
EOF_

test_ok '--backup takes the s3:// URL of a backup folder' <<'EOF_'
	tarn 0 catalog backups --format json &&
	first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["version"])' "$tmp/out") &&
	tarn 0 catalog restore --force --backup "${root}backups/catalog/$first/" --format json &&
	json_check "d[0]['restored'] == '$first' and d[0]['problems'] == 0" &&
	test "$(sql_val "SELECT count(*) FROM ledger")" -eq 100 &&
	tarn 1 catalog restore --force --backup "${root}backups/catalog/" && expect_err_has "is not a tarn catalog backup"
EOF_

test_ok 'a corrupted backup object is refused and the catalog left alone' <<'EOF_'
	sum=$(sha256sum "$lake/catalog.sqlite") &&
	tarn 0 catalog backups --format json &&
	v=$(field version) &&
	"$CLI" "$root" get "backups/catalog/$v/catalog.sqlite" "$tmp/c.sqlite" &&
	printf 'X' | dd of="$tmp/c.sqlite" bs=1 seek=5000 conv=notrunc 2>/dev/null &&
	"$CLI" "$root" put "$tmp/c.sqlite" "backups/catalog/$v/catalog.sqlite" &&
	tarn 1 catalog restore --force &&
	expect_err_has "is corrupt" && expect_err_has "SHA-256" &&
	test "$(sha256sum "$lake/catalog.sqlite")" = "$sum" &&
	test -z "$(ls -A "$lake" | grep '^\.restore-')" &&
	tarn 0 fsck
EOF_

test_done
