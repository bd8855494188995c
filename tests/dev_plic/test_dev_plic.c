/*
 * test_dev_plic.c - PLIC: claim with nothing pending, priority and
 * threshold masking, tie-break by lowest ID, claim/complete of level
 * sources, M/S context routing per hart, access sizes, snapshots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dev_plic.h"
#include "hart.h"

typedef struct fake {
    int meip[DEV_MAX_HARTS], seip[DEV_MAX_HARTS];
} fake;

static void fake_irq(void *ctx, unsigned hart, unsigned irq, int level)
{
    fake *f = ctx;

    assert_true(hart < DEV_MAX_HARTS);
    if (irq == HART_IRQ_MEIP)
        f->meip[hart] = level;
    else if (irq == HART_IRQ_SEIP)
        f->seip[hart] = level;
    else
        fail_msg("unexpected irq %u", irq);
}

static uint32_t rd(dev_plic_t *p, uint64_t off)
{
    uint64_t v = 0xdead;

    assert_int_equal(dev_plic_ops.read(p, off, 4, &v), MC_OK);
    return (uint32_t)v;
}

static void wr(dev_plic_t *p, uint64_t off, uint32_t v)
{
    assert_int_equal(dev_plic_ops.write(p, off, 4, v), MC_OK);
}

#define PRIO(s)      (4ull * (s))
#define ENABLE(c, w) (0x2000ull + 0x80ull * (c) + 4ull * (w))
#define THRESH(c)    (0x200000ull + 0x1000ull * (c))
#define CLAIM(c)     (0x200004ull + 0x1000ull * (c))

static void test_dev_plic__claim_empty(void **state)
{
    fake f = {0};
    dev_plic_t *p;

    (void)state;
    assert_int_equal(dev_plic_new(&p, 1, fake_irq, &f), MC_OK);
    assert_int_equal(rd(p, CLAIM(0)), 0);
    assert_int_equal(rd(p, CLAIM(1)), 0);
    /* pending but priority 0 never interrupts */
    wr(p, ENABLE(1, 0), 1u << 10);
    dev_plic_set_irq(p, 10, 1);
    assert_int_equal(rd(p, 0x1000), 1u << 10);
    assert_int_equal(f.seip[0], 0);
    assert_int_equal(rd(p, CLAIM(1)), 0);
    /* completing something never claimed is harmless */
    wr(p, CLAIM(1), 10);
    wr(p, CLAIM(1), 5000);
    assert_int_equal(f.seip[0], 0);
    dev_plic_free(p);
    dev_plic_free(NULL);
    assert_int_equal(dev_plic_new(&p, 0, fake_irq, &f), MC_EINVAL);
}

static void test_dev_plic__priority_threshold(void **state)
{
    fake f = {0};
    dev_plic_t *p;

    (void)state;
    assert_int_equal(dev_plic_new(&p, 2, fake_irq, &f), MC_OK);
    wr(p, PRIO(1), 3);
    wr(p, PRIO(10), 5);
    wr(p, PRIO(33), 5);
    assert_int_equal(rd(p, PRIO(10)), 5);
    wr(p, PRIO(2), 0xf); /* 3 WARL bits */
    assert_int_equal(rd(p, PRIO(2)), 7);
    /* hart 1 S-mode = context 3 */
    wr(p, ENABLE(3, 0), (1u << 1) | (1u << 10));
    wr(p, ENABLE(3, 1), 1u << 1); /* source 33 */
    dev_plic_set_irq(p, 1, 1);
    assert_int_equal(f.seip[1], 1);
    assert_int_equal(f.meip[1], 0);
    assert_int_equal(f.seip[0], 0);
    assert_int_equal(f.meip[0], 0);

    /* threshold masks priorities <= it */
    wr(p, THRESH(3), 3);
    assert_int_equal(rd(p, THRESH(3)), 3);
    assert_int_equal(f.seip[1], 0);
    assert_int_equal(rd(p, CLAIM(3)), 0);
    dev_plic_set_irq(p, 33, 1);
    dev_plic_set_irq(p, 10, 1);
    assert_int_equal(f.seip[1], 1);
    assert_int_equal(rd(p, 0x1004), 1u << 1);

    /* 10 and 33 tie at 5: lowest ID first, then 33; 1 stays masked */
    assert_int_equal(rd(p, CLAIM(3)), 10);
    assert_int_equal(f.seip[1], 1);
    assert_int_equal(rd(p, CLAIM(3)), 33);
    assert_int_equal(f.seip[1], 0);
    assert_int_equal(rd(p, CLAIM(3)), 0);
    wr(p, THRESH(3), 0);
    assert_int_equal(f.seip[1], 1);
    assert_int_equal(rd(p, CLAIM(3)), 1);
    assert_int_equal(f.seip[1], 0);

    /* a higher priority wins regardless of ID */
    wr(p, CLAIM(3), 10);
    wr(p, CLAIM(3), 33);
    wr(p, CLAIM(3), 1);
    wr(p, PRIO(1), 7);
    assert_int_equal(rd(p, CLAIM(3)), 1);
    dev_plic_free(p);
}

static void test_dev_plic__level_complete(void **state)
{
    fake f = {0};
    dev_plic_t *p;

    (void)state;
    assert_int_equal(dev_plic_new(&p, 1, fake_irq, &f), MC_OK);
    wr(p, PRIO(10), 1);
    wr(p, ENABLE(0, 0), 1u << 10); /* M context */
    dev_plic_set_irq(p, 10, 1);
    assert_int_equal(f.meip[0], 1);
    assert_int_equal(rd(p, CLAIM(0)), 10);
    /* claimed: pending cleared, output low, even while the line is high */
    assert_int_equal(rd(p, 0x1000), 0);
    assert_int_equal(f.meip[0], 0);
    /* complete with the line still high: pending again */
    wr(p, CLAIM(0), 10);
    assert_int_equal(f.meip[0], 1);
    assert_int_equal(rd(p, CLAIM(0)), 10);
    /* the device drops its line before complete: nothing more */
    dev_plic_set_irq(p, 10, 0);
    wr(p, CLAIM(0), 10);
    assert_int_equal(f.meip[0], 0);
    assert_int_equal(rd(p, CLAIM(0)), 0);
    /* a line that goes away before the claim is no longer pending */
    dev_plic_set_irq(p, 10, 1);
    assert_int_equal(f.meip[0], 1);
    dev_plic_set_irq(p, 10, 0);
    assert_int_equal(f.meip[0], 0);
    assert_int_equal(rd(p, CLAIM(0)), 0);
    /* disabling the source drops the output */
    dev_plic_set_irq(p, 10, 1);
    assert_int_equal(f.meip[0], 1);
    wr(p, ENABLE(0, 0), 0);
    assert_int_equal(f.meip[0], 0);
    /* pending bits are read-only; source 0 and out-of-range are ignored */
    wr(p, 0x1000, 0);
    assert_int_equal(rd(p, 0x1000), 1u << 10);
    dev_plic_set_irq(p, 0, 1);
    dev_plic_set_irq(p, DEV_PLIC_NUM_SOURCES, 1);
    dev_plic_irq(p, 11, 1);
    assert_int_equal(rd(p, 0x1000), (1u << 10) | (1u << 11));
    dev_plic_free(p);
}

static void test_dev_plic__sizes_and_holes(void **state)
{
    fake f = {0};
    dev_plic_t *p;
    uint64_t v;

    (void)state;
    assert_int_equal(dev_plic_new(&p, 1, fake_irq, &f), MC_OK);
    assert_int_equal(dev_plic_ops.read(p, 0, 8, &v), MC_EBUSFAULT);
    assert_int_equal(dev_plic_ops.write(p, 0, 1, 0), MC_EBUSFAULT);
    /* context 2 does not exist with one hart */
    wr(p, THRESH(2), 5);
    assert_int_equal(rd(p, THRESH(2)), 0);
    assert_int_equal(rd(p, ENABLE(2, 0)), 0);
    assert_int_equal(rd(p, 0x5ffffc), 0);
    dev_plic_free(p);
}

static void test_dev_plic__snapshot(void **state)
{
    fake f = {0}, g = {0};
    dev_plic_t *p, *q;
    uint8_t buf[4096], buf2[4096];
    unsigned n = dev_plic_state_size();

    (void)state;
    assert_true(n <= sizeof(buf));
    assert_int_equal(dev_plic_new(&p, 2, fake_irq, &f), MC_OK);
    assert_int_equal(dev_plic_new(&q, 2, fake_irq, &g), MC_OK);
    wr(p, PRIO(3), 2);
    wr(p, PRIO(4), 2);
    wr(p, ENABLE(1, 0), (1u << 3) | (1u << 4));
    dev_plic_set_irq(p, 3, 1);
    dev_plic_set_irq(p, 4, 1);
    assert_int_equal(rd(p, CLAIM(1)), 3);
    dev_plic_state_save(p, buf);
    assert_int_equal(dev_plic_state_restore(q, buf, n), MC_OK);
    assert_int_equal(g.seip[0], 1); /* 4 still pending */
    assert_int_equal(rd(q, CLAIM(1)), 4);
    wr(q, CLAIM(1), 3); /* the claim of 3 was restored: completes, re-pends */
    assert_int_equal(rd(q, CLAIM(1)), 3);
    dev_plic_state_save(p, buf2);
    assert_memory_equal(buf, buf2, n);
    assert_int_equal(dev_plic_state_restore(q, buf, n + 1), MC_ECORRUPT);
    buf[8] = 9; /* priority[0] out of range */
    assert_int_equal(dev_plic_state_restore(q, buf, n), MC_ECORRUPT);
    dev_plic_free(p);
    dev_plic_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dev_plic__claim_empty),
        cmocka_unit_test(test_dev_plic__priority_threshold),
        cmocka_unit_test(test_dev_plic__level_complete),
        cmocka_unit_test(test_dev_plic__sizes_and_holes),
        cmocka_unit_test(test_dev_plic__snapshot),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
