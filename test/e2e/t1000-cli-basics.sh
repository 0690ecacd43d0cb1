#!/usr/bin/env bash
# t1000-cli-basics: the command line itself, no lake needed: help for every
# command, version, usage errors (exit 2), unknown commands with a "did you
# mean", and the message for a missing lake (exit 1).
. "$(dirname "$0")/lib-cli.sh"
commands="init sql tables describe snapshots fsck version help"

test_ok 'tarn --help lists every command' <<'EOF'
	expect_rc 0 "$TARN" --help &&
	expect_out_has "usage: tarn" &&
	for c in $commands; do
		grep -q "^  $c " "$tmp/out" || { echo "no $c in --help"; exit 1; }
	done
EOF

for cmd in $commands; do
	test_ok "tarn $cmd --help, -h and tarn help $cmd print its usage, exit 0" <<'EOF'
	expect_rc 0 "$TARN" "$cmd" --help &&
	expect_out_has "usage: tarn $cmd" &&
	expect_rc 0 "$TARN" "$cmd" -h &&
	expect_out_has "usage: tarn $cmd" &&
	expect_rc 0 "$TARN" help "$cmd" &&
	expect_out_has "usage: tarn $cmd"
EOF
done

test_ok 'help needs no lake, even with --lake pointing nowhere' <<'EOF'
	expect_rc 0 "$TARN" --lake "$tmp/none" sql --help &&
	expect_out_has "usage: tarn sql"
EOF

test_ok 'version and --version' <<'EOF'
	expect_rc 0 "$TARN" version &&
	grep -Eq "^tarn [0-9]+\.[0-9]+" "$tmp/out" &&
	cp "$tmp/out" "$tmp/v1" &&
	expect_rc 0 "$TARN" --version &&
	diff "$tmp/v1" "$tmp/out"
EOF

test_ok 'no command: usage on stderr, exit 2' <<'EOF'
	expect_rc 2 "$TARN" &&
	expect_err_has "usage: tarn"
EOF

test_ok 'unknown command: exit 2 with did you mean' <<'EOF'
	expect_rc 2 "$TARN" sqll &&
	expect_err_has "tarn: error: unknown command 'sqll'" &&
	expect_err_has "did you mean 'sql'" &&
	expect_rc 2 "$TARN" snapshotz &&
	expect_err_has "did you mean 'snapshots'" &&
	expect_rc 2 "$TARN" desc &&
	expect_err_has "did you mean 'describe'" &&
	expect_rc 2 "$TARN" help sqll &&
	expect_err_has "did you mean 'sql'"
EOF

test_ok 'unknown command far from any: no wild guess' <<'EOF'
	expect_rc 2 "$TARN" frobnicate &&
	expect_err_has "unknown command 'frobnicate'" &&
	! grep -q "did you mean" "$tmp/err"
EOF

test_ok 'unknown options, missing values, bad format: exit 2' <<'EOF'
	expect_rc 2 "$TARN" --bogus tables &&
	expect_err_has "unknown option '--bogus'" &&
	expect_rc 2 "$TARN" --lake &&
	expect_err_has "needs a value" &&
	expect_rc 2 "$TARN" --format xml tables &&
	expect_err_has "unknown format 'xml'" &&
	expect_rc 2 "$TARN" --quiet=yes version &&
	expect_err_has "takes no value" &&
	expect_rc 2 "$TARN" version extra &&
	expect_err_has "unexpected argument"
EOF

test_ok 'missing lake: message names the lake and tarn init, exit 1' <<'EOF'
	expect_rc 1 "$TARN" --lake /nonexistent/lake sql -c "select 1" &&
	expect_err_has "tarn: error: no lake at /nonexistent/lake" &&
	expect_err_has "tarn init" &&
	test ! -s "$tmp/out"
EOF

test_ok 'missing lake via TARN_LAKE and the ./lake default' <<'EOF'
	TARN_LAKE="$tmp/elsewhere" expect_rc 1 "$TARN" tables &&
	expect_err_has "no lake at $tmp/elsewhere" &&
	(cd "$tmp" && expect_rc 1 "$TARN" tables) &&
	expect_err_has "no lake at $tmp/lake"
EOF
test_done
