#!/usr/bin/env bash
# Build tarn and show the whole lab on the embedded default (a lake in a
# folder, a SQLite catalog): generate a retail company, land it in the raw
# zone, load it into bronze tables, build the example project (silver and
# gold models with their tests, each model a snapshot), show lineage and
# write the docs page, answer a few questions, and show time travel, SCD2
# history and the consistency check.
#   bash scripts/demo.sh [LAKE_DIR]   (default ./demo-lake)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/build.sh"
tarn="$here/build/tarn"
lake=${1:-$here/demo-lake}
data="$lake.data"
docs="$lake.docs"
rm -rf "$lake" "$data" "$docs"
start=$(date +%s.%N)
step() { printf '\n== %s\n' "$*"; }

step "a new lake in $lake"
"$tarn" init "$lake"
export TARN_LAKE="$lake"

step "tarn gen retail: a synthetic retail company as Parquet"
"$tarn" gen retail --out "$data"

step "tarn ingest dataset: land it in the raw zone (a dated version with a manifest)"
"$tarn" ingest dataset "$data" --name retail

step "tarn load: the raw version into bronze tables, one snapshot"
"$tarn" load retail

step "tarn build: seeds, the silver and gold models and their tests (examples/retail)"
"$tarn" build --project "$here/examples/retail" --threads 2

step "tarn snapshot: SCD2 history of the customers (snapshots/customers_snapshot.sql)"
"$tarn" snapshot --project "$here/examples/retail"

step "tarn lineage: what customer_lifetime_value is made from (Mermaid; --dot for Graphviz)"
"$tarn" lineage customer_lifetime_value --project "$here/examples/retail" --format mermaid

step "tarn docs: one static HTML page (models, columns, tests, lineage, last run)"
"$tarn" docs --project "$here/examples/retail" --out "$docs/index.html"
echo "open $docs/index.html"

step "answers"
"$tarn" sql <<'SQL'
SELECT store_name, region, revenue, revenue_per_sqm FROM gold.store_performance ORDER BY revenue DESC LIMIT 5;
SELECT value_tier, count(*) AS customers, round(avg(lifetime_revenue), 2) AS avg_revenue
  FROM gold.customer_lifetime_value GROUP BY value_tier ORDER BY avg_revenue DESC;
SELECT category, sum(revenue) AS revenue FROM gold.product_analytics GROUP BY category ORDER BY revenue DESC;
SELECT strftime(month, '%Y-%m') AS month, sum(revenue) AS revenue FROM gold.monthly_revenue
  GROUP BY month ORDER BY revenue DESC LIMIT 3;
SQL

step "every model run is a snapshot; the run is recorded in the lake"
"$tarn" snapshots --format table | tail -n 8
"$tarn" sql -c "SELECT node, kind, status, \"rows\", seconds, snapshot_id FROM tarn_meta.run_models WHERE kind <> 'test' ORDER BY snapshot_id"

step "a correction: returns are dropped upstream, and only what depends on bronze.sales is rebuilt"
before=$("$tarn" sql --format csv -c "SELECT max(snapshot_id) FROM tarn_snapshots()" | tail -1)
"$tarn" sql -c "DELETE FROM bronze.sales WHERE quantity < 0"
"$tarn" run --project "$here/examples/retail" --select "stg_sales+" --full-refresh

step "time travel: store revenue now and before the correction (AT VERSION => $before)"
"$tarn" sql -c "SELECT cur.store_name, prev.revenue AS revenue_before, cur.revenue AS revenue_now
  FROM gold.store_performance AS cur
  JOIN gold.store_performance AS prev AT (VERSION => $before) USING (store_id)
  ORDER BY cur.revenue DESC LIMIT 5"

step "SCD2: customer 7 moves; silver is rebuilt and the snapshot keeps both versions"
"$tarn" sql -c "UPDATE bronze.customers SET city = 'Reykjavik', updated_at = now() WHERE customer_id = 7 AND valid_to IS NULL"
"$tarn" run --project "$here/examples/retail" --select stg_customers
"$tarn" snapshot --project "$here/examples/retail"
"$tarn" sql -c "SELECT customer_id, city, segment, dbt_valid_from, dbt_valid_to FROM snapshots.customers_snapshot
  WHERE customer_id = 7 ORDER BY dbt_valid_from"

step "consistency check"
"$tarn" fsck
awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "\ndemo finished in %.1f s\n", b - a }'
