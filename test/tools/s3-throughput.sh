#!/usr/bin/env bash
# s3-throughput.sh: upload and download throughput of the store's S3 client
# (tarn-store-cli) against the curl command line, both against the same
# s3rver on loopback (no proxy), best of N runs each; prints MB/s and the
# ratio ours/curl. Run by hand (not under ctest):
#   TARN_STORE_CLI=build/test/tools/tarn-store-cli bash test/tools/s3-throughput.sh [MB] [RUNS]
set -u
mb=${1:-100}
runs=${2:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tarn-s3bench.XXXXXX")
. "$(dirname "$0")/lib-s3.sh"
s3_need
start_s3
export S3_ENDPOINT="http://127.0.0.1:$S3PORT"
head -c $((mb * 1024 * 1024)) /dev/urandom >"$tmp/big"
bytes=$(stat -c %s "$tmp/big")
sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
base="$S3_ENDPOINT/$BUCKET"

# best CMD...: the shortest wall time of $runs runs, in seconds.
best() {
	local i t0 t1 b=""
	for i in $(seq "$runs"); do
		rm -f "$tmp/out"
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>"$tmp/err" || { echo "failed: $*" >&2; cat "$tmp/err" >&2; exit 1; }
		t1=$(date +%s.%N)
		b=$(echo "$t0 $t1 ${b:-1e9}" | awk '{d = $2 - $1; print (d < $3 ? d : $3)}')
	done
	echo "$b"
}
rate() {
	echo "$bytes $1" | awk '{printf "%.0f", $1 / $2 / 1e6}'
}
row() {
	printf '%-34s %6s MB/s  %6s MB/s  %5s\n' "$1" "$(rate "$2")" "$(rate "$3")" \
		"$(echo "$2 $3" | awk '{printf "%.2fx", $1 / $2}')"
}

up_curl=$(best curl -sf "${sig[@]}" -T "$tmp/big" "$base/bench/curl.bin")
up_ours=$(best "$CLI" --env-file '' s3://$BUCKET/bench/ put "$tmp/big" ours.bin)
up_one=$(best "$CLI" --env-file '' --threshold $((bytes + 1)) s3://$BUCKET/bench/ put "$tmp/big" one.bin)
down_curl=$(best curl -sf "${sig[@]}" -o "$tmp/out" "$base/bench/curl.bin")
down_ours=$(best "$CLI" --env-file '' s3://$BUCKET/bench/ get ours.bin "$tmp/out" "$bytes")
cmp "$tmp/big" "$tmp/out" || { echo "download differs" >&2; exit 1; }

echo "s3rver on loopback, $mb MB file, best of $runs"
printf '%-34s %11s  %11s  %5s\n' "" "curl" "tarn" "ratio"
row "upload (tarn: 8 MiB parts, 4 threads)" "$up_curl" "$up_ours"
row "upload (tarn: one PUT)" "$up_curl" "$up_one"
row "download (one GET each)" "$down_curl" "$down_ours"
