#!/usr/bin/env bash
# Install what tarn needs to build and test on Debian 12:
#   - the Debian -dev packages (as root; otherwise print the apt-get line),
#   - DuckDB 1.4.4 (libduckdb.so + duckdb.h) from the npm registry, pinned and
#     checksummed, into deps/duckdb (ignored by git).
# Safe to run again: it only installs what is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
deps="$here/deps"

PKGS="build-essential cmake pkg-config clang libsqlite3-dev sqlite3 libcmocka-dev libjansson-dev
libreadline-dev libcurl4-openssl-dev libssl-dev libyaml-dev libmicrohttpd-dev libpq-dev postgresql-15 libxxhash-dev zlib1g-dev wrk
python3 curl ca-certificates"
# npm fetches DuckDB; a machine that has node and npm from elsewhere keeps them.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

missing=()
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "setup: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	else
		echo "setup: missing packages; run as root:"
		echo "  apt-get install -y ${missing[*]}"
		exit 1
	fi
fi

# DuckDB, pinned. The tarballs are the registry's own, so their SHA-256 is stable.
DUCK_VER=1.4.4
LIB_PKG="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
LIB_TGZ="duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz"
LIB_SHA=732fac4dc6b8f198870b9c4bb6ddf13544466daca00ad28ba2f1d80de5d7aa4b
HDR_PKG="duckdb@$DUCK_VER"
HDR_TGZ="duckdb-$DUCK_VER.tgz"
HDR_SHA=5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed

# s3rver, pinned: the S3-compatible server the S3 tests start on loopback
# (test/e2e/t3*-s3-*.sh). Installed with its locked dependencies into
# deps/node (ignored by git); the tests run its bin with node, no npx.
S3RVER_VER=3.7.1
install_s3rver() {
	local nd="$deps/node" have
	have=$(node -p "require('$nd/node_modules/s3rver/package.json').version" 2>/dev/null || true)
	if [ "$have" = "$S3RVER_VER" ]; then
		echo "setup: s3rver $S3RVER_VER present in $nd"
		return 0
	fi
	echo "setup: installing s3rver $S3RVER_VER from the npm registry into $nd"
	mkdir -p "$nd"
	[ -f "$nd/package.json" ] || echo '{"private": true}' > "$nd/package.json"
	(cd "$nd" && npm install --silent --no-audit --no-fund --save-exact "s3rver@$S3RVER_VER" >/dev/null)
}
install_s3rver

dd="$deps/duckdb"
if [ -f "$dd/lib/libduckdb.so" ] && [ -f "$dd/include/duckdb.h" ] && [ "$(cat "$dd/VERSION" 2>/dev/null)" = "$DUCK_VER" ]; then
	echo "setup: DuckDB $DUCK_VER present in $dd"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "setup: fetching DuckDB $DUCK_VER from the npm registry"
(cd "$tmp" && npm pack --silent "$LIB_PKG" >/dev/null && npm pack --silent "$HDR_PKG" >/dev/null)
echo "$LIB_SHA  $tmp/$LIB_TGZ" | sha256sum -c --quiet -
echo "$HDR_SHA  $tmp/$HDR_TGZ" | sha256sum -c --quiet -
mkdir -p "$tmp/x"
tar xzf "$tmp/$LIB_TGZ" -C "$tmp/x" package/libduckdb.so
tar xzf "$tmp/$HDR_TGZ" -C "$tmp/x" package/src/duckdb/src/include/duckdb.h
rm -rf "$dd"
mkdir -p "$dd/lib" "$dd/include"
mv "$tmp/x/package/libduckdb.so" "$dd/lib/"
mv "$tmp/x/package/src/duckdb/src/include/duckdb.h" "$dd/include/"
echo "$DUCK_VER" > "$dd/VERSION"
echo "setup: DuckDB $DUCK_VER installed in $dd"
