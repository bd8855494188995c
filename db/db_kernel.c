/*
 * db_kernel.c - what the event index needs to know about the guest kernel,
 * taken from its vmlinux: syscall names (sys_call_table[nr] points at
 * __riscv_sys_NAME; the table is read from the ELF's initial image, so no
 * name is typed by hand), task_struct field offsets from DWARF (pid, tgid,
 * comm, __state or state: never hard-coded offsets) and __switch_to.
 *
 * Task reads go through the guest page table (gva.h) over the board's RAM
 * and validate what they find: an unreadable task gives pid -1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "dwarf.h"
#include "gva.h"
#include "sym.h"

struct db_kernel {
    char **names; /* by syscall number; NULL entries: no symbol */
    size_t nnames;
    uint64_t switch_to, start, pg_dir;
    uint8_t switch_code[8]; /* __switch_to's first bytes in the ELF */
    uint64_t off_pid, off_tgid, off_comm, off_state;
    unsigned size_state;
};

static int kfail(char *err, size_t errlen, int rc, const char *what, const char *why)
{
    if (err && errlen) snprintf(err, errlen, "%s%s%s", what, why ? ": " : "", why ? why : "");
    return rc;
}

static int field(dwarf_types *d, dwarf_type_t t, const char *names, uint64_t *off, unsigned *size,
                 char *err, size_t errlen)
{
    dwarf_member m;
    int rc = dwarf_type_find_member(d, t, names, &m);
    if (rc < 0) return kfail(err, errlen, rc, "vmlinux DWARF", dwarf_last_error(d));
    *off = m.offset;
    if (size) *size = (unsigned)dwarf_type_size(m.type);
    return MC_OK;
}

static const char *strip_prefix(const char *n)
{
    static const char *const pre[] = {"__riscv_sys_", "__riscv_compat_sys_", "__se_sys_", "sys_"};
    for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
        if (!strncmp(n, pre[i], strlen(pre[i]))) return n + strlen(pre[i]);
    return n;
}

int db_kernel_open(db_kernel **out, const char *vmlinux, const char *dwarf_cache, char *err,
                   size_t errlen)
{
    sym_table *st = NULL;
    dwarf_types *d = NULL;
    db_kernel *k = calloc(1, sizeof(*k));
    if (!k) return MC_ENOMEM;
    int rc = sym_open(&st, vmlinux);
    if (rc < 0) {
        kfail(err, errlen, rc, "vmlinux symbols", st ? sym_last_error(st) : mc_strerror(rc));
        goto fail;
    }
    sym_info tab, sw, start, pgd;
    if ((rc = sym_lookup(st, "sys_call_table", &tab)) < 0 || tab.size < 8 ||
        (rc = sym_lookup(st, "__switch_to", &sw)) < 0 ||
        (rc = sym_lookup(st, "_start", &start)) < 0 ||
        (rc = sym_lookup(st, "swapper_pg_dir", &pgd)) < 0) {
        kfail(err, errlen, rc < 0 ? rc : MC_EFORMAT, "vmlinux",
              "no sys_call_table, __switch_to, _start or swapper_pg_dir symbol");
        if (rc >= 0) rc = MC_EFORMAT;
        goto fail;
    }
    k->switch_to = sw.addr;
    if ((rc = sym_read_image(st, sw.addr, k->switch_code, sizeof(k->switch_code))) < 0) {
        kfail(err, errlen, rc, "vmlinux", "cannot read __switch_to's code");
        goto fail;
    }
    k->start = start.addr;
    k->pg_dir = pgd.addr;
    k->nnames = tab.size / 8;
    if (k->nnames > 4096) k->nnames = 4096;
    if (!(k->names = calloc(k->nnames, sizeof(char *)))) {
        rc = MC_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < k->nnames; i++) {
        uint64_t p;
        sym_info si;
        uint64_t off;
        if (sym_read_image(st, tab.addr + 8 * i, &p, 8) < 0) continue;
        if (sym_addr2name(st, p, &si, &off) < 0 || off != 0) continue;
        if (!(k->names[i] = strdup(strip_prefix(si.name)))) {
            rc = MC_ENOMEM;
            goto fail;
        }
    }
    rc = dwarf_open(&d, vmlinux, dwarf_cache);
    if (rc < 0) {
        kfail(err, errlen, rc, "vmlinux DWARF", d ? dwarf_last_error(d) : mc_strerror(rc));
        goto fail;
    }
    dwarf_type_t ts;
    if ((rc = dwarf_type_lookup(d, "struct task_struct", &ts)) < 0) {
        kfail(err, errlen, rc, "vmlinux DWARF", dwarf_last_error(d));
        goto fail;
    }
    if ((rc = field(d, ts, "pid", &k->off_pid, NULL, err, errlen)) < 0 ||
        (rc = field(d, ts, "tgid", &k->off_tgid, NULL, err, errlen)) < 0 ||
        (rc = field(d, ts, "comm", &k->off_comm, NULL, err, errlen)) < 0 ||
        (rc = field(d, ts, "__state|state", &k->off_state, &k->size_state, err, errlen)) < 0)
        goto fail;
    dwarf_free(d);
    sym_free(st);
    *out = k;
    return MC_OK;
fail:
    dwarf_free(d);
    sym_free(st);
    db_kernel_free(k);
    return rc;
}

void db_kernel_free(db_kernel *k)
{
    if (!k) return;
    for (size_t i = 0; i < k->nnames; i++)
        free(k->names[i]);
    free(k->names);
    free(k);
}

const char *db_kernel_syscall_name(const db_kernel *k, uint64_t nr)
{
    return k && nr < k->nnames ? k->names[nr] : NULL;
}

size_t db_kernel_nsyscalls(const db_kernel *k)
{
    return k ? k->nnames : 0;
}

uint64_t db_kernel_switch_to(const db_kernel *k)
{
    return k->switch_to;
}

uint64_t db_kernel_image_pa(const db_kernel *k, uint64_t va, uint64_t load_pa)
{
    return va - k->start + load_pa;
}

uint64_t db_kernel_satp(const db_kernel *k, uint64_t load_pa, uint64_t live_satp)
{
    if (!(live_satp >> 60)) return 0;
    uint64_t pa = db_kernel_image_pa(k, k->pg_dir, load_pa);
    return (live_satp & (0xfull << 60)) | (pa >> 12);
}

bool db_kernel_loaded(const db_kernel *k, board_t *b)
{
    uint64_t pa = db_kernel_image_pa(k, k->switch_to, board_get_layout(b)->kernel_entry);
    const uint8_t *p = bus_ram_ptr(board_bus(b), pa, sizeof(k->switch_code), false);
    return p && !memcmp(p, k->switch_code, sizeof(k->switch_code));
}

static int read_phys(void *ctx, uint64_t pa, void *buf, size_t len)
{
    const uint8_t *p = bus_ram_ptr(board_bus(ctx), pa, len, false);
    if (!p) return MC_EBUSFAULT;
    memcpy(buf, p, len);
    return MC_OK;
}

/* Linux's task state letter as fs/proc/array.c computes it (6.1):
 * TASK_IDLE is 'I', else "RSDTtXZP"[fls(state & TASK_REPORT)]. */
static char state_letter(uint64_t st)
{
    if ((st & 0x402) == 0x402) return 'I';
    st &= 0x7f;
    unsigned i = 0;
    while (st >> i)
        i++;
    return "RSDTtXZP"[i];
}

int db_kernel_task(const db_kernel *k, board_t *b, uint64_t satp, uint64_t va, db_task *out)
{
    out->pid = out->tgid = -1;
    out->comm[0] = 0;
    out->state = '?';
    if (!k || !va || !satp) return MC_ENOENT;
    gva_space sp = {read_phys, b, satp};
    int32_t pid, tgid;
    uint64_t st = 0;
    char comm[16];
    int rc;
    if ((rc = gva_read(&sp, va + k->off_pid, &pid, 4)) < 0 ||
        (rc = gva_read(&sp, va + k->off_tgid, &tgid, 4)) < 0 ||
        (rc = gva_read(&sp, va + k->off_comm, comm, 16)) < 0 ||
        (rc = gva_read(&sp, va + k->off_state, &st, k->size_state <= 8 ? k->size_state : 8)) < 0)
        return rc;
    if (pid < 0 || tgid < 0) return MC_EGUEST;
    comm[15] = 0;
    for (char *c = comm; *c; c++)
        if (*c < 0x20 || *c > 0x7e) return MC_EGUEST;
    out->pid = pid;
    out->tgid = tgid;
    memcpy(out->comm, comm, 16);
    out->comm[16] = 0;
    out->state = state_letter(st);
    return MC_OK;
}
