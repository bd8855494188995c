/*
 * rvgen.c - random RV64GC instruction streams (see rvgen.h).
 *
 * Layout of a program:
 *   RVGEN_CODE_BASE   prologue | stream | 8 nops | end: j end | M handler |
 *                     S handler
 *   RVGEN_DATA_BASE   seed table: x[0..31] (8 bytes each), f[0..31] at +256,
 *                     fcsr at +512, medeleg at +520
 *   RVGEN_SCRATCH     8 KiB of random interesting values; sp = +0x800,
 *                     s0 = +0x1800, so any 12-bit offset stays inside
 *   RVGEN_PT_BASE     Sv39 root page table: 1 GiB identity leaf at
 *                     0x80000000 (U for a U-mode stream) and a supervisor
 *                     alias of it at 0xc0000000 for the S handler
 *
 * Every stream instruction goes through sanitize(), which enforces the
 * invariants listed in rvgen.h whatever the encoding came from (a template
 * or random bits). Branches and jumps are emitted as placeholders and
 * patched once all lengths are known, to a later instruction boundary.
 */
#include "rvgen.h"

#include <elf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { X_SP = 2, X_GP = 3, X_TP = 4, X_S0 = 8 };

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned rn(rng *r, unsigned n)
{
    return (unsigned)(rnd(r) % n);
}

/* --- encoders ------------------------------------------------------------ */

static uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd,
                      unsigned opc)
{
    return f7 << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 | (f3 & 7) << 12 | (rd & 31) << 7 | opc;
}

static uint32_t enc_i(int imm, unsigned rs1, unsigned f3, unsigned rd, unsigned opc)
{
    return ((uint32_t)imm & 0xfff) << 20 | (rs1 & 31) << 15 | (f3 & 7) << 12 | (rd & 31) << 7 | opc;
}

static uint32_t enc_s(int imm, unsigned rs2, unsigned rs1, unsigned f3, unsigned opc)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 5) & 0x7f) << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 | (f3 & 7) << 12 |
           (u & 31) << 7 | opc;
}

static uint32_t enc_b(int imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 |
           (f3 & 7) << 12 | ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63;
}

static uint32_t enc_j(int imm, unsigned rd)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 | ((u >> 11) & 1) << 20 |
           ((u >> 12) & 0xff) << 12 | (rd & 31) << 7 | 0x6f;
}

static uint32_t enc_u(uint32_t imm20, unsigned rd, unsigned opc)
{
    return (imm20 & 0xfffff) << 12 | (rd & 31) << 7 | opc;
}

static uint16_t enc_cj(int imm, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return (uint16_t)(f3 << 13 | ((u >> 11) & 1) << 12 | ((u >> 4) & 1) << 11 |
                      ((u >> 8) & 3) << 9 | ((u >> 10) & 1) << 8 | ((u >> 6) & 1) << 7 |
                      ((u >> 7) & 1) << 6 | ((u >> 1) & 7) << 3 | ((u >> 5) & 1) << 2 | 1);
}

static uint16_t enc_cb(int imm, unsigned rs1p, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return (uint16_t)(f3 << 13 | ((u >> 8) & 1) << 12 | ((u >> 3) & 3) << 10 | (rs1p & 7) << 7 |
                      ((u >> 6) & 3) << 5 | ((u >> 1) & 3) << 3 | ((u >> 5) & 1) << 2 | 1);
}

/* --- CSR lists ----------------------------------------------------------- */

/* CSRs the stream may write: none of them can move pc, privilege, address
 * translation, or interrupt enables (mstatus.MIE stays 0). satp is only
 * read: QEMU 7.2 accepts Sv57 (mode 10), which machina deliberately
 * ignores (DESIGN.md section 3), random values hit it, and in an S-mode
 * stream a write would turn translation on. */
static const uint16_t csr_write_ok[] = {
    0x001, 0x002, 0x003,        /* fflags frm fcsr */
    0x340, 0x140,               /* mscratch sscratch */
    0x341, 0x342, 0x343,        /* mepc mcause mtval */
    0x141, 0x142, 0x143, 0x105, /* sepc scause stval stvec */
    0x302, 0x303, 0x306, 0x106, /* medeleg mideleg mcounteren scounteren */
    0x304, 0x104,               /* mie sie (mstatus.MIE is never set) */
};

/* CSRs the stream may read (in addition to the writable ones). */
static const uint16_t csr_read_ok[] = {
    0x180, 0x300, 0x100, 0x301, 0x305, 0xf11, 0xf12, 0xf13, 0xf14, 0xf15,
    0x30a, 0x10a, 0x320, 0x3a0, 0x3b0, 0x14d, 0xc03, 0xb03, 0x323,
};

/* CSRs whose value is not a function of the program (time, counters,
 * interrupt-pending bits that follow QEMU's real-time timer). */
static bool csr_nondet(unsigned csr)
{
    return (csr >= 0xb00 && csr <= 0xb02) || (csr >= 0xc00 && csr <= 0xc02) ||
           (csr >= 0xc80 && csr <= 0xc82) || (csr >= 0xb80 && csr <= 0xb82) || csr == 0x344 ||
           csr == 0x144 || csr == 0x015;
}

static bool csr_in(const uint16_t *list, size_t n, unsigned csr)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == csr) return true;
    return false;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static unsigned pick_csr_read(rng *r)
{
    unsigned n = (unsigned)(NELEM(csr_write_ok) + NELEM(csr_read_ok));
    unsigned i = rn(r, n);
    return i < NELEM(csr_write_ok) ? csr_write_ok[i] : csr_read_ok[i - NELEM(csr_write_ok)];
}

/* --- sanitizing ---------------------------------------------------------- */

static unsigned safe_rd(unsigned rd)
{
    return (rd == X_SP || rd == X_GP || rd == X_TP || rd == X_S0) ? rd + 16 : rd;
}

static unsigned pick_base(rng *r)
{
    return rn(r, 2) ? X_SP : X_S0;
}

/* Makes a 32-bit encoding safe; returns false when it must be dropped. */
static bool sanitize32(rng *r, uint32_t *w, unsigned flags)
{
    uint32_t x = *w;
    unsigned opc = x & 0x7f, f3 = (x >> 12) & 7;
    if ((x & 3) != 3 || (x & 0x1c) == 0x1c) return false; /* not a 32-bit encoding */
    switch (opc) {
    case 0x63: /* branch, jalr, jal: only through the patched templates */
    case 0x67:
    case 0x6f: return false;
    case 0x03: /* loads, stores, AMOs: base sp or s0 */
    case 0x07:
    case 0x23:
    case 0x27:
    case 0x2f: x = (x & ~(31u << 15)) | pick_base(r) << 15; break;
    case 0x0f:
        if (f3 == 2) /* cbo.*: Zicbom/Zicboz, in QEMU 7.2 only */
            return false;
        break;
    case 0x73: {
        unsigned csr = x >> 20, rs1 = (x >> 15) & 31;
        if (f3 == 0) {
            /* mret, sret, wfi, dret, uret would leave the stream or hang. */
            uint32_t f12 = x >> 20;
            if (f12 == 0x302 || f12 == 0x102 || f12 == 0x105 || f12 == 0x7b2 || f12 == 0x002)
                return false;
            break;
        }
        if (f3 == 4) break; /* hypervisor loads: illegal without H */
        bool writes = (f3 & 3) == 1 || rs1 != 0;
        if (writes && !csr_in(csr_write_ok, NELEM(csr_write_ok), csr))
            csr = csr_write_ok[rn(r, NELEM(csr_write_ok))];
        else if (!writes && (csr_nondet(csr) || !(flags & RVGEN_CSR_ANY_READ)) &&
                 !csr_in(csr_write_ok, NELEM(csr_write_ok), csr) &&
                 !csr_in(csr_read_ok, NELEM(csr_read_ok), csr))
            csr = pick_csr_read(r);
        if (writes && csr == 0x105 && (flags & RVGEN_DELEG))
            csr = 0x140; /* stvec leads to the S-mode handler */
        x = (x & 0xfffff) | (uint32_t)csr << 20;
        break;
    }
    default: break;
    }
    /* Every 32-bit format that writes a register keeps rd in bits 11:7;
     * stores and branches use them for an immediate, harmless to change. */
    if (opc != 0x23 && opc != 0x27) x = (x & ~(31u << 7)) | safe_rd((x >> 7) & 31) << 7;
    *w = x;
    return true;
}

/* Makes a 16-bit encoding safe; returns false when it must be dropped. */
static bool sanitize16(uint16_t *w)
{
    unsigned x = *w, q = x & 3, f3 = x >> 13;
    unsigned rd = (x >> 7) & 31, rs2 = (x >> 2) & 31;
    if (q == 3) return false;
    switch (q) {
    case 0:
        if (f3 == 0) { /* c.addi4spn rd' */
            if (((x >> 2) & 7) == 0) x |= 1u << 2;
        } else if (f3 != 4) { /* loads/stores: rs1' = s0 */
            x &= ~(7u << 7);
            if (f3 <= 3 && ((x >> 2) & 7) == 0) x |= 1u << 2; /* c.lw/c.ld rd' != s0 */
        }
        break;
    case 1:
        if (f3 >= 5) return false; /* c.j, c.beqz, c.bnez: only patched templates */
        if (f3 == 4) {
            if (((x >> 7) & 7) == 0) x |= 1u << 7;
        } else if (f3 == 3 && rd == X_SP) {
            x = (x & ~(31u << 7)) | 18u << 7; /* c.addi16sp -> c.lui s2 */
        } else {
            x = (x & ~(31u << 7)) | safe_rd(rd) << 7;
        }
        break;
    case 2:
        if (f3 == 4 && rs2 == 0 && rd != 0) return false; /* c.jr, c.jalr */
        if (f3 == 0 || f3 == 2 || f3 == 3 || f3 == 4) x = (x & ~(31u << 7)) | safe_rd(rd) << 7;
        break;
    }
    *w = (uint16_t)x;
    return true;
}

/* --- templates ----------------------------------------------------------- */

typedef struct insn {
    uint32_t w;
    uint8_t len;   /* 2 or 4 */
    uint8_t patch; /* 0, or kind of placeholder: 1 B, 2 JAL, 3 C.J, 4 C.B */
} insn;

static unsigned rreg(rng *r)
{
    return rn(r, 32);
}

static int rimm12(rng *r)
{
    switch (rn(r, 4)) {
    case 0: return (int)rn(r, 32) - 16;
    case 1: return rn(r, 2) ? 2047 : -2048;
    default: return (int)rn(r, 4096) - 2048;
    }
}

static unsigned rrm(rng *r)
{
    static const unsigned rms[] = {0, 1, 2, 3, 4, 7, 7, 7, 7, 7, 5, 6};
    return rms[rn(r, NELEM(rms))];
}

static uint32_t gen_int(rng *r)
{
    unsigned rd = rreg(r), rs1 = rreg(r), rs2 = rreg(r), f3 = rn(r, 8);
    switch (rn(r, 8)) {
    case 0: /* OP-IMM */
        if (f3 == 1 || f3 == 5) {
            unsigned sh = rn(r, 64), hi = (f3 == 5 && rn(r, 2)) ? 0x10 : 0;
            if (rn(r, 16) == 0) hi = rn(r, 64); /* mostly-invalid funct6 */
            return enc_i((int)(hi << 6 | sh), rs1, f3, rd, 0x13);
        }
        return enc_i(rimm12(r), rs1, f3, rd, 0x13);
    case 1: /* OP-IMM-32 */
        if (f3 == 1 || f3 == 5) {
            unsigned sh = rn(r, 32) | (rn(r, 16) == 0 ? 32 : 0);
            unsigned hi = (f3 == 5 && rn(r, 2)) ? 0x20 : 0;
            return enc_i((int)(hi << 5 | sh), rs1, f3, rd, 0x1b);
        }
        return enc_i(rimm12(r), rs1, rn(r, 8) == 0 ? f3 : 0, rd, 0x1b);
    case 2:
    case 3: { /* OP: base, sub/sra, M */
        static const unsigned f7s[] = {0, 0, 0x20, 1, 1, 1};
        unsigned f7 = f7s[rn(r, NELEM(f7s))];
        if (rn(r, 32) == 0) f7 = rn(r, 128);
        return enc_r(f7, rs2, rs1, f3, rd, 0x33);
    }
    case 4: { /* OP-32 */
        static const unsigned f7s[] = {0, 0x20, 1, 1};
        unsigned f7 = f7s[rn(r, NELEM(f7s))];
        return enc_r(f7, rs2, rs1, f3, rd, 0x3b);
    }
    case 5: return enc_u((uint32_t)rnd(r), rd, rn(r, 2) ? 0x37 : 0x17);
    case 6: /* M extension, again: divisions by interesting values */
        return enc_r(1, rs2, rs1, 4 + rn(r, 4), rd, rn(r, 2) ? 0x33 : 0x3b);
    default: return enc_r(1, rs2, rs1, rn(r, 4), rd, rn(r, 2) ? 0x33 : 0x3b);
    }
}

static uint32_t gen_mem(rng *r)
{
    unsigned rd = rreg(r), base = pick_base(r);
    int imm = rimm12(r);
    if (rn(r, 3)) /* mostly aligned */
        imm &= ~7;
    switch (rn(r, 6)) {
    case 0:
    case 1: return enc_i(imm, base, rn(r, 8), rd, 0x03);
    case 2: return enc_s(imm, rreg(r), base, rn(r, 4), 0x23);
    case 3: return enc_i(imm, base, rn(r, 2) ? 3 : 2, rd, 0x07);
    case 4: return enc_s(imm, rreg(r), base, rn(r, 2) ? 3 : 2, 0x27);
    default: { /* AMO */
        static const unsigned f5s[] = {0x02, 0x03, 0x01, 0x00, 0x04, 0x0c, 0x08,
                                       0x10, 0x14, 0x18, 0x1c, 0x02, 0x03};
        unsigned f5 = f5s[rn(r, NELEM(f5s))];
        unsigned rs2 = f5 == 0x02 ? 0 : rreg(r);
        return enc_r(f5 << 2 | rn(r, 4), rs2, base, rn(r, 8) == 0 ? rn(r, 8) : 2 + rn(r, 2), rd,
                     0x2f);
    }
    }
}

static uint32_t gen_fp(rng *r)
{
    unsigned rd = rreg(r), rs1 = rreg(r), rs2 = rreg(r), rs3 = rreg(r);
    unsigned fmt = rn(r, 16) == 0 ? 2 + rn(r, 2) : rn(r, 2);
    switch (rn(r, 12)) {
    case 0: { /* fused multiply-add */
        unsigned opc = 0x43 + 4 * rn(r, 4);
        return (rs3 << 27) | enc_r(fmt, rs2, rs1, rrm(r), rd, opc);
    }
    case 1:
    case 2: /* fadd fsub fmul fdiv */ return enc_r(rn(r, 4) << 2 | fmt, rs2, rs1, rrm(r), rd, 0x53);
    case 3: /* fsqrt */ return enc_r(0x2c | fmt, rn(r, 16) ? 0 : rs2, rs1, rrm(r), rd, 0x53);
    case 4: /* fsgnj*, fmin/fmax */
        return enc_r((rn(r, 2) ? 0x10 : 0x14) | fmt, rs2, rs1, rn(r, 4), rd, 0x53);
    case 5: /* fcvt.s.d / fcvt.d.s */
        return enc_r(0x20 | (rn(r, 2)), rn(r, 2), rs1, rrm(r), rd, 0x53);
    case 6: /* compare */ return enc_r(0x50 | fmt, rs2, rs1, rn(r, 4), rd, 0x53);
    case 7: /* fclass, fmv.x.[wd] */ return enc_r(0x70 | fmt, 0, rs1, rn(r, 2), rd, 0x53);
    case 8: /* fcvt.{w,wu,l,lu}.{s,d} */ return enc_r(0x60 | fmt, rn(r, 4), rs1, rrm(r), rd, 0x53);
    case 9: /* fcvt.{s,d}.{w,wu,l,lu} */ return enc_r(0x68 | fmt, rn(r, 4), rs1, rrm(r), rd, 0x53);
    case 10: /* fmv.[wd].x */ return enc_r(0x78 | fmt, 0, rs1, 0, rd, 0x53);
    default: /* anything in OP-FP */ return enc_r(rn(r, 128), rs2, rs1, rn(r, 8), rd, 0x53);
    }
}

static uint32_t gen_csr(rng *r, unsigned flags)
{
    if ((flags & RVGEN_CSR_ANY_READ) && rn(r, 2)) {
        /* csrrs/csrrc rd, any, x0 (or the immediate forms with 0): a read */
        unsigned csr = rn(r, 4096);
        return (uint32_t)csr << 20 |
               enc_r(0, 0, 0, 2 + rn(r, 2) + (rn(r, 2) ? 4 : 0), rreg(r), 0x73);
    }
    unsigned f3 = 1 + rn(r, 3) + (rn(r, 2) ? 4 : 0);
    unsigned rs1 = rn(r, 3) == 0 ? 0 : rreg(r);
    unsigned csr = rn(r, 2) ? csr_write_ok[rn(r, NELEM(csr_write_ok))] : pick_csr_read(r);
    return (uint32_t)csr << 20 | enc_r(0, 0, rs1, f3, rreg(r), 0x73);
}

static uint32_t gen_misc(rng *r)
{
    switch (rn(r, 5)) {
    case 0: return 0x00000073; /* ecall */
    case 1: return 0x00100073; /* ebreak */
    case 2: return 0x0000100f; /* fence.i */
    default: return enc_i((int)rn(r, 4096), rreg(r), 0, rreg(r), 0x0f);
    }
}

static uint16_t gen_c(rng *r)
{
    unsigned rd = rreg(r), rs2 = rreg(r), rp = rn(r, 8);
    uint32_t bits = (uint32_t)rnd(r);
    switch (rn(r, 16)) {
    case 0: /* c.addi4spn: random nzuimm */ return (uint16_t)((bits & 0x1fe0) | rp << 2);
    case 1: /* c.fld c.lw c.ld */
        return (uint16_t)((1 + rn(r, 3)) << 13 | (bits & 0x1c60) | rp << 2);
    case 2: /* c.fsd c.sw c.sd */
        return (uint16_t)((5 + rn(r, 3)) << 13 | (bits & 0x1c60) | rp << 2);
    case 3: /* c.addi c.addiw c.li */
        return (uint16_t)(rn(r, 3) << 13 | (bits & 0x107c) | rd << 7 | 1);
    case 4: /* c.lui */ return (uint16_t)(3u << 13 | (bits & 0x107c) | rd << 7 | 1);
    case 5: /* c.srli c.srai c.andi */
        return (uint16_t)(4u << 13 | (bits & 0x107c) | rn(r, 3) << 10 | rp << 7 | 1);
    case 6: /* c.sub .. c.addw */
        return (uint16_t)(4u << 13 | (bits & 0x1000) | 3u << 10 | rp << 7 | rn(r, 4) << 5 |
                          rn(r, 8) << 2 | 1);
    case 7: /* c.slli */ return (uint16_t)((bits & 0x107c) | rd << 7 | 2);
    case 8: /* c.fldsp c.lwsp c.ldsp */
        return (uint16_t)((1 + rn(r, 3)) << 13 | (bits & 0x107c) | rd << 7 | 2);
    case 9: /* c.fsdsp c.swsp c.sdsp */
        return (uint16_t)((5 + rn(r, 3)) << 13 | (bits & 0x1f80) | rs2 << 2 | 2);
    case 10: /* c.mv c.add */
        return (uint16_t)(4u << 13 | (bits & 0x1000) | rd << 7 | (rs2 ? rs2 : 1) << 2 | 2);
    case 11: return rn(r, 4) ? 0x9002 : 0x0000; /* c.ebreak, the all-zero illegal */
    default:                                    /* arithmetic again: the common case */
        return (uint16_t)(rn(r, 3) << 13 | (bits & 0x107c) | rd << 7 | 1);
    }
}

/* One stream instruction. */
static insn gen_one(rng *r, unsigned flags)
{
    insn in = {0, 4, 0};
    for (;;) {
        unsigned k = rn(r, 100);
        if (k < 18) {
            uint16_t c = gen_c(r);
            if (!sanitize16(&c)) continue;
            in.w = c;
            in.len = 2;
            return in;
        }
        if (k < 21) { /* forward branch / jump placeholders */
            static const uint8_t kinds[] = {1, 1, 1, 2, 3, 4, 4};
            in.patch = kinds[rn(r, NELEM(kinds))];
            in.len = in.patch >= 3 ? 2 : 4;
            if (in.patch == 1)
                in.w = enc_b(0, rreg(r), rreg(r), rn(r, 8) == 2 ? 1 : rn(r, 8));
            else if (in.patch == 2)
                in.w = enc_j(0, safe_rd(rreg(r)));
            else if (in.patch == 3)
                in.w = enc_cj(0, 5);
            else
                in.w = enc_cb(0, rn(r, 8), 6 + rn(r, 2));
            return in;
        }
        uint32_t w;
        if (k < 45)
            w = gen_int(r);
        else if (k < 60)
            w = gen_mem(r);
        else if (k < 82)
            w = gen_fp(r);
        else if (k < 90)
            w = gen_csr(r, flags);
        else if (k < 93)
            w = gen_misc(r);
        else if (k < 97)
            w = (uint32_t)rnd(r) | 3;
        else {
            uint16_t c = (uint16_t)rnd(r);
            if (!sanitize16(&c)) continue;
            in.w = c;
            in.len = 2;
            return in;
        }
        if (!sanitize32(r, &w, flags)) continue;
        in.w = w;
        return in;
    }
}

/* --- seed values --------------------------------------------------------- */

static uint64_t interesting_x(rng *r)
{
    static const uint64_t v[] = {0,
                                 1,
                                 ~0ull,
                                 0x8000000000000000ull,
                                 0x7fffffffffffffffull,
                                 0x7fffffff,
                                 0x80000000,
                                 0xffffffff,
                                 0xffffffff80000000ull,
                                 0xffffffff7fffffffull,
                                 2,
                                 31,
                                 32,
                                 63,
                                 64};
    switch (rn(r, 4)) {
    case 0: return rnd(r);
    case 1: return (uint64_t)(int64_t)(int32_t)rnd(r);
    default: return v[rn(r, NELEM(v))];
    }
}

static uint64_t interesting_f(rng *r)
{
    static const uint64_t d[] = {0,
                                 0x8000000000000000ull,
                                 0x3ff0000000000000ull,
                                 0xbff0000000000000ull,
                                 0x7ff0000000000000ull,
                                 0xfff0000000000000ull,
                                 0x7ff8000000000000ull,
                                 0x7ff0000000000001ull,
                                 0x0000000000000001ull,
                                 0x7fefffffffffffffull,
                                 0x0010000000000000ull,
                                 0x43e0000000000000ull, /* 2^63 */
                                 0xc3e0000000000000ull,
                                 0x41dfffffffc00000ull, /* 2^31 - 1 */
                                 0x3fe0000000000000ull,
                                 0x4004000000000000ull};
    static const uint32_t s[] = {0x3f800000, 0x7fc00000, 0x7f800001, 0x00000001,
                                 0x80000000, 0x7f800000, 0xff800000, 0x4f000000,
                                 0xcf000000, 0x3f000000, 0x5f000000, 0x007fffff};
    switch (rn(r, 6)) {
    case 0: return rnd(r);
    case 1:
    case 2: return d[rn(r, NELEM(d))];
    case 3: /* NaN-boxed random single */ return 0xffffffff00000000ull | (uint32_t)rnd(r);
    case 4: /* improperly boxed single */
        return (rnd(r) & 0xffffffff00000000ull) | s[rn(r, NELEM(s))];
    default: return 0xffffffff00000000ull | s[rn(r, NELEM(s))];
    }
}

/* --- assembly ------------------------------------------------------------ */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static void put(buf *b, uint32_t w, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
        b->p[b->len++] = (uint8_t)(w >> (8 * i));
}

/* auipc rd + addi rd: rd = target, emitted at pc. */
static void put_la(buf *b, uint64_t pc, uint64_t target, unsigned rd)
{
    int64_t off = (int64_t)(target - pc);
    int64_t hi = (off + 0x800) >> 12, lo = off - (int64_t)((uint64_t)hi << 12);
    put(b, enc_u((uint32_t)hi, rd, 0x17), 4);
    put(b, enc_i((int)lo, rd, 0, rd, 0x13), 4);
}

#define SV39_ALIAS 0x40000000ull /* VA - PA of the supervisor-only code alias */

static void put_prologue(buf *b, uint64_t handler, uint64_t s_handler, uint64_t stream,
                         unsigned flags)
{
    uint64_t base = RVGEN_CODE_BASE;
    put_la(b, base + b->len, handler, X_GP);
    put(b, 0x30500073 | X_GP << 15 | 1 << 12, 4); /* csrw mtvec, gp */
    put(b, enc_u(6, X_GP, 0x37), 4);              /* lui gp, 6: FS = dirty */
    put(b, 0x30000073 | X_GP << 15 | 2 << 12, 4); /* csrs mstatus, gp */
    put_la(b, base + b->len, RVGEN_DATA_BASE, X_S0);
    for (unsigned i = 1; i < 32; i++)
        if (i != X_SP && i != X_GP && i != X_TP && i != X_S0)
            put(b, enc_i((int)(8 * i), X_S0, 3, i, 0x03), 4); /* ld xi */
    for (unsigned i = 0; i < 32; i++)
        put(b, enc_i((int)(256 + 8 * i), X_S0, 3, i, 0x07), 4); /* fld fi */
    put(b, enc_i(512, X_S0, 3, X_GP, 0x03), 4);                 /* ld gp, 512(s0) */
    put(b, 0x00300073 | X_GP << 15 | 1 << 12, 4);               /* csrw fcsr, gp */
    put_la(b, base + b->len, RVGEN_SCRATCH + 0x800, X_SP);
    put_la(b, base + b->len, RVGEN_SCRATCH + 0x1800, X_S0);
    if (flags & (RVGEN_PRIV_S | RVGEN_PRIV_U)) {
        /* PMP entry 0: NAPOT over everything, RWX (QEMU denies S/U
         * accesses when no PMP entry is set). */
        put(b, enc_i(-1, 0, 0, X_TP, 0x13), 4);        /* li tp, -1 */
        put(b, 0x3b001073 | X_TP << 15, 4);            /* csrw pmpaddr0, tp */
        put(b, enc_i(0x1f, 0, 0, X_TP, 0x13), 4);      /* li tp, 0x1f */
        put(b, 0x3a001073 | X_TP << 15, 4);            /* csrw pmpcfg0, tp */
        put(b, enc_u(2, X_TP, 0x37), 4);               /* lui tp, 2 */
        put(b, enc_i(-0x800, X_TP, 0, X_TP, 0x13), 4); /* tp = 0x1800 */
        put(b, 0x30003073 | X_TP << 15, 4);            /* csrc mstatus, tp: MPP = U */
        if (flags & RVGEN_PRIV_S) {
            put(b, enc_u(1, X_TP, 0x37), 4);               /* lui tp, 1 */
            put(b, enc_i(-0x800, X_TP, 0, X_TP, 0x13), 4); /* tp = 0x800 */
            put(b, 0x30002073 | X_TP << 15, 4);            /* csrs mstatus, tp: MPP = S */
        }
        if (flags & RVGEN_DELEG) {
            put_la(b, base + b->len, RVGEN_DATA_BASE + 520, X_TP);
            put(b, enc_i(0, X_TP, 3, X_TP, 0x03), 4); /* ld tp, 0(tp) */
            put(b, 0x30201073 | X_TP << 15, 4);       /* csrw medeleg, tp */
            uint64_t va = s_handler + ((flags & RVGEN_SV39) ? SV39_ALIAS : 0);
            put_la(b, base + b->len, va, X_TP);
            put(b, 0x10501073 | X_TP << 15, 4); /* csrw stvec, tp */
            put(b, enc_u(0x40, X_TP, 0x37), 4); /* lui tp, 0x40: SUM */
            put(b, 0x30002073 | X_TP << 15, 4); /* csrs mstatus, tp */
        }
        if (flags & RVGEN_SV39) {
            put(b, enc_i(-1, 0, 0, X_TP, 0x13), 4);    /* li tp, -1 */
            put(b, enc_i(63, X_TP, 1, X_TP, 0x13), 4); /* slli tp, tp, 63: mode 8 */
            put_la(b, base + b->len, RVGEN_PT_BASE, X_GP);
            put(b, enc_i(12, X_GP, 5, X_GP, 0x13), 4);      /* srli gp, gp, 12 */
            put(b, enc_r(0, X_GP, X_TP, 6, X_TP, 0x33), 4); /* or tp, tp, gp */
            put(b, 0x18001073 | X_TP << 15, 4);             /* csrw satp, tp */
            put(b, 0x12000073, 4);                          /* sfence.vma */
        }
        put_la(b, base + b->len, stream, X_GP);
        put(b, 0x34101073 | X_GP << 15, 4); /* csrw mepc, gp */
        put(b, enc_i(0, 0, 0, X_GP, 0x13), 4);
        put(b, enc_i(0, 0, 0, X_TP, 0x13), 4);
        put(b, 0x30200073, 4); /* mret */
        return;
    }
    put(b, enc_i(0, 0, 0, X_GP, 0x13), 4);
    put(b, enc_i(0, 0, 0, X_TP, 0x13), 4);
}

/* mepc += length of the instruction at mepc; mret. */
static void put_handler(buf *b)
{
    put(b, 0x34102073 | X_GP << 7, 4);         /* csrr gp, mepc */
    put(b, enc_i(0, X_GP, 5, X_TP, 0x03), 4);  /* lhu tp, 0(gp) */
    put(b, enc_i(3, X_TP, 7, X_TP, 0x13), 4);  /* andi tp, tp, 3 */
    put(b, enc_i(2, X_GP, 0, X_GP, 0x13), 4);  /* addi gp, gp, 2 */
    put(b, enc_i(-3, X_TP, 0, X_TP, 0x13), 4); /* addi tp, tp, -3 */
    put(b, enc_b(8, 0, X_TP, 1), 4);           /* bnez tp, 1f */
    put(b, enc_i(2, X_GP, 0, X_GP, 0x13), 4);  /* addi gp, gp, 2 */
    put(b, 0x34101073 | X_GP << 15, 4);        /* 1: csrw mepc, gp */
    put(b, 0x30200073, 4);                     /* mret */
}

/* The same for an exception delegated to S-mode: sepc, sret. */
static void put_s_handler(buf *b)
{
    put(b, 0x14102073 | X_GP << 7, 4);         /* csrr gp, sepc */
    put(b, enc_i(0, X_GP, 5, X_TP, 0x03), 4);  /* lhu tp, 0(gp) */
    put(b, enc_i(3, X_TP, 7, X_TP, 0x13), 4);  /* andi tp, tp, 3 */
    put(b, enc_i(2, X_GP, 0, X_GP, 0x13), 4);  /* addi gp, gp, 2 */
    put(b, enc_i(-3, X_TP, 0, X_TP, 0x13), 4); /* addi tp, tp, -3 */
    put(b, enc_b(8, 0, X_TP, 1), 4);           /* bnez tp, 1f */
    put(b, enc_i(2, X_GP, 0, X_GP, 0x13), 4);  /* addi gp, gp, 2 */
    put(b, 0x14101073 | X_GP << 15, 4);        /* 1: csrw sepc, gp */
    put(b, 0x10200073, 4);                     /* sret */
}

/* Patches placeholder i (at offset off[i]) to jump forward 1..12 insns. */
static void patch(rng *r, insn *s, const size_t *off, unsigned i, unsigned n)
{
    unsigned span = 1 + rn(r, 12);
    if (i + span > n) span = n - i; /* off[n] is the end of the stream */
    int d = (int)(off[i + span] - off[i]);
    if ((s[i].patch == 4 && d > 254) || (s[i].patch == 3 && d > 2046)) {
        s[i].w = 0x0001; /* c.nop: out of range */
        return;
    }
    uint32_t w = s[i].w;
    switch (s[i].patch) {
    case 1: s[i].w = enc_b(d, (w >> 20) & 31, (w >> 15) & 31, (w >> 12) & 7); break;
    case 2: s[i].w = enc_j(d, (w >> 7) & 31); break;
    case 3: s[i].w = enc_cj(d, 5); break;
    default: s[i].w = enc_cb(d, (w >> 7) & 7, w >> 13); break;
    }
}

int rvgen_build(rvgen_image *out, uint64_t seed, unsigned n, unsigned flags)
{
    memset(out, 0, sizeof *out);
    if (n > RVGEN_MAX_INSNS) n = RVGEN_MAX_INSNS;
    rng r = {seed * 0x2545f4914f6cdd1dull + 1};
    insn *s = calloc(n + 1, sizeof *s);
    size_t *off = calloc(n + 1, sizeof *off);
    buf b = {malloc(4 * (size_t)n + 2048), 0, 0};
    uint8_t *data = calloc(1, 0x4000);
    if (!s || !off || !b.p || !data) {
        free(s);
        free(off);
        free(b.p);
        free(data);
        return MC_ENOMEM;
    }
    size_t pos = 0;
    for (unsigned i = 0; i < n; i++) {
        s[i] = gen_one(&r, flags);
        off[i] = pos;
        pos += s[i].len;
    }
    off[n] = pos;
    for (unsigned i = 0; i < n; i++)
        if (s[i].patch) patch(&r, s, off, i, n);

    if ((flags & (RVGEN_PRIV_S | RVGEN_PRIV_U)) == 0) flags &= ~(RVGEN_SV39 | RVGEN_DELEG);
    put_prologue(&b, 0, 0, 0, flags); /* its length does not depend on the addresses */
    size_t prologue_len = b.len;
    b.len = 0;
    uint64_t stream = RVGEN_CODE_BASE + prologue_len;
    size_t pad = pos % 4; /* the handler's address goes to mtvec: align */
    uint64_t end = stream + pos + pad + 8 * 4;
    put_prologue(&b, end + 4, end + 4 + 9 * 4, stream, flags);
    for (unsigned i = 0; i < n; i++)
        put(&b, s[i].w, s[i].len);
    if (pad) put(&b, 0x0001, 2); /* c.nop */
    for (int i = 0; i < 8; i++)
        put(&b, 0x00000013, 4);
    put(&b, enc_j(0, 0), 4); /* end: j end */
    put_handler(&b);
    put_s_handler(&b);

    for (unsigned i = 0; i < 32; i++)
        memcpy(data + 8 * i, &(uint64_t){interesting_x(&r)}, 8);
    for (unsigned i = 0; i < 32; i++)
        memcpy(data + 256 + 8 * i, &(uint64_t){interesting_f(&r)}, 8);
    uint64_t fcsr = (uint64_t)(rn(&r, 8) ? rn(&r, 5) : rn(&r, 8)) << 5 | rn(&r, 32);
    memcpy(data + 512, &fcsr, 8);
    /* medeleg for RVGEN_DELEG: a random subset of the exceptions a stream
     * can raise (misaligned, illegal, breakpoint, ecall from U/S). */
    uint64_t deleg = (rnd(&r) & 0x3ff) | (rnd(&r) & 0x20c); /* often illegal, ebreak, ecall */
    memcpy(data + 520, &deleg, 8);
    for (unsigned i = 0; i < RVGEN_SCRATCH_SIZE; i += 8) {
        uint64_t v = rn(&r, 2) ? interesting_x(&r) : interesting_f(&r);
        memcpy(data + (RVGEN_SCRATCH - RVGEN_DATA_BASE) + i, &v, 8);
    }
    /* Sv39 root: entry 2 maps VA 0x80000000 to PA 0x80000000, 1 GiB,
     * V R W X A D (and U for a U-mode stream). */
    uint64_t pte = (RVGEN_CODE_BASE >> 12) << 10 | 0xcf | ((flags & RVGEN_PRIV_U) ? 0x10 : 0);
    memcpy(data + (RVGEN_PT_BASE - RVGEN_DATA_BASE) + 2 * 8, &pte, 8);
    pte = (RVGEN_CODE_BASE >> 12) << 10 | 0xcf; /* +1 GiB alias, supervisor only */
    memcpy(data + (RVGEN_PT_BASE - RVGEN_DATA_BASE) + 3 * 8, &pte, 8);
    free(s);
    free(off);
    out->code = b.p;
    out->code_len = b.len;
    out->data = data;
    out->data_len = 0x4000;
    out->entry = RVGEN_CODE_BASE;
    out->stream_start = stream;
    out->end_pc = end;
    out->n_insns = n;
    return MC_OK;
}

void rvgen_free(rvgen_image *img)
{
    free(img->code);
    free(img->data);
    img->code = img->data = NULL;
}

int rvgen_write_elf(const rvgen_image *img, const char *path)
{
    Elf64_Ehdr eh = {0};
    Elf64_Phdr ph[2] = {{0}};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_RISCV;
    eh.e_version = EV_CURRENT;
    eh.e_entry = img->entry;
    eh.e_phoff = sizeof eh;
    eh.e_flags = 0x5; /* RVC, double-float ABI */
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof ph[0];
    eh.e_phnum = 2;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    uint64_t code_off = 0x1000, data_off = code_off + ((img->code_len + 0xfff) & ~0xfffull);
    const uint8_t *seg[2] = {img->code, img->data};
    size_t len[2] = {img->code_len, img->data_len};
    uint64_t addr[2] = {RVGEN_CODE_BASE, RVGEN_DATA_BASE}, off[2] = {code_off, data_off};
    for (int i = 0; i < 2; i++) {
        ph[i].p_type = PT_LOAD;
        ph[i].p_flags = PF_R | PF_W | PF_X;
        ph[i].p_offset = off[i];
        ph[i].p_vaddr = ph[i].p_paddr = addr[i];
        ph[i].p_filesz = ph[i].p_memsz = len[i];
        ph[i].p_align = 0x1000;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return MC_EIO;
    bool ok = fwrite(&eh, sizeof eh, 1, f) == 1 && fwrite(ph, sizeof ph, 1, f) == 1;
    for (int i = 0; i < 2 && ok; i++)
        ok = fseek(f, (long)off[i], SEEK_SET) == 0 && fwrite(seg[i], 1, len[i], f) == len[i];
    if (fclose(f) != 0) ok = false;
    return ok ? MC_OK : MC_EIO;
}
