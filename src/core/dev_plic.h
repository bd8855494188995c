/*
 * dev_plic.h - SiFive PLIC as QEMU virt configures it: DEV_PLIC_NUM_SOURCES
 * sources, priorities 0..7, two contexts per hart (context 2h is hart h's
 * M-mode, driving mip.MEIP; 2h+1 its S-mode, driving mip.SEIP).
 *
 * Registers (32-bit accesses only): priority[s] at 4s, pending bits at
 * 0x1000, enable bits of context c at 0x2000 + 0x80c, threshold of c at
 * 0x200000 + 0x1000c, claim/complete of c at 0x200004 + 0x1000c.
 *
 * Sources are level-triggered, as QEMU's sifive_plic: the pending bit
 * follows the input line; a claim clears it and marks the source claimed
 * (not deliverable) until a complete, which makes it pending again if the
 * line is still high. Claim returns
 * the pending enabled source with the highest priority above the
 * context's threshold (ties: lowest ID), or 0 if none. Context outputs are
 * re-evaluated on every change.
 */
#ifndef MACHINA_DEV_PLIC_H
#define MACHINA_DEV_PLIC_H

#include <stdint.h>

#include "bus.h"
#include "dev.h"
#include "err.h"

typedef struct dev_plic dev_plic_t;

/* MMIO callbacks; register at DEV_PLIC_BASE, DEV_PLIC_SIZE. Non-32-bit
 * accesses return MC_EBUSFAULT; unused offsets read 0. */
extern const bus_mmio_ops dev_plic_ops;

/* Creates a PLIC for nharts (1..DEV_MAX_HARTS) harts. irq(ctx, hart,
 * HART_IRQ_MEIP or HART_IRQ_SEIP, level) drives the harts' mip bits. */
MC_MUST_CHECK int dev_plic_new(dev_plic_t **out, unsigned nharts, dev_hart_irq_fn irq, void *ctx);
/* Frees the PLIC; accepts NULL. */
void dev_plic_free(dev_plic_t *p);
/* Reset: priorities, enables, thresholds, pending and claims cleared
 * (input line levels are kept: they belong to the devices). */
void dev_plic_reset(dev_plic_t *p);

/* Sets the level of input source src (1..DEV_PLIC_NUM_SOURCES-1; others
 * ignored). */
void dev_plic_set_irq(dev_plic_t *p, unsigned src, int level);
/* The same with the dev_irq_fn signature: pass it with the PLIC as ctx to
 * dev_uart_new / dev_virtio_blk_new. */
void dev_plic_irq(void *plic, unsigned src, int level);

/* Snapshot of the guest-visible state, including input line levels.
 * Restore validates (MC_ECORRUPT) and re-drives every context output. */
unsigned dev_plic_state_size(void);
void dev_plic_state_save(const dev_plic_t *p, void *buf);
MC_MUST_CHECK int dev_plic_state_restore(dev_plic_t *p, const void *buf, unsigned len);

#endif
