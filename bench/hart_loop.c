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

int main(int argc, char **argv)
{
    uint64_t steps = argc > 1 ? strtoull(argv[1], NULL, 0) : 500000000ull;
    const char *kind = argc > 2 ? argv[2] : "alu";
    bus_t *bus;
    hart_t *h;
    if (bus_new(&bus) < 0 || bus_add_ram(bus, RAM, 16u << 20) < 0) return 1;
    hart_config cfg = {.hartid = 0, .ext = HART_EXT_DEFAULT, .reset_pc = RAM};
    if (hart_new(&h, bus, &cfg) < 0) return 1;
    const uint32_t *p = alu_loop;
    size_t n = sizeof(alu_loop);
    if (!strcmp(kind, "mem")) {
        p = mem_loop;
        n = sizeof(mem_loop);
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
