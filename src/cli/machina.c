/*
 * machina.c - the `machina` program: build a virt machine from QEMU-style
 * options and run it with the console on the terminal.
 *
 *   machina [run] [options]
 *
 * Exit status: 0 on guest poweroff, at -max-time and on Ctrl-A x; the
 * guest's code when it reports failure through the test finisher; for
 * bare-metal ELFs with `tohost`, 0 on pass and 1 on failure; 2 for a bad
 * option or an unreadable file; 3 when every hart waits forever; 128 + N
 * when signal N (INT, TERM, HUP) stopped the run (a recording then ends
 * there, complete).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "cli_console.h"
#include "cli_record.h"
#include "hart.h"
#include "loader.h"

#ifndef MACHINA_VERSION
#define MACHINA_VERSION "0"
#endif

#define DEFAULT_BIOS   "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
#define DEFAULT_APPEND "console=ttyS0 earlycon=sbi"

#define EXIT_USAGE 2
#define EXIT_IDLE  3

static const char usage_text[] =
    "usage: machina [run] [options]\n"
    "       machina record -o RUN.mrr [options]\n"
    "\n"
    "Runs a deterministic RISC-V virt machine (as QEMU's -machine virt). With no\n"
    "-kernel it boots the corpus next to the program: corpus/Image with\n"
    "corpus/initramfs.cpio, OpenSBI fw_dynamic.bin, -append \"" DEFAULT_APPEND "\".\n"
    "\n"
    "Machine:\n"
    "  -bios FILE|none|default\n"
    "                    firmware at 0x80000000 (raw or ELF); default: Debian's\n"
    "                    OpenSBI " DEFAULT_BIOS ";\n"
    "                    none: run the -kernel ELF in M-mode from its entry\n"
    "  -kernel FILE      raw Image (at 0x80200000, or 0x80000000 with -bios none)\n"
    "                    or ELF (at its physical addresses)\n"
    "  -initrd FILE      initial ramdisk (at kernel + min(RAM/2, 128M))\n"
    "  -append STR       kernel command line (/chosen/bootargs)\n"
    "  -smp N            harts, 1..8 (default 1)\n"
    "  -m SIZE           RAM: 256M, 1G, 512 (MiB) (default 256M)\n"
    "  -cpu SPEC         extensions, e.g. rv64 or rv64,c=false,sstc=off\n"
    "  -drive file=IMG   virtio-blk disk in slot 0 (format=raw, if=none|virtio,\n"
    "                    id=X accepted); the file is read once, never written\n"
    "  -quantum N        steps per hart per round-robin turn (default 10000)\n"
    "  -dumpdtb FILE     write the device tree blob and exit\n"
    "  -vmlinux FILE     the kernel's ELF with symbols, stored in a recording\n"
    "                    (default with the corpus kernel: corpus/vmlinux)\n"
    "\n"
    "Run:\n"
    "  -max-time T       stop at virtual time T (3.2s, 250ms, 40us, 100ns) or\n"
    "                    after N instructions in all (i:N); exit 0\n"
    "  -serial-script F  drive the console from F: lines 'expect TEXT',\n"
    "                    'send TEXT' (TEXT + \\n), 'sendraw TEXT', '# comment';\n"
    "                    escapes \\n \\r \\t \\e \\\\ \\xHH; stdin is then not read\n"
    "  -rt               pace guest time to wall time (idle guests sleep); the\n"
    "                    default when stdin is a terminal and no script is given\n"
    "  -no-rt            never pace: an idle guest's time jumps to its next timer\n"
    "  -nographic, -machine virt\n"
    "                    accepted and ignored (the console is always stdio)\n"
    "  --state-hash      print 'state-hash: %016llx' (XXH3 of the machine) on\n"
    "                    stderr at exit\n"
    "  --stats           print instructions, host time and MIPS on stderr at exit\n"
    "  --help, --version\n"
    "\n"
    "Console: guest output goes to stdout. On a terminal, input is raw and\n"
    "Ctrl-A x quits (Ctrl-A Ctrl-A sends Ctrl-A, Ctrl-A h helps); from a pipe,\n"
    "stdin bytes are the input. SIGINT, SIGTERM or SIGHUP stops the machine at\n"
    "the next round boundary (a recording is then complete up to there); a\n"
    "second one kills.\n"
    "\n"
    "Exit status: 0 poweroff, max-time or Ctrl-A x; the guest's code on a\n"
    "finisher failure; bare-metal tohost: 0 pass, 1 fail ('tohost: FAIL test\n"
    "N'); 2 bad option or file; 3 every hart waits in WFI forever; 128+N\n"
    "stopped by signal N.\n";

typedef struct opts {
    const char *bios, *kernel, *initrd, *append, *drive, *dumpdtb, *cpu, *max_time, *script,
        *vmlinux;
    unsigned smp;
    uint64_t mem, quantum;
    bool rt, no_rt, state_hash, stats, record;
    cli_record_opts rec; /* machina record */
} opts;

typedef struct image {
    uint8_t *data;
    size_t size;
} image;

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "machina: <message>" on stderr; returns EXIT_USAGE. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "machina: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return EXIT_USAGE;
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (!*s || *s == '-') return false;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || *end) return false;
    *v = x;
    return true;
}

/* -m: a number with an optional K/M/G/T suffix; a bare number is MiB. */
static bool parse_size(const char *s, uint64_t *bytes)
{
    char *end;
    if (!*s || *s == '-') return false;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s) return false;
    unsigned shift;
    switch (*end) {
    case 0: shift = 20; break;
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    case 't':
    case 'T':
        shift = 40;
        end++;
        break;
    default: return false;
    }
    if (*end == 'i' && end[1] == 'B')
        end += 2;
    else if (*end == 'B')
        end++;
    if (*end || x > (UINT64_MAX >> shift)) return false;
    *bytes = (uint64_t)x << shift;
    return true;
}

/* -drive file=IMG[,format=raw][,if=none|virtio][,id=X]: the file name. */
static int parse_drive(const char *spec, const char **file, char **owned)
{
    char *s = strdup(spec);
    if (!s) return MC_ENOMEM;
    *file = NULL;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (strncmp(tok, "file=", 5) == 0)
            *file = tok + 5;
        else if (strcmp(tok, "format=raw") == 0 || strcmp(tok, "if=none") == 0 ||
                 strcmp(tok, "if=virtio") == 0 || strncmp(tok, "id=", 3) == 0)
            continue;
        else {
            free(s);
            return MC_EINVAL;
        }
    }
    if (!*file || !**file) {
        free(s);
        return MC_EINVAL;
    }
    *owned = s;
    return MC_OK;
}

/* Options that take an argument, with their field. */
static const char **arg_field(opts *o, const char *name)
{
    static const char *const names[] = {"bios",          "kernel",  "initrd", "append",
                                        "drive",         "dumpdtb", "cpu",    "max-time",
                                        "serial-script", "vmlinux"};
    const char **fields[] = {&o->bios,    &o->kernel, &o->initrd,   &o->append, &o->drive,
                             &o->dumpdtb, &o->cpu,    &o->max_time, &o->script, &o->vmlinux};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0) return fields[i];
    return NULL;
}

/* Parses argv into o; returns 0, EXIT_USAGE, or -1 after --help/--version. */
static int parse_args(int argc, char **argv, opts *o)
{
    int i = 1;
    if (i < argc && argv[i][0] != '-') {
        if (strcmp(argv[i], "record") == 0)
            o->record = true;
        else if (strcmp(argv[i], "run") != 0)
            return usage_error("unknown command '%s' (try --help)", argv[i]);
        i++;
    }
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') return usage_error("unexpected argument '%s' (try --help)", a);
        if (o->record) {
            int n = cli_record_parse_opt(&o->rec, argc, argv, i);
            if (n < 0) return EXIT_USAGE;
            if (n > 0) {
                i += n - 1;
                continue;
            }
        }
        const char *name = a + 1 + (a[1] == '-');
        if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0) {
            fputs(usage_text, stdout);
            fputs("\n", stdout);
            fputs(cli_record_usage, stdout);
            return -1;
        }
        if (strcmp(name, "version") == 0) {
            printf("machina %s\n", MACHINA_VERSION);
            return -1;
        }
        if (strcmp(name, "rt") == 0) {
            o->rt = true;
            continue;
        }
        if (strcmp(name, "no-rt") == 0) {
            o->no_rt = true;
            continue;
        }
        if (strcmp(name, "stats") == 0) {
            o->stats = true;
            continue;
        }
        if (strcmp(name, "nographic") == 0) continue;
        if (strcmp(name, "machine") == 0 || strcmp(name, "M") == 0) {
            if (i + 1 >= argc) return usage_error("%s: missing argument", a);
            const char *v = argv[++i];
            if (strncmp(v, "virt", 4) != 0 || (v[4] && v[4] != ','))
                return usage_error("%s: only the virt machine exists, not '%s'", a, v);
            continue;
        }
        if (strcmp(name, "state-hash") == 0) {
            o->state_hash = true;
            continue;
        }
        const char **field = arg_field(o, name);
        bool numeric = !strcmp(name, "smp") || !strcmp(name, "m") || !strcmp(name, "quantum");
        if (!field && !numeric) return usage_error("unknown option '%s' (try --help)", a);
        if (i + 1 >= argc) return usage_error("%s: missing argument", a);
        const char *v = argv[++i];
        if (field) {
            *field = v;
        } else if (!strcmp(name, "smp")) {
            uint64_t n;
            const char *num = strncmp(v, "cpus=", 5) == 0 ? v + 5 : v;
            if (!parse_u64(num, &n) || n < 1 || n > BOARD_MAX_HARTS)
                return usage_error("-smp: '%s' is not a hart count in 1..8", v);
            o->smp = (unsigned)n;
        } else if (!strcmp(name, "m")) {
            const char *num = strncmp(v, "size=", 5) == 0 ? v + 5 : v;
            if (!parse_size(num, &o->mem))
                return usage_error("-m: bad size '%s' (e.g. 256M, 1G)", v);
        } else {
            if (!parse_u64(v, &o->quantum) || o->quantum < 1 || o->quantum > (1ull << 32))
                return usage_error("-quantum: '%s' is not a step count in 1..2^32", v);
        }
    }
    return 0;
}

/* Reads an image named by option opt; prints the error and returns false. */
static bool read_image(const char *opt, const char *path, image *img)
{
    int rc = loader_read_file(path, &img->data, &img->size);
    if (rc == MC_OK) return true;
    fprintf(stderr, "machina: %s: cannot open '%s': %s\n", opt, path,
            rc == MC_EIO ? strerror(errno) : mc_strerror(rc));
    return false;
}

/* <directory of this executable>/corpus/<name>, in buf. */
static void corpus_path(char *buf, size_t len, const char *name)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        snprintf(buf, len, "corpus/%s", name);
        return;
    }
    exe[n] = 0;
    snprintf(buf, len, "%s/corpus/%s", dirname(exe), name);
}

static bool file_exists(const char *path)
{
    return access(path, R_OK) == 0;
}

static int write_dtb(const char *path, const board_t *b)
{
    size_t size;
    const void *dtb = board_dtb(b, &size);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(dtb, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "machina: -dumpdtb: cannot write '%s': %s\n", path, strerror(errno));
        return EXIT_USAGE;
    }
    return 0;
}

/* Exit status and message for an outcome. */
static int report(const opts *o, const board_t *b, const board_outcome *out, int sig)
{
    switch (out->stop) {
    case BOARD_STOP_POWEROFF: return 0;
    case BOARD_STOP_FAIL: {
        int code = (int)(out->code & 0xff);
        return code ? code : (out->code ? 1 : 0);
    }
    case BOARD_STOP_TOHOST:
        if (out->code == 1) return 0;
        if ((out->code & 1) && !(out->code >> 48))
            fprintf(stderr, "tohost: FAIL test %llu\n", (unsigned long long)(out->code >> 1));
        else
            fprintf(stderr, "tohost: unsupported HTIF request 0x%llx (only exit and console)\n",
                    (unsigned long long)out->code);
        return 1;
    case BOARD_STOP_TIME:
    case BOARD_STOP_STEPS:
        fprintf(stderr, "machina: stopped at max-time %s (%llu instructions)\n", o->max_time,
                (unsigned long long)board_steps(b));
        return 0;
    case BOARD_STOP_REQUEST:
        if (sig) {
            fprintf(stderr, "\r\nmachina: stopped by SIG%s at i:%llu\n", sigabbrev_np(sig),
                    (unsigned long long)board_steps(b));
            return 128 + sig;
        }
        fprintf(stderr, "\r\nmachina: terminated\n");
        return 0;
    case BOARD_STOP_IDLE:
        fprintf(stderr,
                "machina: every hart waits in WFI with no timer armed and no input "
                "to come (at %llu ns, %llu instructions)\n",
                (unsigned long long)board_vtime(b), (unsigned long long)board_steps(b));
        return EXIT_IDLE;
    case BOARD_STOP_NONE: break;
    }
    return 1;
}

int main(int argc, char **argv)
{
    opts o = {.smp = 1, .mem = BOARD_DEFAULT_RAM, .quantum = BOARD_DEFAULT_QUANTUM};
    cli_record *rec = NULL;
    char vpath[PATH_MAX + 32];
    image bios = {0}, kernel = {0}, initrd = {0}, drive = {0};
    char *drive_spec = NULL;
    cli_console *con = NULL;
    board_t *b = NULL;
    char err[256] = "";
    char kpath[PATH_MAX + 32], ipath[PATH_MAX + 32];
    int status = EXIT_USAGE;

    cli_record_opts_default(&o.rec);
    int pr = parse_args(argc, argv, &o);
    if (pr) return pr < 0 ? 0 : pr;
    if (o.record && !o.rec.out_path && !o.dumpdtb)
        return usage_error("record: -o RUN.mrr is required (try --help)");
    signal(SIGPIPE, SIG_IGN);

    board_config cfg;
    board_config_default(&cfg);
    cfg.nharts = o.smp;
    cfg.ram_size = o.mem;
    cfg.quantum = o.quantum;
    if (o.cpu && hart_parse_cpu(o.cpu, &cfg.ext) < 0) {
        usage_error("-cpu: bad CPU spec '%s'", o.cpu);
        goto done;
    }
    uint64_t until_ns = UINT64_MAX, until_steps = UINT64_MAX;
    if (o.max_time && board_parse_instant(o.max_time, &until_ns, &until_steps) < 0) {
        usage_error("-max-time: bad time '%s' (e.g. 3.2s, 250ms, 40us, i:N)", o.max_time);
        goto done;
    }

    bool bios_none = o.bios && strcmp(o.bios, "none") == 0;
    if (o.bios && strcmp(o.bios, "default") == 0) o.bios = DEFAULT_BIOS;
    bool defaults = !o.kernel;
    if (defaults && bios_none) {
        usage_error("-bios none needs -kernel");
        goto done;
    }
    if (defaults) {
        corpus_path(kpath, sizeof(kpath), "Image");
        corpus_path(ipath, sizeof(ipath), "initramfs.cpio");
        /* -dumpdtb works without the corpus: the tree then has no initrd. */
        if (!o.dumpdtb || file_exists(kpath)) o.kernel = kpath;
        if (!o.initrd && (!o.dumpdtb || file_exists(ipath)) && o.kernel) o.initrd = ipath;
        if (!o.append) o.append = DEFAULT_APPEND;
        corpus_path(vpath, sizeof(vpath), "vmlinux");
        if (o.record && !o.vmlinux && file_exists(vpath)) o.vmlinux = vpath;
        if (o.kernel && !file_exists(o.kernel)) {
            fprintf(stderr,
                    "machina: no -kernel given and the corpus kernel '%s' cannot be read: %s "
                    "(build it with: cmake --build build --target corpus)\n",
                    kpath, strerror(errno));
            goto done;
        }
    }
    if (!bios_none && !read_image("-bios", o.bios ? o.bios : DEFAULT_BIOS, &bios)) goto done;
    if (o.kernel && !read_image("-kernel", o.kernel, &kernel)) goto done;
    if (o.initrd && !read_image("-initrd", o.initrd, &initrd)) goto done;
    if (o.drive) {
        const char *file;
        if (parse_drive(o.drive, &file, &drive_spec) < 0) {
            usage_error("-drive: expected file=IMG[,format=raw][,if=none][,id=X], got '%s'",
                        o.drive);
            goto done;
        }
        if (!read_image("-drive", file, &drive)) goto done;
    }
    cfg.bios = bios_none ? NULL : bios.data;
    cfg.bios_size = bios.size;
    cfg.kernel = kernel.data;
    cfg.kernel_size = kernel.size;
    cfg.initrd = initrd.data;
    cfg.initrd_size = initrd.size;
    cfg.cmdline = o.append;
    cfg.drive = drive.data;
    cfg.drive_size = drive.size;

    board_host host;
    if (!o.dumpdtb) {
        /* A person at a terminal wants wall-clock time and an idle host. */
        bool rt = o.rt || (!o.no_rt && !o.script && isatty(STDIN_FILENO));
        cli_console_opts co = {.script_path = o.script, .rt = rt};
        int rc = cli_console_open(&con, &co, err, sizeof(err));
        if (rc == MC_EIO) {
            fprintf(stderr, "machina: -serial-script: cannot open '%s': %s\n", o.script,
                    strerror(errno));
            goto done;
        } else if (rc < 0) {
            fprintf(stderr, "machina: -serial-script: '%s': %s\n", o.script,
                    *err ? err : mc_strerror(rc));
            goto done;
        }
        cli_console_host(con, &host);
    }
    int rc;
    if (o.record && !o.dumpdtb) {
        o.rec.until_ns = until_ns;
        o.rec.until_steps = until_steps;
        o.rec.vmlinux = o.vmlinux;
        o.rec.argc = argc;
        o.rec.argv = argv;
        if (cli_record_open(&rec, &cfg, &host, &o.rec) != 0) goto done;
        b = cli_record_board(rec);
        rc = 0;
    } else {
        rc = board_new(&b, &cfg, o.dumpdtb ? NULL : &host, err, sizeof(err));
    }
    if (rc < 0) {
        /* "kernel: why" and "firmware: why" name the option and file */
        const char *why = *err ? err : mc_strerror(rc);
        if (strncmp(why, "kernel: ", 8) == 0)
            fprintf(stderr, "machina: -kernel '%s': %s\n", o.kernel, why + 8);
        else if (strncmp(why, "firmware: ", 10) == 0)
            fprintf(stderr, "machina: -bios '%s': %s\n", o.bios ? o.bios : DEFAULT_BIOS, why + 10);
        else
            fprintf(stderr, "machina: %s\n", why);
        goto done;
    }
    if (o.dumpdtb) {
        status = write_dtb(o.dumpdtb, b);
        goto done;
    }
    cli_console_attach(con, b);

    board_outcome out;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (rec) {
        if (cli_record_run(rec, &out) != 0) {
            status = 1;
            goto done;
        }
    } else if ((rc = board_run(b, until_ns, until_steps, &out)) < 0) {
        fprintf(stderr, "machina: %s\n", mc_strerror(rc));
        status = 1;
        goto done;
    }
    int sig = cli_console_signal(con);
    cli_console_close(con); /* restore the terminal before messages */
    con = NULL;
    status = report(&o, b, &out, sig);
    if (o.stats) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        uint64_t n = board_steps(b);
        fprintf(stderr,
                "machina: %llu instructions in %.3f s host time (%.1f MIPS), virtual time %.6f s\n",
                (unsigned long long)n, secs, secs > 0 ? (double)n / secs / 1e6 : 0.0,
                (double)board_vtime(b) / 1e9);
    }
    if (o.state_hash)
        fprintf(stderr, "state-hash: %016llx\n", (unsigned long long)board_state_hash(b));
done:
    cli_console_close(con);
    if (rec)
        cli_record_close(rec); /* frees the board */
    else
        board_free(b);
    free(bios.data);
    free(kernel.data);
    free(initrd.data);
    free(drive.data);
    free(drive_spec);
    return status;
}
