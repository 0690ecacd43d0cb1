#!/usr/bin/env bash
# Snapshots are nodes of the graph: a model may ref() one, `tarn build`
# runs each snapshot after what it reads and before what reads it (one
# commit each), `tarn run` leaves them alone, selectors and lineage know
# them, a failing snapshot skips its readers, and names are one namespace.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-project.sh"

put tarn.yml <<'EOF'
name: snaps
models: {+materialized: table}
EOF
put models/sources.yml <<'EOF'
version: 2
sources:
  - name: raw
    schema: bronze
    tables: [{name: cust}]
EOF
put models/silver/stg_cust.sql <<'EOF'
SELECT id, lower(city) AS city FROM {{ source('raw', 'cust') }}
EOF
put snapshots/cust_hist.sql <<'EOF'
{% snapshot cust_hist %}
{{ config(unique_key='id', strategy='check', check_cols=['city'], target_schema='history') }}
SELECT * FROM {{ ref('stg_cust') }}
{% endsnapshot %}
EOF
put models/gold/moves.sql <<'EOF'
SELECT id, count(*) AS versions, max(city) FILTER (WHERE dbt_valid_to IS NULL) AS city_now
FROM {{ ref('cust_hist') }} GROUP BY id
EOF

# the snapshot id of the commit whose message ends with $1
commit_of() { q "SELECT max(snapshot_id) FROM tarn_snapshots() WHERE commit_message LIKE '% $1'"; }

test_ok 'build runs the snapshot between the model it reads and the model that reads it' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 sql -c "CREATE SCHEMA bronze" -c "CREATE TABLE bronze.cust AS SELECT * FROM (VALUES
		(1, 'Oslo'), (2, 'Bergen'), (3, 'Tromso')) t(id, city)" &&
	cd "$proj" && tarn 0 build --threads 3 --format csv &&
	expect_out_has "cust_hist,snapshot,success" &&
	s=$(commit_of "model stg_cust") && h=$(commit_of "cust_hist") && m=$(commit_of "model moves") &&
	[ -n "$s" ] && [ -n "$h" ] && [ -n "$m" ] && [ "$s" -lt "$h" ] && [ "$h" -lt "$m" ] &&
	[ "$(q "SELECT count(*) FROM history.cust_hist")" = 3 ] &&
	[ "$(q "SELECT sum(versions) FROM gold.moves")" = 3 ]
EOF_

test_ok 'a second build records the change and the reader sees it' <<'EOF_'
	tarn 0 sql -c "UPDATE bronze.cust SET city = 'Bodo' WHERE id = 2" &&
	cd "$proj" && tarn 0 build &&
	[ "$(q "SELECT versions || ' ' || city_now FROM gold.moves WHERE id = 2")" = "2 bodo" ] &&
	[ "$(q "SELECT count(*) FROM history.cust_hist WHERE dbt_valid_to IS NULL")" = 3 ]
EOF_

test_ok 'run leaves snapshots alone; build --select picks one' <<'EOF_'
	before=$(q "SELECT count(*) FROM tarn_snapshots() WHERE commit_message LIKE 'tarn snapshot %'") &&
	cd "$proj" && tarn 0 run --format csv &&
	expect_out_lacks "cust_hist" &&
	[ "$(q "SELECT count(*) FROM tarn_snapshots() WHERE commit_message LIKE 'tarn snapshot %'")" = "$before" ] &&
	tarn 0 sql -c "UPDATE bronze.cust SET city = 'Narvik' WHERE id = 3" && tarn 0 run --select stg_cust &&
	tarn 0 build --select cust_hist --format csv &&
	expect_out_has "cust_hist,snapshot,success" && expect_out_lacks "stg_cust" && expect_out_lacks "moves" &&
	[ "$(q "SELECT count(*) FROM tarn_snapshots() WHERE commit_message LIKE 'tarn snapshot %'")" = $((before + 1)) ] &&
	[ "$(q "SELECT versions FROM gold.moves WHERE id = 3")" = 1 ] &&
	tarn 0 build --select cust_hist+ --format csv && expect_out_has "moves,model,success" &&
	[ "$(q "SELECT versions FROM gold.moves WHERE id = 3")" = 2 ]
EOF_

test_ok 'lineage, ls and tarn snapshot know the snapshot' <<'EOF_'
	cd "$proj" && tarn 0 lineage moves && expect_out_has "cust_hist" && expect_out_has "snapshot" &&
	tarn 0 lineage cust_hist && expect_out_has "stg_cust" && expect_out_has "moves" &&
	tarn 0 snapshot && expect_err_has "cust_hist"
EOF_

test_ok 'a failing snapshot skips the models that read it' <<'EOF_'
	cp "$proj/snapshots/cust_hist.sql" "$tmp/keep.sql" &&
	put snapshots/cust_hist.sql <<'EOF' &&
{{ config(strategy='check', check_cols=['city']) }}
SELECT * FROM {{ ref('stg_cust') }}
EOF
	cd "$proj" && tarn 1 build --format csv &&
	expect_out_has "cust_hist,snapshot,error" && expect_out_has "moves,model,skipped" &&
	expect_err_has "unique_key" && expect_out_has "stg_cust,model,success" &&
	cp "$tmp/keep.sql" "$proj/snapshots/cust_hist.sql"
EOF_

test_ok 'a snapshot and a model of one name are refused, naming both files' <<'EOF_'
	put models/cust_hist.sql <<'EOF' &&
SELECT 1 AS x
EOF
	cd "$proj" && tarn 1 build &&
	expect_err_has "models/cust_hist.sql" && expect_err_has "snapshots/cust_hist.sql" &&
	rm "$proj/models/cust_hist.sql"
EOF_
test_ok 'a reader started while a failing test ran is held back: skipped, nothing committed, no file left' <<'EOF_'
	put models/gold/slow_reader.sql <<'EOF' &&
SELECT s.id, count(*) AS n FROM {{ ref('stg_cust') }} s, range(20000) r GROUP BY s.id
EOF
	put models/silver/schema.yml <<'EOF' &&
version: 2
models:
  - name: stg_cust
    columns:
      - name: city
        tests: [{accepted_values: {values: ['nowhere'], where: "id IN (SELECT r % 7 FROM range(3000000) t(r) WHERE md5(CAST(r AS VARCHAR)) > '0')"}}]
EOF
	before=$(q "SELECT count(*) FROM tarn_snapshots()") &&
	cd "$proj" && TARN_TRACE_SQL=1 tarn 1 build --threads 4 --select stg_cust+ --format csv &&
	grep -q 'COPY (SELECT s.id, count' "$tmp/err" &&
	expect_out_has "accepted_values_stg_cust_city,test,fail" &&
	expect_out_has "slow_reader,model,skipped" && expect_out_has "moves,model,skipped" &&
	[ "$(q "SELECT count(*) FROM tarn_tables() WHERE table_name = 'slow_reader'")" = 0 ] &&
	[ "$(q "SELECT count(*) FROM tarn_snapshots() WHERE commit_message LIKE '% slow_reader'")" = 0 ] &&
	{ [ ! -d "$lake/data/gold/slow_reader" ] || [ -z "$(ls -A "$lake/data/gold/slow_reader")" ]; } &&
	rm "$proj/models/silver/schema.yml" && tarn 0 build --select stg_cust+ --format csv &&
	expect_out_has "slow_reader,model,success" &&
	[ "$(q "SELECT count(*) FROM gold.slow_reader")" -gt 0 ]
EOF_

test_done
