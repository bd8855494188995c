/*
 * zicsr.S - Zicsr: csrrw/csrrs/csrrc and the immediate forms (old value in
 * rd, rd = x0, rs1 = x0 / uimm = 0 meaning "no write"), mscratch/sscratch
 * round trips, read-only CSRs (write -> illegal, set with x0 -> fine),
 * unknown CSRs, misa contents (RV64 IMAFDC + S + U, writes ignored),
 * mhartid, mstatus SXL/UXL, sstatus/sie/sip as views of the M registers,
 * WARL behaviour of mtvec/stvec/satp as QEMU 7.2 implements it, counters
 * (cycle/instret/time advance; counter access from S/U gated by
 * mcounteren/scounteren) and CSR privilege (M CSRs from S, S CSRs from U).
 */
#include "common.h"

	TEST_BEGIN
tests:
	/* --- the basic operations on sscratch --- */
	li a0, 0x123456789abcdef0
	csrw sscratch, a0
	csrr a1, sscratch
	CHECK_EQR a1, a0
	li a2, 0x0f
	csrrw a1, sscratch, a2 /* returns the old value */
	CHECK_EQR a1, a0
	csrr a1, sscratch
	CHECK a1, 0x0f
	li a2, 0xf0
	csrrs a1, sscratch, a2
	CHECK a1, 0x0f
	csrr a1, sscratch
	CHECK a1, 0xff
	li a2, 0x3c
	csrrc a1, sscratch, a2
	CHECK a1, 0xff
	csrr a1, sscratch
	CHECK a1, 0xc3
	csrrwi a1, sscratch, 31
	CHECK a1, 0xc3
	csrrsi a1, sscratch, 0x0
	CHECK a1, 31
	csrrci a1, sscratch, 0x15
	CHECK a1, 31
	csrrsi a1, sscratch, 0x8
	CHECK a1, 0x0a
	csrr a1, sscratch
	CHECK a1, 0x0a
	csrrw zero, sscratch, a0 /* rd = x0: write only */
	csrr a1, sscratch
	CHECK_EQR a1, a0
	csrrs a1, sscratch, zero /* rs1 = x0: read only */
	CHECK_EQR a1, a0
	csrrw a1, sscratch, a1 /* rd == rs1 */
	CHECK_EQR a1, a0
	li a3, -1
	csrc sscratch, a3
	csrr a1, sscratch
	CHECK a1, 0

	/* --- mscratch round trip (the trap handler's frame pointer) --- */
	li a0, 0xfedcba9876543210
	csrrw a1, mscratch, a0
	csrr a2, mscratch
	csrw mscratch, a1 /* restore before anything can trap */
	CHECK_EQR a2, a0
	CHECK_ADDR a1, trap_frame

	/* --- misa, ids --- */
	csrr a0, misa
	CHECK a0, 0x800000000014112d /* RV64 A C D F I M S U */
	csrw misa, zero /* WARL, QEMU ignores misa writes */
	csrr a1, misa
	CHECK_EQR a1, a0
	csrr a0, mhartid
	CHECK a0, 0
	csrr a0, mvendorid
	CHECK a0, 0
	csrr a0, mstatus
	srli a0, a0, 32
	andi a0, a0, 0xf
	CHECK a0, 0xa /* SXL = UXL = 2 (64-bit) */

	/* --- read-only CSRs --- */
	CLEAR_TRAP
	EXPECT_TRAP_SKIP
.Lro1:
	csrw mhartid, zero
	CHECK_TRAP CAUSE_ILLEGAL, .Lro1
	CHECK_TVAL 0xf1401073 /* QEMU 7.2 reports the instruction bits */
	EXPECT_TRAP_SKIP
.Lro2:
	csrrs a0, mvendorid, a3 /* set with rs1 != x0 writes */
	CHECK_TRAP CAUSE_ILLEGAL, .Lro2
	EXPECT_TRAP_SKIP
.Lro3:
	csrrwi a0, cycle, 0
	CHECK_TRAP CAUSE_ILLEGAL, .Lro3
	csrrsi a0, mimpid, 0 /* uimm = 0: no write, legal */
	csrrc a0, mhartid, zero
	CHECK a0, 0
	EXPECT_TRAP_SKIP
.Lunknown:
	csrr a0, 0x8ff /* unimplemented custom CSR */
	CHECK_TRAP CAUSE_ILLEGAL, .Lunknown
	CHECK_TRAP_COUNT 4

	/* --- mstatus / sstatus views --- */
	li a0, MSTATUS_SIE | MSTATUS_MIE
	csrc mstatus, a0
	csrsi sstatus, MSTATUS_SIE
	csrr a1, mstatus
	andi a1, a1, MSTATUS_SIE | MSTATUS_MIE
	CHECK a1, MSTATUS_SIE
	li a0, MSTATUS_MPP
	csrs mstatus, a0
	csrr a1, sstatus
	and a1, a1, a0
	CHECK a1, 0 /* MPP is not visible in sstatus */
	csrr a1, mstatus
	and a1, a1, a0
	CHECK_EQR a1, a0
	li a0, MSTATUS_SUM | MSTATUS_MXR
	csrs sstatus, a0
	csrr a1, mstatus
	and a1, a1, a0
	CHECK_EQR a1, a0
	csrc mstatus, a0
	csrci sstatus, MSTATUS_SIE
	csrr a1, mstatus
	andi a1, a1, MSTATUS_SIE
	CHECK a1, 0

	/* --- sie/sip: views of mie/mip through mideleg --- */
	li a0, 0x222
	csrw mideleg, a0
	csrr a1, mideleg
	CHECK a1, 0x222
	li a0, 0x0aaa /* all S and M enables */
	csrw mie, a0
	csrr a1, sie
	CHECK a1, 0x222
	csrw sie, zero
	csrr a1, mie
	CHECK a1, 0x888 /* M bits untouched */
	csrw mie, zero
	csrsi sip, 2 /* SSIP is writable through sip */
	csrr a1, mip
	andi a1, a1, 2
	CHECK a1, 2
	csrci sip, 2
	csrr a1, mip
	andi a1, a1, 2
	CHECK a1, 0
	csrw mideleg, zero
	csrr a1, sie
	CHECK a1, 0

	/* --- WARL fields (QEMU 7.2 behaviour) --- */
	csrr a0, mtvec
	li a1, 0x80001002 /* reserved mode 2: write ignored */
	csrw mtvec, a1
	csrr a1, mtvec
	CHECK_EQR a1, a0
	li a1, 0x80001001 /* vectored */
	csrw mtvec, a1
	csrr a2, mtvec
	csrw mtvec, a0
	CHECK a2, 0x80001001
	csrw stvec, zero
	li a1, 0x80002003
	csrw stvec, a1
	csrr a1, stvec
	CHECK a1, 0
	li a1, -1
	csrw satp, a1 /* mode 15: write ignored */
	csrr a1, satp
	CHECK a1, 0
	li a1, (8 << 60) | 0x80123
	csrw satp, a1 /* Sv39 is accepted (no translation in M) */
	csrr a2, satp
	csrw satp, zero
	CHECK_EQR a2, a1
	li a1, 0x12345678
	csrw mcause, a1
	csrr a2, mcause
	CHECK_EQR a2, a1
	csrw mtval, a1
	csrr a2, mtval
	CHECK_EQR a2, a1
	li a1, (1 << 2) | (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15)
	csrw medeleg, a1
	csrr a2, medeleg
	csrw medeleg, zero
	CHECK_EQR a2, a1

	/* --- counters advance --- */
	csrr a0, mcycle
	csrr a1, minstret
	nop
	nop
	csrr a2, mcycle
	csrr a3, minstret
	sub a2, a2, a0
	sub a3, a3, a1
	snez a2, a2
	CHECK a2, 1
	sltiu a3, a3, 3 /* at least 3 instructions retired */
	CHECK a3, 0
	rdinstret a0
	rdinstret a1
	sltu a2, a0, a1
	CHECK a2, 1
	rdtime a0 /* time comes from the CLINT's mtime */
	li a2, 100000
1:	rdtime a1
	bne a1, a0, 2f
	addi a2, a2, -1
	bnez a2, 1b
2:	sltu a2, a0, a1
	CHECK a2, 1
	li a1, 0x0200bff8 /* equal to mtime */
	ld a1, 0(a1)
	rdtime a0
	sub a0, a0, a1
	/* 100 ms: QEMU under a gdb single-step runs its clock between the two
	 * instructions (host latency; 100 us was exceeded on a loaded host) */
	li a2, 1000000
	sltu a0, a0, a2
	CHECK a0, 1
	/*
	 * Not checked: values written to mcycle/minstret.  Without -icount,
	 * QEMU 7.2 derives both from host CPU ticks (they are not instruction
	 * counts there), so only "they advance" is portable.
	 */

	/* --- counter access from S and U --- */
	csrw mcounteren, zero
	csrw scounteren, zero
	CLEAR_TRAP
	EXPECT_TRAP_GOTO .Lcnt_s_done
	GOTO_PRIV 1, .Lcnt_s
.Lcnt_s:
	rdcycle a0 /* mcounteren.CY = 0: illegal in S */
	j fail
.Lcnt_s_done:
	CHECK_TRAP CAUSE_ILLEGAL, .Lcnt_s
	CHECK_TRAP_MPP 1
	li a0, 7
	csrw mcounteren, a0
	EXPECT_TRAP_GOTO .Lcnt_s2_done
	GOTO_PRIV 1, .Lcnt_s2
.Lcnt_s2:
	rdcycle a0
	rdtime a0
	rdinstret a0
	li a1, 0x55
.Lcnt_s2_ecall:
	ecall /* back to M */
	j fail
.Lcnt_s2_done:
	CHECK a1, 0x55
	CHECK_TRAP CAUSE_ECALL_S, .Lcnt_s2_ecall
	EXPECT_TRAP_GOTO .Lcnt_u_done
	GOTO_PRIV 0, .Lcnt_u
.Lcnt_u:
	rdtime a0 /* scounteren.TM = 0: illegal in U */
	j fail
.Lcnt_u_done:
	CHECK_TRAP CAUSE_ILLEGAL, .Lcnt_u
	CHECK_TRAP_MPP 0
	li a0, 7
	csrw scounteren, a0
	EXPECT_TRAP_GOTO .Lcnt_u2_done
	GOTO_PRIV 0, .Lcnt_u2
.Lcnt_u2:
	rdtime a0
	rdinstret a0
.Lcnt_u2_ecall:
	ecall
	j fail
.Lcnt_u2_done:
	CHECK_TRAP CAUSE_ECALL_U, .Lcnt_u2_ecall

	/* --- CSR privilege: M CSRs from S, S CSRs from U --- */
	EXPECT_TRAP_GOTO .Lpriv1_done
	GOTO_PRIV 1, .Lpriv1
.Lpriv1:
	csrr a0, mstatus
	j fail
.Lpriv1_done:
	CHECK_TRAP CAUSE_ILLEGAL, .Lpriv1
	EXPECT_TRAP_GOTO .Lpriv2_done
	GOTO_PRIV 1, .Lpriv2
.Lpriv2:
	csrr a0, sstatus /* fine in S */
	csrw sscratch, a0
.Lpriv2_bad:
	csrr a0, mscratch
	j fail
.Lpriv2_done:
	CHECK_TRAP CAUSE_ILLEGAL, .Lpriv2_bad
	EXPECT_TRAP_GOTO .Lpriv3_done
	GOTO_PRIV 0, .Lpriv3
.Lpriv3:
	csrr a0, sscratch
	j fail
.Lpriv3_done:
	CHECK_TRAP CAUSE_ILLEGAL, .Lpriv3
	CHECK_TRAP_MPP 0

	TEST_END
