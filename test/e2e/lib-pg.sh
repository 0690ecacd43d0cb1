# lib-pg.sh: a PostgreSQL 15 of the test's own (scripts/pg.sh: initdb in a
# temp folder, loopback, a free port), sourced after lib-cli.sh. Sets $src
# (the source tree), $url (postgres://... of the running server) and $base
# (the URL without the database); stops the server and removes $tmp at exit.
# No PostgreSQL is a failure, never a skip.
src=${TARN_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PGBIN=/usr/lib/postgresql/15/bin
# The server runs as the postgres user, which cannot enter our private $tmp.
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/tarn-pg.XXXXXX") && chmod 755 "$pgdir"
[ -x "$PGBIN/initdb" ] || { echo "PostgreSQL 15 is missing: run scripts/setup.sh"; echo "0 passed, 1 failed"; exit 1; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=$(bash "$src/scripts/pg.sh" start "$pgdir" "$port") || { echo "PostgreSQL did not start"; echo "0 passed, 1 failed"; exit 1; }
trap 'bash "$src/scripts/pg.sh" stop "$pgdir" >/dev/null 2>&1; rm -rf "$tmp" "$pgdir"' EXIT
base=${url%/*}
