# lib-cli.sh: helpers for the t1*-cli-*.sh scripts (sourced, never run by
# itself; ctest only runs t*.sh). TAP-ish output: "ok N - desc" or
# "not ok N - desc" with the failing test's output as "#" lines, then
# "N passed, N failed"; the exit status is 1 when a test failed.
#
# A test body is an &&-chain run in a subshell (as in git's test suite),
# given as the second argument or, easier to quote, as a quoted here-document:
#   test_ok 'csv quotes commas' <<'EOF'
#	expect_rc 0 "$TARN" --lake "$lake" sql --format csv -c "SELECT 'a,b' AS x" &&
#	expect_out "x
#	\"a,b\""
#   EOF
set -u
if [ -z "${TARN:-}" ]; then
	echo "TARN is not set (ctest sets it to the built tarn binary)" >&2
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tarn-e2e.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Nothing from the caller's environment may pick the lake or the history file.
unset TARN_LAKE
export HOME="$tmp/home"
mkdir -p "$HOME"
n=0 pass=0 fail=0

# test_ok DESC [BODY]: without BODY the body is read from standard input.
test_ok() {
	local body

	if [ $# -ge 2 ]; then body=$2; else body=$(cat); fi
	n=$((n + 1))
	if (eval "$body") >"$tmp/log" 2>&1 </dev/null; then
		pass=$((pass + 1))
		echo "ok $n - $1"
	else
		fail=$((fail + 1))
		echo "not ok $n - $1"
		sed 's/^/#   /' "$tmp/log"
	fi
}

# expect_rc N CMD...: run CMD with stdout in $tmp/out and stderr in
# $tmp/err; fail (showing both) unless it exits with N.
expect_rc() {
	local want=$1 got
	shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "exit status $got, wanted $want: $*"
		echo "--- stdout"; cat "$tmp/out"
		echo "--- stderr"; cat "$tmp/err"
		return 1
	fi
}

# expect_out TEXT: the last stdout is exactly TEXT plus a newline.
expect_out() {
	printf '%s\n' "$1" >"$tmp/want"
	diff -u "$tmp/want" "$tmp/out"
}

# expect_out_has / expect_err_has / expect_out_lacks TEXT (fixed strings)
expect_out_has() {
	grep -qF -- "$1" "$tmp/out" || { echo "stdout lacks '$1':"; cat "$tmp/out"; return 1; }
}
expect_err_has() {
	grep -qF -- "$1" "$tmp/err" || { echo "stderr lacks '$1':"; cat "$tmp/err"; return 1; }
}
expect_out_lacks() {
	! grep -qF -- "$1" "$tmp/out" || { echo "stdout has '$1':"; cat "$tmp/out"; return 1; }
}

# json_check PYTHON-EXPR: the last stdout parses as JSON (bound to `d`)
# and the expression is true.
json_check() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    sys.exit("false: %s\nfor: %s" % (sys.argv[2], json.dumps(d)))
' "$tmp/out" "$1"
}

test_done() {
	# Every e2e test ends with the consistency check of every lake it made.
	local cat dir
	for cat in $(find "$tmp" -name catalog.sqlite -o -name catalog.url 2>/dev/null); do
		dir=$(dirname "$cat")
		if "$TARN" --lake "$dir" fsck >"$tmp/fsck.out" 2>&1; then
			pass=$((pass + 1)); echo "ok - fsck clean: $dir"
		else
			fail=$((fail + 1)); echo "not ok - fsck: $dir"; sed 's/^/#   /' "$tmp/fsck.out"
		fi
	done
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ] || exit 1
	exit 0
}
