/*
 * board.h - the QEMU-compatible `virt` machine: physical bus, harts,
 * devices, boot ROM, device tree, image placement and the scheduler that
 * turns retired instructions into virtual time.
 *
 * Boot (as QEMU 7.2 virt): every hart starts at the reset ROM (0x1000),
 * which sets a0 = mhartid, a1 = FDT address, a2 = &fw_dynamic_info and
 * jumps to the firmware (0x80000000, or the -kernel ELF's entry with no
 * firmware). The kernel goes to the ELF addresses or, raw, to the first
 * 2 MiB boundary after the firmware (0x80200000); the initrd at
 * kernel_entry + min(ram/2, 128 MiB); the FDT at the top of RAM (below
 * 3 GiB), aligned down to 2 MiB.
 *
 * Scheduling and time (DESIGN.md section 4): harts take turns in a fixed
 * round-robin; a round runs every hart for `quantum` steps, all starting at
 * the round's base virtual time, then time advances by quantum *
 * HART_NS_PER_STEP. A slice is cut so that a hart's CLINT and Sstc timer
 * deadlines fall exactly between two hart_run calls (a guest write to
 * mtimecmp/mtime, or an interrupt line the running hart raises itself,
 * ends its hart_run after that instruction so the cut is recomputed); a
 * hart that waits in WFI inside its slice skips ahead to its next
 * deadline. When every hart waits, virtual time jumps to the earliest
 * deadline. Host input enters
 * only at round boundaries, through the host callbacks, so every event
 * lands at an instruction count that depends on guest state and input only.
 * The board never reads the host clock.
 */
#ifndef MACHINA_BOARD_H
#define MACHINA_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "dev_clint.h"
#include "dev_plic.h"
#include "dev_test.h"
#include "dev_uart.h"
#include "dev_virtio_blk.h"
#include "err.h"
#include "hart.h"

#define BOARD_ROM_BASE        0x1000ull
#define BOARD_ROM_SIZE        0xf000ull /* QEMU's mrom region */
#define BOARD_DRAM_BASE       0x80000000ull
#define BOARD_MAX_HARTS       DEV_MAX_HARTS
#define BOARD_DEFAULT_RAM     (256ull << 20)
#define BOARD_DEFAULT_QUANTUM 10000u

typedef struct board board_t;

/* The machine to build. Images are borrowed: they must stay valid and
 * unchanged until board_free (a reboot loads them again). */
typedef struct board_config {
    uint64_t ram_size;   /* bytes, a multiple of 4 KiB, 2 MiB..64 GiB */
    unsigned nharts;     /* 1..BOARD_MAX_HARTS */
    uint32_t ext;        /* HART_EXT_* of every hart */
    uint64_t quantum;    /* steps per hart per round, >= 1 */
    const uint8_t *bios; /* firmware (raw or ELF); NULL = -bios none */
    size_t bios_size;
    const uint8_t *kernel; /* raw Image or ELF; NULL = none */
    size_t kernel_size;
    const uint8_t *initrd; /* NULL = none */
    size_t initrd_size;
    const char *cmdline;  /* /chosen/bootargs; NULL or "" = no property */
    const uint8_t *drive; /* virtio-blk disk image in slot 0; NULL = none */
    size_t drive_size;
} board_config;

/* Fills cfg with the defaults: 256 MiB, 1 hart, HART_EXT_DEFAULT, quantum
 * BOARD_DEFAULT_QUANTUM, no images. */
void board_config_default(board_config *cfg);

/*
 * What the board asks of its owner. Every member may be NULL. The board
 * calls them only between hart_run calls, at points that depend on guest
 * state alone; their results are the machine's only host inputs (the
 * record/replay layer logs them with board_steps() and board_vtime()).
 */
typedef struct board_host {
    void *ctx;
    /* One byte the guest wrote to the UART. */
    void (*uart_tx)(void *ctx, uint8_t byte);
    /* At a round boundary while the UART can take a byte: the next input
     * byte (0..255), or -1 for none now. Called until -1 or the UART is full. */
    int (*uart_rx)(void *ctx);
    /* Every hart waits in WFI: the board is about to move virtual time from
     * now_ns to next_ns (the earliest deadline or the run's time limit;
     * UINT64_MAX when nothing is armed). Return next_ns to go on, a value in
     * [now_ns, next_ns) when input arrived meanwhile, or UINT64_MAX to say
     * nothing will ever come (with next_ns == UINT64_MAX the run then stops
     * with BOARD_STOP_IDLE). NULL behaves as "return next_ns". */
    uint64_t (*idle)(void *ctx, uint64_t now_ns, uint64_t next_ns);
    /* After every round, at virtual time vtime_ns (pacing, polling the
     * terminal; may call board_request_stop). */
    void (*round)(void *ctx, uint64_t vtime_ns);
} board_host;

/* Why board_run returned. */
typedef enum board_stop {
    BOARD_STOP_NONE = 0,
    BOARD_STOP_POWEROFF, /* test finisher 0x5555 */
    BOARD_STOP_FAIL,     /* test finisher 0x3333: code = guest's code */
    BOARD_STOP_TOHOST,   /* tohost became nonzero: code = value (1 = pass) */
    BOARD_STOP_TIME,     /* virtual time reached the limit */
    BOARD_STOP_STEPS,    /* global step count reached the limit */
    BOARD_STOP_REQUEST,  /* board_request_stop() */
    BOARD_STOP_IDLE,     /* every hart in WFI, nothing armed, no input to come */
} board_stop;

typedef struct board_outcome {
    board_stop stop;
    uint64_t code;
} board_outcome;

/* Builds the machine, loads the images and leaves every hart at the reset
 * ROM. On failure returns MC_E* and, when err is given, a one-line reason
 * (e.g. "initrd does not fit in RAM"). host may be NULL. */
MC_MUST_CHECK int board_new(board_t **out, const board_config *cfg, const board_host *host,
                            char *err, size_t errlen);
/* Frees the board and everything it built; accepts NULL. */
void board_free(board_t *b);

/* Runs until a stop: the finisher, tohost, board_request_stop(), idle
 * forever, virtual time >= until_ns (the last round is shortened to end
 * there) or board_steps() == until_steps (exactly, possibly mid-slice).
 * UINT64_MAX disables a limit. A reboot request resets the machine and
 * goes on. After POWEROFF, FAIL or TOHOST the board is finished and
 * further calls return the same outcome; after the other stops it can run
 * on. Resuming after a mid-slice stop gives that hart one more interrupt
 * check (the hart contract); runs that must match a recording stop at
 * round boundaries (board_request_stop from the round callback). */
MC_MUST_CHECK int board_run(board_t *b, uint64_t until_ns, uint64_t until_steps,
                            board_outcome *out);
/* Attaches observation hooks (obs.h) to the harts, the bus and the
 * devices; NULL detaches. The board does not own o. */
struct obs;
void board_set_obs(board_t *b, struct obs *o);
/* Makes board_run return BOARD_STOP_REQUEST soon: at once when called from
 * the round or idle callback, else after the current step. */
void board_request_stop(board_t *b);
/* Machine reset as the finisher's reboot does it: harts, devices (not the
 * disk overlay) and images reloaded; virtual time goes on. */
void board_reset(board_t *b);

/* Virtual time in ns: the base of the current round. */
uint64_t board_vtime(const board_t *b);
/* Steps retired by every hart since board_new (reboots included). */
uint64_t board_steps(const board_t *b);
/* Index of the hart that runs next (or is running). */
unsigned board_current_hart(const board_t *b);
/* Number of reboots so far. */
unsigned board_reboots(const board_t *b);

/* XXH3-64 over the board's scheduler state, every hart's state blob,
 * every device's state blob (and the disk overlay) and all of RAM. */
uint64_t board_state_hash(board_t *b);

/* The scheduler's own state (virtual time, position in the round,
 * reboot count) as a flat blob, for snapshots; the snapshot module saves
 * harts, devices and RAM itself. Restore validates (MC_ECORRUPT). */
unsigned board_sched_size(void);
void board_sched_save(const board_t *b, void *buf);
MC_MUST_CHECK int board_sched_restore(board_t *b, const void *buf, unsigned len);

/* Where things were put; 0 for absent items. */
typedef struct board_layout {
    uint64_t start_addr;   /* where the ROM jumps */
    uint64_t kernel_entry; /* fw_dynamic_info.next_addr */
    uint64_t fdt_addr;
    uint64_t initrd_start, initrd_end;
    bool has_tohost;
    uint64_t tohost;
} board_layout;
const board_layout *board_get_layout(const board_t *b);
/* The generated device tree blob (valid until board_free). */
const void *board_dtb(const board_t *b, size_t *size);

/* Parts, for the snapshot, replay and introspection layers. */
bus_t *board_bus(board_t *b);
unsigned board_nharts(const board_t *b);
hart_t *board_hart(board_t *b, unsigned i);
dev_clint_t *board_clint(board_t *b);
dev_plic_t *board_plic(board_t *b);
dev_uart_t *board_uart(board_t *b);
dev_virtio_blk_t *board_virtio_blk(board_t *b); /* NULL without -drive */

/* Parses an instant or duration: "3.2s", "250ms", "40us", "100ns" give
 * *ns (and *steps = UINT64_MAX); "i:N" gives *steps (and *ns = UINT64_MAX).
 * MC_EINVAL when malformed or out of range. */
MC_MUST_CHECK int board_parse_instant(const char *s, uint64_t *ns, uint64_t *steps);

#endif
