/*
 * rr.h - record and replay: the recording file (one SQLite database per
 * run, RUN.mrr), the recorder that wraps a live run, the replayer that
 * rebuilds the machine from the file alone, seek, and verify.
 *
 * Determinism (DESIGN.md section 4): the board takes host input only
 * through its board_host callbacks, at round boundaries and idle points.
 * The recorder wraps the live callbacks and logs, through rr_input, every
 * value that differs from what a replay returns by default (a UART byte
 * where the default is "none", an idle time jump that ends before the
 * deadline) with its point: (board_steps, board_vtime) and its order. The
 * replayer returns the logged value when the board asks at that point and
 * the default otherwise; an input the board does not ask for at its point
 * is a divergence. Checkpoints are taken at round boundaries where
 * board_steps() passed the next multiple of the interval; recording and
 * replay both call snap_mark there (dirty bits, host caches).
 *
 * The file format is documented in rr_db.c.
 */
#ifndef MACHINA_RR_H
#define MACHINA_RR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "snap.h"

#define RR_FORMAT_VERSION 1
/* Defaults chosen from measurements (see rr_record.c). */
#define RR_DEFAULT_CHECKPOINT_EVERY 40000000ull /* steps */
/* A checkpoint is full when the deltas since the last full one add up to
 * its size, and at least every RR_DEFAULT_FULL_EVERY-th. */
#define RR_DEFAULT_FULL_EVERY 50u
/* ... and one per second of guest time once a tenth of the step interval
 * has run since the last one, so that an idle guest's long stretches of
 * time (few steps) are seekable quickly too, without a checkpoint per
 * idle second. */
#define RR_DEFAULT_CHECKPOINT_EVERY_NS 1000000000ull

/* Sources of host input (input.source in the file). */
typedef enum rr_source {
    RR_SRC_UART_RX = 1, /* a byte for the UART receiver */
    RR_SRC_IDLE = 2,    /* an idle jump that ended early (or never) */
} rr_source;

/* ---- recording ------------------------------------------------------------ */

typedef struct rr_rec rr_rec;

typedef struct rr_rec_opts {
    uint64_t checkpoint_every;    /* steps; 0: RR_DEFAULT_CHECKPOINT_EVERY */
    unsigned full_every;          /* at least every n-th checkpoint is full (sooner
                                     when the deltas outgrow the last full); 0: default */
    uint64_t checkpoint_every_ns; /* and after this much guest time; 0:
                                     default, UINT64_MAX: by steps only */
    uint64_t until_ns;            /* the run's limits (-max-time); UINT64_MAX: none */
    uint64_t until_steps;
    const char *emulator; /* "machina 0.1.0", kept in meta; may be NULL */
    const char *command;  /* the command line, kept in meta; may be NULL */
} rr_rec_opts;

/* Creates path (replacing a file there), stores meta, builds the board
 * with live wrapped, and queues the images of cfg (bios, kernel, initrd,
 * drive, and the generated dtb) and checkpoint 0 for the writer thread:
 * cfg's image bytes must stay valid until rr_rec_free. */
MC_MUST_CHECK int rr_rec_open(rr_rec **out, const char *path, const board_config *cfg,
                              const board_host *live, const rr_rec_opts *o, char *err,
                              size_t errlen);
/* Stores one more image (e.g. "vmlinux"), the contents of the file at
 * path, in the recording: the writer thread reads, packs (LZ4, SHA-256)
 * and stores it while the machine runs; a file it cannot read stops the
 * recording with the reason (check it beforehand for an early error). */
MC_MUST_CHECK int rr_rec_add_image_file(rr_rec *r, const char *name, const char *path);
/* The machine being recorded (to attach the console to it). */
board_t *rr_rec_board(rr_rec *r);
/* Runs the board to its end (the same stops as board_run with the
 * opts' limits), checkpointing on the way: each checkpoint, with the
 * inputs and console bytes before it, goes to a writer thread that
 * compresses and commits it in one transaction while the machine runs
 * on. At the end waits for the writer, stores the end (meta end_*) and
 * commits. */
MC_MUST_CHECK int rr_rec_run(rr_rec *r, board_outcome *out, char *err, size_t errlen);
/* Closes the file and frees everything; accepts NULL. */
void rr_rec_free(rr_rec *r);

typedef struct rr_rec_stats {
    uint64_t checkpoints, full, delta;
    uint64_t full_bytes, delta_bytes; /* compressed, as stored */
    uint64_t full_raw, delta_raw;     /* snapshot sizes before compression */
    uint64_t inputs, uart_bytes;
    double checkpoint_seconds;  /* emulation thread's host time in checkpoints */
    double writer_wait_seconds; /* of which waiting for the writer thread */
} rr_rec_stats;
void rr_rec_get_stats(const rr_rec *r, rr_rec_stats *st);

/* ---- reading -------------------------------------------------------------- */

typedef struct rr_file rr_file;

typedef struct rr_info {
    unsigned format_version;
    char emulator[64], created[40];
    char *cmdline, *command; /* NULL when absent */
    unsigned nharts;
    uint64_t ram_size, quantum, ns_per_step;
    uint32_t ext;
    uint64_t until_ns, until_steps, checkpoint_every;
    unsigned full_every;
    bool complete; /* the run ended normally (else it ends at the last checkpoint) */
    uint64_t end_steps, end_vtime, end_hash, end_code;
    int end_stop; /* board_stop */
    uint64_t ncheckpoints, ninputs, uart_bytes;
} rr_info;

typedef struct rr_image_info {
    char name[32];
    char sha256[65];
    uint64_t size, stored; /* bytes: original, compressed */
} rr_image_info;

typedef struct rr_ckpt_info {
    uint64_t seq; /* 0, 1, ... */
    uint64_t steps, vtime, hash;
    snap_kind kind;
    uint64_t ninput;   /* inputs logged before it */
    uint64_t uart_off; /* UART TX bytes before it */
    uint64_t raw_size, stored_size;
} rr_ckpt_info;

/* Opens a recording read-only and validates meta (MC_EVERSION for a newer
 * format, MC_ECORRUPT, MC_EDB, MC_EIO) with a one-line reason in err. */
MC_MUST_CHECK int rr_open(rr_file **out, const char *path, char *err, size_t errlen);
void rr_close(rr_file *f);
const rr_info *rr_get_info(const rr_file *f);
/* Images and checkpoints, in a new malloc'd array the caller frees. */
MC_MUST_CHECK int rr_images(rr_file *f, rr_image_info **out, size_t *n, char *err, size_t errlen);
MC_MUST_CHECK int rr_checkpoints(rr_file *f, const rr_ckpt_info **out, size_t *n);
/* One image's bytes (new malloc'd buffer, SHA-256 checked). */
MC_MUST_CHECK int rr_image(rr_file *f, const char *name, uint8_t **data, size_t *size, char *err,
                           size_t errlen);

/* ---- replaying ------------------------------------------------------------ */

typedef struct rr_replay rr_replay;

/* Builds the recorded machine from the file alone. The replayer keeps f. */
MC_MUST_CHECK int rr_replay_new(rr_replay **out, rr_file *f, char *err, size_t errlen);
void rr_replay_free(rr_replay *rp);
/* The machine at the current position; valid until the next seek. */
board_t *rr_replay_board(rr_replay *rp);

/* Parses an instant: board_parse_instant's forms or "end". */
typedef struct rr_instant {
    uint64_t ns, steps; /* one of them UINT64_MAX */
    bool end;
    uint64_t from_ck; /* start from this checkpoint or an earlier one
                         (tests); UINT64_MAX (the parser's): nearest */
} rr_instant;
MC_MUST_CHECK int rr_parse_instant(const char *s, rr_instant *out);

/* Restores the nearest checkpoint before t and runs forward: to exactly
 * t.steps instructions (the state right after step N retired), or to the
 * first round boundary at or after t.ns (an idle machine stops before a
 * time jump that would cross it), or to the recorded end; never past the
 * end. A replay that departs from the input log is MC_EDIVERGE.
 * MACHINA_RR_START=K in the environment (read by rr_replay_new, which
 * fails with MC_EINVAL when there is no checkpoint K; machina-replay
 * --from-checkpoint K sets it) makes every seek start from checkpoint K
 * when that is earlier than the nearest one, as t->from_ck does: the
 * answer must not depend on where the replay started. */
MC_MUST_CHECK int rr_seek(rr_replay *rp, const rr_instant *t, char *err, size_t errlen);
/* Formats the current position: "i:123456 (12.345678 ms)". */
void rr_position(rr_replay *rp, char *buf, size_t len);
/* The console transcript (UART TX) up to the current position. */
MC_MUST_CHECK int rr_uart(rr_replay *rp, uint8_t **buf, size_t *len, char *err, size_t errlen);
/* The transcript as stored while recording, up to the end (no replay). */
MC_MUST_CHECK int rr_uart_stored(rr_file *f, uint8_t **buf, size_t *len, char *err, size_t errlen);

/* ---- segments (verify, index) ---------------------------------------------- */

/* A segment is the run between two checkpoints: restore one, run to the
 * next. verify and `index --jobs N` split a recording into them. */
/* Replay options: checking hashes costs a hash per checkpoint. */
typedef struct rr_replay_mode {
    bool check_hashes; /* compare checkpoint hashes while running */
    bool perturb;      /* honour MACHINA_RR_PERTURB */
} rr_replay_mode;

void rr_replay_set_mode(rr_replay *rp, const rr_replay_mode *m);
/* Restores checkpoint seq (its chain from the last full one) into the
 * board and checks its hash; positions the input and UART cursors. */
int rr_replay_restore(rr_replay *rp, uint64_t seq, char *err, size_t errlen);
/* Resets the board to its power-on state (what checkpoint 0 holds). */
int rr_replay_fresh(rr_replay *rp, char *err, size_t errlen);
/* Where rr_replay_run stops: exactly `steps` steps, the first round
 * boundary at or after `ns`, right after checkpoint `ck`; all UINT64_MAX:
 * the recorded end. Never past the end. */
typedef struct rr_target {
    uint64_t steps, ns, ck;
} rr_target;
/* Runs from the current position to t under the recording's limits.
 * Returns MC_OK, or MC_EDIVERGE with the reason in rr_replay_divergence. */
int rr_replay_run(rr_replay *rp, const rr_target *t, board_outcome *out);
/* After a divergence: what happened, and where (or "" if none). */
const char *rr_replay_divergence(const rr_replay *rp, uint64_t *ck_seq);

/* ---- verify --------------------------------------------------------------- */

typedef struct rr_verify_result {
    bool ok;
    uint64_t checked;     /* checkpoints whose hash matched */
    uint64_t diverged_at; /* first divergent checkpoint's seq, UINT64_MAX: none */
    uint64_t first_step;  /* narrowed first divergent step, UINT64_MAX: unknown */
    char report[8192];    /* human-readable, several lines */
} rr_verify_result;

/* Replays the whole run from the start, compares every checkpoint hash,
 * the end and the console transcript. On a mismatch narrows it down (see
 * rr_verify.c). Returns MC_OK when it could run (res->ok says whether the
 * replay matched), else an error with err. progress may be NULL. */
MC_MUST_CHECK int rr_verify(rr_file *f, rr_verify_result *res, char *err, size_t errlen);
/* Replays every segment from its own restored checkpoint (not from the
 * run before it) and compares the hash it reaches at the next checkpoint
 * (the last segment: at the end) with the recorded one; res as for
 * rr_verify (checked counts segments; diverged_at names the checkpoint
 * the failing segment should have reached, the checkpoint count for the
 * end). */
MC_MUST_CHECK int rr_verify_segments(rr_file *f, rr_verify_result *res, char *err, size_t errlen);

#endif
