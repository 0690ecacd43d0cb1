#!/bin/sh
# selftest_fail.sh: proves that tarn-slt can fail. Each case below is a
# deliberately wrong .test file; tarn-slt (on plain DuckDB) must exit 1,
# name the file and line, and count a failure. A few good files must pass,
# so that a runner failing everything does not pass this check either.
#
# usage: sh test/slt/selftest_fail.sh path/to/tarn-slt
# Prints TAP ("ok N - name" / "not ok N - name"); exits 1 if any case is wrong.

SLT=${1:?usage: selftest_fail.sh path/to/tarn-slt}
dir=$(mktemp -d "${TMPDIR:-/tmp}/tarn-slt-selftest-XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
n=0
bad=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	bad=$((bad + 1))
	echo "not ok $n - $1"
	sed 's/^/#   /' "$dir/$1.err" "$dir/$1.out" 2>/dev/null
}

# run NAME: the test text on stdin, written to NAME.test and run on duckdb.
run() {
	cat >"$dir/$1.test"
	"$SLT" --engine duckdb "$dir/$1.test" >"$dir/$1.out" 2>"$dir/$1.err"
}

# must_fail NAME: exit 1, a "NAME.test:LINE:" report, and a summary counting a failure.
must_fail() {
	run "$1"
	rc=$?
	if [ "$rc" -ne 1 ]; then
		echo "# $1: exit status $rc, expected 1"
		not_ok "$1"
	elif ! grep -q "$1\.test:[0-9][0-9]*: " "$dir/$1.err"; then
		echo "# $1: no '$1.test:LINE:' report on stderr"
		not_ok "$1"
	elif ! tail -n 1 "$dir/$1.out" | grep -Eq '^[0-9]+ passed, [1-9][0-9]* failed'; then
		echo "# $1: the summary line does not count a failure"
		not_ok "$1"
	else
		ok "$1"
	fi
}

# must_pass NAME SUMMARY: exit 0 and exactly SUMMARY as the last line.
must_pass() {
	run "$1"
	rc=$?
	if [ "$rc" -ne 0 ] || [ "$(tail -n 1 "$dir/$1.out")" != "$2" ]; then
		echo "# $1: exit status $rc, summary '$(tail -n 1 "$dir/$1.out")', expected 0 and '$2'"
		not_ok "$1"
	else
		ok "$1"
	fi
}

# ---- good files: the runner is not failing everything ----

must_pass good_query '2 passed, 0 failed' <<'EOF'
query IT
SELECT 1, 'a'
----
1	a

statement error
SELECT * FROM no_such_table
----
no_such_table
EOF

must_pass good_skip '0 passed, 0 failed, 1 skipped' <<'EOF'
require no_such_feature

statement ok
SELECT 1
EOF

# ---- wrong results ----

must_fail wrong_value <<'EOF'
query I
SELECT 42
----
43
EOF

must_fail wrong_text <<'EOF'
query T
SELECT 'abc'
----
abd
EOF

must_fail missing_row <<'EOF'
query I
SELECT * FROM range(3)
----
0
1
EOF

must_fail extra_row <<'EOF'
query I
SELECT * FROM range(2)
----
0
1
2
EOF

must_fail empty_expected_but_rows <<'EOF'
query I
SELECT 1
EOF

must_fail wrong_column_count <<'EOF'
query I
SELECT 1, 2
----
1	2
EOF

must_fail wrong_row_wise_value <<'EOF'
query IT
SELECT * FROM (VALUES (1, 'a'), (2, 'b')) t(i, s) ORDER BY i
----
1	a
2	c
EOF

must_fail wrong_order_nosort <<'EOF'
query I
SELECT * FROM range(3) ORDER BY 1 DESC
----
0
1
2
EOF

must_fail null_is_not_empty <<'EOF'
query T
SELECT NULL::VARCHAR
----
(empty)
EOF

must_fail empty_is_not_null <<'EOF'
query T
SELECT ''
----
NULL
EOF

must_fail wrong_bool <<'EOF'
query I
SELECT true
----
0
EOF

must_fail double_outside_tolerance <<'EOF'
query R
SELECT 1.000001::DOUBLE
----
1
EOF

must_fail integer_not_fraction <<'EOF'
query I
SELECT 2
----
2.5
EOF

must_fail text_is_not_numeric <<'EOF'
query T
SELECT '1.0'
----
1
EOF

must_fail wrong_hash <<'EOF'
query I
SELECT * FROM range(10)
----
10 values hashing to 00000000000000000000000000000000
EOF

must_fail wrong_hash_count <<'EOF'
query I
SELECT * FROM range(10)
----
9 values hashing to e20b902b49a98b1a05ed62804c757f94
EOF

must_fail label_disagrees <<'EOF'
query I nosort lbl
SELECT 1
----
1

query I nosort lbl
SELECT 2
EOF

must_fail regex_value_mismatch <<'EOF'
query T
SELECT 'abc'
----
<REGEX>:[0-9]+
EOF

must_fail not_regex_value_matches <<'EOF'
query T
SELECT '123'
----
<!REGEX>:[0-9]+
EOF

must_fail wrong_in_one_loop_iteration <<'EOF'
loop i 0 3

query I
SELECT CASE WHEN ${i} = 2 THEN 99 ELSE ${i} END
----
${i}

endloop
EOF

# ---- statements ----

must_fail statement_ok_fails <<'EOF'
statement ok
SELECT * FROM no_such_table
EOF

must_fail expected_error_does_not_happen <<'EOF'
statement error
SELECT 1
EOF

must_fail wrong_error_message <<'EOF'
statement error
SELECT * FROM no_such_table
----
division by zero
EOF

must_fail error_regex_mismatch <<'EOF'
statement error
SELECT * FROM no_such_table
----
<REGEX>:division.*
EOF

must_fail error_not_regex_matches <<'EOF'
statement error
SELECT * FROM no_such_table
----
<!REGEX>:.*no_such_table.*
EOF

must_fail maybe_with_other_error <<'EOF'
statement maybe
SELECT * FROM no_such_table
----
conflict
EOF

must_fail query_fails <<'EOF'
query I
SELECT * FROM no_such_table
----
1
EOF

# ---- errors in the test file itself ----

must_fail unknown_command <<'EOF'
statment ok
SELECT 1
EOF

must_fail bad_type_letter <<'EOF'
query IX
SELECT 1, 2
----
1	2
EOF

must_fail missing_endloop <<'EOF'
loop i 0 2

statement ok
SELECT ${i}
EOF

must_fail endloop_without_loop <<'EOF'
statement ok
SELECT 1

endloop
EOF

must_fail oneline_without_blank <<'EOF'
restart
statement ok
SELECT 1
EOF

must_fail statement_ok_with_result <<'EOF'
statement ok
SELECT 1
----
1
EOF

must_fail comment_inside_record <<'EOF'
query I
SELECT 1
# a comment here is not allowed
----
1
EOF

must_fail comment_inside_expected <<'EOF'
query I
SELECT 1
----
1
# a comment here is not allowed
EOF

must_fail statement_without_sql <<'EOF'
statement ok

query I
SELECT 1
----
1
EOF

must_fail bad_statement_mode <<'EOF'
statement okay
SELECT 1
EOF

must_fail maybe_without_message <<'EOF'
statement maybe
SELECT 1
EOF

must_fail bad_hash_threshold <<'EOF'
hash-threshold many

query I
SELECT 1
----
1
EOF

must_fail bad_loop_bound <<'EOF'
loop i 0 ten

endloop
EOF

must_fail unknown_mode <<'EOF'
mode fast

query I
SELECT 1
----
1
EOF

must_fail concurrentloop_unsupported <<'EOF'
concurrentloop i 0 2

endloop
EOF

must_fail rows_not_multiple_of_columns <<'EOF'
query II
SELECT * FROM (VALUES (1, 2), (3, 4)) t(a, b)
----
1
2
3
EOF

must_fail row_wise_extra_value <<'EOF'
query II
SELECT 1, 2
----
1	2	3
EOF

# ---- the command line ----

n=$((n + 1))
if "$SLT" --engine duckdb "$dir/no_such_file.test" >/dev/null 2>&1; then
	bad=$((bad + 1))
	echo "not ok $n - missing file"
else
	echo "ok $n - missing file"
fi

n=$((n + 1))
"$SLT" --engine no_such_engine "$dir/good_query.test" >/dev/null 2>&1
if [ $? -ne 2 ]; then
	bad=$((bad + 1))
	echo "not ok $n - unknown engine exits 2"
else
	echo "ok $n - unknown engine exits 2"
fi

n=$((n + 1))
if TARN_SLT_ENGINE=duckdb "$SLT" "$dir/good_query.test" >/dev/null 2>&1; then
	echo "ok $n - TARN_SLT_ENGINE selects the engine"
else
	bad=$((bad + 1))
	echo "not ok $n - TARN_SLT_ENGINE selects the engine"
fi

echo "1..$n"
[ "$bad" -eq 0 ]
