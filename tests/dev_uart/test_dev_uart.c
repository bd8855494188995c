/*
 * test_dev_uart.c - NS16550A: reset values, divisor latch (DLAB) vs
 * RBR/THR/IER, transmit through the callback, LSR and IIR sequences for
 * receive, THRE (re-raised as QEMU does) and line status, the 16-byte FIFO
 * with trigger levels, fill and overflow, loopback, snapshots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dev_uart.h"

#define RBR 0
#define THR 0
#define IER 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

typedef struct fake {
    uint8_t out[256];
    unsigned nout;
    int level;
    unsigned line;
    int irq_calls;
} fake;

static void fake_tx(void *ctx, uint8_t b)
{
    fake *f = ctx;

    assert_true(f->nout < sizeof(f->out));
    f->out[f->nout++] = b;
}

static void fake_irq(void *ctx, unsigned line, int level)
{
    fake *f = ctx;

    f->line = line;
    f->level = level;
    f->irq_calls++;
}

static uint8_t rd(dev_uart_t *u, uint64_t off)
{
    uint64_t v = 0xdead;

    assert_int_equal(dev_uart_ops.read(u, off, 1, &v), MC_OK);
    assert_true(v <= 0xff);
    return (uint8_t)v;
}

static void wr(dev_uart_t *u, uint64_t off, uint8_t v)
{
    assert_int_equal(dev_uart_ops.write(u, off, 1, v), MC_OK);
}

static dev_uart_t *mk(fake *f)
{
    dev_uart_t *u;

    memset(f, 0, sizeof(*f));
    assert_int_equal(dev_uart_new(&u, fake_tx, fake_irq, f, DEV_UART_IRQ), MC_OK);
    return u;
}

static void test_dev_uart__reset_and_dlab(void **state)
{
    fake f;
    dev_uart_t *u = mk(&f);

    (void)state;
    assert_int_equal(rd(u, IIR), 0x01);
    assert_int_equal(rd(u, LSR), 0x60); /* THRE | TEMT */
    assert_int_equal(rd(u, MSR), 0xb0); /* DCD | DSR | CTS */
    assert_int_equal(rd(u, MCR), 0x08); /* OUT2 */
    assert_int_equal(rd(u, LCR), 0);
    assert_int_equal(f.level, 0);

    /* DLAB: offsets 0/1 are the divisor latch, not THR/IER */
    wr(u, IER, 0x05);
    wr(u, LCR, 0x83);
    assert_int_equal(rd(u, 0), 0x0c); /* reset divisor 12 */
    assert_int_equal(rd(u, 1), 0x00);
    wr(u, 0, 0x01);
    wr(u, 1, 0x02);
    assert_int_equal(rd(u, 0), 0x01);
    assert_int_equal(rd(u, 1), 0x02);
    assert_int_equal(f.nout, 0); /* the DLL write did not transmit */
    wr(u, LCR, 0x03);
    assert_int_equal(rd(u, IER), 0x05); /* IER unchanged by DLM write */
    wr(u, LCR, 0x83);
    assert_int_equal(rd(u, 1), 0x02); /* divisor kept across DLAB toggles */
    wr(u, LCR, 0x03);

    /* SCR is plain storage; IER keeps 4 bits; MCR 5 bits */
    wr(u, SCR, 0xa5);
    assert_int_equal(rd(u, SCR), 0xa5);
    wr(u, IER, 0xff);
    assert_int_equal(rd(u, IER), 0x0f);
    wr(u, MCR, 0xff);
    assert_int_equal(rd(u, MCR), 0x1f);

    /* wider accesses use the low byte; offsets past 7 read 0 */
    uint64_t v = 1;
    assert_int_equal(dev_uart_ops.read(u, 0x10, 4, &v), MC_OK);
    assert_int_equal(v, 0);
    dev_uart_free(u);
    dev_uart_free(NULL);
}

static void test_dev_uart__tx_and_thre(void **state)
{
    fake f;
    dev_uart_t *u = mk(&f);

    (void)state;
    wr(u, LCR, 0x03);
    wr(u, THR, 'h');
    wr(u, THR, 'i');
    assert_int_equal(f.nout, 2);
    assert_memory_equal(f.out, "hi", 2);
    assert_int_equal(rd(u, LSR) & 0x60, 0x60); /* empty again at once */
    assert_int_equal(f.level, 0);              /* THRI not enabled */

    /* enabling THRI with THR empty raises THRE */
    wr(u, IER, 0x02);
    assert_int_equal(f.level, 1);
    assert_int_equal(f.line, DEV_UART_IRQ);
    /* reading IIR reports THRE and acknowledges it */
    assert_int_equal(rd(u, IIR), 0x02);
    assert_int_equal(f.level, 0);
    assert_int_equal(rd(u, IIR), 0x01);
    /* rewriting the same IER does not re-raise (edge of THRI only) */
    wr(u, IER, 0x02);
    assert_int_equal(f.level, 0);
    /* each transmitted byte re-raises THRE */
    wr(u, THR, 'x');
    assert_int_equal(f.level, 1);
    assert_int_equal(rd(u, IIR), 0x02);
    assert_int_equal(f.level, 0);
    /* toggling THRI off and on re-raises */
    wr(u, IER, 0x00);
    wr(u, IER, 0x02);
    assert_int_equal(f.level, 1);
    /* FCR.XFR (transmit FIFO reset) re-arms THRE, as in QEMU */
    assert_int_equal(rd(u, IIR), 0x02);
    assert_int_equal(f.level, 0);
    wr(u, FCR, 0x04);
    assert_int_equal(f.level, 1);
    /* disabling THRI lowers the line */
    wr(u, IER, 0x00);
    assert_int_equal(f.level, 0);
    assert_int_equal(f.nout, 3);
    dev_uart_free(u);
}

static void test_dev_uart__rx_no_fifo(void **state)
{
    fake f;
    dev_uart_t *u = mk(&f);

    (void)state;
    assert_true(dev_uart_rx_ready(u));
    assert_int_equal(dev_uart_rx(u, 'a'), MC_OK);
    assert_int_equal(rd(u, LSR) & 0x01, 0x01);
    assert_int_equal(f.level, 0); /* RDI not enabled */
    assert_false(dev_uart_rx_ready(u));
    wr(u, IER, 0x01);
    assert_int_equal(f.level, 1);
    assert_int_equal(rd(u, IIR), 0x04); /* RDA */
    assert_int_equal(rd(u, RBR), 'a');
    assert_int_equal(f.level, 0);
    assert_int_equal(rd(u, LSR) & 0x01, 0);
    assert_int_equal(rd(u, IIR), 0x01);

    /* overrun: a second byte before the first is read */
    wr(u, IER, 0x05); /* RDI | RLSI */
    assert_int_equal(dev_uart_rx(u, 'b'), MC_OK);
    assert_int_equal(dev_uart_rx(u, 'c'), MC_ERANGE);
    /* RLS outranks RDA */
    assert_int_equal(rd(u, IIR), 0x06);
    assert_int_equal(rd(u, LSR) & 0x03, 0x03); /* DR | OE; reading clears OE */
    assert_int_equal(rd(u, LSR) & 0x03, 0x01);
    assert_int_equal(rd(u, IIR), 0x04);
    assert_int_equal(rd(u, RBR), 'c'); /* the newer byte overwrote */
    assert_int_equal(f.level, 0);
    dev_uart_free(u);
}

static void test_dev_uart__fifo(void **state)
{
    fake f;
    dev_uart_t *u = mk(&f);

    (void)state;
    wr(u, FCR, 0x81); /* FIFO on, trigger 8 */
    assert_int_equal(rd(u, IIR) & 0xc0, 0xc0);
    wr(u, IER, 0x01);
    /* below the trigger level the (immediate) character timeout fires */
    assert_int_equal(dev_uart_rx(u, 0), MC_OK);
    assert_int_equal(f.level, 1);
    assert_int_equal(rd(u, IIR), 0xcc); /* CTI */
    assert_int_equal(rd(u, RBR), 0);
    assert_int_equal(f.level, 0);
    assert_int_equal(rd(u, IIR), 0xc1);

    /* fill to 16: RDA at the trigger level, then no more room */
    for (unsigned i = 0; i < 16; i++) {
        assert_true(dev_uart_rx_ready(u));
        assert_int_equal(dev_uart_rx(u, (uint8_t)(0x40 + i)), MC_OK);
    }
    assert_false(dev_uart_rx_ready(u));
    assert_int_equal(rd(u, IIR), 0xc4); /* 16 >= 8: RDA */
    /* overflow: byte dropped, FIFO contents kept, OE set */
    wr(u, IER, 0x05);
    assert_int_equal(dev_uart_rx(u, 0x99), MC_ERANGE);
    assert_int_equal(rd(u, IIR), 0xc6);
    assert_int_equal(rd(u, LSR) & 0x03, 0x03);
    for (unsigned i = 0; i < 16; i++) {
        assert_int_equal(rd(u, LSR) & 0x01, 0x01);
        assert_int_equal(rd(u, RBR), 0x40 + i);
        /* 8..15 bytes left: RDA; fewer: timeout */
        if (i < 15) assert_int_equal(rd(u, IIR), 16 - (i + 1) >= 8 ? 0xc4 : 0xcc);
    }
    assert_int_equal(rd(u, LSR) & 0x01, 0);
    assert_int_equal(rd(u, IIR), 0xc1);
    assert_int_equal(f.level, 0);
    assert_int_equal(rd(u, RBR), 0); /* empty FIFO reads 0 */

    /* FCR RFR flushes; disabling the FIFO flushes too */
    assert_int_equal(dev_uart_rx(u, 1), MC_OK);
    assert_int_equal(dev_uart_rx(u, 2), MC_OK);
    wr(u, FCR, 0x83);
    assert_int_equal(rd(u, LSR) & 0x01, 0); /* RFR clears DR */
    assert_int_equal(rd(u, RBR), 0);
    assert_int_equal(dev_uart_rx(u, 3), MC_OK);
    wr(u, FCR, 0x00);
    assert_int_equal(rd(u, IIR) & 0xc0, 0);
    assert_true(dev_uart_rx_ready(u) == !(rd(u, LSR) & 1));
    dev_uart_free(u);
}

static void test_dev_uart__loopback(void **state)
{
    fake f;
    dev_uart_t *u = mk(&f);

    (void)state;
    wr(u, FCR, 0x01);
    wr(u, MCR, 0x10 | 0x0b);                          /* LOOP | OUT2 | RTS | DTR */
    assert_int_equal(rd(u, MSR), 0x80 | 0x10 | 0x20); /* DCD(OUT2) CTS(RTS) DSR(DTR) */
    wr(u, THR, 'L');
    assert_int_equal(f.nout, 0);
    assert_int_equal(rd(u, RBR), 'L');
    dev_uart_free(u);
}

static void test_dev_uart__snapshot(void **state)
{
    fake f, g;
    dev_uart_t *u = mk(&f), *v = mk(&g);
    uint8_t buf[256], buf2[256];
    unsigned n = dev_uart_state_size();

    (void)state;
    assert_true(n <= sizeof(buf));
    wr(u, FCR, 0xc1);
    wr(u, IER, 0x01);
    assert_int_equal(dev_uart_rx(u, 'p'), MC_OK);
    assert_int_equal(dev_uart_rx(u, 'q'), MC_OK);
    dev_uart_state_save(u, buf);
    assert_int_equal(dev_uart_state_restore(v, buf, n), MC_OK);
    assert_int_equal(g.level, 1);
    assert_int_equal(rd(v, RBR), 'p');
    assert_int_equal(rd(v, RBR), 'q');
    dev_uart_state_save(u, buf2);
    assert_memory_equal(buf, buf2, n);
    assert_int_equal(dev_uart_state_restore(v, buf, n - 1), MC_ECORRUPT);
    buf[0] ^= 0xff;
    assert_int_equal(dev_uart_state_restore(v, buf, n), MC_ECORRUPT);
    dev_uart_free(u);
    dev_uart_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dev_uart__reset_and_dlab),
        cmocka_unit_test(test_dev_uart__tx_and_thre),
        cmocka_unit_test(test_dev_uart__rx_no_fifo),
        cmocka_unit_test(test_dev_uart__fifo),
        cmocka_unit_test(test_dev_uart__loopback),
        cmocka_unit_test(test_dev_uart__snapshot),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
