#!/usr/bin/env python3
"""compare.py - machina side by side with QEMU, in one run.

    bench/compare.py [--reps N] [--cases LIST] [--json OUT.json] [--md OUT.md]

Runs each case alternately on machina and on qemu-system-riscv64 -machine
virt with the same firmware, kernel and initramfs (build/corpus; QEMU's
command line is tests/integration/lib/common.sh's qemu_linux), N times each
(default 5), and prints a markdown table: median wall time and spread
(min-max) per system, the ratio machina / QEMU, and machina's guest
instructions per second (from `machina --stats`). Cases (LIST is
comma-separated, default all but record-2):

  boot-N      boot to poweroff (machina.workload=none), N harts
  shell-N     boot to the shell prompt ("[machina] shell ready"), N harts:
              the process is stopped when the line appears
  bench-N     the corpus `bench` workload, N harts
  record-N    bench: `machina record -o F.mrr` vs QEMU
              -icount shift=auto,rr=record,rrfile=F (QEMU needs N = 1)

Per-phase times of the bench workload are taken on the host, for both
systems alike, from the arrival of the workload's marker lines on the
console (each phase's time is the gap between its "phase" line and the
previous marker). The guest's own "ms=" figures are kept in the JSON too:
under QEMU they follow the host clock, under machina they are virtual time
(one step of the hart is 1 ns), so machina's per-phase MIPS is ms * 1e6 /
host seconds.

Also measured once per invocation (machina is deterministic): the exact
number of instructions from reset to the shell prompt, found by bisection
with -max-time i:N.

Wall times come from time.monotonic() around each process; the machine is
shared and noisy, so read the spread, and use bench/counters.sh for
repeatable instruction counts.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("MACHINA_BUILD_DIR", os.path.join(SRC, "build"))
CORPUS = os.environ.get("MACHINA_CORPUS_DIR", os.path.join(BUILD, "corpus"))
FW = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
QEMU_CPU = "rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false"
PROMPT = "[machina] shell ready"
PHASE_RE = re.compile(r"\[machina:bench\] phase (\S+) ms=([0-9.]+)")


def append_for(workload):
    a = "console=ttyS0 earlycon=sbi"
    return a + f" machina.workload={workload}" if workload else a


def qemu_cmd(smp, workload, extra=()):
    return ["qemu-system-riscv64", "-machine", "virt", "-cpu", QEMU_CPU, "-smp", str(smp),
            "-m", "256M", "-nographic", "-bios", FW, "-kernel", os.path.join(CORPUS, "Image"),
            "-initrd", os.path.join(CORPUS, "initramfs.cpio"), "-append", append_for(workload),
            *extra]


def machina_cmd(smp, workload, mode="run", out=None, extra=()):
    cmd = [os.path.join(BUILD, "machina"), mode]
    if mode == "record":
        cmd += ["-o", out]
    return cmd + ["-no-rt", "-smp", str(smp), "--stats", *extra, "-append", append_for(workload)]


def timed(cmd, expect, stop_at=None):
    """Runs cmd; returns (wall s, machina instructions or None, [(t, line)]).
    With stop_at, the process is terminated when a line contains it and the
    wall time is the time of that line."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    lines, dt = [], None
    for raw in p.stdout:
        t = time.monotonic() - t0
        line = raw.decode(errors="replace").rstrip("\r\n")
        lines.append((t, line))
        if stop_at and stop_at in line:
            dt = t
            p.terminate()
            break
    try:
        _, err = p.communicate(timeout=1800)
    except subprocess.TimeoutExpired:
        p.kill()
        sys.exit(f"compare.py: {' '.join(cmd[:2])}... timed out")
    if dt is None:
        dt = time.monotonic() - t0
    out = "\n".join(l for _, l in lines)
    err = err.decode(errors="replace")
    if (not stop_at and p.returncode != 0) or expect not in out:
        sys.exit(f"compare.py: {' '.join(cmd)} failed (status {p.returncode}), "
                 f"no '{expect}':\n{out[-2000:]}\n{err[-2000:]}")
    m = re.search(r"(\d+) instructions", err)
    return dt, (int(m.group(1)) if m else None), lines


def phases(lines):
    """{phase: (host ms, guest ms)} from the bench markers' arrival times."""
    res, prev = {}, None
    for t, line in lines:
        if "[machina:bench] scale=" in line:
            prev = t
        m = PHASE_RE.search(line)
        if m and prev is not None:
            res[m.group(1)] = ((t - prev) * 1e3, float(m.group(2)))
            prev = t
    return res


def insns_to_prompt(smp):
    """Smallest instruction count (to 0.1%) after which the prompt line has
    been printed, by bisection over -max-time i:N (deterministic)."""
    def reached(n):
        p = subprocess.run(machina_cmd(smp, None, extra=("-max-time", f"i:{n}")),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=600)
        return PROMPT.encode() in p.stdout
    lo, hi = 0, 1 << 27
    while not reached(hi):
        lo, hi = hi, hi * 2
        if hi > 1 << 36:
            sys.exit("compare.py: machina never reached the shell prompt")
    while hi - lo > max(hi // 1000, 1):
        mid = (lo + hi) // 2
        if reached(mid):
            hi = mid
        else:
            lo = mid
    return hi


def spread(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "all": xs}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--cases", default="boot-1,boot-2,shell-1,shell-2,bench-1,bench-2,record-1")
    ap.add_argument("--json", default=os.path.join(BUILD, "bench.json"))
    ap.add_argument("--md", default=None)
    ap.add_argument("--no-prompt-count", action="store_true",
                    help="skip the bisection for the instructions to the prompt")
    a = ap.parse_args()
    if not os.access(os.path.join(BUILD, "machina"), os.X_OK):
        sys.exit(f"compare.py: {BUILD}/machina missing (set MACHINA_BUILD_DIR)")
    for f in ("Image", "initramfs.cpio"):
        if not os.path.exists(os.path.join(CORPUS, f)):
            sys.exit(f"compare.py: {CORPUS}/{f} missing (scripts/corpus.sh)")
    for case in a.cases.split(","):
        kind, _, smp = case.rpartition("-")
        if kind not in ("boot", "shell", "bench", "record") or not smp.isdigit() \
                or not 1 <= int(smp) <= 8:
            sys.exit(f"compare.py: unknown case '{case}' (boot-N, shell-N, bench-N, record-N)")
    if a.reps < 1:
        sys.exit("compare.py: --reps must be at least 1")
    tmp = tempfile.mkdtemp(prefix="machina-bench.")
    results = []
    for case in a.cases.split(","):
        kind, smp = case.rsplit("-", 1)
        smp = int(smp)
        wl = {"boot": "none", "shell": None}.get(kind, "bench")
        expect = {"boot": "[machina] no such workload: none",
                  "shell": PROMPT}.get(kind, "[machina:bench] done")
        stop = PROMPT if kind == "shell" else None
        rec, qrec = os.path.join(tmp, "bench.mrr"), os.path.join(tmp, "qemu.rr")
        mt, qt, insns, mph, qph = [], [], [], [], []
        for r in range(a.reps):
            print(f"[bench] {case} rep {r + 1}/{a.reps}", file=sys.stderr, flush=True)
            if kind == "record":
                for f in (rec, qrec):
                    if os.path.exists(f):
                        os.unlink(f)
                mcmd = machina_cmd(smp, wl, "record", rec)
                qcmd = qemu_cmd(smp, wl, ["-icount", "shift=auto,rr=record,rrfile=" + qrec])
            else:
                mcmd, qcmd = machina_cmd(smp, wl), qemu_cmd(smp, wl)
            # alternate which system goes first, so drifts in the host's load
            # hit both alike
            order = [(mcmd, mt), (qcmd, qt)] if r % 2 == 0 else [(qcmd, qt), (mcmd, mt)]
            for cmd, acc in order:
                dt, n, lines = timed(cmd, expect, stop)
                acc.append(dt)
                if cmd is mcmd:
                    insns.append(n)
                    mph.append(phases(lines))
                else:
                    qph.append(phases(lines))
        med_m, med_q = statistics.median(mt), statistics.median(qt)
        n = statistics.median([x for x in insns if x]) if any(insns) else None
        row = {"case": case, "machina_s": spread(mt), "qemu_s": spread(qt),
               "ratio": med_m / med_q, "guest_insns": n,
               "mips": (n / med_m / 1e6) if n and kind != "shell" else None}
        if kind in ("bench", "record"):
            row["phases"] = {}
            for k in mph[0]:
                hm = statistics.median([p[k][0] for p in mph if k in p])
                hq = statistics.median([p[k][0] for p in qph if k in p])
                gm = statistics.median([p[k][1] for p in mph if k in p])
                gq = statistics.median([p[k][1] for p in qph if k in p])
                row["phases"][k] = {"machina_host_ms": hm, "qemu_host_ms": hq,
                                    "machina_virtual_ms": gm, "qemu_guest_ms": gq,
                                    "ratio": hm / hq, "machina_mips": gm * 1e3 / hm}
        results.append(row)
        print(f"[bench] {case}: machina {med_m:.2f} s, QEMU {med_q:.2f} s", file=sys.stderr)
    prompt = {}
    if not a.no_prompt_count:
        for smp in sorted({int(c.rsplit("-", 1)[1]) for c in a.cases.split(",")
                           if c.startswith("shell")}):
            print(f"[bench] instructions to the prompt, {smp} hart(s)", file=sys.stderr)
            prompt[smp] = insns_to_prompt(smp)
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1) if m else cpu
    except OSError:
        pass
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {cpu} ({os.cpu_count()} cores), "
             f"{a.reps} runs each alternating the two, wall seconds median (min-max):", "",
             "| case | machina s | QEMU s | ratio machina/QEMU | machina MIPS |",
             "|---|---|---|---|---|"]
    for r in results:
        qlabel = " (machina record; QEMU -icount rr=record)" if r["case"].startswith("record") else ""
        mips = f"{r['mips']:.0f}" if r["mips"] else "-"
        m, q = r["machina_s"], r["qemu_s"]
        lines.append(f"| {r['case']}{qlabel} | {m['median']:.2f} ({m['min']:.2f}-{m['max']:.2f}) "
                     f"| {q['median']:.2f} ({q['min']:.2f}-{q['max']:.2f}) | {r['ratio']:.2f} | {mips} |")
    for smp, n in prompt.items():
        lines.append(f"\nInstructions from reset to the shell prompt, {smp} hart(s): {n} "
                     f"(all harts, to 0.1%)")
    for r in results:
        if "phases" in r:
            lines += ["", f"Phases of {r['case']} (host ms from the console markers, median):", "",
                      "| phase | machina ms | QEMU ms | ratio | machina MIPS |",
                      "|---|---|---|---|---|"]
            for k, v in r["phases"].items():
                lines.append(f"| {k} | {v['machina_host_ms']:.0f} | {v['qemu_host_ms']:.0f} "
                             f"| {v['ratio']:.2f} | {v['machina_mips']:.0f} |")
    md = "\n".join(lines)
    print(md)
    with open(a.json, "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d"), "cpu": cpu, "cores": os.cpu_count(),
                   "reps": a.reps, "results": results,
                   "insns_to_prompt": {str(k): v for k, v in prompt.items()}}, f, indent=2)
    if a.md:
        with open(a.md, "w") as f:
            f.write(md + "\n")
    print(f"\n(wrote {a.json})", file=sys.stderr)


if __name__ == "__main__":
    main()
