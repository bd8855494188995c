/*
 * fpu_int.h - the binary64 host fast paths of fpu.c (see its file comment),
 * shared with the dispatch loop (hart_exec.c), which inlines them for the
 * common double operations in RNE ahead of the fpu_* calls.
 *
 * Each host_*64 returns false when its operands or result leave the range
 * where the host's IEEE double operation is provably the exact RISC-V
 * result; then the caller must use the fpu_* function. When true, *r holds
 * the result and FPU_NX was ORed into *fflags when inexact (no other flag
 * is possible there). Only for rm == FPU_RNE. Where the host's double
 * arithmetic is not plain binary64 they are constant false.
 */
#ifndef MACHINA_FPU_INT_H
#define MACHINA_FPU_INT_H

#include <float.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fpu.h"

#if (defined(__x86_64__) || defined(__aarch64__)) && FLT_EVAL_METHOD == 0
#ifndef FPU_HOST_FAST
#define FPU_HOST_FAST 1
#endif
#include <math.h>
#endif

#ifdef FPU_HOST_FAST
static inline __attribute__((always_inline)) double dbl_of(uint64_t v)
{
    double d;
    memcpy(&d, &v, sizeof(d));
    return d;
}

static inline __attribute__((always_inline)) uint64_t bits_of(double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof(v));
    return v;
}

/* biased exponent field of a binary64 */
static inline __attribute__((always_inline)) unsigned bexp64(uint64_t v)
{
    return (unsigned)(v >> 52) & 0x7ff;
}

/* lo <= biased exponent <= hi (which excludes zeros, subnormals, inf, NaN
 * when lo >= 1 and hi <= 0x7fe) */
#define FPU_EXP_IN(v, lo, hi) (bexp64(v) - (unsigned)(lo) <= (unsigned)(hi) - (unsigned)(lo))

/*
 * a + b. Operands below 2^1021 in magnitude, so no step of TwoSum can
 * overflow; the result normal (a zero or subnormal sum is left to the
 * integer path). TwoSum (Knuth) gives the exact rounding error in RNE.
 */
static inline __attribute__((always_inline)) bool host_add64(uint64_t a, uint64_t b, uint64_t *r,
                                                             unsigned *fflags)
{
    if (!FPU_EXP_IN(a, 1, 0x7fb) || !FPU_EXP_IN(b, 1, 0x7fb)) return false;
    double x = dbl_of(a), y = dbl_of(b), s = x + y;
    uint64_t sb = bits_of(s);
    if (!FPU_EXP_IN(sb, 1, 0x7fe)) return false;
    double yv = s - x, xv = s - yv;
    double err = (x - xv) + (y - yv);
    if (err != 0) *fflags |= FPU_NX;
    *r = sb;
    return true;
}

/*
 * a * b with a normal result of at least 2^-959: then the exact error
 * a*b - r is a multiple of at least 2^-1073 and fma() (correctly rounded,
 * glibc's uses the host instruction when there is one) returns it exactly.
 */
static inline __attribute__((always_inline)) bool host_mul64(uint64_t a, uint64_t b, uint64_t *r,
                                                             unsigned *fflags)
{
    if (!FPU_EXP_IN(a, 1, 0x7fe) || !FPU_EXP_IN(b, 1, 0x7fe)) return false;
    double x = dbl_of(a), y = dbl_of(b), p = x * y;
    uint64_t pb = bits_of(p);
    if (!FPU_EXP_IN(pb, 64, 0x7fe)) return false;
    if (fma(x, y, -p) != 0) *fflags |= FPU_NX;
    *r = pb;
    return true;
}

/*
 * a / b with a and the quotient q at least 2^-959: the residual a - q*b is
 * then exactly representable (a multiple of at least 2^-1064, below
 * 2^53 units of that), so fma(q, b, -a) computes it exactly.
 */
static inline __attribute__((always_inline)) bool host_div64(uint64_t a, uint64_t b, uint64_t *r,
                                                             unsigned *fflags)
{
    if (!FPU_EXP_IN(a, 64, 0x7fe) || !FPU_EXP_IN(b, 1, 0x7fe)) return false;
    double x = dbl_of(a), y = dbl_of(b), q = x / y;
    uint64_t qb = bits_of(q);
    if (!FPU_EXP_IN(qb, 64, 0x7fe)) return false;
    if (fma(q, y, -x) != 0) *fflags |= FPU_NX;
    *r = qb;
    return true;
}

/* sqrt(a) for a positive a of at least 2^-959: r*r - a is exact in fma. */
static inline __attribute__((always_inline)) bool host_sqrt64(uint64_t a, uint64_t *r,
                                                              unsigned *fflags)
{
    if ((a >> 63) || !FPU_EXP_IN(a, 64, 0x7fe)) return false;
    double x = dbl_of(a), q = sqrt(x);
    if (fma(q, q, -x) != 0) *fflags |= FPU_NX;
    *r = bits_of(q);
    return true;
}

/*
 * a*b + c (signs already applied; RNE is symmetric, so fnmadd and the
 * others are this with negated operands). Operands, the product and the
 * result r normal and below 2^1021, product and result at least 2^-959.
 * When c - r is exact (TwoSum error 0, e.g. when they are within a factor
 * of two), fma(a, b, c - r) is a*b + c - r rounded, which is zero exactly
 * when r is exact: that value is a multiple of at least 2^-1073, so it
 * cannot round to zero. Otherwise the integer path decides.
 */
static inline __attribute__((always_inline)) bool host_fma64(uint64_t a, uint64_t b, uint64_t c,
                                                             uint64_t *r, unsigned *fflags)
{
    if (!FPU_EXP_IN(a, 1, 0x7fb) || !FPU_EXP_IN(b, 1, 0x7fb) || !FPU_EXP_IN(c, 1, 0x7fb))
        return false;
    double x = dbl_of(a), y = dbl_of(b), z = dbl_of(c), p = x * y;
    if (!FPU_EXP_IN(bits_of(p), 64, 0x7fb)) return false;
    double f = fma(x, y, z);
    uint64_t fb = bits_of(f);
    if (!FPU_EXP_IN(fb, 64, 0x7fb)) return false;
    double d = z - f, bv = d - z, av = d - bv; /* TwoSum(z, -f): is d exact? */
    if ((z - av) + (-f - bv) != 0) return false;
    if (fma(x, y, d) != 0) *fflags |= FPU_NX;
    *r = fb;
    return true;
}
#else
#define host_add64(a, b, r, f)    false
#define host_mul64(a, b, r, f)    false
#define host_div64(a, b, r, f)    false
#define host_sqrt64(a, r, f)      false
#define host_fma64(a, b, c, r, f) false
#endif

#endif
