# lib-project.sh: what the transformation tests (t60*) share, sourced after
# lib-cli.sh: a lake ($lake), a project folder ($proj), and
#   tarn RC ARGS...   run tarn on the lake, expecting exit status RC
#   q SQL             the value(s) of a query, as CSV without the header
#   put FILE <<EOF    write a project file (folders made)
lake="$tmp/lake"
proj="$tmp/proj"
tarn() { expect_rc "$1" "$TARN" --lake "$lake" "${@:2}"; }
q() { "$TARN" --lake "$lake" sql --format csv -c "$1" | tail -n +2; }
put() { mkdir -p "$(dirname "$proj/$1")"; cat >"$proj/$1"; }
