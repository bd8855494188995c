/*
 * dev_virtio_blk.h - virtio-mmio (version 2, "virtio,mmio") transport with
 * a virtio block device behind it, plus the empty slots of QEMU virt.
 *
 * One split virtqueue. A QueueNotify processes every available request
 * synchronously (deterministic), then raises the interrupt. Requests: IN,
 * OUT, FLUSH, GET_ID; others complete with VIRTIO_BLK_S_UNSUPP. Every
 * descriptor chain is validated (indexes, chain length, lengths, sectors)
 * and all guest memory goes through bus_dma_*; a bad chain completes with
 * VIRTIO_BLK_S_IOERR (or is skipped when even its status byte cannot be
 * written), never a host out-of-bounds access or an endless loop.
 *
 * The base image is read, never written: guest writes go to an overlay of
 * 512-byte sectors held by the device, which later reads see. The overlay
 * persists across dev_virtio_blk_reset (it is the disk, not the transport)
 * and is saved separately from the transport state (dev_virtio_blk_overlay_*).
 */
#ifndef MACHINA_DEV_VIRTIO_BLK_H
#define MACHINA_DEV_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "dev.h"
#include "err.h"

#define DEV_VIRTIO_BLK_SECTOR 512u

typedef struct dev_virtio_blk dev_virtio_blk_t;

/* MMIO callbacks of the block device; register at DEV_VIRTIO_BASE (slot 0),
 * DEV_VIRTIO_SIZE. Registers are 32-bit; config space (from 0x100) also
 * takes 1, 2 and 8-byte reads. */
extern const bus_mmio_ops dev_virtio_blk_ops;
/* MMIO callbacks of an empty slot (device ID 0, dev pointer unused, may be
 * NULL): magic, version 2, vendor read as in QEMU, everything else 0. */
extern const bus_mmio_ops dev_virtio_empty_ops;

/* Creates the block device over image[0..size) (not copied: it must outlive
 * the device; never written). Capacity is size / 512 rounded up, the tail
 * past size reading as zeros. DMA goes through bus; irq(ctx, irq_line, l)
 * is its PLIC line (DEV_VIRTIO_IRQ + slot on virt). */
MC_MUST_CHECK int dev_virtio_blk_new(dev_virtio_blk_t **out, bus_t *bus, const uint8_t *image,
                                     uint64_t size, dev_irq_fn irq, void *ctx, unsigned irq_line);
/* Frees the device and its overlay; accepts NULL. */
void dev_virtio_blk_free(dev_virtio_blk_t *d);
/* Transport reset (as a guest write of 0 to Status); keeps the overlay. */
void dev_virtio_blk_reset(dev_virtio_blk_t *d);
/* Capacity in 512-byte sectors. */
uint64_t dev_virtio_blk_capacity(const dev_virtio_blk_t *d);

/* Snapshot of the transport and queue state (not the overlay). Restore
 * validates (MC_ECORRUPT) and re-drives the IRQ line. */
unsigned dev_virtio_blk_state_size(void);
void dev_virtio_blk_state_save(const dev_virtio_blk_t *d, void *buf);
MC_MUST_CHECK int dev_virtio_blk_state_restore(dev_virtio_blk_t *d, const void *buf, unsigned len);

/* The overlay: sectors the guest wrote, listed in ascending sector order
 * (index 0..count-1; indexes are valid until the next write or put). */
uint64_t dev_virtio_blk_overlay_count(dev_virtio_blk_t *d);
/* The i-th overlay sector: its number, its 512 bytes (valid until the next
 * write, put or clear) and, if dirty is not NULL, whether it was written
 * since the last dev_virtio_blk_overlay_clear_dirty(). MC_ERANGE past the end. */
MC_MUST_CHECK int dev_virtio_blk_overlay_at(dev_virtio_blk_t *d, uint64_t i, uint64_t *sector,
                                            const uint8_t **data, bool *dirty);
/* Stores one sector into the overlay (restoring a snapshot); MC_ERANGE when
 * sector >= capacity. */
MC_MUST_CHECK int dev_virtio_blk_overlay_put(dev_virtio_blk_t *d, uint64_t sector,
                                             const uint8_t data[DEV_VIRTIO_BLK_SECTOR]);
/* Drops every overlay sector (the disk reads as the base image again). */
void dev_virtio_blk_overlay_clear(dev_virtio_blk_t *d);
/* Marks every overlay sector clean (for delta checkpoints). */
void dev_virtio_blk_overlay_clear_dirty(dev_virtio_blk_t *d);

#endif
