#!/usr/bin/env bash
# One command for the spine benchmark (issue 2): installs the peers and the dataset package,
# builds/reuses the five-day dataset, runs Recall, restic and plocate side by side and prints
# a markdown table. Results: $RECALL_BENCH_WORK/results-<stamp>.json (default /var/tmp/recall-bench).
# Options are passed to spine.py: --scale (grow to >= 1,000,000 versions), --skip-restic, ...
# RECALL_BIN_DIR: the build dir holding catalogd/recalld and cli/recall (default: build/ of this repository, as scripts/build.sh makes it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/setup.sh"
exec python3 "$here/spine.py" "$@"
