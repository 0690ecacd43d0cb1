#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests and benchmarks:
#   scripts/pg.sh start DIR PORT   initdb in DIR (once), start on 127.0.0.1:PORT,
#                                  create database tarn_test, print its conninfo
#   scripts/pg.sh stop DIR         stop the server of DIR (no-op when not running)
# Debian's server binaries (PGBIN, default /usr/lib/postgresql/15/bin). As root
# the server runs as the `postgres` user (PostgreSQL refuses root), so DIR is
# made theirs and must be reachable by them. Only loopback TCP, trust auth,
# fsync=on (durability tests need it), C locale (bytewise text order, as in
# SQLite). Idempotent, and safe to run concurrently on one DIR (flock).
# Only the conninfo goes to standard output; progress and errors go to stderr.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DB=tarn_test

die() { echo "pg.sh: $*" >&2; exit 1; }
usage() { die "usage: pg.sh start DIR PORT | pg.sh stop DIR"; }

# Run a server binary as the user that owns the cluster.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

need_server() {
	[ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] ||
		die "no PostgreSQL 15 server in $PGBIN (run scripts/setup.sh as root, or apt-get install postgresql-15; or set PGBIN)"
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user to run the server as"
	fi
}

# Absolute DIR, created and (as root) owned by postgres.
prepare_dir() {
	mkdir -p "$1"
	dir=$(cd "$1" && pwd)
	if [ "$(id -u)" = 0 ]; then
		chown postgres:postgres "$dir"
		as_pg test -w "$dir" ||
			die "user postgres cannot write $dir (a parent folder is not searchable by it; pick a DIR under /tmp)"
	fi
	chmod 700 "$dir"
}

init_cluster() {
	[ -f "$dir/PG_VERSION" ] && return 0
	[ -z "$(ls -A "$dir")" ] || die "$dir is neither empty nor a PostgreSQL data folder"
	echo "pg.sh: initdb $dir" >&2
	as_pg "$PGBIN/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C >"$dir.initdb.log" 2>&1 ||
		{ cat "$dir.initdb.log" >&2; rm -f "$dir.initdb.log"; die "initdb failed in $dir"; }
	rm -f "$dir.initdb.log"
	# Only loopback TCP, without passwords; local sockets for pg_ctl.
	as_pg tee "$dir/pg_hba.conf" >/dev/null <<-EOF
	local all all trust
	host all all 127.0.0.1/32 trust
	EOF
	echo "include_if_exists = 'tarn.conf'" | as_pg tee -a "$dir/postgresql.conf" >/dev/null
}

# Settings of this run (the port may change between runs).
write_conf() {
	local sockdir=$dir
	# A Unix socket path is limited to 107 bytes; without one pg_ctl uses TCP.
	[ ${#dir} -lt 80 ] || sockdir=
	as_pg tee "$dir/tarn.conf" >/dev/null <<-EOF
	listen_addresses = '127.0.0.1'
	port = $1
	unix_socket_directories = '$sockdir'
	fsync = on
	synchronous_commit = on
	max_connections = 200
	log_min_messages = warning
	EOF
}

running_port() {
	as_pg "$PGBIN/pg_ctl" status -D "$dir" >/dev/null 2>&1 || return 1
	sed -n 4p "$dir/postmaster.pid"
}

psql_do() {
	"$PGBIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAc "$1"
}

start() {
	local cur
	port=$1
	case $port in '' | *[!0-9]*) die "PORT must be a number, got '$port'" ;; esac
	need_server
	prepare_dir "$dir_arg"
	exec 9<"$dir"
	flock 9
	init_cluster
	if cur=$(running_port); then
		[ "$cur" = "$port" ] || die "the server of $dir already runs on port $cur, not $port (stop it first)"
	else
		write_conf "$port"
		# 9<&-: the server must not inherit (and so hold) our lock.
		as_pg "$PGBIN/pg_ctl" start -D "$dir" -l "$dir/server.log" -w -t 60 >/dev/null 9<&- ||
			{ tail -20 "$dir/server.log" >&2 || true; die "the server in $dir did not start on port $port (log: $dir/server.log)"; }
	fi
	if [ "$(psql_do "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
		psql_do "CREATE DATABASE $DB" || die "cannot create database $DB on port $port"
	fi
	echo "postgres://postgres@127.0.0.1:$port/$DB"
}

stop() {
	[ -d "$dir_arg" ] || return 0
	dir=$(cd "$dir_arg" && pwd)
	[ -f "$dir/PG_VERSION" ] || return 0
	need_server
	exec 9<"$dir"
	flock 9
	running_port >/dev/null || return 0
	as_pg "$PGBIN/pg_ctl" stop -D "$dir" -m fast -w -t 60 >/dev/null || die "cannot stop the server in $dir"
}

[ $# -ge 2 ] || usage
dir_arg=$2
case $1 in
start) [ $# -eq 3 ] || usage; start "$3" ;;
stop) [ $# -eq 2 ] || usage; stop ;;
*) usage ;;
esac
