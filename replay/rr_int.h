/*
 * rr_int.h - private interface of the record/replay layer: the open file,
 * the input log entries, the replay host and the SQLite and LZ4 helpers
 * shared by rr_db.c, rr_record.c, rr_replay.c and rr_verify.c.
 */
#ifndef MACHINA_RR_INT_H
#define MACHINA_RR_INT_H

#include <sqlite3.h>
#include <stdarg.h>

#include "rr.h"

/* One logged input. */
typedef struct rr_input_ent {
    uint64_t steps, vtime;
    unsigned hart;
    rr_source src;
    uint64_t value;
} rr_input_ent;

/*
 * The one gate for host input (DESIGN.md section 4), shared by the
 * recorder and the replayer. Recording: logs (point, src, live) when live
 * differs from def and returns live. Replaying: returns the next logged
 * value when it was logged at this point for this source, else def; a
 * logged input whose point has passed is a divergence.
 */
typedef struct rr_io {
    bool replay;
    board_t *b;
    /* recording: the entries logged since the last hand-over to the
     * writer (the last nlogged - npend are in the file or on their way) */
    rr_input_ent *pend;
    size_t npend, cappend;
    uint64_t nlogged;
    int err; /* out of memory for the log */
    /* replaying */
    const rr_input_ent *log;
    size_t n, next;
    uint64_t perturb; /* index of the input to flip, UINT64_MAX: none */
    bool perturb_on;
    bool diverged;
    char why[512];
} rr_io;

uint64_t rr_input(rr_io *io, rr_source src, uint64_t live, uint64_t def);
/* Replay: the value rr_input would return, without taking it. */
uint64_t rr_input_peek(const rr_io *io, rr_source src, uint64_t def);
/* Replay: true (and io->diverged) when a logged input before point
 * (steps, vtime) was not taken. */
bool rr_input_overdue(rr_io *io, uint64_t steps, uint64_t vtime);
/* Replay: true when an input is logged at exactly this point. */
bool rr_input_pending_at(const rr_io *io, uint64_t steps, uint64_t vtime);

/* ---- rr_writer.c ------------------------------------------------------------ */

/* What the writer stores in one transaction, any part optional (empty
 * when zero): the input rows input_seq.. (logged since the previous
 * batch), a console chunk, an image (its bytes or its file), a
 * checkpoint, or the end of the run. The batch owns every buffer in it
 * but a borrowed image.
 *
 * A checkpoint (ck) with a shadow board: raw is the DELTA since the
 * previous checkpoint (NULL for checkpoint 0: the shadow, built like the
 * recorded board, is that state), and the writer decides by its policy
 * whether to store it or a FULL snapshot it takes of the shadow. Without
 * a shadow (tests): raw is stored as it is, full says which it is, and
 * hash is its state hash. The end (end) with a shadow: raw is the DELTA
 * since the last checkpoint; the writer stores the end meta (end_icount,
 * end_vtime_ns, end_stop, end_code, end_state_hash from the shadow). */
typedef struct rr_batch {
    rr_input_ent *inputs;
    size_t ninputs;
    uint64_t input_seq;
    uint8_t *tx;
    size_t txlen;
    uint64_t tx_chunk, tx_off, tx_icount;
    char image_name[32];
    uint8_t *image; /* the image's bytes, or NULL and image_path: read */
    size_t image_size;
    char *image_path;    /*   them from this file (in the writer thread) */
    bool image_borrowed; /* image is the caller's: not freed */
    bool ck, end;
    uint8_t *raw; /* the snapshot, unsealed (snap_seal), or NULL */
    size_t rawlen, rawcap;
    uint64_t seq, hash, ninputs_at, tx_off_at;
    snap_point at;
    bool full;
    uint64_t end_stop, end_code;
} rr_batch;

typedef struct rr_writer_stats {
    uint64_t batches;
    uint64_t full, delta; /* checkpoints stored */
    uint64_t full_bytes, delta_bytes, full_raw, delta_raw;
    double wait_seconds; /* the producer waited for room in the queue */
} rr_writer_stats;

typedef struct rr_writer rr_writer;
/* Starts the writer thread on db, which is then the writer's alone
 * until rr_writer_finish (no open transaction). shadow (may be NULL): a
 * board built like the recorded one, the writer's until then, on which
 * it applies every snapshot, computes the state hashes and takes the
 * full snapshots: one at checkpoint 0, then when the deltas stored since
 * the last full add up to its size, or at the full_every-th checkpoint
 * since it. */
int rr_writer_start(rr_writer **out, sqlite3 *db, board_t *shadow, unsigned full_every);
/* Queues b (taking its buffers; *b is cleared), waiting while the queue
 * is full. Returns the writer's first failure, if any (b is then freed
 * unwritten). */
int rr_writer_submit(rr_writer *w, rr_batch *b);
/* A snapshot buffer the writer is done with (*cap bytes), or NULL. */
uint8_t *rr_writer_buffer(rr_writer *w, size_t *cap);
/* Waits until everything queued is committed; the first failure or 0. */
int rr_writer_sync(rr_writer *w);
/* The first failure (and its reason), without waiting. */
int rr_writer_error(rr_writer *w, char *why, size_t len);
/* Writes what is queued, stops the thread, frees w; the first failure. */
int rr_writer_finish(rr_writer *w, rr_writer_stats *st, char *why, size_t len);
/* CLOCK_MONOTONIC in seconds (for statistics only). */
double rr_now_s(void);

struct rr_file {
    sqlite3 *db;
    char *path;
    rr_info info;
    rr_ckpt_info *ck; /* every checkpoint, by seq */
    size_t nck;
};

/* ---- rr_db.c ---------------------------------------------------------------- */

/* err helpers: format a one-line reason, return rc. */
int rr_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* MC_EDB with sqlite's message. */
int rr_dbfail(sqlite3 *db, char *err, size_t errlen, const char *what);

/* Creates a new recording file with the schema, WAL mode. */
int rr_db_create(sqlite3 **out, const char *path, char *err, size_t errlen);
int rr_db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);
int rr_meta_put(sqlite3 *db, const char *key, const char *value);
int rr_meta_putu(sqlite3 *db, const char *key, uint64_t value);
/* Stores an image: SHA-256 of data, LZ4 frame of it (packed into *z,
 * *zcap bytes, grown as rr_lz4_pack_into does). */
int rr_db_put_image(sqlite3 *db, const char *name, const void *data, size_t size, uint8_t **z,
                    size_t *zcap);
/* Steps st, an INSERT into table (a rowid table with a column "data")
 * whose column col is the blob data: bound as a zeroblob and then
 * written in place, so that SQLite does not first copy the blob into a
 * record of its own. Resets st. MC_EDB (sqlite's reason on the
 * connection), MC_EUNSUP beyond 2 GiB. */
int rr_db_insert_blob(sqlite3_stmt *st, int col, const char *table, const void *data, size_t len);

/* An LZ4 frame of src into *buf (*cap bytes, grown with some room to
 * spare when too small; may be NULL with *cap 0), for a caller that reuses
 * its buffer; with block and content checksums, or without when the
 * content carries its own (a snapshot's seal). */
int rr_lz4_pack_into(const void *src, size_t len, bool checksums, uint8_t **buf, size_t *cap,
                     size_t *outlen);
/* Unpacks exactly rawlen bytes (MC_ECORRUPT on any mismatch). */
int rr_lz4_unpack(const void *src, size_t len, size_t rawlen, uint8_t **out);

/* rr_image, with the SHA-256 check optional: the LZ4 frame's content
 * checksum still catches damage, and a seek need not pay for the hash
 * (verify checks it). */
int rr_image_load(rr_file *f, const char *name, bool check_sha, uint8_t **data, size_t *size,
                  char *err, size_t errlen);
/* Loads the inputs with seq in [from, to) into a new array. */
int rr_load_inputs(rr_file *f, uint64_t from, uint64_t to, rr_input_ent **out, size_t *n, char *err,
                   size_t errlen);
/* Reads and unpacks checkpoint seq's snapshot. */
int rr_load_checkpoint(rr_file *f, uint64_t seq, uint8_t **buf, size_t *len, char *err,
                       size_t errlen);
/* The same into *buf, grown (realloc) when *cap is too small: a replayer
 * reuses one buffer for every checkpoint it restores. */
int rr_load_checkpoint_into(rr_file *f, uint64_t seq, uint8_t **buf, size_t *cap, size_t *len,
                            char *err, size_t errlen);
/* The stored UART TX bytes [0, upto) (upto UINT64_MAX: all). */
int rr_load_uart(rr_file *f, uint64_t upto, uint8_t **buf, size_t *len, char *err, size_t errlen);

void rr_sha256_hex(const void *data, size_t len, char out[65]);
const char *rr_source_name(rr_source s);

/* ---- rr_replay.c ------------------------------------------------------------ */

/* The index of the input the perturbation changed (UINT64_MAX: none). */
uint64_t rr_replay_perturbed(const rr_replay *rp, rr_input_ent *ent);
/* UART TX captured since the last restore, and its offset. */
const uint8_t *rr_replay_tx(const rr_replay *rp, size_t *len, uint64_t *off);
/* Checkpoints matched since the last restore or fresh start. */
uint64_t rr_replay_checked(const rr_replay *rp);

#endif
