/*
 * hart_mmu.c - address translation (Sv39/Sv48), PMP, the software TLB,
 * memory slow paths and the decoded-page cache.
 *
 * Software TLB: four sets, chosen by the effective privilege of the access
 * (U, S, S with SUM, M), each with 256 direct-mapped read, write and exec
 * entries tagged by virtual page number. Read/write entries store a host
 * addend (host = va + add); exec entries point at the decoded page. An
 * entry exists only for RAM/ROM pages whose PMP verdict is uniform over
 * the page and allows the access; MMIO always takes the slow path. A write
 * entry also holds the bus flags byte of its page and the fast path
 * requires it to be exactly BUS_PAGE_DIRTY: the first store after a
 * checkpoint cleared the dirty bits, and every store to a page that some
 * hart decoded (BUS_PAGE_CODE), takes the slow path, which tells the bus
 * (dirty tracking, code listeners). Entries are filled only after the walk
 * has set A (and D for writes), so a read entry never lets a write through.
 * MXR, satp, PMP writes and sfence.vma flush every set; SUM, MPRV and a
 * privilege change only select another set.
 *
 * Misaligned loads and stores are EMULATED, as QEMU does for ordinary
 * accesses: every part of the access is translated and checked first (a
 * fault reports the address of the part that faulted, e.g. the start of
 * the second page), then the bytes are moved one at a time. LR, SC and
 * AMOs on a misaligned address raise address-misaligned (load for LR,
 * store/AMO for SC and AMOs) instead.
 *
 * Decoded pages: one per physical page, direct-mapped by page number in a
 * per-hart table, allocated on first execution. A slot is decoded the
 * first time it executes. A page is reset (all slots back to DECODE) when
 * the guest writes it (hart_code_written), when hart_flush_caches bumped
 * code_gen, or when its table slot is taken by another page; resetting
 * never moves or frees it, so the dispatch loop may keep running inside
 * it. fence.i has nothing to do: writes already reset the pages.
 */
#include <stdlib.h>

#include "hart_int.h"

#define PTE_V    0x01u
#define PTE_R    0x02u
#define PTE_W    0x04u
#define PTE_X    0x08u
#define PTE_U    0x10u
#define PTE_A    0x40u
#define PTE_D    0x80u
#define PPN_MASK ((1ull << 44) - 1)

static void exc(hart_t *h, unsigned cause, uint64_t tval)
{
    h->exc_cause = cause;
    h->exc_tval = tval;
}

static unsigned pf_cause(unsigned acc)
{
    return acc == ACC_X ? EXC_IPF : acc == ACC_R ? EXC_LPF : EXC_SPF;
}

static unsigned af_cause(unsigned acc)
{
    return acc == ACC_X ? EXC_IACC : acc == ACC_R ? EXC_LACC : EXC_SACC;
}

static uint64_t ld_host(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1: return p[0];
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    default: {
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    }
}

static void st_host(uint8_t *p, unsigned size, uint64_t val)
{
    switch (size) {
    case 1: p[0] = (uint8_t)val; break;
    case 2: {
        uint16_t v = (uint16_t)val;
        memcpy(p, &v, 2);
        break;
    }
    case 4: {
        uint32_t v = (uint32_t)val;
        memcpy(p, &v, 4);
        break;
    }
    default: memcpy(p, &val, 8); break;
    }
}

/* ---- modes and TLB ----------------------------------------------------- */

void hart_mode_changed(hart_t *h)
{
    const hart_state *s = &h->st;
    unsigned p = s->priv;
    if (p == HART_PRIV_M && (s->mstatus & MS_MPRV))
        p = (unsigned)((s->mstatus & MS_MPP) >> MS_MPP_SHIFT);
    h->dset = p == HART_PRIV_M        ? TS_M
              : p == HART_PRIV_U      ? TS_U
              : (s->mstatus & MS_SUM) ? TS_SUM
                                      : TS_S;
    h->dtlb = &h->tlb[h->dset];
    unsigned x = s->priv == HART_PRIV_M ? TS_M : s->priv == HART_PRIV_U ? TS_U : TS_S;
    h->xtlb = h->tlb[x].x;
}

/* all: every entry, else those listed in fill[] when they fit there */
static void tlb_flush_set(tlbset *t, bool all)
{
    if (all || t->nfill > TLB_FILL_MAX) {
        for (unsigned i = 0; i < TLB_DSIZE; i++) {
            t->r[i].page = TLB_INVALID;
            t->w[i].page = TLB_INVALID;
        }
    } else {
        for (unsigned k = 0; k < t->nfill; k++) {
            t->r[t->fill[k]].page = TLB_INVALID;
            t->w[t->fill[k]].page = TLB_INVALID;
        }
    }
    t->nfill = 0;
    for (unsigned i = 0; i < TLB_SIZE; i++)
        t->x[i].vpn = TLB_INVALID;
}

static void tlb2_flush_set(hart_t *h, unsigned s)
{
    if (++h->tlb2_gen[s] == 0) { /* wrapped: really clear */
        memset(&h->tlb2[(size_t)s * TLB2_SIZE], 0, TLB2_SIZE * sizeof(tlb2));
        h->tlb2_gen[s] = 1;
    }
}

void hart_tlb_flush(hart_t *h)
{
    for (unsigned s = 0; s < TS_COUNT; s++) {
        tlb_flush_set(&h->tlb[s], true);
        tlb2_flush_set(h, s);
    }
    h->tlb_used = 0;
}

void hart_tlb_flush_vm(hart_t *h)
{
    for (unsigned s = 0; s < TS_COUNT; s++) {
        if (s == TS_M || !(h->tlb_used & (1u << s))) continue;
        tlb_flush_set(&h->tlb[s], false);
        tlb2_flush_set(h, s);
        h->tlb_used &= (uint8_t) ~(1u << s);
    }
}

/* ---- decoded pages --------------------------------------------------------- */

static void dpage_reset(hart_t *h, dpage *dp)
{
    for (unsigned i = 0; i < DP_SLOTS; i++)
        dp->ins[i].op = OP_DECODE;
    dp->ins[DP_SLOTS].op = OP_REFETCH;
    dp->ins[DP_SLOTS + 1].op = OP_REFETCH;
    dp->gen = h->code_gen;
    dp->clean = true;
}

int hart_caches_init(hart_t *h)
{
    h->xpage = calloc(1, sizeof(dpage));
    if (!h->xpage) return MC_ENOMEM;
    for (unsigned i = 0; i < DP_SLOTS + 2; i++)
        h->xpage->ins[i].op = OP_REFETCH;
    h->xpage->pa = UINT64_MAX;
    h->tlb2 = calloc((size_t)TS_COUNT * TLB2_SIZE, sizeof(tlb2));
    if (!h->tlb2) {
        free(h->xpage);
        return MC_ENOMEM;
    }
    for (unsigned s = 0; s < TS_COUNT; s++)
        h->tlb2_gen[s] = 1;
    hart_tlb_flush(h);
    return MC_OK;
}

void hart_caches_free(hart_t *h)
{
    for (unsigned i = 0; i < DP_HASH; i++)
        free(h->dp[i]);
    free(h->xpage);
    free(h->tlb2);
}

void hart_flush_caches(hart_t *h)
{
    hart_tlb_flush(h);
    h->code_gen++;
}

void hart_flush_tlb(hart_t *h)
{
    hart_tlb_flush(h);
}

/* Nothing to drop: every write to a page some hart decoded (a store of any
 * hart, DMA, the loader, a PTE A/D update) goes through bus_note_write,
 * whose code listener resets that page's decoded slots at once
 * (hart_code_written), so decoded pages never hold stale instructions and
 * fetches already see every earlier store, as QEMU's TB invalidation does.
 * Resetting every decoded page here cost a Linux boot 10% of its host
 * instructions (re-decoding unchanged code after each of its fence.i). */
void hart_fence_i(hart_t *h)
{
    (void)h;
}

void hart_code_written(hart_t *h, uint64_t page_pa)
{
    page_pa &= ~(uint64_t)(BUS_PAGE_SIZE - 1);
    dpage *dp = h->dp[(page_pa >> 12) & (DP_HASH - 1)];
    if (dp && dp->pa == page_pa && !dp->clean) dpage_reset(h, dp);
}

static dpage *dpage_get(hart_t *h, uint64_t pa, const uint8_t *host, uint8_t *flags)
{
    unsigned idx = (unsigned)((pa >> 12) & (DP_HASH - 1));
    dpage *dp = h->dp[idx];
    if (!dp) {
        dp = malloc(sizeof(*dp));
        if (!dp) return NULL;
        memset(dp, 0, sizeof(*dp));
        h->dp[idx] = dp;
        dpage_reset(h, dp);
    } else if (dp->pa != pa) {
        /* the slot changes page: forget exec entries that point at it */
        for (unsigned s = 0; s < TS_COUNT; s++)
            for (unsigned i = 0; i < TLB_SIZE; i++)
                if (h->tlb[s].x[i].dp == dp) h->tlb[s].x[i].vpn = TLB_INVALID;
        dpage_reset(h, dp);
    } else if (dp->gen != h->code_gen) {
        dpage_reset(h, dp);
    }
    dp->pa = pa;
    dp->host = host;
    dp->flags = flags;
    return dp;
}

/* ---- PMP ------------------------------------------------------------------ */

static bool pmp_range(const hart_t *h, unsigned i, uint64_t *lo, uint64_t *last);

void hart_pmp_changed(hart_t *h)
{
    unsigned n = 0;
    h->pmp_any = 0;
    for (unsigned i = 0; i < HART_NPMP; i++) {
        uint64_t lo, last;
        if ((h->st.pmpcfg[i] >> 3) & 3) h->pmp_any = 1;
        if (!pmp_range(h, i, &lo, &last)) continue;
        h->pmp_idx[n] = (uint8_t)i;
        h->pmp_lo[n] = lo;
        h->pmp_last[n] = last;
        n++;
    }
    h->pmp_active = (uint8_t)n;
    memset(h->pmpc_key, 0, sizeof(h->pmpc_key));
    hart_tlb_flush(h);
}

/* [lo, last] covered by entry i; false when it matches nothing */
static bool pmp_range(const hart_t *h, unsigned i, uint64_t *lo, uint64_t *last)
{
    uint64_t a = h->st.pmpaddr[i];
    switch ((h->st.pmpcfg[i] >> 3) & 3) {
    case 1: { /* TOR */
        uint64_t b = i ? h->st.pmpaddr[i - 1] << 2 : 0;
        uint64_t e = a << 2;
        if (b >= e) return false;
        *lo = b;
        *last = e - 1;
        return true;
    }
    case 2: /* NA4 */
        *lo = a << 2;
        *last = *lo + 3;
        return true;
    case 3: { /* NAPOT, decoded as QEMU 7.2 does (pmpaddr keeps 64 bits):
               * the trailing ones of (a << 2 | 3) give the size; all ones
               * covers everything */
        uint64_t a2 = (a << 2) | 3;
        *lo = a2 & (a2 + 1);
        *last = a2 | (a2 + 1);
        return true;
    }
    default: return false;
    }
}

static bool pmp_check(const hart_t *h, uint64_t pa, uint64_t size, unsigned acc, unsigned priv)
{
    uint64_t end = pa + size - 1;
    for (unsigned k = 0; k < h->pmp_active; k++) {
        uint64_t lo = h->pmp_lo[k], last = h->pmp_last[k];
        if (end < lo || pa > last) continue;
        if (pa < lo || end > last) return false;
        uint8_t c = h->st.pmpcfg[h->pmp_idx[k]];
        if (priv == HART_PRIV_M && !(c & 0x80)) return true;
        return (c & acc) != 0;
    }
    /* no match: M passes; S/U pass only when no entry is active (QEMU) */
    return priv == HART_PRIV_M || !h->pmp_any;
}

/* 1: the whole page passes, 0: the whole page fails, -1: it depends */
static int pmp_page(const hart_t *h, uint64_t pg, unsigned acc, unsigned priv)
{
    uint64_t end = pg + BUS_PAGE_SIZE - 1;
    for (unsigned k = 0; k < h->pmp_active; k++) {
        uint64_t lo = h->pmp_lo[k], last = h->pmp_last[k];
        if (end < lo || pg > last) continue;
        if (pg < lo || end > last) return -1;
        uint8_t c = h->st.pmpcfg[h->pmp_idx[k]];
        if (priv == HART_PRIV_M && !(c & 0x80)) return 1;
        return (c & acc) != 0;
    }
    return priv == HART_PRIV_M || !h->pmp_any;
}

/* pmp_page through the per-hart verdict cache (walks check 3 PTEs each,
 * mostly in the same few page-table pages: 57 host instructions a check
 * with OpenSBI's entries, ~10 from the cache) */
static NOINLINE int pmp_page_fill(hart_t *h, unsigned i, uint64_t key, uint64_t pg, unsigned acc,
                                  unsigned priv)
{
    int v = pmp_page(h, pg, acc, priv);
    h->pmpc_key[i] = key;
    h->pmpc_v[i] = (int8_t)v;
    return v;
}

static inline int pmp_page_c(hart_t *h, uint64_t pg, unsigned acc, unsigned priv)
{
    uint64_t key = pg | ((uint64_t)priv << 4) | ((uint64_t)acc << 1) | 1;
    unsigned i = (unsigned)((pg >> 12) ^ (acc << 3) ^ (priv << 5)) & (HART_PMPC - 1);
    if (likely(h->pmpc_key[i] == key)) return h->pmpc_v[i];
    return pmp_page_fill(h, i, key, pg, acc, priv);
}

/* pmp_check, answered from the page verdict when [pa, pa+size) lies in a
 * page with a uniform verdict */
static inline bool pmp_ok(hart_t *h, uint64_t pa, uint64_t size, unsigned acc, unsigned priv)
{
    if ((pa & (BUS_PAGE_SIZE - 1)) + size <= BUS_PAGE_SIZE) {
        int v = pmp_page_c(h, pa & ~(uint64_t)(BUS_PAGE_SIZE - 1), acc, priv);
        if (v >= 0) return v;
    }
    return pmp_check(h, pa, size, acc, priv);
}

/* Host pointer to [pa, pa+len) when it is inside one RAM region, else
 * NULL; *flags (when asked) gets the page's bus flags. Remembers the last
 * region so walks and TLB fills skip the bus's region search. */
/* the region search of ram_at, out of line: with it inline every call
 * saved and restored registers (a third of ram_at's cost on a boot) */
static NOINLINE bool ram_find(hart_t *h, uint64_t pa, uint64_t len)
{
    uint64_t base, size;
    uint8_t *host;
    unsigned i;
    for (i = 0; bus_ram_region(h->bus, i, &base, &size, &host); i++)
        if (pa - base < size && size - (pa - base) >= len) break;
    if (!bus_ram_region(h->bus, i, &base, &size, &host)) return false;
    h->ram_base = base;
    h->ram_size = size;
    h->ram_host = host;
    uint8_t *f0 = bus_page_flags(h->bus, base);
    uint8_t *fl = bus_page_flags(h->bus, base + size - BUS_PAGE_SIZE);
    h->ram_flags = (f0 && fl == f0 + (size >> BUS_PAGE_SHIFT) - 1) ? f0 : NULL;
    return true;
}

static inline uint8_t *ram_at(hart_t *h, uint64_t pa, uint64_t len, uint8_t **flags)
{
    if (unlikely(!(pa - h->ram_base < h->ram_size && h->ram_size - (pa - h->ram_base) >= len)) &&
        !ram_find(h, pa, len))
        return NULL;
    uint64_t off = pa - h->ram_base;
    if (flags)
        *flags = h->ram_flags ? h->ram_flags + (off >> BUS_PAGE_SHIFT) : bus_page_flags(h->bus, pa);
    return h->ram_host + off;
}

static uint8_t *pte_host(hart_t *h, uint64_t pa)
{
    return ram_at(h, pa, 8, NULL);
}

/* ---- page walk -------------------------------------------------------------- */

static unsigned data_priv(const hart_t *h)
{
    const hart_state *s = &h->st;
    if (s->priv == HART_PRIV_M && (s->mstatus & MS_MPRV))
        return (unsigned)((s->mstatus & MS_MPP) >> MS_MPP_SHIFT);
    return s->priv;
}

/* Translates va for an access of kind acc at privilege priv; returns 0 with
 * *pa set, or the exception cause. Sets A/D in the leaf PTE as QEMU does. */
static unsigned walk(hart_t *h, uint64_t va, unsigned acc, unsigned priv, uint64_t *pa)
{
    const hart_state *s = &h->st;
    unsigned mode = (unsigned)(s->satp >> 60);
    if (priv == HART_PRIV_M || mode == 0) {
        *pa = va;
        return 0;
    }
    unsigned levels = mode == 9 ? 4 : 3;
    unsigned vabits = 12 + 9 * levels;
    if ((uint64_t)((int64_t)(va << (64 - vabits)) >> (64 - vabits)) != va) return pf_cause(acc);
    uint64_t a = (s->satp & PPN_MASK) << 12;
    uint64_t pte = 0, pte_pa = 0;
    int i;
    for (i = (int)levels - 1;; i--) {
        pte_pa = a + ((va >> (12 + 9 * i)) & 511) * 8;
        if (!pmp_ok(h, pte_pa, 8, ACC_R, HART_PRIV_S)) return af_cause(acc);
        const uint8_t *hp = pte_host(h, pte_pa);
        if (hp)
            memcpy(&pte, hp, 8);
        else if (bus_read(h->bus, pte_pa, 8, &pte) < 0)
            return af_cause(acc);
        if (!(pte & PTE_V) || (pte & (PTE_R | PTE_W)) == PTE_W) return pf_cause(acc);
        if (pte >> 54) return pf_cause(acc); /* no Svpbmt, no Svnapot */
        if (pte & (PTE_R | PTE_X)) break;
        if (i == 0) return pf_cause(acc);
        a = ((pte >> 10) & PPN_MASK) << 12;
    }
    uint64_t ppn = (pte >> 10) & PPN_MASK;
    if (i > 0 && (ppn & ((1ull << (9 * i)) - 1))) return pf_cause(acc);
    if (priv == HART_PRIV_U) {
        if (!(pte & PTE_U)) return pf_cause(acc);
    } else if (pte & PTE_U) {
        if (acc == ACC_X || !(s->mstatus & MS_SUM)) return pf_cause(acc);
    }
    bool ok;
    if (acc == ACC_X)
        ok = pte & PTE_X;
    else if (acc == ACC_R)
        ok = (pte & PTE_R) || ((s->mstatus & MS_MXR) && (pte & PTE_X));
    else
        ok = pte & PTE_W;
    if (!ok) return pf_cause(acc);
    uint64_t need = PTE_A | (acc == ACC_W ? PTE_D : 0);
    if ((pte & need) != need) {
        uint8_t *p = pte_host(h, pte_pa);
        if (!p) return af_cause(acc);
        pte |= need;
        memcpy(p, &pte, 8);
        bus_note_write(h->bus, pte_pa, 8);
    }
    uint64_t off = (1ull << (12 + 9 * i)) - 1;
    *pa = ((ppn << 12) & ~off) | (va & off);
    return 0;
}

/* Translates and PMP-checks [va, va+size) (inside one page) for a data
 * access; *host is set when the bytes are RAM (or ROM for reads). Installs
 * a TLB entry when it can. False with the exception recorded otherwise. */
static bool data_xlate(hart_t *h, uint64_t va, unsigned size, unsigned acc, uint64_t *pa,
                       uint8_t **host)
{
    unsigned priv = data_priv(h);
    uint64_t page = va & ~(uint64_t)(BUS_PAGE_SIZE - 1), off = va & (BUS_PAGE_SIZE - 1);
    tlb2 *e2 = &h->tlb2[(size_t)h->dset * TLB2_SIZE + ((va >> 12) & (TLB2_SIZE - 1))];
    uint32_t gen = h->tlb2_gen[h->dset];
    uint64_t pg;
    uint8_t *hp, *fl;
    if (e2->page == page && e2->gen == gen && (e2->perm & acc)) {
        pg = e2->pa;
        hp = e2->host;
        fl = e2->flags;
    } else {
        uint64_t p;
        unsigned rc = walk(h, va, acc, priv, &p);
        if (rc) {
            exc(h, rc, va);
            return false;
        }
        if (!pmp_ok(h, p, size, acc, priv)) {
            exc(h, af_cause(acc), va);
            return false;
        }
        pg = p & ~(uint64_t)(BUS_PAGE_SIZE - 1);
        hp = ram_at(h, pg, BUS_PAGE_SIZE, &fl);
        if (!hp) {
            hp = bus_ram_ptr(h->bus, pg, BUS_PAGE_SIZE, acc == ACC_W); /* ROM */
            fl = NULL;
        }
        if (hp && (acc != ACC_W || fl) && pmp_page_c(h, pg, acc, priv) == 1) {
            if (e2->page != page || e2->gen != gen || e2->pa != pg) e2->perm = 0;
            e2->page = page;
            e2->pa = pg;
            e2->host = hp;
            e2->flags = fl;
            e2->gen = gen;
            e2->perm |= acc;
        }
    }
    *pa = pg | off;
    *host = hp ? hp + off : NULL;
    if (!hp) return true;
    if (e2->page == page && e2->gen == gen && (e2->perm & acc)) {
        h->tlb_used |= (uint8_t)(1u << h->dset);
        tlbset *t = h->dtlb;
        if (t->nfill < TLB_FILL_MAX)
            t->fill[t->nfill++] = (uint16_t)((va >> 12) & (TLB_DSIZE - 1));
        else
            t->nfill = TLB_FILL_MAX + 1;
        if (OBS_ON(h->obs)) obs_tlb(h->obs, h, pg, acc == ACC_W);
        if (acc == ACC_W) {
            tlb_w *e = TLB_W(h->dtlb, va);
            e->page = page;
            e->add = (uintptr_t)hp - (uintptr_t)page;
            e->flags = e2->flags;
            e->pa = pg;
        } else {
            tlb_r *e = TLB_R(h->dtlb, va);
            e->page = page;
            e->add = (uintptr_t)hp - (uintptr_t)page;
        }
    }
    return true;
}

/* ---- loads and stores ---------------------------------------------------------- */

static void note_host_write(hart_t *h, uint64_t pa, unsigned size)
{
    uint8_t *fl = NULL;
    if (!ram_at(h, pa, size, &fl)) fl = bus_page_flags(h->bus, pa);
    if (fl && *fl == BUS_PAGE_DIRTY) return; /* already dirty, no code */
    bool code = fl && (*fl & BUS_PAGE_CODE);
    bus_note_write(h->bus, pa, size);
    if (code) hart_code_written(h, pa);
}

/* translate the (up to two) parts of a misaligned access */
static bool split_xlate(hart_t *h, uint64_t va, unsigned size, unsigned acc, uint64_t pa[2],
                        uint8_t *host[2], unsigned n[2])
{
    unsigned in_page = BUS_PAGE_SIZE - (unsigned)(va & (BUS_PAGE_SIZE - 1));
    n[0] = size < in_page ? size : in_page;
    n[1] = size - n[0];
    if (!data_xlate(h, va, n[0], acc, &pa[0], &host[0])) return false;
    if (n[1] && !data_xlate(h, va + n[0], n[1], acc, &pa[1], &host[1])) return false;
    return true;
}

static bool load_misaligned(hart_t *h, uint64_t va, unsigned size, uint64_t *val)
{
    uint64_t pa[2];
    uint8_t *host[2];
    unsigned n[2];
    if (!split_xlate(h, va, size, ACC_R, pa, host, n)) return false;
    uint64_t v = 0;
    unsigned k = 0;
    for (unsigned part = 0; part < 2; part++) {
        for (unsigned j = 0; j < n[part]; j++, k++) {
            uint64_t b;
            if (host[part])
                b = host[part][j];
            else if (bus_read(h->bus, pa[part] + j, 1, &b) < 0) {
                exc(h, EXC_LACC, va + k);
                return false;
            }
            v |= (b & 0xff) << (8 * k);
        }
    }
    *val = v;
    return true;
}

static bool store_misaligned(hart_t *h, uint64_t va, unsigned size, uint64_t val)
{
    uint64_t pa[2];
    uint8_t *host[2];
    unsigned n[2];
    if (!split_xlate(h, va, size, ACC_W, pa, host, n)) return false;
    unsigned k = 0;
    for (unsigned part = 0; part < 2; part++) {
        for (unsigned j = 0; j < n[part]; j++, k++) {
            uint8_t b = (uint8_t)(val >> (8 * k));
            if (host[part]) {
                host[part][j] = b;
            } else if (bus_write(h->bus, pa[part] + j, 1, b) < 0) {
                exc(h, EXC_SACC, va + k);
                return false;
            }
        }
        if (host[part] && n[part]) note_host_write(h, pa[part], n[part]);
    }
    return true;
}

bool hart_load_slow(hart_t *h, uint64_t va, unsigned size, uint64_t *val)
{
    if (va & (size - 1)) return load_misaligned(h, va, size, val);
    uint64_t pa;
    uint8_t *host;
    if (!data_xlate(h, va, size, ACC_R, &pa, &host)) return false;
    if (host) {
        *val = ld_host(host, size);
        return true;
    }
    if (bus_read(h->bus, pa, size, val) < 0) {
        exc(h, EXC_LACC, va);
        return false;
    }
    return true;
}

bool hart_store_slow(hart_t *h, uint64_t va, unsigned size, uint64_t val)
{
    if (va & (size - 1)) return store_misaligned(h, va, size, val);
    uint64_t pa;
    uint8_t *host;
    if (!data_xlate(h, va, size, ACC_W, &pa, &host)) return false;
    if (host) {
        st_host(host, size, val);
        note_host_write(h, pa, size);
        return true;
    }
    if (bus_write(h->bus, pa, size, val) < 0) {
        exc(h, EXC_SACC, va);
        return false;
    }
    return true;
}

/* ---- atomics ------------------------------------------------------------------- */

static uint64_t sext_size(uint64_t v, unsigned size)
{
    return size == 4 ? (uint64_t)(int64_t)(int32_t)v : v;
}

/* read-modify-write access: translate for a store, return pa/host */
static bool rmw_xlate(hart_t *h, uint64_t va, unsigned size, uint64_t *pa, uint8_t **host)
{
    if (va & (size - 1)) {
        exc(h, EXC_SMIS, va);
        return false;
    }
    const tlb_w *e = TLB_W(h->dtlb, va);
    if (e->page == PAGE_TAG(va, size) && *e->flags == BUS_PAGE_DIRTY) {
        *host = (uint8_t *)(uintptr_t)(va + e->add);
        *pa = e->pa | (va & (BUS_PAGE_SIZE - 1));
        return true;
    }
    return data_xlate(h, va, size, ACC_W, pa, host);
}

static bool rmw_read(hart_t *h, uint64_t va, uint64_t pa, const uint8_t *host, unsigned size,
                     uint64_t *v)
{
    if (host) {
        *v = ld_host(host, size);
        return true;
    }
    if (bus_read(h->bus, pa, size, v) < 0) {
        exc(h, EXC_SACC, va);
        return false;
    }
    return true;
}

static bool rmw_write(hart_t *h, uint64_t va, uint64_t pa, uint8_t *host, unsigned size, uint64_t v)
{
    if (host) {
        st_host(host, size, v);
        note_host_write(h, pa, size);
        return true;
    }
    if (bus_write(h->bus, pa, size, v) < 0) {
        exc(h, EXC_SACC, va);
        return false;
    }
    return true;
}

bool hart_lr(hart_t *h, uint64_t va, unsigned size, uint64_t *val)
{
    if (va & (size - 1)) {
        exc(h, EXC_LMIS, va);
        return false;
    }
    uint64_t v;
    const tlb_r *e = TLB_R(h->dtlb, va);
    if (e->page == PAGE_TAG(va, size))
        v = ld_host((const uint8_t *)(uintptr_t)(va + e->add), size);
    else if (!hart_load_slow(h, va, size, &v))
        return false;
    v = sext_size(v, size);
    h->st.res_valid = 1;
    h->st.res_addr = va;
    h->st.res_val = v;
    *val = v;
    return true;
}

bool hart_sc(hart_t *h, uint64_t va, unsigned size, uint64_t val, uint64_t *rd)
{
    if (va & (size - 1)) {
        exc(h, EXC_SMIS, va);
        return false;
    }
    if (!h->st.res_valid || h->st.res_addr != va) {
        h->st.res_valid = 0;
        *rd = 1;
        return true;
    }
    uint64_t pa, cur;
    uint8_t *host;
    if (!rmw_xlate(h, va, size, &pa, &host)) return false;
    if (!rmw_read(h, va, pa, host, size, &cur)) return false;
    h->st.res_valid = 0;
    /* QEMU's SC is a compare-and-swap of the access size against the value
     * LR loaded (sign-extended for .W): it stores when the low bits match,
     * and reports success when the sign-extended old value equals it. */
    uint64_t want = h->st.res_val;
    bool match = size == 4 ? (uint32_t)cur == (uint32_t)want : cur == want;
    if (match && !rmw_write(h, va, pa, host, size, val)) return false;
    *rd = sext_size(cur, size) != want;
    return true;
}

bool hart_amo(hart_t *h, unsigned funct5, uint64_t va, unsigned size, uint64_t src, uint64_t *rd)
{
    uint64_t pa, old;
    uint8_t *host;
    if (!rmw_xlate(h, va, size, &pa, &host)) return false;
    if (!rmw_read(h, va, pa, host, size, &old)) return false;
    uint64_t a = sext_size(old, size), b = sext_size(src, size), r;
    uint64_t ua = size == 4 ? (uint32_t)old : old, ub = size == 4 ? (uint32_t)src : src;
    switch (funct5) {
    case 0x01: r = b; break;                               /* swap */
    case 0x00: r = a + b; break;                           /* add */
    case 0x04: r = a ^ b; break;                           /* xor */
    case 0x0c: r = a & b; break;                           /* and */
    case 0x08: r = a | b; break;                           /* or */
    case 0x10: r = (int64_t)a < (int64_t)b ? a : b; break; /* min */
    case 0x14: r = (int64_t)a > (int64_t)b ? a : b; break; /* max */
    case 0x18: r = ua < ub ? a : b; break;                 /* minu */
    case 0x1c: r = ua > ub ? a : b; break;                 /* maxu */
    default: r = a; break;
    }
    if (!rmw_write(h, va, pa, host, size, r)) return false;
    *rd = a;
    return true;
}

/* ---- instruction fetch ------------------------------------------------------ */

dpage *hart_fetch_page(hart_t *h, uint64_t pc)
{
    unsigned priv = h->st.priv;
    uint64_t pa;
    unsigned rc = walk(h, pc, ACC_X, priv, &pa);
    if (rc) {
        exc(h, rc, pc);
        return NULL;
    }
    uint64_t pg = pa & ~(uint64_t)(BUS_PAGE_SIZE - 1);
    uint8_t *fl = NULL;
    const uint8_t *host = ram_at(h, pg, BUS_PAGE_SIZE, &fl);
    if (!host) host = bus_ram_ptr(h->bus, pg, BUS_PAGE_SIZE, false); /* ROM */
    if (!host || !pmp_ok(h, pa, 2, ACC_X, priv)) {
        exc(h, EXC_IACC, pc);
        return NULL;
    }
    dpage *dp = dpage_get(h, pg, host, fl);
    if (!dp) {
        exc(h, EXC_IACC, pc);
        return NULL;
    }
    if (pmp_page_c(h, pg, ACC_X, priv) == 1) {
        tlb_x *e = &h->xtlb[(pc >> 12) & (TLB_SIZE - 1)];
        h->tlb_used |= (uint8_t)(1u << (priv == HART_PRIV_M   ? TS_M
                                        : priv == HART_PRIV_U ? TS_U
                                                              : TS_S));
        e->vpn = pc >> 12;
        e->dp = dp;
        if (OBS_ON(h->obs)) obs_tlb(h->obs, h, pg, 2);
    }
    return dp;
}

bool hart_fetch16(hart_t *h, uint64_t va, uint16_t *out)
{
    uint64_t pa;
    unsigned rc = walk(h, va, ACC_X, h->st.priv, &pa);
    if (rc) {
        exc(h, rc, va);
        return false;
    }
    const uint8_t *p = bus_ram_ptr(h->bus, pa, 2, false);
    if (!p || !pmp_ok(h, pa, 2, ACC_X, h->st.priv)) {
        exc(h, EXC_IACC, va);
        return false;
    }
    memcpy(out, p, 2);
    return true;
}

uint32_t hart_insn_bits(hart_t *h, uint64_t pc)
{
    uint64_t c = h->exc_cause, t = h->exc_tval;
    uint16_t lo = 0, hi = 0;
    uint32_t v = 0;
    if (hart_fetch16(h, pc, &lo)) {
        v = lo;
        if ((lo & 3) == 3 && hart_fetch16(h, pc + 2, &hi)) v |= (uint32_t)hi << 16;
    }
    h->exc_cause = c;
    h->exc_tval = t;
    return v;
}
