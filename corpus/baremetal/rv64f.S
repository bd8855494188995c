/*
 * rv64f.S - RV64F single precision: arithmetic, the five static rounding
 * modes and the dynamic one, fflags for every exception, NaN boxing (an
 * unboxed input reads as the canonical NaN), canonical NaN results,
 * fcvt saturation (NaN/inf/out of range), int->float rounding, fclass,
 * fmin/fmax with -0 and (s)NaN, fsgnj*, compares (quiet vs signaling),
 * fused multiply-add with a single rounding, fcsr fields, reserved rounding
 * modes trapping, and mstatus.FS (off traps, writes make it Dirty).
 */
#include "common.h"

#define ONE 0x3f800000
#define TWO 0x40000000
#define THREE 0x40400000
#define HALF 0x3f000000
#define NEG1 0xbf800000
#define NZERO 0x80000000
#define PINF 0x7f800000
#define NINF 0xff800000
#define QNAN 0x7fc00000
#define SNAN 0x7f800001
#define MAXF 0x7f7fffff
#define MINN 0x00800000

#define NV 16
#define DZ 8
#define OF 4
#define UF 2
#define NX 1

/* fa2 := op(a, b) [rounding rm]; check the bits and fflags. */
.macro FOP2 op, a, b, res, flags, rm=
	LI_S fa0, \a
	LI_S fa1, \b
	.ifb \rm
	\op fa2, fa0, fa1
	.else
	\op fa2, fa0, fa1, \rm
	.endif
	CHECK_FS fa2, \res
	CHECK_FFLAGS \flags
.endm

/* a0 := op(a) for compares/fcvt-to-int/fclass; check it and fflags. */
.macro FTOI op, a, res, flags, rm=
	LI_S fa0, \a
	.ifb \rm
	\op a0, fa0
	.else
	\op a0, fa0, \rm
	.endif
	CHECK a0, \res
	CHECK_FFLAGS \flags
.endm

.macro FCMP op, a, b, res, flags
	LI_S fa0, \a
	LI_S fa1, \b
	\op a0, fa0, fa1
	CHECK a0, \res
	CHECK_FFLAGS \flags
.endm

/* fa2 := op(integer i) */
.macro ITOF op, i, res, flags
	li a0, \i
	\op fa2, a0
	CHECK_FS fa2, \res
	CHECK_FFLAGS \flags
.endm

	TEST_BEGIN
tests:
	/* --- basic arithmetic --- */
	FOP2 fadd.s, ONE, TWO, THREE, 0
	FOP2 fsub.s, ONE, TWO, NEG1, 0
	FOP2 fmul.s, TWO, THREE, 0x40c00000, 0
	FOP2 fdiv.s, THREE, TWO, 0x3fc00000, 0

	/* --- rounding modes: 1/3 and -1/3 --- */
	FOP2 fdiv.s, ONE, THREE, 0x3eaaaaab, NX
	FOP2 fdiv.s, ONE, THREE, 0x3eaaaaab, NX, rne
	FOP2 fdiv.s, ONE, THREE, 0x3eaaaaaa, NX, rtz
	FOP2 fdiv.s, ONE, THREE, 0x3eaaaaaa, NX, rdn
	FOP2 fdiv.s, ONE, THREE, 0x3eaaaaab, NX, rup
	FOP2 fdiv.s, ONE, THREE, 0x3eaaaaab, NX, rmm
	FOP2 fdiv.s, NEG1, THREE, 0xbeaaaaaa, NX, rtz
	FOP2 fdiv.s, NEG1, THREE, 0xbeaaaaab, NX, rdn
	FOP2 fdiv.s, NEG1, THREE, 0xbeaaaaaa, NX, rup
	/* dynamic rounding from frm */
	fsrmi 1 /* RTZ */
	FOP2 fdiv.s, ONE, THREE, 0x3eaaaaaa, NX, dyn
	fsrmi 3 /* RUP */
	FOP2 fdiv.s, NEG1, THREE, 0xbeaaaaaa, NX
	csrr a0, frm
	CHECK a0, 3
	fsrmi 0

	/* --- sqrt --- */
	LI_S fa0, 0x40800000
	fsqrt.s fa2, fa0
	CHECK_FS fa2, TWO
	CHECK_FFLAGS 0
	LI_S fa0, TWO
	fsqrt.s fa2, fa0
	CHECK_FS fa2, 0x3fb504f3
	CHECK_FFLAGS NX
	LI_S fa0, NEG1
	fsqrt.s fa2, fa0
	CHECK_FS fa2, QNAN
	CHECK_FFLAGS NV
	LI_S fa0, NZERO
	fsqrt.s fa2, fa0
	CHECK_FS fa2, NZERO
	CHECK_FFLAGS 0

	/* --- special results and exception flags --- */
	FOP2 fdiv.s, ONE, 0, PINF, DZ
	FOP2 fdiv.s, NEG1, 0, NINF, DZ
	FOP2 fdiv.s, 0, 0, QNAN, NV
	FOP2 fsub.s, PINF, PINF, QNAN, NV
	FOP2 fmul.s, PINF, 0, QNAN, NV
	FOP2 fmul.s, MAXF, TWO, PINF, OF | NX
	FOP2 fmul.s, MAXF, TWO, MAXF, OF | NX, rtz
	FOP2 fmul.s, MINN, HALF, 0x00400000, 0 /* exact subnormal: no UF */
	FOP2 fmul.s, 0x00800001, HALF, 0x00400000, UF | NX
	FOP2 fadd.s, PINF, ONE, PINF, 0

	/* --- NaN inputs give the canonical NaN --- */
	FOP2 fadd.s, QNAN, ONE, QNAN, 0
	FOP2 fadd.s, SNAN, ONE, QNAN, NV
	FOP2 fmul.s, 0x7fc12345, ONE, QNAN, 0
	FOP2 fadd.s, 0xffc00000, ONE, QNAN, 0

	/* --- NaN boxing --- */
	LI_S fa0, ONE
	fmv.x.d a0, fa0
	CHECK a0, 0xffffffff3f800000
	LI_D fa0, 0x000000003f800000 /* not boxed: reads as canonical NaN */
	LI_S fa1, ONE
	fadd.s fa2, fa0, fa1
	CHECK_FS fa2, QNAN
	CHECK_FFLAGS 0
	fmv.x.d a0, fa2
	CHECK a0, 0xffffffff7fc00000
	fsgnj.s fa2, fa0, fa1
	fmv.x.d a0, fa2
	CHECK a0, 0xffffffff7fc00000
	LI_D fa0, 0xfffffffe3f800000 /* almost boxed is still unboxed */
	fadd.s fa2, fa0, fa1
	CHECK_FS fa2, QNAN
	fmv.x.w a0, fa0 /* fmv.x.w/fsw ignore the box: low 32 bits */
	CHECK a0, ONE
	la a1, fdata
	fsw fa0, 0(a1)
	lw a0, 0(a1)
	CHECK a0, ONE
	li a0, 0xc0000000
	sw a0, 0(a1)
	flw fa2, 0(a1) /* flw boxes */
	fmv.x.d a0, fa2
	CHECK a0, 0xffffffffc0000000
	fmv.x.w a0, fa2 /* sign-extended */
	CHECK a0, 0xffffffffc0000000
	CHECK_FFLAGS 0

	/* --- float -> int: rounding and saturation --- */
	FTOI fcvt.w.s, 0x4f32d05e, 0x7fffffff, NV /* 3e9 */
	FTOI fcvt.w.s, 0xcf32d05e, 0xffffffff80000000, NV
	FTOI fcvt.w.s, QNAN, 0x7fffffff, NV
	FTOI fcvt.w.s, 0xffc00000, 0x7fffffff, NV /* -NaN too */
	FTOI fcvt.w.s, PINF, 0x7fffffff, NV
	FTOI fcvt.w.s, NINF, 0xffffffff80000000, NV
	FTOI fcvt.w.s, 0x40200000, 2, NX /* 2.5 */
	FTOI fcvt.w.s, 0x40200000, 3, NX, rmm
	FTOI fcvt.w.s, 0x40200000, 2, NX, rtz
	FTOI fcvt.w.s, 0xc0200000, -3, NX, rdn
	FTOI fcvt.w.s, 0xc0200000, -2, NX, rup
	FTOI fcvt.w.s, 0xcf000000, 0xffffffff80000000, 0 /* -2^31 exact */
	FTOI fcvt.wu.s, NEG1, 0, NV
	FTOI fcvt.wu.s, 0xbf000000, 0, NX, rtz /* -0.5 -> 0 */
	FTOI fcvt.wu.s, 0x4f32d05e, 0xffffffffb2d05e00, 0 /* 3e9, sign-extended */
	FTOI fcvt.wu.s, QNAN, -1, NV
	FTOI fcvt.wu.s, PINF, -1, NV
	FTOI fcvt.l.s, 0x60ad78ec, 0x7fffffffffffffff, NV /* 1e20 */
	FTOI fcvt.l.s, 0xe0ad78ec, 0x8000000000000000, NV
	FTOI fcvt.l.s, QNAN, 0x7fffffffffffffff, NV
	FTOI fcvt.l.s, 0x4f32d05e, 3000000000, 0
	FTOI fcvt.lu.s, 0x60ad78ec, -1, NV
	FTOI fcvt.lu.s, NEG1, 0, NV
	FTOI fcvt.lu.s, 0x5f000000, 0x8000000000000000, 0 /* 2^63 */

	/* --- int -> float --- */
	ITOF fcvt.s.w, -1, NEG1, 0
	ITOF fcvt.s.wu, -1, 0x4f800000, NX /* 2^32 - 1 rounds to 2^32 */
	ITOF fcvt.s.w, 0x7fffffff, 0x4f000000, NX
	ITOF fcvt.s.w, 0x1234567800000003, THREE, 0 /* low word only */
	ITOF fcvt.s.l, 0x7fffffffffffffff, 0x5f000000, NX
	ITOF fcvt.s.lu, -1, 0x5f800000, NX
	ITOF fcvt.s.l, -2, 0xc0000000, 0
	ITOF fcvt.s.lu, 0, 0, 0

	/* --- fclass --- */
	FTOI fclass.s, NINF, 1 << 0, 0
	FTOI fclass.s, NEG1, 1 << 1, 0
	FTOI fclass.s, 0x807fffff, 1 << 2, 0
	FTOI fclass.s, NZERO, 1 << 3, 0
	FTOI fclass.s, 0, 1 << 4, 0
	FTOI fclass.s, 0x00000001, 1 << 5, 0
	FTOI fclass.s, ONE, 1 << 6, 0
	FTOI fclass.s, PINF, 1 << 7, 0
	FTOI fclass.s, SNAN, 1 << 8, 0
	FTOI fclass.s, QNAN, 1 << 9, 0
	LI_D fa0, 0x3f800000 /* unboxed: classified as the canonical qNaN */
	fclass.s a0, fa0
	CHECK a0, 1 << 9

	/* --- fmin/fmax --- */
	FOP2 fmin.s, NZERO, 0, NZERO, 0
	FOP2 fmin.s, 0, NZERO, NZERO, 0
	FOP2 fmax.s, NZERO, 0, 0, 0
	FOP2 fmax.s, 0, NZERO, 0, 0
	FOP2 fmin.s, QNAN, ONE, ONE, 0
	FOP2 fmax.s, ONE, QNAN, ONE, 0
	FOP2 fmin.s, SNAN, ONE, ONE, NV
	FOP2 fmin.s, QNAN, QNAN, QNAN, 0
	FOP2 fmax.s, SNAN, SNAN, QNAN, NV
	FOP2 fmax.s, NINF, NEG1, NEG1, 0

	/* --- sign injection --- */
	FOP2 fsgnj.s, ONE, NEG1, NEG1, 0
	FOP2 fsgnjn.s, ONE, ONE, NEG1, 0
	FOP2 fsgnjx.s, NEG1, NEG1, ONE, 0
	FOP2 fsgnjx.s, ONE, NEG1, NEG1, 0
	FOP2 fsgnj.s, SNAN, NEG1, 0xff800001, 0 /* no NaN processing */

	/* --- compares --- */
	FCMP feq.s, ONE, ONE, 1, 0
	FCMP feq.s, NZERO, 0, 1, 0
	FCMP feq.s, QNAN, ONE, 0, 0
	FCMP feq.s, SNAN, ONE, 0, NV
	FCMP flt.s, QNAN, ONE, 0, NV
	FCMP fle.s, ONE, QNAN, 0, NV
	FCMP flt.s, NEG1, ONE, 1, 0
	FCMP flt.s, ONE, ONE, 0, 0
	FCMP fle.s, ONE, ONE, 1, 0
	FCMP fle.s, NINF, PINF, 1, 0
	FCMP flt.s, NZERO, 0, 0, 0

	/* --- fused multiply-add --- */
	LI_S fa0, TWO
	LI_S fa1, THREE
	LI_S fa3, ONE
	fmadd.s fa2, fa0, fa1, fa3
	CHECK_FS fa2, 0x40e00000 /* 7 */
	fmsub.s fa2, fa0, fa1, fa3
	CHECK_FS fa2, 0x40a00000 /* 5 */
	fnmsub.s fa2, fa0, fa1, fa3
	CHECK_FS fa2, 0xc0a00000 /* -5 */
	fnmadd.s fa2, fa0, fa1, fa3
	CHECK_FS fa2, 0xc0e00000 /* -7 */
	CHECK_FFLAGS 0
	LI_S fa0, 0x3f800001 /* 1 + 2^-23 */
	LI_S fa3, 0xbf800002 /* -(1 + 2^-22) */
	fmadd.s fa2, fa0, fa0, fa3 /* exactly 2^-46: one rounding only */
	CHECK_FS fa2, 0x28800000
	CHECK_FFLAGS 0
	fmul.s fa2, fa0, fa0
	fadd.s fa2, fa2, fa3 /* two roundings lose it */
	CHECK_FS fa2, 0
	CHECK_FFLAGS NX
	LI_S fa0, PINF
	LI_S fa1, 0
	LI_S fa3, QNAN
	fmadd.s fa2, fa0, fa1, fa3 /* inf * 0 + qNaN is invalid */
	CHECK_FS fa2, QNAN
	CHECK_FFLAGS NV

	/* --- fcsr fields --- */
	li a0, 0xff
	csrw fcsr, a0
	csrr a1, fcsr
	CHECK a1, 0xff
	csrr a1, frm
	CHECK a1, 7
	csrr a1, fflags
	CHECK a1, 0x1f
	csrwi fflags, 0
	csrr a1, fcsr
	CHECK a1, 0xe0
	li a0, 0x3ff /* bits above 7 are ignored */
	csrw fcsr, a0
	csrr a1, fcsr
	CHECK a1, 0xff
	/* frm = 7 is reserved: a dynamic-rounding instruction is illegal */
	CLEAR_TRAP
	EXPECT_TRAP_SKIP
.Ldyn_bad:
	fadd.s fa2, fa0, fa1
	CHECK_TRAP CAUSE_ILLEGAL, .Ldyn_bad
	csrw fcsr, zero
	/* static rm 5 and 6 are reserved */
	EXPECT_TRAP_SKIP
.Lrm5:
	.word 0x00b55653 /* fadd.s fa2, fa0, fa1, rm=5 */
	CHECK_TRAP CAUSE_ILLEGAL, .Lrm5
	EXPECT_TRAP_SKIP
.Lrm6:
	.word 0x00b56653 /* fadd.s fa2, fa0, fa1, rm=6 */
	CHECK_TRAP CAUSE_ILLEGAL, .Lrm6

	/* --- mstatus.FS --- */
	fadd.s fa2, fa0, fa1
	csrr a0, mstatus
	srli a1, a0, 13
	andi a1, a1, 3
	CHECK a1, 3 /* Dirty */
	srli a1, a0, 63
	CHECK a1, 1 /* SD */
	li a0, MSTATUS_FS
	csrc mstatus, a0 /* Off */
	EXPECT_TRAP_SKIP
.Lfs_off1:
	fadd.s fa2, fa0, fa1
	CHECK_TRAP CAUSE_ILLEGAL, .Lfs_off1
	EXPECT_TRAP_SKIP
.Lfs_off2:
	csrr a1, fflags
	CHECK_TRAP CAUSE_ILLEGAL, .Lfs_off2
	EXPECT_TRAP_SKIP
.Lfs_off3:
	flw fa2, 0(sp)
	CHECK_TRAP CAUSE_ILLEGAL, .Lfs_off3
	csrr a0, mstatus
	srli a1, a0, 63
	CHECK a1, 0 /* SD clear with FS off */
	li a0, (2 << 13) /* Clean */
	csrs mstatus, a0
	fadd.s fa2, fa0, fa1
	csrr a0, mstatus
	srli a1, a0, 13
	andi a1, a1, 3
	CHECK a1, 3 /* a write made it Dirty */

	TEST_END

	.data
	.align 3
fdata:	.dword 0
