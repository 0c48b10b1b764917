#!/usr/bin/env bash
# One command for the importer benchmark (issue 6): installs the peers and the dataset package,
# then times `recall import tar` against `tar tvf` and `recall import restic` against
# `restic ls -l` (bench/importers.py). Results: $RECALL_BENCH_WORK/importers-<stamp>.json.
# RECALL_BIN_DIR: the build dir holding catalogd/recalld and cli/recall (default: build/).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/setup.sh"
exec python3 "$here/importers.py" "$@"
