/*
 * syscalls - an exact, known number of cheap system calls.
 *
 * GETPPID_CALLS getppid, RW_CALLS read(2) of CHUNK bytes from /dev/zero and
 * RW_CALLS write(2) of CHUNK bytes to /dev/null, all issued with syscall(2)
 * so libc can neither cache nor batch them.  When /dev/zero or /dev/null is
 * missing (an initramfs without devtmpfs) a pipe stands in: each iteration
 * writes CHUNK bytes into it and reads them back, same call counts.
 * Counts below exclude the few calls of setup and marker printing.
 *
 * Markers: "start", "getppid calls=10000", "read calls=1000 bytes=64000
 * source=...", "write calls=1000 bytes=64000 sink=...", "done".
 */
#define WL_NAME "syscalls"
#include "workload.h"

#include <fcntl.h>
#include <sys/syscall.h>

enum { GETPPID_CALLS = 10000, RW_CALLS = 1000, CHUNK = 64 };

int main(void)
{
    char buf[CHUNK];
    long ppid_calls = 0, reads = 0, writes = 0, rbytes = 0, wbytes = 0;
    pid_t ppid = getppid();
    int pfd[2] = {-1, -1};

    wl_say("start");
    for (int i = 0; i < GETPPID_CALLS; i++) {
        if (syscall(SYS_getppid) != ppid) wl_fail("getppid changed");
        ppid_calls++;
    }
    wl_say("getppid calls=%ld", ppid_calls);

    int zero = open("/dev/zero", O_RDONLY);
    int null = open("/dev/null", O_WRONLY);
    const char *src = "/dev/zero", *sink = "/dev/null";
    if (zero < 0 || null < 0) {
        if (pipe(pfd) < 0) wl_fail("pipe: %s", strerror(errno));
        zero = pfd[0];
        null = pfd[1];
        src = sink = "pipe";
    }
    memset(buf, 0, sizeof(buf));
    for (int i = 0; i < RW_CALLS; i++) {
        long w = syscall(SYS_write, null, buf, CHUNK);
        if (w != CHUNK) wl_fail("write returned %ld", w);
        writes++;
        wbytes += w;
        memset(buf, 0xa5, sizeof(buf));
        long r = syscall(SYS_read, zero, buf, CHUNK);
        if (r != CHUNK) wl_fail("read returned %ld", r);
        for (int k = 0; k < CHUNK; k++)
            if (buf[k] != 0)
                wl_fail("read byte %d of call %d is 0x%02x", k, i, (unsigned char)buf[k]);
        reads++;
        rbytes += r;
    }
    wl_say("read calls=%ld bytes=%ld source=%s", reads, rbytes, src);
    wl_say("write calls=%ld bytes=%ld sink=%s", writes, wbytes, sink);
    wl_say("total calls=%ld", ppid_calls + reads + writes);
    wl_say("done");
    return 0;
}
