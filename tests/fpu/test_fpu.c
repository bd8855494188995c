/*
 * test_fpu.c - unit tests for fpu (IEEE 754 binary32/binary64, RISC-V F/D).
 *
 * Two parts: hand-picked vectors for every function, rounding mode and flag
 * rule the spec names; and a randomized cross-check over operands biased
 * toward edge cases. RNE/RTZ/RDN/RUP are checked bit-exactly (results and
 * flags) against the host's own SSE arithmetic under fesetround; RMM, which
 * the host lacks, against a reference rounder fed with exact (or provably
 * double-rounding-safe) wider results: double for binary32, __float128 for
 * binary64. Host NaN payloads propagate, so NaN results compare as "is NaN"
 * on the host side and as the canonical NaN on ours.
 */
/* GCC ignores this pragma (and warns); the host-side code instead keeps
 * operands and results in volatiles so nothing is folded or moved across
 * fesetround/fetestexcept. */
#pragma GCC diagnostic ignored "-Wunknown-pragmas"
#pragma STDC FENV_ACCESS ON

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fenv.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fpu.h"

#define RNE FPU_RNE
#define RTZ FPU_RTZ
#define RDN FPU_RDN
#define RUP FPU_RUP
#define RMM FPU_RMM
#define NV  FPU_NV
#define DZ  FPU_DZ
#define OF  FPU_OF
#define UF  FPU_UF
#define NX  FPU_NX

/* binary32 patterns */
#define P0_32   0x00000000u
#define N0_32   0x80000000u
#define ONE32   0x3f800000u
#define NONE32  0xbf800000u
#define TWO32   0x40000000u
#define INF32   0x7f800000u
#define NINF32  0xff800000u
#define QNAN32  0x7fc00000u
#define QNANP32 0xffc12345u /* negative quiet NaN with a payload */
#define SNAN32  0x7f800001u
#define MAX32   0x7f7fffffu
#define MINN32  0x00800000u /* smallest normal */
#define MINS32  0x00000001u /* smallest subnormal */
/* binary64 patterns */
#define P0_64   0x0000000000000000ull
#define N0_64   0x8000000000000000ull
#define ONE64   0x3ff0000000000000ull
#define NONE64  0xbff0000000000000ull
#define TWO64   0x4000000000000000ull
#define INF64   0x7ff0000000000000ull
#define NINF64  0xfff0000000000000ull
#define QNAN64  0x7ff8000000000000ull
#define QNANP64 0xfff8000000012345ull
#define SNAN64  0x7ff0000000000001ull
#define MAX64   0x7fefffffffffffffull
#define MINN64  0x0010000000000000ull
#define MINS64  0x0000000000000001ull

static uint32_t fb(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bf(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint64_t db(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static double bd(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/*
 * T(expr, want, wflags): evaluate expr, which may use the local `ff` as its
 * flags accumulator, and check both the result bits and the flags.
 */
#define T(expr, want, wflags)                                                                      \
    do {                                                                                           \
        unsigned ff = 0;                                                                           \
        uint64_t got_ = (uint64_t)(expr), want_ = (uint64_t)(want);                                \
        if (got_ != want_ || ff != (unsigned)(wflags)) {                                           \
            print_error("%s:%d: %s\n  got %#llx flags %#x, want %#llx flags %#x\n", __FILE__,      \
                        __LINE__, #expr, (unsigned long long)got_, ff, (unsigned long long)want_,  \
                        (unsigned)(wflags));                                                       \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- hand-picked vectors --------------------------------------------------- */

static void test_fpu__nan_inputs_give_canonical_nan(void **state)
{
    (void)state;
    T(fpu_add32(QNANP32, ONE32, RNE, &ff), QNAN32, 0);
    T(fpu_add32(SNAN32, ONE32, RNE, &ff), QNAN32, NV);
    T(fpu_sub32(ONE32, 0x7fbfffffu, RNE, &ff), QNAN32, NV); /* sNaN, max payload */
    T(fpu_mul32(QNANP32, P0_32, RNE, &ff), QNAN32, 0);
    T(fpu_div32(ONE32, SNAN32, RNE, &ff), QNAN32, NV);
    T(fpu_sqrt32(QNANP32, RNE, &ff), QNAN32, 0);
    T(fpu_sqrt32(SNAN32, RNE, &ff), QNAN32, NV);
    T(fpu_add64(QNANP64, ONE64, RNE, &ff), QNAN64, 0);
    T(fpu_add64(ONE64, SNAN64, RNE, &ff), QNAN64, NV);
    T(fpu_mul64(SNAN64, QNANP64, RNE, &ff), QNAN64, NV);
    T(fpu_div64(QNANP64, QNANP64, RNE, &ff), QNAN64, 0);
    T(fpu_sqrt64(0xfff0000000000001ull, RNE, &ff), QNAN64, NV);
    T(fpu_fma64(ONE64, ONE64, QNANP64, 0, RNE, &ff), QNAN64, 0);
    T(fpu_fma32(ONE32, SNAN32, ONE32, 0, RNE, &ff), QNAN32, NV);
    T(fpu_fma32(ONE32, ONE32, SNAN32, 0, RNE, &ff), QNAN32, NV);
}

static void test_fpu__invalid_operations(void **state)
{
    (void)state;
    T(fpu_add32(INF32, NINF32, RNE, &ff), QNAN32, NV);
    T(fpu_sub32(INF32, INF32, RNE, &ff), QNAN32, NV);
    T(fpu_sub32(INF32, NINF32, RNE, &ff), INF32, 0);
    T(fpu_add64(NINF64, NINF64, RNE, &ff), NINF64, 0);
    T(fpu_add64(NINF64, MAX64, RNE, &ff), NINF64, 0);
    T(fpu_mul32(INF32, N0_32, RNE, &ff), QNAN32, NV);
    T(fpu_mul64(P0_64, NINF64, RNE, &ff), QNAN64, NV);
    T(fpu_mul64(NINF64, NONE64, RNE, &ff), INF64, 0);
    T(fpu_div32(P0_32, N0_32, RNE, &ff), QNAN32, NV);
    T(fpu_div64(INF64, NINF64, RNE, &ff), QNAN64, NV);
    T(fpu_div64(INF64, P0_64, RNE, &ff), INF64, 0); /* no DZ: the dividend is not finite */
    T(fpu_div64(ONE64, NINF64, RNE, &ff), N0_64, 0);
}

static void test_fpu__divide_by_zero(void **state)
{
    (void)state;
    T(fpu_div32(ONE32, P0_32, RNE, &ff), INF32, DZ);
    T(fpu_div32(NONE32, P0_32, RNE, &ff), NINF32, DZ);
    T(fpu_div32(ONE32, N0_32, RTZ, &ff), NINF32, DZ);
    T(fpu_div64(MINS64, N0_64, RNE, &ff), NINF64, DZ);
    T(fpu_div64(NONE64, N0_64, RUP, &ff), INF64, DZ);
}

static void test_fpu__signed_zero(void **state)
{
    (void)state;
    for (unsigned rm = RNE; rm <= RMM; rm++) {
        uint32_t z32 = rm == RDN ? N0_32 : P0_32;
        uint64_t z64 = rm == RDN ? N0_64 : P0_64;
        T(fpu_add32(N0_32, P0_32, rm, &ff), z32, 0);
        T(fpu_add32(N0_32, N0_32, rm, &ff), N0_32, 0);
        T(fpu_add32(P0_32, P0_32, rm, &ff), P0_32, 0);
        T(fpu_sub32(ONE32, ONE32, rm, &ff), z32, 0);
        T(fpu_sub32(P0_32, P0_32, rm, &ff), z32, 0);
        T(fpu_sub32(N0_32, P0_32, rm, &ff), N0_32, 0);
        T(fpu_add64(N0_64, P0_64, rm, &ff), z64, 0);
        T(fpu_sub64(0x4012345678abcdefull, 0x4012345678abcdefull, rm, &ff), z64, 0);
        T(fpu_add64(MINS64, 0x8000000000000001ull, rm, &ff), z64, 0);
        /* x*y - x*y cancels exactly inside the fma. */
        T(fpu_fma64(TWO64, 0x4008000000000000ull, 0xc018000000000000ull, 0, rm, &ff), z64, 0);
        T(fpu_fma32(P0_32, ONE32, N0_32, 0, rm, &ff), z32, 0);
        T(fpu_fma32(N0_32, ONE32, N0_32, 0, rm, &ff), N0_32, 0);
        T(fpu_fma32(P0_32, ONE32, P0_32, FPU_FMA_NEGPROD | FPU_FMA_NEGADD, rm, &ff), N0_32, 0);
    }
    T(fpu_mul32(N0_32, 0x40a00000u, RNE, &ff), N0_32, 0);
    T(fpu_div64(P0_64, 0xc008000000000000ull, RNE, &ff), N0_64, 0);
    T(fpu_add32(N0_32, 0x80000005u, RNE, &ff), 0x80000005u, 0);
    /* A nonzero result that rounds to zero keeps its sign. */
    T(fpu_mul64(0x8000000000000001ull, 0x3fe0000000000000ull, RNE, &ff), N0_64, UF | NX);
    T(fpu_mul64(0x8000000000000001ull, 0x3fe0000000000000ull, RDN, &ff), 0x8000000000000001ull,
      UF | NX);
}

static void test_fpu__subnormals(void **state)
{
    (void)state;
    /* Exact subnormal results raise nothing, not even UF. */
    T(fpu_add64(MINS64, MINS64, RNE, &ff), 0x0000000000000002ull, 0);
    T(fpu_sub64(0x0010000000000001ull, MINN64, RNE, &ff), MINS64, 0);
    T(fpu_mul32(MINN32, 0x3f000000u, RNE, &ff), 0x00400000u, 0);
    T(fpu_div32(0x00000006u, 0x40400000u, RNE, &ff), 0x00000002u, 0);
    /* Subnormal operands are normalised correctly. */
    T(fpu_mul32(0x00000003u, 0x4b000000u, RNE, &ff), 0x01400000u, 0); /* 3*2^-149 * 2^23 */
    T(fpu_mul64(0x000fffffffffffffull, TWO64, RNE, &ff), 0x001ffffffffffffeull, 0);
    T(fpu_div64(ONE64, 0x0008000000000000ull, RNE, &ff), 0x7fe0000000000000ull, 0);
    /* Inexact subnormal results: tie at the subnormal lsb. */
    T(fpu_mul32(0x00800001u, 0x3f000000u, RNE, &ff), 0x00400000u, UF | NX);
    T(fpu_mul32(0x00800001u, 0x3f000000u, RMM, &ff), 0x00400001u, UF | NX);
    T(fpu_mul32(0x00800003u, 0x3f000000u, RNE, &ff), 0x00400002u, UF | NX);
    T(fpu_mul32(0x00800001u, 0x3f000000u, RTZ, &ff), 0x00400000u, UF | NX);
    T(fpu_mul32(0x00800001u, 0x3f000000u, RUP, &ff), 0x00400001u, UF | NX);
    T(fpu_mul32(0x80800001u, 0x3f000000u, RDN, &ff), 0x80400001u, UF | NX);
    /* Underflow all the way to zero or the smallest subnormal. */
    T(fpu_mul64(MINS64, MINS64, RNE, &ff), P0_64, UF | NX);
    T(fpu_mul64(MINS64, MINS64, RUP, &ff), MINS64, UF | NX);
    T(fpu_mul64(MINS64, 0xbfe0000000000000ull, RMM, &ff), 0x8000000000000001ull, UF | NX);
    T(fpu_mul64(MINS64, 0xbfe0000000000000ull, RNE, &ff), N0_64, UF | NX);
}

/*
 * Tininess is detected after rounding: a result just below the smallest
 * normal that rounds up to it at full precision is not tiny (no UF), one
 * that only reaches it because of the subnormal rounding is.
 */
static void test_fpu__underflow_after_rounding(void **state)
{
    (void)state;
    /* 2^-126 - 2^-152: not tiny under RNE/RUP/RMM, tiny under RTZ/RDN. */
    T(fpu_fma32(MINS32, 0xbe800000u, MINN32, 0, RNE, &ff), MINN32, NX);
    T(fpu_fma32(MINS32, 0xbe800000u, MINN32, 0, RUP, &ff), MINN32, NX);
    T(fpu_fma32(MINS32, 0xbe800000u, MINN32, 0, RMM, &ff), MINN32, NX);
    T(fpu_fma32(MINS32, 0xbe800000u, MINN32, 0, RTZ, &ff), 0x007fffffu, UF | NX);
    T(fpu_fma32(MINS32, 0xbe800000u, MINN32, 0, RDN, &ff), 0x007fffffu, UF | NX);
    /* 2^-126 - 2^-150 = (1 - 2^-24) 2^-126 is exact at 24 bits: tiny in every mode. */
    T(fpu_fma32(MINS32, 0xbf000000u, MINN32, 0, RNE, &ff), MINN32, UF | NX);
    T(fpu_fma32(MINS32, 0xbf000000u, MINN32, 0, RUP, &ff), MINN32, UF | NX);
    T(fpu_mul32(0x3f7fffffu, MINN32, RNE, &ff), MINN32, UF | NX);
    T(fpu_mul32(0x3f7fffffu, MINN32, RTZ, &ff), 0x007fffffu, UF | NX);
    /* The same in binary64. */
    T(fpu_fma64(MINS64, 0xbfd0000000000000ull, MINN64, 0, RNE, &ff), MINN64, NX);
    T(fpu_fma64(MINS64, 0xbfd0000000000000ull, MINN64, 0, RTZ, &ff), 0x000fffffffffffffull,
      UF | NX);
    T(fpu_fma64(MINS64, 0xbfe0000000000000ull, MINN64, 0, RNE, &ff), MINN64, UF | NX);
    T(fpu_mul64(0x3fefffffffffffffull, MINN64, RMM, &ff), MINN64, UF | NX);
    T(fpu_mul64(0x3fefffffffffffffull, 0x8010000000000000ull, RDN, &ff), 0x8010000000000000ull,
      UF | NX);
    /* Via conversion: (1 - 2^-25) 2^-126 rounds to 2^-126 at 24 bits;
     * (1 - 2^-24) 2^-126 is exact at 24 bits. */
    T(fpu_f64_to_f32(0x380ffffff0000000ull, RNE, &ff), MINN32, NX);
    T(fpu_f64_to_f32(0x380ffffff0000000ull, RTZ, &ff), 0x007fffffu, UF | NX);
    T(fpu_f64_to_f32(0x380fffffe0000000ull, RNE, &ff), MINN32, UF | NX);
    T(fpu_f64_to_f32(0x380fffffe0000000ull, RMM, &ff), MINN32, UF | NX);
    /* A normal result is never tiny, whatever the rounding. */
    T(fpu_mul64(0x3fefffffffffffffull, 0x0010000000000001ull, RNE, &ff), MINN64, NX);
}

static void test_fpu__overflow(void **state)
{
    (void)state;
    T(fpu_mul32(MAX32, TWO32, RNE, &ff), INF32, OF | NX);
    T(fpu_mul32(MAX32, TWO32, RMM, &ff), INF32, OF | NX);
    T(fpu_mul32(MAX32, TWO32, RTZ, &ff), MAX32, OF | NX);
    T(fpu_mul32(MAX32, TWO32, RDN, &ff), MAX32, OF | NX);
    T(fpu_mul32(MAX32, TWO32, RUP, &ff), INF32, OF | NX);
    T(fpu_mul32(MAX32, 0xc0000000u, RDN, &ff), NINF32, OF | NX);
    T(fpu_mul32(MAX32, 0xc0000000u, RUP, &ff), 0xff7fffffu, OF | NX);
    T(fpu_mul32(MAX32, 0xc0000000u, RTZ, &ff), 0xff7fffffu, OF | NX);
    T(fpu_add64(MAX64, MAX64, RNE, &ff), INF64, OF | NX);
    T(fpu_add64(MAX64, MAX64, RTZ, &ff), MAX64, OF | NX);
    T(fpu_add64(0xffefffffffffffffull, 0xffefffffffffffffull, RUP, &ff), 0xffefffffffffffffull,
      OF | NX);
    T(fpu_div64(MAX64, 0x3fe0000000000000ull, RMM, &ff), INF64, OF | NX);
    T(fpu_mul64(0x7fe0000000000000ull, 0x7fe0000000000000ull, RDN, &ff), MAX64, OF | NX);
    /* MAX + half an ulp is a tie: RNE goes to the even neighbour, 2^128. */
    T(fpu_add32(MAX32, 0x73000000u, RNE, &ff), INF32, OF | NX);
    T(fpu_add32(MAX32, 0x73000000u, RMM, &ff), INF32, OF | NX);
    T(fpu_add32(MAX32, 0x73000000u, RTZ, &ff), MAX32, NX);
    T(fpu_add32(MAX32, 0x72800000u, RNE, &ff), MAX32, NX);
    T(fpu_add32(MAX32, 0x72800000u, RUP, &ff), INF32, OF | NX);
    T(fpu_add32(MAX32, MINS32, RUP, &ff), INF32, OF | NX);
    T(fpu_add32(MAX32, MINS32, RNE, &ff), MAX32, NX);
    T(fpu_f64_to_f32(MAX64, RNE, &ff), INF32, OF | NX);
    T(fpu_f64_to_f32(MAX64, RTZ, &ff), MAX32, OF | NX);
    T(fpu_f64_to_f32(0xc7efffffe0000000ull, RNE, &ff), 0xff7fffffu, 0); /* exactly -MAX32 */
    T(fpu_f64_to_f32(0xc7efffffe0000000ull, RUP, &ff), 0xff7fffffu, 0);
    T(fpu_f64_to_f32(INF64, RTZ, &ff), INF32, 0);
}

/* Ties: RNE to the even neighbour, RMM away from zero. */
static void test_fpu__ties(void **state)
{
    (void)state;
    T(fpu_add32(ONE32, 0x33800000u, RNE, &ff), ONE32, NX); /* 1 + 2^-24 */
    T(fpu_add32(ONE32, 0x33800000u, RMM, &ff), 0x3f800001u, NX);
    T(fpu_add32(0x3f800001u, 0x33800000u, RNE, &ff), 0x3f800002u, NX);
    T(fpu_add32(0x3f800001u, 0x33800000u, RMM, &ff), 0x3f800002u, NX);
    T(fpu_add32(NONE32, 0xb3800000u, RNE, &ff), NONE32, NX);
    T(fpu_add32(NONE32, 0xb3800000u, RMM, &ff), 0xbf800001u, NX);
    T(fpu_add32(NONE32, 0xb3800000u, RDN, &ff), 0xbf800001u, NX);
    T(fpu_add32(NONE32, 0xb3800000u, RUP, &ff), NONE32, NX);
    T(fpu_add32(ONE32, 0x33800001u, RNE, &ff), 0x3f800001u, NX);     /* just above the tie */
    T(fpu_add64(ONE64, 0x3ca0000000000000ull, RNE, &ff), ONE64, NX); /* 1 + 2^-53 */
    T(fpu_add64(ONE64, 0x3ca0000000000000ull, RMM, &ff), 0x3ff0000000000001ull, NX);
    T(fpu_add64(ONE64, 0x3ca0000000000000ull, RTZ, &ff), ONE64, NX);
    T(fpu_add64(ONE64, 0x3ca0000000000000ull, RUP, &ff), 0x3ff0000000000001ull, NX);
    T(fpu_mul64(0x3ff0000000000001ull, 0x3ff8000000000000ull, RNE, &ff), 0x3ff8000000000002ull,
      NX); /* (1+2^-52)*1.5 = 1.5 + 1.5*2^-52: tie */
    T(fpu_mul64(0x3ff0000000000001ull, 0x3ff8000000000000ull, RMM, &ff), 0x3ff8000000000002ull, NX);
    T(fpu_mul64(0x3ff0000000000003ull, 0x3ff8000000000000ull, RNE, &ff), 0x3ff8000000000004ull,
      NX); /* 1.5 + 4.5*2^-52 */
    T(fpu_mul64(0x3ff0000000000003ull, 0x3ff8000000000000ull, RMM, &ff), 0x3ff8000000000005ull, NX);
    T(fpu_div32(0x3fc00000u, 0x4b800000u, RNE, &ff), 0x33c00000u, 0); /* exact quotient */
}

static void test_fpu__fma(void **state)
{
    (void)state;
    /* (1+2^-12)^2 - (1+2^-11) = 2^-24 exactly, while mul then add gives 0. */
    T(fpu_fma32(0x3f800800u, 0x3f800800u, 0xbf801000u, 0, RNE, &ff), 0x33800000u, 0);
    T(fpu_add32(fpu_mul32(0x3f800800u, 0x3f800800u, RNE, &ff), 0xbf801000u, RNE, &ff), P0_32, NX);
    T(fpu_fma64(0x3ff0000002000000ull, 0x3ff0000002000000ull, 0xbff0000004000000ull, 0, RNE, &ff),
      0x3c90000000000000ull, 0);
    T(fpu_add64(fpu_mul64(0x3ff0000002000000ull, 0x3ff0000002000000ull, RNE, &ff),
                0xbff0000004000000ull, RNE, &ff),
      P0_64, NX);
    T(fpu_fma64(0x3ff0000000000001ull, 0x3ff0000000000001ull, ONE64, 0, RNE, &ff),
      0x4000000000000001ull, NX); /* 2 + 2^-51 + 2^-104: inexact only by the low bits */
    /* The four sign variants: 2*3 + 1. */
    T(fpu_fma64(TWO64, 0x4008000000000000ull, ONE64, 0, RNE, &ff), 0x401c000000000000ull, 0);
    T(fpu_fma64(TWO64, 0x4008000000000000ull, ONE64, FPU_FMA_NEGPROD, RNE, &ff),
      0xc014000000000000ull, 0);
    T(fpu_fma64(TWO64, 0x4008000000000000ull, ONE64, FPU_FMA_NEGADD, RNE, &ff),
      0x4014000000000000ull, 0);
    T(fpu_fma64(TWO64, 0x4008000000000000ull, ONE64, FPU_FMA_NEGPROD | FPU_FMA_NEGADD, RNE, &ff),
      0xc01c000000000000ull, 0);
    T(fpu_fma32(TWO32, 0x40400000u, ONE32, FPU_FMA_NEGPROD, RNE, &ff), 0xc0a00000u, 0);
    T(fpu_fma32(TWO32, 0x40400000u, ONE32, FPU_FMA_NEGADD, RNE, &ff), 0x40a00000u, 0);
    /* inf * 0 is invalid, even with a quiet NaN addend (RISC-V rule). */
    T(fpu_fma32(INF32, P0_32, ONE32, 0, RNE, &ff), QNAN32, NV);
    T(fpu_fma32(P0_32, NINF32, QNAN32, 0, RNE, &ff), QNAN32, NV);
    T(fpu_fma64(INF64, N0_64, QNANP64, 0, RNE, &ff), QNAN64, NV);
    T(fpu_fma64(INF64, ONE64, NINF64, 0, RNE, &ff), QNAN64, NV);
    T(fpu_fma64(INF64, ONE64, INF64, FPU_FMA_NEGADD, RNE, &ff), QNAN64, NV);
    T(fpu_fma64(INF64, ONE64, INF64, 0, RNE, &ff), INF64, 0);
    T(fpu_fma64(INF64, ONE64, INF64, FPU_FMA_NEGPROD | FPU_FMA_NEGADD, RNE, &ff), NINF64, 0);
    T(fpu_fma64(ONE64, ONE64, NINF64, 0, RNE, &ff), NINF64, 0);
    T(fpu_fma64(QNAN64, P0_64, INF64, 0, RNE, &ff), QNAN64, 0);
    /* Zero product: the addend comes back exactly, even a subnormal. */
    T(fpu_fma64(P0_64, MAX64, MINS64, 0, RNE, &ff), MINS64, 0);
    T(fpu_fma64(P0_64, MAX64, MINS64, FPU_FMA_NEGADD, RNE, &ff), 0x8000000000000001ull, 0);
    /* Overflow of the product alone, rescued by nothing. */
    T(fpu_fma32(MAX32, MAX32, NINF32, FPU_FMA_NEGADD, RNE, &ff), INF32, 0);
    T(fpu_fma32(MAX32, MAX32, MAX32, FPU_FMA_NEGADD, RNE, &ff), INF32, OF | NX);
    /* Huge product minus huge addend cancels back into range. */
    T(fpu_fma64(0x7fe0000000000000ull, TWO64, 0x7fefffffffffffffull, FPU_FMA_NEGADD, RNE, &ff),
      0x7ca0000000000000ull, 0);
}

static void test_fpu__sqrt(void **state)
{
    (void)state;
    T(fpu_sqrt32(N0_32, RNE, &ff), N0_32, 0);
    T(fpu_sqrt64(N0_64, RDN, &ff), N0_64, 0);
    T(fpu_sqrt64(P0_64, RNE, &ff), P0_64, 0);
    T(fpu_sqrt32(NONE32, RNE, &ff), QNAN32, NV);
    T(fpu_sqrt64(0x8000000000000001ull, RNE, &ff), QNAN64, NV);
    T(fpu_sqrt64(NINF64, RNE, &ff), QNAN64, NV);
    T(fpu_sqrt64(INF64, RNE, &ff), INF64, 0);
    T(fpu_sqrt32(0x40800000u, RNE, &ff), TWO32, 0);
    T(fpu_sqrt64(0x4022000000000000ull, RNE, &ff), 0x4008000000000000ull, 0); /* sqrt 9 */
    T(fpu_sqrt64(TWO64, RNE, &ff), 0x3ff6a09e667f3bcdull, NX);
    T(fpu_sqrt64(TWO64, RTZ, &ff), 0x3ff6a09e667f3bccull, NX);
    T(fpu_sqrt64(TWO64, RUP, &ff), 0x3ff6a09e667f3bcdull, NX);
    T(fpu_sqrt32(TWO32, RNE, &ff), 0x3fb504f3u, NX);
    T(fpu_sqrt32(TWO32, RDN, &ff), 0x3fb504f3u, NX);
    T(fpu_sqrt32(TWO32, RUP, &ff), 0x3fb504f4u, NX);
    T(fpu_sqrt64(MINS64, RNE, &ff), 0x1e60000000000000ull, 0); /* 2^-537 */
    T(fpu_sqrt32(0x00000002u, RNE, &ff), 0x1a800000u, 0);      /* 2^-74 */
    T(fpu_sqrt32(MINS32, RNE, &ff), 0x1a3504f3u, NX);          /* 2^-74.5 */
    T(fpu_sqrt64(MAX64, RNE, &ff), 0x5fefffffffffffffull, NX);
    T(fpu_sqrt64(MAX64, RMM, &ff), 0x5fefffffffffffffull, NX);
    T(fpu_sqrt64(MAX64, RUP, &ff), 0x5ff0000000000000ull, NX);
}

static void test_fpu__div(void **state)
{
    (void)state;
    T(fpu_div32(ONE32, 0x40400000u, RNE, &ff), 0x3eaaaaabu, NX);
    T(fpu_div32(ONE32, 0x40400000u, RTZ, &ff), 0x3eaaaaaau, NX);
    T(fpu_div32(ONE32, 0x40400000u, RDN, &ff), 0x3eaaaaaau, NX);
    T(fpu_div32(ONE32, 0x40400000u, RUP, &ff), 0x3eaaaaabu, NX);
    T(fpu_div32(ONE32, 0x40400000u, RMM, &ff), 0x3eaaaaabu, NX);
    T(fpu_div32(NONE32, 0x40400000u, RDN, &ff), 0xbeaaaaabu, NX);
    T(fpu_div32(NONE32, 0x40400000u, RUP, &ff), 0xbeaaaaaau, NX);
    T(fpu_div64(ONE64, 0x4008000000000000ull, RNE, &ff), 0x3fd5555555555555ull, NX);
    T(fpu_div64(ONE64, 0x4008000000000000ull, RUP, &ff), 0x3fd5555555555556ull, NX);
    T(fpu_div64(0x4008000000000000ull, TWO64, RNE, &ff), 0x3ff8000000000000ull, 0);
    T(fpu_div64(MINN64, 0x4330000000000000ull, RNE, &ff), 0x0000000000000001ull, 0);
    T(fpu_div64(MINN64, 0x4340000000000000ull, RNE, &ff), P0_64, UF | NX); /* tie to 0 */
    T(fpu_div64(MINN64, 0x4340000000000000ull, RMM, &ff), MINS64, UF | NX);
}

static void test_fpu__min_max(void **state)
{
    (void)state;
    T(fpu_min32(N0_32, P0_32, &ff), N0_32, 0);
    T(fpu_min32(P0_32, N0_32, &ff), N0_32, 0);
    T(fpu_max32(N0_32, P0_32, &ff), P0_32, 0);
    T(fpu_max32(P0_32, N0_32, &ff), P0_32, 0);
    T(fpu_min32(QNANP32, ONE32, &ff), ONE32, 0);
    T(fpu_max32(ONE32, QNANP32, &ff), ONE32, 0);
    T(fpu_min32(SNAN32, ONE32, &ff), ONE32, NV);
    T(fpu_max32(NONE32, SNAN32, &ff), NONE32, NV);
    T(fpu_min32(QNANP32, QNANP32, &ff), QNAN32, 0);
    T(fpu_max32(SNAN32, QNANP32, &ff), QNAN32, NV);
    T(fpu_min32(NINF32, MAX32, &ff), NINF32, 0);
    T(fpu_max32(0xc0000000u, NONE32, &ff), NONE32, 0);
    T(fpu_min32(0xc0000000u, NONE32, &ff), 0xc0000000u, 0);
    T(fpu_min64(N0_64, P0_64, &ff), N0_64, 0);
    T(fpu_max64(N0_64, P0_64, &ff), P0_64, 0);
    T(fpu_min64(SNAN64, MINS64, &ff), MINS64, NV);
    T(fpu_max64(QNANP64, 0xc014000000000000ull, &ff), 0xc014000000000000ull, 0);
    T(fpu_max64(QNANP64, SNAN64, &ff), QNAN64, NV);
    T(fpu_max64(INF64, MAX64, &ff), INF64, 0);
    T(fpu_min64(0x8000000000000001ull, N0_64, &ff), 0x8000000000000001ull, 0);
    T(fpu_max64(MINS64, TWO64, &ff), TWO64, 0);
}

static void test_fpu__compare(void **state)
{
    (void)state;
    T(fpu_eq32(QNAN32, ONE32, &ff), 0, 0);
    T(fpu_eq32(QNAN32, QNAN32, &ff), 0, 0);
    T(fpu_eq32(SNAN32, ONE32, &ff), 0, NV);
    T(fpu_lt32(QNAN32, ONE32, &ff), 0, NV);
    T(fpu_le32(ONE32, QNANP32, &ff), 0, NV);
    T(fpu_eq32(N0_32, P0_32, &ff), 1, 0);
    T(fpu_lt32(N0_32, P0_32, &ff), 0, 0);
    T(fpu_le32(P0_32, N0_32, &ff), 1, 0);
    T(fpu_lt32(NONE32, ONE32, &ff), 1, 0);
    T(fpu_lt32(0xc0000000u, NONE32, &ff), 1, 0);
    T(fpu_lt32(NONE32, 0xc0000000u, &ff), 0, 0);
    T(fpu_le32(INF32, INF32, &ff), 1, 0);
    T(fpu_lt32(MAX32, INF32, &ff), 1, 0);
    T(fpu_eq64(QNAN64, QNAN64, &ff), 0, 0);
    T(fpu_eq64(ONE64, SNAN64, &ff), 0, NV);
    T(fpu_lt64(QNANP64, ONE64, &ff), 0, NV);
    T(fpu_le64(SNAN64, ONE64, &ff), 0, NV);
    T(fpu_eq64(N0_64, P0_64, &ff), 1, 0);
    T(fpu_eq64(ONE64, ONE64, &ff), 1, 0);
    T(fpu_eq64(ONE64, 0x3ff0000000000001ull, &ff), 0, 0);
    T(fpu_lt64(0x8000000000000001ull, N0_64, &ff), 1, 0);
    T(fpu_le64(NINF64, 0xffefffffffffffffull, &ff), 1, 0);
    T(fpu_le64(ONE64, NONE64, &ff), 0, 0);
}

static void test_fpu__class(void **state)
{
    (void)state;
    assert_int_equal(fpu_class32(NINF32), 1u << 0);
    assert_int_equal(fpu_class32(NONE32), 1u << 1);
    assert_int_equal(fpu_class32(0x807fffffu), 1u << 2);
    assert_int_equal(fpu_class32(N0_32), 1u << 3);
    assert_int_equal(fpu_class32(P0_32), 1u << 4);
    assert_int_equal(fpu_class32(MINS32), 1u << 5);
    assert_int_equal(fpu_class32(MINN32), 1u << 6);
    assert_int_equal(fpu_class32(INF32), 1u << 7);
    assert_int_equal(fpu_class32(SNAN32), 1u << 8);
    assert_int_equal(fpu_class32(0xffbfffffu), 1u << 8);
    assert_int_equal(fpu_class32(QNAN32), 1u << 9);
    assert_int_equal(fpu_class32(QNANP32), 1u << 9);
    assert_int_equal(fpu_class64(NINF64), 1u << 0);
    assert_int_equal(fpu_class64(0xffefffffffffffffull), 1u << 1);
    assert_int_equal(fpu_class64(0x8000000000000001ull), 1u << 2);
    assert_int_equal(fpu_class64(N0_64), 1u << 3);
    assert_int_equal(fpu_class64(P0_64), 1u << 4);
    assert_int_equal(fpu_class64(0x000fffffffffffffull), 1u << 5);
    assert_int_equal(fpu_class64(MAX64), 1u << 6);
    assert_int_equal(fpu_class64(INF64), 1u << 7);
    assert_int_equal(fpu_class64(SNAN64), 1u << 8);
    assert_int_equal(fpu_class64(QNAN64), 1u << 9);
}

static void test_fpu__float_float_conversion(void **state)
{
    (void)state;
    T(fpu_f32_to_f64(MINS32, &ff), 0x36a0000000000000ull, 0); /* 2^-149 */
    T(fpu_f32_to_f64(0x807fffffu, &ff), 0xb80fffffc0000000ull, 0);
    T(fpu_f32_to_f64(MAX32, &ff), 0x47efffffe0000000ull, 0);
    T(fpu_f32_to_f64(N0_32, &ff), N0_64, 0);
    T(fpu_f32_to_f64(NINF32, &ff), NINF64, 0);
    T(fpu_f32_to_f64(QNANP32, &ff), QNAN64, 0);
    T(fpu_f32_to_f64(SNAN32, &ff), QNAN64, NV);
    T(fpu_f64_to_f32(QNANP64, RNE, &ff), QNAN32, 0);
    T(fpu_f64_to_f32(SNAN64, RNE, &ff), QNAN32, NV);
    T(fpu_f64_to_f32(N0_64, RNE, &ff), N0_32, 0);
    T(fpu_f64_to_f32(0x3fd5555555555555ull, RNE, &ff), 0x3eaaaaabu, NX);
    T(fpu_f64_to_f32(0x3fd5555555555555ull, RTZ, &ff), 0x3eaaaaaau, NX);
    T(fpu_f64_to_f32(0x36a0000000000000ull, RNE, &ff), MINS32, 0);
    T(fpu_f64_to_f32(0x3690000000000000ull, RNE, &ff), P0_32, UF | NX); /* 2^-150: tie */
    T(fpu_f64_to_f32(0x3690000000000000ull, RMM, &ff), MINS32, UF | NX);
    T(fpu_f64_to_f32(0x3690000000000000ull, RUP, &ff), MINS32, UF | NX);
    T(fpu_f64_to_f32(0xb690000000000000ull, RDN, &ff), 0x80000001u, UF | NX);
    T(fpu_f64_to_f32(0xb690000000000000ull, RNE, &ff), N0_32, UF | NX);
    T(fpu_f64_to_f32(MINS64, RNE, &ff), P0_32, UF | NX);
    T(fpu_f64_to_f32(0x3ff0000010000000ull, RNE, &ff), ONE32, NX); /* 1 + 2^-24 */
    T(fpu_f64_to_f32(0x3ff0000010000000ull, RMM, &ff), 0x3f800001u, NX);
}

/* Float to integer: rounding in all modes, saturation, NaN, sign extension. */
static void test_fpu__float_to_int(void **state)
{
    (void)state;
    const uint32_t p25 = 0x40200000u, n25 = 0xc0200000u; /* +-2.5f */
    const int64_t w25[5] = {2, 2, 2, 3, 3}, wn25[5] = {-2, -2, -3, -2, -3};
    for (unsigned rm = RNE; rm <= RMM; rm++) {
        T(fpu_f32_to_i32(p25, rm, &ff), w25[rm], NX);
        T(fpu_f32_to_i32(n25, rm, &ff), wn25[rm], NX);
        T(fpu_f32_to_i64(n25, rm, &ff), wn25[rm], NX);
        T(fpu_f64_to_i64(0xc004000000000000ull, rm, &ff), wn25[rm], NX);
        T(fpu_f64_to_i32(0x4004000000000000ull, rm, &ff), w25[rm], NX);
        T(fpu_f32_to_u32(p25, rm, &ff), w25[rm], NX);
        T(fpu_f64_to_u64(0x4004000000000000ull, rm, &ff), (uint64_t)w25[rm], NX);
        T(fpu_f32_to_i32(0x40400000u, rm, &ff), 3, 0);
        T(fpu_f32_to_i32(N0_32, rm, &ff), 0, 0);
        T(fpu_f64_to_u64(N0_64, rm, &ff), 0, 0);
    }
    /* signed 32 */
    T(fpu_f32_to_i32(QNAN32, RNE, &ff), 0x7fffffff, NV);
    T(fpu_f32_to_i32(QNANP32, RNE, &ff), 0x7fffffff, NV); /* sign of a NaN is ignored */
    T(fpu_f32_to_i32(INF32, RNE, &ff), 0x7fffffff, NV);
    T(fpu_f32_to_i32(NINF32, RNE, &ff), INT32_MIN, NV);
    T(fpu_f32_to_i32(0x4f000000u, RNE, &ff), 0x7fffffff, NV);
    T(fpu_f32_to_i32(0x4effffffu, RNE, &ff), 2147483520, 0);
    T(fpu_f32_to_i32(0xcf000000u, RNE, &ff), INT32_MIN, 0);
    T(fpu_f32_to_i32(0xcf000001u, RNE, &ff), INT32_MIN, NV);
    T(fpu_f32_to_i32(0x3e99999au, RUP, &ff), 1, NX); /* 0.3 */
    T(fpu_f32_to_i32(0xbe99999au, RDN, &ff), -1, NX);
    T(fpu_f32_to_i32(MINS32, RUP, &ff), 1, NX);
    T(fpu_f64_to_i32(0x41dfffffffe00000ull, RNE, &ff), 0x7fffffff,
      NV); /* 2^31 - 0.5 ties up to 2^31 */
    T(fpu_f64_to_i32(0x41dfffffffe00000ull, RTZ, &ff), 0x7fffffff, NX);
    T(fpu_f64_to_i32(0xc1e0000000100000ull, RNE, &ff), INT32_MIN, NX); /* -2^31 - 0.5 */
    T(fpu_f64_to_i32(0xc1e0000000100000ull, RMM, &ff), INT32_MIN, NV);
    T(fpu_f64_to_i32(0xc1e0000000100000ull, RDN, &ff), INT32_MIN, NV);
    T(fpu_f64_to_i32(0xc1e0000000100000ull, RUP, &ff), INT32_MIN, NX);
    T(fpu_f64_to_i32(QNAN64, RNE, &ff), 0x7fffffff, NV);
    T(fpu_f64_to_i32(MAX64, RNE, &ff), 0x7fffffff, NV);
    T(fpu_f64_to_i32(0xffefffffffffffffull, RNE, &ff), INT32_MIN, NV);
    /* unsigned 32: results are sign-extended */
    T(fpu_f32_to_u32(0xbe99999au, RTZ, &ff), 0, NX); /* -0.3 rounds to -0 */
    T(fpu_f32_to_u32(0xbe99999au, RNE, &ff), 0, NX);
    T(fpu_f32_to_u32(0xbe99999au, RDN, &ff), 0, NV); /* -0.3 rounds to -1 */
    T(fpu_f32_to_u32(0xbf000000u, RNE, &ff), 0, NX); /* -0.5 -> -0 */
    T(fpu_f32_to_u32(0xbf000000u, RMM, &ff), 0, NV); /* -0.5 -> -1 */
    T(fpu_f32_to_u32(NONE32, RNE, &ff), 0, NV);
    T(fpu_f32_to_u32(NINF32, RNE, &ff), 0, NV);
    T(fpu_f32_to_u32(QNAN32, RNE, &ff), -1, NV);
    T(fpu_f32_to_u32(INF32, RNE, &ff), -1, NV);
    T(fpu_f32_to_u32(0x4f800000u, RNE, &ff), -1, NV); /* 2^32 */
    T(fpu_f32_to_u32(0x4f7fffffu, RNE, &ff), (int64_t)(int32_t)0xffffff00u, 0);
    T(fpu_f32_to_u32(0x4f000000u, RNE, &ff), (int64_t)(int32_t)0x80000000u, 0);
    T(fpu_f64_to_u32(0x41efffffffe00000ull, RNE, &ff), -1, 0);  /* 2^32 - 1 */
    T(fpu_f64_to_u32(0x41effffffff00000ull, RNE, &ff), -1, NV); /* 2^32 - 0.5 */
    T(fpu_f64_to_u32(0x41effffffff00000ull, RTZ, &ff), -1, NX);
    T(fpu_f64_to_u32(0x41effffffff00000ull, RDN, &ff), -1, NX);
    T(fpu_f64_to_u32(0x41dfffffffc00000ull, RNE, &ff), 0x7fffffff, 0);
    T(fpu_f64_to_u32(0xbfefffffffffffffull, RTZ, &ff), 0, NX);
    T(fpu_f64_to_u32(SNAN64, RTZ, &ff), -1, NV);
    /* signed 64 */
    T(fpu_f64_to_i64(0x43e0000000000000ull, RNE, &ff), INT64_MAX, NV); /* 2^63 */
    T(fpu_f64_to_i64(0xc3e0000000000000ull, RNE, &ff), INT64_MIN, 0);
    T(fpu_f64_to_i64(0xc3e0000000000001ull, RNE, &ff), INT64_MIN, NV);
    T(fpu_f64_to_i64(0x43dfffffffffffffull, RNE, &ff), 0x7ffffffffffffc00ll, 0);
    T(fpu_f64_to_i64(QNAN64, RNE, &ff), INT64_MAX, NV);
    T(fpu_f64_to_i64(NINF64, RNE, &ff), INT64_MIN, NV);
    T(fpu_f64_to_i64(0x3fe0000000000000ull, RNE, &ff), 0, NX);
    T(fpu_f64_to_i64(0x3fe0000000000000ull, RMM, &ff), 1, NX);
    T(fpu_f64_to_i64(0x3fe0000000000001ull, RNE, &ff), 1, NX);
    T(fpu_f64_to_i64(0x4330000000000001ull, RNE, &ff), 0x10000000000001ll, 0); /* 2^52+1 */
    T(fpu_f32_to_i64(0x5f000000u, RNE, &ff), INT64_MAX, NV);
    T(fpu_f32_to_i64(0xdf000000u, RNE, &ff), INT64_MIN, 0);
    T(fpu_f32_to_i64(QNANP32, RUP, &ff), INT64_MAX, NV);
    T(fpu_f32_to_i64(0x5effffffu, RNE, &ff), 0x7fffff8000000000ll, 0);
    /* unsigned 64 */
    T(fpu_f64_to_u64(0x43f0000000000000ull, RNE, &ff), UINT64_MAX, NV); /* 2^64 */
    T(fpu_f64_to_u64(0x43efffffffffffffull, RNE, &ff), 0xfffffffffffff800ull, 0);
    T(fpu_f64_to_u64(0xbfeccccccccccccdull, RTZ, &ff), 0, NX); /* -0.9 */
    T(fpu_f64_to_u64(0xbfeccccccccccccdull, RNE, &ff), 0, NV);
    T(fpu_f64_to_u64(NONE64, RTZ, &ff), 0, NV);
    T(fpu_f64_to_u64(QNAN64, RNE, &ff), UINT64_MAX, NV);
    T(fpu_f64_to_u64(NINF64, RNE, &ff), 0, NV);
    T(fpu_f64_to_u64(MINS64, RUP, &ff), 1, NX);
    T(fpu_f32_to_u64(0x5f800000u, RNE, &ff), UINT64_MAX, NV);
    T(fpu_f32_to_u64(0x5f7fffffu, RNE, &ff), 0xffffff0000000000ull, 0);
    T(fpu_f32_to_u64(0xbf000000u, RNE, &ff), 0, NX);
    T(fpu_f32_to_u64(0xbf000001u, RNE, &ff), 0, NV);
    T(fpu_f32_to_u64(SNAN32, RNE, &ff), UINT64_MAX, NV);
}

static void test_fpu__int_to_float(void **state)
{
    (void)state;
    const int64_t p53 = (1ll << 53) + 1;
    /* 2^53+1 is a tie between 2^53 and 2^53+2. */
    const uint64_t w53[5] = {0x4340000000000000ull, 0x4340000000000000ull, 0x4340000000000000ull,
                             0x4340000000000001ull, 0x4340000000000001ull};
    const uint64_t wn53[5] = {0xc340000000000000ull, 0xc340000000000000ull, 0xc340000000000001ull,
                              0xc340000000000000ull, 0xc340000000000001ull};
    const uint32_t w24[5] = {0x4b800000u, 0x4b800000u, 0x4b800000u, 0x4b800001u, 0x4b800001u};
    for (unsigned rm = RNE; rm <= RMM; rm++) {
        T(fpu_i64_to_f64(p53, rm, &ff), w53[rm], NX);
        T(fpu_u64_to_f64((uint64_t)p53, rm, &ff), w53[rm], NX);
        T(fpu_i64_to_f64(-p53, rm, &ff), wn53[rm], NX);
        T(fpu_i32_to_f32((1 << 24) + 1, rm, &ff), w24[rm], NX);
        T(fpu_u32_to_f32((1u << 24) + 1, rm, &ff), w24[rm], NX);
        T(fpu_i64_to_f32((1 << 24) + 1, rm, &ff), w24[rm], NX);
        T(fpu_u64_to_f32((1u << 24) + 1, rm, &ff), w24[rm], NX);
        T(fpu_i32_to_f64(INT32_MIN, rm, &ff), 0xc1e0000000000000ull, 0);
        T(fpu_u32_to_f64(UINT32_MAX, rm, &ff), 0x41efffffffe00000ull, 0);
        T(fpu_i64_to_f32(INT64_MIN, rm, &ff), 0xdf000000u, 0);
        T(fpu_i32_to_f32(0, rm, &ff), P0_32, 0);
        T(fpu_u64_to_f64(0, rm, &ff), P0_64, 0);
    }
    T(fpu_i64_to_f64(p53 + 2, RNE, &ff), 0x4340000000000002ull, NX); /* tie to even, up */
    T(fpu_u64_to_f64(UINT64_MAX, RNE, &ff), 0x43f0000000000000ull, NX);
    T(fpu_u64_to_f64(UINT64_MAX, RTZ, &ff), 0x43efffffffffffffull, NX);
    T(fpu_u64_to_f32(UINT64_MAX, RTZ, &ff), 0x5f7fffffu, NX);
    T(fpu_u64_to_f32(UINT64_MAX, RUP, &ff), 0x5f800000u, NX);
    T(fpu_u32_to_f32(UINT32_MAX, RNE, &ff), 0x4f800000u, NX);
    T(fpu_u32_to_f32(UINT32_MAX, RDN, &ff), 0x4f7fffffu, NX);
    T(fpu_i32_to_f32(INT32_MAX, RNE, &ff), 0x4f000000u, NX);
    T(fpu_i32_to_f32(-INT32_MAX, RUP, &ff), 0xceffffffu, NX);
    T(fpu_i32_to_f64(-1, RNE, &ff), NONE64, 0);
    T(fpu_i64_to_f64(INT64_MAX, RTZ, &ff), 0x43dfffffffffffffull, NX);
    T(fpu_i64_to_f64(INT64_MIN, RNE, &ff), 0xc3e0000000000000ull, 0);
}

/* ---- randomized cross-check ------------------------------------------------ */

#define RANDOM_ITERS 100000 /* per format; each iteration tests every op in 5 modes */

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_SQRT, OP_FMA, N_OPS };
static const char *const op_names[N_OPS] = {"add", "sub", "mul", "div", "sqrt", "fma"};
static const int host_rm[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};

typedef struct {
    uint64_t rng;
    unsigned checks;
    unsigned mismatches;
} xcheck_t;

static uint64_t rnd(xcheck_t *x)
{
    uint64_t z = (x->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A random value of a format (MB fraction bits, EB exponent bits) biased to
 * the edges: zeros, subnormals, extremes, integers near 2^31/2^32/2^63/2^64,
 * NaNs of both kinds, and fractions with few or many bits set. */
static uint64_t gen_float(xcheck_t *x, int mb, int eb)
{
    const uint64_t emax = (1u << eb) - 1, bias = emax >> 1, fmask = (1ull << mb) - 1;
    uint64_t r = rnd(x), fr = rnd(x), e, f;

    switch (r % 16) {
    case 0: e = 0; break;
    case 1: e = emax; break;
    case 2: e = 1 + (r >> 8) % 3; break;
    case 3: e = emax - 1 - (r >> 8) % 3; break;
    case 4:
    case 5: e = bias - 4 + (r >> 8) % 9; break;
    case 6: e = bias + 28 + (r >> 8) % 40; break;
    case 7: e = bias - (mb + 2) + (r >> 8) % 5; break;
    default: e = 1 + (r >> 8) % (emax - 1); break;
    }
    switch ((r >> 40) % 8) {
    case 0: f = 0; break;
    case 1: f = fmask; break;
    case 2: f = fr & rnd(x) & rnd(x); break;
    case 3: f = ~(fr & rnd(x) & rnd(x)); break;
    case 4: f = 1ull << (fr % mb); break;
    case 5: f = (fr & 1) ? fr % 4 : fmask - fr % 4; break;
    default: f = fr; break;
    }
    f &= fmask;
    return (r >> 63) << (mb + eb) | e << mb | f;
}

/* A second operand: often related to the first so that cancellation,
 * equal exponents and near-ties are common. */
static uint64_t gen_related(xcheck_t *x, uint64_t a, int mb, int eb)
{
    uint64_t r = rnd(x);
    switch (r % 8) {
    case 0: return (a ^ ((r >> 8 & 1) << (mb + eb))) + ((r >> 16) % 5) - 2;
    case 1: return a + (((r >> 8) % 9) << mb) - (4ull << mb);
    case 2:
        return (a & ((1ull << (mb + eb)) - 1) & ~((1ull << mb) - 1)) |
               ((r >> 8) << (mb + eb) & (1ull << (mb + eb))) | (rnd(x) & ((1ull << mb) - 1));
    default: return gen_float(x, mb, eb);
    }
}

static uint64_t gen_int(xcheck_t *x)
{
    uint64_t r = rnd(x), v = rnd(x) >> (r % 64);
    switch ((r >> 8) % 4) {
    case 0: return ((1ull << ((r >> 16) % 64)) + ((r >> 24) % 7) - 3);
    case 1: return (uint64_t)0 - v;
    default: return v;
    }
}

static bool nan32(uint64_t u)
{
    return (u & 0x7fffffffu) > 0x7f800000u;
}

static bool nan64(uint64_t u)
{
    return (u & ~(1ull << 63)) > INF64;
}

static bool snan32(uint64_t u)
{
    return nan32(u) && !(u & 0x00400000u);
}

static bool snan64(uint64_t u)
{
    return nan64(u) && !(u & 0x0008000000000000ull);
}

/* x86 leaves NV clear for inf*0 + qNaN; RISC-V requires it. */
static unsigned riscv_fma_nv(bool is64, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t ma = a & (is64 ? ~(1ull << 63) : 0x7fffffffu),
             mb = b & (is64 ? ~(1ull << 63) : 0x7fffffffu);
    uint64_t inf = is64 ? INF64 : INF32;
    bool cq = is64 ? nan64(c) : nan32(c);
    return cq && ((ma == inf && mb == 0) || (ma == 0 && mb == inf)) ? NV : 0;
}

static unsigned host_flags(void)
{
    int e = fetestexcept(FE_ALL_EXCEPT);
    return ((e & FE_INVALID) ? NV : 0) | ((e & FE_DIVBYZERO) ? DZ : 0) |
           ((e & FE_OVERFLOW) ? OF : 0) | ((e & FE_UNDERFLOW) ? UF : 0) |
           ((e & FE_INEXACT) ? NX : 0);
}

static void host_begin(unsigned rm)
{
    fesetround(host_rm[rm]);
    feclearexcept(FE_ALL_EXCEPT);
}

static unsigned host_end(void)
{
    unsigned f = host_flags();
    fesetround(FE_TONEAREST);
    return f;
}

static uint32_t host_op32(int op, uint32_t a, uint32_t b, uint32_t c, unsigned fop, unsigned rm,
                          unsigned *flags)
{
    volatile float x = bf(a), y = bf(b), z = bf(fop & FPU_FMA_NEGADD ? c ^ 0x80000000u : c);
    volatile float r = 0;
    if (fop & FPU_FMA_NEGPROD) x = bf(a ^ 0x80000000u);
    host_begin(rm);
    switch (op) {
    case OP_ADD: r = x + y; break;
    case OP_SUB: r = x - y; break;
    case OP_MUL: r = x * y; break;
    case OP_DIV: r = x / y; break;
    case OP_SQRT: r = sqrtf(x); break;
    default: r = fmaf(x, y, z); break;
    }
    *flags = host_end();
    if (op == OP_FMA) *flags |= riscv_fma_nv(false, a, b, c);
    return fb(r);
}

static uint64_t host_op64(int op, uint64_t a, uint64_t b, uint64_t c, unsigned fop, unsigned rm,
                          unsigned *flags)
{
    volatile double x = bd(a), y = bd(b), z = bd(fop & FPU_FMA_NEGADD ? c ^ (1ull << 63) : c);
    volatile double r = 0;
    if (fop & FPU_FMA_NEGPROD) x = bd(a ^ (1ull << 63));
    host_begin(rm);
    switch (op) {
    case OP_ADD: r = x + y; break;
    case OP_SUB: r = x - y; break;
    case OP_MUL: r = x * y; break;
    case OP_DIV: r = x / y; break;
    case OP_SQRT: r = sqrt(x); break;
    default: r = fma(x, y, z); break;
    }
    *flags = host_end();
    if (op == OP_FMA) *flags |= riscv_fma_nv(true, a, b, c);
    return db(r);
}

static uint32_t ours32(int op, uint32_t a, uint32_t b, uint32_t c, unsigned fop, unsigned rm,
                       unsigned *flags)
{
    switch (op) {
    case OP_ADD: return fpu_add32(a, b, rm, flags);
    case OP_SUB: return fpu_sub32(a, b, rm, flags);
    case OP_MUL: return fpu_mul32(a, b, rm, flags);
    case OP_DIV: return fpu_div32(a, b, rm, flags);
    case OP_SQRT: return fpu_sqrt32(a, rm, flags);
    default: return fpu_fma32(a, b, c, fop, rm, flags);
    }
}

static uint64_t ours64(int op, uint64_t a, uint64_t b, uint64_t c, unsigned fop, unsigned rm,
                       unsigned *flags)
{
    switch (op) {
    case OP_ADD: return fpu_add64(a, b, rm, flags);
    case OP_SUB: return fpu_sub64(a, b, rm, flags);
    case OP_MUL: return fpu_mul64(a, b, rm, flags);
    case OP_DIV: return fpu_div64(a, b, rm, flags);
    case OP_SQRT: return fpu_sqrt64(a, rm, flags);
    default: return fpu_fma64(a, b, c, fop, rm, flags);
    }
}

/* Record one comparison; print the first few mismatches in full. */
static void expect(xcheck_t *x, const char *what, unsigned rm, uint64_t a, uint64_t b, uint64_t c,
                   uint64_t got, unsigned gotf, uint64_t want, unsigned wantf)
{
    x->checks++;
    if (got == want && gotf == wantf) return;
    if (x->mismatches++ < 25)
        print_error("%s rm=%u a=%#llx b=%#llx c=%#llx: got %#llx/%#x want %#llx/%#x\n", what, rm,
                    (unsigned long long)a, (unsigned long long)b, (unsigned long long)c,
                    (unsigned long long)got, gotf, (unsigned long long)want, wantf);
}

/*
 * Reference RMM rounding of the exact value s + err (err the exact error of
 * the double s, |err| <= ulp(s)/2) to binary32. s is finite and the value
 * nonzero or an exact signed zero.
 */
static uint32_t rmm32(double s, double err, unsigned *flags)
{
    if (s == 0 && err == 0) return fb((float)s);
    bool neg = s < 0;
    double m = fabs(s), e = neg ? -err : err, fl, fr;
    int ex;
    frexp(m, &ex);
    int qe = ex - 24 < -149 ? -149 : ex - 24;
    double q = ldexp(1.0, qe), n = m / q, ee = e / q;
    fl = floor(n);
    fr = n - fl;
    bool up = fr - 0.5 >= -ee;
    double res = (fl + up) * q;
    const double tiny_below = 0x1p-126 - 0x1p-151;
    bool tiny = m < tiny_below || (m == tiny_below && e < 0);
    if (res >= 0x1p128) {
        *flags |= OF | NX;
        return neg ? NINF32 : INF32;
    }
    if (fr != 0 || ee != 0) *flags |= tiny ? UF | NX : NX;
    return fb((float)(neg ? -res : res));
}

typedef __float128 f128;

static f128 pow2q(int e)
{
    unsigned __int128 bits = (unsigned __int128)(e + 16383) << 112;
    f128 q;
    memcpy(&q, &bits, 16);
    return q;
}

/* The same for binary64 from a __float128 value plus exact error. */
static uint64_t rmm64(f128 s, f128 err, unsigned *flags)
{
    if (s == 0 && err == 0) return db((double)s);
    bool neg = s < 0;
    f128 m = neg ? -s : s, e = neg ? -err : err;
    unsigned __int128 bits;
    memcpy(&bits, &m, 16);
    int ex = (int)(bits >> 112) - 16383 + 1; /* m = f * 2^ex, f in [0.5, 1) */
    int qe = ex - 53 < -1074 ? -1074 : ex - 53;
    f128 q = pow2q(qe), n = m / q, ee = e / q;
    uint64_t fl = (uint64_t)n;
    f128 fr = n - (f128)fl;
    bool up = fr - (f128)0.5 >= -ee;
    f128 res = ((f128)fl + up) * q;
    const f128 tiny_below = pow2q(-1022) - pow2q(-1076);
    bool tiny = m < tiny_below || (m == tiny_below && e < 0);
    if (res >= pow2q(1024)) {
        *flags |= OF | NX;
        return neg ? NINF64 : INF64;
    }
    if (fr != 0 || ee != 0) *flags |= tiny ? UF | NX : NX;
    return db((double)(neg ? -res : res));
}

/* Exact error of s = a + b (TwoSum), valid without overflow. */
static double two_sum_err(double a, double b, double s)
{
    volatile double ap = s - b, bp = s - ap;
    return (a - ap) + (b - bp);
}

static f128 two_sum_err_q(f128 a, f128 b, f128 s)
{
    f128 ap = s - b, bp = s - ap;
    return (a - ap) + (b - bp);
}

/* RMM expectation for a binary32 operation, from the host RNE result for
 * the special cases and exact double arithmetic otherwise. */
static uint32_t want_rmm32(int op, uint32_t a, uint32_t b, uint32_t c, unsigned fop,
                           unsigned *flags)
{
    unsigned hf;
    uint32_t h = host_op32(op, a, b, c, fop, RNE, &hf);
    bool special = nan32(h) || (h & 0x7fffffffu) == INF32 || (hf & (NV | DZ));
    *flags = 0;
    if (special || op == OP_SQRT) { /* sqrt is never a tie: RMM == RNE */
        *flags = hf;
        return nan32(h) ? QNAN32 : h;
    }
    double x = bf(fop & FPU_FMA_NEGPROD ? a ^ 0x80000000u : a), y = bf(b);
    double z = bf(fop & FPU_FMA_NEGADD ? c ^ 0x80000000u : c), s, err = 0;
    switch (op) {
    case OP_ADD:
        s = x + y;
        err = two_sum_err(x, y, s);
        break;
    case OP_SUB:
        s = x - y;
        err = two_sum_err(x, -y, s);
        break;
    case OP_MUL: s = x * y; break;
    case OP_DIV: s = x / y; break; /* 53 >= 2*24+2: double rounding is innocuous */
    default:
        s = x * y + z;
        err = two_sum_err(x * y, z, s);
        break;
    }
    return rmm32(s, err, flags);
}

static uint64_t want_rmm64(int op, uint64_t a, uint64_t b, uint64_t c, unsigned fop,
                           unsigned *flags)
{
    unsigned hf;
    uint64_t h = host_op64(op, a, b, c, fop, RNE, &hf);
    bool special = nan64(h) || (h & ~(1ull << 63)) == INF64 || (hf & (NV | DZ));
    *flags = 0;
    if (special || op == OP_SQRT) {
        *flags = hf;
        return nan64(h) ? QNAN64 : h;
    }
    f128 x = bd(fop & FPU_FMA_NEGPROD ? a ^ (1ull << 63) : a), y = bd(b);
    f128 z = bd(fop & FPU_FMA_NEGADD ? c ^ (1ull << 63) : c), s, err = 0;
    switch (op) {
    case OP_ADD:
        s = x + y;
        err = two_sum_err_q(x, y, s);
        break;
    case OP_SUB:
        s = x - y;
        err = two_sum_err_q(x, -y, s);
        break;
    case OP_MUL: s = x * y; break;
    case OP_DIV: s = x / y; break; /* 113 >= 2*53+2 */
    default:
        s = x * y + z;
        err = two_sum_err_q(x * y, z, s);
        break;
    }
    return rmm64(s, err, flags);
}

static void xcheck_arith32(xcheck_t *x, uint32_t a, uint32_t b, uint32_t c)
{
    for (int op = 0; op < N_OPS; op++) {
        unsigned fop = op == OP_FMA ? rnd(x) % 4 : 0;
        for (unsigned rm = RNE; rm <= RMM; rm++) {
            unsigned gf = 0, wf;
            uint64_t got = ours32(op, a, b, c, fop, rm, &gf), want;
            if (rm == RMM) {
                want = want_rmm32(op, a, b, c, fop, &wf);
            } else {
                want = host_op32(op, a, b, c, fop, rm, &wf);
                if (nan32(want)) want = QNAN32;
            }
            expect(x, op_names[op], rm, a, b, c, got, gf, want, wf);
        }
    }
}

static void xcheck_arith64(xcheck_t *x, uint64_t a, uint64_t b, uint64_t c)
{
    for (int op = 0; op < N_OPS; op++) {
        unsigned fop = op == OP_FMA ? rnd(x) % 4 : 0;
        for (unsigned rm = RNE; rm <= RMM; rm++) {
            unsigned gf = 0, wf;
            uint64_t got = ours64(op, a, b, c, fop, rm, &gf), want;
            if (rm == RMM) {
                want = want_rmm64(op, a, b, c, fop, &wf);
            } else {
                want = host_op64(op, a, b, c, fop, rm, &wf);
                if (nan64(want)) want = QNAN64;
            }
            expect(x, op_names[op], rm, a, b, c, got, gf, want, wf);
        }
    }
}

/* GCC inlines rint() with a trick that is only right under round-to-nearest;
 * calling libm's through a volatile pointer keeps it honest. */
static double (*volatile host_rint)(double) = rint;

/* Expected float-to-integer result for an exactly representable double v. */
static uint64_t want_to_int(double v, int bits, bool is_signed, unsigned rm, unsigned *flags)
{
    const double lim = ldexp(1.0, is_signed ? bits - 1 : bits);
    uint64_t umax = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
    uint64_t hi = is_signed ? umax >> 1 : umax, lo = is_signed ? ~(umax >> 1) : 0, out;
    volatile double vv = v, r;

    *flags = 0;
    if (isnan(v)) {
        *flags = NV;
        out = hi;
    } else {
        if (rm == RMM) {
            r = round(vv);
        } else {
            host_begin(rm);
            r = host_rint(vv);
            host_end();
        }
        if (r >= lim) {
            *flags = NV;
            out = hi;
        } else if (r < (is_signed ? -lim : 0)) {
            *flags = NV;
            out = lo;
        } else {
            out = is_signed ? (uint64_t)(int64_t)r : (uint64_t)r;
            *flags = r != v ? NX : 0;
        }
    }
    return bits == 32 ? (uint64_t)(int64_t)(int32_t)(uint32_t)out : out;
}

static void xcheck_to_int(xcheck_t *x, uint64_t a, bool is64)
{
    double v = is64 ? bd(a) : (double)bf((uint32_t)a);
    for (unsigned rm = RNE; rm <= RMM; rm++) {
        for (int k = 0; k < 4; k++) {
            int bits = k < 2 ? 32 : 64;
            bool sgn = !(k & 1);
            unsigned gf = 0, wf;
            uint64_t got, want = want_to_int(v, bits, sgn, rm, &wf);
            if (is64) {
                got = k == 0   ? (uint64_t)fpu_f64_to_i32(a, rm, &gf)
                      : k == 1 ? (uint64_t)fpu_f64_to_u32(a, rm, &gf)
                      : k == 2 ? (uint64_t)fpu_f64_to_i64(a, rm, &gf)
                               : fpu_f64_to_u64(a, rm, &gf);
            } else {
                uint32_t a32 = (uint32_t)a;
                got = k == 0   ? (uint64_t)fpu_f32_to_i32(a32, rm, &gf)
                      : k == 1 ? (uint64_t)fpu_f32_to_u32(a32, rm, &gf)
                      : k == 2 ? (uint64_t)fpu_f32_to_i64(a32, rm, &gf)
                               : fpu_f32_to_u64(a32, rm, &gf);
            }
            static const char *const names[2][4] = {
                {"f32->i32", "f32->u32", "f32->i64", "f32->u64"},
                {"f64->i32", "f64->u32", "f64->i64", "f64->u64"}};
            expect(x, names[is64][k], rm, a, 0, 0, got, gf, want, wf);
        }
    }
}

/* Integer to float: k selects i32, u32, i64, u64. */
static void xcheck_from_int(xcheck_t *x, uint64_t v)
{
    static const char *const names[2][4] = {{"i32->f32", "u32->f32", "i64->f32", "u64->f32"},
                                            {"i32->f64", "u32->f64", "i64->f64", "u64->f64"}};
    for (unsigned rm = RNE; rm <= RMM; rm++) {
        for (int k = 0; k < 4; k++) {
            volatile int32_t i32 = (int32_t)v;
            volatile uint32_t u32 = (uint32_t)v;
            volatile int64_t i64 = (int64_t)v;
            volatile uint64_t u64 = v;
            volatile float hf = 0;
            volatile double hd = 0;
            unsigned gf = 0, wf = 0, gd = 0, wd = 0;
            uint64_t got32, gotd, want32, wantd;
            __int128 exact = k == 0 ? i32 : k == 1 ? u32 : k == 2 ? (__int128)i64 : u64;
            if (rm == RMM) {
                double s = (double)exact;
                want32 = rmm32(s, (double)(exact - (__int128)s), &wf);
                wantd = rmm64((f128)exact, 0, &wd);
            } else {
                host_begin(rm);
                switch (k) {
                case 0: hf = (float)i32; break;
                case 1: hf = (float)u32; break;
                case 2: hf = (float)i64; break;
                default: hf = (float)u64; break;
                }
                wf = host_end();
                host_begin(rm);
                switch (k) {
                case 0: hd = (double)i32; break;
                case 1: hd = (double)u32; break;
                case 2: hd = (double)i64; break;
                default: hd = (double)u64; break;
                }
                wd = host_end();
                want32 = fb(hf);
                wantd = db(hd);
            }
            switch (k) {
            case 0:
                got32 = fpu_i32_to_f32(i32, rm, &gf);
                gotd = fpu_i32_to_f64(i32, rm, &gd);
                break;
            case 1:
                got32 = fpu_u32_to_f32(u32, rm, &gf);
                gotd = fpu_u32_to_f64(u32, rm, &gd);
                break;
            case 2:
                got32 = fpu_i64_to_f32(i64, rm, &gf);
                gotd = fpu_i64_to_f64(i64, rm, &gd);
                break;
            default:
                got32 = fpu_u64_to_f32(u64, rm, &gf);
                gotd = fpu_u64_to_f64(u64, rm, &gd);
                break;
            }
            expect(x, names[0][k], rm, v, 0, 0, got32, gf, want32, wf);
            expect(x, names[1][k], rm, v, 0, 0, gotd, gd, wantd, wd);
        }
    }
}

/* f32 <-> f64 conversions. */
static void xcheck_convert(xcheck_t *x, uint32_t a32, uint64_t a64)
{
    unsigned gf = 0, wf;
    volatile float vf = bf(a32);
    volatile double vd;
    host_begin(RNE);
    vd = vf;
    wf = host_end();
    uint64_t got = fpu_f32_to_f64(a32, &gf), want = nan64(db(vd)) ? QNAN64 : db(vd);
    expect(x, "f32->f64", RNE, a32, 0, 0, got, gf, want, wf);

    for (unsigned rm = RNE; rm <= RMM; rm++) {
        gf = 0;
        got = fpu_f64_to_f32(a64, rm, &gf);
        if (rm == RMM) {
            double d = bd(a64);
            if (nan64(a64)) {
                want = QNAN32;
                wf = snan64(a64) ? NV : 0;
            } else if (isinf(d)) {
                want = fb((float)d);
                wf = 0;
            } else {
                wf = 0;
                want = rmm32(d, 0, &wf);
            }
        } else {
            volatile double d = bd(a64);
            host_begin(rm);
            vf = d;
            wf = host_end();
            want = nan32(fb(vf)) ? QNAN32 : fb(vf);
        }
        expect(x, "f64->f32", rm, a64, 0, 0, got, gf, want, wf);
    }
}

/* Comparisons against the host (== is quiet, < and <= signal), min/max and
 * class against the spec's rules built from host predicates. */
static void xcheck_compare32(xcheck_t *x, uint32_t a, uint32_t b)
{
    volatile float va = bf(a), vb = bf(b);
    volatile int r;
    unsigned gf, wf;
    for (int k = 0; k < 3; k++) {
        host_begin(RNE);
        r = k == 0 ? va == vb : k == 1 ? va < vb : va <= vb;
        wf = host_end();
        gf = 0;
        int got = k == 0 ? fpu_eq32(a, b, &gf) : k == 1 ? fpu_lt32(a, b, &gf) : fpu_le32(a, b, &gf);
        expect(x, k == 0 ? "feq.s" : k == 1 ? "flt.s" : "fle.s", 0, a, b, 0, got, gf, r, wf);
    }
    for (int max = 0; max < 2; max++) {
        uint32_t want;
        wf = (snan32(a) || snan32(b)) ? NV : 0;
        if (nan32(a) && nan32(b))
            want = QNAN32;
        else if (nan32(a) || nan32(b))
            want = nan32(a) ? b : a;
        else if (va == 0 && vb == 0)
            want = max ? a & b : a | b; /* min prefers -0, max +0 */
        else
            want = fb(max ? fmaxf(va, vb) : fminf(va, vb));
        gf = 0;
        uint32_t got = max ? fpu_max32(a, b, &gf) : fpu_min32(a, b, &gf);
        expect(x, max ? "fmax.s" : "fmin.s", 0, a, b, 0, got, gf, want, wf);
    }
    unsigned cls;
    float f = bf(a);
    bool neg = signbit(f);
    switch (fpclassify(f)) {
    case FP_INFINITE: cls = neg ? 0 : 7; break;
    case FP_NORMAL: cls = neg ? 1 : 6; break;
    case FP_SUBNORMAL: cls = neg ? 2 : 5; break;
    case FP_ZERO: cls = neg ? 3 : 4; break;
    default: cls = snan32(a) ? 8 : 9; break;
    }
    expect(x, "fclass.s", 0, a, 0, 0, fpu_class32(a), 0, 1u << cls, 0);
}

static void xcheck_compare64(xcheck_t *x, uint64_t a, uint64_t b)
{
    volatile double va = bd(a), vb = bd(b);
    volatile int r;
    unsigned gf, wf;
    for (int k = 0; k < 3; k++) {
        host_begin(RNE);
        r = k == 0 ? va == vb : k == 1 ? va < vb : va <= vb;
        wf = host_end();
        gf = 0;
        int got = k == 0 ? fpu_eq64(a, b, &gf) : k == 1 ? fpu_lt64(a, b, &gf) : fpu_le64(a, b, &gf);
        expect(x, k == 0 ? "feq.d" : k == 1 ? "flt.d" : "fle.d", 0, a, b, 0, got, gf, r, wf);
    }
    for (int max = 0; max < 2; max++) {
        uint64_t want;
        wf = (snan64(a) || snan64(b)) ? NV : 0;
        if (nan64(a) && nan64(b))
            want = QNAN64;
        else if (nan64(a) || nan64(b))
            want = nan64(a) ? b : a;
        else if (va == 0 && vb == 0)
            want = max ? a & b : a | b;
        else
            want = db(max ? fmax(va, vb) : fmin(va, vb));
        gf = 0;
        uint64_t got = max ? fpu_max64(a, b, &gf) : fpu_min64(a, b, &gf);
        expect(x, max ? "fmax.d" : "fmin.d", 0, a, b, 0, got, gf, want, wf);
    }
    unsigned cls;
    double d = bd(a);
    bool neg = signbit(d);
    switch (fpclassify(d)) {
    case FP_INFINITE: cls = neg ? 0 : 7; break;
    case FP_NORMAL: cls = neg ? 1 : 6; break;
    case FP_SUBNORMAL: cls = neg ? 2 : 5; break;
    case FP_ZERO: cls = neg ? 3 : 4; break;
    default: cls = snan64(a) ? 8 : 9; break;
    }
    expect(x, "fclass.d", 0, a, 0, 0, fpu_class64(a), 0, 1u << cls, 0);
}

static void test_fpu__random_vs_host_binary32(void **state)
{
    (void)state;
    xcheck_t x = {.rng = 0x5eed0032};
    for (int i = 0; i < RANDOM_ITERS; i++) {
        uint32_t a = (uint32_t)gen_float(&x, 23, 8);
        uint32_t b = (uint32_t)gen_related(&x, a, 23, 8);
        uint32_t c = (uint32_t)gen_float(&x, 23, 8);
        if (rnd(&x) % 4 == 0) { /* c close to -a*b: deep cancellation in fma */
            unsigned f;
            c = fpu_mul32(a, b, rnd(&x) % 5, &f) ^ 0x80000000u;
            c += (uint32_t)(rnd(&x) % 5) - 2;
        }
        xcheck_arith32(&x, a, b, c);
        xcheck_to_int(&x, a, false);
        xcheck_compare32(&x, a, b);
        xcheck_from_int(&x, gen_int(&x));
    }
    print_message("binary32: %u checks, %u mismatches\n", x.checks, x.mismatches);
    assert_int_equal(x.mismatches, 0);
    assert_true(x.checks > 1000000);
}

static void test_fpu__random_vs_host_binary64(void **state)
{
    (void)state;
    xcheck_t x = {.rng = 0x5eed0064};
    for (int i = 0; i < RANDOM_ITERS; i++) {
        uint64_t a = gen_float(&x, 52, 11);
        uint64_t b = gen_related(&x, a, 52, 11);
        uint64_t c = gen_float(&x, 52, 11);
        if (rnd(&x) % 4 == 0) {
            unsigned f;
            c = fpu_mul64(a, b, rnd(&x) % 5, &f) ^ (1ull << 63);
            c += rnd(&x) % 5 - 2;
        }
        xcheck_arith64(&x, a, b, c);
        xcheck_to_int(&x, a, true);
        xcheck_compare64(&x, a, b);
        xcheck_convert(&x, (uint32_t)gen_float(&x, 23, 8), a);
    }
    print_message("binary64: %u checks, %u mismatches\n", x.checks, x.mismatches);
    assert_int_equal(x.mismatches, 0);
    assert_true(x.checks > 1000000);
}

/*
 * fpu.c takes binary64 add/sub/mul/div/sqrt in RNE through host doubles
 * when operands and result are normal inside exponent guards (1..0x7fb for
 * add, results >= 2^-959 for mul/div/sqrt/fma, fma only when c - r is
 * exact); check both sides of every guard, with operand pairs whose
 * product, quotient or sum lands there and addends near the product.
 */
static void test_fpu__host_fast_path_edges(void **state)
{
    (void)state;
    xcheck_t x = {.rng = 0x5eedfa57};
    static const unsigned edges[] = {1, 2, 63, 64, 65, 0x3ff, 0x7fa, 0x7fb, 0x7fc, 0x7fd, 0x7fe};
    const unsigned ne = sizeof(edges) / sizeof(edges[0]);
    for (int i = 0; i < 20000; i++) {
        uint64_t fa = rnd(&x) & ((1ull << 52) - 1), fb_ = rnd(&x) & ((1ull << 52) - 1);
        if (i & 1) fb_ &= ~0xffffffull; /* few low bits: exact results too */
        uint64_t ea = edges[rnd(&x) % ne], eb;
        switch (rnd(&x) % 4) {
        case 0: eb = edges[rnd(&x) % ne]; break;
        case 1: eb = 0x3ff + 64 - ea / 2 + rnd(&x) % 3; break; /* a / b, sqrt near 2^-959 */
        case 2: eb = 0x3ff + 0x3ff + 64 - ea - rnd(&x) % 3; break; /* a * b near 2^-959 */
        default: eb = ea - rnd(&x) % 60; break;                 /* sums and cancellation */
        }
        eb &= 0x7ff;
        if (eb == 0x7ff) eb = 0x7fe;
        uint64_t a = (rnd(&x) & (1ull << 63)) | ea << 52 | fa;
        uint64_t b = (rnd(&x) & (1ull << 63)) | eb << 52 | fb_;
        /* c near a*b in magnitude: fma's c - r is then often exact */
        uint64_t ec = (ea + eb + rnd(&x) % 5 - 2 - 0x3ff) & 0x7ff;
        uint64_t c = (rnd(&x) & (1ull << 63)) | ec << 52 | (rnd(&x) & ((1ull << 52) - 1));
        if (i & 2) c = (c & ~((1ull << 52) - 1)) | (fa & ~0xfffffull);
        xcheck_arith64(&x, a, b, c);
        xcheck_arith64(&x, a & ~(1ull << 63), b, a); /* sqrt of a positive a */
    }
    print_message("fast-path edges: %u checks, %u mismatches\n", x.checks, x.mismatches);
    assert_int_equal(x.mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fpu__nan_inputs_give_canonical_nan),
        cmocka_unit_test(test_fpu__invalid_operations),
        cmocka_unit_test(test_fpu__divide_by_zero),
        cmocka_unit_test(test_fpu__signed_zero),
        cmocka_unit_test(test_fpu__subnormals),
        cmocka_unit_test(test_fpu__underflow_after_rounding),
        cmocka_unit_test(test_fpu__overflow),
        cmocka_unit_test(test_fpu__ties),
        cmocka_unit_test(test_fpu__fma),
        cmocka_unit_test(test_fpu__sqrt),
        cmocka_unit_test(test_fpu__div),
        cmocka_unit_test(test_fpu__min_max),
        cmocka_unit_test(test_fpu__compare),
        cmocka_unit_test(test_fpu__class),
        cmocka_unit_test(test_fpu__float_float_conversion),
        cmocka_unit_test(test_fpu__float_to_int),
        cmocka_unit_test(test_fpu__int_to_float),
        cmocka_unit_test(test_fpu__random_vs_host_binary32),
        cmocka_unit_test(test_fpu__random_vs_host_binary64),
        cmocka_unit_test(test_fpu__host_fast_path_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
