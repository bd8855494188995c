/*
 * hart_fp.c - F and D instructions other than loads and stores.
 *
 * Arithmetic, conversions, compares, min/max and classification are done by
 * fpu.c on raw bit patterns; this file resolves the rounding mode (dynamic
 * rm = frm; 5 and 6, or frm >= 5 when dynamic, are illegal), NaN-unboxes
 * single-precision operands (a value whose upper 32 bits are not all ones
 * reads as the canonical NaN), NaN-boxes single results, does sign
 * injection and fmv itself, accumulates fflags, and marks mstatus.FS Dirty
 * whenever an f register or fflags is written. FS == Off makes every
 * instruction here illegal.
 */
#include "fpu.h"
#include "hart_int.h"

#define BOX32  0xffffffff00000000ull
#define QNAN32 0x7fc00000u

static uint32_t unbox(uint64_t v)
{
    return (v >> 32) == 0xffffffffu ? (uint32_t)v : QNAN32;
}

static void set_x(hart_t *h, unsigned rd, uint64_t v)
{
    if (rd) h->st.x[rd] = v;
}

static void set_f32(hart_t *h, unsigned rd, uint32_t v)
{
    h->st.f[rd] = BOX32 | v;
}

bool hart_fp_exec(hart_t *h, uint32_t insn)
{
    hart_state *s = &h->st;
    if (!(s->mstatus & MS_FS)) return false;
    unsigned opc = insn & 0x7f, rd = (insn >> 7) & 31, rs1 = (insn >> 15) & 31;
    unsigned rs2 = (insn >> 20) & 31, rs3 = insn >> 27, f5 = insn >> 27;
    unsigned fn3 = (insn >> 12) & 7;
    bool dbl = ((insn >> 25) & 3) == 1;
    unsigned rm = fn3 == 7 ? s->frm : fn3;
    bool rm_ok = rm <= 4;
    uint64_t a = s->f[rs1], b = s->f[rs2], c = s->f[rs3];
    uint32_t a32 = unbox(a), b32 = unbox(b), c32 = unbox(c);
    unsigned fl = 0;
    bool wf = true; /* writes an f register */

    if (opc != 0x53) { /* fused multiply-add family */
        if (!rm_ok) return false;
        static const unsigned fop[4] = {0, FPU_FMA_NEGADD, FPU_FMA_NEGPROD,
                                        FPU_FMA_NEGPROD | FPU_FMA_NEGADD};
        unsigned op = fop[(opc >> 2) & 3];
        if (dbl)
            s->f[rd] = fpu_fma64(a, b, c, op, rm, &fl);
        else
            set_f32(h, rd, fpu_fma32(a32, b32, c32, op, rm, &fl));
        goto done;
    }
    switch (f5) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x03:
        if (!rm_ok) return false;
        if (dbl) {
            uint64_t r = f5 == 0   ? fpu_add64(a, b, rm, &fl)
                         : f5 == 1 ? fpu_sub64(a, b, rm, &fl)
                         : f5 == 2 ? fpu_mul64(a, b, rm, &fl)
                                   : fpu_div64(a, b, rm, &fl);
            s->f[rd] = r;
        } else {
            uint32_t r = f5 == 0   ? fpu_add32(a32, b32, rm, &fl)
                         : f5 == 1 ? fpu_sub32(a32, b32, rm, &fl)
                         : f5 == 2 ? fpu_mul32(a32, b32, rm, &fl)
                                   : fpu_div32(a32, b32, rm, &fl);
            set_f32(h, rd, r);
        }
        break;
    case 0x0b: /* fsqrt */
        if (rs2 || !rm_ok) return false;
        if (dbl)
            s->f[rd] = fpu_sqrt64(a, rm, &fl);
        else
            set_f32(h, rd, fpu_sqrt32(a32, rm, &fl));
        break;
    case 0x04: { /* fsgnj[n|x] */
        if (fn3 > 2) return false;
        if (dbl) {
            uint64_t sign = fn3 == 0 ? b : fn3 == 1 ? ~b : a ^ b;
            s->f[rd] = (a & ~(1ull << 63)) | (sign & (1ull << 63));
        } else {
            uint32_t sign = fn3 == 0 ? b32 : fn3 == 1 ? ~b32 : a32 ^ b32;
            set_f32(h, rd, (a32 & ~(1u << 31)) | (sign & (1u << 31)));
        }
        break;
    }
    case 0x05: /* fmin, fmax */
        if (fn3 > 1) return false;
        if (dbl)
            s->f[rd] = fn3 ? fpu_max64(a, b, &fl) : fpu_min64(a, b, &fl);
        else
            set_f32(h, rd, fn3 ? fpu_max32(a32, b32, &fl) : fpu_min32(a32, b32, &fl));
        break;
    case 0x08: /* fcvt.s.d, fcvt.d.s */
        if (!rm_ok || !(s->ext & HART_EXT_D)) return false;
        if (!dbl && rs2 == 1)
            set_f32(h, rd, fpu_f64_to_f32(a, rm, &fl));
        else if (dbl && rs2 == 0)
            s->f[rd] = fpu_f32_to_f64(a32, &fl);
        else
            return false;
        break;
    case 0x14: { /* feq, flt, fle */
        int r;
        if (fn3 == 2)
            r = dbl ? fpu_eq64(a, b, &fl) : fpu_eq32(a32, b32, &fl);
        else if (fn3 == 1)
            r = dbl ? fpu_lt64(a, b, &fl) : fpu_lt32(a32, b32, &fl);
        else if (fn3 == 0)
            r = dbl ? fpu_le64(a, b, &fl) : fpu_le32(a32, b32, &fl);
        else
            return false;
        set_x(h, rd, (uint64_t)r);
        wf = false;
        break;
    }
    case 0x18: { /* fcvt.{w,wu,l,lu}.{s,d} */
        if (!rm_ok || rs2 > 3) return false;
        uint64_t r;
        if (dbl) {
            r = rs2 == 0   ? (uint64_t)fpu_f64_to_i32(a, rm, &fl)
                : rs2 == 1 ? (uint64_t)fpu_f64_to_u32(a, rm, &fl)
                : rs2 == 2 ? (uint64_t)fpu_f64_to_i64(a, rm, &fl)
                           : fpu_f64_to_u64(a, rm, &fl);
        } else {
            r = rs2 == 0   ? (uint64_t)fpu_f32_to_i32(a32, rm, &fl)
                : rs2 == 1 ? (uint64_t)fpu_f32_to_u32(a32, rm, &fl)
                : rs2 == 2 ? (uint64_t)fpu_f32_to_i64(a32, rm, &fl)
                           : fpu_f32_to_u64(a32, rm, &fl);
        }
        set_x(h, rd, r);
        wf = false;
        break;
    }
    case 0x1a: { /* fcvt.{s,d}.{w,wu,l,lu} */
        if (!rm_ok || rs2 > 3) return false;
        uint64_t x = s->x[rs1];
        if (dbl) {
            s->f[rd] = rs2 == 0   ? fpu_i32_to_f64((int32_t)x, rm, &fl)
                       : rs2 == 1 ? fpu_u32_to_f64((uint32_t)x, rm, &fl)
                       : rs2 == 2 ? fpu_i64_to_f64((int64_t)x, rm, &fl)
                                  : fpu_u64_to_f64(x, rm, &fl);
        } else {
            set_f32(h, rd,
                    rs2 == 0   ? fpu_i32_to_f32((int32_t)x, rm, &fl)
                    : rs2 == 1 ? fpu_u32_to_f32((uint32_t)x, rm, &fl)
                    : rs2 == 2 ? fpu_i64_to_f32((int64_t)x, rm, &fl)
                               : fpu_u64_to_f32(x, rm, &fl));
        }
        break;
    }
    case 0x1c: /* fmv.x.{w,d}, fclass */
        if (rs2) return false;
        if (fn3 == 0)
            set_x(h, rd, dbl ? a : (uint64_t)(int64_t)(int32_t)(uint32_t)a);
        else if (fn3 == 1)
            set_x(h, rd, dbl ? fpu_class64(a) : fpu_class32(a32));
        else
            return false;
        wf = false;
        break;
    case 0x1e: /* fmv.{w,d}.x */
        if (rs2 || fn3) return false;
        if (dbl)
            s->f[rd] = s->x[rs1];
        else
            set_f32(h, rd, (uint32_t)s->x[rs1]);
        break;
    default: return false;
    }
done:
    if (fl) s->fflags |= fl & 31;
    if (wf || fl) hart_fs_dirty(h);
    return true;
}
