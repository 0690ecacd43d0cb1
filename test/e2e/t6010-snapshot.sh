#!/usr/bin/env bash
# `tarn snapshot` (SCD2): three changes of the same rows, then a hard delete,
# under each hard-delete mode (ignore, invalidate, new_record), with the
# timestamp and the check strategies; a run with no change adds nothing; each
# run of a snapshot is one commit; bad configs are refused, naming the file.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-project.sh"
snap() { cd "$proj" && "$TARN" --lake "$lake" -q snapshot "$@"; }
mkdir -p "$proj/snapshots" "$proj/models"
printf 'name: s\n' >"$proj/tarn.yml"
cat >"$proj/models/sources.yml" <<'EOF'
version: 2
sources:
  - name: src
    schema: bronze
    tables: [{name: cust}]
EOF
cat >"$proj/snapshots/cust_inv.sql" <<'EOF'
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at', hard_deletes='invalidate') }}
SELECT * FROM {{ source('src', 'cust') }}
EOF
cat >"$proj/snapshots/cust_new.sql" <<'EOF'
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at', hard_deletes='new_record',
          target_schema='history') }}
SELECT * FROM {{ source('src', 'cust') }}
EOF
cat >"$proj/snapshots/cust_ign.sql" <<'EOF'
{% snapshot cust_ign %}
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at') }}
SELECT * FROM {{ source('src', 'cust') }}
{% endsnapshot %}
EOF
cat >"$proj/snapshots/cust_chk.sql" <<'EOF'
{{ config(unique_key='id', strategy='check', check_cols=['name'], hard_deletes='invalidate') }}
SELECT id, name FROM {{ source('src', 'cust') }}
EOF
cat >"$proj/snapshots/cust_all.sql" <<'EOF'
{{ config(unique_key='id', strategy='check', check_cols='all') }}
SELECT id, name FROM {{ source('src', 'cust') }}
EOF

test_ok 'first run: every row current' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 sql -c "CREATE SCHEMA bronze" -c "CREATE TABLE bronze.cust AS SELECT * FROM (VALUES
		(1, 'a', TIMESTAMP '2024-01-01'), (2, 'b', TIMESTAMP '2024-01-01'), (3, 'c', TIMESTAMP '2024-01-01')) t(id, name, updated_at)" &&
	snap &&
	[ "$(q "SELECT count(*) FROM snapshots.cust_inv WHERE dbt_valid_to IS NULL AND dbt_valid_from = TIMESTAMP '2024-01-01'")" = 3 ] &&
	[ "$(q "SELECT count(*) FROM history.cust_new")" = 3 ] &&
	[ "$(q "SELECT count(*) FROM tarn_snapshots() WHERE commit_message LIKE 'tarn snapshot % cust_inv'")" = 1 ]
EOF_

test_ok 'a run without changes adds nothing' <<'EOF_'
	snap &&
	[ "$(q "SELECT count(*) FROM snapshots.cust_inv")" = 3 ] && [ "$(q "SELECT count(*) FROM snapshots.cust_chk")" = 3 ] &&
	[ "$(q "SELECT count(*) FROM snapshots.cust_all")" = 3 ]
EOF_

test_ok 'three changes of the same rows make three versions with contiguous validity' <<'EOF_'
	tarn 0 sql -c "UPDATE bronze.cust SET name = 'a2', updated_at = TIMESTAMP '2024-02-01' WHERE id = 1" && snap &&
	tarn 0 sql -c "UPDATE bronze.cust SET name = 'a3', updated_at = TIMESTAMP '2024-03-01' WHERE id IN (1, 2)" && snap &&
	tarn 0 sql -c "UPDATE bronze.cust SET name = 'a4', updated_at = TIMESTAMP '2024-04-01' WHERE id = 1" && snap &&
	[ "$(q "SELECT string_agg(name || ':' || CAST(dbt_valid_from AS DATE) || '-' || coalesce(CAST(CAST(dbt_valid_to AS DATE) AS VARCHAR), 'now'), ' ' ORDER BY dbt_valid_from) FROM snapshots.cust_inv WHERE id = 1")" = "a:2024-01-01-2024-02-01 a2:2024-02-01-2024-03-01 a3:2024-03-01-2024-04-01 a4:2024-04-01-now" ] &&
	[ "$(q "SELECT count(*) FROM snapshots.cust_inv WHERE id = 2")" = 2 ] &&
	[ "$(q "SELECT count(*) FROM snapshots.cust_inv WHERE id = 3")" = 1 ] &&
	[ "$(q "SELECT count(*) FROM snapshots.cust_chk WHERE id = 1")" = 4 ] &&
	[ "$(q "SELECT count(*) FROM snapshots.cust_all WHERE id = 1")" = 4 ] &&
	[ "$(q "SELECT count(DISTINCT dbt_scd_id) = count(*) FROM snapshots.cust_inv")" = true ]
EOF_

test_ok 'a hard delete: ignore keeps it current, invalidate closes it, new_record adds a deleted version' <<'EOF_'
	tarn 0 sql -c "DELETE FROM bronze.cust WHERE id = 3" && snap &&
	[ "$(q "SELECT count(*) FROM snapshots.cust_ign WHERE id = 3 AND dbt_valid_to IS NULL")" = 1 ] &&
	[ "$(q "SELECT count(*) FROM snapshots.cust_inv WHERE id = 3 AND dbt_valid_to IS NULL")" = 0 ] &&
	[ "$(q "SELECT count(*) FROM snapshots.cust_inv WHERE id = 3")" = 1 ] &&
	[ "$(q "SELECT count(*) FROM snapshots.cust_chk WHERE id = 3 AND dbt_valid_to IS NULL")" = 0 ] &&
	[ "$(q "SELECT count(*) FROM history.cust_new WHERE id = 3 AND dbt_valid_to IS NULL AND dbt_is_deleted")" = 1 ] &&
	[ "$(q "SELECT count(*) FROM history.cust_new WHERE id = 3 AND dbt_valid_to IS NOT NULL AND NOT dbt_is_deleted")" = 1 ]
EOF_

test_ok 'a deleted key that comes back gets a new current version' <<'EOF_'
	tarn 0 sql -c "INSERT INTO bronze.cust VALUES (3, 'c2', TIMESTAMP '2024-05-01')" && snap &&
	[ "$(q "SELECT name FROM history.cust_new WHERE id = 3 AND dbt_valid_to IS NULL")" = c2 ] &&
	[ "$(q "SELECT count(*) FROM history.cust_new WHERE id = 3")" = 3 ] &&
	[ "$(q "SELECT name FROM snapshots.cust_inv WHERE id = 3 AND dbt_valid_to IS NULL")" = c2 ] &&
	[ "$(q "SELECT count(*) FROM snapshots.cust_inv WHERE dbt_valid_to IS NULL")" = 3 ]
EOF_

test_ok 'history is a time-travel query away; --select runs one snapshot' <<'EOF_'
	n=$(q "SELECT count(*) FROM tarn_snapshots() WHERE commit_message LIKE '% cust_inv'") &&
	[ "$n" -ge 6 ] &&
	tarn 0 sql -c "UPDATE bronze.cust SET name = 'b9', updated_at = TIMESTAMP '2024-06-01' WHERE id = 2" &&
	snap --select cust_inv &&
	[ "$(q "SELECT count(*) FROM tarn_snapshots() WHERE commit_message LIKE '% cust_inv'")" = $((n + 1)) ] &&
	[ "$(q "SELECT count(*) FROM history.cust_new WHERE id = 2")" = 2 ]
EOF_

test_ok 'bad configs are refused, naming the file; the lake is unchanged' <<'EOF_'
	printf "{{ config(strategy='timestamp', updated_at='updated_at') }}\nSELECT 1 AS id\n" >"$proj/snapshots/bad.sql" &&
	before=$(q "SELECT count(*) FROM tarn_snapshots()") &&
	cd "$proj" && tarn 1 snapshot --select bad && expect_err_has "snapshots/bad.sql: config(unique_key" &&
	printf "{{ config(unique_key='id', strategy='sometimes') }}\nSELECT 1 AS id\n" >"$proj/snapshots/bad.sql" &&
	tarn 1 snapshot --select bad && expect_err_has "'timestamp' or 'check'" &&
	tarn 1 snapshot --select nosuch && expect_err_has "no snapshots/nosuch.sql" &&
	[ "$(q "SELECT count(*) FROM tarn_snapshots()")" = "$before" ] && rm "$proj/snapshots/bad.sql"
EOF_

test_done
