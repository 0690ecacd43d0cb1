#!/usr/bin/env bash
# The whole test suite: build, then every unit, SQL and end-to-end test under ctest.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/build.sh"
ctest --test-dir "$here/build" --output-on-failure -j2 "$@"
