/*
 * machina_replay.c - the machina-replay program: inspect a recording made
 * by `machina record`.
 *
 *   machina-replay RUN.mrr [--at T] [--json] info|regs|uart|verify
 *
 * Every command says which instant it answered for ("at i:N (x ms)"): on
 * stdout, except for `uart`, whose stdout is the console transcript alone
 * (the instant then goes to stderr). Exit status: 0 success; 1 the
 * recording is corrupt or the replay diverges from it (verify: DIVERGED);
 * 2 bad usage or a file that cannot be opened.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_index.h"
#include "cli_inspect.h"
#include "rr.h"
#include "snap.h"

#ifndef MACHINA_VERSION
#define MACHINA_VERSION "0"
#endif

#define EXIT_BAD   1
#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: machina-replay RUN.mrr [--at T] [--json] COMMAND\n"
    "\n"
    "Inspects a recording made by `machina record -o RUN.mrr`; the machine is\n"
    "rebuilt from the recording alone.\n"
    "\n"
    "Commands:\n"
    "  info      what was recorded: duration, steps, harts, images (size, SHA-256),\n"
    "            checkpoints, inputs, format version\n"
    "  regs      per hart at T: pc and privilege, GPRs, FPRs, key CSRs\n"
    "  uart      the console output (UART TX) up to T, raw on stdout\n"
    "  verify    replay the whole run, compare every checkpoint's state hash, the\n"
    "            end state and the console output; name the first divergence\n"
    "%s"
    "%s"
    "\n"
    "Options:\n"
    "  --at T    the instant: 3.2s, 250ms, 40us, 100ns, i:N (instructions in all),\n"
    "            end (default)\n"
    "  --json    JSON output: info, regs and the inspection commands\n"
    "  --from-checkpoint K\n"
    "            commands at an instant: replay to T from checkpoint K (or from\n"
    "            the nearest one before T when that is earlier) instead of the\n"
    "            nearest one; the answer must not depend on it (the same as\n"
    "            MACHINA_RR_START=K)\n"
    "  --segments\n"
    "            verify: instead of one replay from power-on, replay every\n"
    "            segment from its own restored checkpoint and compare the state\n"
    "            it reaches at the next checkpoint (and the end)\n"
    "  --vmlinux FILE  kernel symbols and types (default: the recording's vmlinux)\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 success; 1 corrupt recording or the replay diverges; 2 bad\n"
    "usage or unreadable file.\n";

static const char *const stop_names[] = {
    "none",     "poweroff",  "finisher fail",       "tohost",
    "max-time", "max-steps", "stopped by the user", "idle forever"};

static const char *stop_name(int s)
{
    return s >= 0 && s < (int)(sizeof(stop_names) / sizeof(stop_names[0])) ? stop_names[s] : "?";
}

static void ms(char *buf, size_t len, uint64_t ns)
{
    snprintf(buf, len, "%llu.%06llu ms", (unsigned long long)(ns / 1000000),
             (unsigned long long)(ns % 1000000));
}

/* ---- info ------------------------------------------------------------------- */

static int cmd_info(rr_file *f, const char *path, bool json)
{
    const rr_info *in = rr_get_info(f);
    rr_image_info *imgs = NULL;
    size_t nimg = 0, nck = 0;
    const rr_ckpt_info *ck;
    char err[512] = "";
    if (rr_images(f, &imgs, &nimg, err, sizeof(err)) < 0 || rr_checkpoints(f, &ck, &nck) < 0) {
        fprintf(stderr, "machina-replay: %s: %s\n", path, err);
        return EXIT_BAD;
    }
    uint64_t nfull = 0, fbytes = 0, dbytes = 0;
    for (size_t i = 0; i < nck; i++) {
        if (ck[i].kind == SNAP_FULL) {
            nfull++;
            fbytes += ck[i].stored_size;
        } else {
            dbytes += ck[i].stored_size;
        }
    }
    char dur[64];
    ms(dur, sizeof(dur), in->end_vtime);
    if (json) {
        json_t *o = json_object(), *ja = json_array();
        json_object_set_new(o, "at", json_sprintf("i:%llu", (unsigned long long)in->end_steps));
        json_object_set_new(o, "format_version", json_integer(in->format_version));
        json_object_set_new(o, "emulator", json_string(in->emulator));
        json_object_set_new(o, "created", json_string(in->created));
        json_object_set_new(o, "harts", json_integer(in->nharts));
        json_object_set_new(o, "ram_size", json_integer((json_int_t)in->ram_size));
        json_object_set_new(o, "ext", json_integer(in->ext));
        json_object_set_new(o, "quantum", json_integer((json_int_t)in->quantum));
        json_object_set_new(o, "ns_per_step", json_integer((json_int_t)in->ns_per_step));
        json_object_set_new(o, "cmdline", in->cmdline ? json_string(in->cmdline) : json_null());
        json_object_set_new(o, "steps", json_integer((json_int_t)in->end_steps));
        json_object_set_new(o, "vtime_ns", json_integer((json_int_t)in->end_vtime));
        json_object_set_new(o, "complete", json_boolean(in->complete));
        json_object_set_new(o, "end", json_string(in->complete ? stop_name(in->end_stop) : "cut"));
        json_object_set_new(o, "end_state_hash",
                            json_sprintf("%016llx", (unsigned long long)in->end_hash));
        for (size_t i = 0; i < nimg; i++) {
            json_t *im = json_object();
            json_object_set_new(im, "name", json_string(imgs[i].name));
            json_object_set_new(im, "size", json_integer((json_int_t)imgs[i].size));
            json_object_set_new(im, "stored", json_integer((json_int_t)imgs[i].stored));
            json_object_set_new(im, "sha256", json_string(imgs[i].sha256));
            json_array_append_new(ja, im);
        }
        json_object_set_new(o, "images", ja);
        json_object_set_new(o, "checkpoints", json_integer((json_int_t)nck));
        json_object_set_new(o, "checkpoints_full", json_integer((json_int_t)nfull));
        json_object_set_new(o, "checkpoint_bytes_full", json_integer((json_int_t)fbytes));
        json_object_set_new(o, "checkpoint_bytes_delta", json_integer((json_int_t)dbytes));
        json_object_set_new(o, "checkpoint_every", json_integer((json_int_t)in->checkpoint_every));
        json_object_set_new(o, "inputs", json_integer((json_int_t)in->ninputs));
        json_object_set_new(o, "uart_bytes", json_integer((json_int_t)in->uart_bytes));
        char *s = json_dumps(o, JSON_INDENT(2));
        if (s) puts(s);
        free(s);
        json_decref(o);
        free(imgs);
        return 0;
    }
    printf("at end: i:%llu (%s)\n", (unsigned long long)in->end_steps, dur);
    printf("recording   %s: format version %u, made by %s on %s\n", path, in->format_version,
           in->emulator, in->created);
    if (in->command) printf("command     %s\n", in->command);
    printf("machine     %u hart(s), %llu MiB RAM, extensions %#x, quantum %llu, %llu ns/step\n",
           in->nharts, (unsigned long long)(in->ram_size >> 20), in->ext,
           (unsigned long long)in->quantum, (unsigned long long)in->ns_per_step);
    if (in->cmdline) printf("cmdline     %s\n", in->cmdline);
    printf("duration    %s virtual, %llu steps; ", dur, (unsigned long long)in->end_steps);
    if (in->complete)
        printf("ended: %s (code %llu)\n", stop_name(in->end_stop),
               (unsigned long long)in->end_code);
    else
        printf("cut short: ends at its last checkpoint\n");
    printf("state hash  %016llx at the end\n", (unsigned long long)in->end_hash);
    printf("images\n");
    for (size_t i = 0; i < nimg; i++)
        printf("  %-8s %10llu bytes (%llu stored)  sha256 %s\n", imgs[i].name,
               (unsigned long long)imgs[i].size, (unsigned long long)imgs[i].stored,
               imgs[i].sha256);
    printf("checkpoints %zu every %llu steps, at least every %u-th full: %llu full %llu bytes, %llu delta "
           "%llu bytes\n",
           nck, (unsigned long long)in->checkpoint_every, in->full_every, (unsigned long long)nfull,
           (unsigned long long)fbytes, (unsigned long long)(nck - nfull),
           (unsigned long long)dbytes);
    printf("inputs      %llu\n", (unsigned long long)in->ninputs);
    printf("console     %llu bytes of output\n", (unsigned long long)in->uart_bytes);
    free(imgs);
    return 0;
}

/* ---- main ------------------------------------------------------------------- */

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "machina-replay: %s%s%s (try --help)\n", msg, arg ? " " : "", arg ? arg : "");
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *cmd = NULL, *at = NULL, *arg = NULL, *vmlinux = NULL;
    bool json = false;
    uint64_t from_ck = UINT64_MAX; /* --from-checkpoint */
    bool segments = false;         /* verify --segments */
    int ci = cli_index_find(argc, argv);
    if (ci > 0) return cli_index_main(argc, argv, ci);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf(usage_text, cli_inspect_usage, cli_index_usage);
            return 0;
        }
        if (!strcmp(a, "--version")) {
            printf("machina-replay %s (recording format %u)\n", MACHINA_VERSION, RR_FORMAT_VERSION);
            return 0;
        }
        if (!strcmp(a, "--at")) {
            if (i + 1 >= argc) return usage_error("--at: missing instant", NULL);
            at = argv[++i];
        } else if (!strcmp(a, "--vmlinux") || !strcmp(a, "-vmlinux")) {
            if (i + 1 >= argc) return usage_error("--vmlinux: missing file", NULL);
            vmlinux = argv[++i];
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--from-checkpoint")) {
            char *end;
            if (i + 1 >= argc) return usage_error("--from-checkpoint: missing checkpoint", NULL);
            const char *v = argv[++i];
            from_ck = strtoull(v, &end, 10);
            if (!*v || *end || *v == '-' || from_ck == UINT64_MAX)
                return usage_error("--from-checkpoint: not a checkpoint number:", v);
            setenv("MACHINA_RR_START", v, 1); /* every seek honours it (rr_seek) */
        } else if (!strcmp(a, "--segments")) {
            segments = true;
        } else if (cmd && !arg && cli_inspect_takes_arg(cmd)) {
            arg = a;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option", a);
        } else if (!path) {
            path = a;
        } else if (!cmd) {
            cmd = a;
        } else {
            return usage_error("unexpected argument", a);
        }
    }
    if (!path || !cmd) return usage_error("expected RUN.mrr and a command", NULL);
    if (from_ck != UINT64_MAX && (!strcmp(cmd, "info") || !strcmp(cmd, "verify")))
        return usage_error("--from-checkpoint does not apply to", cmd);
    if (segments && strcmp(cmd, "verify"))
        return usage_error("--segments applies to verify, not", cmd);
    if (cli_inspect_handles(cmd)) {
        rr_instant ti;
        if (rr_parse_instant(at ? at : "end", &ti) < 0)
            return usage_error("--at: bad instant (e.g. 3.2s, 250ms, 40us, i:N, end):", at);
        char ierr[1024] = "";
        rr_file *fi = NULL;
        int irc = rr_open(&fi, path, ierr, sizeof(ierr));
        if (irc < 0) {
            fprintf(stderr, "machina-replay: %s: %s\n", path, *ierr ? ierr : mc_strerror(irc));
            return irc == MC_EIO ? EXIT_USAGE : EXIT_BAD;
        }
        cli_inspect_args ia = {path, fi, at, cmd, arg, vmlinux, json};
        int ist = cli_inspect_run(&ia);
        rr_close(fi);
        return ist;
    }
    /* regs, ps, ... went to cli_inspect above; index and sql to cli_index. */
    static const char *const later[] = {"locks", "waitfor", "dmesg", "export", "tui", "gdb"};
    bool known = !strcmp(cmd, "info") || !strcmp(cmd, "uart") || !strcmp(cmd, "verify");
    for (size_t i = 0; !known && i < sizeof(later) / sizeof(later[0]); i++)
        if (!strcmp(cmd, later[i])) {
            fprintf(stderr, "machina-replay: '%s' is not implemented in this build yet\n", cmd);
            return EXIT_USAGE;
        }
    if (!known) return usage_error("unknown command", cmd);
    rr_instant t;
    if (rr_parse_instant(at ? at : "end", &t) < 0)
        return usage_error("--at: bad instant (e.g. 3.2s, 250ms, 40us, i:N, end):", at);
    if (at && (!strcmp(cmd, "verify") || !strcmp(cmd, "info")))
        return usage_error("--at does not apply to", cmd);
    if (json && strcmp(cmd, "info"))
        return usage_error("--json does not apply to", cmd);

    char err[1024] = "";
    rr_file *f = NULL;
    rr_replay *rp = NULL;
    int status = EXIT_BAD, rc = rr_open(&f, path, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "machina-replay: %s: %s\n", path, *err ? err : mc_strerror(rc));
        return rc == MC_EIO ? EXIT_USAGE : EXIT_BAD;
    }
    if (!strcmp(cmd, "info")) {
        status = cmd_info(f, path, json);
        goto done;
    }
    if (!strcmp(cmd, "verify")) {
        rr_verify_result *res = calloc(1, sizeof(*res));
        if (!res) goto done;
        rc = segments ? rr_verify_segments(f, res, err, sizeof(err))
                      : rr_verify(f, res, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "machina-replay: %s: %s\n", path, *err ? err : mc_strerror(rc));
        } else {
            fputs(res->report, stdout);
            status = res->ok ? 0 : EXIT_BAD;
        }
        free(res);
        goto done;
    }
    if ((rc = rr_replay_new(&rp, f, err, sizeof(err))) < 0 ||
        (rc = rr_seek(rp, &t, err, sizeof(err))) < 0) {
        fprintf(stderr, "machina-replay: %s: %s\n", path, *err ? err : mc_strerror(rc));
        goto done;
    }
    { /* uart */
        uint8_t *buf;
        size_t len;
        char pos[96];
        if ((rc = rr_uart(rp, &buf, &len, err, sizeof(err))) < 0) {
            fprintf(stderr, "machina-replay: %s: %s\n", path, *err ? err : mc_strerror(rc));
            goto done;
        }
        rr_position(rp, pos, sizeof(pos));
        fprintf(stderr, "at %s: %zu bytes of console output\n", pos, len);
        status = fwrite(buf, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : EXIT_BAD;
        free(buf);
    }
done:
    rr_replay_free(rp);
    rr_close(f);
    return status;
}
