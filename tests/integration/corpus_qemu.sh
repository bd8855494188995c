#!/usr/bin/env bash
# corpus_qemu.sh - the corpus is right, independently of machina: boot the
# corpus Linux under QEMU virt with Debian's OpenSBI, run every workload and
# check its markers, and drive the busybox shell through a terminal.
# These runs are the reference later tests compare machina against.
. "$(dirname "$0")/lib/common.sh"
need "$C/Image"; need "$C/initramfs.cpio"
command -v qemu-system-riscv64 >/dev/null || fail "qemu-system-riscv64 not installed (scripts/setup.sh)"

run_wl() { # run_wl NAME SMP TIMEOUT: boot, run the workload, power off
    local name=$1 smp=$2 t=$3 rc=0
    timeout "$t" bash -c "qemu_linux $smp machina.workload=$name" </dev/null >"$TMP/$name.out" 2>&1 || rc=$?
    echo "$name (smp $smp): exit $rc, $(grep -c '\[machina:' "$TMP/$name.out" || true) markers"
    return $rc
}

for wl in forkexec threads syscalls pagefault pipe bench; do
    run_wl $wl 2 300 || fail "$wl: QEMU did not power off cleanly"
    expect_in "$TMP/$wl.out" "Linux version 6.1" "machina corpus:" "[machina:$wl] start" \
        "[machina:$wl] done" "[machina] workload $wl exited with status 0"
done
expect_in "$TMP/bench.out" "[machina:bench] phase int" "[machina:bench] phase fork"

# deadlock never finishes: both threads hold one lock and wait for the other.
rc=0; run_wl deadlock 2 40 || rc=$?
[ $rc -eq 124 ] || fail "deadlock: expected a hang (timeout), got exit $rc"
expect_in "$TMP/deadlock.out" "[machina:deadlock] start"
grep -q "\[machina:deadlock\] done" "$TMP/deadlock.out" && fail "deadlock: finished"

# race either completes or deadlocks; it must at least start and progress.
rc=0; run_wl race 2 60 || rc=$?
expect_in "$TMP/race.out" "[machina:race] start"

# The shell, with input typed through a terminal.
"$CONSOLE" --timeout 120 --log "$TMP/shell.out" \
    "expect:[machina] shell ready" "send:echo hello-\$((6*7))" "expect:hello-42" \
    "send:ps" "expect:PID" "expect:[kthreadd]" \
    "send:cat /proc/cpuinfo | grep -c ^processor" "expect:2" \
    "send:poweroff -f" wait-exit \
    -- bash -c "qemu_linux 2" \
    || fail "shell session under QEMU failed (status $?)"
expect_in "$TMP/shell.out" "hello-42" "/init"
echo "shell: ps, echo, cpuinfo and poweroff worked"

# echo reads the console and answers.
"$CONSOLE" --timeout 120 --log "$TMP/echo.out" \
    "expect:[machina:echo] start" "send:ping one" "expect:echo: ping one" "send:quit" \
    "expect:[machina:echo] done" wait-exit \
    -- bash -c "qemu_linux 1 machina.workload=echo" \
    || fail "echo workload under QEMU failed"
echo "echo: round trip worked"
echo "corpus_qemu: all passed"
