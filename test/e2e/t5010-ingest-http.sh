#!/usr/bin/env bash
# Ingestion over HTTP against a loopback server (t5-ingest-server.py):
# URLs, a 404, a connection cut mid-download, archives without a telling
# name, and fakes of the Kaggle and Hugging Face APIs through
# TARN_KAGGLE_URL / TARN_HF_URL. Keys and tokens never show in output.
. "$(dirname "$0")/lib-cli.sh"
lake="$tmp/lake"
raw="$lake/raw"
srv="$tmp/srv"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
nothing_left() {
	if [ -d "$raw/.tmp" ] && [ -n "$(ls -A "$raw/.tmp")" ]; then
		echo "staging left behind:"; ls -la "$raw/.tmp"; return 1
	fi
}

server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# Fixtures: plain files, a zip for the Kaggle fake, a repo for the HF fake.
mkdir -p "$srv/files" "$srv/kaggle" "$srv/hf/someone/tiny-set/data/sub"
printf 'a,b\n1,x\n2,y\n' >"$srv/files/plain.csv"
printf 'n\n1\n' >"$srv/files/named.csv"
head -c 300000 /dev/urandom | base64 >"$srv/files/big.txt"
python3 - "$srv" <<'PY'
import sys, zipfile
srv = sys.argv[1]
with zipfile.ZipFile(srv + "/files/archive", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("in/side.csv", "p,q\n1,2\n")
with zipfile.ZipFile(srv + "/kaggle/titanic-data.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("train.csv", "id,survived\n1,0\n2,1\n")
    z.writestr("docs/about.txt", "about\n")
PY
printf 'x,y\n1,2\n' >"$srv/hf/someone/tiny-set/data/train.csv"
printf '{"x": 3, "y": 4}\n' >"$srv/hf/someone/tiny-set/data/sub/more.jsonl"
printf '# tiny\n' >"$srv/hf/someone/tiny-set/README.md"
echo "kuser:SECRETKAGGLEKEY123" >"$srv/kaggle-auth"

python3 "$(dirname "$0")/t5-ingest-server.py" "$srv" "$tmp/port" 2>"$tmp/server.err" &
server_pid=$!
for i in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port" 2>/dev/null)
base="http://127.0.0.1:$port"

test_ok 'the test server answers' '[ -n "$port" ] && curl -sf "$base/files/plain.csv" >/dev/null'
test_ok 'a lake to ingest into' 'tarn 0 init -q "$lake"'

test_ok 'a URL is downloaded, named after its last segment, stderr quiet' <<'EOF_'
	tarn 0 ingest dataset "$base/files/plain.csv" &&
	p=$(cat "$tmp/out") && case "$p" in "$raw/plain/"*) ;; *) false ;; esac &&
	cmp "$srv/files/plain.csv" "$p/plain.csv" &&
	[ ! -s "$tmp/err" ] &&
	python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert m["versions"][0]["source"] == sys.argv[2], m' "$raw/plain/manifest.json" "$base/files/plain.csv"
EOF_

test_ok 'the URL kept in the manifest has no user, password or query' <<'EOF_'
	tarn 0 ingest dataset "http://someone:hunter2@127.0.0.1:$port/files/plain.csv?token=abc" --name withcreds &&
	! grep -q "hunter2\|token=abc" "$raw/withcreds/manifest.json" &&
	grep -q "\"http://127.0.0.1:$port/files/plain.csv\"" "$raw/withcreds/manifest.json"
EOF_

test_ok 'the name a server suggests (Content-Disposition) is used' <<'EOF_'
	tarn 0 ingest dataset "$base/named" &&
	p=$(cat "$tmp/out") && case "$p" in "$raw/named_data/"*) ;; *) false ;; esac &&
	[ -f "$p/named data.csv" ]
EOF_

test_ok 'a download without an extension is unpacked by its content' <<'EOF_'
	tarn 0 ingest dataset "$base/files/archive" &&
	p=$(cat "$tmp/out") && [ -f "$p/in/side.csv" ] && [ ! -e "$p/archive" ]
EOF_

test_ok 'a URL that 404s fails naming it, and leaves nothing' <<'EOF_'
	tarn 1 ingest dataset "$base/files/missing.csv" &&
	expect_err_has "GET $base/files/missing.csv: 404 Not Found" &&
	[ ! -e "$raw/missing" ] && nothing_left
EOF_

test_ok 'a download the server cuts off fails and leaves nothing' <<'EOF_'
	tarn 1 ingest dataset "$base/cut/big.txt" &&
	expect_err_has "cut off after" &&
	expect_err_has "nothing was stored" &&
	[ ! -e "$raw/big" ] && nothing_left
EOF_

test_ok 'a refused connection is a clear error' <<'EOF_'
	tarn 1 ingest dataset "http://127.0.0.1:1/x.csv" &&
	expect_err_has "GET http://127.0.0.1:1/x.csv" && nothing_left
EOF_

test_ok 'progress is drawn on a terminal' <<'EOF_'
	command -v script >/dev/null || { echo "script(1) missing"; false; } &&
	script -qec "$TARN --lake $lake ingest dataset $base/files/big.txt --name bar" "$tmp/typescript" >/dev/null &&
	grep -q "big.txt" "$tmp/typescript" && grep -q "B/s" "$tmp/typescript"
EOF_

# ---- Kaggle ----

kaggle_src="https://www.kaggle.com/datasets/someone/titanic-data"

test_ok 'Kaggle: credentials from KAGGLE_USERNAME/KAGGLE_KEY, zip unpacked' <<'EOF_'
	TARN_KAGGLE_URL="$base" KAGGLE_USERNAME=kuser KAGGLE_KEY=SECRETKAGGLEKEY123 \
		tarn 0 ingest dataset "$kaggle_src" &&
	p=$(cat "$tmp/out") && case "$p" in "$raw/titanic_data/"*) ;; *) false ;; esac &&
	[ "$(cat "$p/train.csv")" = "id,survived
1,0
2,1" ] && [ -f "$p/docs/about.txt" ] && [ ! -e "$p/titanic-data.zip" ] &&
	grep -q "\"source\": \"$kaggle_src\"" "$raw/titanic_data/manifest.json"
EOF_

test_ok 'Kaggle: the key is not sent to the host the download redirects to' <<'EOF_'
	grep -q "^/blob/titanic-data.zip auth=$" "$srv/requests.log"
EOF_

test_ok 'Kaggle: credentials from ~/.kaggle/kaggle.json' <<'EOF_'
	mkdir -p "$HOME/.kaggle" &&
	echo '{"username": "kuser", "key": "SECRETKAGGLEKEY123"}' >"$HOME/.kaggle/kaggle.json" &&
	TARN_KAGGLE_URL="$base" tarn 0 ingest dataset "$kaggle_src" --name from_file &&
	rm "$HOME/.kaggle/kaggle.json"
EOF_

test_ok 'Kaggle: a broken kaggle.json is named, its content is not shown' <<'EOF_'
	mkdir -p "$HOME/.kaggle" &&
	echo '{"username": "kuser", "key": SECRETUNQUOTED}' >"$HOME/.kaggle/kaggle.json" &&
	TARN_KAGGLE_URL="$base" tarn 1 ingest dataset "$kaggle_src" --name broken_json &&
	expect_err_has "kaggle.json is not valid JSON (line 1)" &&
	! grep -q SECRETUNQUOTED "$tmp/err" && rm "$HOME/.kaggle/kaggle.json" && nothing_left
EOF_

test_ok 'Kaggle: a wrong key is a 401 that says what to set, without the key' <<'EOF_'
	TARN_KAGGLE_URL="$base" KAGGLE_USERNAME=kuser KAGGLE_KEY=WRONGKEY987 \
		tarn 1 ingest dataset "$kaggle_src" --name wrong &&
	expect_err_has "401 Unauthorized" && expect_err_has "KAGGLE_KEY" &&
	! grep -q "WRONGKEY987\|SECRETKAGGLEKEY123" "$tmp/err" "$tmp/out" &&
	[ ! -e "$raw/wrong" ] && nothing_left
EOF_

test_ok 'Kaggle: an unknown dataset is a 404 naming it' <<'EOF_'
	TARN_KAGGLE_URL="$base" KAGGLE_USERNAME=kuser KAGGLE_KEY=SECRETKAGGLEKEY123 \
		tarn 1 ingest dataset "https://www.kaggle.com/datasets/someone/nothing-here" &&
	expect_err_has "404" && expect_err_has "someone/nothing-here" &&
	! grep -q SECRETKAGGLEKEY123 "$tmp/err" && nothing_left
EOF_

test_ok 'Kaggle: a URL without a dataset is a usage error' <<'EOF_'
	tarn 1 ingest dataset "https://www.kaggle.com/datasets/someone" &&
	expect_err_has "names no dataset"
EOF_

# ---- Hugging Face ----

hf_src="https://huggingface.co/datasets/someone/tiny-set"

test_ok 'Hugging Face: every listed file but .gitattributes, with folders' <<'EOF_'
	TARN_HF_URL="$base" tarn 0 ingest dataset "$hf_src" &&
	p=$(cat "$tmp/out") && case "$p" in "$raw/tiny_set/"*) ;; *) false ;; esac &&
	cmp "$srv/hf/someone/tiny-set/data/train.csv" "$p/data/train.csv" &&
	[ -f "$p/data/sub/more.jsonl" ] && [ -f "$p/README.md" ] && [ ! -e "$p/.gitattributes" ]
EOF_

test_ok 'Hugging Face: HF_TOKEN is sent as a bearer token and never shown' <<'EOF_'
	echo SECRETHFTOKEN456 >"$srv/hf-token" &&
	TARN_HF_URL="$base" tarn 1 ingest dataset "$hf_src" --name no_token &&
	expect_err_has "HF_TOKEN" && [ ! -e "$raw/no_token" ] &&
	TARN_HF_URL="$base" HF_TOKEN=SECRETHFTOKEN456 tarn 0 ingest dataset "$hf_src" --name with_token &&
	TARN_HF_URL="$base" HF_TOKEN=WRONGTOKEN tarn 1 ingest dataset "$hf_src" --name bad_token &&
	! grep -q "SECRETHFTOKEN456\|WRONGTOKEN" "$tmp/err" "$tmp/out" &&
	rm "$srv/hf-token" && nothing_left
EOF_

test_ok 'Hugging Face: a hostile file name in the listing is refused' <<'EOF_'
	printf '../../escape.csv\n' >"$srv/hf-extra" &&
	TARN_HF_URL="$base" tarn 1 ingest dataset "$hf_src" --name hostile &&
	expect_err_has "'..'" && [ ! -e "$raw/hostile" ] && [ ! -e "$lake/escape.csv" ] &&
	rm "$srv/hf-extra" && nothing_left
EOF_

test_ok 'the raw zone holds the datasets that landed and nothing else' <<'EOF_'
	tarn 0 ingest ls --format json &&
	json_check "[e['dataset'] for e in d] == ['archive', 'bar', 'from_file', 'named_data', 'plain', 'tiny_set', 'titanic_data', 'with_token', 'withcreds']"
EOF_
test_done
