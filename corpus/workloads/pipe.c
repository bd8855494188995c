/*
 * pipe - producer/consumer over a pipe between two processes.
 *
 * The parent produces BLOCKS blocks of BLOCK bytes from a 64-bit LCG and
 * writes them into a pipe; the forked child consumes them, regenerates the
 * same stream to check every byte, and checksums what it read (FNV-1a 64).
 * The child exits 0 only when the byte count and the checksum match the
 * producer's, which the parent announces before forking.
 *
 * Markers: "start", "producer bytes=N checksum=X", "consumer bytes=N
 * checksum=X ok", "done checksum=X".
 */
#define WL_NAME "pipe"
#include "workload.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>

enum { BLOCK = 4096, BLOCKS = 256 };

struct stream {
    uint64_t lcg;
};

static void fill(struct stream *s, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        s->lcg = s->lcg * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = (uint8_t)(s->lcg >> 56);
    }
}

static uint64_t fnv1a(uint64_t h, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        h = (h ^ buf[i]) * 0x100000001b3ull;
    return h;
}

static int consume(int fd, uint64_t want)
{
    struct stream s = {42};
    uint8_t got[BLOCK], expect[BLOCK];
    uint64_t h = 0xcbf29ce484222325ull;
    long total = 0;

    for (;;) {
        ssize_t n = read(fd, got, sizeof(got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            wl_say("FAIL consumer read: %s", strerror(errno));
            return 1;
        }
        if (n == 0) break;
        fill(&s, expect, (size_t)n);
        if (memcmp(got, expect, (size_t)n) != 0) {
            wl_say("FAIL consumer: corrupt data near byte %ld", total);
            return 1;
        }
        h = fnv1a(h, got, (size_t)n);
        total += n;
    }
    bool ok = total == (long)BLOCK * BLOCKS && h == want;
    wl_say("consumer bytes=%ld checksum=%016llx %s", total, (unsigned long long)h,
           ok ? "ok" : "MISMATCH");
    return ok ? 0 : 1;
}

int main(void)
{
    static uint8_t buf[BLOCK];
    struct stream s = {42};
    uint64_t h = 0xcbf29ce484222325ull;
    int fd[2];

    wl_say("start");
    /* The producer's checksum is known before any byte moves. */
    for (int b = 0; b < BLOCKS; b++) {
        fill(&s, buf, sizeof(buf));
        h = fnv1a(h, buf, sizeof(buf));
    }
    wl_say("producer bytes=%ld checksum=%016llx", (long)BLOCK * BLOCKS, (unsigned long long)h);
    if (pipe(fd) < 0) wl_fail("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) wl_fail("fork: %s", strerror(errno));
    if (pid == 0) {
        close(fd[1]);
        _exit(consume(fd[0], h));
    }
    close(fd[0]);
    s.lcg = 42;
    for (int b = 0; b < BLOCKS; b++) {
        fill(&s, buf, sizeof(buf));
        wl_write_all(fd[1], (const char *)buf, sizeof(buf));
    }
    close(fd[1]);
    int status;
    if (waitpid(pid, &status, 0) < 0) wl_fail("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        wl_fail("consumer reported failure (status 0x%x)", status);
    wl_say("done checksum=%016llx", (unsigned long long)h);
    return 0;
}
