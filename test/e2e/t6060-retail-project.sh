#!/usr/bin/env bash
# The retail example (examples/retail) end to end, as the demo runs it:
# generated data landed and loaded into bronze, `tarn build` with every test
# passing and a commit per model, gold answers that agree with the raw
# Parquet, the dirty values cleaned in silver, SCD2 history over a change,
# `tarn transform retail` after new sales arrive, lineage and docs of the
# real project, and a broken source caught by the project's tests.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-project.sh"
# A copy, so that nothing (target/docs) is written into the repository.
cp -r "$(dirname "$0")/../../examples/retail" "$proj"
data="$tmp/data"
raw() { q "SELECT $1 FROM read_parquet('$data/$2.parquet')"; }
models="stg_customers stg_stores stg_products stg_sales customer_lifetime_value store_performance product_analytics monthly_revenue"

test_ok 'generate, ingest, load, build: every model and test passes, one commit per model' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 -q gen retail --out "$data" &&
	tarn 0 -q ingest dataset "$data" --name retail &&
	tarn 0 -q load retail &&
	cd "$proj" && tarn 0 build --threads 2 --format csv &&
	[ "$(grep -c ',model,success,' "$tmp/out")" = 8 ] && expect_out_has "regions,seed,success,4" &&
	[ "$(grep -c ',test,pass,0,' "$tmp/out")" -ge 20 ] && ! grep -q ',test,fail' "$tmp/out" &&
	expect_err_has "0 failed" &&
	for m in $models; do
		[ "$(q "SELECT count(*) FROM tarn_snapshots() WHERE commit_message LIKE 'tarn build % model $m'")" = 1 ] ||
			{ echo "no commit for $m"; exit 1; }; done &&
	[ "$(q "SELECT count(*) FROM tarn_meta.run_models WHERE status NOT IN ('success', 'pass')")" = 0 ]
EOF_

test_ok 'the gold answers agree with the raw Parquet' <<'EOF_'
	# every sale line since the start date reaches silver, and revenue adds up the same way in every mart
	[ "$(q "SELECT count(*) FROM silver.stg_sales")" = "$(raw "count(*)" sales)" ] &&
	[ "$(q "SELECT sum(revenue) FROM silver.stg_sales")" = "$(q "SELECT sum(revenue) FROM gold.store_performance")" ] &&
	[ "$(q "SELECT sum(revenue) FROM silver.stg_sales")" = "$(q "SELECT sum(revenue) FROM gold.product_analytics")" ] &&
	[ "$(q "SELECT sum(revenue) FROM silver.stg_sales")" = "$(q "SELECT sum(revenue) FROM gold.monthly_revenue")" ] &&
	[ "$(q "SELECT sum(revenue) FROM silver.stg_sales WHERE customer_id IS NOT NULL")" = "$(q "SELECT sum(lifetime_revenue) FROM gold.customer_lifetime_value")" ] &&
	[ "$(q "SELECT abs(sum(revenue) - (SELECT sum(quantity * unit_price * (1 - discount)) FROM read_parquet('$data/sales.parquet'))) < 0.01 * count(*) FROM silver.stg_sales")" = true ] &&
	# the top store by revenue is the one the raw data says
	[ "$(q "SELECT store_id FROM gold.store_performance ORDER BY revenue DESC LIMIT 1")" = "$(q "SELECT store_id FROM read_parquet('$data/sales.parquet') GROUP BY store_id ORDER BY sum(quantity * unit_price * (1 - discount)) DESC LIMIT 1")" ] &&
	[ "$(q "SELECT count(*) FROM gold.customer_lifetime_value")" = "$(raw "count(DISTINCT customer_id)" customers)" ] &&
	[ "$(q "SELECT count(DISTINCT value_tier) FROM gold.customer_lifetime_value")" = 3 ]
EOF_

test_ok 'silver cleans the dirty values the generator made' <<'EOF_'
	[ "$(raw "count(*) FILTER (WHERE email <> lower(email) OR email LIKE '% ') > 0 AND count(*) FILTER (WHERE city <> trim(city)) > 0" customers)" = true ] &&
	[ "$(q "SELECT count(*) FROM silver.stg_customers WHERE email <> lower(trim(email)) OR city <> trim(city) OR city <> upper(city[1]) || lower(city[2:])")" = 0 ] &&
	[ "$(q "SELECT count(*) FROM silver.stg_customers WHERE email IS NULL")" -gt 0 ] &&
	[ "$(q "SELECT count(*) FILTER (WHERE is_return) = count(*) FILTER (WHERE quantity < 0) AND count(*) FILTER (WHERE is_return) > 0 FROM silver.stg_sales")" = true ]
EOF_

test_ok 'lineage of the real project: upstream sources, downstream marts, mermaid and dot' <<'EOF_'
	cd "$proj" &&
	tarn 0 lineage stg_sales && expect_out_has "bronze.sales" && expect_out_has "bronze.products" &&
	for m in customer_lifetime_value store_performance product_analytics monthly_revenue; do expect_out_has "$m" || exit 1; done &&
	expect_out_lacks "stg_customers" &&
	tarn 0 lineage customer_lifetime_value --format mermaid && expect_out_has "stg_sales --> customer_lifetime_value" &&
	expect_out_has "stg_customers --> customer_lifetime_value" &&
	tarn 0 lineage store_performance --format dot && expect_out_has '"regions" -> "stg_stores";' &&
	expect_out_has '"stg_stores" -> "store_performance";'
EOF_

test_ok 'docs of the real project: every model, a column description, lineage edges, the last run' <<'EOF_'
	cd "$proj" && tarn 0 docs && f="$proj/target/docs/index.html" &&
	for m in $models regions; do grep -q "id=\"node-$m\"" "$f" || { echo "no section for $m"; exit 1; }; done &&
	grep -q 'Lower case and trimmed; NULL when the customer gave none.' "$f" &&
	grep -q 'data-from="stg_sales" data-to="store_performance"' "$f" &&
	grep -q 'data-from="regions" data-to="stg_stores"' "$f" &&
	grep -q 'Last run: status success' "$f" &&
	! grep -Eq '(src|href)="https?:' "$f"
EOF_

test_ok 'SCD2: a customer who moves gets a second version in the snapshot' <<'EOF_'
	cd "$proj" && tarn 0 snapshot &&
	[ "$(q "SELECT count(*) FROM snapshots.customers_snapshot")" = "$(q "SELECT count(*) FROM silver.stg_customers")" ] &&
	tarn 0 sql -c "UPDATE bronze.customers SET city = 'Reykjavik', updated_at = now() WHERE customer_id = 7 AND valid_to IS NULL" &&
	tarn 0 run --select stg_customers && tarn 0 snapshot &&
	[ "$(q "SELECT string_agg(city, ',' ORDER BY dbt_valid_from) FILTER (WHERE dbt_valid_to IS NULL) || '/' || count(*) FROM snapshots.customers_snapshot WHERE customer_id = 7")" = "Reykjavik/2" ] &&
	[ "$(q "SELECT count(*) FROM snapshots.customers_snapshot WHERE dbt_valid_to IS NULL")" = "$(q "SELECT count(*) FROM silver.stg_customers")" ]
EOF_

test_ok 'new sales arrive: tarn transform retail adds only them to the incremental stg_sales' <<'EOF_'
	n=$(q "SELECT count(*) FROM silver.stg_sales") && top=$(q "SELECT max(sale_id) FROM silver.stg_sales") &&
	tarn 0 sql -c "INSERT INTO bronze.sales BY NAME SELECT * EXCLUDE (sale_id), sale_id + $top AS sale_id FROM bronze.sales WHERE sale_id <= 3" &&
	cd "$proj" && tarn 0 transform retail --format csv && expect_out_has "stg_sales,model,success" &&
	expect_out_has "store_performance,model,success" &&
	[ "$(q "SELECT count(*) FROM silver.stg_sales")" = $((n + 3)) ] &&
	[ "$(q "SELECT count(*) FROM tarn_snapshots() WHERE commit_message LIKE '% model stg_sales' AND changes LIKE '%deleted_from%'")" = 0 ]
EOF_

test_ok 'a broken source fails the project tests, naming the test and a failing row' <<'EOF_'
	tarn 0 sql -c "INSERT INTO bronze.sales BY NAME SELECT * EXCLUDE (sale_id, store_id), sale_id + 1000000 AS sale_id, 999 AS store_id FROM bronze.sales WHERE sale_id = 1" &&
	cd "$proj" && tarn 1 build --threads 2 --format csv &&
	expect_out_has "relationships_stg_sales_store_id,test,fail,1" && expect_err_has "999"
EOF_

test_done
