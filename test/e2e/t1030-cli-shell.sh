#!/usr/bin/env bash
# t1030-cli-shell: the interactive `tarn sql` shell on a pseudo-terminal
# (util-linux script(1)): prompts, multi-line statements, dot commands,
# errors that do not end the shell, the transaction prompt, history.
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"

if ! script -qec true /dev/null >/dev/null 2>&1; then
	# A skipped test is not a green test.
	echo "not ok 1 - script(1) with -e/-c is not available (util-linux's bsdutils)"
	echo "0 passed, 1 failed"
	exit 1
fi

# shell FILE: feed FILE to `tarn sql` on a terminal; output in $tmp/out.
shell() {
	script -qec "$(printf '%q ' "$TARN" --lake "$lake" sql)" /dev/null <"$1" >"$tmp/out" 2>&1
}

test_ok 'init and a table' <<'EOF'
	expect_rc 0 "$TARN" init "$lake" &&
	expect_rc 0 "$TARN" --lake "$lake" sql -c "CREATE TABLE t (i INTEGER)" -c "INSERT INTO t VALUES (41)"
EOF

test_ok 'a statement over two lines, then .quit' <<'EOF'
	printf 'SELECT i + 1\n  AS answer FROM t;\n.quit\n' >"$tmp/in" &&
	shell "$tmp/in" &&
	expect_out_has "tarn> " &&
	expect_out_has "  ...> " &&
	expect_out_has "answer" &&
	expect_out_has "42" &&
	expect_out_has "(1 row)"
EOF

test_ok 'an error is printed and the shell goes on' <<'EOF'
	printf "SELECT CAST('abc' AS INTEGER);\nSELECT 'still here' AS s;\n.exit\n" >"$tmp/in" &&
	shell "$tmp/in" &&
	expect_out_has "Could not convert string" &&
	expect_out_has "still here"
EOF

test_ok 'dot commands: .format, .tables, .schema, .timer, .help, unknown' <<'EOF'
	printf '.format csv\nSELECT 1 AS a, 2 AS b;\n.tables\n.schema t\n.timer on\nSELECT 3 AS c;\n.help\n.nope\n.quit\n' >"$tmp/in" &&
	shell "$tmp/in" &&
	expect_out_has "a,b" &&
	expect_out_has "main,t" &&
	expect_out_has "INTEGER" &&
	expect_out_has "Run Time:" &&
	expect_out_has ".schema TABLE" &&
	expect_out_has "unknown command .nope"
EOF

test_ok 'the prompt shows an open transaction' <<'EOF'
	printf 'BEGIN;\nINSERT INTO t VALUES (1);\nROLLBACK;\n.quit\n' >"$tmp/in" &&
	shell "$tmp/in" &&
	expect_out_has "tarn*> " &&
	expect_rc 0 "$TARN" --lake "$lake" sql --format csv -c "SELECT count(*) AS n FROM t" &&
	expect_out 'n
1'
EOF

test_ok 'end of input leaves the shell with exit 0' <<'EOF'
	printf 'SELECT 1;\n' >"$tmp/in" &&
	shell "$tmp/in"
EOF

test_ok 'statements are kept in ~/.tarn_history' <<'EOF'
	grep -qF "SELECT i + 1   AS answer FROM t;" "$HOME/.tarn_history" &&
	grep -qxF ".format csv" "$HOME/.tarn_history"
EOF
test_done
