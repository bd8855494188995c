/*
 * gva.c - Sv39/Sv48 page walks over a physical-memory read callback.
 *
 * Invariants: reads PTEs only through s->read_phys, never writes; every
 * walk reads at most GVA_MAX_LEVELS entries; gva_enum is bounded by
 * max_ptes entries read, so a hostile table (every entry pointing back at
 * the root) costs a bounded amount of work.
 */
#include "gva.h"

#include <string.h>

#define PPN_MASK ((1ull << 44) - 1)

static int mode_levels(uint64_t satp)
{
    switch (satp >> 60) {
    case 0: return 0;
    case 8: return 3;
    case 9: return 4;
    default: return -1;
    }
}

static uint64_t sext(uint64_t v, unsigned bits)
{
    return (uint64_t)((int64_t)(v << (64 - bits)) >> (64 - bits));
}

static int fault_rc(gva_fault f)
{
    switch (f) {
    case GVA_OK: return 0;
    case GVA_NONCANONICAL: return MC_ERANGE;
    case GVA_INVALID:
    case GVA_NOLEAF: return MC_ENOENT;
    case GVA_BUSFAULT: return MC_EBUSFAULT;
    default: return MC_EGUEST;
    }
}

/* Classifies a PTE read at level lvl: GVA_OK and *leaf for a valid one. */
static gva_fault check_pte(uint64_t pte, int lvl, int *leaf)
{
    if (!(pte & GVA_V)) return GVA_INVALID;
    if ((pte & (GVA_R | GVA_W)) == GVA_W || (pte >> 54)) return GVA_RESERVED;
    *leaf = (pte & (GVA_R | GVA_X)) != 0;
    if (*leaf && lvl > 0 && (((pte >> 10) & PPN_MASK) & ((1ull << (9 * lvl)) - 1)))
        return GVA_MISALIGNED;
    if (!*leaf && lvl == 0) return GVA_NOLEAF;
    return GVA_OK;
}

int gva_translate(const gva_space *s, uint64_t va, gva_walk *w)
{
    memset(w, 0, sizeof(*w));
    w->va = va;
    int levels = mode_levels(s->satp);
    if (levels < 0) return MC_EUNSUP;
    if (levels == 0) {
        w->pa = va;
        w->page_size = 0;
        w->perm = GVA_V | GVA_R | GVA_W | GVA_X;
        w->level = -1;
        return 0;
    }
    unsigned vabits = 12 + 9 * (unsigned)levels;
    if (sext(va, vabits) != va) {
        w->fault = GVA_NONCANONICAL;
        return MC_ERANGE;
    }
    uint64_t table = (s->satp & PPN_MASK) << 12;
    for (int lvl = levels - 1; lvl >= 0; lvl--) {
        uint64_t pa = table + ((va >> (12 + 9 * lvl)) & 511) * 8, pte;
        w->level = lvl;
        w->pte_addr[w->nlevels] = pa;
        if (s->read_phys(s->ctx, pa, &pte, 8)) {
            w->fault = GVA_BUSFAULT;
            return MC_EBUSFAULT;
        }
        w->pte[w->nlevels++] = pte;
        int leaf = 0;
        gva_fault f = check_pte(pte, lvl, &leaf);
        if (f != GVA_OK) {
            w->fault = f;
            return fault_rc(f);
        }
        if (leaf) {
            uint64_t size = 1ull << (12 + 9 * lvl);
            w->page_size = size;
            w->perm = (unsigned)(pte & 0xff);
            w->pa = ((((pte >> 10) & PPN_MASK) << 12) & ~(size - 1)) | (va & (size - 1));
            return 0;
        }
        table = ((pte >> 10) & PPN_MASK) << 12;
    }
    return MC_ENOENT; /* not reached: level 0 is a leaf or a fault */
}

int gva_read(const gva_space *s, uint64_t va, void *buf, size_t len)
{
    uint8_t *b = buf;
    while (len) {
        gva_walk w;
        int rc = gva_translate(s, va, &w);
        if (rc) return rc;
        uint64_t room = w.page_size ? w.page_size - (va & (w.page_size - 1)) : len;
        if (!w.page_size) room = 4096 - (va & 4095); /* Bare: read per 4K page */
        size_t n = room < len ? (size_t)room : len;
        if ((rc = s->read_phys(s->ctx, w.pa, b, n))) return rc;
        b += n;
        va += n;
        len -= n;
    }
    return 0;
}

int gva_read_cb(void *space, uint64_t va, void *buf, size_t len)
{
    return gva_read(space, va, buf, len);
}

/* ---- enumeration ---------------------------------------------------------- */

typedef struct enum_state {
    const gva_space *s;
    unsigned vabits;
    uint64_t lo, hi; /* inclusive bounds, canonical */
    size_t budget;
    gva_range cur; /* pending range, len 0 if none */
    gva_range_fn fn;
    void *arg;
} enum_state;

static int emit(enum_state *e, uint64_t va, uint64_t pa, uint64_t size, unsigned perm)
{
    gva_range *c = &e->cur;
    if (c->len && c->va + c->len == va && c->pa + c->len == pa && c->perm == perm &&
        c->page_size == size) {
        c->len += size;
        return 0;
    }
    if (c->len) {
        int r = e->fn(e->arg, c);
        if (r) return r;
    }
    c->va = va;
    c->pa = pa;
    c->len = size;
    c->page_size = size;
    c->perm = perm;
    return 0;
}

static int walk_table(enum_state *e, uint64_t table, int lvl, uint64_t va_base)
{
    unsigned shift = 12 + 9 * (unsigned)lvl;
    uint64_t span = 1ull << shift;
    for (uint64_t i = 0; i < 512; i++) {
        uint64_t raw = va_base + i * span;
        uint64_t va = sext(raw, e->vabits);
        uint64_t last = va + span - 1;
        if (last < e->lo || va > e->hi) continue;
        if (!e->budget) return MC_ERANGE;
        e->budget--;
        uint64_t pte;
        if (e->s->read_phys(e->s->ctx, table + i * 8, &pte, 8)) continue;
        int leaf = 0;
        if (check_pte(pte, lvl, &leaf) != GVA_OK) continue;
        uint64_t ppa = ((pte >> 10) & PPN_MASK) << 12;
        int r = leaf ? emit(e, va, ppa, span, (unsigned)(pte & 0xff))
                     : walk_table(e, ppa, lvl - 1, raw);
        if (r) return r;
    }
    return 0;
}

int gva_enum(const gva_space *s, uint64_t va_lo, uint64_t va_hi, size_t max_ptes, gva_range_fn fn,
             void *arg)
{
    int levels = mode_levels(s->satp);
    if (levels <= 0) return levels < 0 ? MC_EUNSUP : MC_EINVAL; /* Bare: nothing to list */
    enum_state e = {.s = s,
                    .vabits = 12 + 9 * (unsigned)levels,
                    .lo = va_lo,
                    .hi = va_hi,
                    .budget = max_ptes ? max_ptes : (size_t)1 << 22,
                    .fn = fn,
                    .arg = arg};
    /* root index order is VA order: entries 0..255 (Sv39) are the lower
     * half, 256..511 sign-extend to the upper half 0xffff... */
    int r = walk_table(&e, (s->satp & PPN_MASK) << 12, levels - 1, 0);
    if (!r && e.cur.len)
        r = fn(arg, &e.cur);
    else if (r == MC_ERANGE && e.cur.len)
        (void)fn(arg, &e.cur);
    return r;
}

const char *gva_perm_str(unsigned perm, char buf[8])
{
    static const char letters[] = "rwxugad";
    for (int i = 0; i < 7; i++)
        buf[i] = (perm >> (i + 1)) & 1 ? letters[i] : '-';
    buf[7] = 0;
    return buf;
}

const char *gva_fault_str(gva_fault f)
{
    switch (f) {
    case GVA_OK: return "ok";
    case GVA_NONCANONICAL: return "non-canonical virtual address";
    case GVA_INVALID: return "invalid PTE (V=0): not mapped";
    case GVA_RESERVED: return "reserved PTE encoding";
    case GVA_MISALIGNED: return "misaligned superpage";
    case GVA_NOLEAF: return "pointer PTE at the last level";
    case GVA_BUSFAULT: return "PTE read failed";
    }
    return "?";
}
