/*
 * obs.c - the observation hooks' out-of-line half (see obs.h): the event
 * ring, per-hart mode accounting, breakpoints and the page-fault PTE walk.
 *
 * Invariants:
 * - Nothing here writes guest-visible state: registers and RAM are only
 *   read, and the breakpoint trampoline decodes the original instruction
 *   into a private scratch page (all REFETCH sentinels but the one slot,
 *   like the hart's own cross-page scratch), so it runs exactly as it
 *   would have, at the same pc, and any fall-through or in-page branch
 *   leaves the scratch page through a REFETCH.
 * - Per hart, mark is the hart's step count up to which steps have been
 *   credited to a privilege mode; cnt[] + idle since sample_start are the
 *   pending sample. Every step of a hart_run is credited exactly once (at
 *   a trap, an xRET or the end of the run), so the samples of a replay
 *   add up to the steps it ran.
 * - The global instant of an event inside a hart_run is base + the hart's
 *   live step count (hart_steps_now); outside runs it is `outside`.
 */
#include "obs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hart_int.h"

#define OBS_MAX_HARTS 8
#define OBS_MAX_DEVS  32
#define OBS_MAX_BPS   16

typedef struct obs_hart {
    hart_t *h;
    uint64_t mark;         /* hart steps credited so far */
    uint64_t cnt[4];       /* steps per privilege (index = priv) */
    uint64_t idle;         /* ns waited in WFI */
    uint64_t sample_start; /* global icount where the pending sample began */
    uint64_t next_sample;
    dpage *bp_page; /* breakpoint trampoline (lazily allocated) */
    unsigned bp_slot;
} obs_hart;

struct obs {
    obs_config cfg;
    obs_event *ring;
    size_t n;
    uint64_t dropped, emitted;
    uint64_t bps[OBS_MAX_BPS];
    unsigned nbp;
    char dev[OBS_MAX_DEVS][24]; /* MMIO device names, copied */
    unsigned ndev;
    obs_hart hs[OBS_MAX_HARTS];
    hart_t *cur; /* the hart in hart_run, or NULL */
    unsigned cur_idx;
    uint64_t base;       /* global icount = base + hart_steps_now(cur) */
    uint64_t outside;    /* global icount between runs */
    uint64_t t0, steps0; /* the current run's virtual start and the hart's steps then */
    uint64_t vt_outside; /* virtual ns between runs */
};

int obs_new(obs_t **out, const obs_config *cfg)
{
    if (!out || !cfg) return MC_EINVAL;
    obs_t *o = calloc(1, sizeof(*o));
    if (!o) return MC_ENOMEM;
    o->cfg = *cfg;
    if (!o->cfg.mask) o->cfg.mask = OBS_ALL;
    if (!o->cfg.ring) o->cfg.ring = 4096;
    if (!o->cfg.sample_every) o->cfg.sample_every = 1000000;
    o->ring = malloc(o->cfg.ring * sizeof(obs_event));
    if (!o->ring) {
        free(o);
        return MC_ENOMEM;
    }
    for (unsigned i = 0; i < OBS_MAX_HARTS; i++) {
        o->hs[i].next_sample = o->cfg.sample_every;
        /* the breakpoint trampoline: REFETCH everywhere but the one slot */
        if (!(o->hs[i].bp_page = calloc(1, sizeof(dpage)))) {
            obs_free(o);
            return MC_ENOMEM;
        }
        for (unsigned k = 0; k < DP_SLOTS + 2; k++)
            o->hs[i].bp_page->ins[k].op = OP_REFETCH;
    }
    *out = o;
    return MC_OK;
}

void obs_free(obs_t *o)
{
    if (!o) return;
    for (unsigned i = 0; i < OBS_MAX_HARTS; i++)
        free(o->hs[i].bp_page);
    free(o->ring);
    free(o);
}

uint64_t obs_dropped(const obs_t *o)
{
    return o->dropped;
}

uint64_t obs_emitted(const obs_t *o)
{
    return o->emitted;
}

const char *obs_device_name(const obs_t *o, unsigned idx)
{
    return idx < o->ndev ? o->dev[idx] : "?";
}

/* ---- the ring -------------------------------------------------------------- */

static int drain(obs_t *o)
{
    int rc = MC_OK;
    if (!o->n) return rc;
    if (!o->cfg.drain || (rc = o->cfg.drain(o->cfg.ctx, o->ring, o->n)) < 0) {
        o->dropped += o->n;
        if (rc >= 0) rc = MC_ESTATE;
    }
    o->n = 0;
    return rc;
}

static bool wants(const obs_t *o, obs_kind k)
{
    return (o->cfg.mask >> k) & 1;
}

static uint64_t now_of(const obs_t *o, const hart_t *h)
{
    if (h && h == o->cur) return o->base + hart_steps_now(h);
    return o->outside;
}

static uint64_t vtime_of(const obs_t *o, const hart_t *h)
{
    if (h && h == o->cur) return o->t0 + (hart_steps_now(h) - o->steps0) * HART_NS_PER_STEP;
    return o->vt_outside;
}

/* A zeroed event at the end of the ring (draining first when full). */
static obs_event *push_at(obs_t *o, obs_kind k, unsigned hart, uint64_t icount, uint64_t vtime)
{
    if (o->n == o->cfg.ring) (void)drain(o); /* a failure is counted in dropped */
    obs_event *e = &o->ring[o->n++];
    memset(e, 0, sizeof(*e));
    e->kind = (uint8_t)k;
    e->hart = (uint8_t)hart;
    e->icount = icount;
    e->vtime = vtime;
    o->emitted++;
    return e;
}

/* The same at the current instant of hart h (NULL: outside runs). */
static obs_event *push(obs_t *o, obs_kind k, unsigned hart, const hart_t *h)
{
    return push_at(o, k, hart, now_of(o, h), vtime_of(o, h));
}

static unsigned idx_of(const obs_t *o, const hart_t *h)
{
    if (h == o->cur) return o->cur_idx;
    for (unsigned i = 0; i < OBS_MAX_HARTS; i++)
        if (o->hs[i].h == h) return i;
    return OBS_NO_HART;
}

/* ---- mode accounting --------------------------------------------------------- */

static void credit(obs_hart *s, uint64_t steps, unsigned priv)
{
    if (steps > s->mark) s->cnt[priv & 3] += steps - s->mark;
    s->mark = steps;
}

static void emit_sample(obs_t *o, unsigned idx, uint64_t icount)
{
    obs_hart *s = &o->hs[idx];
    if (wants(o, OBS_MODE) && (s->cnt[0] | s->cnt[1] | s->cnt[3] | s->idle)) {
        obs_event *e = push_at(o, OBS_MODE, idx, icount, o->vt_outside);
        e->v[0] = s->cnt[HART_PRIV_U];
        e->v[1] = s->cnt[HART_PRIV_S];
        e->v[2] = s->cnt[HART_PRIV_M];
        e->v[3] = s->idle;
        e->v[4] = s->sample_start;
    }
    memset(s->cnt, 0, sizeof(s->cnt));
    s->idle = 0;
    s->sample_start = icount;
    s->next_sample = (icount / o->cfg.sample_every + 1) * o->cfg.sample_every;
}

void obs_attach_hart(obs_t *o, hart_t *h, unsigned idx)
{
    h->obs = o;
    hart_flush_caches(h); /* breakpoints are marked when a slot is decoded */
    if (!o || idx >= OBS_MAX_HARTS) return;
    o->hs[idx].h = h;
    o->hs[idx].mark = hart_steps(h);
}

void obs_restart(obs_t *o, uint64_t icount, uint64_t vtime)
{
    o->outside = icount;
    o->vt_outside = vtime;
    o->cur = NULL;
    for (unsigned i = 0; i < OBS_MAX_HARTS; i++) {
        obs_hart *s = &o->hs[i];
        if (!s->h) continue;
        s->mark = hart_steps(s->h);
        memset(s->cnt, 0, sizeof(s->cnt));
        s->idle = 0;
        s->sample_start = icount;
        s->next_sample = (icount / o->cfg.sample_every + 1) * o->cfg.sample_every;
        hart_flush_caches(s->h);
    }
}

void obs_run_begin(obs_t *o, hart_t *h, unsigned idx, uint64_t icount, uint64_t t0_ns)
{
    if (idx >= OBS_MAX_HARTS) return;
    o->t0 = t0_ns;
    o->steps0 = hart_steps(h);
    o->cur = h;
    o->cur_idx = idx;
    o->base = icount - hart_steps(h);
    o->hs[idx].mark = hart_steps(h); /* nothing retires between runs (a reboot resets steps) */
}

void obs_run_end(obs_t *o, hart_t *h, unsigned idx)
{
    if (idx >= OBS_MAX_HARTS) return;
    obs_hart *s = &o->hs[idx];
    credit(s, hart_steps(h), h->st.priv);
    o->outside = o->base + hart_steps(h);
    o->vt_outside = o->t0 + (hart_steps(h) - o->steps0) * HART_NS_PER_STEP;
    o->cur = NULL;
    if (o->outside >= s->next_sample) emit_sample(o, idx, o->outside);
}

void obs_idle(obs_t *o, unsigned idx, uint64_t ns)
{
    if (idx < OBS_MAX_HARTS) o->hs[idx].idle += ns;
}

int obs_flush(obs_t *o)
{
    for (unsigned i = 0; i < OBS_MAX_HARTS; i++)
        if (o->hs[i].h) emit_sample(o, i, o->outside);
    return drain(o);
}

/* ---- devices ----------------------------------------------------------------- */

static unsigned dev_index(obs_t *o, const char *name)
{
    for (unsigned i = 0; i < o->ndev; i++)
        if (!strcmp(o->dev[i], name)) return i;
    if (o->ndev == OBS_MAX_DEVS) return OBS_MAX_DEVS;
    snprintf(o->dev[o->ndev], sizeof(o->dev[0]), "%s", name);
    return o->ndev++;
}

/* PLIC claim/complete registers (dev_plic.h): 0x200004 + 0x1000 * context. */
#define PLIC_CTX_BASE 0x200000u
#define PLIC_CTX_STEP 0x1000u

void obs_mmio(obs_t *o, const char *name, uint64_t pa, uint64_t off, unsigned size, uint64_t val,
              bool write)
{
    unsigned hart = o->cur ? o->cur_idx : OBS_NO_HART;
    if (wants(o, OBS_MMIO)) {
        obs_event *e = push(o, OBS_MMIO, hart, o->cur);
        e->aux = dev_index(o, name);
        e->a = (uint8_t)size;
        e->b = write;
        e->v[0] = off;
        e->v[1] = val;
        e->v[2] = pa;
    }
    if (wants(o, OBS_PLIC) && !strcmp(name, "plic") && off >= PLIC_CTX_BASE && size == 4 &&
        (off - PLIC_CTX_BASE) % PLIC_CTX_STEP == 4) {
        obs_event *e = push(o, OBS_PLIC, hart, o->cur);
        e->aux = write ? OBS_PLIC_COMPLETE : OBS_PLIC_CLAIM;
        e->v[0] = (uint32_t)val;
        e->v[1] = (off - PLIC_CTX_BASE) / PLIC_CTX_STEP;
    }
}

void obs_uart(obs_t *o, unsigned dir, uint8_t byte)
{
    if (!wants(o, OBS_UART)) return;
    obs_event *e = push(o, OBS_UART, o->cur ? o->cur_idx : OBS_NO_HART, o->cur);
    e->aux = dir;
    e->v[0] = byte;
}

void obs_plic(obs_t *o, unsigned op, unsigned src, unsigned ctx)
{
    if (!wants(o, OBS_PLIC)) return;
    obs_event *e = push(o, OBS_PLIC, o->cur ? o->cur_idx : OBS_NO_HART, o->cur);
    e->aux = op;
    e->v[0] = src;
    e->v[1] = ctx;
}

/* ---- hart events ------------------------------------------------------------- */

/* Walks the page table of satp for va like the MMU (no A/D updates):
 * stores the PTEs read in pte[], returns how many. */
static unsigned pte_chain(hart_t *h, uint64_t satp, uint64_t va, uint64_t pte[4])
{
    unsigned mode = (unsigned)(satp >> 60), levels = mode == 8 ? 3 : mode == 9 ? 4 : 0, n = 0;
    uint64_t a = (satp & ((1ull << 44) - 1)) << 12;
    for (int lv = (int)levels - 1; lv >= 0; lv--) {
        uint64_t vpn = (va >> (12 + 9 * lv)) & 511;
        const uint8_t *p = bus_ram_ptr(h->bus, a + vpn * 8, 8, false);
        if (!p) break;
        uint64_t v;
        memcpy(&v, p, 8);
        pte[n++] = v;
        if (!(v & 1) || (v & 0xa)) break; /* invalid, or a leaf (R or X) */
        a = ((v >> 10) & ((1ull << 44) - 1)) << 12;
    }
    return n;
}

void obs_trap(obs_t *o, hart_t *h, uint64_t cause, uint64_t tval, uint64_t epc)
{
    const hart_state *s = &h->st;
    unsigned idx = idx_of(o, h), from = s->priv;
    bool irq = (cause >> 63) != 0;
    unsigned code = (unsigned)(cause & 63);
    uint64_t deleg = irq ? s->mideleg : s->medeleg;
    unsigned to = from <= HART_PRIV_S && ((deleg >> code) & 1) ? HART_PRIV_S : HART_PRIV_M;
    uint64_t now = hart_steps_now(h);
    if (idx < OBS_MAX_HARTS && h == o->cur) credit(&o->hs[idx], now, from);
    if (!wants(o, OBS_TRAP)) return;
    obs_event *e = push(o, OBS_TRAP, idx, h);
    e->a = (uint8_t)from;
    e->b = (uint8_t)to;
    e->v[0] = cause;
    e->v[1] = epc;
    e->v[2] = tval;
    e->v[3] = s->x[4];
    e->v[4] = s->sscratch;
    e->v[5] = s->satp;
    if (!irq && (code == EXC_UECALL || code == EXC_SECALL || code == EXC_MECALL)) {
        e->v[6] = s->x[17];
        for (unsigned i = 0; i < 6; i++)
            e->v[7 + i] = s->x[10 + i];
    } else if (!irq && (code == EXC_IPF || code == EXC_LPF || code == EXC_SPF)) {
        uint64_t pte[4] = {0};
        e->aux = pte_chain(h, s->satp, tval, pte);
        memcpy(&e->v[6], pte, sizeof(pte));
    }
}

void obs_tret(obs_t *o, hart_t *h, unsigned from)
{
    unsigned idx = idx_of(o, h);
    uint64_t now = hart_steps_now(h);
    if (idx < OBS_MAX_HARTS && h == o->cur) credit(&o->hs[idx], now, from);
    if (!wants(o, OBS_TRET)) return;
    const hart_state *s = &h->st;
    obs_event *e = push(o, OBS_TRET, idx, h);
    e->a = (uint8_t)from;
    e->b = s->priv;
    e->v[0] = s->pc;
    e->v[1] = s->x[10];
    e->v[2] = s->x[4];
    e->v[3] = s->sscratch;
    e->v[4] = s->satp;
}

void obs_satp(obs_t *o, hart_t *h, uint64_t old, uint64_t val)
{
    if (!wants(o, OBS_SATP) || old == val) return;
    const hart_state *s = &h->st;
    obs_event *e = push(o, OBS_SATP, idx_of(o, h), h);
    e->a = s->priv;
    e->v[0] = old;
    e->v[1] = val;
    e->v[2] = s->x[4];
    e->v[3] = s->sscratch;
}

void obs_tlb(obs_t *o, hart_t *h, uint64_t page_pa, unsigned kind)
{
    if (!wants(o, OBS_TLB)) return;
    obs_event *e = push(o, OBS_TLB, idx_of(o, h), h);
    e->aux = kind;
    e->v[0] = page_pa;
}

/* ---- breakpoints ------------------------------------------------------------- */

int obs_add_bp(obs_t *o, uint64_t pa)
{
    if ((pa & 1) || pa < BUS_PAGE_SIZE) return MC_EINVAL;
    if ((pa & (BUS_PAGE_SIZE - 1)) == BUS_PAGE_SIZE - 2)
        return MC_EUNSUP; /* a page-crossing slot */
    if (o->nbp == OBS_MAX_BPS) return MC_ERANGE;
    o->bps[o->nbp++] = pa;
    for (unsigned i = 0; i < OBS_MAX_HARTS; i++)
        if (o->hs[i].h) hart_flush_caches(o->hs[i].h);
    return MC_OK;
}

bool obs_is_bp(const obs_t *o, uint64_t pa)
{
    for (unsigned i = 0; i < o->nbp; i++)
        if (o->bps[i] == pa) return true;
    return false;
}

dinsn *obs_hart_bp(hart_t *h, dpage *dp, unsigned slot)
{
    obs_t *o = h->obs;
    unsigned idx = idx_of(o, h);
    if (wants(o, OBS_BP)) {
        const hart_state *s = &h->st;
        obs_event *e = push(o, OBS_BP, idx, h);
        e->a = s->priv;
        e->v[0] = dp->pa + 2ull * slot;
        e->v[1] = s->x[10];
        e->v[2] = s->x[11];
        e->v[3] = s->x[4];
        e->v[4] = s->satp;
        if (o->cfg.drain_mask & OBS_BIT(OBS_BP)) (void)drain(o); /* failures are counted */
    }
    /* The trampoline: the original instruction at the same slot of a page
     * of REFETCH sentinels (per hart; the hart index is bounded). */
    obs_hart *oh = &o->hs[idx < OBS_MAX_HARTS ? idx : 0];
    dpage *t = oh->bp_page;
    t->ins[oh->bp_slot].op = OP_REFETCH;
    t->pa = UINT64_MAX; /* pa + off wraps below BUS_PAGE_SIZE: never a breakpoint */
    t->host = dp->host;
    t->flags = NULL;
    hart_decode_slot(h, t, &t->ins[slot]);
    oh->bp_slot = slot;
    return t->ins;
}
