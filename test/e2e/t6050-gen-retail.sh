#!/usr/bin/env bash
# `tarn gen retail`: the same seed gives the same bytes (with 1 or 4 DuckDB
# threads), another seed other
# data; the tables have the shapes and the dirt the docs promise; and the
# files go through the front door (ingest, load) into bronze tables.
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
q() { "$TARN" --lake "$lake" sql --format csv -c "$1" | tail -n +2; }

test_ok 'generate twice with one seed and once with another' <<'EOF_'
	tarn 0 init -q "$lake" &&
	tarn 0 gen retail --out "$tmp/a" --format csv &&
	expect_out_has "$tmp/a/sales.parquet" &&
	tarn 0 -q gen retail --out "$tmp/b" --threads 1 &&
	tarn 0 -q gen retail --out "$tmp/b4" --threads 4 &&
	tarn 0 -q gen retail --out "$tmp/c" --seed 7 &&
	for f in customers stores products sales; do
		cmp "$tmp/a/$f.parquet" "$tmp/b/$f.parquet" && cmp "$tmp/b/$f.parquet" "$tmp/b4/$f.parquet" || exit 1; done &&
	[ "$(q "SELECT count(*) FROM (SELECT * FROM '$tmp/a/sales.parquet' EXCEPT ALL SELECT * FROM '$tmp/b4/sales.parquet')")" = 0 ] &&
	! cmp -s "$tmp/a/sales.parquet" "$tmp/c/sales.parquet" &&
	[ -z "$(ls -A "$tmp/a" | grep -v '\.parquet$')" ]
EOF_

test_ok 'customers and stores keep SCD2 history: one open version per key, no overlap' <<'EOF_'
	[ "$(q "SELECT count(DISTINCT customer_id) = count(*) FILTER (WHERE valid_to IS NULL) AND count(*) > count(DISTINCT customer_id) FROM '$tmp/a/customers.parquet'")" = true ] &&
	[ "$(q "SELECT count(*) FROM (SELECT customer_id, valid_to, lead(valid_from) OVER (PARTITION BY customer_id ORDER BY version) AS nxt FROM '$tmp/a/customers.parquet') WHERE valid_to IS DISTINCT FROM nxt")" = 0 ] &&
	[ "$(q "SELECT count(DISTINCT store_id) = count(*) FILTER (WHERE valid_to IS NULL) FROM '$tmp/a/stores.parquet'")" = true ]
EOF_

test_ok 'sales are skewed (favourites the seed picks), seasonal and a little dirty; names fit categories' <<'EOF_'
	[ "$(q "SELECT count(*) BETWEEN 30000 AND 60000 FROM '$tmp/a/sales.parquet'")" = true ] &&
	[ "$(q "WITH p AS (SELECT product_id, count(*) AS n FROM '$tmp/a/sales.parquet' GROUP BY 1) SELECT max(n) > 10 * median(n) FROM p")" = true ] &&
	[ "$(q "SELECT (SELECT max_by(product_id, n) FROM (SELECT product_id, count(*) AS n FROM '$tmp/a/sales.parquet' GROUP BY 1)) <> (SELECT max_by(product_id, n) FROM (SELECT product_id, count(*) AS n FROM '$tmp/c/sales.parquet' GROUP BY 1))")" = true ] &&
	[ "$(q "SELECT count(*) FILTER (WHERE category = 'Grocery' AND product_name SIMILAR TO '(Coffee|Tea|Bread|Cheese|Apples|Pasta|Olive Oil|Rice|Yoghurt) .*') = count(*) FILTER (WHERE category = 'Grocery') FROM '$tmp/a/products.parquet'")" = true ] &&
	[ "$(q "SELECT count(*) FILTER (WHERE month(sold_at) = 12) > 1.3 * count(*) FILTER (WHERE month(sold_at) = 3) FROM '$tmp/a/sales.parquet'")" = true ] &&
	[ "$(q "SELECT count(*) FILTER (WHERE quantity < 0) > 0 AND count(*) FILTER (WHERE customer_id IS NULL) > 0 FROM '$tmp/a/sales.parquet'")" = true ] &&
	[ "$(q "SELECT count(*) FILTER (WHERE email IS NULL) > 0 AND count(*) FILTER (WHERE email <> lower(email)) > 0 AND count(*) FILTER (WHERE city <> trim(city)) > 0 FROM '$tmp/a/customers.parquet'")" = true ]
EOF_

test_ok 'scale grows the data; bad arguments are refused' <<'EOF_'
	tarn 0 -q gen retail --out "$tmp/s2" --scale 2 &&
	[ "$(q "SELECT (SELECT count(*) FROM '$tmp/s2/sales.parquet') > 1.8 * (SELECT count(*) FROM '$tmp/a/sales.parquet')")" = true ] &&
	tarn 2 gen retail --scale zero && expect_err_has "--scale" &&
	tarn 1 gen retail --out "$tmp/x" --scale 0 && expect_err_has "between 1 and" &&
	tarn 2 gen retail --threads 0 && expect_err_has "--threads" &&
	tarn 2 gen weather && expect_err_has "retail"
EOF_

test_ok 'the files land in the raw zone and load into bronze' <<'EOF_'
	tarn 0 -q ingest dataset "$tmp/a" --name retail &&
	tarn 0 -q load retail &&
	tarn 0 tables --format csv &&
	expect_out_has "bronze,sales" && expect_out_has "bronze,customers" &&
	[ "$(q "SELECT count(*) FROM bronze.sales")" = "$(q "SELECT count(*) FROM '$tmp/a/sales.parquet'")" ]
EOF_

test_done
