#!/bin/sh
# workloads_build.sh - build corpus/workloads warning-free and check the
# binaries: static riscv64 ELF executables, one per NAME.c.  When qemu-riscv64
# (qemu-user) happens to be installed, also run the workloads that do not need
# a kernel of their own and check their start/done markers; without it that
# part is skipped (the system-level runs belong to the corpus boot tests).
#
# Usage: workloads_build.sh [OUTDIR]     exit status 0 = all good
set -u
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../corpus/workloads"
out=${1:-$(mktemp -d)}
fail=0

command -v riscv64-linux-gnu-gcc >/dev/null || { echo "SKIP: no riscv64-linux-gnu-gcc"; exit 77; }
log="$out/build.log"
mkdir -p "$out"
if ! make -C "$src" OUT="$out" >"$log" 2>&1; then
	cat "$log"; echo "FAIL: workloads build"; exit 1
fi
if grep -qi 'warning' "$log"; then
	grep -i warning "$log"; echo "FAIL: build warnings"; exit 1
fi

for c in "$src"/*.c; do
	name=$(basename "$c" .c)
	f="$out/$name"
	desc=$(file -b "$f" 2>/dev/null || echo missing)
	case "$desc" in
	*ELF\ 64-bit*RISC-V*statically\ linked*) echo "ok   build $name" ;;
	*) echo "FAIL build $name: $desc"; fail=1 ;;
	esac
done

# check_run NAME EXPECT [ARGS...]: run under qemu-user, grep start and EXPECT.
check_run() {
	name=$1; expect=$2; shift 2
	o=$(timeout 120 qemu-riscv64 "$out/$name" "$@" </dev/null 2>&1)
	if printf '%s\n' "$o" | grep -qF "[machina:$name] start" &&
	   printf '%s\n' "$o" | grep -qF "$expect"; then
		echo "ok   run $name"
	else
		printf '%s\n' "$o" | tail -5; echo "FAIL run $name (wanted: $expect)"; fail=1
	fi
}

if command -v qemu-riscv64 >/dev/null; then
	check_run threads "[machina:threads] done"
	check_run syscalls "[machina:syscalls] getppid calls=10000"
	check_run syscalls "[machina:syscalls] done"
	check_run pagefault "[machina:pagefault] rounds=64 pages=16384"
	check_run pipe "[machina:pipe] done checksum=22779c9a2f0fe61c"
	check_run bench "[machina:bench] done" 1
	o=$(printf 'hi there\nquit\n' | timeout 30 qemu-riscv64 "$out/echo" 2>&1)
	if printf '%s\n' "$o" | grep -qF '[machina:echo] echo: hi there' &&
	   printf '%s\n' "$o" | grep -qF '[machina:echo] done'; then
		echo "ok   run echo"
	else
		echo "FAIL run echo"; fail=1
	fi
	# deadlock must hang after both locks are taken: a timeout is success.
	o=$(timeout 10 qemu-riscv64 "$out/deadlock" 2>&1); rc=$?
	if [ $rc -eq 124 ] && printf '%s\n' "$o" | grep -qF '[machina:deadlock] locked A' &&
	   printf '%s\n' "$o" | grep -qF '[machina:deadlock] locked B'; then
		echo "ok   run deadlock (hung as intended)"
	else
		echo "FAIL run deadlock (rc=$rc)"; fail=1
	fi
else
	echo "skip runs: qemu-riscv64 (qemu-user) not installed"
fi
exit $fail
