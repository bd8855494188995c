/*
 * rr_db.c - the recording file: schema, meta, images, LZ4 blobs, and the
 * validated read side (rr_open and the loaders).
 *
 * RUN.mrr is one SQLite database in WAL mode. The recorder's writer
 * thread (rr_writer.c) commits one transaction per checkpoint, holding the
 * inputs and console bytes before it, so a recorder killed at any moment leaves a
 * file that opens and replays up to its last committed checkpoint (the
 * RUN.mrr-wal file next to it then holds the committed tail until the
 * next open). Format version 1:
 *
 *   meta(key TEXT PRIMARY KEY, value TEXT)
 *     format_version  1                      snap_version   snapshot format (snap.c)
 *     emulator        "machina 0.1.0"        created        UTC, ISO 8601
 *     command         the recording command line (optional)
 *     harts, ram_size (bytes), ext (HART_EXT_* bits), quantum (steps per
 *     hart per round), ns_per_step, cmdline (kernel command line; absent
 *     when none), until_ns and until_steps (the run's limits,
 *     18446744073709551615 = none), checkpoint_every (steps),
 *     checkpoint_every_ns (guest ns; informational, readers may lack it),
 *     full_every
 *     end_icount, end_vtime_ns, end_stop (board_stop), end_code,
 *     end_state_hash (16 hex digits): written when the run ended normally;
 *     without them the recording ends at its last checkpoint.
 *   image(name TEXT PRIMARY KEY, sha256 TEXT, size INTEGER, data BLOB)
 *     name: bios, kernel, initrd, drive (the machine's inputs; absent when
 *     not used), dtb (the generated device tree, checked on replay),
 *     vmlinux (optional, for introspection). data: LZ4 frame of the bytes;
 *     sha256 and size: of the original bytes.
 *   input(seq INTEGER PRIMARY KEY, icount INTEGER, vtime_ns INTEGER,
 *         hart INTEGER, source TEXT, value INTEGER)
 *     the host inputs in the order the board took them, seq from 0.
 *     (icount, vtime_ns) = (board_steps, board_vtime) when the board asked;
 *     hart = board_current_hart. source 'uart_rx': value is the byte;
 *     source 'idle': value is the virtual time (ns) the idle jump ended at
 *     instead of its deadline (-1 = never). Only values that differ from
 *     the replay default are logged.
 *   checkpoint(seq INTEGER PRIMARY KEY, icount INTEGER, vtime_ns INTEGER,
 *              state_hash TEXT, kind TEXT, ninput INTEGER,
 *              uart_off INTEGER, raw_size INTEGER, data BLOB)
 *     seq from 0 (checkpoint 0: full, at i:0, the power-on state); kind
 *     'full' or 'delta'; state_hash: snap_hash (XXH3-64, 16 hex digits) at
 *     that instant; ninput: inputs logged before it; uart_off: UART TX
 *     bytes before it; raw_size: snapshot bytes; data: LZ4 frame of the
 *     snapshot (snap.c format), without frame checksums: the snapshot's
 *     own seal (XXH3-64) covers its bytes (files written before that
 *     carry them; both read alike). A delta applies to the state of seq - 1.
 *   uart_tx(seq INTEGER PRIMARY KEY, off INTEGER, icount INTEGER, data BLOB)
 *     the console output (UART TX bytes) in chunks: off = byte offset of
 *     the chunk, icount = board_steps when it was committed. Derived data,
 *     kept so that `uart` answers without replaying the whole run.
 *
 * Integers that do not fit SQLite's signed 64 bits (idle "never") are
 * stored as their two's complement.
 */
#include <errno.h>
#include <limits.h>
#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rr_int.h"

static const char schema[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE image(name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
    " data BLOB NOT NULL);"
    "CREATE TABLE input(seq INTEGER PRIMARY KEY, icount INTEGER NOT NULL,"
    " vtime_ns INTEGER NOT NULL, hart INTEGER NOT NULL, source TEXT NOT NULL,"
    " value INTEGER NOT NULL);"
    "CREATE TABLE checkpoint(seq INTEGER PRIMARY KEY, icount INTEGER NOT NULL,"
    " vtime_ns INTEGER NOT NULL, state_hash TEXT NOT NULL, kind TEXT NOT NULL,"
    " ninput INTEGER NOT NULL, uart_off INTEGER NOT NULL, raw_size INTEGER NOT NULL,"
    " data BLOB NOT NULL);"
    "CREATE INDEX checkpoint_icount ON checkpoint(icount);"
    "CREATE INDEX input_icount ON input(icount);"
    "CREATE TABLE uart_tx(seq INTEGER PRIMARY KEY, off INTEGER NOT NULL,"
    " icount INTEGER NOT NULL, data BLOB NOT NULL);";

int rr_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int rr_dbfail(sqlite3 *db, char *err, size_t errlen, const char *what)
{
    int code = db ? sqlite3_errcode(db) : SQLITE_ERROR;
    int rc = (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) ? MC_ECORRUPT : MC_EDB;
    return rr_fail(err, errlen, rc, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

const char *rr_source_name(rr_source s)
{
    switch (s) {
    case RR_SRC_UART_RX: return "uart_rx";
    case RR_SRC_IDLE: return "idle";
    }
    return "?";
}

static int source_parse(const char *s, rr_source *out)
{
    if (s && !strcmp(s, "uart_rx")) {
        *out = RR_SRC_UART_RX;
        return MC_OK;
    }
    if (s && !strcmp(s, "idle")) {
        *out = RR_SRC_IDLE;
        return MC_OK;
    }
    return MC_ECORRUPT;
}

/* ---- writing ---------------------------------------------------------------- */

int rr_db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return MC_OK;
    int rc = rr_fail(err, errlen, MC_EDB, "%s", msg ? msg : "sqlite error");
    sqlite3_free(msg);
    return rc;
}

int rr_db_create(sqlite3 **out, const char *path, char *err, size_t errlen)
{
    char side[4096];
    for (int i = 0; i < 3; i++) {
        static const char *const suffix[] = {"", "-wal", "-shm"};
        snprintf(side, sizeof(side), "%s%s", path, suffix[i]);
        if (unlink(side) < 0 && errno != ENOENT)
            return rr_fail(err, errlen, MC_EIO, "cannot replace '%s': %s", side, strerror(errno));
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        int rc = rr_fail(err, errlen, MC_EIO, "cannot create '%s': %s", path,
                         db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return rc;
    }
    /* someone may look at the file as it is being created (machina-replay
     * info, sqlite3): wait for such a reader's lock instead of failing */
    sqlite3_busy_timeout(db, 10000);
    int rc;
    /* 64 KiB pages: a snapshot blob is a few hundred overflow pages, not
     * thousands, so the writer makes 16 times fewer WAL frames and write
     * calls (its kernel time on the bench recording: -40%), and a seek
     * reads it in fewer calls too. The WAL is folded into the file every
     * 4 MiB (64 pages) by the writer thread, so that closing the file at
     * the end (on the machine's thread) has little left to copy and sync:
     * two fdatasync of 50 ms each became 2-4 ms on the bench. */
    if ((rc = rr_db_exec(db,
                         "PRAGMA page_size=65536; PRAGMA journal_mode=WAL; "
                         "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=64;",
                         err, errlen)) < 0 ||
        (rc = rr_db_exec(db, schema, err, errlen)) < 0) {
        sqlite3_close(db);
        return rc;
    }
    *out = db;
    return MC_OK;
}

int rr_meta_put(sqlite3 *db, const char *key, const char *value)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta VALUES(?,?)", -1, &st, NULL) !=
        SQLITE_OK)
        return MC_EDB;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? MC_OK : MC_EDB;
    sqlite3_finalize(st);
    return rc;
}

int rr_meta_putu(sqlite3 *db, const char *key, uint64_t value)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)value);
    return rr_meta_put(db, key, buf);
}

int rr_lz4_pack_into(const void *src, size_t len, bool checksums, uint8_t **buf, size_t *cap,
                     size_t *outlen)
{
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof(prefs));
    prefs.frameInfo.blockSizeID = LZ4F_max4MB;
    if (checksums) {
        prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
        prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
    }
    prefs.frameInfo.contentSize = len;
    size_t need = LZ4F_compressFrameBound(len, &prefs);
    if (!*buf || *cap < need) {
        /* a quarter more: the next, slightly larger snapshot fits too */
        size_t n = need + need / 4;
        uint8_t *p = malloc(n); /* not realloc: nothing to keep */
        if (!p) return MC_ENOMEM;
        free(*buf);
        *buf = p;
        *cap = n;
    }
    size_t n = LZ4F_compressFrame(*buf, *cap, src, len, &prefs);
    if (LZ4F_isError(n)) return MC_ENOMEM;
    *outlen = n;
    return MC_OK;
}

/* Unpacks exactly rawlen bytes into p (which holds at least rawlen). */
static int lz4_unpack_to(const void *src, size_t len, size_t rawlen, uint8_t *p)
{
    LZ4F_dctx *dc;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION))) return MC_ENOMEM;
    size_t in = 0, produced = 0, r = 1;
    while (in < len) {
        size_t sn = len - in, dn = rawlen - produced;
        r = LZ4F_decompress(dc, p + produced, &dn, (const uint8_t *)src + in, &sn, NULL);
        if (LZ4F_isError(r)) break;
        in += sn;
        produced += dn;
        if (r == 0) break;             /* frame complete */
        if (sn == 0 && dn == 0) break; /* no progress: output full */
    }
    LZ4F_freeDecompressionContext(dc);
    if (LZ4F_isError(r) || r != 0 || in != len || produced != rawlen) return MC_ECORRUPT;
    return MC_OK;
}

int rr_lz4_unpack(const void *src, size_t len, size_t rawlen, uint8_t **out)
{
    uint8_t *p = malloc(rawlen ? rawlen : 1);
    if (!p) return MC_ENOMEM;
    int rc = lz4_unpack_to(src, len, rawlen, p);
    if (rc < 0) {
        free(p);
        return rc;
    }
    *out = p;
    return MC_OK;
}

int rr_db_insert_blob(sqlite3_stmt *st, int col, const char *table, const void *data, size_t len)
{
    sqlite3 *db = sqlite3_db_handle(st);
    sqlite3_blob *bl = NULL;
    if (len > INT_MAX) return MC_EUNSUP; /* sqlite3_blob_write takes an int */
    int rc = sqlite3_bind_zeroblob64(st, col, len) == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE;
    sqlite3_reset(st);
    if (!rc) return MC_EDB;
    if (!len) return MC_OK;
    rc = sqlite3_blob_open(db, "main", table, "data", sqlite3_last_insert_rowid(db), 1, &bl) ==
             SQLITE_OK &&
         sqlite3_blob_write(bl, data, (int)len, 0) == SQLITE_OK;
    /* closing (a no-op when the open failed) hands a failed write's error
     * on to the connection, where the caller reads the reason */
    if (sqlite3_blob_close(bl) != SQLITE_OK) rc = 0;
    return rc ? MC_OK : MC_EDB;
}

int rr_db_put_image(sqlite3 *db, const char *name, const void *data, size_t size, uint8_t **z,
                    size_t *zcap)
{
    char sha[65];
    size_t zl;
    rr_sha256_hex(data, size, sha);
    int rc = rr_lz4_pack_into(data, size, true, z, zcap, &zl);
    if (rc < 0) return rc;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO image VALUES(?,?,?,?)", -1, &st, NULL) !=
        SQLITE_OK)
        return MC_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)size);
    rc = rr_db_insert_blob(st, 4, "image", *z, zl);
    sqlite3_finalize(st);
    return rc;
}

/* ---- reading ---------------------------------------------------------------- */

static bool parse_u64(const char *s, uint64_t *v)
{
    if (!s || !*s) return false;
    uint64_t x = 0;
    for (; *s; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (*s < '0' || *s > '9' || x > (UINT64_MAX - d) / 10) return false;
        x = x * 10 + d;
    }
    *v = x;
    return true;
}

static bool parse_hash(const char *s, uint64_t *v)
{
    if (!s || strlen(s) != 16) return false;
    uint64_t x = 0;
    for (; *s; s++) {
        int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
        if (d < 0) return false;
        x = x << 4 | (uint64_t)d;
    }
    *v = x;
    return true;
}

/* Meta as read: a small key/value list. */
typedef struct kv {
    char **k, **v;
    size_t n;
} kv;

static const char *kv_get(const kv *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->k[i], key)) return m->v[i];
    return NULL;
}

static void kv_free(kv *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->k[i]);
        free(m->v[i]);
    }
    free(m->k);
    free(m->v);
}

static int read_meta(rr_file *f, kv *m, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(f->db, "SELECT key, value FROM meta", -1, &st, NULL) != SQLITE_OK) {
        int rc = rr_dbfail(f->db, err, errlen, "damaged, truncated or not a recording");
        return rc == MC_EDB ? MC_ECORRUPT : rc;
    }
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        char **nk = realloc(m->k, (m->n + 1) * sizeof(char *));
        if (nk) m->k = nk;
        char **nv = realloc(m->v, (m->n + 1) * sizeof(char *));
        if (nv) m->v = nv;
        if (!nk || !nv || !k || !v) {
            sqlite3_finalize(st);
            return rr_fail(err, errlen, MC_ECORRUPT, "meta: bad row");
        }
        m->k[m->n] = strdup(k);
        m->v[m->n] = strdup(v);
        m->n++;
    }
    sqlite3_finalize(st);
    if (r != SQLITE_DONE) return rr_dbfail(f->db, err, errlen, "meta");
    return MC_OK;
}

static int meta_u64(const kv *m, const char *key, uint64_t *v, char *err, size_t errlen)
{
    if (!parse_u64(kv_get(m, key), v))
        return rr_fail(err, errlen, MC_ECORRUPT, "meta '%s' missing or not a number", key);
    return MC_OK;
}

static int fill_info(rr_file *f, const kv *m, char *err, size_t errlen)
{
    rr_info *in = &f->info;
    uint64_t v;
    int rc;
    if ((rc = meta_u64(m, "format_version", &v, err, errlen)) < 0) return rc;
    if (v > RR_FORMAT_VERSION)
        return rr_fail(err, errlen, MC_EVERSION,
                       "recording format version %llu is newer than this build supports (%u)",
                       (unsigned long long)v, RR_FORMAT_VERSION);
    if (v < 1) return rr_fail(err, errlen, MC_ECORRUPT, "recording format version 0");
    in->format_version = (unsigned)v;
    snprintf(in->emulator, sizeof(in->emulator), "%s",
             kv_get(m, "emulator") ? kv_get(m, "emulator") : "?");
    snprintf(in->created, sizeof(in->created), "%s",
             kv_get(m, "created") ? kv_get(m, "created") : "?");
    if (kv_get(m, "cmdline") && !(in->cmdline = strdup(kv_get(m, "cmdline")))) return MC_ENOMEM;
    if (kv_get(m, "command") && !(in->command = strdup(kv_get(m, "command")))) return MC_ENOMEM;
    uint64_t harts, ext, full;
    if ((rc = meta_u64(m, "harts", &harts, err, errlen)) < 0 ||
        (rc = meta_u64(m, "ram_size", &in->ram_size, err, errlen)) < 0 ||
        (rc = meta_u64(m, "ext", &ext, err, errlen)) < 0 ||
        (rc = meta_u64(m, "quantum", &in->quantum, err, errlen)) < 0 ||
        (rc = meta_u64(m, "ns_per_step", &in->ns_per_step, err, errlen)) < 0 ||
        (rc = meta_u64(m, "until_ns", &in->until_ns, err, errlen)) < 0 ||
        (rc = meta_u64(m, "until_steps", &in->until_steps, err, errlen)) < 0 ||
        (rc = meta_u64(m, "checkpoint_every", &in->checkpoint_every, err, errlen)) < 0 ||
        (rc = meta_u64(m, "full_every", &full, err, errlen)) < 0)
        return rc;
    if (harts < 1 || harts > BOARD_MAX_HARTS || ext > UINT32_MAX || full < 1 || full > 1000000)
        return rr_fail(err, errlen, MC_ECORRUPT, "meta: harts, ext or full_every out of range");
    if ((rc = meta_u64(m, "snap_version", &v, err, errlen)) < 0) return rc;
    if (v != SNAP_VERSION)
        return rr_fail(err, errlen, v > SNAP_VERSION ? MC_EVERSION : MC_ECORRUPT,
                       "snapshot format %llu not supported (this build: %u)", (unsigned long long)v,
                       SNAP_VERSION);
    if (in->ns_per_step != HART_NS_PER_STEP)
        return rr_fail(err, errlen, MC_EUNSUP, "recorded with %llu ns per step, this build has %u",
                       (unsigned long long)in->ns_per_step, HART_NS_PER_STEP);
    in->nharts = (unsigned)harts;
    in->ext = (uint32_t)ext;
    in->full_every = (unsigned)full;
    if (kv_get(m, "end_icount")) {
        uint64_t stop;
        if ((rc = meta_u64(m, "end_icount", &in->end_steps, err, errlen)) < 0 ||
            (rc = meta_u64(m, "end_vtime_ns", &in->end_vtime, err, errlen)) < 0 ||
            (rc = meta_u64(m, "end_stop", &stop, err, errlen)) < 0 ||
            (rc = meta_u64(m, "end_code", &in->end_code, err, errlen)) < 0)
            return rc;
        if (!parse_hash(kv_get(m, "end_state_hash"), &in->end_hash) || stop > 16)
            return rr_fail(err, errlen, MC_ECORRUPT, "meta: bad end_state_hash or end_stop");
        in->end_stop = (int)stop;
        in->complete = true;
    }
    return MC_OK;
}

static int load_checkpoints(rr_file *f, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    const char *sql = "SELECT seq, icount, vtime_ns, state_hash, kind, ninput, uart_off, raw_size,"
                      " length(data) FROM checkpoint ORDER BY seq";
    if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) != SQLITE_OK)
        return rr_dbfail(f->db, err, errlen, "checkpoint table");
    int r, rc = MC_OK;
    size_t cap = 0;
    uint64_t max_raw = f->info.ram_size * 2 + (64u << 20);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (f->nck == cap) {
            cap = cap ? cap * 2 : 64;
            rr_ckpt_info *n = realloc(f->ck, cap * sizeof(*n));
            if (!n) {
                rc = MC_ENOMEM;
                break;
            }
            f->ck = n;
        }
        rr_ckpt_info *c = &f->ck[f->nck];
        memset(c, 0, sizeof(*c));
        c->seq = (uint64_t)sqlite3_column_int64(st, 0);
        c->steps = (uint64_t)sqlite3_column_int64(st, 1);
        c->vtime = (uint64_t)sqlite3_column_int64(st, 2);
        const char *kind = (const char *)sqlite3_column_text(st, 4);
        c->ninput = (uint64_t)sqlite3_column_int64(st, 5);
        c->uart_off = (uint64_t)sqlite3_column_int64(st, 6);
        c->raw_size = (uint64_t)sqlite3_column_int64(st, 7);
        c->stored_size = (uint64_t)sqlite3_column_int64(st, 8);
        c->kind = kind && !strcmp(kind, "full")    ? SNAP_FULL
                  : kind && !strcmp(kind, "delta") ? SNAP_DELTA
                                                   : 0;
        const rr_ckpt_info *p = f->nck ? c - 1 : NULL;
        bool ok =
            parse_hash((const char *)sqlite3_column_text(st, 3), &c->hash) && c->kind &&
            c->seq == f->nck && c->raw_size <= max_raw && (int64_t)c->ninput >= 0 &&
            (p ? (c->steps > p->steps || (c->steps == p->steps && c->vtime > p->vtime)) &&
                     c->vtime >= p->vtime && c->ninput >= p->ninput && c->uart_off >= p->uart_off
               : c->kind == SNAP_FULL && c->steps == 0 && c->vtime == 0 && c->ninput == 0);
        if (!ok) {
            rc = rr_fail(err, errlen, MC_ECORRUPT, "checkpoint %zu: inconsistent row", f->nck);
            break;
        }
        f->nck++;
    }
    if (rc == MC_OK && r != SQLITE_DONE) rc = rr_dbfail(f->db, err, errlen, "checkpoint table");
    sqlite3_finalize(st);
    if (rc == MC_OK && f->nck == 0)
        rc = rr_fail(err, errlen, MC_ECORRUPT, "the recording has no checkpoint");
    f->info.ncheckpoints = f->nck;
    return rc;
}

static int query_u64(sqlite3 *db, const char *sql, uint64_t *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return MC_EDB;
    int rc = MC_EDB;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *v = (uint64_t)sqlite3_column_int64(st, 0);
        rc = MC_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* A file cut short: SQLite reads missing pages as zeros, which may go
 * unnoticed until a blob in them is read. Without a WAL (whose frames may
 * hold pages the main file has not yet), the file must hold every page
 * the database counts. */
static int check_size(rr_file *f, const struct stat *sb, char *err, size_t errlen)
{
    char wal[4096];
    struct stat ws;
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    if (stat(wal, &ws) == 0 && ws.st_size > 0) return MC_OK;
    uint64_t pages, psize;
    if (query_u64(f->db, "PRAGMA page_count", &pages) < 0 ||
        query_u64(f->db, "PRAGMA page_size", &psize) < 0)
        return MC_OK; /* read_meta says why */
    if (pages && psize && pages > (uint64_t)sb->st_size / psize)
        return rr_fail(err, errlen, MC_ECORRUPT,
                       "the recording is truncated: %lld bytes, it should have %llu",
                       (long long)sb->st_size, (unsigned long long)(pages * psize));
    return MC_OK;
}

int rr_open(rr_file **out, const char *path, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        return rr_fail(err, errlen, MC_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return rr_fail(err, errlen, MC_EIO, "'%s' is not a file", path);
    rr_file *f = calloc(1, sizeof(*f));
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return MC_ENOMEM;
    }
    kv m = {0};
    int rc;
    if (sqlite3_open_v2(path, &f->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = rr_dbfail(f->db, err, errlen, "cannot open the recording");
        goto fail;
    }
    sqlite3_busy_timeout(f->db, 2000);
    if ((rc = check_size(f, &sb, err, errlen)) < 0) goto fail;
    if ((rc = read_meta(f, &m, err, errlen)) < 0) goto fail;
    if ((rc = fill_info(f, &m, err, errlen)) < 0) goto fail;
    if ((rc = load_checkpoints(f, err, errlen)) < 0) goto fail;
    uint64_t maxseq = 0;
    if (query_u64(f->db, "SELECT count(*) FROM input", &f->info.ninputs) < 0 ||
        query_u64(f->db, "SELECT coalesce(max(seq)+1, 0) FROM input", &maxseq) < 0 ||
        query_u64(f->db, "SELECT coalesce(max(off+length(data)), 0) FROM uart_tx",
                  &f->info.uart_bytes) < 0) {
        rc = rr_dbfail(f->db, err, errlen, "input or uart_tx table");
        goto fail;
    }
    const rr_ckpt_info *last = &f->ck[f->nck - 1];
    if (maxseq != f->info.ninputs || last->ninput > f->info.ninputs ||
        last->uart_off > f->info.uart_bytes ||
        (f->info.complete &&
         (f->info.end_steps < last->steps || f->info.end_vtime < last->vtime))) {
        rc =
            rr_fail(err, errlen, MC_ECORRUPT, "input, uart_tx or end do not match the checkpoints");
        goto fail;
    }
    if (!f->info.complete) { /* cut short: it ends at its last checkpoint */
        f->info.end_steps = last->steps;
        f->info.end_vtime = last->vtime;
        f->info.end_hash = last->hash;
    }
    kv_free(&m);
    *out = f;
    return MC_OK;
fail:
    kv_free(&m);
    rr_close(f);
    return rc;
}

void rr_close(rr_file *f)
{
    if (!f) return;
    sqlite3_close(f->db);
    free(f->info.cmdline);
    free(f->info.command);
    free(f->ck);
    free(f->path);
    free(f);
}

const rr_info *rr_get_info(const rr_file *f)
{
    return &f->info;
}

int rr_checkpoints(rr_file *f, const rr_ckpt_info **out, size_t *n)
{
    *out = f->ck;
    *n = f->nck;
    return MC_OK;
}

int rr_images(rr_file *f, rr_image_info **out, size_t *n, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(f->db,
                           "SELECT name, sha256, size, length(data) FROM image ORDER BY rowid", -1,
                           &st, NULL) != SQLITE_OK)
        return rr_dbfail(f->db, err, errlen, "image table");
    rr_image_info *v = NULL;
    size_t k = 0;
    int r, rc = MC_OK;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        rr_image_info *nv = realloc(v, (k + 1) * sizeof(*v));
        if (!nv) {
            rc = MC_ENOMEM;
            break;
        }
        v = nv;
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *sha = (const char *)sqlite3_column_text(st, 1);
        snprintf(v[k].name, sizeof(v[k].name), "%s", name ? name : "?");
        snprintf(v[k].sha256, sizeof(v[k].sha256), "%s", sha ? sha : "?");
        v[k].size = (uint64_t)sqlite3_column_int64(st, 2);
        v[k].stored = (uint64_t)sqlite3_column_int64(st, 3);
        k++;
    }
    if (rc == MC_OK && r != SQLITE_DONE) rc = rr_dbfail(f->db, err, errlen, "image table");
    sqlite3_finalize(st);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return MC_OK;
}

int rr_image(rr_file *f, const char *name, uint8_t **data, size_t *size, char *err, size_t errlen)
{
    return rr_image_load(f, name, true, data, size, err, errlen);
}

int rr_image_load(rr_file *f, const char *name, bool check_sha, uint8_t **data, size_t *size,
                  char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(f->db, "SELECT sha256, size, data FROM image WHERE name = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return rr_dbfail(f->db, err, errlen, "image table");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(st), rc;
    if (r != SQLITE_ROW) {
        rc = r == SQLITE_DONE ? rr_fail(err, errlen, MC_ENOENT, "no image '%s'", name)
                              : rr_dbfail(f->db, err, errlen, "image table");
        sqlite3_finalize(st);
        return rc;
    }
    char sha[65], got[65];
    const char *s = (const char *)sqlite3_column_text(st, 0);
    snprintf(sha, sizeof(sha), "%s", s ? s : "");
    int64_t sz = sqlite3_column_int64(st, 1);
    const void *blob = sqlite3_column_blob(st, 2);
    int bl = sqlite3_column_bytes(st, 2);
    uint8_t *p = NULL;
    if (sz < 0 || (uint64_t)sz > (64ull << 30))
        rc = MC_ECORRUPT;
    else
        rc = rr_lz4_unpack(blob, (size_t)bl, (size_t)sz, &p);
    sqlite3_finalize(st);
    if (rc == MC_OK && check_sha) {
        rr_sha256_hex(p, (size_t)sz, got);
        if (strcmp(got, sha) != 0) rc = MC_ECORRUPT;
    }
    if (rc < 0) {
        free(p);
        return rc == MC_ENOMEM
                   ? rc
                   : rr_fail(err, errlen, MC_ECORRUPT,
                             "image '%s' is corrupt (size, LZ4 checksum or SHA-256 mismatch)",
                             name);
    }
    *data = p;
    *size = (size_t)sz;
    return MC_OK;
}

int rr_load_inputs(rr_file *f, uint64_t from, uint64_t to, rr_input_ent **out, size_t *n, char *err,
                   size_t errlen)
{
    sqlite3_stmt *st;
    const char *sql = "SELECT seq, icount, vtime_ns, hart, source, value FROM input"
                      " WHERE seq >= ? AND seq < ? ORDER BY seq";
    if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) != SQLITE_OK)
        return rr_dbfail(f->db, err, errlen, "input table");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
    sqlite3_bind_int64(st, 2, to > INT64_MAX ? INT64_MAX : (sqlite3_int64)to);
    rr_input_ent *v = NULL;
    size_t k = 0, cap = 0;
    int r, rc = MC_OK;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (k == cap) {
            cap = cap ? 2 * cap : 256;
            rr_input_ent *nv = realloc(v, cap * sizeof(*v));
            if (!nv) {
                rc = MC_ENOMEM;
                break;
            }
            v = nv;
        }
        rr_input_ent *e = &v[k];
        e->steps = (uint64_t)sqlite3_column_int64(st, 1);
        e->vtime = (uint64_t)sqlite3_column_int64(st, 2);
        int64_t hart = sqlite3_column_int64(st, 3);
        e->value = (uint64_t)sqlite3_column_int64(st, 5);
        const rr_input_ent *p = k ? e - 1 : NULL;
        if ((uint64_t)sqlite3_column_int64(st, 0) != from + k || hart < 0 ||
            hart >= (int64_t)f->info.nharts ||
            source_parse((const char *)sqlite3_column_text(st, 4), &e->src) < 0 ||
            (e->src == RR_SRC_UART_RX && e->value > 255) ||
            (p && (e->steps < p->steps || (e->steps == p->steps && e->vtime < p->vtime)))) {
            rc = rr_fail(err, errlen, MC_ECORRUPT, "input %llu: inconsistent row",
                         (unsigned long long)(from + k));
            break;
        }
        e->hart = (unsigned)hart;
        k++;
    }
    if (rc == MC_OK && r != SQLITE_DONE) rc = rr_dbfail(f->db, err, errlen, "input table");
    sqlite3_finalize(st);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return MC_OK;
}

int rr_load_checkpoint(rr_file *f, uint64_t seq, uint8_t **buf, size_t *len, char *err,
                       size_t errlen)
{
    size_t cap = 0;
    *buf = NULL;
    int rc = rr_load_checkpoint_into(f, seq, buf, &cap, len, err, errlen);
    if (rc < 0) {
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

int rr_load_checkpoint_into(rr_file *f, uint64_t seq, uint8_t **buf, size_t *cap, size_t *len,
                            char *err, size_t errlen)
{
    if (seq >= f->nck)
        return rr_fail(err, errlen, MC_ENOENT, "no checkpoint %llu", (unsigned long long)seq);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(f->db, "SELECT data FROM checkpoint WHERE seq = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return rr_dbfail(f->db, err, errlen, "checkpoint table");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    int r = sqlite3_step(st), rc;
    if (r != SQLITE_ROW) {
        rc = rr_dbfail(f->db, err, errlen, "checkpoint table");
        sqlite3_finalize(st);
        return rc;
    }
    size_t raw = f->ck[seq].raw_size;
    rc = MC_OK;
    if (*cap < raw || !*buf) {
        uint8_t *n = realloc(*buf, raw ? raw : 1);
        if (!n)
            rc = MC_ENOMEM;
        else {
            *buf = n;
            *cap = raw ? raw : 1;
        }
    }
    if (rc == MC_OK)
        rc = lz4_unpack_to(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), raw,
                           *buf);
    sqlite3_finalize(st);
    if (rc == MC_ECORRUPT)
        return rr_fail(err, errlen, rc,
                       "checkpoint %llu (i:%llu) is corrupt: its data does not decompress",
                       (unsigned long long)seq, (unsigned long long)f->ck[seq].steps);
    if (rc < 0) return rc;
    *len = f->ck[seq].raw_size;
    return MC_OK;
}

int rr_load_uart(rr_file *f, uint64_t upto, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(f->db, "SELECT off, data FROM uart_tx WHERE off < ? ORDER BY seq", -1,
                           &st, NULL) != SQLITE_OK)
        return rr_dbfail(f->db, err, errlen, "uart_tx table");
    sqlite3_bind_int64(st, 1, upto > INT64_MAX ? INT64_MAX : (sqlite3_int64)upto);
    uint64_t total = upto < f->info.uart_bytes ? upto : f->info.uart_bytes;
    uint8_t *p = malloc(total ? total : 1);
    if (!p) {
        sqlite3_finalize(st);
        return MC_ENOMEM;
    }
    uint64_t have = 0;
    int r, rc = MC_OK;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t off = (uint64_t)sqlite3_column_int64(st, 0);
        const void *d = sqlite3_column_blob(st, 1);
        uint64_t n = (uint64_t)sqlite3_column_bytes(st, 1);
        if (off != have) {
            rc = rr_fail(err, errlen, MC_ECORRUPT, "uart_tx: chunk at %llu, expected %llu",
                         (unsigned long long)off, (unsigned long long)have);
            break;
        }
        if (n > total - have) n = total - have;
        memcpy(p + have, d, n);
        have += n;
    }
    if (rc == MC_OK && r != SQLITE_DONE) rc = rr_dbfail(f->db, err, errlen, "uart_tx table");
    sqlite3_finalize(st);
    if (rc == MC_OK && have != total)
        rc = rr_fail(err, errlen, MC_ECORRUPT, "uart_tx: %llu bytes, expected %llu",
                     (unsigned long long)have, (unsigned long long)total);
    if (rc < 0) {
        free(p);
        return rc;
    }
    *buf = p;
    *len = have;
    return MC_OK;
}

int rr_uart_stored(rr_file *f, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    return rr_load_uart(f, UINT64_MAX, buf, len, err, errlen);
}
