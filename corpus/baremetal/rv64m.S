/*
 * rv64m.S - RV64M: mul/mulh/mulhsu/mulhu, div/divu/rem/remu and the W forms,
 * including division by zero (quotient all ones, remainder = dividend) and
 * signed overflow (MIN / -1 = MIN, remainder 0), which must not trap.
 */
#include "common.h"

	TEST_BEGIN
tests:
	/* --- multiply, low half --- */
	li a0, 3
	li a1, 7
	mul a2, a0, a1
	CHECK a2, 21
	li a0, -1
	mul a2, a0, a0
	CHECK a2, 1
	li a0, 0x7fffffffffffffff
	li a1, 2
	mul a2, a0, a1
	CHECK a2, -2
	li a0, 0x123456789
	li a1, 0x987654321
	mul a2, a0, a1
	CHECK a2, 0xd77d742cce1833a9
	mul a2, a0, zero
	CHECK a2, 0

	/* --- multiply, high half: signed x signed, signed x unsigned, unsigned --- */
	mulhu a2, a0, a1
	CHECK a2, 0xa
	li a0, 0x8000000000000000
	mulh a2, a0, a0
	CHECK a2, 0x4000000000000000
	li a0, -3
	li a1, 5
	mulh a2, a0, a1
	CHECK a2, -1
	mulh a2, a1, a1
	CHECK a2, 0
	li a0, -1
	li a1, -1
	mulhsu a2, a0, a1 /* -1 * (2^64 - 1) */
	CHECK a2, -1
	li a0, 0x8000000000000000
	mulhsu a2, a0, a1
	CHECK a2, 0x8000000000000000
	li a0, 3
	mulhsu a2, a0, a1
	CHECK a2, 2
	li a0, -1
	mulhu a2, a0, a0
	CHECK a2, 0xfffffffffffffffe
	li a0, 0x8000000000000000
	li a1, 6
	mulhu a2, a0, a1
	CHECK a2, 3
	mulh a2, a0, a1 /* -2^63 * 6 */
	CHECK a2, -3

	/* --- mulw: low 32 bits of the product, sign-extended --- */
	li a0, 0x7fffffff
	li a1, 2
	mulw a2, a0, a1
	CHECK a2, -2
	li a0, 0xffffffff00010000
	li a1, 0x1234567800010000
	mulw a2, a0, a1 /* 2^32 -> low word 0 */
	CHECK a2, 0
	li a0, 0x10000
	li a1, 0x8000
	mulw a2, a0, a1
	CHECK a2, 0xffffffff80000000

	/* --- div / rem: truncation toward zero --- */
	li a0, 20
	li a1, 6
	div a2, a0, a1
	CHECK a2, 3
	rem a2, a0, a1
	CHECK a2, 2
	li a0, -20
	div a2, a0, a1
	CHECK a2, -3
	rem a2, a0, a1
	CHECK a2, -2
	li a0, 20
	li a1, -6
	div a2, a0, a1
	CHECK a2, -3
	rem a2, a0, a1
	CHECK a2, 2
	li a0, -20
	div a2, a0, a1
	CHECK a2, 3
	rem a2, a0, a1
	CHECK a2, -2
	li a0, -1
	li a1, 2
	divu a2, a0, a1
	CHECK a2, 0x7fffffffffffffff
	remu a2, a0, a1
	CHECK a2, 1
	li a1, -2
	divu a2, a0, a1
	CHECK a2, 1
	remu a2, a0, a1
	CHECK a2, 1

	/* --- division by zero: no trap --- */
	li a0, 1234
	div a2, a0, zero
	CHECK a2, -1
	divu a2, a0, zero
	CHECK a2, -1
	rem a2, a0, zero
	CHECK a2, 1234
	remu a2, a0, zero
	CHECK a2, 1234
	li a0, -1234
	div a2, a0, zero
	CHECK a2, -1
	rem a2, a0, zero
	CHECK a2, -1234

	/* --- signed overflow --- */
	li a0, 0x8000000000000000
	li a1, -1
	div a2, a0, a1
	CHECK a2, 0x8000000000000000
	rem a2, a0, a1
	CHECK a2, 0
	divu a2, a0, a1
	CHECK a2, 0
	remu a2, a0, a1
	CHECK a2, 0x8000000000000000

	/* --- W forms: 32-bit operands, sign-extended results --- */
	li a0, 0x100000010
	li a1, 0x200000004
	divw a2, a0, a1
	CHECK a2, 4
	li a0, -7
	li a1, 2
	divw a2, a0, a1
	CHECK a2, -3
	remw a2, a0, a1
	CHECK a2, -1
	li a0, 0x80000000
	li a1, 1
	divuw a2, a0, a1
	CHECK a2, 0xffffffff80000000
	li a0, 0xffffffff
	li a1, 2
	divuw a2, a0, a1
	CHECK a2, 0x7fffffff
	remuw a2, a0, a1
	CHECK a2, 1
	li a0, 0xffffffff80000000
	li a1, -1
	divw a2, a0, a1
	CHECK a2, 0xffffffff80000000
	remw a2, a0, a1
	CHECK a2, 0
	li a0, 0x80000000 /* low word is INT32_MIN even without sign bits above */
	divw a2, a0, a1
	CHECK a2, 0xffffffff80000000
	li a0, 0x1234567880000001
	divw a2, a0, zero
	CHECK a2, -1
	divuw a2, a0, zero
	CHECK a2, -1
	remw a2, a0, zero
	CHECK a2, 0xffffffff80000001
	remuw a2, a0, zero
	CHECK a2, 0xffffffff80000001
	li a0, 0x0000000500000007
	li a1, 0x0000000300000002
	remuw a2, a0, a1
	CHECK a2, 1
	divuw a2, a0, a1
	CHECK a2, 3

	/* rd == rs1 == rs2 */
	li a0, 9
	mul a0, a0, a0
	CHECK a0, 81
	div a0, a0, a0
	CHECK a0, 1

	TEST_END
