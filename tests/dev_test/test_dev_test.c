/*
 * test_dev_test.c - the SiFive test finisher: each code reaches the finish
 * callback with the right kind and code; other values and offsets do not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dev_test.h"

typedef struct finish_log {
    int calls, kind, code;
} finish_log;

static void on_finish(void *ctx, int kind, int code)
{
    finish_log *l = ctx;

    l->calls++;
    l->kind = kind;
    l->code = code;
}

static void test_dev_test__codes(void **state)
{
    finish_log l = {0};
    dev_test_t *t;
    uint64_t v = 1;

    (void)state;
    assert_int_equal(dev_test_new(&t, on_finish, &l), MC_OK);

    assert_int_equal(dev_test_ops.write(t, 0, 4, 0x5555), MC_OK);
    assert_int_equal(l.calls, 1);
    assert_int_equal(l.kind, DEV_TEST_POWEROFF);
    assert_int_equal(l.code, 0);

    assert_int_equal(dev_test_ops.write(t, 0, 4, 0x3333 | (42u << 16)), MC_OK);
    assert_int_equal(l.calls, 2);
    assert_int_equal(l.kind, DEV_TEST_FAIL);
    assert_int_equal(l.code, 42);

    assert_int_equal(dev_test_ops.write(t, 0, 4, 0x3333 | (0xffffu << 16)), MC_OK);
    assert_int_equal(l.code, 0xffff);

    assert_int_equal(dev_test_ops.write(t, 0, 2, 0x7777), MC_OK);
    assert_int_equal(l.calls, 4);
    assert_int_equal(l.kind, DEV_TEST_REBOOT);

    /* unknown values, other offsets: nothing */
    assert_int_equal(dev_test_ops.write(t, 0, 4, 0x1234), MC_OK);
    assert_int_equal(dev_test_ops.write(t, 4, 4, 0x5555), MC_OK);
    assert_int_equal(l.calls, 4);

    /* reads return 0; 1- and 8-byte accesses fault */
    assert_int_equal(dev_test_ops.read(t, 0, 4, &v), MC_OK);
    assert_int_equal(v, 0);
    assert_int_equal(dev_test_ops.read(t, 0, 1, &v), MC_EBUSFAULT);
    assert_int_equal(dev_test_ops.write(t, 0, 8, 0x5555), MC_EBUSFAULT);
    assert_int_equal(l.calls, 4);

    assert_int_equal(dev_test_state_size(), 0);
    assert_int_equal(dev_test_state_restore(t, NULL, 0), MC_OK);
    assert_int_equal(dev_test_state_restore(t, &v, 1), MC_ECORRUPT);
    dev_test_free(t);
    dev_test_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dev_test__codes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
