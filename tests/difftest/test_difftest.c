/*
 * test_difftest.c - machina's hart against QEMU, in lock-step (difftest.h):
 * every bare-metal corpus ELF to its end (each must pass: tohost = 1), a
 * sample of random instruction streams (rvgen.h), and checks that the
 * tester itself notices a divergence and the known QEMU bugs. Needs
 * qemu-system-riscv64; the corpus must have been built (`cmake --build
 * build --target corpus`): a missing corpus fails.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "difftest/difftest.h"
#include "difftest/rvgen.h"

/* Bare-metal ISA tests are short (the corpus is ~45k steps in all, the
 * longest, interrupts.elf, ~25k); lock-step runs ~1-3k steps/s. */
#define CORPUS_STEP_CAP 100000u
#define RANDOM_STREAMS  4
#define RANDOM_LEN      2500 /* instructions per stream: ~5000 steps with traps */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_difftest__corpus_baremetal(void **state)
{
    (void)state;
    const char *dir = MACHINA_CORPUS_DIR "/baremetal";
    DIR *dp = opendir(dir);
    if (!dp)
        fail_msg("no bare-metal corpus at %s: build it first "
                 "(cmake --build build --target corpus)",
                 dir);
    char *names[512];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL && n < 512) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".elf") == 0) names[n++] = strdup(de->d_name);
    }
    closedir(dp);
    if (n == 0) fail_msg("no *.elf in %s", dir);
    qsort(names, n, sizeof names[0], cmp_str);

    unsigned bad = 0;
    uint64_t total = 0;
    static difftest_report rep;
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int rc = difftest_run(path, CORPUS_STEP_CAP, &rep);
        total += rep.steps;
        /* Every program must run to its end and pass on both sides
         * (interrupts are compared too: difftest.c follows QEMU's lines). */
        if (rc != 0 || !rep.ended || rep.tohost != 1) {
            bad++;
            printf("[ FAIL     ] %s: %s after %llu steps\n%s", names[i],
                   rc == MC_EDIVERGE ? "mismatch"
                   : rc < 0          ? mc_strerror(rc)
                   : rep.interrupted ? "stopped early (a wfi nothing can end)"
                   : !rep.ended      ? "no end within the step cap"
                                     : "the program fails on QEMU and on machina alike",
                   (unsigned long long)rep.steps, rep.text);
            if (rc == 0 && rep.ended)
                printf("  tohost 0x%llx: check %llu failed\n", (unsigned long long)rep.tohost,
                       (unsigned long long)(rep.tohost >> 1));
        } else {
            printf("[       OK ] %s: %llu steps, %u synced, %u QEMU deviations tolerated\n",
                   names[i], (unsigned long long)rep.steps, rep.synced, rep.quirks);
        }
        free(names[i]);
    }
    printf("corpus: %zu programs, %llu steps compared, %u failed\n", n, (unsigned long long)total,
           bad);
    assert_int_equal(bad, 0);
}

/* Runs stream seed; returns the steps compared, fails the test on a
 * mismatch. */
static uint64_t run_stream(uint64_t seed, unsigned len, unsigned flags, uint64_t inject_at,
                           int want_rc)
{
    rvgen_image img;
    char path[] = "/tmp/machina-rvgen-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(rvgen_build(&img, seed, len, flags), MC_OK);
    assert_int_equal(rvgen_write_elf(&img, path), MC_OK);
    difftest_opts o = {
        .max_steps = 20ull * len + 1000, .end_pc = img.end_pc, .inject_at = inject_at};
    static difftest_report rep;
    int rc = difftest_run_opts(path, &o, &rep);
    unlink(path);
    rvgen_free(&img);
    if (rc != want_rc)
        fail_msg("random stream seed %llu (tests/difftest/rvgen.c, %u insns, flags 0x%x; "
                 "difftest-soak --seed %llu --len %u reproduces it): rc %d (%s)\n%s",
                 (unsigned long long)seed, len, flags, (unsigned long long)seed, len, rc,
                 mc_strerror(rc), rep.text);
    if (want_rc == MC_OK) assert_true(rep.ended);
    return rep.steps;
}

static void test_difftest__random_streams(void **state)
{
    (void)state;
    /* M; S with exceptions delegated to S; U under Sv39 with delegation;
     * S under Sv39. */
    static const unsigned flags[RANDOM_STREAMS] = {0, RVGEN_PRIV_S | RVGEN_DELEG,
                                                   RVGEN_PRIV_U | RVGEN_SV39 | RVGEN_DELEG,
                                                   RVGEN_PRIV_S | RVGEN_SV39};
    static const uint64_t seeds[RANDOM_STREAMS] = {5, 1, 4, 3};
    uint64_t total = 0;
    for (unsigned i = 0; i < RANDOM_STREAMS; i++) {
        uint64_t n = run_stream(seeds[i], RANDOM_LEN, flags[i], 0, MC_OK);
        printf("random stream seed %llu (flags 0x%x): %llu steps\n", (unsigned long long)seeds[i],
               flags[i], (unsigned long long)n);
        total += n;
    }
    printf("random: %llu steps compared\n", (unsigned long long)total);
    assert_true(total >= RANDOM_STREAMS * (uint64_t)RANDOM_LEN);
}

/* The tester must notice a register that differs. */
static void test_difftest__detects_divergence(void **state)
{
    (void)state;
    uint64_t n = run_stream(7, 300, 0, 150, MC_EDIVERGE);
    assert_int_equal(n, 149);
}

/* The tolerated QEMU 7.2 bugs are exactly what makes traps.elf pass:
 * with opts.strict its AMO access fault (machina 7, QEMU 5) is a mismatch. */
static void test_difftest__strict_sees_qemu_bugs(void **state)
{
    (void)state;
    static difftest_report rep;
    difftest_opts o = {.max_steps = CORPUS_STEP_CAP, .strict = true};
    int rc = difftest_run_opts(MACHINA_CORPUS_DIR "/baremetal/traps.elf", &o, &rep);
    if (rc != MC_EDIVERGE)
        fail_msg("traps.elf with strict: rc %d, expected a mismatch\n%s", rc, rep.text);
    assert_non_null(strstr(rep.text, "amo"));
    assert_non_null(
        strstr(rep.text, "mcause     machina 0x0000000000000007  qemu 0x0000000000000005"));
}

/* The generator is a pure function of the seed and ends in `j .`. */
static void test_difftest__rvgen_deterministic(void **state)
{
    (void)state;
    rvgen_image a, b, c;
    assert_int_equal(rvgen_build(&a, 42, 1000, 0), MC_OK);
    assert_int_equal(rvgen_build(&b, 42, 1000, 0), MC_OK);
    assert_int_equal(rvgen_build(&c, 43, 1000, 0), MC_OK);
    assert_int_equal(a.code_len, b.code_len);
    assert_memory_equal(a.code, b.code, a.code_len);
    assert_memory_equal(a.data, b.data, a.data_len);
    assert_true(a.code_len != c.code_len || memcmp(a.code, c.code, a.code_len) != 0);
    size_t end = a.end_pc - a.entry;
    uint32_t w = (uint32_t)a.code[end] | (uint32_t)a.code[end + 1] << 8 |
                 (uint32_t)a.code[end + 2] << 16 | (uint32_t)a.code[end + 3] << 24;
    assert_int_equal(w, 0x0000006f);
    rvgen_free(&a);
    rvgen_free(&b);
    rvgen_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_difftest__rvgen_deterministic),
        cmocka_unit_test(test_difftest__detects_divergence),
        cmocka_unit_test(test_difftest__random_streams),
        cmocka_unit_test(test_difftest__corpus_baremetal),
        cmocka_unit_test(test_difftest__strict_sees_qemu_bugs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
