/*
 * cli_record.c - the `machina record` front end (see cli_record.h): option
 * parsing, the vmlinux image, messages; replay/rr_record.c records.
 */
#include "cli_record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rr.h"

#ifndef MACHINA_VERSION
#define MACHINA_VERSION "0"
#endif

struct cli_record {
    rr_rec *rec;
    char *path;
};

const char cli_record_usage[] =
    "Record (machina record):\n"
    "  -o FILE           the recording to write (replaced if it exists)\n"
    "  -checkpoint-every N\n"
    "                    steps between checkpoints (default 40000000)\n"
    "  -checkpoint-time T\n"
    "                    also one checkpoint after T of guest time once N/10\n"
    "                    steps have run (e.g. 500ms; default 1s; 'never': by\n"
    "                    steps only)\n"
    "  -full-every N     a checkpoint is full (the others are deltas) when the\n"
    "                    deltas since the last full one add up to its size, and\n"
    "                    at least every N-th (default 50; 1: all full)\n";

void cli_record_opts_default(cli_record_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->until_ns = o->until_steps = UINT64_MAX;
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (!s || !*s || *s == '-') return false;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || *end) return false;
    *v = x;
    return true;
}

int cli_record_parse_opt(cli_record_opts *o, int argc, char **argv, int i)
{
    const char *a = argv[i];
    if (a[0] != '-') return 0;
    const char *name = a + 1 + (a[1] == '-');
    bool out = !strcmp(name, "o"), every = !strcmp(name, "checkpoint-every"),
         full = !strcmp(name, "full-every"), ctime = !strcmp(name, "checkpoint-time");
    if (!out && !every && !full && !ctime) return 0;
    if (i + 1 >= argc) {
        fprintf(stderr, "machina: %s: missing argument\n", a);
        return -1;
    }
    const char *v = argv[i + 1];
    uint64_t n;
    if (out) {
        o->out_path = v;
    } else if (ctime) {
        uint64_t ns, steps;
        if (!strcmp(v, "never")) {
            o->checkpoint_ns = UINT64_MAX;
        } else if (board_parse_instant(v, &ns, &steps) < 0 || ns == UINT64_MAX || ns == 0) {
            fprintf(stderr, "machina: %s: '%s' is not a guest time (e.g. 500ms, 2s)\n", a, v);
            return -1;
        } else {
            o->checkpoint_ns = ns;
        }
    } else if (!parse_u64(v, &n) || n < 1 || (full && n > 1000000)) {
        fprintf(stderr, "machina: %s: '%s' is not a positive count\n", a, v);
        return -1;
    } else if (every) {
        o->checkpoint_every = n;
    } else {
        o->full_every = (unsigned)n;
    }
    return 2;
}

/* The command line as one string, for meta. */
static char *join(int argc, char **argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 3;
    char *s = malloc(len);
    if (!s) return NULL;
    s[0] = 0;
    for (int i = 0; i < argc; i++) {
        if (i) strcat(s, " ");
        bool q = strchr(argv[i], ' ') != NULL;
        if (q) strcat(s, "'");
        strcat(s, argv[i]);
        if (q) strcat(s, "'");
    }
    return s;
}

int cli_record_open(cli_record **out, const board_config *cfg, const board_host *live,
                    const cli_record_opts *o)
{
    if (!o->out_path) {
        fprintf(stderr, "machina: record: -o FILE is required\n");
        return 1;
    }
    cli_record *r = calloc(1, sizeof(*r));
    char *cmd = o->argv ? join(o->argc, o->argv) : NULL;
    if (!r || !(r->path = strdup(o->out_path))) {
        fprintf(stderr, "machina: out of memory\n");
        free(r);
        free(cmd);
        return 1;
    }
    rr_rec_opts ro = {
        .checkpoint_every = o->checkpoint_every,
        .full_every = o->full_every,
        .checkpoint_every_ns = o->checkpoint_ns,
        .until_ns = o->until_ns,
        .until_steps = o->until_steps,
        .emulator = "machina " MACHINA_VERSION,
        .command = cmd,
    };
    char err[512] = "";
    int rc = rr_rec_open(&r->rec, o->out_path, cfg, live, &ro, err, sizeof(err));
    free(cmd);
    if (rc < 0) {
        fprintf(stderr, "machina: %s: %s\n", o->out_path, *err ? err : mc_strerror(rc));
        cli_record_close(r);
        return 1;
    }
    if (o->vmlinux) {
        /* read by the recorder's writer thread while the machine runs:
         * say now when it cannot be */
        struct stat sb;
        errno = 0;
        if (stat(o->vmlinux, &sb) < 0 || access(o->vmlinux, R_OK) < 0 || !S_ISREG(sb.st_mode)) {
            fprintf(stderr, "machina: -vmlinux: cannot read '%s': %s\n", o->vmlinux,
                    errno ? strerror(errno) : "not a file");
            cli_record_close(r);
            return 1;
        }
        if ((rc = rr_rec_add_image_file(r->rec, "vmlinux", o->vmlinux)) < 0) {
            fprintf(stderr, "machina: %s: cannot store the vmlinux: %s\n", o->out_path,
                    mc_strerror(rc));
            cli_record_close(r);
            return 1;
        }
    }
    *out = r;
    return 0;
}

board_t *cli_record_board(cli_record *r)
{
    return rr_rec_board(r->rec);
}

int cli_record_run(cli_record *r, board_outcome *out)
{
    char err[512] = "";
    int rc = rr_rec_run(r->rec, out, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "\r\nmachina: %s: %s\n", r->path, *err ? err : mc_strerror(rc));
        return 1;
    }
    rr_rec_stats st;
    rr_rec_get_stats(r->rec, &st);
    fprintf(stderr,
            "machina: recorded %s: i:%llu, %llu checkpoints (%llu full %.1f MiB, %llu delta "
            "%.1f MiB), %llu inputs\n",
            r->path, (unsigned long long)board_steps(cli_record_board(r)),
            (unsigned long long)st.checkpoints, (unsigned long long)st.full,
            (double)st.full_bytes / 1048576.0, (unsigned long long)st.delta,
            (double)st.delta_bytes / 1048576.0, (unsigned long long)st.inputs);
    return 0;
}

void cli_record_close(cli_record *r)
{
    if (!r) return;
    rr_rec_free(r->rec);
    free(r->path);
    free(r);
}
