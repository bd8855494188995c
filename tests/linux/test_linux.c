/*
 * test_linux.c - the Linux view (src/introspect/linux) over a synthetic
 * machine: RAM holding the corpus kernel image (so init_task, init_signals
 * and linux_banner are the real ones) behind an Sv39 page table, plus
 * tasks written at the offsets the corpus DWARF gives. Checks the task
 * list (processes, threads, PPID, state letters, priority, nice, CPU,
 * current), the /proc state letters for every state word, and that
 * corrupted memory is reported, bounded and never crashes: links that
 * disagree, a cycle, a non-printable comm, pid 0 not swapper, a banner
 * that differs from the vmlinux, an instant with the MMU off.
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

#include "linux/linux.h"

#define VMLINUX  MACHINA_CORPUS_DIR "/vmlinux"
#define RAM_BASE 0x80000000ull
#define RAM_SIZE (16ull << 20)
#define KVA      0xffffffff80000000ull /* maps RAM_BASE (a 1 GiB page) */
#define ROOT_OFF (8ull << 20)
#define TASK_OFF (9ull << 20)

typedef struct fix {
    sym_table *syms;
    dwarf_types *d;
    uint8_t *ram;
    linux_machine m;
    uint64_t init_task, t1, t2, t3, s1, s2;
    dwarf_type_t ts, sig;
} fix;

static int ram_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
    if (pa < RAM_BASE || pa - RAM_BASE > RAM_SIZE || len > RAM_SIZE - (pa - RAM_BASE))
        return MC_EBUSFAULT;
    memcpy(buf, (uint8_t *)ctx + (pa - RAM_BASE), len);
    return 0;
}

static uint64_t off_of(fix *f, dwarf_type_t t, const char *name)
{
    dwarf_member m;
    if (dwarf_type_find_member(f->d, t, name, &m)) fail_msg("%s: %s", name, dwarf_last_error(f->d));
    return m.offset;
}

static void put(fix *f, uint64_t kva, uint64_t v, unsigned size)
{
    assert_true(kva >= KVA && kva - KVA + size <= RAM_SIZE);
    memcpy(f->ram + (kva - KVA), &v, size);
}

static void put_task_field(fix *f, uint64_t task, const char *name, uint64_t v)
{
    dwarf_member m;
    if (dwarf_type_find_member(f->d, f->ts, name, &m)) fail_msg("%s", dwarf_last_error(f->d));
    put(f, task + m.offset, v, (unsigned)dwarf_type_size(m.type));
}

/* task_cpu(): task->cpu, or task->thread_info.cpu (5.16+ with
 * THREAD_INFO_IN_TASK, as the corpus kernel has it). */
static void put_cpu(fix *f, uint64_t task, int cpu)
{
    dwarf_member m, c;
    if (!dwarf_type_find_member(f->d, f->ts, "cpu", &m)) {
        put(f, task + m.offset, (uint64_t)cpu, 4);
        return;
    }
    if (dwarf_type_find_member(f->d, f->ts, "thread_info", &m) ||
        dwarf_type_find_member(f->d, m.type, "cpu", &c))
        fail_msg("no task_struct.cpu nor thread_info.cpu: %s", dwarf_last_error(f->d));
    put(f, task + m.offset + c.offset, (uint64_t)cpu, (unsigned)dwarf_type_size(c.type));
}

/* Links list_heads at a[0..n-1] (a[0] the head) into a ring. */
static void ring(fix *f, const uint64_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put(f, a[i], a[(i + 1) % n], 8);         /* next */
        put(f, a[i] + 8, a[(i + n - 1) % n], 8); /* prev */
    }
}

static void make_task(fix *f, uint64_t t, int pid, int tgid, const char *comm, uint64_t state,
                      uint64_t exit_state, int prio, int cpu, uint64_t signal)
{
    memset(f->ram + (t - KVA), 0, dwarf_type_size(f->ts));
    put_task_field(f, t, "pid", (uint64_t)pid);
    put_task_field(f, t, "tgid", (uint64_t)tgid);
    put_task_field(f, t, "__state|state", state);
    put_task_field(f, t, "exit_state", exit_state);
    put_task_field(f, t, "prio", (uint64_t)prio);
    put_task_field(f, t, "static_prio", (uint64_t)prio);
    put_cpu(f, t, cpu);
    put_task_field(f, t, "real_parent", f->init_task);
    put_task_field(f, t, "signal", signal);
    put_task_field(f, t, "mm", 0);
    memcpy(f->ram + (t - KVA) + off_of(f, f->ts, "comm"), comm, strlen(comm) + 1);
}

/* A machine: init_task -> T1 (pid 100, two threads: T1, T3) -> T2 (pid 200). */
static void build(fix *f)
{
    memset(f->ram, 0, RAM_SIZE);
    for (uint64_t off = 0; off < ROOT_OFF; off += 4096)
        if (sym_read_image(f->syms, KVA + off, f->ram + off, 4096)) memset(f->ram + off, 0, 4096);
    uint64_t pte = ((RAM_BASE >> 12) << 10) | GVA_V | GVA_R | GVA_W | GVA_X | GVA_A | GVA_D;
    memcpy(f->ram + ROOT_OFF + 8 * ((KVA >> 30) & 511), &pte, 8);
    uint64_t tsz = (dwarf_type_size(f->ts) + 63) & ~63ull;
    f->t1 = KVA + TASK_OFF;
    f->t2 = f->t1 + tsz;
    f->t3 = f->t2 + tsz;
    f->s1 = f->t3 + tsz;
    f->s2 = f->s1 + 4096;
    make_task(f, f->t1, 100, 100, "sh", 0x1, 0, 120, 0, f->s1);            /* S */
    make_task(f, f->t2, 200, 200, "kworker/0:1", 0x402, 0, 125, 1, f->s2); /* I, nice 5 */
    make_task(f, f->t3, 101, 100, "worker", 0x0, 0, 110, 1, f->s1);        /* R, prio 10 */
    uint64_t tasks = off_of(f, f->ts, "tasks"), node = off_of(f, f->ts, "thread_node"),
             head = off_of(f, f->sig, "thread_head");
    uint64_t r1[] = {f->init_task + tasks, f->t1 + tasks, f->t2 + tasks};
    ring(f, r1, 3);
    uint64_t r2[] = {f->s1 + head, f->t1 + node, f->t3 + node};
    ring(f, r2, 3);
    uint64_t r3[] = {f->s2 + head, f->t2 + node};
    ring(f, r3, 2);
    memset(&f->m, 0, sizeof(f->m));
    f->m.nharts = 2;
    f->m.harts[0].priv = HART_PRIV_S;
    f->m.harts[0].tp = f->t3;
    f->m.harts[0].satp = (8ull << 60) | ((RAM_BASE + ROOT_OFF) >> 12);
    f->m.harts[1].priv = HART_PRIV_M;
    f->m.harts[1].satp = f->m.harts[0].satp;
    f->m.read_phys = ram_read;
    f->m.ctx = f->ram;
}

static int setup(void **state)
{
    fix *f = calloc(1, sizeof(*f));
    *state = f;
    if (!f || access(VMLINUX, R_OK)) return 0; /* each test fails with a message */
    if (sym_open(&f->syms, VMLINUX) || dwarf_open(&f->d, VMLINUX, NULL)) return -1;
    sym_info s;
    if (sym_lookup(f->syms, "init_task", &s) ||
        dwarf_type_lookup(f->d, "struct task_struct", &f->ts) ||
        dwarf_type_lookup(f->d, "struct signal_struct", &f->sig))
        return -1;
    f->init_task = s.addr;
    f->ram = malloc(RAM_SIZE);
    return f->ram ? 0 : -1;
}

static int teardown(void **state)
{
    fix *f = *state;
    free(f->ram);
    dwarf_free(f->d);
    sym_free(f->syms);
    free(f);
    return 0;
}

static fix *need(void **state)
{
    fix *f = *state;
    if (!f->syms) fail_msg("corpus kernel missing: %s is required", VMLINUX);
    build(f);
    return f;
}

static linux_os *open_ok(fix *f)
{
    linux_os *L;
    if (linux_open(&L, f->d, f->syms, &f->m)) fail_msg("linux_open: %s", linux_last_error(L));
    return L;
}

/* linux_tasks must fail with MC_EGUEST and a message containing want. */
static void expect_broken(fix *f, const char *want)
{
    linux_os *L = open_ok(f);
    linux_task *t = NULL;
    size_t n = 0;
    int rc = linux_tasks(L, &t, &n);
    if (rc != MC_EGUEST || !strstr(linux_last_error(L), want))
        fail_msg("expected MC_EGUEST with '%s', got %d: %s", want, rc, linux_last_error(L));
    assert_null(t);
    linux_free(L);
}

static void test_linux__task_list(void **state)
{
    fix *f = need(state);
    linux_os *L = open_ok(f);
    assert_non_null(strstr(linux_banner(L), "Linux version"));
    linux_task *t;
    size_t n;
    assert_int_equal(linux_tasks(L, &t, &n), 0);
    assert_int_equal(n, 4);
    /* init_task's own values come from the image */
    assert_int_equal(t[0].pid, 0);
    assert_string_equal(t[0].comm, "swapper");
    assert_true(t[0].leader);
    /* processes in list order, each followed by its other threads */
    assert_int_equal(t[1].pid, 100);
    assert_int_equal(t[2].pid, 101);
    assert_int_equal(t[3].pid, 200);
    assert_true(t[1].leader && !t[2].leader && t[3].leader);
    assert_int_equal(t[2].tgid, 100);
    assert_string_equal(t[2].comm, "worker");
    assert_int_equal(t[1].ppid, 0);
    assert_int_equal(t[1].state, 'S');
    assert_int_equal(t[2].state, 'R');
    assert_int_equal(t[3].state, 'I');
    assert_int_equal(t[1].prio, 20);
    assert_int_equal(t[1].nice, 0);
    assert_int_equal(t[3].prio, 25);
    assert_int_equal(t[3].nice, 5);
    assert_int_equal(t[2].prio, 10);
    assert_int_equal(t[3].cpu, 1);
    /* hart 0 in S-mode runs T3 (tp); hart 1 in M-mode: unknown */
    assert_int_equal(t[2].hart, 0);
    assert_int_equal(t[1].hart, -1);
    linux_current c;
    assert_int_equal(linux_current_of(L, 0, &c), 0);
    assert_int_equal(c.task, f->t3);
    assert_string_equal(c.source, "tp");
    assert_int_equal(linux_current_of(L, 1, &c), 0);
    assert_int_equal(c.task, 0);
    assert_non_null(strstr(c.source, "M-mode"));
    free(t);
    /* U-mode: sscratch holds current; garbage there is "unknown", not a task */
    f->m.harts[0].priv = HART_PRIV_U;
    f->m.harts[0].sscratch = f->t2;
    f->m.harts[0].tp = 0x1234;
    linux_free(L);
    L = open_ok(f);
    assert_int_equal(linux_current_of(L, 0, &c), 0);
    assert_int_equal(c.task, f->t2);
    f->m.harts[0].sscratch = 0xffffffff80000008ull;
    linux_free(L);
    L = open_ok(f);
    assert_int_equal(linux_current_of(L, 0, &c), 0);
    assert_int_equal(c.task, 0);
    assert_non_null(strstr(c.source, "not a task_struct"));
    /* the kernel's address space and the layout */
    gva_space sp;
    assert_int_equal(linux_mm_space(L, 0, &sp), 0);
    linux_layout lay;
    assert_int_equal(linux_get_layout(L, &lay), 0);
    assert_int_equal(lay.va_bits, 39);
    assert_int_equal(lay.user_hi, 0x3fffffffffull);
    linux_free(L);
}

static void test_linux__state_letters(void **state)
{
    (void)state;
    static const struct {
        uint64_t state, exit_state;
        char want;
    } c[] = {
        {0x0, 0, 'R'},     {0x1, 0, 'S'},    {0x2, 0, 'D'},  {0x4, 0, 'T'},   {0x8, 0, 't'},
        {0x0, 0x10, 'X'},  {0x0, 0x20, 'Z'}, {0x40, 0, 'P'}, {0x402, 0, 'I'}, /* TASK_IDLE */
        {0x102, 0, 'D'},                                                      /* TASK_KILLABLE */
        {0x104, 0, 'T'},                                                      /* TASK_STOPPED */
        {0x108, 0, 't'},                                                      /* TASK_TRACED */
        {0x1000, 0, 'D'},                                                     /* TASK_RTLOCK_WAIT */
        {0x800, 0, 'R'},   /* TASK_NEW: outside TASK_REPORT */
        {0x80, 0x20, 'Z'}, /* TASK_DEAD + EXIT_ZOMBIE */
        {0x2001, 0, 'S'},  /* TASK_FREEZABLE | INTERRUPTIBLE */
        {0x400, 0, 'R'},   /* TASK_NOLOAD alone */
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        if (linux_state_letter(c[i].state, c[i].exit_state) != c[i].want)
            fail_msg("state %#llx exit %#llx: '%c', want '%c'", (unsigned long long)c[i].state,
                     (unsigned long long)c[i].exit_state,
                     linux_state_letter(c[i].state, c[i].exit_state), c[i].want);
}

static void test_linux__corrupt_links(void **state)
{
    fix *f = need(state);
    uint64_t tasks = off_of(f, f->ts, "tasks");
    /* T2.prev no longer points back at T1 */
    put(f, f->t2 + tasks + 8, f->t3 + tasks, 8);
    expect_broken(f, "inconsistent");
    /* a cycle T1 -> T2 -> T1 that never returns to init_task */
    build(f);
    put(f, f->t2 + tasks, f->t1 + tasks, 8);
    expect_broken(f, "list");
    /* a NULL next */
    build(f);
    put(f, f->t1 + tasks, 0, 8);
    expect_broken(f, "NULL");
    /* a thread list pointing into unmapped memory */
    build(f);
    put(f, f->t1 + off_of(f, f->ts, "thread_node"), 0xffffffc000001000ull, 8);
    expect_broken(f, "thread_node");
}

static void test_linux__corrupt_tasks(void **state)
{
    fix *f = need(state);
    /* a comm with a control byte */
    memcpy(f->ram + (f->t2 - KVA) + off_of(f, f->ts, "comm"), "kw\x01rk", 6);
    expect_broken(f, "non-printable");
    /* pid 0 that is not swapper */
    build(f);
    put_task_field(f, f->init_task, "pid", 7);
    expect_broken(f, "not pid 0");
    /* the same pid twice */
    build(f);
    put_task_field(f, f->t2, "pid", 100);
    put_task_field(f, f->t2, "tgid", 100);
    expect_broken(f, "appears twice");
    /* a pid out of range */
    build(f);
    put_task_field(f, f->t2, "pid", 0x7fffffff);
    expect_broken(f, "out of range");
    /* real_parent into user space */
    build(f);
    put_task_field(f, f->t1, "real_parent", 0x1000);
    expect_broken(f, "real_parent");
}

static void test_linux__refused(void **state)
{
    fix *f = need(state);
    linux_os *L;
    /* the MMU is off on every hart */
    f->m.harts[0].satp = f->m.harts[1].satp = 0;
    assert_int_equal(linux_open(&L, f->d, f->syms, &f->m), MC_ESTATE);
    assert_non_null(strstr(linux_last_error(L), "MMU is off"));
    linux_free(L);
    /* guest memory holds another kernel's banner */
    build(f);
    sym_info s;
    assert_int_equal(sym_lookup(f->syms, "linux_banner", &s), 0);
    memcpy(f->ram + (s.addr - KVA), "Linux version 0.0.1", 19);
    assert_int_equal(linux_open(&L, f->d, f->syms, &f->m), MC_EGUEST);
    assert_non_null(strstr(linux_last_error(L), "does not match the recorded kernel"));
    linux_free(L);
    /* no DWARF: opens (symbols only), the task list says what is missing */
    build(f);
    assert_int_equal(linux_open(&L, NULL, f->syms, &f->m), 0);
    linux_task *t;
    size_t n;
    assert_int_equal(linux_tasks(L, &t, &n), MC_ENOENT);
    assert_non_null(strstr(linux_last_error(L), "DWARF"));
    linux_free(L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux__task_list),     cmocka_unit_test(test_linux__state_letters),
        cmocka_unit_test(test_linux__corrupt_links), cmocka_unit_test(test_linux__corrupt_tasks),
        cmocka_unit_test(test_linux__refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
