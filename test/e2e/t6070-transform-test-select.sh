#!/usr/bin/env bash
# Which tests run, and how they count: --select runs the singular tests
# that ref a selected model (and not the others); tests declared on source
# columns run first (selected as source:s or source:s.t) and, failing in
# a build, skip the models that read the source; severity: warn (in
# config: or on the test) reports WARN and exits 0; where: filters the
# tested relation.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-project.sh"

put tarn.yml <<'EOF'
name: ts
models: {+materialized: table}
EOF
put models/a.sql <<'EOF'
SELECT * FROM (VALUES (1, 'x'), (2, 'y'), (2, NULL)) t(id, tag)
EOF
put models/b.sql <<'EOF'
SELECT id FROM {{ source('raw', 'orders') }}
EOF
put models/c.sql <<'EOF'
SELECT * FROM {{ ref('b') }}
EOF
put models/schema.yml <<'EOF'
version: 2
sources:
  - name: raw
    tables:
      - name: orders
        columns:
          - name: id
            data_tests: [unique]
      - name: other
models:
  - name: a
    columns:
      - name: id
        data_tests:
          - unique: {config: {severity: warn}}
          - unique: {config: {where: "tag IS NOT NULL"}}
      - name: tag
        tests:
          - not_null: {severity: warn}
          - accepted_values: {values: ['x', 'y'], where: "id = 1"}
EOF
put tests/a_small.sql <<'EOF'
SELECT * FROM {{ ref('a') }} WHERE id > 100
EOF
put tests/b_small.sql <<'EOF'
SELECT * FROM {{ ref('b') }} WHERE id > 100
EOF

test_ok 'a lake with a source table' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 sql -c "CREATE SCHEMA raw" &&
	tarn 0 sql -c "CREATE TABLE raw.orders AS SELECT * FROM (VALUES (1), (2)) t(id)" &&
	tarn 0 sql -c "CREATE TABLE raw.other AS SELECT 1 AS id"
EOF_

test_ok 'build: warnings are WARN, exit 0; where: filters; source tests run' <<'EOF_'
	cd "$proj" && tarn 0 build --format csv &&
	expect_out_has "unique_a_id,test,warn,1" && expect_out_has "unique_a_id#2,test,pass" &&
	expect_out_has "not_null_a_tag,test,warn,1" && expect_out_has "accepted_values_a_tag,test,pass" &&
	expect_out_has "source_unique_raw_orders_id,test,pass" &&
	expect_out_has "c,model,success" && expect_out_has "a_small,test,pass" &&
	expect_err_has "WARN test unique_a_id" && expect_err_has "0 failed, 2 warned"
EOF_

test_ok 'where: without it the same test fails' <<'EOF_'
	cd "$proj" && sed -i 's/unique: {config: {where: "tag IS NOT NULL"}}/unique/' models/schema.yml &&
	tarn 1 test --format csv && expect_out_has "unique_a_id#2,test,fail,1" &&
	put_where_back() { sed -i 's/^          - unique$/          - unique: {config: {where: "tag IS NOT NULL"}}/' models/schema.yml; } &&
	put_where_back && tarn 0 test --format csv && expect_out_has "unique_a_id#2,test,pass"
EOF_

test_ok 'json and table formats show warn' <<'EOF_'
	cd "$proj" && tarn 0 test --format json &&
	json_check 'any(r["status"] == "warn" and r["node"] == "not_null_a_tag" for r in d)' &&
	tarn 0 test --format table && expect_out_has "warn"
EOF_

test_ok 'test --select a: its tests and its singular test only' <<'EOF_'
	cd "$proj" && tarn 0 test --select a --format csv &&
	expect_out_has "unique_a_id,test,warn" && expect_out_has "a_small,test,pass" &&
	expect_out_lacks "b_small" && expect_out_lacks "source_unique"
EOF_

test_ok 'test --select b: the singular test that refs it' <<'EOF_'
	cd "$proj" && tarn 0 test --select b --format csv &&
	expect_out_has "b_small,test,pass" && expect_out_lacks "a_small" && expect_out_lacks "unique_a_id"
EOF_

test_ok 'build --select a: its singular test, not the other' <<'EOF_'
	cd "$proj" && tarn 0 build --select a --format csv &&
	expect_out_has "a,model,success" && expect_out_has "a_small,test,pass" && expect_out_lacks "b_small"
EOF_

test_ok 'a failing singular test under --select fails the command' <<'EOF_'
	cd "$proj" && put tests/a_small.sql <<<"SELECT * FROM {{ ref('a') }} WHERE id = 1" &&
	tarn 1 test --select a --format csv && expect_out_has "a_small,test,fail,1" &&
	tarn 0 test --select b --format csv && expect_out_lacks "a_small" &&
	put tests/a_small.sql <<<"SELECT * FROM {{ ref('a') }} WHERE id > 100"
EOF_

test_ok 'source tests: selected as source:raw and source:raw.orders' <<'EOF_'
	cd "$proj" && tarn 0 test --select source:raw --format csv &&
	expect_out_has "source_unique_raw_orders_id,test,pass" && expect_out_lacks "unique_a_id" &&
	tarn 0 test --select source:raw.orders --format csv && expect_out_has "source_unique_raw_orders_id" &&
	tarn 0 test --select source:raw.other --format csv && expect_out_lacks "source_unique" &&
	tarn 1 test --select source:nope && expect_err_has "source:nope"
EOF_

test_ok 'a failing source test fails test, and build skips its readers' <<'EOF_'
	cd "$proj" && tarn 0 sql -c "INSERT INTO raw.orders VALUES (2)" &&
	tarn 1 test --select source:raw --format csv && expect_out_has "source_unique_raw_orders_id,test,fail,1" &&
	tarn 1 build --format csv && expect_out_has "source_unique_raw_orders_id,test,fail" &&
	expect_out_has "b,model,skipped" && expect_out_has "c,model,skipped" && expect_out_has "a,model,success"
EOF_

test_ok 'a bad severity is an error naming the model and column' <<'EOF_'
	cd "$proj" && sed -i 's/severity: warn}}/severity: loud}}/' models/schema.yml &&
	tarn 1 test --select a && expect_out_has "error" && expect_err_has "severity is warn or error, not 'loud'"
EOF_

test_ok 'error_if and warn_if: thresholds on the failing-row count' <<'EOF_'
	cd "$proj" && sed -i 's/severity: loud}}/severity: warn}}/' models/schema.yml &&
	put models/d.sql <<<"SELECT * FROM (VALUES (1), (1), (2), (2), (3), (NULL)) t(id)" &&
	put models/d.yml <<'EOF' &&
version: 2
models:
  - name: d
    columns:
      - name: id
        tests:
          - unique: {config: {error_if: ">5", warn_if: ">1"}}
          - not_null: {error_if: ">= 1"}
          - accepted_values: {values: ['1'], config: {error_if: "> 1", warn_if: "<> 0"}}
EOF
	tarn 1 build --select d --format csv &&
	expect_out_has "unique_d_id,test,warn,2" && expect_out_has "not_null_d_id,test,fail,1" &&
	expect_out_has "accepted_values_d_id,test,fail,2" &&
	sed -i 's/error_if: ">= 1"/error_if: ">1"/; s/error_if: "> 1"/error_if: "> 2"/' models/d.yml &&
	tarn 0 test --select d --format csv &&
	expect_out_has "not_null_d_id,test,warn,1" && expect_out_has "accepted_values_d_id,test,warn,2" &&
	sed -i 's/warn_if: ">1"/warn_if: ">2"/' models/d.yml &&
	tarn 0 test --select d --format csv && expect_out_has "unique_d_id,test,pass,2"
EOF_

test_ok 'a singular test takes config(severity, error_if, warn_if)' <<'EOF_'
	cd "$proj" && put tests/d_dups.sql <<<"{{ config(severity='warn') }} SELECT id FROM {{ ref('d') }} WHERE id < 3" &&
	tarn 0 test --select d --format csv && expect_out_has "d_dups,test,warn,4" &&
	put tests/d_dups.sql <<<"{{ config(error_if='>3') }} SELECT id FROM {{ ref('d') }} WHERE id < 3" &&
	tarn 1 test --select d --format csv && expect_out_has "d_dups,test,fail,4" &&
	put tests/d_dups.sql <<<"{{ config(error_if='>4', warn_if='>10') }} SELECT id FROM {{ ref('d') }} WHERE id < 3" &&
	tarn 0 test --select d --format csv && expect_out_has "d_dups,test,pass,4"
EOF_

test_ok 'a bad threshold is an error naming the test' <<'EOF_'
	cd "$proj" && put tests/d_dups.sql <<<"{{ config(error_if='lots') }} SELECT * FROM {{ ref('d') }}" &&
	tarn 1 test --select d && expect_err_has "error_if 'lots' is not a comparison" &&
	rm tests/d_dups.sql && sed -i 's/error_if: ">5"/error_if: "5"/' models/d.yml &&
	tarn 1 test --select d && expect_err_has "model d, column id: unique: error_if '5'"
EOF_

test_ok 'one broken test among a node'"'"'s tests errors alone; the others are judged' <<'EOF_'
	cd "$proj" && put models/e.sql <<<"SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (2, NULL)) t(id, tag)" &&
	put models/e.yml <<'EOF' &&
version: 2
models:
  - name: e
    columns:
      - name: id
        tests: [unique, not_null]
      - name: nope
        tests: [not_null]
      - name: tag
        tests: [not_null]
EOF
	tarn 1 build --select e --format csv &&
	expect_out_has "unique_e_id,test,fail,1" && expect_out_has "not_null_e_id,test,pass,0" &&
	expect_out_has "not_null_e_nope,test,error" && expect_out_has "not_null_e_tag,test,fail,1"
EOF_

test_ok 'target/run_results.json: every node and test of the last command, as dbt writes it' <<'EOF_'
	cd "$proj" && tarn 1 build --select e &&
	python3 - "$proj/target/run_results.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = {x["unique_id"]: x for x in d["results"]}
assert d["metadata"]["dbt_schema_version"].endswith("run-results/v5.json"), d["metadata"]
assert r["model.ts.e"]["status"] == "success" and r["model.ts.e"]["adapter_response"]["rows_affected"] == 3, r
assert r["test.ts.unique_e_id"]["status"] == "fail" and r["test.ts.unique_e_id"]["failures"] == 1, r
assert r["test.ts.not_null_e_nope"]["status"] == "error" and r["test.ts.not_null_e_nope"]["message"], r
assert all(x["execution_time"] >= 0 for x in d["results"]) and d["elapsed_time"] > 0
PY
EOF_

test_done

