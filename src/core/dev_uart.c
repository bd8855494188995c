/*
 * dev_uart.c - NS16550A as QEMU's serial.c models it, minus the host side.
 *
 * Differences from QEMU, all for determinism: transmission is instant (a
 * THR write goes out through tx() and THRE/TEMT come back at once, raising
 * the THRE interrupt again as QEMU does after each byte), and the FIFO
 * character-timeout interrupt (CTI) fires without delay: whenever the RX
 * FIFO holds data below the trigger level after a byte arrives or is read.
 * There are no host modem lines: MSR is DCD|DSR|CTS, loopback mode reflects
 * MCR and loops transmitted bytes back into the receiver.
 *
 * Invariants: rx FIFO count <= 16; LSR.DR set iff data is waiting; the IRQ
 * line equals "IIR has an interrupt", recomputed by uart_update() after
 * every change.
 */
#include "dev_uart.h"

#include <stdlib.h>
#include <string.h>

#define UART_FIFO        16
#define UART_STATE_MAGIC 0x54524155u /* "UART" */

#define LCR_DLAB      0x80
#define IER_RDI       0x01
#define IER_THRI      0x02
#define IER_RLSI      0x04
#define IER_MSI       0x08
#define IIR_NO_INT    0x01
#define IIR_MSI       0x00
#define IIR_THRI      0x02
#define IIR_RDI       0x04
#define IIR_RLSI      0x06
#define IIR_CTI       0x0c
#define IIR_FE        0xc0
#define FCR_FE        0x01
#define FCR_RFR       0x02
#define FCR_XFR       0x04
#define MCR_LOOP      0x10
#define MCR_OUT2      0x08
#define LSR_DR        0x01
#define LSR_OE        0x02
#define LSR_BI        0x10
#define LSR_THRE      0x20
#define LSR_TEMT      0x40
#define LSR_INT_ANY   0x1e
#define MSR_DCD       0x80
#define MSR_DSR       0x20
#define MSR_CTS       0x10
#define MSR_ANY_DELTA 0x0f

/* The snapshot blob: every guest-visible register and the RX FIFO. */
typedef struct uart_state {
    uint32_t magic;
    uint16_t divider;
    uint8_t rbr, ier, iir, lcr, mcr, lsr, msr, scr, fcr;
    uint8_t thr_ipending;     /* THRE interrupt armed */
    uint8_t timeout_ipending; /* character timeout interrupt armed */
    uint8_t itl;              /* RX trigger level: 1, 4, 8 or 14 */
    uint8_t fifo_head, fifo_count;
    uint8_t fifo[UART_FIFO];
} uart_state;

struct dev_uart {
    dev_uart_tx_fn tx;
    dev_irq_fn irq;
    void *ctx;
    unsigned line;
    uart_state st;
};

static void uart_update(dev_uart_t *u)
{
    uart_state *s = &u->st;
    uint8_t iir = IIR_NO_INT;

    if ((s->ier & IER_RLSI) && (s->lsr & LSR_INT_ANY))
        iir = IIR_RLSI;
    else if ((s->ier & IER_RDI) && s->timeout_ipending)
        iir = IIR_CTI;
    else if ((s->ier & IER_RDI) && (s->lsr & LSR_DR) &&
             (!(s->fcr & FCR_FE) || s->fifo_count >= s->itl))
        iir = IIR_RDI;
    else if ((s->ier & IER_THRI) && s->thr_ipending)
        iir = IIR_THRI;
    else if ((s->ier & IER_MSI) && (s->msr & MSR_ANY_DELTA))
        iir = IIR_MSI;
    s->iir = (uint8_t)(iir | (s->iir & 0xf0));
    if (u->irq) u->irq(u->ctx, u->line, iir != IIR_NO_INT);
}

/* Arms the (zero-delay) character timeout when the FIFO holds data that
 * would not reach the trigger level by itself. */
static void uart_arm_timeout(uart_state *s)
{
    s->timeout_ipending = (s->fcr & FCR_FE) && s->fifo_count > 0 && s->fifo_count < s->itl;
}

bool dev_uart_rx_ready(const dev_uart_t *u)
{
    if (u->st.fcr & FCR_FE) return u->st.fifo_count < UART_FIFO;
    return !(u->st.lsr & LSR_DR);
}

/* The receiver side: a byte from the line (host or loopback). */
static int uart_receive(dev_uart_t *u, uint8_t byte)
{
    uart_state *s = &u->st;
    int rc = MC_OK;

    if (s->fcr & FCR_FE) {
        if (s->fifo_count < UART_FIFO) {
            s->fifo[(s->fifo_head + s->fifo_count) % UART_FIFO] = byte;
            s->fifo_count++;
        } else {
            s->lsr |= LSR_OE; /* overruns do not overwrite the FIFO */
            rc = MC_ERANGE;
        }
        s->lsr |= LSR_DR;
        uart_arm_timeout(s);
    } else {
        if (s->lsr & LSR_DR) {
            s->lsr |= LSR_OE;
            rc = MC_ERANGE;
        }
        s->rbr = byte;
        s->lsr |= LSR_DR;
    }
    uart_update(u);
    return rc;
}

int dev_uart_rx(dev_uart_t *u, uint8_t byte)
{
    return uart_receive(u, byte);
}

static void uart_transmit(dev_uart_t *u, uint8_t byte)
{
    uart_state *s = &u->st;

    s->thr_ipending = 0;
    s->lsr &= (uint8_t) ~(LSR_THRE | LSR_TEMT);
    uart_update(u);
    if (s->mcr & MCR_LOOP)
        (void)uart_receive(u, byte);
    else if (u->tx)
        u->tx(u->ctx, byte);
    /* the byte left at once: holding register and shifter empty again */
    s->lsr |= LSR_THRE | LSR_TEMT;
    s->thr_ipending = 1;
    uart_update(u);
}

static uint8_t uart_read_rbr(dev_uart_t *u)
{
    uart_state *s = &u->st;
    uint8_t v;

    if (s->fcr & FCR_FE) {
        v = 0;
        if (s->fifo_count) {
            v = s->fifo[s->fifo_head];
            s->fifo_head = (s->fifo_head + 1) % UART_FIFO;
            s->fifo_count--;
        }
        if (s->fifo_count == 0) s->lsr &= (uint8_t) ~(LSR_DR | LSR_BI);
        uart_arm_timeout(s);
    } else {
        v = s->rbr;
        s->lsr &= (uint8_t) ~(LSR_DR | LSR_BI);
    }
    uart_update(u);
    return v;
}

static void uart_write_fcr(dev_uart_t *u, uint8_t val)
{
    uart_state *s = &u->st;
    static const uint8_t itl[4] = {1, 4, 8, 14};

    if ((val ^ s->fcr) & FCR_FE) /* enabling or disabling flushes both FIFOs */
        val |= FCR_RFR | FCR_XFR;
    if (val & FCR_RFR) {
        s->lsr &= (uint8_t) ~(LSR_DR | LSR_BI);
        s->timeout_ipending = 0;
        s->fifo_head = s->fifo_count = 0;
    }
    if (val & FCR_XFR) { /* the transmit side is always empty already */
        s->lsr |= LSR_THRE;
        s->thr_ipending = 1;
    }
    if (val & FCR_FE) {
        s->iir |= IIR_FE;
        s->itl = itl[val >> 6];
    } else {
        s->iir &= (uint8_t)~IIR_FE;
    }
    s->fcr = val & 0xc9;
    uart_update(u);
}

static uint8_t uart_msr(const uart_state *s)
{
    if (s->mcr & MCR_LOOP) /* modem outputs wired to the inputs */
        return (uint8_t)(((s->mcr & 0x0c) << 4) | ((s->mcr & 0x02) << 3) | ((s->mcr & 0x01) << 5));
    return s->msr;
}

static int uart_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
    dev_uart_t *u = dev;
    uart_state *s = &u->st;
    uint8_t v = 0;

    (void)size;
    switch (off) {
    case 0: v = (s->lcr & LCR_DLAB) ? (uint8_t)s->divider : uart_read_rbr(u); break;
    case 1: v = (s->lcr & LCR_DLAB) ? (uint8_t)(s->divider >> 8) : s->ier; break;
    case 2:
        v = s->iir;
        if ((v & 0x0f) == IIR_THRI) { /* reading IIR acknowledges THRE */
            s->thr_ipending = 0;
            uart_update(u);
        }
        break;
    case 3: v = s->lcr; break;
    case 4: v = s->mcr; break;
    case 5:
        v = s->lsr;
        if (s->lsr & (LSR_BI | LSR_OE)) { /* reading LSR clears errors */
            s->lsr &= (uint8_t) ~(LSR_BI | LSR_OE);
            uart_update(u);
        }
        break;
    case 6:
        v = uart_msr(s);
        if (!(s->mcr & MCR_LOOP) && (s->msr & MSR_ANY_DELTA)) {
            s->msr &= 0xf0;
            uart_update(u);
        }
        break;
    case 7: v = s->scr; break;
    default: break;
    }
    *val = v;
    return MC_OK;
}

static int uart_write(void *dev, uint64_t off, unsigned size, uint64_t val64)
{
    dev_uart_t *u = dev;
    uart_state *s = &u->st;
    uint8_t val = (uint8_t)val64;

    (void)size;
    switch (off) {
    case 0:
        if (s->lcr & LCR_DLAB)
            s->divider = (uint16_t)((s->divider & 0xff00) | val);
        else
            uart_transmit(u, val);
        break;
    case 1:
        if (s->lcr & LCR_DLAB) {
            s->divider = (uint16_t)((s->divider & 0x00ff) | (val << 8));
        } else {
            uint8_t changed = (s->ier ^ val) & 0x0f;

            s->ier = val & 0x0f;
            /* enabling THRI with THR empty raises THRE again (QEMU, as
             * Windows relies on it) */
            if (changed & IER_THRI) s->thr_ipending = (s->ier & IER_THRI) && (s->lsr & LSR_THRE);
            if (changed) uart_update(u);
        }
        break;
    case 2: uart_write_fcr(u, val); break;
    case 3: s->lcr = val; break;
    case 4: s->mcr = val & 0x1f; break;
    case 7: s->scr = val; break;
    default: /* LSR, MSR are read-only */ break;
    }
    return MC_OK;
}

const bus_mmio_ops dev_uart_ops = {.read = uart_read, .write = uart_write};

int dev_uart_new(dev_uart_t **out, dev_uart_tx_fn tx, dev_irq_fn irq, void *ctx, unsigned irq_line)
{
    dev_uart_t *u;

    *out = NULL;
    u = calloc(1, sizeof(*u));
    if (!u) return MC_ENOMEM;
    u->tx = tx;
    u->irq = irq;
    u->ctx = ctx;
    u->line = irq_line;
    dev_uart_reset(u);
    *out = u;
    return MC_OK;
}

void dev_uart_free(dev_uart_t *u)
{
    free(u);
}

void dev_uart_reset(dev_uart_t *u)
{
    uart_state *s = &u->st;

    memset(s, 0, sizeof(*s));
    s->magic = UART_STATE_MAGIC;
    s->iir = IIR_NO_INT;
    s->lsr = LSR_TEMT | LSR_THRE;
    s->msr = MSR_DCD | MSR_DSR | MSR_CTS;
    s->divider = 0x0c; /* 9600 8N1 */
    s->mcr = MCR_OUT2;
    s->itl = 1;
    uart_update(u);
}

unsigned dev_uart_state_size(void)
{
    return sizeof(uart_state);
}

void dev_uart_state_save(const dev_uart_t *u, void *buf)
{
    memcpy(buf, &u->st, sizeof(u->st));
}

int dev_uart_state_restore(dev_uart_t *u, const void *buf, unsigned len)
{
    uart_state s;

    if (len != sizeof(s)) return MC_ECORRUPT;
    memcpy(&s, buf, sizeof(s));
    if (s.magic != UART_STATE_MAGIC || s.fifo_head >= UART_FIFO || s.fifo_count > UART_FIFO ||
        (s.itl != 1 && s.itl != 4 && s.itl != 8 && s.itl != 14) || s.thr_ipending > 1 ||
        s.timeout_ipending > 1 || s.ier > 0x0f || s.mcr > 0x1f || (s.fcr & ~0xc9))
        return MC_ECORRUPT;
    u->st = s;
    uart_update(u);
    return MC_OK;
}
