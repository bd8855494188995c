/*
 * fpu.c - IEEE 754 binary32/binary64 arithmetic in software, as the RISC-V
 * F and D extensions define it.
 *
 * Every operation works on raw bit patterns with integer arithmetic, except
 * a square-root estimate that is then corrected exactly in integers and the
 * binary64 host fast paths below, whose results and flags are exactly the
 * integer path's; results never depend on the host's sticky flags.
 *
 * Hot paths avoid branches on data (operand order, carry-out, ties): with
 * random operands those mispredicted and cost ~5 ns per add64 (measured
 * 13.6 -> 8.6 ns); see g_add.
 *
 * Both formats share one set of generic helpers parameterised by the
 * fraction width MB and exponent width EB; they are always_inline, so each
 * public function is a specialised copy for its format.
 *
 * Internal form of a finite nonzero value: sign, biased exponent e (may be
 * <= 0 or above the format's range before rounding) and a 64-bit significand
 * sig with its leading one at bit 62, value = 2^(e - bias) * sig / 2^62.
 * Bits below the format's precision are round bits; anything lost in
 * shifts is ORed into bit 0 ("jamming"), which is all rounding needs.
 * round_pack() is the single place where rounding, overflow, underflow
 * (tininess after rounding, UF only when also inexact) and NX happen.
 *
 * Host fast paths (binary64 add, sub, mul, div, sqrt in RNE; fpu_int.h,
 * which the dispatch loop also inlines): when every operand and the result are normal
 * numbers well inside the exponent range, the host's IEEE double operation
 * gives the same bits, and the only possible flag is NX, which an
 * error-free transformation (TwoSum, or an exact fma residual) decides
 * exactly. Anything else (zeros, subnormals, inf, NaN, other rounding
 * modes, exponents near the edges) takes the integer path. They rely on the
 * host's default FP environment (round to nearest; FTZ/DAZ only touch
 * subnormals, which never reach them), which nothing in machina changes,
 * and are compiled only where double arithmetic is plain binary64
 * (FLT_EVAL_METHOD 0: x86-64 SSE2, AArch64). Host instructions per call
 * on bench/hart_loop's fp loop (callgrind), integer path -> fast path:
 * add 130 -> 38, mul 103 -> 42, div 107 -> 42, sqrt 127 -> 33, fma 195 ->
 * 99, fcvt.d.l 42 -> 11 (exact when |x| <= 2^53, any rounding mode).
 */
#include "fpu.h"

#include <float.h>
#include <stdbool.h>
#include <string.h>
#if (defined(__x86_64__) || defined(__aarch64__)) && FLT_EVAL_METHOD == 0
#define FPU_HOST_FAST 1
#endif
#if !defined(__x86_64__) && !defined(__aarch64__) || defined(FPU_HOST_FAST)
#include <math.h>
#endif

#define ALWAYS_INLINE inline __attribute__((always_inline))
#define likely(x)     __builtin_expect(!!(x), 1)
#define unlikely(x)   __builtin_expect(!!(x), 0)

typedef unsigned __int128 u128;

/* Format constants, MB = fraction bits, EB = exponent bits. */
#define F32        23, 8
#define F64        52, 11
#define SIGN_BIT   (1ull << (MB + EB))
#define EXP_MAX    ((1 << EB) - 1) /* exponent field of inf/NaN */
#define BIAS       ((1 << (EB - 1)) - 1)
#define FRAC_MASK  ((1ull << MB) - 1)
#define INF_BITS   ((uint64_t)EXP_MAX << MB)
#define QUIET_BIT  (1ull << (MB - 1))
#define CANON_NAN  (INF_BITS | QUIET_BIT)
#define MAX_FINITE (INF_BITS - 1)

/* x >> n (n >= 0), with any lost bit ORed into bit 0. */
static ALWAYS_INLINE uint64_t shift_right_jam64(uint64_t x, int n)
{
    if (likely(n < 64)) return (x >> n) | ((x & ((1ull << n) - 1)) != 0);
    return x != 0;
}

static ALWAYS_INLINE u128 shift_right_jam128(u128 x, int n)
{
    if (n == 0) return x;
    if (n < 128) return (x >> n) | ((x << (128 - n)) != 0);
    return x != 0;
}

static ALWAYS_INLINE int clz128(u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll((uint64_t)x);
}

/*
 * Divide the 128-bit n by d when the quotient is known to fit in 64 bits
 * (n >> 64 < d); *rem gets the remainder. On x86-64 this is one divq
 * instead of a __udivti3 call (measured: div64 6.2 ns instead of 7.6 ns).
 */
static ALWAYS_INLINE uint64_t div128_64(u128 n, uint64_t d, uint64_t *rem)
{
#if defined(__x86_64__)
    uint64_t q, r;
    __asm__("divq %4" : "=a"(q), "=d"(r) : "a"((uint64_t)n), "d"((uint64_t)(n >> 64)), "rm"(d));
    *rem = r;
    return q;
#else
    uint64_t q = (uint64_t)(n / d);
    *rem = (uint64_t)(n - (u128)q * d);
    return q;
#endif
}

/* Square root of a positive normal double, for an estimate only: the raw
 * instruction where there is one (no errno path, no libm call). */
static ALWAYS_INLINE double sqrt_estimate(double d)
{
#if defined(__x86_64__)
    __asm__("sqrtsd %1, %0" : "=x"(d) : "x"(d));
    return d;
#elif defined(__aarch64__)
    __asm__("fsqrt %d0, %d1" : "=w"(d) : "w"(d));
    return d;
#else
    return sqrt(d);
#endif
}

static ALWAYS_INLINE bool is_nan(int MB, int EB, uint64_t x)
{
    return (x & ~SIGN_BIT) > INF_BITS;
}

static ALWAYS_INLINE bool is_snan(int MB, int EB, uint64_t x)
{
    return is_nan(MB, EB, x) && !(x & QUIET_BIT);
}

/* Unpack a finite nonzero value to (e, sig), sig's leading one at bit 62. */
static ALWAYS_INLINE void unpack(int MB, int EB, uint64_t x, int *e, uint64_t *sig)
{
    int ef = (int)(x >> MB) & EXP_MAX;
    uint64_t f = x & FRAC_MASK;

    if (likely(ef != 0)) {
        *e = ef;
        *sig = (f | (1ull << MB)) << (62 - MB);
    } else {
        int n = __builtin_clzll(f) - (63 - MB); /* shift to bring the top bit to MB */
        *e = 1 - n;
        *sig = f << (62 - MB + n);
    }
}

static ALWAYS_INLINE uint64_t overflow(int MB, int EB, bool sign, unsigned rm, unsigned *fflags)
{
    bool to_inf =
        rm == FPU_RNE || rm == FPU_RMM || (rm == FPU_RDN && sign) || (rm == FPU_RUP && !sign);
    *fflags |= FPU_OF | FPU_NX;
    return (sign ? SIGN_BIT : 0) | (to_inf ? INF_BITS : MAX_FINITE);
}

/*
 * Round (sign, e, sig) to the format and pack it. sig must have its leading
 * one at bit 62 (bit 63 clear); sticky information must already be in bit 0.
 */
static ALWAYS_INLINE uint64_t round_pack(int MB, int EB, bool sign, int e, uint64_t sig,
                                         unsigned rm, unsigned *fflags)
{
    const int rbits = 62 - MB;
    const uint64_t half = 1ull << (rbits - 1), mask = (1ull << rbits) - 1;
    uint64_t s = sign ? SIGN_BIT : 0, inc, low, r;

    switch (rm) {
    case FPU_RTZ: inc = 0; break;
    case FPU_RDN: inc = sign ? mask : 0; break;
    case FPU_RUP: inc = sign ? 0 : mask; break;
    default: inc = half; break; /* RNE, RMM */
    }

    if (likely(e >= 1)) {
        if (unlikely(e >= EXP_MAX)) return overflow(MB, EB, sign, rm, fflags);
        /* Branch-free on the data (see the file comment). */
        low = sig & mask;
        r = (sig + inc) >> rbits;
        r &= ~(uint64_t)((rm == FPU_RNE) & (low == half));
        *fflags |= (low != 0) * FPU_NX;
        /* The leading one adds 1 to the exponent field, a carry adds 2. */
        r += (uint64_t)(e - 1) << MB;
        if (unlikely(r >= INF_BITS)) return overflow(MB, EB, sign, rm, fflags);
        return s | r;
    }

    /* Tiny after rounding: the result rounded to unbounded exponent range
     * would still be below 2^emin, i.e. rounding at full precision does not
     * carry an e == 0 value up to the smallest normal. */
    bool tiny = e < 0 || sig + inc < (1ull << 63);
    sig = shift_right_jam64(sig, 1 - e);
    low = sig & mask;
    r = (sig + inc) >> rbits;
    if (rm == FPU_RNE && low == half) r &= ~1ull;
    if (low) *fflags |= tiny ? FPU_NX | FPU_UF : FPU_NX;
    return s | r; /* a carry into bit MB yields the smallest normal */
}

/* Result for an operation with a NaN operand: canonical NaN, NV on sNaN. */
static ALWAYS_INLINE uint64_t nan_result(int MB, int EB, uint64_t a, uint64_t b, unsigned *fflags)
{
    if (is_snan(MB, EB, a) || is_snan(MB, EB, b)) *fflags |= FPU_NV;
    return CANON_NAN;
}

static ALWAYS_INLINE uint64_t invalid(int MB, int EB, unsigned *fflags)
{
    *fflags |= FPU_NV;
    return CANON_NAN;
}

static ALWAYS_INLINE uint64_t g_add(int MB, int EB, uint64_t a, uint64_t b, unsigned rm,
                                    unsigned *fflags)
{
    uint64_t ma = a & ~SIGN_BIT, mb = b & ~SIGN_BIT, siga, sigb, s;
    bool sa = (a & SIGN_BIT) != 0, sb = (b & SIGN_BIT) != 0;
    int ea, eb;

    if (unlikely(ma >= INF_BITS || mb >= INF_BITS)) {
        if (ma > INF_BITS || mb > INF_BITS) return nan_result(MB, EB, a, b, fflags);
        if (ma == INF_BITS && mb == INF_BITS && sa != sb) return invalid(MB, EB, fflags);
        return ma == INF_BITS ? a : b;
    }
    if (unlikely(mb == 0)) {
        if (ma == 0 && sa != sb) return rm == FPU_RDN ? SIGN_BIT : 0;
        return a;
    }
    if (unlikely(ma == 0)) return b;
    /* x is the operand of larger magnitude (bit patterns order as
     * magnitudes); the result has its sign. Selects, not branches: the
     * order and the signs of random operands are unpredictable. */
    uint64_t swap = (uint64_t)0 - (ma < mb), c;
    uint64_t x = (a & ~swap) | (b & swap), y = (b & ~swap) | (a & swap);
    bool sub = sa != sb;
    unpack(MB, EB, x, &ea, &siga);
    unpack(MB, EB, y, &eb, &sigb);
    sigb = shift_right_jam64(sigb, ea - eb);
    s = sub ? siga - sigb : siga + sigb;
    if (unlikely(s == 0)) return rm == FPU_RDN ? SIGN_BIT : 0;
    c = s >> 63; /* carry out of an addition: shift right by one */
    s = (s >> c) | (s & c);
    int n = __builtin_clzll(s) - 1; /* cancellation in a subtraction: shift left */
    s <<= n;
    ea += (int)c - n;
    return round_pack(MB, EB, (x & SIGN_BIT) != 0, ea, s, rm, fflags);
}

static ALWAYS_INLINE uint64_t g_mul(int MB, int EB, uint64_t a, uint64_t b, unsigned rm,
                                    unsigned *fflags)
{
    uint64_t ma = a & ~SIGN_BIT, mb = b & ~SIGN_BIT, siga, sigb, sig;
    bool sign = ((a ^ b) & SIGN_BIT) != 0;
    int ea, eb, e;

    if (unlikely(ma >= INF_BITS || mb >= INF_BITS)) {
        if (ma > INF_BITS || mb > INF_BITS) return nan_result(MB, EB, a, b, fflags);
        if (ma == 0 || mb == 0) return invalid(MB, EB, fflags);
        return (sign ? SIGN_BIT : 0) | INF_BITS;
    }
    if (unlikely(ma == 0 || mb == 0)) return sign ? SIGN_BIT : 0;
    unpack(MB, EB, a, &ea, &siga);
    unpack(MB, EB, b, &eb, &sigb);
    u128 p = (u128)siga * sigb;        /* in [2^124, 2^126) */
    int c = (int)(uint64_t)(p >> 125); /* no branch: c is a coin toss */
    sig = (uint64_t)(p >> (62 + c)) | (((uint64_t)p << (2 - c)) != 0);
    e = ea + eb - BIAS + c;
    return round_pack(MB, EB, sign, e, sig, rm, fflags);
}

static ALWAYS_INLINE uint64_t g_div(int MB, int EB, uint64_t a, uint64_t b, unsigned rm,
                                    unsigned *fflags)
{
    uint64_t ma = a & ~SIGN_BIT, mb = b & ~SIGN_BIT, siga, sigb, q;
    bool sign = ((a ^ b) & SIGN_BIT) != 0;
    uint64_t s = sign ? SIGN_BIT : 0;
    int ea, eb, e;

    if (unlikely(ma >= INF_BITS || mb >= INF_BITS)) {
        if (ma > INF_BITS || mb > INF_BITS) return nan_result(MB, EB, a, b, fflags);
        if (ma == INF_BITS) return mb == INF_BITS ? invalid(MB, EB, fflags) : s | INF_BITS;
        return s; /* finite / inf */
    }
    if (unlikely(mb == 0)) {
        if (ma == 0) return invalid(MB, EB, fflags);
        *fflags |= FPU_DZ;
        return s | INF_BITS;
    }
    if (unlikely(ma == 0)) return s;
    unpack(MB, EB, a, &ea, &siga);
    unpack(MB, EB, b, &eb, &sigb);
    e = ea - eb + BIAS - (siga < sigb);
    if (MB <= 30) {
        /* Single precision: sigb has 24 significant bits, so one 64-bit
         * division yields a 39- or 40-bit quotient plus an exact remainder. */
        uint64_t db = sigb >> (62 - MB);
        q = siga / db;
        bool rem = siga % db != 0;
        q = (q << (__builtin_clzll(q) - 1)) | rem;
        return round_pack(MB, EB, sign, e, q, rm, fflags);
    }
    u128 n = (u128)siga << (siga < sigb ? 63 : 62);
    uint64_t rem;
    q = div128_64(n, sigb, &rem);
    q |= rem != 0;
    return round_pack(MB, EB, sign, e, q, rm, fflags);
}

/*
 * floor(sqrt(x)) for x in [2^124, 2^126). A double estimate (within about
 * 2^12 units whatever the host rounding mode), one integer Newton step
 * (which lands on floor or floor + 1), then an exact correction: the result
 * never depends on the host FP state.
 */
static uint64_t isqrt128(u128 x, bool *exact)
{
    /* x >> 64 is below 2^62: a signed conversion, no branch. */
    double est = sqrt_estimate((double)(int64_t)(uint64_t)(x >> 64)) * 4294967296.0;
    uint64_t r = est >= 9223372036854775807.0 ? (1ull << 63) - 1 : (uint64_t)est, rem;
    if (r < (1ull << 62)) r = 1ull << 62;
    r = (uint64_t)(((u128)r + div128_64(x, r, &rem)) >> 1);
    r -= (u128)r * r > x;
    while (unlikely((u128)r * r > x)) /* never taken; kept for safety */
        r--;
    while (unlikely((u128)(r + 1) * (r + 1) <= x))
        r++;
    *exact = (u128)r * r == x;
    return r;
}

/*
 * floor(sqrt(x)) for x < 2^64 with at most 25 significant bits (binary32).
 * The double estimate is exact-input and within 2^-20 of sqrt(x), so floor
 * of it is off by at most one either way; two branch-free steps fix it.
 */
static ALWAYS_INLINE uint64_t isqrt64(uint64_t x, bool *exact)
{
    double est = sqrt_estimate((double)x);
    uint64_t r = est >= 4294967295.0 ? 4294967295u : (uint64_t)est;
    r -= r * r > x;
    r += (r + 1) * (r + 1) <= x; /* r + 1 <= 2^32: no wrap for x < 2^64 - 2^33 */
    *exact = r * r == x;
    return r;
}

static ALWAYS_INLINE uint64_t g_sqrt(int MB, int EB, uint64_t a, unsigned rm, unsigned *fflags)
{
    uint64_t ma = a & ~SIGN_BIT, sig;
    int e;
    bool exact;

    if (unlikely(ma >= INF_BITS || (a & SIGN_BIT) || ma == 0)) {
        if (ma > INF_BITS) return nan_result(MB, EB, a, a, fflags);
        if (ma == 0) return a; /* sqrt(-0) = -0 */
        if (a & SIGN_BIT) return invalid(MB, EB, fflags);
        return a; /* +inf */
    }
    unpack(MB, EB, a, &e, &sig);
    e -= BIAS; /* unbiased; make it even by moving one bit into sig */
    int odd = e & 1;
    e -= odd;
    if (MB <= 30) {
        /* sqrt(sig * 2^odd) has 32 bits, enough for 24 + round + sticky. */
        sig = isqrt64(sig << odd, &exact) << 31;
    } else {
        sig = isqrt128((u128)sig << (62 + odd), &exact);
    }
    return round_pack(MB, EB, false, e / 2 + BIAS, sig | !exact, rm, fflags);
}

static ALWAYS_INLINE uint64_t g_fma(int MB, int EB, uint64_t a, uint64_t b, uint64_t c, unsigned op,
                                    unsigned rm, unsigned *fflags)
{
    uint64_t ma = a & ~SIGN_BIT, mb = b & ~SIGN_BIT, mc = c & ~SIGN_BIT, siga, sigb, sigc;
    bool sp = (((a ^ b) & SIGN_BIT) != 0) ^ ((op & FPU_FMA_NEGPROD) != 0);
    bool sc = ((c & SIGN_BIT) != 0) ^ ((op & FPU_FMA_NEGADD) != 0);
    int ea, eb, ec, e;

    if (unlikely(ma >= INF_BITS || mb >= INF_BITS || mc >= INF_BITS)) {
        bool inf_times_zero = (ma == INF_BITS && mb == 0) || (ma == 0 && mb == INF_BITS);
        if (ma > INF_BITS || mb > INF_BITS || mc > INF_BITS) {
            /* RISC-V: inf * 0 + qNaN still raises NV. */
            if (inf_times_zero || is_snan(MB, EB, c)) *fflags |= FPU_NV;
            return nan_result(MB, EB, a, b, fflags);
        }
        if (inf_times_zero) return invalid(MB, EB, fflags);
        if (ma == INF_BITS || mb == INF_BITS) {
            if (mc == INF_BITS && sp != sc) return invalid(MB, EB, fflags);
            return (sp ? SIGN_BIT : 0) | INF_BITS;
        }
        return (sc ? SIGN_BIT : 0) | INF_BITS;
    }
    if (unlikely(ma == 0 || mb == 0)) {
        /* Exact zero product: the sum is c, or a signed zero. */
        if (mc == 0 && sp != sc) return rm == FPU_RDN ? SIGN_BIT : 0;
        return (sc ? SIGN_BIT : 0) | mc;
    }
    unpack(MB, EB, a, &ea, &siga);
    unpack(MB, EB, b, &eb, &sigb);
    /* Exact product with its leading one at bit 126. */
    u128 p = (u128)siga * sigb;
    int top = (int)(uint64_t)(p >> 125);
    p <<= 2 - top;
    e = ea + eb - BIAS + top;
    if (mc != 0) {
        unpack(MB, EB, c, &ec, &sigc);
        u128 q = (u128)sigc << 64;
        /* Let p be the larger magnitude (selects, as in g_add). */
        bool swap = ec > e || (ec == e && q > p);
        u128 m = (u128)0 - swap, t = (p ^ q) & m;
        p ^= t;
        q ^= t;
        bool sub = sp != sc;
        int de = swap ? ec - e : e - ec;
        e = swap ? ec : e;
        sp = swap ? sc : sp; /* the result has the larger operand's sign */
        q = shift_right_jam128(q, de);
        p = sub ? p - q : p + q;
        if (unlikely(p == 0)) return rm == FPU_RDN ? SIGN_BIT : 0;
        uint64_t carry = (uint64_t)(p >> 127);
        p = (p >> carry) | (p & carry);
        int n = clz128(p) - 1;
        p <<= n;
        e += (int)carry - n;
    }
    uint64_t sig = (uint64_t)(p >> 64) | ((uint64_t)p != 0);
    return round_pack(MB, EB, sp, e, sig, rm, fflags);
}

/* Total order key with -0 < +0; NaNs are handled by the callers. */
static ALWAYS_INLINE int64_t order_key(int MB, int EB, uint64_t x)
{
    int64_t m = (int64_t)(x & ~SIGN_BIT);
    return (x & SIGN_BIT) ? -m - 1 : m;
}

static ALWAYS_INLINE uint64_t g_minmax(int MB, int EB, uint64_t a, uint64_t b, bool max,
                                       unsigned *fflags)
{
    bool na = is_nan(MB, EB, a), nb = is_nan(MB, EB, b);

    if (unlikely(na || nb)) {
        if (is_snan(MB, EB, a) || is_snan(MB, EB, b)) *fflags |= FPU_NV;
        if (na && nb) return CANON_NAN;
        return na ? b : a;
    }
    bool a_less = order_key(MB, EB, a) < order_key(MB, EB, b);
    return a_less != max ? a : b;
}

/* Compare: 0 eq, 1 lt, 2 le. eq is quiet, lt and le signal on any NaN. */
static ALWAYS_INLINE int g_cmp(int MB, int EB, uint64_t a, uint64_t b, int kind, unsigned *fflags)
{
    if (unlikely(is_nan(MB, EB, a) || is_nan(MB, EB, b))) {
        if (kind != 0 || is_snan(MB, EB, a) || is_snan(MB, EB, b)) *fflags |= FPU_NV;
        return 0;
    }
    /* Ordering key with -0 == +0. */
    int64_t ka = (int64_t)(a & ~SIGN_BIT), kb = (int64_t)(b & ~SIGN_BIT);
    if (a & SIGN_BIT) ka = -ka;
    if (b & SIGN_BIT) kb = -kb;
    switch (kind) {
    case 0: return ka == kb;
    case 1: return ka < kb;
    default: return ka <= kb;
    }
}

static ALWAYS_INLINE unsigned g_class(int MB, int EB, uint64_t a)
{
    uint64_t m = a & ~SIGN_BIT;
    bool neg = (a & SIGN_BIT) != 0;

    if (m > INF_BITS) return (a & QUIET_BIT) ? 1u << 9 : 1u << 8;
    if (m == INF_BITS) return neg ? 1u << 0 : 1u << 7;
    if (m == 0) return neg ? 1u << 3 : 1u << 4;
    if (m < (1ull << MB)) return neg ? 1u << 2 : 1u << 5;
    return neg ? 1u << 1 : 1u << 6;
}

/*
 * Float to integer. bits is the width of the result (32 or 64), is_signed
 * its signedness; the result is the integer (not yet sign-extended for
 * 32-bit unsigned) as a 64-bit pattern.
 */
static ALWAYS_INLINE uint64_t g_to_int(int MB, int EB, uint64_t a, int bits, bool is_signed,
                                       unsigned rm, unsigned *fflags)
{
    uint64_t m = a & ~SIGN_BIT, sig, ip, frac;
    bool sign = (a & SIGN_BIT) != 0;
    const uint64_t umax = bits == 64 ? ~0ull : (1ull << bits) - 1;
    const uint64_t smax = umax >> 1, smin = ~smax; /* smin as 64-bit pattern */
    uint64_t hi = is_signed ? smax : umax, lo = is_signed ? smin : 0;
    int e;

    if (unlikely(m >= INF_BITS)) {
        *fflags |= FPU_NV;
        return (m > INF_BITS || !sign) ? hi : lo;
    }
    if (m == 0) return 0;
    unpack(MB, EB, a, &e, &sig);
    e -= BIAS; /* value = sig * 2^(e - 62) */
    if (e >= 64) {
        *fflags |= FPU_NV;
        return sign ? lo : hi;
    }
    if (e >= 62) {
        ip = sig << (e - 62);
        frac = 0;
    } else if (e >= -1) {
        ip = sig >> (62 - e);
        frac = sig << (e + 2); /* 64-bit fraction, top bit = one half */
    } else {
        ip = 0;
        frac = 1; /* nonzero, below one half */
    }
    bool up;
    switch (rm) {
    case FPU_RNE: up = frac > (1ull << 63) || (frac == (1ull << 63) && (ip & 1)); break;
    case FPU_RTZ: up = false; break;
    case FPU_RDN: up = sign && frac; break;
    case FPU_RUP: up = !sign && frac; break;
    default: up = frac >= (1ull << 63); break; /* RMM */
    }
    ip += up; /* cannot wrap: frac != 0 implies ip < 2^63 */
    if (!sign) {
        if (ip > hi) {
            *fflags |= FPU_NV;
            return hi;
        }
    } else if (is_signed) {
        if (ip > (uint64_t)smax + 1) {
            *fflags |= FPU_NV;
            return lo;
        }
        ip = (uint64_t)0 - ip;
    } else if (ip != 0) {
        *fflags |= FPU_NV;
        return 0;
    }
    if (frac) *fflags |= FPU_NX;
    return ip;
}

/* Integer magnitude to float. */
static ALWAYS_INLINE uint64_t g_from_int(int MB, int EB, bool sign, uint64_t m, unsigned rm,
                                         unsigned *fflags)
{
    if (m == 0) return 0;
    int n = __builtin_clzll(m);
    uint64_t sig = shift_right_jam64(m << n, 1);
    return round_pack(MB, EB, sign, 63 - n + BIAS, sig, rm, fflags);
}

/* ---- binary32 ---------------------------------------------------------- */

uint32_t fpu_add32(uint32_t a, uint32_t b, unsigned rm, unsigned *fflags)
{
    return (uint32_t)g_add(F32, a, b, rm, fflags);
}

uint32_t fpu_sub32(uint32_t a, uint32_t b, unsigned rm, unsigned *fflags)
{
    return (uint32_t)g_add(F32, a, b ^ 0x80000000u, rm, fflags);
}

uint32_t fpu_mul32(uint32_t a, uint32_t b, unsigned rm, unsigned *fflags)
{
    return (uint32_t)g_mul(F32, a, b, rm, fflags);
}

uint32_t fpu_div32(uint32_t a, uint32_t b, unsigned rm, unsigned *fflags)
{
    return (uint32_t)g_div(F32, a, b, rm, fflags);
}

uint32_t fpu_sqrt32(uint32_t a, unsigned rm, unsigned *fflags)
{
    return (uint32_t)g_sqrt(F32, a, rm, fflags);
}

uint32_t fpu_fma32(uint32_t a, uint32_t b, uint32_t c, unsigned op, unsigned rm, unsigned *fflags)
{
    return (uint32_t)g_fma(F32, a, b, c, op, rm, fflags);
}

uint32_t fpu_min32(uint32_t a, uint32_t b, unsigned *fflags)
{
    return (uint32_t)g_minmax(F32, a, b, false, fflags);
}

uint32_t fpu_max32(uint32_t a, uint32_t b, unsigned *fflags)
{
    return (uint32_t)g_minmax(F32, a, b, true, fflags);
}

int fpu_eq32(uint32_t a, uint32_t b, unsigned *fflags)
{
    return g_cmp(F32, a, b, 0, fflags);
}

int fpu_lt32(uint32_t a, uint32_t b, unsigned *fflags)
{
    return g_cmp(F32, a, b, 1, fflags);
}

int fpu_le32(uint32_t a, uint32_t b, unsigned *fflags)
{
    return g_cmp(F32, a, b, 2, fflags);
}

unsigned fpu_class32(uint32_t a)
{
    return g_class(F32, a);
}

/* ---- binary64 ---------------------------------------------------------- */

/* ---- host fast paths (binary64, RNE; see the file comment) ---- */

#include "fpu_int.h"

/* the integer paths, out of line so that the wrappers below stay small */
#define NOINLINE __attribute__((noinline))
static NOINLINE uint64_t add64_soft(uint64_t a, uint64_t b, unsigned rm, unsigned *fflags)
{
    return g_add(F64, a, b, rm, fflags);
}

static NOINLINE uint64_t mul64_soft(uint64_t a, uint64_t b, unsigned rm, unsigned *fflags)
{
    return g_mul(F64, a, b, rm, fflags);
}

static NOINLINE uint64_t div64_soft(uint64_t a, uint64_t b, unsigned rm, unsigned *fflags)
{
    return g_div(F64, a, b, rm, fflags);
}

static NOINLINE uint64_t sqrt64_soft(uint64_t a, unsigned rm, unsigned *fflags)
{
    return g_sqrt(F64, a, rm, fflags);
}

static NOINLINE uint64_t fma64_soft(uint64_t a, uint64_t b, uint64_t c, unsigned op, unsigned rm,
                                    unsigned *fflags)
{
    return g_fma(F64, a, b, c, op, rm, fflags);
}

#ifdef FPU_HOST_FAST
#define HOST_FAST(rm) likely((rm) == FPU_RNE)
#else
#define HOST_FAST(rm) 0
#endif

uint64_t fpu_add64(uint64_t a, uint64_t b, unsigned rm, unsigned *fflags)
{
    uint64_t r;
    if (HOST_FAST(rm) && host_add64(a, b, &r, fflags)) return r;
    return add64_soft(a, b, rm, fflags);
}

uint64_t fpu_sub64(uint64_t a, uint64_t b, unsigned rm, unsigned *fflags)
{
    uint64_t r;
    if (HOST_FAST(rm) && host_add64(a, b ^ (1ull << 63), &r, fflags)) return r;
    return add64_soft(a, b ^ (1ull << 63), rm, fflags);
}

uint64_t fpu_mul64(uint64_t a, uint64_t b, unsigned rm, unsigned *fflags)
{
    uint64_t r;
    if (HOST_FAST(rm) && host_mul64(a, b, &r, fflags)) return r;
    return mul64_soft(a, b, rm, fflags);
}

uint64_t fpu_div64(uint64_t a, uint64_t b, unsigned rm, unsigned *fflags)
{
    uint64_t r;
    if (HOST_FAST(rm) && host_div64(a, b, &r, fflags)) return r;
    return div64_soft(a, b, rm, fflags);
}

uint64_t fpu_sqrt64(uint64_t a, unsigned rm, unsigned *fflags)
{
    uint64_t r;
    if (HOST_FAST(rm) && host_sqrt64(a, &r, fflags)) return r;
    return sqrt64_soft(a, rm, fflags);
}

uint64_t fpu_fma64(uint64_t a, uint64_t b, uint64_t c, unsigned op, unsigned rm, unsigned *fflags)
{
    uint64_t r;
    if (HOST_FAST(rm) && host_fma64(a ^ ((uint64_t)(op & FPU_FMA_NEGPROD) << 63), b,
                                    c ^ ((uint64_t)(op & FPU_FMA_NEGADD) << 62), &r, fflags))
        return r;
    return fma64_soft(a, b, c, op, rm, fflags);
}

uint64_t fpu_min64(uint64_t a, uint64_t b, unsigned *fflags)
{
    return g_minmax(F64, a, b, false, fflags);
}

uint64_t fpu_max64(uint64_t a, uint64_t b, unsigned *fflags)
{
    return g_minmax(F64, a, b, true, fflags);
}

int fpu_eq64(uint64_t a, uint64_t b, unsigned *fflags)
{
    return g_cmp(F64, a, b, 0, fflags);
}

int fpu_lt64(uint64_t a, uint64_t b, unsigned *fflags)
{
    return g_cmp(F64, a, b, 1, fflags);
}

int fpu_le64(uint64_t a, uint64_t b, unsigned *fflags)
{
    return g_cmp(F64, a, b, 2, fflags);
}

unsigned fpu_class64(uint64_t a)
{
    return g_class(F64, a);
}

/* ---- conversions --------------------------------------------------------- */

uint64_t fpu_f32_to_f64(uint32_t a, unsigned *fflags)
{
    uint64_t s = (uint64_t)(a >> 31) << 63;
    uint32_t m = a & 0x7fffffffu;
    uint64_t sig;
    int e;

    if (unlikely(m >= 0x7f800000u)) {
        if (m > 0x7f800000u)
            return is_snan(F32, a) ? (*fflags |= FPU_NV, 0x7ff8000000000000ull)
                                   : 0x7ff8000000000000ull;
        return s | 0x7ff0000000000000ull;
    }
    if (m == 0) return s;
    unpack(F32, a, &e, &sig);
    return s | (((uint64_t)(e - 127 + 1023) << 52) + ((sig >> 10) & ((1ull << 52) - 1)));
}

uint32_t fpu_f64_to_f32(uint64_t a, unsigned rm, unsigned *fflags)
{
    uint32_t s = (uint32_t)(a >> 63) << 31;
    uint64_t m = a & ~(1ull << 63), sig;
    int e;

    if (unlikely(m >= 0x7ff0000000000000ull)) {
        if (m > 0x7ff0000000000000ull)
            return is_snan(F64, a) ? (*fflags |= FPU_NV, 0x7fc00000u) : 0x7fc00000u;
        return s | 0x7f800000u;
    }
    if (m == 0) return s;
    unpack(F64, a, &e, &sig);
    return (uint32_t)round_pack(F32, s != 0, e - 1023 + 127, sig, rm, fflags);
}

int64_t fpu_f32_to_i32(uint32_t a, unsigned rm, unsigned *fflags)
{
    return (int32_t)(uint32_t)g_to_int(F32, a, 32, true, rm, fflags);
}

int64_t fpu_f32_to_u32(uint32_t a, unsigned rm, unsigned *fflags)
{
    return (int32_t)(uint32_t)g_to_int(F32, a, 32, false, rm, fflags);
}

int64_t fpu_f32_to_i64(uint32_t a, unsigned rm, unsigned *fflags)
{
    return (int64_t)g_to_int(F32, a, 64, true, rm, fflags);
}

uint64_t fpu_f32_to_u64(uint32_t a, unsigned rm, unsigned *fflags)
{
    return g_to_int(F32, a, 64, false, rm, fflags);
}

int64_t fpu_f64_to_i32(uint64_t a, unsigned rm, unsigned *fflags)
{
    return (int32_t)(uint32_t)g_to_int(F64, a, 32, true, rm, fflags);
}

int64_t fpu_f64_to_u32(uint64_t a, unsigned rm, unsigned *fflags)
{
    return (int32_t)(uint32_t)g_to_int(F64, a, 32, false, rm, fflags);
}

int64_t fpu_f64_to_i64(uint64_t a, unsigned rm, unsigned *fflags)
{
    return (int64_t)g_to_int(F64, a, 64, true, rm, fflags);
}

uint64_t fpu_f64_to_u64(uint64_t a, unsigned rm, unsigned *fflags)
{
    return g_to_int(F64, a, 64, false, rm, fflags);
}

static ALWAYS_INLINE uint64_t mag64(int64_t a)
{
    return a < 0 ? (uint64_t)0 - (uint64_t)a : (uint64_t)a;
}

uint32_t fpu_i32_to_f32(int32_t a, unsigned rm, unsigned *fflags)
{
    return (uint32_t)g_from_int(F32, a < 0, mag64(a), rm, fflags);
}

uint32_t fpu_u32_to_f32(uint32_t a, unsigned rm, unsigned *fflags)
{
    return (uint32_t)g_from_int(F32, false, a, rm, fflags);
}

uint32_t fpu_i64_to_f32(int64_t a, unsigned rm, unsigned *fflags)
{
    return (uint32_t)g_from_int(F32, a < 0, mag64(a), rm, fflags);
}

uint32_t fpu_u64_to_f32(uint64_t a, unsigned rm, unsigned *fflags)
{
    return (uint32_t)g_from_int(F32, false, a, rm, fflags);
}

uint64_t fpu_i32_to_f64(int32_t a, unsigned rm, unsigned *fflags)
{
    return g_from_int(F64, a < 0, mag64(a), rm, fflags);
}

uint64_t fpu_u32_to_f64(uint32_t a, unsigned rm, unsigned *fflags)
{
    return g_from_int(F64, false, a, rm, fflags);
}

uint64_t fpu_i64_to_f64(int64_t a, unsigned rm, unsigned *fflags)
{
#ifdef FPU_HOST_FAST
    if (likely(a >= -(1ll << 53) && a <= (1ll << 53))) { /* exact in any mode, no flags */
        double d = (double)a;
        return bits_of(d);
    }
#endif
    return g_from_int(F64, a < 0, mag64(a), rm, fflags);
}

uint64_t fpu_u64_to_f64(uint64_t a, unsigned rm, unsigned *fflags)
{
    return g_from_int(F64, false, a, rm, fflags);
}
