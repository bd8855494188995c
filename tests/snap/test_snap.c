/*
 * test_snap.c - whole-machine snapshots: full and delta round trips give
 * the same board_state_hash, a machine restored from a snapshot runs on
 * exactly as the original, delta chains, the disk overlay, the component
 * breakdown and diff, and rejection of damaged snapshots (truncated,
 * flipped bytes, bad size fields, out-of-range pages, newer versions,
 * another machine) without crashing.
 *
 * The guest is a hand-assembled RV64IMA loop (sources in the comments)
 * loaded raw at 0x80000000 with no firmware.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include <cmocka.h>

#include "board.h"
#include "snap.h"

/* Busy loop writing rotating pages, timer waits (WFI), echo of UART input
 * into a checksum; 'q' powers off. Source: tests/rr/test_rr.c (same program). */
static const uint32_t prog[] = {
    0x10000437, 0x000014b7, 0x8014849b, 0x01449493, 0x00000913, 0x00000993, 0x00000a13, 0x00544283,
    0x0012f293, 0x02028c63, 0x00044303, 0x00640023, 0x01f00393, 0x02790933, 0x00690933, 0x03f9f393,
    0x00c39393, 0x009383b3, 0x0123b023, 0x00198993, 0x07100e13, 0x07c30063, 0xfc5ff06f, 0x7d000e93,
    0x001a0a13, 0x01fa7f13, 0x00cf1f13, 0x009f0f33, 0x00040fb7, 0x01ff0f33, 0x014f3423, 0xfffe8e93,
    0xfe0e9ce3, 0x0200ceb7, 0xff8e8e9b, 0x000ebf03, 0x172f0f13, 0x02004eb7, 0x00351f93, 0x01fe8eb3,
    0x01eeb023, 0x08000f93, 0x304f9073, 0x10500073, 0xf6dff06f, 0x001002b7, 0x00005337, 0x5553031b,
    0x0062a023, 0x0000006f,
};

typedef struct host {
    board_t *b;
    uint64_t stop_at; /* round boundary at or after these steps */
} host;

static void on_round(void *ctx, uint64_t vtime)
{
    host *h = ctx;
    (void)vtime;
    if (board_steps(h->b) >= h->stop_at) board_request_stop(h->b);
}

static uint8_t disk[64 * 512];

static board_t *new_board(host *h, unsigned nharts, bool drive)
{
    board_config cfg;
    board_config_default(&cfg);
    cfg.nharts = nharts;
    cfg.ram_size = 8u << 20;
    cfg.kernel = (const uint8_t *)prog;
    cfg.kernel_size = sizeof(prog);
    if (drive) {
        cfg.drive = disk;
        cfg.drive_size = sizeof(disk);
    }
    board_host hh = {.ctx = h, .round = on_round};
    board_t *b;
    char err[128];
    assert_int_equal(board_new(&b, &cfg, &hh, err, sizeof(err)), MC_OK);
    h->b = b;
    h->stop_at = UINT64_MAX;
    return b;
}

/* Runs b to the first round boundary at or after `steps`. */
static void run_to(host *h, uint64_t steps)
{
    board_outcome out;
    h->stop_at = steps;
    assert_int_equal(board_run(h->b, UINT64_MAX, UINT64_MAX, &out), MC_OK);
    assert_int_equal(out.stop, BOARD_STOP_REQUEST);
    assert_true(board_steps(h->b) >= steps);
}

static snap_point here(board_t *b)
{
    snap_point p = {board_steps(b), board_vtime(b)};
    return p;
}

static void test_snap__full_round_trip(void **state)
{
    (void)state;
    host ha, hb;
    board_t *a = new_board(&ha, 1, false), *b = new_board(&hb, 1, false);
    run_to(&ha, 50000);
    uint64_t h1 = snap_hash(a);
    uint8_t *buf;
    size_t len;
    assert_int_equal(snap_save(a, SNAP_FULL, NULL, &buf, &len), MC_OK);
    assert_int_equal(snap_hash(a), h1); /* saving does not change the state */
    snap_header hd;
    assert_int_equal(snap_peek(buf, len, &hd, NULL, 0), MC_OK);
    assert_int_equal(hd.kind, SNAP_FULL);
    assert_int_equal(hd.steps, board_steps(a));
    assert_true(hd.ram_pages == 0); /* peek does not count */
    assert_true(len < 200 * 4096);  /* zero pages are not stored */
    assert_int_not_equal(snap_hash(b), h1);
    char err[256];
    /* the seal covers every byte after the header */
    assert_int_equal(snap_check(buf, len, &hd, NULL, 0), MC_OK);
    buf[len - 1] ^= 1;
    assert_int_equal(snap_check(buf, len, &hd, err, sizeof(err)), MC_ECORRUPT);
    assert_non_null(strstr(err, "checksum"));
    buf[len - 1] ^= 1;
    assert_int_equal(snap_restore(b, buf, len, err, sizeof(err)), MC_OK);
    assert_int_equal(snap_hash(b), h1);
    /* both run on identically */
    run_to(&ha, 400000);
    run_to(&hb, 400000);
    assert_int_equal(board_steps(a), board_steps(b));
    assert_int_equal(snap_hash(a), snap_hash(b));
    /* restoring over a machine that ran on brings it back */
    assert_int_equal(snap_restore(a, buf, len, err, sizeof(err)), MC_OK);
    assert_int_equal(snap_hash(a), h1);
    free(buf);
    board_free(a);
    board_free(b);
}

static void test_snap__delta_chain(void **state)
{
    (void)state;
    host ha, hb, hc;
    board_t *a = new_board(&ha, 2, false), *b = new_board(&hb, 2, false);
    uint8_t *f, *d1, *d2;
    size_t fl, l1, l2;
    run_to(&ha, 300000); /* every rotating page written by now */
    snap_point p0 = here(a);
    uint64_t h0 = snap_hash(a);
    assert_int_equal(snap_save(a, SNAP_FULL, NULL, &f, &fl), MC_OK);
    run_to(&ha, 320000);
    snap_point p1 = here(a);
    uint64_t h1 = snap_hash(a);
    assert_int_equal(snap_save(a, SNAP_DELTA, &p0, &d1, &l1), MC_OK);
    run_to(&ha, 340000);
    uint64_t h2 = snap_hash(a);
    assert_int_equal(snap_save(a, SNAP_DELTA, &p1, &d2, &l2), MC_OK);
    assert_true(l1 < fl / 4 && l2 < fl / 4); /* only dirty pages */
    snap_header hd;
    assert_int_equal(snap_peek(d2, l2, &hd, NULL, 0), MC_OK);
    assert_int_equal(hd.kind, SNAP_DELTA);
    assert_int_equal(hd.base_steps, p1.steps);

    char err[256];
    /* a delta on the wrong base is refused, the machine untouched */
    uint64_t hb0 = snap_hash(b);
    assert_int_equal(snap_restore(b, d1, l1, err, sizeof(err)), MC_ECORRUPT);
    assert_non_null(strstr(err, "delta"));
    assert_int_equal(snap_hash(b), hb0);
    assert_int_equal(snap_restore(b, f, fl, err, sizeof(err)), MC_OK);
    assert_int_equal(snap_hash(b), h0);
    assert_int_equal(snap_restore(b, d2, l2, err, sizeof(err)), MC_ECORRUPT); /* skips d1 */
    assert_int_equal(snap_restore(b, d1, l1, err, sizeof(err)), MC_OK);
    assert_int_equal(snap_hash(b), h1);
    assert_int_equal(snap_restore(b, d2, l2, err, sizeof(err)), MC_OK);
    assert_int_equal(snap_hash(b), h2);

    /* a machine restored at p1 runs on to the same state as the recording */
    board_t *c = new_board(&hc, 2, false);
    assert_int_equal(snap_restore(c, f, fl, err, sizeof(err)), MC_OK);
    assert_int_equal(snap_restore(c, d1, l1, err, sizeof(err)), MC_OK);
    run_to(&hc, 340000);
    assert_int_equal(snap_hash(c), h2);
    free(f);
    free(d1);
    free(d2);
    board_free(a);
    board_free(b);
    board_free(c);
}

static void test_snap__overlay(void **state)
{
    (void)state;
    host ha, hb;
    board_t *a = new_board(&ha, 1, true), *b = new_board(&hb, 1, true);
    uint8_t sec[512];
    memset(sec, 0xab, sizeof(sec));
    assert_int_equal(dev_virtio_blk_overlay_put(board_virtio_blk(a), 3, sec), MC_OK);
    run_to(&ha, 20000);
    snap_point p0 = here(a);
    uint8_t *f, *d;
    size_t fl, dl;
    assert_int_equal(snap_save(a, SNAP_FULL, NULL, &f, &fl), MC_OK);
    memset(sec, 0xcd, sizeof(sec));
    assert_int_equal(dev_virtio_blk_overlay_put(board_virtio_blk(a), 7, sec), MC_OK);
    run_to(&ha, 60000);
    uint64_t h1 = snap_hash(a);
    assert_int_equal(snap_save(a, SNAP_DELTA, &p0, &d, &dl), MC_OK);
    /* b has a stray sector the full snapshot must drop */
    assert_int_equal(dev_virtio_blk_overlay_put(board_virtio_blk(b), 9, sec), MC_OK);
    char err[256];
    assert_int_equal(snap_restore(b, f, fl, err, sizeof(err)), MC_OK);
    assert_int_equal(dev_virtio_blk_overlay_count(board_virtio_blk(b)), 1);
    assert_int_equal(snap_restore(b, d, dl, err, sizeof(err)), MC_OK);
    assert_int_equal(dev_virtio_blk_overlay_count(board_virtio_blk(b)), 2);
    assert_int_equal(snap_hash(b), h1);
    /* a disk snapshot does not fit a diskless machine */
    host hc;
    board_t *c = new_board(&hc, 1, false);
    assert_int_equal(snap_restore(c, f, fl, err, sizeof(err)), MC_ECORRUPT);
    free(f);
    free(d);
    board_free(a);
    board_free(b);
    board_free(c);
}

/* Rewrites the payload checksum so that structural checks are reached. */
static void fix_sum(uint8_t *buf, size_t len)
{
    uint64_t h = XXH3_64bits(buf + 64, len - 64);
    memcpy(buf + 56, &h, 8);
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void wr64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* Offset of the first section with tag, or 0. */
static size_t find_sect(const uint8_t *buf, size_t len, uint32_t tag)
{
    size_t pos = 64;
    while (pos + 16 <= len) {
        uint32_t t;
        memcpy(&t, buf + pos, 4);
        if (t == tag) return pos;
        pos += 16 + ((rd64(buf + pos + 8) + 7) & ~7ull);
    }
    return 0;
}

/* The incremental hasher always equals a fresh hash. */
static void test_snap__hasher(void **state)
{
    (void)state;
    host ha;
    board_t *a = new_board(&ha, 2, true);
    snap_hasher *hs;
    assert_int_equal(snap_hasher_new(&hs, a), MC_OK);
    assert_int_equal(snap_hasher_hash(hs, a), snap_hash(a));
    uint64_t prev = 0;
    for (int i = 1; i <= 6; i++) {
        run_to(&ha, 40000u * (unsigned)i);
        uint64_t h = snap_hasher_hash(hs, a);
        assert_int_equal(h, snap_hash(a));
        assert_int_not_equal(h, prev);
        prev = h;
        if (i == 3) { /* a write behind the bus's back is seen only after invalidate */
            uint8_t *host;
            uint64_t base, size;
            assert_true(bus_ram_region(board_bus(a), 0, &base, &size, &host));
            snap_mark(a);
            host[0x700000] ^= 0x5a;
            assert_int_not_equal(snap_hasher_hash(hs, a), snap_hash(a));
            snap_hasher_invalidate(hs);
            assert_int_equal(snap_hasher_hash(hs, a), snap_hash(a));
        }
        snap_mark(a);
        assert_int_equal(snap_hasher_hash(hs, a), snap_hash(a));
    }
    snap_hasher_free(hs);
    board_free(a);
}

static void test_snap__rejects_damage(void **state)
{
    (void)state;
    host ha, hb;
    board_t *a = new_board(&ha, 1, false), *b = new_board(&hb, 1, false);
    run_to(&ha, 40000);
    uint8_t *buf;
    size_t len;
    assert_int_equal(snap_save(a, SNAP_FULL, NULL, &buf, &len), MC_OK);
    uint8_t *t = malloc(len);
    char err[256];
    uint64_t hb0 = snap_hash(b);

    /* truncated anywhere */
    size_t cuts[] = {0, 10, 63, 64, 100, len / 2, len - 1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
        assert_int_equal(snap_restore(b, buf, cuts[i], err, sizeof(err)), MC_ECORRUPT);
    /* a flipped payload byte fails the checksum */
    memcpy(t, buf, len);
    t[len - 100] ^= 0x10;
    assert_int_equal(snap_restore(b, t, len, err, sizeof(err)), MC_ECORRUPT);
    assert_non_null(strstr(err, "checksum"));
    /* flipped size fields, checksum fixed: structure checks catch them */
    size_t ram = find_sect(buf, len, 10), hart = find_sect(buf, len, 3);
    assert_true(ram && hart);
    memcpy(t, buf, len);
    wr64(t + ram + 8, rd64(t + ram + 8) + 4104); /* section length */
    fix_sum(t, len);
    assert_int_equal(snap_restore(b, t, len, err, sizeof(err)), MC_ECORRUPT);
    memcpy(t, buf, len);
    wr64(t + ram + 16 + 16, rd64(t + ram + 16 + 16) + 1); /* page count */
    fix_sum(t, len);
    assert_int_equal(snap_restore(b, t, len, err, sizeof(err)), MC_ECORRUPT);
    assert_non_null(strstr(err, "page count"));
    memcpy(t, buf, len);
    wr64(t + ram + 16 + 24, (8u << 20) / 4096); /* first page index past RAM */
    fix_sum(t, len);
    assert_int_equal(snap_restore(b, t, len, err, sizeof(err)), MC_ECORRUPT);
    assert_non_null(strstr(err, "outside"));
    memcpy(t, buf, len);
    wr64(t + hart + 8, rd64(t + hart + 8) - 8); /* hart blob size */
    fix_sum(t, len);
    assert_int_equal(snap_restore(b, t, len, err, sizeof(err)), MC_ECORRUPT);
    memcpy(t, buf, len);
    t[4] = 99; /* version */
    assert_int_equal(snap_restore(b, t, len, err, sizeof(err)), MC_EVERSION);
    assert_non_null(strstr(err, "newer"));
    memcpy(t, buf, len);
    t[8] = 7; /* kind */
    assert_int_equal(snap_restore(b, t, len, err, sizeof(err)), MC_ECORRUPT);
    /* none of that touched b */
    assert_int_equal(snap_hash(b), hb0);
    /* a hart blob the hart itself rejects, everything else valid */
    memcpy(t, buf, len);
    memset(t + hart + 16, 0xff, hart_state_size());
    fix_sum(t, len);
    assert_int_equal(snap_restore(b, t, len, err, sizeof(err)), MC_ECORRUPT);
    /* another machine: 2 harts */
    host hc;
    board_t *c = new_board(&hc, 2, false);
    assert_int_equal(snap_restore(c, buf, len, err, sizeof(err)), MC_ECORRUPT);
    assert_non_null(strstr(err, "different machine"));
    /* random damage with a valid checksum: an error or success, never a crash */
    srand(1);
    for (int i = 0; i < 300; i++) {
        memcpy(t, buf, len);
        size_t lim = i % 2 ? 64 + 4096 : len; /* headers or anywhere */
        for (int k = 0; k < 1 + i % 4; k++)
            t[(size_t)rand() % lim] ^= (uint8_t)(1u << (rand() % 8));
        fix_sum(t, len);
        int rc = snap_restore(b, t, len, err, sizeof(err));
        assert_true(rc == MC_OK || rc == MC_ECORRUPT || rc == MC_EVERSION);
    }
    free(t);
    free(buf);
    board_free(a);
    board_free(b);
    board_free(c);
}

static void test_snap__parts_and_diff(void **state)
{
    (void)state;
    host ha, hb;
    board_t *a = new_board(&ha, 2, false), *b = new_board(&hb, 2, false);
    run_to(&ha, 30000);
    uint8_t *buf;
    size_t len;
    assert_int_equal(snap_save(a, SNAP_FULL, NULL, &buf, &len), MC_OK);
    assert_int_equal(snap_restore(b, buf, len, NULL, 0), MC_OK);
    char rep[2048];
    assert_int_equal(snap_diff(a, b, rep, sizeof(rep), 10), 0);
    snap_part *pa, *pb;
    size_t na, nb;
    assert_int_equal(snap_parts(a, &pa, &na), MC_OK);
    assert_int_equal(na, 1 + 2 + 3 + 8); /* sched, 2 harts, clint plic uart, 8 MiB */
    assert_string_equal(pa[1].name, "hart0");
    assert_string_equal(pa[6].name, "ram@0x80000000");
    hart_set_reg(board_hart(b, 1), 10, 0x1234);
    uint8_t *host;
    uint64_t base, size;
    assert_true(bus_ram_region(board_bus(b), 0, &base, &size, &host));
    host[0x300010] ^= 1;
    assert_int_equal(snap_parts(b, &pb, &nb), MC_OK);
    for (size_t i = 0; i < na; i++) {
        bool same = pa[i].hash == pb[i].hash;
        bool changed = !strcmp(pa[i].name, "hart1") || !strcmp(pa[i].name, "ram@0x80300000");
        assert_true(same != changed);
    }
    assert_int_equal(snap_diff(a, b, rep, sizeof(rep), 10), 2);
    assert_non_null(strstr(rep, "hart1 x10 (a0)"));
    assert_non_null(strstr(rep, "RAM page 0x80300000 differs (first at +0x10"));
    free(pa);
    free(pb);
    free(buf);
    board_free(a);
    board_free(b);
}

/* A full snapshot that trusts the hasher's zero groups is the same bytes
 * as one that reads all of RAM, after the guest wrote pages in groups the
 * hasher had seen zero; a hasher from another instant is not trusted. */
static void test_snap__full_with_hasher_zero_groups(void **state)
{
    (void)state;
    host h;
    board_t *b = new_board(&h, 1, false);
    snap_hasher *hs;
    assert_int_equal(snap_hasher_new(&hs, b), MC_OK);
    for (int round = 0; round < 3; round++) {
        run_to(&h, board_steps(b) + 40000); /* writes rotating pages */
        snap_hasher_hash(hs, b);
        uint8_t *x = NULL, *y = NULL;
        size_t xc = 0, yc = 0, xl, yl;
        snap_point p = here(b);
        assert_int_equal(snap_save_into(b, SNAP_FULL, &p, NULL, &x, &xc, &xl), MC_OK);
        snap_hasher_hash(hs, b); /* the save cleared the dirty bits: hash again */
        assert_int_equal(snap_save_into(b, SNAP_FULL, &p, hs, &y, &yc, &yl), MC_OK);
        assert_int_equal(xl, yl);
        assert_memory_equal(x, y, xl);
        /* unsealed it is refused; sealed it restores */
        host h2;
        board_t *c = new_board(&h2, 1, false);
        assert_int_equal(snap_restore(c, y, yl, NULL, 0), MC_ECORRUPT);
        snap_seal(y, yl);
        assert_int_equal(snap_restore(c, y, yl, NULL, 0), MC_OK);
        assert_int_equal(snap_hash(c), snap_hash(b));
        board_free(c);
        free(x);
        free(y);
    }
    /* written behind the hasher's back (no dirty bit): a hasher from this
     * instant would miss it, one from another instant is ignored */
    uint64_t base, size;
    uint8_t *ram;
    assert_true(bus_ram_region(board_bus(b), 0, &base, &size, &ram));
    snap_hasher_hash(hs, b);
    run_to(&h, board_steps(b) + 1000);
    ram[size - 4096] = 0x5a; /* the last group: never written by the guest */
    uint8_t *x = NULL, *y = NULL;
    size_t xc = 0, yc = 0, xl, yl;
    snap_point p = here(b);
    assert_int_equal(snap_save_into(b, SNAP_FULL, &p, hs, &x, &xc, &xl), MC_OK);
    assert_int_equal(snap_save_into(b, SNAP_FULL, &p, NULL, &y, &yc, &yl), MC_OK);
    assert_int_equal(xl, yl); /* the stale hasher was not trusted: the page is in both */
    assert_memory_equal(x, y, xl);
    free(x);
    free(y);
    snap_hasher_free(hs);
    board_free(b);
}

/* A board rebuilt from a full snapshot and a chain of deltas with
 * snap_restore_hashed keeps an incremental hasher right: after every
 * step its hash is the source's full hash. */
static void test_snap__restore_hashed_chain(void **state)
{
    (void)state;
    host ha, hc;
    board_t *a = new_board(&ha, 2, false), *c = new_board(&hc, 2, false);
    snap_hasher *hs;
    assert_int_equal(snap_hasher_new(&hs, c), MC_OK);
    snap_point last = here(a);
    for (int k = 0; k < 6; k++) {
        if (k) run_to(&ha, board_steps(a) + 25000);
        uint8_t *buf;
        size_t len;
        snap_kind kind = k % 4 == 0 ? SNAP_FULL : SNAP_DELTA;
        uint64_t want = snap_hash(a);
        assert_int_equal(snap_save(a, kind, &last, &buf, &len), MC_OK);
        last = here(a);
        char err[128];
        assert_int_equal(snap_restore_hashed(c, buf, len, hs, err, sizeof(err)), MC_OK);
        assert_int_equal(snap_hasher_hash(hs, c), want);
        assert_int_equal(snap_hash(c), want);
        free(buf);
    }
    snap_hasher_free(hs);
    board_free(a);
    board_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snap__full_round_trip),
        cmocka_unit_test(test_snap__full_with_hasher_zero_groups),
        cmocka_unit_test(test_snap__restore_hashed_chain),
        cmocka_unit_test(test_snap__delta_chain),
        cmocka_unit_test(test_snap__overlay),
        cmocka_unit_test(test_snap__hasher),
        cmocka_unit_test(test_snap__rejects_damage),
        cmocka_unit_test(test_snap__parts_and_diff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
