/*
 * ovl.c - expression evaluation over DWARF types and guest memory.
 *
 * A recursive-descent parser that evaluates as it parses: every operand is
 * an ovl_value, kept as an lvalue (address + type) until a scalar is
 * needed, so `init_task.comm` reads 16 bytes and `a->b->c` reads two
 * pointers and nothing else. Errors carry the 1-based column of the token
 * that caused them. Grammar:
 *   expr    := unary (('+' | '-') unary)*
 *   unary   := '*' unary | '&' unary | '-' unary | 'sizeof' '(' type ')'
 *            | 'sizeof' unary | '(' type ')' unary | postfix
 *   postfix := primary ('.' ident | '->' ident | '[' expr ']')*
 *   primary := number | ident | '(' expr ')'
 *   type    := ('struct' | 'union' | 'enum') ident '*'* | words '*'*
 */
#define _GNU_SOURCE
#include "ovl_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ovl_fail(ovl *o, int col, int rc, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    o->col = col;
    if (col)
        snprintf(o->err, sizeof(o->err), "column %d: %s", col, msg);
    else
        snprintf(o->err, sizeof(o->err), "%s", msg);
    return rc;
}

int ovl_open(ovl **out, dwarf_types *d, const sym_table *syms, ovl_read_fn read, void *ctx)
{
    ovl *o = calloc(1, sizeof(*o));
    *out = o;
    if (!o) return MC_ENOMEM;
    o->d = d;
    o->syms = syms;
    o->read = read;
    o->ctx = ctx;
    if (!d || !read) return ovl_fail(o, 0, MC_EINVAL, "no types or no memory reader");
    if (dwarf_type_lookup(d, "long", &o->t_long) ||
        dwarf_type_lookup(d, "unsigned long", &o->t_ulong))
        return ovl_fail(o, 0, MC_ENOENT, "the DWARF has no 'long' base types: %s",
                        dwarf_last_error(d));
    return 0;
}

void ovl_free(ovl *o)
{
    free(o);
}

const char *ovl_last_error(const ovl *o)
{
    return o ? o->err : "out of memory";
}

int ovl_last_error_column(const ovl *o)
{
    return o->col;
}

/* ---- values ------------------------------------------------------------------ */

int ovl_strip(ovl *o, dwarf_type_t t, dwarf_type_t *out)
{
    int rc = dwarf_type_strip(o->d, t, out);
    return rc ? ovl_fail(o, 0, rc, "%s", dwarf_last_error(o->d)) : 0;
}

const char *ovl_tname(ovl *o, dwarf_type_t t, char *buf, size_t len)
{
    return dwarf_type_format(o->d, t, buf, len);
}

bool ovl_is_signed(dwarf_type_t t)
{
    unsigned e = dwarf_type_encoding(t);
    return dwarf_type_kind(t) == DWARF_K_BASE &&
           (e == DWARF_ENC_SIGNED || e == DWARF_ENC_SIGNED_CHAR);
}

int ovl_mem_read(ovl *o, uint64_t va, void *buf, size_t len)
{
    int rc = o->read(o->ctx, va, buf, len);
    if (rc)
        return ovl_fail(o, 0, rc, "cannot read %zu bytes at %#llx: %s", len, (unsigned long long)va,
                        mc_strerror(rc));
    return 0;
}

int ovl_value_u64(ovl *o, const ovl_value *v, uint64_t *out)
{
    dwarf_type_t t;
    char tn[160];
    int rc = ovl_strip(o, v->type, &t);
    if (rc) return rc;
    dwarf_kind k = dwarf_type_kind(t);
    if (k == DWARF_K_ARRAY && v->lvalue) {
        *out = v->addr;
        return 0;
    }
    if (k != DWARF_K_BASE && k != DWARF_K_ENUM && k != DWARF_K_POINTER)
        return ovl_fail(o, 0, MC_EINVAL, "%s is not a scalar",
                        ovl_tname(o, v->type, tn, sizeof(tn)));
    if (!v->lvalue) {
        *out = v->bits;
        return 0;
    }
    uint64_t size = dwarf_type_size(t), val = 0;
    uint8_t b[16] = {0};
    if (v->bit_size) {
        size_t n = (v->bit_offset + v->bit_size + 7) / 8;
        if ((rc = ovl_mem_read(o, v->addr, b, n))) return rc;
        for (unsigned i = 0; i < v->bit_size; i++) {
            unsigned bit = v->bit_offset + i;
            val |= (uint64_t)((b[bit / 8] >> (bit % 8)) & 1) << i;
        }
        if (ovl_is_signed(t) && v->bit_size < 64 && (val >> (v->bit_size - 1)) & 1)
            val |= ~0ull << v->bit_size;
        *out = val;
        return 0;
    }
    if (size == 0 || size > 8)
        return ovl_fail(o, 0, MC_EINVAL, "%s has size %llu: not a scalar",
                        ovl_tname(o, v->type, tn, sizeof(tn)), (unsigned long long)size);
    if ((rc = ovl_mem_read(o, v->addr, b, size))) return rc;
    for (uint64_t i = 0; i < size; i++)
        val |= (uint64_t)b[i] << (8 * i);
    if (ovl_is_signed(t) && size < 8 && (val >> (size * 8 - 1)) & 1) val |= ~0ull << (size * 8);
    *out = val;
    return 0;
}

int ovl_at(ovl *o, const char *type, uint64_t addr, ovl_value *out)
{
    dwarf_type_t t;
    if (dwarf_type_lookup(o->d, type, &t))
        return ovl_fail(o, 0, MC_ENOENT, "%s", dwarf_last_error(o->d));
    memset(out, 0, sizeof(*out));
    out->type = t;
    out->lvalue = true;
    out->addr = addr;
    return 0;
}

int ovl_member(ovl *o, const ovl_value *v, const char *names, ovl_value *out)
{
    dwarf_type_t t;
    dwarf_member m;
    char tn[160];
    int rc = ovl_strip(o, v->type, &t);
    if (rc) return rc;
    dwarf_kind k = dwarf_type_kind(t);
    if (k == DWARF_K_POINTER)
        return ovl_fail(o, 0, MC_EINVAL, "'%s' is a pointer (%s): use '->'", names,
                        ovl_tname(o, v->type, tn, sizeof(tn)));
    if ((k != DWARF_K_STRUCT && k != DWARF_K_UNION) || !v->lvalue)
        return ovl_fail(o, 0, MC_EINVAL,
                        "request for field '%s' in %s, which is not a struct or union", names,
                        ovl_tname(o, v->type, tn, sizeof(tn)));
    if ((rc = dwarf_type_find_member(o->d, t, names, &m)))
        return ovl_fail(o, 0, rc, "%s", dwarf_last_error(o->d));
    memset(out, 0, sizeof(*out));
    out->type = m.type;
    out->lvalue = true;
    out->addr = v->addr + m.offset;
    out->bit_offset = m.bit_offset;
    out->bit_size = m.bit_size;
    return 0;
}

/* ---- lexer ---------------------------------------------------------------- */

enum { T_END, T_NUM, T_IDENT, T_PUNCT };

typedef struct parser {
    ovl *o;
    const char *s;
    size_t pos;
    int kind;
    size_t start, len; /* current token */
    uint64_t num;
    char punct[3];
} parser;

static int col(const parser *p)
{
    return (int)p->start + 1;
}

static int next(parser *p)
{
    const char *s = p->s;
    while (isspace((unsigned char)s[p->pos]))
        p->pos++;
    p->start = p->pos;
    char c = s[p->pos];
    if (!c) {
        p->kind = T_END;
        p->len = 0;
        return 0;
    }
    if (isdigit((unsigned char)c)) {
        char *e;
        p->num = strtoull(s + p->pos, &e, 0);
        if (isalnum((unsigned char)*e) || *e == '_')
            return ovl_fail(p->o, col(p), MC_EINVAL, "bad number");
        p->kind = T_NUM;
        p->len = (size_t)(e - (s + p->pos));
    } else if (isalpha((unsigned char)c) || c == '_') {
        size_t n = 0;
        while (isalnum((unsigned char)s[p->pos + n]) || s[p->pos + n] == '_')
            n++;
        p->kind = T_IDENT;
        p->len = n;
    } else if (c == '-' && s[p->pos + 1] == '>') {
        p->kind = T_PUNCT;
        p->len = 2;
    } else if (strchr(".[]()*&+-", c)) {
        p->kind = T_PUNCT;
        p->len = 1;
    } else {
        return ovl_fail(p->o, col(p), MC_EINVAL, "unexpected character '%c'", c);
    }
    if (p->kind == T_PUNCT) {
        memcpy(p->punct, s + p->pos, p->len);
        p->punct[p->len] = 0;
    }
    p->pos += p->len;
    return 0;
}

static bool is_punct(const parser *p, const char *s)
{
    return p->kind == T_PUNCT && !strcmp(p->punct, s);
}

static bool is_word(const parser *p, const char *w)
{
    return p->kind == T_IDENT && strlen(w) == p->len && !memcmp(p->s + p->start, w, p->len);
}

static void word(const parser *p, char *buf, size_t len)
{
    size_t n = p->len < len - 1 ? p->len : len - 1;
    memcpy(buf, p->s + p->start, n);
    buf[n] = 0;
}

static int expect(parser *p, const char *s)
{
    if (!is_punct(p, s))
        return ovl_fail(p->o, col(p), MC_EINVAL, "expected '%s'%s", s,
                        p->kind == T_END ? " at end" : "");
    return next(p);
}

/* ---- parser / evaluator ------------------------------------------------------- */

static int parse_expr(parser *p, ovl_value *v);
static int parse_unary(parser *p, ovl_value *v);

static const char *const base_words[] = {"unsigned", "signed", "long", "short", "int",
                                         "char",     "_Bool",  "void", "const", "volatile"};

static bool is_base_word(const parser *p)
{
    for (size_t i = 0; i < sizeof(base_words) / sizeof(base_words[0]); i++)
        if (is_word(p, base_words[i])) return true;
    return false;
}

/* True when the identifier at p names a type rather than a variable. */
static bool starts_type(parser *p)
{
    if (p->kind != T_IDENT) return false;
    if (is_word(p, "struct") || is_word(p, "union") || is_word(p, "enum") || is_base_word(p))
        return true;
    char w[128];
    uint64_t a;
    dwarf_type_t t;
    word(p, w, sizeof(w));
    if (!dwarf_var_lookup(p->o->d, w, &a, &t)) return false;
    return !dwarf_type_lookup(p->o->d, w, &t);
}

static int parse_type(parser *p, dwarf_type_t *out)
{
    char name[256] = "", w[128];
    int c0 = col(p), rc;
    if (is_word(p, "struct") || is_word(p, "union") || is_word(p, "enum")) {
        word(p, name, sizeof(name));
        if ((rc = next(p))) return rc;
        if (p->kind != T_IDENT) return ovl_fail(p->o, col(p), MC_EINVAL, "expected a tag name");
        word(p, w, sizeof(w));
        strcat(name, " ");
        strcat(name, w);
        if ((rc = next(p))) return rc;
    } else if (is_base_word(p)) {
        while (p->kind == T_IDENT && is_base_word(p)) {
            if (!is_word(p, "const") && !is_word(p, "volatile")) {
                word(p, w, sizeof(w));
                if (name[0]) strcat(name, " ");
                if (strlen(name) + strlen(w) < sizeof(name) - 1) strcat(name, w);
            }
            if ((rc = next(p))) return rc;
        }
        if (!name[0]) return ovl_fail(p->o, c0, MC_EINVAL, "expected a type");
    } else if (p->kind == T_IDENT) {
        word(p, name, sizeof(name));
        if ((rc = next(p))) return rc;
    } else {
        return ovl_fail(p->o, c0, MC_EINVAL, "expected a type");
    }
    dwarf_type_t t;
    if (dwarf_type_lookup(p->o->d, name, &t))
        return ovl_fail(p->o, c0, MC_ENOENT, "unknown type '%s'", name);
    while (is_punct(p, "*") || is_word(p, "const")) {
        if (is_punct(p, "*") && dwarf_type_pointer_to(p->o->d, t, &t))
            return ovl_fail(p->o, col(p), MC_EUNSUP, "%s", dwarf_last_error(p->o->d));
        if ((rc = next(p))) return rc;
    }
    *out = t;
    return 0;
}

static void rvalue(ovl_value *v, dwarf_type_t t, uint64_t bits)
{
    memset(v, 0, sizeof(*v));
    v->type = t;
    v->bits = bits;
}

static int primary(parser *p, ovl_value *v)
{
    ovl *o = p->o;
    int rc, c0 = col(p);
    if (p->kind == T_NUM) {
        rvalue(v, o->t_long, p->num);
        return next(p);
    }
    if (is_punct(p, "(")) {
        if ((rc = next(p)) || (rc = parse_expr(p, v))) return rc;
        return expect(p, ")");
    }
    if (p->kind != T_IDENT)
        return ovl_fail(o, c0, MC_EINVAL,
                        p->kind == T_END ? "expression expected at end" : "expression expected");
    char name[128];
    uint64_t addr;
    dwarf_type_t t;
    word(p, name, sizeof(name));
    memset(v, 0, sizeof(*v));
    if (!dwarf_var_lookup(o->d, name, &addr, &t)) {
        v->type = t;
        v->lvalue = true;
        v->addr = addr;
        return next(p);
    }
    sym_info si;
    if (o->syms && !sym_lookup(o->syms, name, &si)) {
        /* a symbol without debug type: a void lvalue; &name and casts work */
        if ((rc = dwarf_type_lookup(o->d, "void", &t))) return ovl_fail(o, c0, rc, "no void type");
        v->type = t;
        v->lvalue = true;
        v->addr = si.addr;
        return next(p);
    }
    return ovl_fail(o, c0, MC_ENOENT, "unknown symbol '%s'", name);
}

/* Loads the pointer value of v for '->', '*' or '[]'; *target = pointee. */
static int pointer_of(parser *p, const ovl_value *v, int c0, const char *op, uint64_t *ptr,
                      dwarf_type_t *target)
{
    ovl *o = p->o;
    dwarf_type_t t;
    char tn[160];
    int rc = ovl_strip(o, v->type, &t);
    if (rc) return rc;
    if (dwarf_type_kind(t) == DWARF_K_ARRAY && !strcmp(op, "*")) {
        *ptr = v->addr;
        return dwarf_type_index(o->d, t, target) ? ovl_fail(o, c0, MC_EINVAL, "bad array") : 0;
    }
    if (dwarf_type_kind(t) != DWARF_K_POINTER)
        return ovl_fail(o, c0, MC_EINVAL, "cannot apply '%s' to non-pointer type %s", op,
                        ovl_tname(o, v->type, tn, sizeof(tn)));
    if ((rc = ovl_value_u64(o, v, ptr))) return ovl_fail(o, c0, rc, "%s", o->err);
    if (dwarf_type_target(o->d, t, target)) return ovl_fail(o, c0, MC_ECORRUPT, "bad pointer type");
    dwarf_type_t st;
    if ((rc = ovl_strip(o, *target, &st))) return rc;
    if (dwarf_type_kind(st) == DWARF_K_VOID || dwarf_type_kind(st) == DWARF_K_FUNC)
        return ovl_fail(o, c0, MC_EINVAL, "cannot dereference %s",
                        ovl_tname(o, v->type, tn, sizeof(tn)));
    if (*ptr == 0) return ovl_fail(o, c0, MC_EGUEST, "NULL pointer dereference");
    return 0;
}

static int postfix(parser *p, ovl_value *v)
{
    ovl *o = p->o;
    int rc = primary(p, v);
    while (!rc) {
        int c0 = col(p);
        if (is_punct(p, ".") || is_punct(p, "->")) {
            bool arrow = is_punct(p, "->");
            if ((rc = next(p))) return rc;
            if (p->kind != T_IDENT) return ovl_fail(o, col(p), MC_EINVAL, "field name expected");
            char name[128];
            word(p, name, sizeof(name));
            int cf = col(p);
            if (arrow) {
                uint64_t ptr;
                dwarf_type_t target;
                if ((rc = pointer_of(p, v, c0, "->", &ptr, &target))) return rc;
                memset(v, 0, sizeof(*v));
                v->type = target;
                v->lvalue = true;
                v->addr = ptr;
            }
            ovl_value m;
            if ((rc = ovl_member(o, v, name, &m))) return ovl_fail(o, cf, rc, "%s", o->err);
            *v = m;
            rc = next(p);
        } else if (is_punct(p, "[")) {
            ovl_value idx;
            uint64_t i, base;
            dwarf_type_t t, et;
            char tn[160];
            if ((rc = next(p)) || (rc = parse_expr(p, &idx))) return rc;
            if ((rc = ovl_value_u64(o, &idx, &i))) return ovl_fail(o, c0, rc, "%s", o->err);
            if ((rc = expect(p, "]"))) return rc;
            if ((rc = ovl_strip(o, v->type, &t))) return rc;
            if (dwarf_type_kind(t) == DWARF_K_ARRAY) {
                uint64_t n = dwarf_type_dim(t, 0);
                if (n && i >= n)
                    return ovl_fail(o, c0, MC_ERANGE, "index %lld out of bounds for %s",
                                    (long long)i, ovl_tname(o, v->type, tn, sizeof(tn)));
                if (dwarf_type_index(o->d, t, &et))
                    return ovl_fail(o, c0, MC_EINVAL, "%s", dwarf_last_error(o->d));
                base = v->addr;
            } else if ((rc = pointer_of(p, v, c0, "[]", &base, &et))) {
                return rc;
            }
            memset(v, 0, sizeof(*v));
            v->type = et;
            v->lvalue = true;
            v->addr = base + i * dwarf_type_size(et);
        } else {
            break;
        }
    }
    return rc;
}

static int parse_unary(parser *p, ovl_value *v)
{
    ovl *o = p->o;
    int rc, c0 = col(p);
    if (is_punct(p, "*")) {
        uint64_t ptr;
        dwarf_type_t target;
        if ((rc = next(p)) || (rc = parse_unary(p, v))) return rc;
        if ((rc = pointer_of(p, v, c0, "*", &ptr, &target))) return rc;
        memset(v, 0, sizeof(*v));
        v->type = target;
        v->lvalue = true;
        v->addr = ptr;
        return 0;
    }
    if (is_punct(p, "&")) {
        dwarf_type_t pt;
        if ((rc = next(p)) || (rc = parse_unary(p, v))) return rc;
        if (!v->lvalue || v->bit_size)
            return ovl_fail(o, c0, MC_EINVAL,
                            v->bit_size ? "cannot take the address of a bit-field"
                                        : "cannot take the address of a value");
        if (dwarf_type_pointer_to(o->d, v->type, &pt))
            return ovl_fail(o, c0, MC_EUNSUP, "%s", dwarf_last_error(o->d));
        rvalue(v, pt, v->addr);
        return 0;
    }
    if (is_punct(p, "-")) {
        uint64_t x;
        if ((rc = next(p)) || (rc = parse_unary(p, v))) return rc;
        if ((rc = ovl_value_u64(o, v, &x))) return ovl_fail(o, c0, rc, "%s", o->err);
        rvalue(v, o->t_long, (uint64_t)0 - x);
        return 0;
    }
    if (is_word(p, "sizeof")) {
        dwarf_type_t t;
        if ((rc = next(p))) return rc;
        if (is_punct(p, "(")) {
            size_t save = p->pos, sstart = p->start;
            if ((rc = next(p))) return rc;
            if (starts_type(p)) {
                if ((rc = parse_type(p, &t)) || (rc = expect(p, ")"))) return rc;
                rvalue(v, o->t_ulong, dwarf_type_size(t));
                return 0;
            }
            p->pos = save; /* back to '(' : sizeof of a parenthesised expression */
            p->start = sstart;
            p->kind = T_PUNCT;
            strcpy(p->punct, "(");
            p->len = 1;
        }
        if ((rc = parse_unary(p, v))) return rc;
        rvalue(v, o->t_ulong, dwarf_type_size(v->type));
        return 0;
    }
    if (is_punct(p, "(")) {
        size_t save = p->pos, sstart = p->start;
        if ((rc = next(p))) return rc;
        if (starts_type(p)) {
            dwarf_type_t t, st;
            uint64_t x;
            char tn[160];
            if ((rc = parse_type(p, &t)) || (rc = expect(p, ")"))) return rc;
            int ce = col(p);
            if ((rc = parse_unary(p, v))) return rc;
            if ((rc = ovl_strip(o, t, &st))) return rc;
            dwarf_kind k = dwarf_type_kind(st);
            if (k != DWARF_K_POINTER && k != DWARF_K_BASE && k != DWARF_K_ENUM)
                return ovl_fail(o, c0 + 1, MC_EINVAL,
                                "cannot cast to %s (pointer or integer types only)",
                                ovl_tname(o, t, tn, sizeof(tn)));
            if ((rc = ovl_value_u64(o, v, &x))) return ovl_fail(o, ce, rc, "%s", o->err);
            uint64_t size = dwarf_type_size(st);
            if (k != DWARF_K_POINTER && size && size < 8) {
                x &= (1ull << (size * 8)) - 1;
                if (ovl_is_signed(st) && (x >> (size * 8 - 1)) & 1) x |= ~0ull << (size * 8);
            }
            rvalue(v, t, x);
            return 0;
        }
        p->pos = save;
        p->start = sstart;
        p->kind = T_PUNCT;
        strcpy(p->punct, "(");
        p->len = 1;
    }
    return postfix(p, v);
}

static int parse_expr(parser *p, ovl_value *v)
{
    ovl *o = p->o;
    int rc = parse_unary(p, v);
    while (!rc && (is_punct(p, "+") || is_punct(p, "-"))) {
        bool minus = is_punct(p, "-");
        int c0 = col(p);
        ovl_value r;
        uint64_t a, b;
        dwarf_type_t lt, rt, et;
        if ((rc = next(p)) || (rc = parse_unary(p, &r))) return rc;
        if ((rc = ovl_strip(o, v->type, &lt)) || (rc = ovl_strip(o, r.type, &rt))) return rc;
        if ((rc = ovl_value_u64(o, v, &a)) || (rc = ovl_value_u64(o, &r, &b)))
            return ovl_fail(o, c0, rc, "%s", o->err);
        bool lp = dwarf_type_kind(lt) == DWARF_K_POINTER,
             rp = dwarf_type_kind(rt) == DWARF_K_POINTER;
        uint64_t scale = 1;
        if (lp && dwarf_type_target(o->d, lt, &et) == 0 && dwarf_type_size(et))
            scale = dwarf_type_size(et);
        if (lp && rp && minus) {
            rvalue(v, o->t_long, (uint64_t)((int64_t)(a - b) / (int64_t)scale));
        } else if (rp) {
            return ovl_fail(o, c0, MC_EINVAL, "pointer on the right of '%s'", minus ? "-" : "+");
        } else if (lp) {
            rvalue(v, v->type, minus ? a - b * scale : a + b * scale);
        } else {
            rvalue(v, o->t_long, minus ? a - b : a + b);
        }
    }
    return rc;
}

int ovl_eval(ovl *o, const char *expr, ovl_value *out)
{
    parser p = {.o = o, .s = expr};
    o->err[0] = 0;
    o->col = 0;
    int rc = next(&p);
    if (!rc) rc = parse_expr(&p, out);
    if (!rc && p.kind != T_END)
        rc = ovl_fail(o, col(&p), MC_EINVAL, "unexpected token after expression");
    return rc;
}
