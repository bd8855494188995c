#!/usr/bin/env bash
# introspect_ps.sh - machina-replay's view of Linux agrees with the guest's
# own view, on 1 and 2 harts.
#
# The guest prints /proc/[0-9]*/stat (and later /proc/1/maps); the test
# finds the instant the last byte of that output left the UART (bisecting
# `uart --at i:N`), runs `ps --at` there and requires the same PIDs, PPIDs,
# comm and state letters (apart from cat itself, which printed the list; a
# state that differs there is compared again just after the guest printed
# that task's own line, as a task may change state while cat prints;
# a workqueue worker's comm in /proc carries "-<workqueue>" after the
# task's comm, as wq_worker_comm() adds it). Then `pt 1` must map only
# pages inside sh's VMAs from /proc/1/maps, with consistent permissions.
# Also: a second `ps` at the same instant comes from the recording's cache;
# bad vmlinux files and bad expressions give one clear line and exit 1.
. "$(dirname "$0")/lib/common.sh"
need "$B/machina"; need "$B/machina-replay"; need "$C/vmlinux"
R="$B/machina-replay"
export MACHINA_CACHE_DIR="$TMP/cache" # a cold DWARF and vmlinux cache

cat >"$TMP/script" <<'EOF'
expect shell ready
send sleep 1000 &
expect # 
send cat /proc/[0-9]*/stat
expect # 
send cat /proc/1/maps
expect # 
send poweroff -f
EOF

for n in 1 2; do
    rec="$TMP/ps$n.mrr"
    timeout 600 nice "$B/machina" record -o "$rec" -smp $n -serial-script "$TMP/script" \
        </dev/null >"$TMP/rec$n.out" 2>"$TMP/rec$n.err" \
        || { tail -20 "$TMP/rec$n.err"; fail "smp $n: record failed"; }
    python3 - "$R" "$rec" "$n" <<'EOF' || fail "smp $n: machina-replay disagrees with the guest"
import json, re, subprocess, sys
R, rec, n = sys.argv[1], sys.argv[2], sys.argv[3]

def run(*args, ok=True):
    p = subprocess.run([R, rec, *args], capture_output=True)
    if ok and p.returncode != 0:
        sys.exit(f"machina-replay {' '.join(args)}: exit {p.returncode}: {p.stderr.decode()}")
    return p

info = json.loads(run("--json", "info").stdout)
end = info["steps"]

def block(cmd):
    """The output of the command line `cmd`: (first, end) byte offsets in the
    raw transcript (CRLF), and its lines."""
    raw = run("uart").stdout.decode("latin-1")
    i = raw.index(cmd + "\r\n") + len(cmd) + 2
    j = raw.index("/ # ", i)
    return i, j, raw[i:j].replace("\r\n", "\n").splitlines()

def instant_after(offset):
    """Smallest i:N at which the console transcript holds offset bytes."""
    lo, hi = 0, end
    while lo < hi:
        mid = (lo + hi) // 2
        p = run("--at", f"i:{mid}", "uart")
        if len(p.stdout) >= offset:
            hi = mid
        else:
            lo = mid + 1
    return lo

# ---- ps against /proc/[0-9]*/stat ------------------------------------------------
first, stop, lines = block("cat /proc/[0-9]*/stat")
guest, line_end, off = {}, {}, first
for l in lines:
    off += len(l.encode("latin-1")) + 2  # the line and its CRLF
    m = re.match(r"(\d+) \((.*)\) (\S) (-?\d+) ", l)
    if m:  # (other lines: the echo of input typed ahead)
        guest[int(m[1])] = (m[2], m[3], int(m[4]))
        line_end[int(m[1])] = off
at = instant_after(stop)
ps = json.loads(run("--at", f"i:{at}", "--json", "ps").stdout)
mine = {t["pid"]: t for t in ps["tasks"] if t["pid"] != 0}
# The shell expands the glob before it forks cat, so neither cat nor any
# task born after that instant is in the guest's list: they are the tasks
# with a PID above the guest's largest (PIDs are allocated in order).
newest = max(guest)
cat = [p for p in mine if p > newest]
if not any(mine[p]["comm"] == "cat" for p in cat):
    sys.exit(f"the reader (cat) is not among the tasks born after the glob: {cat}")
bad = []
for pid, (comm, state, ppid) in sorted(guest.items()):
    t = mine.get(pid)
    if not t:
        bad.append(f"pid {pid} ({comm}) missing from machina's ps")
        continue
    c = t["comm"]
    if not (comm == c or (c.startswith("kworker/") and comm.startswith(c + "-"))):
        bad.append(f"pid {pid}: comm {c!r}, guest says {comm!r}")
    if t["ppid"] != ppid:
        bad.append(f"pid {pid} ({comm}): ppid {t['ppid']}, guest says {ppid}")
    if t["state"] != state:
        # A task can change state while cat is still printing the others
        # (on 2 harts a kworker woken by that very output): then compare at
        # the instant just after the guest printed this task's own line.
        at_line = instant_after(line_end[pid])
        ps_line = json.loads(run("--at", f"i:{at_line}", "--json", "ps").stdout)
        t2 = next((x for x in ps_line["tasks"] if x["pid"] == pid), None)
        if not t2 or t2["state"] != state:
            bad.append(f"pid {pid} ({comm}): state {t['state']} (and "
                       f"{t2['state'] if t2 else 'absent'} at i:{at_line}, just after its "
                       f"line), guest says {state}")
for pid in mine:
    if pid not in guest and pid not in cat:
        bad.append(f"pid {pid} ({mine[pid]['comm']}) is not in the guest's list")
if bad:
    sys.exit(f"smp {n} at i:{at}:\n  " + "\n  ".join(bad))
print(f"smp {n}: ps at {ps['at']} agrees with /proc on {len(guest)} processes")
if len(ps["harts"]) != int(n):
    sys.exit(f"expected {n} harts in ps, got {len(ps['harts'])}")

# the same question again comes from the cache, with the same answer
again = json.loads(run("--at", f"i:{at}", "--json", "ps").stdout)
if again != ps:
    sys.exit("a cached ps differs from the computed one")

# ---- pt 1 against /proc/1/maps ---------------------------------------------------
_, stop, lines = block("cat /proc/1/maps")
vmas = []
for l in lines:
    f = l.split()
    if not re.match(r"[0-9a-f]+-[0-9a-f]+ [-r][-w][-x][ps] ", l):
        continue  # input typed ahead, echoed
    lo_, hi_ = (int(x, 16) for x in f[0].split("-"))
    vmas.append((lo_, hi_, f[1], f[5] if len(f) > 5 else ""))
at = instant_after(stop)
pt = json.loads(run("--at", f"i:{at}", "--json", "pt", "1").stdout)
if not pt["ranges"]:
    sys.exit("pt 1: no mapped ranges")
pages = 0
for r in pt["ranges"]:
    va, ve, perm = int(r["va"], 16), int(r["va_end"], 16), r["perm"]
    ps_ = r["page_size"]
    for a in range(va, ve, ps_):
        v = [x for x in vmas if x[0] <= a < x[1]]
        if not v:
            sys.exit(f"pt 1: page {a:#x} ({perm}) lies in no VMA of /proc/1/maps")
        lo_, hi_, vp, name = v[0]
        if "u" not in perm:
            sys.exit(f"pt 1: user page {a:#x} without U")
        for bit, want in (("r", "r"), ("w", "w"), ("x", "x")):
            if bit in perm and want not in vp:
                sys.exit(f"pt 1: page {a:#x} is {perm} but its VMA {lo_:#x}-{hi_:#x} {name} is {vp}")
        pages += 1
print(f"smp {n}: pt 1 at i:{at}: {pages} pages in {len(pt['ranges'])} ranges, all inside "
      f"{len(vmas)} VMAs with consistent permissions")
EOF
done

# ---- bad input -------------------------------------------------------------------
rec="$TMP/ps1.mrr"
bad() { # bad EXPECTED-TEXT ARGS...: exit status 1 and one line naming the problem
    local want=$1; shift
    if "$R" "$rec" "$@" >"$TMP/bad.out" 2>"$TMP/bad.err"; then fail "'$*' succeeded"; fi
    grep -qF -- "$want" "$TMP/bad.err" || { cat "$TMP/bad.err"; fail "'$*': expected '$want'"; }
}
head -c 3000000 "$C/vmlinux" >"$TMP/vm_trunc"
bad "truncated" --vmlinux "$TMP/vm_trunc" --at 60ms ps
python3 -c "import sys; d=open(sys.argv[1],'rb').read(); i=d.index(b'Linux version ')+14; \
open(sys.argv[2],'wb').write(d.replace(d[i-14:i+3], b'Linux version 0.0'))" "$C/vmlinux" "$TMP/vm_other"
bad "does not match the recorded kernel" --vmlinux "$TMP/vm_other" --at 60ms ps
echo 'int main(void) { return 0; }' >"$TMP/small.c"
gcc -g -o "$TMP/small" "$TMP/small.c"
bad "not a Linux kernel" --vmlinux "$TMP/small" --at 60ms ps
riscv64-linux-gnu-strip -o "$TMP/vm_strip" "$C/vmlinux"
bad "stripped" --vmlinux "$TMP/vm_strip" --at 60ms ps
bad "column 11: no field 'nosuch'" --at 60ms struct 'init_task.nosuch'
bad "column" --at 60ms struct '((struct task_struct *)init_task.tasks.next)->'
bad "no process with PID 4242" --at 60ms pt 4242
"$R" "$rec" --at 1us ps >"$TMP/early.out" 2>"$TMP/early.err" && fail "ps before the MMU is on succeeded"
grep -qF "the MMU is off" "$TMP/early.err" || { cat "$TMP/early.err"; fail "no 'MMU is off' message"; }
# the kernel's own table, threads and layout answer at the same instant
"$R" "$rec" --at 70ms pt >"$TMP/kpt.out" || fail "pt (kernel) failed"
grep -q "swapper_pg_dir" "$TMP/kpt.out" && grep -qE "^ffff[0-9a-f]+ .* rwx-gad|^ffff[0-9a-f]+ .* r.x-ga" "$TMP/kpt.out" \
    || { head "$TMP/kpt.out"; fail "pt: no global kernel mapping"; }
"$R" "$rec" --at 70ms threads >"$TMP/thr.out" || fail "threads failed"
"$R" "$rec" --at 70ms layout >"$TMP/lay.out" || fail "layout failed"
expect_in "$TMP/lay.out" "at i:" "PAGE_OFFSET" "uart" "free"
echo "bad input: truncated, other build, not Linux, stripped, bad expressions, MMU off: ok"
