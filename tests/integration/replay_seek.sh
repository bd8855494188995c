#!/usr/bin/env bash
# replay_seek.sh - time travel in a recording is exact and does not depend
# on where the replay starts (DESIGN.md section 4):
#  - `verify --segments`: every segment replayed from its own restored
#    checkpoint (full or delta) reaches the recorded hash of the next one
#    and of the end, on 4 harts and on 2 harts with console input;
#  - `regs --at T` twice, and from other starting checkpoints
#    (--from-checkpoint K, MACHINA_RR_START=K), gives identical registers,
#    for instruction counts between checkpoints and for times;
#  - `uart --at T` is a prefix of the live console and does not depend on
#    the starting checkpoint either.
# (regs answers are cached in the recording by the inspect commands, so
# every regs query here runs on a fresh copy of the recording.)
. "$(dirname "$0")/lib/common.sh"
need "$B/machina"; need "$B/machina-replay"; need "$C/Image"

rec() { # rec FILE NAME SMP [options]
    local f=$1 name=$2 smp=$3; shift 3
    timeout 600 "$B/machina" record -o "$f" -smp "$smp" "$@" \
        -append "console=ttyS0 earlycon=sbi machina.workload=$name" \
        </dev/null >"$f.live" 2>"$f.err" || { tail "$f.err"; fail "record $name"; }
}
segments() { # segments FILE
    local rc=0
    "$B/machina-replay" "$1" verify --segments >"$1.seg" 2>&1 || rc=$?
    [ $rc -eq 0 ] || { cat "$1.seg"; fail "$1: verify --segments exit $rc"; }
    expect_in "$1.seg" "verify: OK:" "segments, each replayed from its own restored checkpoint"
    echo "$(basename "$1"): $(head -1 "$1.seg")"
}
n=0
regs() { # regs FILE T [replay options]: regs on a fresh copy, to stdout
    local f=$1 t=$2; shift 2
    n=$((n + 1)); cp "$f" "$TMP/copy$n.mrr"
    "$B/machina-replay" "$TMP/copy$n.mrr" --at "$t" "$@" regs || fail "regs --at $t $* exit $?"
    rm -f "$TMP/copy$n.mrr"*
}
same_regs() { # same_regs FILE T: regs at T agree however the replay starts
    local f=$1 t=$2
    regs "$f" "$t" >"$TMP/a" ; regs "$f" "$t" >"$TMP/b"
    cmp "$TMP/a" "$TMP/b" || fail "regs --at $t differ between two runs"
    regs "$f" "$t" --from-checkpoint 0 >"$TMP/c"
    cmp "$TMP/a" "$TMP/c" || { diff "$TMP/a" "$TMP/c" | head; fail "regs --at $t from checkpoint 0 differ"; }
    regs "$f" "$t" --from-checkpoint 3 >"$TMP/d"
    cmp "$TMP/a" "$TMP/d" || { diff "$TMP/a" "$TMP/d" | head; fail "regs --at $t from checkpoint 3 differ"; }
    MACHINA_RR_START=5 regs "$f" "$t" >"$TMP/e"
    cmp "$TMP/a" "$TMP/e" || { diff "$TMP/a" "$TMP/e" | head; fail "regs --at $t from MACHINA_RR_START=5 differ"; }
    grep -q '^hart 0: pc' "$TMP/a" || { head "$TMP/a"; fail "regs --at $t: no hart 0"; }
    echo "regs --at $t: identical from the nearest checkpoint (twice) and from checkpoints 0, 3, 5: $(head -1 "$TMP/a")"
}

# 4 harts, many checkpoints, deltas between fulls
F=$TMP/threads4.mrr
rec "$F" threads 4 -checkpoint-every 3000000 -full-every 8
segments "$F"
same_regs "$F" i:100000123
same_regs "$F" 50ms

# 2 harts with console input spread over the segments
printf 'expect [machina:echo] ready\nsend hello world\nexpect echo: hello world\nsend second line\nexpect echo: second line\nsend quit\n' >"$TMP/echo.script"
E=$TMP/echo2.mrr
rec "$E" echo 2 -checkpoint-every 2000000 -full-every 5 -serial-script "$TMP/echo.script"
segments "$E"
# an instant after the first line was echoed, before the second was typed
first=$(sqlite3 "$E" "select min(icount) from input")
second=$(sqlite3 "$E" "select icount from input where seq = (select min(seq) from input where value = 10) + 1")
[ -n "$first" ] && [ "$first" -lt "$second" ] || fail "echo: expected the lines at two instants ($first, $second)"
mid=$(( second - 1003 ))
same_regs "$E" "i:$mid"
# uart at an instant: a prefix of the live console, whatever the start
"$B/machina-replay" "$E" --at "i:$mid" uart >"$TMP/u1" 2>/dev/null || fail "uart --at i:$mid"
"$B/machina-replay" "$E" --at "i:$mid" --from-checkpoint 0 uart >"$TMP/u2" 2>/dev/null \
    || fail "uart --at i:$mid --from-checkpoint 0"
cmp "$TMP/u1" "$TMP/u2" || fail "uart --at i:$mid differs with the starting checkpoint"
cmp -n "$(wc -c <"$TMP/u1")" "$TMP/u1" "$E.live" || fail "uart --at i:$mid is not a prefix of the live console"
grep -qF "echo: hello world" "$TMP/u1" || fail "uart --at i:$mid lacks the first echoed line"
grep -qF "echo: second line" "$TMP/u1" && fail "uart --at i:$mid already has the last line"
"$B/machina-replay" "$E" uart >"$TMP/u3" 2>/dev/null && cmp "$TMP/u3" "$E.live" \
    || fail "uart at the end differs from the live console"
echo "uart --at i:$mid: $(wc -c <"$TMP/u1") bytes, a prefix of the live console, the same from checkpoint 0"
# a checkpoint that does not exist is refused
rc=0; "$B/machina-replay" "$E" --at 10ms --from-checkpoint 999 uart >/dev/null 2>"$TMP/err" || rc=$?
[ $rc -ne 0 ] && [ $rc -lt 128 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "no such checkpoint" "$TMP/err" \
    || { cat "$TMP/err"; fail "--from-checkpoint 999: exit $rc"; }
echo "--from-checkpoint 999: $(cat "$TMP/err")"
