/*
 * interrupts.S - interrupts: machine timer (CLINT mtimecmp/mtime, MTIE) and
 * software interrupt (msip, MSIE) with mcause/mepc/mip checks, global enable
 * (mstatus.MIE) gating in M and not below M, priority MSI over MTI,
 * vectored mtvec (interrupt n at base + 4n, exceptions at base), WFI wake-up
 * with MIE = 0, delegation (mideleg) of SSI/STI to an S handler, M
 * interrupts preempting S regardless of MIE, delegated S interrupts never
 * taken in M, and Sstc (menvcfg.STCE, stimecmp driving STIP).
 */
#include "common.h"

#define CLINT_MSIP 0x2000000
#define CLINT_MTIMECMP 0x2004000
#define CLINT_MTIME 0x200bff8
#define IRQ_SSI 1
#define IRQ_MSI 3
#define IRQ_STI 5
#define IRQ_MTI 7
#define INTR (1 << 63)
#define CSR_STIMECMP 0x14d
#define CSR_MENVCFG 0x30a

/* mtimecmp := mtime + delta (a0, a1 clobbered) */
.macro TIMER_IN delta
	li a0, CLINT_MTIME
	ld a1, 0(a0)
	li a0, \delta
	add a1, a1, a0
	li a0, CLINT_MTIMECMP
	sd a1, 0(a0)
.endm
.macro TIMER_OFF
	li a0, CLINT_MTIMECMP
	li a1, -1
	sd a1, 0(a0)
.endm
.macro MSIP_SET v
	li a0, CLINT_MSIP
	li a1, \v
	sw a1, 0(a0)
.endm

/* Spin until trap_frame.count reaches n (bounded); then check it. */
.macro WAIT_TRAPS n
	li a2, 50000000
.Lwait\@:
	TF_LOAD TF_COUNT
	li t6, \n
	bgeu t5, t6, .Lwait_done\@
	addi a2, a2, -1
	bnez a2, .Lwait\@
.Lwait_done\@:
	CHECK_TRAP_COUNT \n
.endm

	TEST_BEGIN
tests:
	TIMER_OFF
	MSIP_SET 0
	csrr a0, mip
	andi a0, a0, (1 << IRQ_MTI) | (1 << IRQ_MSI)
	CHECK a0, 0

	/* --- machine timer --- */
	li a0, (1 << IRQ_MTI)
	csrw mie, a0
	csrsi mstatus, MSTATUS_MIE
	CLEAR_TRAP
	EXPECT_TRAP_SKIP
	TIMER_IN 2000 /* 200 us at 10 MHz */
.Lspin1:
	WAIT_TRAPS 1
.Lspin1_end:
	csrci mstatus, MSTATUS_MIE
	TF_LOAD TF_CAUSE
	CHECK t5, INTR | IRQ_MTI
	TF_LOAD TF_EPC /* somewhere in the spin loop */
	la a0, .Lspin1
	sltu a0, t5, a0
	CHECK a0, 0
	TF_LOAD TF_EPC
	la a0, .Lspin1_end
	sltu a0, t5, a0
	CHECK a0, 1
	TF_LOAD TF_STATUS /* MPIE holds the MIE of the interrupted code */
	andi t5, t5, MSTATUS_MPIE | MSTATUS_MIE
	CHECK t5, MSTATUS_MPIE
	csrr a0, mip
	andi a0, a0, (1 << IRQ_MTI)
	CHECK a0, (1 << IRQ_MTI) /* still pending: mtime >= mtimecmp */
	csrr a0, mie
	CHECK a0, 0 /* the handler masked it */
	TIMER_OFF
	csrr a0, mip
	andi a0, a0, (1 << IRQ_MTI)
	CHECK a0, 0

	/* --- MIE gates M interrupts in M; enabling takes it at once --- */
	TIMER_IN 0
	li a0, (1 << IRQ_MTI)
	csrw mie, a0
	li a2, 1000
1:	addi a2, a2, -1
	bnez a2, 1b
	CHECK_TRAP_COUNT 1 /* pending + enabled, but MIE = 0 */
	EXPECT_TRAP_SKIP
	csrsi mstatus, MSTATUS_MIE
.Lafter_mie:
	nop
	csrci mstatus, MSTATUS_MIE
	CHECK_TRAP INTR | IRQ_MTI, .Lafter_mie
	TIMER_OFF

	/* --- software interrupt --- */
	MSIP_SET 1
	csrr a0, mip
	andi a0, a0, (1 << IRQ_MSI)
	CHECK a0, (1 << IRQ_MSI)
	li a0, (1 << IRQ_MSI)
	csrw mie, a0
	EXPECT_TRAP_SKIP
	csrsi mstatus, MSTATUS_MIE
.Lafter_msi:
	nop
	csrci mstatus, MSTATUS_MIE
	CHECK_TRAP INTR | IRQ_MSI, .Lafter_msi
	MSIP_SET 0
	csrr a0, mip
	andi a0, a0, (1 << IRQ_MSI)
	CHECK a0, 0
	CHECK_TRAP_COUNT 3

	/* --- priority: MSI before MTI --- */
	MSIP_SET 1
	TIMER_IN 0
	li a2, 1000
1:	addi a2, a2, -1
	bnez a2, 1b
	li a0, (1 << IRQ_MSI) | (1 << IRQ_MTI)
	csrw mie, a0
	EXPECT_TRAP_GOTO .Lprio1 /* resumes with MIE = 0 */
	csrsi mstatus, MSTATUS_MIE
	j fail
.Lprio1:
	TF_LOAD TF_CAUSE
	CHECK t5, INTR | IRQ_MSI
	MSIP_SET 0
	EXPECT_TRAP_SKIP
	csrsi mstatus, MSTATUS_MIE
	nop
	csrci mstatus, MSTATUS_MIE
	TF_LOAD TF_CAUSE
	CHECK t5, INTR | IRQ_MTI
	MSIP_SET 0
	TIMER_OFF
	CHECK_TRAP_COUNT 5

	/* --- vectored mtvec --- */
	la a0, vec_table
	ori a0, a0, 1
	csrw mtvec, a0
	la a3, vec_hits
	sd zero, 0(a3)
	MSIP_SET 1
	li a0, (1 << IRQ_MSI)
	csrw mie, a0
	csrsi mstatus, MSTATUS_MIE
	nop
	csrci mstatus, MSTATUS_MIE
	ld a0, 0(a3)
	CHECK a0, IRQ_MSI /* vec_msi ran */
	TIMER_IN 0
	li a0, (1 << IRQ_MTI)
	csrw mie, a0
	csrsi mstatus, MSTATUS_MIE
	nop
	csrci mstatus, MSTATUS_MIE
	ld a0, 0(a3)
	CHECK a0, IRQ_MSI * 16 + IRQ_MTI /* then vec_mti */
	EXPECT_TRAP_SKIP
.Lvec_ecall:
	ecall /* exceptions use the base */
	CHECK_TRAP CAUSE_ECALL_M, .Lvec_ecall
	ld a0, 0(a3)
	CHECK a0, IRQ_MSI * 16 + IRQ_MTI
	la a0, trap_handler
	csrw mtvec, a0

	/* --- WFI wakes on a pending enabled interrupt even with MIE = 0 --- */
	li a0, (1 << IRQ_MTI)
	csrw mie, a0
	TIMER_IN 1000
	wfi
	csrr a0, mip
	andi a0, a0, (1 << IRQ_MTI)
	CHECK a0, (1 << IRQ_MTI)
	TIMER_OFF
	csrw mie, zero
	CHECK_TRAP_COUNT 6

	/* --- delegation to S --- */
	la a0, s_handler
	csrw stvec, a0
	li a0, (1 << IRQ_SSI) | (1 << IRQ_STI)
	csrw mideleg, a0
	csrw mie, a0 /* SSIE | STIE */
	li a0, (1 << IRQ_STI)
	csrs mip, a0 /* M raises STIP (menvcfg.STCE = 0) */
	csrci mstatus, MSTATUS_MIE
	li a0, 10000
1:	addi a0, a0, -1 /* delegated S interrupts are never taken in M */
	bnez a0, 1b
	CHECK_TRAP_COUNT 6
	la a3, s_log
	sd zero, 0(a3)
	li a0, MSTATUS_SPIE | MSTATUS_SIE
	csrs sstatus, a0
	EXPECT_TRAP_GOTO .Ls_done
	GOTO_PRIV 1, .Ls_code
.Ls_code:
	nop /* STI taken here by s_handler, which masks STIE */
	csrsi sip, 1 << IRQ_SSI /* S raises its own SSI */
	nop
	ecall
.Ls_done:
	CHECK_TRAP CAUSE_ECALL_S, .Ls_done - 4
	ld a0, 0(a3)
	CHECK a0, IRQ_STI * 16 + IRQ_SSI
	csrr a0, scause
	CHECK a0, INTR | IRQ_SSI
	li a0, (1 << IRQ_STI)
	csrc mip, a0
	csrw mideleg, zero

	/* --- M interrupts preempt S even with MIE = 0 --- */
	MSIP_SET 1
	li a0, (1 << IRQ_MSI)
	csrw mie, a0
	csrci mstatus, MSTATUS_MIE
	CLEAR_TRAP
	EXPECT_TRAP_GOTO .Lms_done
	GOTO_PRIV 1, .Lms_code
.Lms_code:
	nop
	j .Lms_code
.Lms_done:
	TF_LOAD TF_CAUSE
	CHECK t5, INTR | IRQ_MSI
	CHECK_TRAP_MPP 1
	MSIP_SET 0
	/* a non-delegated S interrupt from S goes to M */
	li a0, (1 << IRQ_SSI)
	csrw mie, a0
	csrs mip, a0
	li a0, MSTATUS_SIE
	csrc sstatus, a0
	EXPECT_TRAP_GOTO .Lssi_m_done
	GOTO_PRIV 1, .Lms_code
.Lssi_m_done:
	TF_LOAD TF_CAUSE
	CHECK t5, INTR | IRQ_SSI
	li a0, (1 << IRQ_SSI)
	csrc mip, a0
	csrw mie, zero

	/* --- Sstc: stimecmp drives STIP when menvcfg.STCE = 1 --- */
	li a0, 1
	slli a0, a0, 63
	csrs CSR_MENVCFG, a0
	li a0, -1
	csrw CSR_STIMECMP, a0
	csrr a0, mip
	andi a0, a0, (1 << IRQ_STI)
	CHECK a0, 0
	rdtime a0
	addi a0, a0, 100
	csrw CSR_STIMECMP, a0
	li a2, 50000000
1:	csrr a0, mip
	andi a0, a0, (1 << IRQ_STI)
	bnez a0, 2f
	addi a2, a2, -1
	bnez a2, 1b
2:	CHECK a0, (1 << IRQ_STI)
	li a0, -1
	csrw CSR_STIMECMP, a0
	csrr a0, mip
	andi a0, a0, (1 << IRQ_STI)
	CHECK a0, 0
	li a0, 1
	slli a0, a0, 63
	csrc CSR_MENVCFG, a0

	TEST_END

	/* vectored table: entry n at base + 4 n */
	.text
	.align 8
	.option push
	.option norvc /* 4-byte entries */
vec_table:
	j trap_handler /* 0: exceptions */
	j fail /* 1 */
	j fail /* 2 */
	j vec_msi /* 3 */
	j fail /* 4 */
	j fail /* 5 */
	j fail /* 6 */
	j vec_mti /* 7 */
	j fail
	j fail
	j fail
	j fail
	.option pop

	/* vec_hits := vec_hits * 16 + n, silence the source, return */
vec_msi:
	csrw mscratch, t0 /* the frame pointer is restored below */
	sd t1, -8(sp)
	li t0, CLINT_MSIP
	sw zero, 0(t0)
	la t0, vec_hits
	ld t0, 0(t0)
	slli t0, t0, 4
	addi t0, t0, IRQ_MSI
	j vec_out
vec_mti:
	csrw mscratch, t0
	sd t1, -8(sp)
	li t0, -1
	li t1, CLINT_MTIMECMP
	sd t0, 0(t1)
	la t0, vec_hits
	ld t0, 0(t0)
	slli t0, t0, 4
	addi t0, t0, IRQ_MTI
vec_out:
	la t1, vec_hits
	sd t0, 0(t1)
	ld t1, -8(sp)
	la t0, trap_frame
	csrrw t0, mscratch, t0
	mret

	/* S handler: s_log := s_log * 16 + cause, mask that interrupt in sie */
	.align 2
s_handler:
	csrw sscratch, t0
	csrr t0, scause
	bgez t0, fail /* only interrupts are expected in S */
	andi t0, t0, 63
	sd t1, -8(sp)
	la t1, s_log
	ld t1, 0(t1)
	slli t1, t1, 4
	add t1, t1, t0
	sd t1, -16(sp)
	la t1, s_log
	sd t0, -24(sp)
	ld t0, -16(sp)
	sd t0, 0(t1)
	ld t0, -24(sp)
	li t1, 1
	sll t1, t1, t0
	csrc sie, t1
	csrc sip, t1 /* SSIP is writable; STIP is not (no effect) */
	ld t1, -8(sp)
	csrr t0, sscratch
	sret

	.data
	.align 3
vec_hits: .dword 0
s_log:	.dword 0
