#!/usr/bin/env python3
"""console.py - drive a program's console through a pseudo-terminal.

    console.py [--timeout S] [--log FILE] STEP... -- COMMAND [ARGS...]

STEPs run in order: `expect:TEXT` waits until TEXT appears in the output
(after the previous match), `send:LINE` types LINE and a newline,
`wait-exit` waits for the program to end. The whole transcript goes to
stdout (or --log). Exit status: the program's own, or 124 on a timeout,
or 125 when the program ended before an expected text appeared.
Used by the integration tests for both QEMU and machina, so that the
input really arrives through a terminal, as a user's would.
"""
import os, pty, select, signal, subprocess, sys, time


def main(argv):
    timeout, log, steps = 120.0, None, []
    i = 0
    while i < len(argv) and argv[i] != "--":
        a = argv[i]
        if a == "--timeout":
            timeout = float(argv[i + 1]); i += 2; continue
        if a == "--log":
            log = argv[i + 1]; i += 2; continue
        steps.append(a); i += 1
    cmd = argv[i + 1:]
    if not cmd:
        print("console.py: no command given", file=sys.stderr)
        return 2
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                            start_new_session=True)
    os.close(slave)
    out = open(log, "wb") if log else sys.stdout.buffer
    buf, pos = b"", 0
    deadline = time.monotonic() + timeout

    def pump(wait):
        nonlocal buf
        r, _, _ = select.select([master], [], [], wait)
        if not r:
            return True
        try:
            data = os.read(master, 4096)
        except OSError:
            return False
        if not data:
            return False
        buf += data
        out.write(data); out.flush()
        return True

    status = None
    for st in steps:
        if st.startswith("expect:"):
            text = st[7:].encode()
            while True:
                k = buf.find(text, pos)
                if k >= 0:
                    pos = k + len(text); break
                if time.monotonic() > deadline:
                    status = 124; break
                if not pump(0.2) and proc.poll() is not None:
                    status = 125; break
            if status: break
        elif st.startswith("send:"):
            os.write(master, st[5:].encode() + b"\n")
        elif st == "wait-exit":
            pass
        else:
            print(f"console.py: unknown step {st!r}", file=sys.stderr)
            status = 2; break
    if status is None:
        while proc.poll() is None and time.monotonic() < deadline:
            pump(0.2)
        while pump(0) and time.monotonic() < deadline + 5:  # a program still writing
            if proc.poll() is not None and not select.select([master], [], [], 0)[0]:
                break
        if proc.poll() is None:
            status = 124
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    err = proc.stderr.read().decode(errors="replace")
    if err:
        sys.stderr.write(err)
    if status == 124:
        print(f"\nconsole.py: timeout after {timeout:.0f}s", file=sys.stderr)
    elif status == 125:
        print(f"\nconsole.py: program exited (status {proc.returncode}) before expected text", file=sys.stderr)
    return status if status is not None else proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
