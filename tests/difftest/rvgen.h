/*
 * rvgen.h - random RV64GC instruction streams for differential testing.
 *
 * rvgen_build() makes a bare-metal M-mode program: a prologue that installs
 * a trap handler (mepc += length of the faulting instruction; mret), turns
 * on the FPU, seeds x and f registers with interesting values; then a
 * random stream of valid and invalid 16- and 32-bit encodings of
 * RV64IMAFDC + Zicsr + Zifencei; then a nop sled and a self-loop at end_pc.
 * The stream runs in M-mode, or (flags) in S- or U-mode, optionally with
 * Sv39 translation on and with exceptions delegated to an S-mode handler
 * (reached through a second, supervisor-only mapping of the code at
 * +1 GiB, so that it also runs under a U-mode page).
 *
 * Invariants of the stream, so both emulators stay on the same, harmless
 * path: sp (x2) and s0 (x8) point into an 8 KiB scratch area and are the
 * only bases of loads, stores and AMOs; the stream never writes x2, x3, x4
 * (gp, tp: the handler's temporaries) or x8; branches and jumps only go
 * forward to an instruction boundary of the stream; CSR writes touch only
 * a list of CSRs that cannot derail the program (no mstatus, mtvec, mie,
 * pmp; satp modes Bare/Sv39/Sv48 or invalid). Nothing touches MMIO.
 */
#ifndef MACHINA_TEST_RVGEN_H
#define MACHINA_TEST_RVGEN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RVGEN_CODE_BASE    0x80000000ull
#define RVGEN_DATA_BASE    0x80040000ull /* seed table, then scratch */
#define RVGEN_SCRATCH      0x80041000ull
#define RVGEN_SCRATCH_SIZE 0x2000u
#define RVGEN_PT_BASE      0x80043000ull /* Sv39 root table (RVGEN_SV39) */
#define RVGEN_MAX_INSNS    12000u

typedef struct rvgen_image {
    uint8_t *code; /* loaded at RVGEN_CODE_BASE */
    size_t code_len;
    uint8_t *data; /* loaded at RVGEN_DATA_BASE */
    size_t data_len;
    uint64_t entry;        /* = RVGEN_CODE_BASE */
    uint64_t stream_start; /* first random instruction */
    uint64_t end_pc;       /* the final self-loop */
    unsigned n_insns;      /* random instructions in the stream */
} rvgen_image;

/* rvgen_build flags. */
#define RVGEN_CSR_ANY_READ                                                                         \
    0x1u /* reads may name any CSR number, not only                                                \
            the usual ones (probes which CSRs exist) */
#define RVGEN_PRIV_S                                                                               \
    0x2u                  /* run the stream in S-mode (PMP opened, traps                           \
                             still go to the M-mode handler) */
#define RVGEN_PRIV_U 0x4u /* run the stream in U-mode */
#define RVGEN_SV39                                                                                 \
    0x8u /* with S or U: translate through an Sv39 table                                           \
            mapping 0x80000000.. 1 GiB identity (RWXAD) */
#define RVGEN_DELEG                                                                                \
    0x10u /* with S or U: delegate a random set of exceptions                                      \
             to an S-mode handler (sepc += length; sret) */

/* Builds a program of n_insns random instructions (clamped to
 * RVGEN_MAX_INSNS) from seed and flags (RVGEN_*); the caller frees it with
 * rvgen_free. */
MC_MUST_CHECK int rvgen_build(rvgen_image *out, uint64_t seed, unsigned n_insns, unsigned flags);
/* Frees the buffers of img (not img itself); accepts a zeroed image. */
void rvgen_free(rvgen_image *img);
/* Writes img as a minimal ELF64 RISC-V executable (two PT_LOAD segments). */
MC_MUST_CHECK int rvgen_write_elf(const rvgen_image *img, const char *path);

#endif
