/*
 * privilege.S - privilege transitions and delegation: mret to S and U, sret
 * to U and S (SPP/SIE/SPIE stacking), medeleg delegating ecall-from-U,
 * ecall-from-S and illegal instruction to S (scause/sepc/stval/SPP checked
 * in an S-mode handler), traps from M never delegated, mstatus.TSR (sret in
 * S traps), mstatus.TW and WFI (U always traps in QEMU, S traps only with
 * TW), mstatus.TVM (satp and sfence.vma in S trap), MPRV in M.
 *
 * S-mode handler (stvec = s_trap_handler, sscratch = s_frame): records
 * scause/sepc/stval/sstatus, then resumes at s_frame.resume in S-mode
 * (one shot) or, when that is 0, after the trapping 4-byte instruction.
 */
#include "common.h"

#define SF_CAUSE 0
#define SF_EPC 8
#define SF_TVAL 16
#define SF_STATUS 24
#define SF_COUNT 32
#define SF_RESUME 40
#define SF_T0 48
#define SF_T1 56

.macro SF_LOAD off
	la t5, s_frame
	ld t5, \off(t5)
.endm

.macro S_EXPECT_GOTO l
	la t5, s_frame
	la t6, \l
	sd t6, SF_RESUME(t5)
.endm

	TEST_BEGIN
tests:
	la a0, s_trap_handler
	csrw stvec, a0
	la a0, s_frame
	csrw sscratch, a0

	/* --- mret to S and U: the privilege shows in the ecall cause --- */
	CLEAR_TRAP
	EXPECT_TRAP_GOTO 1f
	GOTO_PRIV 1, .Lin_s
.Lin_s:
	ecall
1:	CHECK_TRAP CAUSE_ECALL_S, .Lin_s
	EXPECT_TRAP_GOTO 1f
	GOTO_PRIV 0, .Lin_u
.Lin_u:
	ecall
1:	CHECK_TRAP CAUSE_ECALL_U, .Lin_u

	/* --- sret from M to U and to S --- */
	li a0, MSTATUS_SPP | MSTATUS_SIE
	csrc sstatus, a0
	li a0, MSTATUS_SPIE
	csrs sstatus, a0
	la a0, .Lsret_u
	csrw sepc, a0
	EXPECT_TRAP_GOTO 1f
	sret
.Lsret_u:
	ecall
1:	CHECK_TRAP CAUSE_ECALL_U, .Lsret_u
	csrr a0, sstatus /* SIE := SPIE = 1, SPIE := 1, SPP := U */
	andi a0, a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
	CHECK a0, MSTATUS_SIE | MSTATUS_SPIE
	csrci sstatus, MSTATUS_SIE
	li a0, MSTATUS_SPP
	csrs sstatus, a0
	la a0, .Lsret_s
	csrw sepc, a0
	EXPECT_TRAP_GOTO 1f
	sret
.Lsret_s:
	ecall
1:	CHECK_TRAP CAUSE_ECALL_S, .Lsret_s
	/* sret from S to U */
	EXPECT_TRAP_GOTO 1f
	GOTO_PRIV 1, 2f
2:	li a0, MSTATUS_SPP
	csrc sstatus, a0
	la a0, .Lsret_su
	csrw sepc, a0
	sret
.Lsret_su:
	ecall
1:	CHECK_TRAP CAUSE_ECALL_U, .Lsret_su

	/* --- delegate ecall from U to S --- */
	li a0, (1 << CAUSE_ECALL_U)
	csrw medeleg, a0
	EXPECT_TRAP_GOTO .Ldeleg_u_back
	GOTO_PRIV 0, .Ldeleg_u
.Ldeleg_u:
	li a0, 0x11
.Ldeleg_u_ecall:
	ecall /* to S, which skips it */
	li a0, 0x22
	S_EXPECT_GOTO .Ldeleg_s_cont
	ecall /* to S, which resumes in S at .Ldeleg_s_cont */
	j fail
.Ldeleg_s_cont:
	ecall /* ecall from S is not delegated: to M */
	j fail
.Ldeleg_u_back:
	CHECK a0, 0x22
	CHECK_TRAP CAUSE_ECALL_S, .Ldeleg_s_cont
	SF_LOAD SF_CAUSE
	CHECK t5, CAUSE_ECALL_U
	SF_LOAD SF_TVAL
	CHECK t5, 0
	SF_LOAD SF_STATUS
	andi t5, t5, MSTATUS_SPP
	CHECK t5, 0 /* came from U */
	SF_LOAD SF_COUNT
	CHECK t5, 2
	csrr a0, scause
	CHECK a0, CAUSE_ECALL_U
	TF_LOAD TF_COUNT
	mv s2, t5

	/* --- delegate illegal instruction; stval = the bits --- */
	li a0, (1 << CAUSE_ILLEGAL) | (1 << CAUSE_ECALL_S)
	csrw medeleg, a0
	EXPECT_TRAP_GOTO .Ldeleg_ill_back
	GOTO_PRIV 0, .Ldeleg_ill
.Ldeleg_ill:
	.word 0x0000500b
	S_EXPECT_GOTO .Ldeleg_ill_s
	csrr a0, sstatus /* S CSR from U: illegal, to S */
	j fail
.Ldeleg_ill_s:
	/* in S: an ecall is now delegated too, to S itself */
	la a1, .Ldeleg_ill_s_ecall
.Ldeleg_ill_s_ecall:
	ecall
	csrr a2, sstatus /* after the handler's sret: SPP = U */
	.word 0x0000500b /* illegal in S: to S as well */
.Ldeleg_ill_end:
	ebreak /* not delegated: back to M */
	j fail
.Ldeleg_ill_back:
	CHECK_TRAP CAUSE_BREAKPOINT, .Ldeleg_ill_end
	csrr a0, scause
	CHECK a0, CAUSE_ILLEGAL
	csrr a0, stval
	CHECK a0, 0x0000500b
	andi a2, a2, MSTATUS_SPP
	CHECK a2, 0
	SF_LOAD SF_STATUS /* the last S trap came from S */
	andi t5, t5, MSTATUS_SPP
	CHECK t5, MSTATUS_SPP
	SF_LOAD SF_EPC
	CHECK_ADDR t5, .Ldeleg_ill_end - 4
	SF_LOAD SF_COUNT
	CHECK t5, 6
	/* traps taken in M are never delegated */
	EXPECT_TRAP_SKIP
.Lill_m:
	.word 0x0000500b
	CHECK_TRAP CAUSE_ILLEGAL, .Lill_m
	SF_LOAD SF_COUNT
	CHECK t5, 6
	csrw medeleg, zero

	/* --- mstatus.TSR --- */
	li a0, MSTATUS_TSR
	csrs mstatus, a0
	EXPECT_TRAP_GOTO 1f
	GOTO_PRIV 1, .Ltsr
.Ltsr:
	sret
	j fail
1:	CHECK_TRAP CAUSE_ILLEGAL, .Ltsr
	CHECK_TVAL 0x10200073
	li a0, MSTATUS_SPP /* sret in M is fine even with TSR */
	csrs sstatus, a0
	la a0, 2f
	csrw sepc, a0
	EXPECT_TRAP_GOTO 1f
	sret
2:	ecall
1:	CHECK_TRAP CAUSE_ECALL_S, 2b
	li a0, MSTATUS_TSR
	csrc mstatus, a0

	/* --- WFI: TW, and U-mode --- */
	li a0, 2
	csrw mideleg, a0 /* SSIP pending and enabled, SIE off: wfi won't sleep */
	csrw sie, a0
	csrw sip, a0
	csrci sstatus, MSTATUS_SIE
	EXPECT_TRAP_GOTO 1f
	GOTO_PRIV 1, .Lwfi_s
.Lwfi_s:
	wfi /* TW = 0: completes */
.Lwfi_s_ecall:
	ecall
1:	CHECK_TRAP CAUSE_ECALL_S, .Lwfi_s_ecall
	li a0, MSTATUS_TW
	csrs mstatus, a0
	EXPECT_TRAP_GOTO 1f
	GOTO_PRIV 1, .Lwfi_tw
.Lwfi_tw:
	wfi
	j fail
1:	CHECK_TRAP CAUSE_ILLEGAL, .Lwfi_tw
	CHECK_TVAL 0x10500073
	li a0, MSTATUS_TW
	csrc mstatus, a0
	csrw sip, zero /* in U the pending SSIP would be taken at once */
	EXPECT_TRAP_GOTO 1f
	GOTO_PRIV 0, .Lwfi_u
.Lwfi_u:
	wfi
	j fail
1:	CHECK_TRAP CAUSE_ILLEGAL, .Lwfi_u
	csrw mideleg, zero
	li a0, 2
	csrw mie, a0
	csrs mip, a0 /* not delegated any more: set through mip */
	wfi /* in M, pending and enabled in mie, MIE = 0: no sleep, no trap */
	csrc mip, a0
	csrw mie, zero

	/* --- mstatus.TVM --- */
	EXPECT_TRAP_GOTO 1f
	GOTO_PRIV 1, 2f
2:	csrr a0, satp /* TVM = 0: fine */
	sfence.vma
.Ltvm0_ecall:
	ecall
1:	CHECK_TRAP CAUSE_ECALL_S, .Ltvm0_ecall
	li a0, MSTATUS_TVM
	csrs mstatus, a0
	EXPECT_TRAP_GOTO 1f
	GOTO_PRIV 1, .Ltvm_satp
.Ltvm_satp:
	csrr a0, satp
	j fail
1:	CHECK_TRAP CAUSE_ILLEGAL, .Ltvm_satp
	EXPECT_TRAP_GOTO 1f
	GOTO_PRIV 1, .Ltvm_sfence
.Ltvm_sfence:
	sfence.vma
	j fail
1:	CHECK_TRAP CAUSE_ILLEGAL, .Ltvm_sfence
	csrr a0, satp /* M is not affected */
	sfence.vma
	li a0, MSTATUS_TVM
	csrc mstatus, a0

	/* --- MPRV: M loads and stores with the privilege in MPP --- */
	la a1, pdata
	li a0, 0x77
	li a2, MSTATUS_MPRV | MSTATUS_MPP
	csrc mstatus, a2
	li a2, MSTATUS_MPRV /* MPP = U, bare satp: plain access under U's PMP */
	csrs mstatus, a2
	sd a0, 0(a1)
	ld a3, 0(a1)
	csrc mstatus, a2
	CHECK a3, 0x77

	TEST_END

	.text
	.align 2
s_trap_handler:
	csrrw sp, sscratch, sp
	sd t0, SF_T0(sp)
	sd t1, SF_T1(sp)
	csrr t0, scause
	sd t0, SF_CAUSE(sp)
	csrr t0, sepc
	sd t0, SF_EPC(sp)
	csrr t0, stval
	sd t0, SF_TVAL(sp)
	csrr t0, sstatus
	sd t0, SF_STATUS(sp)
	ld t0, SF_COUNT(sp)
	addi t0, t0, 1
	sd t0, SF_COUNT(sp)
	ld t0, SF_RESUME(sp)
	beqz t0, 1f
	sd zero, SF_RESUME(sp)
	csrw sepc, t0
	li t0, MSTATUS_SPP
	csrs sstatus, t0
	j 2f
1:	csrr t0, sepc
	addi t0, t0, 4
	csrw sepc, t0
2:	ld t0, SF_T0(sp)
	ld t1, SF_T1(sp)
	csrrw sp, sscratch, sp
	sret

	.data
	.align 3
s_frame: .fill 16, 8, 0
pdata:	.dword 0
