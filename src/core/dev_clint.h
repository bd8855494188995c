/*
 * dev_clint.h - SiFive CLINT (ACLINT MSWI + MTIMER) as on QEMU virt:
 * msip[h] at 0x0 + 4h (32-bit), mtimecmp[h] at 0x4000 + 8h and mtime at
 * 0xbff8 (32- or 64-bit accesses), up to DEV_MAX_HARTS harts.
 *
 * Time never comes from the host: mtime is now(ctx) + an offset, where
 * now() returns the board's virtual time in 10 MHz ticks (derived from
 * retired instructions). A guest write to mtime changes the offset, as in
 * QEMU. MTIP[h] = (mtime >= mtimecmp[h]); it is re-evaluated on every
 * mtimecmp or mtime write and whenever the board calls dev_clint_update()
 * (after advancing time, e.g. at the end of a quantum or a WFI jump to
 * dev_clint_next_deadline()). mtimecmp resets to UINT64_MAX so no timer
 * interrupt is pending until the guest arms one (as QEMU observes). The
 * offset starts at 0, so mtime == now() == the harts' time CSR unless the
 * guest writes mtime.
 */
#ifndef MACHINA_DEV_CLINT_H
#define MACHINA_DEV_CLINT_H

#include <stdint.h>

#include "bus.h"
#include "dev.h"
#include "err.h"

typedef struct dev_clint dev_clint_t;

/* Returns the current virtual time in mtime ticks (10 MHz), monotonic. */
typedef uint64_t (*dev_time_fn)(void *ctx);

/* MMIO callbacks; register at DEV_CLINT_BASE, DEV_CLINT_SIZE. Other sizes
 * than those above return MC_EBUSFAULT; unused offsets read 0. */
extern const bus_mmio_ops dev_clint_ops;

/* Creates a CLINT for nharts (1..DEV_MAX_HARTS) harts. irq(ctx, hart,
 * HART_IRQ_MSIP or HART_IRQ_MTIP, level) drives the harts' mip bits. */
MC_MUST_CHECK int dev_clint_new(dev_clint_t **out, unsigned nharts, dev_time_fn now,
                                dev_hart_irq_fn irq, void *ctx);
/* Frees the CLINT; accepts NULL. */
void dev_clint_free(dev_clint_t *c);
/* Reset: msip 0, mtimecmp UINT64_MAX, mtime offset 0; re-drives lines. */
void dev_clint_reset(dev_clint_t *c);

/* Re-evaluates every MTIP line against the current time. */
void dev_clint_update(dev_clint_t *c);
/* Smallest mtimecmp over harts, in now() ticks (the mtime offset already
 * removed, saturated to 0), or UINT64_MAX when no timer is armed. */
uint64_t dev_clint_next_deadline(const dev_clint_t *c);
/* The guest-visible mtime now. */
uint64_t dev_clint_mtime(const dev_clint_t *c);

/* Snapshot of the guest-visible state (msip, mtimecmp, mtime offset).
 * Restore validates (MC_ECORRUPT) and re-drives MSIP and MTIP lines. */
unsigned dev_clint_state_size(void);
void dev_clint_state_save(const dev_clint_t *c, void *buf);
MC_MUST_CHECK int dev_clint_state_restore(dev_clint_t *c, const void *buf, unsigned len);

#endif
