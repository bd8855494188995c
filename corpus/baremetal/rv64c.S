/*
 * rv64c.S - RV64C: every compressed integer/FP form written explicitly
 * (c.li/lui/addi/addiw/addi16sp/addi4spn, shifts, ALU ops incl. W forms,
 * c.lw/ld/sw/sd and the sp-relative forms, c.fld/fsd/fldsp/fsdsp, c.j, c.jr,
 * c.jalr link value (pc + 2), c.beqz/bnez), c.ebreak and the all-zero
 * illegal parcel with mepc/mtval, then C kernels compiled for rv64gc
 * (rv64c-kernels.c) whose results are known.
 */
#include "common.h"

	TEST_BEGIN
tests:
	/* --- constants and immediates --- */
	c.li a0, -32
	CHECK a0, -32
	c.li a0, 31
	CHECK a0, 31
	c.lui a1, 0xfffe0 /* nzimm[17:12] = -32 */
	CHECK a1, 0xfffffffffffe0000
	c.lui a1, 1
	CHECK a1, 0x1000
	c.li a0, 5
	c.addi a0, -6
	CHECK a0, -1
	c.addi a0, 31
	CHECK a0, 30
	li a0, 0x7fffffff
	c.addiw a0, 1
	CHECK a0, 0xffffffff80000000
	li a0, 0x1234567800000000
	c.addiw a0, 0 /* sext.w */
	CHECK a0, 0
	mv s0, sp
	c.addi16sp sp, -64
	sub a0, s0, sp
	CHECK a0, 64
	c.addi16sp sp, 496
	sub a0, sp, s0
	CHECK a0, 432
	mv sp, s0
	c.addi4spn a0, sp, 1020
	sub a0, a0, sp
	CHECK a0, 1020
	c.addi4spn a0, sp, 4
	sub a0, a0, sp
	CHECK a0, 4

	/* --- shifts and ALU --- */
	li a0, 1
	c.slli a0, 63
	CHECK a0, 0x8000000000000000
	c.srai a0, 62
	CHECK a0, -2
	c.srli a0, 60
	CHECK a0, 15
	li a1, 0xff
	c.andi a1, -16
	CHECK a1, 0xf0
	c.andi a1, 0x1f
	CHECK a1, 0x10
	li a0, 0x0f0f
	li a1, 0x00ff
	c.and a0, a1
	CHECK a0, 0x000f
	li a0, 0x0f0f
	c.or a0, a1
	CHECK a0, 0x0fff
	li a0, 0x0f0f
	c.xor a0, a1
	CHECK a0, 0x0ff0
	li a0, 10
	c.sub a0, a1
	CHECK a0, -245
	li a0, 0x7fffffff
	li a1, 1
	c.addw a0, a1
	CHECK a0, 0xffffffff80000000
	li a0, 0
	c.subw a0, a1
	CHECK a0, -1
	li a0, 0x100000000
	c.subw a0, a1 /* low word 0 - 1 */
	CHECK a0, -1
	c.mv a2, a0
	CHECK a2, -1
	li a3, 40
	c.add a3, a2
	CHECK a3, 39
	c.nop
	li a0, 7
	c.slli a0, 1
	c.addi a0, 1
	CHECK a0, 15

	/* --- loads and stores --- */
	la s1, cdata
	li a0, 0x80000001
	c.sw a0, 0(s1)
	c.lw a1, 0(s1)
	CHECK a1, 0xffffffff80000001 /* c.lw sign-extends */
	li a0, 0x1122334455667788
	c.sd a0, 8(s1)
	c.ld a2, 8(s1)
	CHECK_EQR a2, a0
	c.lw a1, 12(s1)
	CHECK a1, 0x11223344
	c.sw a0, 124(s1) /* largest c.sw offset */
	c.lw a1, 124(s1)
	CHECK a1, 0x55667788
	c.sd a0, 248(s1) /* largest c.sd offset */
	c.ld a1, 248(s1)
	CHECK_EQR a1, a0
	addi sp, sp, -256
	c.sdsp a0, 0(sp)
	c.ldsp a3, 0(sp)
	CHECK_EQR a3, a0
	c.swsp a0, 252(sp)
	c.lwsp a3, 252(sp)
	CHECK a3, 0x55667788
	c.sdsp a0, 504(sp)
	c.ldsp a3, 504(sp)
	CHECK_EQR a3, a0
	li a4, 0x4008000000000000 /* 3.0 */
	c.sdsp a4, 16(sp)
	c.fldsp fa0, 16(sp)
	fmv.x.d a5, fa0
	CHECK_EQR a5, a4
	c.fsdsp fa0, 24(sp)
	c.ldsp a5, 24(sp)
	CHECK_EQR a5, a4
	c.fsd fa0, 16(s1)
	c.fld fa1, 16(s1)
	feq.d a5, fa0, fa1
	CHECK a5, 1
	addi sp, sp, 256

	/* --- control transfer --- */
	li a0, 0
	c.beqz a0, 1f
	j fail
1:	c.bnez a0, .Lc_fail
	li a0, 3
	li a1, 0
2:	c.addi a1, 2
	c.addi a0, -1
	c.bnez a0, 2b
	CHECK a1, 6
	c.j 3f
	j fail
3:	la a0, 4f
	c.jr a0
	j fail
4:	la a0, 5f
.Lc_jalr:
	c.jalr a0 /* ra = .Lc_jalr + 2 */
.Lc_jalr_ret:
	j fail
5:	CHECK_ADDR ra, .Lc_jalr_ret
	la a0, .Lc_jalr
	sub a0, ra, a0
	CHECK a0, 2
	la a0, 6f
	c.mv t0, a0
	c.jr t0
	j fail
	.align 1
.Lc_fail:
	j fail
6:
	/* --- c.ebreak and the illegal all-zero parcel --- */
	CLEAR_TRAP
	EXPECT_TRAP_SKIP
.Lc_ebreak:
	c.ebreak
	CHECK_TRAP CAUSE_BREAKPOINT, .Lc_ebreak
	EXPECT_TRAP_SKIP
.Lc_zero:
	.half 0x0000 /* defined illegal instruction */
	CHECK_TRAP CAUSE_ILLEGAL, .Lc_zero
	CHECK_TVAL 0
	EXPECT_TRAP_SKIP
.Lc_a4spn0:
	.half 0x0004 /* c.addi4spn with nzuimm = 0: reserved */
	CHECK_TRAP CAUSE_ILLEGAL, .Lc_a4spn0
	CHECK_TRAP_COUNT 3

	/* --- compiled rv64gc kernels --- */
	li a0, 12 /* ~470 calls: fib(20) took 240k steps, too long in lock-step */
	call c_fib
	CHECK a0, 144
	la a0, words
	li a1, 8
	call c_sum_words
	CHECK a0, 0x090221366a8a8f78
	la a0, sortv
	li a1, 10
	call c_sort_check
	CHECK a0, 0x7ffffb4708ccee5c
	la a0, sortv
	ld a1, 0(a0)
	CHECK a1, 0x8000000000000000
	ld a1, 72(a0)
	CHECK a1, 0x7fffffffffffffff
	la a0, coef
	li a1, 4
	li t0, 0x4000000000000000
	fmv.d.x fa0, t0
	call c_poly
	fmv.x.d a0, fa0
	CHECK a0, 0x4036800000000000 /* 22.5 */

	TEST_END

	.data
	.align 3
cdata:	.fill 32, 8, 0
words:	.word 1, -2, 0x7fffffff, -0x80000000, 12345, -99999, 7, 0
	.align 3
sortv:	.dword 5, -3, 9, 0x7fffffffffffffff, -0x8000000000000000, 2, 2, -1, 100, 42
coef:	.double 1.5, -2.0, 0.25, 3.0
