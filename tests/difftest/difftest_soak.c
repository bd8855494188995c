/*
 * difftest_soak.c - long random differential runs against QEMU.
 *
 *   difftest-soak [--steps N] [--seed S] [--len L] [--priv MODE] [--csr-any] [--stop]
 *                 [--keep DIR] [--keep-going] [--strict] [--tolerate-quirks] [--verbose] [--trace]
 *   difftest-soak --elf FILE [--steps N] [--keep-going] [--strict] [--verbose] [--trace]
 *
 * With --elf, runs one bare-metal ELF in lock-step (at most N steps,
 * default 1000000) and prints the report: exit 0 when it ended or stopped
 * at an interrupt/wfi with nothing differing, 1 on a mismatch or the step
 * cap, 2 on a setup error. Otherwise it:
 * Builds random streams (rvgen.h) of L instructions from seeds S, S+1, ...
 * and runs each in lock-step (difftest.h) until N steps in all have been
 * compared. MODE is where the streams run: m, s, u, s39, u39 (S or U with
 * Sv39 translation), sd, ud39 (exceptions delegated to S) or mix (the
 * default: all of them in turn, by seed). Each mismatch is printed with its seed (rebuild it with
 * the same --seed and --len) and the stream's ELF is kept in DIR (default: the current directory)
 * as difftest-fail-SEED.elf. With --keep-going a stream goes on after a mismatch (machina is
 * resynced from QEMU where hart.h allows), so one run lists many differences. --tolerate-quirks
 * accepts the known QEMU 7.2 spec deviations (quirk_csr in difftest.c) for a hart that follows the
 * spec there. Exit status 0 when nothing differed, 1 on a mismatch, 2 on a setup error.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "difftest.h"
#include "rvgen.h"

static void usage(void)
{
    fprintf(stderr, "usage: difftest-soak [--steps N] [--seed S] [--len L] "
                    "[--priv m|s|u|s39|u39|sd|ud39|mix] [--csr-any] "
                    "[--stop] [--keep DIR] [--keep-going] [--strict] [--tolerate-quirks] "
                    "[--verbose] [--trace]\n"
                    "       difftest-soak --elf FILE [--steps N] [--keep-going] [--strict] "
                    "[--verbose] [--trace]\n");
    exit(2);
}

static const struct {
    const char *name;
    unsigned flags;
} modes[] = {
    {"m", 0},
    {"s", RVGEN_PRIV_S},
    {"u", RVGEN_PRIV_U},
    {"s39", RVGEN_PRIV_S | RVGEN_SV39},
    {"u39", RVGEN_PRIV_U | RVGEN_SV39},
    {"sd", RVGEN_PRIV_S | RVGEN_DELEG},
    {"ud39", RVGEN_PRIV_U | RVGEN_SV39 | RVGEN_DELEG},
};
#define NMODES (sizeof modes / sizeof modes[0])

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[8192];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) rc = -1;
    if (in) fclose(in);
    if (out && fclose(out) != 0) rc = -1;
    return rc;
}

int main(int argc, char **argv)
{
    uint64_t steps = 1000000, seed = 1;
    unsigned len = 4000, flags = 0;
    bool stop = false, verbose = false, trace = false, keep_going = false, quirks_ok = false,
         strict = false;
    const char *keep = ".", *elf = NULL;
    int mode = -1; /* mix */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--steps") == 0 && i + 1 < argc)
            steps = strtoull(argv[++i], NULL, 0);
        else if (strcmp(a, "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (strcmp(a, "--len") == 0 && i + 1 < argc)
            len = (unsigned)strtoul(argv[++i], NULL, 0);
        else if (strcmp(a, "--priv") == 0 && i + 1 < argc) {
            const char *m = argv[++i];
            mode = -2;
            for (unsigned k = 0; k < NMODES; k++)
                if (strcmp(m, modes[k].name) == 0) mode = (int)k;
            if (strcmp(m, "mix") == 0) mode = -1;
            if (mode == -2) usage();
        } else if (strcmp(a, "--elf") == 0 && i + 1 < argc)
            elf = argv[++i];
        else if (strcmp(a, "--keep") == 0 && i + 1 < argc)
            keep = argv[++i];
        else if (strcmp(a, "--csr-any") == 0)
            flags |= RVGEN_CSR_ANY_READ;
        else if (strcmp(a, "--strict") == 0)
            strict = true;
        else if (strcmp(a, "--tolerate-quirks") == 0)
            quirks_ok = true;
        else if (strcmp(a, "--keep-going") == 0)
            keep_going = true;
        else if (strcmp(a, "--stop") == 0)
            stop = true;
        else if (strcmp(a, "--verbose") == 0)
            verbose = true;
        else if (strcmp(a, "--trace") == 0)
            trace = verbose = true;
        else
            usage();
    }
    if (elf) {
        static difftest_report one;
        difftest_opts o = {.max_steps = steps,
                           .verbose = verbose,
                           .trace = trace,
                           .keep_going = keep_going,
                           .tolerate_quirks = quirks_ok,
                           .strict = strict};
        int rc = difftest_run_opts(elf, &o, &one);
        printf("%s%s: %llu steps, %s, tohost 0x%llx, %u synced, %u QEMU deviations tolerated\n",
               one.text, elf, (unsigned long long)one.steps,
               rc == MC_EDIVERGE ? "MISMATCH"
               : rc < 0          ? mc_strerror(rc)
               : one.ended       ? "ended"
               : one.interrupted ? "stopped at an interrupt or wfi"
                                 : "step cap reached",
               (unsigned long long)one.tohost, one.synced, one.quirks);
        if (rc < 0 && rc != MC_EDIVERGE) return 2;
        return rc == MC_OK && (one.ended || one.interrupted) ? 0 : 1;
    }
    if (len == 0 || len > RVGEN_MAX_INSNS) {
        fprintf(stderr, "difftest-soak: --len must be 1..%u\n", RVGEN_MAX_INSNS);
        return 2;
    }
    char path[] = "/tmp/machina-soak-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("difftest-soak: mkstemp");
        return 2;
    }
    close(fd);

    static difftest_report rep;
    uint64_t total = 0, streams = 0, failed = 0, synced = 0, quirks = 0;
    int status = 0;
    for (uint64_t s = seed; total < steps; s++) {
        rvgen_image img;
        unsigned mk = mode >= 0 ? (unsigned)mode : (unsigned)(s % NMODES);
        if (rvgen_build(&img, s, len, flags | modes[mk].flags) < 0 ||
            rvgen_write_elf(&img, path) < 0) {
            fprintf(stderr, "difftest-soak: cannot build stream %llu\n", (unsigned long long)s);
            status = 2;
            break;
        }
        difftest_opts o = {.max_steps = 20ull * len + 1000,
                           .end_pc = img.end_pc,
                           .verbose = verbose,
                           .trace = trace,
                           .keep_going = keep_going,
                           .tolerate_quirks = quirks_ok,
                           .strict = strict};
        int rc = difftest_run_opts(path, &o, &rep);
        rvgen_free(&img);
        streams++;
        total += rep.steps;
        synced += rep.synced;
        quirks += rep.quirks;
        if (rc == MC_EDIVERGE) {
            char keep_path[1024];
            snprintf(keep_path, sizeof keep_path, "%s/difftest-fail-%llu.elf", keep,
                     (unsigned long long)s);
            bool kept = copy_file(path, keep_path) == 0;
            printf("seed %llu (--len %u --priv %s%s): MISMATCH (%u) after %llu steps%s%s\n%s",
                   (unsigned long long)s, len, modes[mk].name, flags ? " --csr-any" : "",
                   rep.mismatches ? rep.mismatches : 1, (unsigned long long)rep.steps,
                   kept ? ", ELF kept as " : "", kept ? keep_path : "", rep.text);
            failed++;
            status = 1;
            if (stop) break;
        } else if (rc < 0) {
            printf("seed %llu: error: %s\n%s", (unsigned long long)s, mc_strerror(rc), rep.text);
            status = 2;
            break;
        } else {
            printf("seed %llu (%s): %llu steps%s, total %llu/%llu\n", (unsigned long long)s,
                   modes[mk].name, (unsigned long long)rep.steps, rep.ended ? "" : " (step cap)",
                   (unsigned long long)total, (unsigned long long)steps);
        }
        fflush(stdout);
    }
    unlink(path);
    printf("difftest-soak: %llu steps compared in %llu streams, %llu mismatching, %llu values "
           "synced from QEMU, %llu known QEMU deviations tolerated\n",
           (unsigned long long)total, (unsigned long long)streams, (unsigned long long)failed,
           (unsigned long long)synced, (unsigned long long)quirks);
    return status;
}
