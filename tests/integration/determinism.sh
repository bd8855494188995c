#!/usr/bin/env bash
# determinism.sh - two runs with the same options and script give byte-
# identical console output and the same final machine-state hash, on 1 and
# 4 harts.
. "$(dirname "$0")/lib/common.sh"
need "$B/machina"; need "$C/Image"

for n in 1 4; do
    for k in 1 2; do
        timeout 900 "$B/machina" -smp $n --state-hash \
            -append "console=ttyS0 earlycon=sbi machina.workload=forkexec" \
            </dev/null >"$TMP/run$n.$k.out" 2>"$TMP/run$n.$k.err" \
            || { cat "$TMP/run$n.$k.err"; fail "smp $n run $k failed"; }
        grep -o 'state-hash: [0-9a-f]*' "$TMP/run$n.$k.err" > "$TMP/hash$n.$k" \
            || fail "smp $n: no state-hash printed"
    done
    cmp "$TMP/run$n.1.out" "$TMP/run$n.2.out" || fail "smp $n: console output differs between runs"
    cmp "$TMP/hash$n.1" "$TMP/hash$n.2" || fail "smp $n: state hash differs: $(cat "$TMP/hash$n.1") vs $(cat "$TMP/hash$n.2")"
    echo "smp $n: identical console ($(wc -c <"$TMP/run$n.1.out") bytes) and $(cat "$TMP/hash$n.1")"
done
