/*
 * hart_exec_ops.h - the simple handlers of the dispatch loop (RV64I and M:
 * ALU, branches and jumps, TLB-hit loads and stores; the common binary64
 * operations), included twice inside hart_exec() (hart_exec.c): once as
 * the exact copy (labels L_*, every retired instruction checks the budget)
 * and once as the fast copy (labels LF_*, only taken branches and jumps
 * check it). No include guard, on purpose. The including code defines
 * vmcase, STEP and STEP_TAKEN.
 */
/* ---- RV64I ---- */
vmcase(AUIPC)
{
    R[d->rd] = PC_OF(d) + (uint64_t)IMM;
    vmbreak(4);
}
vmcase(JALR_A)
{
    uint64_t t = (R[d->rs1] + IMM) & ~1ull;
    if (t & 2) EXC(EXC_IMIS, t);
    B_JALR(4)
}
vmcase(JMIS)
{
    EXC(EXC_IMIS, PC_OF(d) + (uint64_t)IMM);
}
vmcase(BRMIS)
{
    if (br_cond(d->rd, R[d->rs1], R[d->rs2])) EXC(EXC_IMIS, PC_OF(d) + (uint64_t)IMM);
    vmbreak(4);
}
CASE2(JAL_FAR, B_JAL_FAR)
CASE2(BRFAR, B_BRFAR)
BR(BLT, (int64_t)R[d->rs1] < (int64_t)R[d->rs2])
BR(BGE, (int64_t)R[d->rs1] >= (int64_t)R[d->rs2])
BR(BLTU, R[d->rs1] < R[d->rs2])
BR(BGEU, R[d->rs1] >= R[d->rs2])
CASE2(BEQ, B_BEQ)
CASE2(BNE, B_BNE)
CASE2(JAL, B_JAL)
CASE2(JALR, B_JALR)

LOAD(LB, int8_t, 1, 4)
LOAD(LH, int16_t, 2, 4)
LOAD(LW, int32_t, 4, 4)
LOAD(LD, uint64_t, 8, 4)
LOAD(LBU, uint8_t, 1, 4)
LOAD(LHU, uint16_t, 2, 4)
LOAD(LWU, uint32_t, 4, 4)
LOAD(LW_C, int32_t, 4, 2)
LOAD(LD_C, uint64_t, 8, 2)
STORE(SB, uint8_t, 1, 4, R[d->rs2])
STORE(SH, uint16_t, 2, 4, R[d->rs2])
STORE(SW, uint32_t, 4, 4, R[d->rs2])
STORE(SD, uint64_t, 8, 4, R[d->rs2])
STORE(SW_C, uint32_t, 4, 2, R[d->rs2])
STORE(SD_C, uint64_t, 8, 2, R[d->rs2])

CASE2(ADDI, B_ADDI)
CASE2(ADDIW, B_ADDIW)
CASE2(LUI, B_LUI)
CASE2(SLLI, B_SLLI)
CASE2(SRLI, B_SRLI)
CASE2(SRAI, B_SRAI)
CASE2(ANDI, B_ANDI)
CASE2(ADD, B_ADD)
CASE2(SUB, B_SUB)
CASE2(XOR, B_XOR)
CASE2(OR, B_OR)
CASE2(AND, B_AND)
CASE2(ADDW, B_ADDW)
CASE2(SUBW, B_SUBW)
ALU_IMM(SLTI, (int64_t)R[d->rs1] < IMM)
ALU_IMM(SLTIU, R[d->rs1] < (uint64_t)IMM)
ALU_IMM(XORI, R[d->rs1] ^ (uint64_t)IMM)
ALU_IMM(ORI, R[d->rs1] | (uint64_t)IMM)
ALU_IMM(SLL, R[d->rs1] << (R[d->rs2] & 63))
ALU_IMM(SLT, (int64_t)R[d->rs1] < (int64_t)R[d->rs2])
ALU_IMM(SLTU, R[d->rs1] < R[d->rs2])
ALU_IMM(SRL, R[d->rs1] >> (R[d->rs2] & 63))
ALU_IMM(SRA, (uint64_t)((int64_t)R[d->rs1] >> (R[d->rs2] & 63)))
ALU_IMM(SLLIW, S32((uint32_t)R[d->rs1] << d->imm))
ALU_IMM(SRLIW, S32((uint32_t)R[d->rs1] >> d->imm))
ALU_IMM(SRAIW, S32((int32_t)R[d->rs1] >> d->imm))
ALU_IMM(SLLW, S32((uint32_t)R[d->rs1] << (R[d->rs2] & 31)))
ALU_IMM(SRLW, S32((uint32_t)R[d->rs1] >> (R[d->rs2] & 31)))
ALU_IMM(SRAW, S32((int32_t)R[d->rs1] >> (R[d->rs2] & 31)))

/* ---- M ---- */
ALU_IMM(MUL, R[d->rs1] * R[d->rs2])
ALU_IMM(MULH, (uint64_t)(((__int128)(int64_t)R[d->rs1] * (int64_t)R[d->rs2]) >> 64))
ALU_IMM(MULHSU, (uint64_t)(((__int128)(int64_t)R[d->rs1] * (__int128)(uint64_t)R[d->rs2]) >> 64))
ALU_IMM(MULHU, (uint64_t)(((unsigned __int128)R[d->rs1] * R[d->rs2]) >> 64))
ALU_IMM(MULW, S32((uint32_t)R[d->rs1] * (uint32_t)R[d->rs2]))
vmcase(DIV)
{
    int64_t a = (int64_t)R[d->rs1], b = (int64_t)R[d->rs2];
    R[d->rd] = b == 0 ? UINT64_MAX : (a == INT64_MIN && b == -1) ? (uint64_t)a : (uint64_t)(a / b);
    vmbreak(4);
}
vmcase(DIVU)
{
    uint64_t a = R[d->rs1], b = R[d->rs2];
    R[d->rd] = b == 0 ? UINT64_MAX : a / b;
    vmbreak(4);
}
vmcase(REM)
{
    int64_t a = (int64_t)R[d->rs1], b = (int64_t)R[d->rs2];
    R[d->rd] = b == 0 ? (uint64_t)a : (a == INT64_MIN && b == -1) ? 0 : (uint64_t)(a % b);
    vmbreak(4);
}
vmcase(REMU)
{
    uint64_t a = R[d->rs1], b = R[d->rs2];
    R[d->rd] = b == 0 ? a : a % b;
    vmbreak(4);
}
vmcase(DIVW)
{
    int32_t a = (int32_t)R[d->rs1], b = (int32_t)R[d->rs2];
    R[d->rd] = b == 0 ? UINT64_MAX : (a == INT32_MIN && b == -1) ? S32(a) : S32(a / b);
    vmbreak(4);
}
vmcase(DIVUW)
{
    uint32_t a = (uint32_t)R[d->rs1], b = (uint32_t)R[d->rs2];
    R[d->rd] = b == 0 ? UINT64_MAX : S32(a / b);
    vmbreak(4);
}
vmcase(REMW)
{
    int32_t a = (int32_t)R[d->rs1], b = (int32_t)R[d->rs2];
    R[d->rd] = b == 0 ? S32(a) : (a == INT32_MIN && b == -1) ? 0 : S32(a % b);
    vmbreak(4);
}
vmcase(REMUW)
{
    uint32_t a = (uint32_t)R[d->rs1], b = (uint32_t)R[d->rs2];
    R[d->rd] = b == 0 ? S32(a) : S32(a % b);
    vmbreak(4);
}

/* ---- D: the common binary64 operations (FP_* in hart_exec.c) ---- */
FP_BIN(FADD_D, host_add64, fpu_add64, 0)
FP_BIN(FSUB_D, host_add64, fpu_sub64, 1ull << 63)
FP_BIN(FMUL_D, host_mul64, fpu_mul64, 0)
FP_BIN(FDIV_D, host_div64, fpu_div64, 0)
vmcase(FSQRT_D)
{
    FP_RM(rm);
    unsigned fl = 0;
    uint64_t r, a = F[d->rs1];
    if (!(rm == FPU_RNE && host_sqrt64(a, &r, &fl))) r = fpu_sqrt64(a, rm, &fl);
    F[d->rd] = r;
    FP_DONE(fl);
}
vmcase(FCVT_D_L)
{
    FP_RM(rm);
    unsigned fl = 0;
    F[d->rd] = fpu_i64_to_f64((int64_t)R[d->rs1], rm, &fl);
    FP_DONE(fl);
}
vmcase(FMA_D) /* fmadd.d, fmsub.d, fnmsub.d, fnmadd.d */
{
    static const unsigned fop[4] = {0, FPU_FMA_NEGADD, FPU_FMA_NEGPROD,
                                    FPU_FMA_NEGPROD | FPU_FMA_NEGADD};
    FP_RM(rm);
    uint32_t insn = (uint32_t)d->imm;
    unsigned fl = 0;
    unsigned o = fop[(insn >> 2) & 3];
    uint64_t r, a = F[d->rs1], b = F[d->rs2], c = F[insn >> 27];
    if (!(rm == FPU_RNE && host_fma64(a ^ ((uint64_t)(o & FPU_FMA_NEGPROD) << 63), b,
                                      c ^ ((uint64_t)(o & FPU_FMA_NEGADD) << 62), &r, &fl)))
        r = fpu_fma64(a, b, c, o, rm, &fl);
    F[d->rd] = r;
    FP_DONE(fl);
}
vmcase(FSGNJ_D) /* fsgnj.d, fsgnjn.d, fsgnjx.d (funct3 0, 1, 2) */
{
    FP_FS();
    unsigned f3 = ((uint32_t)d->imm >> 12) & 7;
    uint64_t a = F[d->rs1], b = F[d->rs2];
    uint64_t sg = f3 == 0 ? b : f3 == 1 ? ~b : a ^ b;
    F[d->rd] = (a & ~(1ull << 63)) | (sg & (1ull << 63));
    FP_DONE(0);
}
vmcase(FMV_D_X)
{
    FP_FS();
    F[d->rd] = R[d->rs1];
    FP_DONE(0);
}
vmcase(FMV_X_D) /* writes an x register, no f state */
{
    FP_FS();
    R[d->rd] = F[d->rs1];
    vmbreak(4);
}
vmcase(FCMP_D) /* fle.d, flt.d, feq.d (funct3 0, 1, 2): an x register */
{
    FP_FS();
    unsigned f3 = ((uint32_t)d->imm >> 12) & 7, fl = 0;
    uint64_t a = F[d->rs1], b = F[d->rs2];
    int c = f3 == 0 ? fpu_le64(a, b, &fl) : f3 == 1 ? fpu_lt64(a, b, &fl) : fpu_eq64(a, b, &fl);
    R[d->rd] = (uint64_t)c;
    if (fl) {
        h->st.fflags |= fl;
        h->st.mstatus |= MS_FS_DIRTY | MS_SD;
    }
    vmbreak(4);
}
