#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds, starts recalld on
# /var/lib/recall and imports a real file tree (a copy of /usr/share/doc) as host "demo" at
# three points with edits, renames and deletions in between, migrates the first point's disk
# volume to the simulated tape library (two copies), and mounts every point with recall-fs at
# /restore (RECALL_MOUNT) for all users. Then try the tour in README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/setup.sh"
RECALL_TARGETS="recalld recall recall-fs recall-browser" bash "$here/scripts/build.sh" "$here/build" -DBUILD_TESTING=OFF
bin=$here/build
home=${RECALL_HOME:-/var/lib/recall}
sock=$home/recalld.sock
export RECALL_SOCKET=$sock

# A recalld already serving this home is replaced by the freshly built one.
mnt=${RECALL_MOUNT:-/restore}
# A mount left by an earlier run goes first: it would answer EIO while recalld restarts.
if mountpoint -q "$mnt" 2>/dev/null; then fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt"; fi

if [ -f "$home/recalld.lock" ]; then
  pid=$(cat "$home/recalld.lock" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q recalld "/proc/$pid/comm" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
fi
mkdir -p "$home"
setsid "$bin/catalogd/recalld" --home "$home" >>"$home/recalld.log" 2>&1 < /dev/null &
for _ in $(seq 100); do [ -S "$sock" ] && "$bin/cli/recall" status >/dev/null 2>&1 && break; sleep 0.1; done
"$bin/cli/recall" status >/dev/null || { echo "demo: recalld did not start; see $home/recalld.log" >&2; exit 1; }

tree=/srv/recall-demo/share/doc
if ! "$bin/cli/recall" points --host demo >/dev/null 2>&1; then
  rm -rf /srv/recall-demo && mkdir -p /srv/recall-demo/share
  cp -a /usr/share/doc "$tree"
  now=$(date -u +%s)
  "$bin/cli/recall" import dir --host demo --at "$(date -u -d @$((now - 7200)) +%FT%TZ)" "$tree"
  # Day 2: an edit, a deletion, a new file, a renamed directory.
  echo "edited by the demo on day 2" >> "$tree/git/README.md" 2>/dev/null || true
  rm -f "$tree"/bash/* 2>/dev/null || true
  echo "budget 2026: draft" > "$tree/budget-2026.txt"
  [ -d "$tree/apt" ] && mv "$tree/apt" "$tree/apt-renamed"
  "$bin/cli/recall" import dir --host demo --at "$(date -u -d @$((now - 3600)) +%FT%TZ)" "$tree"
  echo "budget 2026: final" > "$tree/budget-2026.txt"
  "$bin/cli/recall" import dir --host demo --at "$(date -u -d @"$now" +%FT%TZ)" "$tree"
  # The first point's data goes to tape: files unchanged since then now read from cartridges.
  first_volume=$("$bin/cli/recall" volumes --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["disk"][0]["volser"])')
  "$bin/cli/recall" migrate "$first_volume" --copies 2
else
  "$bin/cli/recall" import dir --host demo "$tree"
fi
mkdir -p "$mnt"
"$bin/fusefs/recall-fs" "$mnt" --socket "$sock" -o allow_other
echo
"$bin/cli/recall" points --host demo
echo
echo "recalld is running on $sock (log: $home/recalld.log); every point is mounted at $mnt. Try:"
echo "  ls -l $mnt/demo/latest$tree | head"
echo "  ls -l $mnt/@search/budget"
echo "  ls -l $mnt/@versions/demo$tree/budget-2026.txt/"
echo "  getfattr -n user.recall.location $mnt/demo/latest$tree/git/copyright   # on tape"
echo "  diff -r $mnt/demo/\$(ls $mnt/demo | head -1)$tree $tree | head"
echo "  export PATH=$bin/cli:\$PATH"
[ "$sock" = /var/lib/recall/recalld.sock ] || echo "  export RECALL_SOCKET=$sock"
echo "  recall search budget"
echo "  recall versions --host demo $tree/budget-2026.txt"
echo "  recall ls --host demo $tree"
echo "  recall volumes; recall queue"
echo "  recall restore --host demo --at \"\$(recall points --host demo --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"points\"][0][\"at\"])')\" $tree/git /tmp/restored"
