#!/usr/bin/env bash
# index.sh - numbers for the event index (not part of ctest):
#   - indexing speed in guest instructions/s, relative to a plain replay of
#     the whole run (`verify`: the same replay with the same checkpoint hash
#     checks, no hooks);
#   - rows/s into SQLite; database size of the event tables per guest second;
#   - speed-up of --jobs 2 over --jobs 1.
# The hooks-off overhead is measured separately with callgrind (see README,
# "Event tables"): bench/index.sh --overhead NOOBS_BUILD_DIR.
#
# usage: bench/index.sh [BUILD_DIR] [WORKLOAD] [SMP]   (default: build, bench, 2)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$SRC/build}
W=${2:-bench}
N=${3:-2}
T=$(mktemp -d "${TMPDIR:-/tmp}/machina-bench-index.XXXXXX")
trap 'rm -rf "$T"' EXIT
R=$B/machina-replay

"$B/machina" record -o "$T/run.mrr" -smp "$N" \
    -append "console=ttyS0 earlycon=sbi machina.workload=$W" </dev/null >/dev/null 2>"$T/rec.err"
steps=$("$R" "$T/run.mrr" --json info | python3 -c 'import json,sys; print(json.load(sys.stdin)["steps"])')
vns=$("$R" "$T/run.mrr" --json info | python3 -c 'import json,sys; print(json.load(sys.stdin)["vtime_ns"])')
size0=$(stat -c %s "$T/run.mrr")

best() { # best of 3: "wall_seconds cpu_seconds" (cpu = user + sys, children included)
    local bw=999999 bc=999999
    for _ in 1 2 3; do
        /usr/bin/time -f "%e %U %S" -o "$T/time" "$@" >/dev/null 2>&1
        read -r w u s <"$T/time"
        bw=$(python3 -c "print(min($bw, $w))")
        bc=$(python3 -c "print(min($bc, $u + $s))")
    done
    echo "$bw $bc"
}
t_replay=$(best "$R" "$T/run.mrr" verify)
cp "$T/run.mrr" "$T/j1.mrr"
t_j1=$(best "$R" "$T/j1.mrr" index --jobs 1 --force)
t_j2=$(best "$R" "$T/j1.mrr" index --jobs 2 --force)
"$R" "$T/j1.mrr" index --jobs 1 --force >"$T/idx.out"
rows=$(sed -n 's/.* events, \([0-9]*\) rows.*/\1/p' "$T/idx.out")
events=$(sed -n 's/.*job(s): \([0-9]*\) events.*/\1/p' "$T/idx.out")
sqlite_vacuum() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("VACUUM"); c.close()' "$1"; }
cp "$T/run.mrr" "$T/v0.mrr"; sqlite_vacuum "$T/v0.mrr"; sqlite_vacuum "$T/j1.mrr"
dsize=$(( $(stat -c %s "$T/j1.mrr") - $(stat -c %s "$T/v0.mrr") ))

python3 - "$steps" "$vns" "$t_replay" "$t_j1" "$t_j2" "$rows" "$events" "$dsize" "$W" "$N" "$size0" <<'EOF'
import sys
steps, vns = int(sys.argv[1]), int(sys.argv[2])
(tr, cr), (t1, c1), (t2, c2) = (map(float, a.split()) for a in sys.argv[3:6])
rows, events, dsize = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
w, n, size0 = sys.argv[9], sys.argv[10], int(sys.argv[11])
gs = vns / 1e9
print(f"workload {w}, {n} harts: {steps} guest instructions, {gs*1e3:.1f} ms guest time, recording {size0/2**20:.1f} MiB")
print(f"plain replay (verify):  wall {tr:.2f} s ({steps/tr/1e6:.1f} M instr/s), cpu {cr:.2f} s ({steps/cr/1e6:.1f} M instr/s)")
print(f"index --jobs 1:         wall {t1:.2f} s ({steps/t1/1e6:.1f} M instr/s, {tr/t1:.2f} x replay), "
      f"cpu {c1:.2f} s ({steps/c1/1e6:.1f} M instr/s, {cr/c1:.2f} x replay)")
print(f"index --jobs 2:         wall {t2:.2f} s, cpu {c2:.2f} s; wall speed-up over --jobs 1: {t1/t2:.2f} x")
print(f"rows: {rows} ({events} events) -> {rows/t1:.0f} rows/s wall, {rows/c1:.0f} rows/s cpu at --jobs 1")
print(f"event tables: {dsize/2**20:.2f} MiB = {dsize/2**20/gs:.1f} MiB per guest second")
EOF
