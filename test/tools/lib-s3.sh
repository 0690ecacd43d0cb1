# lib-s3.sh: helpers for the S3 end-to-end tests (test/e2e/t3*-s3-*.sh),
# sourced after test/e2e/lib-cli.sh. Starts s3rver (pinned by
# scripts/setup.sh into deps/node) on 127.0.0.1 with a free port and a temp
# folder, and the fault proxy test/tools/s3proxy.js in front of it; both
# are stopped by PID when the script exits. Exports the S3_* settings for
# the proxy; $CLI is the store driver (tarn-store-cli).
src=${TARN_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
S3RVER_BIN="$src/deps/node/node_modules/s3rver/bin/s3rver.js"
PROXY_JS="$src/test/tools/s3proxy.js"
CLI=${TARN_STORE_CLI:-$(dirname "${TARN:-.}")/test/tools/tarn-store-cli}
BUCKET=lake
pids=()

s3_cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap s3_cleanup EXIT

s3_need() {
	if ! command -v node >/dev/null; then
		echo "node is missing: run scripts/setup.sh" >&2
		exit 1
	fi
	if [ ! -f "$S3RVER_BIN" ]; then
		echo "s3rver is missing ($S3RVER_BIN): run scripts/setup.sh" >&2
		exit 1
	fi
	if [ ! -x "$CLI" ]; then
		# A skipped test is not a green test: without the driver, fail.
		echo "tarn-store-cli is not built ($CLI): build test/tools, or set TARN_STORE_CLI" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
}

# wait_file FILE: up to 10 s for FILE to be non-empty.
wait_file() {
	local i
	for i in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1" >&2
	return 1
}

# start_s3: s3rver with bucket $BUCKET, then the proxy; sets S3PORT, PPORT.
start_s3() {
	mkdir -p "$tmp/s3data"
	# --service-endpoint localhost: "<bucket>.s3.localhost" is virtual-host
	# style, which curl resolves to 127.0.0.1 by itself.
	# s3rver makes continuation tokens with DES, which OpenSSL 3 keeps in its
	# legacy provider.
	node --openssl-legacy-provider "$S3RVER_BIN" -d "$tmp/s3data" -a 127.0.0.1 -p 0 --silent \
		--service-endpoint localhost --configure-bucket "$BUCKET" >"$tmp/s3rver.out" 2>&1 &
	pids+=($!)
	wait_file "$tmp/s3rver.out" || exit 1
	for _ in $(seq 100); do
		grep -q 'listening' "$tmp/s3rver.out" && break
		sleep 0.1
	done
	S3PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$tmp/s3rver.out")
	[ -n "$S3PORT" ] || { echo "s3rver did not start:"; cat "$tmp/s3rver.out"; exit 1; } >&2
	echo '[]' >"$tmp/rules.json"
	: >"$tmp/proxy.log"
	node "$PROXY_JS" --upstream "127.0.0.1:$S3PORT" --port-file "$tmp/proxy.port" \
		--rules "$tmp/rules.json" --log "$tmp/proxy.log" --access S3RVER --secret S3RVER \
		>"$tmp/proxy.out" 2>&1 &
	pids+=($!)
	wait_file "$tmp/proxy.port" || { cat "$tmp/proxy.out" >&2; exit 1; }
	PPORT=$(cat "$tmp/proxy.port")
	# Nothing from the caller's environment may leak into the tests.
	unset S3_SESSION_TOKEN S3_BUCKET S3_URL_STYLE http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY
	export S3_ACCESS_KEY_ID=S3RVER S3_SECRET_ACCESS_KEY=S3RVER S3_REGION=us-east-1
	export S3_ENDPOINT="http://127.0.0.1:$PPORT" S3_USE_SSL=false
	export TARN_CACHE_DIR="$tmp/cache"
}

# rules JSON: the fault rules for the next requests; a new generation, so
# the proxy counts their shots afresh.
rules_gen=0
rules() {
	rules_gen=$((rules_gen + 1))
	printf '{"gen": "%s-%s", "rules": %s}\n' "$$" "$rules_gen$RANDOM" "$1" >"$tmp/rules.json"
}

# log_mark / log_since: the proxy log from the mark on.
log_mark() {
	mark=$(wc -l <"$tmp/proxy.log")
}
log_since() {
	tail -n +"$((mark + 1))" "$tmp/proxy.log"
}
# count_since METHOD [TEXT]: requests since the mark with METHOD whose log
# line contains TEXT.
count_since() {
	log_since | grep "\"method\":\"$1\"" | grep -cF -- "${2:-}" || true
}

# mkfile PATH BYTES: random content.
mkfile() {
	head -c "$2" /dev/urandom >"$1"
}
