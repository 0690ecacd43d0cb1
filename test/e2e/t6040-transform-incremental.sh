#!/usr/bin/env bash
# Incremental models: append (INSERT BY NAME) and merge (unique_key, also
# a composite key): the second run writes only the new or changed rows and
# leaves the old ones as they were; a run with nothing new writes no data;
# --full-refresh rebuilds; {{ this }} reads the model's own table; a model
# that switches between view and table replaces the old object.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-project.sh"

put tarn.yml <<'EOF'
name: inc
EOF
put models/sources.yml <<'EOF'
version: 2
sources:
  - name: raw
    tables: [{name: ev}]
EOF
put models/silver/ev_log.sql <<'EOF'
{{ config(materialized='incremental') }}
SELECT id, v FROM {{ source('raw', 'ev') }}
{% if is_incremental() %}WHERE id > (SELECT max(id) FROM {{ this }}){% endif %}
EOF
put models/silver/ev_cur.sql <<'EOF'
{{ config(materialized='incremental', unique_key='id') }}
SELECT id, v, ts FROM {{ source('raw', 'ev') }}
{% if is_incremental() %}WHERE ts > (SELECT max(ts) FROM {{ this }}){% endif %}
EOF
put models/silver/ev_pair.sql <<'EOF'
{{ config(materialized='incremental', unique_key='id, k') }}
SELECT id, id % 2 AS k, v, ts FROM {{ source('raw', 'ev') }}
{% if is_incremental() %}WHERE ts > (SELECT max(ts) FROM {{ this }}){% endif %}
EOF

test_ok 'first run creates the tables' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 sql -c "CREATE SCHEMA raw" -c "CREATE TABLE raw.ev AS SELECT i AS id, 'a' || i AS v, i AS ts FROM range(1, 101) t(i)" &&
	cd "$proj" && tarn 0 run --format csv &&
	expect_out_has "ev_log,model,success,100" && expect_out_has "ev_cur,model,success,100" &&
	expect_out_has "ev_pair,model,success,100"
EOF_

test_ok 'append: the second run inserts only the new rows' <<'EOF_'
	cd "$proj" &&
	tarn 0 sql -c "INSERT INTO raw.ev VALUES (101, 'a101', 101), (102, 'a102', 102)" &&
	before=$(q "SELECT max(snapshot_id) FROM tarn_snapshots()") &&
	tarn 0 run --select ev_log --format csv && expect_out_has "ev_log,model,success,2" &&
	[ "$(q "SELECT count(*) FROM silver.ev_log")" = 102 ] &&
	[ "$(q "SELECT count(*) FROM (SELECT * FROM silver.ev_log AT (VERSION => $before) EXCEPT SELECT * FROM silver.ev_log)")" = 0 ]
EOF_

test_ok 'merge: changed rows update, new rows insert, old rows stay' <<'EOF_'
	cd "$proj" &&
	tarn 0 sql -c "UPDATE raw.ev SET v = 'changed', ts = 200 WHERE id = 5" &&
	before=$(q "SELECT max(snapshot_id) FROM tarn_snapshots()") &&
	tarn 0 run --select "ev_cur ev_pair" --format csv &&
	expect_out_has "ev_cur,model,success,3" && expect_out_has "ev_pair,model,success,3" &&
	[ "$(q "SELECT count(*) FROM silver.ev_cur")" = 102 ] &&
	[ "$(q "SELECT v FROM silver.ev_cur WHERE id = 5")" = changed ] &&
	[ "$(q "SELECT count(*) FROM silver.ev_pair WHERE id = 5")" = 1 ] &&
	[ "$(q "SELECT count(*) FROM (SELECT * FROM silver.ev_cur AT (VERSION => $before) EXCEPT SELECT * FROM silver.ev_cur)")" = 1 ] &&
	[ "$(q "SELECT count(*) FROM (SELECT * FROM silver.ev_cur EXCEPT SELECT * FROM silver.ev_cur AT (VERSION => $before))")" = 3 ]
EOF_

test_ok 'nothing new: no rows written, the tables unchanged' <<'EOF_'
	cd "$proj" &&
	tarn 0 run --select "ev_log ev_cur" --format csv &&
	expect_out_has "ev_log,model,success,0" && expect_out_has "ev_cur,model,success,0" &&
	[ "$(q "SELECT count(*) FROM silver.ev_log")" = 102 ] &&
	[ "$(q "SELECT count(*) FROM silver.ev_cur")" = 102 ]
EOF_

test_ok '--full-refresh rebuilds from the source' <<'EOF_'
	cd "$proj" &&
	tarn 0 sql -c "DELETE FROM raw.ev WHERE id > 50" &&
	tarn 0 run --select ev_log --format csv && expect_out_has "ev_log,model,success,0" &&
	tarn 0 run --select ev_log --full-refresh --format csv && expect_out_has "ev_log,model,success,50" &&
	[ "$(q "SELECT count(*) FROM silver.ev_log")" = 50 ]
EOF_

test_ok 'a ref() only in the incremental branch is still a dependency' <<'EOF_'
	cd "$proj" &&
	put models/silver/ev_ids.sql <<<"SELECT id FROM {{ source('raw', 'ev') }} WHERE id % 10 = 0" &&
	put models/silver/ev_tens.sql <<'EOF' &&
{{ config(materialized='incremental') }}
SELECT id FROM {{ source('raw', 'ev') }}
{% if is_incremental() %}
WHERE id IN (SELECT id FROM {{ ref('ev_ids') }}) AND id > (SELECT max(id) FROM {{ this }})
{% endif %}
EOF
	tarn 0 run --select +ev_tens --threads 4 --format csv &&
	expect_out_has "ev_ids,model,success" && expect_out_has "ev_tens,model,success,50" &&
	tarn 0 sql -c "INSERT INTO raw.ev SELECT i, 'b' || i, i FROM range(51, 61) t(i)" &&
	tarn 0 run --select +ev_tens --threads 4 --format csv &&
	expect_out_has "ev_tens,model,success,1" &&
	[ "$(q "SELECT max(id) FROM silver.ev_tens")" = 60 ] &&
	tarn 0 lineage ev_tens && expect_out_has ev_ids
EOF_

test_ok 'a template error in the branch not taken fails the first run, with file and line' <<'EOF_'
	cd "$proj" &&
	printf "{{ config(materialized='incremental') }}\nSELECT 1 AS id\n{%% if is_incremental() %%}\nWHERE {{ thiss }}\n{%% endif %%}\n" >models/silver/ev_typo.sql &&
	tarn 1 run --select ev_typo && expect_err_has "models/silver/ev_typo.sql:4: unknown template syntax" &&
	rm models/silver/ev_typo.sql
EOF_

test_ok 'a merge whose key is not a column fails and changes nothing' <<'EOF_'
	cd "$proj" &&
	put models/silver/bad_key.sql <<<"{{ config(materialized='incremental', unique_key='nope') }} SELECT 1 AS id" &&
	tarn 0 run --select bad_key &&
	tarn 1 run --select bad_key && [ "$(q "SELECT count(*) FROM silver.bad_key")" = 1 ]
EOF_

test_ok 'a model that changes materialization replaces the old object' <<'EOF_'
	cd "$proj" &&
	for m in view table view incremental view table; do
		echo "{{ config(materialized='$m') }} SELECT 1 AS x" >models/silver/flip.sql &&
		tarn 0 run --select flip && [ "$(q "SELECT x FROM silver.flip")" = 1 ] &&
		want=$m && [ "$m" = incremental ] && want=table
		[ "$(q "SELECT kind FROM tarn_tables() WHERE table_name = 'flip'")" = "$want" ] || exit 1
	done
EOF_

test_done
