/*
 * cli_inspect.h - machina-replay's introspection commands: sym, struct, ps,
 * threads, pt, layout and regs (with the pc and ra symbolized).
 *
 *   machina-replay RUN.mrr [--at T] [--json] [--vmlinux FILE] ps
 *
 * The kernel's symbols and types come from the vmlinux stored in the
 * recording (image "vmlinux"), or from --vmlinux FILE; either is refused
 * when its linux_banner differs from the one in guest memory. Every answer
 * at an instant is cached in the recording (db_obs.h) when the file is
 * writable, so asking again does not replay. Errors: one line on stderr.
 */
#ifndef MACHINA_CLI_INSPECT_H
#define MACHINA_CLI_INSPECT_H

#include <stdbool.h>

#include "rr.h"

/* Help lines for machina-replay --help. */
extern const char cli_inspect_usage[];

/* True for the commands this module runs. */
bool cli_inspect_handles(const char *cmd);
/* True when cmd takes (pt: may take) an argument. */
bool cli_inspect_takes_arg(const char *cmd);

typedef struct cli_inspect_args {
    const char *path;    /* the recording */
    rr_file *f;          /* open on path */
    const char *at;      /* the instant as given; NULL: "end" */
    const char *cmd;     /* ps, threads, pt, layout, struct, sym, regs */
    const char *arg;     /* pt PID, struct EXPR, sym NAME|ADDR; may be NULL */
    const char *vmlinux; /* --vmlinux FILE; NULL: the recording's image */
    bool json;
} cli_inspect_args;

/* Runs one command; returns the exit status (0, 1 bad data, 2 usage). */
int cli_inspect_run(const cli_inspect_args *a);

#endif
