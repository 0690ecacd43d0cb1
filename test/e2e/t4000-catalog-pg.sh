#!/usr/bin/env bash
# The catalog unit battery against a real PostgreSQL 15: start a server of
# our own with scripts/pg.sh on a free loopback port, run test_catalog with
# TARN_TEST_PG pointing at it, stop the server. No server, or one that
# cannot start, is a failure, never a skip (scripts/setup.sh installs it).
set -u
src=${TARN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TARN=${TARN:-$src/build/tarn}
bin=${TARN_TEST_CATALOG:-$(dirname "$TARN")/test/test_catalog}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

if [ ! -x "$PGBIN/initdb" ]; then
	echo "not ok - no PostgreSQL 15 server in $PGBIN (scripts/setup.sh installs postgresql-15)"
	exit 1
fi
if [ ! -x "$bin" ]; then
	echo "not ok - no test_catalog binary at $bin"
	exit 1
fi

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/tarn-pg.XXXXXX")
cleanup() {
	bash "$src/scripts/pg.sh" stop "$dir" || echo "# could not stop the server in $dir"
	rm -rf "$dir" "$dir.initdb.log" "$dir.err"
}
trap cleanup EXIT

# A free port can be taken between our probe and the server's bind: try a
# few, each failure's log is shown if all fail.
for _ in 1 2 3; do
	port=$(free_port)
	url=$(bash "$src/scripts/pg.sh" start "$dir" "$port" 2>>"$dir.err") && break
	url=
done
if [ -z "$url" ]; then
	echo "not ok 1 - start PostgreSQL on 127.0.0.1 (3 ports tried)"
	sed 's/^/#   /' "$dir.err"
	rm -f "$dir.err"
	exit 1
fi
rm -f "$dir.err"
echo "ok 1 - PostgreSQL on $url"

out=$(TARN_TEST_PG=$url "$bin" 2>&1)
rc=$?
# Every postgres case must have run: a skip here means the battery was not
# pointed at the server.
skipped=$(printf '%s\n' "$out" | grep -c '^\[  SKIPPED \] test_' || true)
if [ $rc -eq 0 ] && [ "$skipped" -eq 0 ]; then
	echo "ok 2 - test_catalog against PostgreSQL ($(printf '%s\n' "$out" | grep -c '^\[       OK \]') cases)"
	exit 0
fi
echo "not ok 2 - test_catalog against PostgreSQL (exit $rc, $skipped skipped)"
printf '%s\n' "$out" | sed 's/^/#   /'
exit 1
