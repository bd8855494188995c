/*
 * snap.h - whole-machine snapshots of a board: save, validate, restore,
 * hash, and name the component in which two machines differ.
 *
 * A snapshot holds the scheduler blob, every hart's blob, every device's
 * blob (CLINT, PLIC, UART, test finisher, virtio-blk transport and its
 * disk overlay) and RAM. A FULL snapshot holds every non-zero RAM page and
 * every overlay sector; a DELTA holds only the RAM pages and overlay
 * sectors written since the previous snapshot (BUS_PAGE_DIRTY and the
 * overlay's dirty bits) plus all CPU and device state, and applies on top
 * of the machine state that previous snapshot left. The byte format is
 * documented in snap.c.
 *
 * Taking a snapshot is a checkpoint of the live machine (DESIGN.md
 * section 4): snap_save and snap_mark clear the dirty bits (starting the
 * next delta) and flush every hart's software TLB (hart_flush_tlb), so
 * recording and replay leave a checkpoint with the same (empty) TLB; a
 * restored snapshot starts from that state too. Decoded instructions are
 * kept: they never differ from memory, so they cannot tell the two apart.
 *
 * Snapshots are untrusted input: snap_restore validates every size, count,
 * address and ordering first and returns MC_ECORRUPT (MC_EVERSION for a
 * newer format) with a one-line reason, never reading out of bounds. A
 * device blob rejected by the device itself is found only while applying:
 * the machine is then inconsistent and must be restored again from a full
 * snapshot before use.
 */
#ifndef MACHINA_SNAP_H
#define MACHINA_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "err.h"

#define SNAP_VERSION 1

typedef enum snap_kind {
    SNAP_FULL = 1,
    SNAP_DELTA = 2,
} snap_kind;

/* What a snapshot says about itself (snap_peek). */
typedef struct snap_header {
    unsigned version;
    snap_kind kind;
    uint64_t steps, vtime;           /* where it was taken */
    uint64_t base_steps, base_vtime; /* DELTA: the snapshot it applies on */
    uint64_t ram_pages;              /* RAM pages it carries */
    uint64_t sectors;                /* overlay sectors it carries */
} snap_header;

/* An instant of a machine: board_steps() and board_vtime(). */
typedef struct snap_point {
    uint64_t steps, vtime;
} snap_point;

/* Serializes b into a new malloc'd buffer (*buf, *len; the caller frees
 * it), then marks the checkpoint (snap_mark). A DELTA needs base: the
 * instant of the previous checkpoint (whose snap_save or snap_mark
 * started the dirty tracking it carries). MC_ENOMEM, MC_EINVAL. */
MC_MUST_CHECK int snap_save(board_t *b, snap_kind kind, const snap_point *base, uint8_t **buf,
                            size_t *len);

typedef struct snap_hasher snap_hasher;
/* The same into *buf, grown when smaller than needed (*cap bytes; *buf
 * may be NULL with *cap 0): a recorder reuses its buffers, which spares
 * the host page faults of a fresh allocation per checkpoint. hs (may be
 * NULL): a hasher that has just hashed this state (snap_hasher_hash at
 * the same instant); a FULL snapshot then skips reading the RAM groups
 * it found all zero. The snapshot is not sealed yet: its header's
 * checksum comes from snap_seal (a recorder's writer thread does that
 * beside the machine). On an error *buf stays the caller's to free. */
MC_MUST_CHECK int snap_save_into(board_t *b, snap_kind kind, const snap_point *base,
                                 const snap_hasher *hs, uint8_t **buf, size_t *cap, size_t *len);
/* Writes the checksum of the snapshot's contents into its header. */
void snap_seal(uint8_t *buf, size_t len);

/* The checkpoint side effects of snap_save without saving: clears RAM and
 * overlay dirty bits and flushes every hart's TLB. Replays call it at
 * the points where the recording took its snapshots. */
void snap_mark(board_t *b);

/* Validates buf and applies it to b (a board built with the same config).
 * A DELTA requires b to be where its base snapshot left it (steps and
 * virtual time). On success b is at the snapshot's instant, marked as by
 * snap_mark. Errors: MC_ECORRUPT, MC_EVERSION; err (may be NULL) gets the
 * reason. */
MC_MUST_CHECK int snap_restore(board_t *b, const uint8_t *buf, size_t len, char *err,
                               size_t errlen);

/* Reads and checks the header only. */
MC_MUST_CHECK int snap_peek(const uint8_t *buf, size_t len, snap_header *out, char *err,
                            size_t errlen);
/* The header and the checksum of the contents (snap_seal), without a
 * board: whether the bytes are the snapshot that was sealed. */
MC_MUST_CHECK int snap_check(const uint8_t *buf, size_t len, snap_header *out, char *err,
                             size_t errlen);

/* XXH3-64 of the whole machine state: every blob, the disk overlay and
 * RAM (hashed in 256 KiB groups; format in snap.c). */
uint64_t snap_hash(board_t *b);

/* The same hash, computed incrementally: a hasher keeps the RAM group
 * hashes and rehashes only groups with pages dirty since the last
 * checkpoint. Call snap_hasher_hash before every snap_save/snap_mark of
 * the board, or snap_hasher_invalidate after any snap_* call that clears
 * dirty bits without it (a restore, a mark without hashing). */
MC_MUST_CHECK int snap_hasher_new(snap_hasher **out, board_t *b);
void snap_hasher_free(snap_hasher *hs);
uint64_t snap_hasher_hash(snap_hasher *hs, board_t *b);
void snap_hasher_invalidate(snap_hasher *hs);
/* snap_restore that keeps hs incremental: the groups it writes are
 * hashed again by the next snap_hasher_hash (a full snapshot: all). */
MC_MUST_CHECK int snap_restore_hashed(board_t *b, const uint8_t *buf, size_t len, snap_hasher *hs,
                                      char *err, size_t errlen);

/* Per-component hashes: "sched", "hart0".., "clint", "plic", "uart",
 * "test", "virtio", "overlay", and one per SNAP_RAM_GROUP bytes of RAM
 * named "ram@0x80000000". */
#define SNAP_RAM_GROUP (1u << 20)
typedef struct snap_part {
    char name[32];
    uint64_t hash;
} snap_part;
/* Fills a new malloc'd array (*out, *n); the caller frees it. */
MC_MUST_CHECK int snap_parts(board_t *b, snap_part **out, size_t *n);

/* Compares two machines built with the same config and writes a report
 * naming what differs (hart pc, privilege, GPRs by ABI name, FPRs, CSRs,
 * devices, the scheduler, RAM pages, overlay sectors), at most max_lines
 * lines of text into out (NUL-terminated; may be truncated). Returns the
 * number of differing components (0: identical state), or MC_ENOMEM. */
int snap_diff(board_t *a, board_t *b, char *out, size_t outlen, unsigned max_lines);

/* ABI name of x0..x31 ("zero", "ra", ...) and f0..f31 ("ft0", ...). */
const char *snap_gpr_name(unsigned i);
const char *snap_fpr_name(unsigned i);
/* The CSRs reports show: number and name; returns false past the end. */
bool snap_csr_at(unsigned i, unsigned *num, const char **name);

#endif
