#!/usr/bin/env bash
# The whole test suite: build, then every unit, SQL and end-to-end test under
# ctest, twice: on the release build, and on the developer build (-Werror,
# ASan/UBSan, so memory errors and leaks fail the run).
# TARN_TEST_QUICK=1 skips the developer build.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/build.sh"
ctest --test-dir "$here/build" --output-on-failure -j2 "$@"
if [ "${TARN_TEST_QUICK:-0}" != 1 ]; then
	cmake -S "$here" -B "$here/build-dev" -DTARN_DEVELOPER=ON -DCMAKE_BUILD_TYPE=Debug ${TARN_CMAKE_ARGS:-} >/dev/null
	cmake --build "$here/build-dev" -j"$(nproc)"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ctest --test-dir "$here/build-dev" --output-on-failure -j2 "$@"
fi
