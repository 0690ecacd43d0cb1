#!/usr/bin/env bash
# `tarn serve` admin endpoints: readers and writers are refused (403) and
# change nothing; an admin takes a catalog backup over HTTP while the lake
# is in use (listed by the API and by the CLI, and restoring it brings the
# lake back to that moment), and runs fsck, which reports a missing data
# file by name.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-serve.sh"
export TMPDIR="$tmp/srvtmp"
mkdir -p "$TMPDIR"
count() { "$TARN" --lake "$lake" sql --format csv -c "SELECT count(*) FROM t" | tail -1; }

"$TARN" init -q "$lake" &&
"$TARN" --lake "$lake" sql -c "CREATE TABLE t AS SELECT range AS i FROM range(10)" >/dev/null &&
{ echo "$("$TARN" serve --hash-token r-1) ana reader"; echo "$("$TARN" serve --hash-token w-2) bob writer";
  echo "$("$TARN" serve --hash-token a-3) cy admin"; } >"$tmp/tokens"
start_server --threads 2

test_ok 'readers, writers and strangers are refused every admin endpoint; nothing is written' <<'EOF_'
	for tok in r-1 w-2; do
		[ "$(call $tok POST /v1/admin/backups)" = 403 ] && jq_py 'd["error"]["code"] == "forbidden"' &&
		[ "$(call $tok GET /v1/admin/backups)" = 403 ] &&
		[ "$(call $tok POST /v1/admin/fsck)" = 403 ] &&
		[ "$(call $tok POST /v1/admin/maintenance '{"action": "all"}')" = 403 ] || exit 1
	done &&
	[ "$(call "" POST /v1/admin/backups)" = 401 ] && [ "$(call bad GET /v1/admin/fsck)" = 401 ] &&
	[ ! -e "$lake/backups" ]
EOF_

test_ok 'an admin takes a backup over HTTP; the API and the CLI list it' <<'EOF_'
	[ "$(call a-3 POST /v1/admin/backups)" = 201 ] &&
	jq_py 'd["catalog"] == "sqlite" and d["latest"] and d["bytes"] > 0 and len(d["sha256"]) == 64' &&
	path=$(python3 -c "import json; print(json.load(open('$tmp/body'))['path'])") &&
	sha=$(python3 -c "import json; print(json.load(open('$tmp/body'))['sha256'])") &&
	[ "$(sha256sum "$path" | cut -d' ' -f1)" = "$sha" ] &&
	[ "$(call a-3 GET /v1/admin/backups)" = 200 ] && jq_py 'len(d["backups"]) == 1 and d["backups"][0]["sha256"] == "'"$sha"'"' &&
	"$TARN" --lake "$lake" catalog backups --format csv | grep -q "$sha"
EOF_

test_ok 'a write after the backup' <<'EOF_'
	[ "$(call w-2 POST /v1/query '{"sql": "INSERT INTO t SELECT range FROM range(5)"}')" = 200 ]
EOF_

test_ok 'fsck over HTTP: ok, then a missing data file is named' <<'EOF_'
	[ "$(call a-3 POST /v1/admin/fsck)" = 200 ] && jq_py 'd["ok"] and d["problems"] == [] and d["files"] >= 1' &&
	f=$(find "$lake" -name '*.parquet' -path '*main*' | head -1) && [ -n "$f" ] && mv "$f" "$tmp/saved.parquet" &&
	[ "$(call a-3 POST /v1/admin/fsck)" = 200 ] && mv "$tmp/saved.parquet" "$f" &&
	jq_py 'not d["ok"] and any("'"$(basename "$f")"'" in p for p in d["problems"])' &&
	[ "$(call a-3 POST /v1/admin/fsck)" = 200 ] && jq_py 'd["ok"]'
EOF_

test_ok 'unknown admin endpoints are 404, wrong methods 405; /openapi.json lists them' <<'EOF_'
	[ "$(call a-3 GET /v1/admin/nothing)" = 404 ] &&
	[ "$(call a-3 DELETE /v1/admin/backups)" = 405 ] &&
	[ "$(call "" GET /openapi.json)" = 200 ] && jq_py '"/v1/admin/backups" in d["paths"] and "/v1/admin/fsck" in d["paths"] and "/v1/admin/maintenance" in d["paths"]'
EOF_

test_ok 'SIGTERM: the server exits 0, with no sanitizer report' <<'EOF_'
	stop_server
EOF_
srv_pid=
test_ok 'with the server stopped, the backup restores the lake to the moment it was taken' <<'EOF_'
	[ "$(count)" = 15 ] &&
	expect_rc 0 "$TARN" --lake "$lake" catalog restore --force &&
	[ "$(count)" = 10 ]
EOF_

# Cleanup deletes files that older catalog backups still name: the backups
# above have been tested, and go.
rm -rf "$lake/backups"
start_server --threads 2
test_ok 'maintenance over HTTP: a dry run changes nothing, compact, expire and cleanup do their work' <<'EOF_'
	[ "$(call w-2 POST /v1/query '{"sql": "INSERT INTO t SELECT range FROM range(3)"}')" = 200 ] &&
	before=$(snaps) && n=$(count) &&
	[ "$(call a-3 POST /v1/admin/maintenance '{"action": "all", "dry_run": true}')" = 200 ] &&
	jq_py 'd["dry_run"] and d["tables_compacted"] == 1' && [ "$(snaps)" = "$before" ] &&
	[ "$(call a-3 POST /v1/admin/maintenance '{"action": "compact"}')" = 200 ] && jq_py 'd["files_compacted"] >= 2' &&
	[ "$(snaps)" = $((before + 1)) ] && [ "$(count)" = "$n" ] &&
	[ "$(call a-3 POST /v1/admin/maintenance '{"action": "expire", "keep": 1}')" = 200 ] && jq_py 'd["snapshots_expired"] >= 1' &&
	[ "$(snaps)" = 1 ] &&
	[ "$(call a-3 POST /v1/admin/maintenance '{"action": "cleanup"}')" = 200 ] && jq_py 'd["files_deleted"] >= 1' &&
	[ "$(count)" = "$n" ] && [ "$(call a-3 POST /v1/admin/fsck)" = 200 ] && jq_py 'd["ok"]' &&
	[ "$(call a-3 POST /v1/admin/maintenance '{"action": "polish"}')" = 400 ] &&
	[ "$(call a-3 POST /v1/admin/maintenance '{"action": "expire", "older_than": "soon"}')" = 400 ]
EOF_

test_ok 'the second server stops on SIGTERM, exit 0' 'stop_server'
srv_pid=
test_done
