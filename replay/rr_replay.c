/*
 * rr_replay.c - the replayer: rebuilds the recorded machine from the file,
 * feeds it the logged inputs through rr_input, marks the checkpoints the
 * recording took (and optionally checks their hashes), and seeks.
 *
 * Where a replay stops: at exactly N steps for "i:N" (possibly mid-slice:
 * such a position is inspected, never resumed, because a resumed slice
 * would check interrupts once more than the recording did); at the first
 * round boundary at or after T for a time; at the recorded end, which is
 * found the way the recording met it (its step limit, its time limit, the
 * machine's own stop, or the point where the user stopped it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rr_int.h"

struct rr_replay {
    rr_file *f;
    board_t *b;
    board_config cfg;
    uint8_t *img[4]; /* bios, kernel, initrd, drive */
    rr_io io;
    snap_hasher *hasher;
    rr_input_ent *log;
    size_t nlog;
    rr_replay_mode mode;
    size_t next_ck;   /* the next checkpoint to mark */
    uint64_t stop_ns; /* time seek: stop at the first boundary >= it */
    uint64_t stop_ck; /* stop right after marking this checkpoint */
    bool to_end;      /* stop at the recorded end point */
    bool finished;    /* the board powered off, failed or hit tohost */
    uint64_t checked;
    bool diverged;
    uint64_t div_ck;
    char why[1024];
    uint8_t *tx;
    size_t txlen, txcap;
    uint64_t tx_off;
    /* the last checkpoint restored, as one full snapshot (restoring it
     * again skips the chain: bisection restores one checkpoint often) */
    uint64_t cache_seq;
    uint8_t *cache;
    size_t cache_len;
    uint64_t nrestores; /* chains restored (the first one is not cached) */
    uint8_t *ckbuf;     /* checkpoint buffer, reused */
    size_t ckcap;
    /* MACHINA_RR_START=K: seeks start from checkpoint K (or the nearest
     * one when that is earlier); UINT64_MAX: the nearest */
    uint64_t start_ck;
};

static const char *const img_names[4] = {"bios", "kernel", "initrd", "drive"};

/* ---- host callbacks --------------------------------------------------------- */

static void rp_diverge(rr_replay *rp, uint64_t ck, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void rp_diverge(rr_replay *rp, uint64_t ck, const char *fmt, ...)
{
    if (rp->diverged) return;
    rp->diverged = true;
    rp->div_ck = ck;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rp->why, sizeof(rp->why), fmt, ap);
    va_end(ap);
    board_request_stop(rp->b);
}

static void rp_uart_tx(void *ctx, uint8_t byte)
{
    rr_replay *rp = ctx;
    if (rp->txlen == rp->txcap) {
        size_t cap = rp->txcap ? 2 * rp->txcap : 4096;
        uint8_t *n = realloc(rp->tx, cap);
        if (!n) return;
        rp->tx = n;
        rp->txcap = cap;
    }
    rp->tx[rp->txlen++] = byte;
}

static int rp_uart_rx(void *ctx)
{
    rr_replay *rp = ctx;
    uint64_t v = rr_input(&rp->io, RR_SRC_UART_RX, 0, UINT64_MAX);
    return v == UINT64_MAX ? -1 : (int)(v & 0xff);
}

/* True at the recorded end point once every input logged there was taken. */
static bool at_end(rr_replay *rp)
{
    const rr_info *in = rr_get_info(rp->f);
    uint64_t s = board_steps(rp->b), v = board_vtime(rp->b);
    return rp->to_end && s == in->end_steps && v == in->end_vtime &&
           !rr_input_pending_at(&rp->io, s, v);
}

static uint64_t rp_idle(void *ctx, uint64_t now_ns, uint64_t next_ns)
{
    rr_replay *rp = ctx;
    if (at_end(rp)) {
        board_request_stop(rp->b);
        return next_ns;
    }
    if (rp->stop_ns != UINT64_MAX && rr_input_peek(&rp->io, RR_SRC_IDLE, next_ns) >= rp->stop_ns) {
        board_request_stop(rp->b); /* before the jump; the input stays for a resume */
        return next_ns;
    }
    (void)now_ns;
    return rr_input(&rp->io, RR_SRC_IDLE, 0, next_ns);
}

static void rp_round(void *ctx, uint64_t vtime)
{
    rr_replay *rp = ctx;
    const rr_ckpt_info *ck = rp->f->ck;
    uint64_t s = board_steps(rp->b);
    if (rr_input_overdue(&rp->io, s, vtime)) return;
    if (rp->next_ck < rp->f->nck) {
        const rr_ckpt_info *c = &ck[rp->next_ck];
        if (c->steps < s || (c->steps == s && c->vtime < vtime)) {
            rp_diverge(rp, c->seq,
                       "checkpoint %llu at i:%llu (%llu ns) was not met at a round boundary: "
                       "the replay went on to i:%llu (%llu ns)",
                       (unsigned long long)c->seq, (unsigned long long)c->steps,
                       (unsigned long long)c->vtime, (unsigned long long)s,
                       (unsigned long long)vtime);
            return;
        }
        if (c->steps == s && c->vtime == vtime) {
            if (rp->mode.check_hashes) {
                uint64_t h = snap_hasher_hash(rp->hasher, rp->b);
                if (h != c->hash) {
                    rp_diverge(rp, c->seq,
                               "checkpoint %llu at i:%llu (%llu ns): state hash %016llx, "
                               "recorded %016llx",
                               (unsigned long long)c->seq, (unsigned long long)s,
                               (unsigned long long)vtime, (unsigned long long)h,
                               (unsigned long long)c->hash);
                    return;
                }
                rp->checked++;
            }
            if (!rp->mode.check_hashes) snap_hasher_invalidate(rp->hasher);
            snap_mark(rp->b);
            rp->next_ck++;
            if (c->seq == rp->stop_ck) board_request_stop(rp->b);
        }
    }
    if (at_end(rp) || (rp->stop_ns != UINT64_MAX && vtime >= rp->stop_ns))
        board_request_stop(rp->b);
}

/* ---- the board -------------------------------------------------------------- */

static int build_board(rr_replay *rp, char *err, size_t errlen)
{
    board_free(rp->b);
    rp->b = NULL;
    board_host h = {.ctx = rp,
                    .uart_tx = rp_uart_tx,
                    .uart_rx = rp_uart_rx,
                    .idle = rp_idle,
                    .round = rp_round};
    char why[256] = "";
    int rc = board_new(&rp->b, &rp->cfg, &h, why, sizeof(why));
    if (rc < 0)
        return rr_fail(err, errlen, MC_ECORRUPT, "cannot build the recorded machine: %s",
                       *why ? why : mc_strerror(rc));
    rp->io.b = rp->b;
    rp->finished = false;
    snap_hasher_free(rp->hasher);
    rp->hasher = NULL;
    if ((rc = snap_hasher_new(&rp->hasher, rp->b)) < 0) return rc;
    return MC_OK;
}

int rr_replay_new(rr_replay **out, rr_file *f, char *err, size_t errlen)
{
    const rr_info *in = rr_get_info(f);
    rr_replay *rp = calloc(1, sizeof(*rp));
    if (!rp) return MC_ENOMEM;
    rp->f = f;
    rp->stop_ns = rp->stop_ck = UINT64_MAX;
    rp->cache_seq = UINT64_MAX;
    rp->mode.perturb = true;
    board_config_default(&rp->cfg);
    rp->cfg.nharts = in->nharts;
    rp->cfg.ram_size = in->ram_size;
    rp->cfg.ext = in->ext;
    rp->cfg.quantum = in->quantum;
    rp->cfg.cmdline = in->cmdline;
    int rc;
    for (int i = 0; i < 4; i++) {
        size_t size = 0;
        rc = rr_image_load(f, img_names[i], false, &rp->img[i], &size, err, errlen);
        if (rc == MC_ENOENT) continue;
        if (rc < 0) goto fail;
        const uint8_t **data[4] = {&rp->cfg.bios, &rp->cfg.kernel, &rp->cfg.initrd, &rp->cfg.drive};
        size_t *sizes[4] = {&rp->cfg.bios_size, &rp->cfg.kernel_size, &rp->cfg.initrd_size,
                            &rp->cfg.drive_size};
        *data[i] = rp->img[i];
        *sizes[i] = size;
    }
    if ((rc = rr_load_inputs(f, 0, in->ninputs, &rp->log, &rp->nlog, err, errlen)) < 0) goto fail;
    rp->io.replay = true;
    rp->io.log = rp->log;
    rp->io.n = rp->nlog;
    rp->io.perturb = UINT64_MAX;
    const char *pe = getenv("MACHINA_RR_PERTURB");
    if (pe && *pe) {
        char *end;
        unsigned long long n = strtoull(pe, &end, 10);
        if (!*end) rp->io.perturb = n;
    }
    rp->io.perturb_on = true;
    rp->start_ck = UINT64_MAX;
    const char *se = getenv("MACHINA_RR_START");
    if (se && *se) {
        char *end;
        unsigned long long n = strtoull(se, &end, 10);
        if (*end || *se == '-' || n >= f->nck) {
            rc = rr_fail(err, errlen, MC_EINVAL,
                         "MACHINA_RR_START=%s: no such checkpoint (the recording has 0..%zu)", se,
                         f->nck - 1);
            goto fail;
        }
        rp->start_ck = n;
    }
    if ((rc = build_board(rp, err, errlen)) < 0) goto fail;
    /* The machine must be the recorded one: its device tree too. */
    uint8_t *dtb = NULL;
    size_t dtb_size = 0, mine_size;
    const void *mine = board_dtb(rp->b, &mine_size);
    if (rr_image_load(f, "dtb", false, &dtb, &dtb_size, NULL, 0) == MC_OK &&
        (dtb_size != mine_size || memcmp(dtb, mine, dtb_size) != 0)) {
        free(dtb);
        rc = rr_fail(err, errlen, MC_EUNSUP,
                     "this build generates a different device tree than the recording's");
        goto fail;
    }
    free(dtb);
    rp->div_ck = UINT64_MAX;
    *out = rp;
    return MC_OK;
fail:
    rr_replay_free(rp);
    return rc;
}

void rr_replay_free(rr_replay *rp)
{
    if (!rp) return;
    board_free(rp->b);
    snap_hasher_free(rp->hasher);
    free(rp->cache);
    free(rp->ckbuf);
    for (int i = 0; i < 4; i++)
        free(rp->img[i]);
    free(rp->log);
    free(rp->tx);
    free(rp);
}

board_t *rr_replay_board(rr_replay *rp)
{
    return rp->b;
}

void rr_replay_set_mode(rr_replay *rp, const rr_replay_mode *m)
{
    rp->mode = *m;
    rp->io.perturb_on = m->perturb;
}

static void reset_cursors(rr_replay *rp, uint64_t ck_seq)
{
    const rr_ckpt_info *c = &rp->f->ck[ck_seq];
    rp->io.next = c->ninput;
    rp->io.diverged = false;
    rp->io.why[0] = 0;
    rp->next_ck = ck_seq + 1;
    rp->txlen = 0;
    rp->tx_off = c->uart_off;
    rp->diverged = false;
    rp->div_ck = UINT64_MAX;
    rp->why[0] = 0;
    rp->checked = 0;
}

int rr_replay_fresh(rr_replay *rp, char *err, size_t errlen)
{
    int rc = build_board(rp, err, errlen);
    if (rc < 0) return rc;
    reset_cursors(rp, 0);
    uint64_t h = snap_hasher_hash(rp->hasher, rp->b);
    snap_mark(rp->b);
    if (rp->mode.check_hashes) {
        if (h != rp->f->ck[0].hash)
            rp_diverge(rp, 0,
                       "checkpoint 0 (power-on): state hash %016llx, recorded %016llx (images, "
                       "device tree or emulator differ)",
                       (unsigned long long)h, (unsigned long long)rp->f->ck[0].hash);
        else
            rp->checked++;
    }
    return MC_OK;
}

int rr_replay_restore(rr_replay *rp, uint64_t seq, char *err, size_t errlen)
{
    const rr_ckpt_info *ck = rp->f->ck;
    if (seq >= rp->f->nck)
        return rr_fail(err, errlen, MC_EINVAL, "no checkpoint %llu", (unsigned long long)seq);
    int rc;
    if (rp->finished && (rc = build_board(rp, err, errlen)) < 0) return rc;
    if (seq == rp->cache_seq) {
        char why[256];
        if ((rc = snap_restore(rp->b, rp->cache, rp->cache_len, why, sizeof(why))) < 0) {
            rp->finished = true;
            return rr_fail(err, errlen, rc, "cached checkpoint %llu: %s", (unsigned long long)seq,
                           why);
        }
        snap_hasher_invalidate(rp->hasher);
        reset_cursors(rp, seq);
        return MC_OK;
    }
    uint64_t first = seq;
    while (ck[first].kind != SNAP_FULL)
        first--; /* checkpoint 0 is full (rr_open checks) */
    for (uint64_t k = first; k <= seq; k++) {
        size_t len;
        char why[256];
        if ((rc = rr_load_checkpoint_into(rp->f, k, &rp->ckbuf, &rp->ckcap, &len, err, errlen)) < 0)
            return rc;
        rc = snap_restore(rp->b, rp->ckbuf, len, why, sizeof(why));
        if (rc < 0) {
            /* the board is now half restored: start over next time */
            rp->finished = true;
            return rr_fail(err, errlen, rc, "checkpoint %llu (i:%llu) is corrupt: %s",
                           (unsigned long long)k, (unsigned long long)ck[k].steps, why);
        }
        if (board_steps(rp->b) != ck[k].steps || board_vtime(rp->b) != ck[k].vtime) {
            rp->finished = true;
            return rr_fail(err, errlen, MC_ECORRUPT,
                           "checkpoint %llu holds i:%llu, its row says i:%llu",
                           (unsigned long long)k, (unsigned long long)board_steps(rp->b),
                           (unsigned long long)ck[k].steps);
        }
    }
    snap_hasher_invalidate(rp->hasher);
    uint64_t h = snap_hasher_hash(rp->hasher, rp->b);
    if (h != ck[seq].hash) {
        rp->finished = true;
        return rr_fail(err, errlen, MC_ECORRUPT,
                       "checkpoint %llu (i:%llu) is corrupt: it restores a state with hash "
                       "%016llx, recorded %016llx",
                       (unsigned long long)seq, (unsigned long long)ck[seq].steps,
                       (unsigned long long)h, (unsigned long long)ck[seq].hash);
    }
    reset_cursors(rp, seq);
    /* A chain restored again (bisection, segments): keep it as one
     * snapshot for next time; a one-shot seek does not pay for that. */
    if (seq != first && rp->nrestores++ > 0) {
        free(rp->cache);
        rp->cache = NULL;
        rp->cache_seq = UINT64_MAX;
        if (snap_save(rp->b, SNAP_FULL, NULL, &rp->cache, &rp->cache_len) == MC_OK)
            rp->cache_seq = seq;
    }
    return MC_OK;
}

int rr_replay_run(rr_replay *rp, const rr_target *t, board_outcome *out)
{
    const rr_info *in = rr_get_info(rp->f);
    const rr_ckpt_info *ck = rp->f->ck;
    /* A replay never retires a step past the recorded end: the recording
     * stopped at its step limit there, or (any other stop) at most at the
     * following round boundary or idle point, where at_end stops it. */
    uint64_t until =
        in->complete && in->end_stop == BOARD_STOP_STEPS ? in->end_steps : in->end_steps + 1;
    if (t->steps < in->end_steps) until = t->steps;
    rp->stop_ns = t->ns;
    rp->stop_ck = t->ck < rp->f->nck ? t->ck : UINT64_MAX;
    rp->to_end = true; /* never run past the end */
    out->stop = BOARD_STOP_NONE;
    out->code = 0;
    bool done = rp->diverged || at_end(rp) || board_steps(rp->b) >= until ||
                (t->ns != UINT64_MAX && board_vtime(rp->b) >= t->ns) ||
                (rp->stop_ck != UINT64_MAX && rp->next_ck > rp->stop_ck);
    if (!done) {
        int rc = board_run(rp->b, in->until_ns, until, out);
        if (rc < 0) return rc;
    }
    uint64_t stop_ck = rp->stop_ck;
    rp->stop_ns = rp->stop_ck = UINT64_MAX;
    rp->to_end = false;
    if (out->stop == BOARD_STOP_POWEROFF || out->stop == BOARD_STOP_FAIL ||
        out->stop == BOARD_STOP_TOHOST)
        rp->finished = true;
    if (rp->diverged || rp->io.diverged) {
        if (!rp->diverged) {
            rp->diverged = true;
            rp->div_ck = rp->next_ck;
            snprintf(rp->why, sizeof(rp->why), "%s", rp->io.why);
        }
        return MC_EDIVERGE;
    }
    uint64_t s = board_steps(rp->b), v = board_vtime(rp->b);
    uint64_t want_s = in->end_steps, want_v = in->end_vtime;
    bool ok;
    if (stop_ck != UINT64_MAX) {
        want_s = ck[stop_ck].steps;
        want_v = ck[stop_ck].vtime;
        ok = s == want_s && v == want_v;
    } else if (t->steps < in->end_steps) {
        want_s = t->steps;
        ok = s == want_s;
    } else if (t->ns < in->end_vtime) {
        want_v = t->ns;
        ok = v >= t->ns || out->stop == BOARD_STOP_REQUEST; /* idle: before the jump */
    } else {
        ok = s == want_s && v == want_v;
        if (ok && rr_input_overdue(&rp->io, s, v + 1)) {
            rp->diverged = true;
            rp->div_ck = rp->next_ck;
            snprintf(rp->why, sizeof(rp->why), "%s", rp->io.why);
            return MC_EDIVERGE;
        }
    }
    if (!ok) {
        rp_diverge(rp, rp->next_ck,
                   "the replay stopped (%s) at i:%llu (%llu ns), short of i:%llu (%llu ns)",
                   out->stop == BOARD_STOP_POWEROFF ? "poweroff"
                   : out->stop == BOARD_STOP_IDLE   ? "idle forever"
                   : out->stop == BOARD_STOP_FAIL   ? "finisher fail"
                   : out->stop == BOARD_STOP_TOHOST ? "tohost"
                                                    : "limit",
                   (unsigned long long)s, (unsigned long long)v, (unsigned long long)want_s,
                   (unsigned long long)want_v);
        return MC_EDIVERGE;
    }
    return MC_OK;
}

const char *rr_replay_divergence(const rr_replay *rp, uint64_t *ck_seq)
{
    if (ck_seq) *ck_seq = rp->diverged ? rp->div_ck : UINT64_MAX;
    return rp->diverged ? rp->why : "";
}

uint64_t rr_replay_perturbed(const rr_replay *rp, rr_input_ent *ent)
{
    if (rp->io.perturb >= rp->nlog || rp->log[rp->io.perturb].src != RR_SRC_UART_RX)
        return UINT64_MAX;
    if (ent) *ent = rp->log[rp->io.perturb];
    return rp->io.perturb;
}

const uint8_t *rr_replay_tx(const rr_replay *rp, size_t *len, uint64_t *off)
{
    *len = rp->txlen;
    *off = rp->tx_off;
    return rp->tx;
}

uint64_t rr_replay_checked(const rr_replay *rp)
{
    return rp->checked;
}

/* ---- seek ------------------------------------------------------------------- */

int rr_parse_instant(const char *s, rr_instant *out)
{
    memset(out, 0, sizeof(*out));
    out->from_ck = UINT64_MAX;
    if (s && !strcmp(s, "end")) {
        out->end = true;
        out->ns = out->steps = UINT64_MAX;
        return MC_OK;
    }
    return board_parse_instant(s, &out->ns, &out->steps);
}

int rr_seek(rr_replay *rp, const rr_instant *t, char *err, size_t errlen)
{
    const rr_info *in = rr_get_info(rp->f);
    const rr_ckpt_info *ck = rp->f->ck;
    uint64_t steps = UINT64_MAX, ns = UINT64_MAX;
    if (!t->end && t->steps != UINT64_MAX && t->steps < in->end_steps) steps = t->steps;
    if (!t->end && t->steps == UINT64_MAX && t->ns < in->end_vtime) ns = t->ns;
    /* The nearest checkpoint before the target. For i:N strictly before:
     * a checkpoint is a round boundary, after the round-end work, while
     * the state after N steps is the one before it (mid-round). */
    size_t k = rp->f->nck - 1;
    while (k > 0 && ((steps != UINT64_MAX && ck[k].steps >= steps) ||
                     (ns != UINT64_MAX && ck[k].vtime > ns)))
        k--;
    uint64_t from = t->from_ck != UINT64_MAX ? t->from_ck : rp->start_ck;
    if (from < k) k = (size_t)from;
    int rc = rr_replay_restore(rp, k, err, errlen);
    if (rc < 0) return rc;
    board_outcome out;
    rr_target tg = {steps, ns, UINT64_MAX};
    rc = rr_replay_run(rp, &tg, &out);
    if (rc == MC_EDIVERGE)
        return rr_fail(err, errlen, rc, "the replay diverged from the recording: %s", rp->why);
    if (rc < 0) return rr_fail(err, errlen, rc, "replay failed: %s", mc_strerror(rc));
    return MC_OK;
}

void rr_position(rr_replay *rp, char *buf, size_t len)
{
    uint64_t v = board_vtime(rp->b);
    snprintf(buf, len, "i:%llu (%llu.%06llu ms)", (unsigned long long)board_steps(rp->b),
             (unsigned long long)(v / 1000000), (unsigned long long)(v % 1000000));
}

int rr_uart(rr_replay *rp, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    uint8_t *p;
    size_t n;
    int rc = rr_load_uart(rp->f, rp->tx_off, &p, &n, err, errlen);
    if (rc < 0) return rc;
    uint8_t *q = realloc(p, n + rp->txlen + 1);
    if (!q) {
        free(p);
        return MC_ENOMEM;
    }
    if (rp->txlen) memcpy(q + n, rp->tx, rp->txlen);
    *buf = q;
    *len = n + rp->txlen;
    return MC_OK;
}
