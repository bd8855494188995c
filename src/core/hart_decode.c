/*
 * hart_decode.c - RV64GC instruction decoder: 32-bit and 16-bit encodings
 * to a compact dinsn (see hart_int.h).
 *
 * Every pattern either decodes to an operation or to ILLEGAL carrying the
 * instruction bits (mtval, as QEMU reports them). Compressed instructions
 * decode to the *_C twin of their 32-bit expansion (same handler, length 2).
 * Reserved compressed encodings (c.addi4spn imm 0, c.addiw rd 0, c.lui /
 * c.addi16sp imm 0, c.lwsp/c.ldsp rd 0, c.jr rs1 0, quadrant-0 funct3 4,
 * c.subw/c.addw siblings) are illegal; HINTs execute as no-ops. Checks that
 * depend on dynamic state (privilege, FS, TVM/TW/TSR, rounding mode) are
 * made when the instruction executes.
 */
#include "hart_int.h"

static void set(dinsn *d, unsigned op, unsigned rd, unsigned rs1, unsigned rs2, int32_t imm)
{
    d->op = (uint8_t)op;
    d->rd = (uint8_t)(rd ? rd : 32);
    d->rs1 = (uint8_t)rs1;
    d->rs2 = (uint8_t)rs2;
    d->imm = imm;
}

static void illegal(dinsn *d, uint32_t bits)
{
    d->op = OP_ILLEGAL;
    d->rd = 32;
    d->rs1 = d->rs2 = 0;
    d->imm = (int32_t)bits;
}

static bool has(const hart_t *h, uint32_t e)
{
    return (h->st.ext & e) != 0;
}

/* Binary64 operations with a handler of their own in hart_exec.c (the
 * common ones: arithmetic, fmadd family, fcvt.d.l, sign injection, fmv,
 * compares); d already holds OP_FP with the raw bits, which the handlers
 * keep for their slow path (hart_fp_exec). Rounding mode and FS are
 * checked when they execute. */
static void fp_d(dinsn *d, uint32_t insn, unsigned rd, unsigned rs1, unsigned rs2, unsigned f3)
{
    unsigned op = 0;
    bool xrd = false; /* rd is an x register */
    if ((insn & 0x7f) != 0x53) {
        op = OP_FMA_D;
    } else {
        switch (insn >> 25) {
        case 0x01: op = OP_FADD_D; break;
        case 0x05: op = OP_FSUB_D; break;
        case 0x09: op = OP_FMUL_D; break;
        case 0x0d: op = OP_FDIV_D; break;
        case 0x2d: op = rs2 == 0 ? OP_FSQRT_D : 0; break;
        case 0x69: op = rs2 == 2 ? OP_FCVT_D_L : 0; break;
        case 0x11: op = f3 <= 2 ? OP_FSGNJ_D : 0; break;
        case 0x79: op = rs2 == 0 && f3 == 0 ? OP_FMV_D_X : 0; break;
        case 0x71:
            op = rs2 == 0 && f3 == 0 ? OP_FMV_X_D : 0;
            xrd = true;
            break;
        case 0x51:
            op = f3 <= 2 ? OP_FCMP_D : 0;
            xrd = true;
            break;
        default: break;
        }
    }
    if (!op) return;
    d->op = (uint8_t)op;
    d->rd = (uint8_t)(xrd && rd == 0 ? 32 : rd);
    d->rs1 = (uint8_t)rs1;
    d->rs2 = (uint8_t)rs2;
}

/* JAL or a branch at page offset off: near (target in the page, imm in
 * slots) or far */
static void set_jump(dinsn *d, unsigned near, unsigned far, unsigned rd, unsigned rs1, unsigned rs2,
                     int32_t imm, unsigned off, int f3)
{
    int64_t t = (int64_t)off + imm;
    if (t >= 0 && t < BUS_PAGE_SIZE) {
        set(d, near, rd, rs1, rs2, imm / 2);
    } else {
        set(d, far, rd, rs1, rs2, imm);
        if (f3 >= 0) d->rd = (uint8_t)f3;
    }
}

void hart_decode32(const hart_t *h, uint32_t insn, unsigned off, dinsn *d)
{
    unsigned rd = (insn >> 7) & 31, rs1 = (insn >> 15) & 31, rs2 = (insn >> 20) & 31;
    unsigned f3 = (insn >> 12) & 7, f7 = insn >> 25;
    int32_t si = (int32_t)insn;
    int32_t imm_i = si >> 20;
    int32_t imm_s = ((si >> 25) * 32) | (int32_t)((insn >> 7) & 31);
    int32_t imm_b = ((si >> 31) * 4096) | (int32_t)(((insn >> 7) & 1) << 11) |
                    (int32_t)(((insn >> 25) & 63) << 5) | (int32_t)(((insn >> 8) & 15) << 1);
    int32_t imm_u = (int32_t)(insn & 0xfffff000u);
    int32_t imm_j = ((si >> 31) * (1 << 20)) | (int32_t)(((insn >> 12) & 255) << 12) |
                    (int32_t)(((insn >> 20) & 1) << 11) | (int32_t)(((insn >> 21) & 1023) << 1);
    bool C = has(h, HART_EXT_C);
    static const uint8_t loads[8] = {OP_LB, OP_LH, OP_LW, OP_LD, OP_LBU, OP_LHU, OP_LWU, 0};
    static const uint8_t stores[4] = {OP_SB, OP_SH, OP_SW, OP_SD};
    static const uint8_t branches[8] = {OP_BEQ, OP_BNE, 0, 0, OP_BLT, OP_BGE, OP_BLTU, OP_BGEU};
    static const uint8_t opimm[8] = {OP_ADDI, 0, OP_SLTI, OP_SLTIU, OP_XORI, 0, OP_ORI, OP_ANDI};
    static const uint8_t op0[8] = {OP_ADD, OP_SLL, OP_SLT, OP_SLTU, OP_XOR, OP_SRL, OP_OR, OP_AND};
    static const uint8_t opm[8] = {OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU,
                                   OP_DIV, OP_DIVU, OP_REM,    OP_REMU};
    static const uint8_t opm32[8] = {OP_MULW, 0, 0, 0, OP_DIVW, OP_DIVUW, OP_REMW, OP_REMUW};

    switch (insn & 0x7f) {
    case 0x37: set(d, OP_LUI, rd, 0, 0, imm_u); return;
    case 0x17: set(d, OP_AUIPC, rd, 0, 0, imm_u); return;
    case 0x6f:
        if (!C && (imm_j & 2))
            set(d, OP_JMIS, rd, 0, 0, imm_j);
        else
            set_jump(d, OP_JAL, OP_JAL_FAR, rd, 0, 0, imm_j, off, -1);
        return;
    case 0x67:
        if (f3) break;
        set(d, C ? OP_JALR : OP_JALR_A, rd, rs1, 0, imm_i);
        return;
    case 0x63:
        if (!branches[f3]) break;
        if (!C && (imm_b & 2)) {
            set(d, OP_BRMIS, 0, rs1, rs2, imm_b);
            d->rd = (uint8_t)f3;
            return;
        }
        set_jump(d, branches[f3], OP_BRFAR, 0, rs1, rs2, imm_b, off, (int)f3);
        return;
    case 0x03:
        if (!loads[f3]) break;
        set(d, loads[f3], rd, rs1, 0, imm_i);
        return;
    case 0x23:
        if (f3 > 3) break;
        set(d, stores[f3], 0, rs1, rs2, imm_s);
        return;
    case 0x13:
        if (f3 == 1) {
            if (insn >> 26) break;
            set(d, OP_SLLI, rd, rs1, 0, (insn >> 20) & 63);
        } else if (f3 == 5) {
            unsigned f6 = insn >> 26;
            if (f6 != 0 && f6 != 0x10) break;
            set(d, f6 ? OP_SRAI : OP_SRLI, rd, rs1, 0, (insn >> 20) & 63);
        } else {
            set(d, opimm[f3], rd, rs1, 0, imm_i);
        }
        return;
    case 0x1b:
        if (f3 == 0)
            set(d, OP_ADDIW, rd, rs1, 0, imm_i);
        else if (f3 == 1 && f7 == 0)
            set(d, OP_SLLIW, rd, rs1, 0, rs2);
        else if (f3 == 5 && f7 == 0)
            set(d, OP_SRLIW, rd, rs1, 0, rs2);
        else if (f3 == 5 && f7 == 0x20)
            set(d, OP_SRAIW, rd, rs1, 0, rs2);
        else
            break;
        return;
    case 0x33:
        if (f7 == 0)
            set(d, op0[f3], rd, rs1, rs2, 0);
        else if (f7 == 0x20 && f3 == 0)
            set(d, OP_SUB, rd, rs1, rs2, 0);
        else if (f7 == 0x20 && f3 == 5)
            set(d, OP_SRA, rd, rs1, rs2, 0);
        else if (f7 == 1 && has(h, HART_EXT_M))
            set(d, opm[f3], rd, rs1, rs2, 0);
        else
            break;
        return;
    case 0x3b:
        if (f7 == 0 && f3 == 0)
            set(d, OP_ADDW, rd, rs1, rs2, 0);
        else if (f7 == 0 && f3 == 1)
            set(d, OP_SLLW, rd, rs1, rs2, 0);
        else if (f7 == 0 && f3 == 5)
            set(d, OP_SRLW, rd, rs1, rs2, 0);
        else if (f7 == 0x20 && f3 == 0)
            set(d, OP_SUBW, rd, rs1, rs2, 0);
        else if (f7 == 0x20 && f3 == 5)
            set(d, OP_SRAW, rd, rs1, rs2, 0);
        else if (f7 == 1 && opm32[f3] && has(h, HART_EXT_M))
            set(d, opm32[f3], rd, rs1, rs2, 0);
        else
            break;
        return;
    case 0x0f:
        if (f3 == 0)
            set(d, OP_NOP, 0, 0, 0, 0);
        else if (f3 == 1)
            set(d, OP_FENCE_I, 0, 0, 0, 0);
        else
            break;
        return;
    case 0x73:
        if (f3 == 0) {
            if (insn == 0x00000073)
                set(d, OP_ECALL, 0, 0, 0, 0);
            else if (insn == 0x00100073)
                set(d, OP_EBREAK, 0, 0, 0, 0);
            else if (insn == 0x30200073)
                set(d, OP_MRET, 0, 0, 0, 0);
            else if (insn == 0x10200073 && has(h, HART_EXT_S))
                set(d, OP_SRET, 0, 0, 0, 0);
            else if (insn == 0x10500073)
                set(d, OP_WFI, 0, 0, 0, 0);
            else if ((insn & 0xfe007fffu) == 0x12000073u && has(h, HART_EXT_S))
                set(d, OP_SFENCE_VMA, 0, rs1, rs2, 0);
            else
                break;
            return;
        }
        if (f3 == 4) break;
        set(d, f3 < 4 ? OP_CSRRW + f3 - 1 : OP_CSRRWI + f3 - 5, rd, rs1, 0, (int32_t)(insn >> 20));
        return;
    case 0x2f: {
        if (!has(h, HART_EXT_A) || (f3 != 2 && f3 != 3)) break;
        unsigned f5 = insn >> 27;
        bool w = f3 == 2;
        if (f5 == 2) {
            if (rs2) break;
            set(d, w ? OP_LR_W : OP_LR_D, rd, rs1, 0, 0);
        } else if (f5 == 3) {
            set(d, w ? OP_SC_W : OP_SC_D, rd, rs1, rs2, 0);
        } else if (f5 == 0 || f5 == 1 || f5 == 4 || f5 == 8 || f5 == 0xc || f5 == 0x10 ||
                   f5 == 0x14 || f5 == 0x18 || f5 == 0x1c) {
            set(d, w ? OP_AMO_W : OP_AMO_D, rd, rs1, rs2, (int32_t)f5);
        } else {
            break;
        }
        return;
    }
    case 0x07:
        if (f3 == 2 && has(h, HART_EXT_F))
            set(d, OP_FLW, 0, rs1, 0, imm_i);
        else if (f3 == 3 && has(h, HART_EXT_D))
            set(d, OP_FLD, 0, rs1, 0, imm_i);
        else
            break;
        d->rd = (uint8_t)rd; /* an f register: x0 is not special */
        return;
    case 0x27:
        if (f3 == 2 && has(h, HART_EXT_F))
            set(d, OP_FSW, 0, rs1, rs2, imm_s);
        else if (f3 == 3 && has(h, HART_EXT_D))
            set(d, OP_FSD, 0, rs1, rs2, imm_s);
        else
            break;
        return;
    case 0x43:
    case 0x47:
    case 0x4b:
    case 0x4f:
    case 0x53: {
        unsigned fmt = (insn >> 25) & 3;
        if (!has(h, HART_EXT_F) || fmt > 1 || (fmt == 1 && !has(h, HART_EXT_D))) break;
        set(d, OP_FP, 0, 0, 0, (int32_t)insn);
        if (fmt == 1) fp_d(d, insn, rd, rs1, rs2, f3);
        return;
    }
    default: break;
    }
    illegal(d, insn);
}

static int32_t sext(uint32_t v, unsigned bits)
{
    return (int32_t)(v << (32 - bits)) >> (32 - bits);
}

static void decode16(const hart_t *h, uint32_t c, unsigned off, dinsn *d)
{
    if (!has(h, HART_EXT_C)) goto ill;
    unsigned rd = (c >> 7) & 31, rs2 = (c >> 2) & 31;
    unsigned rdp = ((c >> 2) & 7) + 8, rs1p = ((c >> 7) & 7) + 8;
    unsigned b12 = (c >> 12) & 1;
    int32_t imm6 = sext((b12 << 5) | ((c >> 2) & 31), 6);
    uint32_t uimm_d = (((c >> 10) & 7) << 3) | (((c >> 5) & 3) << 6); /* c.ld/c.fld */
    uint32_t uimm_w = (((c >> 10) & 7) << 3) | (((c >> 6) & 1) << 2) | (((c >> 5) & 1) << 6);
    bool D = has(h, HART_EXT_D);
    switch ((c & 3) * 8 + (c >> 13)) {
    case 0: { /* c.addi4spn */
        uint32_t imm = (((c >> 6) & 1) << 2) | (((c >> 5) & 1) << 3) | (((c >> 11) & 3) << 4) |
                       (((c >> 7) & 15) << 6);
        if (!imm) goto ill;
        set(d, OP_ADDI_C, rdp, 2, 0, (int32_t)imm);
        return;
    }
    case 1:
        if (!D) goto ill;
        set(d, OP_FLD_C, 0, rs1p, 0, (int32_t)uimm_d);
        d->rd = (uint8_t)rdp;
        return;
    case 2: set(d, OP_LW_C, rdp, rs1p, 0, (int32_t)uimm_w); return;
    case 3: set(d, OP_LD_C, rdp, rs1p, 0, (int32_t)uimm_d); return;
    case 4: goto ill;
    case 5:
        if (!D) goto ill;
        set(d, OP_FSD_C, 0, rs1p, rdp, (int32_t)uimm_d);
        return;
    case 6: set(d, OP_SW_C, 0, rs1p, rdp, (int32_t)uimm_w); return;
    case 7: set(d, OP_SD_C, 0, rs1p, rdp, (int32_t)uimm_d); return;
    case 8: set(d, OP_ADDI_C, rd, rd, 0, imm6); return; /* c.addi, c.nop, hints */
    case 9:
        if (!rd) goto ill;
        set(d, OP_ADDIW_C, rd, rd, 0, imm6);
        return;
    case 10: set(d, OP_ADDI_C, rd, 0, 0, imm6); return; /* c.li */
    case 11:
        if (rd == 2) { /* c.addi16sp */
            int32_t imm = sext((b12 << 9) | (((c >> 6) & 1) << 4) | (((c >> 5) & 1) << 6) |
                                   (((c >> 3) & 3) << 7) | (((c >> 2) & 1) << 5),
                               10);
            if (!imm) goto ill;
            set(d, OP_ADDI_C, 2, 2, 0, imm);
        } else { /* c.lui */
            int32_t imm = sext((b12 << 17) | (((c >> 2) & 31) << 12), 18);
            if (!imm) goto ill;
            set(d, OP_LUI_C, rd, 0, 0, imm);
        }
        return;
    case 12: {
        unsigned sh = (b12 << 5) | ((c >> 2) & 31);
        switch ((c >> 10) & 3) {
        case 0: set(d, OP_SRLI_C, rs1p, rs1p, 0, (int32_t)sh); return;
        case 1: set(d, OP_SRAI_C, rs1p, rs1p, 0, (int32_t)sh); return;
        case 2: set(d, OP_ANDI_C, rs1p, rs1p, 0, imm6); return;
        default: {
            static const uint8_t ops[8] = {OP_SUB_C,  OP_XOR_C,  OP_OR_C, OP_AND_C,
                                           OP_SUBW_C, OP_ADDW_C, 0,       0};
            unsigned op = ops[(b12 << 2) | ((c >> 5) & 3)];
            if (!op) goto ill;
            set(d, op, rs1p, rs1p, rdp, 0);
            return;
        }
        }
    }
    case 13: { /* c.j */
        uint32_t imm = (b12 << 11) | (((c >> 11) & 1) << 4) | (((c >> 9) & 3) << 8) |
                       (((c >> 8) & 1) << 10) | (((c >> 7) & 1) << 6) | (((c >> 6) & 1) << 7) |
                       (((c >> 3) & 7) << 1) | (((c >> 2) & 1) << 5);
        set_jump(d, OP_JAL_C, OP_JAL_FAR_C, 0, 0, 0, sext(imm, 12), off, -1);
        return;
    }
    case 14:
    case 15: { /* c.beqz, c.bnez */
        uint32_t imm = (b12 << 8) | (((c >> 10) & 3) << 3) | (((c >> 5) & 3) << 6) |
                       (((c >> 3) & 3) << 1) | (((c >> 2) & 1) << 5);
        bool eq = (c >> 13) == 6;
        set_jump(d, eq ? OP_BEQ_C : OP_BNE_C, OP_BRFAR_C, 0, rs1p, 0, sext(imm, 9), off,
                 eq ? 0 : 1);
        return;
    }
    case 16: set(d, OP_SLLI_C, rd, rd, 0, (int32_t)((b12 << 5) | ((c >> 2) & 31))); return;
    case 17: /* c.fldsp */
        if (!D) goto ill;
        set(d, OP_FLD_C, 0, 2, 0,
            (int32_t)((b12 << 5) | (((c >> 5) & 3) << 3) | (((c >> 2) & 7) << 6)));
        d->rd = (uint8_t)rd;
        return;
    case 18: /* c.lwsp */
        if (!rd) goto ill;
        set(d, OP_LW_C, rd, 2, 0,
            (int32_t)((b12 << 5) | (((c >> 4) & 7) << 2) | (((c >> 2) & 3) << 6)));
        return;
    case 19: /* c.ldsp */
        if (!rd) goto ill;
        set(d, OP_LD_C, rd, 2, 0,
            (int32_t)((b12 << 5) | (((c >> 5) & 3) << 3) | (((c >> 2) & 7) << 6)));
        return;
    case 20:
        if (!b12) {
            if (!rs2) {
                if (!rd) goto ill;
                set(d, OP_JALR_C, 0, rd, 0, 0); /* c.jr */
            } else {
                set(d, OP_ADD_C, rd, 0, rs2, 0); /* c.mv */
            }
        } else if (!rs2) {
            if (!rd)
                set(d, OP_EBREAK, 0, 0, 0, 0);
            else
                set(d, OP_JALR_C, 1, rd, 0, 0); /* c.jalr */
        } else {
            set(d, OP_ADD_C, rd, rd, rs2, 0);
        }
        return;
    case 21: /* c.fsdsp */
        if (!D) goto ill;
        set(d, OP_FSD_C, 0, 2, rs2, (int32_t)((((c >> 10) & 7) << 3) | (((c >> 7) & 7) << 6)));
        return;
    case 22:
        set(d, OP_SW_C, 0, 2, rs2, (int32_t)((((c >> 9) & 15) << 2) | (((c >> 7) & 3) << 6)));
        return;
    case 23:
        set(d, OP_SD_C, 0, 2, rs2, (int32_t)((((c >> 10) & 7) << 3) | (((c >> 7) & 7) << 6)));
        return;
    default: break;
    }
ill:
    illegal(d, c);
}

void hart_decode_slot(hart_t *h, dpage *dp, dinsn *d)
{
    unsigned off = (unsigned)(d - dp->ins) * 2;
    uint16_t lo;
    memcpy(&lo, dp->host + off, 2);
    if (dp->flags) *dp->flags |= BUS_PAGE_CODE;
    dp->clean = false;
    if ((lo & 3) != 3) {
        decode16(h, lo, off, d);
    } else if (off == BUS_PAGE_SIZE - 2) {
        d->op = OP_CROSS;
    } else {
        uint32_t insn;
        memcpy(&insn, dp->host + off, 4);
        hart_decode32(h, insn, off, d);
    }
    if (OBS_ON(h->obs) && obs_is_bp(h->obs, dp->pa + off)) d->op = OP_OBSBP;
}
