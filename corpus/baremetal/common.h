/*
 * common.h - shared harness of the machina bare-metal tests (.S files).
 *
 * Conventions (HTIF, as in riscv-tests and Spike):
 *   - every program defines tohost (8-byte, in section .tohost, 64-byte
 *     aligned) and fromhost after it; it writes 1 to tohost on success and
 *     (n << 1) | 1 when check n failed;
 *   - so that the same ELF also ends under QEMU virt, it then writes the
 *     SiFive test finisher at 0x100000: 0x5555 (pass) or 0x3333 | n << 16
 *     (QEMU exits with status n), and spins.
 *
 * Registers: gp (x3) holds the number of the check about to run; t6 is the
 * scratch register of the CHECK macros; sp points to the stack; test code
 * may use everything else.  Checks are numbered automatically 1, 2, ... in
 * source order (at most 253 per program, enforced at assembly time): a
 * failure reports the first check that did not pass, either because its
 * comparison failed or because an unexpected trap came before it.  To map
 * a number back to the source, `objdump -d` and look for `li gp,N+1` after
 * the failing check, or count CHECK lines.
 *
 * Traps: mtvec points to trap_handler (direct mode), mscratch to trap_frame.
 * The handler records mcause/mepc/mtval/mstatus and counts the trap, then
 *   - trap_resume == 0: unexpected trap -> fail with the current gp;
 *   - trap_resume == 1: resume after the trapping instruction (mepc += 2/4,
 *     same privilege; the instruction must be readable at mepc physically);
 *     for an interrupt: clear its enable bit in mie and return to mepc;
 *   - otherwise: resume at address trap_resume in M-mode (MPP := M,
 *     MPRV := 0, MPIE := 0 so that M code runs with MIE = 0).
 * trap_resume is cleared by every expected trap (one shot).
 *
 * At reset the harness sets PMP entry 0 to NAPOT "all memory, RWX" so S and
 * U can touch memory (no PMP entry matching means no access below M), turns
 * the FPU on (mstatus.FS = Initial), and jumps to the program's `tests`.
 * A program ends with `j pass` (or falls into TEST_END).
 */
#ifndef MACHINA_BAREMETAL_COMMON_H
#define MACHINA_BAREMETAL_COMMON_H

#define FINISHER 0x100000
#define FINISHER_PASS 0x5555
#define FINISHER_FAIL 0x3333

#define MSTATUS_SIE (1 << 1)
#define MSTATUS_MIE (1 << 3)
#define MSTATUS_SPIE (1 << 5)
#define MSTATUS_MPIE (1 << 7)
#define MSTATUS_SPP (1 << 8)
#define MSTATUS_MPP (3 << 11)
#define MSTATUS_MPP_S (1 << 11)
#define MSTATUS_FS (3 << 13)
#define MSTATUS_MPRV (1 << 17)
#define MSTATUS_SUM (1 << 18)
#define MSTATUS_MXR (1 << 19)
#define MSTATUS_TVM (1 << 20)
#define MSTATUS_TW (1 << 21)
#define MSTATUS_TSR (1 << 22)

#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS 1
#define CAUSE_ILLEGAL 2
#define CAUSE_BREAKPOINT 3
#define CAUSE_MISALIGNED_LOAD 4
#define CAUSE_LOAD_ACCESS 5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS 7
#define CAUSE_ECALL_U 8
#define CAUSE_ECALL_S 9
#define CAUSE_ECALL_M 11
#define CAUSE_FETCH_PAGE 12
#define CAUSE_LOAD_PAGE 13
#define CAUSE_STORE_PAGE 15

/* trap_frame layout (bytes) */
#define TF_T0 0
#define TF_T1 8
#define TF_T2 16
#define TF_CAUSE 24
#define TF_EPC 32
#define TF_TVAL 40
#define TF_STATUS 48
#define TF_COUNT 56
#define TF_RESUME 64
#define TF_SIZE 128

	.option nopic /* `la` is a plain pc-relative address, no GOT */
	.set __check, 0

/* --- checks ------------------------------------------------------------- */

/* Fail unless registers a and b are equal. */
.macro CHECK_EQR a, b
	.set __check, __check + 1
	.if __check > 253
	.error "too many checks in one program (max 253: QEMU exit status is 8 bits)"
	.endif
	beq \a, \b, .Lok\@
	j fail
.Lok\@:
	li gp, __check + 1
.endm

/* Fail unless register r equals the constant v. */
.macro CHECK r, v
	.ifc \r, t6
	.error "CHECK cannot test t6 (its scratch register)"
	.endif
	li t6, \v
	CHECK_EQR \r, t6
.endm

/* Fail unless register r holds the address of label l. */
.macro CHECK_ADDR r, l
	la t6, \l
	CHECK_EQR \r, t6
.endm

/* Fail unless CSR c reads as the constant v (uses t5). */
.macro CHECK_CSR c, v
	csrr t5, \c
	CHECK t5, \v
.endm

/* Load field off of trap_frame into t5. */
.macro TF_LOAD off
	la t5, trap_frame
	ld t5, \off(t5)
.endm

/* Check the last recorded trap: cause and mepc (a label). */
.macro CHECK_TRAP cause, epc
	TF_LOAD TF_CAUSE
	CHECK t5, \cause
	TF_LOAD TF_EPC
	CHECK_ADDR t5, \epc
.endm

/* Check the last trap: cause is c1 or c2 (documented QEMU deviations). */
.macro CHECK_TRAP_EITHER c1, c2, epc
	TF_LOAD TF_CAUSE
	li t6, \c1
	bne t5, t6, .Leither\@
	li t5, \c2 /* c1 counts as c2 */
.Leither\@:
	CHECK t5, \c2
	TF_LOAD TF_EPC
	CHECK_ADDR t5, \epc
.endm

/* Check the last recorded mtval against a constant / a label / a register. */
.macro CHECK_TVAL v
	TF_LOAD TF_TVAL
	CHECK t5, \v
.endm
.macro CHECK_TVAL_ADDR l
	TF_LOAD TF_TVAL
	CHECK_ADDR t5, \l
.endm
.macro CHECK_TVAL_REG r
	TF_LOAD TF_TVAL
	CHECK_EQR t5, \r
.endm

/* Check mstatus.MPP at the last trap (the privilege the trap came from). */
.macro CHECK_TRAP_MPP mpp
	TF_LOAD TF_STATUS
	srli t5, t5, 11
	andi t5, t5, 3
	CHECK t5, \mpp
.endm

/* Check the number of traps taken so far. */
.macro CHECK_TRAP_COUNT n
	TF_LOAD TF_COUNT
	CHECK t5, \n
.endm

/* --- floating point (scratch t4) ---------------------------------------- */

/* f := the 32-bit / 64-bit pattern bits (fmv.w.x NaN-boxes the single). */
.macro LI_S f, bits
	li t4, \bits
	fmv.w.x \f, t4
.endm
.macro LI_D f, bits
	li t4, \bits
	fmv.d.x \f, t4
.endm

/* Fail unless the low 32 bits (single) / 64 bits (double) of f equal bits. */
.macro CHECK_FS f, bits
	fmv.x.w t4, \f
	slli t4, t4, 32
	srli t4, t4, 32
	CHECK t4, \bits
.endm
.macro CHECK_FD f, bits
	fmv.x.d t4, \f
	CHECK t4, \bits
.endm

/* Fail unless fflags equals v; clears fflags. */
.macro CHECK_FFLAGS v
	csrrw t4, fflags, zero
	CHECK t4, \v
.endm

/* --- expecting traps (clobber t5, t6) ------------------------------------ */

/* The next trap is expected: resume after the trapping instruction (or,
 * for an interrupt, mask it in mie and return). */
.macro EXPECT_TRAP_SKIP
	la t5, trap_frame
	li t6, 1
	sd t6, TF_RESUME(t5)
.endm

/* The next trap is expected: resume at label l in M-mode. */
.macro EXPECT_TRAP_GOTO l
	la t5, trap_frame
	la t6, \l
	sd t6, TF_RESUME(t5)
.endm

/* Clear the record of the last trap (cause := -1, count kept). */
.macro CLEAR_TRAP
	la t5, trap_frame
	li t6, -1
	sd t6, TF_CAUSE(t5)
	sd zero, TF_EPC(t5)
	sd zero, TF_TVAL(t5)
.endm

/* Drop from M to privilege mpp (0 U, 1 S) at label l, interrupts as set. */
.macro GOTO_PRIV mpp, l
	li t5, MSTATUS_MPP
	csrc mstatus, t5
	li t5, (\mpp << 11)
	csrs mstatus, t5
	la t5, \l
	csrw mepc, t5
	mret
.endm

/* --- program frame ------------------------------------------------------ */

/* Entry, reset code and M-mode trap handler; then falls into `tests`. */
.macro TEST_BEGIN
	.section .text.init, "ax", @progbits
	.globl _start
_start:
	li gp, 0
	la sp, stack_top
	la t0, trap_frame
	csrw mscratch, t0
	la t0, trap_handler
	csrw mtvec, t0
	csrw mie, zero
	csrw medeleg, zero
	csrw mideleg, zero
	csrw satp, zero
	li t0, -1
	csrw pmpaddr0, t0
	li t0, 0x1f /* NAPOT, RWX, not locked */
	csrw pmpcfg0, t0
	li t0, MSTATUS_FS
	csrc mstatus, t0
	li t0, (1 << 13) /* FS = Initial */
	csrs mstatus, t0
	csrw fcsr, zero
	li gp, 1
	j tests

	.align 2
	.globl trap_handler
trap_handler:
	csrrw sp, mscratch, sp
	sd t0, TF_T0(sp)
	sd t1, TF_T1(sp)
	sd t2, TF_T2(sp)
	csrr t0, mcause
	sd t0, TF_CAUSE(sp)
	csrr t0, mepc
	sd t0, TF_EPC(sp)
	csrr t0, mtval
	sd t0, TF_TVAL(sp)
	csrr t0, mstatus
	sd t0, TF_STATUS(sp)
	ld t0, TF_COUNT(sp)
	addi t0, t0, 1
	sd t0, TF_COUNT(sp)
	ld t0, TF_RESUME(sp)
	beqz t0, .Lunexpected
	sd zero, TF_RESUME(sp)
	li t1, 1
	bne t0, t1, .Lresume_at
	csrr t1, mcause
	bgez t1, .Lskip
	andi t1, t1, 63 /* interrupt: mask it in mie, return to mepc */
	li t2, 1
	sll t2, t2, t1
	csrc mie, t2
	j .Lreturn
.Lskip:
	csrr t0, mepc /* skip the trapping instruction */
	lhu t1, 0(t0)
	andi t1, t1, 3
	li t2, 3
	addi t0, t0, 2
	bne t1, t2, 1f
	addi t0, t0, 2
1:	csrw mepc, t0
	j .Lreturn
.Lresume_at:
	csrw mepc, t0
	li t1, MSTATUS_MPP
	csrs mstatus, t1
	li t1, MSTATUS_MPRV | MSTATUS_MPIE /* back in M with MIE = 0 */
	csrc mstatus, t1
.Lreturn:
	ld t0, TF_T0(sp)
	ld t1, TF_T1(sp)
	ld t2, TF_T2(sp)
	csrrw sp, mscratch, sp
	mret
.Lunexpected:
	csrrw sp, mscratch, sp
	j fail

	.text
.endm

/* pass/fail reporting and the data every program needs. */
.macro TEST_END
	j pass
	.text
	.align 2
	.globl pass
pass:
	fence
	li t0, 1
	la t1, tohost
	sd t0, 0(t1)
	li t0, FINISHER
	li t1, FINISHER_PASS
	sw t1, 0(t0)
1:	j 1b

	.globl fail
fail:
	fence
	bnez gp, 2f
	li gp, 255 /* failure before any check: never report 0 */
2:	slli t0, gp, 1
	ori t0, t0, 1
	la t1, tohost
	sd t0, 0(t1)
	slli t0, gp, 16
	li t1, FINISHER_FAIL
	or t0, t0, t1
	li t1, FINISHER
	sw t0, 0(t1)
1:	j 1b

/* Debug aid: print a0 as 16 hex digits and a newline on the UART (QEMU's
 * NS16550A needs no setup for output).  Clobbers t0-t3.  Not used by checks. */
	.globl dbg_hex
dbg_hex:
	li t0, 0x10000000
	li t1, 60
1:	srl t2, a0, t1
	andi t2, t2, 15
	addi t2, t2, '0'
	li t3, '9'
	ble t2, t3, 2f
	addi t2, t2, 'a' - '0' - 10
2:	sb t2, 0(t0)
	addi t1, t1, -4
	bgez t1, 1b
	li t2, '\n'
	sb t2, 0(t0)
	ret

	.section .tohost, "aw", @progbits
	.align 6
	.globl tohost
tohost:
	.dword 0
	.align 6
	.globl fromhost
fromhost:
	.dword 0

	.data
	.align 6
	.globl trap_frame
trap_frame:
	.dword 0, 0, 0, -1, 0, 0, 0, 0, 0
	.fill (TF_SIZE - 72), 1, 0
	.text
.endm

#endif
