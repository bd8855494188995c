/*
 * deadlock - a certain ABBA deadlock.
 *
 * Thread 1 locks A, thread 2 locks B, both meet at a barrier, then thread 1
 * asks for B and thread 2 for A.  Neither can proceed, main blocks in join:
 * the program hangs forever and never prints "done".  This is the fixture for
 * "find the deadlock in a recording" tests.
 *
 * Markers: "start", "locked A", "locked B", "waiting for B", "waiting for A".
 */
#define WL_NAME "deadlock"
#include "workload.h"

#include <pthread.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold_one;

static void *take_a_then_b(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock_a);
    wl_say("locked A");
    pthread_barrier_wait(&both_hold_one);
    wl_say("waiting for B");
    pthread_mutex_lock(&lock_b); /* never returns */
    wl_say("FAIL thread 1 got B");
    return NULL;
}

static void *take_b_then_a(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock_b);
    wl_say("locked B");
    pthread_barrier_wait(&both_hold_one);
    wl_say("waiting for A");
    pthread_mutex_lock(&lock_a); /* never returns */
    wl_say("FAIL thread 2 got A");
    return NULL;
}

int main(void)
{
    pthread_t t1, t2;

    wl_say("start");
    pthread_barrier_init(&both_hold_one, NULL, 2);
    if (pthread_create(&t1, NULL, take_a_then_b, NULL) ||
        pthread_create(&t2, NULL, take_b_then_a, NULL))
        wl_fail("pthread_create");
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    wl_say("FAIL no deadlock");
    return 1;
}
