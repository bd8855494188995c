#!/bin/sh
# baremetal_qemu.sh - run every bare-metal test ELF of the corpus under QEMU,
# the reference machine, and require each to pass.
#
# The ELFs come from $MACHINA_CORPUS_DIR/baremetal/*.elf when that directory
# holds any (CTest sets the variable), otherwise corpus/baremetal is built
# into a temporary directory.  Each program ends through the SiFive test
# finisher: QEMU exits 0 on pass and N when check N failed (see
# corpus/baremetal/common.h).  One line per program; exit status 0 only when
# all pass, 1 otherwise, 77 (skip) without qemu-system-riscv64.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../corpus/baremetal"
qemu=${QEMU:-qemu-system-riscv64}
tmo=${BAREMETAL_TIMEOUT:-60}

command -v "$qemu" >/dev/null || { echo "SKIP: $qemu not installed"; exit 77; }

dir=""
if [ -n "${MACHINA_CORPUS_DIR:-}" ] && ls "$MACHINA_CORPUS_DIR"/baremetal/*.elf >/dev/null 2>&1; then
	dir="$MACHINA_CORPUS_DIR/baremetal"
else
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
	if ! make -s -C "$src" OUT="$dir" >"$dir/build.log" 2>&1; then
		cat "$dir/build.log"
		echo "FAIL build of corpus/baremetal"
		exit 1
	fi
fi

fail=0
count=0
for elf in "$dir"/*.elf; do
	name=$(basename "$elf" .elf)
	count=$((count + 1))
	timeout "$tmo" "$qemu" -machine virt \
		-cpu rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false \
		-bios none -nographic -m 128M -kernel "$elf" </dev/null >/dev/null 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "PASS $name"
	elif [ $rc -eq 124 ]; then
		echo "FAIL $name (timeout after ${tmo}s: no pass/fail report)"
		fail=1
	else
		echo "FAIL $name (exit $rc: check $rc failed, or trap before it)"
		fail=1
	fi
done
if [ $count -eq 0 ]; then
	echo "FAIL no bare-metal ELFs found in $dir"
	exit 1
fi
exit $fail
