#!/usr/bin/env bash
# Installs everything Recall needs on a fresh Debian 12 machine: build tools, libraries,
# the peers the tests and benchmarks compare against, and the test users.
# Idempotent: safe to run again; it only does what is missing. Run as root (or via sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libsqlite3-dev sqlite3 libzstd-dev zlib1g-dev libbz2-dev liblzma-dev liblz4-dev libssl-dev
  bzip2 xz-utils zstd lz4 lzip
  libboost-dev libboost-system-dev
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev
  libacl1-dev libattr1-dev acl attr libarchive-dev tar restic clang
  libfuse3-dev fuse3
  util-linux passwd procps psmisc python3 curl
  qt6-base-dev qt6-svg-dev qt6-l10n-tools qt6-tools-dev-tools qt6-qpa-plugins libqt6svg6
  xvfb xauth fonts-dejavu-core
)

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then exec sudo -E bash "$0" "$@"; fi
    echo "setup.sh: must run as root (or with sudo available) to install packages" >&2
    exit 1
  fi
}

# Test users and groups for the permission matrix (tests/auth, tests/e2e). Fixed names,
# no login shell, no password; created only if missing.
create_test_users() {
  getent group rctest-staff >/dev/null || groupadd rctest-staff
  getent group rctest-audit >/dev/null || groupadd rctest-audit
  getent group recall-admin >/dev/null || groupadd recall-admin
  for u in rctest-alice rctest-bob rctest-carol rctest-dave; do
    id "$u" >/dev/null 2>&1 || useradd --no-create-home --shell /usr/sbin/nologin "$u"
  done
  usermod -a -G rctest-staff rctest-alice
  usermod -a -G rctest-staff,rctest-audit rctest-bob
  usermod -a -G rctest-audit rctest-carol
  usermod -a -G recall-admin rctest-dave
}

need_root "$@"
source "$(dirname "$0")/apt_install.sh"
apt_install_missing setup "${PACKAGES[@]}"
create_test_users
# recall-fs and its tests mount for real: the FUSE module must be there (it is built into
# Debian's kernel or loaded on demand; a machine without it fails the tests loudly).
if [ ! -e /dev/fuse ]; then
  modprobe fuse 2>/dev/null || echo "setup: WARNING: /dev/fuse is missing and 'modprobe fuse' failed" >&2
fi
# Users mount their own recall-fs: Debian's udev makes /dev/fuse 0666; containers may not.
[ -c /dev/fuse ] && chmod 0666 /dev/fuse
echo "setup: done"
