/*
 * rv64i.S - RV64I base integer instructions, M-mode, no traps expected.
 * Arithmetic (incl. W forms and overflow), compares, logic, shifts with the
 * edge amounts 0/31/32/63/64, lui/auipc, all branches taken and not taken,
 * jal/jalr (link value, LSB clearing, rd == rs1), loads of every width with
 * and without sign extension, stores of every width, x0 hardwiring.
 */
#include "common.h"

	TEST_BEGIN
tests:
	/* --- add/sub and immediates --- */
	li a0, 1
	li a1, 2
	add a2, a0, a1
	CHECK a2, 3
	li a0, 0x7fffffffffffffff
	addi a2, a0, 1
	CHECK a2, 0x8000000000000000
	li a0, -1
	add a2, a0, a0
	CHECK a2, -2
	sub a2, zero, a0
	CHECK a2, 1
	li a0, 0x8000000000000000
	li a1, 1
	sub a2, a0, a1
	CHECK a2, 0x7fffffffffffffff
	addi a2, zero, -2048
	CHECK a2, -2048
	addi a2, zero, 2047
	CHECK a2, 2047

	/* --- W forms: 32-bit result, sign-extended --- */
	li a0, 0x7fffffff
	li a1, 1
	addw a2, a0, a1
	CHECK a2, 0xffffffff80000000
	li a0, 0x100000001
	addw a2, a0, a0
	CHECK a2, 2
	li a0, 0x80000000
	subw a2, zero, a0
	CHECK a2, 0xffffffff80000000
	li a0, 0xffffffff00000005
	subw a2, a0, a1
	CHECK a2, 4
	li a0, 0x7fffffff
	addiw a2, a0, 1
	CHECK a2, 0xffffffff80000000
	li a0, 0x0000000080000000
	sext.w a2, a0 /* addiw a2, a0, 0 */
	CHECK a2, 0xffffffff80000000
	li a0, 0x12345678ffffffff
	addiw a2, a0, 2
	CHECK a2, 1
	addiw a2, zero, -2048
	CHECK a2, -2048

	/* --- compares --- */
	li a0, -1
	li a1, 1
	slt a2, a0, a1
	CHECK a2, 1
	sltu a2, a0, a1
	CHECK a2, 0
	slt a2, a1, a0
	CHECK a2, 0
	sltu a2, a1, a0
	CHECK a2, 1
	slti a2, a0, 0
	CHECK a2, 1
	slti a2, a1, -1
	CHECK a2, 0
	sltiu a2, a1, -1 /* immediate sign-extended, then compared unsigned */
	CHECK a2, 1
	sltiu a2, a0, -1
	CHECK a2, 0
	seqz a2, zero
	CHECK a2, 1
	snez a2, a0
	CHECK a2, 1
	slt a2, a0, a0
	CHECK a2, 0

	/* --- logic --- */
	li a0, 0xff00ff00ff00ff00
	li a1, 0x0ff00ff00ff00ff0
	and a2, a0, a1
	CHECK a2, 0x0f000f000f000f00
	or a2, a0, a1
	CHECK a2, 0xfff0fff0fff0fff0
	xor a2, a0, a1
	CHECK a2, 0xf0f0f0f0f0f0f0f0
	andi a2, a0, -256 /* 0xf...f00 */
	CHECK a2, 0xff00ff00ff00ff00
	andi a2, a0, 0x7ff
	CHECK a2, 0x700
	ori a2, zero, -1
	CHECK a2, -1
	xori a2, a0, -1
	CHECK a2, 0x00ff00ff00ff00ff

	/* --- 64-bit shifts --- */
	li a0, 1
	li a1, 63
	sll a2, a0, a1
	CHECK a2, 0x8000000000000000
	li a1, 64 /* only the low 6 bits count */
	sll a2, a0, a1
	CHECK a2, 1
	li a0, 0x8000000000000000
	li a1, 63
	srl a2, a0, a1
	CHECK a2, 1
	sra a2, a0, a1
	CHECK a2, -1
	li a1, 32
	sra a2, a0, a1
	CHECK a2, 0xffffffff80000000
	srl a2, a0, a1
	CHECK a2, 0x80000000
	li a1, 0x7c1 /* low 6 bits = 1 */
	srl a2, a0, a1
	CHECK a2, 0x4000000000000000
	slli a2, a0, 1
	CHECK a2, 0
	li a0, 3
	slli a2, a0, 63
	CHECK a2, 0x8000000000000000
	slli a2, a0, 32
	CHECK a2, 0x300000000
	li a0, -16
	srai a2, a0, 2
	CHECK a2, -4
	srli a2, a0, 60
	CHECK a2, 15
	srai a2, a0, 63
	CHECK a2, -1
	srli a2, a0, 63
	CHECK a2, 1
	srli a2, a0, 0
	CHECK a2, -16

	/* --- 32-bit shifts: low 5 bits of the amount, result sign-extended --- */
	li a0, 1
	li a1, 31
	sllw a2, a0, a1
	CHECK a2, 0xffffffff80000000
	li a1, 32 /* amount 0: just sign-extend the low word */
	li a0, 0x00000001fffffffe
	sllw a2, a0, a1
	CHECK a2, -2
	li a0, 0xffffffff80000000
	li a1, 31
	srlw a2, a0, a1
	CHECK a2, 1
	sraw a2, a0, a1
	CHECK a2, -1
	li a0, 0x0000000080000000
	li a1, 32
	srlw a2, a0, a1
	CHECK a2, 0xffffffff80000000
	li a1, 0
	srlw a2, a0, a1
	CHECK a2, 0xffffffff80000000
	li a0, 0xabcdef0180000000
	li a1, 4
	sraw a2, a0, a1
	CHECK a2, 0xfffffffff8000000
	srlw a2, a0, a1
	CHECK a2, 0x08000000
	li a0, 0xffffffff00000001
	slliw a2, a0, 31
	CHECK a2, 0xffffffff80000000
	slliw a2, a0, 0
	CHECK a2, 1
	li a0, 0x0000000080000000
	srliw a2, a0, 31
	CHECK a2, 1
	srliw a2, a0, 0
	CHECK a2, 0xffffffff80000000
	sraiw a2, a0, 31
	CHECK a2, -1
	sraiw a2, a0, 0
	CHECK a2, 0xffffffff80000000
	li a0, 0x123456787fffffff
	sraiw a2, a0, 30
	CHECK a2, 1

	/* --- lui / auipc --- */
	lui a2, 0x80000
	CHECK a2, 0xffffffff80000000
	lui a2, 0x7ffff
	CHECK a2, 0x7ffff000
	lui a2, 0
	CHECK a2, 0
1:	auipc a2, 0
	la a3, 1b
	CHECK_EQR a2, a3
2:	auipc a2, 1
	la a3, 2b
	sub a2, a2, a3
	CHECK a2, 0x1000
3:	auipc a2, 0xfffff /* -0x1000 */
	la a3, 3b
	sub a2, a3, a2
	CHECK a2, 0x1000

	/* --- branches: a2 counts branches that fell through wrongly --- */
	li a0, -1
	li a1, 1
	li a2, 0
	beq a0, a0, 1f
	addi a2, a2, 1
1:	bne a0, a1, 1f
	addi a2, a2, 1
1:	blt a0, a1, 1f
	addi a2, a2, 1
1:	bge a1, a0, 1f
	addi a2, a2, 1
1:	bltu a1, a0, 1f
	addi a2, a2, 1
1:	bgeu a0, a1, 1f
	addi a2, a2, 1
1:	bge a0, a0, 1f
	addi a2, a2, 1
1:	bgeu a0, a0, 1f
	addi a2, a2, 1
1:	CHECK a2, 0
	/* not taken: a2 counts fall-throughs, must reach 8 */
	li a2, 0
	beq a0, a1, 1f
	addi a2, a2, 1
1:	bne a0, a0, 1f
	addi a2, a2, 1
1:	blt a1, a0, 1f
	addi a2, a2, 1
1:	bge a0, a1, 1f
	addi a2, a2, 1
1:	bltu a0, a1, 1f
	addi a2, a2, 1
1:	bgeu a1, a0, 1f
	addi a2, a2, 1
1:	blt a0, a0, 1f
	addi a2, a2, 1
1:	bltu a0, a0, 1f
	addi a2, a2, 1
1:	CHECK a2, 8
	/* backward branch loop */
	li a0, 10
	li a2, 0
1:	addi a2, a2, 3
	addi a0, a0, -1
	bnez a0, 1b
	CHECK a2, 30

	/* --- jal / jalr --- */
	jal a0, 1f
.Ljal_ret:
	j fail
1:	CHECK_ADDR a0, .Ljal_ret
	la a1, 2f
	addi a1, a1, 1 /* jalr clears bit 0 of the target */
	jalr a0, 0(a1)
.Ljalr_ret:
	j fail
	.align 2
2:	CHECK_ADDR a0, .Ljalr_ret
	la a1, 3f
	addi a1, a1, -8
	jalr a1, 8(a1) /* rd == rs1: target uses the old value */
.Ljalr_ret2:
	j fail
3:	CHECK_ADDR a1, .Ljalr_ret2
	jal zero, 4f /* j: no link */
	j fail
4:	la a1, 5f
	jalr zero, a1, 0
	j fail
5:	call .Lleaf
	CHECK a0, 0x55

	/* --- loads: sign and zero extension --- */
	la a0, load_data
	lb a2, 0(a0)
	CHECK a2, 0xffffffffffffff80
	lbu a2, 0(a0)
	CHECK a2, 0x80
	lb a2, 1(a0)
	CHECK a2, 0x7f
	lh a2, 2(a0)
	CHECK a2, 0xffffffffffff8001
	lhu a2, 2(a0)
	CHECK a2, 0x8001
	lh a2, 4(a0)
	CHECK a2, 0x7ffe
	lw a2, 8(a0)
	CHECK a2, 0xffffffff80000002
	lwu a2, 8(a0)
	CHECK a2, 0x80000002
	lw a2, 12(a0)
	CHECK a2, 0x7ffffffd
	ld a2, 16(a0)
	CHECK a2, 0x8123456789abcdef
	addi a1, a0, 24
	ld a2, -8(a1) /* negative offset */
	CHECK a2, 0x8123456789abcdef
	lbu a2, -1(a1) /* top byte of the little-endian dword */
	CHECK a2, 0x81
	lhu a2, 16(a0)
	CHECK a2, 0xcdef
	lwu a2, 20(a0)
	CHECK a2, 0x81234567

	/* --- stores of every width --- */
	la a0, store_data
	sd zero, 0(a0)
	li a1, 0x1122334455667788
	sb a1, 0(a0)
	ld a2, 0(a0)
	CHECK a2, 0x88
	sh a1, 2(a0)
	ld a2, 0(a0)
	CHECK a2, 0x77880088
	sw a1, 4(a0)
	ld a2, 0(a0)
	CHECK a2, 0x5566778877880088
	sd a1, 8(a0)
	ld a2, 8(a0)
	CHECK_EQR a2, a1
	lw a2, 12(a0)
	CHECK a2, 0x11223344
	addi a3, a0, 16
	li a1, -1
	sb a1, -1(a3)
	lbu a2, 15(a0)
	CHECK a2, 0xff
	ld a2, 8(a0)
	CHECK a2, 0xff22334455667788

	/* --- x0 is hardwired to zero --- */
	li a0, 5
	addi x0, a0, 1
	add a2, x0, x0
	CHECK a2, 0
	lui x0, 0x12345
	mv a2, x0
	CHECK a2, 0

	/* fence and fence.i just execute */
	fence
	fence rw, rw
	fence.i
	li a2, 1
	CHECK a2, 1

	TEST_END

.Lleaf:
	li a0, 0x55
	ret

	.data
	.align 3
load_data:
	.byte 0x80, 0x7f, 0x01, 0x80, 0xfe, 0x7f, 0, 0
	.word 0x80000002, 0x7ffffffd
	.dword 0x8123456789abcdef
store_data:
	.dword 0, 0
