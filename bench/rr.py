#!/usr/bin/env python3
"""rr.py - record/replay numbers for the closing note (not a ctest test).

    bench/rr.py [--build DIR] [--reps N] [--qemu-reps N] [--seeks N] [--out DIR]

Measures, on the corpus (DIR/corpus, default build/corpus), printing a
markdown report on stdout:

  1. recording overhead: wall time of `machina record -o F.mrr` over
     `machina run` on the bench workload, 1 hart, -no-rt, N alternating
     runs each (default 5), median and min-max;
  2. input-log and checkpoint bytes per guest second: for an idle shell
     (`record -max-time 60s`, stdin /dev/null: the guest idles) and for
     the bench recording. Input-log bytes are the payload bytes of the input
     table and its index (SQLite's dbstat), checkpoint bytes the stored
     blobs;
  3. seek latency from a cold process: `machina-replay F --at T uart` at
     random instants (seeded) of the 60-second recording and of the bench
     recording, p50 and p95 of wall time;
  4. replay speed: `MACHINA_RR_START=0 machina-replay F uart` (a replay of
     the whole run from power-on, no hashing) and `verify` (with hashing)
     against the recording's wall time;
  5. the same for QEMU: qemu-system-riscv64 with -icount shift=auto,
     rr=record,rrfile=F and rr=replay on the same guest (plain QEMU with
     -icount shift=auto as the baseline), alternating, --qemu-reps runs
     (default 3). QEMU's rr needs no snapshot for a replay from the start;
     seeking needs -icount ...,rrsnapshot=NAME and a qcow2 drive for
     snapshots, which this initramfs-only guest has not: QEMU has no seek
     here (reverse debugging only through gdb with snapshots).

The host is shared: all figures are medians of alternating runs, and the
load average is printed with them.
"""
import argparse, os, random, resource, sqlite3, statistics, subprocess, sys, tempfile, time

FW = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
QEMU_CPU = "rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false"
APPEND = "console=ttyS0 earlycon=sbi"


CPU = {}  # id(wall-time list) -> the matching CPU times


def timed(cmd, env=None, stdin=subprocess.DEVNULL, into=None):
    """Runs cmd; returns (wall s, process). With into=list, appends the wall
    time to it and the child's CPU time (user + sys) to CPU[id(list)]."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    p = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    dt = time.monotonic() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"rr.py: {' '.join(cmd)}: exit {p.returncode}: {p.stderr.decode()[-500:]}")
    if into is not None:
        into.append(dt)
        CPU.setdefault(id(into), []).append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    return dt, p


def cpu(v):
    c = CPU.get(id(v), [0])
    return f"{statistics.median(c):.2f} s"


def med(v):
    return f"{statistics.median(v):.2f} s ({min(v):.2f}-{max(v):.2f})"


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def sizes(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    q = lambda s: db.execute(s).fetchone()[0] or 0
    r = {
        "vtime_ns": int(q("select value from meta where key='end_vtime_ns'")),
        "steps": int(q("select value from meta where key='end_icount'")),
        "inputs": q("select count(*) from input"),
        "ck_bytes": q("select sum(length(data)) from checkpoint"),
        "ck_full": q("select count(*) from checkpoint where kind='full'"),
        "ck": q("select count(*) from checkpoint"),
        "file": os.path.getsize(path),
    }
    try:
        r["input_bytes"] = q("select sum(payload) from dbstat where name in ('input','input_icount')")
    except sqlite3.OperationalError:  # no dbstat: the rows' payload
        r["input_bytes"] = q("select sum(8*4 + length(source)) from input")
    db.close()
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--qemu-reps", type=int, default=3)
    ap.add_argument("--seeks", type=int, default=20)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    B = os.path.abspath(a.build)
    C = os.path.join(B, "corpus")
    out = a.out or tempfile.mkdtemp(prefix="machina-rrbench.")
    os.makedirs(out, exist_ok=True)
    M, R = os.path.join(B, "machina"), os.path.join(B, "machina-replay")
    bench = ["-no-rt", "-append", f"{APPEND} machina.workload=bench"]
    rec = os.path.join(out, "bench.mrr")
    print(f"# machina record/replay benchmarks\n\nhost: {os.cpu_count()} CPUs, "
          f"load average at start {os.getloadavg()[0]:.2f}; files in {out}\n")

    # 1. overhead, alternating
    run_t, rec_t = [], []
    for i in range(a.reps):
        timed([M, "run"] + bench, into=run_t)
        timed([M, "record", "-o", rec] + bench, into=rec_t)
    ov = statistics.median(rec_t) / statistics.median(run_t) - 1
    ovc = statistics.median(CPU[id(rec_t)]) / statistics.median(CPU[id(run_t)]) - 1
    print("## Recording overhead (bench workload, 1 hart, -no-rt)\n")
    print(f"| | wall time, median of {a.reps} (min-max) | CPU time (user+sys), median |\n|---|---|---|")
    print(f"| machina run | {med(run_t)} | {cpu(run_t)} |\n| machina record | {med(rec_t)} | {cpu(rec_t)} |")
    print(f"\noverhead: wall {ov * 100:+.1f}%, CPU {ovc * 100:+.1f}% (goal: at most +5%)\n")

    # 2. bytes per guest second
    idle = os.path.join(out, "idle.mrr")
    idle_t = timed([M, "record", "-o", idle, "-no-rt", "-max-time", "60s"])[0]
    print("## Bytes per guest second\n")
    print("| recording | guest s | steps | inputs | input-log B/s | checkpoints (full) "
          "| checkpoint B/s | file |\n|---|---|---|---|---|---|---|---|")
    S = {}
    for name, f in (("idle shell, -max-time 60s", idle), ("bench", rec)):
        s = S[f] = sizes(f)
        g = s["vtime_ns"] / 1e9
        print(f"| {name} | {g:.3f} | {s['steps']} | {s['inputs']} | {s['input_bytes'] / g:.0f} "
              f"| {s['ck']} ({s['ck_full']}) | {s['ck_bytes'] / g / 1e6:.2f} MB/s "
              f"| {s['file'] / 1e6:.1f} MB |")
    print(f"\n(the idle-shell recording took {idle_t:.2f} s of wall time)\n")

    # 3. seeks from a cold process
    print("## Seek latency from a cold process (`machina-replay F --at T uart`)\n")
    print("| recording | seeks | p50 | p95 | max | CPU p50 | CPU p95 |\n|---|---|---|---|---|---|---|")
    rnd = random.Random(1)
    seek = {}
    for name, f in (("idle shell, 60 s", idle), ("bench, 0.74 s", rec)):
        end = S[f]["vtime_ns"]
        lat = []
        for _ in range(a.seeks):
            t = rnd.randrange(end)
            timed([R, f, "--at", f"{t}ns", "uart"], into=lat)
        seek[f] = lat
        c = CPU[id(lat)]
        print(f"| {name} | {len(lat)} | {pct(lat, 50) * 1000:.0f} ms | {pct(lat, 95) * 1000:.0f} ms "
              f"| {max(lat) * 1000:.0f} ms | {pct(c, 50) * 1000:.0f} ms | {pct(c, 95) * 1000:.0f} ms |")
    print("\n(goal: p50 under 200 ms)\n")

    # 4. replay speed
    env = dict(os.environ, MACHINA_RR_START="0")
    rep_t, ver_t = [], []
    for i in range(a.reps):
        timed([R, rec, "uart"], env=env, into=rep_t)
        timed([R, rec, "verify"], into=ver_t)
    print("## Replay speed (bench recording)\n")
    print(f"| | wall time, median of {a.reps} | relative to recording | CPU | relative |\n|---|---|---|---|---|")
    rm, rc = statistics.median(rec_t), statistics.median(CPU[id(rec_t)])
    print(f"| record | {med(rec_t)} | 1.00 | {cpu(rec_t)} | 1.00 |")
    for name, v in (("replay from power-on to the end (uart, no hashing)", rep_t),
                    ("verify (checks the file, replays, hashes every checkpoint)", ver_t)):
        print(f"| {name} | {med(v)} | {statistics.median(v) / rm:.2f} | {cpu(v)} "
              f"| {statistics.median(CPU[id(v)]) / rc:.2f} |")
    print()

    # 5. QEMU
    q = ["qemu-system-riscv64", "-machine", "virt", "-cpu", QEMU_CPU, "-smp", "1", "-m", "256M",
         "-nographic", "-bios", FW, "-kernel", os.path.join(C, "Image"), "-initrd",
         os.path.join(C, "initramfs.cpio"), "-append", f"{APPEND} machina.workload=bench"]
    qf = os.path.join(out, "qemu.rr")
    qp, qr, qy = [], [], []
    outs = []
    for i in range(a.qemu_reps):
        timed(q + ["-icount", "shift=auto"], into=qp)
        _, p = timed(q + ["-icount", f"shift=auto,rr=record,rrfile={qf}"], into=qr)
        _, p2 = timed(q + ["-icount", f"shift=auto,rr=replay,rrfile={qf}"], into=qy)
        outs.append(p.stdout == p2.stdout)
    qsize = os.path.getsize(qf)
    print("## QEMU (same guest, bench workload, 1 hart)\n")
    print(f"| | wall time, median of {a.qemu_reps} | CPU |\n|---|---|---|")
    print(f"| qemu -icount shift=auto | {med(qp)} | {cpu(qp)} |")
    print(f"| qemu -icount shift=auto,rr=record | {med(qr)} | {cpu(qr)} |")
    print(f"| qemu -icount shift=auto,rr=replay | {med(qy)} | {cpu(qy)} |")
    print(f"\nQEMU recording overhead: {(statistics.median(qr) / statistics.median(qp) - 1) * 100:+.1f}%; "
          f"replay / record: {statistics.median(qy) / statistics.median(qr):.2f}; "
          f"replay console identical to the recording's: {all(outs)}; "
          f"rr log {qsize} bytes for the whole run (no checkpoints; no seek without "
          f"rrsnapshot and a qcow2 drive).\n")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
