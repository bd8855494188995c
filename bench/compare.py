#!/usr/bin/env python3
"""compare.py - machina side by side with QEMU, in one run.

    bench/compare.py [--reps N] [--cases LIST] [--json OUT.json] [--md OUT.md]

Runs each case alternately on machina and on qemu-system-riscv64 -machine
virt with the same firmware, kernel and initramfs (build/corpus), N times
each (default 5), and prints a markdown table: median wall time and spread
(min-max) per system, the ratio machina / QEMU, and machina's guest
instructions per second (from `machina --stats`). Cases:

  boot-N      boot to poweroff (no workload), N harts
  bench-N     the corpus `bench` workload, N harts
  record-1    bench on 1 hart: `machina record` vs QEMU -icount shift=auto,rr=record

Wall times come from time.monotonic() around each process; the machine is
shared and noisy, so read the spread, and use bench/callgrind.sh for
repeatable instruction counts.
"""
import argparse, json, os, platform, re, statistics, subprocess, sys, tempfile, time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("MACHINA_BUILD_DIR", os.path.join(SRC, "build"))
CORPUS = os.path.join(BUILD, "corpus")
FW = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
QEMU_CPU = "rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false"


def append_for(workload):
    return f"console=ttyS0 earlycon=sbi machina.workload={workload}"


def qemu_cmd(smp, workload, extra=()):
    return ["qemu-system-riscv64", "-machine", "virt", "-cpu", QEMU_CPU, "-smp", str(smp),
            "-m", "256M", "-nographic", "-bios", FW, "-kernel", os.path.join(CORPUS, "Image"),
            "-initrd", os.path.join(CORPUS, "initramfs.cpio"), "-append", append_for(workload),
            *extra]


def machina_cmd(smp, workload, mode="run", out=None):
    cmd = [os.path.join(BUILD, "machina"), mode]
    if mode == "record":
        cmd += ["-o", out]
    return cmd + ["-smp", str(smp), "--stats", "-append", append_for(workload)]


def timed(cmd, expect, cwd=None):
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, cwd=cwd, timeout=1800)
    dt = time.monotonic() - t0
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    if p.returncode != 0 or expect not in out:
        sys.exit(f"compare.py: {' '.join(cmd[:3])}... failed (status {p.returncode}):\n{out[-2000:]}\n{err[-2000:]}")
    m = re.search(r"(\d+) instructions", err)
    return dt, (int(m.group(1)) if m else None), out


def phases(out):
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"\[machina:bench\] phase (\S+) ms=([0-9.]+)", out)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--cases", default="boot-1,boot-2,bench-1,bench-2,record-1")
    ap.add_argument("--json", default=os.path.join(BUILD, "bench.json"))
    ap.add_argument("--md", default=None)
    a = ap.parse_args()
    for f in ("machina",):
        if not os.access(os.path.join(BUILD, f), os.X_OK):
            sys.exit(f"compare.py: {BUILD}/{f} missing: run scripts/build.sh")
    tmp = tempfile.mkdtemp(prefix="machina-bench.")
    results = []
    for case in a.cases.split(","):
        kind, smp = case.rsplit("-", 1)
        smp = int(smp)
        wl = "none" if kind == "boot" else "bench"
        expect = "[machina] no such workload: none" if kind == "boot" else "[machina:bench] done"
        rec = os.path.join(tmp, "bench.mrr")
        mt, qt, insns, mph, qph = [], [], [], [], []
        for r in range(a.reps):
            print(f"[bench] {case} rep {r + 1}/{a.reps}", file=sys.stderr, flush=True)
            if kind == "record":
                if os.path.exists(rec):
                    os.unlink(rec)
                dt, n, out = timed(machina_cmd(smp, wl, "record", rec), expect)
                qdt, _, qout = timed(qemu_cmd(smp, wl, ["-icount", "shift=auto,rr=record,rrfile=" +
                                                        os.path.join(tmp, "q.rr")]), expect)
            else:
                dt, n, out = timed(machina_cmd(smp, wl), expect)
                qdt, _, qout = timed(qemu_cmd(smp, wl), expect)
            mt.append(dt); qt.append(qdt); insns.append(n)
            mph.append(phases(out)); qph.append(phases(qout))
        med_m, med_q = statistics.median(mt), statistics.median(qt)
        n = statistics.median([x for x in insns if x]) if any(insns) else None
        row = {"case": case, "machina_s": med_m, "machina_min": min(mt), "machina_max": max(mt),
               "qemu_s": med_q, "qemu_min": min(qt), "qemu_max": max(qt),
               "ratio": med_m / med_q, "guest_insns": n,
               "mips": (n / med_m / 1e6) if n else None}
        if kind != "boot":
            row["phases_machina_ms"] = {k: statistics.median([p[k] for p in mph if k in p])
                                        for k in mph[0]}
            row["phases_qemu_ms"] = {k: statistics.median([p[k] for p in qph if k in p])
                                     for k in qph[0]}
        results.append(row)
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {platform.node()} "
             f"({os.cpu_count()} cores), {a.reps} runs each, median (min-max):", "",
             "| case | machina s | QEMU s | ratio machina/QEMU | machina MIPS |",
             "|---|---|---|---|---|"]
    for r in results:
        qlabel = " (QEMU -icount rr=record)" if r["case"].startswith("record") else ""
        mips = f"{r['mips']:.0f}" if r["mips"] else "-"
        lines.append(f"| {r['case']}{qlabel} | {r['machina_s']:.2f} ({r['machina_min']:.2f}-{r['machina_max']:.2f}) "
                     f"| {r['qemu_s']:.2f} ({r['qemu_min']:.2f}-{r['qemu_max']:.2f}) | {r['ratio']:.2f} | {mips} |")
    for r in results:
        if "phases_machina_ms" in r:
            lines += ["", f"Phases of {r['case']} (guest-measured ms, machina vs QEMU):", "",
                      "| phase | machina | QEMU |", "|---|---|---|"]
            for k, v in r["phases_machina_ms"].items():
                lines.append(f"| {k} | {v:.0f} | {r['phases_qemu_ms'].get(k, float('nan')):.0f} |")
    md = "\n".join(lines)
    print(md)
    with open(a.json, "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d"), "host": platform.node(), "reps": a.reps,
                   "results": results}, f, indent=2)
    if a.md:
        with open(a.md, "w") as f:
            f.write(md + "\n")
    print(f"\n(wrote {a.json})", file=sys.stderr)


if __name__ == "__main__":
    main()
