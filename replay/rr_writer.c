/*
 * rr_writer.c - the recorder's writer thread (see rr_int.h): LZ4, SHA-256
 * and SQLite off the emulation thread.
 *
 * The emulation thread hands over batches; the writer stores each in one
 * transaction, in the order given: a checkpoint's batch holds the inputs
 * and console bytes logged since the previous one and the snapshot, so a
 * committed checkpoint always comes with everything before it (crash
 * safety is what it was with one thread). Nothing the writer does feeds
 * back into the machine, so recording stays deterministic.
 *
 * Invariants: jobs leave the queue in FIFO order; the queue holds at most
 * RR_WRITER_MAX_BYTES of payload unless it is empty (one batch larger than
 * that still goes through): a producer that would exceed it waits, so
 * nothing is ever dropped; after the first failure the writer frees the
 * jobs it still gets without writing them and rr_writer_error reports it.
 * Snapshot buffers come back to the producer through a small free list,
 * so that a recording does not fault in fresh pages for every checkpoint.
 *
 * With a shadow board, the writer also applies every snapshot to it,
 * computes the checkpoint's state hash there (incrementally: the groups
 * the snapshot wrote) and takes the full snapshots of it: the emulation
 * thread only ever copies the pages dirtied since the last checkpoint,
 * and every checkpoint is known to restore when it is written. The
 * full/delta choice is made here, in checkpoint order, from the sizes
 * alone, so a recording's layout does not depend on thread timing.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "loader.h"
#include "rr_int.h"

#define RR_WRITER_MAX_BYTES (512ull << 20)
#define SPARE_BUFS          8

typedef struct job {
    struct job *next;
    rr_batch b;
    size_t bytes;
} job;

struct rr_writer {
    sqlite3 *db;
    board_t *shadow; /* NULL, or the machine rebuilt from the snapshots */
    snap_hasher *shadow_hs;
    unsigned full_every;
    uint64_t full_raw, chain_raw; /* the last full's size, the deltas' since */
    unsigned chain;               /* how many deltas since it */
    uint8_t *full, *z;            /* the writer's own buffers, reused */
    size_t fullcap, zcap;
    sqlite3_stmt *ins_input, *ins_ck, *ins_uart;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* queue changed: work arrived, or room was made */
    job *head, *tail;
    size_t queued;   /* payload bytes in the queue */
    bool busy, stop; /* the writer holds a job; no more jobs will come */
    int err;         /* first failure (MC_E*), sticky */
    char why[256];
    struct {
        uint8_t *p;
        size_t cap;
    } spare[SPARE_BUFS];
    rr_writer_stats st; /* bytes: the writer's; batches, wait: under mu */
};

double rr_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t batch_bytes(const rr_batch *b)
{
    return b->rawlen + b->txlen + b->ninputs * sizeof(rr_input_ent) +
           (b->image_borrowed ? 0 : b->image_size);
}

static void batch_free(rr_writer *w, rr_batch *b)
{
    free(b->inputs);
    free(b->tx);
    if (!b->image_borrowed) free(b->image);
    free(b->image_path);
    if (b->raw) {
        pthread_mutex_lock(&w->mu);
        for (int i = 0; b->raw && i < SPARE_BUFS; i++)
            if (!w->spare[i].p) {
                w->spare[i].p = b->raw;
                w->spare[i].cap = b->rawcap;
                b->raw = NULL;
            }
        pthread_mutex_unlock(&w->mu);
        free(b->raw);
    }
    memset(b, 0, sizeof(*b));
}

static int fail(rr_writer *w, int rc, const char *what)
{
    pthread_mutex_lock(&w->mu);
    if (!w->err) {
        w->err = rc;
        snprintf(w->why, sizeof(w->why), "%s: %s", what,
                 rc == MC_EDB ? sqlite3_errmsg(w->db) : mc_strerror(rc));
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

static int step(rr_writer *w, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? MC_OK : fail(w, MC_EDB, what);
}

/* Applies the batch's delta (if any) to the shadow; its state hash. */
static int advance_shadow(rr_writer *w, const rr_batch *b, uint64_t *hash)
{
    if (b->raw) {
        char why[200], what[260];
        snap_seal(b->raw, b->rawlen);
        int rc = snap_restore_hashed(w->shadow, b->raw, b->rawlen, w->shadow_hs, why, sizeof(why));
        if (rc < 0) {
            if (b->end)
                snprintf(what, sizeof(what), "the end state does not restore (%s)", why);
            else
                snprintf(what, sizeof(what), "checkpoint %llu does not restore (%s)",
                         (unsigned long long)b->seq, why);
            return fail(w, rc, what);
        }
    }
    *hash = snap_hasher_hash(w->shadow_hs, w->shadow);
    return MC_OK;
}

static int put_checkpoint(rr_writer *w, const rr_batch *b)
{
    const uint8_t *snap = b->raw;
    size_t len = b->rawlen;
    bool full = b->full;
    uint64_t hash = b->hash;
    int rc;
    if (w->shadow) {
        if ((rc = advance_shadow(w, b, &hash)) < 0) return rc;
        full =
            !b->raw || b->seq == 0 || w->chain + 1 >= w->full_every || w->chain_raw >= w->full_raw;
        if (full) {
            /* the hasher has just looked at this state: its zero groups
             * are skipped without reading them again */
            if ((rc = snap_save_into(w->shadow, SNAP_FULL, NULL, w->shadow_hs, &w->full,
                                     &w->fullcap, &len)) < 0)
                return fail(w, rc, "full checkpoint");
            snap_seal(w->full, len);
            snap = w->full;
            w->full_raw = len;
            w->chain_raw = w->chain = 0;
        } else {
            w->chain_raw += len;
            w->chain++;
        }
    } else if (!snap) {
        return fail(w, MC_EINVAL, "checkpoint without a snapshot");
    } else {
        snap_seal(b->raw, b->rawlen);
    }
    size_t zl;
    /* no frame checksums: the snapshot's seal covers its contents */
    if ((rc = rr_lz4_pack_into(snap, len, false, &w->z, &w->zcap, &zl)) < 0)
        return fail(w, rc, "checkpoint");
    char hex[17];
    snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)hash);
    sqlite3_stmt *st = w->ins_ck;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)b->seq);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)b->at.steps);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)b->at.vtime);
    sqlite3_bind_text(st, 4, hex, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, full ? "full" : "delta", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)b->ninputs_at);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)b->tx_off_at);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)len);
    if ((rc = rr_db_insert_blob(st, 9, "checkpoint", w->z, zl)) < 0)
        return fail(w, rc, "checkpoint");
    if (full) {
        w->st.full++;
        w->st.full_bytes += zl;
        w->st.full_raw += len;
    } else {
        w->st.delta++;
        w->st.delta_bytes += zl;
        w->st.delta_raw += len;
    }
    return MC_OK;
}

static int put_end(rr_writer *w, const rr_batch *b)
{
    uint64_t hash = b->hash;
    int rc;
    if (w->shadow && (rc = advance_shadow(w, b, &hash)) < 0) return rc;
    char hex[17];
    snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)hash);
    if (rr_meta_putu(w->db, "end_icount", b->at.steps) ||
        rr_meta_putu(w->db, "end_vtime_ns", b->at.vtime) ||
        rr_meta_putu(w->db, "end_stop", b->end_stop) ||
        rr_meta_putu(w->db, "end_code", b->end_code) || rr_meta_put(w->db, "end_state_hash", hex))
        return fail(w, MC_EDB, "the end of the recording");
    return MC_OK;
}

/* Maps a whole regular file (an image read once: no copy, and its pages
 * come in one call); false when it cannot be (then it is read). */
static bool map_file(const char *path, uint8_t **data, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat sb;
    void *p = MAP_FAILED;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
        p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return false;
    *data = p;
    *size = (size_t)sb.st_size;
    return true;
}

/* One batch, one transaction. */
static int write_batch(rr_writer *w, const rr_batch *b)
{
    char e[256];
    int rc;
    if (rr_db_exec(w->db, "BEGIN", e, sizeof(e)) < 0) return fail(w, MC_EDB, "begin");
    for (size_t i = 0; i < b->ninputs; i++) {
        const rr_input_ent *in = &b->inputs[i];
        sqlite3_stmt *st = w->ins_input;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)(b->input_seq + i));
        sqlite3_bind_int64(st, 2, (sqlite3_int64)in->steps);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)in->vtime);
        sqlite3_bind_int64(st, 4, in->hart);
        sqlite3_bind_text(st, 5, rr_source_name(in->src), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)in->value);
        if ((rc = step(w, st, "input log")) < 0) goto rollback;
    }
    if (b->txlen) {
        sqlite3_stmt *st = w->ins_uart;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)b->tx_chunk);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)b->tx_off);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)b->tx_icount);
        sqlite3_bind_blob64(st, 4, b->tx, b->txlen, SQLITE_STATIC);
        if ((rc = step(w, st, "console transcript")) < 0) goto rollback;
    }
    if (b->image_name[0]) {
        uint8_t *data = b->image;
        size_t size = b->image_size;
        bool mapped = false;
        if (!data && !(mapped = map_file(b->image_path, &data, &size)) &&
            (rc = loader_read_file(b->image_path, &data, &size)) < 0) {
            char what[300];
            snprintf(what, sizeof(what), "%s: cannot read '%s'", b->image_name, b->image_path);
            fail(w, rc, what);
            goto rollback;
        }
        rc = rr_db_put_image(w->db, b->image_name, data, size, &w->z, &w->zcap);
        if (mapped)
            munmap(data, size);
        else if (data != b->image)
            free(data);
        if (rc < 0) {
            fail(w, rc, b->image_name);
            goto rollback;
        }
    }
    if (b->ck && (rc = put_checkpoint(w, b)) < 0) goto rollback;
    if (b->end && (rc = put_end(w, b)) < 0) goto rollback;
    if (rr_db_exec(w->db, "COMMIT", e, sizeof(e)) < 0) return fail(w, MC_EDB, "commit");
    return MC_OK;
rollback:
    sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void *writer_main(void *arg)
{
    rr_writer *w = arg;
    pthread_setname_np(pthread_self(), "machina-writer"); /* for top -H, perf */
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        job *j = w->head;
        if (!j) break; /* stopped and drained */
        w->head = j->next;
        if (!w->head) w->tail = NULL;
        w->busy = true;
        bool failed = w->err != 0;
        pthread_mutex_unlock(&w->mu);
        if (!failed) write_batch(w, &j->b);
        batch_free(w, &j->b);
        pthread_mutex_lock(&w->mu);
        w->queued -= j->bytes;
        w->busy = false;
        free(j);
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int rr_writer_start(rr_writer **out, sqlite3 *db, board_t *shadow, unsigned full_every)
{
    rr_writer *w = calloc(1, sizeof(*w));
    if (!w) return MC_ENOMEM;
    w->db = db;
    w->full_every = full_every;
    int rc = MC_OK;
    if (shadow) {
        if ((rc = snap_hasher_new(&w->shadow_hs, shadow)) < 0) goto fail;
        w->shadow = shadow;
    }
    /* A blob is inserted as zeros and written in place (rr_db_insert_blob):
     * its pages must stay in the cache in between, not be spilled to the
     * WAL and read back (no spill: the cache holds a transaction's dirty
     * pages whatever their number); committed pages are not read again,
     * so the cache keeps only 16 MiB of them. */
    if (sqlite3_exec(db, "PRAGMA cache_size=-16384; PRAGMA cache_spill=OFF", NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO input VALUES(?,?,?,?,?,?)", -1, &w->ins_input, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO checkpoint VALUES(?,?,?,?,?,?,?,?,?)", -1, &w->ins_ck,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO uart_tx VALUES(?,?,?,?)", -1, &w->ins_uart, NULL) !=
            SQLITE_OK) {
        rc = MC_EDB;
        goto fail;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        rc = MC_ENOMEM;
        goto fail;
    }
    *out = w;
    return MC_OK;
fail:
    sqlite3_finalize(w->ins_input);
    sqlite3_finalize(w->ins_ck);
    sqlite3_finalize(w->ins_uart);
    snap_hasher_free(w->shadow_hs);
    free(w);
    return rc;
}

int rr_writer_submit(rr_writer *w, rr_batch *b)
{
    job *j = malloc(sizeof(*j));
    if (!j) {
        batch_free(w, b);
        return MC_ENOMEM;
    }
    j->next = NULL;
    j->b = *b;
    j->bytes = batch_bytes(b);
    memset(b, 0, sizeof(*b));
    pthread_mutex_lock(&w->mu);
    double t0 = 0;
    while ((w->head || w->busy) && w->queued + j->bytes > RR_WRITER_MAX_BYTES && !w->err) {
        if (!t0) t0 = rr_now_s();
        pthread_cond_wait(&w->cv, &w->mu);
    }
    if (t0) w->st.wait_seconds += rr_now_s() - t0;
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->queued += j->bytes;
    w->st.batches++;
    int rc = w->err;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

uint8_t *rr_writer_buffer(rr_writer *w, size_t *cap)
{
    pthread_mutex_lock(&w->mu);
    int best = -1;
    for (int i = 0; i < SPARE_BUFS; i++)
        if (w->spare[i].p && (best < 0 || w->spare[i].cap > w->spare[best].cap)) best = i;
    uint8_t *p = NULL;
    *cap = 0;
    if (best >= 0) {
        p = w->spare[best].p;
        *cap = w->spare[best].cap;
        w->spare[best].p = NULL;
    }
    pthread_mutex_unlock(&w->mu);
    return p;
}

int rr_writer_sync(rr_writer *w)
{
    pthread_mutex_lock(&w->mu);
    while ((w->head || w->busy) && !w->err)
        pthread_cond_wait(&w->cv, &w->mu);
    int rc = w->err;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int rr_writer_error(rr_writer *w, char *why, size_t len)
{
    pthread_mutex_lock(&w->mu);
    int rc = w->err;
    if (rc && why) snprintf(why, len, "%s", w->why);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int rr_writer_finish(rr_writer *w, rr_writer_stats *st, char *why, size_t len)
{
    if (!w) return MC_OK;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    int rc = rr_writer_error(w, why, len);
    if (st) *st = w->st;
    sqlite3_finalize(w->ins_input);
    sqlite3_finalize(w->ins_ck);
    sqlite3_finalize(w->ins_uart);
    for (int i = 0; i < SPARE_BUFS; i++)
        free(w->spare[i].p);
    free(w->full);
    free(w->z);
    snap_hasher_free(w->shadow_hs);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return rc;
}
