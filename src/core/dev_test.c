/*
 * dev_test.c - the SiFive test finisher: a write-only register at offset 0
 * whose low 16 bits select poweroff / fail / reboot and whose high 16 bits
 * carry the failure code. Stateless.
 */
#include "dev_test.h"

#include <stdlib.h>

#define FINISHER_FAIL  0x3333
#define FINISHER_PASS  0x5555
#define FINISHER_RESET 0x7777

struct dev_test {
    dev_test_finish_fn finish;
    void *ctx;
};

static int test_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
    (void)dev;
    (void)off;
    if (size != 2 && size != 4) return MC_EBUSFAULT;
    *val = 0;
    return MC_OK;
}

static int test_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    dev_test_t *t = dev;

    if (size != 2 && size != 4) return MC_EBUSFAULT;
    if (off != 0 || !t->finish) return MC_OK;
    switch (val & 0xffff) {
    case FINISHER_PASS: t->finish(t->ctx, DEV_TEST_POWEROFF, 0); break;
    case FINISHER_FAIL: t->finish(t->ctx, DEV_TEST_FAIL, (int)((val >> 16) & 0xffff)); break;
    case FINISHER_RESET: t->finish(t->ctx, DEV_TEST_REBOOT, 0); break;
    default: /* QEMU ignores other values */ break;
    }
    return MC_OK;
}

const bus_mmio_ops dev_test_ops = {.read = test_read, .write = test_write};

int dev_test_new(dev_test_t **out, dev_test_finish_fn finish, void *ctx)
{
    dev_test_t *t;

    *out = NULL;
    t = calloc(1, sizeof(*t));
    if (!t) return MC_ENOMEM;
    t->finish = finish;
    t->ctx = ctx;
    *out = t;
    return MC_OK;
}

void dev_test_free(dev_test_t *t)
{
    free(t);
}

unsigned dev_test_state_size(void)
{
    return 0;
}

void dev_test_state_save(const dev_test_t *t, void *buf)
{
    (void)t;
    (void)buf;
}

int dev_test_state_restore(dev_test_t *t, const void *buf, unsigned len)
{
    (void)t;
    (void)buf;
    return len == 0 ? MC_OK : MC_ECORRUPT;
}
