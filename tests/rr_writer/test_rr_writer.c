/*
 * test_rr_writer.c - the recorder's writer thread (replay/rr_writer.c):
 * batches are committed in order, each in one transaction, with their
 * inputs, console chunks, images and compressed snapshots intact; a queue
 * holding more than its byte bound makes the producer wait instead of
 * dropping anything; snapshot buffers come back for reuse; a failing
 * batch is reported with SQLite's reason and nothing after it is written.
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

#include "rr_int.h"

#define RAW (64u << 20) /* 9 of these exceed the queue's 512 MiB bound */

static char path[64];

static sqlite3 *fresh_db(void)
{
    snprintf(path, sizeof(path), "/tmp/test_rr_writer.%d.mrr", (int)getpid());
    sqlite3 *db = NULL;
    char err[256];
    assert_int_equal(rr_db_create(&db, path, err, sizeof(err)), MC_OK);
    return db;
}

static void drop_db(sqlite3 *db)
{
    sqlite3_close(db);
    char side[80];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(side, sizeof(side), "%s%s", path, suffix[i]);
        unlink(side);
    }
}

static int64_t one(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Batch k: inputs 2k and 2k+1, a console chunk "k", checkpoint k whose
 * snapshot is RAW bytes of the value k. */
static void make_batch(rr_writer *w, rr_batch *b, unsigned k)
{
    memset(b, 0, sizeof(*b));
    b->inputs = malloc(2 * sizeof(rr_input_ent));
    assert_non_null(b->inputs);
    for (unsigned i = 0; i < 2; i++)
        b->inputs[i] = (rr_input_ent){100 * k + i, 1000 * k + i, 0, RR_SRC_UART_RX, 'a' + k};
    b->ninputs = 2;
    b->input_seq = 2 * k;
    b->tx = malloc(1);
    b->tx[0] = (uint8_t)('0' + k % 10);
    b->txlen = 1;
    b->tx_chunk = k;
    b->tx_off = k;
    b->tx_icount = 100 * k;
    b->raw = rr_writer_buffer(w, &b->rawcap);
    if (!b->raw || b->rawcap < RAW) {
        free(b->raw);
        b->raw = malloc(RAW);
        b->rawcap = RAW;
    }
    assert_non_null(b->raw);
    memset(b->raw, (int)k, RAW);
    b->rawlen = RAW;
    b->ck = true;
    b->seq = k;
    b->hash = 0x1234 + k;
    b->at = (snap_point){100 * k, 1000 * k};
    b->full = k % 4 == 0;
    b->ninputs_at = 2 * k + 2;
    b->tx_off_at = k + 1;
}

static void test_rr_writer__order_bound_and_reuse(void **state)
{
    (void)state;
    sqlite3 *db = fresh_db();
    rr_writer *w;
    assert_int_equal(rr_writer_start(&w, db, NULL, 0), MC_OK);
    enum { N = 12 };
    unsigned reused = 0;
    for (unsigned k = 0; k < N; k++) {
        rr_batch b;
        make_batch(w, &b, k);
        if (b.rawcap == RAW && k > 0) reused++;
        assert_int_equal(rr_writer_submit(w, &b), MC_OK);
        assert_null(b.raw); /* the writer's now */
    }
    rr_batch img;
    memset(&img, 0, sizeof(img));
    strcpy(img.image_name, "vmlinux");
    img.image = malloc(5);
    memcpy(img.image, "ELF!!", 5);
    img.image_size = 5;
    assert_int_equal(rr_writer_submit(w, &img), MC_OK);
    rr_writer_stats st;
    char why[256] = "";
    assert_int_equal(rr_writer_finish(w, &st, why, sizeof(why)), MC_OK);
    assert_int_equal(st.batches, N + 1);
    assert_true(st.full_raw + st.delta_raw == (uint64_t)N * RAW);
    assert_true(st.full_bytes > 0 && st.full_bytes < st.full_raw / 100); /* LZ4 of one byte */
    assert_int_equal(one(db, "SELECT count(*) FROM checkpoint"), N);
    assert_int_equal(one(db, "SELECT count(*) FROM input"), 2 * N);
    /* more than the queue's bound went through (12 x 64 MiB > 512 MiB)
     * and every row keeps the order and values it was given */
    assert_int_equal(one(db, "SELECT count(*) FROM input WHERE icount = 100 * (seq / 2) + seq % 2 "
                             "AND value = 97 + seq / 2"),
                     2 * N);
    assert_int_equal(one(db, "SELECT count(*) FROM uart_tx WHERE off = seq AND icount = 100 * seq "
                             "AND CAST(data AS TEXT) = CAST(seq % 10 AS TEXT)"),
                     N);
    assert_int_equal(one(db, "SELECT count(*) FROM checkpoint WHERE kind = 'full'"), 3);
    assert_int_equal(one(db, "SELECT count(*) FROM image WHERE name = 'vmlinux' AND size = 5"), 1);
    /* blobs are written in place into a zeroblob row: the bytes arrive */
    sqlite3_stmt *qi;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT data FROM image WHERE name = 'vmlinux'", -1, &qi, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(qi), SQLITE_ROW);
    uint8_t *got = NULL;
    assert_int_equal(
        rr_lz4_unpack(sqlite3_column_blob(qi, 0), (size_t)sqlite3_column_bytes(qi, 0), 5, &got),
        MC_OK);
    assert_memory_equal(got, "ELF!!", 5);
    free(got);
    sqlite3_finalize(qi);
    /* a stored snapshot unpacks to what was handed over */
    sqlite3_stmt *q;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT raw_size, data FROM checkpoint WHERE seq = 7", -1, &q, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(q, 0), RAW);
    uint8_t *buf = NULL;
    assert_int_equal(
        rr_lz4_unpack(sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1), RAW, &buf),
        MC_OK);
    assert_int_equal(buf[0], 7);
    assert_int_equal(buf[RAW - 1], 7);
    free(buf);
    sqlite3_finalize(q);
    assert_true(reused > 0); /* snapshot buffers came back */
    drop_db(db);
}

static void test_rr_writer__failure_is_reported_and_stops_writing(void **state)
{
    (void)state;
    sqlite3 *db = fresh_db();
    rr_writer *w;
    assert_int_equal(rr_writer_start(&w, db, NULL, 0), MC_OK);
    rr_batch b;
    make_batch(w, &b, 1);
    assert_int_equal(rr_writer_submit(w, &b), MC_OK);
    make_batch(w, &b, 1); /* checkpoint 1 again: the primary key refuses it */
    b.input_seq = 2;
    rr_writer_submit(w, &b);
    assert_int_equal(rr_writer_sync(w), MC_EDB);
    char why[256] = "";
    assert_int_equal(rr_writer_error(w, why, sizeof(why)), MC_EDB);
    assert_non_null(strstr(why, "UNIQUE constraint failed"));
    make_batch(w, &b, 2); /* refused and freed: the file keeps its last good state */
    assert_int_equal(rr_writer_submit(w, &b), MC_EDB);
    assert_int_equal(rr_writer_finish(w, NULL, why, sizeof(why)), MC_EDB);
    assert_int_equal(one(db, "SELECT count(*) FROM checkpoint"), 1);
    assert_int_equal(one(db, "SELECT count(*) FROM input"), 2); /* the failed batch rolled back */
    drop_db(db);
}

/* A full disk (here: a page limit) while a blob is written in place is
 * reported with SQLite's reason, and what was committed before stays. */
static void test_rr_writer__full_disk_is_reported(void **state)
{
    (void)state;
    sqlite3 *db = fresh_db();
    rr_writer *w;
    assert_int_equal(rr_writer_start(&w, db, NULL, 0), MC_OK);
    rr_batch b;
    make_batch(w, &b, 0);
    assert_int_equal(rr_writer_submit(w, &b), MC_OK);
    assert_int_equal(rr_writer_sync(w), MC_OK);
    /* the next snapshot is incompressible: it cannot fit in 8 more pages */
    char *e = NULL;
    assert_int_equal(sqlite3_exec(db, "PRAGMA max_page_count = 40", NULL, NULL, &e), SQLITE_OK);
    make_batch(w, &b, 1);
    for (size_t i = 0; i < RAW; i += 8) {
        uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull;
        memcpy(b.raw + i, &x, 8);
    }
    rr_writer_submit(w, &b);
    assert_int_equal(rr_writer_sync(w), MC_EDB);
    char why[256] = "";
    assert_int_equal(rr_writer_finish(w, NULL, why, sizeof(why)), MC_EDB);
    assert_non_null(strstr(why, "full"));
    assert_int_equal(one(db, "SELECT count(*) FROM checkpoint"), 1);
    drop_db(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rr_writer__order_bound_and_reuse),
        cmocka_unit_test(test_rr_writer__failure_is_reported_and_stops_writing),
        cmocka_unit_test(test_rr_writer__full_disk_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
