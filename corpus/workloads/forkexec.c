/*
 * forkexec - a process tree built with fork + execve.
 *
 * The root (depth 0) forks FANOUT children; each child immediately execs this
 * same program as "forkexec child D" and, while D < DEPTH, forks FANOUT
 * children of its own.  Processes at depth DEPTH do nothing and exit (the
 * /bin/true of the tree).  Each process exits with the number of processes in
 * its subtree, so the root can check the total:
 *   1 + 2 + 4 + 8 = 15 processes, 14 forks, 14 execs  (FANOUT 2, DEPTH 3).
 *
 * Markers: "start", one "node depth=D subtree=N" per inner process,
 * "processes=15 forks=14 execs=14", "done".
 */
#define WL_NAME "forkexec"
#include "workload.h"

#include <sys/wait.h>

enum { FANOUT = 2, DEPTH = 3 };

static const char *self_path(const char *argv0)
{
    if (argv0 && strchr(argv0, '/')) return argv0;
    if (access("/proc/self/exe", X_OK) == 0) return "/proc/self/exe";
    return "/bin/forkexec";
}

/* Fork and exec FANOUT children at depth+1; return the processes below us. */
static int spawn_children(const char *self, int depth)
{
    pid_t pids[FANOUT];
    char arg[16];
    int below = 0;

    snprintf(arg, sizeof(arg), "%d", depth + 1);
    for (int i = 0; i < FANOUT; i++) {
        pids[i] = fork();
        if (pids[i] < 0) wl_fail("fork at depth %d: %s", depth, strerror(errno));
        if (pids[i] == 0) {
            char *const args[] = {(char *)self, "child", arg, NULL};
            execv(self, args);
            wl_say("FAIL exec %s: %s", self, strerror(errno));
            _exit(0);
        }
    }
    for (int i = 0; i < FANOUT; i++) {
        int status;
        if (waitpid(pids[i], &status, 0) < 0)
            wl_fail("waitpid at depth %d: %s", depth, strerror(errno));
        if (!WIFEXITED(status))
            wl_fail("child of depth %d died abnormally (status 0x%x)", depth, status);
        below += WEXITSTATUS(status);
    }
    return below;
}

int main(int argc, char **argv)
{
    const char *self = self_path(argv[0]);

    if (argc >= 3 && strcmp(argv[1], "child") == 0) {
        int depth = atoi(argv[2]);
        if (depth < 1 || depth > DEPTH) return 0; /* malformed: count as nothing */
        if (depth == DEPTH) return 1;             /* leaf */
        int subtree = 1 + spawn_children(self, depth);
        wl_say("node depth=%d pid=%d subtree=%d", depth, (int)getpid(), subtree);
        return subtree;
    }

    wl_say("start");
    wl_say("tree fanout=%d depth=%d exec=%s", FANOUT, DEPTH, self);
    int total = 1 + spawn_children(self, 0);
    int expect = 0;
    for (int d = 0, n = 1; d <= DEPTH; d++, n *= FANOUT)
        expect += n;
    wl_say("processes=%d forks=%d execs=%d", total, total - 1, total - 1);
    if (total != expect) wl_fail("expected %d processes, counted %d", expect, total);
    wl_say("done");
    return 0;
}
