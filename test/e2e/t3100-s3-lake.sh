#!/usr/bin/env bash
# A lake whose data lives in a bucket (s3rver on loopback, behind the fault
# proxy): the whole SQL suite again with the data path on S3, the bucket
# layout (stage/, marts/<schema>/), fsck against the bucket, and faults that
# must end in the right answer or a clear error, never a commit that refers
# to a missing object.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/../tools/lib-s3.sh"
s3_need
start_s3
lake="$tmp/lake"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
SLT=${TARN_SLT:-$(dirname "$TARN")/test/tarn-slt}

test_ok 'init a lake on s3://lake/prod/ and write to it' <<'EOF_'
	tarn 0 init -q --data-path s3://$BUCKET/prod/ "$lake" &&
	tarn 0 sql -c "CREATE TABLE t AS SELECT range AS i, 'v' || range AS s FROM range(1000)" \
		-c "CREATE SCHEMA sales" -c "CREATE TABLE sales.orders (id INTEGER, amount DOUBLE)" \
		-c "INSERT INTO sales.orders SELECT range, range * 1.5 FROM range(10)" \
		-c "DELETE FROM t WHERE i < 100" -c "UPDATE t SET s = 'x' WHERE i = 500" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n, sum(i) AS s FROM t" &&
	expect_out "n,s
900,494550"
EOF_

test_ok 'the bucket holds the lab layout: stage/ for main, marts/<schema>/' <<'EOF_'
	find "$tmp/s3data" -name '*.parquet*' >"$tmp/objects" &&
	grep -q "prod/stage/t/ducklake-" "$tmp/objects" &&
	grep -q "prod/marts/sales/orders/ducklake-" "$tmp/objects" &&
	grep -q -- "-delete.parquet" "$tmp/objects"
EOF_

test_ok 'a cold cache reads the same answers from the bucket' <<'EOF_'
	rm -rf "$TARN_CACHE_DIR" &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n, max(s) AS m FROM t WHERE i >= 500" &&
	expect_out "n,m
500,x"
EOF_

test_ok 'storage ls and du look into the bucket' <<'EOF_'
	tarn 0 storage ls --format csv stage/ &&
	expect_out_has "stage/t/ducklake-" &&
	expect_out_lacks "marts/" &&
	tarn 0 storage du --format json &&
	json_check 'sorted(r["folder"] for r in d) == ["marts/sales/", "stage/"] and all(r["bytes"] > 0 for r in d)'
EOF_

test_ok 'reads through a faulty network give the right answer or a clear error' <<'EOF_'
	rm -rf "$TARN_CACHE_DIR" &&
	rules '[{"method":"GET","fault":"truncate","times":1},{"method":"GET","fault":"500","times":1},{"method":"GET","fault":"reset","times":1}]' &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n, sum(i) AS s FROM t WHERE i < 1000" &&
	expect_out "n,s
900,494550" &&
	rm -rf "$TARN_CACHE_DIR" &&
	rules '[{"method":"GET","fault":"500"}]' &&
	expect_rc 1 "$TARN" --lake "$lake" sql -c "SELECT count(*) FROM t" &&
	expect_err_has "500" &&
	rules '[]'
EOF_

test_ok 'fsck checks every object against the bucket' <<'EOF_'
	tarn 0 fsck &&
	expect_out_has "0 problems"
EOF_

test_ok 'a failed upload leaves the lake as it was' <<'EOF_'
	before=$("$TARN" --lake "$lake" sql --format csv -c "SELECT count(*) FROM tarn_snapshots()") &&
	rules '[{"method":"PUT","fault":"403"}]' &&
	expect_rc 1 "$TARN" --lake "$lake" sql -c "INSERT INTO t SELECT range, 'y' FROM range(2000, 3000)" &&
	expect_err_has "403" &&
	rules '[]' &&
	after=$("$TARN" --lake "$lake" sql --format csv -c "SELECT count(*) FROM tarn_snapshots()") &&
	test "$before" = "$after" &&
	tarn 0 fsck
EOF_

test_ok 'a 503 SlowDown on PUT is retried and the commit lands' <<'EOF_'
	rules '[{"method":"PUT","fault":"503","times":2}]' &&
	tarn 0 sql -c "INSERT INTO t SELECT range, 'z' FROM range(3000, 3100)" &&
	rules '[]' &&
	tarn 0 sql --format csv -c "SELECT count(*) AS n FROM t WHERE s = 'z'" &&
	expect_out "n
100"
EOF_

test_ok 'wrong credentials: a clear error that names the fix, no secret shown' <<'EOF_'
	S3_SECRET_ACCESS_KEY=wrong-secret-123 expect_rc 1 "$TARN" --lake "$lake" sql -c "INSERT INTO t SELECT 1, 'q'" &&
	expect_err_has "S3_SECRET_ACCESS_KEY" &&
	! grep -q "wrong-secret-123" "$tmp/err"
EOF_

test_ok 'the whole SQL suite with the data path on S3' <<'EOF_'
	fails=0
	for f in $(find "$TARN_SOURCE_DIR/test/sql" -name '*.test' | grep -v slt_selftest | sort); do
		if ! TARN_DATA_PATH="s3://$BUCKET/suite/" "$SLT" "$f" >"$tmp/slt.out" 2>&1; then
			echo "FAILED: $f"; tail -20 "$tmp/slt.out"; fails=$((fails + 1))
		fi
	done
	test $fails -eq 0
EOF_
test_done
