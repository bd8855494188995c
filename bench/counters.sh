#!/usr/bin/env bash
# counters.sh - the deterministic counter view of the interpreter: host
# instructions per guest instruction, which (unlike wall time) a busy shared
# machine does not disturb, so optimisations can be judged by it.
#
#   bench/counters.sh [alu|mem|fp|boot|bench ...]  (default: the first four)
#
#   alu, mem, fp  bench/hart_loop's loops on one hart (hart_loop: the integer
#                 loop; mem: loads/stores on one page; fp: the bench
#                 workload's fp phase loop)
#   boot          the corpus Linux from reset to poweroff on 1 hart
#                 (machina.workload=none), guest instructions from --stats
#   bench         the same with the corpus bench workload (~740 M guest
#                 instructions: several minutes under callgrind)
#
# Counts host instructions with `perf stat -e instructions` where the CPU
# counters are available, else with valgrind --tool=callgrind (exact and
# repeatable, ~50x slower; VMs often hide the counters). Prints one line
# per case: guest instructions, host instructions, their ratio.
# Needs MACHINA_BUILD_DIR (default build/) with hart_loop and machina, and
# its corpus/.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${MACHINA_BUILD_DIR:-$SRC/build}
CASES=${*:-alu mem fp boot}
TMP=$(mktemp -d /tmp/machina-counters.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
for c in $CASES; do
    case $c in alu | mem | fp | boot | bench) ;; *) echo "counters.sh: unknown case '$c' (alu, mem, fp, boot, bench)" >&2; exit 2 ;; esac
done
for f in "$B/hart_loop" "$B/machina"; do
    [ -x "$f" ] || { echo "counters.sh: $f missing (build first)" >&2; exit 2; }
done

if perf stat -x, -e instructions:u true 2>&1 >/dev/null | grep -q '^[0-9]'; then
    TOOL=perf
else
    command -v valgrind >/dev/null || { echo "counters.sh: neither CPU counters nor valgrind" >&2; exit 2; }
    TOOL=callgrind
fi

# host_insns CMD...: host instructions of running CMD (its stdout/stderr
# are kept in $TMP/out)
host_insns() {
    if [ $TOOL = perf ]; then
        perf stat -x, -e instructions:u -o "$TMP/perf" "$@" >"$TMP/out" 2>&1
        grep instructions "$TMP/perf" | cut -d, -f1
    else
        valgrind --tool=callgrind --callgrind-out-file="$TMP/cg" --dump-instr=no \
            "$@" >"$TMP/out" 2>"$TMP/vg"
        cat "$TMP/vg" >>"$TMP/out"
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$TMP/vg"
    fi
}

printf '%-6s %14s %16s %12s   (%s)\n' case guest_insns host_insns host/guest $TOOL
for c in $CASES; do
    case $c in
    alu | mem | fp)
        steps=$([ $c = fp ] && echo 3200000 || echo 20000000)
        # the loop alone: subtract a run of one step (setup and teardown)
        h1=$(host_insns "$B/hart_loop" 1 $c)
        h=$(host_insns "$B/hart_loop" $steps $c)
        g=$steps
        h=$((h - h1))
        ;;
    boot | bench)
        wl=$([ $c = boot ] && echo none || echo bench)
        h=$(host_insns "$B/machina" -no-rt --stats -append "console=ttyS0 earlycon=sbi machina.workload=$wl" </dev/null)
        g=$(sed -n 's/^machina: \([0-9]*\) instructions.*/\1/p' "$TMP/out")
        [ -n "$g" ] || { echo "counters.sh: $c: no --stats line" >&2; tail -5 "$TMP/out" >&2; exit 1; }
        ;;
    *) echo "counters.sh: unknown case '$c' (alu, mem, fp, boot, bench)" >&2; exit 2 ;;
    esac
    awk -v c=$c -v g=$g -v h=$h 'BEGIN { printf "%-6s %14.0f %16.0f %12.2f\n", c, g, h, h / g }'
done
