#!/usr/bin/env bash
# index_syscalls.sh - the event index against ground truth, on a 2-hart
# recording of the `syscalls` workload (corpus/workloads/syscalls.c):
#  - exactly GETPPID_CALLS + 1 getppid rows for the workload's pid (its
#    loop plus the getppid() it makes first to learn the expected value);
#  - the uart table reassembles into the console transcript byte for byte;
#  - every ctxsw row's next task is the next row's prev task on that hart,
#    and at the hart's next trap `ps --at` shows that task as its current;
#  - every UART IRQ row is a complete assert -> trap -> claim -> complete
#    chain, in that order;
#  - sum(mode_sample) = the instructions the run retired;
#  - --jobs 1 and --jobs 2 give identical tables; a second index is a
#    no-op; sql opens read-only and bad SQL is one line and exit 2.
. "$(dirname "$0")/lib/common.sh"
R=$B/machina-replay
need "$B/machina"; need "$C/Image"; need "$C/vmlinux"

timeout 300 "$B/machina" record -o "$TMP/a.mrr" -smp 2 \
    -append "console=ttyS0 earlycon=sbi machina.workload=syscalls" \
    </dev/null >"$TMP/console.txt" 2>"$TMP/record.err" \
    || { cat "$TMP/record.err"; fail "record failed"; }
expect_in "$TMP/console.txt" "[machina:syscalls] done"
cp "$TMP/a.mrr" "$TMP/b.mrr"

timeout 600 "$R" "$TMP/a.mrr" index --jobs 1 >"$TMP/index1.out" 2>&1 \
    || { cat "$TMP/index1.out"; fail "index --jobs 1 failed"; }
timeout 600 "$R" "$TMP/b.mrr" index --jobs 2 >"$TMP/index2.out" 2>&1 \
    || { cat "$TMP/index2.out"; fail "index --jobs 2 failed"; }
cat "$TMP/index1.out" "$TMP/index2.out"
grep -q "dropped" "$TMP/index1.out" && fail "events were dropped"

sql() { "$R" "$TMP/a.mrr" sql "$1" --csv | tail -n +2; }

# --jobs 1 and --jobs 2: identical tables
for t in trap syscall ctxsw irq mmio uart mode_sample page_heat page_fault; do
    "$R" "$TMP/a.mrr" sql "SELECT * FROM $t ORDER BY rowid" --csv >"$TMP/$t.1"
    "$R" "$TMP/b.mrr" sql "SELECT * FROM $t ORDER BY rowid" --csv >"$TMP/$t.2"
    cmp -s "$TMP/$t.1" "$TMP/$t.2" || fail "table $t differs between --jobs 1 and --jobs 2"
    [ "$(wc -l <"$TMP/$t.1")" -gt 1 ] || fail "table $t is empty"
done
echo "--jobs 1 and --jobs 2: identical tables"

# getppid: the workload's own count, from its source
n=$(sed -n 's/.*GETPPID_CALLS = \([0-9]*\).*/\1/p' "$MACHINA_SOURCE_DIR/corpus/workloads/syscalls.c")
[ -n "$n" ] || fail "cannot read GETPPID_CALLS from syscalls.c"
pid=$(sql "SELECT DISTINCT pid FROM syscall WHERE comm = 'syscalls'")
[ "$(echo "$pid" | wc -l)" = 1 ] && [ -n "$pid" ] || fail "expected one syscalls pid, got: $pid"
got=$(sql "SELECT count(*) FROM syscall WHERE name = 'getppid' AND pid = $pid")
[ "$got" = $((n + 1)) ] || fail "getppid rows for pid $pid: $got, expected $((n + 1))"
bad=$(sql "SELECT count(*) FROM syscall WHERE name = 'getppid' AND pid = $pid AND (ret IS NULL OR latency_ns <= 0)")
[ "$bad" = 0 ] || fail "$bad getppid rows without a return"
echo "getppid: $got rows for pid $pid"

# uart: the transcript, byte for byte
"$R" "$TMP/a.mrr" uart >"$TMP/transcript" 2>/dev/null
sql "SELECT byte FROM uart WHERE direction = 'tx' ORDER BY rowid" |
    python3 -c 'import sys; sys.stdout.buffer.write(bytes(int(l) for l in sys.stdin))' >"$TMP/from_uart"
cmp "$TMP/transcript" "$TMP/from_uart" || fail "the uart table does not reassemble into the transcript"
echo "uart: $(wc -c <"$TMP/from_uart") bytes match the transcript"

# ctxsw: a consistent chain per hart ...
broken=$(sql "SELECT count(*) FROM ctxsw c WHERE c.next_task != (SELECT d.prev_task FROM ctxsw d
    WHERE d.hart = c.hart AND d.rowid > c.rowid ORDER BY d.rowid LIMIT 1)")
[ "$broken" = 0 ] || fail "$broken ctxsw rows whose next task is not the next switch's prev task"
nullpid=$(sql "SELECT count(*) FROM ctxsw WHERE next_pid IS NULL OR prev_pid IS NULL")
[ "$nullpid" = 0 ] || fail "$nullpid ctxsw rows without pids"
# ... and `ps` agrees at the hart's next trap (a sample of 8 rows)
sql "SELECT c.hart, c.next_pid, (SELECT min(t.icount) FROM trap t WHERE t.hart = c.hart AND
        t.icount > c.icount) AS nt FROM ctxsw c WHERE nt < coalesce((SELECT min(d.icount) FROM
        ctxsw d WHERE d.hart = c.hart AND d.icount > c.icount), 1e18)
     AND c.rowid % ((SELECT count(*) FROM ctxsw) / 24 + 1) = 0" >"$TMP/sample"
[ "$(wc -l <"$TMP/sample")" -ge 4 ] || fail "too few ctxsw rows to check"
while IFS=, read -r hart npid at; do
    "$R" "$TMP/a.mrr" --at "i:$at" --json ps >"$TMP/ps.json" 2>&1 || { cat "$TMP/ps.json"; fail "ps --at i:$at"; }
    cur=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([h["pid"] for h in d["harts"] if h["hart"]==int(sys.argv[2])][0])' "$TMP/ps.json" "$hart")
    [ "$cur" = "$npid" ] || fail "ctxsw on hart $hart to pid $npid, but ps at i:$at shows pid $cur running"
done <"$TMP/sample"
echo "ctxsw: chains consistent; ps agrees on $(wc -l <"$TMP/sample") sampled switches"

# IRQ chains for the UART
uirq=$(sql "SELECT count(*) FROM irq WHERE device = 'uart'")
[ "$uirq" -gt 0 ] || fail "no UART IRQ rows"
bad=$(sql "SELECT count(*) FROM irq WHERE device = 'uart' AND NOT (assert_icount <= trap_icount
    AND trap_icount <= claim_icount AND claim_icount <= complete_icount)")
[ "$bad" = 0 ] || fail "$bad UART IRQ rows are not complete assert->trap->claim->complete chains"
echo "irq: $uirq complete UART chains"

# mode samples add up to the instructions retired
steps=$("$R" "$TMP/a.mrr" --json info | python3 -c 'import json,sys; print(json.load(sys.stdin)["steps"])')
sum=$(sql "SELECT sum(u + s + m) FROM mode_sample")
[ "$sum" = "$steps" ] || fail "sum(mode_sample) = $sum, the run retired $steps"
echo "mode_sample: $sum = steps retired"

# re-running is a no-op; sql is read-only; errors are one line
"$R" "$TMP/a.mrr" index | grep -q "already indexed" || fail "a second index was not a no-op"
set +e
"$R" "$TMP/a.mrr" sql "DELETE FROM trap" >"$TMP/ro.out" 2>&1; rc=$?
"$R" "$TMP/a.mrr" sql "SELEC nonsense" >"$TMP/bad.out" 2>&1; rc2=$?
set -e
[ $rc = 2 ] && grep -q "readonly" "$TMP/ro.out" || { cat "$TMP/ro.out"; fail "sql could write"; }
[ $rc2 = 2 ] && [ "$(wc -l <"$TMP/bad.out")" = 1 ] || { cat "$TMP/bad.out"; fail "bad SQL: expected one line and exit 2"; }
"$R" "$TMP/a.mrr" verify >/dev/null || fail "the indexed recording no longer verifies"
echo "PASS"
