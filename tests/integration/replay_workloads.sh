#!/usr/bin/env bash
# replay_workloads.sh - every corpus workload recorded with `machina record`
# on 1 hart (and the multi-threaded, fork and syscall ones, the console one
# and the deadlocks on 4 harts): the recording's `uart` equals the live
# console byte for byte, `verify` passes, and the recording ends where the
# live run ended.
. "$(dirname "$0")/lib/common.sh"
need "$B/machina"; need "$B/machina-replay"; need "$C/Image"

printf 'expect [machina:echo] ready\nsend hello world\nexpect echo: hello world\nsend second line\nexpect echo: second line\nsend quit\n' >"$TMP/echo.script"

rec() { # rec NAME SMP [extra machina options]
    local name=$1 smp=$2; shift 2
    local f="$TMP/$name.$smp"
    local rc=0
    timeout 600 "$B/machina" record -o "$f.mrr" -smp "$smp" "$@" \
        -append "console=ttyS0 earlycon=sbi machina.workload=$name" \
        </dev/null >"$f.live" 2>"$f.err" || rc=$?
    [ $rc -eq 0 ] || { tail -20 "$f.live" "$f.err"; fail "$name on $smp harts: record exit $rc"; }
    case $name in
    deadlock) expect_in "$f.live" "waiting for A" "waiting for B" ;;
    race) expect_in "$f.live" "[machina:race] start" ;;
    echo) expect_in "$f.live" "echo: hello world" "echo: second line" "lines=2" "[machina:echo] done" ;;
    *) expect_in "$f.live" "[machina:$name] done" "[machina] workload $name exited with status 0" ;;
    esac
    rc=0; "$B/machina-replay" "$f.mrr" uart >"$f.uart" 2>"$f.uart.err" || rc=$?
    [ $rc -eq 0 ] || { cat "$f.uart.err"; fail "$name on $smp harts: uart exit $rc"; }
    cmp "$f.live" "$f.uart" || fail "$name on $smp harts: replayed console differs from the live one"
    rc=0; "$B/machina-replay" "$f.mrr" verify >"$f.verify" 2>&1 || rc=$?
    [ $rc -eq 0 ] || { cat "$f.verify"; fail "$name on $smp harts: verify exit $rc"; }
    expect_in "$f.verify" "verify: OK"
    # the recording ends where the live run did
    local n; n=$("$B/machina-replay" "$f.mrr" info | sed -n 's/^at end: i:\([0-9]*\).*/\1/p')
    [ -n "$n" ] || fail "$name on $smp harts: info has no end"
    rm -f "$f.mrr" "$f.mrr-wal" "$f.mrr-shm"
    echo "$name on $smp hart(s): recorded to i:$n, console $(wc -c <"$f.live") bytes identical, $(head -1 "$f.verify")"
}

for wl in forkexec threads syscalls pagefault pipe bench; do rec $wl 1; done
# race either completes or deadlocks, depending on the interleaving (pinned
# by determinism, but any change to the core's timing can move it): bound it.
rec race 1 -max-time 3s
rec echo 1 -serial-script "$TMP/echo.script"
rec deadlock 1 -max-time 3s
for wl in forkexec threads syscalls pipe; do rec $wl 4; done
rec echo 4 -serial-script "$TMP/echo.script"
rec race 4 -max-time 2s
rec deadlock 4 -max-time 3s
