#!/usr/bin/env bash
# t3000-s3-store: the store layer against a real S3-compatible server
# (s3rver on loopback) behind the signature-checking proxy: every operation,
# objects of 0 B and around the multipart threshold, keys that need
# encoding, listings over several pages, batch deletes, wrong credentials,
# a missing bucket, .env settings, virtual-host style, the read cache, and
# no secret in any output.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/../tools/lib-s3.sh"
s3_need
start_s3

MiB=$((1024 * 1024))
T=$((5 * MiB)) # threshold and part size: S3's smallest part
store() {
	"$CLI" --threshold $T --part-size $T --base-ms 20 --read-timeout 5 --env-file '' "$@"
}
URL="s3://$BUCKET/pre/"

test_ok 'objects of 0 B, 1 B and around the multipart threshold round-trip' <<'EOF'
	for n in 0 1 $((T - 1)) $T $((T + 1)) $((2 * T + 7)); do
		mkfile "$tmp/in" $n &&
		expect_rc 0 store "$URL" put "$tmp/in" "sizes/$n.bin" &&
		expect_rc 0 store "$URL" head "sizes/$n.bin" &&
		expect_out "$n" &&
		expect_rc 0 store "$URL" get "sizes/$n.bin" "$tmp/back" $n &&
		cmp "$tmp/in" "$tmp/back" || exit 1
	done
EOF

test_ok 'at the threshold one PUT; above it a multipart upload of parallel parts' <<'EOF'
	mkfile "$tmp/in" $T &&
	log_mark &&
	expect_rc 0 store "$URL" put "$tmp/in" at.bin &&
	[ "$(count_since PUT at.bin)" = 1 ] && [ "$(count_since POST at.bin)" = 0 ] &&
	mkfile "$tmp/in" $((3 * T + 1)) &&
	log_mark &&
	expect_rc 0 store "$URL" put "$tmp/in" above.bin &&
	[ "$(count_since POST 'uploads=')" = 1 ] &&
	[ "$(count_since PUT partNumber=)" = 4 ] &&
	[ "$(count_since POST 'uploadId=')" = 1 ] &&
	expect_rc 0 store "$URL" get above.bin "$tmp/back" &&
	cmp "$tmp/in" "$tmp/back"
EOF

test_ok 'every request carries a valid SigV4 signature' <<'EOF'
	! grep -q '"sig":"bad"' "$tmp/proxy.log" &&
	grep -q '"sig":"ok"' "$tmp/proxy.log"
EOF

keys=('with space.bin' 'plus+sign.bin' 'per%cent.bin' 'a=b&c=d.bin' 'ünï/cödé ✓.bin'
	"tilde~(paren)!*'.bin" 'semi;colon,comma:@$.bin' 'deep/er/still/x.bin' 'q?mark#hash.bin')
test_ok 'keys with spaces, +, %, =, & and unicode: signed, stored and listed exactly' <<'EOF'
	mkfile "$tmp/in" 100 &&
	log_mark &&
	for k in "${keys[@]}"; do
		expect_rc 0 store "$URL" put "$tmp/in" "enc/$k" &&
		expect_rc 0 store "$URL" get "enc/$k" "$tmp/back" 100 &&
		cmp "$tmp/in" "$tmp/back" || exit 1
	done &&
	! log_since | grep -q '"sig":"bad"' &&
	expect_rc 0 store "$URL" ls enc/ &&
	printf '%s\n' "${keys[@]}" | sed 's/^/100\tenc\//' | LC_ALL=C sort >"$tmp/want" &&
	diff "$tmp/want" "$tmp/out" &&
	ls "$tmp/s3data/$BUCKET/pre/enc/" | grep -qF 'with space.bin._S3rver_object' &&
	ls "$tmp/s3data/$BUCKET/pre/enc/" | grep -qF 'plus+sign.bin._S3rver_object'
EOF

test_ok 'ranges: inside, to the end, past the end, whole' <<'EOF'
	printf '0123456789abcdef' >"$tmp/in" &&
	expect_rc 0 store "$URL" put "$tmp/in" range.bin &&
	expect_rc 0 store "$URL" range range.bin 3 4 && [ "$(cat "$tmp/out")" = 3456 ] &&
	expect_rc 0 store "$URL" range range.bin 12 10 && [ "$(cat "$tmp/out")" = cdef ] &&
	expect_rc 0 store "$URL" range range.bin 16 4 && [ ! -s "$tmp/out" ] &&
	expect_rc 0 store "$URL" range range.bin 0 16 && [ "$(cat "$tmp/out")" = 0123456789abcdef ] &&
	expect_rc 1 store "$URL" range nothere.bin 0 4 &&
	expect_err_has "no such object"
EOF

test_ok 'listing across pages with continuation tokens, under the store prefix only' <<'EOF'
	expect_rc 0 store "$URL" seed many/k 23 &&
	expect_rc 0 store "s3://$BUCKET/" seed outside/k 2 &&
	log_mark &&
	expect_rc 0 store --page 5 "$URL" ls many/ &&
	[ "$(wc -l <"$tmp/out")" = 23 ] &&
	[ "$(head -1 "$tmp/out")" = "$(printf '5\tmany/k0000')" ] &&
	[ "$(tail -1 "$tmp/out")" = "$(printf '5\tmany/k0022')" ] &&
	[ "$(count_since GET list-type=2)" = 5 ] &&
	[ "$(count_since GET continuation-token=)" = 4 ] &&
	expect_rc 0 store "$URL" ls &&
	expect_out_lacks outside/ &&
	expect_rc 0 store "$URL" ls many/k001 &&
	[ "$(wc -l <"$tmp/out")" = 10 ]
EOF

test_ok 'delete one, delete many in batches of 1000, missing keys are fine' <<'EOF'
	expect_rc 0 store "$URL" rm range.bin &&
	expect_rc 0 store "$URL" head range.bin && expect_out missing &&
	expect_rc 0 store "$URL" rm range.bin &&
	expect_rc 0 store "$URL" seed batch/k 1003 &&
	expect_rc 0 store "$URL" ls batch/ &&
	cut -f2 "$tmp/out" >"$tmp/keys" && echo batch/never-there >>"$tmp/keys" &&
	log_mark &&
	expect_rc 0 store "$URL" rm-many - <"$tmp/keys" &&
	# Two batches; s3rver now and then answers 500 to the second while it
	# still removes the folders of the first, and the retry covers that.
	n=$(count_since POST delete=) && [ "$n" -ge 2 ] && [ "$n" -le 3 ] &&
	expect_rc 0 store "$URL" ls batch/ && [ ! -s "$tmp/out" ]
EOF

test_ok 'wrong secret: clear 403, no retry' <<'EOF'
	log_mark &&
	S3_SECRET_ACCESS_KEY=not-the-secret expect_rc 1 store "$URL" put "$tmp/in" x.bin &&
	expect_err_has "s3: PUT s3://$BUCKET/pre/x.bin: 403 Forbidden: SignatureDoesNotMatch" &&
	expect_err_has "(check S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY)" &&
	[ "$(log_since | wc -l)" = 1 ]
EOF

test_ok 'wrong key id: clear 403, no retry' <<'EOF'
	log_mark && rm -f "$tmp/back" &&
	S3_ACCESS_KEY_ID=NOBODY expect_rc 1 store "$URL" get sizes/1.bin "$tmp/back" &&
	expect_err_has "s3: GET s3://$BUCKET/pre/sizes/1.bin: 403 Forbidden: InvalidAccessKeyId" &&
	expect_err_has "check S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY" &&
	[ "$(log_since | wc -l)" = 1 ] &&
	[ ! -e "$tmp/back" ]
EOF

test_ok 'missing bucket: says so, for list, put and get' <<'EOF'
	expect_rc 1 store s3://no-such-bucket/x/ ls &&
	expect_err_has "s3: bucket 'no-such-bucket' does not exist (NoSuchBucket" &&
	expect_rc 1 store s3://no-such-bucket/x/ put "$tmp/in" a.bin &&
	expect_err_has "bucket 'no-such-bucket' does not exist" &&
	expect_rc 1 store s3://no-such-bucket/x/ get a.bin "$tmp/back" &&
	expect_err_has "bucket 'no-such-bucket' does not exist"
EOF

test_ok 'no credentials, half credentials, bad settings: clear errors before any request' <<'EOF'
	log_mark &&
	(unset S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY; expect_rc 1 store "$URL" ls) &&
	(unset S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY; store "$URL" ls 2>&1 | grep -qF "set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY") &&
	(unset S3_SECRET_ACCESS_KEY; store "$URL" ls 2>&1 | grep -qF "S3_ACCESS_KEY_ID is set but S3_SECRET_ACCESS_KEY is not") &&
	S3_URL_STYLE=sideways store "$URL" ls 2>&1 | grep -qF "S3_URL_STYLE is 'sideways'; use path or vhost" &&
	S3_USE_SSL=maybe store "$URL" ls 2>&1 | grep -qF "S3_USE_SSL is 'maybe'" &&
	S3_USE_SSL=true store "$URL" ls 2>&1 | grep -qF "S3_ENDPOINT says http but S3_USE_SSL is true" &&
	[ "$(log_since | wc -l)" = 0 ]
EOF

test_ok 'unreachable endpoint: retried within the budget, then a clear error' <<'EOF'
	S3_ENDPOINT=http://127.0.0.1:1 expect_rc 1 store --attempts 3 "$URL" head x.bin &&
	expect_err_has "cannot connect to http://127.0.0.1:1" &&
	expect_err_has "after 3 attempts" &&
	expect_err_has "check S3_ENDPOINT and S3_USE_SSL"
EOF

test_ok 'settings from ./.env; the environment wins over it' <<'EOF'
	mkdir -p "$tmp/wd" && cd "$tmp/wd" &&
	printf '%s\n' '# lab settings' "export S3_ACCESS_KEY_ID=S3RVER" \
		"S3_SECRET_ACCESS_KEY='S3RVER'" "S3_ENDPOINT=\"http://127.0.0.1:$PPORT\"" \
		'S3_USE_SSL=false # plain http on loopback' 'S3_BUCKET=lake' >.env &&
	(unset S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY S3_ENDPOINT S3_USE_SSL;
	 expect_rc 0 "$CLI" s3:///pre/ head sizes/1.bin && expect_out 1) &&
	(unset S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY;
	 S3_ENDPOINT=http://127.0.0.1:1 expect_rc 1 "$CLI" --attempts 1 s3:///pre/ head sizes/1.bin &&
	 expect_err_has "127.0.0.1:1")
EOF

test_ok 'virtual-host style addressing (bucket.s3.localhost), signed' <<'EOF'
	log_mark &&
	S3_URL_STYLE=vhost S3_ENDPOINT="http://s3.localhost:$PPORT" expect_rc 0 store "$URL" ls sizes/ &&
	[ "$(wc -l <"$tmp/out")" = 6 ] &&
	mkfile "$tmp/in" $((T + 3)) &&
	S3_URL_STYLE=vhost S3_ENDPOINT="http://s3.localhost:$PPORT" expect_rc 0 store "$URL" put "$tmp/in" "vhost/a b+c.bin" &&
	S3_URL_STYLE=path expect_rc 0 store "$URL" get "vhost/a b+c.bin" "$tmp/back" &&
	cmp "$tmp/in" "$tmp/back" &&
	log_since | grep -q '"key":"/pre/vhost/a b+c.bin"' &&
	! log_since | grep -q '"sig":"bad"'
EOF

test_ok 'a session token is sent and signed' <<'EOF'
	log_mark &&
	S3_SESSION_TOKEN=tok-123 expect_rc 0 store "$URL" head sizes/1.bin &&
	log_since | grep -q '"sig":"ok"'
EOF

secret='sEcReT-8f3a1c9e77'
token='ToKeN-5b2d0e41aa'
test_ok 'the secret key and the session token never appear in any output' <<'EOF'
	export S3_SECRET_ACCESS_KEY=$secret S3_SESSION_TOKEN=$token TARN_S3_TRACE=1 &&
	: >"$tmp/all" &&
	for cmd in "ls" "head sizes/1.bin" "get sizes/1.bin $tmp/back" "put $tmp/in y.bin" "rm-many a b"; do
		store --attempts 2 "$URL" $cmd >>"$tmp/all" 2>&1
		S3_ENDPOINT=http://127.0.0.1:1 store --attempts 2 "$URL" $cmd >>"$tmp/all" 2>&1
		store --attempts 2 s3://no-such-bucket/ $cmd >>"$tmp/all" 2>&1
	done
	grep -q 'SignatureDoesNotMatch' "$tmp/all" &&
	grep -q '^s3: GET' "$tmp/all" &&
	! grep -qF "$secret" "$tmp/all" &&
	! grep -qF "$token" "$tmp/all"
EOF

test_ok 'fetch: downloads once into the cache, then hits; size checked' <<'EOF'
	expect_rc 0 store --counters "$URL" fetch sizes/1.bin 1 &&
	p=$(cat "$tmp/out") && case "$p" in "$tmp/cache/"*) ;; *) exit 1;; esac &&
	expect_err_has "hits=0 misses=1" &&
	expect_rc 0 store --counters "$URL" fetch sizes/1.bin 1 &&
	expect_err_has "hits=1 misses=0" && expect_err_has "requests=0" &&
	cmp "$p" <(store "$URL" range sizes/1.bin 0 10) &&
	expect_rc 1 store "$URL" fetch sizes/0.bin 5 &&
	expect_err_has "expected 5" &&
	! ls -a "$tmp/cache"/*/ | grep -q tarn-tmp
EOF

test_ok 'fetch many in parallel; processes sharing a cache never see a partial file' <<'EOF'
	mkfile "$tmp/in" $((3 * MiB)) &&
	for i in 0 1 2 3; do store "$URL" put "$tmp/in" "par/$i.bin" || exit 1; done &&
	expect_rc 0 store --threads 4 --cache "$tmp/c3" "$URL" fetch-many par/0.bin par/1.bin par/2.bin par/3.bin &&
	[ "$(wc -l <"$tmp/out")" = 4 ] &&
	while read -r p; do cmp "$tmp/in" "$p" || exit 1; done <"$tmp/out" &&
	rules '[{"method":"GET","key":"/par/big.bin","fault":"delay","ms":300}]' &&
	mkfile "$tmp/big" $((12 * MiB)) && store "$URL" put "$tmp/big" par/big.bin &&
	for i in 1 2 3 4; do
		store --cache "$tmp/c4" "$URL" fetch par/big.bin $((12 * MiB)) >"$tmp/p$i" 2>&1 &
	done &&
	for i in 1 2 3 4; do
		while ! [ -s "$tmp/p$i" ]; do
			f=$(find "$tmp/c4" -type f ! -name '.*' 2>/dev/null | head -1)
			[ -z "$f" ] || [ "$(stat -c %s "$f")" = $((12 * MiB)) ] || { echo "partial $f"; exit 1; }
			sleep 0.02
		done
	done &&
	wait &&
	for i in 1 2 3 4; do cmp "$tmp/big" "$(cat "$tmp/p$i")" || exit 1; done &&
	rules '[]'
EOF

test_ok 'the cache evicts least recently used files over its cap' <<'EOF'
	c="--cache $tmp/c2 --cache-max $((8 * MiB)) --cache-min-age 1" &&
	expect_rc 0 store $c "$URL" fetch "sizes/$((T - 1)).bin" && a=$(cat "$tmp/out") &&
	sleep 1.2 &&
	expect_rc 0 store $c "$URL" fetch "sizes/$T.bin" && b=$(cat "$tmp/out") &&
	[ ! -e "$a" ] && [ -e "$b" ]
EOF

test_done
