/*
 * hart.h - one RV64GC hardware thread: the interpreter, its CSRs, the MMU
 * (Sv39/Sv48, software TLB) and the decoded-instruction cache.
 *
 * Determinism contract: hart_run(h, n, t0) executes exactly n steps unless
 * the hart enters WFI or hart_stop() is called. A step is one instruction
 * retired, or one instruction that raised an exception, or the taking of
 * one interrupt. Pending interrupts are taken only at step boundaries that
 * depend on guest state alone (the start of hart_run, and right after an
 * instruction that can unmask one: CSR writes, mret/sret, wfi), never on
 * where a decoded block happens to end.
 *
 * Time: the board passes the virtual time (ns) at the start of each
 * hart_run; during it the hart derives time = (t0 + steps * HART_NS_PER_STEP)
 * / HART_NS_PER_TICK, for the time CSR and for Sstc's stimecmp.
 */
#ifndef MACHINA_HART_H
#define MACHINA_HART_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "err.h"

#define HART_NS_PER_STEP 1  /* virtual ns per step */
#define HART_NS_PER_TICK 100 /* mtime runs at 10 MHz */

/* Optional extensions (hart_config.ext). I and Zicsr/Zifencei are always on. */
#define HART_EXT_M (1u << 0)
#define HART_EXT_A (1u << 1)
#define HART_EXT_F (1u << 2)
#define HART_EXT_D (1u << 3)
#define HART_EXT_C (1u << 4)
#define HART_EXT_S (1u << 5)
#define HART_EXT_U (1u << 6)
#define HART_EXT_SSTC (1u << 7)
#define HART_EXT_SV48 (1u << 8) /* Sv48 in addition to Sv39 */
#define HART_EXT_DEFAULT 0x1ffu

/* mip bits driven by devices (hart_set_irq). */
#define HART_IRQ_MSIP 3
#define HART_IRQ_MTIP 7
#define HART_IRQ_SEIP 9
#define HART_IRQ_MEIP 11

/* Privilege levels. */
#define HART_PRIV_U 0
#define HART_PRIV_S 1
#define HART_PRIV_M 3

typedef struct hart hart_t;

typedef struct hart_config {
    unsigned hartid;
    uint32_t ext;      /* HART_EXT_* */
    uint64_t reset_pc; /* pc after reset, in M-mode */
} hart_config;

/* Creates a hart on bus in its reset state. */
MC_MUST_CHECK int hart_new(hart_t **out, bus_t *bus, const hart_config *cfg);
/* Frees the hart; accepts NULL. */
void hart_free(hart_t *h);
/* Reset: M-mode, pc = reset_pc, mstatus/mie/mip etc. as after reset. */
void hart_reset(hart_t *h);

/* Runs up to budget steps starting at virtual time t0_ns; returns the
 * number of steps done (see the contract above). */
uint64_t hart_run(hart_t *h, uint64_t budget, uint64_t t0_ns);
/* Ends the current hart_run after the current step (from a device callback). */
void hart_stop(hart_t *h);
/* True while the hart waits in WFI with no enabled interrupt pending. */
bool hart_is_waiting(const hart_t *h);
/* Virtual time (ns) at which the hart's Sstc stimecmp fires, or UINT64_MAX
 * when it cannot matter (Sstc off, menvcfg.STCE clear or mie.STIE clear). */
uint64_t hart_next_deadline(const hart_t *h);

/* Drives one device interrupt line of mip (HART_IRQ_*); level 0 or 1. */
void hart_set_irq(hart_t *h, unsigned irq, int level);

/* Drops this hart's decoded instructions of the physical page holding
 * page_pa. The board's bus code listener (bus_set_code_listener) calls it
 * for every hart; stores by this hart also call it for itself. */
void hart_code_written(hart_t *h, uint64_t page_pa);

/* Drops every software TLB entry and decoded instruction. */
void hart_flush_caches(hart_t *h);
/* Drops the software TLB only: the one cache a guest can observe (a
 * translation kept after its PTE changed without sfence.vma), so
 * checkpoints drop it in recording and replay alike. Decoded instructions
 * never go stale (hart_code_written) and stay. */
void hart_flush_tlb(hart_t *h);

/* Architectural state, for the CLI, tests, difftest and snapshots. */
uint64_t hart_pc(const hart_t *h);
void hart_set_pc(hart_t *h, uint64_t pc);
unsigned hart_priv(const hart_t *h);
uint64_t hart_reg(const hart_t *h, unsigned i);             /* x0..x31 */
void hart_set_reg(hart_t *h, unsigned i, uint64_t v);
uint64_t hart_freg(const hart_t *h, unsigned i);            /* f0..f31, raw 64 bits */
void hart_set_freg(hart_t *h, unsigned i, uint64_t v);
/* Reads a CSR by number as M-mode would, without side effects;
 * MC_ENOENT when the CSR does not exist. */
MC_MUST_CHECK int hart_csr(const hart_t *h, unsigned csr, uint64_t *val);
unsigned hart_id(const hart_t *h);
/* Steps (instructions retired + exceptions + interrupts) since reset; live
 * during hart_run as well (device callbacks may ask). */
uint64_t hart_steps(const hart_t *h);

/* Snapshot: the whole architectural state (registers, CSRs, privilege,
 * LR/SC reservation, WFI flag, pending lines) as a flat blob with no host
 * pointers. hart_state_size() gives its size; restore flushes the caches. */
unsigned hart_state_size(void);
void hart_state_save(const hart_t *h, void *buf);
MC_MUST_CHECK int hart_state_restore(hart_t *h, const void *buf, unsigned len);

/* Parses a -cpu string such as "rv64", "rv64,c=false,sstc=off" into ext;
 * MC_EINVAL on an unknown name. */
MC_MUST_CHECK int hart_parse_cpu(const char *spec, uint32_t *ext);

#endif
