/*
 * db_writer.c - drains the observation ring into a segment database: one
 * transaction for the whole segment (a segment is one checkpoint interval,
 * ~20M steps), prepared statements, tasks resolved from guest memory at
 * drain time (cached for the duration of one drain, during which guest
 * memory does not change), TLB refills summed per page in memory and
 * written at close.
 *
 * Invariant: rows are inserted in event order, so rowid order is time
 * order within a segment; db_build relies on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

enum { S_TRAP, S_CTXSW, S_MMIO, S_UART, S_MODE, S_PF, S_SYS, S_IRQ, S_HEAT, S_COUNT };

static const char *const stmt_sql[S_COUNT] = {
    "INSERT INTO trap VALUES(?,?,?,?,?,?,?,?,?,?,?)",
    "INSERT INTO ctxsw VALUES(?,?,?,?,?,?,?,?,?,?,?)",
    "INSERT INTO mmio VALUES(?,?,?,?,?,?,?,?)",
    "INSERT INTO uart VALUES(?,?,?,?)",
    "INSERT INTO mode_sample VALUES(?,?,?,?,?,?,?,?)",
    "INSERT INTO page_fault VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    "INSERT INTO syscall_ev VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    "INSERT INTO irq_ev VALUES(?,?,?,?,?,?)",
    "INSERT INTO page_heat VALUES(?,?,?,?)",
};

typedef struct heat {
    uint64_t page; /* UINT64_MAX: free */
    uint64_t n[3]; /* read, write, fetch refills */
} heat;

#define TCACHE 64

struct db_writer {
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
    const db_kernel *k;
    board_t *b;
    const obs_t *obs;
    uint64_t satp;  /* the last non-bare satp seen (the paging mode) */
    uint64_t ksatp; /* swapper_pg_dir in that mode, once known */
    heat *heat;
    size_t nheat, capheat;
    struct {
        uint64_t va;
        db_task t;
    } tc[TCACHE];
    unsigned ntc;
    uint64_t rows;
    int rc;
    char why[256];
};

int db_fail(sqlite3 *db, char *err, size_t errlen, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", what, db ? sqlite3_errmsg(db) : "no database");
    return MC_EDB;
}

int db_writer_open(db_writer **out, const char *path, const db_kernel *k, board_t *b, char *err,
                   size_t errlen)
{
    db_writer *w = calloc(1, sizeof(*w));
    if (!w) return MC_ENOMEM;
    w->k = k;
    w->b = b;
    remove(path);
    int rc = MC_EDB;
    if (sqlite3_open_v2(path, &w->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        db_fail(w->db, err, errlen, path);
        goto fail;
    }
    char *msg = NULL;
    if (sqlite3_exec(w->db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;", NULL, NULL, &msg) !=
            SQLITE_OK ||
        sqlite3_exec(w->db, db_schema_events, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(w->db, db_schema_raw, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(w->db, "BEGIN", NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg ? msg : "schema");
        sqlite3_free(msg);
        goto fail;
    }
    for (int i = 0; i < S_COUNT; i++)
        if (sqlite3_prepare_v2(w->db, stmt_sql[i], -1, &w->st[i], NULL) != SQLITE_OK) {
            db_fail(w->db, err, errlen, "prepare");
            goto fail;
        }
    *out = w;
    return MC_OK;
fail:
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(w->st[i]);
    sqlite3_close(w->db);
    free(w);
    return rc;
}

void db_writer_set_obs(db_writer *w, const obs_t *o)
{
    w->obs = o;
}

/* ---- helpers ------------------------------------------------------------------ */

static void bind_u(sqlite3_stmt *s, int i, uint64_t v)
{
    sqlite3_bind_int64(s, i, (sqlite3_int64)v);
}

static void bind_hart(sqlite3_stmt *s, int i, unsigned hart)
{
    if (hart == OBS_NO_HART)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_int(s, i, (int)hart);
}

static void bind_pid(sqlite3_stmt *s, int i, int64_t pid)
{
    if (pid < 0)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_int64(s, i, pid);
}

static void bind_text(sqlite3_stmt *s, int i, const char *t)
{
    if (t && *t)
        sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

static void step(db_writer *w, sqlite3_stmt *s)
{
    if (sqlite3_step(s) != SQLITE_DONE && !w->rc) {
        w->rc = MC_EDB;
        snprintf(w->why, sizeof(w->why), "insert: %s", sqlite3_errmsg(w->db));
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    w->rows++;
}

static const db_task *task(db_writer *w, uint64_t va)
{
    for (unsigned i = 0; i < w->ntc; i++)
        if (w->tc[i].va == va) return &w->tc[i].t;
    if (!w->ksatp && w->k && (w->satp >> 60))
        w->ksatp = db_kernel_satp(w->k, board_get_layout(w->b)->kernel_entry, w->satp);
    unsigned i = w->ntc < TCACHE ? w->ntc++ : TCACHE - 1;
    w->tc[i].va = va;
    if (db_kernel_task(w->k, w->b, w->ksatp, va, &w->tc[i].t) < 0) { /* pid -1, comm "" */
    }
    return &w->tc[i].t;
}

static void heat_add(db_writer *w, uint64_t page, unsigned kind)
{
    if (w->nheat * 2 >= w->capheat) {
        size_t cap = w->capheat ? w->capheat * 2 : 4096;
        heat *n = malloc(cap * sizeof(heat));
        if (!n) {
            if (!w->rc) {
                w->rc = MC_ENOMEM;
                snprintf(w->why, sizeof(w->why), "out of memory for page_heat");
            }
            return;
        }
        for (size_t i = 0; i < cap; i++)
            n[i].page = UINT64_MAX;
        for (size_t i = 0; i < w->capheat; i++) {
            if (w->heat[i].page == UINT64_MAX) continue;
            size_t j = (w->heat[i].page >> 12) * 0x9e3779b97f4a7c15ull % cap;
            while (n[j].page != UINT64_MAX)
                j = (j + 1) % cap;
            n[j] = w->heat[i];
        }
        free(w->heat);
        w->heat = n;
        w->capheat = cap;
    }
    size_t j = (page >> 12) * 0x9e3779b97f4a7c15ull % w->capheat;
    while (w->heat[j].page != UINT64_MAX && w->heat[j].page != page)
        j = (j + 1) % w->capheat;
    if (w->heat[j].page == UINT64_MAX) {
        w->heat[j].page = page;
        memset(w->heat[j].n, 0, sizeof(w->heat[j].n));
        w->nheat++;
    }
    w->heat[j].n[kind < 3 ? kind : 0]++;
}

/* ---- events ------------------------------------------------------------------- */

static uint64_t task_of(unsigned priv, uint64_t tp, uint64_t sscratch)
{
    return priv == HART_PRIV_U ? sscratch : priv == HART_PRIV_S ? tp : 0;
}


/* The columns an entry and an exit row of `syscall` share (1-8). */
static sqlite3_stmt *sys_row(db_writer *w, const obs_event *e, const char *phase, uint64_t tv,
                             const db_task *t)
{
    sqlite3_stmt *s = w->st[S_SYS];
    bind_u(s, 1, e->icount);
    bind_u(s, 2, e->vtime);
    bind_hart(s, 3, e->hart);
    bind_text(s, 4, phase);
    bind_u(s, 5, tv);
    bind_pid(s, 6, t ? t->tgid : -1);
    bind_pid(s, 7, t ? t->pid : -1);
    bind_text(s, 8, t ? t->comm : NULL);
    return s;
}

static void ev_trap(db_writer *w, const obs_event *e)
{
    uint64_t cause = e->v[0];
    bool irq = cause >> 63;
    unsigned code = (unsigned)(cause & 63);
    if (e->v[5] >> 60) w->satp = e->v[5];
    uint64_t tv = task_of(e->a, e->v[3], e->v[4]);
    const db_task *t = tv ? task(w, tv) : NULL;
    sqlite3_stmt *s = w->st[S_TRAP];
    bind_u(s, 1, e->icount);
    bind_u(s, 2, e->vtime);
    bind_hart(s, 3, e->hart);
    sqlite3_bind_int(s, 4, (int)code);
    sqlite3_bind_int(s, 5, irq);
    bind_text(s, 6, db_trap_name(cause));
    bind_u(s, 7, e->v[1]);
    bind_u(s, 8, e->v[2]);
    bind_text(s, 9, db_priv_name(e->a));
    bind_text(s, 10, db_priv_name(e->b));
    bind_pid(s, 11, t ? t->tgid : -1);
    step(w, s);
    if (!irq && code == 8) { /* a system call from U-mode */
        s = sys_row(w, e, "enter", tv, t);
        bind_u(s, 9, e->v[6]);
        for (int i = 0; i < 6; i++)
            bind_u(s, 10 + i, e->v[7 + i]);
        step(w, s);
    } else if (!irq && (code == 12 || code == 13 || code == 15)) {
        s = w->st[S_PF];
        bind_u(s, 1, e->icount);
        bind_u(s, 2, e->vtime);
        bind_hart(s, 3, e->hart);
        bind_pid(s, 4, t ? t->tgid : -1);
        bind_u(s, 5, e->v[2]);
        sqlite3_bind_int(s, 6, (int)code);
        bind_text(s, 7, code == 12 ? "exec" : code == 13 ? "read" : "write");
        bind_u(s, 8, e->v[1]);
        bind_u(s, 9, e->v[5]);
        sqlite3_bind_int(s, 10, (int)e->aux);
        for (unsigned i = 0; i < 4; i++)
            if (i < e->aux) bind_u(s, 11 + (int)i, e->v[6 + i]);
        step(w, s);
    }
}

static void ev_tret(db_writer *w, const obs_event *e)
{
    if (e->b != HART_PRIV_U) return;
    if (e->v[4] >> 60) w->satp = e->v[4];
    uint64_t tv = e->v[3]; /* sscratch: the task, while in U-mode */
    const db_task *t = tv ? task(w, tv) : NULL;
    sqlite3_stmt *s = sys_row(w, e, "exit", tv, t);
    bind_u(s, 16, e->v[1]);
    step(w, s);
}

static void ctxsw_row(db_writer *w, const obs_event *e, uint64_t prev, uint64_t next,
                      const char *source)
{
    db_task pt, nt;
    pt = *task(w, prev);
    nt = *task(w, next);
    sqlite3_stmt *s = w->st[S_CTXSW];
    bind_u(s, 1, e->icount);
    bind_u(s, 2, e->vtime);
    bind_hart(s, 3, e->hart);
    bind_u(s, 4, prev);
    bind_pid(s, 5, pt.pid);
    bind_text(s, 6, pt.comm);
    if (pt.pid >= 0) sqlite3_bind_text(s, 7, &pt.state, 1, SQLITE_TRANSIENT);
    bind_u(s, 8, next);
    bind_pid(s, 9, nt.pid);
    bind_text(s, 10, nt.comm);
    bind_text(s, 11, source);
    step(w, s);
}

static void ev_one(db_writer *w, const obs_event *e)
{
    sqlite3_stmt *s;
    switch (e->kind) {
    case OBS_TRAP: ev_trap(w, e); break;
    case OBS_TRET: ev_tret(w, e); break;
    case OBS_BP:
        if (e->v[4] >> 60) w->satp = e->v[4];
        ctxsw_row(w, e, e->v[1], e->v[2], "switch");
        break;
    case OBS_SATP:
        if (e->v[1] >> 60) w->satp = e->v[1];
        if (!w->k) ctxsw_row(w, e, 0, e->v[2], "satp");
        break;
    case OBS_MMIO:
        s = w->st[S_MMIO];
        bind_u(s, 1, e->icount);
        bind_u(s, 2, e->vtime);
        bind_hart(s, 3, e->hart);
        bind_text(s, 4, w->obs ? obs_device_name(w->obs, e->aux) : "?");
        bind_u(s, 5, e->v[0]);
        sqlite3_bind_int(s, 6, e->a);
        bind_u(s, 7, e->v[1]);
        sqlite3_bind_int(s, 8, e->b);
        step(w, s);
        break;
    case OBS_UART:
        s = w->st[S_UART];
        bind_u(s, 1, e->icount);
        bind_u(s, 2, e->vtime);
        bind_text(s, 3, e->aux == OBS_UART_TX ? "tx" : "rx");
        sqlite3_bind_int(s, 4, (int)e->v[0]);
        step(w, s);
        break;
    case OBS_PLIC: {
        static const char *const ops[4] = {"raise", "lower", "claim", "complete"};
        s = w->st[S_IRQ];
        bind_u(s, 1, e->icount);
        bind_u(s, 2, e->vtime);
        bind_hart(s, 3, e->aux >= OBS_PLIC_CLAIM ? (unsigned)(e->v[1] / 2) : OBS_NO_HART);
        bind_text(s, 4, ops[e->aux & 3]);
        bind_u(s, 5, e->v[0]);
        if (e->aux >= OBS_PLIC_CLAIM) bind_u(s, 6, e->v[1]);
        step(w, s);
        break;
    }
    case OBS_TLB: heat_add(w, e->v[0], e->aux); break;
    case OBS_MODE:
        s = w->st[S_MODE];
        bind_hart(s, 1, e->hart);
        bind_u(s, 2, e->v[4]);
        bind_u(s, 3, e->icount);
        bind_u(s, 4, e->vtime);
        bind_u(s, 5, e->v[0]);
        bind_u(s, 6, e->v[1]);
        bind_u(s, 7, e->v[2]);
        bind_u(s, 8, e->v[3]);
        step(w, s);
        break;
    default: break;
    }
}

int db_writer_drain(void *ctx, const obs_event *ev, size_t n)
{
    db_writer *w = ctx;
    w->ntc = 0; /* guest memory may have changed since the last drain */
    /* Read tasks through the kernel's own page table, in the paging mode
     * the harts use. */
    if (!w->ksatp && w->k) {
        for (unsigned i = 0; i < board_nharts(w->b) && !w->ksatp; i++) {
            uint64_t satp;
            if (hart_csr(board_hart(w->b, i), 0x180, &satp) == MC_OK)
                w->ksatp = db_kernel_satp(w->k, board_get_layout(w->b)->kernel_entry, satp);
        }
    }
    for (size_t i = 0; i < n; i++)
        ev_one(w, &ev[i]);
    return w->rc;
}

int db_writer_close(db_writer *w, uint64_t *rows, char *err, size_t errlen)
{
    if (!w) return MC_OK;
    int rc = w->rc;
    if (rc < 0 && err) snprintf(err, errlen, "%s", w->why);
    sqlite3_stmt *s = w->st[S_HEAT];
    for (size_t i = 0; rc == MC_OK && i < w->capheat; i++) {
        if (w->heat[i].page == UINT64_MAX) continue;
        bind_u(s, 1, w->heat[i].page);
        const uint64_t *n = w->heat[i].n;
        bind_u(s, 2, n[0] + n[1] + n[2]);
        bind_u(s, 3, n[1]);
        bind_u(s, 4, n[2]);
        step(w, s);
        if (w->rc < 0) {
            rc = w->rc;
            if (err) snprintf(err, errlen, "%s", w->why);
        }
    }
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(w->st[i]);
    if (rc == MC_OK && sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(w->db, err, errlen, "commit");
    if (rows) *rows = w->rows;
    sqlite3_close(w->db);
    free(w->heat);
    free(w);
    return rc;
}
