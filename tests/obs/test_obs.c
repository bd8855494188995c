/*
 * test_obs.c - unit tests of the observation hooks (src/core/obs.h): the
 * ring (order, drains when full, dropped events counted, never silent),
 * trap/ecall/xRET events with their registers and exact instants, mode
 * accounting that adds up to the steps run, a PC breakpoint that reports
 * every execution and leaves the program's behaviour unchanged, satp
 * writes, MMIO accesses with the device name, PLIC claim/complete seen
 * through MMIO, and TLB refills per physical page.
 *
 * A hart on a tiny bus (RAM at 0x80000000, one MMIO device); the test plays
 * the board's part (obs_run_begin/obs_run_end around hart_run). White-box:
 * hart_int.h for CSR setup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus.h"
#include "hart.h"
#include "hart_int.h"
#include "obs.h"

#define RAM  0x80000000ull
#define TRAP 0x80003000ull
#define DATA 0x80100000ull
#define DEV  0x10000000ull
#define PLIC 0x0c000000ull

enum { ZERO, RA, SP, GP, TP, T0, T1, T2, S0, S1, A0, A1, A2, A3, A4, A5, A6, A7, S2 };

static uint32_t i_(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
static uint32_t b_(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
           ((u >> 1) & 15) << 8 | ((u >> 11) & 1) << 7 | 0x63;
}
#define ADDI(rd, rs, imm) i_(imm, rs, 0, rd, 0x13)
#define LW(rd, rs, imm)   i_(imm, rs, 2, rd, 0x03)
#define LD(rd, rs, imm)   i_(imm, rs, 3, rd, 0x03)
#define SW(rs2, rs1, imm)                                                                          \
    (((uint32_t)(imm) >> 5) << 25 | (rs2) << 20 | (rs1) << 15 | 2 << 12 | ((imm)&31) << 7 | 0x23)
#define BNE(a, b, imm)     b_(imm, b, a, 1)
#define CSRRW(rd, csr, rs) i_(csr, rs, 1, rd, 0x73)
#define CSRRS(rd, csr, rs) i_(csr, rs, 2, rd, 0x73)
#define ECALL              0x00000073u
#define MRET               0x30200073u
#define JSELF              0x0000006fu

/* ---- a consumer that keeps everything --------------------------------------- */

typedef struct sink {
    obs_event ev[4096];
    size_t n, calls;
    int fail; /* return this from the drain */
} sink;

static int sink_drain(void *ctx, const obs_event *ev, size_t n)
{
    sink *s = ctx;
    s->calls++;
    if (s->fail) return s->fail;
    for (size_t i = 0; i < n && s->n < 4096; i++)
        s->ev[s->n++] = ev[i];
    return 0;
}

static const obs_event *find(const sink *s, obs_kind k, size_t nth)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->ev[i].kind == k && nth-- == 0) return &s->ev[i];
    return NULL;
}

static size_t count(const sink *s, obs_kind k)
{
    size_t c = 0;
    for (size_t i = 0; i < s->n; i++)
        c += s->ev[i].kind == k;
    return c;
}

/* ---- a hart, a device ------------------------------------------------------------ */

static uint32_t dev_reg = 0x1234;

static int dev_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
    (void)dev, (void)size;
    *val = off == 8 ? dev_reg : 10; /* the PLIC's claim register: source 10 */
    return MC_OK;
}
static int dev_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    (void)dev, (void)size;
    if (off == 8) dev_reg = (uint32_t)val;
    return MC_OK;
}
static const bus_mmio_ops dev_ops = {dev_read, dev_write};

typedef struct env {
    bus_t *bus;
    hart_t *h;
    obs_t *o;
    sink *s;
    uint64_t icount;
} env;

static void env_init(env *e, bool with_obs, size_t ring)
{
    memset(e, 0, sizeof(*e));
    assert_int_equal(bus_new(&e->bus), MC_OK);
    assert_int_equal(bus_add_ram(e->bus, RAM, 4u << 20), MC_OK);
    assert_int_equal(bus_add_mmio(e->bus, "dev", DEV, 0x100, &dev_ops, NULL), MC_OK);
    assert_int_equal(bus_add_mmio(e->bus, "plic", PLIC, 0x400000, &dev_ops, NULL), MC_OK);
    hart_config cfg = {.hartid = 0, .ext = HART_EXT_DEFAULT, .reset_pc = RAM};
    assert_int_equal(hart_new(&e->h, e->bus, &cfg), MC_OK);
    e->h->st.mtvec = TRAP;
    /* the trap handler: mepc += 4; mret */
    const uint32_t handler[] = {CSRRS(T0, 0x341, ZERO), ADDI(T0, T0, 4), CSRRW(ZERO, 0x341, T0),
                                MRET};
    memcpy(bus_ram_ptr(e->bus, TRAP, sizeof(handler), true), handler, sizeof(handler));
    if (with_obs) {
        e->s = calloc(1, sizeof(sink));
        assert_non_null(e->s);
        obs_config oc = {.ring = ring, .drain = sink_drain, .ctx = e->s};
        assert_int_equal(obs_new(&e->o, &oc), MC_OK);
        bus_set_obs(e->bus, e->o);
        obs_attach_hart(e->o, e->h, 0);
        obs_restart(e->o, 0, 0);
    }
}

static void env_fini(env *e)
{
    hart_free(e->h);
    bus_free(e->bus);
    obs_free(e->o);
    free(e->s);
}

static void prog(env *e, uint64_t at, const uint32_t *w, size_t n)
{
    memcpy(bus_ram_ptr(e->bus, at, 4 * n, true), w, 4 * n);
    bus_note_write(e->bus, at, 4 * n);
}

/* Runs n steps as the board does, in slices. */
static void run(env *e, uint64_t n)
{
    while (n) {
        uint64_t k = n < 7 ? n : 7;
        if (e->o) obs_run_begin(e->o, e->h, 0, e->icount, e->icount);
        uint64_t done = hart_run(e->h, k, e->icount);
        if (e->o) obs_run_end(e->o, e->h, 0);
        assert_int_equal(done, k);
        e->icount += done;
        n -= done;
    }
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_obs__ring_order_and_drops(void **state)
{
    (void)state;
    sink *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    obs_t *o;
    obs_config oc = {.ring = 4, .drain = sink_drain, .ctx = s};
    assert_int_equal(obs_new(&o, &oc), MC_OK);
    for (unsigned i = 0; i < 10; i++)
        obs_uart(o, OBS_UART_TX, (uint8_t)('a' + i));
    assert_int_equal(s->n, 8); /* two full rings drained */
    assert_int_equal(obs_flush(o), MC_OK);
    assert_int_equal(s->n, 10);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(s->ev[i].v[0], 'a' + i);
    assert_int_equal(obs_emitted(o), 10);
    assert_int_equal(obs_dropped(o), 0);
    /* a failing consumer: counted, and the error reported */
    s->fail = MC_EDB;
    for (unsigned i = 0; i < 6; i++)
        obs_uart(o, OBS_UART_RX, 1);
    assert_int_equal(obs_flush(o), MC_EDB);
    assert_int_equal(obs_dropped(o), 6);
    obs_free(o);
    /* no consumer at all: everything is dropped, and counted */
    obs_config none = {.ring = 2};
    assert_int_equal(obs_new(&o, &none), MC_OK);
    for (unsigned i = 0; i < 5; i++)
        obs_plic(o, OBS_PLIC_RAISE, 10, 0);
    assert_true(obs_flush(o) < 0);
    assert_int_equal(obs_dropped(o), 5);
    obs_free(o);
    free(s);
}

static void test_obs__ecall_trap_and_return(void **state)
{
    (void)state;
    env e;
    env_init(&e, true, 64);
    const uint32_t p[] = {
        ADDI(A7, ZERO, 93), ADDI(A0, ZERO, 7), ADDI(A1, ZERO, -2), ECALL, ADDI(A2, ZERO, 1), JSELF};
    prog(&e, RAM, p, 6);
    run(&e, 3 + 1 + 4 + 1);
    assert_int_equal(obs_flush(e.o), MC_OK);
    const obs_event *t = find(e.s, OBS_TRAP, 0), *r = find(e.s, OBS_TRET, 0);
    assert_non_null(t);
    assert_non_null(r);
    assert_int_equal(t->v[0], 11);  /* ecall from M */
    assert_int_equal(t->icount, 3); /* three instructions before it */
    assert_int_equal(t->v[1], RAM + 12);
    assert_int_equal(t->v[6], 93);
    assert_int_equal(t->v[7], 7);
    assert_int_equal((int64_t)t->v[8], -2);
    assert_int_equal(t->a, HART_PRIV_M);
    assert_int_equal(t->b, HART_PRIV_M);
    assert_int_equal(r->icount, 3 + 1 + 3); /* trap step + three handler instructions */
    assert_int_equal(r->v[0], RAM + 16);
    assert_int_equal(r->a, HART_PRIV_M);
    assert_int_equal(hart_reg(e.h, A2), 1);
    /* every step was credited to a mode exactly once */
    uint64_t sum = 0;
    for (size_t i = 0; i < e.s->n; i++)
        if (e.s->ev[i].kind == OBS_MODE) sum += e.s->ev[i].v[0] + e.s->ev[i].v[1] + e.s->ev[i].v[2];
    assert_int_equal(sum, 9);
    env_fini(&e);
}

static void test_obs__breakpoint_reports_and_changes_nothing(void **state)
{
    (void)state;
    /* A loop that runs its body 3 times; the breakpoint sits on the body. */
    const uint32_t loop[] = {
        ADDI(T1, ZERO, 3),           ADDI(T2, ZERO, 0),
        /* body: */ ADDI(T2, T2, 5), ADDI(T1, T1, -1),  BNE(T1, ZERO, -8), ADDI(A0, T2, 1), JSELF};
    env a, b;
    env_init(&a, false, 0);
    env_init(&b, true, 64);
    prog(&a, RAM, loop, 7);
    prog(&b, RAM, loop, 7);
    assert_int_equal(obs_add_bp(b.o, RAM + 8), MC_OK);
    assert_int_equal(obs_add_bp(b.o, RAM + 4094), MC_EUNSUP); /* a page-crossing slot */
    assert_int_equal(obs_add_bp(b.o, RAM + 3), MC_EINVAL);
    run(&a, 20);
    run(&b, 20);
    assert_int_equal(obs_flush(b.o), MC_OK);
    assert_int_equal(count(b.s, OBS_BP), 3);
    const obs_event *bp = find(b.s, OBS_BP, 1);
    assert_int_equal(bp->v[0], RAM + 8);
    assert_int_equal(bp->icount, 2 + 3); /* second pass: 2 + one body of 3 */
    /* same registers, same pc, same steps with and without the breakpoint */
    for (unsigned r = 0; r < 32; r++)
        assert_int_equal(hart_reg(a.h, r), hart_reg(b.h, r));
    assert_int_equal(hart_pc(a.h), hart_pc(b.h));
    assert_int_equal(hart_steps(a.h), hart_steps(b.h));
    assert_int_equal(hart_reg(b.h, A0), 16);
    env_fini(&a);
    env_fini(&b);
}

static void test_obs__satp_mmio_plic_tlb(void **state)
{
    (void)state;
    env e;
    env_init(&e, true, 8); /* a small ring: drains along the way */
    uint64_t satp = (8ull << 60) | (DATA >> 12);
    *(uint64_t *)bus_ram_ptr(e.bus, DATA, 8, true) = 0x55;
    *(uint64_t *)bus_ram_ptr(e.bus, DATA + 8, 8, true) = satp;
    const uint32_t q[] = {LD(A0, S0, 0),          /* TLB refill of DATA */
                          LD(T0, S0, 8),          /* satp value */
                          CSRRW(ZERO, 0x180, T0), /* satp write */
                          LW(A2, S1, 8),          /* MMIO read */
                          ADDI(A1, ZERO, 77),
                          SW(A1, S1, 8), /* MMIO write */
                          LW(A3, S2, 4), /* PLIC claim (context 0) */
                          SW(A3, S2, 4), /* PLIC complete */
                          JSELF};
    prog(&e, RAM, q, 9);
    e.h->st.x[S0] = DATA;
    e.h->st.x[S1] = DEV;
    e.h->st.x[S2] = PLIC + 0x200000;
    dev_reg = 0x1234;
    run(&e, 12);
    assert_int_equal(obs_flush(e.o), MC_OK);
    assert_int_equal(obs_dropped(e.o), 0);
    assert_int_equal(hart_reg(e.h, A0), 0x55);
    const obs_event *s = find(e.s, OBS_SATP, 0);
    assert_non_null(s);
    assert_int_equal(s->v[0], 0);
    assert_int_equal(s->v[1], satp);
    assert_int_equal(s->icount, 2);
    const obs_event *r = find(e.s, OBS_MMIO, 0), *w = find(e.s, OBS_MMIO, 1);
    assert_non_null(r);
    assert_non_null(w);
    assert_string_equal(obs_device_name(e.o, r->aux), "dev");
    assert_int_equal(r->v[0], 8);
    assert_int_equal(r->v[1], 0x1234);
    assert_int_equal(r->b, 0);
    assert_int_equal(r->a, 4);
    assert_int_equal(r->icount, 3);
    assert_int_equal(w->v[1], 77);
    assert_int_equal(w->b, 1);
    const obs_event *c = find(e.s, OBS_PLIC, 0), *d = find(e.s, OBS_PLIC, 1);
    assert_non_null(c);
    assert_non_null(d);
    assert_int_equal(c->aux, OBS_PLIC_CLAIM);
    assert_int_equal(d->aux, OBS_PLIC_COMPLETE);
    assert_int_equal(c->v[0], 10);
    assert_int_equal(c->v[1], 0); /* context 0 */
    assert_int_equal(d->v[0], 10);
    bool data_refill = false;
    for (size_t i = 0; i < e.s->n; i++)
        if (e.s->ev[i].kind == OBS_TLB && e.s->ev[i].v[0] == DATA && e.s->ev[i].aux == 0)
            data_refill = true;
    assert_true(data_refill);
    env_fini(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_obs__ring_order_and_drops),
        cmocka_unit_test(test_obs__ecall_trap_and_return),
        cmocka_unit_test(test_obs__breakpoint_reports_and_changes_nothing),
        cmocka_unit_test(test_obs__satp_mmio_plic_tlb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
