/*
 * cli_index.h - `machina-replay RUN.mrr index [--jobs N] [--force]` and
 * `machina-replay RUN.mrr sql "SELECT ..." [--csv|--json]`: the event
 * index (db/db.h) over a recording.
 *
 * machina_replay.c dispatches before its own option parsing:
 *
 *     int ci = cli_index_find(argc, argv);
 *     if (ci > 0) return cli_index_main(argc, argv, ci);
 *
 * Exit status as machina-replay's: 0 success, 1 corrupt recording or a
 * failed replay, 2 bad usage or unreadable file.
 */
#ifndef MACHINA_CLI_INDEX_H
#define MACHINA_CLI_INDEX_H

/* Help lines for machina-replay --help. */
extern const char cli_index_usage[];

/* Position in argv of an "index" or "sql" command word (the second
 * positional argument), or 0. */
int cli_index_find(int argc, char **argv);
/* Runs it; returns the exit status. */
int cli_index_main(int argc, char **argv, int cmd_pos);

#endif
