/*
 * difftest.h - lock-step differential testing of machina's hart against
 * QEMU (qemu-system-riscv64 -machine virt -bios none) through QEMU's
 * gdbstub.
 *
 * One run: QEMU starts halted in its reset ROM and is single-stepped out of
 * it (QEMU 7.2 jumps to 0x80000000, the ELF entry only goes to
 * fw_dynamic_info); machina gets the same ELF on a 128 MiB RAM bus, QEMU's
 * pc and integer registers at that point (a0 = hartid, a1 = FDT, a2, t0)
 * and a copy of QEMU's FDT; then both are single-stepped and compared after
 * every step: pc and x1..x31 always, f0..f31 and the CSRs an instruction
 * can change when it can change them (and all of them every full_every
 * steps), the bytes every store wrote, and the privilege mode. A run ends
 * when the program writes `tohost` (if its ELF defines it) or the test
 * finisher, when pc reaches opts.end_pc, or at the step cap.
 *
 * Known QEMU 7.2 bugs are tolerated and counted in `quirks` unless
 * opts.strict (difftest.c, qemu_bug, mprv_bug): the load flavour of an
 * AMO's fault cause (4/5/13 for 6/7/15) and mstatus.MPRV kept over an xRET.
 *
 * Values no program controls are taken over from QEMU and counted in
 * `synced`: reads of time/cycle/instret CSRs, loads from MMIO (machina
 * has stub devices only: test finisher, CLINT, PLIC, UART) and Sstc's
 * STIP in a read of mip/sip. The device interrupt lines (MSIP, MTIP,
 * MEIP) follow QEMU's: QEMU single-steps with interrupts and timers on
 * (qemu.sstep=1) and machina gets QEMU's lines before each step (and after
 * it when QEMU took an interrupt or woke from wfi), so interrupts, their
 * priorities, delegation and wfi are compared like everything else (mip
 * itself is not a compared CSR). When QEMU refuses qemu.sstep, or at a
 * wfi that nothing enabled could end, comparison stops (`interrupted`).
 */
#ifndef MACHINA_TEST_DIFFTEST_H
#define MACHINA_TEST_DIFFTEST_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

typedef struct difftest_opts {
    uint64_t max_steps;   /* compare at most this many steps */
    uint64_t end_pc;      /* stop cleanly when both reach it; 0: none */
    unsigned full_every;  /* all FP regs and CSRs every N steps; 0: 64 */
    bool verbose;         /* notes (syncs, setup) on stderr */
    bool trace;           /* every step's pc and instruction on stderr */
    bool keep_going;      /* after a mismatch print it to stdout, copy QEMU's
                             x and f registers and memory to machina, ignore
                             a differing CSR until it agrees again, and go
                             on (finds many differences per run); a pc or
                             privilege difference still ends the run */
    const char *qemu;     /* QEMU binary; NULL: qemu-system-riscv64 */
    bool strict;          /* also fail on the QEMU 7.2 bugs tolerated by
                             default (difftest.c, qemu_bug) */
    bool tolerate_quirks; /* accept the known QEMU 7.2 deviations from the
                             privileged spec where machina would follow the
                             spec (difftest.c, quirk_csr); machina now
                             mirrors QEMU there, so off by default */
    uint64_t inject_at;   /* test hook: flip bit 0 of machina's t6 after this
                             step, to check that divergence is caught; 0: off */
} difftest_opts;

typedef struct difftest_report {
    uint64_t steps;      /* steps compared */
    bool ended;          /* reached its end: tohost, finisher or end_pc */
    bool mismatch;       /* text says where and what */
    bool interrupted;    /* stopped at machina's first interrupt or a wfi */
    uint64_t tohost;     /* value the program wrote to tohost, 0 if none */
    unsigned synced;     /* values taken over from QEMU */
    unsigned quirks;     /* tolerated differences (QEMU bugs, quirks) */
    unsigned mismatches; /* with keep_going: how many were printed */
    char text[8192];     /* mismatch or error report */
} difftest_report;

/* Runs elf_path in lock-step for up to max_steps steps. Returns MC_OK when
 * nothing differed, MC_EDIVERGE on a mismatch (report->text has it), or
 * another MC_E* code when the run could not be set up (report->text says
 * why: QEMU missing, bad ELF, ...). */
MC_MUST_CHECK int difftest_run(const char *elf_path, uint64_t max_steps, difftest_report *report);
/* The same with every option. */
MC_MUST_CHECK int difftest_run_opts(const char *elf_path, const difftest_opts *opts,
                                    difftest_report *report);

#endif
