/*
 * workload.h - progress markers shared by the machina guest workloads.
 *
 * Every workload prints lines of the form "[machina:NAME] text" on stdout.
 * Lines are formatted into one buffer and written with a single write(2), so
 * they are never held in a stdio buffer (nothing is lost or duplicated across
 * fork, nothing waits for a flush before a hang) and lines printed by
 * different processes or threads do not interleave.  Integration tests grep
 * for "[machina:NAME] start" and "[machina:NAME] done".
 *
 * Define WL_NAME before including this header.
 */
#ifndef MACHINA_WORKLOAD_H
#define MACHINA_WORKLOAD_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef WL_NAME
#error "define WL_NAME before including workload.h"
#endif

/* Write all of buf to fd, retrying on short writes and EINTR. */
static inline void wl_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* Print one marker line "[machina:NAME] <formatted text>\n" on stdout. */
__attribute__((format(printf, 1, 2))) static inline void wl_say(const char *fmt, ...)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "[machina:%s] ", WL_NAME);
    va_list ap;

    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 2) n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    wl_write_all(1, buf, (size_t)n);
}

/* Print a failure marker and exit with status 1 (no "done" line). */
__attribute__((format(printf, 1, 2), noreturn)) static inline void wl_fail(const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    wl_say("FAIL %s", msg);
    exit(1);
}

/* Parse argv[i] as a positive integer, or return def when absent/invalid. */
static inline long wl_arg(int argc, char **argv, int i, long def)
{
    if (i >= argc) return def;
    char *end;
    long v = strtol(argv[i], &end, 0);
    return (*end == '\0' && v > 0) ? v : def;
}

#endif
