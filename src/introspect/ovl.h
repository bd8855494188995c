/*
 * ovl.h - the struct overlay engine: C-like expressions over kernel types
 * (dwarf.h) and guest memory, and list_head walks with container_of.
 *
 *   init_task.comm                    init_task.tasks.next
 *   ((struct task_struct *)0xffffffff81234567)->mm->pgd
 *   x.arr[3]   *ptr   &init_task.tasks   (unsigned long)x   sizeof(struct page)
 *   init_task.tasks.next - 1          0x10 + 4
 *
 * Memory comes through an ovl_read_fn over kernel virtual addresses, so the
 * engine sits on a live machine (gva_read_cb over a gva_space), a restored
 * checkpoint, or the vmlinux file itself (sym_read_image). Guest memory is
 * untrusted: every read is checked, bad data gives MC_EGUEST with a message.
 * Field names come from DWARF; "a|b" in ovl_list_for_each's member and in
 * dwarf_type_find_member picks the first that exists (__state|state).
 */
#ifndef MACHINA_OVL_H
#define MACHINA_OVL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwarf.h"
#include "err.h"
#include "sym.h"

/* Reads len bytes at kernel virtual address va; 0 or an MC_E* code. */
typedef int (*ovl_read_fn)(void *ctx, uint64_t va, void *buf, size_t len);

typedef struct ovl ovl;

/* A value: in memory at addr (lvalue) or an immediate scalar in bits. */
typedef struct ovl_value {
    dwarf_type_t type;
    bool lvalue;
    uint64_t addr;       /* lvalue */
    uint64_t bits;       /* rvalue: integer, pointer or enum value */
    unsigned bit_offset; /* bit-field lvalue: bits above addr*8 */
    unsigned bit_size;   /* 0 unless a bit-field */
} ovl_value;

/* Creates an engine over types d, symbols syms (NULL: no symbol names) and
 * memory read(ctx, ...). d and syms stay owned by the caller and must
 * outlive the engine. */
MC_MUST_CHECK int ovl_open(ovl **out, dwarf_types *d, const sym_table *syms, ovl_read_fn read,
                           void *ctx);
void ovl_free(ovl *o);
/* Message of the last failure, "column N: ..." for expression errors. */
const char *ovl_last_error(const ovl *o);
/* 1-based column of the last expression error, 0 if none. */
int ovl_last_error_column(const ovl *o);

/* Evaluates expr. MC_EINVAL for syntax and type errors, MC_ENOENT for an
 * unknown symbol/type/field, MC_ERANGE/MC_EBUSFAULT... for unreadable
 * memory. */
MC_MUST_CHECK int ovl_eval(ovl *o, const char *expr, ovl_value *out);
/* A value overlaid at addr with type t (a "struct name + address"). */
MC_MUST_CHECK int ovl_at(ovl *o, const char *type, uint64_t addr, ovl_value *out);
/* Member of a struct/union value by name ("a|b" alternatives allowed). */
MC_MUST_CHECK int ovl_member(ovl *o, const ovl_value *v, const char *names, ovl_value *out);

/* The scalar of v (integer, bool, enum, pointer, bit-field; sign-extended
 * for signed types; arrays decay to their address). */
MC_MUST_CHECK int ovl_value_u64(ovl *o, const ovl_value *v, uint64_t *out);
/* Reads a char array or char * as a NUL-terminated string (at most
 * len-1 bytes); MC_EGUEST when a byte is not printable ASCII. */
MC_MUST_CHECK int ovl_value_string(ovl *o, const ovl_value *v, char *buf, size_t len);
/* Prints v: integers as "dec (0xhex)", char arrays as strings, pointers
 * as hex + <symbol+off>, enums by name, structs one level deep. *out is
 * malloc'ed, the caller frees it. */
MC_MUST_CHECK int ovl_format(ovl *o, const ovl_value *v, char **out);
/* ovl_eval + ovl_format. */
MC_MUST_CHECK int ovl_print(ovl *o, const char *expr, char **out);

/* Called with each entry (the container's address) of a list; nonzero
 * stops the walk and is returned by ovl_list_for_each. */
typedef int (*ovl_list_fn)(void *arg, uint64_t entry, size_t index);

/* Walks the struct list_head at head_addr, calling fn with container_of
 * each node as `type` whose list_head is `member` (a field path such as
 * "tasks" or "se.group_node"). Checks next->prev == cur at every link,
 * stops after max_steps (0: 100000) entries and detects cycles that do not
 * return to head: MC_EGUEST with the failing address in the message. */
MC_MUST_CHECK int ovl_list_for_each(ovl *o, uint64_t head_addr, const char *type,
                                    const char *member, size_t max_steps, ovl_list_fn fn,
                                    void *arg);

#endif
