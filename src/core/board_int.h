/*
 * board_int.h - private interface between board.c and board_fdt.c.
 */
#ifndef MACHINA_BOARD_INT_H
#define MACHINA_BOARD_INT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* What the device tree describes. */
typedef struct board_fdt_params {
    unsigned nharts;
    uint32_t ext; /* HART_EXT_* */
    uint64_t ram_base, ram_size;
    const char *cmdline;               /* NULL or "": no bootargs */
    uint64_t initrd_start, initrd_end; /* both 0: no initrd */
} board_fdt_params;

/* Builds the virt device tree as a packed blob in a new malloc'd buffer
 * (*out, freed by the caller) of *size bytes. */
MC_MUST_CHECK int board_fdt_build(const board_fdt_params *p, void **out, size_t *size);

/* Writes the riscv,isa string for ext into buf (e.g.
 * "rv64imafdc_zicsr_zifencei_sstc"). */
void board_fdt_isa(uint32_t ext, char *buf, size_t len);

#endif
