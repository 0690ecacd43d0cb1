#!/usr/bin/env bash
# Build tarn and show it on the embedded default: a local lake in a folder,
# a table, a few commits, time travel and the consistency check.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/build.sh"
tarn="$here/build/tarn"
lake=${1:-$here/demo-lake}
rm -rf "$lake"
"$tarn" init "$lake"
export TARN_LAKE="$lake"
"$tarn" sql <<'SQL'
CREATE TABLE sales (id INTEGER, store VARCHAR, amount DECIMAL(10,2), sold_at TIMESTAMP);
INSERT INTO sales SELECT i, 'store_' || (i % 5), round(random() * 100, 2), TIMESTAMP '2026-01-01' + INTERVAL (i) MINUTE
  FROM range(1, 100001) t(i);
COMMENT ON TABLE sales IS 'one row per sale';
DELETE FROM sales WHERE store = 'store_0';
UPDATE sales SET amount = amount * 2 WHERE store = 'store_1';
ALTER TABLE sales ADD COLUMN channel VARCHAR DEFAULT 'web';
SELECT store, count(*) AS sales, sum(amount) AS revenue FROM sales GROUP BY store ORDER BY store;
SELECT count(*) AS rows_at_version_2 FROM sales AT (VERSION => 2);
SQL
"$tarn" snapshots
"$tarn" describe sales
"$tarn" fsck
