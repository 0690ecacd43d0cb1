#!/usr/bin/env bash
# The raw zone on local disk: `tarn ingest dataset` from --manual, files,
# folders and archives; manifest.json; the same millisecond twice; unsafe
# archive members; `ingest ls` and `ingest prune`. Fixtures are made here.
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
raw="$lake/raw"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
# manifest FILE EXPR: the manifest parses as JSON (bound to m) and EXPR holds.
manifest() {
	python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    sys.exit("false: %s\nfor: %s" % (sys.argv[2], json.dumps(m, indent=1)))
' "$1" "$2"
}
# nothing_left: no staging folder survived a failure.
nothing_left() {
	if [ -d "$raw/.tmp" ] && [ -n "$(ls -A "$raw/.tmp")" ]; then
		echo "staging left behind:"; ls -la "$raw/.tmp"; return 1
	fi
}

mkdir -p "$tmp/src/nested/deeper" "$tmp/zip/top/inner"
printf 'a,b\n1,x\n' >"$tmp/src/one.csv"
printf 'id\n1\n' >"$tmp/src/nested/two.csv"
printf '{"k": 1}\n' >"$tmp/src/nested/deeper/three.json"
printf 'x,y\n1,2\n' >"$tmp/zip/top/inner/deep.csv"
printf 'readme\n' >"$tmp/zip/top/README.txt"
(cd "$tmp/zip" && python3 -c '
import zipfile
with zipfile.ZipFile("../nested.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.write("top/inner/deep.csv"); z.write("top/README.txt"); z.writestr("top/empty/", "")
with zipfile.ZipFile("../slip.zip", "w") as z:
    z.writestr("ok.csv", "a\n1\n"); z.writestr("../../evil.csv", "pwned\n")
with zipfile.ZipFile("../abs.zip", "w") as z:
    z.writestr("/tmp/evil-abs.csv", "pwned\n")
with zipfile.ZipFile("../stored.zip", "w", zipfile.ZIP_STORED) as z:
    z.writestr("s.csv", "a\n" + "1\n" * 1000)
')
printf 'g,h\n7,8\n' | gzip >"$tmp/data.csv.gz"
printf 'this is not gzip' >"$tmp/broken.csv.gz"

test_ok 'a lake to ingest into' 'tarn 0 init -q "$lake"'

test_ok '--manual makes an empty version named in snake case and prints it' <<'EOF_'
	tarn 0 ingest dataset --manual "Your Dataset: Name (v2)!" &&
	p=$(cat "$tmp/out") &&
	case "$p" in "$raw/your_dataset_name_v2/"[0-9][0-9][0-9][0-9]_[0-9][0-9]_[0-9][0-9]/[0-9][0-9]_[0-9][0-9]_[0-9][0-9]_[0-9][0-9][0-9]) ;; *) echo "bad path $p"; false ;; esac &&
	[ -d "$p" ] && [ -z "$(ls -A "$p")" ] &&
	v=${p#$raw/your_dataset_name_v2/} &&
	manifest "$raw/your_dataset_name_v2/manifest.json" \
		"m['name'] == 'your_dataset_name_v2' and m['latest'] == '$v' and m['versions'][0]['source'] == 'manual' and m['versions'][0]['files'] == [] and m['versions'][0]['created'].endswith('Z')"
EOF_

test_ok 'the version name is the UTC time, to the millisecond' <<'EOF_'
	TARN_TEST_NOW_MS=1714564800123 tarn 0 ingest dataset --manual clock &&
	expect_out "$raw/clock/2024_05_01/12_00_00_123" &&
	manifest "$raw/clock/manifest.json" "m['versions'][0]['created'] == '2024-05-01T12:00:00.123Z'"
EOF_

test_ok 'a second version in the same millisecond fails and changes nothing' <<'EOF_'
	cp "$raw/clock/manifest.json" "$tmp/before.json" &&
	printf 'a\n1\n' >"$tmp/clock.csv" &&
	TARN_TEST_NOW_MS=1714564800123 tarn 1 ingest dataset "$tmp/clock.csv" --name clock &&
	expect_err_has "version 2024_05_01/12_00_00_123 of dataset clock already exists" &&
	cmp "$tmp/before.json" "$raw/clock/manifest.json" &&
	[ -z "$(ls -A "$raw/clock/2024_05_01/12_00_00_123")" ] &&
	TARN_TEST_NOW_MS=1714564800123 tarn 1 ingest dataset --manual clock &&
	cmp "$tmp/before.json" "$raw/clock/manifest.json" && nothing_left
EOF_

test_ok 'a newer version becomes the latest; the old one stays listed' <<'EOF_'
	TARN_TEST_NOW_MS=1714564800124 tarn 0 ingest dataset "$tmp/clock.csv" --name clock &&
	manifest "$raw/clock/manifest.json" \
		"[v['version'] for v in m['versions']] == ['2024_05_01/12_00_00_123', '2024_05_01/12_00_00_124'] and m['latest'] == '2024_05_01/12_00_00_124'"
EOF_

test_ok 'a file lands with its size and SHA-256 in the manifest' <<'EOF_'
	tarn 0 ingest dataset "$tmp/src/one.csv" &&
	p=$(cat "$tmp/out") && case "$p" in "$raw/one/"*) ;; *) false ;; esac &&
	cmp "$tmp/src/one.csv" "$p/one.csv" &&
	sha=$(sha256sum "$tmp/src/one.csv" | cut -d" " -f1) &&
	manifest "$raw/one/manifest.json" \
		"m['versions'][-1]['files'] == [{'path': 'one.csv', 'size': 8, 'sha256': '$sha'}] and m['versions'][-1]['source'] == '$tmp/src/one.csv'"
EOF_

test_ok 'a folder lands recursively, named after the folder or --name' <<'EOF_'
	tarn 0 ingest dataset "$tmp/src" &&
	p=$(cat "$tmp/out") && case "$p" in "$raw/src/"*) ;; *) false ;; esac &&
	[ -f "$p/nested/deeper/three.json" ] &&
	manifest "$raw/src/manifest.json" \
		"[f['path'] for f in m['versions'][0]['files']] == ['nested/deeper/three.json', 'nested/two.csv', 'one.csv']" &&
	tarn 0 ingest dataset "$tmp/src/" --name "My Folder" &&
	case "$(cat "$tmp/out")" in "$raw/my_folder/"*) ;; *) false ;; esac
EOF_

test_ok 'a zip with nested folders is unpacked in place of the archive' <<'EOF_'
	tarn 0 ingest dataset "$tmp/nested.zip" &&
	p=$(cat "$tmp/out") &&
	cmp "$tmp/zip/top/inner/deep.csv" "$p/top/inner/deep.csv" &&
	[ -f "$p/top/README.txt" ] && [ ! -e "$p/nested.zip" ] &&
	manifest "$raw/nested/manifest.json" \
		"[f['path'] for f in m['versions'][0]['files']] == ['top/README.txt', 'top/inner/deep.csv']"
EOF_

test_ok 'stored (uncompressed) zip members are unpacked too' <<'EOF_'
	tarn 0 ingest dataset "$tmp/stored.zip" &&
	[ "$(wc -l <"$(cat "$tmp/out")/s.csv")" -eq 1001 ]
EOF_

test_ok 'a gzip file is unpacked to its name without .gz' <<'EOF_'
	tarn 0 ingest dataset "$tmp/data.csv.gz" &&
	p=$(cat "$tmp/out") && case "$p" in "$raw/data/"*) ;; *) false ;; esac &&
	[ "$(cat "$p/data.csv")" = "g,h
7,8" ] && [ ! -e "$p/data.csv.gz" ]
EOF_

test_ok 'a zip-slip archive is refused whole and leaves nothing behind' <<'EOF_'
	tarn 1 ingest dataset "$tmp/slip.zip" &&
	expect_err_has "archive member '../../evil.csv'" &&
	expect_err_has "'..'" &&
	[ ! -e "$raw/slip" ] && [ ! -e "$lake/evil.csv" ] && [ ! -e "$tmp/evil.csv" ] && nothing_left
EOF_

test_ok 'an archive member with an absolute path is refused' <<'EOF_'
	tarn 1 ingest dataset "$tmp/abs.zip" &&
	expect_err_has "is an absolute path" &&
	[ ! -e /tmp/evil-abs.csv ] && [ ! -e "$raw/abs" ] && nothing_left
EOF_

test_ok 'a damaged gzip fails and leaves nothing behind' <<'EOF_'
	tarn 1 ingest dataset "$tmp/broken.csv.gz" &&
	expect_err_has "not a readable gzip file" &&
	[ ! -e "$raw/broken" ] && nothing_left
EOF_

test_ok 'a missing source and a nameless name are clear errors' <<'EOF_'
	tarn 1 ingest dataset "$tmp/nope.csv" &&
	expect_err_has "no such file or folder: $tmp/nope.csv" &&
	tarn 1 ingest dataset --manual "!!! ???" &&
	expect_err_has "pass --name NAME" &&
	tarn 2 ingest dataset &&
	tarn 2 ingest dataset --manual x "$tmp/src" &&
	tarn 2 ingest bogus && nothing_left
EOF_

test_ok 'no dataset name can leave the raw zone' <<'EOF_'
	tarn 0 ingest dataset --manual "../../../escape" &&
	case "$(cat "$tmp/out")" in "$raw/escape/"*) ;; *) false ;; esac &&
	tarn 0 ingest dataset "$tmp/src/one.csv" --name "/etc/passwd" &&
	case "$(cat "$tmp/out")" in "$raw/etc_passwd/"*) ;; *) false ;; esac
EOF_

test_ok 'ingest ls prints the latest version of each dataset' <<'EOF_'
	tarn 0 ingest ls &&
	expect_out_has "$raw/clock/2024_05_01/12_00_00_124" &&
	expect_out_lacks "$raw/clock/2024_05_01/12_00_00_123" &&
	[ "$(wc -l <"$tmp/out")" -eq "$(ls "$raw" | wc -l)" ]
EOF_

test_ok 'ingest ls -a prints every version; --format json and csv' <<'EOF_'
	tarn 0 ingest ls -a &&
	expect_out_has "$raw/clock/2024_05_01/12_00_00_123" &&
	expect_out_has "$raw/clock/2024_05_01/12_00_00_124" &&
	tarn 0 ingest ls -a --format json &&
	json_check "len([e for e in d if e['dataset'] == 'clock']) == 2 and [e['latest'] for e in d if e['dataset'] == 'clock'] == [False, True] and all(e['path'].startswith('$raw/') for e in d)" &&
	json_check "[e for e in d if e['dataset'] == 'one'][0]['files'] == 1 and [e for e in d if e['dataset'] == 'one'][0]['bytes'] == 8" &&
	tarn 0 ingest ls --format csv &&
	expect_out_has "dataset,version,path,created,source,files,bytes,latest"
EOF_

test_ok 'ingest prune --dry-run reports empty versions and removes nothing' <<'EOF_'
	tarn 0 ingest prune --dry-run &&
	expect_out_has "would remove $raw/clock/2024_05_01/12_00_00_123 (empty version)" &&
	[ -d "$raw/clock/2024_05_01/12_00_00_123" ] &&
	manifest "$raw/clock/manifest.json" "len(m['versions']) == 2"
EOF_

test_ok 'ingest prune removes empty versions and their manifest entries' <<'EOF_'
	tarn 0 ingest prune &&
	expect_out_has "removed $raw/clock/2024_05_01/12_00_00_123 (empty version)" &&
	expect_out_has "removed $raw/your_dataset_name_v2/" &&
	[ ! -e "$raw/clock/2024_05_01/12_00_00_123" ] && [ -d "$raw/clock/2024_05_01/12_00_00_124" ] &&
	manifest "$raw/clock/manifest.json" "[v['version'] for v in m['versions']] == ['2024_05_01/12_00_00_124'] and m['latest'] == '2024_05_01/12_00_00_124'" &&
	manifest "$raw/your_dataset_name_v2/manifest.json" "m['versions'] == [] and m['latest'] is None" &&
	[ -z "$(ls "$raw/your_dataset_name_v2" | grep -v manifest.json)" ] &&
	tarn 0 ingest prune && expect_out "nothing to prune"
EOF_

test_ok 'prune removes the staging folder of an ingestion that died' <<'EOF_'
	mkdir -p "$raw/.tmp/999999999-dead/x" && echo partial >"$raw/.tmp/999999999-dead/x/f" &&
	tarn 0 ingest prune &&
	expect_out_has "removed $raw/.tmp/999999999-dead (staging folder" &&
	[ ! -e "$raw/.tmp/999999999-dead" ]
EOF_

test_ok 'a hand-edited manifest cannot point outside its dataset' <<'EOF_'
	cp "$raw/one/manifest.json" "$tmp/one.json" &&
	python3 -c '
import json, sys
m = json.load(open(sys.argv[1])); m["versions"][0]["files"][0]["path"] = "../../../etc/passwd"
json.dump(m, open(sys.argv[1], "w"))' "$raw/one/manifest.json" &&
	tarn 1 ingest ls &&
	expect_err_has "is not a plain relative path" &&
	expect_err_has "fix or restore the file" &&
	cp "$tmp/one.json" "$raw/one/manifest.json" &&
	tarn 0 ingest ls
EOF_

test_ok 'a folder that holds the lake is copied without the raw zone' <<'EOF_'
	mkdir -p "$tmp/holder" && printf 'a\n1\n' >"$tmp/holder/h.csv" &&
	expect_rc 0 "$TARN" --lake "$tmp/holder/lake" init -q &&
	expect_rc 0 "$TARN" --lake "$tmp/holder/lake" ingest dataset --manual first &&
	expect_rc 0 "$TARN" --lake "$tmp/holder/lake" ingest dataset "$tmp/holder" &&
	p=$(cat "$tmp/out") && [ -f "$p/h.csv" ] && [ -f "$p/lake/catalog.sqlite" ] && [ ! -e "$p/lake/raw" ] &&
	expect_err_has "skipped $tmp/holder/lake/raw: the raw zone itself"
EOF_

test_ok 'ingest needs a lake' <<'EOF_'
	expect_rc 1 "$TARN" --lake "$tmp/nolake" ingest ls
EOF_
test_done
