/*
 * cli_record.h - `machina record -o RUN.mrr [machine options]`: the same
 * run as `machina run`, recorded (replay/rr.h does the work).
 *
 * How machina.c calls it, after parsing the same options as `run` and
 * opening the console exactly as for `run`:
 *
 *     cli_record_opts ro;
 *     cli_record_opts_default(&ro);             // then, while parsing argv:
 *     int n = cli_record_parse_opt(&ro, argc, argv, i);  // -o, -checkpoint-every,
 *     if (n < 0) return 2;  if (n > 0) { i += n - 1; continue; }  // -full-every
 *     ...
 *     ro.until_ns = until_ns; ro.until_steps = until_steps;   // -max-time
 *     ro.vmlinux = o.vmlinux; ro.argc = argc; ro.argv = argv;  // optional
 *     cli_record *rec;
 *     if (cli_record_open(&rec, &cfg, &host, &ro) != 0) { status = 2; goto done; }
 *     cli_console_attach(con, cli_record_board(rec));
 *     board_outcome out;
 *     if (cli_record_run(rec, &out) != 0) { status = 1; goto done; }
 *     cli_console_close(con); con = NULL;
 *     status = report(&o, cli_record_board(rec), &out);      // as for run
 *     cli_record_close(rec);                                  // after report
 *
 * cfg's images must stay valid until cli_record_close. Errors are printed
 * as one line "machina: ..." on stderr; the functions return 0 or 1.
 * On success cli_record_run prints a one-line summary on stderr
 * ("machina: recorded RUN.mrr: ...").
 */
#ifndef MACHINA_CLI_RECORD_H
#define MACHINA_CLI_RECORD_H

#include <stdint.h>

#include "board.h"

typedef struct cli_record_opts {
    const char *out_path;      /* -o FILE (required) */
    uint64_t checkpoint_every; /* -checkpoint-every N (steps); 0: default */
    unsigned full_every;       /* -full-every N; 0: default */
    uint64_t checkpoint_ns;    /* -checkpoint-time T (guest ns); 0: default */
    uint64_t until_ns;         /* -max-time, as given to board_run */
    uint64_t until_steps;
    const char *vmlinux; /* stored as image "vmlinux" when set */
    int argc;            /* the command line, kept in the recording */
    char **argv;
} cli_record_opts;

typedef struct cli_record cli_record;

/* The options' help lines, for machina's --help. */
extern const char cli_record_usage[];

void cli_record_opts_default(cli_record_opts *o);
/* Parses argv[i] when it is a record option: returns how many arguments
 * it took (1 or 2), 0 when argv[i] is not one, -1 after printing an error
 * for a bad or missing value. */
int cli_record_parse_opt(cli_record_opts *o, int argc, char **argv, int i);

/* Creates the recording and the machine (live: the console's callbacks). */
int cli_record_open(cli_record **out, const board_config *cfg, const board_host *live,
                    const cli_record_opts *o);
/* The machine being recorded. */
board_t *cli_record_board(cli_record *r);
/* Runs to the end (the same stops as `run`), recording. */
int cli_record_run(cli_record *r, board_outcome *out);
/* Closes the file and frees the machine; accepts NULL. */
void cli_record_close(cli_record *r);

#endif
