#!/usr/bin/env bash
# `tarn serve` uploads: a raw body and multipart parts land as a new raw
# version (and load with ?load=), a query then sees the rows; roles; path
# traversal in dataset and file names; a body over the limit (413), a
# malformed multipart body (400) and a client that goes away mid-upload
# all leave the raw zone, the lake and the server's staging exactly as
# they were.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-serve.sh"
export TMPDIR="$tmp/srvtmp"
mkdir -p "$TMPDIR"
# up TOKEN PATH [curl args...]: POST, prints the status; the body goes to $tmp/body.
up() {
	local tok=$1 path=$2; shift 2
	curl -s -o "$tmp/body" -w '%{http_code}' ${tok:+-H "Authorization: Bearer $tok"} "$@" "$url$path"
}
# What must not change when an upload is refused: the raw zone's files and the snapshots.
state() { { snaps; find "$lake/raw" -type f 2>/dev/null | sort; find "$TMPDIR" -path '*/up-*' 2>/dev/null; } | md5sum; }
staged() { find "$TMPDIR" -path '*/up-*' 2>/dev/null | wc -l; }

"$TARN" init -q "$lake" &&
{ echo "$("$TARN" serve --hash-token r-1) ana reader"; echo "$("$TARN" serve --hash-token w-2) bob writer";
  echo "$("$TARN" serve --hash-token a-3) cy admin"; } >"$tmp/tokens"
printf 'id,name,price\n1,apple,1.5\n2,pear,2.25\n' >"$tmp/fruit.csv"
printf 'id,name,price\n3,plum,0.5\n' >"$tmp/more.csv"
printf '{"id": 4, "name": "fig", "price": 3.0}\n' >"$tmp/more.json"
start_server --max-upload-mb 1

test_ok 'a raw body lands as a raw version and loads; a query sees it' <<'EOF_'
	[ "$(up w-2 '/v1/datasets/fruit/files?filename=fruit.csv&load=bronze.fruit' --data-binary @"$tmp/fruit.csv")" = 201 ] &&
	n=$(wc -c <"$tmp/fruit.csv") && jq_py "d['bytes'] == $n" &&
	jq_py 'd["dataset"] == "fruit" and d["files"] == ["fruit.csv"] and d["loaded"][0]["table"] == "bronze.fruit" and d["loaded"][0]["rows"] == 2' &&
	cmp "$tmp/fruit.csv" "$lake/raw/fruit/$(python3 -c "import json; print(json.load(open('$tmp/body'))['version'])")/fruit.csv" &&
	[ "$(up r-1 /v1/query -d '{"sql": "SELECT name FROM bronze.fruit ORDER BY id"}')" = 200 ] &&
	jq_py 'd["rows"] == [["apple"], ["pear"]]' &&
	"$TARN" --lake "$lake" ingest ls --format csv | grep -q '^fruit,'
EOF_

test_ok 'multipart: one file per part, appended in one snapshot' <<'EOF_'
	[ "$(up w-2 '/v1/datasets/fruit/files?load=bronze.fruit&mode=append' -F "a=@$tmp/more.csv" -F "b=@$tmp/more.json;filename=extra.json")" = 201 ] &&
	jq_py 'sorted(d["files"]) == ["extra.json", "more.csv"]' &&
	[ "$(up r-1 /v1/query -d '{"sql": "SELECT count(*) AS n, sum(price) AS p FROM bronze.fruit"}')" = 200 ] &&
	jq_py 'd["rows"] == [[4, 7.25]]' &&
	[ "$(up r-1 /v1/datasets)" = 200 ] && jq_py 'len(d["versions"]) == 2 and d["versions"][1]["files"] == 2' &&
	[ "$(up r-1 /v1/snapshots)" = 200 ] && jq_py 'd["rows"][-1][5].startswith("tarn load fruit") and "more.csv sha256:" in d["rows"][-1][5]' &&
	[ "$(up "" /metrics)" = 200 ] && grep -q '^tarn_uploads_total 2$' "$tmp/body" && grep -q '^tarn_commits_total 2$' "$tmp/body"
EOF_

test_ok 'roles: readers and strangers cannot upload, nothing is kept' <<'EOF_'
	before=$(state) &&
	[ "$(up r-1 '/v1/datasets/fruit/files?filename=x.csv' --data-binary @"$tmp/fruit.csv")" = 403 ] &&
	[ "$(up "" '/v1/datasets/fruit/files?filename=x.csv' --data-binary @"$tmp/fruit.csv")" = 401 ] &&
	[ "$(up bad '/v1/datasets/fruit/files?filename=x.csv' --data-binary @"$tmp/fruit.csv")" = 401 ] &&
	[ "$(up a-3 '/v1/datasets/admin_ds/files?filename=x.csv' --data-binary @"$tmp/fruit.csv")" = 201 ] &&
	[ "$(up w-2 /v1/datasets/fruit/files -X GET)" = 405 ] &&
	rm -rf "$lake/raw/admin_ds" && [ "$(state)" = "$before" ]
EOF_

test_ok 'path traversal in dataset and file names is refused, nothing is written' <<'EOF_'
	before=$(state) &&
	for p in '/v1/datasets/..%2F..%2Fetc/files?filename=a.csv' '/v1/datasets/%2Ftmp%2Fx/files?filename=a.csv' \
		'/v1/datasets/../files?filename=a.csv' '/v1/datasets/a%00b/files?filename=a.csv' \
		'/v1/datasets/Fruit/files?filename=a.csv' '/v1/datasets/fruit/files?filename=..%2F..%2Fx.csv' \
		'/v1/datasets/fruit/files?filename=%2Fetc%2Fpasswd' '/v1/datasets/fruit/files?filename=a%00.csv' \
		'/v1/datasets/fruit/files?filename=..' '/v1/datasets/fruit/files?filename=a%5C..%5Cb' \
		'/v1/datasets/fruit/files?filename=' '/v1/datasets/fruit/files'; do
		got=$(up w-2 "$p" --data-binary @"$tmp/fruit.csv")
		case $got in 400|404|405) ;; *) echo "$p -> $got"; cat "$tmp/body"; exit 1;; esac
	done &&
	for name in '../x.csv' '/etc/x.csv' 'a/b.csv' '.hidden'; do
		got=$(up w-2 /v1/datasets/fruit/files -F "f=@$tmp/fruit.csv;filename=$name")
		[ "$got" = 400 ] || { echo "part $name -> $got"; cat "$tmp/body"; exit 1; }
	done &&
	[ "$(state)" = "$before" ] && [ ! -e "$tmp/x.csv" ] && [ ! -e /tmp/x ]
EOF_

test_ok 'an upload over the limit gets 413 and nothing is kept' <<'EOF_'
	head -c 1500000 /dev/urandom >"$tmp/big.bin" && before=$(state) &&
	[ "$(up w-2 '/v1/datasets/big/files?filename=big.bin' --data-binary @"$tmp/big.bin")" = 413 ] &&
	jq_py 'd["error"]["code"] == "too_large"' &&
	[ "$(up w-2 '/v1/datasets/big/files?filename=big.bin' -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/big.bin")" = 413 ] &&
	[ "$(up w-2 /v1/datasets/big/files -F "f=@$tmp/big.bin")" = 413 ] &&
	[ "$(state)" = "$before" ] && [ ! -e "$lake/raw/big" ]
EOF_

test_ok 'a malformed multipart body gets 400 and nothing is kept' <<'EOF_'
	before=$(state) &&
	[ "$(up w-2 /v1/datasets/m/files -H 'Content-Type: multipart/form-data; boundary=XX' \
		--data-binary $'--XX\r\nContent-Disposition: form-data; name="f"; filename="a.csv"\r\n\r\na,b\n1,2\n')" = 400 ] &&
	jq_py 'd["error"]["code"] == "bad_multipart"' &&
	[ "$(up w-2 /v1/datasets/m/files -H 'Content-Type: multipart/form-data' --data-binary 'x')" = 400 ] &&
	[ "$(up w-2 /v1/datasets/m/files -H 'Content-Type: multipart/form-data; boundary=XX' --data-binary 'junk')" = 400 ] &&
	[ "$(up w-2 /v1/datasets/m/files -F 'field=not a file')" = 400 ] && jq_py '"no filename" in d["error"]["message"]' &&
	[ "$(up w-2 /v1/datasets/m/files -F "a=@$tmp/fruit.csv;filename=x.csv" -F "b=@$tmp/more.csv;filename=x.csv")" = 400 ] &&
	[ "$(state)" = "$before" ] && [ ! -e "$lake/raw/m" ]
EOF_

test_ok 'a bad load keeps the raw version, commits nothing, and says so (422)' <<'EOF_'
	s0=$(snaps) &&
	printf 'id,name,price\nx,y,z\n' >"$tmp/bad.csv" &&
	[ "$(up w-2 '/v1/datasets/fruit/files?filename=bad.csv&load=bronze.fruit&mode=append' --data-binary @"$tmp/bad.csv")" = 422 ] &&
	jq_py 'd["error"]["code"] == "load_failed" and d["version"]' && [ "$(snaps)" = "$s0" ] &&
	[ "$(up w-2 '/v1/datasets/fruit/files?filename=a.csv&mode=sideways' --data-binary @"$tmp/bad.csv")" = 400 ]
EOF_

test_ok 'a client that disconnects mid-upload leaves nothing' <<'EOF_'
	before=$(state) &&
	python3 -c '
import socket, sys, time, glob, os
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /v1/datasets/cut/files?filename=a.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer w-2\r\n"
          b"Content-Length: 900000\r\n\r\n" + b"x" * 300000)
time.sleep(0.5)
staged = glob.glob(sys.argv[2] + "/*/up-*/a.bin")
assert staged and os.path.getsize(staged[0]) == 300000, staged   # streamed to a file, not held
s.close()
' "$port" "$TMPDIR" &&
	for k in $(seq 50); do [ "$(staged)" = 0 ] && break; sleep 0.1; done &&
	[ "$(state)" = "$before" ] && [ ! -e "$lake/raw/cut" ]
EOF_

test_ok 'the server is still healthy and tokens never reach the log' <<'EOF_'
	[ "$(up "" /v1/health)" = 200 ] && ! grep -q 'w-2\|r-1\|a-3' "$tmp/serve.log" &&
	grep -q '^POST /v1/datasets/fruit/files 201 .* bob$' "$tmp/serve.log"
EOF_

kill "$srv_pid"; wait "$srv_pid" 2>/dev/null; srv_pid=
test_done
