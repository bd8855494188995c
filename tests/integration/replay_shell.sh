#!/usr/bin/env bash
# replay_shell.sh - an interactive shell session typed through a
# pseudo-terminal (lib/console.py) into `machina record`: the replay's
# console (`uart`) is exactly what the terminal showed (the terminal adds
# \r before every \n: compare the guest's bytes with that translation
# undone), the typed bytes are in the input log, `verify` and
# `verify --segments` pass, and the console at an instant in the middle of
# the session holds what had been typed by then.
. "$(dirname "$0")/lib/common.sh"
need "$B/machina"; need "$B/machina-replay"; need "$C/Image"

F=$TMP/shell.mrr
rc=0
python3 "$CONSOLE" --timeout 300 --log "$TMP/pty.log" 'expect:shell ready' 'expect:/ # ' \
    'send:echo hello' 'expect:hello' 'expect:/ # ' 'send:ls /' 'expect:/ # ' 'send:poweroff -f' \
    wait-exit -- "$B/machina" record -o "$F" -smp 2 -checkpoint-every 10000000 \
    2>"$TMP/rec.err" || rc=$?
[ $rc -eq 0 ] || { cat "$TMP/rec.err"; tail -c 500 "$TMP/pty.log"; fail "the recorded session: exit $rc"; }
grep -q "machina: recorded $F" "$TMP/rec.err" || { cat "$TMP/rec.err"; fail "no recording summary"; }

"$B/machina-replay" "$F" uart >"$TMP/uart" 2>/dev/null || fail "uart exit $?"
python3 - "$TMP/uart" "$TMP/pty.log" <<'PY' || fail "the replayed console differs from what the terminal showed"
import sys
uart, pty = (open(p, "rb").read() for p in sys.argv[1:])
if uart.replace(b"\n", b"\r\n") != pty:
    n = next((i for i, (a, b) in enumerate(zip(uart.replace(b"\n", b"\r\n"), pty)) if a != b), None)
    print(f"uart {len(uart)} bytes, terminal {len(pty)} bytes, first difference at {n}", file=sys.stderr)
    sys.exit(1)
PY
for t in "echo hello" "bin" "Power down"; do grep -qF "$t" "$TMP/uart" || fail "uart lacks '$t'"; done
typed=$(sqlite3 "$F" "select group_concat(char(value), '') from (select value from input where source = 'uart_rx' order by seq)")
[[ "$typed" == *"echo hello"*"ls /"*"poweroff -f"* ]] || fail "the input log holds '$typed'"
"$B/machina-replay" "$F" verify >"$TMP/v" || { cat "$TMP/v"; fail "verify"; }
"$B/machina-replay" "$F" verify --segments >"$TMP/s" || { cat "$TMP/s"; fail "verify --segments"; }
# between `echo hello` and `ls /`: the echo is there, the listing not yet
ls_at=$(sqlite3 "$F" "select icount from input where seq = 1 +
    (select min(seq) from input where source = 'uart_rx' and (value = 10 or value = 13))")
"$B/machina-replay" "$F" --at "i:$((ls_at - 1))" uart >"$TMP/mid" 2>/dev/null || fail "uart --at i:$((ls_at - 1))"
grep -qF "hello" "$TMP/mid" || fail "the console before 'ls' lacks hello"
grep -qF "Power down" "$TMP/mid" && fail "the console before 'ls' already has the poweroff"
cmp -n "$(wc -c <"$TMP/mid")" "$TMP/mid" "$TMP/uart" || fail "uart --at is not a prefix of the whole console"
echo "pty session: $(wc -c <"$TMP/uart") console bytes identical to the terminal's, typed '$(echo "$typed" | tr '\n' '|')'"
echo "$(head -1 "$TMP/v")"
echo "$(head -1 "$TMP/s")"
