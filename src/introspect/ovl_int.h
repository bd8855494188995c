/*
 * ovl_int.h - private parts of the overlay engine shared by ovl.c
 * (expressions) and ovl_show.c (printing, list walks).
 */
#ifndef MACHINA_OVL_INT_H
#define MACHINA_OVL_INT_H

#include "ovl.h"

struct ovl {
    dwarf_types *d;
    const sym_table *syms;
    ovl_read_fn read;
    void *ctx;
    dwarf_type_t t_long, t_ulong;
    char err[512];
    int col;
};

/* Sets the message ("column N: ..." when col > 0) and returns rc. */
int ovl_fail(ovl *o, int col, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* t without typedefs and qualifiers. */
int ovl_strip(ovl *o, dwarf_type_t t, dwarf_type_t *out);
/* Reads guest memory; the failure names the address. */
int ovl_mem_read(ovl *o, uint64_t va, void *buf, size_t len);
bool ovl_is_signed(dwarf_type_t t);
const char *ovl_tname(ovl *o, dwarf_type_t t, char *buf, size_t len);

#endif
