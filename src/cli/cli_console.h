/*
 * cli_console.h - the guest's serial console on the host: UART output to
 * stdout, input from the terminal (raw mode, QEMU's Ctrl-A escapes), from a
 * pipe, or from a serial script; optional real-time pacing (-rt).
 *
 * This is the only place where the host clock and the terminal meet the
 * machine, and only through board_host callbacks: the clock paces the
 * run (-rt) and never becomes a guest-visible value, except that with -rt
 * an idle guest woken by terminal input resumes at the wall-clock instant
 * of that input (a host input, like the byte itself).
 *
 * Serial script (-serial-script FILE), one command per line:
 *   expect TEXT    wait until TEXT appears in the console output that
 *                  follows the previous command
 *   send TEXT      type TEXT followed by "\n" (Linux's tty and busybox sh
 *                  both take "\n" as Enter)
 *   sendraw TEXT   type TEXT as is
 *   # comment      (and blank lines) ignored
 * TEXT is the rest of the line after one space; escapes \n \r \t \e \\
 * and \xHH are decoded. Input depends on guest output only, so a scripted
 * run is deterministic. When the script ends, input is closed (stdin is
 * never read while a script is given).
 */
#ifndef MACHINA_CLI_CONSOLE_H
#define MACHINA_CLI_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "board.h"

typedef struct cli_console cli_console;

typedef struct cli_console_opts {
    const char *script_path; /* NULL: input from stdin */
    bool rt;                 /* pace guest time to wall time */
} cli_console_opts;

/* Opens the console: parses the script (MC_EIO with errno when it cannot
 * be read, MC_EFORMAT with a reason in err on a bad line) and, when stdin
 * is a terminal and no script is given, puts it into raw mode (restored
 * by cli_console_close, at exit and on fatal signals), and catches the
 * stop signals (cli_console_signal). */
int cli_console_open(cli_console **out, const cli_console_opts *o, char *err, size_t errlen);
/* Restores the terminal and frees the console; accepts NULL. */
void cli_console_close(cli_console *c);

/* The callbacks for board_new, with c as their context. */
void cli_console_host(cli_console *c, board_host *host);
/* Tells the console which board to stop on Ctrl-A x. */
void cli_console_attach(cli_console *c, board_t *b);
/* True after the user typed Ctrl-A x, or a stop signal came. */
bool cli_console_quit(const cli_console *c);
/* The stop signal (SIGINT, SIGTERM, SIGHUP; caught from cli_console_open
 * on unless ignored when the program started) that stopped the run at
 * the next round boundary, or 0; a second one is fatal. c may be NULL. */
int cli_console_signal(const cli_console *c);

#endif
