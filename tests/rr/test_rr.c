/*
 * test_rr.c - record and replay of a bare-metal program with scripted
 * console input: the recording replays and verifies (1 and 2 harts),
 * seeks are exact and independent of the checkpoint they start from and
 * match a live run stopped at the same instant, the console transcript,
 * the input perturbation makes verify fail and name the first divergent
 * point, a recorder killed with SIGKILL leaves a replayable file, and
 * damaged files (truncated, flipped checkpoint bytes, format 999) give
 * clear errors.
 *
 * The guest (RV64IMA, M-mode, raw at 0x80000000, -bios none):
 *   _start: li s0,0x10000000; li s1,0x80100000; li s2,0; li s3,0; li s4,0
 *   loop:   lbu t0,5(s0); andi t0,t0,1; beqz t0,work      # UART LSR.DR
 *           lbu t1,0(s0); sb t1,0(s0)                     # echo
 *           li t2,31; mul s2,s2,t2; add s2,s2,t1          # checksum
 *           andi t2,s3,63; slli t2,t2,12; add t2,t2,s1; sd s2,0(t2)
 *           addi s3,s3,1; li t3,'q'; beq t1,t3,done; j loop
 *   work:   li t4,2000; addi s4,s4,1; andi t5,s4,31; slli t5,t5,12
 *           add t5,t5,s1; li t6,0x40000; add t5,t5,t6
 *   1:      sd s4,8(t5); addi t4,t4,-1; bnez t4,1b        # dirty a page
 *           li t4,0x200bff8; ld t5,0(t4); addi t5,t5,370  # mtime + 37 us
 *           li t4,0x2004000; slli t6,a0,3; add t4,t4,t6; sd t5,0(t4)
 *           li t6,0x80; csrw mie,t6; wfi; j loop          # wait (idle)
 *   done:   li t0,0x100000; li t1,0x5555; sw t1,0(t0)     # poweroff
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "board.h"
#include "rr.h"
#include "rr_int.h" /* rr_load_checkpoint: the stored snapshots themselves */
#include "snap.h"

static const uint32_t prog[] = {
    0x10000437, 0x000014b7, 0x8014849b, 0x01449493, 0x00000913, 0x00000993, 0x00000a13, 0x00544283,
    0x0012f293, 0x02028c63, 0x00044303, 0x00640023, 0x01f00393, 0x02790933, 0x00690933, 0x03f9f393,
    0x00c39393, 0x009383b3, 0x0123b023, 0x00198993, 0x07100e13, 0x07c30063, 0xfc5ff06f, 0x7d000e93,
    0x001a0a13, 0x01fa7f13, 0x00cf1f13, 0x009f0f33, 0x00040fb7, 0x01ff0f33, 0x014f3423, 0xfffe8e93,
    0xfe0e9ce3, 0x0200ceb7, 0xff8e8e9b, 0x000ebf03, 0x172f0f13, 0x02004eb7, 0x00351f93, 0x01fe8eb3,
    0x01eeb023, 0x08000f93, 0x304f9073, 0x10500073, 0xf6dff06f, 0x001002b7, 0x00005337, 0x5553031b,
    0x0062a023, 0x0000006f,
};

static const char script[] = "hello, machina\nq";
#define GAP_NS 100000ull /* byte k arrives at (k + 1) * GAP_NS of virtual time */

/* The "live" host: input bytes that arrive at fixed virtual instants (as
 * a terminal would, through idle wake-ups too), output captured. */
typedef struct live {
    board_t *b;
    const char *in;
    size_t next, len;
    char out[4096];
    size_t outlen;
    uint64_t snap_at; /* live_round: a FULL snapshot at the first round */
    uint8_t *snap;    /*   boundary at or after snap_at steps, then stop */
    size_t snaplen;
} live;

static uint64_t arrival(const live *l)
{
    return l->next < l->len ? (l->next + 1) * GAP_NS : UINT64_MAX;
}

static void live_tx(void *ctx, uint8_t byte)
{
    live *l = ctx;
    if (l->outlen < sizeof(l->out)) l->out[l->outlen++] = (char)byte;
}

static int live_rx(void *ctx)
{
    live *l = ctx;
    if (l->next < l->len && board_vtime(l->b) >= arrival(l)) return (uint8_t)l->in[l->next++];
    return -1;
}

static uint64_t live_idle(void *ctx, uint64_t now, uint64_t next)
{
    live *l = ctx;
    uint64_t a = arrival(l);
    return a > now && a < next ? a : next;
}

static void live_round(void *ctx, uint64_t vtime)
{
    (void)vtime;
    live *l = ctx;
    if (l->snap || board_steps(l->b) < l->snap_at) return;
    assert_int_equal(snap_save(l->b, SNAP_FULL, NULL, &l->snap, &l->snaplen), MC_OK);
    board_request_stop(l->b);
}

static board_host live_host(live *l)
{
    memset(l, 0, sizeof(*l));
    l->in = script;
    l->len = strlen(script);
    board_host h = {.ctx = l, .uart_tx = live_tx, .uart_rx = live_rx, .idle = live_idle};
    return h;
}

static void config(board_config *cfg, unsigned nharts)
{
    board_config_default(cfg);
    cfg->nharts = nharts;
    cfg->ram_size = 8u << 20;
    cfg->kernel = (const uint8_t *)prog;
    cfg->kernel_size = sizeof(prog);
}

static char dir[64];

static const char *tmp(const char *name)
{
    static char buf[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
    return buf[k];
}

/* Records the program on nharts into path; returns the live transcript. */
static void record(const char *path, unsigned nharts, uint64_t every, unsigned full, live *l,
                   rr_rec_stats *st)
{
    board_config cfg;
    config(&cfg, nharts);
    board_host h = live_host(l);
    rr_rec_opts o = {.checkpoint_every = every,
                     .full_every = full,
                     .until_ns = UINT64_MAX,
                     .until_steps = UINT64_MAX,
                     .emulator = "machina test"};
    rr_rec *r;
    char err[256];
    assert_int_equal(rr_rec_open(&r, path, &cfg, &h, &o, err, sizeof(err)), MC_OK);
    l->b = rr_rec_board(r);
    board_outcome out;
    assert_int_equal(rr_rec_run(r, &out, err, sizeof(err)), MC_OK);
    assert_int_equal(out.stop, BOARD_STOP_POWEROFF);
    if (st) rr_rec_get_stats(r, st);
    rr_rec_free(r);
}

static uint64_t seek_hash(rr_replay *rp, const char *at, uint64_t from_ck)
{
    rr_instant t;
    char err[512];
    assert_int_equal(rr_parse_instant(at, &t), MC_OK);
    t.from_ck = from_ck;
    int rc = rr_seek(rp, &t, err, sizeof(err));
    if (rc) fprintf(stderr, "seek %s: %s\n", at, err);
    assert_int_equal(rc, MC_OK);
    return snap_hash(rr_replay_board(rp));
}

/* The full/delta choice in the file follows the policy: checkpoint 0
 * full; later a full exactly when the deltas since the last full add up
 * to its size or number full - 1. Returns how many fulls came early. */
static unsigned check_full_policy(const char *path, unsigned full)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT kind, raw_size FROM checkpoint ORDER BY seq", -1, &st, NULL),
        SQLITE_OK);
    uint64_t full_raw = 0, chain_raw = 0;
    unsigned chain = 0, n = 0, early = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        bool is_full = !strcmp((const char *)sqlite3_column_text(st, 0), "full");
        uint64_t raw = (uint64_t)sqlite3_column_int64(st, 1);
        bool want = n == 0 || chain + 1 >= full || chain_raw >= full_raw;
        assert_int_equal(is_full, want);
        if (is_full && n && chain + 1 < full) early++;
        if (is_full) {
            full_raw = raw;
            chain_raw = chain = 0;
        } else {
            chain_raw += raw;
            chain++;
        }
        n++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return early;
}

static void test_rr__record_replay_verify(void **state)
{
    (void)state;
    for (unsigned nh = 1; nh <= 2; nh++) {
        live l;
        rr_rec_stats st;
        const char *path = tmp(nh == 1 ? "one.mrr" : "two.mrr");
        record(path, nh, 30000, 4, &l, &st);
        assert_true(st.checkpoints >= 6);
        assert_true(st.full >= 2 && st.delta >= 4);
        check_full_policy(path, 4);
        if (nh == 1) { /* a cap out of reach: the deltas' size decides */
            live l2;
            rr_rec_stats st2;
            record(tmp("bytes.mrr"), 1, 5000, 1000, &l2, &st2);
            assert_true(check_full_policy(tmp("bytes.mrr"), 1000) >= 1);
            assert_true(st2.delta > st2.full);
        }
        assert_non_null(memmem(l.out, l.outlen, "hello, machina\nq", 16));
        rr_file *f;
        char err[512];
        assert_int_equal(rr_open(&f, path, err, sizeof(err)), MC_OK);
        const rr_info *in = rr_get_info(f);
        assert_true(in->complete);
        assert_int_equal(in->nharts, nh);
        assert_int_equal(in->end_stop, BOARD_STOP_POWEROFF);
        assert_int_equal(in->uart_bytes, l.outlen);
        assert_int_equal(in->ncheckpoints, st.checkpoints);
        /* every byte, plus idle wake-ups that came early */
        assert_true(in->ninputs > strlen(script));
        rr_verify_result *res = calloc(1, sizeof(*res));
        assert_int_equal(rr_verify(f, res, err, sizeof(err)), MC_OK);
        if (!res->ok) fprintf(stderr, "%s", res->report);
        assert_true(res->ok);
        assert_int_equal(res->checked, in->ncheckpoints);
        assert_non_null(strstr(res->report, "verify: OK"));
        free(res);
        /* the replayed console equals the live one */
        rr_replay *rp;
        assert_int_equal(rr_replay_new(&rp, f, err, sizeof(err)), MC_OK);
        assert_int_equal(seek_hash(rp, "end", UINT64_MAX), in->end_hash);
        uint8_t *tx;
        size_t txlen;
        assert_int_equal(rr_uart(rp, &tx, &txlen, err, sizeof(err)), MC_OK);
        assert_int_equal(txlen, l.outlen);
        assert_memory_equal(tx, l.out, txlen);
        free(tx);
        rr_replay_free(rp);
        rr_close(f);
    }
}

/* A live run (no recorder) stopped at exactly `steps`. */
static uint64_t live_hash_at(uint64_t steps, size_t *outlen)
{
    board_config cfg;
    config(&cfg, 1);
    live l;
    board_host h = live_host(&l);
    board_t *b;
    assert_int_equal(board_new(&b, &cfg, &h, NULL, 0), MC_OK);
    l.b = b;
    board_outcome out;
    assert_int_equal(board_run(b, UINT64_MAX, steps, &out), MC_OK);
    assert_int_equal(board_steps(b), steps);
    uint64_t hash = snap_hash(b);
    *outlen = l.outlen;
    board_free(b);
    return hash;
}

/* Records 1 hart with a checkpoint every 30000 steps, opens the file. */
static rr_file *record_open(const char *path, unsigned full, live *l, const rr_ckpt_info **ck,
                            size_t *nck)
{
    record(path, 1, 30000, full, l, NULL);
    rr_file *f;
    char err[512];
    assert_int_equal(rr_open(&f, path, err, sizeof(err)), MC_OK);
    assert_int_equal(rr_checkpoints(f, ck, nck), MC_OK);
    return f;
}

/* The writer takes the full snapshots (checkpoint 0 included) from its
 * shadow board, which only ever sees the emulation thread's deltas: each
 * must be, byte for byte, the snapshot of the live machine at its
 * instant. */
static void test_rr__fulls_are_the_live_machines(void **state)
{
    (void)state;
    live l;
    const rr_ckpt_info *ck;
    size_t nck;
    rr_file *f = record_open(tmp("fulls.mrr"), 3, &l, &ck, &nck);
    char err[512];
    unsigned fulls = 0;
    for (size_t k = 0; k < nck; k++) {
        if (ck[k].kind != SNAP_FULL) continue;
        uint8_t *stored, *mine;
        size_t slen, mlen;
        assert_int_equal(rr_load_checkpoint(f, k, &stored, &slen, err, sizeof(err)), MC_OK);
        board_config cfg;
        config(&cfg, 1);
        live l2;
        board_host h = live_host(&l2);
        h.round = live_round; /* the recorder's checkpoints are round boundaries */
        l2.snap_at = ck[k].steps;
        board_t *b;
        assert_int_equal(board_new(&b, &cfg, &h, NULL, 0), MC_OK);
        l2.b = b;
        if (ck[k].steps) {
            board_outcome out;
            assert_int_equal(board_run(b, UINT64_MAX, UINT64_MAX, &out), MC_OK);
            assert_non_null(l2.snap);
        } else { /* power-on */
            assert_int_equal(snap_save(b, SNAP_FULL, NULL, &l2.snap, &l2.snaplen), MC_OK);
        }
        mine = l2.snap;
        mlen = l2.snaplen;
        assert_int_equal(board_steps(b), ck[k].steps);
        assert_int_equal(board_vtime(b), ck[k].vtime);
        assert_int_equal(mlen, slen);
        assert_memory_equal(mine, stored, slen);
        free(mine);
        free(stored);
        board_free(b);
        fulls++;
    }
    assert_true(fulls >= 3);
    rr_close(f);
}

static void test_rr__seek(void **state)
{
    (void)state;
    live l;
    const rr_ckpt_info *ck;
    size_t nck;
    rr_file *f = record_open(tmp("seek.mrr"), 4, &l, &ck, &nck);
    char err[512];
    rr_replay *rp;
    assert_int_equal(rr_replay_new(&rp, f, err, sizeof(err)), MC_OK);
    /* instants inside segments, on a checkpoint, one after one */
    uint64_t targets[] = {
        1, 12345, ck[2].steps, ck[2].steps + 1, ck[5].steps - 7, rr_get_info(f)->end_steps - 3};
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        char at[32];
        snprintf(at, sizeof(at), "i:%llu", (unsigned long long)targets[i]);
        uint64_t h1 = seek_hash(rp, at, UINT64_MAX);
        assert_int_equal(board_steps(rr_replay_board(rp)), targets[i]);
        char pos[64];
        rr_position(rp, pos, sizeof(pos));
        assert_int_equal(strncmp(pos, at, strlen(at)), 0);
        assert_int_equal(seek_hash(rp, at, UINT64_MAX), h1); /* twice */
        assert_int_equal(seek_hash(rp, at, 0), h1);          /* from power-on */
        if (targets[i] > ck[1].steps) assert_int_equal(seek_hash(rp, at, 1), h1);
        /* the same as the live machine stopped there */
        size_t live_out;
        assert_int_equal(live_hash_at(targets[i], &live_out), h1);
        uint8_t *tx;
        size_t txlen;
        seek_hash(rp, at, UINT64_MAX);
        assert_int_equal(rr_uart(rp, &tx, &txlen, err, sizeof(err)), MC_OK);
        assert_int_equal(txlen, live_out);
        free(tx);
    }
    /* times: the first round boundary at or after T, from any checkpoint */
    const char *times[] = {"250us", "0.5ms", "1ms"};
    for (size_t i = 0; i < 3; i++) {
        uint64_t h1 = seek_hash(rp, times[i], UINT64_MAX);
        uint64_t ns, steps;
        assert_int_equal(board_parse_instant(times[i], &ns, &steps), MC_OK);
        uint64_t v = board_vtime(rr_replay_board(rp));
        assert_true(v >= ns || hart_is_waiting(board_hart(rr_replay_board(rp), 0)));
        assert_true(v < ns + 100000);
        assert_int_equal(seek_hash(rp, times[i], 0), h1);
        assert_int_equal(seek_hash(rp, times[i], UINT64_MAX), h1);
    }
    /* past the end is the end */
    assert_int_equal(seek_hash(rp, "i:999999999999", UINT64_MAX), rr_get_info(f)->end_hash);
    assert_int_equal(seek_hash(rp, "100s", UINT64_MAX), rr_get_info(f)->end_hash);
    rr_instant t;
    assert_int_equal(rr_parse_instant("soon", &t), MC_EINVAL);
    rr_replay_free(rp);
    rr_close(f);
}

static void test_rr__perturbed_verify_names_divergence(void **state)
{
    (void)state;
    live l;
    const char *path = tmp("perturb.mrr");
    record(path, 1, 30000, 4, &l, NULL);
    rr_file *f;
    char err[512];
    assert_int_equal(rr_open(&f, path, err, sizeof(err)), MC_OK);
    /* the 5th UART byte ('o' of "hello") */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT seq, icount FROM input WHERE source='uart_rx'"
                                        " ORDER BY seq LIMIT 1 OFFSET 4",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long seq = sqlite3_column_int64(st, 0), at = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    char v[32];
    snprintf(v, sizeof(v), "%lld", seq);
    setenv("MACHINA_RR_PERTURB", v, 1);
    rr_verify_result *res = calloc(1, sizeof(*res));
    int rc = rr_verify(f, res, err, sizeof(err));
    unsetenv("MACHINA_RR_PERTURB");
    assert_int_equal(rc, MC_OK);
    fprintf(stderr, "%s", res->report);
    assert_false(res->ok);
    assert_non_null(strstr(res->report, "verify: DIVERGED"));
    assert_non_null(strstr(res->report, "MACHINA_RR_PERTURB: input #"));
    /* the first checkpoint after the input, with the checksum register named */
    const rr_ckpt_info *ck;
    size_t nck, k = 0;
    assert_int_equal(rr_checkpoints(f, &ck, &nck), MC_OK);
    while (ck[k].steps <= (uint64_t)at)
        k++;
    assert_int_equal(res->diverged_at, k);
    char want[64];
    snprintf(want, sizeof(want), "checkpoint %zu at i:%llu", k, (unsigned long long)ck[k].steps);
    assert_non_null(strstr(res->report, want));
    assert_non_null(strstr(res->report, "hart0 x18 (s2)"));
    assert_non_null(strstr(res->report, "reproduces the recording"));
    /* the first divergent step is the injection of the flipped byte */
    assert_int_equal(res->first_step, (uint64_t)at + 1);
    assert_non_null(strstr(res->report, "uart device state differs"));
    free(res);
    /* without the switch the same file verifies */
    res = calloc(1, sizeof(*res));
    assert_int_equal(rr_verify(f, res, err, sizeof(err)), MC_OK);
    assert_true(res->ok);
    free(res);
    rr_close(f);
}

static void test_rr__killed_recorder_leaves_valid_file(void **state)
{
    (void)state;
    const char *path = tmp("killed.mrr");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        board_config cfg;
        config(&cfg, 1);
        rr_rec_opts o = {.checkpoint_every = 20000,
                         .full_every = 3,
                         .until_ns = UINT64_MAX,
                         .until_steps = UINT64_MAX};
        rr_rec *r;
        /* no input at all: the program never powers off */
        if (rr_rec_open(&r, path, &cfg, NULL, &o, NULL, 0) < 0) _exit(1);
        board_outcome out;
        if (rr_rec_run(r, &out, NULL, 0) < 0) _exit(1);
        _exit(2);
    }
    usleep(700000);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    rr_file *f;
    char err[512];
    int rc = rr_open(&f, path, err, sizeof(err));
    if (rc) fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, MC_OK);
    const rr_info *in = rr_get_info(f);
    assert_false(in->complete);
    assert_true(in->ncheckpoints >= 3);
    rr_verify_result *res = calloc(1, sizeof(*res));
    assert_int_equal(rr_verify(f, res, err, sizeof(err)), MC_OK);
    if (!res->ok) fprintf(stderr, "%s", res->report);
    assert_true(res->ok);
    assert_int_equal(res->checked, in->ncheckpoints);
    free(res);
    rr_replay *rp;
    assert_int_equal(rr_replay_new(&rp, f, err, sizeof(err)), MC_OK);
    const rr_ckpt_info *ck;
    size_t nck;
    assert_int_equal(rr_checkpoints(f, &ck, &nck), MC_OK);
    assert_int_equal(seek_hash(rp, "end", UINT64_MAX), ck[nck - 1].hash);
    rr_replay_free(rp);
    rr_close(f);
}

static void copy(const char *from, const char *to)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

static void sql(const char *path, const char *stmt)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_rr__damaged_files(void **state)
{
    (void)state;
    live l;
    char good[128];
    snprintf(good, sizeof(good), "%s", tmp("good.mrr"));
    record(good, 1, 30000, 4, &l, NULL);
    rr_file *f;
    char err[512];

    /* missing */
    assert_int_equal(rr_open(&f, tmp("nonexistent.mrr"), err, sizeof(err)), MC_EIO);
    assert_non_null(strstr(err, "No such file"));
    /* not a database */
    FILE *fp = fopen(tmp("junk.mrr"), "w");
    fputs("this is not a recording\n", fp);
    fclose(fp);
    assert_int_equal(rr_open(&f, tmp("junk.mrr"), err, sizeof(err)), MC_ECORRUPT);

    /* a newer format */
    copy(good, tmp("v999.mrr"));
    sql(tmp("v999.mrr"), "UPDATE meta SET value='999' WHERE key='format_version'");
    assert_int_equal(rr_open(&f, tmp("v999.mrr"), err, sizeof(err)), MC_EVERSION);
    assert_non_null(strstr(err, "format version 999 is newer"));

    /* a flipped byte inside checkpoint 2's blob */
    copy(good, tmp("flip.mrr"));
    sql(tmp("flip.mrr"), "UPDATE checkpoint SET data = substr(data, 1, 300) ||"
                         " (CASE WHEN substr(data, 301, 1) = x'00' THEN x'01' ELSE x'00' END) ||"
                         " substr(data, 302) WHERE seq = 2");
    assert_int_equal(rr_open(&f, tmp("flip.mrr"), err, sizeof(err)), MC_OK);
    rr_replay *rp;
    assert_int_equal(rr_replay_new(&rp, f, err, sizeof(err)), MC_OK);
    const rr_ckpt_info *ck;
    size_t nck;
    assert_int_equal(rr_checkpoints(f, &ck, &nck), MC_OK);
    uint64_t ck1 = ck[1].steps;
    rr_instant t;
    char at[32];
    snprintf(at, sizeof(at), "i:%llu", (unsigned long long)ck[2].steps + 10);
    assert_int_equal(rr_parse_instant(at, &t), MC_OK);
    assert_int_equal(rr_seek(rp, &t, err, sizeof(err)), MC_ECORRUPT);
    assert_non_null(strstr(err, "checkpoint 2"));
    assert_non_null(strstr(err, "corrupt"));
    /* other instants still work */
    seek_hash(rp, "i:100", UINT64_MAX);
    rr_replay_free(rp);
    rr_close(f);

    /* a checkpoint row whose hash was changed: restore notices */
    copy(good, tmp("hash.mrr"));
    sql(tmp("hash.mrr"), "UPDATE checkpoint SET state_hash='0123456789abcdef' WHERE seq = 1");
    assert_int_equal(rr_open(&f, tmp("hash.mrr"), err, sizeof(err)), MC_OK);
    assert_int_equal(rr_replay_new(&rp, f, err, sizeof(err)), MC_OK);
    snprintf(at, sizeof(at), "i:%llu", (unsigned long long)ck1 + 10);
    assert_int_equal(rr_parse_instant(at, &t), MC_OK);
    assert_int_equal(rr_seek(rp, &t, err, sizeof(err)), MC_ECORRUPT);
    assert_non_null(strstr(err, "checkpoint 1"));
    rr_verify_result *res = calloc(1, sizeof(*res));
    assert_int_equal(rr_verify(f, res, err, sizeof(err)), MC_OK);
    assert_false(res->ok);
    assert_int_equal(res->diverged_at, 1);
    free(res);
    rr_replay_free(rp);
    rr_close(f);

    /* truncated at several lengths: an error, never a crash */
    FILE *in = fopen(good, "rb");
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    char *data = malloc((size_t)size);
    fseek(in, 0, SEEK_SET);
    assert_int_equal(fread(data, 1, (size_t)size, in), (size_t)size);
    fclose(in);
    long cuts[] = {100, 4096, size / 3, size / 2, size - 4096, size - 1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        const char *p = tmp("cut.mrr");
        FILE *o = fopen(p, "wb");
        fwrite(data, 1, (size_t)cuts[i], o);
        fclose(o);
        int rc = rr_open(&f, p, err, sizeof(err));
        if (rc == MC_OK) { /* the damage is past what open reads: replay may find it */
            err[0] = 0;
            rc = rr_replay_new(&rp, f, err, sizeof(err));
            if (rc == MC_OK) {
                assert_int_equal(rr_parse_instant("end", &t), MC_OK);
                rc = rr_seek(rp, &t, err, sizeof(err));
                rr_replay_free(rp);
            }
            if (rc < 0) assert_true(strlen(err) > 10);
            rr_close(f);
        } else {
            assert_true(rc == MC_ECORRUPT || rc == MC_EDB);
            assert_true(strlen(err) > 10);
        }
        unlink(p);
    }
    free(data);
}

/* Every segment replayed from its own restored checkpoint reaches the
 * next one's hash (DESIGN.md section 4); MACHINA_RR_START moves the start
 * of a seek without changing its answer; verify catches a damaged
 * checkpoint blob before replaying. */
static void test_rr__segments_and_start_checkpoint(void **state)
{
    (void)state;
    for (unsigned nh = 1; nh <= 2; nh++) {
        live l;
        const char *path = tmp("seg.mrr");
        record(path, nh, 20000, 3, &l, NULL);
        rr_file *f;
        char err[512];
        assert_int_equal(rr_open(&f, path, err, sizeof(err)), MC_OK);
        const rr_info *in = rr_get_info(f);
        assert_true(in->ncheckpoints >= 6);
        rr_verify_result *res = calloc(1, sizeof(*res));
        assert_int_equal(rr_verify_segments(f, res, err, sizeof(err)), MC_OK);
        if (!res->ok) fprintf(stderr, "%s", res->report);
        assert_true(res->ok);
        assert_int_equal(res->checked, in->ncheckpoints); /* and the end */
        assert_non_null(strstr(res->report, "verify: OK"));

        const rr_ckpt_info *ck;
        size_t nck;
        assert_int_equal(rr_checkpoints(f, &ck, &nck), MC_OK);
        char at[32];
        snprintf(at, sizeof(at), "i:%llu", (unsigned long long)(ck[nck - 2].steps + 777));
        rr_replay *rp;
        assert_int_equal(rr_replay_new(&rp, f, err, sizeof(err)), MC_OK);
        uint64_t h = seek_hash(rp, at, UINT64_MAX);
        rr_replay_free(rp);
        setenv("MACHINA_RR_START", "1", 1);
        assert_int_equal(rr_replay_new(&rp, f, err, sizeof(err)), MC_OK);
        assert_int_equal(seek_hash(rp, at, UINT64_MAX), h);
        rr_replay_free(rp);
        setenv("MACHINA_RR_START", "999", 1);
        assert_int_equal(rr_replay_new(&rp, f, err, sizeof(err)), MC_EINVAL);
        assert_non_null(strstr(err, "no such checkpoint"));
        unsetenv("MACHINA_RR_START");
        rr_close(f);

        /* a flipped byte in checkpoint 2's blob */
        const char *bad = tmp("segbad.mrr");
        copy(path, bad);
        sql(bad, "UPDATE checkpoint SET data = substr(data, 1, 40) || "
                 "CASE WHEN substr(data, 41, 1) = X'00' THEN X'01' ELSE X'00' END || "
                 "substr(data, 42) WHERE seq = 2");
        assert_int_equal(rr_open(&f, bad, err, sizeof(err)), MC_OK);
        assert_int_equal(rr_verify(f, res, err, sizeof(err)), MC_OK);
        assert_false(res->ok);
        assert_non_null(strstr(res->report, "verify: DAMAGED: checkpoint 2"));
        assert_int_equal(rr_verify_segments(f, res, err, sizeof(err)), MC_ECORRUPT);
        assert_non_null(strstr(err, "checkpoint 2"));
        rr_close(f);
        free(res);
        unlink(bad);
        unlink(path);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_rr.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rr__record_replay_verify),
        cmocka_unit_test(test_rr__seek),
        cmocka_unit_test(test_rr__perturbed_verify_names_divergence),
        cmocka_unit_test(test_rr__fulls_are_the_live_machines),
        cmocka_unit_test(test_rr__killed_recorder_leaves_valid_file),
        cmocka_unit_test(test_rr__damaged_files),
        cmocka_unit_test(test_rr__segments_and_start_checkpoint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
