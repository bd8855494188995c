/*
 * hart_int.h - private definitions of the RV64GC hart (see hart.h).
 *
 * Split: hart.c (public API, traps, interrupts, snapshots), hart_csr.c
 * (CSRs), hart_mmu.c (TLB, page walks, PMP, memory slow paths, decoded-page
 * cache), hart_decode.c (instruction decoder), hart_exec.c (the dispatch
 * loop), hart_fp.c (F/D instructions other than loads and stores).
 *
 * Invariants:
 * - Everything the guest can observe lives in hart_state, a POD struct with
 *   no pointers and no padding (checked with _Static_assert), so a snapshot
 *   is a memcpy. Caches (TLB, decoded pages) live outside it and can be
 *   dropped at any time without changing guest-visible behaviour.
 * - x[0] is never written: a decoded instruction whose rd is x0 writes the
 *   sink x[32] instead.
 * - A decoded page holds one dinsn per 2-byte slot of a 4 KiB physical page
 *   plus two REFETCH sentinels; op 0 (DECODE) means "not decoded yet".
 */
#ifndef MACHINA_HART_INT_H
#define MACHINA_HART_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bus.h"
#include "hart.h"
#include "obs.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define NOINLINE    __attribute__((noinline))

/* mstatus fields */
#define MS_SIE       (1ull << 1)
#define MS_MIE       (1ull << 3)
#define MS_SPIE      (1ull << 5)
#define MS_MPIE      (1ull << 7)
#define MS_SPP       (1ull << 8)
#define MS_MPP_SHIFT 11
#define MS_MPP       (3ull << 11)
#define MS_FS        (3ull << 13)
#define MS_FS_DIRTY  (3ull << 13)
#define MS_MPRV      (1ull << 17)
#define MS_SUM       (1ull << 18)
#define MS_MXR       (1ull << 19)
#define MS_TVM       (1ull << 20)
#define MS_TW        (1ull << 21)
#define MS_TSR       (1ull << 22)
#define MS_UXL       (3ull << 32)
#define MS_SXL       (3ull << 34)
#define MS_SD        (1ull << 63)

/* interrupt bits */
#define IRQ_SSI   1
#define IRQ_MSI   3
#define IRQ_STI   5
#define IRQ_MTI   7
#define IRQ_SEI   9
#define IRQ_MEI   11
#define MIP_SSIP  (1ull << IRQ_SSI)
#define MIP_STIP  (1ull << IRQ_STI)
#define MIP_SEIP  (1ull << IRQ_SEI)
#define MIP_S_ALL (MIP_SSIP | MIP_STIP | MIP_SEIP)

#define MENVCFG_STCE (1ull << 63)
#define CAUSE_IRQ    (1ull << 63)

/* exception causes */
enum {
    EXC_IMIS = 0,
    EXC_IACC = 1,
    EXC_ILL = 2,
    EXC_BRK = 3,
    EXC_LMIS = 4,
    EXC_LACC = 5,
    EXC_SMIS = 6,
    EXC_SACC = 7,
    EXC_UECALL = 8,
    EXC_SECALL = 9,
    EXC_MECALL = 11,
    EXC_IPF = 12,
    EXC_LPF = 13,
    EXC_SPF = 15,
};

/* access kinds for translation and PMP (bit values match PMP R/W/X) */
#define ACC_R 1
#define ACC_W 2
#define ACC_X 4

/* QEMU 7.2.x virt values (marchid = mimpid = its version number) */
#define HART_MARCHID 0x70216u
#define HART_MIMPID  0x70216u

#define HART_STATE_MAGIC 0x4d484152u /* "MHAR" */
#define HART_NPMP        16
#define HART_NHPM        16 /* mhpmcounter3..18 hold values, as QEMU's pmu-num=16 */
#define HART_NTRIG       2
#define HART_PMPC        64 /* PMP page-verdict cache entries (power of 2) */

/*
 * Architectural state. Order: 64-bit fields, then 32-bit (an even count),
 * then bytes (a multiple of 8), so the struct has no padding.
 */
typedef struct hart_state {
    uint64_t x[33]; /* x[32] is the sink for writes to x0 (not architectural) */
    uint64_t f[32];
    uint64_t pc;
    uint64_t steps;
    uint64_t mstatus, misa, medeleg, mideleg, mie, mip_sw;
    uint64_t mtvec, stvec, mepc, sepc, mcause, scause, mtval, stval;
    uint64_t mscratch, sscratch, satp, menvcfg, senvcfg, stimecmp;
    uint64_t vstimecmp; /* QEMU 7.2 has it even without H: plain storage */
    uint64_t mcycle_base, minstret_base; /* offset from steps, or value when inhibited */
    uint64_t mhpmcounter[HART_NHPM], mhpmevent[29]; /* mhpmevent3..31 */
    uint64_t pmpaddr[HART_NPMP];
    uint64_t tdata1[HART_NTRIG], tdata2[HART_NTRIG], tdata3[HART_NTRIG];
    uint64_t res_addr, res_val;
    uint64_t mcounteren, scounteren, mcountinhibit; /* 64 bits kept, as QEMU 7.2 */
    uint32_t magic, ext, hartid, irq_lines;
    uint32_t fflags, frm, pad32[2];
    uint8_t pmpcfg[HART_NPMP];
    uint8_t priv, wfi, res_valid, tselect, pad8[4];
} hart_state;

_Static_assert(sizeof(hart_state) == 8 * (33 + 32 + 2 + 6 + 8 + 6 + 1 + 2 + HART_NHPM + 29 + HART_NPMP +
                                          3 * HART_NTRIG + 2 + 3) +
                                         4 * 8 + HART_NPMP + 8,
               "hart_state must have no padding");

/* ---- decoded instructions ---------------------------------------------- */

#define HART_OPS(X)                                                                                \
    X(DECODE)                                                                                      \
    X(REFETCH) X(CROSS) X(ILLEGAL) X(NOP) X(LUI) X(AUIPC) X(JAL) X(JALR) X(JALR_A) X(JMIS)         \
        X(BRMIS) X(JAL_FAR) X(JAL_FAR_C) X(BRFAR) X(BRFAR_C) X(BEQ) X(BNE) X(BLT) X(BGE) X(BLTU)   \
            X(BGEU) X(LB) X(LH) X(LW) X(LD) X(LBU) X(LHU) X(LWU) X(SB) X(SH) X(SW) X(SD) X(ADDI)   \
                X(SLTI) X(SLTIU) X(XORI) X(ORI) X(ANDI) X(SLLI) X(SRLI) X(SRAI) X(ADD) X(SUB)      \
                    X(SLL) X(SLT) X(SLTU) X(XOR) X(SRL) X(SRA) X(OR) X(AND) X(ADDIW) X(SLLIW)      \
                        X(SRLIW) X(SRAIW) X(ADDW) X(SUBW) X(SLLW) X(SRLW) X(SRAW) X(MUL) X(MULH)   \
                            X(MULHSU) X(MULHU) X(DIV) X(DIVU) X(REM) X(REMU) X(MULW) X(DIVW)       \
                                X(DIVUW) X(REMW) X(REMUW) X(LR_W) X(LR_D) X(SC_W) X(SC_D) X(AMO_W) \
                                    X(AMO_D) X(FLW) X(FLD) X(FSW) X(FSD) X(FP) X(FENCE_I) X(ECALL) \
                                        X(EBREAK) X(MRET) X(SRET) X(WFI) X(SFENCE_VMA) X(CSRRW)    \
                                            X(CSRRS) X(CSRRC) X(CSRRWI) X(CSRRSI) X(CSRRCI)        \
                                                X(ADDI_C) X(ADDIW_C) X(LUI_C) X(SLLI_C) X(SRLI_C)  \
                                                    X(SRAI_C) X(ANDI_C) X(ADD_C) X(SUB_C) X(XOR_C) \
                                                        X(OR_C) X(AND_C) X(ADDW_C) X(SUBW_C)       \
                                                            X(JAL_C) X(JALR_C) X(BEQ_C) X(BNE_C)   \
                                                                X(LW_C) X(LD_C) X(SW_C) X(SD_C)    \
                                                                    X(FLD_C) X(FSD_C) X(OBSBP)     \
                                                                        X(FADD_D) X(FSUB_D)        \
                                                                            X(FMUL_D) X(FDIV_D)    \
                                                                                X(FSQRT_D)         \
                                                                                    X(FCVT_D_L)    \
                                                                                        X(FSGNJ_D) \
                                                                                        X(FMV_D_X) \
                                                                                        X(FMV_X_D) \
                                                                                        X(FCMP_D)  \
                                                                                        X(FMA_D)

#define HART_OP_ENUM(n) OP_##n,
enum hart_op { HART_OPS(HART_OP_ENUM) OP_COUNT };
#undef HART_OP_ENUM

/* One decoded instruction. rd is 32 (the sink) when the encoding names x0.
 * imm: immediate; for JAL and branches whose target lies in the same page
 * (decided at decode time) the distance in slots (imm / 2); CSR number for
 * CSR ops; raw bits for ILLEGAL, FP and the binary64 ops FADD_D..FMA_D
 * (whose rd is the f register, or for FMV_X_D and FCMP_D the x register
 * with x0 as the sink; rs1 an f register except for FCVT_D_L and FMV_D_X;
 * rs3 and funct3 stay in the raw bits); funct5 for AMO. BRMIS and BRFAR
 * keep funct3 in rd. */
typedef struct dinsn {
    uint8_t op, rd, rs1, rs2;
    int32_t imm;
} dinsn;

#define DP_SLOTS 2048 /* 4096 / 2 */

typedef struct dpage {
    dinsn ins[DP_SLOTS + 2]; /* first member: (dpage *)ins works */
    uint64_t pa;             /* page address, or UINT64_MAX when free */
    const uint8_t *host;     /* host bytes of the page (RAM or ROM) */
    uint8_t *flags;          /* bus page flags (RAM) or NULL (ROM) */
    uint32_t gen;            /* hart code_gen when last reset */
    bool clean;              /* no slot decoded since the last reset */
} dpage;

#define DP_HASH 4096 /* decoded-page slots per hart, direct-mapped by pa */

/* ---- software TLB ---------------------------------------------------------- */

#define TLB_SIZE    256 /* exec entries */
/* data entries: 2048 pages (8 MiB) so that a working set of a few MiB
 * (the bench workload's mem phase: 8 MiB at random) stays on the fast path;
 * 256 missed 88% of its accesses there (that phase 1.5 -> 1.2 s CPU,
 * bench/phases.py; flushes clear only the entries filled, see fill[]) */
#define TLB_DSIZE   2048
#define TLB_INVALID UINT64_MAX

typedef struct tlb_r {
    uint64_t page; /* page-aligned va; misaligned addresses never match */
    uintptr_t add; /* host = va + add */
} tlb_r;

typedef struct tlb_w {
    uint64_t page;
    uintptr_t add;
    uint8_t *flags; /* bus page flags: the fast path needs exactly DIRTY */
    uint64_t pa;
} tlb_w;

typedef struct tlb_x {
    uint64_t vpn;
    dpage *dp;
} tlb_x;

_Static_assert(sizeof(tlb_r) == 16 && sizeof(tlb_w) == 32, "TLB index math");
/* entry for va, index (va >> 12) % TLB_DSIZE computed as a byte offset */
#define TLB_R(set, va)                                                                             \
    ((tlb_r *)((char *)(set)->r + (((va) >> 8) & ((uint64_t)(TLB_DSIZE - 1) << 4))))
#define TLB_W(set, va)                                                                             \
    ((tlb_w *)((char *)(set)->w + (((va) >> 7) & ((uint64_t)(TLB_DSIZE - 1) << 5))))
#define PAGE_TAG(va, size) ((va) & (~(uint64_t)(BUS_PAGE_SIZE - 1) | ((size)-1)))

#define TLB_FILL_MAX 256

typedef struct tlbset {
    tlb_r r[TLB_DSIZE];
    tlb_w w[TLB_DSIZE];
    tlb_x x[TLB_SIZE];
    /* data indices filled since the last flush, so that a flush (every
     * satp write and sfence.vma) clears those rather than 2 x 2048 entries;
     * nfill > TLB_FILL_MAX: too many to list, clear them all */
    uint16_t fill[TLB_FILL_MAX];
    unsigned nfill;
} tlbset;

/* Second-level data TLB (slow path only): translations of RAM/ROM pages
 * with a uniform PMP verdict, to refill the first level without a walk.
 * Valid while gen equals the set's generation (a flush bumps it). */
#define TLB2_SIZE 4096
typedef struct tlb2 {
    uint64_t page;  /* va page */
    uint64_t pa;    /* pa page */
    uint8_t *host;  /* host page */
    uint8_t *flags; /* bus flags of a RAM page, else NULL */
    uint32_t gen;
    uint32_t perm; /* ACC_R / ACC_W known to pass (A, D set; PMP) */
} tlb2;

/* TLB sets, by effective privilege of the access */
enum { TS_U = 0, TS_S = 1, TS_SUM = 2, TS_M = 3, TS_COUNT = 4 };

/* events checked after slow-path instructions */
#define EV_IRQ     1u /* re-check interrupts (and refetch) */
#define EV_STOP    2u /* hart_stop() */
#define EV_REFETCH 4u

struct hart {
    hart_state st;
    /* --- not architectural: caches and run bookkeeping --- */
    bus_t *bus;
    uint64_t reset_pc;
    tlbset *dtlb;  /* set for data accesses (priv, MPRV, SUM) */
    tlb_x *xtlb;   /* exec entries of the set for fetches */
    unsigned dset; /* index of dtlb */
    unsigned ev;   /* EV_* */
    bool running;
    uint64_t t0;         /* virtual ns at the start of the current/last run */
    uint64_t run_start;  /* st.steps at the start of that run */
    uint64_t run_budget; /* budget of the current run (0 outside) */
    uint64_t left;       /* steps left, synced before slow paths */
    uint64_t exc_cause, exc_tval;
    uint32_t code_gen;
    uint8_t pmp_active;         /* number of PMP entries that match something */
    uint8_t pmp_any;            /* some entry has A != OFF (then S/U need a match) */
    uint8_t tlb_used;           /* bit per TLB set filled since its last flush */
    uint8_t pmp_idx[HART_NPMP]; /* those entries, in priority order */
    uint64_t pmp_lo[HART_NPMP]; /* and their ranges [lo, last] */
    uint64_t pmp_last[HART_NPMP];
    /* PMP verdicts of whole pages (pmp_page: 1 pass, 0 fail, -1 mixed) by
     * page, access kind and privilege; cleared by hart_pmp_changed. key 0
     * is empty (a valid key has bit 0 set) */
    uint64_t pmpc_key[HART_PMPC];
    int8_t pmpc_v[HART_PMPC];
    /* one RAM region remembered for walks and TLB fills */
    uint64_t ram_base, ram_size;
    uint8_t *ram_host;
    uint8_t *ram_flags; /* its page flags when they are contiguous, else NULL */
    tlb2 *tlb2;         /* TS_COUNT * TLB2_SIZE */
    uint32_t tlb2_gen[TS_COUNT];
    dpage *xpage; /* scratch page for an instruction crossing pages */
    dpage *dp[DP_HASH];
    tlbset tlb[TS_COUNT];
    obs_t *obs; /* observation hooks (obs.h), NULL when nothing listens */
};

/* hart.c */
void hart_take_trap(hart_t *h, uint64_t cause, uint64_t tval, uint64_t epc);
int hart_irq_pending(hart_t *h); /* highest-priority takeable irq, or -1 */
uint64_t hart_mip(hart_t *h);
uint64_t hart_time(const hart_t *h);
uint64_t hart_steps_now(const hart_t *h);
bool hart_mret(hart_t *h);
bool hart_sret(hart_t *h);

/* hart_csr.c */
/* Executes a CSR instruction (op is OP_CSRRW..OP_CSRRCI); false when illegal. */
bool hart_csr_insn(hart_t *h, unsigned op, unsigned csr, unsigned rs1, unsigned rd);
int hart_csr_read(hart_t *h, unsigned csr, unsigned priv, uint64_t *val);
void hart_csr_reset(hart_t *h);

/* hart_mmu.c */
void hart_mode_changed(hart_t *h);
void hart_tlb_flush(hart_t *h);
/* flushes the translated sets only (satp writes, sfence.vma): M is bare */
void hart_tlb_flush_vm(hart_t *h);
void hart_fence_i(hart_t *h);
bool hart_load_slow(hart_t *h, uint64_t va, unsigned size, uint64_t *val);
bool hart_store_slow(hart_t *h, uint64_t va, unsigned size, uint64_t val);
dpage *hart_fetch_page(hart_t *h, uint64_t pc);
bool hart_fetch16(hart_t *h, uint64_t va, uint16_t *out);
uint32_t hart_insn_bits(hart_t *h, uint64_t pc);
bool hart_lr(hart_t *h, uint64_t va, unsigned size, uint64_t *val);
bool hart_sc(hart_t *h, uint64_t va, unsigned size, uint64_t val, uint64_t *rd);
bool hart_amo(hart_t *h, unsigned funct5, uint64_t va, unsigned size, uint64_t src, uint64_t *rd);
void hart_pmp_changed(hart_t *h);
void hart_caches_free(hart_t *h);
int hart_caches_init(hart_t *h);

/* hart_decode.c */
void hart_decode_slot(hart_t *h, dpage *dp, dinsn *d);
/* off: the instruction's offset in its page (near/far branches) */
void hart_decode32(const hart_t *h, uint32_t insn, unsigned off, dinsn *d);

/* hart_fp.c: executes an OP-FP or fused multiply-add instruction; false
 * when it is illegal (FS off, bad rounding mode, unknown encoding). */
bool hart_fp_exec(hart_t *h, uint32_t insn);

/* obs.c: a breakpoint slot (OP_OBSBP) of dp was reached: reports it and
 * returns a trampoline page whose same slot holds the original instruction. */
dinsn *obs_hart_bp(hart_t *h, dpage *dp, unsigned slot);

/* hart_exec.c: runs up to left (> 0) steps; returns the steps left. */
uint64_t hart_exec(hart_t *h, uint64_t left);

static inline void hart_fs_dirty(hart_t *h)
{
    h->st.mstatus |= MS_FS_DIRTY | MS_SD;
}

#endif
