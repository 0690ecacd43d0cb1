#!/usr/bin/env bash
# The raw zone of a lake on S3 lives in the bucket, beside stage/ and marts/:
# raw/<dataset>/<version>/files and raw/<dataset>/manifest.json, uploaded
# files first and the manifest last. `ingest ls`, `load` (through a local
# copy) and `prune` read the bucket; a failed upload leaves nothing there.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/../tools/lib-s3.sh"
s3_need
start_s3
lake="$tmp/lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
# objects PREFIX: the keys of the bucket under PREFIX, one per line.
objects() { "$TARN" --lake "$lake" storage ls --format csv "$1" | tail -n +2 | cut -d, -f1; }
# bucket_manifest DATASET EXPR: raw/DATASET/manifest.json of the bucket parses
# as JSON (bound to m) and EXPR holds.
bucket_manifest() {
	"$CLI" --env-file '' "s3://$BUCKET/lab/" get "raw/$1/manifest.json" "$tmp/m.json" >/dev/null &&
	python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    sys.exit("false: %s\nfor: %s" % (sys.argv[2], json.dumps(m, indent=1)))
' "$tmp/m.json" "$2"
}

mkdir -p "$tmp/src/sub"
printf 'id,name,price\n1,apple,0.5\n2,pear,0.75\n' >"$tmp/src/fruit.csv"
printf 'id,name,price\n3,plum,1.25\n' >"$tmp/src/sub/more.csv"
printf 'k,v\n1,a\n' | gzip >"$tmp/kv.csv.gz"

test_ok 'a lake on s3://lake/lab/' 'tarn 0 init -q --data-path s3://$BUCKET/lab/ "$lake"'

test_ok 'ingest a folder: the files land under raw/ of the bucket, the manifest last' <<'EOF_'
	TARN_TEST_NOW_MS=1714564800123 tarn 0 ingest dataset "$tmp/src" --name "Fruit Prices" &&
	expect_out "s3://$BUCKET/lab/raw/fruit_prices/2024_05_01/12_00_00_123/" &&
	objects raw/ >"$tmp/keys" &&
	grep -qx "raw/fruit_prices/2024_05_01/12_00_00_123/fruit.csv" "$tmp/keys" &&
	grep -qx "raw/fruit_prices/2024_05_01/12_00_00_123/sub/more.csv" "$tmp/keys" &&
	grep -qx "raw/fruit_prices/manifest.json" "$tmp/keys" &&
	bucket_manifest fruit_prices "m['latest'] == '2024_05_01/12_00_00_123' and sorted(f['path'] for f in m['versions'][0]['files']) == ['fruit.csv', 'sub/more.csv'] and len(m['versions'][0]['files'][0]['sha256']) == 64" &&
	[ ! -d "$lake/raw/fruit_prices" ]
EOF_

test_ok 'the same millisecond twice fails and changes nothing' <<'EOF_'
	"$CLI" --env-file '' "s3://$BUCKET/lab/" get raw/fruit_prices/manifest.json "$tmp/before.json" >/dev/null &&
	TARN_TEST_NOW_MS=1714564800123 tarn 1 ingest dataset "$tmp/src" --name "Fruit Prices" &&
	expect_err_has "already exists" &&
	"$CLI" --env-file '' "s3://$BUCKET/lab/" get raw/fruit_prices/manifest.json "$tmp/after.json" >/dev/null &&
	cmp "$tmp/before.json" "$tmp/after.json"
EOF_

test_ok 'a gzip file is unpacked before upload; ingest ls shows s3:// paths' <<'EOF_'
	TARN_TEST_NOW_MS=1714564900000 tarn 0 ingest dataset "$tmp/kv.csv.gz" &&
	objects raw/kv/ | grep -qx "raw/kv/2024_05_01/12_01_40_000/kv.csv" &&
	tarn 0 ingest ls &&
	expect_out "s3://$BUCKET/lab/raw/fruit_prices/2024_05_01/12_00_00_123
s3://$BUCKET/lab/raw/kv/2024_05_01/12_01_40_000" &&
	tarn 0 ingest ls -a --format json &&
	json_check 'len(d) == 2 and all(r["path"].startswith("s3://") for r in d)'
EOF_

test_ok 'tarn load reads a version from the bucket into a bronze table on S3' <<'EOF_'
	rm -rf "$lake/raw" &&
	tarn 0 load fruit_prices --table bronze.fruit &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n, sum(price) AS p, min(_source_file) AS f FROM bronze.fruit" &&
	expect_out "n,p,f
3,2.5,fruit_prices/2024_05_01/12_00_00_123/fruit.csv" &&
	objects marts/bronze/ | grep -q "marts/bronze/fruit/ducklake-"
EOF_

test_ok 'a failed upload leaves no object and no manifest entry' <<'EOF_'
	rules '[{"method":"PUT","fault":"500"}]' &&
	TARN_TEST_NOW_MS=1714565000000 tarn 1 ingest dataset "$tmp/src" --name broken &&
	rules '[]' &&
	[ -z "$(objects raw/broken/)" ] &&
	! ls "$lake/raw/.tmp"/* >/dev/null 2>&1
EOF_

test_ok 'a failed manifest upload removes the files already put' <<'EOF_'
	rules '[{"method":"PUT","key":"manifest.json","fault":"500"}]' &&
	TARN_TEST_NOW_MS=1714565100000 tarn 1 ingest dataset "$tmp/src" --name Fruit_Prices &&
	rules '[]' &&
	[ -z "$(objects raw/fruit_prices/2024_05_01/12_05_00_000/)" ] &&
	bucket_manifest fruit_prices "len(m['versions']) == 1" &&
	! ls "$lake/raw/.tmp"/* >/dev/null 2>&1
EOF_

test_ok 'prune drops a manual version that never got a file' <<'EOF_'
	TARN_TEST_NOW_MS=1714565200000 tarn 0 ingest dataset --manual fruit_prices &&
	expect_out "s3://$BUCKET/lab/raw/fruit_prices/2024_05_01/12_06_40_000/" &&
	bucket_manifest fruit_prices "len(m['versions']) == 2 and m['latest'] == '2024_05_01/12_06_40_000'" &&
	tarn 0 ingest prune --dry-run &&
	expect_out_has "12_06_40_000" &&
	bucket_manifest fruit_prices "len(m['versions']) == 2" &&
	tarn 0 ingest prune &&
	bucket_manifest fruit_prices "len(m['versions']) == 1 and m['latest'] == '2024_05_01/12_00_00_123'"
EOF_

test_done
