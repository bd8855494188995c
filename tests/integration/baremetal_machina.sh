#!/usr/bin/env bash
# baremetal_machina.sh - the bare-metal path an external ISA conformance
# suite uses: `machina -bios none -kernel X.elf` with the HTIF tohost
# convention of riscv-tests (env/p) and Spike.
#
# 1. Every corpus bare-metal ELF exits 0, run plainly, with -max-time and
#    under `timeout` with stdin/stdout not a terminal (a run once exited 2
#    with no message there: its failing check wrote tohost and then the test
#    finisher in one hart_run, and the finisher's code won).
# 2. Programs built here in the riscv-tests env/p layout (tohost and
#    fromhost in section .tohost, 64-byte aligned; write_tohost loops on
#    `sw TESTNUM, tohost; sw zero, tohost + 4`): pass -> 0; fail with test
#    N -> non-zero and "tohost: FAIL test N"; the same when the program
#    writes the finisher right after tohost (common.h does, to end under
#    QEMU too); an HTIF console byte (device 1, command 1) is printed and
#    tohost cleared, as Spike does; an unsupported request ends the run with
#    one clear line and a non-zero status.
# 3. WFI wakes exactly at an Sstc deadline when STIE is set, and at the
#    CLINT deadline when a stimecmp in the past is not enabled.
. "$(dirname "$0")/lib/common.sh"
M=$B/machina
need "$M"
command -v riscv64-linux-gnu-gcc >/dev/null || fail "riscv64-linux-gnu-gcc not installed"
ls "$C"/baremetal/*.elf >/dev/null 2>&1 || fail "no bare-metal ELFs in $C/baremetal (build the corpus)"

status() { # status EXPECTED CMD...: run, compare the exit status
    local want=$1 rc=0; shift
    "$@" </dev/null >"$TMP/out" 2>"$TMP/err" || rc=$?
    [ "$rc" = "$want" ] || { cat "$TMP/out" "$TMP/err"; fail "'$*': status $rc, expected $want"; }
}

# 1. the corpus
n=0
for elf in "$C"/baremetal/*.elf; do
    name=$(basename "$elf")
    status 0 timeout 60 "$M" -bios none -kernel "$elf"
    status 0 timeout 60 "$M" -bios none -kernel "$elf" -max-time 10s
    grep -q "stopped at max-time" "$TMP/err" && fail "$name: did not end before -max-time 10s"
    status 0 "$M" -bios none -kernel "$elf" -max-time 10s -quantum 7
    n=$((n + 1))
done
echo "corpus: $n bare-metal programs pass (plain, -max-time, -quantum 7)"

# 2. riscv-tests env/p conventions
cat >"$TMP/link.ld" <<'LD'
OUTPUT_ARCH("riscv")
ENTRY(_start)
SECTIONS {
  . = 0x80000000;
  .text.init : { *(.text.init) }
  . = ALIGN(0x1000);
  .tohost : { *(.tohost) }
  . = ALIGN(0x1000);
  .text : { *(.text) }
  . = ALIGN(0x1000);
  .data : { *(.data) }
  .bss : { *(.bss) }
  _end = .;
}
LD
# envp NAME BODY: BODY sets TESTNUM (gp) and jumps to pass/fail like
# riscv-tests' RVTEST_PASS / RVTEST_FAIL (ecall into write_tohost).
envp() {
    cat >"$TMP/$1.S" <<EOF
#define TESTNUM gp
	.section .text.init
	.globl _start
_start:
	la t0, trap_vector
	csrw mtvec, t0
	li TESTNUM, 0
$2
pass:	fence
	li TESTNUM, 1
	li a7, 93
	li a0, 0
	ecall
fail:	fence
1:	beqz TESTNUM, 1b
	sll TESTNUM, TESTNUM, 1
	or TESTNUM, TESTNUM, 1
	li a7, 93
	addi a0, TESTNUM, 0
	ecall
	.align 2
trap_vector:
	csrr t5, mcause
	li t6, 11 /* ecall from M */
	beq t5, t6, write_tohost
	j fail
write_tohost:
	sw TESTNUM, tohost, t5
	sw zero, tohost + 4, t5
	j write_tohost

	.pushsection .tohost, "aw", @progbits
	.align 6; .global tohost; tohost: .dword 0; .size tohost, 8
	.align 6; .global fromhost; fromhost: .dword 0; .size fromhost, 8
	.popsection
EOF
    riscv64-linux-gnu-gcc -march=rv64gc -mabi=lp64d -mcmodel=medany -nostdlib -nostartfiles \
        -static -no-pie -Wl,--build-id=none -Wl,--no-warn-rwx-segments -T "$TMP/link.ld" \
        -o "$TMP/$1.elf" "$TMP/$1.S" || fail "cannot assemble $1"
}
envp pass '	li TESTNUM, 2
	li a0, 5
	li a1, 5
	bne a0, a1, fail
	j pass'
envp fail7 '	li TESTNUM, 7
	li a0, 5
	li a1, 6
	bne a0, a1, fail
	j pass'
# common.h style: tohost, then the SiFive finisher at once (both in one run)
envp fail3fin '	li TESTNUM, 3
	li t0, 7 /* (3 << 1) | 1 */
	la t1, tohost
	sd t0, 0(t1)
	li t0, 0x100000
	li t1, 0x33333 /* finisher: fail, code 3 */
	sw t1, 0(t0)
1:	j 1b'
# HTIF console: device 1 (bcd), command 1 (write), then pass; Spike's host
# clears tohost after each byte, the program waits for that.
envp console '	la s0, msg
	la s1, tohost
2:	lbu a0, 0(s0)
	beqz a0, 4f
	li t0, 0x0101
	slli t0, t0, 48
	or t0, t0, a0
	sd t0, 0(s1)
3:	ld t0, 0(s1)
	bnez t0, 3b
	addi s0, s0, 1
	j 2b
4:	j pass
	.pushsection .data
msg:	.asciz "htif says hi\n"
	.popsection'
envp syscall '	la t0, tohost
	la t1, magic
	sd t1, 0(t0)
1:	j 1b
	.pushsection .data
	.align 6
magic:	.dword 64, 1, 0, 0, 0, 0, 0, 0
	.popsection'

# WFI wake-up at timer deadlines (MIE = 0: wake without a trap). Sstc:
# stimecmp 1000 ticks ahead with STIE set wakes exactly there; with STIE
# clear a stimecmp in the past must neither wake WFI nor keep the board
# from idling to the CLINT deadline (mtimecmp 2000 ticks ahead, MTIE).
envp wfi_timers '	li t0, 1
	slli t0, t0, 63
	csrs 0x30a, t0 /* menvcfg.STCE */
	li t0, 0x20
	csrw mie, t0 /* STIE */
	rdtime a0
	addi a1, a0, 1000
	csrw 0x14d, a1 /* stimecmp */
	wfi
	rdtime a2
	li TESTNUM, 2
	bltu a2, a1, fail /* woke too early */
	sub a4, a2, a1
	li t0, 10
	li TESTNUM, 3
	bgeu a4, t0, fail /* woke late */
	csrr a3, mip
	andi a3, a3, 0x20
	li TESTNUM, 4
	beqz a3, fail
	li t0, 0x80
	csrw mie, t0 /* MTIE only; STIP stays pending */
	li t0, 0x200bff8
	ld a1, 0(t0)
	addi a1, a1, 2000
	li t0, 0x2004000
	sd a1, 0(t0) /* mtimecmp */
	wfi
	rdtime a2
	li TESTNUM, 5
	bltu a2, a1, fail
	sub a4, a2, a1
	li t0, 10
	li TESTNUM, 6
	bgeu a4, t0, fail
	j pass'

status 0 "$M" -bios none -kernel "$TMP/wfi_timers.elf"
status 0 "$M" -bios none -kernel "$TMP/pass.elf"
status 0 timeout 60 "$M" -bios none -kernel "$TMP/pass.elf" -max-time 1s
for opt in "" "-max-time 1s"; do
    # shellcheck disable=SC2086
    status 1 timeout 60 "$M" -bios none -kernel "$TMP/fail7.elf" $opt
    expect_in "$TMP/err" "tohost: FAIL test 7"
    # shellcheck disable=SC2086
    status 1 timeout 60 "$M" -bios none -kernel "$TMP/fail3fin.elf" $opt
    expect_in "$TMP/err" "tohost: FAIL test 3"
done
status 0 "$M" -bios none -kernel "$TMP/console.elf"
[ "$(cat "$TMP/out")" = "htif says hi" ] || fail "HTIF console output: '$(cat "$TMP/out")'"
status 1 "$M" -bios none -kernel "$TMP/syscall.elf"
[ "$(wc -l <"$TMP/err")" = 1 ] && expect_in "$TMP/err" "tohost: unsupported HTIF request 0x"
echo "baremetal_machina: ok"
