/*
 * hart.c - the RV64GC hart's public API: creation, reset, hart_run, traps
 * and interrupts, snapshots and the -cpu parser (see hart.h).
 *
 * Interrupts are taken only at the start of hart_run and right after an
 * instruction that raised an event (CSR write, xRET, WFI, fence, an MMIO
 * access whose device changed an interrupt line): never at a point that
 * depends on host-side caches. Priority follows QEMU: M-level interrupts
 * first, then in each level MEI > MSI > MTI > SEI > SSI > STI.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hart_int.h"

/* QEMU/AIA default order; VSEI, VSSI, VSTI, LCOFI can only be set by software */
static const unsigned irq_order[] = {IRQ_MEI, IRQ_MSI, IRQ_MTI, IRQ_SEI, IRQ_SSI,
                                     IRQ_STI, 10,      2,       6,       13};

static uint64_t misa_of(uint32_t ext)
{
    uint64_t m = (2ull << 62) | (1u << ('I' - 'A'));
    if (ext & HART_EXT_M) m |= 1u << ('M' - 'A');
    if (ext & HART_EXT_A) m |= 1u << ('A' - 'A');
    if (ext & HART_EXT_F) m |= 1u << ('F' - 'A');
    if (ext & HART_EXT_D) m |= 1u << ('D' - 'A');
    if (ext & HART_EXT_C) m |= 1u << ('C' - 'A');
    if (ext & HART_EXT_S) m |= 1u << ('S' - 'A');
    if (ext & HART_EXT_U) m |= 1u << ('U' - 'A');
    return m;
}

int hart_new(hart_t **out, bus_t *bus, const hart_config *cfg)
{
    if (!out || !bus || !cfg) return MC_EINVAL;
    uint32_t ext = cfg->ext;
    if (ext & ~HART_EXT_DEFAULT) return MC_EINVAL;
    if ((ext & HART_EXT_D) && !(ext & HART_EXT_F)) return MC_EINVAL;
    if ((ext & HART_EXT_S) && !(ext & HART_EXT_U)) return MC_EINVAL;
    hart_t *h = aligned_alloc(64, (sizeof(*h) + 63) & ~(size_t)63);
    if (!h) return MC_ENOMEM;
    memset(h, 0, sizeof(*h));
    h->bus = bus;
    h->st.ext = ext;
    h->st.hartid = cfg->hartid;
    int rc = hart_caches_init(h);
    if (rc < 0) {
        free(h);
        return rc;
    }
    h->reset_pc = cfg->reset_pc;
    hart_reset(h);
    *out = h;
    return MC_OK;
}

void hart_free(hart_t *h)
{
    if (!h) return;
    hart_caches_free(h);
    free(h);
}

void hart_reset(hart_t *h)
{
    hart_state *s = &h->st;
    uint32_t ext = s->ext, id = s->hartid;
    uint64_t pc_reset = h->reset_pc;
    memset(s, 0, sizeof(*s));
    s->magic = HART_STATE_MAGIC;
    s->ext = ext;
    s->hartid = id;
    s->priv = HART_PRIV_M;
    s->pc = pc_reset;
    s->misa = misa_of(ext);
    s->mstatus = (2ull << 32) | (2ull << 34);
    hart_csr_reset(h);
    h->ev = 0;
    hart_flush_caches(h);
    hart_pmp_changed(h);
    hart_mode_changed(h);
}

/* ---- time and counters --------------------------------------------------- */

uint64_t hart_steps_now(const hart_t *h)
{
    return h->st.steps + (h->run_budget - h->left);
}

uint64_t hart_time(const hart_t *h)
{
    uint64_t ns = h->t0 + (hart_steps_now(h) - h->run_start) * HART_NS_PER_STEP;
    return ns / HART_NS_PER_TICK;
}

uint64_t hart_mip(hart_t *h)
{
    const hart_state *s = &h->st;
    uint64_t mip = s->mip_sw | s->irq_lines;
    if ((s->ext & HART_EXT_SSTC) && (s->menvcfg & MENVCFG_STCE)) {
        mip &= ~MIP_STIP;
        if (hart_time(h) >= s->stimecmp) mip |= MIP_STIP;
    }
    return mip;
}

int hart_irq_pending(hart_t *h)
{
    hart_state *s = &h->st;
    uint64_t pend = hart_mip(h) & s->mie;
    if (!pend) return -1;
    bool m_on = s->priv < HART_PRIV_M || (s->mstatus & MS_MIE);
    bool s_on = s->priv < HART_PRIV_S || (s->priv == HART_PRIV_S && (s->mstatus & MS_SIE));
    uint64_t mpend = m_on ? pend & ~s->mideleg : 0;
    uint64_t spend = s_on ? pend & s->mideleg : 0;
    uint64_t take = mpend ? mpend : spend;
    if (!take) return -1;
    for (unsigned i = 0; i < sizeof(irq_order) / sizeof(irq_order[0]); i++)
        if (take & (1ull << irq_order[i])) return (int)irq_order[i];
    return -1;
}

/* ---- traps ------------------------------------------------------------------ */

void hart_take_trap(hart_t *h, uint64_t cause, uint64_t tval, uint64_t epc)
{
    hart_state *s = &h->st;
    bool irq = (cause & CAUSE_IRQ) != 0;
    unsigned code = (unsigned)(cause & 63);
    uint64_t deleg = irq ? s->mideleg : s->medeleg;
    uint64_t ms = s->mstatus;
    if (OBS_ON(h->obs)) obs_trap(h->obs, h, cause, tval, epc);
    s->res_valid = 0; /* every trap drops the LR reservation, as QEMU does */
    if (s->priv <= HART_PRIV_S && ((deleg >> code) & 1)) {
        s->scause = cause;
        s->sepc = epc;
        s->stval = tval;
        ms = (ms & ~(MS_SPP | MS_SPIE | MS_SIE)) | ((ms & MS_SIE) ? MS_SPIE : 0) |
             (s->priv == HART_PRIV_S ? MS_SPP : 0);
        s->priv = HART_PRIV_S;
        uint64_t base = s->stvec & ~3ull;
        s->pc = (irq && (s->stvec & 3) == 1) ? base + 4ull * code : base;
    } else {
        s->mcause = cause;
        s->mepc = epc;
        s->mtval = tval;
        ms = (ms & ~(MS_MPP | MS_MPIE | MS_MIE)) | ((ms & MS_MIE) ? MS_MPIE : 0) |
             ((uint64_t)s->priv << MS_MPP_SHIFT);
        s->priv = HART_PRIV_M;
        uint64_t base = s->mtvec & ~3ull;
        s->pc = (irq && (s->mtvec & 3) == 1) ? base + 4ull * code : base;
    }
    s->mstatus = ms;
    hart_mode_changed(h);
}

static unsigned lowest_priv(const hart_t *h)
{
    return (h->st.ext & HART_EXT_U) ? HART_PRIV_U : HART_PRIV_M;
}

bool hart_mret(hart_t *h)
{
    hart_state *s = &h->st;
    if (s->priv != HART_PRIV_M) return false;
    uint64_t ms = s->mstatus;
    unsigned mpp = (unsigned)((ms & MS_MPP) >> MS_MPP_SHIFT);
    ms = (ms & ~(MS_MIE | MS_MPP)) | ((ms & MS_MPIE) ? MS_MIE : 0) | MS_MPIE |
         ((uint64_t)lowest_priv(h) << MS_MPP_SHIFT);
    if (mpp != HART_PRIV_M) ms &= ~MS_MPRV;
    s->mstatus = ms;
    s->res_valid = 0; /* QEMU 7.2 drops the reservation on every xRET */
    s->priv = (uint8_t)mpp;
    s->pc = s->mepc & ((s->ext & HART_EXT_C) ? ~1ull : ~3ull);
    hart_mode_changed(h);
    if (OBS_ON(h->obs)) obs_tret(h->obs, h, HART_PRIV_M);
    return true;
}

bool hart_sret(hart_t *h)
{
    hart_state *s = &h->st;
    if (!(s->ext & HART_EXT_S) || s->priv < HART_PRIV_S) return false;
    if (s->priv == HART_PRIV_S && (s->mstatus & MS_TSR)) return false;
    uint64_t ms = s->mstatus;
    unsigned spp = (ms & MS_SPP) ? HART_PRIV_S : HART_PRIV_U;
    ms = (ms & ~(MS_SIE | MS_SPP | MS_MPRV)) | ((ms & MS_SPIE) ? MS_SIE : 0) | MS_SPIE;
    s->mstatus = ms;
    s->res_valid = 0;
    s->priv = (uint8_t)spp;
    s->pc = s->sepc & ((s->ext & HART_EXT_C) ? ~1ull : ~3ull);
    hart_mode_changed(h);
    if (OBS_ON(h->obs)) obs_tret(h->obs, h, HART_PRIV_S);
    return true;
}

/* ---- running -------------------------------------------------------------- */

uint64_t hart_run(hart_t *h, uint64_t budget, uint64_t t0_ns)
{
    h->t0 = t0_ns;
    h->run_start = h->st.steps;
    h->run_budget = budget;
    h->left = budget;
    h->ev = 0;
    uint64_t left = budget;
    if (budget == 0) goto done;
    if (h->st.wfi) {
        if (!(hart_mip(h) & h->st.mie)) goto done;
        h->st.wfi = 0;
    }
    int irq = hart_irq_pending(h);
    if (irq >= 0) {
        hart_take_trap(h, CAUSE_IRQ | (uint64_t)irq, 0, h->st.pc);
        left--;
    }
    if (left) {
        h->running = true;
        h->left = left;
        left = hart_exec(h, left);
        h->running = false;
    }
done:;
    uint64_t n = budget - left;
    h->st.steps += n;
    h->run_budget = 0;
    h->left = 0;
    h->ev = 0;
    return n;
}

void hart_stop(hart_t *h)
{
    if (h->running) h->ev |= EV_STOP;
}

bool hart_is_waiting(const hart_t *h)
{
    return h->st.wfi && !(hart_mip((hart_t *)h) & h->st.mie);
}

uint64_t hart_next_deadline(const hart_t *h)
{
    const hart_state *s = &h->st;
    if (!(s->ext & HART_EXT_SSTC) || !(s->menvcfg & MENVCFG_STCE)) return UINT64_MAX;
    /* STIP only matters when STIE is set: it can neither wake WFI nor trap
     * otherwise, and a csrr of mip/sip computes it from time anyway */
    if (!(s->mie & MIP_STIP)) return UINT64_MAX;
    if (s->stimecmp > UINT64_MAX / HART_NS_PER_TICK) return UINT64_MAX;
    return s->stimecmp * HART_NS_PER_TICK;
}

void hart_set_irq(hart_t *h, unsigned irq, int level)
{
    if (irq != HART_IRQ_MSIP && irq != HART_IRQ_MTIP && irq != HART_IRQ_SEIP &&
        irq != HART_IRQ_MEIP)
        return;
    uint32_t bit = 1u << irq;
    uint32_t old = h->st.irq_lines;
    h->st.irq_lines = level ? old | bit : old & ~bit;
    if (h->running && h->st.irq_lines != old) h->ev |= EV_IRQ;
}

/* ---- accessors ----------------------------------------------------------- */

uint64_t hart_pc(const hart_t *h)
{
    return h->st.pc;
}

void hart_set_pc(hart_t *h, uint64_t pc)
{
    h->st.pc = pc;
}

unsigned hart_priv(const hart_t *h)
{
    return h->st.priv;
}

uint64_t hart_reg(const hart_t *h, unsigned i)
{
    return i && i < 32 ? h->st.x[i] : 0;
}

void hart_set_reg(hart_t *h, unsigned i, uint64_t v)
{
    if (i && i < 32) h->st.x[i] = v;
}

uint64_t hart_freg(const hart_t *h, unsigned i)
{
    return i < 32 ? h->st.f[i] : 0;
}

void hart_set_freg(hart_t *h, unsigned i, uint64_t v)
{
    if (i < 32) h->st.f[i] = v;
}

int hart_csr(const hart_t *h, unsigned csr, uint64_t *val)
{
    if (csr > 0xfff) return MC_ENOENT;
    /* reads have no side effects; the cast only lets hart_mip compute time */
    hart_t *hh = (hart_t *)h;
    uint64_t ms = hh->st.mstatus;
    /* fflags/frm/fcsr are readable here even while FS is Off */
    if (csr >= 1 && csr <= 3 && (hh->st.ext & HART_EXT_F)) {
        uint64_t v = csr == 1   ? hh->st.fflags
                     : csr == 2 ? hh->st.frm
                                : (hh->st.frm << 5) | hh->st.fflags;
        *val = v;
        return MC_OK;
    }
    int rc = hart_csr_read(hh, csr, HART_PRIV_M, val);
    hh->st.mstatus = ms;
    return rc < 0 ? MC_ENOENT : MC_OK;
}

unsigned hart_id(const hart_t *h)
{
    return h->st.hartid;
}

uint64_t hart_steps(const hart_t *h)
{
    /* live inside hart_run too (from a device callback: `left` is synced
     * before every slow path); equals st.steps outside a run */
    return hart_steps_now(h);
}

/* ---- snapshots ----------------------------------------------------------- */

unsigned hart_state_size(void)
{
    return (unsigned)sizeof(hart_state);
}

void hart_state_save(const hart_t *h, void *buf)
{
    memcpy(buf, &h->st, sizeof(h->st));
    ((hart_state *)buf)->x[32] = 0; /* the x0 sink is not state */
}

int hart_state_restore(hart_t *h, const void *buf, unsigned len)
{
    hart_state s;
    if (len != sizeof(s)) return MC_ECORRUPT;
    memcpy(&s, buf, sizeof(s));
    if (s.magic != HART_STATE_MAGIC || s.ext != h->st.ext || s.x[0] != 0) return MC_ECORRUPT;
    if (s.priv != HART_PRIV_M && s.priv != HART_PRIV_S && s.priv != HART_PRIV_U) return MC_ECORRUPT;
    if (s.wfi > 1 || s.res_valid > 1 || s.frm > 7 || s.fflags > 31 || s.tselect >= HART_NTRIG)
        return MC_ECORRUPT;
    h->st = s;
    hart_flush_caches(h);
    hart_pmp_changed(h);
    hart_mode_changed(h);
    return MC_OK;
}

/* ---- -cpu parsing -------------------------------------------------------- */

static const struct {
    const char *name;
    uint32_t bit;
} cpu_opts[] = {
    {"m", HART_EXT_M}, {"a", HART_EXT_A},       {"f", HART_EXT_F},
    {"d", HART_EXT_D}, {"c", HART_EXT_C},       {"s", HART_EXT_S},
    {"u", HART_EXT_U}, {"sstc", HART_EXT_SSTC}, {"sv48", HART_EXT_SV48},
};

/* QEMU options we accept only when they ask for what we already are. */
static const char *const cpu_off_only[] = {
    "h",      "v",      "zba",    "zbb",    "zbc",     "zbs",     "zihintpause", "zfh",
    "zfhmin", "zicbom", "zicboz", "svpbmt", "svnapot", "svinval", "sscofpmf",    "zawrs",
    "zk",     "zkr",    "zkn",    "zks",    "zmmul",   "e",       "pmp-off",     NULL};
static const char *const cpu_on_only[] = {"i",   "zicsr", "zifencei",  "mmu",
                                          "pmp", "sv39",  "priv_spec", NULL};

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "true"))
        *out = true;
    else if (!strcmp(v, "off") || !strcmp(v, "false"))
        *out = false;
    else
        return MC_EINVAL;
    return MC_OK;
}

int hart_parse_cpu(const char *spec, uint32_t *ext)
{
    if (!spec || !ext) return MC_EINVAL;
    const char *p = spec;
    size_t n = strcspn(p, ",");
    if (!(n == 4 && (!strncmp(p, "rv64", 4) || !strncmp(p, "any", 3))) &&
        !(n == 3 && !strncmp(p, "max", 3)))
        return MC_EINVAL;
    uint32_t e = HART_EXT_DEFAULT;
    p += n;
    while (*p == ',') {
        p++;
        n = strcspn(p, ",");
        char item[64];
        if (n == 0 || n >= sizeof(item)) return MC_EINVAL;
        memcpy(item, p, n);
        item[n] = 0;
        p += n;
        char *eq = strchr(item, '=');
        bool on = true;
        if (eq) {
            *eq = 0;
            if (!strcmp(item, "priv_spec")) {
                if (strcmp(eq + 1, "v1.12.0")) return MC_EINVAL;
                continue;
            }
            if (parse_bool(eq + 1, &on) < 0) return MC_EINVAL;
        }
        bool found = false;
        for (size_t i = 0; i < sizeof(cpu_opts) / sizeof(cpu_opts[0]); i++) {
            if (!strcasecmp(item, cpu_opts[i].name)) {
                e = on ? e | cpu_opts[i].bit : e & ~cpu_opts[i].bit;
                found = true;
            }
        }
        for (size_t i = 0; !found && cpu_off_only[i]; i++) {
            if (!strcasecmp(item, cpu_off_only[i])) {
                if (on) return MC_EINVAL;
                found = true;
            }
        }
        for (size_t i = 0; !found && cpu_on_only[i]; i++) {
            if (!strcasecmp(item, cpu_on_only[i])) {
                if (!on) return MC_EINVAL;
                found = true;
            }
        }
        if (!found) return MC_EINVAL;
    }
    if (*p) return MC_EINVAL;
    if ((e & HART_EXT_D) && !(e & HART_EXT_F)) return MC_EINVAL;
    if ((e & HART_EXT_S) && !(e & HART_EXT_U)) return MC_EINVAL;
    *ext = e;
    return MC_OK;
}
