/*
 * machina_replay.c - the machina-replay program: inspect a recording.
 *
 * Recordings arrive with the record-and-replay layer (replay/); until then
 * this program only explains its usage.
 */
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: machina-replay RUN.mrr [--at T] COMMAND [ARGS]\n"
               "\n"
               "Inspects a recording made by `machina record`.\n"
               "Commands: info, regs, uart, verify, ps, threads, pt, layout, struct, sym,\n"
               "          index, sql, export, tui, gdb\n");
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("machina-replay %s\n", MACHINA_VERSION);
        return 0;
    }
    if (argc < 3) {
        usage(stderr);
        return 2;
    }
    fprintf(stderr, "machina-replay: %s: recordings are not supported by this build yet\n", argv[1]);
    return 2;
}
