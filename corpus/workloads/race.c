/*
 * race - an ABBA lock-order bug that deadlocks only under some interleavings.
 *
 * Two threads run ITERS iterations (default 5000, argv[1]); thread 1 takes
 * A then B, thread 2 takes B then A, each doing WINDOW LCG steps (default 20,
 * argv[2]) between its two locks, incrementing a shared counter inside and
 * then doing some unlocked work.  A deadlock needs thread 1 to hold A while
 * thread 2 holds B, i.e. a context switch (or a truly parallel hart) inside
 * the window; otherwise the run completes and prints "done".  Which happens
 * depends on scheduling, which is the point: a recording pins down the
 * interleaving that hung.
 *
 * Markers: "start", "iterations=N window=W", "thread T iteration I" every PROGRESS
 * iterations, "counter=C expected=C", "done" (only when no deadlock).
 */
#define WL_NAME "race"
#include "workload.h"

#include <pthread.h>
#include <stdint.h>

enum { PROGRESS = 500, OUTSIDE_WORK = 200 };

static long held_work; /* LCG steps between the two locks: the window */

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static long iters;
static volatile uint64_t counter;

struct order {
    int id;
    pthread_mutex_t *first, *second;
    uint64_t work;
};

static void *run(void *arg)
{
    struct order *o = arg;

    for (long i = 1; i <= iters; i++) {
        pthread_mutex_lock(o->first);
        for (long k = 0; k < held_work; k++) /* widens the window */
            o->work = o->work * 6364136223846793005ull + 1442695040888963407ull;
        pthread_mutex_lock(o->second);
        counter = counter + 1;
        pthread_mutex_unlock(o->second);
        pthread_mutex_unlock(o->first);
        for (int k = 0; k < OUTSIDE_WORK; k++) /* shrinks the collision odds */
            o->work = o->work * 6364136223846793005ull + 1442695040888963407ull;
        if (i % PROGRESS == 0) wl_say("thread %d iteration %ld", o->id, i);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct order t1 = {1, &lock_a, &lock_b, 1}, t2 = {2, &lock_b, &lock_a, 2};
    pthread_t p1, p2;

    iters = wl_arg(argc, argv, 1, 5000);
    held_work = wl_arg(argc, argv, 2, 20);
    wl_say("start");
    wl_say("iterations=%ld window=%ld", iters, held_work);
    if (pthread_create(&p1, NULL, run, &t1) || pthread_create(&p2, NULL, run, &t2))
        wl_fail("pthread_create");
    pthread_join(p1, NULL);
    pthread_join(p2, NULL);
    wl_say("counter=%llu expected=%llu work=%016llx", (unsigned long long)counter,
           (unsigned long long)(2 * iters), (unsigned long long)(t1.work ^ t2.work));
    if (counter != (uint64_t)(2 * iters)) wl_fail("lost updates");
    wl_say("done");
    return 0;
}
