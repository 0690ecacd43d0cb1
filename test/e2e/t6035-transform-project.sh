#!/usr/bin/env bash
# Project plumbing: project init makes a project that runs, --project and
# finding tarn.yml upward, many models on 8 workers, lineage (text, mermaid,
# dot), transform DATASET, selectors from YAML config tags, run history, and
# --help on every command.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-project.sh"

test_ok 'a lake' 'tarn 0 init -q "$lake"'

test_ok 'project init writes a skeleton that runs and tests' <<'EOF_'
	tarn 0 project init "$tmp/p0" &&
	[ -f "$tmp/p0/tarn.yml" ] && [ -d "$tmp/p0/models/bronze" ] && [ -d "$tmp/p0/models/silver" ] &&
	[ -d "$tmp/p0/models/gold" ] && ls "$tmp/p0"/models/*/*.yml >/dev/null &&
	tarn 0 sql -c "CREATE SCHEMA bronze" -c "CREATE TABLE bronze.example AS SELECT 1 AS a" &&
	tarn 0 build --project "$tmp/p0" && [ "$(q "SELECT a FROM silver.example_clean")" = 1 ] &&
	tarn 1 project init "$tmp/p0"
EOF_

test_ok 'tarn.yml is found from a subfolder' <<'EOF_'
	cd "$tmp/p0/models/silver" && tarn 0 run
EOF_

test_ok 'outside a project: a clear error' <<'EOF_'
	cd "$tmp" && tarn 1 run && expect_err_has "tarn.yml"
EOF_

proj="$tmp/wide"
mkdir -p "$proj/models/bronze" "$proj/models/gold"
cat >"$proj/tarn.yml" <<'EOF'
name: wide
models:
  gold: {+materialized: table}
EOF
cat >"$proj/models/sources.yml" <<'EOF'
version: 2
sources:
  - name: shop
    schema: raw_shop
    tables:
      - name: sales
        meta: {dataset: shop_ds}
  - name: other
    tables:
      - name: t
        meta: {dataset: other_ds}
models:
  - name: m3
    config: {tags: [odd]}
EOF
for i in $(seq 1 12); do
	echo "SELECT $i AS i, count(*) AS n FROM range(200000) r, {{ source('shop', 'sales') }} s" >"$proj/models/bronze/m$i.sql"
done
echo "SELECT * FROM {{ source('other', 't') }}" >"$proj/models/bronze/o.sql"
{
	echo "SELECT sum(i) AS s FROM ("
	for i in $(seq 1 12); do echo "SELECT * FROM {{ ref('m$i') }} UNION ALL"; done
	echo "SELECT 0, 0)"
} >"$proj/models/gold/total.sql"
echo "SELECT * FROM {{ ref('total') }}" >"$proj/models/gold/after.sql"

test_ok '12 models on 8 workers, then their dependent; one snapshot each' <<'EOF_'

	cd "$proj" &&
	tarn 0 sql -c "CREATE SCHEMA raw_shop" -c "CREATE TABLE raw_shop.sales AS SELECT 1 AS x" \
		-c "CREATE SCHEMA other" -c "CREATE TABLE other.t AS SELECT 1 AS y" &&
	tarn 0 run --threads 8 --format csv &&
	[ "$(grep -c ',model,success' "$tmp/out")" = 15 ] &&
	[ "$(q "SELECT s::INT FROM gold.total")" = 78 ] &&
	[ "$(q "SELECT count(DISTINCT snapshot_id) FROM tarn_meta.run_models WHERE run_id = (SELECT run_id FROM tarn_meta.runs WHERE nodes = 15)")" = 15 ] &&
	[ "$(q "SELECT count(*) FROM tarn_snapshots() WHERE commit_message LIKE 'tarn run % model m%'")" = 12 ]
EOF_

test_ok 'run history: runs and run_models' <<'EOF_'

	[ "$(q "SELECT count(*) FROM tarn_meta.runs WHERE command = 'run' AND status = 'success' AND ended_at >= started_at")" -ge 2 ] &&
	[ "$(q "SELECT count(*) FROM tarn_meta.run_models WHERE snapshot_id IS NOT NULL AND seconds >= 0")" -ge 15 ]
EOF_

test_ok 'selectors: tag from YAML config, path:, union' <<'EOF_'
	cd "$proj" &&
	tarn 0 run --select "tag:odd" --format csv && expect_out_has "m3," && [ "$(grep -c ',model,' "$tmp/out")" = 1 ] &&
	tarn 0 run --select "path:models/gold m1" --format csv && [ "$(grep -c ',model,' "$tmp/out")" = 3 ] &&
	tarn 0 run --select "+after" --format csv && [ "$(grep -c ',model,' "$tmp/out")" = 14 ] &&
	tarn 0 run --select "m1+" --format csv && [ "$(grep -c ',model,' "$tmp/out")" = 3 ]
EOF_

test_ok 'transform DATASET runs what is downstream of its sources' <<'EOF_'
	cd "$proj" &&
	tarn 0 transform shop_ds --format csv && [ "$(grep -c ',model,' "$tmp/out")" = 14 ] && expect_out_lacks "o,model" &&
	tarn 0 transform other_ds --format csv && expect_out_has "o,model,success" && [ "$(grep -c ',model,' "$tmp/out")" = 1 ] &&
	tarn 1 transform nosuch_ds
EOF_

test_ok 'lineage: upstream and downstream, mermaid, dot' <<'EOF_'
	cd "$proj" &&
	tarn 0 lineage total && expect_out_has m7 && expect_out_has after &&
	tarn 0 lineage total --mermaid && expect_out_has "graph" && expect_out_has "m7" &&
	tarn 0 lineage total --dot && expect_out_has "digraph" && expect_out_has "after" &&
	tarn 0 lineage m1 --format dot && expect_out_has '"shop.sales" -> "m1";' && expect_out_has '"m1" -> "total";' &&
	tarn 0 lineage m1 --format mermaid && expect_out_has "m1 --> total" &&
	tarn 1 lineage nosuch
EOF_

test_ok 'every transform command has --help' <<'EOF_'
	for c in run build test seed transform lineage project; do
		tarn 0 "$c" --help && expect_out_has "usage: tarn $c" || exit 1
	done
EOF_

test_done
