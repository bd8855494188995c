/*
 * hart_csr.c - the hart's control and status registers.
 *
 * Implements the CSRs that OpenSBI 1.1 and Linux 6.1 use, with the WARL
 * choices of QEMU 7.2's virt machine (checked against qemu-system-riscv64
 * 7.2 -cpu rv64,h=false): misa is read-only; mideleg 0x2666, mie 0x2eee
 * and mip 0x2666 are writable (QEMU keeps the VS and LCOFI bits even
 * without H; they are plain storage, but pending+enabled they trap like
 * QEMU does); medeleg's writable mask is 0xf0bfff; software can set
 * SEIP (ORed with the PLIC line) and STIP (only while menvcfg.STCE is
 * clear: with Sstc on, STIP is time >= stimecmp); mtvec/stvec writes
 * with MODE >= 2 are ignored; satp writes with an unsupported MODE are
 * ignored entirely; 16 PMP entries (pmpcfg0/2, pmpaddr0..15; the other
 * PMP CSRs are illegal, as in QEMU 7.2), pmpaddr keeps all 64 bits
 * written (QEMU 7.2 does not mask them to the 54 bits of a 56-bit physical
 * address; the upper bits never match a physical address), G=0;
 * mhpmcounter3..18 hold what is written but never count and
 * (m)hpmcounter19..31 are illegal (QEMU's pmu-num=16); mhpmevent3..31 hold
 * what is written; two debug triggers whose registers hold values
 * but never fire; mseccfg does not exist (QEMU 7.2 without ePMP).
 * mepc/sepc keep bit 0 as QEMU 7.2 does (xRET ignores it).
 * mcycle and minstret both count steps (see hart.h), stopped by
 * mcountinhibit.CY / .IR.
 *
 * A CSR access raises illegal instruction when the CSR does not exist, the
 * privilege is too low, a read-only CSR is written, the counter enables
 * deny it, FS is Off for fflags/frm/fcsr, or TVM forbids satp.
 */
#include "hart_int.h"

#define SSTATUS_READ (MS_SIE | MS_SPIE | MS_SPP | MS_FS | MS_SUM | MS_MXR | MS_UXL | MS_SD)
#define MEDELEG_MASK 0xf0bfffull
#define MENVCFG_MASK 0xf1ull
#define SENVCFG_MASK 0xf1ull
/* QEMU 7.2 (even with h=false) keeps the VS and LCOFI bits writable */
#define MIE_MASK     0x2eeeull
#define MIDELEG_MASK 0x2666ull
#define MIP_SW_MASK  0x2666ull
#define S_VIEW       0x2222ull /* bits visible in sie/sip */
#define SIP_SW_MASK  0x2002ull

enum { CSR_FFLAGS = 0x001, CSR_FRM = 0x002, CSR_FCSR = 0x003 };

static bool has(const hart_t *h, uint32_t ext)
{
    return (h->st.ext & ext) != 0;
}

void hart_csr_reset(hart_t *h)
{
    hart_state *s = &h->st;
    for (unsigned i = 0; i < HART_NTRIG; i++)
        s->tdata1[i] = 2ull << 60;
}

static bool ctr_ok(const hart_t *h, unsigned idx, unsigned priv)
{
    if (priv == HART_PRIV_M) return true;
    if (!((h->st.mcounteren >> idx) & 1)) return false;
    if (priv == HART_PRIV_U && has(h, HART_EXT_S) && !((h->st.scounteren >> idx) & 1)) return false;
    return true;
}

static uint64_t counter(const hart_t *h, unsigned which /* 0 cycle, 2 instret */)
{
    uint64_t base = which == 0 ? h->st.mcycle_base : h->st.minstret_base;
    if ((h->st.mcountinhibit >> which) & 1) return base;
    return hart_steps_now(h) + base;
}

static void set_counter(hart_t *h, unsigned which, uint64_t v)
{
    uint64_t *base = which == 0 ? &h->st.mcycle_base : &h->st.minstret_base;
    if ((h->st.mcountinhibit >> which) & 1)
        *base = v;
    else
        *base = v - hart_steps_now(h);
}

static bool stce(const hart_t *h)
{
    return has(h, HART_EXT_SSTC) && (h->st.menvcfg & MENVCFG_STCE);
}

static uint64_t mstatus_read(const hart_t *h)
{
    uint64_t ms = h->st.mstatus & ~MS_SD;
    if ((ms & MS_FS) == MS_FS) ms |= MS_SD;
    return ms;
}

/* QEMU 7.2 keeps every bit written to mepc/sepc and returns it; xRET
 * ignores bit 0 (and bit 1 without C). Mirrored for difftest equality. */
static uint64_t epc_read(const hart_t *h, uint64_t v)
{
    (void)h;
    return v;
}

static uint64_t pmp_addr_read(const hart_t *h, unsigned i)
{
    return i < HART_NPMP ? h->st.pmpaddr[i] : 0;
}

int hart_csr_read(hart_t *h, unsigned csr, unsigned priv, uint64_t *val)
{
    const hart_state *s = &h->st;
    if (priv < ((csr >> 8) & 3)) return -1;
    bool S = has(h, HART_EXT_S);
    uint64_t v;
    switch (csr) {
    case CSR_FFLAGS:
    case CSR_FRM:
    case CSR_FCSR:
        if (!has(h, HART_EXT_F) || !(s->mstatus & MS_FS)) return -1;
        v = csr == CSR_FFLAGS ? s->fflags : csr == CSR_FRM ? s->frm : (s->frm << 5) | s->fflags;
        break;
    case 0xc00: /* cycle */
    case 0xc02: /* instret */
        if (!ctr_ok(h, csr & 31, priv)) return -1;
        v = counter(h, csr & 31);
        break;
    case 0xc01: /* time */
        if (!ctr_ok(h, 1, priv)) return -1;
        v = hart_time(h);
        break;
    case 0x100: /* sstatus */
        if (!S) return -1;
        v = mstatus_read(h) & SSTATUS_READ;
        break;
    case 0x104: /* sie */
        if (!S) return -1;
        v = s->mie & s->mideleg & S_VIEW;
        break;
    case 0x105:
        v = s->stvec;
        if (!S) return -1;
        break;
    case 0x106:
        v = s->scounteren;
        if (!S) return -1;
        break;
    case 0x10a:
        v = s->senvcfg;
        if (!S) return -1;
        break;
    case 0x140:
        v = s->sscratch;
        if (!S) return -1;
        break;
    case 0x141:
        v = epc_read(h, s->sepc);
        if (!S) return -1;
        break;
    case 0x142:
        v = s->scause;
        if (!S) return -1;
        break;
    case 0x143:
        v = s->stval;
        if (!S) return -1;
        break;
    case 0x144: /* sip */
        if (!S) return -1;
        v = hart_mip(h) & s->mideleg & S_VIEW;
        break;
    case 0x14d: /* stimecmp */
        if (!S || !has(h, HART_EXT_SSTC)) return -1;
        if (priv < HART_PRIV_M && !((s->mcounteren & 2) && (s->menvcfg & MENVCFG_STCE))) return -1;
        v = s->stimecmp;
        break;
    case 0x24d: /* vstimecmp: M-only here (HS-level CSR number) */
        if (!S || !has(h, HART_EXT_SSTC)) return -1;
        v = s->vstimecmp;
        break;
    case 0x180: /* satp */
        if (!S) return -1;
        if (priv == HART_PRIV_S && (s->mstatus & MS_TVM)) return -1;
        v = s->satp;
        break;
    case 0x300: v = mstatus_read(h); break;
    case 0x301: v = s->misa; break;
    case 0x302:
        v = s->medeleg;
        if (!S) return -1;
        break;
    case 0x303:
        v = s->mideleg;
        if (!S) return -1;
        break;
    case 0x304: v = s->mie; break;
    case 0x305: v = s->mtvec; break;
    case 0x306:
        v = s->mcounteren;
        if (!has(h, HART_EXT_U)) return -1;
        break;
    case 0x30a:
        v = s->menvcfg;
        if (!has(h, HART_EXT_U)) return -1;
        break;
    case 0x320: v = s->mcountinhibit; break;
    case 0x340: v = s->mscratch; break;
    case 0x341: v = epc_read(h, s->mepc); break;
    case 0x342: v = s->mcause; break;
    case 0x343: v = s->mtval; break;
    case 0x344: v = hart_mip(h); break;
    case 0x7a0: v = s->tselect; break;
    case 0x7a1: v = s->tdata1[s->tselect]; break;
    case 0x7a2: v = s->tdata2[s->tselect]; break;
    case 0x7a3: v = s->tdata3[s->tselect]; break;
    case 0x7a4: v = (1u << 2) | (1u << 6); break; /* tinfo: mcontrol, mcontrol6 */
    case 0xb00: v = counter(h, 0); break;
    case 0xb02: v = counter(h, 2); break;
    case 0xf11: v = 0; break; /* mvendorid */
    case 0xf12: v = HART_MARCHID; break;
    case 0xf13: v = HART_MIMPID; break;
    case 0xf14: v = s->hartid; break;
    case 0xf15: v = 0; break; /* mconfigptr */
    default:
        if (csr >= 0xc03 && csr <= 0xc1f) { /* hpmcounterN */
            unsigned i = (csr & 31) - 3;
            if (i >= HART_NHPM || !ctr_ok(h, csr & 31, priv)) return -1;
            v = s->mhpmcounter[i];
        } else if (csr >= 0xb03 && csr <= 0xb1f) {
            unsigned i = (csr & 31) - 3;
            if (i >= HART_NHPM) return -1;
            v = s->mhpmcounter[i];
        } else if (csr >= 0x323 && csr <= 0x33f) {
            v = s->mhpmevent[(csr & 31) - 3];
        } else if (csr >= 0x3a0 && csr < 0x3a0 + HART_NPMP / 4) {
            if (csr & 1) return -1;
            unsigned first = (csr - 0x3a0) * 4;
            v = 0;
            for (unsigned k = 0; k < 8; k++)
                if (first + k < HART_NPMP) v |= (uint64_t)s->pmpcfg[first + k] << (8 * k);
        } else if (csr >= 0x3b0 && csr < 0x3b0 + HART_NPMP) {
            v = pmp_addr_read(h, csr - 0x3b0);
        } else {
            return -1;
        }
    }
    *val = v;
    return 0;
}

static void mstatus_write(hart_t *h, uint64_t val, uint64_t mask)
{
    hart_state *s = &h->st;
    uint64_t old = s->mstatus;
    uint64_t nw = (old & ~mask) | (val & mask);
    if (mask & MS_MPP) {
        unsigned mpp = (unsigned)((nw & MS_MPP) >> MS_MPP_SHIFT);
        bool ok = mpp == HART_PRIV_M || (mpp == HART_PRIV_S && has(h, HART_EXT_S)) ||
                  (mpp == HART_PRIV_U && has(h, HART_EXT_U));
        if (!ok) nw = (nw & ~MS_MPP) | (old & MS_MPP);
    }
    nw &= ~MS_SD;
    if ((nw & MS_FS) == MS_FS) nw |= MS_SD;
    s->mstatus = nw;
    if ((old ^ nw) & MS_MXR) hart_tlb_flush(h);
    if ((old ^ nw) & (MS_SUM | MS_MPRV | MS_MPP)) hart_mode_changed(h);
}

static uint64_t mstatus_mask(const hart_t *h)
{
    uint64_t m = MS_MIE | MS_MPIE | MS_MPP;
    if (has(h, HART_EXT_U)) m |= MS_MPRV | MS_TW;
    if (has(h, HART_EXT_S)) m |= MS_SIE | MS_SPIE | MS_SPP | MS_SUM | MS_MXR | MS_TVM | MS_TSR;
    if (has(h, HART_EXT_F)) m |= MS_FS;
    return m;
}

static void tvec_write(uint64_t *reg, uint64_t val)
{
    if ((val & 3) < 2) *reg = val;
}

static void pmpcfg_write(hart_t *h, unsigned csr, uint64_t val)
{
    unsigned first = (csr - 0x3a0) * 4;
    for (unsigned k = 0; k < 8 && first + k < HART_NPMP; k++) {
        uint8_t *c = &h->st.pmpcfg[first + k];
        if (*c & 0x80) continue; /* locked */
        *c = (uint8_t)((val >> (8 * k)) & 0x9f);
    }
    hart_pmp_changed(h);
}

static void pmpaddr_write(hart_t *h, unsigned i, uint64_t val)
{
    if (i >= HART_NPMP) return;
    const uint8_t *c = h->st.pmpcfg;
    if (c[i] & 0x80) return;
    if (i + 1 < HART_NPMP && (c[i + 1] & 0x80) && ((c[i + 1] >> 3) & 3) == 1) return;
    h->st.pmpaddr[i] = val; /* all 64 bits, as QEMU 7.2 */
    hart_pmp_changed(h);
}

static void mcountinhibit_write(hart_t *h, uint64_t val)
{
    hart_state *s = &h->st;
    uint64_t nw = val;
    for (unsigned w = 0; w <= 2; w += 2) {
        uint64_t cur = counter(h, w);
        uint64_t *base = w == 0 ? &s->mcycle_base : &s->minstret_base;
        *base = ((nw >> w) & 1) ? cur : cur - hart_steps_now(h);
    }
    s->mcountinhibit = nw;
}

static int csr_write(hart_t *h, unsigned csr, uint64_t val)
{
    hart_state *s = &h->st;
    bool S = has(h, HART_EXT_S);
    switch (csr) {
    case CSR_FFLAGS:
        s->fflags = val & 31;
        hart_fs_dirty(h);
        break;
    case CSR_FRM:
        s->frm = val & 7;
        hart_fs_dirty(h);
        break;
    case CSR_FCSR:
        s->fflags = val & 31;
        s->frm = (val >> 5) & 7;
        hart_fs_dirty(h);
        break;
    case 0x100: {
        uint64_t m = MS_SIE | MS_SPIE | MS_SPP | MS_SUM | MS_MXR;
        if (has(h, HART_EXT_F)) m |= MS_FS;
        mstatus_write(h, val, m);
        break;
    }
    case 0x104: {
        uint64_t m = s->mideleg & S_VIEW;
        s->mie = (s->mie & ~m) | (val & m);
        break;
    }
    case 0x105: tvec_write(&s->stvec, val); break;
    case 0x106: s->scounteren = val; break;
    case 0x10a: s->senvcfg = val & SENVCFG_MASK; break;
    case 0x140: s->sscratch = val; break;
    case 0x141: s->sepc = val; break;
    case 0x142: s->scause = val; break;
    case 0x143: s->stval = val; break;
    case 0x144: {
        uint64_t m = SIP_SW_MASK & s->mideleg;
        s->mip_sw = (s->mip_sw & ~m) | (val & m);
        break;
    }
    case 0x14d: s->stimecmp = val; break;
    case 0x24d: s->vstimecmp = val; break;
    case 0x180: {
        unsigned mode = (unsigned)(val >> 60);
        if (mode == 0 || mode == 8 || (mode == 9 && has(h, HART_EXT_SV48))) {
            if (OBS_ON(h->obs)) obs_satp(h->obs, h, s->satp, val);
            s->satp = val;
            hart_tlb_flush_vm(h);
        }
        break;
    }
    case 0x300: mstatus_write(h, val, mstatus_mask(h)); break;
    case 0x301: break; /* misa: read-only, as QEMU without misa-w */
    case 0x302: s->medeleg = val & MEDELEG_MASK; break;
    case 0x303: s->mideleg = val & MIDELEG_MASK; break;
    case 0x304: s->mie = val & (S ? MIE_MASK : 0x888ull); break;
    case 0x305: tvec_write(&s->mtvec, val); break;
    case 0x306: s->mcounteren = val; break;
    case 0x30a:
        s->menvcfg = val & (MENVCFG_MASK | (has(h, HART_EXT_SSTC) ? MENVCFG_STCE : 0));
        break;
    case 0x320: mcountinhibit_write(h, val); break;
    case 0x340: s->mscratch = val; break;
    case 0x341: s->mepc = val; break;
    case 0x342: s->mcause = val; break;
    case 0x343: s->mtval = val; break;
    case 0x344: {
        uint64_t m = S ? (MIP_SW_MASK & ~(stce(h) ? MIP_STIP : 0)) : 0;
        s->mip_sw = (s->mip_sw & ~m) | (val & m);
        break;
    }
    case 0x7a0:
        if (val < HART_NTRIG) s->tselect = (uint8_t)val;
        break;
    case 0x7a1: {
        unsigned type = (unsigned)(val >> 60);
        if (type == 2 || type == 6) s->tdata1[s->tselect] = val & ~(1ull << 59);
        break;
    }
    case 0x7a2: s->tdata2[s->tselect] = val; break;
    case 0x7a3: s->tdata3[s->tselect] = val; break;
    case 0x7a4: break;
    case 0xb00: set_counter(h, 0, val); break;
    case 0xb02: set_counter(h, 2, val); break;
    default:
        if (csr >= 0xb03 && csr <= 0xb1f) {
            unsigned i = (csr & 31) - 3;
            if (i < HART_NHPM) s->mhpmcounter[i] = val;
        } else if (csr >= 0x323 && csr <= 0x33f) {
            s->mhpmevent[(csr & 31) - 3] = val;
        } else if (csr >= 0x3a0 && csr < 0x3a0 + HART_NPMP / 4) {
            pmpcfg_write(h, csr, val);
        } else if (csr >= 0x3b0 && csr < 0x3b0 + HART_NPMP) {
            pmpaddr_write(h, csr - 0x3b0, val);
        } else {
            return -1;
        }
    }
    return 0;
}

bool hart_csr_insn(hart_t *h, unsigned op, unsigned csr, unsigned rs1, unsigned rd)
{
    bool imm = op >= OP_CSRRWI;
    unsigned kind = imm ? op - OP_CSRRWI : op - OP_CSRRW; /* 0 rw, 1 rs, 2 rc */
    uint64_t src = imm ? rs1 : h->st.x[rs1];
    bool wr = kind == 0 || rs1 != 0;
    uint64_t old;
    if (hart_csr_read(h, csr, h->st.priv, &old) < 0) return false;
    if (wr) {
        if ((csr >> 10) == 3) return false;
        /* Only the software-writable SEIP bit takes part in a CSRRS/CSRRC
         * of mip or sip (privileged spec 3.1.9): OpenSBI's csr_set(mip,
         * SSIP) while the PLIC line is up must not latch SEIP for good. */
        uint64_t base = old;
        if (kind != 0 && (csr == 0x344 || csr == 0x144))
            base = (old & ~MIP_SEIP) | (h->st.mip_sw & MIP_SEIP);
        uint64_t nw = kind == 0 ? src : kind == 1 ? base | src : base & ~src;
        if (csr_write(h, csr, nw) < 0) return false;
        if (csr > 0x003) h->ev |= EV_IRQ; /* fflags, frm, fcsr touch no interrupt */
    }
    h->st.x[rd] = old;
    return true;
}
