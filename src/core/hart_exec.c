/*
 * hart_exec.c - the dispatch loop: one function, computed goto, written with
 * Lua-style vmdispatch/vmcase/vmbreak macros.
 *
 * Loop state: d points at the current decoded instruction inside the
 * decoded page base[] mapped at virtual page vbase; pc is never kept in a
 * register but derived as vbase + 2 * (d - base), computed as pck + d / 4
 * from the one register pck (see PC_OF). left counts the steps
 * still allowed: every instruction decrements it once after it retires, and
 * an exception or interrupt counts one step too, so hart_run's budget is
 * exact. Falling off the page lands on a REFETCH sentinel, which translates
 * the next page without counting a step.
 *
 * Fast paths (ALU, branches inside the page, TLB-hit loads/stores) touch only
 * registers and the TLB. Everything else calls a noinline helper after
 * SYNC() has stored pc and left in the hart; helpers report guest faults in
 * h->exc_cause/exc_tval (goto exception) and request interrupt re-checks or
 * a stop through h->ev, looked at only after such slow instructions.
 *
 * Measured with bench/hart_loop.c (gcc 12 -O2, x86-64): an ALU handler is
 * 10 host instructions including dispatch; the integer loop averages 10.8
 * host instructions per guest instruction (callgrind) and ~800 MIPS; a
 * load/store loop 16.8 and ~620 MIPS. Branches and JAL whose target is in
 * the same page are resolved at decode time (d += imm), which took taken
 * branches from 21 to 12 host instructions.
 */
#include "fpu.h"
#include "hart_int.h"

#define vmdispatch() goto *disp[d->op]
#define vmcase(n)    L_##n:
/* pck = vbase - addr(base) / 4, so that pc = pck + addr(d) / 4 (a dinsn is
 * 8 bytes per 2-byte slot): one register for both the page's virtual
 * address and its decoded page, which leaves the data TLB set pointer a
 * callee-saved register of its own on x86-64 */
#define PC_OF(x)     (pck + ((uint64_t)(uintptr_t)(x) >> 2))
#define PCK_OF(vb, b) ((vb) - ((uint64_t)(uintptr_t)(b) >> 2))
#define BASE_OF(x)   ((x) - ((PC_OF(x) & (BUS_PAGE_SIZE - 1)) >> 1))
#define SYNC()                                                                                     \
    do {                                                                                           \
        h->left = left;                                                                            \
        h->st.pc = PC_OF(d);                                                                       \
    } while (0)
/* retire and go on: L is the instruction length */
#define STEP()                                                                                     \
    do {                                                                                           \
        if (unlikely(--left == 0)) goto out;                                                       \
        vmdispatch();                                                                              \
    } while (0)
#define vmbreak(L)                                                                                 \
    do {                                                                                           \
        d += (L) >> 1;                                                                             \
        STEP();                                                                                    \
    } while (0)
/* retire after a slow path that may have raised an event */
#define vmbreak_ev(L)                                                                              \
    do {                                                                                           \
        d += (L) >> 1;                                                                             \
        --left;                                                                                    \
        if (unlikely(h->ev)) goto event;                                                           \
        if (unlikely(left == 0)) goto out;                                                         \
        vmdispatch();                                                                              \
    } while (0)
#define EXC(c, t)                                                                                  \
    do {                                                                                           \
        h->exc_cause = (c);                                                                        \
        h->exc_tval = (t);                                                                         \
        goto exception;                                                                            \
    } while (0)

#define R      h->st.x
#define F      h->st.f
#define IMM    ((int64_t)d->imm)
#define S32(v) ((uint64_t)(int64_t)(int32_t)(v))

/* both lengths of an operation with a compressed twin */
#define CASE2(NAME, BODY) vmcase(NAME) BODY(4) vmcase(NAME##_C) BODY(2)

#define ALU_IMM(NAME, EXPR)                                                                        \
    vmcase(NAME)                                                                                   \
    {                                                                                              \
        R[d->rd] = (EXPR);                                                                         \
        vmbreak(4);                                                                                \
    }

#define LOAD(NAME, T, SZ, L)                                                                       \
    vmcase(NAME)                                                                                   \
    {                                                                                              \
        uint64_t a = R[d->rs1] + IMM;                                                              \
        const tlb_r *e = TLB_R(dt, a);                                                             \
        if (likely(e->page == PAGE_TAG(a, SZ))) {                                                  \
            T v;                                                                                   \
            memcpy(&v, (const void *)(uintptr_t)(a + e->add), SZ);                                 \
            R[d->rd] = (uint64_t)v;                                                                \
            vmbreak(L);                                                                            \
        }                                                                                          \
        uint64_t v;                                                                                \
        SYNC();                                                                                    \
        if (!hart_load_slow(h, a, SZ, &v)) goto exception;                                         \
        R[d->rd] = (uint64_t)(T)v;                                                                 \
        vmbreak_ev(L);                                                                             \
    }

#define STORE(NAME, T, SZ, L, VAL)                                                                 \
    vmcase(NAME)                                                                                   \
    {                                                                                              \
        uint64_t a = R[d->rs1] + IMM;                                                              \
        const tlb_w *e = TLB_W(dt, a);                                                             \
        if (likely(e->page == PAGE_TAG(a, SZ) && *e->flags == BUS_PAGE_DIRTY)) {                   \
            T v = (T)(VAL);                                                                        \
            memcpy((void *)(uintptr_t)(a + e->add), &v, SZ);                                       \
            vmbreak(L);                                                                            \
        }                                                                                          \
        SYNC();                                                                                    \
        if (!hart_store_slow(h, a, SZ, (VAL))) goto exception;                                     \
        vmbreak_ev(L);                                                                             \
    }

/* a taken branch whose target the decoder found in the same page */
#define BR(NAME, COND)                                                                             \
    vmcase(NAME)                                                                                   \
    {                                                                                              \
        if (COND) {                                                                                \
            d += d->imm;                                                                           \
            STEP();                                                                                \
        }                                                                                          \
        vmbreak(4);                                                                                \
    }

#define B_ADDI(L)                                                                                  \
    {                                                                                              \
        R[d->rd] = R[d->rs1] + IMM;                                                                \
        vmbreak(L);                                                                                \
    }
#define B_ADDIW(L)                                                                                 \
    {                                                                                              \
        R[d->rd] = S32(R[d->rs1] + IMM);                                                           \
        vmbreak(L);                                                                                \
    }
#define B_LUI(L)                                                                                   \
    {                                                                                              \
        R[d->rd] = (uint64_t)IMM;                                                                  \
        vmbreak(L);                                                                                \
    }
#define B_SLLI(L)                                                                                  \
    {                                                                                              \
        R[d->rd] = R[d->rs1] << d->imm;                                                            \
        vmbreak(L);                                                                                \
    }
#define B_SRLI(L)                                                                                  \
    {                                                                                              \
        R[d->rd] = R[d->rs1] >> d->imm;                                                            \
        vmbreak(L);                                                                                \
    }
#define B_SRAI(L)                                                                                  \
    {                                                                                              \
        R[d->rd] = (uint64_t)((int64_t)R[d->rs1] >> d->imm);                                       \
        vmbreak(L);                                                                                \
    }
#define B_ANDI(L)                                                                                  \
    {                                                                                              \
        R[d->rd] = R[d->rs1] & (uint64_t)IMM;                                                      \
        vmbreak(L);                                                                                \
    }
#define B_ADD(L)                                                                                   \
    {                                                                                              \
        R[d->rd] = R[d->rs1] + R[d->rs2];                                                          \
        vmbreak(L);                                                                                \
    }
#define B_SUB(L)                                                                                   \
    {                                                                                              \
        R[d->rd] = R[d->rs1] - R[d->rs2];                                                          \
        vmbreak(L);                                                                                \
    }
#define B_XOR(L)                                                                                   \
    {                                                                                              \
        R[d->rd] = R[d->rs1] ^ R[d->rs2];                                                          \
        vmbreak(L);                                                                                \
    }
#define B_OR(L)                                                                                    \
    {                                                                                              \
        R[d->rd] = R[d->rs1] | R[d->rs2];                                                          \
        vmbreak(L);                                                                                \
    }
#define B_AND(L)                                                                                   \
    {                                                                                              \
        R[d->rd] = R[d->rs1] & R[d->rs2];                                                          \
        vmbreak(L);                                                                                \
    }
#define B_ADDW(L)                                                                                  \
    {                                                                                              \
        R[d->rd] = S32(R[d->rs1] + R[d->rs2]);                                                     \
        vmbreak(L);                                                                                \
    }
#define B_SUBW(L)                                                                                  \
    {                                                                                              \
        R[d->rd] = S32(R[d->rs1] - R[d->rs2]);                                                     \
        vmbreak(L);                                                                                \
    }
#define B_BEQ(L)                                                                                   \
    {                                                                                              \
        if (R[d->rs1] == R[d->rs2]) {                                                              \
            d += d->imm;                                                                           \
            STEP();                                                                                \
        }                                                                                          \
        vmbreak(L);                                                                                \
    }
#define B_BNE(L)                                                                                   \
    {                                                                                              \
        if (R[d->rs1] != R[d->rs2]) {                                                              \
            d += d->imm;                                                                           \
            STEP();                                                                                \
        }                                                                                          \
        vmbreak(L);                                                                                \
    }
#define B_JAL(L)                                                                                   \
    {                                                                                              \
        R[d->rd] = PC_OF(d) + (L);                                                                 \
        d += d->imm;                                                                               \
        STEP();                                                                                    \
    }
#define B_JAL_FAR(L)                                                                               \
    {                                                                                              \
        uint64_t pc_ = PC_OF(d);                                                                   \
        R[d->rd] = pc_ + (L);                                                                      \
        h->st.pc = pc_ + (uint64_t)IMM;                                                            \
        goto jump_far;                                                                             \
    }
#define B_BRFAR(L)                                                                                 \
    {                                                                                              \
        if (br_cond(d->rd, R[d->rs1], R[d->rs2])) {                                                \
            h->st.pc = PC_OF(d) + (uint64_t)IMM;                                                   \
            goto jump_far;                                                                         \
        }                                                                                          \
        vmbreak(L);                                                                                \
    }
#define B_JALR(L)                                                                                  \
    {                                                                                              \
        uint64_t t = (R[d->rs1] + IMM) & ~1ull;                                                    \
        R[d->rd] = PC_OF(d) + (L);                                                                 \
        if (likely(((t ^ PC_OF(d)) >> 12) == 0)) {                                                 \
            d = (dinsn *)(uintptr_t)((t - pck) << 2);                                              \
            STEP();                                                                                \
        }                                                                                          \
        h->st.pc = t;                                                                              \
        goto jump_far;                                                                             \
    }

static inline bool fs_off(const hart_t *h)
{
    return !(h->st.mstatus & MS_FS);
}

static inline bool br_cond(unsigned f3, uint64_t a, uint64_t b)
{
    switch (f3) {
    case 0: return a == b;
    case 1: return a != b;
    case 4: return (int64_t)a < (int64_t)b;
    case 5: return (int64_t)a >= (int64_t)b;
    case 6: return a < b;
    default: return a >= b;
    }
}

uint64_t hart_exec(hart_t *h, uint64_t left)
{
#define HART_LABEL(n) [OP_##n] = &&L_##n,
    static const void *const disp[OP_COUNT] = {HART_OPS(HART_LABEL)};
#undef HART_LABEL
    dinsn *d = NULL;
    uint64_t pck = 0;
    tlbset *dt = h->dtlb;

refetch : {
    uint64_t pc = h->st.pc;
    const tlb_x *e = &h->xtlb[(pc >> 12) & (TLB_SIZE - 1)];
    dpage *dp;
    if (likely(e->vpn == (pc >> 12))) {
        dp = e->dp;
    } else {
        h->left = left;
        dp = hart_fetch_page(h, pc);
        if (unlikely(!dp)) {
            hart_take_trap(h, h->exc_cause, h->exc_tval, pc);
            if (--left == 0) goto out_pcset;
            goto refetch;
        }
    }
    pck = PCK_OF(pc & ~(uint64_t)(BUS_PAGE_SIZE - 1), dp->ins);
    d = dp->ins + ((pc & (BUS_PAGE_SIZE - 1)) >> 1);
    dt = h->dtlb;
    vmdispatch();
}

    /* ---- cache management ---- */
    vmcase(DECODE)
    {
        hart_decode_slot(h, (dpage *)BASE_OF(d), d);
        vmdispatch();
    }
    vmcase(REFETCH)
    {
        h->st.pc = PC_OF(d);
        goto refetch;
    }
    vmcase(OBSBP) /* an observation breakpoint (obs.h): the hook, then the instruction */
    {
        dinsn *base = BASE_OF(d);
        unsigned slot = (unsigned)(d - base);
        uint64_t vb = PC_OF(base);
        SYNC();
        base = obs_hart_bp(h, (dpage *)base, slot);
        pck = PCK_OF(vb, base);
        d = base + slot;
        vmdispatch();
    }
    vmcase(CROSS)
    {
        uint16_t lo, hi;
        memcpy(&lo, ((dpage *)BASE_OF(d))->host + (BUS_PAGE_SIZE - 2), 2);
        SYNC();
        if (!hart_fetch16(h, PC_OF(d) + 2, &hi)) goto exception;
        dinsn *x = &h->xpage->ins[DP_SLOTS - 1];
        hart_decode32(h, lo | ((uint32_t)hi << 16), BUS_PAGE_SIZE - 2, x);
        pck = PCK_OF(PC_OF(d) & ~(uint64_t)(BUS_PAGE_SIZE - 1), h->xpage->ins);
        d = x;
        vmdispatch();
    }
    vmcase(ILLEGAL)
    {
        EXC(EXC_ILL, (uint32_t)d->imm);
    }
    vmcase(NOP)
    {
        vmbreak(4);
    }

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
    ALU_IMM(MULHSU,
            (uint64_t)(((__int128)(int64_t)R[d->rs1] * (__int128)(uint64_t)R[d->rs2]) >> 64))
    ALU_IMM(MULHU, (uint64_t)(((unsigned __int128)R[d->rs1] * R[d->rs2]) >> 64))
    ALU_IMM(MULW, S32((uint32_t)R[d->rs1] * (uint32_t)R[d->rs2]))
    vmcase(DIV)
    {
        int64_t a = (int64_t)R[d->rs1], b = (int64_t)R[d->rs2];
        R[d->rd] = b == 0                        ? UINT64_MAX
                   : (a == INT64_MIN && b == -1) ? (uint64_t)a
                                                 : (uint64_t)(a / b);
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

    /* ---- A ---- */
    vmcase(LR_W)
    {
        uint64_t v;
        SYNC();
        if (!hart_lr(h, R[d->rs1], 4, &v)) goto exception;
        R[d->rd] = v;
        vmbreak_ev(4);
    }
    vmcase(LR_D)
    {
        uint64_t v;
        SYNC();
        if (!hart_lr(h, R[d->rs1], 8, &v)) goto exception;
        R[d->rd] = v;
        vmbreak_ev(4);
    }
    vmcase(SC_W)
    {
        uint64_t v;
        SYNC();
        if (!hart_sc(h, R[d->rs1], 4, R[d->rs2], &v)) goto exception;
        R[d->rd] = v;
        vmbreak_ev(4);
    }
    vmcase(SC_D)
    {
        uint64_t v;
        SYNC();
        if (!hart_sc(h, R[d->rs1], 8, R[d->rs2], &v)) goto exception;
        R[d->rd] = v;
        vmbreak_ev(4);
    }
    vmcase(AMO_W)
    {
        uint64_t v;
        SYNC();
        if (!hart_amo(h, (unsigned)d->imm, R[d->rs1], 4, R[d->rs2], &v)) goto exception;
        R[d->rd] = v;
        vmbreak_ev(4);
    }
    vmcase(AMO_D)
    {
        uint64_t v;
        SYNC();
        if (!hart_amo(h, (unsigned)d->imm, R[d->rs1], 8, R[d->rs2], &v)) goto exception;
        R[d->rd] = v;
        vmbreak_ev(4);
    }

    /* ---- F/D loads and stores (arithmetic in hart_fp.c) ---- */
#define FLOAD(NAME, SZ, L, BOX)                                                                    \
    vmcase(NAME)                                                                                   \
    {                                                                                              \
        if (unlikely(fs_off(h))) goto illegal;                                                     \
        uint64_t a = R[d->rs1] + IMM, v;                                                           \
        const tlb_r *e = TLB_R(dt, a);                                                             \
        if (likely(e->page == PAGE_TAG(a, SZ))) {                                                  \
            v = 0;                                                                                 \
            memcpy(&v, (const void *)(uintptr_t)(a + e->add), SZ);                                 \
        } else {                                                                                   \
            SYNC();                                                                                \
            if (!hart_load_slow(h, a, SZ, &v)) goto exception;                                     \
        }                                                                                          \
        F[d->rd] = (BOX) | v;                                                                      \
        hart_fs_dirty(h);                                                                          \
        vmbreak_ev(L);                                                                             \
    }
    FLOAD(FLW, 4, 4, 0xffffffff00000000ull)
    FLOAD(FLD, 8, 4, 0)
    FLOAD(FLD_C, 8, 2, 0)
    /* FS is checked before the store macro runs */
    vmcase(FSW)
    {
        if (unlikely(fs_off(h))) goto illegal;
        goto L_FSW_body;
    }
    vmcase(FSD)
    {
        if (unlikely(fs_off(h))) goto illegal;
        goto L_FSD_body;
    }
    vmcase(FSD_C)
    {
        if (unlikely(fs_off(h))) goto illegal;
        goto L_FSD_C_body;
    }
    STORE(FSW_body, uint32_t, 4, 4, F[d->rs2])
    STORE(FSD_body, uint64_t, 8, 4, F[d->rs2])
    STORE(FSD_C_body, uint64_t, 8, 2, F[d->rs2])
    /* binary64 operations decoded to their own handlers (hart_decode.c
     * fp_d): straight to fpu.c, whose host fast paths do the arithmetic;
     * FS off, a bad rounding mode or anything unusual goes to fp_slow
     * (hart_fp_exec, which also does every other F/D instruction) */
#define FP_RM(rm)                                                                                  \
    unsigned rm = ((uint32_t)d->imm >> 12) & 7;                                                    \
    if (rm == 7) rm = h->st.frm;                                                                   \
    if (unlikely(!(h->st.mstatus & MS_FS) || rm > FPU_RMM)) goto fp_slow
#define FP_FS()                                                                                    \
    if (unlikely(!(h->st.mstatus & MS_FS))) goto fp_slow
#define FP_DONE(fl)                                                                                \
    do {                                                                                           \
        h->st.fflags |= (fl);                                                                      \
        h->st.mstatus |= MS_FS_DIRTY | MS_SD;                                                      \
        vmbreak(4);                                                                                \
    } while (0)
#define FP_BIN(NAME, FN)                                                                           \
    vmcase(NAME)                                                                                   \
    {                                                                                              \
        FP_RM(rm);                                                                                 \
        unsigned fl = 0;                                                                           \
        F[d->rd] = FN(F[d->rs1], F[d->rs2], rm, &fl);                                              \
        FP_DONE(fl);                                                                               \
    }
    FP_BIN(FADD_D, fpu_add64)
    FP_BIN(FSUB_D, fpu_sub64)
    FP_BIN(FMUL_D, fpu_mul64)
    FP_BIN(FDIV_D, fpu_div64)
    vmcase(FSQRT_D)
    {
        FP_RM(rm);
        unsigned fl = 0;
        F[d->rd] = fpu_sqrt64(F[d->rs1], rm, &fl);
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
        F[d->rd] = fpu_fma64(F[d->rs1], F[d->rs2], F[insn >> 27], fop[(insn >> 2) & 3], rm, &fl);
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
    vmcase(FP)
    fp_slow:
    {
        SYNC();
        if (!hart_fp_exec(h, (uint32_t)d->imm)) goto illegal;
        vmbreak(4);
    }

    /* ---- system ---- */
    vmcase(FENCE_I)
    {
        hart_fence_i(h);
        h->st.pc = PC_OF(d) + 4;
        goto jump_far;
    }
    vmcase(ECALL)
    {
        static const uint8_t ecall_cause[4] = {EXC_UECALL, EXC_SECALL, EXC_ILL, EXC_MECALL};
        EXC(ecall_cause[h->st.priv & 3], 0);
    }
    vmcase(EBREAK)
    {
        EXC(EXC_BRK, 0);
    } /* QEMU 7.2 leaves mtval 0 */
    vmcase(MRET)
    {
        h->left = left; /* exact instants for the xRET hook (obs.h) */
        if (!hart_mret(h)) goto illegal;
        --left;
        h->ev |= EV_IRQ;
        goto event_pcset;
    }
    vmcase(SRET)
    {
        h->left = left; /* exact instants for the xRET hook (obs.h) */
        if (!hart_sret(h)) goto illegal;
        --left;
        h->ev |= EV_IRQ;
        goto event_pcset;
    }
    vmcase(WFI)
    {
        hart_state *s = &h->st;
        bool S = (s->ext & HART_EXT_S) != 0;
        if ((s->priv == HART_PRIV_S && (s->mstatus & MS_TW)) ||
            (s->priv == HART_PRIV_U && (S || (s->mstatus & MS_TW))))
            goto illegal;
        SYNC();
        h->st.pc = PC_OF(d) + 4;
        --left;
        if (hart_mip(h) & s->mie) { /* wakes at once: a no-op */
            h->ev |= EV_IRQ;
            goto event_pcset;
        }
        s->wfi = 1;
        goto out_pcset;
    }
    vmcase(SFENCE_VMA)
    {
        const hart_state *s = &h->st;
        if (s->priv == HART_PRIV_U || (s->priv == HART_PRIV_S && (s->mstatus & MS_TVM)))
            goto illegal;
        hart_tlb_flush_vm(h);
        h->st.pc = PC_OF(d) + 4;
        goto jump_far;
    }
#define CSR_CASE(NAME)                                                                             \
    vmcase(NAME)                                                                                   \
    {                                                                                              \
        SYNC();                                                                                    \
        if (!hart_csr_insn(h, OP_##NAME, (unsigned)d->imm & 0xfff, d->rs1, d->rd)) goto illegal;   \
        vmbreak_ev(4);                                                                             \
    }
    vmcase(CSRRW)
    {
        /* fsflags (csrrw rd, fflags, rs1): restores the flags after a
         * quiet comparison in the same loops */
        if ((d->imm & 0xfff) == 0x001 && (h->st.mstatus & MS_FS) && (h->st.ext & HART_EXT_F)) {
            uint64_t old = h->st.fflags;
            h->st.fflags = (uint32_t)R[d->rs1] & 31;
            hart_fs_dirty(h);
            R[d->rd] = old;
            vmbreak(4);
        }
        SYNC();
        if (!hart_csr_insn(h, OP_CSRRW, (unsigned)d->imm & 0xfff, d->rs1, d->rd)) goto illegal;
        vmbreak_ev(4);
    }
    vmcase(CSRRS)
    {
        /* frflags (csrrs rd, fflags, x0): a read only, in every loop that
         * keeps the flags around a quiet comparison */
        if ((d->imm & 0xfff) == 0x001 && d->rs1 == 0 && (h->st.mstatus & MS_FS) &&
            (h->st.ext & HART_EXT_F)) {
            R[d->rd] = h->st.fflags;
            vmbreak(4);
        }
        SYNC();
        if (!hart_csr_insn(h, OP_CSRRS, (unsigned)d->imm & 0xfff, d->rs1, d->rd)) goto illegal;
        vmbreak_ev(4);
    }
    CSR_CASE(CSRRC)
    CSR_CASE(CSRRWI)
    CSR_CASE(CSRRSI)
    CSR_CASE(CSRRCI)

    /* ---- exits and slow transitions ---- */
jump_far:
    if (unlikely(--left == 0)) goto out_pcset;
    goto refetch;

illegal:
    SYNC();
    h->exc_cause = EXC_ILL;
    h->exc_tval = hart_insn_bits(h, PC_OF(d));
    /* fall through */
exception:
    h->left = left; /* exact instants for the trap hook (obs.h) */
    hart_take_trap(h, h->exc_cause, h->exc_tval, PC_OF(d));
    if (--left == 0) goto out_pcset;
    goto refetch;

event:
    h->st.pc = PC_OF(d);
event_pcset : {
    unsigned ev = h->ev;
    h->ev = 0;
    if ((ev & EV_IRQ) && left) {
        h->left = left;
        int irq = hart_irq_pending(h);
        if (irq >= 0) {
            hart_take_trap(h, CAUSE_IRQ | (uint64_t)irq, 0, h->st.pc);
            --left;
        }
    }
    if ((ev & EV_STOP) || left == 0) goto out_pcset;
    goto refetch;
}

out: /* left is 0 here: keeping it out of this path helps register allocation */
    h->st.pc = PC_OF(d);
    h->left = 0;
    return 0;
out_pcset:
    h->left = left;
    return left;
}
