/*
 * rr_record.c - the recorder: wraps the live host callbacks so that every
 * input goes through rr_input, takes checkpoints at round boundaries and
 * hands each, with the inputs and console bytes before it, to the writer
 * thread (rr_writer.c), which commits one transaction per checkpoint
 * (see rr.h, rr_db.c). The emulation thread only copies the pages
 * dirtied since the last checkpoint (and the CPU and device state); the
 * writer applies them to a shadow board, where it hashes and takes the
 * full snapshots, and compresses and stores beside the machine.
 *
 * Checkpoint policy: one every RR_DEFAULT_CHECKPOINT_EVERY (40 M) steps or
 * RR_DEFAULT_CHECKPOINT_EVERY_NS (1 s) of guest time (once 4 M steps have
 * run), whichever comes first; a full one (decided by the writer) when
 * the deltas since the last full add up to its size or number
 * RR_DEFAULT_FULL_EVERY - 1 (50), the others deltas. (Before the writer
 * thread, with every 10th full:)
 * Measured on the corpus Linux, 256 MiB, 1 hart (CPU seconds; a shared
 * 2-core host, see bench/rr.py):
 *   bench workload (740 M steps, 0.74 s guest, rewrites an 8 MiB array):
 *     plain run 3.6-4.3 s; recorded at 20 M: +1.6 s for 37 checkpoints
 *     (4 full 46 MiB, 33 delta 77 MiB compressed) plus ~0.8 s fixed (the
 *     images, vmlinux: LZ4 + SHA-256 of 70 MB); at 5 M: 148 checkpoints,
 *     +4.8 s, 430 MiB. Cold seeks (random instants, CPU p50/p95): 20 M/10:
 *     0.20/0.26 s, 10 M/10: 0.19/0.31 s, 10 M/30: 0.16/0.28 s, 5 M: 0.16/
 *     0.28 s. A seek's fixed part (open, images, board, restoring a full
 *     snapshot into 256 MiB: page faults) is ~0.1 s; more checkpoints buy
 *     little and cost recording time, so 20 M stays.
 *   idle shell, 60 s guest (82 M steps, nearly all in the first 70 ms): by
 *     steps alone 5 checkpoints, and a seek into the idle minute re-ran up
 *     to 20 M steps (0.26 s CPU p50); with one per guest second (63
 *     checkpoints, idle deltas ~140 KB) seeks take 0.07-0.11 s CPU.
 *   A guest deadlocked on 1 hart (the race workload, no -max-time) jumps
 *     ~400 guest seconds per host second from timer to timer: with every
 *     10th full it grew 28 MB per host second (fulls of 8 MB were 90% of
 *     it); with fulls by bytes, capped at 50, 10 MB (20 s: 904
 *     checkpoints, 20 full 165 MB, 884 deltas of 27 KB).
 *   With the writer taking the fulls (the emulation thread copying only
 *   dirty pages), bench, 14 alternating runs each, wall: record at 20 M
 *   +5.3%, at 40 M +3.1% (writer CPU ~1.1 s and ~0.9 s, of which ~0.35 s
 *   the vmlinux). The writer's memory traffic slows the machine's thread
 *   on the other core (a memory-streaming LZ4 loop there alone slows a
 *   plain run ~8%; a pure ALU loop ~2%), so fewer checkpoint bytes are
 *   most of what is left to gain. Cold seeks p50/p95: idle 60 s 118/138
 *   ms at 20 M, 134/157 ms at 40 M; bench 163/273 and 201/338 ms; file
 *   156 and 122 MB. So 40 M: both goals (5%, 200 ms) with some margin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rr_int.h"

struct rr_rec {
    sqlite3 *db;
    board_t *b;
    board_host live;
    rr_rec_opts o;
    rr_io io;
    board_t *shadow; /* the writer's copy: hashes and full snapshots */
    rr_writer *w;    /* owns db from the first checkpoint to the end */
    uint64_t nck, next_ck, nuart_chunks;
    uint64_t next_ck_ns; /* the next checkpoint by guest time */
    snap_point last;
    uint8_t *tx; /* UART TX since the last hand-over */
    size_t txlen, txcap;
    uint64_t tx_off; /* bytes handed over before tx[0] */
    bool tx_oom;
    int err;
    char why[256];
    rr_rec_stats st;
};

/* ---- wrapped host callbacks ------------------------------------------------- */

static void rec_uart_tx(void *ctx, uint8_t byte)
{
    rr_rec *r = ctx;
    if (r->txlen == r->txcap) {
        size_t cap = r->txcap ? 2 * r->txcap : 4096;
        uint8_t *n = realloc(r->tx, cap);
        if (!n) {
            r->tx_oom = true;
        } else {
            r->tx = n;
            r->txcap = cap;
        }
    }
    if (r->txlen < r->txcap) r->tx[r->txlen++] = byte;
    if (r->live.uart_tx) r->live.uart_tx(r->live.ctx, byte);
}

static int rec_uart_rx(void *ctx)
{
    rr_rec *r = ctx;
    int c = r->live.uart_rx ? r->live.uart_rx(r->live.ctx) : -1;
    uint64_t v =
        rr_input(&r->io, RR_SRC_UART_RX, c < 0 ? UINT64_MAX : (uint64_t)(c & 0xff), UINT64_MAX);
    return v == UINT64_MAX ? -1 : (int)v;
}

static uint64_t rec_idle(void *ctx, uint64_t now_ns, uint64_t next_ns)
{
    rr_rec *r = ctx;
    uint64_t v = r->live.idle ? r->live.idle(r->live.ctx, now_ns, next_ns) : next_ns;
    return rr_input(&r->io, RR_SRC_IDLE, v, next_ns);
}

static int checkpoint(rr_rec *r);

static void rec_round(void *ctx, uint64_t vtime)
{
    rr_rec *r = ctx;
    if (r->live.round) r->live.round(r->live.ctx, vtime);
    uint64_t steps = board_steps(r->b);
    /* The guest-time trigger also wants a tenth of the step interval run
     * since the last checkpoint: an idle guest whose time jumps from timer
     * to timer would otherwise write a checkpoint per guest second at host
     * speed (a deadlocked guest recorded without -max-time filled 15 GB in
     * 5 minutes); a seek into such a stretch re-runs at most that tenth. */
    bool by_steps = steps >= r->next_ck;
    bool by_time = vtime >= r->next_ck_ns && steps - r->last.steps >= r->o.checkpoint_every / 10;
    if (r->err || (!by_steps && !by_time)) return;
    if ((r->err = checkpoint(r)) < 0) board_request_stop(r->b);
}

/* ---- checkpoints and hand-overs to the writer ------------------------------ */

/* Moves the inputs and console bytes logged so far into b. */
static int take_logs(rr_rec *r, rr_batch *b)
{
    if (r->tx_oom || r->io.err) {
        snprintf(r->why, sizeof(r->why), "out of memory for the %s",
                 r->tx_oom ? "console transcript" : "input log");
        return MC_ENOMEM;
    }
    b->inputs = r->io.pend;
    b->ninputs = r->io.npend;
    b->input_seq = r->io.nlogged - r->io.npend;
    r->io.pend = NULL;
    r->io.npend = r->io.cappend = 0;
    if (r->txlen) {
        b->tx = r->tx;
        b->txlen = r->txlen;
        b->tx_chunk = r->nuart_chunks++;
        b->tx_off = r->tx_off;
        b->tx_icount = board_steps(r->b);
        r->st.uart_bytes += r->txlen;
        r->tx_off += r->txlen;
        r->tx = NULL;
        r->txlen = r->txcap = 0;
    }
    return MC_OK;
}

static int submit(rr_rec *r, rr_batch *b)
{
    int rc = rr_writer_submit(r->w, b);
    if (rc < 0) rr_writer_error(r->w, r->why, sizeof(r->why));
    return rc;
}

/* The pages dirtied since the last checkpoint and the CPU and device
 * state, for the writer: it applies them to its shadow board, hashes
 * that and takes the full snapshots from it. Checkpoint 0 sends no
 * snapshot: the shadow, built like this board, is in this very state;
 * marking starts the dirty tracking of the first delta. */
static int take_delta(rr_rec *r, rr_batch *bt)
{
    bt->at = (snap_point){board_steps(r->b), board_vtime(r->b)};
    if (r->nck == 0) {
        snap_mark(r->b);
        return MC_OK;
    }
    bt->raw = rr_writer_buffer(r->w, &bt->rawcap);
    int rc = snap_save_into(r->b, SNAP_DELTA, &r->last, NULL, &bt->raw, &bt->rawcap, &bt->rawlen);
    if (rc < 0) {
        free(bt->raw);
        bt->raw = NULL;
        snprintf(r->why, sizeof(r->why), "checkpoint %llu: %s", (unsigned long long)r->nck,
                 mc_strerror(rc));
    }
    return rc;
}

static int checkpoint(rr_rec *r)
{
    double t0 = rr_now_s();
    rr_batch bt;
    memset(&bt, 0, sizeof(bt));
    bt.ck = true;
    bt.seq = r->nck;
    int rc;
    if ((rc = take_delta(r, &bt)) < 0) return rc;
    if ((rc = take_logs(r, &bt)) < 0) {
        free(bt.raw);
        return rc;
    }
    bt.ninputs_at = r->io.nlogged;
    bt.tx_off_at = r->tx_off;
    snap_point at = bt.at;
    if ((rc = submit(r, &bt)) < 0) return rc; /* bt is the writer's now */
    r->nck++;
    r->last = at;
    r->next_ck = at.steps + r->o.checkpoint_every;
    r->next_ck_ns = at.vtime > UINT64_MAX - r->o.checkpoint_every_ns
                        ? UINT64_MAX
                        : at.vtime + r->o.checkpoint_every_ns;
    r->st.checkpoints++;
    r->st.checkpoint_seconds += rr_now_s() - t0;
    return MC_OK;
}

/* ---- lifetime --------------------------------------------------------------- */

static int put_config(rr_rec *r, const board_config *cfg)
{
    char created[40];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    sqlite3 *db = r->db;
    int rc = 0;
    rc |= rr_meta_putu(db, "format_version", RR_FORMAT_VERSION);
    rc |= rr_meta_putu(db, "snap_version", SNAP_VERSION);
    rc |= rr_meta_put(db, "emulator", r->o.emulator ? r->o.emulator : "machina");
    rc |= rr_meta_put(db, "created", created);
    if (r->o.command) rc |= rr_meta_put(db, "command", r->o.command);
    rc |= rr_meta_putu(db, "harts", cfg->nharts);
    rc |= rr_meta_putu(db, "ram_size", cfg->ram_size);
    rc |= rr_meta_putu(db, "ext", cfg->ext);
    rc |= rr_meta_putu(db, "quantum", cfg->quantum);
    rc |= rr_meta_putu(db, "ns_per_step", HART_NS_PER_STEP);
    if (cfg->cmdline && *cfg->cmdline) rc |= rr_meta_put(db, "cmdline", cfg->cmdline);
    rc |= rr_meta_putu(db, "until_ns", r->o.until_ns);
    rc |= rr_meta_putu(db, "until_steps", r->o.until_steps);
    rc |= rr_meta_putu(db, "checkpoint_every", r->o.checkpoint_every);
    rc |= rr_meta_putu(db, "checkpoint_every_ns", r->o.checkpoint_every_ns);
    rc |= rr_meta_putu(db, "full_every", r->o.full_every);
    return rc ? MC_EDB : MC_OK;
}

/* Queues an image the caller keeps until rr_rec_free. */
static int put_image(rr_rec *r, const char *name, const void *data, size_t size)
{
    if (!data) return MC_OK;
    rr_batch bt;
    memset(&bt, 0, sizeof(bt));
    snprintf(bt.image_name, sizeof(bt.image_name), "%s", name);
    bt.image = (uint8_t *)data;
    bt.image_size = size;
    bt.image_borrowed = true;
    return submit(r, &bt);
}

int rr_rec_open(rr_rec **out, const char *path, const board_config *cfg, const board_host *live,
                const rr_rec_opts *o, char *err, size_t errlen)
{
    rr_rec *r = calloc(1, sizeof(*r));
    if (!r) return MC_ENOMEM;
    if (live) r->live = *live;
    r->o = *o;
    if (!r->o.checkpoint_every) r->o.checkpoint_every = RR_DEFAULT_CHECKPOINT_EVERY;
    if (!r->o.checkpoint_every_ns) r->o.checkpoint_every_ns = RR_DEFAULT_CHECKPOINT_EVERY_NS;
    if (!r->o.full_every) r->o.full_every = RR_DEFAULT_FULL_EVERY;
    int rc;
    if ((rc = rr_db_create(&r->db, path, err, errlen)) < 0) goto fail;
    if ((rc = rr_db_exec(r->db, "BEGIN", err, errlen)) < 0) goto fail;
    if ((rc = put_config(r, cfg)) < 0) {
        rr_dbfail(r->db, err, errlen, "cannot write the recording");
        goto fail;
    }
    board_host h = {.ctx = r,
                    .uart_tx = rec_uart_tx,
                    .uart_rx = rec_uart_rx,
                    .idle = rec_idle,
                    .round = rec_round};
    if ((rc = board_new(&r->b, cfg, &h, err, errlen)) < 0) goto fail;
    r->io.b = r->b;
    if ((rc = rr_db_exec(r->db, "COMMIT", err, errlen)) < 0) goto fail;
    board_host quiet = {0};
    if ((rc = board_new(&r->shadow, cfg, &quiet, err, errlen)) < 0) goto fail;
    if ((rc = rr_writer_start(&r->w, r->db, r->shadow, r->o.full_every)) < 0) {
        rr_dbfail(r->db, err, errlen, "cannot write the recording");
        goto fail;
    }
    /* The images and checkpoint 0 are packed and committed while the
     * machine starts (a file killed before that has no checkpoint, and
     * says so when opened). */
    size_t dtb_size;
    const void *dtb = board_dtb(r->b, &dtb_size);
    if ((rc = put_image(r, "bios", cfg->bios, cfg->bios_size)) < 0 ||
        (rc = put_image(r, "kernel", cfg->kernel, cfg->kernel_size)) < 0 ||
        (rc = put_image(r, "initrd", cfg->initrd, cfg->initrd_size)) < 0 ||
        (rc = put_image(r, "drive", cfg->drive, cfg->drive_size)) < 0 ||
        (rc = put_image(r, "dtb", dtb, dtb_size)) < 0 || (rc = checkpoint(r)) < 0) {
        rr_fail(err, errlen, rc, "%s", *r->why ? r->why : mc_strerror(rc));
        goto fail;
    }
    *out = r;
    return MC_OK;
fail:
    rr_rec_free(r);
    return rc;
}

int rr_rec_add_image_file(rr_rec *r, const char *name, const char *path)
{
    rr_batch bt;
    memset(&bt, 0, sizeof(bt));
    if (strlen(name) >= sizeof(bt.image_name)) return MC_EINVAL;
    if (!(bt.image_path = strdup(path))) return MC_ENOMEM;
    strcpy(bt.image_name, name);
    return submit(r, &bt);
}

board_t *rr_rec_board(rr_rec *r)
{
    return r->b;
}

/* Hands over what is left (end: with the end of the run), waits for the
 * writer and takes its numbers. */
static int finish_writer(rr_rec *r, const board_outcome *end)
{
    if (!r->w) return MC_OK;
    rr_batch bt;
    memset(&bt, 0, sizeof(bt));
    int rc = take_logs(r, &bt);
    if (rc == MC_OK && end) {
        bt.end = true;
        bt.end_stop = (uint64_t)end->stop;
        bt.end_code = end->code;
        rc = take_delta(r, &bt);
    }
    if (rc == MC_OK && (bt.ninputs || bt.txlen || bt.end)) rc = submit(r, &bt);
    rr_writer_stats ws;
    char why[256] = "";
    int wrc = rr_writer_finish(r->w, &ws, why, sizeof(why));
    r->w = NULL;
    r->st.full = ws.full;
    r->st.delta = ws.delta;
    r->st.full_bytes = ws.full_bytes;
    r->st.delta_bytes = ws.delta_bytes;
    r->st.full_raw = ws.full_raw;
    r->st.delta_raw = ws.delta_raw;
    r->st.writer_wait_seconds = ws.wait_seconds;
    if (wrc < 0 && rc == MC_OK) {
        snprintf(r->why, sizeof(r->why), "%s", why);
        rc = wrc;
    }
    return rc;
}

int rr_rec_run(rr_rec *r, board_outcome *out, char *err, size_t errlen)
{
    int rc = board_run(r->b, r->o.until_ns, r->o.until_steps, out);
    if (rc < 0) return rr_fail(err, errlen, rc, "the machine failed: %s", mc_strerror(rc));
    /* the writer stores the end (meta end_*, the state hash from its
     * shadow) with the last inputs and console bytes, in one transaction */
    int wrc = r->err ? MC_OK : finish_writer(r, out);
    if (r->err || wrc < 0) {
        rc = r->err ? r->err : wrc;
        return rr_fail(err, errlen, rc, "recording stopped: %s", r->why);
    }
    r->st.inputs = r->io.nlogged;
    return MC_OK;
}

void rr_rec_get_stats(const rr_rec *r, rr_rec_stats *st)
{
    *st = r->st;
    st->inputs = r->io.nlogged;
}

void rr_rec_free(rr_rec *r)
{
    if (!r) return;
    finish_writer(r, NULL); /* what was handed over is consistent: keep it */
    free(r->io.pend);
    if (r->db) {
        /* The open transaction holds only what came after the last
         * checkpoint (or a failed run): keep the file as committed. */
        if (!sqlite3_get_autocommit(r->db)) sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(r->db);
    }
    board_free(r->shadow); /* after the writer, which used it */
    board_free(r->b);
    free(r->tx);
    free(r);
}
