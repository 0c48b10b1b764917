#!/usr/bin/env bash
# One command for the filesystem benchmark (issue 3): installs the peers (squashfuse_ll,
# squashfs-tools, restic, fuse3) and the dataset package, builds/reuses the five-day dataset
# plus a 128 MiB blob, the Recall home, the restic repo and the squashfs image under
# $RECALL_BENCH_WORK/fs (default /var/tmp/recall-bench/fs), then times plain directory,
# squashfuse_ll, restic mount and recall-fs side by side on day 5 and prints markdown tables.
# Results: $RECALL_BENCH_WORK/fs-results-<stamp>.json.
# Options are passed to fs.py: --only recall,plain  --reps WARM,COLD (default 5,3)  --rebuild
# RECALL_BIN_DIR: the build dir holding catalogd/recalld, cli/recall and fusefs/recall-fs
# (default: build/ of this repository, as scripts/build.sh makes it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/setup.sh"
exec python3 "$here/fs.py" "$@"
