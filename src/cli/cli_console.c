/*
 * cli_console.c - host side of the serial console (see cli_console.h).
 *
 * Input sources, exactly one per run: the script, the terminal (raw mode)
 * or stdin as a pipe/file; bytes go into a FIFO that the board drains at
 * round boundaries through uart_rx. stdin is polled at most every
 * POLL_NS of wall time while the guest runs, and waited on while the
 * guest idles. The saved terminal state is the one piece of global state
 * here: the signal handler and atexit need it to restore the terminal.
 */
#define _GNU_SOURCE
#include "cli_console.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define POLL_NS       5000000ll   /* read stdin every 5 ms of wall time */
#define PACE_SLACK_NS 1000000ll   /* -rt: sleep when 1 ms ahead */
#define RESYNC_NS     100000000ll /* -rt: forget a lag of more than 100 ms */

enum cmd_kind { CMD_EXPECT, CMD_SEND };

typedef struct cmd {
    enum cmd_kind kind;
    char *text;
    size_t len;
} cmd;

struct cli_console {
    board_t *board;
    bool rt, quit, esc;
    int sig;         /* the stop signal that stopped the run, or 0 */
    bool stdin_open; /* stdin is an input source and not at EOF */
    bool tty;        /* stdin in raw mode */
    /* input FIFO */
    uint8_t *q;
    size_t qhead, qtail, qcap;
    /* script */
    cmd *cmds;
    size_t ncmds, next;
    char *win; /* last output bytes, for expect */
    size_t winlen, wincap;
    /* wall clock */
    int64_t last_poll, wall0;
    uint64_t v0;
};

/* ---- terminal ------------------------------------------------------------ */

static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;

static void restore_tty(void)
{
    if (tio_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
        tio_saved = 0;
    }
}

static void on_fatal_signal(int sig)
{
    restore_tty();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* SIGINT, SIGTERM, SIGHUP: the first stops the machine at the next round
 * boundary, as Ctrl-A x does (a recording then ends there, complete); a
 * second one is fatal. */
static volatile sig_atomic_t stop_sig;

static void on_stop_signal(int sig)
{
    if (stop_sig) {
        on_fatal_signal(sig);
        return;
    }
    stop_sig = sig;
}

static void catch_stop_signals(void)
{
    static bool caught;
    if (caught) return;
    caught = true;
    int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction old, sa;
        /* one the parent ignores stays ignored (nohup, a background job) */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_stop_signal;
        sa.sa_flags = SA_RESTART; /* console writes go on; poll() still wakes */
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

static int raw_mode(void)
{
    struct termios t;
    if (tcgetattr(STDIN_FILENO, &saved_tio) < 0) return -1;
    t = saved_tio;
    /* As QEMU's -nographic stdio: no echo, no line editing, no signals,
     * no CR/NL translation on input; output processing kept. */
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_oflag |= OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN | ISIG);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tio_saved = 1;
    static bool hooked;
    if (!hooked) {
        hooked = true;
        atexit(restore_tty);
        int sigs[] = {SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
            struct sigaction sa;
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = on_fatal_signal;
            sigemptyset(&sa.sa_mask);
            sigaction(sigs[i], &sa, NULL);
        }
    }
    return tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* ---- input FIFO ---------------------------------------------------------- */

static void push(cli_console *c, const void *data, size_t n)
{
    const uint8_t *p = data;
    if (c->qtail + n > c->qcap) {
        if (c->qhead) { /* compact, then grow */
            memmove(c->q, c->q + c->qhead, c->qtail - c->qhead);
            c->qtail -= c->qhead;
            c->qhead = 0;
        }
        if (c->qtail + n > c->qcap) {
            size_t cap = c->qcap ? c->qcap : 256;
            while (cap < c->qtail + n)
                cap *= 2;
            uint8_t *nq = realloc(c->q, cap);
            if (!nq) return; /* input lost: out of memory */
            c->q = nq;
            c->qcap = cap;
        }
    }
    memcpy(c->q + c->qtail, p, n);
    c->qtail += n;
}

static void quit(cli_console *c)
{
    c->quit = true;
    if (c->board) board_request_stop(c->board);
}

/* Whether the run is to stop (Ctrl-A x, or a stop signal: then, again at
 * every call, since the board may have been attached after it came). */
static bool stopping(cli_console *c)
{
    if (stop_sig) {
        c->sig = (int)stop_sig;
        quit(c);
    }
    return c->quit;
}

/* Terminal bytes through QEMU's Ctrl-A escapes. */
static void from_terminal(cli_console *c, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = buf[i];
        if (c->esc) {
            c->esc = false;
            if (ch == 'x' || ch == 'X') {
                quit(c);
            } else if (ch == 0x01) {
                push(c, &ch, 1);
            } else if (ch == 'h' || ch == '?') {
                static const char help[] = "\r\nC-a h    print this help\r\n"
                                           "C-a x    exit emulator\r\n"
                                           "C-a C-a  sends C-a\r\n";
                if (write(STDERR_FILENO, help, sizeof(help) - 1) < 0) {
                }
            }
        } else if (ch == 0x01) {
            c->esc = true;
        } else {
            push(c, &ch, 1);
        }
    }
}

/* Reads what stdin has; waits up to timeout_ms (-1: forever) for it.
 * Returns true when something was read or stdin closed. */
static bool read_stdin(cli_console *c, int timeout_ms)
{
    if (!c->stdin_open) return false;
    struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
    int r = poll(&pfd, 1, timeout_ms);
    if (r <= 0) return false;
    uint8_t buf[4096];
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return false;
    if (n <= 0) {
        c->stdin_open = false;
        return true;
    }
    if (c->tty)
        from_terminal(c, buf, (size_t)n);
    else
        push(c, buf, (size_t)n);
    return true;
}

static void maybe_poll(cli_console *c, int64_t now)
{
    if (!c->stdin_open || now - c->last_poll < POLL_NS) return;
    c->last_poll = now;
    read_stdin(c, 0);
}

/* ---- script -------------------------------------------------------------- */

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Decodes escapes of s in place; returns the length or -1. */
static long unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p != '\\') {
            *o++ = *p;
            continue;
        }
        switch (*++p) {
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'e': *o++ = 0x1b; break;
        case '\\': *o++ = '\\'; break;
        case 'x': {
            int h = hexval(p[1]), l = h < 0 ? -1 : hexval(p[2]);
            if (l < 0) return -1;
            *o++ = (char)(h * 16 + l);
            p += 2;
            break;
        }
        default: return -1;
        }
    }
    return o - s;
}

static int parse_script(cli_console *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) return MC_EIO;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned lineno = 0;
    int rc = MC_OK;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0 || line[0] == '#') continue;
        enum cmd_kind kind;
        bool newline = false;
        const char *text;
        if (strncmp(line, "expect ", 7) == 0) {
            kind = CMD_EXPECT;
            text = line + 7;
        } else if (strncmp(line, "send ", 5) == 0 || strcmp(line, "send") == 0) {
            kind = CMD_SEND;
            newline = true;
            text = line[4] ? line + 5 : "";
        } else if (strncmp(line, "sendraw ", 8) == 0) {
            kind = CMD_SEND;
            text = line + 8;
        } else {
            snprintf(err, errlen, "line %u: expected 'expect', 'send' or 'sendraw'", lineno);
            rc = MC_EFORMAT;
            break;
        }
        char *t = malloc(strlen(text) + 2);
        if (!t) {
            rc = MC_ENOMEM;
            break;
        }
        strcpy(t, text);
        long len = unescape(t);
        if (len < 0 || (kind == CMD_EXPECT && len == 0)) {
            free(t);
            snprintf(err, errlen, "line %u: %s", lineno,
                     len < 0 ? "bad escape (use \\n \\r \\t \\e \\\\ \\xHH)" : "empty expect");
            rc = MC_EFORMAT;
            break;
        }
        if (newline) t[len++] = '\n';
        cmd *nc = realloc(c->cmds, (c->ncmds + 1) * sizeof(*nc));
        if (!nc) {
            free(t);
            rc = MC_ENOMEM;
            break;
        }
        c->cmds = nc;
        c->cmds[c->ncmds++] = (cmd){kind, t, (size_t)len};
        if (kind == CMD_EXPECT && (size_t)len > c->wincap) c->wincap = (size_t)len;
    }
    free(line);
    fclose(f);
    if (rc == MC_OK && c->wincap && !(c->win = malloc(c->wincap))) rc = MC_ENOMEM;
    return rc;
}

/* Queues the sends up to the next expect. */
static void script_advance(cli_console *c)
{
    while (c->next < c->ncmds && c->cmds[c->next].kind == CMD_SEND) {
        push(c, c->cmds[c->next].text, c->cmds[c->next].len);
        c->next++;
    }
    c->winlen = 0;
}

static void script_output(cli_console *c, uint8_t byte)
{
    if (c->next >= c->ncmds) return;
    const cmd *e = &c->cmds[c->next];
    if (c->winlen == c->wincap) {
        memmove(c->win, c->win + 1, c->wincap - 1);
        c->winlen--;
    }
    c->win[c->winlen++] = (char)byte;
    if (c->winlen >= e->len && memcmp(c->win + c->winlen - e->len, e->text, e->len) == 0) {
        c->next++;
        script_advance(c);
    }
}

/* ---- board callbacks ----------------------------------------------------- */

static void cb_tx(void *ctx, uint8_t byte)
{
    cli_console *c = ctx;
    while (write(STDOUT_FILENO, &byte, 1) < 0) {
        if (errno == EAGAIN) { /* stdout left non-blocking by someone else */
            struct pollfd pfd = {.fd = STDOUT_FILENO, .events = POLLOUT};
            poll(&pfd, 1, 100);
        } else if (errno != EINTR) {
            break; /* closed: the guest goes on without a console */
        }
    }
    if (c->cmds) script_output(c, byte);
}

static int cb_rx(void *ctx)
{
    cli_console *c = ctx;
    if (c->qhead == c->qtail) return -1;
    return c->q[c->qhead++];
}

/* -rt: the wall-clock instant (ns since wall0) matching virtual time v. */
static int64_t wall_for(const cli_console *c, uint64_t v)
{
    return c->wall0 + (int64_t)(v - c->v0);
}

static void cb_round(void *ctx, uint64_t vtime)
{
    cli_console *c = ctx;
    if (stopping(c) || (!c->rt && !c->stdin_open)) return;
    int64_t now = wall_ns();
    maybe_poll(c, now);
    if (!c->rt) return;
    if (now - wall_for(c, vtime) > RESYNC_NS) { /* guest too slow: do not sprint later */
        c->wall0 = now;
        c->v0 = vtime;
        return;
    }
    int64_t ahead = wall_for(c, vtime) - now;
    if (ahead > PACE_SLACK_NS) {
        if (c->stdin_open) {
            read_stdin(c, (int)(ahead / 1000000));
        } else {
            struct timespec ts = {ahead / 1000000000ll, ahead % 1000000000ll};
            nanosleep(&ts, NULL);
        }
    }
}

static uint64_t cb_idle(void *ctx, uint64_t now_v, uint64_t next_v)
{
    cli_console *c = ctx;
    bool input = c->qhead != c->qtail;
    if (input) return now_v;
    if (!c->rt) {
        if (next_v != UINT64_MAX) {
            maybe_poll(c, wall_ns());
            return c->qhead != c->qtail ? now_v : next_v;
        }
        /* Nothing armed: only input can wake the guest. */
        while (c->stdin_open && c->qhead == c->qtail && !stopping(c))
            read_stdin(c, -1);
        return c->qhead != c->qtail ? now_v : UINT64_MAX;
    }
    for (;;) {
        if (stopping(c)) return next_v;
        int64_t now = wall_ns();
        int timeout = -1;
        if (next_v != UINT64_MAX) {
            int64_t left = wall_for(c, next_v) - now;
            if (left <= 0) return next_v;
            timeout = (int)((left + 999999) / 1000000);
        }
        if (!c->stdin_open) {
            if (timeout < 0) return UINT64_MAX;
            struct timespec ts = {timeout / 1000, (timeout % 1000) * 1000000l};
            nanosleep(&ts, NULL);
            continue;
        }
        read_stdin(c, timeout);
        if (c->quit) return next_v;
        if (c->qhead != c->qtail) {
            int64_t w = wall_ns() - c->wall0;
            uint64_t v = c->v0 + (uint64_t)(w > 0 ? w : 0);
            if (v < now_v) v = now_v;
            if (v > next_v) v = next_v;
            return v;
        }
    }
}

/* ---- lifetime ------------------------------------------------------------ */

int cli_console_open(cli_console **out, const cli_console_opts *o, char *err, size_t errlen)
{
    cli_console *c = calloc(1, sizeof(*c));
    if (!c) return MC_ENOMEM;
    c->rt = o->rt;
    if (o->script_path) {
        int rc = parse_script(c, o->script_path, err, errlen);
        if (rc < 0) {
            int e = errno;
            cli_console_close(c);
            errno = e;
            return rc;
        }
        script_advance(c);
    } else {
        c->stdin_open = true;
        if (isatty(STDIN_FILENO) && raw_mode() == 0) c->tty = true;
    }
    c->wall0 = wall_ns();
    c->last_poll = c->wall0;
    catch_stop_signals();
    *out = c;
    return MC_OK;
}

void cli_console_close(cli_console *c)
{
    if (!c) return;
    if (c->tty) restore_tty();
    for (size_t i = 0; i < c->ncmds; i++)
        free(c->cmds[i].text);
    free(c->cmds);
    free(c->win);
    free(c->q);
    free(c);
}

void cli_console_host(cli_console *c, board_host *host)
{
    memset(host, 0, sizeof(*host));
    host->ctx = c;
    host->uart_tx = cb_tx;
    host->uart_rx = cb_rx;
    host->idle = cb_idle;
    host->round = cb_round;
}

void cli_console_attach(cli_console *c, board_t *b)
{
    c->board = b;
}

bool cli_console_quit(const cli_console *c)
{
    return c->quit;
}

int cli_console_signal(const cli_console *c)
{
    return c ? c->sig : 0;
}
