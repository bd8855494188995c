/*
 * difftest.c - lock-step comparison of machina's hart with QEMU (see
 * difftest.h).
 *
 * Cost model: each packet to QEMU's gdbstub costs a main-loop turn
 * (~30-50 us) and a step several, so a step is `s` + `g` (pc and x
 * registers), and FP registers and CSRs are read (in one pipelined batch)
 * only when the step could have changed them: the instruction is an FP,
 * CSR, system or AMO instruction, it trapped, or machina's own copy of one
 * of them changed. Every full_every steps, and whenever anything differs,
 * everything is read. Machina's side is read for free every step, which is
 * what makes the selective reads sound: a register QEMU changed and
 * machina did not is either named by the instruction (its rd) or caught
 * by the next full comparison.
 */
#define _GNU_SOURCE
#include "difftest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "hart.h"
#include "loader.h"
#include "rsp.h"

#define DT_RAM_BASE  0x80000000ull
#define DT_RAM_SIZE  (128ull << 20)
#define DT_ROM_STEPS 64 /* QEMU's reset ROM is 6 instructions */

static const char *const xname[32] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2",
                                      "s0",   "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
                                      "a6",   "a7", "s2",  "s3",  "s4", "s5", "s6", "s7",
                                      "s8",   "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
static const char *const fname[32] = {"ft0", "ft1", "ft2",  "ft3",  "ft4", "ft5", "ft6",  "ft7",
                                      "fs0", "fs1", "fa0",  "fa1",  "fa2", "fa3", "fa4",  "fa5",
                                      "fa6", "fa7", "fs2",  "fs3",  "fs4", "fs5", "fs6",  "fs7",
                                      "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"};

/* The CSRs compared (mip is not: its timer bits follow QEMU's host clock). */
static const struct {
    const char *name;
    unsigned num;
} csrs[] = {
    {"fcsr", 0x003},       {"mstatus", 0x300},  {"misa", 0x301},     {"medeleg", 0x302},
    {"mideleg", 0x303},    {"mie", 0x304},      {"mtvec", 0x305},    {"mcounteren", 0x306},
    {"menvcfg", 0x30a},    {"mscratch", 0x340}, {"mepc", 0x341},     {"mcause", 0x342},
    {"mtval", 0x343},      {"sstatus", 0x100},  {"sie", 0x104},      {"stvec", 0x105},
    {"scounteren", 0x106}, {"senvcfg", 0x10a},  {"sscratch", 0x140}, {"sepc", 0x141},
    {"scause", 0x142},     {"stval", 0x143},    {"satp", 0x180},
};
#define NCSR (sizeof csrs / sizeof csrs[0])
enum { C_FCSR = 0, C_MSTATUS = 1, C_MEPC = 10, C_MCAUSE = 11, C_SEPC = 19, C_SCAUSE = 20 };

/* Register slots of one comparison: 0..31 f, 32..32+NCSR-1 CSRs, then priv. */
#define S_F    0
#define S_CSR  32
#define S_PRIV (32 + (int)NCSR)
#define NSLOT  (S_PRIV + 1)

/* Stub devices: just enough for bare-metal tests to run; reads are
 * flagged so the loaded value is taken over from QEMU. */
typedef struct stubs {
    bool mmio_read;
    bool finished;
    uint32_t finish_val;
} stubs;

typedef struct dt {
    const difftest_opts *o;
    difftest_report *rep;
    pid_t qemu;
    char dir[64], sock[96];
    rsp_t *rsp;
    bus_t *bus;
    hart_t *hart;
    stubs st;
    int slot_num[NSLOT];  /* QEMU register numbers, -1 = not available */
    bool m_has[NSLOT];    /* machina has the CSR */
    uint64_t mval[NSLOT]; /* machina values after the previous step */
    uint64_t qval[NSLOT];
    bool qok[NSLOT];
    bool ignore[NSLOT];  /* differs already (reported or tolerated) */
    bool amo_bug[NSLOT]; /* mcause/scause differ by the AMO cause bug */
    bool cur_amo;        /* this step is an AMO other than lr */
    bool cur_xret;       /* this step is an mret or sret */
    bool follow_irq;     /* QEMU steps with interrupts on (qemu.sstep=1) */
    int irq_num[3];      /* QEMU regnums of mip, mcause, mepc */
    uint64_t qmip;       /* QEMU's mip as last read */
    uint64_t qmip_after; /* QEMU's mip after the step (when read) */
    bool mprv_bug;       /* QEMU kept mstatus.MPRV over an xRET (qemu_bug) */
    uint64_t qx[33];     /* QEMU x0..x31, pc */
    bool has_tohost;
    uint64_t tohost;
    uint64_t vtime;
    size_t len; /* of rep->text */
} dt;

static void note(dt *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(dt *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (d->len < sizeof d->rep->text) {
        int n = vsnprintf(d->rep->text + d->len, sizeof d->rep->text - d->len, fmt, ap);
        if (n > 0) d->len += (size_t)n;
        if (d->len >= sizeof d->rep->text) d->len = sizeof d->rep->text - 1;
    }
    va_end(ap);
}

/* --- stub devices -------------------------------------------------------- */

static int stub_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
    stubs *s = dev;
    (void)size;
    s->mmio_read = true;
    *val = off == 5 ? 0x60 : 0; /* UART LSR: transmitter empty */
    return MC_OK;
}

static int stub_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    (void)dev, (void)off, (void)size, (void)val;
    return MC_OK;
}

static int finisher_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    stubs *s = dev;
    unsigned kind = val & 0xffff;
    if (off == 0 && (size == 4 || size == 2) &&
        (kind == 0x5555 || kind == 0x3333 || kind == 0x7777)) {
        s->finished = true;
        s->finish_val = (uint32_t)val;
    }
    return MC_OK;
}

static const bus_mmio_ops stub_ops = {stub_read, stub_write};
static const bus_mmio_ops finisher_ops = {stub_read, finisher_write};

static void code_written(void *ctx, uint64_t page_pa)
{
    hart_code_written(ctx, page_pa);
}

/* --- instruction decoding (only what the comparison needs) --------------- */

typedef struct dinsn {
    uint32_t w;
    unsigned len;
    bool known; /* w was read from RAM */
    bool fp;    /* reads or writes FP state */
    int frd;    /* FP register written, -1 */
    int rd;     /* integer register written, -1 */
    bool sys;   /* SYSTEM opcode */
    int csr;    /* CSR named by a Zicsr instruction, -1 */
    bool load;  /* integer load (or AMO) */
    bool store; /* writes memory */
    bool amo;
    bool jump;     /* branch or jump: pc != pc + len is no trap */
    uint64_t addr; /* store address (from machina's registers before) */
    unsigned size;
} dinsn;

static int64_t sext(uint64_t v, unsigned bits)
{
    return (int64_t)(v << (64 - bits)) >> (64 - bits);
}

static void decode(dinsn *di, hart_t *h)
{
    uint32_t w = di->w;
    di->frd = di->rd = di->csr = -1;
    if (!di->known) return;
    if ((w & 3) != 3) {
        unsigned q = w & 3, f3 = (w >> 13) & 7, rdp = 8 + ((w >> 2) & 7), rs1p = 8 + ((w >> 7) & 7);
        unsigned rd = (w >> 7) & 31;
        uint64_t sp = hart_reg(h, 2);
        if (q == 0) {
            uint64_t ud = ((w >> 10) & 7) << 3 | ((w >> 5) & 3) << 6;
            uint64_t uw = ((w >> 10) & 7) << 3 | ((w >> 6) & 1) << 2 | ((w >> 5) & 1) << 6;
            switch (f3) {
            case 0: di->rd = (int)rdp; break;
            case 1:
                di->fp = true;
                di->frd = (int)rdp;
                break;
            case 2:
            case 3:
                di->load = true;
                di->rd = (int)rdp;
                break;
            case 5: di->fp = true; /* fallthrough */
            case 7:
                di->store = true;
                di->size = 8;
                di->addr = hart_reg(h, rs1p) + ud;
                break;
            case 6:
                di->store = true;
                di->size = 4;
                di->addr = hart_reg(h, rs1p) + uw;
                break;
            }
        } else if (q == 1) {
            if (f3 >= 5)
                di->jump = true;
            else
                di->rd = f3 == 4 ? (int)rs1p : (int)rd;
        } else {
            switch (f3) {
            case 1:
                di->fp = true;
                di->frd = (int)rd;
                break;
            case 2:
            case 3:
                di->load = true;
                di->rd = (int)rd;
                break;
            case 4:
                if (((w >> 2) & 31) == 0 && rd != 0)
                    di->jump = true;
                else if (((w >> 2) & 31) == 0)
                    di->sys = true; /* c.ebreak */
                else
                    di->rd = (int)rd;
                break;
            case 5: di->fp = true; /* fallthrough */
            case 7:
                di->store = true;
                di->size = 8;
                di->addr = sp + (((w >> 10) & 7) << 3 | ((w >> 7) & 7) << 6);
                break;
            case 6:
                di->store = true;
                di->size = 4;
                di->addr = sp + (((w >> 9) & 15) << 2 | ((w >> 7) & 3) << 6);
                break;
            default: di->rd = (int)rd; break;
            }
        }
        return;
    }
    unsigned opc = w & 0x7f, rd = (w >> 7) & 31, f3 = (w >> 12) & 7, rs1 = (w >> 15) & 31;
    unsigned f7 = w >> 25;
    uint64_t base = hart_reg(h, rs1);
    switch (opc) {
    case 0x03:
        di->load = true;
        di->rd = (int)rd;
        break;
    case 0x07:
        di->fp = true;
        di->frd = (int)rd;
        break;
    case 0x27: di->fp = true; /* fallthrough */
    case 0x23:
        di->store = true;
        di->size = 1u << (f3 & 3);
        di->addr = base + (uint64_t)sext((w >> 25) << 5 | ((w >> 7) & 31), 12);
        break;
    case 0x2f:
        di->amo = di->load = true;
        di->rd = (int)rd;
        di->store = (w >> 27) != 2; /* all but lr */
        di->size = f3 == 3 ? 8 : 4;
        di->addr = base;
        break;
    case 0x43:
    case 0x47:
    case 0x4b:
    case 0x4f:
        di->fp = true;
        di->frd = (int)rd;
        break;
    case 0x53:
        di->fp = true;
        if ((f7 >> 2) == 0x14 || (f7 >> 2) == 0x18 || (f7 >> 2) == 0x1c)
            di->rd = (int)rd; /* compares, fcvt to int, fmv.x, fclass */
        else
            di->frd = (int)rd;
        break;
    case 0x63:
    case 0x67:
    case 0x6f:
        di->jump = true;
        di->rd = (int)rd;
        break;
    case 0x73:
        di->sys = true;
        if (f3 != 0 && f3 != 4) {
            di->csr = (int)(w >> 20);
            di->rd = (int)rd;
        }
        break;
    default: di->rd = (int)rd; break;
    }
}

static bool csr_nondet(int csr)
{
    return (csr >= 0xb00 && csr <= 0xb02) || (csr >= 0xc00 && csr <= 0xc02);
}

/* --- QEMU process -------------------------------------------------------- */

static int start_qemu(dt *d, const char *elf)
{
    snprintf(d->dir, sizeof d->dir, "/tmp/machina-difftest-XXXXXX");
    if (!mkdtemp(d->dir)) {
        d->dir[0] = 0;
        note(d, "difftest: mkdtemp: %s\n", strerror(errno));
        return MC_EIO;
    }
    snprintf(d->sock, sizeof d->sock, "%s/gdb.sock", d->dir);
    char gdbarg[160];
    snprintf(gdbarg, sizeof gdbarg, "unix:%s,server=on,wait=off", d->sock);
    const char *qemu = d->o->qemu ? d->o->qemu : "qemu-system-riscv64";
    pid_t pid = fork();
    if (pid < 0) {
        note(d, "difftest: fork: %s\n", strerror(errno));
        return MC_EIO;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 1);
            dup2(nul, 2);
        }
        execlp(qemu, qemu, "-machine", "virt", "-cpu",
               "rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false", "-bios", "none", "-m",
               "128M", "-kernel", elf, "-display", "none", "-serial", "none", "-monitor", "none",
               "-parallel", "none", "-S", "-gdb", gdbarg, (char *)NULL);
        _exit(127);
    }
    d->qemu = pid;
    int rc = rsp_connect(&d->rsp, d->sock, 10000);
    if (rc < 0) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            d->qemu = 0;
            note(d,
                 "difftest: %s exited (status %d) before its gdbstub answered; "
                 "is QEMU installed (Debian qemu-system-misc)?\n",
                 qemu, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        } else {
            note(d, "difftest: cannot talk to QEMU's gdbstub at %s: %s\n", d->sock,
                 mc_strerror(rc));
        }
    }
    return rc;
}

static void stop_qemu(dt *d)
{
    if (d->rsp) {
        rsp_kill(d->rsp);
        rsp_free(d->rsp);
        d->rsp = NULL;
    }
    if (d->qemu > 0) {
        int st;
        for (int i = 0; i < 100 && waitpid(d->qemu, &st, WNOHANG) == 0; i++) {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
            if (i == 50) kill(d->qemu, SIGKILL);
        }
        if (waitpid(d->qemu, &st, WNOHANG) == 0) {
            kill(d->qemu, SIGKILL);
            waitpid(d->qemu, &st, 0);
        }
        d->qemu = 0;
    }
    if (d->sock[0]) unlink(d->sock);
    if (d->dir[0]) rmdir(d->dir);
}

/* --- register access ----------------------------------------------------- */

static void resolve_regs(dt *d)
{
    int mst = rsp_regnum(d->rsp, "mstatus");
    int csr_base = mst >= 0 ? mst - 0x300 : -1;
    for (int i = 0; i < 32; i++)
        d->slot_num[S_F + i] = rsp_regnum(d->rsp, fname[i]);
    for (size_t i = 0; i < NCSR; i++) {
        int n = rsp_regnum(d->rsp, csrs[i].name);
        /* QEMU lists in its XML only the CSRs visible when it was made:
         * fcsr is missing while mstatus.FS is off; its number follows. */
        if (n < 0 && csr_base >= 0) n = csr_base + (int)csrs[i].num;
        d->slot_num[S_CSR + i] = n;
        uint64_t v;
        d->m_has[S_CSR + i] = hart_csr(d->hart, csrs[i].num, &v) == MC_OK;
    }
    d->slot_num[S_PRIV] = rsp_regnum(d->rsp, "priv");
    for (int i = 0; i < 32; i++)
        d->m_has[S_F + i] = true;
    d->m_has[S_PRIV] = true;
}

static uint64_t machina_slot(dt *d, int s)
{
    uint64_t v = 0;
    if (s < S_CSR) return hart_freg(d->hart, (unsigned)(s - S_F));
    if (s == S_PRIV) return hart_priv(d->hart);
    if (hart_csr(d->hart, csrs[s - S_CSR].num, &v) < 0) return 0;
    return v;
}

static const char *slot_name(int s)
{
    if (s < S_CSR) return fname[s - S_F];
    if (s == S_PRIV) return "priv";
    return csrs[s - S_CSR].name;
}

/* Reads the QEMU side of the slots flagged in want. */
static int read_slots(dt *d, const bool *want)
{
    int nums[NSLOT], idx[NSLOT];
    uint64_t vals[NSLOT];
    bool ok[NSLOT];
    unsigned n = 0;
    for (int s = 0; s < NSLOT; s++) {
        d->qok[s] = false;
        if (want[s] && d->slot_num[s] >= 0) {
            nums[n] = d->slot_num[s];
            idx[n++] = s;
        }
    }
    int rc = rsp_read_regs(d->rsp, nums, n, vals, ok);
    if (rc < 0) return rc;
    for (unsigned i = 0; i < n; i++) {
        d->qval[idx[i]] = vals[i];
        d->qok[idx[i]] = ok[i];
    }
    return MC_OK;
}

/* --- reporting ----------------------------------------------------------- */

static bool quirk_csr(unsigned csr, uint64_t m, uint64_t q);

static void disasm(uint64_t pc, uint32_t w, unsigned len, char *out, size_t cap)
{
    out[0] = 0;
    char path[] = "/tmp/machina-dis-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return;
    uint8_t b[4] = {(uint8_t)w, (uint8_t)(w >> 8), (uint8_t)(w >> 16), (uint8_t)(w >> 24)};
    bool ok = write(fd, b, len) == (ssize_t)len;
    close(fd);
    if (ok) {
        char cmd[256];
        snprintf(cmd, sizeof cmd,
                 "riscv64-linux-gnu-objdump -D -b binary -m riscv:rv64 --adjust-vma=0x%llx %s "
                 "2>/dev/null | grep -m1 '^ *%llx:'",
                 (unsigned long long)pc, path, (unsigned long long)pc);
        FILE *p = popen(cmd, "r");
        if (p) {
            char line[256];
            if (fgets(line, sizeof line, p)) {
                /* "   80000000:	00002197          	auipc	gp,0x2" -> last field(s) */
                char *t = strchr(line, '\t');
                t = t ? strchr(t + 1, '\t') : NULL;
                if (t) {
                    t[strcspn(t, "\n")] = 0;
                    for (char *c = t; *c; c++)
                        if (*c == '\t') *c = ' ';
                    snprintf(out, cap, "%s", t + 1);
                }
            }
            pclose(p);
        }
    }
    unlink(path);
}

static void report_insn(dt *d, uint64_t step, uint64_t pc0, const dinsn *di)
{
    char dis[128] = "";
    if (di->known) disasm(pc0, di->w, di->len, dis, sizeof dis);
    note(d, "difftest: MISMATCH after step %llu: pc 0x%llx insn 0x%0*x %s\n",
         (unsigned long long)step, (unsigned long long)pc0, di->len == 2 ? 4 : 8, di->w,
         di->known ? dis : "(not in RAM)");
}

/* Full comparison for the report: every register, both sides. */
static void report_all(dt *d)
{
    bool want[NSLOT];
    for (int s = 0; s < NSLOT; s++)
        want[s] = true;
    if (read_slots(d, want) < 0) note(d, "  (QEMU stopped answering: FP/CSR values unavailable)\n");
    if (hart_pc(d->hart) != d->qx[32])
        note(d, "  %-10s machina 0x%016llx  qemu 0x%016llx\n", "pc",
             (unsigned long long)hart_pc(d->hart), (unsigned long long)d->qx[32]);
    for (unsigned i = 1; i < 32; i++)
        if (hart_reg(d->hart, i) != d->qx[i])
            note(d, "  %-10s machina 0x%016llx  qemu 0x%016llx\n", xname[i],
                 (unsigned long long)hart_reg(d->hart, i), (unsigned long long)d->qx[i]);
    for (int s = 0; s < NSLOT; s++) {
        if (!d->qok[s] || !d->m_has[s] || d->ignore[s]) continue;
        uint64_t m = machina_slot(d, s);
        if (m != d->qval[s] && (!d->o->tolerate_quirks || s < S_CSR || s == S_PRIV ||
                                !quirk_csr(csrs[s - S_CSR].num, m, d->qval[s])))
            note(d, "  %-10s machina 0x%016llx  qemu 0x%016llx\n", slot_name(s),
                 (unsigned long long)m, (unsigned long long)d->qval[s]);
    }
}

/* --- the run ------------------------------------------------------------- */

static int setup_machina(dt *d, const char *elf)
{
    uint8_t *img = NULL;
    size_t size = 0;
    char err[LOADER_ERRLEN] = "";
    loader_info info;
    int rc;
    if ((rc = bus_new(&d->bus)) < 0 || (rc = bus_add_ram(d->bus, DT_RAM_BASE, DT_RAM_SIZE)) < 0 ||
        (rc = bus_add_mmio(d->bus, "test", 0x100000, 0x1000, &finisher_ops, &d->st)) < 0 ||
        (rc = bus_add_mmio(d->bus, "clint", 0x2000000, 0x10000, &stub_ops, &d->st)) < 0 ||
        (rc = bus_add_mmio(d->bus, "plic", 0xc000000, 0x600000, &stub_ops, &d->st)) < 0 ||
        (rc = bus_add_mmio(d->bus, "uart", 0x10000000, 0x1000, &stub_ops, &d->st)) < 0) {
        note(d, "difftest: bus setup: %s\n", mc_strerror(rc));
        return rc;
    }
    if ((rc = loader_read_file(elf, &img, &size)) < 0) {
        note(d, "difftest: cannot read %s: %s\n", elf, strerror(errno));
        return rc;
    }
    rc = loader_load_elf(d->bus, img, size, &info, err, sizeof err);
    free(img);
    if (rc < 0) {
        note(d, "difftest: %s: %s (%s)\n", elf, mc_strerror(rc), err);
        return rc;
    }
    d->has_tohost = info.has_tohost;
    d->tohost = info.tohost;
    hart_config cfg = {.hartid = 0, .ext = HART_EXT_DEFAULT, .reset_pc = info.entry};
    if ((rc = hart_new(&d->hart, d->bus, &cfg)) < 0) {
        note(d, "difftest: hart_new: %s\n", mc_strerror(rc));
        return rc;
    }
    bus_set_code_listener(d->bus, code_written, d->hart);
    hart_set_pc(d->hart, info.entry);
    return MC_OK;
}

/* Steps QEMU through its reset ROM until it leaves it, then gives machina
 * QEMU's pc, integer registers and FDT. QEMU 7.2 with -bios none jumps to
 * the start of RAM, not to the ELF entry (that only goes to
 * fw_dynamic_info.next_addr): the two differ for an ELF whose entry is not
 * 0x80000000, and then machina starts where QEMU does. */
static int sync_start(dt *d)
{
    int rc;
    uint64_t entry = hart_pc(d->hart);
    for (int i = 0;; i++) {
        if ((rc = rsp_read_core(d->rsp, d->qx)) < 0) return rc;
        if (d->qx[32] < 0x1000 || d->qx[32] >= 0x10000) break;
        rsp_stop why;
        if (i == DT_ROM_STEPS || (rc = rsp_step(d->rsp, &why)) < 0 || why != RSP_STOP_SIGNAL) {
            note(d, "difftest: QEMU did not leave its reset ROM (pc 0x%llx)\n",
                 (unsigned long long)d->qx[32]);
            return rc < 0 ? rc : MC_ESTATE;
        }
    }
    if (d->qx[32] != entry && d->o->verbose)
        fprintf(stderr, "difftest: QEMU starts at 0x%llx, not at the ELF entry 0x%llx\n",
                (unsigned long long)d->qx[32], (unsigned long long)entry);
    hart_set_pc(d->hart, d->qx[32]);
    for (unsigned i = 1; i < 32; i++)
        hart_set_reg(d->hart, i, d->qx[i]);
    uint64_t fdt = d->qx[11];
    uint8_t hdr[8];
    if (fdt >= DT_RAM_BASE && rsp_read_mem(d->rsp, fdt, hdr, 8) == MC_OK && hdr[0] == 0xd0 &&
        hdr[1] == 0x0d && hdr[2] == 0xfe && hdr[3] == 0xed) {
        uint32_t sz = (uint32_t)hdr[4] << 24 | hdr[5] << 16 | hdr[6] << 8 | hdr[7];
        uint8_t *p = sz <= (1u << 20) ? bus_ram_ptr(d->bus, fdt, sz, true) : NULL;
        if (p && rsp_read_mem(d->rsp, fdt, p, sz) == MC_OK)
            bus_note_write(d->bus, fdt, sz);
        else if (d->o->verbose)
            fprintf(stderr, "difftest: FDT at 0x%llx not copied\n", (unsigned long long)fdt);
    }
    return MC_OK;
}

static bool differs_core(dt *d)
{
    if (hart_pc(d->hart) != d->qx[32]) return true;
    for (unsigned i = 1; i < 32; i++)
        if (hart_reg(d->hart, i) != d->qx[i]) return true;
    return false;
}

/* Compares the slots read; true when one differs. */
/*
 * Known deviations of QEMU 7.2 from the privileged spec (1.12). machina
 * mirrors them (DESIGN.md: behave as QEMU's virt), so they are differences
 * only if the hart is changed to follow the spec; opts.tolerate_quirks
 * accepts them:
 *  - mepc/sepc keep bit 0 written by csrw (spec: mepc[0] is always 0);
 *  - mcounteren/scounteren keep 64 bits (spec: 32-bit registers);
 *  - mie, mideleg (and so sie) have VSSIP/VSTIP/VSEIP (bits 2, 6, 10) and
 *    LCOFIP (bit 13) writable with H and Sscofpmf off (spec: read-only 0).
 * Returns true when machina's value m equals QEMU's q up to such a quirk.
 */
static bool quirk_csr(unsigned csr, uint64_t m, uint64_t q)
{
    switch (csr) {
    case 0x341:
    case 0x141: return (q & ~1ull) == m;
    case 0x306:
    case 0x106: return (q & 0xffffffffull) == m;
    case 0x304:
    case 0x303:
    case 0x104: return (q & ~0x2444ull) == m;
    default: return false;
    }
}

static bool qemu_quirk(dt *d, int s, uint64_t m, uint64_t q)
{
    if (!d->o->tolerate_quirks || s < S_CSR || s == S_PRIV || !quirk_csr(csrs[s - S_CSR].num, m, q))
        return false;
    d->rep->quirks++;
    return true;
}

/*
 * QEMU 7.2 bugs, tolerated unless opts.strict: an AMO (not lr; sc only for
 * misalignment) that faults raises the LOAD flavour of the cause in QEMU,
 * because its single-threaded TCG expands an AMO into a load then a store
 * and the load faults first; the spec (unprivileged 8.4, privileged 3.7)
 * says store/AMO, and machina follows the spec. Exactly these pairs
 * (machina, QEMU): 6/4 misaligned, 7/5 access fault, 15/13 page fault,
 * on an AMO step only. Software sees no difference that matters: Linux
 * and OpenSBI handle both causes the same way for AMOs. The cause CSR
 * stays ignored until both agree again, and a csrr of it takes QEMU's
 * value.
 */
static bool amo_cause_pair(uint64_t m, uint64_t q)
{
    return (m == 6 && q == 4) || (m == 7 && q == 5) || (m == 15 && q == 13);
}

static bool qemu_bug(dt *d, int s, uint64_t m, uint64_t q)
{
    if (d->o->strict || !d->cur_amo || !amo_cause_pair(m, q) ||
        (s != S_CSR + C_MCAUSE && s != S_CSR + C_SCAUSE))
        return false;
    d->rep->quirks++;
    d->amo_bug[s] = d->ignore[s] = true;
    return true;
}

/*
 * QEMU 7.2 bug, tolerated unless opts.strict: an mret or sret that leaves
 * M-mode keeps mstatus.MPRV; privileged spec 1.12 (3.1.6.3) clears it, as
 * machina does (QEMU clears it from 8.0 on). MPRV has no effect outside
 * M-mode and OpenSBI/Linux never return with it set, so only software that
 * reads it back can tell. From such an xRET until QEMU's MPRV is clear
 * again, mstatus is compared without MPRV and a csrr of mstatus that differs
 * in MPRV alone takes QEMU's value.
 */
#define MSTATUS_MPRV (1ull << 17)

static bool mprv_bug(dt *d, int s, uint64_t m, uint64_t q)
{
    if (s != S_CSR + C_MSTATUS || d->o->strict || (m ^ q) != MSTATUS_MPRV || !(q & MSTATUS_MPRV))
        return false;
    if (!d->mprv_bug && !(d->cur_xret && hart_priv(d->hart) != 3)) return false;
    if (!d->mprv_bug) d->rep->quirks++;
    d->mprv_bug = true;
    return true;
}

static bool differs_slots(dt *d)
{
    bool any = false;
    for (int s = 0; s < NSLOT; s++) {
        if (!d->qok[s] || !d->m_has[s]) continue;
        uint64_t m = machina_slot(d, s), q = d->qval[s];
        if (s == S_CSR + C_MSTATUS && !(q & MSTATUS_MPRV)) d->mprv_bug = false;
        if (mprv_bug(d, s, m, q)) continue;
        if (m == q)
            d->ignore[s] = d->amo_bug[s] = false;
        else if (!d->ignore[s] && !qemu_quirk(d, s, m, q) && !qemu_bug(d, s, m, q))
            any = true;
    }
    return any;
}

/* keep_going: prints the report so far and makes machina agree with QEMU
 * where it can (x, f, the store's bytes); CSRs cannot be set through
 * hart.h, so they are ignored until they agree again. */
static void resync(dt *d, const uint8_t *qmem, uint64_t addr, unsigned size)
{
    d->rep->mismatches++;
    fputs(d->rep->text, stdout);
    fflush(stdout);
    d->len = 0;
    d->rep->text[0] = 0;
    hart_set_pc(d->hart, d->qx[32]);
    for (unsigned i = 1; i < 32; i++)
        hart_set_reg(d->hart, i, d->qx[i]);
    for (int s = 0; s < NSLOT; s++) {
        if (!d->qok[s] || !d->m_has[s] || machina_slot(d, s) == d->qval[s]) continue;
        if (s < S_CSR)
            hart_set_freg(d->hart, (unsigned)(s - S_F), d->qval[s]);
        else
            d->ignore[s] = true;
    }
    uint8_t *p = qmem ? bus_ram_ptr(d->bus, addr, size, true) : NULL;
    if (p) {
        memcpy(p, qmem, size);
        bus_note_write(d->bus, addr, size);
    }
    for (int s = 0; s < NSLOT; s++)
        d->mval[s] = d->m_has[s] ? machina_slot(d, s) : 0;
}

static uint64_t tohost_value(dt *d)
{
    const uint8_t *p = d->has_tohost ? bus_ram_ptr(d->bus, d->tohost, 8, false) : NULL;
    uint64_t v = 0;
    if (p) memcpy(&v, p, 8);
    return v;
}

/* Reads the instruction at pc0 from machina's RAM and decodes it; a pc
 * that is no physical RAM address (a translated one, e.g. a U page) is
 * read through QEMU's gdbstub, which translates it with QEMU's current
 * satp (both sides hold the same memory until a mismatch is reported). */
static void fetch_insn(dt *d, uint64_t pc0, dinsn *di)
{
    const uint8_t *ip = bus_ram_ptr(d->bus, pc0, 2, false);
    uint8_t vb[4];
    if (!ip && rsp_read_mem(d->rsp, pc0, vb, 2) == MC_OK) {
        di->w = (uint32_t)vb[0] | (uint32_t)vb[1] << 8;
        di->len = 2;
        if ((di->w & 3) != 3) {
            di->known = true;
        } else {
            di->len = 4;
            if (rsp_read_mem(d->rsp, pc0 + 2, vb + 2, 2) == MC_OK) {
                di->w |= (uint32_t)vb[2] << 16 | (uint32_t)vb[3] << 24;
                di->known = true;
            }
        }
    } else if (ip) {
        di->w = (uint32_t)ip[0] | (uint32_t)ip[1] << 8;
        di->len = 2;
        di->known = true;
        if ((di->w & 3) == 3) {
            const uint8_t *ip4 = bus_ram_ptr(d->bus, pc0, 4, false);
            di->len = 4;
            if (ip4)
                di->w |= (uint32_t)ip4[2] << 16 | (uint32_t)ip4[3] << 24;
            else
                di->known = false;
        }
    }
    decode(di, d->hart);
    d->cur_amo = di->amo && (di->w >> 27) != 2;
    d->cur_xret = di->known && (di->w == 0x30200073 || di->w == 0x10200073);
}

static bool sstc_on(dt *d)
{
    uint64_t env = 0;
    return hart_csr(d->hart, 0x30a, &env) == MC_OK && (env >> 63);
}

/* Takes QEMU's value for a register no program controls: a load from MMIO
 * (machina has stubs), a read of time/cycle/instret; and the reads of
 * CSRs that differ by a tolerated QEMU bug or quirk. */
static void sync_uncontrolled(dt *d, const dinsn *di, bool trapped, uint64_t step, uint64_t pc0)
{
    hart_t *h = d->hart;
    if (trapped || di->rd <= 0 || hart_reg(h, (unsigned)di->rd) == d->qx[di->rd]) return;
    unsigned rd = (unsigned)di->rd;
    uint64_t m = hart_reg(h, rd), q = d->qx[rd];
    if ((d->st.mmio_read && di->load) || (di->csr >= 0 && csr_nondet(di->csr))) {
        d->rep->synced++;
        if (d->o->verbose)
            fprintf(stderr, "difftest: step %llu: took %s = 0x%llx from QEMU (pc 0x%llx)\n",
                    (unsigned long long)step, xname[rd], (unsigned long long)q,
                    (unsigned long long)pc0);
    } else if ((di->csr == 0x342 || di->csr == 0x142) &&
               d->amo_bug[S_CSR + (di->csr == 0x342 ? C_MCAUSE : C_SCAUSE)] &&
               amo_cause_pair(m, q)) {
        d->rep->quirks++; /* read of the AMO cause bug */
    } else if ((di->csr == 0x344 || di->csr == 0x144) && (m ^ q) == (1u << 5) && sstc_on(d)) {
        d->rep->synced++; /* STIP from Sstc follows QEMU's clock */
    } else if (di->csr == 0x300 && d->mprv_bug && (m ^ q) == MSTATUS_MPRV) {
        d->rep->quirks++; /* read of the MPRV-over-xRET bug */
    } else if (di->csr >= 0 && d->o->tolerate_quirks && quirk_csr((unsigned)di->csr, m, q)) {
        d->rep->quirks++; /* read of a quirky CSR */
    } else {
        return;
    }
    hart_set_reg(h, rd, q);
}

/* Which FP registers and CSRs to read from QEMU after this step; mnow gets
 * machina's values. */
static void choose_reads(dt *d, const dinsn *di, uint64_t step, bool trapped, bool *want,
                         uint64_t *mnow)
{
    unsigned every = d->o->full_every ? d->o->full_every : 64;
    bool full = step % every == 0;
    for (int s = 0; s < NSLOT; s++) {
        mnow[s] = d->m_has[s] ? machina_slot(d, s) : 0;
        want[s] = full || mnow[s] != d->mval[s];
    }
    if (di->frd >= 0) want[S_F + di->frd] = true;
    if (di->fp) want[S_CSR + C_FCSR] = want[S_CSR + C_MSTATUS] = true;
    if (di->csr >= 0 || di->sys || trapped || !di->known) {
        want[S_CSR + C_MSTATUS] = want[S_CSR + C_MEPC] = want[S_CSR + C_MCAUSE] = true;
        want[S_CSR + C_MCAUSE + 1] = want[S_PRIV] = true; /* mtval */
        want[S_CSR + C_SEPC] = want[S_CSR + C_SCAUSE] = want[S_CSR + C_SCAUSE + 1] = true;
        for (size_t i = 0; i < NCSR; i++)
            if (di->csr >= 0 && (csrs[i].num == (unsigned)di->csr || csrs[i].num <= 3))
                want[S_CSR + i] = true;
    }
}

/* Compares the bytes a store wrote (none when machina trapped); on a
 * difference notes it and leaves QEMU's bytes in qb. The address is the
 * virtual one: QEMU's gdbstub translates it, machina's side is read as
 * physical, which is right for M-mode and rvgen's identity mappings. */
static bool store_differs(dt *d, const dinsn *di, bool trapped, bool reported, uint64_t step,
                          uint64_t pc0, uint8_t qb[8])
{
    if (!di->store || trapped || di->size > 8) return false;
    const uint8_t *mp = bus_ram_ptr(d->bus, di->addr, di->size, false);
    if (!mp || rsp_read_mem(d->rsp, di->addr, qb, di->size) != MC_OK ||
        memcmp(mp, qb, di->size) == 0)
        return false;
    uint64_t mv = 0, qv = 0;
    memcpy(&mv, mp, di->size);
    memcpy(&qv, qb, di->size);
    if (!reported) report_insn(d, step, pc0, di);
    note(d, "  memory at 0x%llx (%u bytes): machina 0x%llx  qemu 0x%llx\n",
         (unsigned long long)di->addr, di->size, (unsigned long long)mv, (unsigned long long)qv);
    return true;
}

/* The end of the program: end_pc, or tohost written (compared with
 * QEMU's). Returns 1 to go on, 0 at the end, MC_EDIVERGE. */
static int check_end(dt *d, uint64_t step, uint64_t pc0, const dinsn *di)
{
    if (d->o->end_pc && hart_pc(d->hart) == d->o->end_pc) return 0;
    uint64_t th = tohost_value(d), qth = 0;
    if (!th) return 1;
    if (rsp_read_mem(d->rsp, d->tohost, &qth, 8) == MC_OK && qth != th) {
        report_insn(d, step, pc0, di);
        note(d, "  tohost: machina 0x%llx  qemu 0x%llx\n", (unsigned long long)th,
             (unsigned long long)qth);
        return MC_EDIVERGE;
    }
    d->rep->tohost = th;
    return 0;
}

/*
 * Interrupts. The device interrupt lines (MSIP, MTIP, MEIP) are inputs no
 * program controls step by step: QEMU's CLINT runs on QEMU's virtual clock,
 * machina has stubs. So QEMU steps with interrupts and timers enabled
 * (gdbstub `Qqemu.sstep=1`; by default its single-step masks them) and
 * machina's lines follow QEMU's mip: read just before the step (when an
 * enabled line, a SYSTEM instruction or a wfi makes it matter) and given
 * to machina with hart_set_irq. A line can still rise inside QEMU's step
 * (a timer expiring while the step runs) and be taken at once: QEMU is
 * stepped first, and when its mcause/mepc show an interrupt taken at this
 * pc, machina gets QEMU's lines after the step before it steps. Machina
 * then takes the same interrupt by its own priority and delegation rules,
 * and everything is compared as usual. Sstc's STIP follows each side's
 * own time (machina's is virtual); a csrr of mip/sip that differs in STIP
 * alone while menvcfg.STCE is set takes QEMU's value, as rdtime does.
 */
#define DEV_LINES 0x888ull /* MSIP | MTIP | MEIP */

static void set_lines(dt *d, uint64_t mip)
{
    static const unsigned irqs[] = {HART_IRQ_MSIP, HART_IRQ_MTIP, HART_IRQ_MEIP};
    for (unsigned i = 0; i < 3; i++)
        hart_set_irq(d->hart, irqs[i], (int)((mip >> irqs[i]) & 1));
}

/* Reads QEMU's mip (and mcause, mepc when n == 3) into v. */
static int read_irq_regs(dt *d, unsigned n, uint64_t v[3])
{
    bool ok[3];
    int rc = rsp_read_regs(d->rsp, d->irq_num, n, v, ok);
    if (rc < 0) return rc;
    for (unsigned i = 0; i < n; i++)
        if (!ok[i]) return MC_EFORMAT;
    d->qmip = v[0];
    return MC_OK;
}

/* Steps QEMU then machina with QEMU's interrupt lines (follow_irq). */
static int step_follow(dt *d, uint64_t pc0, const dinsn *di, rsp_stop *why)
{
    hart_t *h = d->hart;
    uint64_t mie = 0, v[3];
    if (hart_csr(h, 0x304, &mie) < 0) mie = 0;
    bool enabled = (mie & DEV_LINES) != 0;
    bool waiting = hart_is_waiting(h);
    int rc;
    if ((enabled || di->sys || !di->known) && (rc = read_irq_regs(d, 1, v)) < 0) return rc;
    uint64_t lines = d->qmip;
    if ((rc = rsp_step(d->rsp, why)) < 0 || *why != RSP_STOP_SIGNAL) return rc;
    if ((rc = rsp_read_core(d->rsp, d->qx)) < 0) return rc;
    bool wfi = di->known && di->w == 0x10500073;
    if (enabled || waiting || wfi) {
        if ((rc = read_irq_regs(d, 3, v)) < 0) return rc;
        d->qmip_after = v[0];
        bool took = (v[1] >> 63) && v[2] == pc0 && d->qx[32] != pc0 + di->len;
        if (took || waiting) lines = v[0]; /* the line that interrupted or woke QEMU */
    }
    set_lines(d, lines);
    return MC_OK;
}

/* Steps machina, then QEMU (or the other way round when following QEMU's
 * interrupts); 1 to go on, 0 when both finished through the test finisher,
 * MC_EDIVERGE or another code otherwise. */
static int step_both(dt *d, uint64_t step, uint64_t pc0, const dinsn *di)
{
    hart_t *h = d->hart;
    d->st.mmio_read = false;
    bool fin_before = d->st.finished;
    rsp_stop why = RSP_STOP_SIGNAL;
    int rc;
    if (d->follow_irq && (rc = step_follow(d, pc0, di, &why)) < 0) {
        report_insn(d, step, pc0, di);
        note(d, "  QEMU did not complete the step: %s\n", mc_strerror(rc));
        return MC_EDIVERGE;
    }
    uint64_t done = hart_run(h, 1, d->vtime);
    d->vtime += HART_NS_PER_STEP;
    if (done != 1) {
        note(d, "difftest: machina did not execute step %llu at pc 0x%llx (waiting in WFI?)\n",
             (unsigned long long)step, (unsigned long long)pc0);
        return MC_ESTATE;
    }
    /* QEMU's step over a wfi that waits goes on, once woken, to the next
     * instruction or the interrupt entry: machina does that as a second
     * step, with the line that woke QEMU. */
    if (d->follow_irq && di->known && di->w == 0x10500073 && hart_pc(h) == pc0 + 4 &&
        d->qx[32] != pc0 + 4) {
        set_lines(d, d->qmip_after);
        done = hart_run(h, 1, d->vtime);
        d->vtime += HART_NS_PER_STEP;
        if (done != 1) {
            note(d,
                 "difftest: machina did not wake from wfi at step %llu (pc 0x%llx) when QEMU did\n",
                 (unsigned long long)step, (unsigned long long)pc0);
            return MC_ESTATE;
        }
    }
    if (d->o->inject_at == step) hart_set_reg(h, 31, hart_reg(h, 31) ^ 1);
    if (!d->follow_irq && (rc = rsp_step(d->rsp, &why)) < 0) {
        report_insn(d, step, pc0, di);
        note(d, "  QEMU did not complete the step: %s\n", mc_strerror(rc));
        return MC_EDIVERGE;
    }
    bool m_fin = d->st.finished && !fin_before;
    if (why == RSP_STOP_EXITED || m_fin) {
        if (why == RSP_STOP_EXITED && m_fin) return 0;
        report_insn(d, step, pc0, di);
        note(d, "  %s wrote the test finisher (0x%x), %s did not\n", m_fin ? "machina" : "QEMU",
             m_fin ? d->st.finish_val : 0, m_fin ? "QEMU" : "machina");
        return MC_EDIVERGE;
    }
    if (!d->follow_irq && (rc = rsp_read_core(d->rsp, d->qx)) < 0) {
        note(d, "difftest: reading QEMU registers: %s\n", mc_strerror(rc));
        return rc;
    }
    return 1;
}

/* Whether QEMU's step over a wfi comes back: it traps (TW, U-mode), an
 * interrupt is pending and enabled already, or a device line that QEMU's
 * clock can raise is enabled (the program is waiting for its timer or
 * software interrupt; if it never comes, rsp_step times out). */
static bool wfi_returns(dt *d)
{
    uint64_t mie = 0, mip = 0, ms = 0;
    unsigned priv = hart_priv(d->hart);
    if (hart_csr(d->hart, 0x304, &mie) < 0 || hart_csr(d->hart, 0x344, &mip) < 0 ||
        hart_csr(d->hart, 0x300, &ms) < 0)
        return false;
    if (priv == HART_PRIV_U || (priv == HART_PRIV_S && (ms & (1ull << 21)))) return true;
    return (mie & (DEV_LINES | mip)) != 0;
}

/* One lock-step; returns 1 to go on, 0 when the run ended cleanly,
 * MC_EDIVERGE on a mismatch, another code on a failure. */
static int one_step(dt *d, uint64_t step)
{
    hart_t *h = d->hart;
    uint64_t pc0 = hart_pc(h);
    dinsn di = {0};
    fetch_insn(d, pc0, &di);
    if (d->o->trace)
        fprintf(stderr, "difftest: step %llu pc 0x%llx insn 0x%0*x\n", (unsigned long long)step,
                (unsigned long long)pc0, di.len == 2 ? 4 : 8, di.w);

    /* WFI waits for an interrupt: QEMU's single-step masks them (and
     * machina's stub devices never raise one), so comparison ends here. */
    if (di.known && di.w == 0x10500073 && !(d->follow_irq && wfi_returns(d))) {
        d->rep->interrupted = true;
        note(d,
             "difftest: stopped at step %llu: wfi at pc 0x%llx (interrupts cannot be "
             "compared under QEMU's single-step)\n",
             (unsigned long long)step, (unsigned long long)pc0);
        return 0;
    }
    int rc = step_both(d, step, pc0, &di);
    if (rc != 1) return rc;

    bool trapped = !di.jump && hart_pc(h) != pc0 + di.len;
    sync_uncontrolled(d, &di, trapped, step, pc0);
    bool want[NSLOT];
    uint64_t mnow[NSLOT];
    choose_reads(d, &di, step, trapped, want, mnow);

    /* Machina took an interrupt: QEMU's single-step never does unless it
     * steps with interrupts on. */
    uint64_t mcause = mnow[S_CSR + C_MCAUSE], scause = mnow[S_CSR + C_SCAUSE];
    if (!d->follow_irq && (trapped || di.jump) &&
        (((mcause >> 63) && mnow[S_CSR + C_MEPC] == pc0) ||
         ((scause >> 63) && mnow[S_CSR + C_SEPC] == pc0))) {
        d->rep->interrupted = true;
        note(d,
             "difftest: stopped at step %llu: machina took interrupt (mcause 0x%llx scause "
             "0x%llx) at pc 0x%llx; QEMU's single-step masks interrupts\n",
             (unsigned long long)step, (unsigned long long)mcause, (unsigned long long)scause,
             (unsigned long long)pc0);
        return 0;
    }

    bool bad = differs_core(d);
    if (!bad) {
        if ((rc = read_slots(d, want)) < 0) {
            note(d, "difftest: reading QEMU registers: %s\n", mc_strerror(rc));
            return rc;
        }
        bad = differs_slots(d);
    }
    if (bad) {
        report_insn(d, step, pc0, &di);
        report_all(d);
    }
    uint8_t qb[8];
    bool mem_bad = store_differs(d, &di, trapped, bad, step, pc0, qb);
    if (bad || mem_bad) {
        /* A trap taken on one side only leaves mstatus and priv apart,
         * which hart.h cannot set: keep_going stops there too. */
        bool pc_apart =
            hart_pc(h) != d->qx[32] || (d->qok[S_PRIV] && d->qval[S_PRIV] != hart_priv(h));
        if (!d->o->keep_going || pc_apart) return MC_EDIVERGE;
        resync(d, mem_bad ? qb : NULL, di.addr, di.size);
    } else {
        memcpy(d->mval, mnow, sizeof mnow);
    }
    d->rep->steps = step;
    return check_end(d, step, pc0, &di);
}

/* Turns interrupts on in QEMU's single-step and gives machina QEMU's
 * lines at the start (QEMU's MTIP is pending from reset: mtimecmp = 0). */
static int follow_setup(dt *d)
{
    static const char *const names[3] = {"mip", "mcause", "mepc"};
    static const unsigned nums[3] = {0x344, 0x342, 0x341};
    int mst = rsp_regnum(d->rsp, "mstatus");
    for (unsigned i = 0; i < 3; i++) {
        d->irq_num[i] = rsp_regnum(d->rsp, names[i]);
        if (d->irq_num[i] < 0 && mst >= 0) d->irq_num[i] = mst - 0x300 + (int)nums[i];
        if (d->irq_num[i] < 0) return MC_OK; /* cannot follow: interrupts stay masked */
    }
    char buf[64];
    if (rsp_command(d->rsp, "Qqemu.sstep=0x1", buf, sizeof buf) < 0 || strcmp(buf, "OK") != 0) {
        if (d->o->verbose)
            fprintf(stderr, "difftest: QEMU refused qemu.sstep=1: interrupts masked\n");
        return MC_OK;
    }
    uint64_t v[3];
    int rc = read_irq_regs(d, 1, v);
    if (rc < 0) {
        note(d, "difftest: cannot read QEMU's mip: %s\n", mc_strerror(rc));
        return rc;
    }
    d->follow_irq = true;
    set_lines(d, d->qmip);
    return MC_OK;
}

int difftest_run_opts(const char *elf, const difftest_opts *o, difftest_report *rep)
{
    dt d = {0};
    int rc;
    memset(rep, 0, sizeof *rep);
    d.o = o;
    d.rep = rep;
    if ((rc = setup_machina(&d, elf)) < 0) goto done;
    if ((rc = start_qemu(&d, elf)) < 0) goto done;
    resolve_regs(&d);
    if ((rc = sync_start(&d)) < 0) goto done;
    if ((rc = follow_setup(&d)) < 0) goto done;

    /* Step 0: the state both start from. */
    bool all[NSLOT];
    for (int s = 0; s < NSLOT; s++) {
        all[s] = true;
        d.mval[s] = d.m_has[s] ? machina_slot(&d, s) : 0;
    }
    if ((rc = read_slots(&d, all)) < 0) goto done;
    if (o->verbose) {
        for (int s = S_CSR; s < NSLOT; s++)
            if (!d.qok[s] || !d.m_has[s])
                fprintf(stderr, "difftest: %s not compared (missing in %s)\n", slot_name(s),
                        !d.qok[s] ? "QEMU" : "machina");
    }
    if (differs_core(&d) || differs_slots(&d)) {
        note(&d, "difftest: MISMATCH in the initial state at the entry 0x%llx\n",
             (unsigned long long)hart_pc(d.hart));
        report_all(&d);
        rc = MC_EDIVERGE;
        goto done;
    }
    rc = 1;
    for (uint64_t step = 1; step <= o->max_steps && rc == 1; step++)
        rc = one_step(&d, step);
    if (rc == 0)
        rep->ended = !rep->interrupted;
    else if (rc == 1)
        rc = MC_OK; /* step cap */
    if (rc == MC_OK && rep->mismatches) rc = MC_EDIVERGE;
done:
    if (rc == MC_EDIVERGE) rep->mismatch = true;
    stop_qemu(&d);
    hart_free(d.hart);
    bus_free(d.bus);
    return rc;
}

int difftest_run(const char *elf, uint64_t max_steps, difftest_report *rep)
{
    difftest_opts o = {.max_steps = max_steps};
    return difftest_run_opts(elf, &o, rep);
}
