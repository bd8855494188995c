/*
 * hart_loop.c - interpreter speed: runs small guest loops on one hart and
 * prints guest MIPS. Usage: hart_loop [steps] [alu|mem|call]
 * For host instructions per guest instruction:
 *   valgrind --tool=callgrind ./hart_loop 20000000 alu   (Ir / steps)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "hart.h"

#define RAM 0x80000000ull

static const uint32_t alu_loop[] = {
    0x00150513, /* 1: addi a0,a0,1 */
    0x00358593, /*    addi a1,a1,3 */
    0x00a64633, /*    xor  a2,a2,a0 */
    0x00b686b3, /*    add  a3,a3,a1 */
    0x00c74733, /*    xor  a4,a4,a2 */
    0x40e787b3, /*    sub  a5,a5,a4 */
    0x0017d813, /*    srli a6,a5,1 */
    0xfe0512e3, /*    bnez a0,1b */
};

static const uint32_t mem_loop[] = {
    0x00053583, /* 1: ld a1,0(a0)   (a0 = 0x80100000) */
    0x00158593, /*    addi a1,a1,1 */
    0x00b53023, /*    sd a1,0(a0) */
    0x00852603, /*    lw a2,8(a0) */
    0x00c5a233, /*    slt tp,a1,a2  (filler) */
    0xfe0006e3, /*    beqz x0 -> beq x0,x0,1b */
};

/* the bench workload's fp phase loop as gcc 12 -O2 compiled it for the
 * corpus (sqrt's domain check included): after a prologue that sets
 * mstatus.FS and the constants,
 * 1: fcvt.d.l; fadd.d; frflags; flt.d; fsflags; bnez; fsqrt.d; fadd.d;
 *    fmv.d.x; addi; fdiv.d; fmul.d; fadd.d; fmadd.d; fmv.x.d; bnez 1b
 * (16 instructions per iteration) */
static const uint8_t fp_loop[] = {
    0x99, 0x62, 0x73, 0xa0, 0x02, 0x30, 0x37, 0xe4, 0xf5, 0x05, 0x1b, 0x04, 0x04, 0x10, 0x05,
    0x43, 0x53, 0x79, 0x23, 0xd2, 0x89, 0x43, 0x53, 0xf1, 0x23, 0xd2, 0x53, 0x79, 0x29, 0x1a,
    0xd3, 0x74, 0x23, 0xd2, 0x13, 0x0e, 0x80, 0x3e, 0xd3, 0x79, 0x2e, 0xd2, 0xd3, 0xf9, 0x34,
    0x1b, 0x53, 0x04, 0x29, 0x23, 0x53, 0x85, 0x94, 0x22, 0x01, 0x45, 0x53, 0x0a, 0x05, 0xf2,
    0xd3, 0x77, 0x24, 0xd2, 0x53, 0xf5, 0xa7, 0x02, 0x73, 0x27, 0x10, 0x00, 0xd3, 0x17, 0x45,
    0xa3, 0x73, 0x10, 0x17, 0x00, 0x9d, 0xe3, 0x53, 0x75, 0x05, 0x5a, 0xd3, 0x77, 0x94, 0x02,
    0x53, 0x07, 0x05, 0xf2, 0x7d, 0x14, 0x53, 0x75, 0xf5, 0x1a, 0xd3, 0x77, 0x35, 0x13, 0x53,
    0x77, 0xa7, 0x02, 0x43, 0x74, 0x24, 0x7b, 0x53, 0x05, 0x07, 0xe2, 0x61, 0xf4, 0x01, 0xa0,
};

int main(int argc, char **argv)
{
    uint64_t steps = argc > 1 ? strtoull(argv[1], NULL, 0) : 500000000ull;
    const char *kind = argc > 2 ? argv[2] : "alu";
    bus_t *bus;
    hart_t *h;
    if (bus_new(&bus) < 0 || bus_add_ram(bus, RAM, 16u << 20) < 0) return 1;
    hart_config cfg = {.hartid = 0, .ext = HART_EXT_DEFAULT, .reset_pc = RAM};
    if (hart_new(&h, bus, &cfg) < 0) return 1;
    const void *p = alu_loop;
    size_t n = sizeof(alu_loop);
    if (!strcmp(kind, "mem")) {
        p = mem_loop;
        n = sizeof(mem_loop);
    } else if (!strcmp(kind, "fp")) {
        p = fp_loop;
        n = sizeof(fp_loop);
    } else if (strcmp(kind, "alu")) {
        fprintf(stderr, "hart_loop: unknown loop '%s' (alu, mem or fp)\n", kind);
        return 2;
    }
    memcpy(bus_ram_ptr(bus, RAM, n, true), p, n);
    hart_set_reg(h, 10, !strcmp(kind, "mem") ? 0x80100000ull : 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t done = 0, q = 100000; /* quanta as the board runs them */
    while (done < steps) {
        uint64_t b = steps - done < q ? steps - done : q;
        done += hart_run(h, b, done);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("%s: %llu steps in %.3f s = %.1f MIPS (pc %#llx)\n", kind, (unsigned long long)done, s,
           (double)done / s / 1e6, (unsigned long long)hart_pc(h));
    hart_free(h);
    bus_free(bus);
    return 0;
}
