/*
 * cli_index.c - `index` and `sql` (see cli_index.h).
 *
 * index: the run is cut at its checkpoints into segments; segment k
 * replays from checkpoint k to checkpoint k+1 (the last one to the end)
 * with the observation hooks on, into its own segment database. --jobs N
 * forks N workers that take contiguous ranges of segments (a worker
 * replays its range continuously, restoring only its first checkpoint);
 * every segment starts its observation afresh at its checkpoint, so the
 * rows do not depend on N. The parent merges the segments in order
 * (db_build). Workers report each finished segment on a pipe; the parent
 * draws a progress bar when stderr is a terminal.
 *
 * The replay layer's segment primitives (rr_replay_restore, rr_replay_run
 * with a checkpoint target) are in rr.h.
 */
#include "cli_index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "obs.h"
#include "rr.h"

#define EXIT_BAD   1
#define EXIT_USAGE 2

const char cli_index_usage[] =
    "  index [--jobs N] [--force]\n"
    "            replay with the observation hooks on and fill the event tables\n"
    "            (trap, syscall, ctxsw, irq, mmio, uart, mode_sample, page_heat,\n"
    "            page_fault) in the recording; segments between checkpoints run in\n"
    "            N parallel processes; a no-op when already indexed unless --force\n"
    "  sql \"SELECT ...\" [--csv|--json]\n"
    "            one read-only SQL statement over the recording (after index)\n";

int cli_index_find(int argc, char **argv)
{
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--at") || !strcmp(a, "--vmlinux") || !strcmp(a, "-vmlinux")) {
            i++;
            continue;
        }
        if (a[0] == '-' && a[1]) continue;
        if (++pos == 2) return !strcmp(a, "index") || !strcmp(a, "sql") ? i : 0;
    }
    return 0;
}

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr, "machina-replay: %s%s%s (try --help)\n", msg, arg ? " " : "", arg ? arg : "");
    return EXIT_USAGE;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- sql ---------------------------------------------------------------------------- */

static int cmd_sql(const char *path, const char *sql, db_format fmt)
{
    char err[1024] = "";
    if (!db_indexed(path))
        fprintf(stderr, "machina-replay: %s: not indexed yet (run `machina-replay %s index`)\n",
                path, path);
    int rc = db_query(path, sql, fmt, stdout, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "machina-replay: %s: %s\n", path, *err ? err : mc_strerror(rc));
        return rc == MC_EDB || rc == MC_EINVAL ? EXIT_USAGE : EXIT_BAD;
    }
    return 0;
}

/* ---- index: one worker ------------------------------------------------------------------ */

typedef struct job {
    const char *path, *dir;
    const db_kernel *k; /* NULL: no vmlinux (workers inherit it across fork) */
    size_t nseg;
    const rr_ckpt_info *ck;
    int progress_fd; /* -1: in-process (progress through the callback) */
    void (*progress)(void *ctx);
    void *pctx;
    uint64_t events, rows, dropped;
} job;

static void seg_path(char *buf, size_t len, const char *dir, size_t k)
{
    snprintf(buf, len, "%s/seg%06zu.db", dir, k);
}

/* Replays segments [lo, hi) into their databases. */
static int run_segments(job *j, size_t lo, size_t hi, char *err, size_t errlen)
{
    rr_file *f = NULL;
    rr_replay *rp = NULL;
    const db_kernel *k = j->k;
    int rc = rr_open(&f, j->path, err, errlen);
    if (rc < 0) return rc;
    if ((rc = rr_replay_new(&rp, f, err, errlen)) < 0) goto done;
    /* every checkpoint's state hash is checked: the hooks change nothing */
    rr_replay_mode mode = {.check_hashes = true, .perturb = false};
    rr_replay_set_mode(rp, &mode);
    for (size_t s = lo; s < hi; s++) {
        if (s == lo && (rc = rr_replay_restore(rp, s, err, errlen)) < 0) goto done;
        board_t *b = rr_replay_board(rp);
        char p[4096];
        seg_path(p, sizeof(p), j->dir, s);
        db_writer *w = NULL;
        obs_t *o = NULL;
        if ((rc = db_writer_open(&w, p, k, b, err, errlen)) < 0) goto done;
        obs_config oc = {.mask = 0,
                         .ring = 4096,
                         .drain = db_writer_drain,
                         .ctx = w,
                         .drain_mask = OBS_BIT(OBS_BP)};
        if ((rc = obs_new(&o, &oc)) < 0) {
            if (db_writer_close(w, NULL, NULL, 0) < 0) { /* the obs failure wins */
            }
            goto done;
        }
        db_writer_set_obs(w, o);
        board_set_obs(b, o);
        obs_restart(o, board_steps(b), board_vtime(b));
        if (k && !db_kernel_loaded(k, b)) {
            snprintf(err, errlen,
                     "the recording's vmlinux is not the kernel it ran "
                     "(__switch_to's code differs)");
            rc = MC_EFORMAT;
        } else if (k) {
            uint64_t pa =
                db_kernel_image_pa(k, db_kernel_switch_to(k), board_get_layout(b)->kernel_entry);
            if ((rc = obs_add_bp(o, pa)) < 0) snprintf(err, errlen, "cannot break on __switch_to");
        }
        board_outcome out;
        rr_target t = {UINT64_MAX, UINT64_MAX, s + 1 < j->nseg ? s + 1 : UINT64_MAX};
        if (rc == MC_OK) {
            rc = rr_replay_run(rp, &t, &out);
            if (rc == MC_EDIVERGE)
                snprintf(err, errlen, "the replay diverged from the recording: %s",
                         rr_replay_divergence(rp, NULL));
            else if (rc < 0)
                snprintf(err, errlen, "replay failed: %s", mc_strerror(rc));
        }
        int frc = obs_flush(o);
        board_set_obs(b, NULL);
        j->events += obs_emitted(o);
        j->dropped += obs_dropped(o);
        obs_free(o);
        uint64_t rows = 0;
        char werr[512] = "";
        int wrc = db_writer_close(w, &rows, werr, sizeof(werr));
        j->rows += rows;
        if (rc == MC_OK && wrc < 0) {
            rc = wrc;
            snprintf(err, errlen, "segment %zu: %s", s, werr);
        }
        if (rc == MC_OK && frc < 0) {
            rc = frc;
            snprintf(err, errlen, "segment %zu: events could not be written", s);
        }
        if (rc < 0) goto done;
        if (j->progress_fd >= 0) {
            char c = 1;
            if (write(j->progress_fd, &c, 1) < 0) { /* the parent went away: go on */
            }
        } else if (j->progress) {
            j->progress(j->pctx);
        }
    }
done:
    rr_replay_free(rp);
    rr_close(f);
    return rc;
}

/* ---- index: the parent ------------------------------------------------------------------ */

typedef struct bar {
    bool tty;
    size_t done, total;
} bar;

static void bar_draw(void *ctx)
{
    bar *b = ctx;
    b->done++;
    if (!b->tty) return;
    int w = 40, fill = b->total ? (int)(w * b->done / b->total) : w;
    fprintf(stderr, "\rindexing [%.*s%*s] %zu/%zu segments", fill,
            "########################################", w - fill, "", b->done, b->total);
    if (b->done == b->total) fputc('\n', stderr);
    fflush(stderr);
}

static int write_file(const char *p, const void *data, size_t len)
{
    FILE *fp = fopen(p, "wb");
    if (!fp) return MC_EIO;
    size_t n = fwrite(data, 1, len, fp);
    return fclose(fp) == 0 && n == len ? MC_OK : MC_EIO;
}

static void rm_dir(const char *dir, size_t nseg, const char *vmlinux)
{
    char p[4096];
    for (size_t k = 0; k < nseg; k++) {
        seg_path(p, sizeof(p), dir, k);
        remove(p);
    }
    if (vmlinux) remove(vmlinux);
    rmdir(dir);
}

static int cmd_index(const char *path, unsigned jobs, bool force)
{
    char err[1024] = "";
    if (!force && db_indexed(path)) {
        printf("%s: already indexed (use --force to index again)\n", path);
        return 0;
    }
    rr_file *f = NULL;
    int rc = rr_open(&f, path, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "machina-replay: %s: %s\n", path, *err ? err : mc_strerror(rc));
        return rc == MC_EIO ? EXIT_USAGE : EXIT_BAD;
    }
    int status = EXIT_BAD;
    const rr_ckpt_info *ck;
    size_t nck = 0;
    char dir[4096] = "", vml[4200] = "";
    char **segs = NULL;
    db_kernel *k = NULL;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/machina-index-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if ((rc = rr_checkpoints(f, &ck, &nck)) < 0 || nck == 0) {
        fprintf(stderr, "machina-replay: %s: no checkpoints\n", path);
        rr_close(f);
        return EXIT_BAD;
    }
    if (!mkdtemp(dir)) {
        fprintf(stderr, "machina-replay: cannot create a temporary folder %s: %s\n", dir,
                strerror(errno));
        rr_close(f);
        return EXIT_BAD;
    }
    double t0 = now_s();
    uint8_t *img = NULL;
    size_t isz = 0;
    rc = rr_image(f, "vmlinux", &img, &isz, err, sizeof(err));
    if (rc == MC_OK) {
        snprintf(vml, sizeof(vml), "%s/vmlinux", dir);
        rc = write_file(vml, img, isz);
        free(img);
        if (rc == MC_OK) rc = db_kernel_open(&k, vml, NULL, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "machina-replay: %s: vmlinux: %s\n", path,
                    *err ? err : mc_strerror(rc));
            goto done;
        }
    } else if (rc == MC_ENOENT) {
        fprintf(stderr,
                "machina-replay: %s: no vmlinux in the recording: no pids, syscall names "
                "or context switches\n",
                path);
    } else {
        fprintf(stderr, "machina-replay: %s: %s\n", path, err);
        goto done;
    }
    size_t nseg = nck;
    if (jobs > nseg) jobs = (unsigned)nseg;
    job j = {.path = path, .dir = dir, .k = k, .nseg = nseg, .ck = ck, .progress_fd = -1};
    bar pb = {.tty = isatty(2), .total = nseg};
    if (jobs <= 1) {
        j.progress = bar_draw;
        j.pctx = &pb;
        if ((rc = run_segments(&j, 0, nseg, err, sizeof(err))) < 0) {
            if (pb.tty) fputc('\n', stderr);
            fprintf(stderr, "machina-replay: %s: %s\n", path, *err ? err : mc_strerror(rc));
            goto done;
        }
    } else {
        int pfd[2];
        if (pipe(pfd) < 0) {
            fprintf(stderr, "machina-replay: pipe: %s\n", strerror(errno));
            goto done;
        }
        /* workers report counts through a small file each */
        pid_t pids[64];
        unsigned nw = jobs > 64 ? 64 : jobs;
        fflush(NULL);
        for (unsigned w = 0; w < nw; w++) {
            size_t lo = nseg * w / nw, hi = nseg * (w + 1) / nw;
            pid_t p = fork();
            if (p < 0) {
                fprintf(stderr, "machina-replay: fork: %s\n", strerror(errno));
                nw = w;
                break;
            }
            if (p == 0) {
                close(pfd[0]);
                j.progress_fd = pfd[1];
                char e[1024] = "";
                int r = run_segments(&j, lo, hi, e, sizeof(e));
                if (r < 0)
                    fprintf(stderr, "\nmachina-replay: %s: %s\n", path, *e ? e : mc_strerror(r));
                char cp[4200];
                snprintf(cp, sizeof(cp), "%s/counts%u", dir, w);
                FILE *fp = fopen(cp, "w");
                if (fp) {
                    fprintf(fp, "%llu %llu %llu\n", (unsigned long long)j.events,
                            (unsigned long long)j.rows, (unsigned long long)j.dropped);
                    fclose(fp);
                }
                _exit(r < 0 ? 1 : 0);
            }
            pids[w] = p;
        }
        close(pfd[1]);
        char c;
        while (read(pfd[0], &c, 1) == 1)
            bar_draw(&pb);
        close(pfd[0]);
        bool ok = nw == jobs;
        for (unsigned w = 0; w < nw; w++) {
            int ws;
            if (waitpid(pids[w], &ws, 0) < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) ok = false;
            char cp[4200];
            snprintf(cp, sizeof(cp), "%s/counts%u", dir, w);
            FILE *fp = fopen(cp, "r");
            unsigned long long e = 0, r = 0, d = 0;
            if (fp) {
                if (fscanf(fp, "%llu %llu %llu", &e, &r, &d) != 3) ok = false;
                fclose(fp);
            } else {
                ok = false;
            }
            remove(cp);
            j.events += e;
            j.rows += r;
            j.dropped += d;
        }
        if (!ok) {
            if (pb.tty && pb.done != pb.total) fputc('\n', stderr);
            fprintf(stderr, "machina-replay: %s: an index worker failed\n", path);
            goto done;
        }
    }
    double t1 = now_s();
    if (!(segs = calloc(nseg, sizeof(char *)))) goto done;
    for (size_t s = 0; s < nseg; s++) {
        char p[4096];
        seg_path(p, sizeof(p), dir, s);
        if (!(segs[s] = strdup(p))) goto done;
    }
    uint64_t end_steps = rr_get_info(f)->end_steps;
    char summary[512];
    snprintf(summary, sizeof(summary),
             "%zu segments, %u jobs, %llu events, %llu rows, %llu dropped, replay %.3f s, "
             "%llu steps",
             nseg, jobs ? jobs : 1, (unsigned long long)j.events, (unsigned long long)j.rows,
             (unsigned long long)j.dropped, t1 - t0, (unsigned long long)end_steps);
    rr_close(f);
    f = NULL;
    if ((rc = db_build(path, (const char *const *)segs, nseg, k, summary, err, sizeof(err))) < 0) {
        fprintf(stderr, "machina-replay: %s: %s\n", path, *err ? err : mc_strerror(rc));
        goto done;
    }
    double t2 = now_s();
    printf("indexed %s: %llu steps in %zu segments with %u job(s): %llu events, %llu rows "
           "(%.2f s replay, %.2f s merge)\n",
           path, (unsigned long long)end_steps, nseg, jobs ? jobs : 1, (unsigned long long)j.events,
           (unsigned long long)j.rows, t1 - t0, t2 - t1);
    if (j.dropped) {
        fprintf(stderr, "machina-replay: %s: %llu events were dropped\n", path,
                (unsigned long long)j.dropped);
        goto done;
    }
    status = 0;
done:
    if (segs)
        for (size_t s = 0; s < nck; s++)
            free(segs[s]);
    free(segs);
    db_kernel_free(k);
    rm_dir(dir, nck, *vml ? vml : NULL);
    rr_close(f);
    return status;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

int cli_index_main(int argc, char **argv, int cmd_pos)
{
    const char *path = NULL, *sql = NULL, *cmd = argv[cmd_pos];
    bool index = !strcmp(cmd, "index"), force = false;
    unsigned jobs = 1;
    db_format fmt = DB_TABLE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i == cmd_pos) continue;
        if (index && !strcmp(a, "--jobs")) {
            char *end;
            if (i + 1 >= argc) return usage("--jobs: missing count", NULL);
            unsigned long n = strtoul(argv[++i], &end, 10);
            if (*end || n < 1 || n > 64) return usage("--jobs: expected 1..64, got", argv[i]);
            jobs = (unsigned)n;
        } else if (index && !strcmp(a, "--force")) {
            force = true;
        } else if (!index && !strcmp(a, "--csv")) {
            fmt = DB_CSV;
        } else if (!index && !strcmp(a, "--json")) {
            fmt = DB_JSON;
        } else if (a[0] == '-' && a[1]) {
            return usage(index ? "index: unknown option" : "sql: unknown option", a);
        } else if (!path) {
            path = a;
        } else if (!index && !sql) {
            sql = a;
        } else {
            return usage("unexpected argument", a);
        }
    }
    if (!path) return usage("expected RUN.mrr", NULL);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "machina-replay: %s: %s\n", path, strerror(errno));
        return EXIT_USAGE;
    }
    if (index) return cmd_index(path, jobs, force);
    if (!sql)
        return usage("sql: expected a statement, e.g. \"SELECT * FROM syscall LIMIT 5\"", NULL);
    return cmd_sql(path, sql, fmt);
}
