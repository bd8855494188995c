/*
 * rr_verify.c - verify a recording: replay it from power-on, compare the
 * hash at every checkpoint, the end state and the console transcript.
 *
 * On the first mismatch the report names:
 *  1. the first divergent checkpoint K (or input, or the end) and why;
 *  2. the components that differ there: the live replay against the
 *     recorded checkpoint K restored into a second machine (snap_diff:
 *     hart registers by name, CSRs, devices, RAM pages);
 *  3. the first divergent step: there are no recorded states between
 *     checkpoints, so the segment is re-recorded. A reference machine R
 *     restores checkpoint K-1 and replays the log exactly as recorded (no
 *     perturbation); if R reaches K's recorded hash, R is a faithful copy
 *     of the recording between K-1 and K. The suspect S restores K-1 and
 *     replays as the full replay did. Bisecting on the step count t (both
 *     re-run from K-1 to exactly t) finds the first t where their states
 *     differ, or where S stops following the input log; the report names
 *     the components that differ at t. When R and S never differ, the
 *     segment from K-1 does reproduce the recording, so the divergence came
 *     from state that the checkpoint restore does not carry over (e.g. host
 *     caches), which the report says.
 *  MACHINA_RR_PERTURB=N (test only) flips bit 0 of input N (a UART byte)
 *  in the full replay and in S, never in R.
 *
 * Before replaying, verify checks the file itself: SQLite's quick_check,
 * every image against its SHA-256 (vmlinux too, which a replay does not
 * load) and every checkpoint blob against its LZ4 checksums, so that a
 * recording that would fail a later seek does not pass; such damage is
 * reported as "verify: DAMAGED: ..." (res->ok false).
 *
 * rr_verify_segments checks the other half of DESIGN.md section 4: every
 * segment replayed from its own restored checkpoint (not from the run
 * before it) must reach the next checkpoint's recorded hash, and the last
 * one the end state. A replay from power-on that passes while a segment
 * fails means a checkpoint does not carry (or a restore does not reset)
 * some state the run depends on, e.g. a host cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rr_int.h"

static void add(rr_verify_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(rr_verify_result *res, const char *fmt, ...)
{
    size_t n = strlen(res->report);
    if (n + 2 >= sizeof(res->report)) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->report + n, sizeof(res->report) - n, fmt, ap);
    va_end(ap);
    n = strlen(res->report);
    if (n + 1 < sizeof(res->report)) {
        res->report[n] = '\n';
        res->report[n + 1] = 0;
    }
}

/* Appends a multi-line diff, each line indented. */
static void add_lines(rr_verify_result *res, const char *text)
{
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        add(res, "    %.*s", (int)len, text);
        text += len + (nl != NULL);
    }
}

/* Restores checkpoint `from` into rp and runs it to exactly `steps`
 * steps or, with steps UINT64_MAX, to checkpoint at_ck (the end when
 * at_ck >= the checkpoint count). *followed: it got there on the log. */
static int probe(rr_replay *rp, uint64_t from, uint64_t steps, uint64_t at_ck, bool *followed,
                 char *err, size_t errlen)
{
    int rc = rr_replay_restore(rp, from, err, errlen);
    if (rc < 0) return rc;
    board_outcome out;
    rr_target t = {steps, UINT64_MAX, at_ck};
    rc = rr_replay_run(rp, &t, &out);
    if (rc < 0 && rc != MC_EDIVERGE) return rr_fail(err, errlen, rc, "%s", mc_strerror(rc));
    *followed = rc == MC_OK;
    return MC_OK;
}

static bool differ(rr_replay *R, bool ok_r, rr_replay *S, bool ok_s)
{
    return ok_r != ok_s || snap_hash(rr_replay_board(R)) != snap_hash(rr_replay_board(S));
}

/* Bisects the first step after checkpoint k-1 where R and S differ. */
static int narrow(rr_file *f, uint64_t k, rr_verify_result *res, char *err, size_t errlen)
{
    const rr_ckpt_info *ck = f->ck;
    const rr_info *in = rr_get_info(f);
    rr_replay *R = NULL, *S = NULL;
    char *diff = malloc(4096);
    int rc = MC_ENOMEM;
    if (!diff) goto done;
    if ((rc = rr_replay_new(&R, f, err, errlen)) < 0 ||
        (rc = rr_replay_new(&S, f, err, errlen)) < 0)
        goto done;
    rr_replay_mode mr = {.check_hashes = false, .perturb = false};
    rr_replay_mode ms = {.check_hashes = false, .perturb = true};
    rr_replay_set_mode(R, &mr);
    rr_replay_set_mode(S, &ms);
    uint64_t from = k - 1, lo = ck[from].steps;
    uint64_t hi = k < f->nck ? ck[k].steps : in->end_steps;
    uint64_t want = k < f->nck ? ck[k].hash : in->end_hash;
    bool ok_r, ok_s;

    /* Does the segment reproduce the recording without perturbation? */
    if ((rc = probe(R, from, UINT64_MAX, k, &ok_r, err, errlen)) < 0) goto done;
    uint64_t hr = snap_hash(rr_replay_board(R));
    bool repro = ok_r && hr == want;
    if (repro)
        add(res, "  re-recording from checkpoint %llu (i:%llu) reproduces the recording up to %s",
            (unsigned long long)from, (unsigned long long)lo,
            k < f->nck ? "the next checkpoint" : "the end");
    else if (ok_r)
        add(res,
            "  re-recording from checkpoint %llu does not reproduce %s either (hash %016llx, "
            "recorded %016llx): the recording is inconsistent with this build (a corrupt "
            "checkpoint row, or another emulator version)",
            (unsigned long long)from, k < f->nck ? "the next checkpoint" : "the end",
            (unsigned long long)hr, (unsigned long long)want);
    else
        add(res, "  re-recording from checkpoint %llu leaves the input log too: %s",
            (unsigned long long)from, rr_replay_divergence(R, NULL));
    if ((rc = probe(S, from, UINT64_MAX, k, &ok_s, err, errlen)) < 0) goto done;
    if (!differ(R, ok_r, S, ok_s)) {
        if (repro)
            add(res,
                "  replaying that segment from checkpoint %llu reproduces it, the replay from "
                "power-on does not: the difference comes from state a checkpoint restore "
                "resets (host caches?) or from before checkpoint %llu",
                (unsigned long long)from, (unsigned long long)from);
        rc = MC_OK;
        goto done;
    }
    /* bisect: equal at lo, different at hi (hi_ck: hi is the boundary state) */
    bool hi_ck = true;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if ((rc = probe(R, from, mid, UINT64_MAX, &ok_r, err, errlen)) < 0 ||
            (rc = probe(S, from, mid, UINT64_MAX, &ok_s, err, errlen)) < 0)
            goto done;
        if (differ(R, ok_r, S, ok_s)) {
            hi = mid;
            hi_ck = false;
        } else {
            lo = mid;
        }
    }
    uint64_t at = hi_ck ? k : UINT64_MAX, st = hi_ck ? UINT64_MAX : hi;
    if ((rc = probe(R, from, st, at, &ok_r, err, errlen)) < 0 ||
        (rc = probe(S, from, st, at, &ok_s, err, errlen)) < 0)
        goto done;
    board_t *bs = rr_replay_board(S);
    unsigned h = board_current_hart(bs);
    res->first_step = hi;
    add(res,
        "  first divergent step: i:%llu (the state after %llu steps differs; hart %u, "
        "pc %#llx)",
        (unsigned long long)hi, (unsigned long long)hi, h,
        (unsigned long long)hart_pc(board_hart(bs, h)));
    if (!ok_s)
        add(res, "  there the replay stops following the input log: %s",
            rr_replay_divergence(S, NULL));
    int nd = snap_diff(rr_replay_board(R), bs, diff, 4096, 12);
    if (nd > 0) {
        add(res, "  differences at i:%llu (recording vs replay):", (unsigned long long)hi);
        add_lines(res, diff);
    }
    rc = MC_OK;
done:
    rr_replay_free(R);
    rr_replay_free(S);
    free(diff);
    return rc;
}

/* The file's own integrity; false (and the report) when damaged. */
static bool storage_ok(rr_file *f, rr_verify_result *res)
{
    sqlite3_stmt *st;
    char why[512] = "";
    if (sqlite3_prepare_v2(f->db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK) {
        add(res, "verify: DAMAGED: the database cannot be checked: %s", sqlite3_errmsg(f->db));
        return false;
    }
    int r = sqlite3_step(st);
    const char *txt = r == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    bool ok = txt && !strcmp(txt, "ok");
    if (!ok) snprintf(why, sizeof(why), "%s", txt ? txt : sqlite3_errmsg(f->db));
    sqlite3_finalize(st);
    if (!ok) {
        add(res, "verify: DAMAGED: the database fails SQLite's quick_check: %s", why);
        return false;
    }
    rr_image_info *imgs = NULL;
    size_t nimg = 0;
    if (rr_images(f, &imgs, &nimg, why, sizeof(why)) < 0) {
        add(res, "verify: DAMAGED: %s", why);
        return false;
    }
    for (size_t i = 0; i < nimg && ok; i++) {
        uint8_t *data = NULL;
        size_t size;
        if (rr_image(f, imgs[i].name, &data, &size, why, sizeof(why)) < 0) {
            add(res, "verify: DAMAGED: %s", why);
            ok = false;
        }
        free(data);
    }
    free(imgs);
    for (size_t k = 0; k < f->nck && ok; k++) {
        uint8_t *buf = NULL;
        size_t len;
        snap_header h;
        char sw[160];
        if (rr_load_checkpoint(f, k, &buf, &len, why, sizeof(why)) < 0) {
            add(res, "verify: DAMAGED: %s", why);
            ok = false;
        } else if (snap_check(buf, len, &h, sw, sizeof(sw)) < 0) {
            add(res, "verify: DAMAGED: checkpoint %zu (i:%llu) is corrupt: %s", k,
                (unsigned long long)f->ck[k].steps, sw);
            ok = false;
        }
        free(buf);
    }
    return ok;
}

int rr_verify(rr_file *f, rr_verify_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    res->diverged_at = res->first_step = UINT64_MAX;
    const rr_info *in = rr_get_info(f);
    rr_replay *rp = NULL, *rec = NULL;
    char *diff = NULL;
    if (!storage_ok(f, res)) return MC_OK;
    int rc = rr_replay_new(&rp, f, err, errlen);
    if (rc < 0) return rc;
    rr_replay_mode m = {.check_hashes = true, .perturb = true};
    rr_replay_set_mode(rp, &m);
    if ((rc = rr_replay_fresh(rp, err, errlen)) < 0) goto done;
    board_outcome out = {0};
    uint64_t dck;
    rr_replay_divergence(rp, &dck);
    if (dck == UINT64_MAX) {
        rr_target end = {UINT64_MAX, UINT64_MAX, UINT64_MAX};
        rc = rr_replay_run(rp, &end, &out);
        if (rc < 0 && rc != MC_EDIVERGE) {
            rr_fail(err, errlen, rc, "replay failed: %s", mc_strerror(rc));
            goto done;
        }
    }
    res->checked = rr_replay_checked(rp);
    const char *why = rr_replay_divergence(rp, &dck);
    board_t *b = rr_replay_board(rp);
    bool end_bad = false, uart_bad = false;
    size_t uart_at = 0;
    if (dck == UINT64_MAX && in->complete && snap_hash(b) != in->end_hash) end_bad = true;
    if (dck == UINT64_MAX && !end_bad) {
        uint8_t *stored = NULL;
        size_t slen, rlen;
        uint64_t off;
        const uint8_t *replayed = rr_replay_tx(rp, &rlen, &off);
        if ((rc = rr_load_uart(f, UINT64_MAX, &stored, &slen, err, errlen)) < 0) goto done;
        if (slen != rlen || (rlen && memcmp(stored, replayed, rlen) != 0)) {
            uart_bad = true;
            while (uart_at < slen && uart_at < rlen && stored[uart_at] == replayed[uart_at])
                uart_at++;
        }
        free(stored);
    }
    rc = MC_OK;
    if (dck == UINT64_MAX && !end_bad && !uart_bad) {
        res->ok = true;
        char pos[64];
        rr_position(rp, pos, sizeof(pos));
        add(res, "verify: OK: %llu checkpoints and the end state at %s match the recording",
            (unsigned long long)res->checked, pos);
        goto done;
    }

    /* the first divergent point */
    uint64_t k = dck != UINT64_MAX ? dck : f->nck; /* f->nck stands for the end */
    if (k > f->nck) k = f->nck;
    res->diverged_at = k;
    char pos[64];
    rr_position(rp, pos, sizeof(pos));
    if (end_bad)
        add(res,
            "verify: DIVERGED: every checkpoint matched but the end state at %s has hash "
            "%016llx, recorded %016llx",
            pos, (unsigned long long)snap_hash(b), (unsigned long long)in->end_hash);
    else if (uart_bad)
        add(res, "verify: DIVERGED: the console output differs from the recorded one at byte %zu",
            uart_at);
    else
        add(res, "verify: DIVERGED at %s: %s", pos, why);
    rr_input_ent pe;
    uint64_t pn = rr_replay_perturbed(rp, &pe);
    if (pn != UINT64_MAX)
        add(res, "  MACHINA_RR_PERTURB: input #%llu (uart_rx %#llx, flipped to %#llx) at i:%llu",
            (unsigned long long)pn, (unsigned long long)pe.value,
            (unsigned long long)(pe.value ^ 1), (unsigned long long)pe.steps);

    /* components: the live replay against the recorded checkpoint */
    const rr_ckpt_info *c = k < f->nck ? &f->ck[k] : NULL;
    if (c && board_steps(b) == c->steps && board_vtime(b) == c->vtime && k > 0) {
        char why2[512];
        if ((rc = rr_replay_new(&rec, f, err, errlen)) < 0) goto done;
        if (!(diff = malloc(4096))) {
            rc = MC_ENOMEM;
            goto done;
        }
        if (rr_replay_restore(rec, k, why2, sizeof(why2)) < 0)
            add(res, "  cannot compare with the recorded state: %s", why2);
        else if (snap_diff(rr_replay_board(rec), b, diff, 4096, 16) > 0) {
            add(res,
                "  differences at checkpoint %llu (recording vs replay):", (unsigned long long)k);
            add_lines(res, diff);
        }
    } else if (k == 0) {
        add(res, "  the power-on state differs: the images, device tree or emulator version "
                 "differ from the recording's");
        rc = MC_OK;
        goto done;
    }
    /* the first divergent step, between the last good checkpoint and here */
    rc = narrow(f, k, res, err, errlen);
done:
    rr_replay_free(rp);
    rr_replay_free(rec);
    free(diff);
    return rc;
}

int rr_verify_segments(rr_file *f, rr_verify_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    res->diverged_at = res->first_step = UINT64_MAX;
    const rr_info *in = rr_get_info(f);
    const rr_ckpt_info *ck = f->ck;
    rr_replay *rp = NULL;
    int rc = rr_replay_new(&rp, f, err, errlen);
    if (rc < 0) return rc;
    rr_replay_mode m = {.check_hashes = true, .perturb = true};
    rr_replay_set_mode(rp, &m);
    uint64_t nseg = in->complete ? f->nck : f->nck - 1, k;
    for (k = 0; k < nseg; k++) {
        bool last = k + 1 == f->nck;
        if ((rc = rr_replay_restore(rp, k, err, errlen)) < 0) goto done;
        board_outcome out;
        rr_target t = {UINT64_MAX, UINT64_MAX, last ? UINT64_MAX : k + 1};
        rc = rr_replay_run(rp, &t, &out);
        if (rc < 0 && rc != MC_EDIVERGE) {
            rr_fail(err, errlen, rc, "replay failed: %s", mc_strerror(rc));
            goto done;
        }
        char pos[64];
        rr_position(rp, pos, sizeof(pos));
        uint64_t h = snap_hash(rr_replay_board(rp));
        if (rc == MC_EDIVERGE) {
            add(res,
                "verify: DIVERGED in the segment replayed from checkpoint %llu (i:%llu), at %s: %s",
                (unsigned long long)k, (unsigned long long)ck[k].steps, pos,
                rr_replay_divergence(rp, NULL));
        } else if (last && h != in->end_hash) {
            add(res,
                "verify: DIVERGED: the segment replayed from checkpoint %llu (i:%llu) reaches the "
                "end at %s with hash %016llx, recorded %016llx",
                (unsigned long long)k, (unsigned long long)ck[k].steps, pos, (unsigned long long)h,
                (unsigned long long)in->end_hash);
        } else {
            res->checked++;
            continue;
        }
        res->diverged_at = k + 1;
        rc = narrow(f, k + 1, res, err, errlen);
        goto done;
    }
    res->ok = true;
    add(res,
        "verify: OK: %llu segments, each replayed from its own restored checkpoint, reach the "
        "recorded state of the next checkpoint%s",
        (unsigned long long)res->checked, in->complete ? " or of the end" : "");
    rc = MC_OK;
done:
    rr_replay_free(rp);
    return rc;
}
