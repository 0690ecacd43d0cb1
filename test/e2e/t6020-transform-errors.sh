#!/usr/bin/env bash
# Projects that go wrong: a cycle (named), template errors with file and
# line (unknown syntax, unknown ref and source, unclosed tags), a failing
# model that skips its descendants while the others go on, --vars JSON.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-project.sh"

put tarn.yml <<'EOF'
name: e
vars: {n: 2}
EOF
put models/a.sql <<'EOF'
SELECT {{ var('n') }} AS n
EOF
put models/b.sql <<'EOF'
SELECT n + 1 AS n FROM {{ ref('a') }}
EOF

test_ok 'a lake' 'tarn 0 init -q "$lake"'

test_ok 'vars from tarn.yml, then --vars JSON overrides them' <<'EOF_'
	cd "$proj" &&
	tarn 0 run &&
	[ "$(q "SELECT n FROM main.b")" = 3 ] &&
	tarn 0 run --vars '{"n": 10}' &&
	[ "$(q "SELECT n FROM main.b")" = 11 ] &&
	tarn 1 run --vars '{"n": ' && expect_err_has "JSON object" &&
	tarn 1 run --vars '[1]' && expect_err_has "JSON object"
EOF_

test_ok 'var without a value and without a default is an error' <<'EOF_'
	cd "$proj" &&
	put models/c.sql <<<"SELECT {{ var('nosuch') }} AS x" &&
	tarn 1 run && expect_err_has "models/c.sql:1" && expect_err_has nosuch &&
	put models/c.sql <<<"SELECT '{{ var('nosuch', 'dflt') }}' AS x" &&
	tarn 0 run --select c && [ "$(q "SELECT x FROM main.c")" = dflt ] &&
	rm models/c.sql
EOF_

test_ok 'a cycle is refused, named' <<'EOF_'
	cd "$proj" &&
	put models/x.sql <<<"SELECT * FROM {{ ref('y') }}" &&
	put models/y.sql <<<"SELECT * FROM {{ ref('x') }}" &&
	tarn 1 run && expect_err_has "cycle" &&
	{ grep -qF 'x -> y -> x' "$tmp/err" || grep -qF 'y -> x -> y' "$tmp/err"; } &&
	rm models/x.sql models/y.sql
EOF_

test_ok 'unknown template syntax names file and line' <<'EOF_'
	cd "$proj" &&
	printf 'SELECT 1 AS a\n-- two\n-- three\nFROM x WHERE {{ adapter.quote("x") }}\n' >models/bad.sql &&
	tarn 1 run && expect_err_has "models/bad.sql:4: unknown template syntax" &&
	printf 'SELECT 1\n{%% for i in range(3) %%}{{ i }}{%% endfor %%}\n' >models/bad.sql &&
	tarn 1 run && expect_err_has "models/bad.sql:2:" &&
	printf 'SELECT 1\n\n{{ ref("a") \n' >models/bad.sql &&
	tarn 1 run && expect_err_has "models/bad.sql:3" &&
	printf 'SELECT 1 {%% if is_incremental() %%} x\n' >models/bad.sql &&
	tarn 1 run && expect_err_has "models/bad.sql:1" &&
	mkdir -p models/silver && printf '\n\nSELECT * FROM {{ ref("nosuch") }}\n' >models/silver/bad.sql && rm models/bad.sql &&
	tarn 1 run && expect_err_has "models/silver/bad.sql:3" && expect_err_has nosuch &&
	printf "SELECT * FROM {{ source('raw', 'nope') }}\n" >models/silver/bad.sql &&
	tarn 1 run && expect_err_has "models/silver/bad.sql:1" &&
	rm models/silver/bad.sql
EOF_

test_ok 'comments and is_incremental else branch render' <<'EOF_'

	cd "$proj" &&
	put models/inc.sql <<'EOF' &&
{# a comment with {{ ref('nosuch') }} inside #}
{{ config(materialized='incremental') }}
SELECT {% if is_incremental() %} 2 {% else %} 1 {% endif %} AS k
EOF
	tarn 0 run --select inc && tarn 0 run --select inc &&
	[ "$(q "SELECT string_agg(k::VARCHAR, '+' ORDER BY k) FROM main.inc")" = "1+2" ] &&
	rm models/inc.sql
EOF_

test_ok 'a failing model skips its descendants; the others go on; exit 1' <<'EOF_'
	cd "$proj" &&
	put models/f.sql <<<"SELECT * FROM no_such_table" &&
	put models/g.sql <<<"SELECT * FROM {{ ref('f') }}" &&
	put models/h.sql <<<"SELECT * FROM {{ ref('g') }}" &&
	put models/ok.sql <<<"SELECT 42 AS v" &&
	tarn 1 run --threads 3 --format csv &&
	expect_out_has "f,model,error" && expect_out_has "g,model,skipped" &&
	expect_out_has "h,model,skipped" && expect_out_has "ok,model,success" &&
	[ "$(q "SELECT v FROM main.ok")" = 42 ] &&
	[ "$(q "SELECT count(*) FROM tarn_tables() WHERE table_name IN ('f','g','h')")" = 0 ] &&
	[ "$(q "SELECT DISTINCT r.status FROM tarn_meta.runs r JOIN tarn_meta.run_models m USING (run_id) WHERE m.node = 'f'")" != success ] &&
	[ "$(q "SELECT count(*) FROM tarn_meta.run_models WHERE node = 'f' AND status = 'error' AND message LIKE '%no_such_table%'")" = 1 ] &&
	rm models/f.sql models/g.sql models/h.sql models/ok.sql
EOF_

test_done
