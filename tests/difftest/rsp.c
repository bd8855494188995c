/*
 * rsp.c - GDB Remote Serial Protocol client (see rsp.h).
 *
 * Framing: "$" data "#" two hex digits of the modulo-256 sum of data.
 * Replies may use "}" escapes (byte ^ 0x20) and "*" run-length encoding;
 * both are undone while reading. After QStartNoAckMode the "+" / "-"
 * acknowledgements are dropped on both sides.
 *
 * The register table comes from the target description: every <reg> of
 * target.xml and of the files it includes, numbered in document order
 * unless a regnum attribute restarts the count (gdb's rule).
 */
#define _GNU_SOURCE
#include "rsp.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RSP_MAX_PACKET (64 * 1024)
#define RSP_MAX_REGS   8192
#define RSP_TIMEOUT_S  20 /* longest wait for one reply */

typedef struct rsp_reg {
    char name[64];
    int num;
    unsigned size; /* bytes */
} rsp_reg;

struct rsp {
    int fd;
    bool noack;
    bool timed_out;       /* the last read gave up waiting */
    char rbuf[64 * 1024]; /* socket read buffer */
    size_t rpos, rlen;
    char *pkt; /* last decoded packet, NUL-terminated */
    size_t pkt_len;
    rsp_reg *regs;
    unsigned nregs;
    int regmap_max; /* highest regnum */
    int *by_num;    /* regnum -> index into regs, -1 */
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int rsp_getc(rsp_t *r)
{
    if (r->rpos == r->rlen) {
        ssize_t n;
        do
            n = read(r->fd, r->rbuf, sizeof r->rbuf);
        while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) r->timed_out = true;
        if (n <= 0) return -1;
        r->rpos = 0;
        r->rlen = (size_t)n;
    }
    return (unsigned char)r->rbuf[r->rpos++];
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return MC_EIO;
        p += w;
        n -= (size_t)w;
    }
    return MC_OK;
}

/* Appends the framed packet for cmd to out (which has room). */
static size_t frame(char *out, const char *cmd)
{
    size_t n = strlen(cmd);
    unsigned sum = 0;
    out[0] = '$';
    memcpy(out + 1, cmd, n);
    for (size_t i = 0; i < n; i++)
        sum += (unsigned char)cmd[i];
    snprintf(out + 1 + n, 4, "#%02x", sum & 0xff);
    return n + 4;
}

/* Reads one packet into r->pkt; skips acks and stray bytes before '$'. */
static int read_packet(rsp_t *r)
{
    for (;;) {
        int c;
        do {
            c = rsp_getc(r);
            if (c < 0) return MC_EIO;
        } while (c != '$');
        size_t n = 0;
        unsigned sum = 0;
        bool bad = false;
        int prev = -1;
        for (;;) {
            c = rsp_getc(r);
            if (c < 0) return MC_EIO;
            if (c == '#') break;
            sum += (unsigned)c;
            if (c == '}') {
                int e = rsp_getc(r);
                if (e < 0) return MC_EIO;
                sum += (unsigned)e;
                c = e ^ 0x20;
            } else if (c == '*' && prev >= 0) {
                int cnt = rsp_getc(r);
                if (cnt < 0) return MC_EIO;
                sum += (unsigned)cnt;
                for (int i = 0; i < cnt - 29 && n < RSP_MAX_PACKET - 1; i++)
                    r->pkt[n++] = (char)prev;
                continue;
            }
            if (n < RSP_MAX_PACKET - 1)
                r->pkt[n++] = (char)c;
            else
                bad = true;
            prev = c;
        }
        char cs[3] = {0};
        for (int i = 0; i < 2; i++) {
            c = rsp_getc(r);
            if (c < 0) return MC_EIO;
            cs[i] = (char)c;
        }
        r->pkt[n] = 0;
        r->pkt_len = n;
        bool good = !bad && strtoul(cs, NULL, 16) == (sum & 0xff);
        if (!r->noack) {
            if (write_all(r->fd, good ? "+" : "-", 1) < 0) return MC_EIO;
            if (!good) continue; /* the stub resends */
        }
        return good ? MC_OK : MC_ECORRUPT;
    }
}

/* Sends raw framed bytes; in ack mode waits for the '+'. */
static int send_raw(rsp_t *r, const char *buf, size_t n)
{
    for (int tries = 0; tries < 3; tries++) {
        if (write_all(r->fd, buf, n) < 0) return MC_EIO;
        if (r->noack) return MC_OK;
        int c = rsp_getc(r);
        if (c < 0) return MC_EIO;
        if (c == '+') return MC_OK;
    }
    return MC_EIO;
}

static int send_packet(rsp_t *r, const char *cmd)
{
    size_t n = strlen(cmd);
    char stackbuf[512];
    char *buf = n + 8 <= sizeof stackbuf ? stackbuf : malloc(n + 8);
    if (!buf) return MC_ENOMEM;
    size_t len = frame(buf, cmd);
    int rc = send_raw(r, buf, len);
    if (buf != stackbuf) free(buf);
    return rc;
}

int rsp_command(rsp_t *r, const char *cmd, char *buf, size_t cap)
{
    int rc;
    if ((rc = send_packet(r, cmd)) < 0) return rc;
    if ((rc = read_packet(r)) < 0) return rc;
    if (buf && cap) {
        size_t n = r->pkt_len < cap - 1 ? r->pkt_len : cap - 1;
        memcpy(buf, r->pkt, n);
        buf[n] = 0;
    }
    return MC_OK;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Little-endian hex bytes -> value; false on a malformed or "xx" field. */
static bool parse_le(const char *p, unsigned bytes, uint64_t *val)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        if (i < 8) v |= (uint64_t)(hi << 4 | lo) << (8 * i);
    }
    *val = v;
    return true;
}

/* --- target description ---------------------------------------------- */

/* Fetches one qXfer:features document into a malloc'd string. */
static int fetch_xml(rsp_t *r, const char *annex, char **out)
{
    size_t len = 0, cap = 4096;
    char *doc = malloc(cap);
    if (!doc) return MC_ENOMEM;
    for (;;) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "qXfer:features:read:%s:%zx,%x", annex, len, 0xf00);
        int rc = rsp_command(r, cmd, NULL, 0);
        if (rc < 0 || (r->pkt[0] != 'm' && r->pkt[0] != 'l')) {
            free(doc);
            return rc < 0 ? rc : MC_EFORMAT;
        }
        size_t n = r->pkt_len - 1;
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *nd = realloc(doc, cap);
            if (!nd) {
                free(doc);
                return MC_ENOMEM;
            }
            doc = nd;
        }
        memcpy(doc + len, r->pkt + 1, n);
        len += n;
        if (r->pkt[0] == 'l') break;
    }
    doc[len] = 0;
    *out = doc;
    return MC_OK;
}

/* Value of attribute attr inside the tag [tag, end), copied to val. */
static bool xml_attr(const char *tag, const char *end, const char *attr, char *val, size_t cap)
{
    size_t al = strlen(attr);
    for (const char *p = tag; p + al + 2 < end; p++) {
        if (strncmp(p, attr, al) == 0 && p[al] == '=' && (p[al + 1] == '"' || p[al + 1] == '\'') &&
            (p == tag || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n')) {
            char q = p[al + 1];
            const char *s = p + al + 2, *e = memchr(s, q, (size_t)(end - s));
            if (!e) return false;
            size_t n = (size_t)(e - s) < cap - 1 ? (size_t)(e - s) : cap - 1;
            memcpy(val, s, n);
            val[n] = 0;
            return true;
        }
    }
    return false;
}

static int add_reg(rsp_t *r, const char *name, int num, unsigned size)
{
    if (r->nregs >= RSP_MAX_REGS || num < 0 || num >= RSP_MAX_REGS) return MC_EFORMAT;
    rsp_reg *g = &r->regs[r->nregs++];
    snprintf(g->name, sizeof g->name, "%s", name);
    g->num = num;
    g->size = size;
    return MC_OK;
}

/* Scans doc for <reg> and <xi:include>, recursing into includes. */
static int scan_xml(rsp_t *r, const char *doc, int *next, int depth)
{
    int rc;
    for (const char *p = doc; (p = strchr(p, '<')) != NULL; p++) {
        const char *end = strchr(p, '>');
        if (!end) break;
        char val[128];
        if (strncmp(p, "<xi:include", 11) == 0 && depth < 4 &&
            xml_attr(p, end, "href", val, sizeof val)) {
            char *sub;
            if ((rc = fetch_xml(r, val, &sub)) < 0) return rc;
            rc = scan_xml(r, sub, next, depth + 1);
            free(sub);
            if (rc < 0) return rc;
        } else if (strncmp(p, "<reg ", 5) == 0) {
            char name[64], bits[16];
            if (!xml_attr(p, end, "name", name, sizeof name) ||
                !xml_attr(p, end, "bitsize", bits, sizeof bits))
                return MC_EFORMAT;
            if (xml_attr(p, end, "regnum", val, sizeof val)) *next = atoi(val);
            if ((rc = add_reg(r, name, *next, (unsigned)atoi(bits) / 8)) < 0) return rc;
            (*next)++;
        }
        p = end;
    }
    return MC_OK;
}

static int load_regs(rsp_t *r)
{
    char *doc;
    int rc, next = 0;
    r->regs = calloc(RSP_MAX_REGS, sizeof *r->regs);
    if (!r->regs) return MC_ENOMEM;
    if ((rc = fetch_xml(r, "target.xml", &doc)) < 0) return rc;
    rc = scan_xml(r, doc, &next, 0);
    free(doc);
    if (rc < 0) return rc;
    r->regmap_max = 0;
    for (unsigned i = 0; i < r->nregs; i++)
        if (r->regs[i].num > r->regmap_max) r->regmap_max = r->regs[i].num;
    r->by_num = malloc(sizeof(int) * (size_t)(r->regmap_max + 1));
    if (!r->by_num) return MC_ENOMEM;
    for (int i = 0; i <= r->regmap_max; i++)
        r->by_num[i] = -1;
    for (unsigned i = 0; i < r->nregs; i++)
        r->by_num[r->regs[i].num] = (int)i;
    return MC_OK;
}

int rsp_regnum(const rsp_t *r, const char *name)
{
    for (unsigned i = 0; i < r->nregs; i++)
        if (strcmp(r->regs[i].name, name) == 0) return r->regs[i].num;
    return -1;
}

unsigned rsp_regsize(const rsp_t *r, int regnum)
{
    if (regnum < 0 || regnum > r->regmap_max || r->by_num[regnum] < 0) return 0;
    return r->regs[r->by_num[regnum]].size;
}

/* --- connection -------------------------------------------------------- */

static int open_socket(const char *path)
{
    const char *colon = strrchr(path, ':');
    if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        char host[128];
        size_t hl =
            (size_t)(colon - path) < sizeof host - 1 ? (size_t)(colon - path) : sizeof host - 1;
        memcpy(host, path, hl);
        host[hl] = 0;
        struct addrinfo hints = {0}, *ai;
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(hl ? host : "127.0.0.1", colon + 1, &hints, &ai) != 0) return -1;
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
        freeaddrinfo(ai);
        if (fd >= 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        return fd;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) return -1;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

int rsp_connect(rsp_t **out, const char *path, int timeout_ms)
{
    int rc;
    *out = NULL;
    rsp_t *r = calloc(1, sizeof *r);
    if (!r) return MC_ENOMEM;
    r->pkt = malloc(RSP_MAX_PACKET);
    if (!r->pkt) {
        free(r);
        return MC_ENOMEM;
    }
    r->fd = -1;
    for (int waited = 0; (r->fd = open_socket(path)) < 0; waited += 20) {
        if (waited >= timeout_ms) {
            rc = MC_EIO;
            goto fail;
        }
        sleep_ms(20);
    }
    /* A stub that hangs (a guest WFI never woken) must not hang us. */
    struct timeval tv = {RSP_TIMEOUT_S, 0};
    setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[512];
    if ((rc = rsp_command(r, "qSupported:multiprocess-;swbreak+;xmlRegisters=riscv", buf,
                          sizeof buf)) < 0)
        goto fail;
    if (strstr(buf, "QStartNoAckMode+")) {
        if ((rc = rsp_command(r, "QStartNoAckMode", buf, sizeof buf)) < 0) goto fail;
        if (strcmp(buf, "OK") == 0) r->noack = true;
    }
    if ((rc = rsp_command(r, "?", buf, sizeof buf)) < 0) goto fail;
    if ((rc = load_regs(r)) < 0) goto fail;
    *out = r;
    return MC_OK;
fail:
    rsp_free(r);
    return rc;
}

void rsp_free(rsp_t *r)
{
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    free(r->pkt);
    free(r->regs);
    free(r->by_num);
    free(r);
}

/* --- registers, memory, execution ------------------------------------- */

int rsp_read_regs(rsp_t *r, const int *nums, unsigned n, uint64_t *vals, bool *ok)
{
    /* All requests go out in one write; the replies come back in order.
     * In ack mode the stub's '+' before each reply is skipped by
     * read_packet, which also acknowledges each reply (QEMU 7.2 has no
     * QStartNoAckMode, and its stub never waits for our acks). */
    size_t cap = (size_t)n * 16 + 16, len = 0;
    char *out = malloc(cap);
    if (!out) return MC_ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        char cmd[16];
        snprintf(cmd, sizeof cmd, "p%x", (unsigned)nums[i]);
        len += frame(out + len, cmd);
    }
    int rc = n ? write_all(r->fd, out, len) : MC_OK;
    free(out);
    for (unsigned i = 0; i < n && rc == MC_OK; i++) {
        if ((rc = read_packet(r)) < 0) break;
        vals[i] = 0;
        ok[i] = r->pkt_len >= 2 && r->pkt[0] != 'E' &&
                parse_le(r->pkt, (unsigned)r->pkt_len / 2, &vals[i]);
    }
    return rc;
}

int rsp_read_core(rsp_t *r, uint64_t regs[33])
{
    int rc = rsp_command(r, "g", NULL, 0);
    if (rc < 0) return rc;
    if (r->pkt_len < 33 * 16) return MC_EFORMAT;
    for (int i = 0; i < 33; i++)
        if (!parse_le(r->pkt + 16 * i, 8, &regs[i])) return MC_EFORMAT;
    return MC_OK;
}

int rsp_write_reg(rsp_t *r, int regnum, uint64_t val)
{
    char cmd[64], buf[64];
    int n = snprintf(cmd, sizeof cmd, "P%x=", (unsigned)regnum);
    for (int i = 0; i < 8; i++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, "%02x", (unsigned)(val >> (8 * i)) & 0xff);
    int rc = rsp_command(r, cmd, buf, sizeof buf);
    if (rc < 0) return rc;
    return strcmp(buf, "OK") == 0 ? MC_OK : MC_EINVAL;
}

int rsp_read_mem(rsp_t *r, uint64_t addr, void *buf, size_t len)
{
    uint8_t *dst = buf;
    while (len) {
        size_t chunk = len < 2048 ? len : 2048;
        char cmd[64];
        snprintf(cmd, sizeof cmd, "m%llx,%zx", (unsigned long long)addr, chunk);
        int rc = rsp_command(r, cmd, NULL, 0);
        if (rc < 0) return rc;
        if (r->pkt[0] == 'E' || r->pkt_len < 2 * chunk) return MC_EBUSFAULT;
        for (size_t i = 0; i < chunk; i++) {
            int hi = hexval(r->pkt[2 * i]), lo = hexval(r->pkt[2 * i + 1]);
            if (hi < 0 || lo < 0) return MC_EFORMAT;
            dst[i] = (uint8_t)(hi << 4 | lo);
        }
        dst += chunk;
        addr += chunk;
        len -= chunk;
    }
    return MC_OK;
}

int rsp_step(rsp_t *r, rsp_stop *why)
{
    int rc = rsp_command(r, "s", NULL, 0);
    if (rc == MC_EIO && r->timed_out) return MC_ESTATE; /* no stop reply in time */
    if (rc == MC_EIO) { /* the stub closed the connection: target gone */
        *why = RSP_STOP_EXITED;
        return MC_OK;
    }
    if (rc < 0) return rc;
    switch (r->pkt[0]) {
    case 'T':
    case 'S': *why = RSP_STOP_SIGNAL; return MC_OK;
    case 'W':
    case 'X': *why = RSP_STOP_EXITED; return MC_OK;
    default: return MC_EFORMAT;
    }
}

void rsp_kill(rsp_t *r)
{
    char buf[16];
    size_t n = frame(buf, "k");
    (void)write_all(r->fd, buf, n);
}
