/*
 * test_dwarf.c - types of the corpus vmlinux: sizes and offsets agree with
 * gdb-multiarch (run here through popen), bit-fields, members of anonymous
 * structs/unions, typedef chains, enums, multi-dimensional arrays, global
 * variables against System.map, "__state|state" alternatives, and the
 * per-build-id SQLite cache: a second open answers without reading DWARF
 * and gives the same types as an uncached open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/introspect/dwarf.h"
#include "small_types.h"

#define VMLINUX    MACHINA_CORPUS_DIR "/vmlinux"
#define SYSTEM_MAP MACHINA_CORPUS_DIR "/System.map"

static char cache_dir[64];

static void need_corpus(void)
{
    if (access(VMLINUX, R_OK))
        fail_msg("corpus kernel missing: %s is required (cmake --build build --target corpus)",
                 VMLINUX);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(cache_dir, sizeof(cache_dir), "/tmp/test_dwarf.XXXXXX");
    return mkdtemp(cache_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", cache_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static dwarf_types *open_types(const char *cache)
{
    need_corpus();
    dwarf_types *d;
    int rc = dwarf_open(&d, VMLINUX, cache);
    if (rc) fail_msg("dwarf_open: %s", dwarf_last_error(d));
    return d;
}

static dwarf_type_t lookup(dwarf_types *d, const char *name)
{
    dwarf_type_t t;
    if (dwarf_type_lookup(d, name, &t)) fail_msg("%s: %s", name, dwarf_last_error(d));
    return t;
}

static dwarf_member member(dwarf_types *d, const char *type, const char *name)
{
    dwarf_member m;
    if (dwarf_type_find_member(d, lookup(d, type), name, &m))
        fail_msg("%s.%s: %s", type, name, dwarf_last_error(d));
    return m;
}

static uint64_t map_addr(const char *name)
{
    FILE *f = fopen(SYSTEM_MAP, "r");
    char line[512], ty, nm[400];
    unsigned long long a;
    uint64_t r = 0;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "%llx %c %399s", &a, &ty, nm) == 3 && !strcmp(nm, name)) r = a;
    fclose(f);
    return r;
}

/* ---- gdb cross-check ------------------------------------------------------ */

typedef struct check {
    const char *type, *field; /* field NULL: sizeof(type) */
} check;

static const check checks[] = {
    {"struct task_struct", NULL},
    {"struct task_struct", "pid"},
    {"struct task_struct", "comm"},
    {"struct task_struct", "tasks"},
    {"struct task_struct", "__state"},
    {"struct task_struct", "mm"},
    {"struct task_struct", "stack"},
    {"struct task_struct", "se"},
    {"struct task_struct", "thread"},
    {"struct task_struct", "real_parent"},
    {"struct task_struct", "signal"},
    {"struct task_struct", "thread_group"},
    {"struct mm_struct", NULL},
    {"struct mm_struct", "pgd"}, /* in an anonymous struct */
    {"struct mm_struct", "mmap_base"},
    {"struct mm_struct", "mm_users"},
    {"struct list_head", NULL},
    {"struct list_head", "next"},
    {"struct list_head", "prev"},
    {"struct page", NULL},
    {"struct page", "lru"}, /* anonymous union of anonymous structs */
    {"struct page", "mapping"},
    {"struct page", "flags"},
    {"struct sched_entity", "vruntime"},
    /* what the Linux view (src/introspect/linux) reads */
    {"struct task_struct", "tgid"},
    {"struct task_struct", "exit_state"},
    {"struct task_struct", "prio"},
    {"struct task_struct", "static_prio"},
    {"struct task_struct", "policy"},
    {"struct task_struct", "flags"},
    {"struct task_struct", "thread_node"},
    {"struct task_struct", "thread_info"},
    {"struct signal_struct", NULL},
    {"struct signal_struct", "thread_head"},
    {"struct thread_info", "cpu"},
    {"struct kernel_mapping", "page_offset"},
};

static const char *const bitfields[] = {"sched_reset_on_fork", "sched_contributes_to_load",
                                        "in_execve", "sched_remote_wakeup"};

#define NCHECK (sizeof(checks) / sizeof(checks[0]))
#define NBITS  (sizeof(bitfields) / sizeof(bitfields[0]))

static void test_dwarf__agrees_with_gdb(void **state)
{
    (void)state;
    need_corpus();
    static char cmd[16384];
    size_t n = (size_t)snprintf(cmd, sizeof(cmd), "gdb-multiarch -batch -nx");
    for (size_t i = 0; i < NCHECK; i++) {
        if (checks[i].field)
            n += (size_t)snprintf(cmd + n, sizeof(cmd) - n,
                                  " -ex 'print/d (unsigned long)&((%s *)0)->%s'", checks[i].type,
                                  checks[i].field);
        else
            n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, " -ex 'print/d sizeof(%s)'",
                                  checks[i].type);
    }
    for (size_t i = 0; i < NBITS; i++)
        n += (size_t)snprintf(cmd + n, sizeof(cmd) - n,
                              " -ex \"python f=gdb.lookup_type('struct task_struct')['%s'];"
                              " print('bits', f.bitpos, f.bitsize)\"",
                              bitfields[i]);
    snprintf(cmd + n, sizeof(cmd) - n, " %s 2>&1", VMLINUX);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    uint64_t want[NCHECK], bitpos[NBITS], bitsize[NBITS];
    size_t got = 0, gotb = 0;
    char line[512];
    while (fgets(line, sizeof(line), p)) {
        unsigned long long a, b;
        int k;
        if (sscanf(line, "$%d = %llu", &k, &a) == 2 && got < NCHECK)
            want[got++] = a;
        else if (sscanf(line, "bits %llu %llu", &a, &b) == 2 && gotb < NBITS)
            bitpos[gotb] = a, bitsize[gotb++] = b;
    }
    int st = pclose(p);
    if (got != NCHECK || gotb != NBITS)
        fail_msg("gdb-multiarch gave %zu/%zu values (exit %d); is it installed?", got + gotb,
                 NCHECK + NBITS, st);
    dwarf_types *d = open_types(cache_dir);
    for (size_t i = 0; i < NCHECK; i++) {
        uint64_t v = checks[i].field ? member(d, checks[i].type, checks[i].field).offset
                                     : dwarf_type_size(lookup(d, checks[i].type));
        if (v != want[i])
            fail_msg("%s %s: %llu, gdb says %llu", checks[i].type,
                     checks[i].field ? checks[i].field : "size", (unsigned long long)v,
                     (unsigned long long)want[i]);
    }
    for (size_t i = 0; i < NBITS; i++) {
        dwarf_member m = member(d, "struct task_struct", bitfields[i]);
        assert_int_equal(m.offset * 8 + m.bit_offset, bitpos[i]);
        assert_int_equal(m.bit_size, bitsize[i]);
    }
    dwarf_free(d);
}

/* ---- the type model ------------------------------------------------------- */

static void test_dwarf__task_struct(void **state)
{
    (void)state;
    dwarf_types *d = open_types(cache_dir);
    char buf[200];
    dwarf_type_t ts = lookup(d, "struct task_struct"), t;
    assert_int_equal(dwarf_type_kind(ts), DWARF_K_STRUCT);
    assert_string_equal(dwarf_type_name(ts), "task_struct");
    assert_true(dwarf_type_nmembers(ts) > 100);
    /* bare tag names resolve too */
    assert_ptr_equal(lookup(d, "task_struct"), ts);
    /* comm: char [16] */
    dwarf_member m = member(d, "struct task_struct", "comm");
    assert_int_equal(dwarf_type_kind(m.type), DWARF_K_ARRAY);
    assert_int_equal(dwarf_type_ndims(m.type), 1);
    assert_int_equal(dwarf_type_dim(m.type, 0), 16);
    assert_int_equal(dwarf_type_size(m.type), 16);
    assert_string_equal(dwarf_type_format(d, m.type, buf, sizeof(buf)), "char [16]");
    /* pid: pid_t -> __kernel_pid_t -> int */
    m = member(d, "struct task_struct", "pid");
    assert_int_equal(dwarf_type_kind(m.type), DWARF_K_TYPEDEF);
    assert_string_equal(dwarf_type_name(m.type), "pid_t");
    assert_int_equal(dwarf_type_size(m.type), 4);
    assert_int_equal(dwarf_type_strip(d, m.type, &t), 0);
    assert_int_equal(dwarf_type_kind(t), DWARF_K_BASE);
    assert_string_equal(dwarf_type_name(t), "int");
    assert_int_equal(dwarf_type_encoding(t), DWARF_ENC_SIGNED);
    /* mm: pointer (size 8) to a complete struct mm_struct */
    m = member(d, "struct task_struct", "mm");
    assert_int_equal(dwarf_type_kind(m.type), DWARF_K_POINTER);
    assert_int_equal(dwarf_type_size(m.type), 8);
    assert_int_equal(dwarf_type_target(d, m.type, &t), 0);
    assert_string_equal(dwarf_type_name(t), "mm_struct");
    assert_false(dwarf_type_incomplete(t));
    assert_int_equal(dwarf_type_size(t), dwarf_type_size(lookup(d, "struct mm_struct")));
    assert_string_equal(dwarf_type_format(d, m.type, buf, sizeof(buf)), "struct mm_struct *");
    /* the first existing of several names */
    m = member(d, "struct task_struct", "state|__state");
    assert_int_equal(m.offset, member(d, "struct task_struct", "__state").offset);
    assert_int_equal(dwarf_type_find_member(d, ts, "state", &m), MC_ENOENT);
    assert_non_null(strstr(dwarf_last_error(d), "no field 'state' in struct task_struct"));
    assert_int_equal(dwarf_type_find_member(d, ts, "nosuch|other", &m), MC_ENOENT);
    /* a function pointer member is opaque */
    m = member(d, "struct task_struct", "sched_class");
    assert_int_equal(dwarf_type_target(d, m.type, &t), 0);
    assert_int_equal(dwarf_type_strip(d, t, &t), 0);
    assert_int_equal(dwarf_type_kind(t), DWARF_K_STRUCT);
    dwarf_type_t sc = t;
    assert_int_equal(dwarf_type_find_member(d, sc, "enqueue_task", &m), 0);
    assert_int_equal(dwarf_type_target(d, m.type, &t), 0);
    assert_int_equal(dwarf_type_kind(t), DWARF_K_FUNC);
    /* const qualifier: sched_class is "const struct sched_class *" */
    m = member(d, "struct task_struct", "sched_class");
    assert_string_equal(dwarf_type_format(d, m.type, buf, sizeof(buf)),
                        "const struct sched_class *");
    dwarf_free(d);
}

static void test_dwarf__globals_enums_arrays(void **state)
{
    (void)state;
    dwarf_types *d = open_types(cache_dir);
    uint64_t addr;
    dwarf_type_t t, e;
    char buf[200];
    assert_int_equal(dwarf_var_lookup(d, "init_task", &addr, &t), 0);
    assert_int_equal(addr, map_addr("init_task"));
    assert_ptr_equal(t, lookup(d, "struct task_struct"));
    assert_int_equal(dwarf_var_lookup(d, "init_mm", &addr, &t), 0);
    assert_int_equal(addr, map_addr("init_mm"));
    assert_string_equal(dwarf_type_name(t), "mm_struct");
    assert_int_equal(dwarf_var_lookup(d, "no_such_variable", &addr, &t), MC_ENOENT);
    /* a multi-dimensional array: const u32 crc32table_le[8][256] */
    assert_int_equal(dwarf_var_lookup(d, "crc32table_le", &addr, &t), 0);
    assert_int_equal(addr, map_addr("crc32table_le"));
    assert_int_equal(dwarf_type_strip(d, t, &t), 0);
    assert_int_equal(dwarf_type_kind(t), DWARF_K_ARRAY);
    assert_int_equal(dwarf_type_ndims(t), 2);
    assert_int_equal(dwarf_type_dim(t, 0), 8);
    assert_int_equal(dwarf_type_dim(t, 1), 256);
    assert_int_equal(dwarf_type_size(t), 8 * 256 * 4);
    assert_int_equal(dwarf_type_index(d, t, &e), 0); /* u32 [256] */
    assert_int_equal(dwarf_type_kind(e), DWARF_K_ARRAY);
    assert_int_equal(dwarf_type_ndims(e), 1);
    assert_int_equal(dwarf_type_size(e), 1024);
    assert_int_equal(dwarf_type_index(d, e, &e), 0);
    assert_int_equal(dwarf_type_size(e), 4);
    /* enum pid_type */
    t = lookup(d, "enum pid_type");
    assert_int_equal(dwarf_type_kind(t), DWARF_K_ENUM);
    assert_int_equal(dwarf_type_size(t), 4);
    assert_true(dwarf_type_nenums(t) >= 4);
    int64_t v;
    assert_string_equal(dwarf_type_enum(t, 0, &v), "PIDTYPE_PID");
    assert_int_equal(v, 0);
    assert_string_equal(dwarf_type_enum(t, 1, &v), "PIDTYPE_TGID");
    assert_int_equal(v, 1);
    /* base types by their C spellings */
    assert_int_equal(dwarf_type_size(lookup(d, "unsigned long")), 8);
    assert_string_equal(dwarf_type_name(lookup(d, "unsigned long")), "long unsigned int");
    assert_int_equal(dwarf_type_size(lookup(d, "unsigned char")), 1);
    assert_int_equal(dwarf_type_size(lookup(d, "u64")), 8);
    assert_int_equal(dwarf_type_kind(lookup(d, "void")), DWARF_K_VOID);
    t = lookup(d, "struct list_head **");
    assert_string_equal(dwarf_type_format(d, t, buf, sizeof(buf)), "struct list_head * *");
    assert_int_equal(dwarf_type_size(t), 8);
    assert_int_equal(dwarf_type_lookup(d, "struct no_such_struct", &t), MC_ENOENT);
    assert_non_null(strstr(dwarf_last_error(d), "no_such_struct"));
    /* spinlock_t is a typedef of an anonymous-member struct */
    t = lookup(d, "spinlock_t");
    assert_int_equal(dwarf_type_kind(t), DWARF_K_TYPEDEF);
    assert_true(dwarf_type_size(t) >= 4);
    dwarf_free(d);
}

/* ---- the cache ------------------------------------------------------------- */

static const char *const compare_types[] = {
    "struct task_struct",
    "struct mm_struct",
    "struct list_head",
    "struct page",
    "struct file",
    "struct inode",
    "struct dentry",
    "struct super_block",
    "struct vm_area_struct",
    "struct signal_struct",
    "struct sighand_struct",
    "struct cred",
    "struct pid",
    "struct sched_entity",
    "struct thread_struct",
    "struct files_struct",
    "struct rq",
    "struct cfs_rq",
    "struct mutex",
    "struct hlist_node",
    "spinlock_t",
    "enum pid_type",
    "struct maple_tree",
    "struct pt_regs",
};

static void compare(dwarf_types *a, dwarf_types *b, dwarf_type_t ta, dwarf_type_t tb, int depth)
{
    char fa[200], fb[200];
    assert_int_equal(dwarf_type_id(ta), dwarf_type_id(tb));
    assert_int_equal(dwarf_type_kind(ta), dwarf_type_kind(tb));
    assert_int_equal(dwarf_type_size(ta), dwarf_type_size(tb));
    assert_int_equal(dwarf_type_encoding(ta), dwarf_type_encoding(tb));
    assert_string_equal(dwarf_type_format(a, ta, fa, sizeof(fa)),
                        dwarf_type_format(b, tb, fb, sizeof(fb)));
    assert_int_equal(dwarf_type_nmembers(ta), dwarf_type_nmembers(tb));
    assert_int_equal(dwarf_type_ndims(ta), dwarf_type_ndims(tb));
    for (size_t i = 0; i < dwarf_type_ndims(ta); i++)
        assert_int_equal(dwarf_type_dim(ta, i), dwarf_type_dim(tb, i));
    assert_int_equal(dwarf_type_nenums(ta), dwarf_type_nenums(tb));
    for (size_t i = 0; i < dwarf_type_nenums(ta); i++) {
        int64_t va, vb;
        assert_string_equal(dwarf_type_enum(ta, i, &va), dwarf_type_enum(tb, i, &vb));
        assert_int_equal(va, vb);
    }
    for (size_t i = 0; i < dwarf_type_nmembers(ta); i++) {
        dwarf_member ma, mb;
        assert_int_equal(dwarf_type_member(a, ta, i, &ma), 0);
        assert_int_equal(dwarf_type_member(b, tb, i, &mb), 0);
        assert_string_equal(ma.name, mb.name);
        assert_int_equal(ma.offset, mb.offset);
        assert_int_equal(ma.bit_offset, mb.bit_offset);
        assert_int_equal(ma.bit_size, mb.bit_size);
        if (depth < 1)
            compare(a, b, ma.type, mb.type, depth + 1);
        else
            assert_int_equal(dwarf_type_id(ma.type), dwarf_type_id(mb.type));
    }
    dwarf_type_t xa, xb;
    if (!dwarf_type_target(a, ta, &xa)) {
        assert_int_equal(dwarf_type_target(b, tb, &xb), 0);
        assert_int_equal(dwarf_type_id(xa), dwarf_type_id(xb));
    }
}

static void test_dwarf__cache(void **state)
{
    (void)state;
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/fresh", cache_dir);
    dwarf_stats st;
    /* first process: indexes DWARF, resolves, writes the cache */
    dwarf_types *first = open_types(dir);
    dwarf_get_stats(first, &st);
    assert_false(st.index_from_cache);
    assert_true(st.index_seconds > 0);
    for (size_t i = 0; i < sizeof(compare_types) / sizeof(compare_types[0]); i++)
        (void)lookup(first, compare_types[i]);
    dwarf_get_stats(first, &st);
    assert_true(st.types_from_dwarf > 20);
    char file[256];
    snprintf(file, sizeof(file), "%s/%s.sqlite", dir, dwarf_build_id(first));
    assert_int_equal(access(file, R_OK), 0);
    dwarf_free(first);
    /* second: the same types from SQLite, no DWARF read */
    dwarf_types *cached = open_types(dir), *plain = open_types("");
    dwarf_get_stats(cached, &st);
    assert_true(st.index_from_cache);
    for (size_t i = 0; i < sizeof(compare_types) / sizeof(compare_types[0]); i++)
        (void)lookup(cached, compare_types[i]);
    uint64_t aa, ab;
    dwarf_type_t ta, tb;
    assert_int_equal(dwarf_var_lookup(cached, "init_task", &ab, &tb), 0);
    dwarf_get_stats(cached, &st);
    assert_true(st.types_from_cache >= 24);
    assert_int_equal(st.types_from_dwarf, 0);
    /* identical to an uncached open, members and their types one level down */
    for (size_t i = 0; i < sizeof(compare_types) / sizeof(compare_types[0]); i++) {
        dwarf_type_t a = lookup(plain, compare_types[i]), b = lookup(cached, compare_types[i]);
        compare(plain, cached, a, b, 0);
    }
    assert_int_equal(dwarf_var_lookup(plain, "init_task", &aa, &ta), 0);
    assert_int_equal(aa, ab);
    assert_int_equal(dwarf_type_id(ta), dwarf_type_id(tb));
    uint64_t ts_size = dwarf_type_size(lookup(plain, "struct task_struct"));
    dwarf_free(cached);
    /* third: the member types resolved by the second process are cached too */
    cached = open_types(dir);
    for (size_t i = 0; i < sizeof(compare_types) / sizeof(compare_types[0]); i++) {
        dwarf_type_t a = lookup(plain, compare_types[i]), b = lookup(cached, compare_types[i]);
        compare(plain, cached, a, b, 0);
    }
    dwarf_get_stats(cached, &st);
    assert_int_equal(st.types_from_dwarf, 0);
    dwarf_free(cached);
    dwarf_free(plain);
    /* a damaged cache file is rebuilt, not trusted */
    FILE *f = fopen(file, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_SET);
    fputs("this is not a database", f);
    fclose(f);
    dwarf_types *again = open_types(dir);
    dwarf_get_stats(again, &st);
    assert_false(st.index_from_cache);
    assert_int_equal(dwarf_type_size(lookup(again, "struct task_struct")), ts_size);
    dwarf_free(again);
}

static void test_dwarf__bad_files(void **state)
{
    (void)state;
    need_corpus();
    dwarf_types *d;
    char path[128], cmd[512];
    assert_int_equal(dwarf_open(&d, "/nonexistent/vmlinux", ""), MC_EIO);
    assert_non_null(strstr(dwarf_last_error(d), "/nonexistent/vmlinux"));
    dwarf_free(d);
    assert_int_equal(dwarf_open(&d, SYSTEM_MAP, ""), MC_EFORMAT);
    dwarf_free(d);
    /* without debug info */
    snprintf(path, sizeof(path), "%s/nodebug", cache_dir);
    snprintf(cmd, sizeof(cmd), "riscv64-linux-gnu-strip --strip-debug -o %s %s", path, VMLINUX);
    assert_int_equal(system(cmd), 0);
    int rc = dwarf_open(&d, path, "");
    assert_int_equal(rc, MC_EFORMAT);
    assert_non_null(strstr(dwarf_last_error(d), "DWARF"));
    dwarf_free(d);
    /* truncated in the middle of .debug_info */
    snprintf(cmd, sizeof(cmd), "head -c 20000000 %s > %s", VMLINUX, path);
    assert_int_equal(system(cmd), 0);
    rc = dwarf_open(&d, path, "");
    assert_true(rc == MC_EFORMAT || rc == MC_ECORRUPT);
    assert_true(strlen(dwarf_last_error(d)) > 10);
    dwarf_free(d);
}

/* ---- a small ELF compiled here ------------------------------------------------ */

/* Bit position and width of a bit-field, found by setting it in a zeroed
 * struct (the host compiler's layout). */
#define BITS_OF(field, pos, width)                                                                 \
    do {                                                                                           \
        struct sm_bits s_;                                                                         \
        memset(&s_, 0, sizeof(s_));                                                                \
        s_.field = -1;                                                                             \
        bit_scan((const uint8_t *)&s_, sizeof(s_), &(pos), &(width));                              \
    } while (0)

static void bit_scan(const uint8_t *p, size_t n, unsigned *pos, unsigned *width)
{
    *pos = ~0u;
    *width = 0;
    for (unsigned i = 0; i < n * 8; i++)
        if (p[i / 8] >> (i % 8) & 1) {
            if (*pos == ~0u) *pos = i;
            (*width)++;
        }
}

static void check_member(dwarf_types *d, dwarf_type_t t, const char *name, uint64_t off)
{
    dwarf_member m;
    if (dwarf_type_find_member(d, t, name, &m)) fail_msg("%s: %s", name, dwarf_last_error(d));
    if (m.offset != off)
        fail_msg("member %s at %llu, the host compiler says %llu", name,
                 (unsigned long long)m.offset, (unsigned long long)off);
}

static void test_dwarf__small_elf(void **state)
{
    (void)state;
    char src[128], elf[128], cmd[700];
    snprintf(src, sizeof(src), "%s/small.c", cache_dir);
    snprintf(elf, sizeof(elf), "%s/small.elf", cache_dir);
    FILE *f = fopen(src, "w");
    assert_non_null(f);
    fprintf(f,
            "#include \"%s/tests/dwarf/small_types.h\"\n"
            "struct sm_outer sm_global;\nunion sm_u sm_union;\nenum sm_color sm_col;\n"
            "sm_outer_t *sm_ptr;\nvoid _start(void) { for (;;) ; }\n",
            MACHINA_SOURCE_DIR);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "riscv64-linux-gnu-gcc -g -O0 -nostdlib -static -o %s %s 2>&1", elf,
             src);
    if (system(cmd)) fail_msg("riscv64-linux-gnu-gcc could not build %s (is it installed?)", elf);
    dwarf_types *d;
    if (dwarf_open(&d, elf, "")) fail_msg("dwarf_open: %s", dwarf_last_error(d));
    dwarf_type_t o = lookup(d, "struct sm_outer"), u = lookup(d, "union sm_u"),
                 b = lookup(d, "struct sm_bits"), e = lookup(d, "enum sm_color"), t;
    assert_int_equal(dwarf_type_size(o), sizeof(struct sm_outer));
    assert_int_equal(dwarf_type_size(u), sizeof(union sm_u));
    assert_int_equal(dwarf_type_size(b), sizeof(struct sm_bits));
    assert_int_equal(dwarf_type_size(e), sizeof(enum sm_color));
    assert_int_equal(dwarf_type_kind(u), DWARF_K_UNION);
    /* members, through anonymous structs and unions */
    check_member(d, o, "x", offsetof(struct sm_outer, x));
    check_member(d, o, "y", offsetof(struct sm_outer, y));
    check_member(d, o, "z", offsetof(struct sm_outer, z));
    check_member(d, o, "w", offsetof(struct sm_outer, w));
    check_member(d, o, "u", offsetof(struct sm_outer, u));
    check_member(d, o, "col", offsetof(struct sm_outer, col));
    check_member(d, o, "bits", offsetof(struct sm_outer, bits));
    check_member(d, o, "grid", offsetof(struct sm_outer, grid));
    check_member(d, o, "next", offsetof(struct sm_outer, next));
    check_member(d, o, "cv", offsetof(struct sm_outer, cv));
    check_member(d, o, "tail", offsetof(struct sm_outer, tail));
    check_member(d, o, "nosuch|z", offsetof(struct sm_outer, z));
    check_member(d, u, "lo", offsetof(union sm_u, lo));
    check_member(d, u, "hi", offsetof(union sm_u, hi));
    check_member(d, u, "c", 0);
    /* bit-fields: absolute bit position and width */
    static const char *const names[] = {"a", "b", "c", "d", "f"};
    unsigned pos[5], width[5];
    BITS_OF(a, pos[0], width[0]);
    BITS_OF(b, pos[1], width[1]);
    BITS_OF(c, pos[2], width[2]);
    BITS_OF(d, pos[3], width[3]);
    BITS_OF(f, pos[4], width[4]);
    for (int i = 0; i < 5; i++) {
        dwarf_member m;
        assert_int_equal(dwarf_type_find_member(d, b, names[i], &m), 0);
        if (m.offset * 8 + m.bit_offset != pos[i] || m.bit_size != width[i])
            fail_msg("bit-field %s: bit %llu width %u, the host compiler says bit %u width %u",
                     names[i], (unsigned long long)(m.offset * 8 + m.bit_offset), m.bit_size,
                     pos[i], width[i]);
    }
    check_member(d, b, "e", offsetof(struct sm_bits, e));
    /* enum values */
    int64_t v;
    assert_int_equal(dwarf_type_nenums(e), 3);
    assert_string_equal(dwarf_type_enum(e, 0, &v), "SM_RED");
    assert_int_equal(v, SM_RED);
    assert_string_equal(dwarf_type_enum(e, 1, &v), "SM_GREEN");
    assert_int_equal(v, SM_GREEN);
    assert_string_equal(dwarf_type_enum(e, 2, &v), "SM_BLUE");
    assert_int_equal(v, SM_BLUE);
    /* arrays: int grid[3][4], struct sm_bits bits[2], flexible char tail[] */
    dwarf_member m;
    assert_int_equal(dwarf_type_find_member(d, o, "grid", &m), 0);
    assert_int_equal(dwarf_type_strip(d, m.type, &t), 0);
    assert_int_equal(dwarf_type_ndims(t), 2);
    assert_int_equal(dwarf_type_dim(t, 0), 3);
    assert_int_equal(dwarf_type_dim(t, 1), 4);
    assert_int_equal(dwarf_type_size(t), sizeof(((struct sm_outer *)0)->grid));
    assert_int_equal(dwarf_type_index(d, t, &t), 0);
    assert_int_equal(dwarf_type_size(t), sizeof(((struct sm_outer *)0)->grid[0]));
    assert_int_equal(dwarf_type_find_member(d, o, "bits", &m), 0);
    assert_int_equal(dwarf_type_size(m.type), sizeof(((struct sm_outer *)0)->bits));
    assert_int_equal(dwarf_type_find_member(d, o, "tail", &m), 0);
    assert_int_equal(dwarf_type_size(m.type), 0);
    /* typedef, pointer, qualifiers, globals */
    t = lookup(d, "sm_outer_t");
    assert_int_equal(dwarf_type_kind(t), DWARF_K_TYPEDEF);
    assert_int_equal(dwarf_type_strip(d, t, &t), 0);
    assert_ptr_equal(t, o);
    assert_int_equal(dwarf_type_find_member(d, o, "cv", &m), 0);
    assert_int_equal(dwarf_type_size(m.type), 2);
    assert_int_equal(dwarf_type_strip(d, m.type, &t), 0);
    assert_int_equal(dwarf_type_kind(t), DWARF_K_BASE);
    uint64_t addr;
    assert_int_equal(dwarf_var_lookup(d, "sm_global", &addr, &t), 0);
    assert_ptr_equal(t, o);
    assert_true(addr != 0);
    assert_int_equal(dwarf_var_lookup(d, "sm_ptr", &addr, &t), 0);
    assert_int_equal(dwarf_type_kind(t), DWARF_K_POINTER);
    char buf[128];
    assert_string_equal(dwarf_type_format(d, t, buf, sizeof(buf)), "sm_outer_t *");
    dwarf_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dwarf__task_struct),
        cmocka_unit_test(test_dwarf__globals_enums_arrays),
        cmocka_unit_test(test_dwarf__agrees_with_gdb),
        cmocka_unit_test(test_dwarf__cache),
        cmocka_unit_test(test_dwarf__bad_files),
        cmocka_unit_test(test_dwarf__small_elf),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
