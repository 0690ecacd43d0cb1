#!/usr/bin/env bash
# `tarn load`: raw versions into bronze tables. CSV edge cases (BOM, CRLF,
# quoted newlines, ragged rows, Latin-1, an empty file, a bad value past
# the sniffer's sample), JSON, NDJSON, gzip, Parquet, --reject, schema
# drift with --mode append, --mode replace, provenance and the commit
# message; a failed load leaves the lake unchanged.
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
raw="$lake/raw"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
q() { "$TARN" --lake "$lake" sql --format csv -c "$1"; }
# snapshot count, to show a failed load changed nothing
snaps() { q "SELECT count(*) AS n FROM tarn_snapshots()" | tail -1; }

f="$tmp/f"
mkdir -p "$f/edge" "$f/bad" "$f/v1" "$f/v2" "$f/v3" "$f/json" "$f/many"
printf '\xef\xbb\xbfid,name\r\n1,alpha\r\n2,"two\r\nlines"\r\n3,"with ""quotes"", and comma"\r\n' >"$f/edge/bom_crlf.csv"
printf 'id,city\n1,Z\xfcrich\n2,S\xe3o Paulo\n' >"$f/edge/latin1.csv"
: >"$f/edge/empty.csv"
printf 'not data\n' >"$f/edge/notes.md"
printf 'a\tb\n1\t2\n' >"$f/edge/tabs.tsv"
{ echo "n,price"; seq 1 30000 | sed 's/$/,1.5/'; echo "30001,n/a"; echo "30002,2.5"; } >"$f/bad/prices.csv"
printf 'a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n' >"$f/edge/ragged.csv"
printf 'id,amount\n1,10\n2,20\n' >"$f/v1/sales.csv"
printf 'id,amount,region\n3,30,north\n' >"$f/v2/sales.csv"
printf 'id,amount\n4,oops\n' >"$f/v3/sales.csv"
printf '[{"k": 1, "v": "a"}, {"k": 2, "v": "b"}]\n' >"$f/json/arr.json"
printf '{"k": 3, "v": "c"}\n{"k": 4, "v": "d"}\n' >"$f/json/lines.ndjson"
printf 'k,v\n5,e\n' | gzip >"$f/json/zipped.csv.gz"
printf 'x,y\n1,2\n' >"$f/many/part_001.csv"
printf 'x,y\n3,4\n' >"$f/many/part_002.csv"

ingest() { "$TARN" --lake "$lake" -q ingest dataset "$@" >/dev/null; }

test_ok 'a lake with raw datasets' <<'EOF_'
	tarn 0 init -q "$lake" &&
	ingest "$f/edge" --name edge && ingest "$f/bad" --name bad &&
	ingest "$f/v1" --name sales && ingest "$f/many" --name many &&
	ingest "$f/json" --name json_set
EOF_

test_ok 'CSV edge cases load: BOM, CRLF, quoted newlines and quotes, Latin-1, TSV' <<'EOF_'
	tarn 0 load edge --reject &&
	expect_out_has "bronze.bom_crlf: loaded 3 rows" &&
	expect_out_has "bronze.latin1: loaded 2 rows" &&
	expect_out_has "bronze.tabs: loaded 1 row" &&
	expect_err_has "skipped empty.csv: the file is empty" &&
	expect_err_has "skipped notes.md" &&
	[ "$(q "SELECT name FROM bronze.bom_crlf WHERE id = 3" | tail -1)" = '"with ""quotes"", and comma"' ] &&
	[ "$(q "SELECT count(*) FROM bronze.bom_crlf WHERE name LIKE 'two%lines'" | tail -1)" = 1 ] &&
	[ "$(q "SELECT column_name FROM tarn_columns('bronze.bom_crlf') WHERE column_id = 1" | tail -1)" = id ] &&
	[ "$(q "SELECT city FROM bronze.latin1 WHERE id = 1" | tail -1)" = "Zürich" ] &&
	[ "$(q "SELECT city FROM bronze.latin1 WHERE id = 2" | tail -1)" = "São Paulo" ] &&
	[ "$(q "SELECT b FROM bronze.tabs" | tail -1)" = 2 ]
EOF_

test_ok 'ragged rows go to the rejects table with file, line and reason' <<'EOF_'
	expect_out_has "bronze.ragged: loaded 2 rows" &&
	expect_out_has "2 rejected rows in bronze.ragged_rejects" &&
	q "SELECT _source_file, line, reason, raw_line FROM bronze.ragged_rejects ORDER BY line" >"$tmp/out" &&
	v=$(basename "$(dirname "$(ls -d "$raw"/edge/*/*/)")")/$(basename "$(ls -d "$raw"/edge/*/*/)") &&
	expect_out "_source_file,line,reason,raw_line
edge/$v/ragged.csv,3,Expected Number of Columns: 3 Found: 2,\"4,5\"
edge/$v/ragged.csv,4,Expected Number of Columns: 3 Found: 4,\"6,7,8,9\"" &&
	[ "$(q "SELECT string_agg(a::VARCHAR, ' ' ORDER BY a) FROM bronze.ragged" | tail -1)" = "1 10" ]
EOF_

test_ok 'without --reject a ragged row fails the load, naming file and line' <<'EOF_'
	n=$(snaps) &&
	tarn 1 load edge --mode replace &&
	expect_err_has "ragged.csv line 3: Expected Number of Columns: 3 Found: 2" &&
	expect_err_has "nothing was loaded" &&
	[ "$(snaps)" = "$n" ]
EOF_

test_ok 'a bad value past the sniffer sample names file, line, column and value; lake unchanged' <<'EOF_'
	n=$(snaps) &&
	tarn 1 load bad &&
	expect_err_has "bad/" && expect_err_has "/prices.csv line 30002, column price: value \"n/a\" is not a DOUBLE" &&
	expect_err_has "pass --reject" &&
	[ "$(snaps)" = "$n" ] &&
	tarn 0 tables --format csv && expect_out_lacks "prices"
EOF_

test_ok 'with --reject the bad value is kept aside and the rest loads' <<'EOF_'
	tarn 0 load bad --reject &&
	expect_out_has "bronze.prices: loaded 30001 rows" &&
	expect_out_has "1 rejected row in bronze.prices_rejects" &&
	[ "$(q "SELECT line || ':' || column_name || ':' || replace(raw_line, ',', ';') FROM bronze.prices_rejects" | tail -1)" = "30002:price:30001;n/a" ]
EOF_

test_ok 'each load is one snapshot whose message names dataset, version, file and SHA-256' <<'EOF_'
	sha=$(sha256sum "$f/bad/prices.csv" | cut -d" " -f1) &&
	q "SELECT commit_message FROM tarn_snapshots() ORDER BY snapshot_id DESC LIMIT 1" >"$tmp/out" &&
	expect_out_has "tarn load bad 2" && expect_out_has "into bronze.prices:" &&
	expect_out_has "prices.csv sha256:$sha"
EOF_

test_ok 'provenance columns say where each row came from' <<'EOF_'
	q "SELECT DISTINCT _source_file FROM bronze.prices" >"$tmp/out" &&
	expect_out_has "bad/2" && expect_out_has "/prices.csv" &&
	q "SELECT any_value(typeof(_ingested_at)) AS t, count(DISTINCT _ingested_at) AS n FROM bronze.prices" >"$tmp/out" &&
	expect_out "t,n
TIMESTAMP,1"
EOF_

test_ok 'loading into an existing table needs --mode' <<'EOF_'
	tarn 0 load sales &&
	expect_out_has "bronze.sales: loaded 2 rows" &&
	n=$(snaps) &&
	tarn 1 load sales &&
	expect_err_has "table bronze.sales exists already; pass --mode append" &&
	[ "$(snaps)" = "$n" ]
EOF_

test_ok 'schema drift: a new column in a new version is added with --mode append' <<'EOF_'
	ingest "$f/v2" --name sales &&
	tarn 0 load sales --mode append &&
	expect_out_has "bronze.sales: loaded 1 row" &&
	expect_err_has "added column region VARCHAR" &&
	q "SELECT id, amount, region FROM bronze.sales ORDER BY id" >"$tmp/out" &&
	expect_out "id,amount,region
1,10,
2,20,
3,30,north"
EOF_

test_ok '--version loads an older version' <<'EOF_'
	v1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["versions"][0]["version"])' "$raw/sales/manifest.json") &&
	tarn 0 load sales --version "$v1" --mode append &&
	expect_out_has "of version $v1" &&
	[ "$(q "SELECT count(*) FROM bronze.sales" | tail -1)" = 5 ] &&
	tarn 1 load sales --version 1999_01_01/00_00_00_000 &&
	expect_err_has "dataset sales has no version 1999_01_01/00_00_00_000 (it has"
EOF_

test_ok 'an incompatible type in an appended version is refused; lake unchanged' <<'EOF_'
	ingest "$f/v3" --name sales &&
	n=$(snaps) &&
	tarn 1 load sales --mode append &&
	expect_err_has "column amount of bronze.sales is BIGINT, but sales/" &&
	expect_err_has "has VARCHAR values" &&
	[ "$(snaps)" = "$n" ]
EOF_

test_ok '--mode replace replaces the table in one snapshot' <<'EOF_'
	n=$(snaps) &&
	tarn 0 load sales --mode replace &&
	[ "$(snaps)" = "$((n + 1))" ] &&
	q "SELECT id, amount FROM bronze.sales" >"$tmp/out" &&
	expect_out "id,amount
4,oops"
EOF_

test_ok 'files of one shape become one table named after the dataset' <<'EOF_'
	tarn 0 load many &&
	expect_out "bronze.many: loaded 2 rows from 2 files of version $(q "SELECT 1" >/dev/null; python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["latest"])' "$raw/many/manifest.json")" &&
	[ "$(q "SELECT count(DISTINCT _source_file) FROM bronze.many" | tail -1)" = 2 ]
EOF_

test_ok 'JSON arrays, NDJSON and gzip CSV load; --table gathers them in one table' <<'EOF_'
	tarn 0 load json_set --table raw_json.kv --no-provenance &&
	expect_out_has "raw_json.kv: loaded 5 rows from 3 files" &&
	q "SELECT k, v FROM raw_json.kv ORDER BY k" >"$tmp/out" &&
	expect_out "k,v
1,a
2,b
3,c
4,d
5,e" &&
	tarn 0 describe raw_json.kv --format csv && expect_out_lacks "_source_file"
EOF_

test_ok 'Parquet files load, and a hand-filled version is hashed at load' <<'EOF_'
	tarn 0 ingest dataset --manual "Hand Made" &&
	p=$(cat "$tmp/out") &&
	"$TARN" --lake "$lake" sql -c "COPY (SELECT range AS i, 'r' || range AS s FROM range(3)) TO '$p/part.parquet' (FORMAT parquet)" >/dev/null &&
	tarn 0 load hand_made &&
	expect_out_has "bronze.part: loaded 3 rows" &&
	sha=$(sha256sum "$p/part.parquet" | cut -d" " -f1) &&
	q "SELECT commit_message FROM tarn_snapshots() ORDER BY snapshot_id DESC LIMIT 1" >"$tmp/out" &&
	expect_out_has "part.parquet sha256:$sha"
EOF_

test_ok 'unknown datasets and empty versions are clear errors' <<'EOF_'
	tarn 1 load nope && expect_err_has "no dataset nope in the raw zone" &&
	tarn 0 ingest dataset --manual empty_one &&
	tarn 1 load empty_one && expect_err_has "has no CSV, TSV, JSON or Parquet file to load" &&
	tarn 2 load && tarn 2 load x --mode upsert &&
	tarn 1 load sales --table "a.b.c" && expect_err_has "is not TABLE or SCHEMA.TABLE"
EOF_

test_ok 'the dataset name may be given as typed' <<'EOF_'
	tarn 0 load "Hand Made" --table bronze.again && expect_out_has "bronze.again: loaded 3 rows"
EOF_
test_done
