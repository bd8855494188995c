/*
 * test_dev_clint.c - CLINT: msip lines, mtimecmp (64-bit and two 32-bit
 * halves) raising MTIP exactly when now() >= mtimecmp, mtime writes as an
 * offset, next deadline, access sizes, snapshot round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dev_clint.h"
#include "hart.h"

typedef struct fake {
    uint64_t now;
    int msip[DEV_MAX_HARTS], mtip[DEV_MAX_HARTS];
    int calls;
} fake;

static uint64_t fake_now(void *ctx)
{
    return ((fake *)ctx)->now;
}

static void fake_irq(void *ctx, unsigned hart, unsigned irq, int level)
{
    fake *f = ctx;

    assert_true(hart < DEV_MAX_HARTS);
    f->calls++;
    if (irq == HART_IRQ_MSIP)
        f->msip[hart] = level;
    else if (irq == HART_IRQ_MTIP)
        f->mtip[hart] = level;
    else
        fail_msg("unexpected irq %u", irq);
}

static uint64_t rd(dev_clint_t *c, uint64_t off, unsigned size)
{
    uint64_t v = 0xdead;

    assert_int_equal(dev_clint_ops.read(c, off, size, &v), MC_OK);
    return v;
}

static void wr(dev_clint_t *c, uint64_t off, unsigned size, uint64_t v)
{
    assert_int_equal(dev_clint_ops.write(c, off, size, v), MC_OK);
}

static void test_dev_clint__msip(void **state)
{
    fake f = {0};
    dev_clint_t *c;
    uint64_t v;

    (void)state;
    assert_int_equal(dev_clint_new(&c, 2, fake_now, fake_irq, &f), MC_OK);
    assert_int_equal(f.msip[1], 0);
    wr(c, 4, 4, 0xffffffff); /* only bit 0 sticks */
    assert_int_equal(f.msip[1], 1);
    assert_int_equal(f.msip[0], 0);
    assert_int_equal(rd(c, 4, 4), 1);
    wr(c, 4, 4, 0);
    assert_int_equal(f.msip[1], 0);
    /* hart 2 does not exist: reads 0, writes ignored */
    wr(c, 8, 4, 1);
    assert_int_equal(rd(c, 8, 4), 0);
    /* msip is 32-bit only */
    assert_int_equal(dev_clint_ops.read(c, 0, 8, &v), MC_EBUSFAULT);
    assert_int_equal(dev_clint_ops.write(c, 0, 1, 1), MC_EBUSFAULT);
    dev_clint_free(c);
    assert_int_equal(dev_clint_new(&c, 0, fake_now, fake_irq, &f), MC_EINVAL);
    assert_int_equal(dev_clint_new(&c, DEV_MAX_HARTS + 1, fake_now, fake_irq, &f), MC_EINVAL);
    dev_clint_free(NULL);
}

static void test_dev_clint__mtimecmp_halves(void **state)
{
    fake f = {0};
    dev_clint_t *c;
    uint64_t v;

    (void)state;
    assert_int_equal(dev_clint_new(&c, 2, fake_now, fake_irq, &f), MC_OK);
    /* reset as QEMU 7.2's virt: mtimecmp = 0, so MTIP is pending at once */
    assert_int_equal(rd(c, 0x4000, 8), 0);
    assert_int_equal(rd(c, 0x4008, 8), 0);
    assert_int_equal(f.mtip[0], 1);
    assert_int_equal(f.mtip[1], 1);
    assert_int_equal(dev_clint_next_deadline(c), 0);
    wr(c, 0x4000, 8, UINT64_MAX); /* what OpenSBI writes first */
    wr(c, 0x4008, 8, UINT64_MAX);
    assert_int_equal(f.mtip[0], 0);
    assert_int_equal(dev_clint_next_deadline(c), UINT64_MAX);

    /* the usual RV32-style sequence: high = -1, low, high */
    f.now = 0x100000000ull; /* mtime crosses 2^32 */
    wr(c, 0x4004, 4, 0xffffffff);
    wr(c, 0x4000, 4, 0x00000010);
    assert_int_equal(f.mtip[0], 0); /* 0xffffffff00000010 is far away */
    wr(c, 0x4004, 4, 0x00000001);
    /* mtimecmp = 0x1_0000_0010, now = 0x1_0000_0000: not yet */
    assert_int_equal(rd(c, 0x4000, 8), 0x100000010ull);
    assert_int_equal(rd(c, 0x4000, 4), 0x10);
    assert_int_equal(rd(c, 0x4004, 4), 1);
    assert_int_equal(f.mtip[0], 0);
    assert_int_equal(dev_clint_next_deadline(c), 0x100000010ull);

    f.now = 0x10000000full; /* one tick before */
    dev_clint_update(c);
    assert_int_equal(f.mtip[0], 0);
    f.now = 0x100000010ull; /* exactly at: raised */
    dev_clint_update(c);
    assert_int_equal(f.mtip[0], 1);
    assert_int_equal(f.mtip[1], 0);

    /* a 64-bit write into the future lowers it immediately */
    wr(c, 0x4000, 8, 0x200000000ull);
    assert_int_equal(f.mtip[0], 0);
    /* a write into the past raises it immediately */
    wr(c, 0x4000, 8, 5);
    assert_int_equal(f.mtip[0], 1);

    /* hart 1's comparator is separate; the deadline is the minimum */
    wr(c, 0x4008, 8, 0x100000020ull);
    assert_int_equal(f.mtip[1], 0);
    assert_int_equal(dev_clint_next_deadline(c), 5);
    wr(c, 0x4000, 8, UINT64_MAX); /* disarm hart 0 */
    assert_int_equal(f.mtip[0], 0);
    assert_int_equal(dev_clint_next_deadline(c), 0x100000020ull);

    /* sizes: 1 and 2 fault, hart 2 does not exist */
    assert_int_equal(dev_clint_ops.read(c, 0x4000, 2, &v), MC_EBUSFAULT);
    assert_int_equal(dev_clint_ops.write(c, 0x4000, 1, 0), MC_EBUSFAULT);
    assert_int_equal(rd(c, 0x4010, 8), 0);
    dev_clint_free(c);
}

static void test_dev_clint__mtime(void **state)
{
    fake f = {0};
    dev_clint_t *c;

    (void)state;
    assert_int_equal(dev_clint_new(&c, 1, fake_now, fake_irq, &f), MC_OK);
    f.now = 1000;
    assert_int_equal(rd(c, 0xbff8, 8), 1000);
    assert_int_equal(dev_clint_mtime(c), 1000);
    f.now = 0x123456789ull;
    assert_int_equal(rd(c, 0xbff8, 4), 0x23456789);
    assert_int_equal(rd(c, 0xbffc, 4), 1);

    /* writing mtime stores an offset: it keeps running with now() */
    f.now = 2000;
    wr(c, 0xbff8, 8, 50000);
    assert_int_equal(rd(c, 0xbff8, 8), 50000);
    f.now = 2010;
    assert_int_equal(rd(c, 0xbff8, 8), 50010);
    /* high half only */
    wr(c, 0xbffc, 4, 2);
    assert_int_equal(rd(c, 0xbff8, 8), 0x200000000ull + 50010);

    /* an mtime write re-evaluates MTIP; the deadline is in now() ticks */
    wr(c, 0xbff8, 8, 0); /* mtime 0 at now 2010 */
    wr(c, 0x4000, 8, 100);
    assert_int_equal(f.mtip[0], 0);
    assert_int_equal(dev_clint_next_deadline(c), 2110);
    wr(c, 0xbff8, 8, 100);
    assert_int_equal(f.mtip[0], 1);
    assert_int_equal(dev_clint_next_deadline(c), 2010);
    /* mtime far ahead of mtimecmp: deadline saturates to 0 (due) */
    wr(c, 0xbff8, 8, 1000000);
    assert_int_equal(dev_clint_next_deadline(c), 0);

    /* reset: offset 0 again, mtimecmp 0 (MTIP pending, as QEMU) */
    dev_clint_reset(c);
    assert_int_equal(rd(c, 0xbff8, 8), 2010);
    assert_int_equal(rd(c, 0x4000, 8), 0);
    assert_int_equal(f.mtip[0], 1);
    dev_clint_free(c);
}

static void test_dev_clint__snapshot(void **state)
{
    fake f = {0}, g = {0};
    dev_clint_t *c, *d;
    unsigned n = dev_clint_state_size();
    uint8_t buf[1024], buf2[1024];

    (void)state;
    assert_true(n <= sizeof(buf));
    assert_int_equal(dev_clint_new(&c, 2, fake_now, fake_irq, &f), MC_OK);
    assert_int_equal(dev_clint_new(&d, 2, fake_now, fake_irq, &g), MC_OK);
    f.now = g.now = 500;
    wr(c, 4, 4, 1);
    wr(c, 0x4000, 8, 400);
    wr(c, 0xbff8, 8, 300); /* offset -200 */
    dev_clint_state_save(c, buf);
    assert_int_equal(dev_clint_state_restore(d, buf, n), MC_OK);
    assert_int_equal(g.msip[1], 1);
    assert_int_equal(g.mtip[0], 0);
    assert_int_equal(rd(d, 0xbff8, 8), 300);
    g.now = 600;
    dev_clint_update(d);
    assert_int_equal(g.mtip[0], 1);
    dev_clint_state_save(d, buf2);
    assert_memory_equal(buf, buf2, n);

    /* bad blobs */
    assert_int_equal(dev_clint_state_restore(d, buf, n - 1), MC_ECORRUPT);
    buf[0] ^= 1;
    assert_int_equal(dev_clint_state_restore(d, buf, n), MC_ECORRUPT);
    dev_clint_free(c);
    dev_clint_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dev_clint__msip),
        cmocka_unit_test(test_dev_clint__mtimecmp_halves),
        cmocka_unit_test(test_dev_clint__mtime),
        cmocka_unit_test(test_dev_clint__snapshot),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
