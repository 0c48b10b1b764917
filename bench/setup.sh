#!/usr/bin/env bash
# Installs what the benchmarks need on Debian 12: the dataset (linux-source), the spine
# peers (restic, plocate), the filesystem peers (restic mount, squashfuse_ll with
# squashfs-tools, fuse3 for fusermount3), plus rsync and GNU time. Idempotent; run as root
# (or via sudo).
set -euo pipefail

PACKAGES=(linux-source restic plocate rsync time python3 xz-utils squashfuse squashfs-tools fuse3)

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then exec sudo -E bash "$0" "$@"; fi
  echo "bench/setup.sh: must run as root" >&2
  exit 1
fi

source "$(dirname "$0")/../scripts/apt_install.sh"
apt_install_missing bench/setup "${PACKAGES[@]}"
ls /usr/src/linux-source-*.tar.* >/dev/null
echo "bench/setup: dataset tarball: $(ls /usr/src/linux-source-*.tar.*)"
