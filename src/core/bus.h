/*
 * bus.h - the physical address space: RAM, ROM and MMIO regions.
 *
 * A bus_t maps guest physical addresses to host memory (RAM, ROM) or to a
 * device's read/write callbacks (MMIO). Every access is bounds-checked; an
 * access that hits nothing returns MC_EBUSFAULT, which the hart turns into
 * the access-fault exception the privileged spec names. Regions never
 * overlap.
 *
 * RAM pages carry flags shared by every hart (BUS_PAGE_*): the decoded-
 * instruction caches and the checkpoint writer use them. Listeners are
 * told when a page holding decoded code is written through the bus or by
 * DMA, so that every hart drops its stale decoded instructions.
 */
#ifndef MACHINA_BUS_H
#define MACHINA_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define BUS_PAGE_SHIFT 12
#define BUS_PAGE_SIZE (1u << BUS_PAGE_SHIFT)

/* Per-page flags of RAM (bus_page_flags). */
#define BUS_PAGE_CODE 0x01  /* some hart holds decoded instructions of it */
#define BUS_PAGE_DIRTY 0x02 /* written since the last bus_clear_dirty() */

typedef struct bus bus_t;

/*
 * Device callbacks. off is relative to the region's base, size is 1, 2, 4
 * or 8 and the access is naturally aligned. Return MC_OK, or MC_EBUSFAULT
 * for a register that does not exist at that size (the hart raises an
 * access fault).
 */
typedef struct bus_mmio_ops {
    int (*read)(void *dev, uint64_t off, unsigned size, uint64_t *val);
    int (*write)(void *dev, uint64_t off, unsigned size, uint64_t val);
} bus_mmio_ops;

/* Called with the page-aligned physical address of a code page that was
 * just written (by a store or by DMA). */
typedef void (*bus_code_write_fn)(void *ctx, uint64_t page_pa);

/* Creates an empty bus. */
MC_MUST_CHECK int bus_new(bus_t **out);
/* Frees the bus and the RAM/ROM it owns; accepts NULL. */
void bus_free(bus_t *bus);

/* Adds zero-filled RAM at [base, base+size); base and size page-aligned. */
MC_MUST_CHECK int bus_add_ram(bus_t *bus, uint64_t base, uint64_t size);
/* Adds a read-only, executable region holding a copy of data (size bytes,
 * rounded up to a page with zeroes). */
MC_MUST_CHECK int bus_add_rom(bus_t *bus, uint64_t base, const void *data, uint64_t size);
/* Adds an MMIO region served by ops on dev; name is kept (for logs). */
MC_MUST_CHECK int bus_add_mmio(bus_t *bus, const char *name, uint64_t base, uint64_t size,
                               const bus_mmio_ops *ops, void *dev);

/* Host pointer to [pa, pa+len) when that range lies inside one RAM region
 * (or ROM when !write); NULL otherwise. Writing through it bypasses
 * BUS_PAGE_* bookkeeping: callers that write must call bus_note_write(). */
uint8_t *bus_ram_ptr(bus_t *bus, uint64_t pa, uint64_t len, bool write);
/* True when pa is inside RAM or ROM (not MMIO, not a hole). */
bool bus_is_mem(const bus_t *bus, uint64_t pa);

/* Flags byte of the RAM page holding pa, or NULL when pa is not RAM. */
uint8_t *bus_page_flags(bus_t *bus, uint64_t pa);
/* Records a write to [pa, pa+len) of RAM: marks pages dirty and notifies
 * the code listener for pages flagged BUS_PAGE_CODE (clearing that flag). */
void bus_note_write(bus_t *bus, uint64_t pa, uint64_t len);
/* Attaches the observation hooks (obs.h) to MMIO accesses; NULL detaches. */
struct obs;
void bus_set_obs(bus_t *bus, struct obs *o);
/* Sets the single listener for writes to code pages. */
void bus_set_code_listener(bus_t *bus, bus_code_write_fn fn, void *ctx);
/* Clears BUS_PAGE_DIRTY on every RAM page. */
void bus_clear_dirty(bus_t *bus);

/* One naturally aligned access of size 1/2/4/8 at pa: RAM, ROM or MMIO.
 * Stores to ROM and accesses to holes return MC_EBUSFAULT. */
MC_MUST_CHECK int bus_read(bus_t *bus, uint64_t pa, unsigned size, uint64_t *val);
MC_MUST_CHECK int bus_write(bus_t *bus, uint64_t pa, unsigned size, uint64_t val);

/* Device DMA to and from RAM only: the whole range must be RAM, else
 * MC_EBUSFAULT and nothing is transferred. */
MC_MUST_CHECK int bus_dma_read(bus_t *bus, uint64_t pa, void *buf, size_t len);
MC_MUST_CHECK int bus_dma_write(bus_t *bus, uint64_t pa, const void *buf, size_t len);

/* RAM regions, for snapshots and introspection: the i-th RAM region's base,
 * size and host pointer; returns false past the last one. */
bool bus_ram_region(bus_t *bus, unsigned i, uint64_t *base, uint64_t *size, uint8_t **host);

#endif
