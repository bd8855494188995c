/*
 * dev_uart.h - NS16550A UART, behaving as QEMU's hw/char/serial.c on virt
 * (regshift 0, registers at offsets 0..7 of a 0x100 region).
 *
 * Transmit is unbuffered: every byte written to THR goes out at once
 * through the tx callback. Receive goes through a 16-byte FIFO (1 byte
 * when FCR has not enabled FIFOs); the board feeds a byte only when
 * dev_uart_rx_ready() says there is room, so no input is ever dropped.
 * The interrupt output is level-triggered, one PLIC source.
 */
#ifndef MACHINA_DEV_UART_H
#define MACHINA_DEV_UART_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "dev.h"
#include "err.h"

typedef struct dev_uart dev_uart_t;

/* Receives each transmitted byte. */
typedef void (*dev_uart_tx_fn)(void *ctx, uint8_t byte);

/* MMIO callbacks; register with bus_add_mmio(bus, "uart", DEV_UART_BASE,
 * DEV_UART_SIZE, &dev_uart_ops, uart). Any access size; the low byte of
 * offsets 0..7 is the register, other offsets read 0 and ignore writes. */
extern const bus_mmio_ops dev_uart_ops;

/* Creates a UART in its reset state. tx and irq are called with ctx; irq
 * with line irq_line (DEV_UART_IRQ on virt). */
MC_MUST_CHECK int dev_uart_new(dev_uart_t **out, dev_uart_tx_fn tx, dev_irq_fn irq, void *ctx,
                               unsigned irq_line);
/* Frees the UART; accepts NULL. */
void dev_uart_free(dev_uart_t *u);
/* Hardware reset (registers and FIFO cleared); re-drives the IRQ line. */
void dev_uart_reset(dev_uart_t *u);

/* True when the receiver has room for one more byte. */
bool dev_uart_rx_ready(const dev_uart_t *u);
/* Delivers one received byte. With no room it is a hardware overrun
 * (LSR.OE set, a byte lost) and MC_ERANGE is returned. */
MC_MUST_CHECK int dev_uart_rx(dev_uart_t *u, uint8_t byte);

/* Snapshot of the guest-visible state (a POD blob of dev_uart_state_size()
 * bytes). Restore checks len and the blob's fields (MC_ECORRUPT when bad)
 * and re-drives the IRQ line. */
unsigned dev_uart_state_size(void);
void dev_uart_state_save(const dev_uart_t *u, void *buf);
MC_MUST_CHECK int dev_uart_state_restore(dev_uart_t *u, const void *buf, unsigned len);

#endif
