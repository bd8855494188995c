/*
 * bench - timed phases, one marker line each, for speed comparisons of the
 * emulator against QEMU TCG:
 *
 *   int      xorshift integer loop                     (registers only)
 *   mem      LCG-indexed read-modify-write of an 8 MiB array (TLB, cache)
 *   qsort    glibc qsort of 300k ints (calls, branches, loads/stores)
 *   fp       double-precision loop with fsqrt/fdiv/fmadd
 *   syscall  200000 getppid
 *   fork     200 fork + _exit + waitpid (page tables, COW, scheduler)
 *
 * About 670 million guest instructions in all at scale 100; argv[1] is a
 * scale in percent for quick runs (it scales every phase's count).
 * Each phase prints "phase NAME ms=T result=R": T comes from
 * clock_gettime(CLOCK_MONOTONIC), R is a checksum that does not depend on
 * timing, so two runs of the same scale print the same results.
 *
 * Markers: "start", "scale=S", six "phase ...", "total ms=T", "done".
 */
#define WL_NAME "bench"
#include "workload.h"

#include <math.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

enum {
    INT_ITERS = 14000000,
    MEM_WORDS = 2 << 20, /* uint32 words: 8 MiB */
    MEM_ITERS = 8000000,
    QSORT_N = 300000,
    FP_ITERS = 8000000,
    SYSCALLS = 200000,
    FORKS = 200,
};

static long scale = 100;

static long scaled(long n)
{
    long v = n * scale / 100;
    return v > 0 ? v : 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint64_t phase_int(void)
{
    uint64_t x = 88172645463325252ull, acc = 0;
    for (long i = scaled(INT_ITERS); i > 0; i--) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        acc += (x & 0xff) + (uint64_t)i;
    }
    return acc ^ x;
}

static uint64_t phase_mem(void)
{
    uint32_t *a = malloc((size_t)MEM_WORDS * sizeof(*a));
    uint64_t lcg = 1, sum = 0;
    if (!a) wl_fail("malloc %zu", (size_t)MEM_WORDS * sizeof(*a));
    for (uint32_t i = 0; i < MEM_WORDS; i++)
        a[i] = i;
    for (long i = scaled(MEM_ITERS); i > 0; i--) {
        lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t idx = (uint32_t)(lcg >> 40) & (MEM_WORDS - 1);
        a[idx] += (uint32_t)i;
        sum += a[idx ^ 1];
    }
    free(a);
    return sum;
}

static int cmp_int(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    return (a > b) - (a < b);
}

static uint64_t phase_qsort(void)
{
    long n = scaled(QSORT_N);
    int *v = malloc((size_t)n * sizeof(*v));
    uint64_t lcg = 7, h = 0;
    if (!v) wl_fail("malloc %ld ints", n);
    for (long i = 0; i < n; i++) {
        lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = (int)(lcg >> 33);
    }
    qsort(v, (size_t)n, sizeof(*v), cmp_int);
    for (long i = 0; i < n; i++) {
        if (i > 0 && v[i - 1] > v[i]) wl_fail("qsort: not sorted at %ld", i);
        h = (h ^ (uint32_t)v[i]) * 0x100000001b3ull;
    }
    free(v);
    return h;
}

static uint64_t phase_fp(void)
{
    double x = 1.0, y = 0.5, acc = 0.0;
    for (long i = scaled(FP_ITERS); i > 0; i--) {
        x = sqrt(x + (double)i) / (1.0 + y);
        y = fma(y, 0.5, x * 1e-3);
        acc += x;
    }
    uint64_t bits;
    memcpy(&bits, &acc, sizeof(bits));
    return bits;
}

static uint64_t phase_syscall(void)
{
    uint64_t sum = 0;
    long ppid = getppid();
    for (long i = scaled(SYSCALLS); i > 0; i--)
        sum += (uint64_t)(syscall(SYS_getppid) == ppid);
    return sum;
}

static uint64_t phase_fork(void)
{
    uint64_t ok = 0;
    for (long i = scaled(FORKS); i > 0; i--) {
        pid_t pid = fork();
        if (pid < 0) wl_fail("fork: %s", strerror(errno));
        if (pid == 0) _exit((int)(i & 0x7f));
        int status;
        if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
            WEXITSTATUS(status) == (int)(i & 0x7f))
            ok++;
    }
    return ok;
}

static const struct {
    const char *name;
    uint64_t (*run)(void);
} phases[] = {
    {"int", phase_int}, {"mem", phase_mem},         {"qsort", phase_qsort},
    {"fp", phase_fp},   {"syscall", phase_syscall}, {"fork", phase_fork},
};

int main(int argc, char **argv)
{
    scale = wl_arg(argc, argv, 1, 100);
    wl_say("start");
    wl_say("scale=%ld", scale);
    double t0 = now_ms();
    for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
        double t = now_ms();
        uint64_t r = phases[i].run();
        wl_say("phase %s ms=%.1f result=%016llx", phases[i].name, now_ms() - t,
               (unsigned long long)r);
    }
    wl_say("total ms=%.1f", now_ms() - t0);
    wl_say("done");
    return 0;
}
