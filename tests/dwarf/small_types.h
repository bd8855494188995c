/*
 * small_types.h - C types compiled twice by test_dwarf.c: by the host
 * compiler into the test itself (offsetof/sizeof and bit positions found
 * at run time are the oracle) and by riscv64-linux-gnu-gcc -g into a small
 * ELF whose DWARF machina reads. Both are LP64 little-endian with the same
 * layout rules, so the two must agree.
 */
#ifndef SMALL_TYPES_H
#define SMALL_TYPES_H

struct sm_bits {
    unsigned a : 3;
    unsigned b : 5;
    int c : 7;
    unsigned long d : 40;
    char e;
    unsigned f : 1;
};

union sm_u {
    int i;
    char c[12];
    struct {
        short lo, hi;
    };
};

enum sm_color { SM_RED = 1, SM_GREEN = 5, SM_BLUE = -3 };

struct sm_outer {
    int x;
    struct {
        int y;
        union {
            long z;
            char w[3];
        };
    };
    union sm_u u;
    enum sm_color col;
    struct sm_bits bits[2];
    int grid[3][4];
    struct sm_outer *next;
    const volatile unsigned short cv;
    char tail[];
};

typedef struct sm_outer sm_outer_t;

#endif
