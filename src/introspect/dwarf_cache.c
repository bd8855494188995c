/*
 * dwarf_cache.c - the per-build-id SQLite store of the DWARF name index
 * and of resolved types.
 *
 * File: <cache_dir>/<build-id>.sqlite, WAL mode; several processes may
 * share it (every insert is INSERT OR IGNORE: a row, once written, is the
 * same for everyone since it derives from the same vmlinux). Without a
 * cache dir (or without a build-id) the same schema lives in ":memory:".
 *
 * Schema (version 1):
 *   meta(key TEXT PRIMARY KEY, value TEXT)
 *       schema=1, build_id=<hex>, indexed=1 once the name index is complete,
 *       index_seconds=<time the first process spent indexing>
 *   name_index(ns INTEGER, name TEXT, die INTEGER, PRIMARY KEY(ns, name))
 *       ns: 1 struct, 2 union, 3 enum, 4 ordinary (typedef, base type);
 *       die: .debug_info offset of the first complete definition
 *   global(name TEXT PRIMARY KEY, addr INTEGER, type_id INTEGER)
 *       top-level variables with a DW_OP_addr location
 *   type(id INTEGER PRIMARY KEY, kind, name, size, enc, flags, target)
 *       id = DIE offset; kind = dwarf_kind; size already resolved through
 *       typedefs/arrays; target = DIE offset of the target/element (0 void)
 *   field(type_id, idx, name, offset, bit_offset, bit_size, field_type)
 *   dim(type_id, idx, count)          array dimensions, outermost first
 *   enumerator(type_id, idx, name, value)
 *   redirect(id INTEGER PRIMARY KEY, to_id)
 *       a struct/union/enum declaration DIE -> its definition's DIE
 * Rows are only ever added; a schema or build-id mismatch recreates the
 * file.
 */
#include "dwarf_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCHEMA_VERSION "1"

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS name_index(ns INTEGER, name TEXT, die INTEGER,"
    " PRIMARY KEY(ns, name)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS global(name TEXT PRIMARY KEY, addr INTEGER, type_id INTEGER)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS type(id INTEGER PRIMARY KEY, kind INTEGER, name TEXT,"
    " size INTEGER, enc INTEGER, flags INTEGER, target INTEGER);"
    "CREATE TABLE IF NOT EXISTS field(type_id INTEGER, idx INTEGER, name TEXT, offset INTEGER,"
    " bit_offset INTEGER, bit_size INTEGER, field_type INTEGER, PRIMARY KEY(type_id, idx))"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS dim(type_id INTEGER, idx INTEGER, count INTEGER,"
    " PRIMARY KEY(type_id, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS enumerator(type_id INTEGER, idx INTEGER, name TEXT,"
    " value INTEGER, PRIMARY KEY(type_id, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS redirect(id INTEGER PRIMARY KEY, to_id INTEGER);";

static const char *const stmt_sql[ST_COUNT] = {
    [ST_NAME_GET] = "SELECT die FROM name_index WHERE ns=?1 AND name=?2",
    [ST_NAME_PUT] = "INSERT OR IGNORE INTO name_index VALUES(?1,?2,?3)",
    [ST_GLOBAL_GET] = "SELECT addr, type_id FROM global WHERE name=?1",
    [ST_GLOBAL_PUT] = "INSERT OR IGNORE INTO global VALUES(?1,?2,?3)",
    [ST_TYPE_GET] = "SELECT kind, name, size, enc, flags, target FROM type WHERE id=?1",
    [ST_TYPE_PUT] = "INSERT OR IGNORE INTO type VALUES(?1,?2,?3,?4,?5,?6,?7)",
    [ST_FIELD_GET] = "SELECT name, offset, bit_offset, bit_size, field_type FROM field"
                     " WHERE type_id=?1 ORDER BY idx",
    [ST_FIELD_PUT] = "INSERT OR IGNORE INTO field VALUES(?1,?2,?3,?4,?5,?6,?7)",
    [ST_DIM_GET] = "SELECT count FROM dim WHERE type_id=?1 ORDER BY idx",
    [ST_DIM_PUT] = "INSERT OR IGNORE INTO dim VALUES(?1,?2,?3)",
    [ST_ENUM_GET] = "SELECT name, value FROM enumerator WHERE type_id=?1 ORDER BY idx",
    [ST_ENUM_PUT] = "INSERT OR IGNORE INTO enumerator VALUES(?1,?2,?3,?4)",
    [ST_REDIR_GET] = "SELECT to_id FROM redirect WHERE id=?1",
    [ST_REDIR_PUT] = "INSERT OR IGNORE INTO redirect VALUES(?1,?2)",
};

static int db_fail(dwarf_types *d, const char *what)
{
    return dwarf_fail(d, MC_EDB, "type cache: %s: %s", what, d->db ? sqlite3_errmsg(d->db) : "?");
}

static int mkdirs(const char *dir)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int meta_get(dwarf_types *d, const char *key, char *val, size_t len)
{
    sqlite3_stmt *s;
    val[0] = 0;
    if (sqlite3_prepare_v2(d->db, "SELECT value FROM meta WHERE key=?1", -1, &s, NULL))
        return MC_EDB;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        snprintf(val, len, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return 0;
}

static int meta_put(dwarf_types *d, const char *key, const char *val)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(d->db, "INSERT OR REPLACE INTO meta VALUES(?1,?2)", -1, &s, NULL))
        return db_fail(d, "meta");
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, val, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(d, "meta");
    sqlite3_finalize(s);
    return rc;
}

/* Opens file (or ":memory:"), creates the schema; checks version/build-id. */
static int open_db(dwarf_types *d, const char *file, bool *stale)
{
    *stale = false;
    if (sqlite3_open_v2(file, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL))
        return db_fail(d, file);
    sqlite3_busy_timeout(d->db, 10000);
    if (sqlite3_exec(d->db, schema, NULL, NULL, NULL)) {
        *stale = true; /* not a database, or damaged */
        return db_fail(d, file);
    }
    char v[140];
    if (meta_get(d, "schema", v, sizeof(v))) return db_fail(d, file);
    if (v[0] && strcmp(v, SCHEMA_VERSION)) {
        *stale = true;
        return dwarf_fail(d, MC_EVERSION, "type cache %s: schema %s", file, v);
    }
    if (meta_get(d, "build_id", v, sizeof(v))) return db_fail(d, file);
    if (v[0] && strcmp(v, d->build_id)) {
        *stale = true;
        return dwarf_fail(d, MC_ECORRUPT, "type cache %s: build-id %s", file, v);
    }
    int rc;
    if (!v[0] && ((rc = meta_put(d, "schema", SCHEMA_VERSION)) ||
                  (rc = meta_put(d, "build_id", d->build_id))))
        return rc;
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(d->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &d->st[i], NULL))
            return db_fail(d, "prepare");
    return 0;
}

int dwarf_cache_open(dwarf_types *d, const char *dir, bool *indexed)
{
    char file[1200];
    const char *home;
    char defdir[1024];
    *indexed = false;
    if (!dir) {
        if ((home = getenv("MACHINA_CACHE_DIR")) && *home)
            snprintf(defdir, sizeof(defdir), "%s/types", home);
        else if ((home = getenv("HOME")) && *home)
            snprintf(defdir, sizeof(defdir), "%s/.cache/machina/types", home);
        else
            defdir[0] = 0;
        dir = defdir;
    }
    if (!*dir || !d->build_id[0] || mkdirs(dir) < 0) {
        snprintf(file, sizeof(file), ":memory:");
    } else {
        snprintf(file, sizeof(file), "%s/%s.sqlite", dir, d->build_id);
    }
    bool stale;
    int rc = open_db(d, file, &stale);
    if (rc && stale && strcmp(file, ":memory:")) {
        /* a damaged or foreign cache: rebuild it from the vmlinux */
        dwarf_cache_close(d);
        unlink(file);
        char aux[1300];
        snprintf(aux, sizeof(aux), "%s-wal", file);
        unlink(aux);
        snprintf(aux, sizeof(aux), "%s-shm", file);
        unlink(aux);
        rc = open_db(d, file, &stale);
    }
    if (rc) return rc;
    char v[32];
    if (meta_get(d, "indexed", v, sizeof(v))) return db_fail(d, "meta");
    *indexed = !strcmp(v, "1");
    return 0;
}

void dwarf_cache_close(dwarf_types *d)
{
    if (!d->db) return;
    if (d->in_tx) (void)dwarf_cache_commit(d);
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(d->st[i]);
        d->st[i] = NULL;
    }
    sqlite3_close(d->db);
    d->db = NULL;
}

int dwarf_cache_begin(dwarf_types *d)
{
    if (d->in_tx) return 0;
    if (sqlite3_exec(d->db, "BEGIN", NULL, NULL, NULL)) return db_fail(d, "begin");
    d->in_tx = true;
    return 0;
}

int dwarf_cache_commit(dwarf_types *d)
{
    if (!d->in_tx) return 0;
    d->in_tx = false;
    if (sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL)) return db_fail(d, "commit");
    return 0;
}

int dwarf_cache_mark_indexed(dwarf_types *d, double seconds)
{
    char v[32];
    snprintf(v, sizeof(v), "%.3f", seconds);
    int rc = meta_put(d, "index_seconds", v);
    return rc ? rc : meta_put(d, "indexed", "1");
}

/* Runs a put statement to completion and resets it. */
static int put_done(dwarf_types *d, sqlite3_stmt *s)
{
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return r == SQLITE_DONE ? 0 : db_fail(d, "insert");
}

int dwarf_cache_put_name(dwarf_types *d, int ns, const char *name, uint64_t die)
{
    sqlite3_stmt *s = d->st[ST_NAME_PUT];
    sqlite3_bind_int(s, 1, ns);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)die);
    return put_done(d, s);
}

int dwarf_cache_get_name(dwarf_types *d, int ns, const char *name, uint64_t *die)
{
    sqlite3_stmt *s = d->st[ST_NAME_GET];
    sqlite3_bind_int(s, 1, ns);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(s), rc = MC_ENOENT;
    if (r == SQLITE_ROW) {
        *die = (uint64_t)sqlite3_column_int64(s, 0);
        rc = 0;
    } else if (r != SQLITE_DONE) {
        rc = db_fail(d, "name lookup");
    }
    sqlite3_reset(s);
    return rc;
}

int dwarf_cache_put_global(dwarf_types *d, const char *name, uint64_t addr, uint64_t type)
{
    sqlite3_stmt *s = d->st[ST_GLOBAL_PUT];
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)addr);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)type);
    return put_done(d, s);
}

int dwarf_cache_get_global(dwarf_types *d, const char *name, uint64_t *addr, uint64_t *type)
{
    sqlite3_stmt *s = d->st[ST_GLOBAL_GET];
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(s), rc = MC_ENOENT;
    if (r == SQLITE_ROW) {
        *addr = (uint64_t)sqlite3_column_int64(s, 0);
        *type = (uint64_t)sqlite3_column_int64(s, 1);
        rc = 0;
    } else if (r != SQLITE_DONE) {
        rc = db_fail(d, "global lookup");
    }
    sqlite3_reset(s);
    return rc;
}

int dwarf_cache_put_redirect(dwarf_types *d, uint64_t from, uint64_t to)
{
    sqlite3_stmt *s = d->st[ST_REDIR_PUT];
    int rc = dwarf_cache_begin(d);
    if (rc) return rc;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)from);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)to);
    return put_done(d, s);
}

int dwarf_cache_get_redirect(dwarf_types *d, uint64_t from, uint64_t *to)
{
    sqlite3_stmt *s = d->st[ST_REDIR_GET];
    sqlite3_bind_int64(s, 1, (sqlite3_int64)from);
    int r = sqlite3_step(s), rc = MC_ENOENT;
    if (r == SQLITE_ROW) {
        *to = (uint64_t)sqlite3_column_int64(s, 0);
        rc = 0;
    } else if (r != SQLITE_DONE) {
        rc = db_fail(d, "redirect lookup");
    }
    sqlite3_reset(s);
    return rc;
}

int dwarf_cache_put_type(dwarf_types *d, const struct dwarf_type *t)
{
    int rc = dwarf_cache_begin(d);
    if (rc) return rc;
    sqlite3_stmt *s = d->st[ST_TYPE_PUT];
    sqlite3_bind_int64(s, 1, (sqlite3_int64)t->id);
    sqlite3_bind_int(s, 2, (int)t->kind);
    if (t->name) sqlite3_bind_text(s, 3, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)t->size);
    sqlite3_bind_int(s, 5, (int)t->enc);
    sqlite3_bind_int(s, 6, (int)t->flags);
    sqlite3_bind_int64(s, 7, (sqlite3_int64)t->target);
    if ((rc = put_done(d, s))) return rc;
    for (uint32_t i = 0; i < t->nmembers; i++) {
        const dwarf_mem_rec *m = &t->members[i];
        s = d->st[ST_FIELD_PUT];
        sqlite3_bind_int64(s, 1, (sqlite3_int64)t->id);
        sqlite3_bind_int(s, 2, (int)i);
        sqlite3_bind_text(s, 3, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, (sqlite3_int64)m->offset);
        sqlite3_bind_int(s, 5, (int)m->bit_offset);
        sqlite3_bind_int(s, 6, (int)m->bit_size);
        sqlite3_bind_int64(s, 7, (sqlite3_int64)m->type);
        if ((rc = put_done(d, s))) return rc;
    }
    for (uint32_t i = 0; i < t->ndims; i++) {
        s = d->st[ST_DIM_PUT];
        sqlite3_bind_int64(s, 1, (sqlite3_int64)t->id);
        sqlite3_bind_int(s, 2, (int)i);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)t->dims[i]);
        if ((rc = put_done(d, s))) return rc;
    }
    for (uint32_t i = 0; i < t->nenums; i++) {
        s = d->st[ST_ENUM_PUT];
        sqlite3_bind_int64(s, 1, (sqlite3_int64)t->id);
        sqlite3_bind_int(s, 2, (int)i);
        sqlite3_bind_text(s, 3, t->enums[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, t->enums[i].value);
        if ((rc = put_done(d, s))) return rc;
    }
    return 0;
}

static char *dup_col(sqlite3_stmt *s, int col)
{
    const unsigned char *p = sqlite3_column_text(s, col);
    return p ? strdup((const char *)p) : NULL;
}

/* Reads the rows of a child table into a grown array via fill(). */
static int load_rows(dwarf_types *d, int st, uint64_t id, void **arr, uint32_t *n, size_t elem,
                     void (*fill)(sqlite3_stmt *, void *))
{
    sqlite3_stmt *s = d->st[st];
    sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
    size_t cap = 0;
    int r, rc = 0;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            void *p = realloc(*arr, cap * elem);
            if (!p) {
                rc = MC_ENOMEM;
                break;
            }
            *arr = p;
        }
        fill(s, (char *)*arr + (size_t)(*n)++ * elem);
    }
    if (!rc && r != SQLITE_DONE) rc = db_fail(d, "type load");
    sqlite3_reset(s);
    return rc;
}

static void fill_field(sqlite3_stmt *s, void *p)
{
    dwarf_mem_rec *m = p;
    m->name = dup_col(s, 0);
    m->offset = (uint64_t)sqlite3_column_int64(s, 1);
    m->bit_offset = (uint32_t)sqlite3_column_int(s, 2);
    m->bit_size = (uint32_t)sqlite3_column_int(s, 3);
    m->type = (uint64_t)sqlite3_column_int64(s, 4);
}

static void fill_dim(sqlite3_stmt *s, void *p)
{
    *(uint64_t *)p = (uint64_t)sqlite3_column_int64(s, 0);
}

static void fill_enum(sqlite3_stmt *s, void *p)
{
    dwarf_enum_rec *e = p;
    e->name = dup_col(s, 0);
    e->value = sqlite3_column_int64(s, 1);
}

int dwarf_cache_get_type(dwarf_types *d, uint64_t id, struct dwarf_type **out)
{
    sqlite3_stmt *s = d->st[ST_TYPE_GET];
    sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
    int r = sqlite3_step(s);
    if (r != SQLITE_ROW) {
        sqlite3_reset(s);
        return r == SQLITE_DONE ? MC_ENOENT : db_fail(d, "type load");
    }
    struct dwarf_type *t = calloc(1, sizeof(*t));
    if (!t) {
        sqlite3_reset(s);
        return MC_ENOMEM;
    }
    t->id = id;
    t->kind = (dwarf_kind)sqlite3_column_int(s, 0);
    t->name = dup_col(s, 1);
    t->size = (uint64_t)sqlite3_column_int64(s, 2);
    t->enc = (unsigned)sqlite3_column_int(s, 3);
    t->flags = (unsigned)sqlite3_column_int(s, 4);
    t->target = (uint64_t)sqlite3_column_int64(s, 5);
    sqlite3_reset(s);
    int rc = 0;
    if (t->kind > DWARF_K_FUNC)
        rc = dwarf_fail(d, MC_ECORRUPT, "type cache: bad kind for %#llx", (unsigned long long)id);
    if (!rc && (t->kind == DWARF_K_STRUCT || t->kind == DWARF_K_UNION))
        rc = load_rows(d, ST_FIELD_GET, id, (void **)&t->members, &t->nmembers, sizeof(*t->members),
                       fill_field);
    if (!rc && t->kind == DWARF_K_ARRAY)
        rc = load_rows(d, ST_DIM_GET, id, (void **)&t->dims, &t->ndims, sizeof(*t->dims), fill_dim);
    if (!rc && t->kind == DWARF_K_ENUM)
        rc = load_rows(d, ST_ENUM_GET, id, (void **)&t->enums, &t->nenums, sizeof(*t->enums),
                       fill_enum);
    if (rc) {
        dwarf_type_release(t);
        return rc;
    }
    for (uint32_t i = 0; i < t->nmembers; i++)
        if (!t->members[i].name) rc = MC_ENOMEM;
    for (uint32_t i = 0; i < t->nenums; i++)
        if (!t->enums[i].name) rc = MC_ENOMEM;
    if (rc) {
        dwarf_type_release(t);
        return rc;
    }
    *out = t;
    return 0;
}
