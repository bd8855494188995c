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
 * the next page without counting a step. The simple handlers
 * (hart_exec_ops.h) exist twice, and a handler table is chosen at every
 * refetch: the fast copy skips the budget test on straight-line
 * instructions while plenty of steps are left (see STEP_X).
 *
 * Fast paths (ALU, branches inside the page, TLB-hit loads/stores) touch only
 * registers and the TLB. Everything else calls a noinline helper after
 * SYNC() has stored pc and left in the hart; helpers report guest faults in
 * h->exc_cause/exc_tval (goto exception) and request interrupt re-checks or
 * a stop through h->ev, looked at only after such slow instructions.
 *
 * Measured with bench/hart_loop.c (gcc 12 -O2, x86-64): an ALU handler is
 * 9 host instructions including dispatch in the fast copy; the integer
 * loop averages 10.0 host instructions per guest instruction (callgrind;
 * 10.8 with the budget test on every instruction), the fp loop 45 (73 when
 * every F/D instruction went through one OP_FP handler that decoded its
 * bits). Branches and JAL whose target is in the same page are resolved
 * at decode time (d += imm), which took taken branches from 21 to 12 host
 * instructions. Keeping vbase and base in one register (pck) let gcc keep
 * the data TLB pointer dt in a callee-saved register (it had spilled it to
 * the stack once the F/D handlers were added: +2% on a boot).
 */
#include "fpu_int.h"
#include "hart_int.h"

#define vmdispatch() goto *disp[d->op]
#define vmcase(n)    L_##n : LF_##n:
/* pck = vbase - addr(base) / 4, so that pc = pck + addr(d) / 4 (a dinsn is
 * 8 bytes per 2-byte slot): one register for both the page's virtual
 * address and its decoded page, which leaves the data TLB set pointer a
 * callee-saved register of its own on x86-64 */
#define PC_OF(x)      (pck + ((uint64_t)(uintptr_t)(x) >> 2))
#define PCK_OF(vb, b) ((vb) - ((uint64_t)(uintptr_t)(b) >> 2))
#define BASE_OF(x)    ((x) - ((PC_OF(x) & (BUS_PAGE_SIZE - 1)) >> 1))
#define SYNC()                                                                                     \
    do {                                                                                           \
        h->left = left;                                                                            \
        h->st.pc = PC_OF(d);                                                                       \
    } while (0)
/*
 * Retire and go on. The exact copy of a handler checks the budget after
 * every instruction (STEP_X). The fast copy (dispatch table disp_f), used
 * while more than FAST_MIN steps are left, checks it only on taken
 * branches and jumps (STEP_FT), which then fall back to the exact copy
 * near the end: a straight run between two checks stays in one page and
 * retires at most DP_SLOTS + 1 instructions (the +1: one crossing into the
 * next page), and every other way out of a run (REFETCH, jump_far,
 * events, traps) goes through refetch, which chooses the table again. So
 * left never reaches 0 unnoticed and budgets stay exact.
 */
#define FAST_MIN (DP_SLOTS + 8)
#define STEP_X()                                                                                   \
    do {                                                                                           \
        if (unlikely(--left == 0)) goto out;                                                       \
        vmdispatch();                                                                              \
    } while (0)
#define STEP_F()                                                                                   \
    do {                                                                                           \
        --left;                                                                                    \
        vmdispatch();                                                                              \
    } while (0)
#define STEP_FT()                                                                                  \
    do {                                                                                           \
        if (unlikely(--left <= FAST_MIN)) goto fast_end;                                           \
        vmdispatch();                                                                              \
    } while (0)
/* outside hart_exec_ops.h every handler has one copy, labelled twice */
#define STEP()       STEP_X()
#define STEP_TAKEN() STEP_X()
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
            STEP_TAKEN();                                                                          \
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
            STEP_TAKEN();                                                                          \
        }                                                                                          \
        vmbreak(L);                                                                                \
    }
#define B_BNE(L)                                                                                   \
    {                                                                                              \
        if (R[d->rs1] != R[d->rs2]) {                                                              \
            d += d->imm;                                                                           \
            STEP_TAKEN();                                                                          \
        }                                                                                          \
        vmbreak(L);                                                                                \
    }
#define B_JAL(L)                                                                                   \
    {                                                                                              \
        R[d->rd] = PC_OF(d) + (L);                                                                 \
        d += d->imm;                                                                               \
        STEP_TAKEN();                                                                              \
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
            STEP_TAKEN();                                                                          \
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
/* HOST: fpu_int.h's inline fast path in RNE, else FN (fpu.c) */
#define FP_BIN(NAME, HOST, FN, NEG)                                                                \
    vmcase(NAME)                                                                                   \
    {                                                                                              \
        FP_RM(rm);                                                                                 \
        unsigned fl = 0;                                                                           \
        uint64_t r, a = F[d->rs1], b = F[d->rs2];                                                  \
        if (!(rm == FPU_RNE && HOST(a, b ^ (NEG), &r, &fl))) r = FN(a, b, rm, &fl);                \
        F[d->rd] = r;                                                                              \
        FP_DONE(fl);                                                                               \
    }

uint64_t hart_exec(hart_t *h, uint64_t left)
{
#define HART_LABEL(n)  [OP_##n] = &&L_##n,
#define HART_LABELF(n) [OP_##n] = &&LF_##n,
    static const void *const disp_x[OP_COUNT] = {HART_OPS(HART_LABEL)};
    static const void *const disp_f[OP_COUNT] = {HART_OPS(HART_LABELF)};
#undef HART_LABEL
#undef HART_LABELF
    const void *const *disp = disp_x;
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
    disp = left > FAST_MIN ? disp_f : disp_x;
    vmdispatch();
}
fast_end: /* a taken branch of the fast copy left FAST_MIN or fewer steps */
    if (left == 0) goto out;
    disp = disp_x;
    vmdispatch();

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

    /* ---- RV64I, M and common D: twice, exact (L_*) and fast (LF_*) ---- */
#undef vmcase
#undef STEP
#undef STEP_TAKEN
#define vmcase(n)    L_##n:
#define STEP()       STEP_X()
#define STEP_TAKEN() STEP_X()
#include "hart_exec_ops.h"
#undef vmcase
#undef STEP
#undef STEP_TAKEN
#define vmcase(n)    LF_##n:
#define STEP()       STEP_F()
#define STEP_TAKEN() STEP_FT()
#include "hart_exec_ops.h"
#undef vmcase
#undef STEP
#undef STEP_TAKEN
#define vmcase(n)    L_##n : LF_##n:
#define STEP()       STEP_X()
#define STEP_TAKEN() STEP_X()

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
#undef vmcase
#define vmcase(n) L_##n: /* not operations: no fast-table label */
    STORE(FSW_body, uint32_t, 4, 4, F[d->rs2])
    STORE(FSD_body, uint64_t, 8, 4, F[d->rs2])
    STORE(FSD_C_body, uint64_t, 8, 2, F[d->rs2])
#undef vmcase
#define vmcase(n) L_##n : LF_##n:
    /* binary64 operations with handlers of their own: hart_exec_ops.h */
    vmcase(FP) fp_slow:
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
