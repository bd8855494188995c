/*
 * linux.c - the Linux view over a machine state: current per hart, the task
 * list, address spaces and the memory layout (linux.h).
 *
 * Invariants: every field offset and size comes from DWARF, resolved once
 * in linux_open (resolve_fields); every guest read goes through the
 * kernel's page table (kspace) and is checked; walks are bounded by
 * LINUX_MAX_TASKS and by ovl_list_for_each's own bound and link checks.
 * The state letter follows fs/proc/array.c (task_state_index in
 * include/linux/sched.h): the TASK_* bits of the low byte are the kernel's
 * user-visible ABI (the letters of /proc) and the same in every version
 * since 4.14.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux.h"

#define LINUX_MAX_TASKS 65536 /* a walk stops there (PID_MAX_DEFAULT * 2) */
#define PID_MAX_LIMIT   (4 * 1024 * 1024)
#define MAX_RT_PRIO     100
#define NICE_0_PRIO     120

#define CSR_SSCRATCH 0x140
#define CSR_SATP     0x180

typedef struct fld {
    uint64_t off;
    unsigned size;
    bool sgn, ok;
} fld;

struct linux_os {
    dwarf_types *d;
    const sym_table *syms;
    linux_machine m;
    gva_space ks;
    ovl *o;
    uint64_t init_task;
    char banner[256];
    char err[512];
    /* struct task_struct */
    fld t_tasks, t_pid, t_tgid, t_real_parent, t_state, t_exit_state, t_prio, t_static_prio,
        t_policy, t_rt_priority, t_cpu, t_comm, t_mm, t_flags, t_signal, t_thread_node,
        t_thread_group, t_stack;
    bool cpu_via_stack; /* !THREAD_INFO_IN_TASK: ((struct thread_info *)stack)->cpu */
    fld s_thread_head;  /* struct signal_struct */
    fld m_pgd;          /* struct mm_struct */
};

static int fail(linux_os *L, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(linux_os *L, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->err, sizeof(L->err), fmt, ap);
    va_end(ap);
    return rc;
}

static int board_phys(void *ctx, uint64_t pa, void *buf, size_t len)
{
    return bus_dma_read(board_bus(ctx), pa, buf, len);
}

void linux_machine_from_board(linux_machine *m, board_t *b)
{
    memset(m, 0, sizeof(*m));
    m->nharts = board_nharts(b);
    if (m->nharts > LINUX_MAX_HARTS) m->nharts = LINUX_MAX_HARTS;
    for (unsigned i = 0; i < m->nharts; i++) {
        hart_t *h = board_hart(b, i);
        linux_hart_state *s = &m->harts[i];
        s->priv = hart_priv(h);
        s->pc = hart_pc(h);
        s->ra = hart_reg(h, 1);
        s->tp = hart_reg(h, 4);
        if (hart_csr(h, CSR_SSCRATCH, &s->sscratch)) s->sscratch = 0;
        if (hart_csr(h, CSR_SATP, &s->satp)) s->satp = 0;
    }
    m->read_phys = board_phys;
    m->ctx = b;
}

/* ---- reading ------------------------------------------------------------------ */

static int rd(linux_os *L, uint64_t va, void *buf, size_t len)
{
    int rc = gva_read(&L->ks, va, buf, len);
    if (rc < 0)
        return fail(L, rc, "cannot read %zu bytes at %#llx: %s", len, (unsigned long long)va,
                    mc_strerror(rc));
    return 0;
}

static int rd_fld(linux_os *L, uint64_t base, const fld *f, uint64_t *out)
{
    uint8_t b[8] = {0};
    if (!f->ok || f->size == 0 || f->size > 8)
        return fail(L, MC_ENOENT, "field not available in this kernel's DWARF");
    int rc = rd(L, base + f->off, b, f->size);
    if (rc) return rc;
    uint64_t v = 0;
    for (unsigned i = 0; i < f->size; i++)
        v |= (uint64_t)b[i] << (8 * i);
    if (f->sgn && f->size < 8 && (v >> (8 * f->size - 1)) & 1) v |= ~0ull << (8 * f->size);
    *out = v;
    return 0;
}

/* ---- DWARF fields ---------------------------------------------------------------- */

static bool is_signed(dwarf_types *d, dwarf_type_t t)
{
    if (dwarf_type_strip(d, t, &t)) return false;
    unsigned e = dwarf_type_encoding(t);
    return dwarf_type_kind(t) == DWARF_K_ENUM ? false
                                              : e == DWARF_ENC_SIGNED || e == DWARF_ENC_SIGNED_CHAR;
}

static void field(linux_os *L, dwarf_type_t t, const char *names, fld *f)
{
    dwarf_member m;
    memset(f, 0, sizeof(*f));
    if (dwarf_type_find_member(L->d, t, names, &m)) return;
    f->off = m.offset;
    f->size = (unsigned)dwarf_type_size(m.type);
    f->sgn = is_signed(L->d, m.type);
    f->ok = m.bit_size == 0;
}

static int need(linux_os *L, const fld *f, const char *type, const char *name)
{
    if (f->ok) return 0;
    return fail(L, MC_ENOENT, "the kernel's DWARF has no usable field '%s' in %s", name, type);
}

static int resolve_fields(linux_os *L)
{
    dwarf_type_t ts, sig, mm;
    int rc;
    if (dwarf_type_lookup(L->d, "struct task_struct", &ts))
        return fail(L, MC_ENOENT, "no struct task_struct in the DWARF: %s", dwarf_last_error(L->d));
    field(L, ts, "tasks", &L->t_tasks);
    field(L, ts, "pid", &L->t_pid);
    field(L, ts, "tgid", &L->t_tgid);
    field(L, ts, "real_parent", &L->t_real_parent);
    field(L, ts, "__state|state", &L->t_state);
    field(L, ts, "exit_state", &L->t_exit_state);
    field(L, ts, "prio", &L->t_prio);
    field(L, ts, "static_prio", &L->t_static_prio);
    field(L, ts, "policy", &L->t_policy);
    field(L, ts, "rt_priority", &L->t_rt_priority);
    field(L, ts, "comm", &L->t_comm);
    field(L, ts, "mm", &L->t_mm);
    field(L, ts, "flags", &L->t_flags);
    field(L, ts, "signal", &L->t_signal);
    field(L, ts, "thread_node", &L->t_thread_node);
    field(L, ts, "thread_group", &L->t_thread_group);
    field(L, ts, "stack", &L->t_stack);
    /* task_cpu(): task->cpu (THREAD_INFO_IN_TASK, 5.16+), else the
     * thread_info inside the task, else the one at the stack base. */
    field(L, ts, "cpu", &L->t_cpu);
    if (!L->t_cpu.ok) {
        dwarf_member ti;
        fld c;
        if (!dwarf_type_find_member(L->d, ts, "thread_info", &ti)) {
            field(L, ti.type, "cpu", &c);
            if (c.ok) {
                c.off += ti.offset;
                L->t_cpu = c;
            }
        } else {
            dwarf_type_t tit;
            if (!dwarf_type_lookup(L->d, "struct thread_info", &tit)) {
                field(L, tit, "cpu", &L->t_cpu);
                L->cpu_via_stack = L->t_cpu.ok && L->t_stack.ok;
            }
        }
    }
    if (!dwarf_type_lookup(L->d, "struct signal_struct", &sig))
        field(L, sig, "thread_head", &L->s_thread_head);
    if (!dwarf_type_lookup(L->d, "struct mm_struct", &mm)) field(L, mm, "pgd", &L->m_pgd);
    static const struct {
        size_t off;
        const char *name;
    } req[] = {
        {offsetof(linux_os, t_tasks), "tasks"},
        {offsetof(linux_os, t_pid), "pid"},
        {offsetof(linux_os, t_tgid), "tgid"},
        {offsetof(linux_os, t_real_parent), "real_parent"},
        {offsetof(linux_os, t_state), "__state|state"},
        {offsetof(linux_os, t_exit_state), "exit_state"},
        {offsetof(linux_os, t_prio), "prio"},
        {offsetof(linux_os, t_static_prio), "static_prio"},
        {offsetof(linux_os, t_policy), "policy"},
        {offsetof(linux_os, t_comm), "comm"},
        {offsetof(linux_os, t_mm), "mm"},
        {offsetof(linux_os, t_flags), "flags"},
    };
    for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
        if ((rc = need(L, (const fld *)((const char *)L + req[i].off), "struct task_struct",
                       req[i].name)))
            return rc;
    if (L->t_comm.size < LINUX_COMM_LEN)
        return fail(L, MC_EGUEST, "task_struct.comm is %u bytes, expected %d", L->t_comm.size,
                    LINUX_COMM_LEN);
    if (!(L->s_thread_head.ok && L->t_signal.ok && L->t_thread_node.ok) && !L->t_thread_group.ok)
        return fail(L, MC_ENOENT,
                    "the DWARF has neither signal_struct.thread_head/task_struct.thread_node "
                    "nor task_struct.thread_group: cannot list threads");
    return 0;
}

/* ---- open ----------------------------------------------------------------------- */

static int choose_kspace(linux_os *L)
{
    const linux_machine *m = &L->m;
    unsigned i;
    for (i = 0; i < m->nharts; i++)
        if (m->harts[i].satp >> 60) break;
    if (i == m->nharts)
        return fail(L, MC_ESTATE,
                    "the MMU is off at this instant (satp mode Bare on every hart): no kernel "
                    "virtual memory yet");
    L->ks.read_phys = m->read_phys;
    L->ks.ctx = m->ctx;
    L->ks.satp = m->harts[i].satp;
    /* Prefer the kernel's own table once it maps the kernel. */
    sym_info s;
    gva_walk w;
    if (!sym_lookup(L->syms, "swapper_pg_dir", &s) && !gva_translate(&L->ks, s.addr, &w)) {
        gva_space k = L->ks;
        k.satp = (L->ks.satp & (0xfull << 60)) | (w.pa >> 12);
        if (!gva_translate(&k, s.addr, &w) && !gva_translate(&k, L->init_task, &w)) L->ks = k;
    }
    return 0;
}

static int check_banner(linux_os *L)
{
    sym_info s;
    char img[256] = "", mem[256] = "";
    if (sym_lookup(L->syms, "linux_banner", &s))
        return fail(L, MC_ENOENT,
                    "the vmlinux has no linux_banner symbol: cannot check it "
                    "matches the recorded kernel");
    if (rd(L, s.addr, mem, sizeof(mem) - 1)) {
        char why[512];
        snprintf(why, sizeof(why), "%s", L->err);
        return fail(L, MC_EGUEST, "linux_banner (%#llx) is not readable in guest memory: %s",
                    (unsigned long long)s.addr, why);
    }
    mem[sizeof(mem) - 1] = 0;
    mem[strcspn(mem, "\n")] = 0;
    snprintf(L->banner, sizeof(L->banner), "%s", mem);
    if (sym_read_image((void *)L->syms, s.addr, img, sizeof(img) - 1) < 0)
        return 0; /* System.map: nothing to compare with */
    img[sizeof(img) - 1] = 0;
    img[strcspn(img, "\n")] = 0;
    if (strcmp(img, mem))
        return fail(
            L, MC_EGUEST,
            "the vmlinux does not match the recorded kernel: its linux_banner is \"%.100s\" "
            "but guest memory has \"%.100s\"",
            img, mem);
    return 0;
}

int linux_open(linux_os **out, dwarf_types *d, const sym_table *syms, const linux_machine *m)
{
    linux_os *L = calloc(1, sizeof(*L));
    *out = L;
    if (!L) return MC_ENOMEM;
    L->d = d;
    L->syms = syms;
    L->m = *m;
    int rc;
    sym_info s;
    if (!syms) return fail(L, MC_EINVAL, "no kernel symbols");
    if (sym_lookup(syms, "init_task", &s))
        return fail(L, MC_ENOENT, "no init_task symbol in the vmlinux: not a Linux kernel?");
    L->init_task = s.addr;
    if ((rc = choose_kspace(L)) || (rc = check_banner(L))) return rc;
    if (!d) return 0;
    if ((rc = resolve_fields(L))) return rc;
    if ((rc = ovl_open(&L->o, d, syms, gva_read_cb, &L->ks)) < 0) {
        rc = fail(L, rc, "%s", L->o ? ovl_last_error(L->o) : "out of memory");
        ovl_free(L->o);
        L->o = NULL;
        return rc;
    }
    return 0;
}

void linux_free(linux_os *L)
{
    if (!L) return;
    ovl_free(L->o);
    free(L);
}

const char *linux_last_error(const linux_os *L)
{
    return L ? L->err : "out of memory";
}

const gva_space *linux_kspace(const linux_os *L)
{
    return &L->ks;
}

ovl *linux_ovl(linux_os *L)
{
    return L->o;
}

const char *linux_banner(const linux_os *L)
{
    return L->banner;
}

/* ---- tasks ---------------------------------------------------------------------- */

char linux_state_letter(uint64_t state, uint64_t exit_state)
{
    /* TASK_REPORT = RUNNING|INTERRUPTIBLE|UNINTERRUPTIBLE|__TASK_STOPPED|
     * __TASK_TRACED|EXIT_DEAD|EXIT_ZOMBIE|TASK_PARKED = 0x7f;
     * TASK_IDLE = TASK_UNINTERRUPTIBLE|TASK_NOLOAD (0x402) reports as I;
     * TASK_RTLOCK_WAIT (0x1000) alone reports as D. */
    unsigned s = (unsigned)((state | exit_state) & 0x7f);
    if ((state & 0x402) == 0x402) s = 0x80;
    if (state == 0x1000) s = 0x2;
    int idx = 0;
    while (s) {
        idx++;
        s >>= 1;
    }
    return "RSDTtXZPI"[idx];
}

static bool kernel_addr(uint64_t a)
{
    return a >> 63;
}

/* Fills t from the task_struct at addr; checks what can be checked. */
static int read_task(linux_os *L, uint64_t addr, linux_task *t)
{
    uint64_t v, parent;
    int rc;
    memset(t, 0, sizeof(*t));
    t->addr = addr;
    t->hart = -1;
    if (!kernel_addr(addr))
        return fail(L, MC_EGUEST, "task pointer %#llx is not a kernel address",
                    (unsigned long long)addr);
    if ((rc = rd_fld(L, addr, &L->t_pid, &v))) return rc;
    t->pid = (int)v;
    if ((rc = rd_fld(L, addr, &L->t_tgid, &v))) return rc;
    t->tgid = (int)v;
    if (t->pid < 0 || t->pid > PID_MAX_LIMIT || t->tgid < 0 || t->tgid > PID_MAX_LIMIT)
        return fail(L, MC_EGUEST, "task at %#llx: pid %d / tgid %d out of range",
                    (unsigned long long)addr, t->pid, t->tgid);
    char comm[LINUX_COMM_LEN];
    if ((rc = rd(L, addr + L->t_comm.off, comm, sizeof(comm)))) return rc;
    size_t n = strnlen(comm, sizeof(comm));
    if (n == sizeof(comm))
        return fail(L, MC_EGUEST, "task at %#llx (pid %d): comm is not NUL-terminated",
                    (unsigned long long)addr, t->pid);
    for (size_t i = 0; i < n; i++)
        if (!isprint((unsigned char)comm[i]))
            return fail(L, MC_EGUEST,
                        "task at %#llx (pid %d): comm has a non-printable byte 0x%02x at %zu",
                        (unsigned long long)addr, t->pid, (unsigned char)comm[i], i);
    memcpy(t->comm, comm, n);
    t->comm[n] = 0;
    if ((rc = rd_fld(L, addr, &L->t_state, &t->state_raw)) ||
        (rc = rd_fld(L, addr, &L->t_exit_state, &t->exit_state)))
        return rc;
    t->state = linux_state_letter(t->state_raw, t->exit_state);
    if ((rc = rd_fld(L, addr, &L->t_prio, &v))) return rc;
    t->prio = (int)v - MAX_RT_PRIO;
    if ((rc = rd_fld(L, addr, &L->t_static_prio, &v))) return rc;
    t->nice = (int)v - NICE_0_PRIO;
    if ((rc = rd_fld(L, addr, &L->t_policy, &v))) return rc;
    t->policy = (unsigned)v;
    if (L->t_rt_priority.ok && !rd_fld(L, addr, &L->t_rt_priority, &v))
        t->rt_priority = (unsigned)v;
    t->cpu = -1;
    if (L->t_cpu.ok) {
        uint64_t base = addr;
        if (L->cpu_via_stack && (rc = rd_fld(L, addr, &L->t_stack, &base))) return rc;
        if (!rd_fld(L, base, &L->t_cpu, &v)) t->cpu = (int)v;
    }
    if ((rc = rd_fld(L, addr, &L->t_mm, &t->mm)) || (rc = rd_fld(L, addr, &L->t_flags, &t->flags)))
        return rc;
    if ((rc = rd_fld(L, addr, &L->t_real_parent, &parent))) return rc;
    if (!kernel_addr(parent))
        return fail(L, MC_EGUEST,
                    "task at %#llx (pid %d): real_parent %#llx is not a kernel "
                    "address",
                    (unsigned long long)addr, t->pid, (unsigned long long)parent);
    if ((rc = rd_fld(L, parent, &L->t_tgid, &v))) return rc;
    t->ppid = (int)v;
    return 0;
}

typedef struct addr_vec {
    linux_os *L;
    uint64_t *a;
    size_t n, cap;
    uint64_t skip; /* thread walks: the leader, already listed */
} addr_vec;

static int vec_push(void *arg, uint64_t entry, size_t index)
{
    (void)index;
    addr_vec *v = arg;
    if (entry == v->skip) return 0;
    if (v->n >= LINUX_MAX_TASKS)
        return fail(v->L, MC_ERANGE, "more than %d tasks: stopped the walk", LINUX_MAX_TASKS);
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        uint64_t *a = realloc(v->a, cap * sizeof(*a));
        if (!a) return MC_ENOMEM;
        v->a = a;
        v->cap = cap;
    }
    v->a[v->n++] = entry;
    return 0;
}

static int walk(linux_os *L, uint64_t head, const char *member, addr_vec *v)
{
    L->err[0] = 0;
    int rc =
        ovl_list_for_each(L->o, head, "struct task_struct", member, LINUX_MAX_TASKS, vec_push, v);
    if (rc < 0 && !L->err[0]) /* the walk's own error, not vec_push's */
        fail(L, rc, "walking the %s list: %s", member, ovl_last_error(L->o));
    return rc;
}

/* The threads of leader (other than leader) appended to v. */
static int walk_threads(linux_os *L, uint64_t leader, addr_vec *v)
{
    uint64_t sig;
    int rc;
    v->skip = leader;
    if (L->s_thread_head.ok && L->t_signal.ok && L->t_thread_node.ok) {
        if ((rc = rd_fld(L, leader, &L->t_signal, &sig))) return rc;
        if (!kernel_addr(sig))
            return fail(L, MC_EGUEST, "task at %#llx: signal %#llx is not a kernel address",
                        (unsigned long long)leader, (unsigned long long)sig);
        rc = walk(L, sig + L->s_thread_head.off, "thread_node", v);
    } else {
        rc = walk(L, leader + L->t_thread_group.off, "thread_group", v);
    }
    v->skip = 0;
    return rc;
}

static int cmp_pid(const void *a, const void *b)
{
    const linux_task *x = *(linux_task *const *)a, *y = *(linux_task *const *)b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

static int check_tasks(linux_os *L, linux_task *t, size_t n)
{
    if (n == 0 || t[0].pid != 0 || strncmp(t[0].comm, "swapper", 7))
        return fail(L, MC_EGUEST, "init_task (%#llx) is not pid 0 'swapper*' but pid %d '%s'",
                    (unsigned long long)L->init_task, n ? t[0].pid : -1, n ? t[0].comm : "");
    linux_task **p = malloc(n * sizeof(*p));
    if (!p) return MC_ENOMEM;
    for (size_t i = 0; i < n; i++)
        p[i] = &t[i];
    qsort(p, n, sizeof(*p), cmp_pid);
    int rc = 0;
    for (size_t i = 1; i < n && !rc; i++)
        if (p[i]->pid == p[i - 1]->pid && p[i]->pid != 0)
            rc =
                fail(L, MC_EGUEST,
                     "pid %d appears twice in the task list (tasks at %#llx and "
                     "%#llx)",
                     p[i]->pid, (unsigned long long)p[i - 1]->addr, (unsigned long long)p[i]->addr);
    free(p);
    return rc;
}

int linux_current_of(linux_os *L, unsigned hart, linux_current *out)
{
    if (hart >= L->m.nharts) return fail(L, MC_EINVAL, "no hart %u", hart);
    const linux_hart_state *h = &L->m.harts[hart];
    out->priv = h->priv;
    out->task = 0;
    if (h->priv == HART_PRIV_M) {
        out->source = "unknown (M-mode: no record of the last trap into M-mode)";
        return 0;
    }
    uint64_t cand = h->priv == HART_PRIV_S ? h->tp : h->sscratch;
    out->source = h->priv == HART_PRIV_S ? "tp" : "sscratch";
    if (!L->d) { /* no types: the register as it is, unchecked */
        out->task = kernel_addr(cand) ? cand : 0;
        out->source =
            h->priv == HART_PRIV_S ? "tp (unchecked: no DWARF)" : "sscratch (unchecked: no DWARF)";
        return 0;
    }
    linux_task t;
    if (!kernel_addr(cand) || read_task(L, cand, &t)) {
        out->source = h->priv == HART_PRIV_S ? "unknown (tp is not a task_struct)"
                                             : "unknown (sscratch is not a task_struct)";
        return 0;
    }
    out->task = cand;
    return 0;
}

int linux_tasks(linux_os *L, linux_task **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!L->d || !L->o)
        return fail(L, MC_ENOENT,
                    "the vmlinux has no DWARF (.debug_info): the task list needs "
                    "the kernel's types");
    addr_vec procs = {.L = L}, all = {.L = L};
    linux_task *t = NULL;
    int rc;
    L->err[0] = 0;
    if ((rc = vec_push(&procs, L->init_task, 0)) ||
        (rc = walk(L, L->init_task + L->t_tasks.off, "tasks", &procs)))
        goto done;
    for (size_t i = 0; i < procs.n; i++) {
        if ((rc = vec_push(&all, procs.a[i], 0)) || (rc = walk_threads(L, procs.a[i], &all)))
            goto done;
    }
    t = calloc(all.n + L->m.nharts, sizeof(*t));
    if (!t) {
        rc = MC_ENOMEM;
        goto done;
    }
    size_t k = 0;
    for (size_t i = 0; i < all.n; i++, k++) {
        if ((rc = read_task(L, all.a[i], &t[k]))) goto done;
        t[k].leader = t[k].pid == t[k].tgid;
    }
    if ((rc = check_tasks(L, t, k))) goto done;
    for (unsigned h = 0; h < L->m.nharts; h++) {
        linux_current c;
        if (linux_current_of(L, h, &c) || !c.task) continue;
        size_t j;
        for (j = 0; j < k && t[j].addr != c.task; j++)
            ;
        if (j == k) {
            if (read_task(L, c.task, &t[k]) || t[k].pid != 0) continue;
            t[k].idle = t[k].leader = true;
            k++;
        }
        t[j].hart = (int)h;
    }
    *out = t;
    *n = k;
    t = NULL;
done:
    if (rc == MC_ENOMEM)
        fail(L, rc, "out of memory");
    else if (rc < 0)
        rc = MC_EGUEST; /* unreadable or inconsistent guest data */
    free(t);
    free(procs.a);
    free(all.a);
    return rc;
}

/* ---- address spaces and layout -------------------------------------------------- */

int linux_mm_space(linux_os *L, uint64_t mm, gva_space *out)
{
    uint64_t pgd;
    gva_walk w;
    int rc;
    *out = L->ks;
    if (!mm) return 0;
    if (!L->m_pgd.ok) return fail(L, MC_ENOENT, "no mm_struct.pgd in the DWARF");
    if ((rc = rd_fld(L, mm, &L->m_pgd, &pgd))) return rc;
    if ((rc = gva_translate(&L->ks, pgd, &w)) < 0)
        return fail(L, MC_EGUEST, "mm %#llx: pgd %#llx does not translate (%s)",
                    (unsigned long long)mm, (unsigned long long)pgd, gva_fault_str(w.fault));
    if (w.pa & 0xfff)
        return fail(L, MC_EGUEST, "mm %#llx: pgd %#llx is not page-aligned", (unsigned long long)mm,
                    (unsigned long long)pgd);
    out->satp = (L->ks.satp & (0xfull << 60)) | (w.pa >> 12);
    return 0;
}

static int eval_u64(linux_os *L, const char *expr, uint64_t *v)
{
    ovl_value x;
    if (!L->o || ovl_eval(L->o, expr, &x) || ovl_value_u64(L->o, &x, v)) return MC_ENOENT;
    return 0;
}

int linux_get_layout(linux_os *L, linux_layout *out)
{
    memset(out, 0, sizeof(*out));
    out->satp_mode = (unsigned)(L->ks.satp >> 60);
    out->va_bits = out->satp_mode == 8 ? 39 : out->satp_mode == 9 ? 48 : 57;
    out->user_lo = 0;
    out->user_hi = (1ull << (out->va_bits - 1)) - 1;
    out->kernel_lo = ~out->user_hi;
    out->kernel_hi = ~0ull;
    out->page_size = 4096;
    out->total_pages = out->free_pages = -1;
    uint64_t v;
    if (!eval_u64(L, "kernel_map.page_offset", &v)) out->page_offset = v;
    if (!eval_u64(L, "kernel_map.virt_addr", &v)) out->kernel_virt = v;
    if (!eval_u64(L, "kernel_map.phys_addr", &v)) out->kernel_phys = v;
    if (!eval_u64(L, "kernel_map.size", &v)) out->kernel_size = v;
    if (!eval_u64(L, "_totalram_pages.counter", &v)) out->total_pages = (int64_t)v;
    /* vm_zone_stat[NR_FREE_PAGES]: the enumerator's value from DWARF */
    dwarf_type_t e;
    if (L->d && !dwarf_type_lookup(L->d, "enum zone_stat_item", &e)) {
        for (size_t i = 0; i < dwarf_type_nenums(e); i++) {
            int64_t val;
            const char *nm = dwarf_type_enum(e, i, &val);
            char expr[64];
            if (nm && !strcmp(nm, "NR_FREE_PAGES")) {
                snprintf(expr, sizeof(expr), "vm_zone_stat[%lld].counter", (long long)val);
                if (!eval_u64(L, expr, &v)) out->free_pages = (int64_t)v;
            }
        }
    }
    return 0;
}
