/*
 * ovl_show.c - printing overlay values and walking list_head lists.
 *
 * Printing never fails on bad guest memory: an unreadable field prints as
 * <unreadable ...> and the rest of the struct still prints. Structs print
 * one level deep; nested structs/unions print as {...}, nested non-char
 * arrays as [...].
 */
#define _GNU_SOURCE
#include "ovl_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->n;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, room, fmt, ap);
        va_end(ap);
        if (k < 0) return;
        if ((size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        size_t nc = (b->cap + (size_t)k + 1) * 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
}

static bool printable(uint8_t c)
{
    return c >= 0x20 && c < 0x7f;
}

static bool is_char_type(ovl *o, dwarf_type_t t)
{
    dwarf_type_t st;
    if (ovl_strip(o, t, &st) || dwarf_type_kind(st) != DWARF_K_BASE || dwarf_type_size(st) != 1)
        return false;
    unsigned e = dwarf_type_encoding(st);
    return e == DWARF_ENC_SIGNED_CHAR || e == DWARF_ENC_UNSIGNED_CHAR;
}

/* Reads a NUL-terminated string at va, at most max bytes (no NUL added
 * past max); *n = bytes before the NUL. Reads byte runs within pages. */
static int read_cstr(ovl *o, uint64_t va, char *buf, size_t max, size_t *n)
{
    *n = 0;
    while (*n < max) {
        size_t chunk = 4096 - (size_t)((va + *n) & 4095);
        if (chunk > max - *n) chunk = max - *n;
        int rc = ovl_mem_read(o, va + *n, buf + *n, chunk);
        if (rc) return rc;
        void *z = memchr(buf + *n, 0, chunk);
        if (z) {
            *n = (size_t)((char *)z - buf);
            return 0;
        }
        *n += chunk;
    }
    return 0;
}

int ovl_value_string(ovl *o, const ovl_value *v, char *buf, size_t len)
{
    dwarf_type_t t, et;
    char tn[160];
    uint64_t va, max = len ? len - 1 : 0;
    int rc = ovl_strip(o, v->type, &t);
    if (rc) return rc;
    if (!len) return MC_EINVAL;
    buf[0] = 0;
    if (dwarf_type_kind(t) == DWARF_K_ARRAY && v->lvalue) {
        va = v->addr;
        uint64_t dim = dwarf_type_dim(t, 0);
        if (dim && dim < max) max = dim;
    } else if (dwarf_type_kind(t) == DWARF_K_POINTER) {
        if ((rc = ovl_value_u64(o, v, &va))) return rc;
        if (!va) return ovl_fail(o, 0, MC_EGUEST, "NULL string pointer");
    } else {
        return ovl_fail(o, 0, MC_EINVAL, "%s is not a string",
                        ovl_tname(o, v->type, tn, sizeof(tn)));
    }
    if (dwarf_type_index(o->d, t, &et) || !is_char_type(o, et))
        return ovl_fail(o, 0, MC_EINVAL, "%s is not a char array or pointer",
                        ovl_tname(o, v->type, tn, sizeof(tn)));
    size_t n;
    if ((rc = read_cstr(o, va, buf, (size_t)max, &n))) return rc;
    buf[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (!printable((uint8_t)buf[i]))
            return ovl_fail(o, 0, MC_EGUEST,
                            "byte %zu of the string at %#llx is %#x, not printable", i,
                            (unsigned long long)va, (uint8_t)buf[i]);
    return 0;
}

static void put_symbol(ovl *o, sbuf *b, uint64_t a)
{
    char s[160];
    if (o->syms && a && !sym_format(o->syms, a, s, sizeof(s))) sb_printf(b, " <%s>", s);
}

static void put_quoted(sbuf *b, const char *s, size_t n)
{
    sb_printf(b, "\"");
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == '"' || c == '\\')
            sb_printf(b, "\\%c", c);
        else if (printable(c))
            sb_printf(b, "%c", c);
        else
            sb_printf(b, "\\x%02x", c);
    }
    sb_printf(b, "\"");
}

static void format_value(ovl *o, sbuf *b, const ovl_value *v, int depth);

static void format_scalar(ovl *o, sbuf *b, const ovl_value *v, dwarf_type_t t)
{
    uint64_t x;
    if (ovl_value_u64(o, v, &x)) {
        sb_printf(b, "<unreadable: %s>", o->err);
        return;
    }
    uint64_t size = v->bit_size ? 8 : dwarf_type_size(t);
    uint64_t mask = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
    switch (dwarf_type_kind(t)) {
    case DWARF_K_ENUM:
        for (size_t i = 0; i < dwarf_type_nenums(t); i++) {
            int64_t ev;
            const char *en = dwarf_type_enum(t, i, &ev);
            if ((uint64_t)ev == x || ((uint64_t)ev & mask) == (x & mask)) {
                sb_printf(b, "%s (%lld)", en, (long long)ev);
                return;
            }
        }
        sb_printf(b, "%lld", (long long)x);
        return;
    case DWARF_K_POINTER: {
        sb_printf(b, "0x%llx", (unsigned long long)x);
        put_symbol(o, b, x);
        dwarf_type_t et;
        char s[65];
        size_t n;
        if (x && !dwarf_type_target(o->d, t, &et) && is_char_type(o, et) &&
            !read_cstr(o, x, s, sizeof(s) - 1, &n)) {
            sb_printf(b, " ");
            put_quoted(b, s, n);
            if (n == sizeof(s) - 1) sb_printf(b, "...");
        }
        return;
    }
    default: break;
    }
    unsigned enc = dwarf_type_encoding(t);
    if (enc == DWARF_ENC_BOOL) {
        sb_printf(b, x ? "true" : "false");
    } else if (enc == DWARF_ENC_FLOAT && (size == 4 || size == 8)) {
        if (size == 4) {
            float f;
            uint32_t w = (uint32_t)x;
            memcpy(&f, &w, 4);
            sb_printf(b, "%g", (double)f);
        } else {
            double f;
            memcpy(&f, &x, 8);
            sb_printf(b, "%g", f);
        }
    } else if (ovl_is_signed(t)) {
        sb_printf(b, "%lld (0x%llx)", (long long)x, (unsigned long long)(x & mask));
    } else {
        sb_printf(b, "%llu (0x%llx)", (unsigned long long)x, (unsigned long long)x);
    }
    if (size == 1 && (enc == DWARF_ENC_SIGNED_CHAR || enc == DWARF_ENC_UNSIGNED_CHAR) &&
        printable((uint8_t)x))
        sb_printf(b, " '%c'", (char)x);
}

static void format_array(ovl *o, sbuf *b, const ovl_value *v, dwarf_type_t t, int depth)
{
    dwarf_type_t et;
    if (dwarf_type_index(o->d, t, &et)) {
        sb_printf(b, "<bad array>");
        return;
    }
    uint64_t n = dwarf_type_dim(t, 0);
    if (dwarf_type_ndims(t) == 1 && is_char_type(o, et)) {
        char s[257];
        size_t k, max = n && n < 256 ? (size_t)n : 256;
        if (read_cstr(o, v->addr, s, max, &k)) {
            sb_printf(b, "<unreadable: %s>", o->err);
            return;
        }
        put_quoted(b, s, k);
        return;
    }
    if (depth > 0) {
        sb_printf(b, "[...]");
        return;
    }
    uint64_t es = dwarf_type_size(et), shown = n < 16 ? n : 16;
    sb_printf(b, "[");
    for (uint64_t i = 0; i < shown; i++) {
        ovl_value e = {.type = et, .lvalue = true, .addr = v->addr + i * es};
        if (i) sb_printf(b, ", ");
        format_value(o, b, &e, depth + 1);
    }
    sb_printf(b, "%s]", n > shown ? ", ..." : n ? "" : "<flexible>");
}

/* Prints the members of the struct at addr; anonymous struct/union members
 * are flattened into their parent, as C lets one name their fields. */
static void format_fields(ovl *o, sbuf *b, uint64_t addr, dwarf_type_t t, int depth, int *count)
{
    size_t n = dwarf_type_nmembers(t);
    for (size_t i = 0; i < n; i++) {
        dwarf_member m;
        dwarf_type_t st;
        if (dwarf_type_member(o->d, t, i, &m)) continue;
        if (!m.name[0] && !ovl_strip(o, m.type, &st) && depth < 8 &&
            (dwarf_type_kind(st) == DWARF_K_STRUCT || dwarf_type_kind(st) == DWARF_K_UNION)) {
            format_fields(o, b, addr + m.offset, st, depth + 1, count);
            continue;
        }
        ovl_value f = {.type = m.type,
                       .lvalue = true,
                       .addr = addr + m.offset,
                       .bit_offset = m.bit_offset,
                       .bit_size = m.bit_size};
        sb_printf(b, "%s%s = ", (*count)++ ? ", " : "", m.name[0] ? m.name : "<anonymous>");
        format_value(o, b, &f, 1);
    }
}

static void format_struct(ovl *o, sbuf *b, const ovl_value *v, dwarf_type_t t, int depth)
{
    int count = 0;
    if (depth > 0 || !v->lvalue) {
        sb_printf(b, "{...}");
        return;
    }
    sb_printf(b, "{ ");
    format_fields(o, b, v->addr, t, 0, &count);
    sb_printf(b, count ? " }" : "}");
}

static void format_value(ovl *o, sbuf *b, const ovl_value *v, int depth)
{
    dwarf_type_t t;
    if (ovl_strip(o, v->type, &t)) {
        sb_printf(b, "<bad type>");
        return;
    }
    switch (dwarf_type_kind(t)) {
    case DWARF_K_VOID:
        sb_printf(b, "<no debug type> at 0x%llx", (unsigned long long)v->addr);
        put_symbol(o, b, v->addr);
        return;
    case DWARF_K_FUNC:
        sb_printf(b, "<function> at 0x%llx", (unsigned long long)v->addr);
        put_symbol(o, b, v->addr);
        return;
    case DWARF_K_STRUCT:
    case DWARF_K_UNION: format_struct(o, b, v, t, depth); return;
    case DWARF_K_ARRAY: format_array(o, b, v, t, depth); return;
    default: format_scalar(o, b, v, t); return;
    }
}

int ovl_format(ovl *o, const ovl_value *v, char **out)
{
    sbuf b = {0};
    *out = NULL;
    format_value(o, &b, v, 0);
    if (b.oom || !b.p) {
        free(b.p);
        return b.oom ? MC_ENOMEM : ovl_fail(o, 0, MC_EINVAL, "nothing to print");
    }
    *out = b.p;
    return 0;
}

int ovl_print(ovl *o, const char *expr, char **out)
{
    ovl_value v;
    int rc = ovl_eval(o, expr, &v);
    *out = NULL;
    return rc ? rc : ovl_format(o, &v, out);
}

/* ---- lists -------------------------------------------------------------------- */

/* Byte offset of a member path "a.b.c" in type t. */
static int member_path(ovl *o, dwarf_type_t t, const char *path, uint64_t *off, dwarf_type_t *mt)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", path);
    *off = 0;
    for (char *tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
        dwarf_member m;
        if (dwarf_type_find_member(o->d, t, tok, &m))
            return ovl_fail(o, 0, MC_ENOENT, "%s", dwarf_last_error(o->d));
        *off += m.offset;
        t = m.type;
    }
    *mt = t;
    return 0;
}

static int read_ptr(ovl *o, uint64_t va, uint64_t *out)
{
    return ovl_mem_read(o, va, out, 8); /* riscv64 pointers: 8 bytes, little-endian */
}

int ovl_list_for_each(ovl *o, uint64_t head, const char *type, const char *member, size_t max_steps,
                      ovl_list_fn fn, void *arg)
{
    dwarf_type_t t, lh, mt;
    dwarf_member mn, mp;
    uint64_t off;
    char tn[160];
    int rc;
    if (!max_steps) max_steps = 100000;
    if (dwarf_type_lookup(o->d, type, &t) || dwarf_type_lookup(o->d, "struct list_head", &lh))
        return ovl_fail(o, 0, MC_ENOENT, "%s", dwarf_last_error(o->d));
    if ((rc = member_path(o, t, member, &off, &mt))) return rc;
    if ((rc = ovl_strip(o, mt, &mt))) return rc;
    if (dwarf_type_kind(mt) != DWARF_K_STRUCT || !dwarf_type_name(mt) ||
        strcmp(dwarf_type_name(mt), "list_head"))
        return ovl_fail(o, 0, MC_EINVAL, "%s.%s is %s, not a struct list_head", type, member,
                        ovl_tname(o, mt, tn, sizeof(tn)));
    if (dwarf_type_find_member(o->d, lh, "next", &mn) ||
        dwarf_type_find_member(o->d, lh, "prev", &mp))
        return ovl_fail(o, 0, MC_ENOENT, "%s", dwarf_last_error(o->d));
    uint64_t cur = head, next, back, slow = head;
    if ((rc = read_ptr(o, head + mn.offset, &next))) return rc;
    for (size_t steps = 0; next != head; steps++) {
        if (!next)
            return ovl_fail(o, 0, MC_EGUEST, "list at %#llx: NULL next pointer at %#llx",
                            (unsigned long long)head, (unsigned long long)cur);
        if ((rc = read_ptr(o, next + mp.offset, &back))) return rc;
        if (back != cur)
            return ovl_fail(o, 0, MC_EGUEST,
                            "list at %#llx is inconsistent: %#llx->next = %#llx but "
                            "%#llx->prev = %#llx",
                            (unsigned long long)head, (unsigned long long)cur,
                            (unsigned long long)next, (unsigned long long)next,
                            (unsigned long long)back);
        if (steps >= max_steps)
            return ovl_fail(o, 0, MC_ERANGE, "list at %#llx: more than %zu entries",
                            (unsigned long long)head, max_steps);
        if ((rc = fn(arg, next - off, steps))) return rc;
        cur = next;
        if ((rc = read_ptr(o, cur + mn.offset, &next))) return rc;
        if (next == slow && next != head)
            return ovl_fail(o, 0, MC_EGUEST,
                            "list at %#llx: cycle through %#llx that never returns to the head",
                            (unsigned long long)head, (unsigned long long)next);
        if (((steps + 1) & steps) == 0) slow = cur; /* Brent: move at powers of two */
    }
    return 0;
}
