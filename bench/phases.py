#!/usr/bin/env python3
"""phases.py - host CPU time per phase of the bench workload on machina.

    bench/phases.py [--runs N] [--smp N] [-- extra machina options]

Runs `machina -no-rt --stats` with machina.workload=bench N times (default
3) and reads the process's CPU time (utime + stime from /proc/PID/stat, in
clock ticks) when each marker line arrives on the console, so a phase's
cost is measured in CPU seconds, which a busy shared machine disturbs much
less than wall time. Prints per phase the median CPU ms and machina's MIPS
(virtual ms * 1e6 / CPU s; one step is 1 ns of virtual time).
"""
import argparse, os, re, statistics, subprocess, sys

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("MACHINA_BUILD_DIR", os.path.join(SRC, "build"))
TICK = os.sysconf("SC_CLK_TCK")
PHASE_RE = re.compile(r"\[machina:bench\] phase (\S+) ms=([0-9.]+)")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def run_once(smp, extra):
    cmd = [os.path.join(BUILD, "machina"), "-no-rt", "-smp", str(smp), "--stats", *extra,
           "-append", "console=ttyS0 earlycon=sbi machina.workload=bench"]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    res, prev, total = {}, None, None
    for raw in p.stdout:
        line = raw.decode(errors="replace")
        if "[machina:bench] scale=" in line:
            prev = cpu_s(p.pid)
            boot = prev
        m = PHASE_RE.search(line)
        if m and prev is not None:
            t = cpu_s(p.pid)
            res[m.group(1)] = ((t - prev) * 1e3, float(m.group(2)))
            prev = t
        if "[machina:bench] done" in line:
            total = cpu_s(p.pid)
    _, err = p.communicate()
    if p.returncode != 0 or total is None:
        sys.exit(f"phases.py: machina failed (status {p.returncode}): {err.decode()[-500:]}")
    res["(boot)"] = (boot * 1e3, 0.0)
    res["(total)"] = (total * 1e3, sum(v[1] for v in res.values()))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("extra", nargs="*")
    a = ap.parse_args()
    runs = [run_once(a.smp, a.extra) for _ in range(a.runs)]
    print(f"{'phase':10} {'CPU ms':>8} {'min-max':>13} {'MIPS':>6}")
    for k in runs[0]:
        xs = [r[k][0] for r in runs]
        med, g = statistics.median(xs), runs[0][k][1]
        mips = f"{g * 1e3 / med:6.0f}" if g else "     -"
        print(f"{k:10} {med:8.0f} {min(xs):6.0f}-{max(xs):<6.0f} {mips}")


if __name__ == "__main__":
    main()
