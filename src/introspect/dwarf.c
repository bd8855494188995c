/*
 * dwarf.c - the name index and lazy type resolution over libdwarf.
 *
 * Invariants: a type record is built once per id and never changes; the
 * hash maps ids (including declaration DIEs redirected to their
 * definition) to records owned by the dwarf_types. libdwarf is opened only
 * when a name index or a type is missing from the cache. Every DIE and
 * attribute obtained from libdwarf is released before the function that
 * got it returns. Chains of typedef/qualifier/array are followed at most
 * MAX_DEPTH deep, so cyclic (hostile) DWARF cannot recurse forever.
 */
#define _GNU_SOURCE
#include "dwarf_int.h"

#include <libdwarf/dwarf.h> /* libdwarf's; "dwarf.h" is ours */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sym.h"

#define MAX_DEPTH 64

int dwarf_fail(dwarf_types *d, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof(d->err), fmt, ap);
    va_end(ap);
    return rc;
}

void dwarf_type_release(struct dwarf_type *t)
{
    if (!t) return;
    for (uint32_t i = 0; i < t->nmembers; i++)
        free(t->members[i].name);
    for (uint32_t i = 0; i < t->nenums; i++)
        free(t->enums[i].name);
    free(t->members);
    free(t->enums);
    free(t->dims);
    free(t->name);
    free(t);
}

/* ---- id -> record hash ------------------------------------------------------- */

typedef struct slot {
    uint64_t key;
    struct dwarf_type *t;
} slot;

static size_t hash_id(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k;
}

static struct dwarf_type *hget(const dwarf_types *d, uint64_t key)
{
    if (!d->cap) return NULL;
    const slot *s = (const slot *)d->slots;
    for (size_t i = hash_id(key) & (d->cap - 1);; i = (i + 1) & (d->cap - 1)) {
        if (!s[i].t) return NULL;
        if (s[i].key == key) return s[i].t;
    }
}

static int hput(dwarf_types *d, uint64_t key, struct dwarf_type *t)
{
    if ((d->count + 1) * 2 > d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 1024;
        slot *ns = calloc(ncap, sizeof(*ns)), *os = (slot *)d->slots;
        if (!ns) return MC_ENOMEM;
        for (size_t i = 0; i < d->cap; i++) {
            if (!os[i].t) continue;
            size_t j = hash_id(os[i].key) & (ncap - 1);
            while (ns[j].t)
                j = (j + 1) & (ncap - 1);
            ns[j] = os[i];
        }
        free(os);
        d->slots = (struct dwarf_type **)ns;
        d->cap = ncap;
    }
    slot *s = (slot *)d->slots;
    size_t i = hash_id(key) & (d->cap - 1);
    while (s[i].t && s[i].key != key)
        i = (i + 1) & (d->cap - 1);
    if (!s[i].t) d->count++;
    s[i].key = key;
    s[i].t = t;
    return 0;
}

/* ---- libdwarf helpers ---------------------------------------------------------- */

static int dw_fail(dwarf_types *d, Dwarf_Error e, const char *what)
{
    dwarf_fail(d, MC_ECORRUPT, "%s: DWARF error in %s: %s", d->path, what,
               e ? dwarf_errmsg(e) : "?");
    if (e) dwarf_dealloc_error(d->dbg, e);
    return MC_ECORRUPT;
}

/* 1 and *v when the attribute has a constant value, 0 when absent. */
static int attr_const(dwarf_types *d, Dwarf_Die die, Dwarf_Half at, int64_t *v)
{
    Dwarf_Attribute a;
    Dwarf_Error e = NULL;
    int r = dwarf_attr(die, at, &a, &e);
    if (r != DW_DLV_OK) {
        if (e) dwarf_dealloc_error(d->dbg, e);
        return 0;
    }
    Dwarf_Half form = 0;
    Dwarf_Unsigned u;
    Dwarf_Signed s;
    int found = 0;
    if (dwarf_whatform(a, &form, &e) != DW_DLV_OK) form = 0;
    if (form == DW_FORM_sdata || form == DW_FORM_implicit_const) {
        if (dwarf_formsdata(a, &s, &e) == DW_DLV_OK) *v = s, found = 1;
    } else if (dwarf_formudata(a, &u, &e) == DW_DLV_OK) {
        *v = (int64_t)u, found = 1;
    }
    if (e) dwarf_dealloc_error(d->dbg, e);
    dwarf_dealloc_attribute(a);
    return found;
}

/* 1 and *off (global .debug_info offset) for a reference attribute. */
static int attr_ref(dwarf_types *d, Dwarf_Die die, Dwarf_Half at, uint64_t *off)
{
    Dwarf_Attribute a;
    Dwarf_Error e = NULL;
    Dwarf_Off o;
    int found = 0;
    if (dwarf_attr(die, at, &a, &e) != DW_DLV_OK) {
        if (e) dwarf_dealloc_error(d->dbg, e);
        return 0;
    }
    if (dwarf_global_formref(a, &o, &e) == DW_DLV_OK) *off = o, found = 1;
    if (e) dwarf_dealloc_error(d->dbg, e);
    dwarf_dealloc_attribute(a);
    return found;
}

static bool has_attr(dwarf_types *d, Dwarf_Die die, Dwarf_Half at)
{
    Dwarf_Bool b = 0;
    Dwarf_Error e = NULL;
    if (dwarf_hasattr(die, at, &b, &e) != DW_DLV_OK && e) dwarf_dealloc_error(d->dbg, e);
    return b;
}

static const char *die_name(dwarf_types *d, Dwarf_Die die)
{
    char *n = NULL;
    Dwarf_Error e = NULL;
    if (dwarf_diename(die, &n, &e) != DW_DLV_OK) {
        if (e) dwarf_dealloc_error(d->dbg, e);
        return NULL;
    }
    return n;
}

static uint64_t uleb(const uint8_t *p, size_t len, size_t *i)
{
    uint64_t v = 0;
    for (unsigned sh = 0; *i < len && sh < 64; sh += 7) {
        uint8_t b = p[(*i)++];
        v |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) break;
    }
    return v;
}

/* Reads an expression attribute (exprloc or block); 1 when present. */
static int attr_expr(dwarf_types *d, Dwarf_Die die, Dwarf_Half at, const uint8_t **p, size_t *len,
                     Dwarf_Attribute *keep)
{
    Dwarf_Error e = NULL;
    Dwarf_Half form = 0;
    if (dwarf_attr(die, at, keep, &e) != DW_DLV_OK) {
        if (e) dwarf_dealloc_error(d->dbg, e);
        return 0;
    }
    int ok = 0;
    if (dwarf_whatform(*keep, &form, &e) == DW_DLV_OK && form == DW_FORM_exprloc) {
        Dwarf_Unsigned n;
        Dwarf_Ptr ptr;
        if (dwarf_formexprloc(*keep, &n, &ptr, &e) == DW_DLV_OK) *p = ptr, *len = n, ok = 1;
    } else if (form == DW_FORM_block1 || form == DW_FORM_block2 || form == DW_FORM_block4 ||
               form == DW_FORM_block) {
        Dwarf_Block *b;
        if (dwarf_formblock(*keep, &b, &e) == DW_DLV_OK) {
            /* the block's bytes live in the section; the descriptor is freed */
            *p = b->bl_data, *len = b->bl_len, ok = 1;
            dwarf_dealloc(d->dbg, b, DW_DLA_BLOCK);
        }
    }
    if (e) dwarf_dealloc_error(d->dbg, e);
    if (!ok) dwarf_dealloc_attribute(*keep);
    return ok;
}

/* Byte offset of a member: constant, or DW_OP_plus_uconst expression. */
static uint64_t member_location(dwarf_types *d, Dwarf_Die die)
{
    int64_t v;
    if (attr_const(d, die, DW_AT_data_member_location, &v)) return (uint64_t)v;
    const uint8_t *p;
    size_t len, i = 1;
    Dwarf_Attribute a;
    if (!attr_expr(d, die, DW_AT_data_member_location, &p, &len, &a)) return 0;
    uint64_t off = 0;
    if (len > 1 && p[0] == DW_OP_plus_uconst) off = uleb(p, len, &i);
    dwarf_dealloc_attribute(a);
    return off;
}

static int open_dbg(dwarf_types *d)
{
    if (d->dbg) return 0;
    Dwarf_Error e = NULL;
    int r = dwarf_init_b(d->fd, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &d->dbg, &e);
    if (r == DW_DLV_OK) return 0;
    d->dbg = NULL;
    if (r == DW_DLV_NO_ENTRY)
        return dwarf_fail(d, MC_EFORMAT,
                          "%s has no DWARF (.debug_info): build the kernel with "
                          "CONFIG_DEBUG_INFO and use the unstripped vmlinux",
                          d->path);
    dwarf_fail(d, MC_EFORMAT, "%s: cannot read DWARF: %s", d->path, e ? dwarf_errmsg(e) : "?");
    if (e) dwarf_dealloc_error(NULL, e);
    return MC_EFORMAT;
}

/* ---- the name index ------------------------------------------------------------- */

static int index_die(dwarf_types *d, Dwarf_Die die)
{
    Dwarf_Half tag;
    Dwarf_Error e = NULL;
    if (dwarf_tag(die, &tag, &e) != DW_DLV_OK) return dw_fail(d, e, "tag");
    int ns;
    switch (tag) {
    case DW_TAG_structure_type: ns = NS_STRUCT; break;
    case DW_TAG_union_type: ns = NS_UNION; break;
    case DW_TAG_enumeration_type: ns = NS_ENUM; break;
    case DW_TAG_typedef:
    case DW_TAG_base_type: ns = NS_ORD; break;
    case DW_TAG_variable: ns = 0; break;
    default: return 0;
    }
    Dwarf_Off off;
    if (dwarf_dieoffset(die, &off, &e) != DW_DLV_OK) return dw_fail(d, e, "offset");
    if (ns) {
        const char *name = die_name(d, die);
        if (!name || has_attr(d, die, DW_AT_declaration)) return 0;
        return dwarf_cache_put_name(d, ns, name, off);
    }
    /* a global variable: needs a DW_OP_addr location */
    const uint8_t *p;
    size_t len;
    Dwarf_Attribute a;
    if (!attr_expr(d, die, DW_AT_location, &p, &len, &a)) return 0;
    uint64_t addr = 0;
    bool ok = len == 9 && p[0] == DW_OP_addr;
    if (ok) memcpy(&addr, p + 1, 8); /* riscv64: little-endian host and target */
    dwarf_dealloc_attribute(a);
    if (!ok) return 0;
    uint64_t type = 0, spec;
    const char *name = die_name(d, die);
    int rc = 0;
    if (!attr_ref(d, die, DW_AT_type, &type) || !name) {
        Dwarf_Die sd;
        if (attr_ref(d, die, DW_AT_specification, &spec) &&
            dwarf_offdie_b(d->dbg, spec, 1, &sd, &e) == DW_DLV_OK) {
            if (!name) name = die_name(d, sd);
            if (!type) (void)attr_ref(d, sd, DW_AT_type, &type);
            if (name) rc = dwarf_cache_put_global(d, name, addr, type);
            dwarf_dealloc_die(sd);
            return rc;
        }
        if (e) dwarf_dealloc_error(d->dbg, e);
    }
    return name ? dwarf_cache_put_global(d, name, addr, type) : 0;
}

static int build_index(dwarf_types *d)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = open_dbg(d);
    if (rc || (rc = dwarf_cache_begin(d))) return rc;
    for (;;) {
        Dwarf_Unsigned hlen, typeoff, next;
        Dwarf_Half ver, asz, lsz, esz, cutype;
        Dwarf_Off abbr;
        Dwarf_Sig8 sig;
        Dwarf_Error e = NULL;
        int r = dwarf_next_cu_header_d(d->dbg, 1, &hlen, &ver, &abbr, &asz, &lsz, &esz, &sig,
                                       &typeoff, &next, &cutype, &e);
        if (r == DW_DLV_NO_ENTRY) break;
        if (r != DW_DLV_OK) return dw_fail(d, e, "CU header");
        Dwarf_Die cu, c, n;
        if (dwarf_siblingof_b(d->dbg, NULL, 1, &cu, &e) != DW_DLV_OK)
            return dw_fail(d, e, "CU DIE");
        r = dwarf_child(cu, &c, &e);
        dwarf_dealloc_die(cu);
        if (r == DW_DLV_ERROR) return dw_fail(d, e, "CU children");
        while (r == DW_DLV_OK) {
            rc = index_die(d, c);
            if (!rc) r = dwarf_siblingof_b(d->dbg, c, 1, &n, &e);
            dwarf_dealloc_die(c);
            if (rc) return rc;
            if (r == DW_DLV_ERROR) return dw_fail(d, e, "DIE sibling");
            c = n;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    d->stats.index_seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if ((rc = dwarf_cache_mark_indexed(d, d->stats.index_seconds))) return rc;
    return dwarf_cache_commit(d);
}

/* ---- resolution ------------------------------------------------------------------ */

static int get_type(dwarf_types *d, uint64_t id, int depth, struct dwarf_type **out);

static int grow(void **arr, uint32_t n, uint32_t *cap, size_t elem)
{
    if (n < *cap) return 0;
    uint32_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p) return MC_ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

static int read_members(dwarf_types *d, Dwarf_Die die, struct dwarf_type *t, int depth)
{
    Dwarf_Die c, n;
    Dwarf_Error e = NULL;
    uint32_t cap = 0;
    int r = dwarf_child(die, &c, &e), rc = 0;
    if (r == DW_DLV_ERROR) return dw_fail(d, e, "members");
    while (r == DW_DLV_OK && !rc) {
        Dwarf_Half tag = 0;
        if (dwarf_tag(c, &tag, &e) != DW_DLV_OK) rc = dw_fail(d, e, "member tag");
        if (!rc && tag == DW_TAG_member)
            rc = grow((void **)&t->members, t->nmembers, &cap, sizeof(*t->members));
        if (!rc && tag == DW_TAG_member) {
            dwarf_mem_rec *m = &t->members[t->nmembers++];
            memset(m, 0, sizeof(*m));
            const char *nm = die_name(d, c);
            m->name = strdup(nm ? nm : "");
            if (!m->name) rc = MC_ENOMEM;
            (void)attr_ref(d, c, DW_AT_type, &m->type);
            uint64_t base = member_location(d, c);
            int64_t bs = 0, bo = 0, dbo = 0, bytes = 0;
            if (attr_const(d, c, DW_AT_bit_size, &bs) && bs > 0 && bs <= 64) {
                uint64_t bit;
                if (attr_const(d, c, DW_AT_data_bit_offset, &dbo)) {
                    bit = (uint64_t)dbo;
                } else {
                    /* DWARF 2/3: bit_offset counts from the MSB of a storage
                     * unit of byte_size bytes at base (little-endian target) */
                    if (!attr_const(d, c, DW_AT_byte_size, &bytes)) {
                        struct dwarf_type *mt;
                        if (!get_type(d, m->type, depth + 1, &mt)) bytes = (int64_t)mt->size;
                    }
                    (void)attr_const(d, c, DW_AT_bit_offset, &bo);
                    bit = base * 8 + (uint64_t)(bytes * 8 - bo - bs);
                }
                m->offset = bit / 8;
                m->bit_offset = (uint32_t)(bit % 8);
                m->bit_size = (uint32_t)bs;
            } else {
                m->offset = base;
            }
        }
        if (!rc) r = dwarf_siblingof_b(d->dbg, c, 1, &n, &e);
        dwarf_dealloc_die(c);
        if (!rc && r == DW_DLV_ERROR) rc = dw_fail(d, e, "member sibling");
        c = n;
    }
    return rc;
}

static int read_enums(dwarf_types *d, Dwarf_Die die, struct dwarf_type *t)
{
    Dwarf_Die c, n;
    Dwarf_Error e = NULL;
    uint32_t cap = 0;
    int r = dwarf_child(die, &c, &e), rc = 0;
    if (r == DW_DLV_ERROR) return dw_fail(d, e, "enumerators");
    while (r == DW_DLV_OK && !rc) {
        Dwarf_Half tag = 0;
        if (dwarf_tag(c, &tag, &e) != DW_DLV_OK) rc = dw_fail(d, e, "enumerator tag");
        if (!rc && tag == DW_TAG_enumerator &&
            !(rc = grow((void **)&t->enums, t->nenums, &cap, sizeof(*t->enums)))) {
            dwarf_enum_rec *en = &t->enums[t->nenums++];
            const char *nm = die_name(d, c);
            en->value = 0;
            (void)attr_const(d, c, DW_AT_const_value, &en->value);
            if (!(en->name = strdup(nm ? nm : ""))) rc = MC_ENOMEM;
        }
        if (!rc) r = dwarf_siblingof_b(d->dbg, c, 1, &n, &e);
        dwarf_dealloc_die(c);
        if (!rc && r == DW_DLV_ERROR) rc = dw_fail(d, e, "enumerator sibling");
        c = n;
    }
    return rc;
}

static int read_dims(dwarf_types *d, Dwarf_Die die, struct dwarf_type *t)
{
    Dwarf_Die c, n;
    Dwarf_Error e = NULL;
    uint32_t cap = 0;
    int r = dwarf_child(die, &c, &e), rc = 0;
    if (r == DW_DLV_ERROR) return dw_fail(d, e, "array bounds");
    while (r == DW_DLV_OK && !rc) {
        Dwarf_Half tag = 0;
        if (dwarf_tag(c, &tag, &e) != DW_DLV_OK) rc = dw_fail(d, e, "subrange tag");
        if (!rc && tag == DW_TAG_subrange_type &&
            !(rc = grow((void **)&t->dims, t->ndims, &cap, sizeof(*t->dims)))) {
            int64_t v, lo = 0;
            uint64_t count = 0; /* flexible or unknown */
            (void)attr_const(d, c, DW_AT_lower_bound, &lo);
            if (attr_const(d, c, DW_AT_count, &v))
                count = (uint64_t)v;
            else if (attr_const(d, c, DW_AT_upper_bound, &v) && v >= lo)
                count = (uint64_t)(v - lo + 1);
            if (count > (1ull << 40)) count = 0; /* [0] arrays encode -1 as unsigned */
            t->dims[t->ndims++] = count;
        }
        if (!rc) r = dwarf_siblingof_b(d->dbg, c, 1, &n, &e);
        dwarf_dealloc_die(c);
        if (!rc && r == DW_DLV_ERROR) rc = dw_fail(d, e, "subrange sibling");
        c = n;
    }
    if (!rc && !t->ndims && !(rc = grow((void **)&t->dims, 0, &cap, sizeof(*t->dims))))
        t->dims[t->ndims++] = 0;
    return rc;
}

/* True when two records describe the same type (member types aside: they
 * are DIEs of different CUs). */
static bool same_shape(const struct dwarf_type *a, const struct dwarf_type *b)
{
    if (a->kind != b->kind || a->size != b->size || a->enc != b->enc ||
        a->nmembers != b->nmembers || a->nenums != b->nenums || a->flags != b->flags)
        return false;
    for (uint32_t i = 0; i < a->nmembers; i++) {
        const dwarf_mem_rec *x = &a->members[i], *y = &b->members[i];
        if (strcmp(x->name, y->name) || x->offset != y->offset || x->bit_offset != y->bit_offset ||
            x->bit_size != y->bit_size)
            return false;
    }
    for (uint32_t i = 0; i < a->nenums; i++)
        if (strcmp(a->enums[i].name, b->enums[i].name) || a->enums[i].value != b->enums[i].value)
            return false;
    return true;
}

/* Builds the record of DIE id from DWARF. *redirect set (record NULL) when
 * id is a declaration whose definition is elsewhere. */
static int read_die(dwarf_types *d, uint64_t id, int depth, struct dwarf_type **out,
                    uint64_t *redirect)
{
    Dwarf_Die die;
    Dwarf_Error e = NULL;
    Dwarf_Half tag;
    *out = NULL;
    *redirect = 0;
    int rc = open_dbg(d);
    if (rc) return rc;
    int r = dwarf_offdie_b(d->dbg, id, 1, &die, &e);
    if (r != DW_DLV_OK) {
        if (e) dwarf_dealloc_error(d->dbg, e);
        return dwarf_fail(d, MC_ECORRUPT, "no DIE at .debug_info offset %#llx",
                          (unsigned long long)id);
    }
    if (dwarf_tag(die, &tag, &e) != DW_DLV_OK) {
        dwarf_dealloc_die(die);
        return dw_fail(d, e, "tag");
    }
    struct dwarf_type *t = calloc(1, sizeof(*t));
    if (!t) {
        dwarf_dealloc_die(die);
        return MC_ENOMEM;
    }
    t->id = id;
    const char *nm = die_name(d, die);
    if (nm && !(t->name = strdup(nm))) rc = MC_ENOMEM;
    int64_t v = 0;
    if (attr_const(d, die, DW_AT_byte_size, &v)) t->size = (uint64_t)v;
    (void)attr_ref(d, die, DW_AT_type, &t->target);
    int ns = 0;
    switch (tag) {
    case DW_TAG_base_type:
        t->kind = DWARF_K_BASE;
        if (attr_const(d, die, DW_AT_encoding, &v)) t->enc = (unsigned)v;
        break;
    case DW_TAG_structure_type:
    case DW_TAG_class_type: t->kind = DWARF_K_STRUCT, ns = NS_STRUCT; break;
    case DW_TAG_union_type: t->kind = DWARF_K_UNION, ns = NS_UNION; break;
    case DW_TAG_enumeration_type: t->kind = DWARF_K_ENUM, ns = NS_ENUM; break;
    case DW_TAG_typedef: t->kind = DWARF_K_TYPEDEF; break;
    case DW_TAG_pointer_type:
    case DW_TAG_reference_type:
        t->kind = DWARF_K_POINTER;
        if (!t->size) t->size = 8;
        break;
    case DW_TAG_array_type: t->kind = DWARF_K_ARRAY; break;
    case DW_TAG_const_type: t->kind = DWARF_K_CONST; break;
    case DW_TAG_volatile_type: t->kind = DWARF_K_VOLATILE; break;
    case DW_TAG_restrict_type:
    case DW_TAG_atomic_type: t->kind = DWARF_K_RESTRICT; break;
    case DW_TAG_subroutine_type: t->kind = DWARF_K_FUNC; break;
    case DW_TAG_unspecified_type: t->kind = DWARF_K_VOID; break;
    default:
        rc = dwarf_fail(d, MC_EUNSUP, "DIE %#llx: tag %#x is not a type", (unsigned long long)id,
                        tag);
    }
    if (!rc && ns && has_attr(d, die, DW_AT_declaration)) {
        uint64_t def;
        if (t->name && !dwarf_cache_get_name(d, ns, t->name, &def) && def != id)
            *redirect = def;
        else
            t->flags |= DT_INCOMPLETE;
    }
    if (!rc && !*redirect) {
        if (t->kind == DWARF_K_STRUCT || t->kind == DWARF_K_UNION)
            rc = read_members(d, die, t, depth);
        else if (t->kind == DWARF_K_ENUM)
            rc = read_enums(d, die, t);
        else if (t->kind == DWARF_K_ARRAY)
            rc = read_dims(d, die, t);
    }
    dwarf_dealloc_die(die);
    /* each CU has its own copy of a shared type: map it to the indexed
     * (canonical) one when the two agree, so a type has one handle */
    if (!rc && !*redirect && t->name && (ns || t->kind == DWARF_K_BASE) &&
        !(t->flags & DT_INCOMPLETE)) {
        uint64_t canon;
        struct dwarf_type *c;
        if (!dwarf_cache_get_name(d, ns ? ns : NS_ORD, t->name, &canon) && canon != id &&
            !get_type(d, canon, depth + 1, &c) && same_shape(t, c))
            *redirect = canon;
    }
    if (rc || *redirect) {
        dwarf_type_release(t);
        return rc;
    }
    d->stats.types_from_dwarf++;
    *out = t;
    return 0;
}

/* Size of typedefs, qualifiers and arrays from their targets. */
static int finish_size(dwarf_types *d, struct dwarf_type *t, int depth)
{
    struct dwarf_type *tt;
    int rc;
    switch (t->kind) {
    case DWARF_K_TYPEDEF:
    case DWARF_K_CONST:
    case DWARF_K_VOLATILE:
    case DWARF_K_RESTRICT:
        if ((rc = get_type(d, t->target, depth + 1, &tt))) return rc;
        t->size = tt->size;
        return 0;
    case DWARF_K_ARRAY:
        if ((rc = get_type(d, t->target, depth + 1, &tt))) return rc;
        t->size = tt->size;
        for (uint32_t i = 0; i < t->ndims; i++)
            t->size *= t->dims[i];
        return 0;
    default: return 0;
    }
}

static struct dwarf_type *void_type(dwarf_types *d)
{
    struct dwarf_type *t = hget(d, 0);
    if (t) return t;
    t = calloc(1, sizeof(*t));
    if (!t || !(t->name = strdup("void")) || hput(d, 0, t)) {
        dwarf_type_release(t);
        return NULL;
    }
    return t;
}

/* Synthesized types: pointer to X, sub-array of a multi-dim array. */
static int synth_type(dwarf_types *d, uint64_t id, int depth, struct dwarf_type **out)
{
    struct dwarf_type *base, *t;
    int rc;
    if (id & DT_SYNTH_PTR) {
        uint64_t depth = (id >> 48) & 0xff;
        uint64_t target = depth > 1 ? (id & ~(0xffull << 48)) | ((depth - 1) << 48)
                                    : id & ~(DT_SYNTH_PTR | (0xffull << 48));
        if (!depth) return dwarf_fail(d, MC_EINVAL, "bad pointer id %#llx", (unsigned long long)id);
        if ((rc = get_type(d, target, depth + 1, &base))) return rc;
    } else {
        if ((rc = get_type(d, id & DT_DIE_MASK, depth + 1, &base))) return rc;
    }
    if (!(t = calloc(1, sizeof(*t)))) return MC_ENOMEM;
    t->id = id;
    if (id & DT_SYNTH_PTR) {
        t->kind = DWARF_K_POINTER;
        t->size = 8;
        t->target = base->id;
    } else {
        uint32_t drop = (uint32_t)((id >> 40) & 0xff);
        if (base->kind != DWARF_K_ARRAY || drop >= base->ndims) {
            free(t);
            return dwarf_fail(d, MC_EINVAL, "bad sub-array id %#llx", (unsigned long long)id);
        }
        t->kind = DWARF_K_ARRAY;
        t->target = base->target;
        t->ndims = base->ndims - drop;
        if (!(t->dims = malloc(t->ndims * sizeof(*t->dims)))) {
            free(t);
            return MC_ENOMEM;
        }
        memcpy(t->dims, base->dims + drop, t->ndims * sizeof(*t->dims));
        if ((rc = finish_size(d, t, depth))) {
            dwarf_type_release(t);
            return rc;
        }
    }
    if ((rc = hput(d, id, t))) {
        dwarf_type_release(t);
        return rc;
    }
    *out = t;
    return 0;
}

static int get_type(dwarf_types *d, uint64_t id, int depth, struct dwarf_type **out)
{
    struct dwarf_type *t = hget(d, id);
    int rc;
    if (t) {
        *out = t;
        return 0;
    }
    if (depth > MAX_DEPTH)
        return dwarf_fail(d, MC_ECORRUPT, "type chain deeper than %d at DIE %#llx", MAX_DEPTH,
                          (unsigned long long)id);
    if (id == 0) {
        if (!(*out = void_type(d))) return MC_ENOMEM;
        return 0;
    }
    if (id & (DT_SYNTH_PTR | DT_SYNTH_SUB)) return synth_type(d, id, depth, out);
    if (id > DT_DIE_MASK)
        return dwarf_fail(d, MC_EINVAL, "bad type id %#llx", (unsigned long long)id);
    uint64_t to;
    if (!(rc = dwarf_cache_get_redirect(d, id, &to))) {
        if ((rc = get_type(d, to, depth + 1, &t))) return rc;
        *out = t;
        return hput(d, id, t);
    }
    if (rc != MC_ENOENT) return rc;
    rc = dwarf_cache_get_type(d, id, &t);
    if (!rc) {
        d->stats.types_from_cache++;
    } else if (rc == MC_ENOENT) {
        if ((rc = read_die(d, id, depth, &t, &to))) return rc;
        if (!t) {
            if ((rc = dwarf_cache_put_redirect(d, id, to))) return rc;
            if ((rc = get_type(d, to, depth + 1, &t))) return rc;
            *out = t;
            return hput(d, id, t);
        }
        if ((rc = finish_size(d, t, depth)) || (rc = dwarf_cache_put_type(d, t))) {
            dwarf_type_release(t);
            return rc;
        }
    } else {
        return rc;
    }
    struct dwarf_type *again = hget(d, id);
    if (again) { /* resolved meanwhile through a recursive reference */
        dwarf_type_release(t);
        *out = again;
        return 0;
    }
    if ((rc = hput(d, id, t))) {
        dwarf_type_release(t);
        return rc;
    }
    *out = t;
    return 0;
}

int dwarf_get_type(dwarf_types *d, uint64_t id, struct dwarf_type **out)
{
    return get_type(d, id, 0, out);
}

int dwarf_done(dwarf_types *d, int rc)
{
    int c = dwarf_cache_commit(d);
    return rc ? rc : c;
}

/* ---- open / free -------------------------------------------------------------------- */

int dwarf_open(dwarf_types **out, const char *vmlinux, const char *cache_dir)
{
    dwarf_types *d = calloc(1, sizeof(*d));
    *out = d;
    if (!d) return MC_ENOMEM;
    d->fd = -1;
    if (!vmlinux || !(d->path = strdup(vmlinux))) return dwarf_fail(d, MC_EINVAL, "no path");
    d->fd = open(vmlinux, O_RDONLY | O_CLOEXEC);
    if (d->fd < 0) return dwarf_fail(d, MC_EIO, "cannot open %s", vmlinux);
    int rc = sym_file_build_id(vmlinux, d->build_id, sizeof(d->build_id));
    if (rc == MC_EFORMAT || rc == MC_EIO)
        return dwarf_fail(d, rc, "%s: not a readable ELF file", vmlinux);
    bool indexed;
    if ((rc = dwarf_cache_open(d, cache_dir, &indexed))) return rc;
    d->stats.index_from_cache = indexed;
    if (!indexed && (rc = build_index(d))) {
        (void)dwarf_cache_commit(d);
        return rc;
    }
    return 0;
}

void dwarf_free(dwarf_types *d)
{
    if (!d) return;
    dwarf_cache_close(d);
    slot *s = (slot *)d->slots;
    for (size_t i = 0; i < d->cap; i++) /* aliases first: records are freed once */
        if (s[i].t && s[i].t->id != s[i].key) s[i].t = NULL;
    for (size_t i = 0; i < d->cap; i++)
        if (s[i].t) dwarf_type_release(s[i].t);
    free(d->slots);
    if (d->dbg) {
        Dwarf_Error e = NULL;
        dwarf_finish(d->dbg, &e);
    }
    if (d->fd >= 0) close(d->fd);
    free(d->path);
    free(d);
}

const char *dwarf_last_error(const dwarf_types *d)
{
    return d ? d->err : "out of memory";
}

const char *dwarf_build_id(const dwarf_types *d)
{
    return d->build_id;
}

void dwarf_get_stats(const dwarf_types *d, dwarf_stats *out)
{
    *out = d->stats;
}
