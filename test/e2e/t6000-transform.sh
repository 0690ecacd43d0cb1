#!/usr/bin/env bash
# Projects end to end: tarn run/build/test/seed/lineage/transform over small
# projects written here. Graph order, parallel workers, cycles, a failing
# model skipping its descendants, incremental append and merge (the second
# run touches only new rows), full refresh, every generic test passing and
# failing, a singular test, template errors with file and line, selectors,
# ephemeral models, vars, seeds, comments from YAML and the run history.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-project.sh"

put tarn.yml <<'EOF'
name: t
vars: {min_amount: 0}
models:
  silver: {+materialized: table}
  gold: {+materialized: table, +tags: [reporting]}
seeds: {+schema: ref}
EOF
put models/sources.yml <<'EOF'
version: 2
sources:
  - name: raw
    schema: bronze
    meta: {dataset: shop}
    tables:
      - name: orders
        description: raw orders
EOF
put models/silver/orders.sql <<'EOF'
{{ config(materialized='incremental', unique_key='id') }}
SELECT id, customer, amount, status FROM {{ source('raw', 'orders') }}
WHERE amount >= {{ var('min_amount') }}
{% if is_incremental() %}
  AND id > (SELECT coalesce(max(id), 0) - 1 FROM {{ this }})
{% endif %}
EOF
put models/silver/orders_log.sql <<'EOF'
{{ config(materialized='incremental') }}
SELECT id, amount FROM {{ source('raw', 'orders') }}
{% if is_incremental() %} WHERE id > (SELECT max(id) FROM {{ this }}) {% endif %}
EOF
put models/silver/big_orders.sql <<'EOF'
{{ config(materialized='ephemeral') }}
SELECT * FROM {{ ref('orders') }} WHERE amount >= 100
EOF
put models/gold/customer_totals.sql <<'EOF'
SELECT o.customer, sum(o.amount) AS total, count(*) AS n, any_value(c.country) AS country
FROM {{ ref('orders') }} o LEFT JOIN {{ ref('countries') }} c USING (customer)
GROUP BY o.customer
EOF
put models/gold/big_customers.sql <<'EOF'
{{ config(materialized='view') }}
SELECT DISTINCT customer FROM {{ ref('big_orders') }}
EOF
put models/gold/schema.yml <<'EOF'
version: 2
models:
  - name: customer_totals
    description: Total per customer
    columns:
      - name: customer
        description: who
        tests: [unique, not_null, {relationships: {to: "ref('countries')", field: customer}}]
      - name: country
        tests: [{accepted_values: {values: ['PT', 'NO']}}]
EOF
put seeds/countries.csv <<'EOF'
customer,country
ana,PT
ben,NO
EOF
put tests/no_negative_totals.sql <<'EOF'
SELECT * FROM {{ ref('customer_totals') }} WHERE total < 0
EOF

test_ok 'a lake with raw orders' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 sql -c "CREATE SCHEMA bronze" -c "CREATE TABLE bronze.orders AS SELECT * FROM (VALUES (1, 'ana', 50.0, 'new'), (2, 'ben', 150.0, 'new'), (3, 'ana', 200.0, 'new')) t(id, customer, amount, status)"
EOF_

test_ok 'build: seeds, models in graph order, tests; each model one snapshot' <<'EOF_'
	cd "$proj" &&
	tarn 0 build --threads 4 --format csv &&
	expect_out_has "countries,seed,success,2" &&
	expect_out_has "orders,model,success,3" &&
	expect_out_has "customer_totals,model,success,2" &&
	expect_out_has "big_orders,model,success" &&
	expect_out_has "big_customers,model,success" &&
	expect_out_has "unique_customer_totals_customer,test,pass" &&
	expect_out_has "relationships_customer_totals_customer,test,pass" &&
	expect_out_has "no_negative_totals,test,pass" &&
	[ "$(q "SELECT total FROM gold.customer_totals WHERE customer = 'ana'")" = 250.0 ] &&
	[ "$(q "SELECT count(*) FROM gold.big_customers")" = 2 ] &&
	[ "$(q "SELECT count(*) FROM tarn_tables() WHERE table_name = 'big_orders'")" = 0 ] &&
	[ "$(q "SELECT count(*) FROM tarn_snapshots() WHERE commit_message LIKE 'tarn build % model orders'")" = 1 ] &&
	[ "$(q "SELECT comment FROM tarn_tables() WHERE table_name = 'customer_totals'")" = "Total per customer" ] &&
	[ "$(q "SELECT comment FROM tarn_columns('gold.customer_totals') WHERE column_name = 'customer'")" = who ]
EOF_

test_ok 'graph order holds under parallel workers' <<'EOF_'
	[ "$(q "SELECT (SELECT max(snapshot_id) FROM tarn_snapshots() WHERE commit_message LIKE '% model orders')
		< (SELECT max(snapshot_id) FROM tarn_snapshots() WHERE commit_message LIKE '% model customer_totals')
		AND (SELECT max(snapshot_id) FROM tarn_snapshots() WHERE commit_message LIKE '% seed countries')
		< (SELECT max(snapshot_id) FROM tarn_snapshots() WHERE commit_message LIKE '% model customer_totals')")" = true ]
EOF_

test_ok 'the run is recorded in tarn_meta' <<'EOF_'
	[ "$(q "SELECT count(*) FROM tarn_meta.runs WHERE command = 'build' AND status = 'success'")" = 1 ] &&
	[ "$(q "SELECT count(*) FROM tarn_meta.run_models m JOIN tarn_snapshots() s ON s.snapshot_id = m.snapshot_id WHERE m.kind = 'model'")" = 4 ]
EOF_

test_ok 'incremental: the second run touches only new rows (append and merge)' <<'EOF_'
	cd "$proj" &&
	tarn 0 sql -c "INSERT INTO bronze.orders VALUES (4, 'ben', 10.0, 'new')" -c "UPDATE bronze.orders SET status = 'paid' WHERE id IN (1, 3)" &&
	before=$(q "SELECT max(snapshot_id) FROM tarn_snapshots()") &&
	tarn 0 run --select "orders orders_log" --format csv &&
	expect_out_has "orders,model,success,2" &&
	expect_out_has "orders_log,model,success,1" &&
	[ "$(q "SELECT count(*) || '/' || count(*) FILTER (WHERE status = 'paid') || '/' || max(status) FILTER (WHERE id = 3) FROM silver.orders")" = "4/1/paid" ] &&
	[ "$(q "SELECT count(*) FROM silver.orders_log")" = 4 ] &&
	[ "$(q "SELECT count(*) FROM silver.orders AT (VERSION => $before)")" = 3 ]
EOF_

test_ok '--full-refresh rebuilds an incremental model from scratch' <<'EOF_'
	cd "$proj" &&
	tarn 0 run --select orders --full-refresh --format csv &&
	expect_out_has "orders,model,success,4" &&
	[ "$(q "SELECT count(*) FILTER (WHERE status = 'paid') FROM silver.orders")" = 2 ]
EOF_

test_ok 'selectors: +name, name+, path:, tag:' <<'EOF_'
	cd "$proj" &&
	tarn 0 run --select "+customer_totals" --format csv && expect_out_has "orders,model" && expect_out_lacks "big_customers" &&
	tarn 0 run --select "orders+" --format csv && expect_out_has "big_customers" && expect_out_lacks "orders_log" &&
	tarn 0 run --select "path:models/gold" --format csv && expect_out_has "customer_totals" && expect_out_lacks "silver" &&
	tarn 0 run --select "tag:reporting" --format csv && expect_out_has "big_customers" && expect_out_lacks ",orders," &&
	tarn 1 run --select nosuch && expect_err_has "no model, seed or snapshot named 'nosuch'"
EOF_

test_ok 'generic tests fail with a sample of failing rows; tarn test exits 1' <<'EOF_'
	cd "$proj" &&
	tarn 0 sql -c "INSERT INTO bronze.orders VALUES (5, 'cy', 5.0, 'new')" &&
	tarn 0 run --threads 2 &&
	tarn 1 test --format csv &&
	expect_out_has "relationships_customer_totals_customer,test,fail,1" &&
	expect_out_has "unique_customer_totals_customer,test,pass" &&
	expect_err_has "failing rows: value=cy" &&
	tarn 0 sql -c "INSERT INTO ref.countries VALUES ('cy', 'CY')" &&
	tarn 0 run --select customer_totals &&
	tarn 1 test --format csv && expect_out_has "accepted_values_customer_totals_country,test,fail" &&
	expect_out_has "relationships_customer_totals_customer,test,pass" && expect_err_has "value=CY" &&
	tarn 0 sql -c "DELETE FROM bronze.orders WHERE id = 5" -c "DELETE FROM ref.countries WHERE customer = 'cy'" &&
	tarn 0 run --full-refresh && tarn 0 test
EOF_

test_ok 'a failing model skips its descendants, the rest go on' <<'EOF_'
	cp -r "$proj" "$tmp/p2" && cd "$tmp/p2" &&
	echo "SELECT nosuch_column FROM {{ ref('orders') }}" >models/silver/orders_log.sql &&
	printf 'SELECT * FROM {{ ref(%s) }}\n' "'orders_log'" >models/gold/log_child.sql &&
	tarn 1 run --format csv &&
	expect_out_has "orders_log,model,error" && expect_out_has "log_child,model,skipped" &&
	expect_out_has "customer_totals,model,success" && expect_err_has "nosuch_column"
EOF_

test_ok 'cycles are refused, named' <<'EOF_'
	cp -r "$proj" "$tmp/p3" && cd "$tmp/p3" &&
	echo "SELECT * FROM {{ ref('b_model') }}" >models/silver/a_model.sql &&
	echo "SELECT * FROM {{ ref('a_model') }}" >models/silver/b_model.sql &&
	tarn 1 run && expect_err_has "cycle" && expect_err_has "a_model -> b_model -> a_model"
EOF_

test_ok 'template errors name file and line, and nothing runs' <<'EOF_'
	cp -r "$proj" "$tmp/p4" && cd "$tmp/p4" && rm -f models/silver/a_model.sql &&
	printf 'SELECT 1 AS x\n-- line two\nFROM {{ reff("orders") }}\n' >models/silver/bad.sql &&
	n=$(q "SELECT count(*) FROM tarn_snapshots()") &&
	tarn 1 run && expect_err_has "models/silver/bad.sql:3: unknown template syntax" &&
	printf 'SELECT {{ ref("nope") }}\n' >models/silver/bad.sql &&
	tarn 1 run && expect_err_has "models/silver/bad.sql:1" && expect_err_has "nope" &&
	printf '{%% if is_incremental() %%}\nSELECT 1\n' >models/silver/bad.sql &&
	tarn 1 run && expect_err_has "never closed" &&
	printf 'SELECT {{ var("undefined_var") }}\n' >models/silver/bad.sql &&
	tarn 1 run && expect_err_has "undefined_var" &&
	[ "$(q "SELECT count(*) FROM tarn_snapshots()")" = "$n" ]
EOF_

test_ok '--vars overrides tarn.yml vars' <<'EOF_'
	cd "$proj" &&
	tarn 0 run --select orders --full-refresh --vars '{"min_amount": 100}' --format csv &&
	expect_out_has "orders,model,success,2" &&
	tarn 2 run --vars 'not json' 2>/dev/null; tarn 1 run --vars '[1]' && expect_err_has "JSON object"
EOF_

test_ok 'lineage in text, mermaid and dot; transform runs what a dataset feeds' <<'EOF_'
	cd "$proj" &&
	tarn 0 lineage orders && expect_out_has "raw.orders" && expect_out_has "gold.customer_totals (model)" &&
	tarn 0 lineage customer_totals --mermaid && expect_out_has "orders --> customer_totals" &&
	tarn 0 lineage customer_totals --dot && expect_out_has '"countries" -> "customer_totals";' &&
	tarn 0 transform shop --format csv && expect_out_has "orders,model,success" && expect_out_has "customer_totals,model" &&
	tarn 1 transform nothing && expect_err_has "meta: {dataset: nothing}"
EOF_

test_ok 'docs: one HTML page with every model, column descriptions, tests, lineage edges and the last run' <<'EOF_'
	cd "$proj" &&
	sed -i 's/description: who/description: who <b>\&<\/b>/' models/gold/schema.yml &&
	tarn 0 docs --out "$tmp/site/index.html" && expect_out "$tmp/site/index.html" &&
	for m in orders orders_log big_orders customer_totals big_customers countries; do
		grep -q "id=\"node-$m\"" "$tmp/site/index.html" || { echo "no section for $m"; exit 1; }; done &&
	grep -q 'data-from="orders" data-to="customer_totals"' "$tmp/site/index.html" &&
	grep -q 'data-from="countries" data-to="customer_totals"' "$tmp/site/index.html" &&
	grep -q 'who &lt;b&gt;&amp;&lt;/b&gt;' "$tmp/site/index.html" && ! grep -q 'who <b>' "$tmp/site/index.html" &&
	grep -q '<span class="test">relationships</span>' "$tmp/site/index.html" &&
	grep -q 'Last run: status success' "$tmp/site/index.html" &&
	tarn 0 docs && [ -f "$proj/target/docs/index.html" ]
EOF_

test_ok 'project init makes a project that runs' <<'EOF_'
	tarn 0 project init "$tmp/newproj" && [ -f "$tmp/newproj/tarn.yml" ] && grep -qx "target/" "$tmp/newproj/.gitignore" &&
	tarn 1 project init "$tmp/newproj" && expect_err_has "exists already" &&
	tarn 0 sql -c "CREATE TABLE bronze.example AS SELECT 1 AS a UNION ALL SELECT 1" &&
	tarn 0 run --project "$tmp/newproj" --format csv && expect_out_has "example_clean,model,success,1" &&
	tarn 1 run --project "$tmp/nowhere" && expect_err_has "no tarn.yml"
EOF_

test_done
