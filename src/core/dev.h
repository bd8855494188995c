/*
 * dev.h - what every device model of the virt board shares: the interrupt
 * callback types and the QEMU virt memory map, IRQ numbers and sizes.
 *
 * Devices never call a hart or another device directly: every output line
 * is a callback given at creation, so the board decides the wiring and a
 * unit test can watch the lines. Callbacks are invoked only when a level
 * may have changed, but may repeat the current level; receivers must be
 * idempotent (hart_set_irq and dev_plic_set_irq are).
 */
#ifndef MACHINA_DEV_H
#define MACHINA_DEV_H

#include <stdint.h>

/* A device's interrupt line into the PLIC: line is the PLIC source number
 * (given to the device at creation), level 0 or 1. */
typedef void (*dev_irq_fn)(void *ctx, unsigned line, int level);

/* An interrupt line into a hart: irq is the mip bit (HART_IRQ_MSIP,
 * HART_IRQ_MTIP, HART_IRQ_SEIP, HART_IRQ_MEIP of hart.h), so the board can
 * forward it to hart_set_irq(harts[hart], irq, level) unchanged. */
typedef void (*dev_hart_irq_fn)(void *ctx, unsigned hart, unsigned irq, int level);

/* The QEMU virt memory map (DESIGN.md section 3). */
#define DEV_TEST_BASE    0x100000ull
#define DEV_TEST_SIZE    0x1000ull
#define DEV_CLINT_BASE   0x2000000ull
#define DEV_CLINT_SIZE   0x10000ull
#define DEV_PLIC_BASE    0xc000000ull
#define DEV_PLIC_SIZE    0x600000ull
#define DEV_UART_BASE    0x10000000ull
#define DEV_UART_SIZE    0x100ull
#define DEV_VIRTIO_BASE  0x10001000ull /* slot k at BASE + k * SIZE */
#define DEV_VIRTIO_SIZE  0x1000ull
#define DEV_VIRTIO_SLOTS 8

/* PLIC sources as QEMU virt wires them. */
#define DEV_UART_IRQ            10
#define DEV_VIRTIO_IRQ          1  /* slot k raises source DEV_VIRTIO_IRQ + k */
#define DEV_PLIC_NUM_SOURCES    96 /* sources 0..95; 0 means "none" */
#define DEV_PLIC_NUM_PRIORITIES 7

#define DEV_MAX_HARTS 8 /* CLINT and PLIC serve at most this many harts */

/* mtime frequency (timebase-frequency in the FDT). */
#define DEV_TIMEBASE_HZ 10000000u

/* UART input clock as QEMU virt advertises it (clock-frequency). */
#define DEV_UART_CLOCK_HZ 3686400u

#endif
