#!/usr/bin/env bash
# workloads_machina.sh - every corpus workload runs to its end marker on
# machina with 1 and 4 harts, printing the markers QEMU prints for it;
# `deadlock` is stopped by -max-time with its two threads blocked.
. "$(dirname "$0")/lib/common.sh"
need "$B/machina"; need "$C/Image"

run() { # run NAME SMP [extra machina options]
    local name=$1 smp=$2; shift 2
    timeout 900 "$B/machina" -smp "$smp" "$@" \
        -append "console=ttyS0 earlycon=sbi machina.workload=$name" </dev/null >"$TMP/$name.$smp.out" 2>&1
}

for smp in 1 4; do
    for wl in forkexec threads syscalls pagefault pipe bench; do
        rc=0; run $wl $smp || rc=$?
        [ $rc -eq 0 ] || { tail -20 "$TMP/$wl.$smp.out"; fail "$wl on $smp harts: exit $rc"; }
        expect_in "$TMP/$wl.$smp.out" "[machina:$wl] start" "[machina:$wl] done" \
            "[machina] workload $wl exited with status 0"
        echo "$wl on $smp hart(s): done"
    done
    expect_in "$TMP/syscalls.$smp.out" "getppid calls=10000" "total calls=12000"
    rc=0; run deadlock $smp -max-time 3s || rc=$?
    [ $rc -eq 0 ] || fail "deadlock on $smp harts: exit $rc (expected stop at max-time)"
    expect_in "$TMP/deadlock.$smp.out" "[machina:deadlock] start" "stopped at max-time"
    grep -q "\[machina:deadlock\] done" "$TMP/deadlock.$smp.out" && fail "deadlock finished"
    echo "deadlock on $smp hart(s): blocked until max-time"
done
