/*
 * test_db.c - unit tests of the event index (db/db.h): the segment writer
 * and db_build on synthetic events (syscall pairing across segments, IRQ
 * chains with their trap, page_heat summed over segments, uart order,
 * mode samples, the index marker), the read-only query runner's three
 * formats and its refusals, and the kernel facts read from the corpus
 * vmlinux (syscall names from sys_call_table, task_struct via DWARF).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "db.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "%s/test_db.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

/* A stand-in recording: a SQLite file with the meta table. */
static void make_mrr(const char *p)
{
    sqlite3 *db;
    remove(p);
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                                  "INSERT INTO meta VALUES('format_version', '1')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

static obs_event ev(obs_kind k, uint64_t icount, unsigned hart)
{
    obs_event e;
    memset(&e, 0, sizeof(e));
    e.kind = (uint8_t)k;
    e.icount = icount;
    e.vtime = icount * 2;
    e.hart = (uint8_t)hart;
    return e;
}

static obs_event ecall_u(uint64_t icount, uint64_t task, uint64_t nr)
{
    obs_event e = ev(OBS_TRAP, icount, 0);
    e.a = 0;
    e.b = 1;
    e.v[0] = 8;
    e.v[4] = task; /* sscratch */
    e.v[6] = nr;
    e.v[7] = 100 + nr;
    return e;
}

static obs_event sret_u(uint64_t icount, uint64_t task, uint64_t ret)
{
    obs_event e = ev(OBS_TRET, icount, 0);
    e.a = 1;
    e.b = 0;
    e.v[1] = ret;
    e.v[3] = task;
    return e;
}

static obs_event plic(uint64_t icount, unsigned op, unsigned src, unsigned ctx)
{
    obs_event e = ev(OBS_PLIC, icount, ctx / 2);
    e.aux = op;
    e.v[0] = src;
    e.v[1] = ctx;
    return e;
}

static int64_t one(const char *p, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    int64_t v = INT64_MIN;
    assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void write_segment(const char *p, const obs_event *e, size_t n)
{
    db_writer *w;
    char err[256] = "";
    assert_int_equal(db_writer_open(&w, p, NULL, NULL, err, sizeof(err)), MC_OK);
    assert_int_equal(db_writer_drain(w, e, n), MC_OK);
    uint64_t rows = 0;
    assert_int_equal(db_writer_close(w, &rows, err, sizeof(err)), MC_OK);
    assert_true(rows > 0);
}

static void test_db__build_pairs_across_segments(void **state)
{
    (void)state;
    char s0[300], s1[300], mrr[300];
    path(s0, sizeof(s0), "s0.db");
    path(s1, sizeof(s1), "s1.db");
    path(mrr, sizeof(mrr), "run.mrr");
    make_mrr(mrr);
    obs_event a[16], b[16];
    size_t na = 0, nb = 0;
    a[na++] = ecall_u(10, 0xaaa0, 173); /* returns in segment 0 */
    a[na++] = sret_u(30, 0xaaa0, 5);
    a[na++] = ecall_u(40, 0xbbb0, 63);         /* returns in segment 1 */
    a[na++] = sret_u(45, 0xcccc, 0);           /* a return that ends no call */
    a[na++] = plic(50, OBS_PLIC_RAISE, 10, 0); /* assert in 0, the rest in 1 */
    a[na] = ev(OBS_UART, 60, 0);
    a[na++].v[0] = 'h';
    a[na] = ev(OBS_TLB, 61, 0);
    a[na++].v[0] = 0x80001000;
    a[na] = ev(OBS_MODE, 100, 0);
    a[na].v[0] = 40, a[na].v[1] = 50, a[na].v[2] = 10, a[na].v[4] = 0;
    na++;
    obs_event t = ev(OBS_TRAP, 120, 0); /* the external interrupt */
    t.v[0] = (1ull << 63) | 9;
    t.a = 0;
    t.b = 1;
    b[nb++] = t;
    b[nb++] = plic(130, OBS_PLIC_CLAIM, 10, 1);
    b[nb++] = plic(140, OBS_PLIC_COMPLETE, 10, 1);
    b[nb++] = sret_u(150, 0xbbb0, 64);
    b[nb] = ev(OBS_UART, 160, 0);
    b[nb++].v[0] = 'i';
    b[nb] = ev(OBS_TLB, 161, 0);
    b[nb].aux = 1;
    b[nb++].v[0] = 0x80001000;
    b[nb] = ev(OBS_MODE, 200, 0);
    b[nb].v[0] = 100, b[nb].v[3] = 7, b[nb].v[4] = 100;
    nb++;
    write_segment(s0, a, na);
    write_segment(s1, b, nb);
    const char *segs[2] = {s0, s1};
    char err[256] = "";
    assert_false(db_indexed(mrr));
    assert_int_equal(db_build(mrr, segs, 2, NULL, "test", err, sizeof(err)), MC_OK);
    assert_true(db_indexed(mrr));
    assert_int_equal(one(mrr, "SELECT count(*) FROM syscall"), 2);
    assert_int_equal(one(mrr, "SELECT exit_icount FROM syscall WHERE nr = 173"), 30);
    assert_int_equal(one(mrr, "SELECT ret FROM syscall WHERE nr = 173"), 5);
    assert_int_equal(one(mrr, "SELECT latency_ns FROM syscall WHERE nr = 173"), 40);
    assert_int_equal(one(mrr, "SELECT a0 FROM syscall WHERE nr = 173"), 273);
    assert_int_equal(one(mrr, "SELECT exit_icount FROM syscall WHERE nr = 63"), 150);
    assert_int_equal(one(mrr, "SELECT ret FROM syscall WHERE nr = 63"), 64);
    assert_int_equal(one(mrr, "SELECT count(*) FROM irq"), 1);
    assert_int_equal(one(mrr, "SELECT assert_icount FROM irq"), 50);
    assert_int_equal(one(mrr, "SELECT trap_icount FROM irq"), 120);
    assert_int_equal(one(mrr, "SELECT claim_icount FROM irq"), 130);
    assert_int_equal(one(mrr, "SELECT complete_icount FROM irq"), 140);
    assert_int_equal(one(mrr, "SELECT hart FROM irq"), 0);
    assert_int_equal(one(mrr, "SELECT count(*) FROM irq WHERE device = 'uart'"), 1);
    assert_int_equal(one(mrr, "SELECT group_concat(char(byte), '') = 'hi' FROM uart"), 1);
    assert_int_equal(one(mrr, "SELECT refills FROM page_heat WHERE page = 2147487744"), 2);
    assert_int_equal(one(mrr, "SELECT write_refills FROM page_heat"), 1);
    assert_int_equal(one(mrr, "SELECT sum(u + s + m) FROM mode_sample"), 200);
    assert_int_equal(one(mrr, "SELECT sum(idle_ns) FROM mode_sample"), 7);
    assert_int_equal(one(mrr, "SELECT count(*) FROM trap"), 3);
    /* rebuilding replaces, never appends */
    assert_int_equal(db_build(mrr, segs, 2, NULL, "again", err, sizeof(err)), MC_OK);
    assert_int_equal(one(mrr, "SELECT count(*) FROM trap"), 3);
    /* a missing segment fails with a reason and leaves no index */
    const char *bad[2] = {s0, "/nonexistent/dir/seg.db"};
    assert_true(db_build(mrr, bad, 2, NULL, "x", err, sizeof(err)) < 0);
    assert_true(strlen(err) > 0);
    assert_false(db_indexed(mrr));
}

static char *query(const char *p, const char *sql, db_format f, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    char err[256] = "";
    *rc = db_query(p, sql, f, out, err, sizeof(err));
    fclose(out);
    return buf;
}

static void test_db__query_formats_and_read_only(void **state)
{
    (void)state;
    char p[300];
    path(p, sizeof(p), "q.db");
    sqlite3 *db;
    remove(p);
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE t(a INTEGER, b TEXT);"
                                  "INSERT INTO t VALUES(1, 'x'), (22, 'a,\"b\"'), (NULL, 'z')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    int rc;
    char *s = query(p, "SELECT a, b FROM t ORDER BY rowid", DB_CSV, &rc);
    assert_int_equal(rc, MC_OK);
    assert_string_equal(s, "a,b\n1,x\n22,\"a,\"\"b\"\"\"\n,z\n");
    free(s);
    s = query(p, "SELECT a, b FROM t ORDER BY rowid", DB_JSON, &rc);
    assert_int_equal(rc, MC_OK);
    assert_non_null(strstr(s, "\"a\": 22"));
    assert_non_null(strstr(s, "\"a\": null"));
    assert_non_null(strstr(s, "\"b\": \"a,\\\"b\\\"\""));
    free(s);
    s = query(p, "SELECT a FROM t WHERE a = 22", DB_TABLE, &rc);
    assert_int_equal(rc, MC_OK);
    assert_string_equal(s, "a \n--\n22\n(1 row)\n");
    free(s);
    s = query(p, "DELETE FROM t", DB_TABLE, &rc);
    assert_int_equal(rc, MC_EDB); /* read-only */
    free(s);
    s = query(p, "SELECT 1; SELECT 2", DB_TABLE, &rc);
    assert_int_equal(rc, MC_EINVAL);
    free(s);
    s = query(p, "SELEC 1", DB_TABLE, &rc);
    assert_int_equal(rc, MC_EDB);
    free(s);
    assert_int_equal(one(p, "SELECT count(*) FROM t"), 3);
}

static void test_db__kernel_from_vmlinux(void **state)
{
    (void)state;
    const char *v = MACHINA_CORPUS_DIR "/vmlinux";
    db_kernel *k;
    char err[512] = "";
    int rc = db_kernel_open(&k, v, NULL, err, sizeof(err));
    if (rc < 0) fail_msg("db_kernel_open: %s", err);
    assert_true(db_kernel_nsyscalls(k) > 400);
    /* riscv64 uses the generic table (include/uapi/asm-generic/unistd.h) */
    assert_string_equal(db_kernel_syscall_name(k, 63), "read");
    assert_string_equal(db_kernel_syscall_name(k, 64), "write");
    assert_string_equal(db_kernel_syscall_name(k, 173), "getppid");
    assert_string_equal(db_kernel_syscall_name(k, 93), "exit");
    assert_null(db_kernel_syscall_name(k, 100000));
    assert_true(db_kernel_switch_to(k) >> 32 == 0xffffffff);
    db_kernel_free(k);
    /* not a vmlinux: one clear reason */
    char notelf[300];
    path(notelf, sizeof(notelf), "notelf");
    FILE *f = fopen(notelf, "w");
    assert_non_null(f);
    fputs("hello", f);
    fclose(f);
    err[0] = 0;
    assert_true(db_kernel_open(&k, notelf, "", err, sizeof(err)) < 0);
    assert_true(strlen(err) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db__build_pairs_across_segments),
        cmocka_unit_test(test_db__query_formats_and_read_only),
        cmocka_unit_test(test_db__kernel_from_vmlinux),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
