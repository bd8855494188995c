/*
 * obs.h - observation hooks (DESIGN.md section 6): what the machine does,
 * as events, for the event index, trace exporters and live views.
 *
 * An obs_t is attached to a board (board_set_obs). Every hook site in the
 * core is one test of a pointer that is NULL when nothing listens, with
 * the work out of line in obs.c; nothing runs per instruction. Sites:
 * trap entry (hart_take_trap) and xRET (mret/sret) with the registers a
 * syscall needs, satp writes, PC breakpoints (a decoded-cache slot is
 * marked, so only that instruction pays), MMIO accesses (bus), UART bytes
 * and PLIC line changes (board), PLIC claim/complete (dev_plic), first-
 * level TLB refills (per physical page), instructions per privilege mode
 * (credited at mode changes and at the end of each hart_run) and WFI idle
 * time per hart (board scheduler).
 *
 * Events go to a ring owned by the obs object; when it is full, or on
 * obs_flush, the consumer is called with the buffered events in order.
 * Without a consumer (or when it fails) events are dropped and counted
 * (obs_dropped): never silently.
 *
 * Instants: icount is the global step count (board_steps) at which the
 * event happened: the steps retired by every hart before it.
 *
 * Observation never changes what the guest sees: it reads state only, and
 * a breakpoint executes the original instruction unchanged.
 *
 * Building with -DMACHINA_NO_OBS compiles every hook site out (for
 * measuring the cost of the compiled-in, switched-off hooks).
 */
#ifndef MACHINA_OBS_H
#define MACHINA_OBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct obs obs_t;
struct hart;

/* The one test at every hook site: `if (OBS_ON(x->obs)) obs_...(...)`. */
#ifdef MACHINA_NO_OBS
#define OBS_ON(p) 0
#else
#define OBS_ON(p) __builtin_expect((p) != NULL, 0)
#endif

/* Event kinds; obs_config.mask is a set of OBS_BIT(kind). */
typedef enum obs_kind {
    OBS_TRAP = 1, /* trap entry */
    OBS_TRET,     /* mret / sret */
    OBS_SATP,     /* satp written */
    OBS_BP,       /* PC breakpoint reached (before the instruction runs) */
    OBS_MMIO,     /* device register access */
    OBS_UART,     /* UART byte */
    OBS_PLIC,     /* PLIC line raise/lower, claim, complete */
    OBS_TLB,      /* first-level TLB refill */
    OBS_MODE,     /* per-hart mode sample (steps per privilege, idle) */
    OBS_NKINDS
} obs_kind;
#define OBS_BIT(k)  (1u << (k))
#define OBS_ALL     (((1u << OBS_NKINDS) - 1) & ~1u)
#define OBS_NO_HART 0xff

enum { OBS_UART_TX = 0, OBS_UART_RX = 1 };
enum { OBS_PLIC_RAISE = 0, OBS_PLIC_LOWER = 1, OBS_PLIC_CLAIM = 2, OBS_PLIC_COMPLETE = 3 };

/*
 * One event (136 bytes). Fields by kind:
 *  TRAP  a = priv from, b = priv to; v[0] cause (bit 63: interrupt),
 *        v[1] epc, v[2] tval, v[3] tp, v[4] sscratch, v[5] satp (all before
 *        the trap); ecalls (cause 8, 9, 11): v[6] a7, v[7..12] a0..a5;
 *        page faults (12, 13, 15): aux = PTEs read, v[6..9] the PTEs
 *        from the root down, v[10] the PTE addresses' root table address.
 *  TRET  a = priv from, b = priv to; v[0] new pc, v[1] a0, v[2] tp,
 *        v[3] sscratch, v[4] satp (after the return)
 *  SATP  v[0] old, v[1] new, v[2] tp, v[3] sscratch; a = priv
 *  BP    v[0] pc (physical), v[1] a0, v[2] a1, v[3] tp, v[4] satp; a = priv
 *  MMIO  aux = device index (obs_device_name), a = size, b = 1 for a write;
 *        v[0] offset in the device, v[1] value, v[2] physical address
 *  UART  aux = OBS_UART_TX/RX, v[0] the byte
 *  PLIC  aux = OBS_PLIC_*, v[0] source (0 for an empty claim), v[1] context
 *        (claim, complete; hart = context / 2)
 *  TLB   aux = 1 for a write translation, 2 for fetch, 0 read; v[0] page pa
 *  MODE  v[0] steps in U, v[1] S, v[2] M, v[3] idle ns, v[4] first icount
 *        of the sample (the sample covers [v[4], icount))
 */
typedef struct obs_event {
    uint64_t icount;
    uint64_t vtime; /* virtual ns (outside hart runs: the last run's end) */
    uint8_t kind, hart, a, b;
    uint32_t aux;
    uint64_t v[13];
} obs_event;

/* Receives n buffered events in order; returns 0, or < 0 when it could
 * not take them (they are then counted as dropped). */
typedef int (*obs_drain_fn)(void *ctx, const obs_event *ev, size_t n);

typedef struct obs_config {
    uint32_t mask;         /* OBS_BIT(kind) set; 0 = OBS_ALL */
    size_t ring;           /* events buffered before a drain; 0 = 4096 */
    uint64_t sample_every; /* mode sample interval in steps; 0 = 1000000 */
    obs_drain_fn drain;    /* may be NULL (then everything is dropped) */
    uint32_t drain_mask;   /* OBS_BIT(kind): drain right after such an event
                              (a consumer reading guest tasks passes OBS_BP:
                              a task is freed only after a switch away) */
    void *ctx;
} obs_config;

/* Creates an observer (MC_ENOMEM, MC_EINVAL). */
MC_MUST_CHECK int obs_new(obs_t **out, const obs_config *cfg);
/* Frees it; accepts NULL. Detach it from the board first. */
void obs_free(obs_t *o);
/* Adds a PC breakpoint on the instruction at physical address pa (even).
 * Harts attached later or already attached re-decode (caches flushed). */
MC_MUST_CHECK int obs_add_bp(obs_t *o, uint64_t pa);
/* Hands the buffered events to the consumer, after emitting a MODE sample
 * for every hart (the partial interval up to now). 0 or the consumer's
 * error. */
MC_MUST_CHECK int obs_flush(obs_t *o);
/* Restarts the mode accounting of every attached hart at the current
 * instant (after a checkpoint restore) without emitting. */
void obs_restart(obs_t *o, uint64_t icount, uint64_t vtime);
/* Events dropped so far (no consumer, or it failed). */
uint64_t obs_dropped(const obs_t *o);
/* Events emitted so far (including dropped ones). */
uint64_t obs_emitted(const obs_t *o);
/* Name of an MMIO device index (as the bus named the region), or "?". */
const char *obs_device_name(const obs_t *o, unsigned idx);

/* ---- called by the core (board, bus, harts, devices) --------------------- */

/* board_set_obs: attach (o != NULL) or detach (NULL) hart h. */
void obs_attach_hart(obs_t *o, struct hart *h, unsigned idx);
/* Board scheduler: around each hart_run of hart idx; icount = board_steps
 * before it. */
void obs_run_begin(obs_t *o, struct hart *h, unsigned idx, uint64_t icount, uint64_t t0_ns);
void obs_run_end(obs_t *o, struct hart *h, unsigned idx);
/* Board scheduler: hart idx waited ns virtual nanoseconds in WFI. */
void obs_idle(obs_t *o, unsigned idx, uint64_t ns);
/* Bus: an MMIO access of region name (a stable string) at off. */
void obs_mmio(obs_t *o, const char *name, uint64_t pa, uint64_t off, unsigned size, uint64_t val,
              bool write);
void obs_uart(obs_t *o, unsigned dir, uint8_t byte);
void obs_plic(obs_t *o, unsigned op, unsigned src, unsigned ctx);

/* Hart internals (see hart_int.h; the hart passes itself). */
void obs_trap(obs_t *o, struct hart *h, uint64_t cause, uint64_t tval, uint64_t epc);
void obs_tret(obs_t *o, struct hart *h, unsigned from);
void obs_satp(obs_t *o, struct hart *h, uint64_t old, uint64_t val);
void obs_tlb(obs_t *o, struct hart *h, uint64_t page_pa, unsigned kind);
/* Decoder: true when pa holds a breakpoint (the slot gets OP_OBSBP). */
bool obs_is_bp(const obs_t *o, uint64_t pa);

#endif
