/*
 * dev_clint.c - CLINT: per-hart msip, per-hart mtimecmp and a shared mtime.
 *
 * Reset as QEMU 7.2's virt: mtime = 0 and mtimecmp = 0, so MTIP is pending
 * until the firmware programs mtimecmp.
 *
 * Invariants: mtime = now() + st.mtime_offset (mod 2^64); after every
 * change of msip, mtimecmp or mtime, and on dev_clint_update(), each hart's
 * MSIP and MTIP lines are driven to msip[h] & 1 and mtime >= mtimecmp[h].
 * Lines are always driven (never cached), so a receiver that was reset
 * independently is brought back in line at the next update.
 */
#include "dev_clint.h"

#include <stdlib.h>
#include <string.h>

#include "hart.h"

#define CLINT_MSIP        0x0
#define CLINT_MSIP_END    0x4000
#define CLINT_MTIMECMP    0x4000
#define CLINT_MTIME       0xbff8
#define CLINT_STATE_MAGIC 0x544e4c43u /* "CLNT" */

/* The snapshot blob: guest-visible state only, no pointers. */
typedef struct clint_state {
    uint32_t magic;
    uint32_t nharts;
    uint32_t msip[DEV_MAX_HARTS];
    uint64_t mtimecmp[DEV_MAX_HARTS];
    uint64_t mtime_offset;
} clint_state;

struct dev_clint {
    dev_time_fn now;
    dev_hart_irq_fn irq;
    void *ctx;
    clint_state st;
};

uint64_t dev_clint_mtime(const dev_clint_t *c)
{
    return c->now(c->ctx) + c->st.mtime_offset;
}

static void clint_drive(dev_clint_t *c)
{
    uint64_t mtime = dev_clint_mtime(c);

    for (unsigned h = 0; h < c->st.nharts; h++) {
        c->irq(c->ctx, h, HART_IRQ_MSIP, (int)(c->st.msip[h] & 1));
        c->irq(c->ctx, h, HART_IRQ_MTIP, mtime >= c->st.mtimecmp[h]);
    }
}

void dev_clint_update(dev_clint_t *c)
{
    clint_drive(c);
}

uint64_t dev_clint_next_deadline(const dev_clint_t *c)
{
    uint64_t best = UINT64_MAX;

    for (unsigned h = 0; h < c->st.nharts; h++) {
        /* now() ticks at which now() + offset reaches mtimecmp; offset is a
         * two's-complement delta. */
        __int128 d = (__int128)c->st.mtimecmp[h] - (__int128)(int64_t)c->st.mtime_offset;
        uint64_t t;

        if (c->st.mtimecmp[h] == UINT64_MAX) continue; /* disarmed */
        t = d < 0 ? 0 : d > (__int128)UINT64_MAX ? UINT64_MAX : (uint64_t)d;
        if (t < best) best = t;
    }
    return best;
}

/* Replaces the bytes [shift/8, shift/8 + size) of *reg with val. */
static void merge(uint64_t *reg, unsigned shift, unsigned size, uint64_t val)
{
    uint64_t mask = size == 8 ? ~0ull : ((1ull << (size * 8)) - 1) << shift;

    *reg = (*reg & ~mask) | ((val << shift) & mask);
}

static int clint_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
    dev_clint_t *c = dev;

    *val = 0;
    if (off < CLINT_MSIP_END) {
        if (size != 4) return MC_EBUSFAULT;
        if (off / 4 < c->st.nharts) *val = c->st.msip[off / 4] & 1;
        return MC_OK;
    }
    if (size != 4 && size != 8) return MC_EBUSFAULT;
    if (off >= CLINT_MTIME && off < CLINT_MTIME + 8) {
        *val = dev_clint_mtime(c) >> ((off - CLINT_MTIME) * 8);
    } else if (off >= CLINT_MTIMECMP && (off - CLINT_MTIMECMP) / 8 < c->st.nharts) {
        unsigned h = (unsigned)((off - CLINT_MTIMECMP) / 8);
        *val = c->st.mtimecmp[h] >> ((off & 7) * 8);
    }
    if (size == 4) *val &= 0xffffffffu;
    return MC_OK;
}

static int clint_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    dev_clint_t *c = dev;

    if (off < CLINT_MSIP_END) {
        if (size != 4) return MC_EBUSFAULT;
        if (off / 4 < c->st.nharts) {
            c->st.msip[off / 4] = val & 1;
            clint_drive(c);
        }
        return MC_OK;
    }
    if (size != 4 && size != 8) return MC_EBUSFAULT;
    if (off >= CLINT_MTIME && off < CLINT_MTIME + 8) {
        uint64_t mtime = dev_clint_mtime(c);

        merge(&mtime, (unsigned)(off - CLINT_MTIME) * 8, size, val);
        c->st.mtime_offset = mtime - c->now(c->ctx);
        clint_drive(c);
    } else if (off >= CLINT_MTIMECMP && (off - CLINT_MTIMECMP) / 8 < c->st.nharts) {
        unsigned h = (unsigned)((off - CLINT_MTIMECMP) / 8);

        merge(&c->st.mtimecmp[h], (unsigned)(off & 7) * 8, size, val);
        clint_drive(c);
    }
    return MC_OK;
}

const bus_mmio_ops dev_clint_ops = {.read = clint_read, .write = clint_write};

int dev_clint_new(dev_clint_t **out, unsigned nharts, dev_time_fn now, dev_hart_irq_fn irq,
                  void *ctx)
{
    dev_clint_t *c;

    *out = NULL;
    if (nharts == 0 || nharts > DEV_MAX_HARTS || !now || !irq) return MC_EINVAL;
    c = calloc(1, sizeof(*c));
    if (!c) return MC_ENOMEM;
    c->now = now;
    c->irq = irq;
    c->ctx = ctx;
    c->st.magic = CLINT_STATE_MAGIC;
    c->st.nharts = nharts;
    dev_clint_reset(c);
    *out = c;
    return MC_OK;
}

void dev_clint_free(dev_clint_t *c)
{
    free(c);
}

void dev_clint_reset(dev_clint_t *c)
{
    memset(c->st.msip, 0, sizeof(c->st.msip));
    /* QEMU 7.2 virt: mtimecmp of an existing hart is 0 after reset (the
     * spec leaves it unspecified), so MTIP is pending from reset until
     * firmware writes mtimecmp (OpenSBI writes -1 first). Slots of absent
     * harts stay disarmed. */
    for (unsigned h = 0; h < DEV_MAX_HARTS; h++)
        c->st.mtimecmp[h] = h < c->st.nharts ? 0 : UINT64_MAX;
    c->st.mtime_offset = 0;
    clint_drive(c);
}

unsigned dev_clint_state_size(void)
{
    return sizeof(clint_state);
}

void dev_clint_state_save(const dev_clint_t *c, void *buf)
{
    memcpy(buf, &c->st, sizeof(c->st));
}

int dev_clint_state_restore(dev_clint_t *c, const void *buf, unsigned len)
{
    clint_state s;

    if (len != sizeof(s)) return MC_ECORRUPT;
    memcpy(&s, buf, sizeof(s));
    if (s.magic != CLINT_STATE_MAGIC || s.nharts != c->st.nharts) return MC_ECORRUPT;
    for (unsigned h = 0; h < DEV_MAX_HARTS; h++)
        if (s.msip[h] > 1 || (h >= s.nharts && (s.msip[h] || s.mtimecmp[h] != UINT64_MAX)))
            return MC_ECORRUPT;
    c->st = s;
    clint_drive(c);
    return MC_OK;
}
