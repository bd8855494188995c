/*
 * pagefault - demand-paging churn: ROUNDS times mmap PAGES anonymous pages,
 * write one word into each (one page fault per page), read them back, munmap.
 *
 * Markers: "start", "round R pages=P" every 8 rounds, "rounds=64 pages=16384",
 * "done".
 */
#define WL_NAME "pagefault"
#include "workload.h"

#include <stdint.h>
#include <sys/mman.h>

enum { ROUNDS = 64, PAGES = 256 };

int main(void)
{
    long page = sysconf(_SC_PAGESIZE);
    long touched = 0;

    wl_say("start");
    wl_say("page_size=%ld rounds=%d pages_per_round=%d", page, ROUNDS, PAGES);
    for (int r = 0; r < ROUNDS; r++) {
        size_t len = (size_t)PAGES * (size_t)page;
        uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) wl_fail("mmap round %d: %s", r, strerror(errno));
        for (int i = 0; i < PAGES; i++) {
            uint64_t *w = (uint64_t *)(p + (size_t)i * (size_t)page);
            if (*w != 0) /* fresh anonymous memory must read as zero */
                wl_fail("round %d page %d not zero", r, i);
            *w = ((uint64_t)r << 32) | (uint64_t)i;
            touched++;
        }
        for (int i = 0; i < PAGES; i++) {
            uint64_t *w = (uint64_t *)(p + (size_t)i * (size_t)page);
            if (*w != (((uint64_t)r << 32) | (uint64_t)i))
                wl_fail("round %d page %d lost its value", r, i);
        }
        if (munmap(p, len) < 0) wl_fail("munmap round %d: %s", r, strerror(errno));
        if ((r + 1) % 8 == 0) wl_say("round %d pages=%ld", r + 1, touched);
    }
    wl_say("rounds=%d pages=%ld", ROUNDS, touched);
    wl_say("done");
    return 0;
}
