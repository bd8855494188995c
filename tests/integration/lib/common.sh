# common.sh - shared settings for the integration tests (sourced).
# CTest sets MACHINA_BUILD_DIR, MACHINA_CORPUS_DIR and MACHINA_SOURCE_DIR.
set -euo pipefail
: "${MACHINA_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
: "${MACHINA_BUILD_DIR:=$MACHINA_SOURCE_DIR/build}"
: "${MACHINA_CORPUS_DIR:=$MACHINA_BUILD_DIR/corpus}"
B=$MACHINA_BUILD_DIR
C=$MACHINA_CORPUS_DIR
CONSOLE="$MACHINA_SOURCE_DIR/tests/integration/lib/console.py"
FW_DYNAMIC=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
FW_JUMP=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin
# QEMU 7.2 with the extensions machina does not implement switched off.
QEMU_CPU="rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/machina-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
need() { [ -e "$1" ] || fail "missing $1 (build the corpus: scripts/corpus.sh $C)"; }

# qemu_linux SMP APPEND...: the corpus Linux under QEMU virt, console on stdio.
qemu_linux() {
    local smp=$1; shift
    qemu-system-riscv64 -machine virt -cpu "$QEMU_CPU" -smp "$smp" -m 256M -nographic \
        -bios "$FW_DYNAMIC" -kernel "$C/Image" -initrd "$C/initramfs.cpio" \
        -append "console=ttyS0 earlycon=sbi $*"
}
# Exported, so that `timeout`, console.py and other wrappers can run it:
#   timeout 60 bash -c 'qemu_linux 2 machina.workload=x'
export C QEMU_CPU FW_DYNAMIC
export -f qemu_linux

# expect_in FILE TEXT...: every TEXT must occur in FILE.
expect_in() {
    local f=$1; shift
    for t in "$@"; do
        grep -qF -- "$t" "$f" || { echo "---- $f"; tail -40 "$f"; fail "expected '$t' in the output"; }
    done
}
