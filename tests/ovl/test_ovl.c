/*
 * test_ovl.c - the overlay engine on real data: the corpus vmlinux's own
 * .data holds init_task's initial contents, read through a flat reader of
 * the ELF's PT_LOAD segments (sym_read_image) and through Sv39 page tables
 * over a RAM image (gva_read_cb): init_task.comm is "swapper", pid 0.
 * Expression errors point at the token; bit-fields; list_head walks with
 * container_of, consistency checks and bounds over synthetic task lists.
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

#include "dwarf.h"
#include "gva.h"
#include "ovl.h"
#include "sym.h"

#define VMLINUX MACHINA_CORPUS_DIR "/vmlinux"

typedef struct fix {
    sym_table *syms;
    dwarf_types *d;
    ovl *o;
    char cache[64];
} fix;

static int setup(void **state)
{
    fix *f = calloc(1, sizeof(*f));
    *state = f;
    if (access(VMLINUX, R_OK)) {
        fprintf(stderr, "corpus kernel missing: %s is required\n", VMLINUX);
        return 0; /* each test then fails with the message */
    }
    snprintf(f->cache, sizeof(f->cache), "/tmp/test_ovl.XXXXXX");
    if (!mkdtemp(f->cache)) return -1;
    if (sym_open(&f->syms, VMLINUX) || dwarf_open(&f->d, VMLINUX, f->cache)) return -1;
    return ovl_open(&f->o, f->d, f->syms, sym_read_image, f->syms) ? -1 : 0;
}

static int teardown(void **state)
{
    fix *f = *state;
    char cmd[128];
    ovl_free(f->o);
    dwarf_free(f->d);
    sym_free(f->syms);
    if (f->cache[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s", f->cache);
        if (system(cmd)) return -1;
    }
    free(f);
    return 0;
}

static fix *need(void **state)
{
    fix *f = *state;
    if (!f->o) fail_msg("corpus kernel missing: %s is required (build the corpus)", VMLINUX);
    return f;
}

static uint64_t eval_u64(ovl *o, const char *expr)
{
    ovl_value v;
    uint64_t x;
    if (ovl_eval(o, expr, &v) || ovl_value_u64(o, &v, &x))
        fail_msg("%s: %s", expr, ovl_last_error(o));
    return x;
}

static char *print(ovl *o, const char *expr)
{
    static char keep[4096];
    char *s;
    if (ovl_print(o, expr, &s)) fail_msg("%s: %s", expr, ovl_last_error(o));
    snprintf(keep, sizeof(keep), "%s", s);
    free(s);
    return keep;
}

static uint64_t sym_addr(fix *f, const char *name)
{
    sym_info s;
    if (sym_lookup(f->syms, name, &s)) fail_msg("no symbol %s", name);
    return s.addr;
}

static void test_ovl__init_task_image(void **state)
{
    fix *f = need(state);
    ovl_value v;
    char comm[32];
    assert_int_equal(ovl_eval(f->o, "init_task.comm", &v), 0);
    assert_int_equal(ovl_value_string(f->o, &v, comm, sizeof(comm)), 0);
    assert_string_equal(comm, "swapper");
    assert_string_equal(print(f->o, "init_task.comm"), "\"swapper\"");
    assert_int_equal(eval_u64(f->o, "init_task.pid"), 0);
    assert_string_equal(print(f->o, "init_task.pid"), "0 (0x0)");
    assert_int_equal(eval_u64(f->o, "init_task.__state"), 0);
    assert_int_equal(eval_u64(f->o, "init_task.prio"), 120);
    assert_int_equal(eval_u64(f->o, "init_task.comm[1]"), 'w');
    /* &init_task.tasks == &init_task + offsetof(struct task_struct, tasks) */
    dwarf_type_t ts;
    dwarf_member m;
    assert_int_equal(dwarf_type_lookup(f->d, "struct task_struct", &ts), 0);
    assert_int_equal(dwarf_type_find_member(f->d, ts, "tasks", &m), 0);
    uint64_t it = sym_addr(f, "init_task");
    assert_int_equal(eval_u64(f->o, "&init_task.tasks"), it + m.offset);
    /* an empty list at boot: next points back at itself */
    assert_int_equal(eval_u64(f->o, "init_task.tasks.next"), it + m.offset);
    char want[128];
    snprintf(want, sizeof(want), "0x%llx <init_task+0x%llx>", (unsigned long long)(it + m.offset),
             (unsigned long long)m.offset);
    assert_string_equal(print(f->o, "init_task.tasks.next"), want);
    assert_int_equal(eval_u64(f->o, "init_task.active_mm->pgd"), sym_addr(f, "swapper_pg_dir"));
    assert_int_equal(eval_u64(f->o, "init_task.mm"), 0);
    /* casts, sizeof, multi-dimensional arrays, arithmetic */
    char expr[160];
    snprintf(expr, sizeof(expr), "((struct task_struct *)0x%llx)->comm", (unsigned long long)it);
    assert_string_equal(print(f->o, expr), "\"swapper\"");
    assert_int_equal(eval_u64(f->o, "sizeof(struct task_struct)"), dwarf_type_size(ts));
    assert_int_equal(eval_u64(f->o, "sizeof init_task.comm"), 16);
    assert_int_equal(eval_u64(f->o, "crc32table_le[1][1]"), 0x191b3141);
    assert_int_equal(eval_u64(f->o, "(unsigned char)0x1ff"), 0xff);
    assert_int_equal(eval_u64(f->o, "(int)-1"), ~0ull);
    assert_int_equal(eval_u64(f->o, "&init_task.tasks - 1"), it + m.offset - 16);
    assert_int_equal(eval_u64(f->o, "*&init_task.pid"), 0);
    assert_int_equal(eval_u64(f->o, "0x10 + 4 - 1"), 19);
    /* structs print one level deep, pointers with their symbol */
    char *s = print(f->o, "init_task.tasks");
    assert_non_null(strstr(s, "{ next = 0x"));
    assert_non_null(strstr(s, "<init_task+"));
    s = print(f->o, "*init_task.active_mm");
    assert_non_null(strstr(s, "pgd = 0x"));
    assert_non_null(strstr(s, "<swapper_pg_dir>"));
    assert_non_null(strstr(print(f->o, "init_task.signal"), "<init_signals>"));
    assert_non_null(strstr(print(f->o, "(enum pid_type)1"), "PIDTYPE_TGID"));
    assert_non_null(strstr(print(f->o, "linux_banner"), "\"Linux version 6.1"));
    /* typed overlay by name + address */
    ovl_value t, c;
    assert_int_equal(ovl_at(f->o, "struct task_struct", it, &t), 0);
    assert_int_equal(ovl_member(f->o, &t, "state|__state", &c), 0);
    assert_int_equal(ovl_member(f->o, &t, "comm", &c), 0);
    assert_int_equal(ovl_value_string(f->o, &c, comm, sizeof(comm)), 0);
    assert_string_equal(comm, "swapper");
}

static void check_err(ovl *o, const char *expr, int rc, int col, const char *msg)
{
    ovl_value v;
    int r = ovl_eval(o, expr, &v);
    if (r != rc) fail_msg("%s: rc %d, want %d (%s)", expr, r, rc, ovl_last_error(o));
    if (ovl_last_error_column(o) != col)
        fail_msg("%s: column %d, want %d (%s)", expr, ovl_last_error_column(o), col,
                 ovl_last_error(o));
    if (!strstr(ovl_last_error(o), msg))
        fail_msg("%s: message '%s' lacks '%s'", expr, ovl_last_error(o), msg);
}

static void test_ovl__errors(void **state)
{
    fix *f = need(state);
    check_err(f->o, "init_task.nosuch", MC_ENOENT, 11, "no field 'nosuch' in struct task_struct");
    check_err(f->o, "init_task.active_mm->nosuch", MC_ENOENT, 22,
              "no field 'nosuch' in struct mm_struct");
    check_err(f->o, "nosuchsym.x", MC_ENOENT, 1, "unknown symbol 'nosuchsym'");
    check_err(f->o, "*init_task.pid", MC_EINVAL, 1, "non-pointer type pid_t");
    check_err(f->o, "init_task.pid->x", MC_EINVAL, 14, "non-pointer");
    check_err(f->o, "init_task.comm[16]", MC_ERANGE, 15, "out of bounds");
    check_err(f->o, "init_task.", MC_EINVAL, 11, "field name expected");
    check_err(f->o, "(struct nosuch *)0", MC_ENOENT, 2, "unknown type 'struct nosuch'");
    check_err(f->o, "init_task.mm->pgd", MC_EGUEST, 13, "NULL pointer");
    check_err(f->o, "init_task.tasks.next.x", MC_EINVAL, 22, "pointer");
    check_err(f->o, "init_task $", MC_EINVAL, 11, "unexpected character");
    check_err(f->o, "(init_task.pid", MC_EINVAL, 15, "expected ')'");
    check_err(f->o, "&init_task.sched_reset_on_fork", MC_EINVAL, 1, "bit-field");
    check_err(f->o, "*(void *)&init_task", MC_EINVAL, 1, "dereference");
}

/* ---- synthetic memory: a task list built from DWARF offsets ---------------- */

#define FAKE_BASE 0xffffffffc0000000ull

typedef struct fake {
    uint8_t *b;
    size_t size;
} fake;

static int fake_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    fake *m = ctx;
    if (va < FAKE_BASE || va - FAKE_BASE > m->size || len > m->size - (va - FAKE_BASE))
        return MC_ERANGE;
    memcpy(buf, m->b + (va - FAKE_BASE), len);
    return 0;
}

static void put64(fake *m, uint64_t va, uint64_t v)
{
    memcpy(m->b + (va - FAKE_BASE), &v, 8);
}

typedef struct walk {
    ovl *o;
    char names[8][16];
    uint64_t entries[8];
    size_t n;
} walk;

static int on_task(void *arg, uint64_t entry, size_t index)
{
    walk *w = arg;
    ovl_value t, c;
    assert_int_equal(index, w->n);
    assert_int_equal(ovl_at(w->o, "struct task_struct", entry, &t), 0);
    assert_int_equal(ovl_member(w->o, &t, "comm", &c), 0);
    assert_int_equal(ovl_value_string(w->o, &c, w->names[w->n], 16), 0);
    w->entries[w->n++] = entry;
    return 0;
}

static void test_ovl__lists_and_bitfields(void **state)
{
    fix *f = need(state);
    dwarf_type_t ts;
    dwarf_member tasks, comm, bf, lnext, lprev;
    dwarf_type_t lh;
    assert_int_equal(dwarf_type_lookup(f->d, "struct task_struct", &ts), 0);
    assert_int_equal(dwarf_type_lookup(f->d, "struct list_head", &lh), 0);
    assert_int_equal(dwarf_type_find_member(f->d, ts, "tasks", &tasks), 0);
    assert_int_equal(dwarf_type_find_member(f->d, ts, "comm", &comm), 0);
    assert_int_equal(dwarf_type_find_member(f->d, ts, "sched_contributes_to_load", &bf), 0);
    assert_int_equal(dwarf_type_find_member(f->d, lh, "next", &lnext), 0);
    assert_int_equal(dwarf_type_find_member(f->d, lh, "prev", &lprev), 0);
    uint64_t sz = dwarf_type_size(ts);
    fake m = {.size = 8 * sz};
    m.b = calloc(1, m.size);
    assert_non_null(m.b);
    /* task i at FAKE_BASE + i*sz; 0 is the head ("swapper"), 1..3 are entries */
    const char *names[] = {"swapper", "init", "kthreadd", "sh"};
    uint64_t node[4];
    for (int i = 0; i < 4; i++) {
        node[i] = FAKE_BASE + (uint64_t)i * sz + tasks.offset;
        memcpy(m.b + (uint64_t)i * sz + comm.offset, names[i], strlen(names[i]));
    }
    for (int i = 0; i < 4; i++) {
        put64(&m, node[i] + lnext.offset, node[(i + 1) % 4]);
        put64(&m, node[i] + lprev.offset, node[(i + 3) % 4]);
    }
    /* sched_contributes_to_load = 1 in task 2, the bits around it clear */
    m.b[2 * sz + bf.offset] |= (uint8_t)(1u << bf.bit_offset);
    ovl *o;
    assert_int_equal(ovl_open(&o, f->d, f->syms, fake_read, &m), 0);
    char expr[160];
    snprintf(expr, sizeof(expr), "((struct task_struct *)0x%llx)->sched_contributes_to_load",
             (unsigned long long)(FAKE_BASE + 2 * sz));
    assert_int_equal(eval_u64(o, expr), 1);
    snprintf(expr, sizeof(expr), "((struct task_struct *)0x%llx)->sched_reset_on_fork",
             (unsigned long long)(FAKE_BASE + 2 * sz));
    assert_int_equal(eval_u64(o, expr), 0);
    snprintf(expr, sizeof(expr), "((struct task_struct *)0x%llx)->sched_contributes_to_load",
             (unsigned long long)(FAKE_BASE + 1 * sz));
    assert_int_equal(eval_u64(o, expr), 0);
    /* container_of walk from the head */
    walk w = {.o = o};
    assert_int_equal(ovl_list_for_each(o, node[0], "struct task_struct", "tasks", 0, on_task, &w),
                     0);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.names[0], "init");
    assert_string_equal(w.names[1], "kthreadd");
    assert_string_equal(w.names[2], "sh");
    assert_int_equal(w.entries[1], FAKE_BASE + 2 * sz);
    /* bounded */
    w.n = 0;
    assert_int_equal(ovl_list_for_each(o, node[0], "struct task_struct", "tasks", 2, on_task, &w),
                     MC_ERANGE);
    assert_int_equal(w.n, 2);
    /* a broken back link */
    put64(&m, node[2] + lprev.offset, node[3]);
    w.n = 0;
    assert_int_equal(ovl_list_for_each(o, node[0], "struct task_struct", "tasks", 0, on_task, &w),
                     MC_EGUEST);
    assert_non_null(strstr(ovl_last_error(o), "inconsistent"));
    assert_int_equal(w.n, 1);
    /* a cycle that never returns to the head (sh -> init) */
    put64(&m, node[2] + lprev.offset, node[1]);
    put64(&m, node[3] + lnext.offset, node[1]);
    w.n = 0;
    assert_int_equal(ovl_list_for_each(o, node[0], "struct task_struct", "tasks", 0, on_task, &w),
                     MC_EGUEST);
    assert_true(w.n <= 3);
    /* a NULL link */
    put64(&m, node[1] + lnext.offset, 0);
    w.n = 0;
    assert_int_equal(ovl_list_for_each(o, node[0], "struct task_struct", "tasks", 0, on_task, &w),
                     MC_EGUEST);
    assert_non_null(strstr(ovl_last_error(o), "NULL"));
    /* the member must be a list_head */
    assert_int_equal(ovl_list_for_each(o, node[0], "struct task_struct", "comm", 0, on_task, &w),
                     MC_EINVAL);
    assert_int_equal(ovl_list_for_each(o, node[0], "struct task_struct", "nosuch", 0, on_task, &w),
                     MC_ENOENT);
    /* the real init_task's list, in the boot image: empty */
    w.n = 0;
    assert_int_equal(ovl_list_for_each(f->o, eval_u64(f->o, "&init_task.tasks"),
                                       "struct task_struct", "tasks", 0, on_task, &w),
                     0);
    assert_int_equal(w.n, 0);
    ovl_free(o);
    free(m.b);
}

/* ---- through page tables ---------------------------------------------------- */

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (8ull << 20)
#define KVA      0xffffffff80000000ull

static int ram_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
    if (pa < RAM_BASE || pa - RAM_BASE > RAM_SIZE || len > RAM_SIZE - (pa - RAM_BASE))
        return MC_EBUSFAULT;
    memcpy(buf, (uint8_t *)ctx + (pa - RAM_BASE), len);
    return 0;
}

static void test_ovl__through_page_tables(void **state)
{
    fix *f = need(state);
    uint8_t *ram = calloc(1, RAM_SIZE);
    assert_non_null(ram);
    /* the kernel image at the start of RAM, as a boot loader leaves it */
    for (uint64_t off = 0; off < 0x600000; off += 4096)
        if (sym_read_image(f->syms, KVA + off, ram + off, 4096)) memset(ram + off, 0, 4096);
    /* Sv39 root at RAM+6M: one 1G page KVA -> RAM_BASE */
    uint64_t root = RAM_BASE + 0x600000;
    uint64_t pte = ((RAM_BASE >> 12) << 10) | GVA_V | GVA_R | GVA_W | GVA_X | GVA_A | GVA_D;
    memcpy(ram + 0x600000 + 8 * ((KVA >> 30) & 511), &pte, 8);
    gva_space as = {ram_read, ram, (8ull << 60) | (root >> 12)};
    ovl *o;
    assert_int_equal(ovl_open(&o, f->d, f->syms, gva_read_cb, &as), 0);
    char *s;
    assert_int_equal(ovl_print(o, "init_task.comm", &s), 0);
    assert_string_equal(s, "\"swapper\"");
    free(s);
    assert_int_equal(eval_u64(o, "init_task.pid"), 0);
    assert_int_equal(eval_u64(o, "init_task.active_mm->pgd"), sym_addr(f, "swapper_pg_dir"));
    /* outside the mapping: an error naming the address, not garbage */
    ovl_value v;
    assert_int_equal(ovl_eval(o, "((struct task_struct *)0xffffffc000000000)->pid", &v), 0);
    uint64_t x;
    assert_int_equal(ovl_value_u64(o, &v, &x), MC_ENOENT);
    assert_non_null(strstr(ovl_last_error(o), "0xffffffc0000003"));
    ovl_free(o);
    free(ram);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ovl__init_task_image),
        cmocka_unit_test(test_ovl__errors),
        cmocka_unit_test(test_ovl__lists_and_bitfields),
        cmocka_unit_test(test_ovl__through_page_tables),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
