#!/usr/bin/env bash
# One command for the tape staging benchmark (issue 4): makes the dataset (600 files on 10
# hosts), imports and migrates it to the simulated library under
# $RECALL_BENCH_WORK/tape (default /var/tmp/recall-bench/tape), then runs a mix of 500 reads
# by four users at once with Recall's scheduler and with first-come-first-served, against the
# lower bound, and prints markdown. Results: $RECALL_BENCH_WORK/tape-results-<stamp>.json.
# Options are passed to tape.py: --scale S (default 0.02)  --only recall,fcfs  --rebuild
# RECALL_BIN_DIR: the build dir holding catalogd/recalld and cli/recall (default: build/).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/../scripts/setup.sh" >/dev/null   # the test users read as themselves
exec python3 "$here/tape.py" "$@"
