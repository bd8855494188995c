/*
 * dwarf.h - C types and global variables of a kernel, read from its DWARF
 * (libdwarf) and cached per build-id in SQLite.
 *
 * Opening indexes the names of every top-level struct, union, enum,
 * typedef, base type and located global variable once (name -> DIE
 * offset); types are resolved lazily, one DIE and its members at a time,
 * and every resolved type is written to the cache, so a second process on
 * the same vmlinux answers from SQLite without reading DWARF. The cache is
 * ~/.cache/machina/types/<build-id>.sqlite (format: dwarf_cache.c).
 *
 * Type handles (dwarf_type_t) are owned by the dwarf_types that returned
 * them and live until dwarf_free. A handle's id is its .debug_info DIE
 * offset (stable for a build-id); synthesized types (pointer-to-X made for
 * a cast, sub-arrays of multi-dimensional arrays) have ids with bit 63 set.
 * A dwarf_types is used by one thread at a time (lookups fill its cache).
 * Note: libdwarf also ships a <dwarf.h>; code here includes libdwarf's as
 * <libdwarf/dwarf.h> so that "dwarf.h" is always this header.
 * Like sqlite3_open, dwarf_open sets *out even when it fails (unless
 * memory ran out) so dwarf_last_error() can explain; free it either way.
 */
#ifndef MACHINA_DWARF_H
#define MACHINA_DWARF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct dwarf_types dwarf_types;
typedef const struct dwarf_type *dwarf_type_t;

typedef enum dwarf_kind {
    DWARF_K_VOID,
    DWARF_K_BASE, /* integer, char, bool, float: see dwarf_type_encoding */
    DWARF_K_STRUCT,
    DWARF_K_UNION,
    DWARF_K_ENUM,
    DWARF_K_TYPEDEF,
    DWARF_K_POINTER, /* size 8; target may be void or a function */
    DWARF_K_ARRAY,   /* target = element type, dims = counts, outermost first */
    DWARF_K_CONST,
    DWARF_K_VOLATILE,
    DWARF_K_RESTRICT,
    DWARF_K_FUNC, /* a function type, opaque */
} dwarf_kind;

/* Base type encodings (DW_ATE_* values). */
enum {
    DWARF_ENC_BOOL = 0x02,
    DWARF_ENC_FLOAT = 0x04,
    DWARF_ENC_SIGNED = 0x05,
    DWARF_ENC_SIGNED_CHAR = 0x06,
    DWARF_ENC_UNSIGNED = 0x07,
    DWARF_ENC_UNSIGNED_CHAR = 0x08,
};

typedef struct dwarf_member {
    const char *name;    /* "" for an anonymous struct/union member */
    uint64_t offset;     /* bytes from the start of the containing type */
    unsigned bit_offset; /* bit-fields: first bit above offset*8, LSB first */
    unsigned bit_size;   /* 0 unless a bit-field */
    dwarf_type_t type;
} dwarf_member;

typedef struct dwarf_stats {
    bool index_from_cache; /* the name index came from SQLite */
    double index_seconds;  /* time spent indexing DWARF in this process */
    uint64_t types_from_dwarf, types_from_cache;
} dwarf_stats;

/* Opens the DWARF of a vmlinux. cache_dir: NULL for the default
 * ($MACHINA_CACHE_DIR/types, else ~/.cache/machina/types), "" for no
 * persistent cache. MC_EIO, MC_EFORMAT (not an ELF, no .debug_info),
 * MC_ECORRUPT (unreadable DWARF), MC_EDB. */
MC_MUST_CHECK int dwarf_open(dwarf_types **out, const char *vmlinux, const char *cache_dir);
void dwarf_free(dwarf_types *d);
/* Message of the last failure on d ("" if none). */
const char *dwarf_last_error(const dwarf_types *d);
const char *dwarf_build_id(const dwarf_types *d);
void dwarf_get_stats(const dwarf_types *d, dwarf_stats *out);

/* A type by its C spelling: "struct task_struct", "union x", "enum y",
 * "pid_t", "unsigned long", "struct list_head *". A bare tag name
 * ("task_struct") is tried in the struct/union/enum namespaces after the
 * ordinary one. MC_ENOENT when unknown. */
MC_MUST_CHECK int dwarf_type_lookup(dwarf_types *d, const char *cname, dwarf_type_t *out);
/* A type by id (DIE offset, or a synthesized id seen before). */
MC_MUST_CHECK int dwarf_type_by_id(dwarf_types *d, uint64_t id, dwarf_type_t *out);
/* A global variable: address (DW_OP_addr) and type. MC_ENOENT if none. */
MC_MUST_CHECK int dwarf_var_lookup(dwarf_types *d, const char *name, uint64_t *addr,
                                   dwarf_type_t *type);

dwarf_kind dwarf_type_kind(dwarf_type_t t);
/* Tag or typedef/base name without "struct "; NULL when anonymous. */
const char *dwarf_type_name(dwarf_type_t t);
uint64_t dwarf_type_id(dwarf_type_t t);
/* Size in bytes (typedefs and qualifiers: their target's; arrays: all
 * elements; 0 for void, functions, incomplete and flexible arrays). */
uint64_t dwarf_type_size(dwarf_type_t t);
unsigned dwarf_type_encoding(dwarf_type_t t);
/* True for a struct/union/enum whose definition is not in the DWARF. */
bool dwarf_type_incomplete(dwarf_type_t t);

/* Target of a pointer/typedef/qualifier/array (element type); void for a
 * void pointer. MC_EINVAL for other kinds. */
MC_MUST_CHECK int dwarf_type_target(dwarf_types *d, dwarf_type_t t, dwarf_type_t *out);
/* t without typedefs and const/volatile/restrict. */
MC_MUST_CHECK int dwarf_type_strip(dwarf_types *d, dwarf_type_t t, dwarf_type_t *out);
/* The type "pointer to t" (found or synthesized). */
MC_MUST_CHECK int dwarf_type_pointer_to(dwarf_types *d, dwarf_type_t t, dwarf_type_t *out);
/* Element type of one index into array t: the element, or for a
 * multi-dimensional array the array of the remaining dimensions. */
MC_MUST_CHECK int dwarf_type_index(dwarf_types *d, dwarf_type_t t, dwarf_type_t *out);

/* Members of a struct/union, in declaration order. */
size_t dwarf_type_nmembers(dwarf_type_t t);
MC_MUST_CHECK int dwarf_type_member(dwarf_types *d, dwarf_type_t t, size_t i, dwarf_member *out);
/* Finds a member by name in a struct/union (typedefs/qualifiers of t are
 * stripped), searching through anonymous struct/union members as C does
 * (offset accumulated). names may list alternatives, "__state|state": the
 * first that exists wins. MC_ENOENT with "no field 'x' in struct y". */
MC_MUST_CHECK int dwarf_type_find_member(dwarf_types *d, dwarf_type_t t, const char *names,
                                         dwarf_member *out);

/* Array dimensions (outermost first); a count of 0 is a flexible array. */
size_t dwarf_type_ndims(dwarf_type_t t);
uint64_t dwarf_type_dim(dwarf_type_t t, size_t i);

/* Enumerators of an enum. */
size_t dwarf_type_nenums(dwarf_type_t t);
const char *dwarf_type_enum(dwarf_type_t t, size_t i, int64_t *value);

/* Writes the C spelling of t ("struct task_struct *", "char [16]",
 * "long unsigned int") into buf; returns buf. */
const char *dwarf_type_format(dwarf_types *d, dwarf_type_t t, char *buf, size_t len);
const char *dwarf_kind_name(dwarf_kind k);

#endif
