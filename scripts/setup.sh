#!/usr/bin/env bash
# setup.sh - install every Debian package that machina's build, corpus,
# tests and benchmarks need, when missing. Safe to run again: it does
# nothing when all are present.
set -euo pipefail

PACKAGES=(
    # build
    build-essential cmake pkg-config
    libelf-dev libdwarf-dev liblz4-dev libsqlite3-dev libncurses-dev libcmocka-dev
    libfdt-dev libxxhash-dev libjansson-dev libssl-dev
    # guest corpus
    gcc-riscv64-linux-gnu libc6-dev-riscv64-cross linux-source-6.1
    bc bison flex libssl-dev cpio xz-utils bzip2 dpkg-dev opensbi e2fsprogs
    # oracles and consumers used by the tests and benchmarks
    qemu-system-misc device-tree-compiler gdb-multiarch babeltrace2 sqlite3 lz4 valgrind
    python3 linux-perf
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#PACKAGES[@]} packages present"
    exit 0
fi
SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
