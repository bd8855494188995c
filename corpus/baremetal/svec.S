/*
 * svec.S - S-mode vectored interrupts: stvec in vectored mode, SSI and
 * STI (Sstc: menvcfg.STCE, stimecmp written from S with mcounteren.TM)
 * delegated through mideleg and taken in S at stvec base + 4 * cause,
 * exceptions (U ecall delegated through medeleg) at the base, SSI before
 * STI when both are pending, sret back to the interrupted code with SIE
 * restored from SPIE.
 *
 * The S handler logs each entry: s_log := s_log * 16 + n (n = vector
 * index, 8 for the U ecall), silences the source and returns with sret.
 * S/U code goes back to M with an ecall from S (not delegated) or an
 * illegal instruction from U.
 */
#include "common.h"

#define IRQ_SSI 1
#define IRQ_STI 5
#define INTR (1 << 63)
#define CSR_STIMECMP 0x14d
#define CSR_MENVCFG 0x30a

	TEST_BEGIN
tests:
	la a0, s_vec
	ori a0, a0, 1 /* vectored */
	csrw stvec, a0
	csrr a1, stvec
	CHECK_EQR a1, a0
	li a0, (1 << IRQ_SSI) | (1 << IRQ_STI)
	csrw mideleg, a0
	csrw mie, a0 /* SSIE | STIE */
	li a0, 1 << CAUSE_ECALL_U
	csrw medeleg, a0
	li a0, 1
	slli a0, a0, 63
	csrs CSR_MENVCFG, a0 /* Sstc on: STIP = time >= stimecmp */
	li a0, -1
	csrw CSR_STIMECMP, a0
	csrsi mcounteren, 2 /* TM: S may access stimecmp */
	csrr a0, mip
	andi a0, a0, (1 << IRQ_SSI) | (1 << IRQ_STI)
	CHECK a0, 0
	la a3, s_log
	sd zero, 0(a3)

	/* --- SSI raised by S itself: vector entry 1 --- */
	EXPECT_TRAP_GOTO .Ldone1
	GOTO_PRIV 1, .Ls1
.Ls1:
	csrsi sstatus, MSTATUS_SIE
	csrsi sip, 1 << IRQ_SSI /* taken right after this instruction */
	nop
	ecall
.Ldone1:
	CHECK_TRAP CAUSE_ECALL_S, .Ldone1 - 4
	ld a0, 0(a3)
	CHECK a0, IRQ_SSI
	csrr a0, scause
	CHECK a0, INTR | IRQ_SSI
	csrr a0, sepc /* the nop: the interrupt came after the csrsi */
	CHECK_ADDR a0, .Ls1 + 8

	/* --- STI from stimecmp (written in S, in the past): entry 5 --- */
	sd zero, 0(a3)
	EXPECT_TRAP_GOTO .Ldone2
	GOTO_PRIV 1, .Ls2
.Ls2:
	csrsi sstatus, MSTATUS_SIE
	csrw CSR_STIMECMP, zero
	nop
	ecall
.Ldone2:
	CHECK_TRAP CAUSE_ECALL_S, .Ldone2 - 4
	ld a0, 0(a3)
	CHECK a0, IRQ_STI
	csrr a0, scause
	CHECK a0, INTR | IRQ_STI
	csrr a0, CSR_STIMECMP /* the handler disarmed it */
	CHECK a0, -1

	/* --- both pending while SIE = 0: SSI first, then STI --- */
	sd zero, 0(a3)
	EXPECT_TRAP_GOTO .Ldone3
	GOTO_PRIV 1, .Ls3
.Ls3:
	csrci sstatus, MSTATUS_SIE
	csrsi sip, 1 << IRQ_SSI
	csrw CSR_STIMECMP, zero
	nop /* nothing taken: SIE = 0 */
	csrsi sstatus, MSTATUS_SIE
	nop
	ecall
.Ldone3:
	CHECK_TRAP CAUSE_ECALL_S, .Ldone3 - 4
	ld a0, 0(a3)
	CHECK a0, IRQ_SSI * 16 + IRQ_STI

	/* --- a delegated exception goes to the base, not to base + 4 * 8 --- */
	sd zero, 0(a3)
	EXPECT_TRAP_GOTO .Ldone4
	GOTO_PRIV 0, .Lu4
.Lu4:
	ecall /* to S at the base; the handler skips it */
.Lu4_ill:
	csrr a0, mstatus /* illegal in U, not delegated: back to M */
.Ldone4:
	CHECK_TRAP CAUSE_ILLEGAL, .Lu4_ill
	ld a0, 0(a3)
	CHECK a0, CAUSE_ECALL_U
	csrr a0, scause
	CHECK a0, CAUSE_ECALL_U
	csrr a0, sepc
	CHECK_ADDR a0, .Lu4_ill
	csrr a0, sstatus /* SPP = U */
	andi a0, a0, MSTATUS_SPP
	CHECK a0, 0

	/* --- clean up --- */
	li a0, -1
	csrw CSR_STIMECMP, a0
	li a0, 1
	slli a0, a0, 63
	csrc CSR_MENVCFG, a0
	csrw mie, zero
	csrw mideleg, zero
	csrw medeleg, zero
	csrw mcounteren, zero

	TEST_END

	/* vectored S table: entry n at s_vec + 4 n */
	.text
	.align 8
	.option push
	.option norvc
s_vec:
	j s_exc /* 0: exceptions */
	j s_ssi /* 1: SSI */
	j fail
	j fail
	j fail
	j s_sti /* 5: STI */
	j fail
	j fail
	j fail
	j fail
	.option pop

s_ssi:
	csrci sip, 1 << IRQ_SSI
	li t0, IRQ_SSI
	j s_log_ret
s_sti:
	li t0, -1
	csrw CSR_STIMECMP, t0
	li t0, IRQ_STI
	j s_log_ret
s_exc:
	csrr t0, sepc
	addi t0, t0, 4
	csrw sepc, t0
	csrr t0, scause
s_log_ret: /* s_log := s_log * 16 + t0 */
	la t1, s_log
	ld t1, 0(t1)
	slli t1, t1, 4
	add t0, t1, t0
	la t1, s_log
	sd t0, 0(t1)
	sret

	.data
	.align 3
s_log:	.dword 0
