#!/usr/bin/env bash
# bench_compare.sh - the benchmark commands of bench/ work end to end, on
# short cases: compare.py (machina and QEMU alternately, markdown + JSON)
# and the argument checks of compare.py and counters.sh. The numbers
# themselves are not checked (a shared machine makes wall times noisy),
# only that each run finished and was measured.
. "$(dirname "$0")/lib/common.sh"
need "$C/Image"; need "$C/initramfs.cpio"
command -v qemu-system-riscv64 >/dev/null || fail "qemu-system-riscv64 not installed (scripts/setup.sh)"
S=$MACHINA_SOURCE_DIR/bench

MACHINA_BUILD_DIR=$B MACHINA_CORPUS_DIR=$C python3 "$S/compare.py" --reps 1 \
    --cases boot-1,shell-1 --no-prompt-count --json "$TMP/b.json" --md "$TMP/b.md" \
    >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err"; fail "compare.py failed"; }
expect_in "$TMP/b.md" "| case | machina s | QEMU s | ratio machina/QEMU | machina MIPS |" \
    "| boot-1 |" "| shell-1 |"
python3 - "$TMP/b.json" <<'PY' || fail "compare.py: bad JSON"
import json, sys
d = json.load(open(sys.argv[1]))
rows = {r["case"]: r for r in d["results"]}
assert set(rows) == {"boot-1", "shell-1"}, rows.keys()
for r in rows.values():
    assert r["machina_s"]["median"] > 0 and r["qemu_s"]["median"] > 0 and r["ratio"] > 0, r
# boot to poweroff runs the whole corpus boot: tens of millions of instructions
assert rows["boot-1"]["guest_insns"] > 10_000_000, rows["boot-1"]
print("compare.py: boot-1 ratio %.2f, shell-1 ratio %.2f" % (rows["boot-1"]["ratio"], rows["shell-1"]["ratio"]))
PY

# a wrong case or option is one line on stderr and a non-zero status
rc=0; python3 "$S/compare.py" --cases nosuch-1 >/dev/null 2>"$TMP/e1" || rc=$?
[ $rc -ne 0 ] && grep -q "unknown case 'nosuch-1'" "$TMP/e1" || fail "compare.py accepted a bad case"
rc=0; MACHINA_BUILD_DIR=$B "$S/counters.sh" nosuch >/dev/null 2>"$TMP/e2" || rc=$?
[ $rc -eq 2 ] && grep -q "unknown case 'nosuch'" "$TMP/e2" || fail "counters.sh accepted a bad case"
echo "bench_compare: all passed"
