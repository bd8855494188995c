/*
 * dev_test.h - the SiFive test finisher ("sifive,test1") as on QEMU virt.
 *
 * A 32-bit (or 16-bit) write to offset 0 with low half 0x5555 powers off
 * (status 0), 0x3333 fails with code = value >> 16, 0x7777 reboots; other
 * values are ignored. Reads return 0. The device only reports: the board
 * decides what finishing means (stop the run, reset the machine).
 */
#ifndef MACHINA_DEV_TEST_H
#define MACHINA_DEV_TEST_H

#include "bus.h"
#include "err.h"

typedef struct dev_test dev_test_t;

/* kind values of dev_test_finish_fn. */
#define DEV_TEST_POWEROFF 0 /* code 0 */
#define DEV_TEST_FAIL     1 /* code = value >> 16 (0..0xffff) */
#define DEV_TEST_REBOOT   2 /* code 0 */

typedef void (*dev_test_finish_fn)(void *ctx, int kind, int code);

/* MMIO callbacks; register at DEV_TEST_BASE, DEV_TEST_SIZE. 1- and 8-byte
 * accesses return MC_EBUSFAULT (QEMU accepts 2 and 4). */
extern const bus_mmio_ops dev_test_ops;

/* Creates the finisher; finish(ctx, kind, code) is called from the write. */
MC_MUST_CHECK int dev_test_new(dev_test_t **out, dev_test_finish_fn finish, void *ctx);
/* Frees it; accepts NULL. */
void dev_test_free(dev_test_t *t);

/* The finisher has no guest-visible state: size 0, for uniformity. */
unsigned dev_test_state_size(void);
void dev_test_state_save(const dev_test_t *t, void *buf);
MC_MUST_CHECK int dev_test_state_restore(dev_test_t *t, const void *buf, unsigned len);

#endif
