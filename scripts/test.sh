#!/usr/bin/env bash
# Sets up and runs every test: unit tests, the kernel permission matrix with real users and
# the end-to-end suite with a real recalld, first in a normal build, then in an
# AddressSanitizer + UndefinedBehaviorSanitizer build (set RECALL_SKIP_SANITIZERS=1 to skip it locally),
# with the libFuzzer targets run in between, a fixed number of inputs from a fixed seed each
# (scripts/fuzz.sh; RECALL_SKIP_FUZZ=1 skips them).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/setup.sh"
jobs=$(nproc)

bash "$here/scripts/build.sh" "$here/build" -DBUILD_TESTING=ON
(cd "$here/build" && ctest --output-on-failure --timeout 900 -j "$jobs")

# The parsers of hostile input under libFuzzer (clang), bounded and deterministic (scripts/fuzz.sh).
if [ "${RECALL_SKIP_FUZZ:-0}" != 1 ]; then
  bash "$here/scripts/fuzz.sh"
fi

if [ "${RECALL_SKIP_SANITIZERS:-0}" != 1 ]; then
  bash "$here/scripts/build.sh" "$here/build-asan" -DBUILD_TESTING=ON -DRECALL_SANITIZE=ON
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd "$here/build-asan" && ctest --output-on-failure --timeout 1800 -j "$jobs")
fi
