#!/usr/bin/env bash
# Data tests: each generic test (unique, not_null, accepted_values,
# relationships, also under data_tests:) passing and failing with a sample
# of the failing rows (tarn test runs every test, skipping nothing), a
# singular test, and `tarn build` skipping the
# descendants of a model whose test fails (and only of that model, also
# with parallel workers).
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-project.sh"

put tarn.yml <<'EOF'
name: dt
seeds: {+schema: ref}
models:
  silver: {+materialized: table}
EOF
put seeds/colors.csv <<'EOF'
color,label
red,Red
blue,Blue
EOF
put models/silver/items.sql <<'EOF'
SELECT * FROM (VALUES (1, 'red'), (2, 'blue'), (3, 'red')) t(id, color)
EOF
put models/gold/per_color.sql <<'EOF'
SELECT color, count(*) AS n FROM {{ ref('items') }} GROUP BY color
EOF
put models/schema.yml <<'EOF'
version: 2
models:
  - name: items
    description: Items
    columns:
      - name: id
        description: The item
        data_tests: [unique, not_null]
      - name: color
        tests:
          - accepted_values: {values: ['red', 'blue']}
          - relationships: {to: "ref('colors')", field: color}
EOF
put tests/no_zero.sql <<'EOF'
SELECT * FROM {{ ref('per_color') }} WHERE n = 0
EOF

test_ok 'a lake' 'tarn 0 init -q "$lake"'

test_ok 'seed into the schema of tarn.yml seeds:' <<'EOF_'
	cd "$proj" && tarn 0 seed --format csv && expect_out_has "colors,seed,success,2" &&
	[ "$(q "SELECT label FROM ref.colors WHERE color = 'blue'")" = Blue ]
EOF_

test_ok 'every test passes' <<'EOF_'
	cd "$proj" && tarn 0 run &&
	tarn 0 test --format csv &&
	expect_out_has "unique_items_id,test,pass" && expect_out_has "not_null_items_id,test,pass" &&
	expect_out_has "accepted_values_items_color,test,pass" &&
	expect_out_has "relationships_items_color,test,pass" && expect_out_has "no_zero,test,pass"
EOF_

test_ok 'the YAML descriptions are comments' <<'EOF_'
	[ "$(q "SELECT comment FROM tarn_tables() WHERE table_name = 'items'")" = Items ] &&
	[ "$(q "SELECT comment FROM tarn_columns('silver.items') WHERE column_name = 'id'")" = "The item" ]
EOF_

test_ok 'each generic test fails, showing failing rows; exit 1' <<'EOF_'
	cd "$proj" &&
	put models/silver/items.sql <<<"SELECT * FROM (VALUES (1, 'red'), (1, 'green'), (NULL, 'blue'), (4, 'pink')) t(id, color)" &&
	tarn 0 run --select items &&
	tarn 1 test --format csv &&
	expect_out_has "unique_items_id,test,fail,1" && expect_out_has "not_null_items_id,test,fail,1" &&
	expect_out_has "accepted_values_items_color,test,fail,2" &&
	expect_out_has "relationships_items_color,test,fail,2" &&
	expect_err_has "green" && expect_err_has "pink" && expect_out_lacks "skipped" &&
	tarn 1 test && expect_out_has "fail" && expect_out_has "pass"
EOF_

test_ok 'a failing singular test' <<'EOF_'
	cd "$proj" &&
	put tests/no_zero.sql <<<"SELECT * FROM {{ ref('per_color') }} WHERE n > 0" &&
	tarn 1 test --format csv && expect_out_has "no_zero,test,fail"
EOF_

test_ok 'build: a failing test skips the descendants of its model' <<'EOF_'
	cd "$proj" &&
	tarn 0 sql -c "DROP VIEW gold.per_color" &&
	tarn 1 build --format csv &&
	expect_out_has "items,model,success" && expect_out_has "unique_items_id,test,fail" &&
	expect_out_has "per_color,model,skipped" &&
	[ "$(q "SELECT count(*) FROM tarn_tables() WHERE table_name = 'per_color'")" = 0 ]
EOF_

test_ok 'build --threads 2: a failing test elsewhere skips nothing of a passing model' <<'EOF_'
	p2="$tmp/p2" && mkdir -p "$p2/models" &&
	printf 'name: r\nmodels: {+materialized: table}\n' >"$p2/tarn.yml" &&
	echo "SELECT range AS id FROM range(300000)" >"$p2/models/a.sql" &&
	echo "SELECT range AS id FROM range(300000)" >"$p2/models/b.sql" &&
	echo "SELECT * FROM {{ ref('b') }}" >"$p2/models/c.sql" &&
	cat >"$p2/models/s.yml" <<'EOF' &&
version: 2
models:
  - name: a
    columns:
      - name: id
        tests: [{accepted_values: {values: [1]}}, {accepted_values: {values: [2]}}, {accepted_values: {values: [3]}}]
  - name: b
    columns:
      - name: id
        tests: [unique, not_null]
EOF
	for k in 1 2 3; do
		tarn 1 build --project "$p2" --threads 2 --format csv &&
		expect_out_has "c,model,success" && expect_out_has "accepted_values_a_id,test,fail" || exit 1
	done &&
	expect_out_has "accepted_values_a_id#2,test,fail" && expect_out_has "accepted_values_a_id#3,test,fail"
EOF_

test_ok 'test --help' 'tarn 0 test --help && expect_out_has "usage: tarn test"'

test_done
