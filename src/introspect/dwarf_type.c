/*
 * dwarf_type.c - the public type model of dwarf.h over the records that
 * dwarf.c resolves: lookups by C spelling, member search through anonymous
 * members, C formatting of types.
 */
#include "dwarf_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rewrites a C base type spelling into GCC's DWARF spelling:
 * "unsigned long" -> "long unsigned int". Other names are copied. */
static void canon_base(const char *in, char *out, size_t len)
{
    int nlong = 0, sgn = 0, uns = 0, shrt = 0, chr = 0, in_t = 0, other = 0;
    char w[64];
    const char *p = in;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = 0;
        while (*p && *p != ' ' && n + 1 < sizeof(w))
            w[n++] = *p++;
        w[n] = 0;
        if (!n) break;
        if (!strcmp(w, "long"))
            nlong++;
        else if (!strcmp(w, "signed"))
            sgn++;
        else if (!strcmp(w, "unsigned"))
            uns++;
        else if (!strcmp(w, "short"))
            shrt++;
        else if (!strcmp(w, "char"))
            chr++;
        else if (!strcmp(w, "int"))
            in_t++;
        else
            other++;
    }
    if (other || (!nlong && !sgn && !uns && !shrt && !chr && !in_t)) {
        snprintf(out, len, "%s", in);
        return;
    }
    if (chr)
        snprintf(out, len, "%schar", uns ? "unsigned " : sgn ? "signed " : "");
    else if (shrt)
        snprintf(out, len, "short %sint", uns ? "unsigned " : "");
    else if (nlong >= 2)
        snprintf(out, len, "long long %sint", uns ? "unsigned " : "");
    else if (nlong)
        snprintf(out, len, "long %sint", uns ? "unsigned " : "");
    else
        snprintf(out, len, "%sint", uns ? "unsigned " : "");
}

static int lookup_ns(dwarf_types *d, int ns, const char *name, dwarf_type_t *out)
{
    uint64_t die;
    struct dwarf_type *t;
    int rc = dwarf_cache_get_name(d, ns, name, &die);
    if (rc) return rc;
    if ((rc = dwarf_get_type(d, die, &t))) return rc;
    *out = t;
    return 0;
}

int dwarf_type_lookup(dwarf_types *d, const char *cname, dwarf_type_t *out)
{
    char buf[256], canon[256];
    int nptr = 0, rc;
    const char *p = cname;
    while (isspace((unsigned char)*p))
        p++;
    snprintf(buf, sizeof(buf), "%s", p);
    size_t n = strlen(buf);
    for (;;) { /* trailing '*'s and blanks */
        while (n && isspace((unsigned char)buf[n - 1]))
            buf[--n] = 0;
        if (n && buf[n - 1] == '*') {
            buf[--n] = 0;
            nptr++;
            continue;
        }
        break;
    }
    char *name = buf;
    int ns = NS_ORD;
    if (!strncmp(name, "struct ", 7))
        ns = NS_STRUCT, name += 7;
    else if (!strncmp(name, "union ", 6))
        ns = NS_UNION, name += 6;
    else if (!strncmp(name, "enum ", 5))
        ns = NS_ENUM, name += 5;
    while (*name == ' ')
        name++;
    if (!*name) return dwarf_fail(d, MC_EINVAL, "empty type name");
    struct dwarf_type *t = NULL;
    if (ns == NS_ORD && !strcmp(name, "void")) {
        rc = dwarf_get_type(d, 0, &t);
    } else if (ns == NS_ORD) {
        canon_base(name, canon, sizeof(canon));
        rc = lookup_ns(d, NS_ORD, canon, (dwarf_type_t *)&t);
        for (int k = NS_STRUCT; rc == MC_ENOENT && k <= NS_ENUM; k++)
            rc = lookup_ns(d, k, name, (dwarf_type_t *)&t);
    } else {
        rc = lookup_ns(d, ns, name, (dwarf_type_t *)&t);
    }
    if (rc == MC_ENOENT) rc = dwarf_fail(d, MC_ENOENT, "no type '%s'", cname);
    for (; !rc && nptr; nptr--)
        rc = dwarf_type_pointer_to(d, t, (dwarf_type_t *)&t);
    if (!rc) *out = t;
    return dwarf_done(d, rc);
}

int dwarf_type_by_id(dwarf_types *d, uint64_t id, dwarf_type_t *out)
{
    struct dwarf_type *t;
    int rc = dwarf_get_type(d, id, &t);
    if (!rc) *out = t;
    return dwarf_done(d, rc);
}

int dwarf_var_lookup(dwarf_types *d, const char *name, uint64_t *addr, dwarf_type_t *type)
{
    uint64_t tid;
    struct dwarf_type *t;
    int rc = dwarf_cache_get_global(d, name, addr, &tid);
    if (rc == MC_ENOENT) return dwarf_fail(d, rc, "no global variable '%s' in the DWARF", name);
    if (!rc && !(rc = dwarf_get_type(d, tid, &t))) *type = t;
    return dwarf_done(d, rc);
}

dwarf_kind dwarf_type_kind(dwarf_type_t t)
{
    return t->kind;
}

const char *dwarf_type_name(dwarf_type_t t)
{
    return t->name;
}

uint64_t dwarf_type_id(dwarf_type_t t)
{
    return t->id;
}

uint64_t dwarf_type_size(dwarf_type_t t)
{
    return t->size;
}

unsigned dwarf_type_encoding(dwarf_type_t t)
{
    return t->enc;
}

bool dwarf_type_incomplete(dwarf_type_t t)
{
    return t->flags & DT_INCOMPLETE;
}

int dwarf_type_target(dwarf_types *d, dwarf_type_t t, dwarf_type_t *out)
{
    switch (t->kind) {
    case DWARF_K_POINTER:
    case DWARF_K_TYPEDEF:
    case DWARF_K_CONST:
    case DWARF_K_VOLATILE:
    case DWARF_K_RESTRICT:
    case DWARF_K_ARRAY: break;
    default: return dwarf_fail(d, MC_EINVAL, "%s has no target type", dwarf_kind_name(t->kind));
    }
    struct dwarf_type *r;
    int rc = dwarf_get_type(d, t->target, &r);
    if (!rc) *out = r;
    return dwarf_done(d, rc);
}

int dwarf_type_strip(dwarf_types *d, dwarf_type_t t, dwarf_type_t *out)
{
    int rc = 0;
    for (int i = 0; i < 64; i++) {
        if (t->kind != DWARF_K_TYPEDEF && t->kind != DWARF_K_CONST && t->kind != DWARF_K_VOLATILE &&
            t->kind != DWARF_K_RESTRICT) {
            *out = t;
            return 0;
        }
        if ((rc = dwarf_type_target(d, t, &t))) return rc;
    }
    return dwarf_fail(d, MC_ECORRUPT, "typedef chain too long");
}

int dwarf_type_pointer_to(dwarf_types *d, dwarf_type_t t, dwarf_type_t *out)
{
    struct dwarf_type *r;
    uint64_t id = t->id;
    if (id & DT_SYNTH_PTR) {
        uint64_t depth = (id >> 48) & 0xff;
        if (depth >= 0xff) return dwarf_fail(d, MC_EUNSUP, "too many levels of pointers");
        id = (id & ~(0xffull << 48)) | ((depth + 1) << 48);
    } else {
        id = DT_SYNTH_PTR | (1ull << 48) | id;
    }
    int rc = dwarf_get_type(d, id, &r);
    if (!rc) *out = r;
    return dwarf_done(d, rc);
}

int dwarf_type_index(dwarf_types *d, dwarf_type_t t, dwarf_type_t *out)
{
    struct dwarf_type *r;
    int rc;
    if (t->kind == DWARF_K_POINTER || (t->kind == DWARF_K_ARRAY && t->ndims <= 1))
        return dwarf_type_target(d, t, out);
    if (t->kind != DWARF_K_ARRAY) return dwarf_fail(d, MC_EINVAL, "not an array or pointer");
    uint64_t base = t->id, drop = 1;
    if (t->id & DT_SYNTH_SUB) {
        base = t->id & DT_DIE_MASK;
        drop = ((t->id >> 40) & 0xff) + 1;
    }
    if (drop > 0xff) return dwarf_fail(d, MC_EUNSUP, "too many array dimensions");
    rc = dwarf_get_type(d, DT_SYNTH_SUB | (drop << 40) | base, &r);
    if (!rc) *out = r;
    return dwarf_done(d, rc);
}

size_t dwarf_type_nmembers(dwarf_type_t t)
{
    return t->nmembers;
}

int dwarf_type_member(dwarf_types *d, dwarf_type_t t, size_t i, dwarf_member *out)
{
    if (i >= t->nmembers) return MC_ERANGE;
    const dwarf_mem_rec *m = &t->members[i];
    struct dwarf_type *mt;
    int rc = dwarf_get_type(d, m->type, &mt);
    if (rc) return dwarf_done(d, rc);
    out->name = m->name;
    out->offset = m->offset;
    out->bit_offset = m->bit_offset;
    out->bit_size = m->bit_size;
    out->type = mt;
    return dwarf_done(d, 0);
}

/* Depth-first search of name in t, through anonymous members. */
static int find_in(dwarf_types *d, dwarf_type_t t, const char *name, size_t nlen, uint64_t base,
                   int depth, dwarf_member *out)
{
    if (depth > 16) return MC_ENOENT;
    for (uint32_t i = 0; i < t->nmembers; i++) {
        const dwarf_mem_rec *m = &t->members[i];
        if (m->name[0]) {
            if (strlen(m->name) != nlen || memcmp(m->name, name, nlen)) continue;
            int rc = dwarf_type_member(d, t, i, out);
            if (!rc) out->offset += base;
            return rc;
        }
        struct dwarf_type *mt;
        dwarf_type_t st;
        if (dwarf_get_type(d, m->type, &mt) || dwarf_type_strip(d, mt, &st)) continue;
        if (st->kind != DWARF_K_STRUCT && st->kind != DWARF_K_UNION) continue;
        if (!find_in(d, st, name, nlen, base + m->offset, depth + 1, out)) return 0;
    }
    return MC_ENOENT;
}

int dwarf_type_find_member(dwarf_types *d, dwarf_type_t t, const char *names, dwarf_member *out)
{
    char tn[200];
    int rc = dwarf_type_strip(d, t, &t);
    if (rc) return rc;
    if (t->kind != DWARF_K_STRUCT && t->kind != DWARF_K_UNION)
        return dwarf_fail(d, MC_EINVAL, "%s is not a struct or union",
                          dwarf_type_format(d, t, tn, sizeof(tn)));
    for (const char *p = names; *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n && !find_in(d, t, p, n, 0, 0, out)) return dwarf_done(d, 0);
        if (!bar) break;
        p = bar + 1;
    }
    dwarf_type_format(d, t, tn, sizeof(tn));
    if (strchr(names, '|'))
        return dwarf_fail(d, MC_ENOENT, "none of the fields '%s' in %s", names, tn);
    return dwarf_fail(d, MC_ENOENT, "no field '%s' in %s%s", names, tn,
                      dwarf_type_incomplete(t) ? " (incomplete type)" : "");
}

size_t dwarf_type_ndims(dwarf_type_t t)
{
    return t->ndims;
}

uint64_t dwarf_type_dim(dwarf_type_t t, size_t i)
{
    return i < t->ndims ? t->dims[i] : 0;
}

size_t dwarf_type_nenums(dwarf_type_t t)
{
    return t->nenums;
}

const char *dwarf_type_enum(dwarf_type_t t, size_t i, int64_t *value)
{
    if (i >= t->nenums) return NULL;
    if (value) *value = t->enums[i].value;
    return t->enums[i].name;
}

/* Appends to buf at *pos, truncating safely. */
static void put(char *buf, size_t len, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    if (*pos + 1 >= len) return;
    if (n > len - 1 - *pos) n = len - 1 - *pos;
    memcpy(buf + *pos, s, n);
    *pos += n;
    buf[*pos] = 0;
}

static void format_rec(dwarf_types *d, dwarf_type_t t, char *buf, size_t len, size_t *pos,
                       int depth)
{
    struct dwarf_type *tt = NULL;
    char num[32];
    if (depth > 16) {
        put(buf, len, pos, "...");
        return;
    }
    switch (t->kind) {
    case DWARF_K_VOID: put(buf, len, pos, "void"); return;
    case DWARF_K_FUNC: put(buf, len, pos, "<function>"); return;
    case DWARF_K_STRUCT:
    case DWARF_K_UNION:
    case DWARF_K_ENUM:
        put(buf, len, pos,
            t->kind == DWARF_K_STRUCT  ? "struct "
            : t->kind == DWARF_K_UNION ? "union "
                                       : "enum ");
        put(buf, len, pos, t->name ? t->name : "<anonymous>");
        return;
    case DWARF_K_BASE:
    case DWARF_K_TYPEDEF: put(buf, len, pos, t->name ? t->name : "?"); return;
    case DWARF_K_CONST:
    case DWARF_K_VOLATILE:
    case DWARF_K_RESTRICT:
        put(buf, len, pos,
            t->kind == DWARF_K_CONST      ? "const "
            : t->kind == DWARF_K_VOLATILE ? "volatile "
                                          : "restrict ");
        if (!dwarf_get_type(d, t->target, &tt)) format_rec(d, tt, buf, len, pos, depth + 1);
        return;
    case DWARF_K_POINTER:
        if (!dwarf_get_type(d, t->target, &tt)) format_rec(d, tt, buf, len, pos, depth + 1);
        put(buf, len, pos, " *");
        return;
    case DWARF_K_ARRAY:
        if (!dwarf_get_type(d, t->target, &tt)) format_rec(d, tt, buf, len, pos, depth + 1);
        put(buf, len, pos, " ");
        for (uint32_t i = 0; i < t->ndims; i++) {
            if (t->dims[i])
                snprintf(num, sizeof(num), "[%llu]", (unsigned long long)t->dims[i]);
            else
                snprintf(num, sizeof(num), "[]");
            put(buf, len, pos, num);
        }
        return;
    }
}

const char *dwarf_type_format(dwarf_types *d, dwarf_type_t t, char *buf, size_t len)
{
    size_t pos = 0;
    if (!len) return buf;
    buf[0] = 0;
    format_rec(d, t, buf, len, &pos, 0);
    (void)dwarf_done(d, 0);
    return buf;
}

const char *dwarf_kind_name(dwarf_kind k)
{
    static const char *const names[] = {"void",  "base",     "struct",   "union",
                                        "enum",  "typedef",  "pointer",  "array",
                                        "const", "volatile", "restrict", "function"};
    return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}
