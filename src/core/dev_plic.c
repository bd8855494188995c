/*
 * dev_plic.c - SiFive PLIC with the QEMU virt layout and semantics.
 *
 * State: per-source priority, pending, claimed and input line level bits;
 * per-context enable bits and threshold. Invariants: pending bit 0 is never
 * set; every state change ends in plic_drive(), which sets each context's
 * output to "some source is pending, enabled, not claimed and has a
 * priority above the threshold". Claim picks the highest priority, lowest
 * ID among those (strictly greater priority wins while scanning upwards).
 */
#include "dev_plic.h"

#include <stdlib.h>
#include <string.h>

#include "hart.h"

#define PLIC_WORDS          ((DEV_PLIC_NUM_SOURCES + 31) / 32)
#define PLIC_MAX_CTX        (2 * DEV_MAX_HARTS)
#define PLIC_PENDING        0x1000
#define PLIC_ENABLE         0x2000
#define PLIC_ENABLE_STRIDE  0x80
#define PLIC_CONTEXT        0x200000
#define PLIC_CONTEXT_STRIDE 0x1000
#define PLIC_STATE_MAGIC    0x43494c50u /* "PLIC" */

/* The snapshot blob: guest-visible state and input levels, no pointers. */
typedef struct plic_state {
    uint32_t magic;
    uint32_t nharts;
    uint32_t priority[DEV_PLIC_NUM_SOURCES];
    uint32_t pending[PLIC_WORDS];
    uint32_t claimed[PLIC_WORDS];
    uint32_t line[PLIC_WORDS]; /* input levels */
    uint32_t enable[PLIC_MAX_CTX][PLIC_WORDS];
    uint32_t threshold[PLIC_MAX_CTX];
} plic_state;

struct dev_plic {
    dev_hart_irq_fn irq;
    void *ctx;
    plic_state st;
};

static void set_bit(uint32_t *words, unsigned n, int v)
{
    if (v)
        words[n / 32] |= 1u << (n % 32);
    else
        words[n / 32] &= ~(1u << (n % 32));
}

static int get_bit(const uint32_t *words, unsigned n)
{
    return (words[n / 32] >> (n % 32)) & 1;
}

/* Best deliverable source for context c, or 0. */
static unsigned plic_best(const dev_plic_t *p, unsigned c)
{
    uint32_t best_prio = p->st.threshold[c];
    unsigned best = 0;

    for (unsigned w = 0; w < PLIC_WORDS; w++) {
        uint32_t cand = p->st.pending[w] & ~p->st.claimed[w] & p->st.enable[c][w];

        while (cand) {
            unsigned s = w * 32 + (unsigned)__builtin_ctz(cand);

            cand &= cand - 1;
            if (s < DEV_PLIC_NUM_SOURCES && p->st.priority[s] > best_prio) {
                best_prio = p->st.priority[s];
                best = s;
            }
        }
    }
    return best;
}

static void plic_drive(dev_plic_t *p)
{
    for (unsigned c = 0; c < 2 * p->st.nharts; c++)
        p->irq(p->ctx, c / 2, (c & 1) ? HART_IRQ_SEIP : HART_IRQ_MEIP, plic_best(p, c) != 0);
}

void dev_plic_set_irq(dev_plic_t *p, unsigned src, int level)
{
    if (src == 0 || src >= DEV_PLIC_NUM_SOURCES) return;
    set_bit(p->st.line, src, level != 0);
    set_bit(p->st.pending, src, level != 0);
    plic_drive(p);
}

void dev_plic_irq(void *plic, unsigned src, int level)
{
    dev_plic_set_irq(plic, src, level);
}

static int plic_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
    dev_plic_t *p = dev;
    unsigned nctx = 2 * p->st.nharts;

    *val = 0;
    if (size != 4) return MC_EBUSFAULT;
    if (off < 4 * DEV_PLIC_NUM_SOURCES) {
        *val = p->st.priority[off / 4];
    } else if (off >= PLIC_PENDING && off < PLIC_PENDING + 4 * PLIC_WORDS) {
        *val = p->st.pending[(off - PLIC_PENDING) / 4];
    } else if (off >= PLIC_ENABLE && off < PLIC_ENABLE + (uint64_t)nctx * PLIC_ENABLE_STRIDE) {
        unsigned c = (unsigned)((off - PLIC_ENABLE) / PLIC_ENABLE_STRIDE);
        unsigned w = (unsigned)((off % PLIC_ENABLE_STRIDE) / 4);

        if (w < PLIC_WORDS) *val = p->st.enable[c][w];
    } else if (off >= PLIC_CONTEXT && off < PLIC_CONTEXT + (uint64_t)nctx * PLIC_CONTEXT_STRIDE) {
        unsigned c = (unsigned)((off - PLIC_CONTEXT) / PLIC_CONTEXT_STRIDE);
        unsigned reg = (unsigned)(off % PLIC_CONTEXT_STRIDE);

        if (reg == 0) {
            *val = p->st.threshold[c];
        } else if (reg == 4) { /* claim */
            unsigned s = plic_best(p, c);

            if (s) {
                set_bit(p->st.pending, s, 0);
                set_bit(p->st.claimed, s, 1);
            }
            plic_drive(p);
            *val = s;
        }
    }
    return MC_OK;
}

static int plic_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    dev_plic_t *p = dev;
    unsigned nctx = 2 * p->st.nharts;

    if (size != 4) return MC_EBUSFAULT;
    val &= 0xffffffffu;
    if (off < 4 * DEV_PLIC_NUM_SOURCES) {
        /* 7 priorities: 3 WARL bits, as QEMU */
        p->st.priority[off / 4] = (uint32_t)(val % (DEV_PLIC_NUM_PRIORITIES + 1));
    } else if (off >= PLIC_ENABLE && off < PLIC_ENABLE + (uint64_t)nctx * PLIC_ENABLE_STRIDE) {
        unsigned c = (unsigned)((off - PLIC_ENABLE) / PLIC_ENABLE_STRIDE);
        unsigned w = (unsigned)((off % PLIC_ENABLE_STRIDE) / 4);

        if (w >= PLIC_WORDS) return MC_OK;
        p->st.enable[c][w] = (uint32_t)val;
    } else if (off >= PLIC_CONTEXT && off < PLIC_CONTEXT + (uint64_t)nctx * PLIC_CONTEXT_STRIDE) {
        unsigned c = (unsigned)((off - PLIC_CONTEXT) / PLIC_CONTEXT_STRIDE);
        unsigned reg = (unsigned)(off % PLIC_CONTEXT_STRIDE);

        if (reg == 0) {
            p->st.threshold[c] = (uint32_t)(val % (DEV_PLIC_NUM_PRIORITIES + 1));
        } else if (reg == 4) { /* complete */
            if (val >= DEV_PLIC_NUM_SOURCES) return MC_OK;
            set_bit(p->st.claimed, (unsigned)val, 0);
            /* a level source still asserted asks again */
            if (val != 0 && get_bit(p->st.line, (unsigned)val))
                set_bit(p->st.pending, (unsigned)val, 1);
        } else {
            return MC_OK;
        }
    } else {
        return MC_OK; /* pending bits are read-only; holes ignore writes */
    }
    plic_drive(p);
    return MC_OK;
}

const bus_mmio_ops dev_plic_ops = {.read = plic_read, .write = plic_write};

int dev_plic_new(dev_plic_t **out, unsigned nharts, dev_hart_irq_fn irq, void *ctx)
{
    dev_plic_t *p;

    *out = NULL;
    if (nharts == 0 || nharts > DEV_MAX_HARTS || !irq) return MC_EINVAL;
    p = calloc(1, sizeof(*p));
    if (!p) return MC_ENOMEM;
    p->irq = irq;
    p->ctx = ctx;
    p->st.magic = PLIC_STATE_MAGIC;
    p->st.nharts = nharts;
    dev_plic_reset(p);
    *out = p;
    return MC_OK;
}

void dev_plic_free(dev_plic_t *p)
{
    free(p);
}

void dev_plic_reset(dev_plic_t *p)
{
    memset(p->st.priority, 0, sizeof(p->st.priority));
    memset(p->st.claimed, 0, sizeof(p->st.claimed));
    memset(p->st.enable, 0, sizeof(p->st.enable));
    memset(p->st.threshold, 0, sizeof(p->st.threshold));
    /* pending follows the (kept) input levels */
    memcpy(p->st.pending, p->st.line, sizeof(p->st.pending));
    plic_drive(p);
}

unsigned dev_plic_state_size(void)
{
    return sizeof(plic_state);
}

void dev_plic_state_save(const dev_plic_t *p, void *buf)
{
    memcpy(buf, &p->st, sizeof(p->st));
}

int dev_plic_state_restore(dev_plic_t *p, const void *buf, unsigned len)
{
    plic_state s;
    uint32_t last_mask = DEV_PLIC_NUM_SOURCES % 32 ? (1u << (DEV_PLIC_NUM_SOURCES % 32)) - 1 : ~0u;

    if (len != sizeof(s)) return MC_ECORRUPT;
    memcpy(&s, buf, sizeof(s));
    if (s.magic != PLIC_STATE_MAGIC || s.nharts != p->st.nharts) return MC_ECORRUPT;
    if ((s.pending[0] & 1) || (s.line[0] & 1) || (s.pending[PLIC_WORDS - 1] & ~last_mask) ||
        (s.claimed[PLIC_WORDS - 1] & ~last_mask) || (s.line[PLIC_WORDS - 1] & ~last_mask))
        return MC_ECORRUPT;
    for (unsigned i = 0; i < DEV_PLIC_NUM_SOURCES; i++)
        if (s.priority[i] > DEV_PLIC_NUM_PRIORITIES) return MC_ECORRUPT;
    for (unsigned c = 0; c < PLIC_MAX_CTX; c++)
        if (s.threshold[c] > DEV_PLIC_NUM_PRIORITIES) return MC_ECORRUPT;
    p->st = s;
    plic_drive(p);
    return MC_OK;
}
