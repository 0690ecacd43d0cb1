#!/usr/bin/env bash
# Install what is missing (scripts/setup.sh), then configure and build tarn in build/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/setup.sh"
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${TARN_CMAKE_ARGS:-} >/dev/null
cmake --build "$here/build" -j"$(nproc)"
