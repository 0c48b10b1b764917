#!/usr/bin/env bash
# Configures and builds Recall. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# RECALL_TARGETS="recalld recall" builds only those targets.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
shift || true
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
targets=()
for t in ${RECALL_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
