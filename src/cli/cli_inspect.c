/*
 * cli_inspect.c - machina-replay's introspection commands (cli_inspect.h).
 *
 * Each command computes one JSON object (jansson) and prints it either as
 * JSON or as a table rendered from that same object, so a cached answer
 * (db_obs) prints exactly like a fresh one. Flow of a command at an
 * instant: resolve the vmlinux's identity without reading it (the image's
 * SHA-256 from the recording, or the file's build-id), look the answer up
 * in the cache; on a miss, load symbols and types, seek, open the Linux
 * view (which checks linux_banner against guest memory), compute, store.
 * Invariants: nothing here trusts guest memory (linux.c checks it); the
 * cache holds only answers that were computed and checked.
 */
#define _GNU_SOURCE
#include "cli_inspect.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db_obs.h"
#include "dev.h"
#include "linux/linux.h"
#include "snap.h"

#define EXIT_BAD   1
#define EXIT_USAGE 2
/* Bumped whenever an answer's content or JSON shape changes: cached
 * answers of other versions are then ignored (obs_result.cmd = "ps/v1"). */
#define CACHE_VERSION "v1"

const char cli_inspect_usage[] =
    "  sym NAME|ADDR  a kernel symbol's address, size and type, or the symbol at ADDR\n"
    "  struct EXPR    evaluate a C expression over kernel types and memory, e.g.\n"
    "                 'init_task.comm', '((struct task_struct *)0x...)->mm->pgd'\n"
    "  ps        processes at T: PID, PPID, TGID, state, priority, nice, policy,\n"
    "            CPU, the hart running it, comm; `current` of every hart\n"
    "  threads   the same for every thread\n"
    "  pt [PID]  mapped ranges of a process's page table (the kernel's without PID):\n"
    "            VA and PA ranges, R/W/X/U/G/A/D, page size\n"
    "  layout    kernel/user split, linear map, kernel image, MMIO windows, RAM\n"
    "            in use and free\n";

static const char *const cmds[] = {"sym", "struct", "ps", "threads", "pt", "layout", "regs"};

bool cli_inspect_handles(const char *cmd)
{
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (!strcmp(cmd, cmds[i])) return true;
    return false;
}

bool cli_inspect_takes_arg(const char *cmd)
{
    return !strcmp(cmd, "sym") || !strcmp(cmd, "struct") || !strcmp(cmd, "pt");
}

/* ---- the session: recording, vmlinux, replay, Linux view ------------------- */

typedef struct sess {
    const cli_inspect_args *a;
    char vmlinux_id[160]; /* "image:<sha256>", "build-id:<hex>" or "file:..." */
    char vmlinux_path[4096];
    bool has_vmlinux;
    sym_table *syms;
    dwarf_types *d;
    char no_types[256]; /* why there are no types ("" when there are) */
    rr_replay *rp;
    linux_machine m;
    linux_os *L;
    db_obs *cache;
    uint64_t icount, vtime;
    char pos[96];
} sess;

static int errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int errf(const char *fmt, ...)
{
    va_list ap;
    fputs("machina-replay: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_BAD;
}

static const char *cache_root(char *buf, size_t len)
{
    const char *e = getenv("MACHINA_CACHE_DIR"), *home = getenv("HOME");
    if (e && *e)
        snprintf(buf, len, "%s", e);
    else if (home && *home)
        snprintf(buf, len, "%s/.cache/machina", home);
    else
        snprintf(buf, len, "/tmp/machina-cache-%u", (unsigned)getuid());
    return buf;
}

static void mkdirs(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s", dir);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    mkdir(p, 0755);
}

/* Identity of the vmlinux without reading it all. */
static int vmlinux_identity(sess *s)
{
    const cli_inspect_args *a = s->a;
    if (a->vmlinux) {
        char hex[130];
        struct stat st;
        if (stat(a->vmlinux, &st)) return errf("%s: %s", a->vmlinux, strerror(errno));
        snprintf(s->vmlinux_path, sizeof(s->vmlinux_path), "%s", a->vmlinux);
        /* build-id alone is not enough: a stripped or patched copy keeps it */
        if (sym_file_build_id(a->vmlinux, hex, sizeof(hex))) snprintf(hex, sizeof(hex), "none");
        snprintf(s->vmlinux_id, sizeof(s->vmlinux_id), "file:%s:%llu:%lld", hex,
                 (unsigned long long)st.st_size, (long long)st.st_mtime);
        s->has_vmlinux = true;
        return 0;
    }
    rr_image_info *imgs = NULL;
    size_t n = 0;
    char err[512] = "";
    if (rr_images(a->f, &imgs, &n, err, sizeof(err)) < 0) return errf("%s: %s", a->path, err);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(imgs[i].name, "vmlinux")) {
            snprintf(s->vmlinux_id, sizeof(s->vmlinux_id), "image:%s", imgs[i].sha256);
            s->has_vmlinux = true;
        }
    free(imgs);
    return 0;
}

/* Makes the recording's vmlinux a file (cached by SHA-256). */
static int vmlinux_materialize(sess *s)
{
    if (s->a->vmlinux) return 0;
    char root[4000], dir[4050], tmp[4200];
    snprintf(dir, sizeof(dir), "%s/vmlinux", cache_root(root, sizeof(root)));
    mkdirs(dir);
    snprintf(s->vmlinux_path, sizeof(s->vmlinux_path), "%s/%s", dir, s->vmlinux_id + 6);
    if (access(s->vmlinux_path, R_OK) == 0) return 0;
    uint8_t *data;
    size_t size;
    char err[512] = "";
    if (rr_image(s->a->f, "vmlinux", &data, &size, err, sizeof(err)) < 0)
        return errf("%s: vmlinux image: %s", s->a->path, err);
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", s->vmlinux_path, (int)getpid());
    FILE *fp = fopen(tmp, "wb");
    bool ok = fp && fwrite(data, 1, size, fp) == size;
    if (fp && fclose(fp)) ok = false;
    free(data);
    if (!ok || rename(tmp, s->vmlinux_path)) {
        unlink(tmp);
        return errf("cannot write the recording's vmlinux to %s: %s", dir, strerror(errno));
    }
    return 0;
}

/* Symbols (required when needed) and types (optional, reason kept). */
static int load_kernel(sess *s, bool need_syms)
{
    if (!s->has_vmlinux) {
        if (!need_syms) return 0;
        return errf("%s: the recording holds no vmlinux; give one with --vmlinux FILE", s->a->path);
    }
    if (vmlinux_materialize(s)) return EXIT_BAD;
    int rc = sym_open(&s->syms, s->vmlinux_path);
    if (rc < 0) {
        char why[600];
        snprintf(why, sizeof(why), "%s", sym_last_error(s->syms));
        sym_free(s->syms);
        s->syms = NULL;
        if (rc == MC_ENOENT)
            errf("vmlinux %s is stripped: no symbol table (.symtab), so no symbols, types or "
                 "task list%s",
                 s->a->vmlinux ? s->a->vmlinux : "(from the recording)",
                 need_syms ? "" : "; showing registers only");
        else
            errf("vmlinux %s: %s", s->a->vmlinux ? s->a->vmlinux : "(from the recording)",
                 *why ? why : mc_strerror(rc));
        return need_syms || rc != MC_ENOENT ? EXIT_BAD : 0;
    }
    rc = dwarf_open(&s->d, s->vmlinux_path, NULL);
    if (rc < 0) {
        snprintf(s->no_types, sizeof(s->no_types),
                 "the vmlinux has no usable DWARF (%s): types, struct, ps, threads need it",
                 dwarf_last_error(s->d));
        dwarf_free(s->d);
        s->d = NULL;
    }
    return 0;
}

static int do_seek(sess *s)
{
    char err[1024] = "";
    rr_instant t;
    int rc;
    if (rr_parse_instant(s->a->at ? s->a->at : "end", &t) < 0) return EXIT_USAGE;
    if ((rc = rr_replay_new(&s->rp, s->a->f, err, sizeof(err))) < 0 ||
        (rc = rr_seek(s->rp, &t, err, sizeof(err))) < 0)
        return errf("%s: %s", s->a->path, *err ? err : mc_strerror(rc));
    board_t *b = rr_replay_board(s->rp);
    s->icount = board_steps(b);
    s->vtime = board_vtime(b);
    rr_position(s->rp, s->pos, sizeof(s->pos));
    if (s->cache && db_obs_instant_put(s->cache, s->a->at ? s->a->at : "end", s->icount, s->vtime,
                                       s->pos) < 0) {
        /* best effort */
    }
    linux_machine_from_board(&s->m, b);
    return 0;
}

/* Opens the Linux view; mmu_off_ok: an MMU-off instant is not an error. */
static int open_linux(sess *s, bool mmu_off_ok)
{
    int rc = linux_open(&s->L, s->d, s->syms, &s->m);
    if (rc == MC_ESTATE && mmu_off_ok) {
        linux_free(s->L);
        s->L = NULL;
        return 0;
    }
    if (rc < 0) return errf("at %s: %s", s->pos, linux_last_error(s->L));
    return 0;
}

/* ---- JSON helpers ---------------------------------------------------------- */

static json_t *hex(uint64_t v)
{
    return json_sprintf("0x%llx", (unsigned long long)v);
}

static uint64_t jhex(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? strtoull(s, NULL, 0) : 0;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static long long jint(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static json_t *header(sess *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "at", json_string(s->pos));
    json_object_set_new(o, "icount", json_integer((json_int_t)s->icount));
    json_object_set_new(o, "vtime_ns", json_integer((json_int_t)s->vtime));
    return o;
}

static const char *priv_name(unsigned p)
{
    return p == HART_PRIV_M ? "M" : p == HART_PRIV_S ? "S" : p == HART_PRIV_U ? "U" : "?";
}

static const char *policy_name(unsigned p)
{
    static const char *const n[] = {"NORMAL", "FIFO", "RR", "BATCH", "ISO", "IDLE", "DEADLINE"};
    return p < 7 ? n[p] : "?";
}

static void symbolize(sess *s, uint64_t a, char *buf, size_t len)
{
    if (!s->syms || sym_format(s->syms, a, buf, len) < 0) snprintf(buf, len, "%s", "");
}

/* ---- ps / threads ---------------------------------------------------------- */

static int compute_tasks(sess *s, bool all, json_t **out)
{
    linux_task *t;
    size_t n;
    if (!s->d) return errf("%s", s->no_types);
    if (linux_tasks(s->L, &t, &n) < 0)
        return errf("at %s: the task list is inconsistent: %s", s->pos, linux_last_error(s->L));
    if (s->cache && db_obs_put_tasks(s->cache, s->icount, s->vmlinux_id, t, n) < 0) {
        /* best effort */
    }
    json_t *o = header(s), *hs = json_array(), *ts = json_array();
    for (unsigned h = 0; h < s->m.nharts; h++) {
        linux_current c;
        json_t *jh = json_object();
        json_object_set_new(jh, "hart", json_integer(h));
        json_object_set_new(jh, "priv", json_string(priv_name(s->m.harts[h].priv)));
        if (!linux_current_of(s->L, h, &c) && c.task) {
            json_object_set_new(jh, "current", hex(c.task));
            for (size_t i = 0; i < n; i++)
                if (t[i].addr == c.task) {
                    json_object_set_new(jh, "pid", json_integer(t[i].pid));
                    json_object_set_new(jh, "comm", json_string(t[i].comm));
                }
        } else {
            json_object_set_new(jh, "current", json_null());
        }
        json_object_set_new(jh, "source", json_string(c.source ? c.source : "?"));
        json_array_append_new(hs, jh);
    }
    for (size_t i = 0; i < n; i++) {
        if (!all && !t[i].leader) continue;
        json_t *j = json_object();
        char st[2] = {t[i].state, 0};
        json_object_set_new(j, "pid", json_integer(t[i].pid));
        json_object_set_new(j, "ppid", json_integer(t[i].ppid));
        json_object_set_new(j, "tgid", json_integer(t[i].tgid));
        json_object_set_new(j, "state", json_string(st));
        json_object_set_new(j, "prio", json_integer(t[i].prio));
        json_object_set_new(j, "nice", json_integer(t[i].nice));
        json_object_set_new(j, "policy", json_string(policy_name(t[i].policy)));
        json_object_set_new(j, "cpu", json_integer(t[i].cpu));
        json_object_set_new(j, "hart", t[i].hart < 0 ? json_null() : json_integer(t[i].hart));
        json_object_set_new(j, "comm", json_string(t[i].comm));
        json_object_set_new(j, "task", hex(t[i].addr));
        json_object_set_new(j, "kthread", json_boolean(!t[i].mm));
        if (t[i].idle) json_object_set_new(j, "idle", json_true());
        json_array_append_new(ts, j);
    }
    free(t);
    json_object_set_new(o, "harts", hs);
    json_object_set_new(o, "tasks", ts);
    *out = o;
    return 0;
}

static void print_tasks(json_t *o)
{
    size_t i;
    json_t *v;
    printf("at %s\n", jstr(o, "at"));
    json_array_foreach(json_object_get(o, "harts"), i, v)
    {
        json_t *cur = json_object_get(v, "current");
        if (json_is_string(cur))
            printf("hart %lld: %s-mode, current %s pid %lld (%s) [from %s]\n", jint(v, "hart"),
                   jstr(v, "priv"), jstr(v, "current"), jint(v, "pid"), jstr(v, "comm"),
                   jstr(v, "source"));
        else
            printf("hart %lld: %s-mode, current %s\n", jint(v, "hart"), jstr(v, "priv"),
                   jstr(v, "source"));
    }
    printf("%7s %7s %7s S %4s %3s %-8s %3s %4s %-16s %s\n", "PID", "PPID", "TGID", "PRI", "NI",
           "POLICY", "CPU", "HART", "COMM", "TASK");
    json_array_foreach(json_object_get(o, "tasks"), i, v)
    {
        json_t *h = json_object_get(v, "hart");
        char hb[8] = "-";
        if (json_is_integer(h)) snprintf(hb, sizeof(hb), "%lld", json_integer_value(h));
        printf("%7lld %7lld %7lld %s %4lld %3lld %-8s %3lld %4s %-16s %s%s\n", jint(v, "pid"),
               jint(v, "ppid"), jint(v, "tgid"), jstr(v, "state"), jint(v, "prio"), jint(v, "nice"),
               jstr(v, "policy"), jint(v, "cpu"), hb, jstr(v, "comm"), jstr(v, "task"),
               json_is_true(json_object_get(v, "idle")) ? " (idle)" : "");
    }
}

/* ---- pt -------------------------------------------------------------------- */

typedef struct pt_acc {
    json_t *ranges;
    uint64_t pages, mapped;
} pt_acc;

static int pt_range(void *arg, const gva_range *r)
{
    pt_acc *a = arg;
    char perm[8];
    json_t *j = json_object();
    json_object_set_new(j, "va", hex(r->va));
    json_object_set_new(j, "va_end", hex(r->va + r->len));
    json_object_set_new(j, "pa", hex(r->pa));
    json_object_set_new(j, "pa_end", hex(r->pa + r->len));
    json_object_set_new(j, "perm", json_string(gva_perm_str(r->perm, perm)));
    json_object_set_new(j, "page_size", json_integer((json_int_t)r->page_size));
    json_array_append_new(a->ranges, j);
    a->pages += r->len / r->page_size;
    a->mapped += r->len;
    return 0;
}

static int compute_pt(sess *s, const char *arg, json_t **out)
{
    gva_space sp;
    uint64_t lo, hi;
    linux_layout lay;
    json_t *o = header(s);
    if (linux_get_layout(s->L, &lay) < 0) return errf("%s", linux_last_error(s->L));
    if (arg && *arg) {
        char *end;
        long pid = strtol(arg, &end, 10);
        if (*end || pid < 0) {
            json_decref(o);
            errf("pt: bad PID '%s'", arg);
            return EXIT_USAGE;
        }
        if (!s->d) return errf("%s", s->no_types);
        linux_task *t;
        size_t n, i;
        if (linux_tasks(s->L, &t, &n) < 0)
            return errf("at %s: the task list is inconsistent: %s", s->pos, linux_last_error(s->L));
        for (i = 0; i < n && (t[i].pid != pid || !t[i].leader); i++)
            ;
        if (i == n) {
            free(t);
            json_decref(o);
            return errf("at %s: no process with PID %ld", s->pos, pid);
        }
        if (!t[i].mm) {
            json_decref(o);
            errf("at %s: PID %ld (%s) is a kernel thread: it has no user address space", s->pos,
                 pid, t[i].comm);
            free(t);
            return EXIT_BAD;
        }
        json_object_set_new(o, "pid", json_integer(pid));
        json_object_set_new(o, "comm", json_string(t[i].comm));
        json_object_set_new(o, "mm", hex(t[i].mm));
        int rc = linux_mm_space(s->L, t[i].mm, &sp);
        free(t);
        if (rc < 0) {
            json_decref(o);
            return errf("at %s: %s", s->pos, linux_last_error(s->L));
        }
        lo = lay.user_lo;
        hi = lay.user_hi;
    } else {
        if (linux_mm_space(s->L, 0, &sp) < 0) return errf("%s", linux_last_error(s->L));
        json_object_set_new(o, "pid", json_null());
        lo = lay.kernel_lo;
        hi = lay.kernel_hi;
    }
    json_object_set_new(o, "satp", hex(sp.satp));
    json_object_set_new(o, "mode",
                        json_string(lay.satp_mode == 8   ? "sv39"
                                    : lay.satp_mode == 9 ? "sv48"
                                                         : "sv57"));
    json_object_set_new(o, "root", hex((sp.satp & ((1ull << 44) - 1)) << 12));
    pt_acc acc = {json_array(), 0, 0};
    int rc = gva_enum(&sp, lo, hi, 0, pt_range, &acc);
    json_object_set_new(o, "ranges", acc.ranges);
    json_object_set_new(o, "pages", json_integer((json_int_t)acc.pages));
    json_object_set_new(o, "mapped_bytes", json_integer((json_int_t)acc.mapped));
    if (rc < 0) {
        json_decref(o);
        return errf("at %s: page table walk: %s", s->pos, mc_strerror(rc));
    }
    *out = o;
    return 0;
}

static void print_pt(json_t *o)
{
    size_t i;
    json_t *v;
    printf("at %s\n", jstr(o, "at"));
    if (json_is_integer(json_object_get(o, "pid")))
        printf("page table of PID %lld (%s): %s, satp %s, root %s; user half\n", jint(o, "pid"),
               jstr(o, "comm"), jstr(o, "mode"), jstr(o, "satp"), jstr(o, "root"));
    else
        printf("the kernel's page table (swapper_pg_dir): %s, satp %s, root %s; kernel half\n",
               jstr(o, "mode"), jstr(o, "satp"), jstr(o, "root"));
    printf("%-16s %-16s %-12s %-12s %-7s %s\n", "VA", "VA end", "PA", "PA end", "perms", "page");
    json_array_foreach(json_object_get(o, "ranges"), i, v)
    {
        long long ps = jint(v, "page_size");
        printf("%016llx %016llx %012llx %012llx %-7s %lld%s\n", (unsigned long long)jhex(v, "va"),
               (unsigned long long)jhex(v, "va_end"), (unsigned long long)jhex(v, "pa"),
               (unsigned long long)jhex(v, "pa_end"), jstr(v, "perm"),
               ps >= (1 << 30)   ? ps >> 30
               : ps >= (1 << 20) ? ps >> 20
                                 : ps >> 10,
               ps >= (1 << 30)   ? "G"
               : ps >= (1 << 20) ? "M"
                                 : "K");
    }
    printf("%zu ranges, %lld pages, %lld bytes mapped\n",
           json_array_size(json_object_get(o, "ranges")), jint(o, "pages"),
           jint(o, "mapped_bytes"));
}

/* ---- layout ---------------------------------------------------------------- */

static json_t *window(const char *name, uint64_t base, uint64_t size)
{
    json_t *j = json_object();
    json_object_set_new(j, "name", json_string(name));
    json_object_set_new(j, "base", hex(base));
    json_object_set_new(j, "size", hex(size));
    return j;
}

static int compute_layout(sess *s, json_t **out)
{
    linux_layout l;
    if (linux_get_layout(s->L, &l) < 0) return errf("%s", linux_last_error(s->L));
    const rr_info *in = rr_get_info(s->a->f);
    json_t *o = header(s), *mm = json_array(), *ram = json_object();
    json_object_set_new(o, "mode",
                        json_string(l.satp_mode == 8   ? "sv39"
                                    : l.satp_mode == 9 ? "sv48"
                                                       : "sv57"));
    json_object_set_new(o, "user_lo", hex(l.user_lo));
    json_object_set_new(o, "user_hi", hex(l.user_hi));
    json_object_set_new(o, "kernel_lo", hex(l.kernel_lo));
    json_object_set_new(o, "kernel_hi", hex(l.kernel_hi));
    json_object_set_new(o, "page_offset", l.page_offset ? hex(l.page_offset) : json_null());
    json_object_set_new(o, "kernel_virt", l.kernel_virt ? hex(l.kernel_virt) : json_null());
    json_object_set_new(o, "kernel_phys", l.kernel_virt ? hex(l.kernel_phys) : json_null());
    json_object_set_new(o, "kernel_size", json_integer((json_int_t)l.kernel_size));
    json_array_append_new(mm, window("rom", 0x1000, 0xf000));
    json_array_append_new(mm, window("test-finisher", DEV_TEST_BASE, DEV_TEST_SIZE));
    json_array_append_new(mm, window("clint", DEV_CLINT_BASE, DEV_CLINT_SIZE));
    json_array_append_new(mm, window("plic", DEV_PLIC_BASE, DEV_PLIC_SIZE));
    json_array_append_new(mm, window("uart", DEV_UART_BASE, DEV_UART_SIZE));
    json_array_append_new(
        mm, window("virtio-mmio", DEV_VIRTIO_BASE, DEV_VIRTIO_SIZE * DEV_VIRTIO_SLOTS));
    json_object_set_new(o, "mmio", mm);
    json_object_set_new(ram, "base", hex(0x80000000ull));
    json_object_set_new(ram, "size", json_integer((json_int_t)in->ram_size));
    json_object_set_new(ram, "total_pages",
                        l.total_pages < 0 ? json_null() : json_integer(l.total_pages));
    json_object_set_new(ram, "free_pages",
                        l.free_pages < 0 ? json_null() : json_integer(l.free_pages));
    if (l.total_pages >= 0 && l.free_pages >= 0) {
        json_object_set_new(ram, "used_bytes",
                            json_integer((l.total_pages - l.free_pages) * (json_int_t)4096));
        json_object_set_new(ram, "free_bytes", json_integer(l.free_pages * (json_int_t)4096));
        json_object_set_new(ram, "reserved_bytes",
                            json_integer((json_int_t)in->ram_size - l.total_pages * 4096));
    }
    json_object_set_new(o, "ram", ram);
    *out = o;
    return 0;
}

static void print_layout(json_t *o)
{
    size_t i;
    json_t *v, *r = json_object_get(o, "ram");
    printf("at %s\n", jstr(o, "at"));
    printf("paging       %s\n", jstr(o, "mode"));
    printf("user         %016llx - %016llx\n", (unsigned long long)jhex(o, "user_lo"),
           (unsigned long long)jhex(o, "user_hi"));
    printf("kernel       %016llx - %016llx\n", (unsigned long long)jhex(o, "kernel_lo"),
           (unsigned long long)jhex(o, "kernel_hi"));
    if (json_is_string(json_object_get(o, "page_offset")))
        printf("linear map   from %s (PAGE_OFFSET)\n", jstr(o, "page_offset"));
    if (json_is_string(json_object_get(o, "kernel_virt")))
        printf("kernel image %s -> PA %s, %lld KiB\n", jstr(o, "kernel_virt"),
               jstr(o, "kernel_phys"), jint(o, "kernel_size") >> 10);
    printf("MMIO\n");
    json_array_foreach(json_object_get(o, "mmio"), i, v)
        printf("  %-14s %10s  size %s\n", jstr(v, "name"), jstr(v, "base"), jstr(v, "size"));
    printf("RAM          %s, %lld MiB\n", jstr(r, "base"), jint(r, "size") >> 20);
    if (json_is_integer(json_object_get(r, "used_bytes")))
        printf("  managed by the kernel %lld pages; in use %lld KiB, free %lld KiB, reserved "
               "(kernel image, firmware, memblock) %lld KiB\n",
               jint(r, "total_pages"), jint(r, "used_bytes") >> 10, jint(r, "free_bytes") >> 10,
               jint(r, "reserved_bytes") >> 10);
    else
        printf("  in use / free: unknown (no _totalram_pages or vm_zone_stat)\n");
}

/* ---- struct, sym ----------------------------------------------------------- */

static int compute_struct(sess *s, const char *expr, json_t **out)
{
    if (!s->d) return errf("%s", s->no_types);
    ovl *o = linux_ovl(s->L);
    ovl_value v;
    char *txt = NULL, tn[256];
    if (ovl_eval(o, expr, &v) < 0 || ovl_format(o, &v, &txt) < 0) {
        int col = ovl_last_error_column(o);
        if (col > 0)
            fprintf(stderr, "machina-replay: struct: %s\n  %s\n  %*s^\n", ovl_last_error(o), expr,
                    col - 1, "");
        else
            fprintf(stderr, "machina-replay: struct: %s\n", ovl_last_error(o));
        return EXIT_BAD;
    }
    json_t *j = header(s);
    json_object_set_new(j, "expr", json_string(expr));
    json_object_set_new(j, "type", json_string(dwarf_type_format(s->d, v.type, tn, sizeof(tn))));
    json_object_set_new(j, "address", v.lvalue ? hex(v.addr) : json_null());
    json_object_set_new(j, "value", json_string(txt));
    free(txt);
    *out = j;
    return 0;
}

static void print_struct(json_t *o)
{
    printf("at %s\n", jstr(o, "at"));
    if (json_is_string(json_object_get(o, "address")))
        printf("%s  (%s at %s)\n", jstr(o, "expr"), jstr(o, "type"), jstr(o, "address"));
    else
        printf("%s  (%s)\n", jstr(o, "expr"), jstr(o, "type"));
    printf("%s\n", jstr(o, "value"));
}

static int cmd_sym(sess *s, const char *arg)
{
    sym_info si;
    uint64_t off = 0;
    char *end;
    if (!arg || !*arg) {
        errf("sym: expected a NAME or an ADDR");
        return EXIT_USAGE;
    }
    uint64_t addr = strtoull(arg, &end, 0);
    bool is_addr = !*end && (arg[0] >= '0' && arg[0] <= '9');
    int rc = is_addr ? sym_addr2name(s->syms, addr, &si, &off) : sym_lookup(s->syms, arg, &si);
    if (rc < 0) return errf("sym: %s: no such symbol in the vmlinux", arg);
    if (s->a->json) {
        json_t *o = json_object();
        json_object_set_new(o, "at", json_string("any (symbols of the vmlinux)"));
        json_object_set_new(o, "query", json_string(arg));
        json_object_set_new(o, "name", json_string(si.name));
        json_object_set_new(o, "addr", hex(si.addr));
        json_object_set_new(o, "offset", json_integer((json_int_t)off));
        json_object_set_new(o, "size", json_integer((json_int_t)si.size));
        json_object_set_new(o, "type", json_sprintf("%c", si.type));
        json_object_set_new(o, "global", json_boolean(si.global));
        char *t = json_dumps(o, JSON_INDENT(2));
        if (t) puts(t);
        free(t);
        json_decref(o);
        return 0;
    }
    printf("at any instant (symbols of the vmlinux)\n");
    if (is_addr)
        printf("%#llx = %s+%#llx  (%c, %#llx, size %llu)\n", (unsigned long long)addr, si.name,
               (unsigned long long)off, si.type, (unsigned long long)si.addr,
               (unsigned long long)si.size);
    else
        printf("%s = %#llx  (%c, size %llu, %s)\n", si.name, (unsigned long long)si.addr, si.type,
               (unsigned long long)si.size, si.global ? "global" : "local");
    return 0;
}

/* ---- regs ------------------------------------------------------------------ */

static int compute_regs(sess *s, json_t **out)
{
    board_t *b = rr_replay_board(s->rp);
    json_t *o = header(s), *hs = json_array();
    char sb[256];
    json_object_set_new(o, "symbols",
                        json_string(s->L      ? "vmlinux"
                                    : s->syms ? "none (the MMU is off)"
                                              : "none"));
    for (unsigned i = 0; i < board_nharts(b); i++) {
        hart_t *h = board_hart(b, i);
        json_t *jh = json_object(), *x = json_object(), *fp = json_object(), *cs = json_object();
        json_object_set_new(jh, "hart", json_integer(i));
        json_object_set_new(jh, "pc", hex(hart_pc(h)));
        json_object_set_new(jh, "priv", json_string(priv_name(hart_priv(h))));
        json_object_set_new(jh, "waiting", json_boolean(hart_is_waiting(h)));
        if (s->L) {
            symbolize(s, hart_pc(h), sb, sizeof(sb));
            json_object_set_new(jh, "pc_sym", *sb ? json_string(sb) : json_null());
            symbolize(s, hart_reg(h, 1), sb, sizeof(sb));
            json_object_set_new(jh, "ra_sym", *sb ? json_string(sb) : json_null());
            linux_current c;
            if (!linux_current_of(s->L, i, &c)) {
                json_object_set_new(jh, "current", c.task ? hex(c.task) : json_null());
                json_object_set_new(jh, "current_source", json_string(c.source));
            }
        }
        for (unsigned r = 0; r < 32; r++) {
            json_object_set_new(x, snap_gpr_name(r), hex(hart_reg(h, r)));
            json_object_set_new(fp, snap_fpr_name(r), hex(hart_freg(h, r)));
        }
        unsigned num;
        const char *name;
        for (unsigned k = 0; snap_csr_at(k, &num, &name); k++) {
            uint64_t v;
            if (hart_csr(h, num, &v) == MC_OK) json_object_set_new(cs, name, hex(v));
        }
        json_object_set_new(jh, "x", x);
        json_object_set_new(jh, "f", fp);
        json_object_set_new(jh, "csr", cs);
        json_array_append_new(hs, jh);
    }
    json_object_set_new(o, "harts", hs);
    *out = o;
    return 0;
}

static void print_regs(json_t *o)
{
    size_t i;
    json_t *h;
    printf("at %s (symbols: %s)\n", jstr(o, "at"), jstr(o, "symbols"));
    json_array_foreach(json_object_get(o, "harts"), i, h)
    {
        json_t *x = json_object_get(h, "x"), *f = json_object_get(h, "f"),
               *cs = json_object_get(h, "csr");
        printf("hart %lld: pc %016llx %s  %s-mode%s\n", jint(h, "hart"),
               (unsigned long long)jhex(h, "pc"), jstr(h, "pc_sym"), jstr(h, "priv"),
               json_is_true(json_object_get(h, "waiting")) ? "  (waiting in WFI)" : "");
        printf("  ra %016llx %s\n", (unsigned long long)jhex(x, "ra"), jstr(h, "ra_sym"));
        if (json_object_get(h, "current_source"))
            printf("  current %s [%s]\n",
                   json_is_string(json_object_get(h, "current")) ? jstr(h, "current") : "-",
                   jstr(h, "current_source"));
        for (unsigned r = 0; r < 32; r++)
            printf("  %-4s %016llx%s", snap_gpr_name(r),
                   (unsigned long long)jhex(x, snap_gpr_name(r)), r % 4 == 3 ? "\n" : "");
        for (unsigned r = 0; r < 32; r++)
            printf("  %-4s %016llx%s", snap_fpr_name(r),
                   (unsigned long long)jhex(f, snap_fpr_name(r)), r % 4 == 3 ? "\n" : "");
        const char *k;
        json_t *v;
        unsigned col = 0;
        json_object_foreach(cs, k, v) printf(
            "  %-10s %016llx%s", k, (unsigned long long)strtoull(json_string_value(v), NULL, 0),
            col++ % 3 == 2 ? "\n" : "");
        if (col % 3) printf("\n");
    }
}

/* ---- main entry -------------------------------------------------------------- */

static void emit(const cli_inspect_args *a, json_t *o)
{
    if (a->json) {
        char *t = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (t) puts(t);
        free(t);
        return;
    }
    if (!strcmp(a->cmd, "ps") || !strcmp(a->cmd, "threads"))
        print_tasks(o);
    else if (!strcmp(a->cmd, "pt"))
        print_pt(o);
    else if (!strcmp(a->cmd, "layout"))
        print_layout(o);
    else if (!strcmp(a->cmd, "struct"))
        print_struct(o);
    else
        print_regs(o);
}

/* The cached answer, if any: 0 and printed, else nonzero. */
static int from_cache(sess *s)
{
    const char *spec = s->a->at ? s->a->at : "end";
    char *txt;
    if (!s->cache ||
        db_obs_instant_get(s->cache, spec, &s->icount, &s->vtime, s->pos, sizeof(s->pos)) < 0)
        return 1;
    char key[32];
    snprintf(key, sizeof(key), "%s/%s", s->a->cmd, CACHE_VERSION);
    if (db_obs_get(s->cache, s->icount, s->vmlinux_id, key, s->a->arg, &txt) < 0) return 1;
    json_t *o = json_loads(txt, JSON_DISABLE_EOF_CHECK, NULL);
    free(txt);
    if (!o) return 1;
    emit(s->a, o);
    json_decref(o);
    return 0;
}

int cli_inspect_run(const cli_inspect_args *a)
{
    sess s = {.a = a};
    json_t *o = NULL;
    int st = EXIT_BAD;
    const char *cmd = a->cmd;
    bool regs = !strcmp(cmd, "regs");
    if ((!strcmp(cmd, "struct") || !strcmp(cmd, "sym")) && (!a->arg || !*a->arg)) {
        errf("%s: expected an argument (try --help)", cmd);
        return EXIT_USAGE;
    }
    if (a->arg && !cli_inspect_takes_arg(cmd)) {
        errf("%s takes no argument (got '%s')", cmd, a->arg);
        return EXIT_USAGE;
    }
    if (vmlinux_identity(&s)) return EXIT_BAD;
    if (!strcmp(cmd, "sym")) {
        if (load_kernel(&s, true)) goto done;
        st = cmd_sym(&s, a->arg);
        goto done;
    }
    if (db_obs_open(&s.cache, a->path) < 0) s.cache = NULL; /* read-only: no cache */
    if (!from_cache(&s)) {
        st = 0;
        goto done;
    }
    if (load_kernel(&s, !regs)) goto done;
    if ((st = do_seek(&s))) goto done;
    st = EXIT_BAD;
    if (s.syms && open_linux(&s, regs)) goto done;
    int rc;
    if (regs)
        rc = compute_regs(&s, &o);
    else if (!strcmp(cmd, "ps") || !strcmp(cmd, "threads"))
        rc = compute_tasks(&s, !strcmp(cmd, "threads"), &o);
    else if (!strcmp(cmd, "pt"))
        rc = compute_pt(&s, a->arg, &o);
    else if (!strcmp(cmd, "layout"))
        rc = compute_layout(&s, &o);
    else
        rc = compute_struct(&s, a->arg, &o);
    if (rc) {
        st = rc;
        goto done;
    }
    if (s.cache) {
        char *txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER), key[32];
        snprintf(key, sizeof(key), "%s/%s", cmd, CACHE_VERSION);
        if (txt && db_obs_put(s.cache, s.icount, s.vmlinux_id, key, a->arg, txt) < 0) {
            /* best effort: the answer is printed anyway */
        }
        free(txt);
    }
    emit(a, o);
    st = 0;
done:
    json_decref(o);
    linux_free(s.L);
    rr_replay_free(s.rp);
    dwarf_free(s.d);
    sym_free(s.syms);
    db_obs_close(s.cache);
    return st;
}
