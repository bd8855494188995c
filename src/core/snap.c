/*
 * snap.c - whole-machine snapshots (see snap.h).
 *
 * Byte format, version 1. All integers little-endian.
 *
 *   header (64 bytes)
 *     0 u32 magic "MSNP"          4 u32 version (SNAP_VERSION)
 *     8 u32 kind (1 full, 2 delta) 12 u32 nsect (sections that follow)
 *    16 u64 steps                 24 u64 vtime (ns)      where it was taken
 *    32 u64 base_steps            40 u64 base_vtime      delta: its base; full: 0
 *    48 u64 total length in bytes (header included)
 *    56 u64 XXH3-64 of bytes [64, total)
 *   nsect sections, each 8-byte aligned:
 *     u32 tag, u32 index, u64 len, len bytes of payload, zero padding to 8
 *
 *   tag  name     index    payload
 *     1  CONFIG   0        u32 nharts, u32 0, u32 ram regions, u32 has_blk,
 *                          u64 blk capacity (sectors), u32 hart blob size,
 *                          u32 sched blob size                      (32 bytes)
 *     2  SCHED    0        board_sched_save blob
 *     3  HART     hart     hart_state_save blob
 *     4  CLINT    0        dev_clint_state_save blob
 *     5  PLIC     0        dev_plic_state_save blob
 *     6  UART     0        dev_uart_state_save blob
 *     7  TEST     0        dev_test_state_save blob (empty today)
 *     8  VIRTIO   0        dev_virtio_blk_state_save blob (with -drive only)
 *     9  OVERLAY  0        u64 count, count x (u64 sector, 512 bytes), sectors
 *                          strictly ascending (with -drive only)
 *    10  RAM      region   u64 base, u64 size, u64 npages,
 *                          npages x (u64 page index, 4096 bytes), indexes
 *                          strictly ascending and < size / 4096
 *
 * Every section appears exactly once (HART and RAM once per index); its
 * order in the file is free. FULL: RAM pages not listed are zero; every
 * overlay sector is listed. DELTA: pages and sectors not listed keep the
 * value the base snapshot gave them.
 *
 * Restore runs in two passes: parse and validate everything (bounds,
 * counts, sizes against the board, ordering, the payload hash), then
 * apply. The device restores validate their own blobs during the apply.
 */
#include "snap.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define MAGIC           0x504e534du /* "MSNP" */
#define HDR_SIZE        64
#define PAGE            BUS_PAGE_SIZE
#define SECTOR          DEV_VIRTIO_BLK_SECTOR
#define MAX_RAM_REGIONS 8

enum {
    T_CONFIG = 1,
    T_SCHED,
    T_HART,
    T_CLINT,
    T_PLIC,
    T_UART,
    T_TEST,
    T_VIRTIO,
    T_OVERLAY,
    T_RAM,
    T_COUNT
};

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* n > 0: the first byte is zero and every byte equals the next one
 * (libc's vectorised memcmp does the scanning). */
static bool is_zero(const uint8_t *p, size_t n)
{
    return p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
}

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- saving ------------------------------------------------------------- */

/* A growing output buffer whose size is computed exactly beforehand. */
typedef struct out {
    uint8_t *p;
    size_t len, cap;
    unsigned nsect;
} out;

static uint8_t *sect_begin(out *o, unsigned tag, unsigned index, uint64_t len)
{
    uint8_t *h = o->p + o->len;
    put32(h, tag);
    put32(h + 4, index);
    put64(h + 8, len);
    o->len += 16;
    uint8_t *payload = o->p + o->len;
    uint64_t padded = (len + 7) & ~7ull;
    memset(payload + len, 0, padded - len); /* reused buffers: no stale bytes */
    o->len += padded;
    o->nsect++;
    return payload;
}

static size_t sect_size(uint64_t len)
{
    return 16 + ((len + 7) & ~(size_t)7);
}

static bool page_dirty(bus_t *bus, const uint8_t *flags, uint64_t base, uint64_t pg);
static uint8_t *region_flags(bus_t *bus, uint64_t base, uint64_t size);

static bool want_page(bus_t *bus, snap_kind kind, const uint8_t *flags, uint64_t base, uint64_t off,
                      const uint8_t *host)
{
    if (kind == SNAP_FULL) return !is_zero(host + off, PAGE);
    return page_dirty(bus, flags, base, off / PAGE);
}

static bool want_sector(snap_kind kind, bool dirty)
{
    return kind == SNAP_FULL || dirty;
}

/*
 * The state hash: XXH3-64 over the scheduler blob, every hart blob, the
 * CLINT, PLIC, UART and test blobs, with a disk the virtio blob and every
 * overlay sector (u64 number, 512 bytes, ascending), then per RAM region
 * its base and size (u64 each) and the XXH3-64 of each HASH_GROUP bytes of
 * it (u64 each). Hashing RAM in groups lets snap_hasher rehash only the
 * groups written since its last call.
 */
#define HASH_GROUP_PAGES 64u

struct snap_hasher {
    uint64_t *group; /* cached group hashes, every region in turn */
    uint8_t *zero;   /* and whether the group is all zero bytes */
    uint8_t *stale;  /* written by snap_restore_hashed: hash it again */
    size_t ngroups;
    bool valid;
    snap_point at; /* the instant of the last hash */
};

int snap_save(board_t *b, snap_kind kind, const snap_point *at, uint8_t **buf, size_t *len)
{
    size_t cap = 0;
    *buf = NULL;
    int rc = snap_save_into(b, kind, at, NULL, buf, &cap, len);
    if (rc < 0) {
        free(*buf);
        *buf = NULL;
    } else {
        snap_seal(*buf, *len);
    }
    return rc;
}

void snap_seal(uint8_t *buf, size_t len)
{
    if (len >= HDR_SIZE) put64(buf + 56, XXH3_64bits(buf + HDR_SIZE, len - HDR_SIZE));
}

int snap_save_into(board_t *b, snap_kind kind, const snap_point *at, const snap_hasher *hs,
                   uint8_t **buf, size_t *cap, size_t *len)
{
    bus_t *bus = board_bus(b);
    dev_virtio_blk_t *blk = board_virtio_blk(b);
    unsigned nh = board_nharts(b);
    uint64_t base, size;
    uint8_t *host;
    uint64_t pages[MAX_RAM_REGIONS] = {0}, nsectors = 0;
    unsigned nram = 0;

    if ((kind != SNAP_FULL && kind != SNAP_DELTA) || (kind == SNAP_DELTA && !at)) return MC_EINVAL;
    if (dev_test_state_size() != 0) return MC_EUNSUP; /* no board accessor for it */
    /* pass 1: sizes */
    size_t total = HDR_SIZE + sect_size(32) + sect_size(board_sched_size()) +
                   nh * sect_size(hart_state_size()) + sect_size(dev_clint_state_size()) +
                   sect_size(dev_plic_state_size()) + sect_size(dev_uart_state_size()) +
                   sect_size(0);
    uint64_t nbits = 0;
    for (; bus_ram_region(bus, nram, &base, &size, &host); nram++) {
        if (nram == MAX_RAM_REGIONS) return MC_EUNSUP;
        nbits += size / PAGE;
    }
    /* pass 1 decides page by page (a full snapshot scans RAM for zero
     * pages once) and pass 2 copies what it decided */
    uint64_t *want = calloc((nbits + 63) / 64 + 1, sizeof(uint64_t));
    if (!want) return MC_ENOMEM;
    /* A full snapshot skips the groups the hasher has just found zero
     * (it hashed this very state: dirty groups afresh, the others were
     * unchanged since it last looked at them). */
    bool zero_known =
        hs && hs->valid && hs->at.steps == board_steps(b) && hs->at.vtime == board_vtime(b);
    uint64_t bit = 0, g = 0;
    for (unsigned r = 0; bus_ram_region(bus, r, &base, &size, &host); r++) {
        uint8_t *flags = region_flags(bus, base, size);
        for (uint64_t off = 0; off < size; off += PAGE, bit++) {
            if (off % (HASH_GROUP_PAGES * PAGE) == 0 && off) g++;
            if (kind == SNAP_FULL && zero_known && g < hs->ngroups && hs->zero[g]) continue;
            if (want_page(bus, kind, flags, base, off, host)) {
                pages[r]++;
                want[bit / 64] |= 1ull << (bit % 64);
            }
        }
        g++; /* groups do not span regions */
        total += sect_size(24 + pages[r] * (8 + PAGE));
    }
    if (blk) {
        uint64_t n = dev_virtio_blk_overlay_count(blk);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t s;
            const uint8_t *d;
            bool dirty;
            if (dev_virtio_blk_overlay_at(blk, i, &s, &d, &dirty) == MC_OK &&
                want_sector(kind, dirty))
                nsectors++;
        }
        total += sect_size(dev_virtio_blk_state_size()) + sect_size(8 + nsectors * (8 + SECTOR));
    }
    if (*cap < total || !*buf) {
        /* not realloc: nothing to keep; a quarter more, so that a reused
         * buffer need not grow for every slightly larger snapshot (pages
         * never written cost nothing) */
        size_t ncap = total + total / 4;
        uint8_t *nb = malloc(ncap);
        if (!nb) {
            free(want);
            return MC_ENOMEM;
        }
        free(*buf);
        *buf = nb;
        *cap = ncap;
    }
    out o = {.p = *buf, .len = HDR_SIZE, .cap = total};

    /* pass 2: contents */
    uint8_t *p = sect_begin(&o, T_CONFIG, 0, 32);
    put32(p, nh);
    put32(p + 4, 0); /* reserved: the hart blobs carry their extensions */
    put32(p + 8, nram);
    put32(p + 12, blk != NULL);
    put64(p + 16, blk ? dev_virtio_blk_capacity(blk) : 0);
    put32(p + 24, hart_state_size());
    put32(p + 28, board_sched_size());
    board_sched_save(b, sect_begin(&o, T_SCHED, 0, board_sched_size()));
    for (unsigned i = 0; i < nh; i++)
        hart_state_save(board_hart(b, i), sect_begin(&o, T_HART, i, hart_state_size()));
    dev_clint_state_save(board_clint(b), sect_begin(&o, T_CLINT, 0, dev_clint_state_size()));
    dev_plic_state_save(board_plic(b), sect_begin(&o, T_PLIC, 0, dev_plic_state_size()));
    dev_uart_state_save(board_uart(b), sect_begin(&o, T_UART, 0, dev_uart_state_size()));
    sect_begin(&o, T_TEST, 0, 0);
    if (blk) {
        dev_virtio_blk_state_save(blk, sect_begin(&o, T_VIRTIO, 0, dev_virtio_blk_state_size()));
        p = sect_begin(&o, T_OVERLAY, 0, 8 + nsectors * (8 + SECTOR));
        put64(p, nsectors);
        p += 8;
        uint64_t n = dev_virtio_blk_overlay_count(blk);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t s;
            const uint8_t *d;
            bool dirty;
            if (dev_virtio_blk_overlay_at(blk, i, &s, &d, &dirty) != MC_OK ||
                !want_sector(kind, dirty))
                continue;
            put64(p, s);
            memcpy(p + 8, d, SECTOR);
            p += 8 + SECTOR;
        }
    }
    bit = 0;
    for (unsigned r = 0; bus_ram_region(bus, r, &base, &size, &host); r++) {
        p = sect_begin(&o, T_RAM, r, 24 + pages[r] * (8 + PAGE));
        put64(p, base);
        put64(p + 8, size);
        put64(p + 16, pages[r]);
        p += 24;
        for (uint64_t off = 0; off < size; off += PAGE, bit++) {
            if (!(want[bit / 64] >> (bit % 64) & 1)) continue;
            put64(p, off / PAGE);
            memcpy(p + 8, host + off, PAGE);
            p += 8 + PAGE;
        }
    }
    free(want);

    uint8_t *h = o.p;
    put32(h, MAGIC);
    put32(h + 4, SNAP_VERSION);
    put32(h + 8, kind);
    put32(h + 12, o.nsect);
    put64(h + 16, board_steps(b));
    put64(h + 24, board_vtime(b));
    put64(h + 32, kind == SNAP_DELTA ? at->steps : 0);
    put64(h + 40, kind == SNAP_DELTA ? at->vtime : 0);
    put64(h + 48, o.len);
    put64(h + 56, 0); /* snap_seal */
    *len = o.len;
    snap_mark(b);
    return MC_OK;
}

void snap_mark(board_t *b)
{
    bus_clear_dirty(board_bus(b));
    if (board_virtio_blk(b)) dev_virtio_blk_overlay_clear_dirty(board_virtio_blk(b));
    for (unsigned i = 0; i < board_nharts(b); i++)
        hart_flush_tlb(board_hart(b, i));
}

/* ---- parsing and restoring ----------------------------------------------- */

typedef struct sect {
    const uint8_t *p; /* payload */
    uint64_t len;
} sect;

/* The parsed, validated sections of one snapshot. */
typedef struct parsed {
    snap_header h;
    sect one[T_COUNT]; /* index-0 sections */
    sect hart[BOARD_MAX_HARTS];
    sect ram[MAX_RAM_REGIONS];
} parsed;

int snap_peek(const uint8_t *buf, size_t len, snap_header *out, char *err, size_t errlen)
{
    if (!buf || len < HDR_SIZE)
        return fail(err, errlen, MC_ECORRUPT, "snapshot truncated (%zu bytes)", len);
    if (get32(buf) != MAGIC)
        return fail(err, errlen, MC_ECORRUPT, "not a machina snapshot (bad magic)");
    unsigned version = get32(buf + 4);
    if (version > SNAP_VERSION)
        return fail(err, errlen, MC_EVERSION, "snapshot format %u is newer than this build's %u",
                    version, SNAP_VERSION);
    if (version != SNAP_VERSION)
        return fail(err, errlen, MC_ECORRUPT, "snapshot format %u unknown", version);
    unsigned kind = get32(buf + 8);
    if (kind != SNAP_FULL && kind != SNAP_DELTA)
        return fail(err, errlen, MC_ECORRUPT, "snapshot kind %u unknown", kind);
    if (get64(buf + 48) != len)
        return fail(err, errlen, MC_ECORRUPT, "snapshot length %llu, expected %zu",
                    (unsigned long long)get64(buf + 48), len);
    memset(out, 0, sizeof(*out));
    out->version = version;
    out->kind = (snap_kind)kind;
    out->steps = get64(buf + 16);
    out->vtime = get64(buf + 24);
    out->base_steps = get64(buf + 32);
    out->base_vtime = get64(buf + 40);
    return MC_OK;
}

int snap_check(const uint8_t *buf, size_t len, snap_header *out, char *err, size_t errlen)
{
    int rc = snap_peek(buf, len, out, err, errlen);
    if (rc < 0) return rc;
    if (get64(buf + 56) != XXH3_64bits(buf + HDR_SIZE, len - HDR_SIZE))
        return fail(err, errlen, MC_ECORRUPT, "snapshot checksum mismatch");
    return MC_OK;
}

static const char *const tag_names[T_COUNT] = {
    "?", "config", "sched", "hart", "clint", "plic", "uart", "test", "virtio", "overlay", "ram"};

/* Pass 1: structure, sizes and ordering against board b. */
static int parse(board_t *b, const uint8_t *buf, size_t len, parsed *ps, char *err, size_t errlen)
{
    int rc = snap_check(buf, len, &ps->h, err, errlen);
    if (rc < 0) return rc;
    unsigned nsect = get32(buf + 12), nh = board_nharts(b);
    dev_virtio_blk_t *blk = board_virtio_blk(b);
    size_t pos = HDR_SIZE;
    for (unsigned i = 0; i < nsect; i++) {
        if (len - pos < 16)
            return fail(err, errlen, MC_ECORRUPT, "section %u header past the end", i);
        unsigned tag = get32(buf + pos), idx = get32(buf + pos + 4);
        uint64_t sl = get64(buf + pos + 8);
        pos += 16;
        if (sl > len - pos || ((sl + 7) & ~7ull) > len - pos)
            return fail(err, errlen, MC_ECORRUPT, "section %u (tag %u) overruns the snapshot", i,
                        tag);
        sect s = {buf + pos, sl};
        pos += (sl + 7) & ~7ull;
        sect *slot;
        if (tag == T_HART) {
            if (idx >= nh) return fail(err, errlen, MC_ECORRUPT, "hart section %u of %u", idx, nh);
            slot = &ps->hart[idx];
        } else if (tag == T_RAM) {
            if (idx >= MAX_RAM_REGIONS)
                return fail(err, errlen, MC_ECORRUPT, "RAM section index %u", idx);
            slot = &ps->ram[idx];
        } else if (tag >= T_CONFIG && tag < T_COUNT && tag != T_HART && tag != T_RAM) {
            if (idx != 0)
                return fail(err, errlen, MC_ECORRUPT, "%s section index %u", tag_names[tag], idx);
            slot = &ps->one[tag];
        } else {
            return fail(err, errlen, MC_ECORRUPT, "unknown section tag %u", tag);
        }
        if (slot->p) return fail(err, errlen, MC_ECORRUPT, "duplicate %s section", tag_names[tag]);
        *slot = s;
    }
    if (pos != len)
        return fail(err, errlen, MC_ECORRUPT, "%zu stray bytes after the sections", len - pos);

    /* config against the board */
    const sect *c = &ps->one[T_CONFIG];
    if (!c->p || c->len != 32)
        return fail(err, errlen, MC_ECORRUPT, "config section missing or bad");
    unsigned nram = 0;
    uint64_t base, size;
    uint8_t *host;
    while (bus_ram_region(board_bus(b), nram, &base, &size, &host))
        nram++;
    if (get32(c->p) != nh || get32(c->p + 8) != nram || get32(c->p + 12) != (blk != NULL) ||
        get64(c->p + 16) != (blk ? dev_virtio_blk_capacity(blk) : 0) ||
        get32(c->p + 24) != hart_state_size() || get32(c->p + 28) != board_sched_size())
        return fail(err, errlen, MC_ECORRUPT,
                    "snapshot of a different machine (%u harts, %u RAM regions, disk %u)",
                    get32(c->p), get32(c->p + 8), get32(c->p + 12));

    /* fixed-size blobs */
    struct {
        unsigned tag, size;
        bool need;
    } fixed[] = {
        {T_SCHED, board_sched_size(), true},
        {T_CLINT, dev_clint_state_size(), true},
        {T_PLIC, dev_plic_state_size(), true},
        {T_UART, dev_uart_state_size(), true},
        {T_TEST, dev_test_state_size(), true},
        {T_VIRTIO, blk ? dev_virtio_blk_state_size() : 0, blk != NULL},
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        const sect *s = &ps->one[fixed[i].tag];
        if (!fixed[i].need && s->p)
            return fail(err, errlen, MC_ECORRUPT, "unexpected %s section", tag_names[fixed[i].tag]);
        if (fixed[i].need && (!s->p || s->len != fixed[i].size))
            return fail(err, errlen, MC_ECORRUPT, "%s section %s", tag_names[fixed[i].tag],
                        s->p ? "has the wrong size" : "missing");
    }
    for (unsigned i = 0; i < nh; i++)
        if (!ps->hart[i].p || ps->hart[i].len != hart_state_size())
            return fail(err, errlen, MC_ECORRUPT, "hart %u section %s", i,
                        ps->hart[i].p ? "has the wrong size" : "missing");

    /* overlay */
    const sect *ov = &ps->one[T_OVERLAY];
    if (!blk && ov->p) return fail(err, errlen, MC_ECORRUPT, "overlay section without a disk");
    if (blk) {
        if (!ov->p || ov->len < 8) return fail(err, errlen, MC_ECORRUPT, "overlay section missing");
        uint64_t n = get64(ov->p), cap = dev_virtio_blk_capacity(blk);
        if (n > (ov->len - 8) / (8 + SECTOR) || ov->len != 8 + n * (8 + SECTOR))
            return fail(err, errlen, MC_ECORRUPT, "overlay count %llu does not match its size",
                        (unsigned long long)n);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t s = get64(ov->p + 8 + i * (8 + SECTOR));
            if (s >= cap || (i && s <= get64(ov->p + 8 + (i - 1) * (8 + SECTOR))))
                return fail(err, errlen, MC_ECORRUPT, "overlay sector %llu out of range or order",
                            (unsigned long long)s);
        }
        ps->h.sectors = n;
    }

    /* RAM */
    for (unsigned r = 0; r < MAX_RAM_REGIONS; r++) {
        const sect *s = &ps->ram[r];
        bool have = bus_ram_region(board_bus(b), r, &base, &size, &host);
        if (!have) {
            if (s->p) return fail(err, errlen, MC_ECORRUPT, "RAM section %u: no such region", r);
            continue;
        }
        if (!s->p || s->len < 24)
            return fail(err, errlen, MC_ECORRUPT, "RAM section %u missing", r);
        uint64_t n = get64(s->p + 16);
        if (get64(s->p) != base || get64(s->p + 8) != size)
            return fail(err, errlen, MC_ECORRUPT,
                        "RAM section %u is at 0x%llx+0x%llx, the machine's at 0x%llx+0x%llx", r,
                        (unsigned long long)get64(s->p), (unsigned long long)get64(s->p + 8),
                        (unsigned long long)base, (unsigned long long)size);
        if (n > (s->len - 24) / (8 + PAGE) || s->len != 24 + n * (8 + PAGE))
            return fail(err, errlen, MC_ECORRUPT,
                        "RAM section %u: page count %llu does not match its size", r,
                        (unsigned long long)n);
        uint64_t prev = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t pg = get64(s->p + 24 + i * (8 + PAGE));
            if (pg >= size / PAGE || (i && pg <= prev))
                return fail(err, errlen, MC_ECORRUPT,
                            "RAM page 0x%llx outside the region or out of order",
                            (unsigned long long)(base + pg * PAGE));
            prev = pg;
        }
        ps->h.ram_pages += n;
    }
    return MC_OK;
}

static int restore(board_t *b, const uint8_t *buf, size_t len, snap_hasher *hs, char *err,
                   size_t errlen);

int snap_restore(board_t *b, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    return restore(b, buf, len, NULL, err, errlen);
}

int snap_restore_hashed(board_t *b, const uint8_t *buf, size_t len, snap_hasher *hs, char *err,
                        size_t errlen)
{
    return restore(b, buf, len, hs, err, errlen);
}

static int restore(board_t *b, const uint8_t *buf, size_t len, snap_hasher *hs, char *err,
                   size_t errlen)
{
    parsed ps;
    memset(&ps, 0, sizeof(ps));
    int rc = parse(b, buf, len, &ps, err, errlen);
    if (rc < 0) return rc;
    if (ps.h.kind == SNAP_DELTA &&
        (board_steps(b) != ps.h.base_steps || board_vtime(b) != ps.h.base_vtime))
        return fail(err, errlen, MC_ECORRUPT,
                    "delta snapshot applies at i:%llu, the machine is at i:%llu",
                    (unsigned long long)ps.h.base_steps, (unsigned long long)board_steps(b));

    /* pass 2: apply. Harts first, then the devices re-drive their lines,
     * the PLIC last (it re-drives the harts' external interrupt lines). */
    const char *what = "sched";
    if ((rc = board_sched_restore(b, ps.one[T_SCHED].p, (unsigned)ps.one[T_SCHED].len)) < 0)
        goto bad;
    what = "hart";
    for (unsigned i = 0; i < board_nharts(b); i++)
        if ((rc = hart_state_restore(board_hart(b, i), ps.hart[i].p, (unsigned)ps.hart[i].len)) < 0)
            goto bad;
    what = "clint";
    if ((rc = dev_clint_state_restore(board_clint(b), ps.one[T_CLINT].p,
                                      (unsigned)ps.one[T_CLINT].len)) < 0)
        goto bad;
    what = "uart";
    if ((rc = dev_uart_state_restore(board_uart(b), ps.one[T_UART].p,
                                     (unsigned)ps.one[T_UART].len)) < 0)
        goto bad;
    dev_virtio_blk_t *blk = board_virtio_blk(b);
    if (blk) {
        what = "virtio";
        if ((rc = dev_virtio_blk_state_restore(blk, ps.one[T_VIRTIO].p,
                                               (unsigned)ps.one[T_VIRTIO].len)) < 0)
            goto bad;
        what = "overlay";
        if (ps.h.kind == SNAP_FULL) dev_virtio_blk_overlay_clear(blk);
        const uint8_t *p = ps.one[T_OVERLAY].p + 8;
        for (uint64_t i = 0; i < ps.h.sectors; i++, p += 8 + SECTOR)
            if ((rc = dev_virtio_blk_overlay_put(blk, get64(p), p + 8)) < 0) goto bad;
    }
    what = "plic";
    if ((rc = dev_plic_state_restore(board_plic(b), ps.one[T_PLIC].p,
                                     (unsigned)ps.one[T_PLIC].len)) < 0)
        goto bad;

    uint64_t base, size, g0 = 0;
    uint8_t *host;
    for (unsigned r = 0; bus_ram_region(board_bus(b), r, &base, &size, &host); r++) {
        const uint8_t *p = ps.ram[r].p;
        uint64_t n = get64(p + 16), next = 0;
        p += 24;
        for (uint64_t i = 0; i <= n; i++) {
            uint64_t pg = i < n ? get64(p) : size / PAGE;
            if (ps.h.kind == SNAP_FULL) /* pages in between are zero */
                for (; next < pg; next++)
                    if (!is_zero(host + next * PAGE, PAGE)) memset(host + next * PAGE, 0, PAGE);
            if (i == n) break;
            memcpy(host + pg * PAGE, p + 8, PAGE);
            if (hs && g0 + pg / HASH_GROUP_PAGES < hs->ngroups)
                hs->stale[g0 + pg / HASH_GROUP_PAGES] = 1;
            next = pg + 1;
            p += 8 + PAGE;
        }
        g0 += (size / PAGE + HASH_GROUP_PAGES - 1) / HASH_GROUP_PAGES;
    }
    snap_mark(b);
    if (hs && ps.h.kind == SNAP_FULL) hs->valid = false; /* every page may have changed */
    return MC_OK;
bad:
    return fail(err, errlen, rc == MC_EVERSION ? MC_EVERSION : MC_ECORRUPT,
                "%s state rejected by the machine (%s)", what, mc_strerror(rc));
}

/* ---- hashes and differences ---------------------------------------------- */

/* One component's state blob: its name, saved into a new buffer. */
typedef struct blob {
    char name[32];
    uint8_t *p;
    unsigned len;
} blob;

/* The fixed-size blobs of b, in a stable order; *n of them. */
static int blobs(board_t *b, blob *out, unsigned *n)
{
    unsigned k = 0;
#define ADD(nm, size, call)                                                                        \
    do {                                                                                           \
        snprintf(out[k].name, sizeof(out[k].name), "%s", nm);                                      \
        out[k].len = (size);                                                                       \
        out[k].p = malloc(out[k].len ? out[k].len : 1);                                            \
        if (!out[k].p) return MC_ENOMEM;                                                           \
        uint8_t *buf = out[k].p;                                                                   \
        call;                                                                                      \
        k++;                                                                                       \
        *n = k;                                                                                    \
    } while (0)
    *n = 0;
    ADD("sched", board_sched_size(), board_sched_save(b, buf));
    for (unsigned i = 0; i < board_nharts(b); i++) {
        char nm[16];
        snprintf(nm, sizeof(nm), "hart%u", i);
        ADD(nm, hart_state_size(), hart_state_save(board_hart(b, i), buf));
    }
    ADD("clint", dev_clint_state_size(), dev_clint_state_save(board_clint(b), buf));
    ADD("plic", dev_plic_state_size(), dev_plic_state_save(board_plic(b), buf));
    ADD("uart", dev_uart_state_size(), dev_uart_state_save(board_uart(b), buf));
    if (board_virtio_blk(b))
        ADD("virtio", dev_virtio_blk_state_size(),
            dev_virtio_blk_state_save(board_virtio_blk(b), buf));
#undef ADD
    return MC_OK;
}

#define MAX_BLOBS (BOARD_MAX_HARTS + 8)

static void free_blobs(blob *bl, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        free(bl[i].p);
}

/* The flags bytes of region base..base+size as one array, or NULL when
 * the bus does not keep them contiguous (then each page is looked up). */
static uint8_t *region_flags(bus_t *bus, uint64_t base, uint64_t size)
{
    uint8_t *f0 = bus_page_flags(bus, base);
    uint64_t last = size / PAGE - 1;
    if (f0 && bus_page_flags(bus, base + last * PAGE) == f0 + last) return f0;
    return NULL;
}

static bool page_dirty(bus_t *bus, const uint8_t *flags, uint64_t base, uint64_t pg)
{
    const uint8_t *f = flags ? flags + pg : bus_page_flags(bus, base + pg * PAGE);
    return f && (*f & BUS_PAGE_DIRTY);
}

/* Hashes everything but RAM into st. */
static int hash_small(board_t *b, XXH3_state_t *st)
{
    blob bl[MAX_BLOBS];
    unsigned nb = 0;
    int rc = blobs(b, bl, &nb);
    for (unsigned i = 0; rc == MC_OK && i < nb; i++)
        XXH3_64bits_update(st, bl[i].p, bl[i].len);
    free_blobs(bl, nb);
    if (rc < 0) return rc;
    dev_virtio_blk_t *blk = board_virtio_blk(b);
    if (blk) {
        uint64_t n = dev_virtio_blk_overlay_count(blk);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t s;
            const uint8_t *d;
            uint8_t sb[8];
            if (dev_virtio_blk_overlay_at(blk, i, &s, &d, NULL) < 0) break;
            put64(sb, s);
            XXH3_64bits_update(st, sb, 8);
            XXH3_64bits_update(st, d, SECTOR);
        }
    }
    return MC_OK;
}

/* XXH3-64 of n zero pages (n <= HASH_GROUP_PAGES), computed once. */
static uint64_t zero_group_hash(uint64_t n)
{
    /* atomic: a recorder's writer thread hashes too (racing writers store
     * the same value) */
    static _Atomic uint64_t memo[HASH_GROUP_PAGES + 1];
    static const uint8_t zeros[HASH_GROUP_PAGES * PAGE];
    uint64_t h = atomic_load_explicit(&memo[n], memory_order_relaxed);
    if (!h) {
        h = XXH3_64bits(zeros, n * PAGE);
        atomic_store_explicit(&memo[n], h, memory_order_relaxed);
    }
    return h;
}

/* Whether group g (pages pg..pg+n-1 of the region at base) must be read
 * again: no usable cache, restored over (stale), or a page dirty since
 * the last checkpoint. */
static bool group_fresh(const snap_hasher *hs, bus_t *bus, const uint8_t *flags, uint64_t base,
                        uint64_t pg, uint64_t n, size_t g)
{
    if (!hs || !hs->valid || g >= hs->ngroups || hs->stale[g]) return true;
    for (uint64_t k = 0; k < n; k++)
        if (page_dirty(bus, flags, base, pg + k)) return true;
    return false;
}

/* The hash, with cache (may be NULL: everything is hashed afresh). */
static uint64_t state_hash(snap_hasher *hs, board_t *b)
{
    XXH3_state_t *st = XXH3_createState();
    if (!st) return 0;
    XXH3_64bits_reset(st);
    if (hash_small(b, st) < 0) {
        XXH3_freeState(st);
        return 0;
    }
    bus_t *bus = board_bus(b);
    uint64_t base, size;
    uint8_t *host;
    size_t g = 0;
    for (unsigned r = 0; bus_ram_region(bus, r, &base, &size, &host); r++) {
        uint8_t hdr[16];
        put64(hdr, base);
        put64(hdr + 8, size);
        XXH3_64bits_update(st, hdr, 16);
        uint8_t *flags = region_flags(bus, base, size);
        uint64_t npages = size / PAGE;
        for (uint64_t pg = 0; pg < npages; pg += HASH_GROUP_PAGES, g++) {
            uint64_t n = npages - pg < HASH_GROUP_PAGES ? npages - pg : HASH_GROUP_PAGES;
            bool fresh = group_fresh(hs, bus, flags, base, pg, n, g);
            /* A fresh group is checked for zeros first: most of a guest's
             * RAM is, the check stops at the first other byte, and a zero
             * group's hash is known (the first hash of a machine and the
             * check after a restore read 256 MiB of mostly zeros). */
            bool zero = fresh ? is_zero(host + pg * PAGE, n * PAGE) : hs->zero[g];
            uint64_t h = !fresh ? hs->group[g]
                         : zero ? zero_group_hash(n)
                                : XXH3_64bits(host + pg * PAGE, n * PAGE);
            if (hs && g < hs->ngroups) {
                hs->zero[g] = zero;
                hs->group[g] = h;
                hs->stale[g] = 0;
            }
            uint8_t hb[8];
            put64(hb, h);
            XXH3_64bits_update(st, hb, 8);
        }
    }
    if (hs) {
        hs->valid = g == hs->ngroups;
        hs->at = (snap_point){board_steps(b), board_vtime(b)};
    }
    uint64_t h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h;
}

uint64_t snap_hash(board_t *b)
{
    return state_hash(NULL, b);
}

int snap_hasher_new(snap_hasher **out, board_t *b)
{
    snap_hasher *hs = calloc(1, sizeof(*hs));
    if (!hs) return MC_ENOMEM;
    uint64_t base, size;
    uint8_t *host;
    for (unsigned r = 0; bus_ram_region(board_bus(b), r, &base, &size, &host); r++)
        hs->ngroups += (size / PAGE + HASH_GROUP_PAGES - 1) / HASH_GROUP_PAGES;
    hs->group = calloc(hs->ngroups ? hs->ngroups : 1, sizeof(uint64_t));
    hs->zero = calloc(hs->ngroups ? hs->ngroups : 1, 1);
    hs->stale = calloc(hs->ngroups ? hs->ngroups : 1, 1);
    if (!hs->group || !hs->zero || !hs->stale) {
        snap_hasher_free(hs);
        return MC_ENOMEM;
    }
    *out = hs;
    return MC_OK;
}

void snap_hasher_free(snap_hasher *hs)
{
    if (!hs) return;
    free(hs->group);
    free(hs->zero);
    free(hs->stale);
    free(hs);
}

uint64_t snap_hasher_hash(snap_hasher *hs, board_t *b)
{
    return state_hash(hs, b);
}

void snap_hasher_invalidate(snap_hasher *hs)
{
    if (hs) hs->valid = false;
}

static uint64_t overlay_hash(dev_virtio_blk_t *blk)
{
    XXH3_state_t *st = XXH3_createState();
    if (!st) return 0;
    XXH3_64bits_reset(st);
    uint64_t n = dev_virtio_blk_overlay_count(blk);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t s;
        const uint8_t *d;
        uint8_t sb[8];
        if (dev_virtio_blk_overlay_at(blk, i, &s, &d, NULL) < 0) break;
        put64(sb, s);
        XXH3_64bits_update(st, sb, 8);
        XXH3_64bits_update(st, d, SECTOR);
    }
    uint64_t h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h;
}

int snap_parts(board_t *b, snap_part **out, size_t *n)
{
    blob bl[MAX_BLOBS];
    unsigned nb = 0;
    int rc = blobs(b, bl, &nb);
    if (rc < 0) {
        free_blobs(bl, nb);
        return rc;
    }
    size_t groups = 0;
    uint64_t base, size;
    uint8_t *host;
    for (unsigned r = 0; bus_ram_region(board_bus(b), r, &base, &size, &host); r++)
        groups += (size + SNAP_RAM_GROUP - 1) / SNAP_RAM_GROUP;
    snap_part *p = calloc(nb + 1 + groups, sizeof(*p));
    if (!p) {
        free_blobs(bl, nb);
        return MC_ENOMEM;
    }
    size_t k = 0;
    for (unsigned i = 0; i < nb; i++, k++) {
        memcpy(p[k].name, bl[i].name, sizeof(p[k].name));
        p[k].hash = XXH3_64bits(bl[i].p, bl[i].len);
    }
    free_blobs(bl, nb);
    if (board_virtio_blk(b)) {
        snprintf(p[k].name, sizeof(p[k].name), "overlay");
        p[k++].hash = overlay_hash(board_virtio_blk(b));
    }
    for (unsigned r = 0; bus_ram_region(board_bus(b), r, &base, &size, &host); r++)
        for (uint64_t off = 0; off < size; off += SNAP_RAM_GROUP, k++) {
            uint64_t gl = size - off < SNAP_RAM_GROUP ? size - off : SNAP_RAM_GROUP;
            snprintf(p[k].name, sizeof(p[k].name), "ram@0x%llx", (unsigned long long)(base + off));
            p[k].hash = XXH3_64bits(host + off, gl);
        }
    *out = p;
    *n = k;
    return MC_OK;
}

static const char *const gpr_names[32] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2",
                                          "s0",   "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
                                          "a6",   "a7", "s2",  "s3",  "s4", "s5", "s6", "s7",
                                          "s8",   "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
static const char *const fpr_names[32] = {
    "ft0", "ft1", "ft2", "ft3", "ft4",  "ft5",  "ft6", "ft7", "fs0",  "fs1", "fa0",
    "fa1", "fa2", "fa3", "fa4", "fa5",  "fa6",  "fa7", "fs2", "fs3",  "fs4", "fs5",
    "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"};
static const struct {
    unsigned num;
    const char *name;
} csrs[] = {
    {0x300, "mstatus"}, {0x301, "misa"},     {0x302, "medeleg"},  {0x303, "mideleg"},
    {0x304, "mie"},     {0x344, "mip"},      {0x305, "mtvec"},    {0x340, "mscratch"},
    {0x341, "mepc"},    {0x342, "mcause"},   {0x343, "mtval"},    {0x306, "mcounteren"},
    {0x30a, "menvcfg"}, {0x100, "sstatus"},  {0x104, "sie"},      {0x144, "sip"},
    {0x105, "stvec"},   {0x140, "sscratch"}, {0x141, "sepc"},     {0x142, "scause"},
    {0x143, "stval"},   {0x180, "satp"},     {0x14d, "stimecmp"}, {0x106, "scounteren"},
    {0x10a, "senvcfg"}, {0x003, "fcsr"},     {0xb00, "mcycle"},   {0xb02, "minstret"},
};

const char *snap_gpr_name(unsigned i)
{
    return i < 32 ? gpr_names[i] : "?";
}

const char *snap_fpr_name(unsigned i)
{
    return i < 32 ? fpr_names[i] : "?";
}

bool snap_csr_at(unsigned i, unsigned *num, const char **name)
{
    if (i >= sizeof(csrs) / sizeof(csrs[0])) return false;
    *num = csrs[i].num;
    *name = csrs[i].name;
    return true;
}

/* Appends one line to the report, counting lines; drops past max. */
typedef struct report {
    char *p;
    size_t len, cap;
    unsigned lines, max;
} report;

static void say(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(report *r, const char *fmt, ...)
{
    if (r->lines++ >= r->max || r->len + 1 >= r->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->p + r->len, r->cap - r->len, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    r->len += (size_t)n < r->cap - r->len ? (size_t)n : r->cap - r->len - 1;
    if (r->len + 1 < r->cap) {
        r->p[r->len++] = '\n';
        r->p[r->len] = 0;
    }
}

static const char *const priv_names[4] = {"U", "S", "?", "M"};

/* Hart i of a and b: names every differing architectural register. */
static void diff_hart(report *r, hart_t *x, hart_t *y, unsigned i)
{
    unsigned before = r->lines;
    if (hart_pc(x) != hart_pc(y))
        say(r, "hart%u pc: %#llx vs %#llx", i, (unsigned long long)hart_pc(x),
            (unsigned long long)hart_pc(y));
    if (hart_priv(x) != hart_priv(y))
        say(r, "hart%u privilege: %s vs %s", i, priv_names[hart_priv(x) & 3],
            priv_names[hart_priv(y) & 3]);
    for (unsigned k = 1; k < 32; k++)
        if (hart_reg(x, k) != hart_reg(y, k))
            say(r, "hart%u x%u (%s): %#llx vs %#llx", i, k, gpr_names[k],
                (unsigned long long)hart_reg(x, k), (unsigned long long)hart_reg(y, k));
    for (unsigned k = 0; k < 32; k++)
        if (hart_freg(x, k) != hart_freg(y, k))
            say(r, "hart%u f%u (%s): %#llx vs %#llx", i, k, fpr_names[k],
                (unsigned long long)hart_freg(x, k), (unsigned long long)hart_freg(y, k));
    for (size_t k = 0; k < sizeof(csrs) / sizeof(csrs[0]); k++) {
        uint64_t u = 0, v = 0;
        int ru = hart_csr(x, csrs[k].num, &u), rv = hart_csr(y, csrs[k].num, &v);
        if (ru != rv || u != v)
            say(r, "hart%u %s: %#llx vs %#llx", i, csrs[k].name, (unsigned long long)u,
                (unsigned long long)v);
    }
    if (r->lines == before)
        say(r,
            "hart%u: state outside the named registers differs (steps %llu vs %llu, "
            "reservation, counters or WFI)",
            i, (unsigned long long)hart_steps(x), (unsigned long long)hart_steps(y));
}

int snap_diff(board_t *a, board_t *b, char *outbuf, size_t outlen, unsigned max_lines)
{
    report r = {.p = outbuf, .cap = outlen, .max = max_lines};
    blob ba[MAX_BLOBS], bb[MAX_BLOBS];
    unsigned na = 0, nb = 0;
    int ndiff = 0;
    if (outlen) outbuf[0] = 0;
    if (board_nharts(a) != board_nharts(b)) {
        say(&r, "different machines: %u vs %u harts", board_nharts(a), board_nharts(b));
        return 1;
    }
    if (blobs(a, ba, &na) < 0 || blobs(b, bb, &nb) < 0 || na != nb) {
        free_blobs(ba, na);
        free_blobs(bb, nb);
        return MC_ENOMEM;
    }
    for (unsigned i = 0; i < na; i++) {
        if (ba[i].len == bb[i].len && !memcmp(ba[i].p, bb[i].p, ba[i].len)) continue;
        ndiff++;
        if (!strncmp(ba[i].name, "hart", 4)) {
            unsigned h = (unsigned)atoi(ba[i].name + 4);
            diff_hart(&r, board_hart(a, h), board_hart(b, h), h);
        } else if (!strcmp(ba[i].name, "sched")) {
            say(&r, "scheduler: i:%llu at %llu ns vs i:%llu at %llu ns (hart %u vs %u next)",
                (unsigned long long)board_steps(a), (unsigned long long)board_vtime(a),
                (unsigned long long)board_steps(b), (unsigned long long)board_vtime(b),
                board_current_hart(a), board_current_hart(b));
        } else {
            unsigned off = 0;
            while (off < ba[i].len && ba[i].p[off] == bb[i].p[off])
                off++;
            say(&r, "%s device state differs (first at blob byte %u)", ba[i].name, off);
        }
    }
    free_blobs(ba, na);
    free_blobs(bb, nb);

    dev_virtio_blk_t *da = board_virtio_blk(a), *db = board_virtio_blk(b);
    if (da && db && overlay_hash(da) != overlay_hash(db)) {
        ndiff++;
        say(&r, "disk overlay differs (%llu vs %llu sectors written)",
            (unsigned long long)dev_virtio_blk_overlay_count(da),
            (unsigned long long)dev_virtio_blk_overlay_count(db));
    }

    uint64_t base, size, b2, s2;
    uint8_t *ha, *hb;
    for (unsigned reg = 0; bus_ram_region(board_bus(a), reg, &base, &size, &ha); reg++) {
        if (!bus_ram_region(board_bus(b), reg, &b2, &s2, &hb) || b2 != base || s2 != size) {
            say(&r, "RAM layouts differ");
            return ndiff + 1;
        }
        uint64_t pages = 0;
        for (uint64_t off = 0; off < size; off += PAGE) {
            if (!memcmp(ha + off, hb + off, PAGE)) continue;
            unsigned k = 0;
            while (ha[off + k] == hb[off + k])
                k++;
            if (pages++ < 8)
                say(&r, "RAM page %#llx differs (first at +%#x: %02x vs %02x)",
                    (unsigned long long)(base + off), k, ha[off + k], hb[off + k]);
        }
        if (pages > 8) say(&r, "... %llu RAM pages differ in all", (unsigned long long)pages);
        ndiff += pages > 0;
    }
    return ndiff;
}
