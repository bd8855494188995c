/*
 * bus.c - the physical address space (see bus.h).
 *
 * Invariants: regions are kept sorted by base and never overlap; RAM and
 * ROM are host buffers owned by the bus; every RAM region has one flags
 * byte per page. Lookups are linear: a board has a handful of regions and
 * the harts only come here on TLB misses and MMIO.
 */
#include "bus.h"
#include "obs.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BUS_MAX_REGIONS 32

enum region_kind { REGION_RAM, REGION_ROM, REGION_MMIO };

typedef struct region {
    enum region_kind kind;
    uint64_t base, size;
    uint8_t *host;  /* RAM, ROM */
    uint8_t *flags; /* RAM: one byte per page */
    const bus_mmio_ops *ops;
    void *dev;
    char name[24];
} region;

struct bus {
    region regions[BUS_MAX_REGIONS];
    unsigned n;
    bus_code_write_fn code_fn;
    void *code_ctx;
    obs_t *obs; /* MMIO hook (obs.h), NULL when nothing listens */
};

int bus_new(bus_t **out)
{
    bus_t *bus = calloc(1, sizeof(*bus));
    if (!bus) return MC_ENOMEM;
    *out = bus;
    return MC_OK;
}

/*
 * Guest RAM: an anonymous mapping (zero-filled, untouched pages cost
 * nothing) aligned to 2 MiB and marked for transparent huge pages, so
 * random guest accesses miss the host's TLB less (the bench workload's mem
 * phase, 8 MiB at random: 1.6 -> 1.4 s CPU, bench/phases.py, noisy). Only
 * host memory layout: nothing the guest can observe depends on it.
 */
#define RAM_ALIGN (2ull << 20)

static uint8_t *ram_alloc(uint64_t size)
{
    size_t len = (size_t)size + RAM_ALIGN;
    uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    uint8_t *a = (uint8_t *)(((uintptr_t)p + RAM_ALIGN - 1) & ~(uintptr_t)(RAM_ALIGN - 1));
    if (a > p) munmap(p, (size_t)(a - p));
    if (a + size < p + len) munmap(a + size, (size_t)(p + len - (a + size)));
#ifdef MADV_HUGEPAGE
    madvise(a, (size_t)size, MADV_HUGEPAGE); /* a hint: failure changes nothing */
#endif
    return a;
}

void bus_free(bus_t *bus)
{
    if (!bus) return;
    for (unsigned i = 0; i < bus->n; i++) {
        region *r = &bus->regions[i];
        if (r->kind == REGION_RAM)
            munmap(r->host, (size_t)r->size);
        else
            free(r->host);
        free(r->flags);
    }
    free(bus);
}

static region *find(const bus_t *bus, uint64_t pa)
{
    for (unsigned i = 0; i < bus->n; i++) {
        const region *r = &bus->regions[i];
        if (pa >= r->base && pa - r->base < r->size) return (region *)r;
    }
    return NULL;
}

static int add(bus_t *bus, const region *nr)
{
    if (nr->size == 0 || nr->base + nr->size < nr->base) return MC_EINVAL;
    if (bus->n == BUS_MAX_REGIONS) return MC_ERANGE;
    unsigned at = 0;
    for (unsigned i = 0; i < bus->n; i++) {
        const region *r = &bus->regions[i];
        if (nr->base < r->base + r->size && r->base < nr->base + nr->size) return MC_EINVAL;
        if (r->base < nr->base) at = i + 1;
    }
    memmove(&bus->regions[at + 1], &bus->regions[at], (bus->n - at) * sizeof(region));
    bus->regions[at] = *nr;
    bus->n++;
    return MC_OK;
}

int bus_add_ram(bus_t *bus, uint64_t base, uint64_t size)
{
    if ((base | size) & (BUS_PAGE_SIZE - 1)) return MC_EINVAL;
    region r = {.kind = REGION_RAM, .base = base, .size = size};
    r.host = ram_alloc(size);
    r.flags = calloc(1, size >> BUS_PAGE_SHIFT);
    int rc = (r.host && r.flags) ? add(bus, &r) : MC_ENOMEM;
    if (rc < 0) {
        if (r.host) munmap(r.host, (size_t)size);
        free(r.flags);
    }
    return rc;
}

int bus_add_rom(bus_t *bus, uint64_t base, const void *data, uint64_t size)
{
    uint64_t sz = (size + BUS_PAGE_SIZE - 1) & ~(uint64_t)(BUS_PAGE_SIZE - 1);
    if (base & (BUS_PAGE_SIZE - 1)) return MC_EINVAL;
    region r = {.kind = REGION_ROM, .base = base, .size = sz};
    r.host = calloc(1, sz ? sz : BUS_PAGE_SIZE);
    if (!r.host) return MC_ENOMEM;
    memcpy(r.host, data, size);
    int rc = add(bus, &r);
    if (rc < 0) free(r.host);
    return rc;
}

int bus_add_mmio(bus_t *bus, const char *name, uint64_t base, uint64_t size,
                 const bus_mmio_ops *ops, void *dev)
{
    region r = {.kind = REGION_MMIO, .base = base, .size = size, .ops = ops, .dev = dev};
    strncpy(r.name, name ? name : "mmio", sizeof(r.name) - 1);
    return add(bus, &r);
}

uint8_t *bus_ram_ptr(bus_t *bus, uint64_t pa, uint64_t len, bool write)
{
    region *r = find(bus, pa);
    if (!r || r->kind == REGION_MMIO || (write && r->kind == REGION_ROM)) return NULL;
    if (len > r->size - (pa - r->base)) return NULL;
    return r->host + (pa - r->base);
}

bool bus_is_mem(const bus_t *bus, uint64_t pa)
{
    const region *r = find(bus, pa);
    return r && r->kind != REGION_MMIO;
}

uint8_t *bus_page_flags(bus_t *bus, uint64_t pa)
{
    region *r = find(bus, pa);
    if (!r || r->kind != REGION_RAM) return NULL;
    return &r->flags[(pa - r->base) >> BUS_PAGE_SHIFT];
}

void bus_note_write(bus_t *bus, uint64_t pa, uint64_t len)
{
    if (len == 0) return;
    region *r = find(bus, pa);
    if (!r || r->kind != REGION_RAM) return;
    uint64_t first = (pa - r->base) >> BUS_PAGE_SHIFT;
    uint64_t last = (pa - r->base + len - 1) >> BUS_PAGE_SHIFT;
    uint64_t npages = r->size >> BUS_PAGE_SHIFT;
    for (uint64_t p = first; p <= last && p < npages; p++) {
        uint8_t f = r->flags[p];
        r->flags[p] = (uint8_t)((f | BUS_PAGE_DIRTY) & ~BUS_PAGE_CODE);
        if ((f & BUS_PAGE_CODE) && bus->code_fn)
            bus->code_fn(bus->code_ctx, r->base + (p << BUS_PAGE_SHIFT));
    }
}

void bus_set_code_listener(bus_t *bus, bus_code_write_fn fn, void *ctx)
{
    bus->code_fn = fn;
    bus->code_ctx = ctx;
}

void bus_clear_dirty(bus_t *bus)
{
    for (unsigned i = 0; i < bus->n; i++) {
        region *r = &bus->regions[i];
        if (r->kind != REGION_RAM) continue;
        for (uint64_t p = 0; p < r->size >> BUS_PAGE_SHIFT; p++)
            r->flags[p] &= (uint8_t)~BUS_PAGE_DIRTY;
    }
}

static uint64_t load_le(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1: return p[0];
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static void store_le(uint8_t *p, unsigned size, uint64_t val)
{
    switch (size) {
    case 1: p[0] = (uint8_t)val; break;
    case 2: { uint16_t v = (uint16_t)val; memcpy(p, &v, 2); break; }
    case 4: { uint32_t v = (uint32_t)val; memcpy(p, &v, 4); break; }
    default: memcpy(p, &val, 8); break;
    }
}

static bool size_ok(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

int bus_read(bus_t *bus, uint64_t pa, unsigned size, uint64_t *val)
{
    region *r = find(bus, pa);
    if (!r || !size_ok(size) || size > r->size - (pa - r->base)) return MC_EBUSFAULT;
    if (r->kind == REGION_MMIO) {
        int rc = r->ops->read(r->dev, pa - r->base, size, val);
        if (OBS_ON(bus->obs) && rc == MC_OK)
            obs_mmio(bus->obs, r->name, pa, pa - r->base, size, *val, false);
        return rc;
    }
    *val = load_le(r->host + (pa - r->base), size);
    return MC_OK;
}

int bus_write(bus_t *bus, uint64_t pa, unsigned size, uint64_t val)
{
    region *r = find(bus, pa);
    if (!r || !size_ok(size) || size > r->size - (pa - r->base)) return MC_EBUSFAULT;
    if (r->kind == REGION_MMIO) {
        int rc = r->ops->write(r->dev, pa - r->base, size, val);
        if (OBS_ON(bus->obs) && rc == MC_OK)
            obs_mmio(bus->obs, r->name, pa, pa - r->base, size, val, true);
        return rc;
    }
    if (r->kind == REGION_ROM) return MC_EBUSFAULT;
    store_le(r->host + (pa - r->base), size, val);
    bus_note_write(bus, pa, size);
    return MC_OK;
}

int bus_dma_read(bus_t *bus, uint64_t pa, void *buf, size_t len)
{
    region *r = find(bus, pa);
    if (!r || r->kind != REGION_RAM || len > r->size - (pa - r->base)) return MC_EBUSFAULT;
    memcpy(buf, r->host + (pa - r->base), len);
    return MC_OK;
}

int bus_dma_write(bus_t *bus, uint64_t pa, const void *buf, size_t len)
{
    region *r = find(bus, pa);
    if (!r || r->kind != REGION_RAM || len > r->size - (pa - r->base)) return MC_EBUSFAULT;
    memcpy(r->host + (pa - r->base), buf, len);
    bus_note_write(bus, pa, len);
    return MC_OK;
}

bool bus_ram_region(bus_t *bus, unsigned i, uint64_t *base, uint64_t *size, uint8_t **host)
{
    for (unsigned k = 0; k < bus->n; k++) {
        region *r = &bus->regions[k];
        if (r->kind != REGION_RAM) continue;
        if (i-- == 0) {
            *base = r->base;
            *size = r->size;
            *host = r->host;
            return true;
        }
    }
    return false;
}

void bus_set_obs(bus_t *bus, obs_t *o)
{
    bus->obs = o;
}
