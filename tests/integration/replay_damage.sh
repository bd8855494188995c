#!/usr/bin/env bash
# replay_damage.sh - recordings that are perturbed, cut short or damaged:
#  - MACHINA_RR_PERTURB=N (flip input N) makes verify fail with exit 1 and
#    name the first divergent checkpoint, step and component;
#  - kill -9 of `machina record` (an idle interactive shell under -rt, and
#    a busy workload) leaves a file that info, verify, --at and uart accept
#    up to its last committed checkpoint;
#  - truncated files, checkpoint blobs changed with sqlite3 and raw byte
#    flips, a wrong state hash, format version 99 and a missing file give
#    one clear line on stderr and exit 1 (2 for an unreadable file), never
#    a crash.
# MACHINA_REPLAY may name another machina-replay (e.g. an ASan build).
. "$(dirname "$0")/lib/common.sh"
need "$B/machina"; need "$C/Image"
RP=${MACHINA_REPLAY:-$B/machina-replay}
need "$RP"
command -v sqlite3 >/dev/null || fail "the sqlite3 CLI is needed"

# expect_err WANT_RC TEXT FILE ARGS...: machina-replay FILE ARGS fails with
# WANT_RC and one line on stderr containing TEXT
expect_err() {
    local want=$1 text=$2 f=$3; shift 3
    local rc=0
    "$RP" "$f" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
    [ $rc -eq "$want" ] || { cat "$TMP/err"; fail "$(basename "$f") $*: exit $rc, expected $want"; }
    [ "$(wc -l <"$TMP/err")" -eq 1 ] || { cat "$TMP/err"; fail "$(basename "$f") $*: expected one line on stderr"; }
    grep -qF -- "$text" "$TMP/err" || { cat "$TMP/err"; fail "$(basename "$f") $*: expected '$text'"; }
}
# no_crash FILE ARGS...: exit 0, 1 or 2; at most one line on stderr; a
# failure says why (on stderr, or verify's report on stdout)
no_crash() {
    local f=$1; shift
    local rc=0
    "$RP" "$f" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
    [ $rc -le 2 ] || { cat "$TMP/err"; fail "$(basename "$f") $*: exit $rc (crash?)"; }
    [ "$(wc -l <"$TMP/err")" -le 1 ] || { cat "$TMP/err"; fail "$(basename "$f") $*: more than one line on stderr"; }
    [ $rc -eq 0 ] || [ -s "$TMP/err" ] || grep -q "^verify: D" "$TMP/out" \
        || fail "$(basename "$f") $*: exit $rc without a reason"
    return 0
}
fresh() { rm -f "$TMP/x.mrr"*; cp "$E" "$TMP/x.mrr"; }

# a recording with console input and many checkpoints
printf 'expect [machina:echo] ready\nsend hello world\nexpect echo: hello world\nsend second line\nexpect echo: second line\nsend quit\n' >"$TMP/echo.script"
E=$TMP/echo.mrr
"$B/machina" record -o "$E" -checkpoint-every 1000000 -full-every 20 -serial-script "$TMP/echo.script" \
    -append "console=ttyS0 earlycon=sbi machina.workload=echo" </dev/null >"$E.live" 2>"$E.err" \
    || { cat "$E.err"; fail "record echo"; }
"$RP" "$E" verify >/dev/null || fail "echo recording does not verify"
nck=$(sqlite3 "$E" "select count(*) from checkpoint")
[ "$nck" -ge 10 ] || fail "expected at least 10 checkpoints, got $nck"

# ---- perturbed replay ----------------------------------------------------------
in3=$(sqlite3 "$E" "select icount from input where seq = 3")
k=$(sqlite3 "$E" "select min(seq) from checkpoint where icount > $in3")
rc=0; MACHINA_RR_PERTURB=3 "$RP" "$E" verify >"$TMP/perturb" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$TMP/perturb"; fail "perturbed verify: exit $rc, expected 1"; }
[ -n "$k" ] || fail "no checkpoint after input 3 (at i:$in3)"
expect_in "$TMP/perturb" "verify: DIVERGED at i:" "checkpoint $k at i:" "MACHINA_RR_PERTURB: input #3" \
    "first divergent step: i:" "differences at i:"
grep -A3 "differences at i:" "$TMP/perturb" | grep -qE "uart|hart [0-9]|page|csr|device" \
    || { cat "$TMP/perturb"; fail "perturbed verify names no component"; }
echo "perturbed verify (input 3 at i:$in3): exit 1, $(grep -o 'checkpoint [0-9]* at i:[0-9]*' "$TMP/perturb" | head -1), $(grep -o 'first divergent step: i:[0-9]*' "$TMP/perturb"), $(grep -A1 'differences at i:' "$TMP/perturb" | tail -1 | sed 's/^ *//')"

# ---- kill -9 while recording -------------------------------------------------------
killed() { # killed FILE: checks a recording whose recorder was killed
    local f=$1
    "$RP" "$f" info >"$TMP/info" || fail "killed recording: info exit $?"
    expect_in "$TMP/info" "cut short: ends at its last checkpoint"
    "$RP" "$f" verify >"$TMP/v" || { cat "$TMP/v"; fail "killed recording: verify"; }
    local end; end=$(sed -n 's/^at end: i:\([0-9]*\).*/\1/p' "$TMP/info")
    "$RP" "$f" --at "i:$((end / 2 + 11))" uart >"$TMP/u" 2>/dev/null || fail "killed recording: --at uart"
    cmp -n "$(wc -c <"$TMP/u")" "$TMP/u" "$f.live" || fail "killed recording: uart is not a prefix of the live console"
    "$RP" "$f" uart >"$TMP/u2" 2>/dev/null || fail "killed recording: uart at the end"
    cmp -n "$(wc -c <"$TMP/u2")" "$TMP/u2" "$f.live" || fail "killed recording: uart at the end is not a prefix"
    rm -f "$TMP/c.mrr"*; cp "$f" "$TMP/c.mrr"; [ -e "$f-wal" ] && cp "$f-wal" "$TMP/c.mrr-wal"
    "$RP" "$TMP/c.mrr" --at end regs >"$TMP/r" || fail "killed recording: regs --at end"
    echo "killed $(basename "$f"): ends at i:$end, $(head -1 "$TMP/v")"
}
K=$TMP/idle.mrr
mkfifo "$TMP/in"
"$B/machina" record -rt -checkpoint-every 5000000 -o "$K" <"$TMP/in" >"$K.live" 2>"$K.err" &
pid=$!
exec 3>"$TMP/in" # the terminal stays open: the shell waits for input
for i in $(seq 600); do grep -q "shell ready" "$K.live" 2>/dev/null && break; sleep 0.1; done
grep -q "shell ready" "$K.live" || fail "the shell did not start"
sleep 1
kill -9 $pid; { wait $pid; } 2>/dev/null || true
exec 3>&-
killed "$K"
W=$TMP/busy.mrr
"$B/machina" record -no-rt -checkpoint-every 5000000 -o "$W" \
    -append "console=ttyS0 earlycon=sbi machina.workload=bench" </dev/null >"$W.live" 2>"$W.err" &
pid=$!
for i in $(seq 600); do
    [ "$(sqlite3 "$W" "select count(*) from checkpoint" 2>/dev/null || echo 0)" -ge 20 ] && break
    sleep 0.1
done
kill -9 $pid; { wait $pid; } 2>/dev/null || true
killed "$W"

# ---- SIGTERM while recording: the machine stops at the next round boundary and the
# recording is complete up to there (exit 128 + 15). The guest hangs for certain
# (the deadlock workload; whether the race workload hangs depends on the corpus
# build: its initramfs carries the files' times, so each clone's differs)
T=$TMP/term.mrr
"$B/machina" record -no-rt -o "$T" -append "console=ttyS0 earlycon=sbi machina.workload=deadlock" \
    </dev/null >"$T.live" 2>"$T.err" &
pid=$!
for i in $(seq 600); do
    [ "$(sqlite3 "$T" "select count(*) from checkpoint" 2>/dev/null || echo 0)" -ge 5 ] && break
    kill -0 $pid 2>/dev/null || break # ended by itself: said below, with its messages
    sleep 0.1
done
kill -TERM $pid 2>/dev/null || { cat "$T.err"; fail "SIGTERM while recording: the recorder had already ended"; }
rc=0; wait $pid || rc=$?
[ $rc -eq 143 ] || { cat "$T.err"; fail "SIGTERM while recording: exit $rc, expected 143"; }
expect_in "$T.err" "machina: recorded $T: i:" "machina: stopped by SIGTERM at i:"
[ ! -e "$T-wal" ] || fail "SIGTERM while recording: the WAL was left behind"
"$RP" "$T" info >"$TMP/info" || fail "SIGTERM recording: info exit $?"
expect_in "$TMP/info" "ended: stopped by the user"
end=$(sed -n 's/^at end: i:\([0-9]*\).*/\1/p' "$TMP/info")
grep -q "stopped by SIGTERM at i:$end\$" "$T.err" || fail "SIGTERM recording: the end is not where the machine stopped"
"$RP" "$T" verify >"$TMP/v" || { cat "$TMP/v"; fail "SIGTERM recording: verify"; }
"$RP" "$T" uart | cmp - "$T.live" || fail "SIGTERM recording: uart differs from the live console"
echo "SIGTERM while recording: exit 143, ended at i:$end, $(head -1 "$TMP/v")"

# ---- truncated files -----------------------------------------------------------------
sz=$(stat -c %s "$E")
for n in 0 100 4096 12288 $((sz / 3)) $((sz / 2)) $((sz - 4096)) $((sz - 1)); do
    fresh; truncate -s $n "$TMP/x.mrr"
    for cmd in info verify "--at 30ms uart" "--at i:60000000 regs"; do
        expect_err 1 "machina-replay: $TMP/x.mrr: " "$TMP/x.mrr" $cmd
    done
    echo "truncated to $n bytes: $(cat "$TMP/err")"
done

# ---- checkpoint blobs changed with sqlite3 -------------------------------------------
# Byte 1000 and the last literal of the LZ4 frame (before its 4-byte end
# mark) flipped. The frames carry no checksums of their own (the snapshot's
# seal covers its contents), and a flip in a match offset may well decode to
# the same bytes (another run of zeros): harmless, and not what this checks;
# a block's last bytes are always literals, so that flip changes the content.
for seq in 0 7; do
    fresh
    sqlite3 "$TMP/x.mrr" "UPDATE checkpoint SET data = substr(data, 1, 999) ||
        CASE WHEN substr(data, 1000, 1) = X'00' THEN X'01' ELSE X'00' END ||
        substr(data, 1001, length(data) - 1005) ||
        CASE WHEN substr(data, -5, 1) = X'00' THEN X'01' ELSE X'00' END || substr(data, -4)
        WHERE seq = $seq"
    at=$(sqlite3 "$TMP/x.mrr" "select icount + 1000 from checkpoint where seq = $seq")
    no_crash "$TMP/x.mrr" info
    rc=0; "$RP" "$TMP/x.mrr" verify >"$TMP/v" 2>&1 || rc=$?
    [ $rc -eq 1 ] || { cat "$TMP/v"; fail "blob $seq flipped: verify exit $rc"; }
    expect_in "$TMP/v" "verify: DAMAGED: checkpoint $seq (i:" "is corrupt"
    expect_err 1 "checkpoint $seq (i:" "$TMP/x.mrr" --at "i:$at" uart
    echo "checkpoint $seq blob changed: verify: $(head -1 "$TMP/v"); --at: $(cat "$TMP/err")"
done
fresh
sqlite3 "$TMP/x.mrr" "UPDATE checkpoint SET data = zeroblob(length(data)) WHERE seq = 3"
expect_err 1 "checkpoint 3 (i:" "$TMP/x.mrr" --at "i:$(sqlite3 "$E" "select icount + 5 from checkpoint where seq = 3")" uart
fresh
sqlite3 "$TMP/x.mrr" "UPDATE checkpoint SET state_hash = '0123456789abcdef' WHERE seq = 5"
rc=0; "$RP" "$TMP/x.mrr" verify >"$TMP/v" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$TMP/v"; fail "changed hash: verify exit $rc"; }
expect_in "$TMP/v" "verify: DIVERGED" "checkpoint 5 at i:" "recorded 0123456789abcdef"
expect_err 1 "checkpoint 5 (i:" "$TMP/x.mrr" --at "i:$(sqlite3 "$E" "select icount + 5 from checkpoint where seq = 5")" uart
echo "checkpoint 5 hash changed: $(head -1 "$TMP/v"); --at: $(cat "$TMP/err")"

# ---- raw byte flips ---------------------------------------------------------------------
ps=$(sqlite3 "$E" "pragma page_size")
pages=$(sqlite3 "$E" "select pageno from dbstat where name = 'checkpoint' and pagetype = 'overflow'
    order by pageno limit 3 offset 100")
[ -n "$pages" ] || fail "no checkpoint overflow pages found"
fresh
for p in $pages; do
    off=$(( (p - 1) * ps + ps / 2 ))
    printf '\xa5\x5a\xff' | dd of="$TMP/x.mrr" bs=1 seek=$off conv=notrunc status=none
done
rc=0; "$RP" "$TMP/x.mrr" verify >"$TMP/v" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$TMP/v"; fail "raw flips in checkpoint pages: verify exit $rc"; }
expect_in "$TMP/v" "verify: DAMAGED: checkpoint"
for cmd in info "--at end uart" "--at 30ms regs"; do no_crash "$TMP/x.mrr" $cmd; done
echo "raw flips in checkpoint pages $(echo $pages): $(head -1 "$TMP/v")"
RANDOM=7
for i in $(seq 12); do
    fresh
    off=$(( (RANDOM * 32768 + RANDOM) % sz ))
    printf '\xff\x00\xa5\x5a' | dd of="$TMP/x.mrr" bs=1 seek=$off conv=notrunc status=none
    for cmd in info verify "--at 40ms uart"; do no_crash "$TMP/x.mrr" $cmd; done
done
echo "12 random 4-byte flips: no crash, one line on failure"

# ---- a newer format, a missing file ---------------------------------------------------
fresh
sqlite3 "$TMP/x.mrr" "UPDATE meta SET value = '99' WHERE key = 'format_version'"
for cmd in info verify "--at 30ms uart" "--at 30ms regs"; do
    expect_err 1 "recording format version 99 is newer than this build supports" "$TMP/x.mrr" $cmd
done
echo "format version 99: $(cat "$TMP/err")"
expect_err 2 "cannot open" "$TMP/missing.mrr" info
echo "missing file: $(cat "$TMP/err")"
