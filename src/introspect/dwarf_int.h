/*
 * dwarf_int.h - private structures shared by dwarf.c (libdwarf side) and
 * dwarf_cache.c (SQLite side).
 */
#ifndef MACHINA_DWARF_INT_H
#define MACHINA_DWARF_INT_H

#include <libdwarf/libdwarf.h>
#include <sqlite3.h>

#include "dwarf.h"

/* name namespaces of the index */
enum { NS_STRUCT = 1, NS_UNION = 2, NS_ENUM = 3, NS_ORD = 4 /* typedefs, base types */ };

/* type flags */
enum { DT_INCOMPLETE = 1 };

/* Type ids: DIE offsets (< 2^40), or synthesized:
 *   pointer:   DT_SYNTH_PTR | depth << 48 | id of the pointee chain's base
 *   sub-array: DT_SYNTH_SUB | dims dropped << 40 | DIE offset of the array */
#define DT_DIE_MASK  ((1ull << 40) - 1)
#define DT_SYNTH_PTR (1ull << 63)
#define DT_SYNTH_SUB (1ull << 62)

typedef struct dwarf_mem_rec {
    char *name;
    uint64_t offset;
    uint32_t bit_offset, bit_size;
    uint64_t type;
} dwarf_mem_rec;

typedef struct dwarf_enum_rec {
    char *name;
    int64_t value;
} dwarf_enum_rec;

struct dwarf_type {
    uint64_t id;
    dwarf_kind kind;
    char *name;
    uint64_t size;
    unsigned enc;
    unsigned flags;
    uint64_t target;
    uint32_t nmembers, ndims, nenums;
    dwarf_mem_rec *members;
    uint64_t *dims;
    dwarf_enum_rec *enums;
};

enum {
    ST_NAME_GET,
    ST_NAME_PUT,
    ST_GLOBAL_GET,
    ST_GLOBAL_PUT,
    ST_TYPE_GET,
    ST_TYPE_PUT,
    ST_FIELD_GET,
    ST_FIELD_PUT,
    ST_DIM_GET,
    ST_DIM_PUT,
    ST_ENUM_GET,
    ST_ENUM_PUT,
    ST_REDIR_GET,
    ST_REDIR_PUT,
    ST_COUNT
};

struct dwarf_types {
    char *path;
    char build_id[130];
    char err[512];
    int fd;
    Dwarf_Debug dbg; /* opened lazily: NULL until DWARF must be read */
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    bool in_tx;
    struct dwarf_type **slots; /* open addressing by id */
    size_t cap, count;
    dwarf_stats stats;
};

int dwarf_fail(dwarf_types *d, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* dwarf.c: the record of id (resolved from cache or DWARF) */
int dwarf_get_type(dwarf_types *d, uint64_t id, struct dwarf_type **out);
/* Public entry points end with this: commits what was resolved. */
int dwarf_done(dwarf_types *d, int rc);

/* dwarf_cache.c */
int dwarf_cache_open(dwarf_types *d, const char *dir, bool *indexed);
void dwarf_cache_close(dwarf_types *d);
int dwarf_cache_begin(dwarf_types *d);
int dwarf_cache_commit(dwarf_types *d);
int dwarf_cache_mark_indexed(dwarf_types *d, double seconds);
int dwarf_cache_put_name(dwarf_types *d, int ns, const char *name, uint64_t die);
int dwarf_cache_get_name(dwarf_types *d, int ns, const char *name, uint64_t *die);
int dwarf_cache_put_global(dwarf_types *d, const char *name, uint64_t addr, uint64_t type);
int dwarf_cache_get_global(dwarf_types *d, const char *name, uint64_t *addr, uint64_t *type);
int dwarf_cache_put_redirect(dwarf_types *d, uint64_t from, uint64_t to);
int dwarf_cache_get_redirect(dwarf_types *d, uint64_t from, uint64_t *to);
int dwarf_cache_put_type(dwarf_types *d, const struct dwarf_type *t);
/* MC_ENOENT when the type is not cached; *out is malloc'ed */
int dwarf_cache_get_type(dwarf_types *d, uint64_t id, struct dwarf_type **out);
void dwarf_type_release(struct dwarf_type *t);

#endif
