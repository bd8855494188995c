/*
 * dev_virtio_blk.c - virtio-mmio v2 transport + virtio-blk, one split queue.
 *
 * Guest memory is only touched through bus_dma_read/bus_dma_write, which
 * check that the whole range is RAM. Everything read from the guest (queue
 * addresses, ring indexes, descriptors, request headers) is validated
 * before use:
 *   - the queue must be ready, its size a power of two <= QUEUE_MAX and its
 *     rings aligned, else the device sets DEVICE_NEEDS_RESET;
 *   - one notify consumes at most queue-size entries of the avail index
 *     read at its start (so data the device DMAs onto the ring itself
 *     cannot keep it busy), and a head index >= size sets NEEDS_RESET;
 *   - a chain is at most queue-size descriptors (a loop ends there), every
 *     next index < size, readable descriptors precede writable ones, no
 *     INDIRECT; lengths add up in 64 bits; sectors are range-checked before
 *     any transfer. A bad chain completes with VIRTIO_BLK_S_IOERR written to
 *     its last writable byte when there is one.
 *
 * The overlay: sectors written by the guest, kept in 256-sector chunks
 * (pointers stay valid while it grows), found through an open-addressing
 * hash of sector numbers, listed in sector order through a lazily sorted
 * index. The base image is never written.
 */
#include "dev_virtio_blk.h"

#include <stdlib.h>
#include <string.h>

/* virtio-mmio registers */
#define VM_MAGIC               0x000
#define VM_VERSION             0x004
#define VM_DEVICE_ID           0x008
#define VM_VENDOR_ID           0x00c
#define VM_DEVICE_FEATURES     0x010
#define VM_DEVICE_FEATURES_SEL 0x014
#define VM_DRIVER_FEATURES     0x020
#define VM_DRIVER_FEATURES_SEL 0x024
#define VM_QUEUE_SEL           0x030
#define VM_QUEUE_NUM_MAX       0x034
#define VM_QUEUE_NUM           0x038
#define VM_QUEUE_READY         0x044
#define VM_QUEUE_NOTIFY        0x050
#define VM_INTERRUPT_STATUS    0x060
#define VM_INTERRUPT_ACK       0x064
#define VM_STATUS              0x070
#define VM_QUEUE_DESC_LOW      0x080
#define VM_QUEUE_DESC_HIGH     0x084
#define VM_QUEUE_DRIVER_LOW    0x090
#define VM_QUEUE_DRIVER_HIGH   0x094
#define VM_QUEUE_DEVICE_LOW    0x0a0
#define VM_QUEUE_DEVICE_HIGH   0x0a4
#define VM_SHM_LEN_LOW         0x0b0
#define VM_SHM_BASE_HIGH       0x0bc
#define VM_CONFIG_GENERATION   0x0fc
#define VM_CONFIG              0x100

#define VIRT_MAGIC   0x74726976u /* "virt" */
#define VIRT_VENDOR  0x554d4551u /* "QEMU" */
#define VIRT_VERSION 2

#define STATUS_FEATURES_OK 0x08
#define STATUS_DRIVER_OK   0x04
#define STATUS_NEEDS_RESET 0x40

#define INT_USED   0x1
#define INT_CONFIG 0x2

/* features offered: SEG_MAX, BLK_SIZE, FLUSH, VERSION_1 */
#define BLK_F_SEG_MAX   (1ull << 2)
#define BLK_F_BLK_SIZE  (1ull << 6)
#define BLK_F_FLUSH     (1ull << 9)
#define F_VERSION_1     (1ull << 32)
#define DEVICE_FEATURES (BLK_F_SEG_MAX | BLK_F_BLK_SIZE | BLK_F_FLUSH | F_VERSION_1)

#define QUEUE_MAX            256
#define DESC_F_NEXT          1
#define DESC_F_WRITE         2
#define DESC_F_INDIRECT      4
#define AVAIL_F_NO_INTERRUPT 1

#define BLK_T_IN     0
#define BLK_T_OUT    1
#define BLK_T_FLUSH  4
#define BLK_T_GET_ID 8
#define BLK_S_OK     0
#define BLK_S_IOERR  1
#define BLK_S_UNSUPP 2
#define BLK_ID_BYTES 20
#define BLK_ID       "machina-virtio-blk"

#define SECTOR           DEV_VIRTIO_BLK_SECTOR
#define CHUNK_SECTORS    256
#define VBLK_STATE_MAGIC 0x4b4c4256u /* "VBLK" */

/* The snapshot blob: transport and queue state (no padding, no pointers). */
typedef struct vblk_state {
    uint32_t magic;
    uint32_t status;
    uint32_t dev_features_sel;
    uint32_t drv_features_sel;
    uint32_t drv_features[2];
    uint32_t queue_sel;
    uint32_t queue_num;
    uint32_t queue_ready;
    uint32_t int_status;
    uint32_t reserved;
    uint16_t last_avail; /* next avail entry to consume */
    uint16_t used_idx;   /* next used entry to fill */
    uint64_t desc, avail, used;
} vblk_state;

typedef struct seg {
    uint64_t addr;
    uint32_t len;
} seg;

/* A position in a list of segments seen as one byte stream. */
typedef struct cursor {
    const seg *segs;
    unsigned n, i;
    uint64_t off; /* within segs[i] */
} cursor;

typedef struct ov_pair {
    uint64_t sector, slot;
} ov_pair;

typedef struct overlay {
    uint8_t **chunks; /* CHUNK_SECTORS * SECTOR bytes each */
    uint64_t *sector; /* per slot */
    uint8_t *dirty;   /* per slot */
    uint64_t n, cap;  /* slots used, allocated */
    uint64_t *hash;   /* sector + 1 -> via hslot; 0 = empty */
    uint64_t *hslot;
    uint64_t hcap;   /* power of two, >= 2n */
    ov_pair *sorted; /* (sector, slot) in sector order */
    bool sorted_ok;
} overlay;

struct dev_virtio_blk {
    bus_t *bus;
    const uint8_t *image;
    uint64_t size, capacity;
    dev_irq_fn irq;
    void *ctx;
    unsigned line;
    vblk_state st;
    overlay ov;
    seg segs[QUEUE_MAX];
};

/* ---- overlay -------------------------------------------------------- */

static uint64_t ov_hash(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static uint8_t *ov_data(const overlay *o, uint64_t slot)
{
    return o->chunks[slot / CHUNK_SECTORS] + (slot % CHUNK_SECTORS) * SECTOR;
}

/* Slot of sector, or UINT64_MAX. */
static uint64_t ov_find(const overlay *o, uint64_t sector)
{
    if (!o->hcap) return UINT64_MAX;
    for (uint64_t h = ov_hash(sector) & (o->hcap - 1);; h = (h + 1) & (o->hcap - 1)) {
        if (o->hash[h] == 0) return UINT64_MAX;
        if (o->hash[h] == sector + 1) return o->hslot[h];
    }
}

static void ov_hinsert(overlay *o, uint64_t sector, uint64_t slot)
{
    uint64_t h = ov_hash(sector) & (o->hcap - 1);

    while (o->hash[h])
        h = (h + 1) & (o->hcap - 1);
    o->hash[h] = sector + 1;
    o->hslot[h] = slot;
}

static int ov_grow(overlay *o)
{
    if (o->n == o->cap) {
        uint64_t cap = o->cap ? o->cap * 2 : CHUNK_SECTORS;
        uint8_t **chunks = realloc(o->chunks, cap / CHUNK_SECTORS * sizeof(*chunks));
        uint64_t *sector;
        ov_pair *sorted;
        uint8_t *dirty;

        if (!chunks) return MC_ENOMEM;
        o->chunks = chunks;
        for (uint64_t c = o->cap / CHUNK_SECTORS; c < cap / CHUNK_SECTORS; c++)
            o->chunks[c] = NULL;
        sector = realloc(o->sector, cap * sizeof(*sector));
        if (!sector) return MC_ENOMEM;
        o->sector = sector;
        dirty = realloc(o->dirty, cap);
        if (!dirty) return MC_ENOMEM;
        o->dirty = dirty;
        sorted = realloc(o->sorted, cap * sizeof(*sorted));
        if (!sorted) return MC_ENOMEM;
        o->sorted = sorted;
        o->cap = cap;
    }
    if (!o->chunks[o->n / CHUNK_SECTORS]) {
        o->chunks[o->n / CHUNK_SECTORS] = malloc((size_t)CHUNK_SECTORS * SECTOR);
        if (!o->chunks[o->n / CHUNK_SECTORS]) return MC_ENOMEM;
    }
    if (2 * (o->n + 1) > o->hcap) {
        uint64_t ncap = o->hcap ? o->hcap * 2 : 2 * CHUNK_SECTORS;
        uint64_t *hash = calloc(ncap, sizeof(*hash));
        uint64_t *hslot = malloc(ncap * sizeof(*hslot));

        if (!hash || !hslot) {
            free(hash);
            free(hslot);
            return MC_ENOMEM;
        }
        free(o->hash);
        free(o->hslot);
        o->hash = hash;
        o->hslot = hslot;
        o->hcap = ncap;
        for (uint64_t s = 0; s < o->n; s++)
            ov_hinsert(o, o->sector[s], s);
    }
    return MC_OK;
}

static int ov_put(overlay *o, uint64_t sector, const uint8_t *data)
{
    uint64_t slot = ov_find(o, sector);
    int rc;

    if (slot == UINT64_MAX) {
        if ((rc = ov_grow(o)) < 0) return rc;
        slot = o->n++;
        o->sector[slot] = sector;
        ov_hinsert(o, sector, slot);
        o->sorted_ok = false;
    }
    memcpy(ov_data(o, slot), data, SECTOR);
    o->dirty[slot] = 1;
    return MC_OK;
}

static void ov_free(overlay *o)
{
    for (uint64_t c = 0; c < o->cap / CHUNK_SECTORS; c++)
        free(o->chunks[c]);
    free(o->chunks);
    free(o->sector);
    free(o->dirty);
    free(o->hash);
    free(o->hslot);
    free(o->sorted);
    memset(o, 0, sizeof(*o));
}

static int ov_cmp(const void *a, const void *b)
{
    uint64_t x = ((const ov_pair *)a)->sector, y = ((const ov_pair *)b)->sector;

    return x < y ? -1 : x > y;
}

static void ov_sort(overlay *o)
{
    if (o->sorted_ok) return;
    for (uint64_t i = 0; i < o->n; i++) {
        o->sorted[i].sector = o->sector[i];
        o->sorted[i].slot = i;
    }
    qsort(o->sorted, o->n, sizeof(*o->sorted), ov_cmp);
    o->sorted_ok = true;
}

uint64_t dev_virtio_blk_overlay_count(dev_virtio_blk_t *d)
{
    return d->ov.n;
}

int dev_virtio_blk_overlay_at(dev_virtio_blk_t *d, uint64_t i, uint64_t *sector,
                              const uint8_t **data, bool *dirty)
{
    uint64_t slot;

    if (i >= d->ov.n) return MC_ERANGE;
    ov_sort(&d->ov);
    slot = d->ov.sorted[i].slot;
    *sector = d->ov.sector[slot];
    *data = ov_data(&d->ov, slot);
    if (dirty) *dirty = d->ov.dirty[slot] != 0;
    return MC_OK;
}

int dev_virtio_blk_overlay_put(dev_virtio_blk_t *d, uint64_t sector,
                               const uint8_t data[DEV_VIRTIO_BLK_SECTOR])
{
    if (sector >= d->capacity) return MC_ERANGE;
    return ov_put(&d->ov, sector, data);
}

void dev_virtio_blk_overlay_clear(dev_virtio_blk_t *d)
{
    ov_free(&d->ov);
}

void dev_virtio_blk_overlay_clear_dirty(dev_virtio_blk_t *d)
{
    if (d->ov.n) memset(d->ov.dirty, 0, d->ov.n);
}

/* The current contents of a sector (overlay, else image, zero-padded). */
static const uint8_t *blk_sector(const dev_virtio_blk_t *d, uint64_t sector, uint8_t *tmp)
{
    uint64_t slot = ov_find(&d->ov, sector), off = sector * SECTOR;

    if (slot != UINT64_MAX) return ov_data(&d->ov, slot);
    if (off + SECTOR <= d->size) return d->image + off;
    memset(tmp, 0, SECTOR);
    if (off < d->size) memcpy(tmp, d->image + off, d->size - off);
    return tmp;
}

/* ---- request processing -------------------------------------------- */

static void irq_drive(dev_virtio_blk_t *d)
{
    if (d->irq) d->irq(d->ctx, d->line, d->st.int_status != 0);
}

static void needs_reset(dev_virtio_blk_t *d)
{
    d->st.status |= STATUS_NEEDS_RESET;
    d->st.int_status |= INT_CONFIG;
    irq_drive(d);
}

static void cur_init(cursor *c, const seg *segs, unsigned n)
{
    c->segs = segs;
    c->n = n;
    c->i = 0;
    c->off = 0;
}

/* Moves the cursor forward by len bytes, or transfers len bytes between
 * buf and the guest (write: buf -> guest) when buf is not NULL. */
static int cur_xfer(dev_virtio_blk_t *d, cursor *c, void *buf, uint64_t len, bool write)
{
    uint8_t *p = buf;

    while (len) {
        uint64_t n;

        if (c->i >= c->n) return MC_ERANGE;
        n = c->segs[c->i].len - c->off;
        if (n > len) n = len;
        if (p && n) {
            uint64_t pa = c->segs[c->i].addr + c->off;
            int rc = write ? bus_dma_write(d->bus, pa, p, n) : bus_dma_read(d->bus, pa, p, n);

            if (rc < 0) return rc;
            p += n;
        }
        len -= n;
        c->off += n;
        if (c->off == c->segs[c->i].len) {
            c->i++;
            c->off = 0;
        }
    }
    /* skip empty segments so that i points at the next byte */
    while (c->i < c->n && c->segs[c->i].len == 0)
        c->i++;
    return MC_OK;
}

/* Walks the chain at head into d->segs: *nr readable then *nw writable.
 * Returns MC_EGUEST for a malformed chain (segs still holds its prefix). */
static int chain_walk(dev_virtio_blk_t *d, uint16_t head, unsigned *nr, unsigned *nw)
{
    unsigned num = d->st.queue_num, count = 0;
    uint16_t idx = head;

    *nr = *nw = 0;
    for (;;) {
        uint8_t raw[16];
        uint64_t addr;
        uint32_t len;
        uint16_t flags, next;

        if (count >= num || idx >= num) return MC_EGUEST; /* loop, overlong chain or bad index */
        if (bus_dma_read(d->bus, d->st.desc + 16ull * idx, raw, sizeof(raw)) < 0) return MC_EGUEST;
        memcpy(&addr, raw, 8);
        memcpy(&len, raw + 8, 4);
        memcpy(&flags, raw + 12, 2);
        memcpy(&next, raw + 14, 2);
        if (flags & DESC_F_INDIRECT) return MC_EGUEST;        /* not negotiated */
        if (!(flags & DESC_F_WRITE) && *nw) return MC_EGUEST; /* readable after writable */
        d->segs[count].addr = addr;
        d->segs[count].len = len;
        count++;
        if (flags & DESC_F_WRITE)
            (*nw)++;
        else
            (*nr)++;
        if (!(flags & DESC_F_NEXT)) return MC_OK;
        idx = next;
    }
}

static uint64_t segs_total(const seg *s, unsigned n)
{
    uint64_t t = 0;

    for (unsigned i = 0; i < n; i++)
        t += s[i].len;
    return t;
}

/* Writes the status byte at the last writable byte; returns 1 if it could. */
static int put_status(dev_virtio_blk_t *d, const seg *w, unsigned nw, uint8_t status)
{
    for (unsigned i = nw; i-- > 0;) {
        if (w[i].len) return bus_dma_write(d->bus, w[i].addr + w[i].len - 1, &status, 1) == MC_OK;
    }
    return 0;
}

/* Runs the data phase of one request; returns a BLK_S_* status and sets
 * *written to the bytes written before the status byte. */
static uint8_t blk_do(dev_virtio_blk_t *d, const seg *r, unsigned nr, const seg *w, unsigned nw,
                      uint64_t wdata, uint32_t *written)
{
    uint8_t hdr[16], buf[SECTOR];
    uint32_t type;
    uint64_t sector, rdata, nsec;
    cursor rc, wc;

    *written = 0;
    cur_init(&rc, r, nr);
    cur_init(&wc, w, nw);
    rdata = segs_total(r, nr);
    if (rdata < sizeof(hdr) || cur_xfer(d, &rc, hdr, sizeof(hdr), false) < 0) return BLK_S_IOERR;
    rdata -= sizeof(hdr);
    memcpy(&type, hdr, 4);
    memcpy(&sector, hdr + 8, 8);

    switch (type) {
    case BLK_T_IN:
        if (wdata % SECTOR) return BLK_S_IOERR;
        nsec = wdata / SECTOR;
        if (sector > d->capacity || nsec > d->capacity - sector) return BLK_S_IOERR;
        for (uint64_t i = 0; i < nsec; i++) {
            const uint8_t *src = blk_sector(d, sector + i, buf);

            if (cur_xfer(d, &wc, (void *)src, SECTOR, true) < 0) return BLK_S_IOERR;
        }
        *written = (uint32_t)wdata;
        return BLK_S_OK;
    case BLK_T_OUT:
        if (rdata % SECTOR) return BLK_S_IOERR;
        nsec = rdata / SECTOR;
        if (sector > d->capacity || nsec > d->capacity - sector) return BLK_S_IOERR;
        for (uint64_t i = 0; i < nsec; i++) {
            if (cur_xfer(d, &rc, buf, SECTOR, false) < 0 || ov_put(&d->ov, sector + i, buf) < 0)
                return BLK_S_IOERR;
        }
        return BLK_S_OK;
    case BLK_T_FLUSH: return BLK_S_OK; /* the overlay is the medium: nothing is cached */
    case BLK_T_GET_ID: {
        uint8_t id[BLK_ID_BYTES] = {0};
        uint64_t n = wdata < BLK_ID_BYTES ? wdata : BLK_ID_BYTES;

        memcpy(id, BLK_ID, sizeof(BLK_ID) - 1);
        if (cur_xfer(d, &wc, id, n, true) < 0) return BLK_S_IOERR;
        *written = (uint32_t)n;
        return BLK_S_OK;
    }
    default: return BLK_S_UNSUPP;
    }
}

/* Processes the chain at head; returns the used length. */
static uint32_t blk_request(dev_virtio_blk_t *d, uint16_t head)
{
    unsigned nr, nw;
    const seg *w;
    uint64_t wtotal;
    uint32_t written;
    uint8_t status;

    if (chain_walk(d, head, &nr, &nw) < 0) {
        /* malformed: report IOERR where the chain's prefix lets us */
        return (uint32_t)put_status(d, d->segs + nr, nw, BLK_S_IOERR);
    }
    w = d->segs + nr;
    wtotal = segs_total(w, nw);
    if (wtotal == 0) return 0; /* nowhere to put a status */
    status = blk_do(d, d->segs, nr, w, nw, wtotal - 1, &written);
    if (status != BLK_S_OK) written = 0;
    if (!put_status(d, w, nw, status)) return 0;
    return written + 1;
}

static bool queue_sane(const vblk_state *s)
{
    return s->queue_num && s->queue_num <= QUEUE_MAX && !(s->queue_num & (s->queue_num - 1)) &&
           !(s->desc & 15) && !(s->avail & 1) && !(s->used & 3);
}

static void blk_notify(dev_virtio_blk_t *d)
{
    vblk_state *s = &d->st;
    uint16_t avail_idx, flags;
    bool done = false;

    if (!(s->status & STATUS_DRIVER_OK) || (s->status & STATUS_NEEDS_RESET) || !s->queue_ready)
        return;
    if (!queue_sane(s) || bus_dma_read(d->bus, s->avail + 2, &avail_idx, 2) < 0) {
        needs_reset(d);
        return;
    }
    if ((uint16_t)(avail_idx - s->last_avail) > s->queue_num) {
        needs_reset(d);
        return;
    }
    while (s->last_avail != avail_idx) {
        uint16_t head;
        uint32_t used[2];
        uint64_t ra = s->avail + 4 + 2ull * (s->last_avail % s->queue_num);
        uint64_t ua = s->used + 4 + 8ull * (s->used_idx % s->queue_num);

        if (bus_dma_read(d->bus, ra, &head, 2) < 0 || head >= s->queue_num) {
            needs_reset(d);
            break;
        }
        used[0] = head;
        used[1] = blk_request(d, head);
        s->last_avail++;
        if (bus_dma_write(d->bus, ua, used, sizeof(used)) < 0) {
            needs_reset(d);
            break;
        }
        s->used_idx++;
        if (bus_dma_write(d->bus, s->used + 2, &s->used_idx, 2) < 0) {
            needs_reset(d);
            break;
        }
        done = true;
    }
    if (!done) return;
    if (bus_dma_read(d->bus, s->avail, &flags, 2) == MC_OK && (flags & AVAIL_F_NO_INTERRUPT))
        return;
    s->int_status |= INT_USED;
    irq_drive(d);
}

/* ---- registers ------------------------------------------------------ */

static void blk_config(const dev_virtio_blk_t *d, uint8_t cfg[64])
{
    uint32_t seg_max = QUEUE_MAX - 2, blk_size = SECTOR;

    memset(cfg, 0, 64);
    memcpy(cfg + 0, &d->capacity, 8); /* capacity */
    memcpy(cfg + 12, &seg_max, 4);    /* seg_max */
    memcpy(cfg + 20, &blk_size, 4);   /* blk_size */
}

static void set_low(uint64_t *r, uint64_t v)
{
    *r = (*r & ~0xffffffffull) | (v & 0xffffffffull);
}

static void set_high(uint64_t *r, uint64_t v)
{
    *r = (*r & 0xffffffffull) | (v << 32);
}

static int blk_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
    dev_virtio_blk_t *d = dev;
    vblk_state *s = &d->st;
    bool q0 = s->queue_sel == 0;

    *val = 0;
    if (off >= VM_CONFIG) {
        uint8_t cfg[64];

        if (off - VM_CONFIG + size <= sizeof(cfg)) {
            blk_config(d, cfg);
            memcpy(val, cfg + (off - VM_CONFIG), size);
        }
        return MC_OK;
    }
    if (size != 4) return MC_OK; /* QEMU: wrong-size register access reads 0 */
    switch (off) {
    case VM_MAGIC: *val = VIRT_MAGIC; break;
    case VM_VERSION: *val = VIRT_VERSION; break;
    case VM_DEVICE_ID: *val = 2; break;
    case VM_VENDOR_ID: *val = VIRT_VENDOR; break;
    case VM_DEVICE_FEATURES:
        if (s->dev_features_sel < 2)
            *val = (uint32_t)(DEVICE_FEATURES >> (32 * s->dev_features_sel));
        break;
    case VM_QUEUE_NUM_MAX: *val = q0 ? QUEUE_MAX : 0; break;
    case VM_QUEUE_NUM: *val = q0 ? s->queue_num : 0; break;
    case VM_QUEUE_READY: *val = q0 ? s->queue_ready : 0; break;
    case VM_INTERRUPT_STATUS: *val = s->int_status; break;
    case VM_STATUS: *val = s->status; break;
    case VM_QUEUE_DESC_LOW: *val = q0 ? (uint32_t)s->desc : 0; break;
    case VM_QUEUE_DESC_HIGH: *val = q0 ? (uint32_t)(s->desc >> 32) : 0; break;
    case VM_QUEUE_DRIVER_LOW: *val = q0 ? (uint32_t)s->avail : 0; break;
    case VM_QUEUE_DRIVER_HIGH: *val = q0 ? (uint32_t)(s->avail >> 32) : 0; break;
    case VM_QUEUE_DEVICE_LOW: *val = q0 ? (uint32_t)s->used : 0; break;
    case VM_QUEUE_DEVICE_HIGH: *val = q0 ? (uint32_t)(s->used >> 32) : 0; break;
    case VM_CONFIG_GENERATION: *val = 0; break;
    default:
        if (off >= VM_SHM_LEN_LOW && off <= VM_SHM_BASE_HIGH)
            *val = 0xffffffffu; /* no shared memory regions */
        break;
    }
    return MC_OK;
}

static void blk_status_write(dev_virtio_blk_t *d, uint32_t v)
{
    vblk_state *s = &d->st;

    v &= 0xff;
    if (v == 0) {
        dev_virtio_blk_reset(d);
        return;
    }
    if ((v & STATUS_FEATURES_OK) && !(s->status & STATUS_FEATURES_OK)) {
        uint64_t f = (uint64_t)s->drv_features[1] << 32 | s->drv_features[0];

        if ((f & ~DEVICE_FEATURES) || !(f & F_VERSION_1))
            v &= ~STATUS_FEATURES_OK; /* refuse: the driver reads it back */
    }
    s->status = v | (s->status & STATUS_NEEDS_RESET);
}

static int blk_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    dev_virtio_blk_t *d = dev;
    vblk_state *s = &d->st;
    bool q0 = s->queue_sel == 0, ready = q0 && s->queue_ready;
    uint32_t v = (uint32_t)val;

    if (size != 4 || off >= VM_CONFIG)
        return MC_OK; /* config space is read-only; wrong sizes ignored */
    switch (off) {
    case VM_DEVICE_FEATURES_SEL: s->dev_features_sel = v; break;
    case VM_DRIVER_FEATURES:
        if (s->drv_features_sel < 2 && !(s->status & STATUS_FEATURES_OK))
            s->drv_features[s->drv_features_sel] = v;
        break;
    case VM_DRIVER_FEATURES_SEL: s->drv_features_sel = v; break;
    case VM_QUEUE_SEL: s->queue_sel = v; break;
    case VM_QUEUE_NUM:
        if (q0 && !ready) s->queue_num = v;
        break;
    case VM_QUEUE_READY:
        if (q0) s->queue_ready = v & 1;
        break;
    case VM_QUEUE_NOTIFY:
        if (v == 0) blk_notify(d);
        break;
    case VM_INTERRUPT_ACK:
        s->int_status &= ~v;
        irq_drive(d);
        break;
    case VM_STATUS: blk_status_write(d, v); break;
    case VM_QUEUE_DESC_LOW:
        if (q0 && !ready) set_low(&s->desc, v);
        break;
    case VM_QUEUE_DESC_HIGH:
        if (q0 && !ready) set_high(&s->desc, v);
        break;
    case VM_QUEUE_DRIVER_LOW:
        if (q0 && !ready) set_low(&s->avail, v);
        break;
    case VM_QUEUE_DRIVER_HIGH:
        if (q0 && !ready) set_high(&s->avail, v);
        break;
    case VM_QUEUE_DEVICE_LOW:
        if (q0 && !ready) set_low(&s->used, v);
        break;
    case VM_QUEUE_DEVICE_HIGH:
        if (q0 && !ready) set_high(&s->used, v);
        break;
    default: break;
    }
    return MC_OK;
}

const bus_mmio_ops dev_virtio_blk_ops = {.read = blk_read, .write = blk_write};

static int empty_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
    (void)dev;
    *val = 0;
    if (size != 4) return MC_OK;
    if (off == VM_MAGIC)
        *val = VIRT_MAGIC;
    else if (off == VM_VERSION)
        *val = VIRT_VERSION;
    else if (off == VM_VENDOR_ID)
        *val = VIRT_VENDOR;
    return MC_OK; /* device ID 0: no device */
}

static int empty_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    (void)dev;
    (void)off;
    (void)size;
    (void)val;
    return MC_OK;
}

const bus_mmio_ops dev_virtio_empty_ops = {.read = empty_read, .write = empty_write};

/* ---- life cycle and snapshots -------------------------------------- */

int dev_virtio_blk_new(dev_virtio_blk_t **out, bus_t *bus, const uint8_t *image, uint64_t size,
                       dev_irq_fn irq, void *ctx, unsigned irq_line)
{
    dev_virtio_blk_t *d;

    *out = NULL;
    if (!bus || (size && !image) || size > (UINT64_MAX / 2)) return MC_EINVAL;
    d = calloc(1, sizeof(*d));
    if (!d) return MC_ENOMEM;
    d->bus = bus;
    d->image = image;
    d->size = size;
    d->capacity = (size + SECTOR - 1) / SECTOR;
    d->irq = irq;
    d->ctx = ctx;
    d->line = irq_line;
    dev_virtio_blk_reset(d);
    *out = d;
    return MC_OK;
}

void dev_virtio_blk_free(dev_virtio_blk_t *d)
{
    if (!d) return;
    ov_free(&d->ov);
    free(d);
}

void dev_virtio_blk_reset(dev_virtio_blk_t *d)
{
    memset(&d->st, 0, sizeof(d->st));
    d->st.magic = VBLK_STATE_MAGIC;
    irq_drive(d);
}

uint64_t dev_virtio_blk_capacity(const dev_virtio_blk_t *d)
{
    return d->capacity;
}

unsigned dev_virtio_blk_state_size(void)
{
    return sizeof(vblk_state);
}

void dev_virtio_blk_state_save(const dev_virtio_blk_t *d, void *buf)
{
    memcpy(buf, &d->st, sizeof(d->st));
}

int dev_virtio_blk_state_restore(dev_virtio_blk_t *d, const void *buf, unsigned len)
{
    vblk_state s;

    if (len != sizeof(s)) return MC_ECORRUPT;
    memcpy(&s, buf, sizeof(s));
    if (s.magic != VBLK_STATE_MAGIC || s.status > 0xff || s.queue_ready > 1 ||
        s.int_status > (INT_USED | INT_CONFIG) || s.queue_num > QUEUE_MAX || s.reserved)
        return MC_ECORRUPT;
    d->st = s;
    irq_drive(d);
    return MC_OK;
}
