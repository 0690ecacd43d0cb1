#!/usr/bin/env bash
# t3010-s3-faults: the store against s3rver through the fault proxy. Each
# injected fault (500, 503 SlowDown, 429, 403, delays, stalls, truncated
# bodies, resets, 200 with an <Error> body) must end in success after a
# retry or in a clear error, never in a wrong or short object; retries stay
# within their count and time budget (counted in the proxy log).
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/../tools/lib-s3.sh"
s3_need
start_s3

MiB=$((1024 * 1024))
T=$((5 * MiB))
store() {
	"$CLI" --threshold $T --part-size $T --attempts 4 --base-ms 20 --read-timeout 1 \
		--env-file '' "$@"
}
URL="s3://$BUCKET/f/"
mkfile "$tmp/small" 100000
mkfile "$tmp/big" $((2 * T + 5))
store "$URL" put "$tmp/small" small.bin || exit 1

# fault METHOD KEY FAULT TIMES [QUERY]: the rule for the next command.
fault() {
	rules "[{\"method\":\"$1\",\"key\":\"$2\",\"fault\":\"$3\",\"times\":$4${5:+,\"query\":\"$5\"}}]" &&
	log_mark
}
# attempts METHOD TEXT N: exactly N requests since the mark.
attempts() {
	local got
	got=$(count_since "$1" "$2")
	[ "$got" = "$3" ] || { echo "$got $1 requests matching '$2', wanted $3"; log_since; return 1; }
}
# got_right KEY FILE: the object is there and equals FILE.
got_right() {
	rules '[]' &&
	store "$URL" get "$1" "$tmp/check" "$(stat -c %s "$2")" && cmp "$2" "$tmp/check" &&
	rm -f "$tmp/check"
}
# absent KEY: no such object.
absent() {
	rules '[]' &&
	[ "$(store "$URL" head "$1")" = missing ]
}
# no_temp DIR: no temp file left behind.
no_temp() {
	! ls -a "$1" | grep -q tarn-tmp
}

test_ok 'PUT: two 500s, then success on the third try' <<'EOF'
	fault PUT /a.bin 500 2 &&
	expect_rc 0 store "$URL" put "$tmp/small" a.bin &&
	attempts PUT /a.bin 3 && got_right a.bin "$tmp/small"
EOF

test_ok 'GET: two 503 SlowDown, then success' <<'EOF'
	fault GET /small.bin 503 2 &&
	expect_rc 0 store "$URL" get small.bin "$tmp/got" 100000 &&
	attempts GET /small.bin 3 && cmp "$tmp/small" "$tmp/got"
EOF

test_ok 'HEAD: one 429, then success' <<'EOF'
	fault HEAD /small.bin 429 1 &&
	expect_rc 0 store "$URL" head small.bin && expect_out 100000 &&
	attempts HEAD /small.bin 2
EOF

test_ok 'PUT: 500 every time: a clear error after exactly 4 tries, no object' <<'EOF'
	fault PUT /b.bin 500 99 &&
	expect_rc 1 store "$URL" put "$tmp/small" b.bin &&
	expect_err_has "s3: PUT s3://$BUCKET/f/b.bin: 500 Internal Server Error: InternalError" &&
	expect_err_has "after 4 attempts" &&
	attempts PUT /b.bin 4 && absent b.bin
EOF

test_ok 'retries stop at the time budget, however many tries are allowed' <<'EOF'
	fault GET /small.bin 503 999 &&
	expect_rc 1 store --attempts 50 --base-ms 100 --budget-ms 800 "$URL" get small.bin "$tmp/x" &&
	expect_err_has "503 Service Unavailable: SlowDown" &&
	n=$(count_since GET /small.bin) && [ "$n" -ge 3 ] && [ "$n" -le 8 ] &&
	[ ! -e "$tmp/x" ]
EOF

test_ok 'PUT: 403 is an answer, not retried' <<'EOF'
	fault PUT /c.bin 403 99 &&
	expect_rc 1 store "$URL" put "$tmp/small" c.bin &&
	expect_err_has "403 Forbidden: AccessDenied" &&
	expect_err_has "check S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY" &&
	attempts PUT /c.bin 1 && absent c.bin
EOF

test_ok 'GET: a slow answer within the read timeout is no failure' <<'EOF'
	rules '[{"method":"GET","key":"/small.bin","fault":"delay","ms":1500,"times":1}]' && log_mark &&
	expect_rc 0 store --read-timeout 3 "$URL" get small.bin "$tmp/got" &&
	attempts GET /small.bin 1 && cmp "$tmp/small" "$tmp/got"
EOF

test_ok 'GET: a stalled request times out and is retried' <<'EOF'
	fault GET /small.bin stall 1 &&
	expect_rc 0 store "$URL" get small.bin "$tmp/got" 100000 &&
	attempts GET /small.bin 2 && cmp "$tmp/small" "$tmp/got"
EOF

test_ok 'GET: a body that stalls half way times out and is retried' <<'EOF'
	fault GET /small.bin stall-body 1 &&
	expect_rc 0 store "$URL" get small.bin "$tmp/got" &&
	attempts GET /small.bin 2 && cmp "$tmp/small" "$tmp/got" && no_temp "$tmp"
EOF

test_ok 'PUT: no answer at all times out and is retried' <<'EOF'
	fault PUT /d.bin stall 1 &&
	expect_rc 0 store "$URL" put "$tmp/small" d.bin &&
	attempts PUT /d.bin 2 && got_right d.bin "$tmp/small"
EOF

test_ok 'GET: a truncated body (full Content-Length) is retried' <<'EOF'
	fault GET /small.bin truncate 1 &&
	expect_rc 0 store "$URL" get small.bin "$tmp/got" &&
	attempts GET /small.bin 2 && cmp "$tmp/small" "$tmp/got"
EOF

test_ok 'GET: truncated every time: a clear error, no file, no temp file' <<'EOF'
	rm -f "$tmp/got" &&
	fault GET /small.bin truncate 99 &&
	expect_rc 1 store "$URL" get small.bin "$tmp/got" &&
	expect_err_has "connection closed before the whole body arrived" &&
	expect_err_has "after 4 attempts" &&
	attempts GET /small.bin 4 && [ ! -e "$tmp/got" ] && no_temp "$tmp"
EOF

test_ok 'range GET: a truncated answer is retried, the bytes are right' <<'EOF'
	fault GET /small.bin truncate 1 &&
	expect_rc 0 store "$URL" range small.bin 1000 5000 &&
	attempts GET /small.bin 2 &&
	cmp "$tmp/out" <(tail -c +1001 "$tmp/small" | head -c 5000)
EOF

test_ok 'GET: 200 with an <Error> body is retried, never taken for the object' <<'EOF'
	fault GET /small.bin error200 1 &&
	expect_rc 0 store "$URL" get small.bin "$tmp/got" &&
	attempts GET /small.bin 2 && cmp "$tmp/small" "$tmp/got" &&
	rm -f "$tmp/got" &&
	fault GET /small.bin error200 99 &&
	expect_rc 1 store "$URL" get small.bin "$tmp/got" &&
	expect_err_has "200 OK: InternalError" && [ ! -e "$tmp/got" ]
EOF

test_ok 'PUT: a reset connection is retried' <<'EOF'
	fault PUT /e.bin reset 2 &&
	expect_rc 0 store "$URL" put "$tmp/small" e.bin &&
	attempts PUT /e.bin 3 && got_right e.bin "$tmp/small"
EOF

test_ok 'multipart: a part whose connection resets is sent again' <<'EOF'
	fault PUT /mp1.bin reset 1 'partNumber=2&' &&
	expect_rc 0 store "$URL" put "$tmp/big" mp1.bin &&
	attempts PUT partNumber=2\& 2 && attempts PUT partNumber= 4 &&
	got_right mp1.bin "$tmp/big"
EOF

test_ok 'multipart: a part that keeps failing aborts the upload, no object' <<'EOF'
	fault PUT /mp2.bin 500 99 'partNumber=3&' &&
	expect_rc 1 store "$URL" put "$tmp/big" mp2.bin &&
	expect_err_has "s3: PUT s3://$BUCKET/f/mp2.bin: 500 Internal Server Error" &&
	attempts PUT partNumber=3\& 4 && attempts POST uploadId= 0 &&
	attempts DELETE uploadId= 1 && absent mp2.bin
EOF

test_ok 'multipart: 200 with an <Error> on complete is retried' <<'EOF'
	fault POST /mp3.bin error200 1 uploadId= &&
	expect_rc 0 store "$URL" put "$tmp/big" mp3.bin &&
	attempts POST uploadId= 2 && attempts DELETE uploadId= 0 &&
	got_right mp3.bin "$tmp/big"
EOF

test_ok 'multipart: complete answering 200 <Error> every time fails and aborts' <<'EOF'
	fault POST /mp4.bin error200 99 uploadId= &&
	expect_rc 1 store "$URL" put "$tmp/big" mp4.bin &&
	expect_err_has "s3: POST s3://$BUCKET/f/mp4.bin: 200 OK: InternalError" &&
	attempts POST uploadId= 4 && attempts DELETE uploadId= 1 && absent mp4.bin
EOF

test_ok 'multipart: complete done but its answer cut: the object is found whole' <<'EOF'
	fault POST /mp5.bin truncate 1 uploadId= &&
	expect_rc 0 store "$URL" put "$tmp/big" mp5.bin &&
	got_right mp5.bin "$tmp/big"
EOF

test_ok 'multipart: initiate answering 503 is retried' <<'EOF'
	fault POST /mp6.bin 503 1 uploads= &&
	expect_rc 0 store "$URL" put "$tmp/big" mp6.bin &&
	attempts POST uploads= 2 && got_right mp6.bin "$tmp/big"
EOF

test_ok 'DeleteObjects: a key it could not delete is a clear error, not retried' <<'EOF'
	expect_rc 0 store "$URL" seed del/k 3 &&
	fault POST /$BUCKET delete-partial 99 delete= &&
	expect_rc 1 store "$URL" rm-many del/k0000 del/k0001 del/k0002 &&
	expect_err_has "s3: DELETE s3://$BUCKET/f/del/k0000: AccessDenied: Access Denied (1 key of the batch not deleted)" &&
	attempts POST delete= 1
EOF

test_ok 'DeleteObjects: 200 with an <Error> body is retried' <<'EOF'
	fault POST /$BUCKET error200 1 delete= &&
	expect_rc 0 store "$URL" rm-many del/k0000 del/k0001 del/k0002 &&
	# One retry for the fault; s3rver itself now and then answers 500 when
	# it deletes several keys of one folder at once, which costs another.
	n=$(count_since POST delete=) && [ "$n" -ge 2 ] && [ "$n" -le 3 ] &&
	rules '[]' && expect_rc 0 store "$URL" ls del/ && [ ! -s "$tmp/out" ]
EOF

test_ok 'list: a truncated page and a 200 <Error> page are retried; the listing is whole' <<'EOF'
	expect_rc 0 store "$URL" seed list/k 12 &&
	rules '[{"method":"GET","query":"continuation-token","fault":"truncate","times":1},
		{"method":"GET","query":"list-type","fault":"error200","times":1}]' && log_mark &&
	expect_rc 0 store --page 5 "$URL" ls list/ &&
	[ "$(wc -l <"$tmp/out")" = 12 ] &&
	[ "$(cut -f2 "$tmp/out" | sort -u | wc -l)" = 12 ] &&
	attempts GET list-type 5
EOF

test_ok 'fetch: a fault while filling the cache leaves no partial file in it' <<'EOF'
	fault GET /small.bin truncate 99 &&
	expect_rc 1 store "$URL" fetch small.bin 100000 &&
	! find "$tmp/cache" -type f | grep -q . &&
	fault GET /small.bin reset 1 &&
	expect_rc 0 store "$URL" fetch small.bin 100000 &&
	cmp "$tmp/small" "$(cat "$tmp/out")"
EOF

test_done
