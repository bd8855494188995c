/*
 * test_hart.c - unit tests of the RV64GC hart: ISA edge cases, compressed
 * forms, atomics, traps, delegation, interrupts, Sv39/Sv48, PMP,
 * misaligned accesses, self-modifying code, the exact-budget contract,
 * snapshots and the -cpu parser.
 *
 * A tiny bus with RAM at 0x80000000; programs are written as instruction
 * words with the encoders below (checked against riscv64-linux-gnu-as).
 * White-box: the test includes hart_int.h to set up CSRs directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bus.h"
#include "hart.h"
#include "fpu.h"
#include "hart_int.h"

#define RAM   0x80000000ull
#define DATA  0x80100000ull
#define TRAP  0x80003000ull /* mtvec: "j ." */
#define STRAP 0x80003100ull /* stvec: "j ." */

enum {
    ZERO,
    RA,
    SP,
    GP,
    TP,
    T0,
    T1,
    T2,
    S0,
    S1,
    A0,
    A1,
    A2,
    A3,
    A4,
    A5,
    A6,
    A7,
    S2,
    S3,
    S4,
    S5,
    S6,
    S7,
    S8,
    S9,
    S10,
    S11,
    T3,
    T4,
    T5,
    T6
};

/* ---- encoders ---- */
static uint32_t r_(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
static uint32_t i_(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
static uint32_t s_(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3, unsigned op)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 31) << 7 | op;
}
static inline uint32_t b_(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
           ((u >> 1) & 15) << 8 | ((u >> 11) & 1) << 7 | 0x63;
}
static uint32_t j_(int32_t imm, unsigned rd)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 | ((u >> 11) & 1) << 20 |
           ((u >> 12) & 0xff) << 12 | rd << 7 | 0x6f;
}
#define ADDI(rd, rs, imm)        i_(imm, rs, 0, rd, 0x13)
#define ADDIW(rd, rs, imm)       i_(imm, rs, 0, rd, 0x1b)
#define SLLIW(rd, rs, sh)        i_(sh, rs, 1, rd, 0x1b)
#define SRAIW(rd, rs, sh)        i_(0x400 | (sh), rs, 5, rd, 0x1b)
#define LUI(rd, imm20)           ((uint32_t)(imm20) << 12 | (rd) << 7 | 0x37)
#define AUIPC(rd, imm20)         ((uint32_t)(imm20) << 12 | (rd) << 7 | 0x17)
#define ADD(rd, a, b)            r_(0, b, a, 0, rd, 0x33)
#define SUB(rd, a, b)            r_(0x20, b, a, 0, rd, 0x33)
#define SLL(rd, a, b)            r_(0, b, a, 1, rd, 0x33)
#define SRA(rd, a, b)            r_(0x20, b, a, 5, rd, 0x33)
#define SLLW(rd, a, b)           r_(0, b, a, 1, rd, 0x3b)
#define SRLW(rd, a, b)           r_(0, b, a, 5, rd, 0x3b)
#define SRAW(rd, a, b)           r_(0x20, b, a, 5, rd, 0x3b)
#define ADDW(rd, a, b)           r_(0, b, a, 0, rd, 0x3b)
#define MUL(rd, a, b)            r_(1, b, a, 0, rd, 0x33)
#define MULH(rd, a, b)           r_(1, b, a, 1, rd, 0x33)
#define MULHSU(rd, a, b)         r_(1, b, a, 2, rd, 0x33)
#define MULHU(rd, a, b)          r_(1, b, a, 3, rd, 0x33)
#define DIV(rd, a, b)            r_(1, b, a, 4, rd, 0x33)
#define DIVU(rd, a, b)           r_(1, b, a, 5, rd, 0x33)
#define REM(rd, a, b)            r_(1, b, a, 6, rd, 0x33)
#define REMU(rd, a, b)           r_(1, b, a, 7, rd, 0x33)
#define MULW(rd, a, b)           r_(1, b, a, 0, rd, 0x3b)
#define DIVW(rd, a, b)           r_(1, b, a, 4, rd, 0x3b)
#define DIVUW(rd, a, b)          r_(1, b, a, 5, rd, 0x3b)
#define REMW(rd, a, b)           r_(1, b, a, 6, rd, 0x3b)
#define REMUW(rd, a, b)          r_(1, b, a, 7, rd, 0x3b)
#define LD(rd, rs, imm)          i_(imm, rs, 3, rd, 0x03)
#define LW(rd, rs, imm)          i_(imm, rs, 2, rd, 0x03)
#define LBU(rd, rs, imm)         i_(imm, rs, 4, rd, 0x03)
#define SD(rs2, rs1, imm)        s_(imm, rs2, rs1, 3, 0x23)
#define SW(rs2, rs1, imm)        s_(imm, rs2, rs1, 2, 0x23)
#define JAL(rd, imm)             j_(imm, rd)
#define JALR(rd, rs, imm)        i_(imm, rs, 0, rd, 0x67)
#define BNE(a, b, imm)           b_(imm, b, a, 1)
#define CSRRW(rd, csr, rs)       i_(csr, rs, 1, rd, 0x73)
#define CSRRS(rd, csr, rs)       i_(csr, rs, 2, rd, 0x73)
#define CSRRSI(rd, csr, u)       i_(csr, u, 6, rd, 0x73)
#define CSRRC(rd, csr, rs)       i_(csr, rs, 3, rd, 0x73)
#define AMO(f5, w, rd, rs1, rs2) r_((f5) << 2, rs2, rs1, (w) ? 2 : 3, rd, 0x2f)
#define LR_D(rd, rs1)            AMO(2, 0, rd, rs1, 0)
#define LR_W(rd, rs1)            AMO(2, 1, rd, rs1, 0)
#define SC_D(rd, rs1, rs2)       AMO(3, 0, rd, rs1, rs2)
#define SC_W(rd, rs1, rs2)       AMO(3, 1, rd, rs1, rs2)
#define ECALL                    0x00000073u
#define EBREAK                   0x00100073u
#define MRET                     0x30200073u
#define SRET                     0x10200073u
#define WFI                      0x10500073u
#define FENCE_I                  0x0000100fu
#define JSELF                    0x0000006fu /* j . */
/* F/D */
#define FCVT_D_L(fd, rs)   r_(0x69, 2, rs, 7, fd, 0x53)
#define FCVT_L_D(rd, fs)   r_(0x61, 2, fs, 1, rd, 0x53) /* rtz */
#define FADD_D(fd, a, b)   r_(0x01, b, a, 7, fd, 0x53)
#define FDIV_D(fd, a, b)   r_(0x0d, b, a, 7, fd, 0x53)
#define FMV_X_D(rd, fs)    r_(0x71, 0, fs, 0, rd, 0x53)
#define FMV_W_X(fd, rs)    r_(0x78, 0, rs, 0, fd, 0x53)
#define FSGNJN_D(fd, a, b) r_(0x11, b, a, 1, fd, 0x53)
#define FADD_S(fd, a, b)   r_(0x00, b, a, 7, fd, 0x53)

typedef struct env {
    bus_t *bus;
    hart_t *h;
} env;

static void code_listener(void *ctx, uint64_t pa)
{
    hart_code_written((hart_t *)ctx, pa);
}

static env *env_new(uint32_t ext)
{
    static env e;
    assert_int_equal(bus_new(&e.bus), MC_OK);
    assert_int_equal(bus_add_ram(e.bus, RAM, 16u << 20), MC_OK);
    hart_config cfg = {.hartid = 0, .ext = ext, .reset_pc = RAM};
    assert_int_equal(hart_new(&e.h, e.bus, &cfg), MC_OK);
    bus_set_code_listener(e.bus, code_listener, e.h);
    e.h->st.mtvec = TRAP;
    e.h->st.stvec = STRAP;
    uint8_t *p = bus_ram_ptr(e.bus, TRAP, 4, true);
    uint32_t j = JSELF;
    memcpy(p, &j, 4);
    memcpy(bus_ram_ptr(e.bus, STRAP, 4, true), &j, 4);
    return &e;
}

static void env_free(env *e)
{
    hart_free(e->h);
    bus_free(e->bus);
}

static void put(env *e, uint64_t pa, const void *src, size_t n)
{
    memcpy(bus_ram_ptr(e->bus, pa, n, true), src, n);
    bus_note_write(e->bus, pa, n);
}

static void put32(env *e, uint64_t pa, uint32_t w)
{
    put(e, pa, &w, 4);
}
static void put64(env *e, uint64_t pa, uint64_t w)
{
    put(e, pa, &w, 8);
}
static uint64_t get64(env *e, uint64_t pa)
{
    uint64_t v;
    memcpy(&v, bus_ram_ptr(e->bus, pa, 8, false), 8);
    return v;
}

static void prog(env *e, uint64_t at, const uint32_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put32(e, at + 4 * i, w[i]);
}

#define PROG(e, ...)                                                                               \
    do {                                                                                           \
        const uint32_t w_[] = {__VA_ARGS__};                                                       \
        prog(e, RAM, w_, sizeof(w_) / sizeof(w_[0]));                                              \
    } while (0)

static uint64_t csr(env *e, unsigned n)
{
    uint64_t v = 0;
    assert_int_equal(hart_csr(e->h, n, &v), MC_OK);
    return v;
}

static void run(env *e, uint64_t n)
{
    assert_int_equal(hart_run(e->h, n, 0), n);
}

#define X(i) hart_reg(e->h, i)

/* ---- tests ---- */

static void test_hart__alu_and_budget(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, LUI(A0, 0x12345), ADDI(A0, A0, 0x678), ADDI(A1, ZERO, -1), ADD(A2, A0, A1),
         SUB(A3, ZERO, A0), ADDI(ZERO, A0, 5), AUIPC(A4, 1), JAL(RA, 8), ADDI(A5, ZERO, 1),
         ADDI(A6, ZERO, 2));
    uint64_t n = hart_run(e->h, 7, 0);
    assert_int_equal(n, 7);
    assert_int_equal(hart_pc(e->h), RAM + 28);
    assert_int_equal(X(A0), 0x12345678);
    assert_int_equal(X(A1), UINT64_MAX);
    assert_int_equal(X(A2), 0x12345677);
    assert_int_equal(X(A3), (uint64_t)-0x12345678);
    assert_int_equal(X(ZERO), 0);
    assert_int_equal(X(A4), RAM + 24 + 0x1000);
    run(e, 2);
    assert_int_equal(X(RA), RAM + 32);
    assert_int_equal(X(A5), 0);
    assert_int_equal(X(A6), 2);
    assert_int_equal(hart_steps(e->h), 9);
    env_free(e);
}

static void test_hart__div_edge_cases(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, DIV(A2, A0, ZERO), DIVU(A3, A0, ZERO), REM(A4, A0, ZERO), REMU(A5, A0, ZERO),
         DIV(A6, A1, S0), REM(A7, A1, S0), DIVW(S2, A0, ZERO), DIVUW(S3, A0, ZERO),
         REMW(S4, A0, ZERO), REMUW(S5, A0, ZERO), DIVW(S6, S1, S0), REMW(S7, S1, S0),
         MULH(S8, A1, S0), MULHU(S9, S0, S0), MULHSU(S10, S0, S0), MULW(S11, A0, A0),
         DIV(T3, T4, T5), REM(T6, T4, T5));
    hart_set_reg(e->h, A0, 0x80000007ull);         /* low word negative */
    hart_set_reg(e->h, A1, 0x8000000000000000ull); /* INT64_MIN */
    hart_set_reg(e->h, S0, UINT64_MAX);            /* -1 */
    hart_set_reg(e->h, S1, 0xffffffff80000000ull); /* INT32_MIN */
    hart_set_reg(e->h, T4, (uint64_t)-7);
    hart_set_reg(e->h, T5, 2);
    run(e, 18);
    assert_int_equal(X(A2), UINT64_MAX);
    assert_int_equal(X(A3), UINT64_MAX);
    assert_int_equal(X(A4), 0x80000007ull);
    assert_int_equal(X(A5), 0x80000007ull);
    assert_int_equal(X(A6), 0x8000000000000000ull);
    assert_int_equal(X(A7), 0);
    assert_int_equal(X(S2), UINT64_MAX);
    assert_int_equal(X(S3), UINT64_MAX);
    assert_int_equal(X(S4), 0xffffffff80000007ull); /* sext of low word */
    assert_int_equal(X(S5), 0xffffffff80000007ull);
    assert_int_equal(X(S6), 0xffffffff80000000ull);
    assert_int_equal(X(S7), 0);
    assert_int_equal(X(S8), 0); /* INT64_MIN * -1 = 2^63: high part 0 */
    assert_int_equal(X(S9), UINT64_MAX - 1);
    assert_int_equal(X(S10), UINT64_MAX); /* -1 * (2^64-1): high = -1 */
    assert_int_equal(X(S11), 0x31ull);    /* (0x80000007^2) low word = 0x31 */
    assert_int_equal(X(T3), (uint64_t)-3);
    assert_int_equal(X(T6), (uint64_t)-1);
    env_free(e);
}

static void test_hart__shifts_and_w_forms(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, SLL(A2, A0, A1), SRA(A3, S0, A1), SLLW(A4, A0, A1), SRLW(A5, S0, A1), SRAW(A6, S0, A1),
         SLLIW(A7, A0, 31), SRAIW(S2, S0, 31), ADDW(S3, A0, A0), ADDIW(S4, S1, 0),
         SLLW(S5, A0, S6));
    hart_set_reg(e->h, A0, 1);
    hart_set_reg(e->h, A1, 63 | 64); /* 64-bit: 63; W forms: 31 */
    hart_set_reg(e->h, S0, 0x8000000080000000ull);
    hart_set_reg(e->h, S1, 0x00000000ffffffffull);
    hart_set_reg(e->h, S6, 32); /* W shift by 32 = by 0 */
    run(e, 10);
    assert_int_equal(X(A2), 0x8000000000000000ull);
    assert_int_equal(X(A3), UINT64_MAX);
    assert_int_equal(X(A4), 0xffffffff80000000ull);
    assert_int_equal(X(A5), 1);
    assert_int_equal(X(A6), UINT64_MAX);
    assert_int_equal(X(A7), 0xffffffff80000000ull);
    assert_int_equal(X(S2), UINT64_MAX);
    assert_int_equal(X(S3), 2);
    assert_int_equal(X(S4), UINT64_MAX);
    assert_int_equal(X(S5), 1);
    env_free(e);
}

static const uint16_t cprog[] = {
    0x0808, 0x414c, 0x6110, 0x56ed, 0x068d, 0x2681, 0x7705, 0x87b2, 0x9381, 0x9671, 0x0792, 0x9bc1,
    0x8f91, 0x8db5, 0x8f51, 0x8efd, 0x9db5, 0x9d91, 0xe51c, 0xc54c, 0x6462, 0x44f2, 0xf022, 0xd426,
    0x7139, 0x2108, 0xa908, 0x25c6, 0xb4ae, 0xa011, 0x4805, 0xc101, 0xe111, 0x4809, 0x489d, 0x0297,
    0x0000, 0x02a1, 0x9282, 0x8306, 0x0397, 0x0000, 0x03a1, 0x8382, 0x952e, 0x9002,
};

static void test_hart__compressed_forms(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    put(e, RAM, cprog, sizeof(cprog));
    put64(e, DATA + 0x10, 0x1122334455667788ull);
    hart_set_reg(e->h, SP, DATA);
    e->h->st.mstatus |= 1ull << 13; /* FS = Initial */
    hart_run(e->h, 100, 0);
    assert_int_equal(csr(e, 0x342), EXC_BRK);
    assert_int_equal(csr(e, 0x341), RAM + 0x5a);
    assert_int_equal(csr(e, 0x343), 0); /* as QEMU 7.2 */
    assert_int_equal(X(A0), 0x81110107ull);
    assert_int_equal(X(A1), 0x010100f7ull);
    assert_int_equal(X(A2), 1);
    assert_int_equal(X(A3), 0x11223343eull);
    assert_int_equal(X(A4), 0xfffffffffffe1001ull);
    assert_int_equal(X(A5), 0x11223343full);
    assert_int_equal(X(S0), 0x010100f71223343full);
    assert_int_equal(X(S1), 0x010100f7ull);
    assert_int_equal(X(SP), DATA - 64);
    assert_int_equal(hart_freg(e->h, 10), 0x1122334455667788ull);
    assert_int_equal(hart_freg(e->h, 11), 0x1122334455667788ull);
    assert_int_equal(get64(e, DATA + 0x20), 0x1122334455667788ull);
    assert_int_equal(get64(e, DATA + 0x28), 0x1122334455667788ull);
    assert_int_equal(X(A6), 0);
    assert_int_equal(X(A7), 7);
    assert_int_equal(X(T0), RAM + 0x4e);
    assert_int_equal(X(RA), RAM + 0x4e);
    assert_int_equal(X(T1), RAM + 0x4e);
    assert_int_equal(X(T2), RAM + 0x58);
    env_free(e);
}

static void expect_illegal(uint32_t ext, const void *bits, size_t n, uint64_t tval)
{
    env *e = env_new(ext);
    put(e, RAM, bits, n);
    run(e, 1);
    assert_int_equal(csr(e, 0x342), EXC_ILL);
    assert_int_equal(csr(e, 0x343), tval);
    assert_int_equal(csr(e, 0x341), RAM);
    assert_int_equal(hart_pc(e->h), TRAP);
    env_free(e);
}

static void test_hart__illegal_encodings(void **state)
{
    (void)state;
    /* reserved compressed: c.addi4spn 0, c.lui 0, c.addiw x0, c.jr x0,
     * c.ldsp x0, c.lwsp x0, c.addi16sp 0, q0 funct3 4, reserved c.subw
     * sibling, all zeroes */
    static const uint16_t rc[] = {0x0008, 0x6781, 0x2005, 0x8002, 0x6002,
                                  0x4002, 0x6101, 0x8000, 0x9c41, 0x0000};
    for (size_t i = 0; i < sizeof(rc) / sizeof(rc[0]); i++)
        expect_illegal(HART_EXT_DEFAULT, &rc[i], 2, rc[i]);
    /* 32-bit: all ones, bad funct7 on OP, bad shift, f3=4 SYSTEM, JALR f3 */
    const uint32_t r32[] = {0xffffffffu,       r_(0x10, 1, 2, 0, 3, 0x33), i_(0x800, 1, 1, 3, 0x13),
                            0x00004073u,       i_(0, 1, 1, 1, 0x67),       LR_D(1, 2) | (3u << 20),
                            MUL(1, 2, 3) & ~0u};
    for (size_t i = 0; i < 6; i++)
        expect_illegal(HART_EXT_DEFAULT, &r32[i], 4, r32[i]);
    /* disabled extensions */
    uint32_t mul = MUL(1, 2, 3);
    expect_illegal(HART_EXT_DEFAULT & ~HART_EXT_M, &mul, 4, mul);
    uint32_t amo = AMO(0, 0, 1, 2, 3);
    expect_illegal(HART_EXT_DEFAULT & ~HART_EXT_A, &amo, 4, amo);
    uint16_t cli = 0x4805;
    expect_illegal(HART_EXT_DEFAULT & ~HART_EXT_C, &cli, 2, cli);
    /* FP with FS = Off */
    uint32_t fadd = FADD_D(1, 2, 3);
    expect_illegal(HART_EXT_DEFAULT, &fadd, 4, fadd);
}

static void test_hart__lr_sc(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, LR_D(A0, T0), SC_D(A1, T0, T1), SC_D(A2, T0, T1), LR_D(A3, T0), SD(T2, T0, 0),
         SC_D(A4, T0, T1), LR_W(A5, T0), SC_W(A6, T3, T1), SC_W(A7, T0, T1));
    put64(e, DATA, 0x1111);
    hart_set_reg(e->h, T0, DATA);
    hart_set_reg(e->h, T1, 0x2222);
    hart_set_reg(e->h, T2, 0xffffffff80000000ull);
    hart_set_reg(e->h, T3, DATA + 8);
    run(e, 9);
    assert_int_equal(X(A0), 0x1111);
    assert_int_equal(X(A1), 0);
    assert_int_equal(X(A2), 1);
    assert_int_equal(X(A3), 0x2222);
    assert_int_equal(X(A4), 1); /* the store changed the value: fails as QEMU */
    assert_int_equal(X(A5), 0xffffffff80000000ull);
    assert_int_equal(X(A6), 1); /* other address */
    assert_int_equal(X(A7), 1); /* reservation consumed by the failed SC */
    assert_int_equal(get64(e, DATA), 0xffffffff80000000ull);
    env_free(e);
}

static void test_hart__amo(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, AMO(0x00, 0, A0, T0, T1), AMO(0x01, 1, A1, T3, T2), AMO(0x10, 1, A2, T4, T2),
         AMO(0x1c, 1, A3, T5, T2), AMO(0x00, 1, A4, T6, T1));
    put64(e, DATA, 5);
    put64(e, DATA + 8, 0x00000000fffffff0ull);
    put64(e, DATA + 16, 7);
    put64(e, DATA + 24, 7);
    hart_set_reg(e->h, T0, DATA);
    hart_set_reg(e->h, T1, 10);
    hart_set_reg(e->h, T2, 0xfffffffe); /* -2 as a word */
    hart_set_reg(e->h, T3, DATA + 8);
    hart_set_reg(e->h, T4, DATA + 16);
    hart_set_reg(e->h, T5, DATA + 24);
    hart_set_reg(e->h, T6, DATA + 2); /* misaligned */
    run(e, 5);
    assert_int_equal(X(A0), 5);
    assert_int_equal(get64(e, DATA), 15);
    assert_int_equal(X(A1), 0xfffffffffffffff0ull); /* sign-extended old word */
    assert_int_equal(get64(e, DATA + 8), 0xfffffffeull);
    assert_int_equal(X(A2), 7);
    assert_int_equal(get64(e, DATA + 16), 0xfffffffeull); /* min(7, -2) = -2 */
    assert_int_equal(X(A3), 7);
    assert_int_equal(get64(e, DATA + 24), 0xfffffffeull); /* maxu */
    assert_int_equal(csr(e, 0x342), EXC_SMIS);
    assert_int_equal(csr(e, 0x343), DATA + 2);
    assert_int_equal(csr(e, 0x341), RAM + 16);
    env_free(e);

    e = env_new(HART_EXT_DEFAULT);
    PROG(e, LR_W(A0, T0));
    hart_set_reg(e->h, T0, DATA + 1);
    run(e, 1);
    assert_int_equal(csr(e, 0x342), EXC_LMIS);
    assert_int_equal(csr(e, 0x343), DATA + 1);
    env_free(e);
}

static void test_hart__misaligned_emulated(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, LD(A0, T0, 1), LD(A1, T1, 0), SD(T2, T1, 0), LW(A2, T1, 2));
    uint8_t bytes[16];
    for (int i = 0; i < 16; i++)
        bytes[i] = (uint8_t)(0x10 + i);
    put(e, DATA, bytes, 16);
    put(e, DATA + 0xff8, bytes, 16);
    hart_set_reg(e->h, T0, DATA);
    hart_set_reg(e->h, T1, DATA + 0xffd); /* crosses into the next page */
    hart_set_reg(e->h, T2, 0x0102030405060708ull);
    run(e, 4);
    assert_int_equal(X(A0), 0x1817161514131211ull);
    assert_int_equal(X(A1), 0x1c1b1a1918171615ull);
    assert_int_equal(get64(e, DATA + 0xff8), 0x0607081413121110ull);
    assert_int_equal(X(A2), 0x0000000003040506ull);
    assert_int_equal(csr(e, 0x342), 0); /* no trap */
    env_free(e);
}

static void test_hart__self_modifying_code(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, ADDI(A0, A0, 1), SW(T1, T0, 0), JAL(ZERO, -8));
    hart_set_reg(e->h, T0, RAM);
    hart_set_reg(e->h, T1, ADDI(A0, A0, 100));
    run(e, 4);
    assert_int_equal(X(A0), 101);
    assert_int_equal(hart_run(e->h, 3, 0), 3);
    assert_int_equal(X(A0), 201);
    assert_int_equal(hart_pc(e->h), RAM + 4);
    env_free(e);
}

static void test_hart__cross_page_fetch(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, JAL(ZERO, 0xffe));
    put32(e, RAM + 0xffe, ADDI(A0, A0, 5));
    put32(e, RAM + 0x1002, EBREAK);
    run(e, 3);
    assert_int_equal(X(A0), 5);
    assert_int_equal(csr(e, 0x342), EXC_BRK);
    assert_int_equal(csr(e, 0x341), RAM + 0x1002);
    env_free(e);
}

static void test_hart__csr_privilege(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    /* M: mret into U at RAM+8 */
    PROG(e, MRET, 0, CSRRS(A0, 0x300, ZERO), CSRRS(A1, 0xc00, ZERO));
    e->h->st.mepc = RAM + 8;
    run(e, 2);
    assert_int_equal(hart_priv(e->h), HART_PRIV_M);
    assert_int_equal(csr(e, 0x342), EXC_ILL);
    assert_int_equal(csr(e, 0x343), CSRRS(A0, 0x300, ZERO));
    assert_int_equal(csr(e, 0x341), RAM + 8);
    assert_int_equal((csr(e, 0x300) >> 11) & 3, HART_PRIV_U);
    /* rdcycle from U needs mcounteren.CY and scounteren.CY */
    e->h->st.mstatus &= ~MS_MPP;
    e->h->st.mepc = RAM + 12;
    hart_set_pc(e->h, RAM);
    run(e, 2);
    assert_int_equal(csr(e, 0x341), RAM + 12);
    e->h->st.mcounteren = 1;
    e->h->st.scounteren = 1;
    e->h->st.mstatus &= ~MS_MPP;
    hart_set_pc(e->h, RAM);
    e->h->st.mcause = 0;
    run(e, 2);
    assert_int_equal(hart_pc(e->h), RAM + 16);
    assert_int_equal(csr(e, 0x342), 0);
    assert_int_equal(hart_priv(e->h), HART_PRIV_U);
    /* read-only CSR written, nonexistent CSR */
    env_free(e);
    uint32_t w = CSRRW(A0, 0xf14, A1);
    expect_illegal(HART_EXT_DEFAULT, &w, 4, w);
    w = CSRRS(A0, 0x7c0, ZERO);
    expect_illegal(HART_EXT_DEFAULT, &w, 4, w);
    w = CSRRS(A0, 0x3a1, ZERO); /* odd pmpcfg on RV64 */
    expect_illegal(HART_EXT_DEFAULT, &w, 4, w);
    w = CSRRS(A0, 0x747, ZERO); /* mseccfg: not in QEMU 7.2 without ePMP */
    expect_illegal(HART_EXT_DEFAULT, &w, 4, w);
}

static void test_hart__delegation_to_s(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, MRET, ECALL, SRET, ADDI(A0, ZERO, 9), ECALL);
    e->h->st.mepc = RAM + 4;
    e->h->st.medeleg = 1u << EXC_UECALL;
    e->h->st.mstatus |= MS_SIE;
    put32(e, STRAP, CSRRW(ZERO, 0x141, T0)); /* sepc = t0 */
    put32(e, STRAP + 4, SRET);
    hart_set_reg(e->h, T0, RAM + 12);
    run(e, 2);
    assert_int_equal(hart_priv(e->h), HART_PRIV_S);
    assert_int_equal(hart_pc(e->h), STRAP);
    assert_int_equal(csr(e, 0x142), EXC_UECALL);
    assert_int_equal(csr(e, 0x141), RAM + 4);
    assert_int_equal(csr(e, 0x100) & MS_SPP, 0);
    assert_int_equal(csr(e, 0x100) & MS_SIE, 0);
    assert_int_equal(csr(e, 0x100) & MS_SPIE, MS_SPIE);
    e->h->st.medeleg = 0;
    run(e, 4); /* csrw sepc, sret, addi, ecall (not delegated: to M) */
    assert_int_equal(X(A0), 9);
    assert_int_equal(hart_priv(e->h), HART_PRIV_M);
    assert_int_equal(csr(e, 0x342), EXC_UECALL);
    assert_int_equal(csr(e, 0x341), RAM + 16);
    env_free(e);
}

static void test_hart__interrupt_priority(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, ADDI(A0, A0, 1), ADDI(A0, A0, 1), CSRRSI(ZERO, 0x300, 8), ADDI(A0, A0, 1));
    e->h->st.mie = (1u << IRQ_MTI) | (1u << IRQ_MSI) | (1u << IRQ_MEI);
    hart_set_irq(e->h, HART_IRQ_MTIP, 1);
    hart_set_irq(e->h, HART_IRQ_MSIP, 1);
    run(e, 3); /* MIE off: nothing taken until csrsi enables it */
    assert_int_equal(X(A0), 2);
    assert_int_equal(hart_pc(e->h), RAM + 12);
    run(e, 1); /* the interrupt right after the CSR write */
    assert_int_equal(csr(e, 0x342), CAUSE_IRQ | IRQ_MSI);
    assert_int_equal(csr(e, 0x341), RAM + 12);
    assert_int_equal(hart_pc(e->h), TRAP);
    /* MEI beats MSI; taken at the start of hart_run */
    hart_set_irq(e->h, HART_IRQ_MEIP, 1);
    e->h->st.mstatus |= MS_MIE;
    hart_set_pc(e->h, RAM);
    run(e, 1);
    assert_int_equal(csr(e, 0x342), CAUSE_IRQ | IRQ_MEI);
    assert_int_equal(csr(e, 0x341), RAM);
    /* a delegated S interrupt while in U goes to S; M-level still wins */
    hart_set_irq(e->h, HART_IRQ_MEIP, 0);
    hart_set_irq(e->h, HART_IRQ_MSIP, 0);
    hart_set_irq(e->h, HART_IRQ_MTIP, 0);
    e->h->st.mideleg = MIP_SSIP;
    e->h->st.mie = MIP_SSIP;
    e->h->st.mip_sw = MIP_SSIP;
    e->h->st.priv = HART_PRIV_U;
    hart_mode_changed(e->h);
    hart_set_pc(e->h, RAM);
    run(e, 1);
    assert_int_equal(hart_priv(e->h), HART_PRIV_S);
    assert_int_equal(csr(e, 0x142), CAUSE_IRQ | IRQ_SSI);
    assert_int_equal(hart_pc(e->h), STRAP);
    env_free(e);
}

/* csrs mip, SSIP while the PLIC raises SEIP (OpenSBI's IPI path) must not
 * copy the line into the software SEIP bit: once the line drops, SEIP is
 * gone (a latched SEIP was an external-interrupt storm in Linux). */
static void test_hart__mip_rmw_keeps_seip_line(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, CSRRS(ZERO, 0x344, T0), CSRRC(ZERO, 0x344, T1), CSRRS(A0, 0x344, ZERO),
         CSRRSI(ZERO, 0x344, 0), CSRRS(ZERO, 0x344, T2), CSRRC(A1, 0x344, T2));
    hart_set_reg(e->h, T0, MIP_SSIP);
    hart_set_reg(e->h, T1, MIP_STIP);
    hart_set_reg(e->h, T2, MIP_SEIP);
    hart_set_irq(e->h, HART_IRQ_SEIP, 1);
    run(e, 2);
    assert_int_equal(csr(e, 0x344), MIP_SSIP | MIP_SEIP); /* the line is seen */
    hart_set_irq(e->h, HART_IRQ_SEIP, 0);
    run(e, 2);
    assert_int_equal(X(A0), MIP_SSIP); /* and nothing of it stayed behind */
    assert_int_equal(e->h->st.mip_sw, MIP_SSIP);
    run(e, 2); /* software SEIP set then cleared through the same path */
    assert_int_equal(X(A1), MIP_SSIP | MIP_SEIP);
    assert_int_equal(csr(e, 0x344), MIP_SSIP);
    env_free(e);
}

static void test_hart__wfi(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, WFI, ADDI(A0, ZERO, 3));
    e->h->st.mie = 1u << IRQ_MTI;
    assert_int_equal(hart_run(e->h, 10, 0), 1);
    assert_true(hart_is_waiting(e->h));
    assert_int_equal(hart_run(e->h, 10, 0), 0);
    hart_set_irq(e->h, HART_IRQ_MTIP, 1);
    assert_false(hart_is_waiting(e->h));
    run(e, 1); /* MIE=0: resumes after wfi */
    assert_int_equal(X(A0), 3);
    env_free(e);
    /* TW makes WFI illegal in S */
    e = env_new(HART_EXT_DEFAULT);
    PROG(e, MRET, WFI);
    e->h->st.mepc = RAM + 4;
    e->h->st.mstatus |= MS_TW | (1ull << MS_MPP_SHIFT);
    run(e, 2);
    assert_int_equal(csr(e, 0x342), EXC_ILL);
    assert_int_equal(csr(e, 0x343), WFI);
    env_free(e);
}

static void test_hart__sstc(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, CSRRW(ZERO, 0x14d, A0), ADDI(A1, ZERO, 1));
    hart_set_reg(e->h, A0, 5);
    run(e, 1);
    assert_int_equal(hart_next_deadline(e->h), UINT64_MAX); /* STCE off */
    e->h->st.menvcfg = MENVCFG_STCE;
    assert_int_equal(hart_next_deadline(e->h), UINT64_MAX); /* STIE off: cannot matter */
    e->h->st.mie = MIP_STIP;
    assert_int_equal(hart_next_deadline(e->h), 500);
    e->h->st.mie = 0;
    assert_int_equal(hart_run(e->h, 1, 400), 1);
    assert_int_equal(csr(e, 0x344) & MIP_STIP, 0);
    assert_int_equal(hart_run(e->h, 1, 500), 1);
    assert_int_equal(csr(e, 0x344) & MIP_STIP, MIP_STIP);
    assert_int_equal(csr(e, 0xc01), 5);
    env_free(e);
    /* S-mode access needs mcounteren.TM and menvcfg.STCE */
    e = env_new(HART_EXT_DEFAULT);
    PROG(e, MRET, CSRRS(A0, 0x14d, ZERO));
    e->h->st.mepc = RAM + 4;
    e->h->st.mstatus |= 1ull << MS_MPP_SHIFT;
    e->h->st.menvcfg = MENVCFG_STCE;
    run(e, 2);
    assert_int_equal(csr(e, 0x342), EXC_ILL);
    e->h->st.mcounteren = 2;
    e->h->st.mstatus |= 1ull << MS_MPP_SHIFT;
    e->h->st.mcause = 0;
    hart_set_pc(e->h, RAM);
    run(e, 2);
    assert_int_equal(csr(e, 0x342), 0);
    env_free(e);
}

/* page tables: root 0x80200000 */
#define PT0         0x80200000ull
#define PTE(pa, fl) ((((pa) >> 12) << 10) | (fl))
#define V           1
#define R_          2
#define W_          4
#define X_          8
#define U_          0x10
#define A_          0x40
#define D_          0x80

static void mmu_case(bool sv48)
{
    env *e = env_new(HART_EXT_DEFAULT);
    uint64_t root = PT0, l1 = 0x80201000ull, l0 = 0x80202000ull, l2 = 0x80204000ull;
    if (sv48) {
        put64(e, root, PTE(l2, V));
        put64(e, l2 + 2 * 8, PTE(RAM, V | R_ | W_ | X_ | A_ | D_)); /* 1 GiB identity */
        put64(e, l2, PTE(l1, V));
    } else {
        put64(e, root + 2 * 8, PTE(RAM, V | R_ | W_ | X_ | A_ | D_));
        put64(e, root, PTE(l1, V));
    }
    put64(e, l1, PTE(l0, V));
    put64(e, l0 + 0x10 * 8, PTE(0x80300000ull, V | R_ | W_)); /* no A, no D */
    put64(e, l0 + 0x11 * 8, PTE(0x80301000ull, V | R_ | A_)); /* read-only */
    put64(e, l0 + 0x30 * 8, PTE(0x80310000ull, V | R_ | X_ | A_));
    put64(e, 0x80300008ull, 0xabcdef);
    put32(e, 0x80310ffe, 0x0513); /* low half of "addi a0,a0,..." */
    PROG(e, MRET, LD(A0, T0, 8), SD(A0, T0, 16), LD(A1, T1, 0), SD(A0, T2, 0), JALR(ZERO, T3, 0));
    e->h->st.satp = ((sv48 ? 9ull : 8ull) << 60) | (root >> 12);
    e->h->st.mepc = RAM + 4;
    e->h->st.mstatus |= 1ull << MS_MPP_SHIFT;
    hart_set_reg(e->h, T0, 0x10000);
    hart_set_reg(e->h, T1, 0x20000);
    hart_set_reg(e->h, T2, 0x11008);
    hart_set_reg(e->h, T3, 0x30ffe);
    run(e, 3);
    assert_int_equal(X(A0), 0xabcdef);
    assert_int_equal(get64(e, 0x80300010ull), 0xabcdef);
    uint64_t pte = get64(e, l0 + 0x10 * 8);
    assert_int_equal(pte & (A_ | D_), A_ | D_);
    run(e, 1); /* unmapped: load page fault */
    assert_int_equal(csr(e, 0x342), EXC_LPF);
    assert_int_equal(csr(e, 0x343), 0x20000);
    assert_int_equal(csr(e, 0x341), RAM + 12);
    /* store to a read-only page */
    e->h->st.mstatus |= 1ull << MS_MPP_SHIFT;
    e->h->st.mepc = RAM + 16;
    hart_set_pc(e->h, RAM);
    run(e, 2);
    assert_int_equal(csr(e, 0x342), EXC_SPF);
    assert_int_equal(csr(e, 0x343), 0x11008);
    /* instruction crossing into an unmapped page */
    e->h->st.mstatus |= 1ull << MS_MPP_SHIFT;
    e->h->st.mepc = RAM + 20;
    hart_set_pc(e->h, RAM);
    run(e, 3);
    assert_int_equal(csr(e, 0x342), EXC_IPF);
    assert_int_equal(csr(e, 0x341), 0x30ffe);
    assert_int_equal(csr(e, 0x343), 0x31000);
    /* satp write with an unsupported mode is ignored */
    uint64_t before = csr(e, 0x180);
    PROG(e, CSRRW(ZERO, 0x180, A0));
    hart_set_reg(e->h, A0, 10ull << 60);
    hart_set_pc(e->h, RAM);
    run(e, 1);
    assert_int_equal(csr(e, 0x180), before);
    env_free(e);
}

static void test_hart__sv39(void **state)
{
    (void)state;
    mmu_case(false);
}

static void test_hart__sv48(void **state)
{
    (void)state;
    mmu_case(true);
}

static void test_hart__mmu_permissions(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    uint64_t root = PT0, l1 = 0x80201000ull, l0 = 0x80202000ull;
    put64(e, root + 2 * 8, PTE(RAM, V | R_ | W_ | X_ | A_ | D_));
    put64(e, root, PTE(l1, V));
    put64(e, root + 3 * 8, PTE(0x80200000ull, V | R_ | A_)); /* misaligned 1 GiB page */
    put64(e, l1, PTE(l0, V));
    put64(e, l0 + 0x10 * 8, PTE(0x80300000ull, V | R_ | U_ | A_));           /* user page */
    put64(e, l0 + 0x11 * 8, PTE(0x80301000ull, V | X_ | A_));                /* execute-only */
    put64(e, l0 + 0x12 * 8, PTE(0x80302000ull, V | R_ | A_) | (1ull << 61)); /* PBMT set */
    put64(e, 0x80300000ull, 11);
    put64(e, 0x80301000ull, 22);
    PROG(e, MRET, LD(A0, T0, 0));
    e->h->st.satp = (8ull << 60) | (root >> 12);
    struct {
        uint64_t va, sstatus;
        unsigned cause;
        uint64_t val;
    } cases[] = {
        {0x10000, 0, EXC_LPF, 0},         /* U page, SUM=0 */
        {0x10000, MS_SUM, 0, 11},         /* U page, SUM=1 */
        {0x11000, 0, EXC_LPF, 0},         /* X-only, MXR=0 */
        {0x11000, MS_MXR, 0, 22},         /* X-only, MXR=1 */
        {0x12000, 0, EXC_LPF, 0},         /* reserved PBMT bits */
        {0xc0000000ull, 0, EXC_LPF, 0},   /* misaligned superpage */
        {0x4000000000ull, 0, EXC_LPF, 0}, /* not sign-extended from bit 38 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        e->h->st.priv = HART_PRIV_M;
        e->h->st.mstatus = (e->h->st.mstatus & ~(MS_SUM | MS_MXR | MS_MPP)) | cases[i].sstatus |
                           (1ull << MS_MPP_SHIFT);
        hart_mode_changed(e->h);
        hart_tlb_flush(e->h);
        e->h->st.mepc = RAM + 4;
        e->h->st.mcause = 0;
        hart_set_reg(e->h, T0, cases[i].va);
        hart_set_reg(e->h, A0, 0);
        hart_set_pc(e->h, RAM);
        run(e, 2);
        assert_int_equal(csr(e, 0x342), cases[i].cause);
        if (cases[i].cause)
            assert_int_equal(csr(e, 0x343), cases[i].va);
        else
            assert_int_equal(X(A0), cases[i].val);
    }
    env_free(e);
}

static void two_listener(void *ctx, uint64_t pa)
{
    hart_t **hs = ctx;
    hart_code_written(hs[0], pa);
    hart_code_written(hs[1], pa);
}

static void test_hart__code_written_by_other_hart(void **state)
{
    (void)state;
    bus_t *bus;
    hart_t *hs[2];
    assert_int_equal(bus_new(&bus), MC_OK);
    assert_int_equal(bus_add_ram(bus, RAM, 1u << 20), MC_OK);
    hart_config ca = {.hartid = 0, .ext = HART_EXT_DEFAULT, .reset_pc = RAM};
    hart_config cb = {.hartid = 1, .ext = HART_EXT_DEFAULT, .reset_pc = RAM + 0x2000};
    assert_int_equal(hart_new(&hs[0], bus, &ca), MC_OK);
    assert_int_equal(hart_new(&hs[1], bus, &cb), MC_OK);
    bus_set_code_listener(bus, two_listener, hs);
    const uint32_t a[] = {ADDI(A0, A0, 1), JAL(ZERO, -4)};
    const uint32_t b[] = {SW(ZERO, T0, 0x400), SW(T1, T0, 0), JSELF};
    memcpy(bus_ram_ptr(bus, RAM, sizeof(a), true), a, sizeof(a));
    memcpy(bus_ram_ptr(bus, RAM + 0x2000, sizeof(b), true), b, sizeof(b));
    hart_set_reg(hs[1], T0, RAM);
    hart_set_reg(hs[1], T1, ADDI(A0, A0, 100));
    assert_int_equal(hart_run(hs[0], 10, 0), 10);
    assert_int_equal(hart_reg(hs[0], A0), 5);
    assert_int_equal(hart_run(hs[1], 1, 0), 1);   /* B gets a write TLB entry */
    assert_int_equal(hart_run(hs[0], 10, 0), 10); /* A decodes the page again */
    assert_int_equal(hart_reg(hs[0], A0), 10);
    assert_int_equal(hart_run(hs[1], 1, 0), 1); /* B patches A's loop */
    assert_int_equal(hart_run(hs[0], 1, 0), 1);
    assert_int_equal(hart_reg(hs[0], A0), 110);
    hart_free(hs[0]);
    hart_free(hs[1]);
    bus_free(bus);
}

static void test_hart__mprv(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    uint64_t root = PT0, l1 = 0x80201000ull, l0 = 0x80202000ull;
    put64(e, root + 2 * 8, PTE(RAM, V | R_ | W_ | X_ | A_ | D_));
    put64(e, root, PTE(l1, V));
    put64(e, l1, PTE(l0, V));
    put64(e, l0 + 0x10 * 8, PTE(0x80300000ull, V | R_ | W_ | A_ | D_));
    put64(e, 0x80300000ull, 33);
    PROG(e, LD(A0, T0, 0), MRET);
    e->h->st.satp = (8ull << 60) | (root >> 12);
    e->h->st.mstatus |= MS_MPRV | (1ull << MS_MPP_SHIFT);
    hart_mode_changed(e->h);
    hart_set_reg(e->h, T0, 0x10000);
    e->h->st.mepc = RAM + 8;
    run(e, 2); /* M-mode load translated as S; mret to S clears MPRV */
    assert_int_equal(X(A0), 33);
    assert_int_equal(csr(e, 0x300) & MS_MPRV, 0);
    assert_int_equal(hart_priv(e->h), HART_PRIV_S);
    env_free(e);
}

static void test_hart__pmp(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, MRET, LD(A0, T0, 0), LD(A1, T1, 0));
    /* entry 0: NAPOT 4 KiB at DATA, read-only; entry 1: everything RWX */
    e->h->st.pmpaddr[0] = (DATA >> 2) | 0x1ff;
    e->h->st.pmpcfg[0] = (3 << 3) | 1;
    e->h->st.pmpaddr[1] = (1ull << 54) - 1;
    e->h->st.pmpcfg[1] = (3 << 3) | 7;
    hart_pmp_changed(e->h);
    e->h->st.mepc = RAM + 4;
    e->h->st.mstatus |= 1ull << MS_MPP_SHIFT;
    put64(e, DATA, 77);
    hart_set_reg(e->h, T0, DATA);
    hart_set_reg(e->h, T1, DATA + 0x1000);
    run(e, 3);
    assert_int_equal(X(A0), 77);
    assert_int_equal(csr(e, 0x342), 0);
    /* now entry 0 denies everything for S */
    e->h->st.pmpcfg[0] = 3 << 3;
    e->h->st.priv = HART_PRIV_M;
    hart_mode_changed(e->h);
    hart_pmp_changed(e->h);
    e->h->st.mstatus |= 1ull << MS_MPP_SHIFT;
    hart_set_pc(e->h, RAM);
    run(e, 2);
    assert_int_equal(csr(e, 0x342), EXC_LACC);
    assert_int_equal(csr(e, 0x343), DATA);
    env_free(e);
}

/* pmpaddr keeps all 64 bits written (QEMU 7.2), and all ones is NAPOT
 * over everything. */
static void test_hart__pmpaddr_width(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, CSRRW(ZERO, 0x3bf, A0), CSRRS(A1, 0x3bf, ZERO), CSRRW(ZERO, 0x3b0, A2),
         CSRRS(A3, 0x3b0, ZERO));
    hart_set_reg(e->h, A0, ~0ull);
    hart_set_reg(e->h, A2, 0xfff0000000000123ull);
    run(e, 4);
    assert_int_equal(X(A1), ~0ull);
    assert_int_equal(X(A3), 0xfff0000000000123ull);
    e->h->st.pmpcfg[15] = (3 << 3) | 1; /* NAPOT, R */
    e->h->st.pmpcfg[0] = 0;
    hart_pmp_changed(e->h);
    assert_int_equal(e->h->pmp_active, 1);
    assert_int_equal(e->h->pmp_lo[0], 0);
    assert_int_equal(e->h->pmp_last[0], UINT64_MAX);
    env_free(e);
}

/* mret and sret drop the LR reservation, as QEMU 7.2 does. */
static void test_hart__xret_drops_reservation(void **state)
{
    (void)state;
    for (unsigned k = 0; k < 2; k++) {
        env *e = env_new(HART_EXT_DEFAULT);
        PROG(e, LR_D(A0, T0), k ? SRET : MRET, SC_D(A1, T0, A2));
        hart_set_reg(e->h, T0, DATA);
        hart_set_reg(e->h, A2, 9);
        put64(e, DATA, 4);
        e->h->st.mepc = e->h->st.sepc = RAM + 8;
        e->h->st.mstatus |= MS_MPP | MS_SPP; /* mret stays in M; sret goes to S */
        run(e, 3);
        assert_int_equal(hart_pc(e->h), RAM + 12);
        assert_int_equal(X(A0), 4);
        assert_int_equal(X(A1), 1); /* sc failed */
        assert_int_equal(get64(e, DATA), 4);
        env_free(e);
    }
}

static void test_hart__fp_smoke(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, FCVT_D_L(0, A0), FCVT_D_L(1, A1), FADD_D(2, 0, 1), FCVT_L_D(A2, 2), FMV_X_D(A3, 2),
         FSGNJN_D(3, 2, 2), FMV_X_D(A4, 3), FMV_W_X(4, A0), FMV_X_D(A5, 4), FDIV_D(5, 0, 6),
         FMV_X_D(A6, 5), CSRRS(A7, 0x001, ZERO));
    e->h->st.mstatus |= 1ull << 13;
    hart_set_reg(e->h, A0, 3);
    hart_set_reg(e->h, A1, 4);
    run(e, 12);
    assert_int_equal(X(A2), 7);
    assert_int_equal(X(A3), 0x401c000000000000ull);
    assert_int_equal(X(A4), 0xc01c000000000000ull);
    assert_int_equal(X(A5), 0xffffffff00000003ull);
    assert_int_equal(X(A6), 0x7ff0000000000000ull); /* 3 / +0 = +inf */
    assert_int_equal(X(A7), FPU_DZ);
    assert_int_equal((csr(e, 0x300) >> 13) & 3, 3);
    assert_true(csr(e, 0x300) >> 63);
    env_free(e);
}

static void test_hart__snapshot_roundtrip(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    PROG(e, ADDI(A0, A0, 1), JAL(ZERO, -4));
    run(e, 5);
    unsigned n = hart_state_size();
    uint8_t buf[4096];
    assert_true(n <= sizeof(buf));
    hart_state_save(e->h, buf);
    run(e, 10);
    assert_int_equal(X(A0), 8);
    assert_int_equal(hart_state_restore(e->h, buf, n), MC_OK);
    assert_int_equal(X(A0), 3);
    assert_int_equal(hart_steps(e->h), 5);
    run(e, 10);
    assert_int_equal(X(A0), 8);
    assert_int_equal(hart_state_restore(e->h, buf, n - 1), MC_ECORRUPT);
    buf[offsetof(hart_state, priv)] = 2;
    assert_int_equal(hart_state_restore(e->h, buf, n), MC_ECORRUPT);
    env_free(e);
}

static void test_hart__parse_cpu(void **state)
{
    (void)state;
    uint32_t ext = 0;
    assert_int_equal(hart_parse_cpu("rv64", &ext), MC_OK);
    assert_int_equal(ext, HART_EXT_DEFAULT);
    assert_int_equal(hart_parse_cpu("rv64,c=false,sstc=off,sv48=on", &ext), MC_OK);
    assert_int_equal(ext, HART_EXT_DEFAULT & ~(HART_EXT_C | HART_EXT_SSTC));
    assert_int_equal(hart_parse_cpu("rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false", &ext),
                     MC_OK);
    assert_int_equal(hart_parse_cpu("rv64,bogus=on", &ext), MC_EINVAL);
    assert_int_equal(hart_parse_cpu("rv64,m=maybe", &ext), MC_EINVAL);
    assert_int_equal(hart_parse_cpu("rv32", &ext), MC_EINVAL);
    assert_int_equal(hart_parse_cpu("rv64,f=off", &ext), MC_EINVAL); /* d needs f */
    assert_int_equal(hart_parse_cpu("rv64,d=off,f=off", &ext), MC_OK);
    env *e = env_new(ext);
    assert_int_equal(csr(e, 0x301) & 0x28, 0); /* misa: no F, no D */
    env_free(e);
}

static void test_hart__misa_and_ids(void **state)
{
    (void)state;
    env *e = env_new(HART_EXT_DEFAULT);
    assert_int_equal(csr(e, 0x301), 0x800000000014112dull);
    assert_int_equal(csr(e, 0x300), 0xa00000000ull);
    assert_int_equal(csr(e, 0xf14), 0);
    uint64_t v;
    assert_int_equal(hart_csr(e->h, 0x7c0, &v), MC_ENOENT);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hart__alu_and_budget),
        cmocka_unit_test(test_hart__div_edge_cases),
        cmocka_unit_test(test_hart__shifts_and_w_forms),
        cmocka_unit_test(test_hart__compressed_forms),
        cmocka_unit_test(test_hart__illegal_encodings),
        cmocka_unit_test(test_hart__lr_sc),
        cmocka_unit_test(test_hart__amo),
        cmocka_unit_test(test_hart__misaligned_emulated),
        cmocka_unit_test(test_hart__self_modifying_code),
        cmocka_unit_test(test_hart__cross_page_fetch),
        cmocka_unit_test(test_hart__csr_privilege),
        cmocka_unit_test(test_hart__delegation_to_s),
        cmocka_unit_test(test_hart__interrupt_priority),
        cmocka_unit_test(test_hart__mip_rmw_keeps_seip_line),
        cmocka_unit_test(test_hart__wfi),
        cmocka_unit_test(test_hart__sstc),
        cmocka_unit_test(test_hart__sv39),
        cmocka_unit_test(test_hart__sv48),
        cmocka_unit_test(test_hart__mmu_permissions),
        cmocka_unit_test(test_hart__code_written_by_other_hart),
        cmocka_unit_test(test_hart__mprv),
        cmocka_unit_test(test_hart__pmp),
        cmocka_unit_test(test_hart__pmpaddr_width),
        cmocka_unit_test(test_hart__xret_drops_reservation),
        cmocka_unit_test(test_hart__fp_smoke),
        cmocka_unit_test(test_hart__snapshot_roundtrip),
        cmocka_unit_test(test_hart__parse_cpu),
        cmocka_unit_test(test_hart__misa_and_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
