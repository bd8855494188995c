/*
 * threads - N pthreads (default 4, argv[1]) each sum a slice of 0..N*SLICE-1
 * with a little mixing, then main joins them and checks the results against
 * the closed form.
 *
 * Markers: "start", "threads=N", one "thread I sum=S" per thread (in join
 * order), "total=T expected=T", "done".
 */
#define WL_NAME "threads"
#include "workload.h"

#include <pthread.h>
#include <stdint.h>

enum { SLICE = 2000000, MAX_THREADS = 64 };

struct slice {
    int index;
    uint64_t sum;
    uint64_t mix;
};

static void *worker(void *arg)
{
    struct slice *s = arg;
    uint64_t lo = (uint64_t)s->index * SLICE, sum = 0, mix = 0;

    for (uint64_t i = lo; i < lo + SLICE; i++) {
        sum += i;
        mix = (mix ^ i) * 0x100000001b3ull; /* FNV-style, keeps the loop honest */
    }
    s->sum = sum;
    s->mix = mix;
    wl_say("thread %d finished", s->index);
    return NULL;
}

int main(int argc, char **argv)
{
    long n = wl_arg(argc, argv, 1, 4);
    pthread_t tid[MAX_THREADS];
    struct slice sl[MAX_THREADS];
    uint64_t total = 0;

    if (n > MAX_THREADS) n = MAX_THREADS;
    wl_say("start");
    wl_say("threads=%ld slice=%d", n, SLICE);
    for (long i = 0; i < n; i++) {
        sl[i] = (struct slice){.index = (int)i};
        int rc = pthread_create(&tid[i], NULL, worker, &sl[i]);
        if (rc) wl_fail("pthread_create %ld: %s", i, strerror(rc));
    }
    for (long i = 0; i < n; i++) {
        int rc = pthread_join(tid[i], NULL);
        if (rc) wl_fail("pthread_join %ld: %s", i, strerror(rc));
        uint64_t lo = (uint64_t)i * SLICE, hi = lo + SLICE - 1;
        uint64_t want = (lo + hi) * SLICE / 2;
        wl_say("thread %ld sum=%llu mix=%016llx", i, (unsigned long long)sl[i].sum,
               (unsigned long long)sl[i].mix);
        if (sl[i].sum != want)
            wl_fail("thread %ld sum %llu, expected %llu", i, (unsigned long long)sl[i].sum,
                    (unsigned long long)want);
        total += sl[i].sum;
    }
    uint64_t all = (uint64_t)n * SLICE;
    wl_say("total=%llu expected=%llu", (unsigned long long)total,
           (unsigned long long)(all * (all - 1) / 2));
    wl_say("done");
    return 0;
}
