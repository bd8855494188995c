#!/usr/bin/env bash
# cli_baremetal.sh - the `machina` program on bare-metal ELFs built here
# with the cross compiler (no corpus needed): exit statuses (tohost pass and
# fail, finisher fail code, idle forever, max-time), the serial script,
# --state-hash determinism across runs and harts, Debian's OpenSBI as -bios
# (raw and ELF), and the one-line errors with status 2.
. "$(dirname "$0")/lib/common.sh"
M=$B/machina
command -v riscv64-linux-gnu-gcc >/dev/null || fail "riscv64-linux-gnu-gcc not installed"

cat >"$TMP/link.ld" <<'LD'
ENTRY(_start)
SECTIONS { . = 0x80000000; .text : { *(.text*) } . = ALIGN(16);
           .data : { *(.data*) *(.rodata*) } .bss : { *(.bss*) } }
LD
build() { # build NAME: assembly on stdin -> $TMP/NAME.elf
    cat >"$TMP/$1.S"
    riscv64-linux-gnu-gcc -march=rv64ima_zicsr -mabi=lp64 -nostdlib -no-pie -static \
        -Wl,--build-id=none -Wl,--no-warn-rwx-segments -T "$TMP/link.ld" \
        -o "$TMP/$1.elf" "$TMP/$1.S" || fail "cannot assemble $1"
}
status() { # status EXPECTED CMD...: run, compare the exit status
    local want=$1 rc=0; shift
    "$@" </dev/null >"$TMP/out" 2>"$TMP/err" || rc=$?
    [ "$rc" = "$want" ] || { cat "$TMP/out" "$TMP/err"; fail "'$*': status $rc, expected $want"; }
}

tohost_prog() { printf '.globl _start\n_start: lla t0, tohost\n li t1, %s\n sd t1, 0(t0)\n1: j 1b\n.data\n.align 3\n.globl tohost\ntohost: .dword 0\n' "$1"; }
tohost_prog 1 | build pass
tohost_prog 11 | build fail5
build fin3 <<'S'
.globl _start
_start: li t0, 0x100000
  li t1, 0x33333       # fail, code 3
  sw t1, 0(t0)
1: j 1b
S
build spin <<'S'
.globl _start
_start: j _start
S
build idle <<'S'
.globl _start
_start: wfi
  j _start
S
build echo <<'S'
.globl _start
_start: li s0, 0x10000000
  lla a0, msg
1: lbu t0, 0(a0)
  beqz t0, 2f
  sb t0, 0(s0)
  addi a0, a0, 1
  j 1b
2: lbu t1, 5(s0)        # LSR.DR
  andi t1, t1, 1
  beqz t1, 2b
  lbu t0, 0(s0)
  sb t0, 0(s0)
  li t2, 10
  bne t0, t2, 2b
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
3: j 3b
.data
msg: .asciz "ready> "
S
# Every hart: mtimecmp[hartid] = 50 + 10 * hartid ticks, then WFI; each
# handler disarms its timer and counts at 0x80010000; the 4th powers off.
build timer <<'S'
.globl _start
_start: lla t0, handler
  csrw mtvec, t0
  csrr a0, mhartid
  li t0, 0x2004000
  slli t1, a0, 3
  add t0, t0, t1
  li t1, 10
  mul t1, t1, a0
  addi t1, t1, 50
  sd t1, 0(t0)
  li t0, 0x80
  csrw mie, t0
  csrsi mstatus, 8
1: wfi
  j 1b
.align 2
handler: csrr a0, mhartid
  li t0, 0x2004000
  slli t1, a0, 3
  add t0, t0, t1
  li t1, -1
  sd t1, 0(t0)
  li t0, 0x80010000
  li t1, 1
  amoadd.w t2, t1, (t0)
  addi t2, t2, 1
  li t3, 4
  bne t2, t3, 2f
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
2: wfi
  j 2b
S

# 1. tohost, finisher, idle, max-time
status 0 "$M" -bios none -kernel "$TMP/pass.elf"
status 1 "$M" -bios none -kernel "$TMP/fail5.elf"
expect_in "$TMP/err" "tohost: FAIL test 5"
status 3 "$M" -bios none -kernel "$TMP/fin3.elf"
status 3 "$M" -bios none -kernel "$TMP/idle.elf" -smp 2
expect_in "$TMP/err" "every hart waits in WFI"
status 0 "$M" -bios none -kernel "$TMP/spin.elf" -max-time 40us
expect_in "$TMP/err" "machina: stopped at max-time 40us (40000 instructions)"
status 0 "$M" -bios none -kernel "$TMP/spin.elf" -max-time i:12345 -smp 3
expect_in "$TMP/err" "machina: stopped at max-time i:12345 (12345 instructions)"

# 2. serial script: deterministic input after the prompt
printf '# echo test\nexpect ready> \nsend abc\n' >"$TMP/script"
status 0 "$M" -bios none -kernel "$TMP/echo.elf" -serial-script "$TMP/script"
[ "$(cat "$TMP/out")" = "ready> abc" ] || fail "echo output: '$(cat "$TMP/out")'"
printf 'expect ready> \nbogus line\n' >"$TMP/bad-script"
status 2 "$M" -bios none -kernel "$TMP/echo.elf" -serial-script "$TMP/bad-script"
expect_in "$TMP/err" "line 2"
# input from a pipe when there is no script
rc=0; printf 'xyz\n' | "$M" -bios none -kernel "$TMP/echo.elf" >"$TMP/out" 2>&1 || rc=$?
[ $rc = 0 ] && [ "$(cat "$TMP/out")" = "ready> xyz" ] || fail "piped input: $rc '$(cat "$TMP/out")'"

# 3. determinism: the same state hash twice, with 4 harts and timers
hash() { "$M" -bios none -kernel "$TMP/timer.elf" -smp 4 --state-hash "$@" </dev/null 2>&1 >/dev/null |
         sed -n 's/^state-hash: //p'; }
h1=$(hash); h2=$(hash); h3=$(hash -quantum 333)
[ -n "$h1" ] && [ "$h1" = "$h2" ] || fail "state hash differs between runs: '$h1' '$h2'"
[ "$h1" != "$h3" ] || fail "the quantum should change the interleaving (and the hash)"

# 4. OpenSBI from Debian as firmware (raw and ELF), kernel = poweroff program
printf '\267\002\020\000\067\123\000\000\033\003\123\125\043\240\142\000\157\000\000\000' >"$TMP/off.bin"
for fw in "$FW_DYNAMIC" "$FW_JUMP" "${FW_DYNAMIC%.bin}.elf"; do
    status 0 "$M" -bios "$fw" -kernel "$TMP/off.bin" -smp 2
    expect_in "$TMP/out" "OpenSBI v1.1" "Domain0 Next Address      : 0x0000000080200000" \
        "Platform HART Count       : 2"
done

# 5. errors: one line, status 2
status 2 "$M" -kernel /nonexistent/k
[ "$(cat "$TMP/err")" = "machina: -kernel: cannot open '/nonexistent/k': No such file or directory" ] ||
    fail "message: $(cat "$TMP/err")"
for args in "-smp 0" "-smp 9" "-m 1X" "-max-time soon" "-cpu rv32" "-frobnicate" "-bios none" \
    "-drive format=raw" "-kernel"; do
    # shellcheck disable=SC2086
    status 2 "$M" $args
    [ "$(wc -l <"$TMP/err")" = 1 ] || fail "'$args': expected one line, got: $(cat "$TMP/err")"
done
head -c 64 /dev/urandom >"$TMP/garbage"; printf '\177ELF' | cat - "$TMP/garbage" >"$TMP/bad.elf"
status 2 "$M" -bios none -kernel "$TMP/bad.elf"
status 0 "$M" --help
expect_in "$TMP/out" "-serial-script" "-max-time" "--state-hash" "-dumpdtb" "Ctrl-A x"
echo "cli_baremetal: ok"
