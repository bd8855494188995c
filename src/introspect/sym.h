/*
 * sym.h - kernel symbols: the ELF symbol table of a vmlinux (libelf), or a
 * System.map when there is no ELF.
 *
 * A sym_table is immutable once opened: lookups are read-only and may run
 * from several threads. Addresses are guest virtual addresses as linked.
 * Like sqlite3_open, sym_open sets *out even when it fails (unless memory
 * ran out), so sym_last_error() can say what was wrong; free it either way.
 */
#ifndef MACHINA_SYM_H
#define MACHINA_SYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct sym_table sym_table;

typedef enum sym_kind {
    SYM_FUNC,   /* STT_FUNC, or a text symbol of System.map */
    SYM_OBJECT, /* STT_OBJECT, or a data/bss/rodata symbol */
    SYM_OTHER,  /* STT_NOTYPE labels, absolute symbols */
} sym_kind;

typedef struct sym_info {
    const char *name; /* owned by the table */
    uint64_t addr;
    uint64_t size; /* 0 when unknown (System.map, labels) */
    char type;     /* nm(1) letter: T t D d B b R r A W V ... */
    sym_kind kind;
    bool global;
} sym_info;

/* Opens a vmlinux (ELF with .symtab) or a System.map. MC_EIO when the file
 * cannot be read, MC_EFORMAT when it is neither, MC_ENOENT when the ELF
 * has no symbol table (stripped). */
MC_MUST_CHECK int sym_open(sym_table **out, const char *path);
/* Frees a table; NULL is fine. */
void sym_free(sym_table *t);
/* The detailed message of the last failure ("" if none). */
const char *sym_last_error(const sym_table *t);

/* Number of symbols, and the i-th in address order. */
size_t sym_count(const sym_table *t);
const sym_info *sym_at(const sym_table *t, size_t i);

/* name -> symbol (a global one when a name is defined several times).
 * MC_ENOENT when absent. */
MC_MUST_CHECK int sym_lookup(const sym_table *t, const char *name, sym_info *out);
/* addr -> nearest preceding symbol (function/object preferred over labels
 * at the same address) and the offset into it. MC_ENOENT when addr lies
 * before the first symbol or past the end of the image. */
MC_MUST_CHECK int sym_addr2name(const sym_table *t, uint64_t addr, sym_info *out, uint64_t *off);
/* Writes "name" or "name+0xoff" for addr into buf; MC_ENOENT if none. */
MC_MUST_CHECK int sym_format(const sym_table *t, uint64_t addr, char *buf, size_t len);

/* The GNU build-id as lowercase hex ("" for a System.map or no note). */
const char *sym_build_id(const sym_table *t);
/* Reads the build-id note of an ELF file into hex (at least 2*20+1 bytes;
 * up to 129 for 64-byte ids). MC_ENOENT when the file has none. */
MC_MUST_CHECK int sym_file_build_id(const char *path, char *hex, size_t hexlen);

/* Address of linux_banner (the "Linux version ..." string). */
MC_MUST_CHECK int sym_linux_banner(const sym_table *t, uint64_t *addr);

/* A flat memory reader over the ELF file: maps the virtual addresses of the
 * PT_LOAD segments to file bytes (zeros past p_filesz). The initial image
 * of the kernel, before it ran. Signature matches ovl_read_fn; ctx is the
 * sym_table. MC_ERANGE for bytes outside every segment, MC_ESTATE for a
 * table opened from System.map. */
MC_MUST_CHECK int sym_read_image(void *ctx, uint64_t va, void *buf, size_t len);

#endif
