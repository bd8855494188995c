/*
 * rv64d.S - RV64D double precision: arithmetic and rounding modes, fflags,
 * canonical NaN, fcvt between double/single/integers (saturation, rounding,
 * overflow/underflow in the narrowing conversion), NaN boxing across the
 * F/D boundary, fclass, fmin/fmax with -0 and NaN, sign injection,
 * compares, fused multiply-add, fld/fsd and fmv bit transparency.
 */
#include "common.h"

#define ONE 0x3ff0000000000000
#define TWO 0x4000000000000000
#define THREE 0x4008000000000000
#define TEN 0x4024000000000000
#define HALF 0x3fe0000000000000
#define NEG1 0xbff0000000000000
#define NZERO 0x8000000000000000
#define PINF 0x7ff0000000000000
#define NINF 0xfff0000000000000
#define QNAN 0x7ff8000000000000
#define SNAN 0x7ff0000000000001
#define MAXD 0x7fefffffffffffff
#define MIND 0x0010000000000000
#define S_QNAN 0x7fc00000

#define NV 16
#define DZ 8
#define OF 4
#define UF 2
#define NX 1

.macro DOP2 op, a, b, res, flags, rm=
	LI_D fa0, \a
	LI_D fa1, \b
	.ifb \rm
	\op fa2, fa0, fa1
	.else
	\op fa2, fa0, fa1, \rm
	.endif
	CHECK_FD fa2, \res
	CHECK_FFLAGS \flags
.endm

.macro DTOI op, a, res, flags, rm=
	LI_D fa0, \a
	.ifb \rm
	\op a0, fa0
	.else
	\op a0, fa0, \rm
	.endif
	CHECK a0, \res
	CHECK_FFLAGS \flags
.endm

.macro DCMP op, a, b, res, flags
	LI_D fa0, \a
	LI_D fa1, \b
	\op a0, fa0, fa1
	CHECK a0, \res
	CHECK_FFLAGS \flags
.endm

.macro ITOD op, i, res, flags
	li a0, \i
	\op fa2, a0
	CHECK_FD fa2, \res
	CHECK_FFLAGS \flags
.endm

/* fa2 := fcvt.s.d(a) (single result bits) */
.macro D2S a, res, flags, rm=
	LI_D fa0, \a
	.ifb \rm
	fcvt.s.d fa2, fa0
	.else
	fcvt.s.d fa2, fa0, \rm
	.endif
	CHECK_FS fa2, \res
	CHECK_FFLAGS \flags
.endm

/* fa2 := fcvt.d.s(single bits a) */
.macro S2D a, res, flags
	LI_S fa0, \a
	fcvt.d.s fa2, fa0
	CHECK_FD fa2, \res
	CHECK_FFLAGS \flags
.endm

	TEST_BEGIN
tests:
	/* --- arithmetic --- */
	DOP2 fadd.d, ONE, TWO, THREE, 0
	DOP2 fsub.d, ONE, TWO, NEG1, 0
	DOP2 fmul.d, TWO, THREE, 0x4018000000000000, 0
	DOP2 fdiv.d, THREE, TWO, 0x3ff8000000000000, 0
	DOP2 fadd.d, 0x3ff0000000000001, NEG1, 0x3cb0000000000000, 0 /* 2^-52 */

	/* --- rounding: 1/10 rounds up under RNE --- */
	DOP2 fdiv.d, ONE, TEN, 0x3fb999999999999a, NX
	DOP2 fdiv.d, ONE, TEN, 0x3fb9999999999999, NX, rtz
	DOP2 fdiv.d, ONE, TEN, 0x3fb9999999999999, NX, rdn
	DOP2 fdiv.d, ONE, TEN, 0x3fb999999999999a, NX, rup
	DOP2 fdiv.d, ONE, TEN, 0x3fb999999999999a, NX, rmm
	DOP2 fdiv.d, NEG1, TEN, 0xbfb9999999999999, NX, rtz
	DOP2 fdiv.d, NEG1, TEN, 0xbfb999999999999a, NX, rdn
	DOP2 fdiv.d, NEG1, TEN, 0xbfb9999999999999, NX, rup
	DOP2 fdiv.d, ONE, THREE, 0x3fd5555555555555, NX
	DOP2 fdiv.d, ONE, THREE, 0x3fd5555555555556, NX, rup
	fsrmi 2 /* RDN */
	DOP2 fdiv.d, NEG1, THREE, 0xbfd5555555555556, NX
	fsrmi 0

	/* --- sqrt --- */
	LI_D fa0, 0x4010000000000000
	fsqrt.d fa2, fa0
	CHECK_FD fa2, TWO
	CHECK_FFLAGS 0
	LI_D fa0, TWO
	fsqrt.d fa2, fa0
	CHECK_FD fa2, 0x3ff6a09e667f3bcd
	CHECK_FFLAGS NX
	LI_D fa0, NINF
	fsqrt.d fa2, fa0
	CHECK_FD fa2, QNAN
	CHECK_FFLAGS NV

	/* --- specials and flags --- */
	DOP2 fdiv.d, ONE, 0, PINF, DZ
	DOP2 fdiv.d, ONE, NZERO, NINF, DZ
	DOP2 fdiv.d, 0, 0, QNAN, NV
	DOP2 fsub.d, NINF, NINF, QNAN, NV
	DOP2 fmul.d, MAXD, TWO, PINF, OF | NX
	DOP2 fmul.d, MAXD, TWO, MAXD, OF | NX, rdn
	DOP2 fmul.d, MAXD, 0xc000000000000000, MAXD | NZERO, OF | NX, rup
	DOP2 fmul.d, MIND, HALF, 0x0008000000000000, 0
	DOP2 fmul.d, 0x0010000000000001, HALF, 0x0008000000000000, UF | NX
	DOP2 fadd.d, QNAN, ONE, QNAN, 0
	DOP2 fadd.d, SNAN, ONE, QNAN, NV
	DOP2 fmul.d, 0x7ff8000000012345, ONE, QNAN, 0

	/* --- a boxed single is a NaN to the D instructions --- */
	LI_S fa0, ONE /* 0xffffffff3f800000 */
	LI_D fa1, ONE
	fadd.d fa2, fa0, fa1
	CHECK_FD fa2, QNAN
	CHECK_FFLAGS 0
	fclass.d a0, fa0
	CHECK a0, 1 << 9

	/* --- fmv / fld / fsd are bit-transparent --- */
	LI_D fa0, 0x7ff0000000000123
	fmv.x.d a0, fa0
	CHECK a0, 0x7ff0000000000123
	la a1, ddata
	fsd fa0, 0(a1)
	ld a0, 0(a1)
	CHECK a0, 0x7ff0000000000123
	li a0, 0xfff4000000000000
	sd a0, 8(a1)
	fld fa2, 8(a1)
	fmv.x.d a0, fa2
	CHECK a0, 0xfff4000000000000
	CHECK_FFLAGS 0

	/* --- double -> int --- */
	DTOI fcvt.w.d, 0x41e65a0bc0000000, 0x7fffffff, NV /* 3e9 */
	DTOI fcvt.w.d, 0xc1e65a0bc0000000, 0xffffffff80000000, NV
	DTOI fcvt.w.d, 0x41dfffffffe00000, 0x7fffffff, NV /* 2^31-0.5 rounds out */
	DTOI fcvt.w.d, 0x41dfffffffe00000, 0x7fffffff, NX, rtz
	DTOI fcvt.w.d, QNAN, 0x7fffffff, NV
	DTOI fcvt.w.d, NINF, 0xffffffff80000000, NV
	DTOI fcvt.w.d, 0x4004000000000000, 2, NX /* 2.5 */
	DTOI fcvt.w.d, 0x4004000000000000, 3, NX, rmm
	DTOI fcvt.w.d, 0xc004000000000000, -3, NX, rdn
	DTOI fcvt.w.d, 0xc004000000000000, -2, NX, rup
	DTOI fcvt.wu.d, 0x41e65a0bc0000000, 0xffffffffb2d05e00, 0
	DTOI fcvt.wu.d, NEG1, 0, NV
	DTOI fcvt.wu.d, 0x41f0000000000000, -1, NV /* 2^32 */
	DTOI fcvt.wu.d, QNAN, -1, NV
	DTOI fcvt.l.d, 0x4415af1d78b58c40, 0x7fffffffffffffff, NV /* 1e20 */
	DTOI fcvt.l.d, 0x43e0000000000000, 0x7fffffffffffffff, NV /* 2^63 */
	DTOI fcvt.l.d, 0xc3e0000000000000, 0x8000000000000000, 0 /* -2^63 */
	DTOI fcvt.l.d, QNAN, 0x7fffffffffffffff, NV
	DTOI fcvt.l.d, 0xbfe0000000000000, 0, NX /* -0.5 RNE -> 0 */
	DTOI fcvt.lu.d, NEG1, 0, NV
	DTOI fcvt.lu.d, 0x43e0000000000000, 0x8000000000000000, 0
	DTOI fcvt.lu.d, PINF, -1, NV
	DTOI fcvt.lu.d, 0xbfe0000000000000, 0, NX, rtz

	/* --- int -> double --- */
	ITOD fcvt.d.w, -1, NEG1, 0
	ITOD fcvt.d.wu, -1, 0x41efffffffe00000, 0
	ITOD fcvt.d.w, 0xffffffff00000002, TWO, 0 /* low word only */
	ITOD fcvt.d.l, 0x7fffffffffffffff, 0x43e0000000000000, NX
	ITOD fcvt.d.lu, -1, 0x43f0000000000000, NX
	ITOD fcvt.d.l, 0x8000000000000000, 0xc3e0000000000000, 0
	ITOD fcvt.d.l, 3, THREE, 0

	/* --- double <-> single --- */
	D2S 0x3fd5555555555555, 0x3eaaaaab, NX
	D2S 0x3fd5555555555555, 0x3eaaaaaa, NX, rtz
	D2S ONE, 0x3f800000, 0
	D2S MAXD, 0x7f800000, OF | NX
	D2S MAXD, 0x7f7fffff, OF | NX, rtz
	D2S 0x358dee7a4ad4b81f, 0, UF | NX /* 1e-50 */
	D2S 0x36a0000000000000, 0x00000001, 0 /* 2^-149 exact subnormal */
	D2S QNAN, S_QNAN, 0
	D2S SNAN, S_QNAN, NV
	D2S NZERO, 0x80000000, 0
	S2D 0x3f800000, ONE, 0
	S2D 0x00000001, 0x36a0000000000000, 0
	S2D 0x7f800001, QNAN, NV
	S2D 0x7fc12345, QNAN, 0
	S2D 0xff800000, NINF, 0
	LI_D fa0, 0x3f800000 /* unboxed single: canonical NaN, quiet */
	fcvt.d.s fa2, fa0
	CHECK_FD fa2, QNAN
	CHECK_FFLAGS 0
	LI_D fa0, THREE
	fcvt.s.d fa2, fa0
	fmv.x.d a0, fa2 /* single results are boxed */
	CHECK a0, 0xffffffff40400000

	/* --- fclass --- */
	DTOI fclass.d, NINF, 1 << 0, 0
	DTOI fclass.d, NEG1, 1 << 1, 0
	DTOI fclass.d, 0x800fffffffffffff, 1 << 2, 0
	DTOI fclass.d, NZERO, 1 << 3, 0
	DTOI fclass.d, 0, 1 << 4, 0
	DTOI fclass.d, 1, 1 << 5, 0
	DTOI fclass.d, ONE, 1 << 6, 0
	DTOI fclass.d, PINF, 1 << 7, 0
	DTOI fclass.d, SNAN, 1 << 8, 0
	DTOI fclass.d, QNAN, 1 << 9, 0

	/* --- fmin/fmax --- */
	DOP2 fmin.d, NZERO, 0, NZERO, 0
	DOP2 fmin.d, 0, NZERO, NZERO, 0
	DOP2 fmax.d, NZERO, 0, 0, 0
	DOP2 fmax.d, 0, NZERO, 0, 0
	DOP2 fmin.d, QNAN, ONE, ONE, 0
	DOP2 fmax.d, NEG1, QNAN, NEG1, 0
	DOP2 fmax.d, SNAN, ONE, ONE, NV
	DOP2 fmin.d, QNAN, SNAN, QNAN, NV
	DOP2 fmin.d, NINF, PINF, NINF, 0

	/* --- sign injection --- */
	DOP2 fsgnj.d, ONE, NEG1, NEG1, 0
	DOP2 fsgnjn.d, NEG1, NEG1, ONE, 0
	DOP2 fsgnjx.d, NEG1, NEG1, ONE, 0
	DOP2 fsgnjx.d, ONE, NEG1, NEG1, 0
	DOP2 fsgnjn.d, QNAN, 0, 0xfff8000000000000, 0

	/* --- compares --- */
	DCMP feq.d, ONE, ONE, 1, 0
	DCMP feq.d, NZERO, 0, 1, 0
	DCMP feq.d, QNAN, QNAN, 0, 0
	DCMP feq.d, SNAN, ONE, 0, NV
	DCMP flt.d, ONE, QNAN, 0, NV
	DCMP fle.d, QNAN, ONE, 0, NV
	DCMP flt.d, NEG1, ONE, 1, 0
	DCMP fle.d, NZERO, 0, 1, 0
	DCMP flt.d, NZERO, 0, 0, 0

	/* --- fused multiply-add --- */
	LI_D fa0, TWO
	LI_D fa1, THREE
	LI_D fa3, ONE
	fmadd.d fa2, fa0, fa1, fa3
	CHECK_FD fa2, 0x401c000000000000 /* 7 */
	fmsub.d fa2, fa0, fa1, fa3
	CHECK_FD fa2, 0x4014000000000000 /* 5 */
	fnmsub.d fa2, fa0, fa1, fa3
	CHECK_FD fa2, 0xc014000000000000 /* -5 */
	fnmadd.d fa2, fa0, fa1, fa3
	CHECK_FD fa2, 0xc01c000000000000 /* -7 */
	CHECK_FFLAGS 0
	LI_D fa0, 0x3ff0000000000001 /* 1 + 2^-52 */
	LI_D fa3, 0xbff0000000000002 /* -(1 + 2^-51) */
	fmadd.d fa2, fa0, fa0, fa3
	CHECK_FD fa2, 0x3970000000000000 /* 2^-104 */
	CHECK_FFLAGS 0
	fmul.d fa2, fa0, fa0
	fadd.d fa2, fa2, fa3
	CHECK_FD fa2, 0
	CHECK_FFLAGS NX
	LI_D fa0, 0
	LI_D fa1, NINF
	LI_D fa3, QNAN
	fmadd.d fa2, fa0, fa1, fa3
	CHECK_FD fa2, QNAN
	CHECK_FFLAGS NV
	LI_D fa0, MAXD
	LI_D fa1, TWO
	LI_D fa3, NINF
	fmsub.d fa2, fa0, fa1, fa3 /* overflow to +inf, minus -inf */
	CHECK_FD fa2, PINF
	CHECK_FFLAGS 0
	LI_D fa0, ONE
	LI_D fa1, ONE
	LI_D fa3, NEG1
	fmadd.d fa2, fa0, fa1, fa3, rdn /* exact zero sum is -0 under RDN */
	CHECK_FD fa2, NZERO
	fmadd.d fa2, fa0, fa1, fa3
	CHECK_FD fa2, 0
	CHECK_FFLAGS 0

	TEST_END

	.data
	.align 3
ddata:	.dword 0, 0
