/*
 * db_build.c - builds the event index in the recording from the segment
 * databases: drops the old event tables, copies each segment's rows in
 * segment order (rowid order is time order), sums page_heat, pairs
 * syscall enters with exits and PLIC raise/claim/complete into IRQ
 * chains (sequentially, so pairs spanning segments are found), creates
 * the indices and finally writes meta index_complete. A recording whose
 * index was interrupted has no index_complete and is indexed again.
 *
 * Because the result depends only on the segments' rows and their order,
 * any number of parallel workers gives the same tables.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return MC_OK;
    snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return MC_EDB;
}

bool db_indexed(const char *mrr)
{
    sqlite3 *db;
    bool yes = false;
    if (sqlite3_open_v2(mrr, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='index_complete'", -1, &s,
                               NULL) == SQLITE_OK) {
            yes = sqlite3_step(s) == SQLITE_ROW;
            sqlite3_finalize(s);
        }
    }
    sqlite3_close(db);
    return yes;
}

/* ---- syscalls -------------------------------------------------------------------- */

typedef struct pend {
    sqlite3_int64 task, pid, tid, icount, vtime, hart, nr, a[6];
    char comm[17];
    bool comm_null, pid_null;
} pend;

static void put_sys(sqlite3_stmt *ins, const db_kernel *k, const pend *p, sqlite3_stmt *ex)
{
    sqlite3_bind_int64(ins, 1, p->icount);
    sqlite3_bind_int64(ins, 3, p->vtime);
    sqlite3_bind_int64(ins, 5, p->hart);
    if (!p->pid_null) {
        sqlite3_bind_int64(ins, 6, p->pid);
        sqlite3_bind_int64(ins, 7, p->tid);
    }
    if (!p->comm_null) sqlite3_bind_text(ins, 8, p->comm, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 9, p->nr);
    const char *name = db_kernel_syscall_name(k, (uint64_t)p->nr);
    if (name) sqlite3_bind_text(ins, 10, name, -1, SQLITE_STATIC);
    for (int i = 0; i < 6; i++)
        sqlite3_bind_int64(ins, 11 + i, p->a[i]);
    if (ex) {
        sqlite3_bind_int64(ins, 2, sqlite3_column_int64(ex, 0));
        sqlite3_bind_int64(ins, 4, sqlite3_column_int64(ex, 1));
        sqlite3_bind_int64(ins, 17, sqlite3_column_int64(ex, 15));
        sqlite3_bind_int64(ins, 18, sqlite3_column_int64(ex, 1) - p->vtime);
    }
}

static int pair_syscalls(sqlite3 *db, const db_kernel *k, char *err, size_t errlen)
{
    sqlite3_stmt *q = NULL, *ins = NULL;
    pend *pv = NULL;
    size_t np = 0, cap = 0;
    int rc = MC_EDB;
    if (sqlite3_prepare_v2(db,
                           "SELECT icount, vtime_ns, hart, kind, task, pid, tid, comm, nr, a0, a1, "
                           "a2, a3, a4, a5, ret FROM temp.syscall_ev ORDER BY rowid",
                           -1, &q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO syscall VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &ins, NULL) != SQLITE_OK) {
        db_fail(db, err, errlen, "syscall pairing");
        goto done;
    }
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        bool enter = !strcmp((const char *)sqlite3_column_text(q, 3), "enter");
        sqlite3_int64 task = sqlite3_column_int64(q, 4), pid = sqlite3_column_int64(q, 6);
        bool pid_null = sqlite3_column_type(q, 6) == SQLITE_NULL;
        size_t i;
        for (i = 0; i < np; i++)
            if (pv[i].task == task && pv[i].tid == pid && pv[i].pid_null == pid_null) break;
        if (!enter) {
            if (i == np) continue; /* a return to U-mode that ends no syscall */
            put_sys(ins, k, &pv[i], q);
            if (sqlite3_step(ins) != SQLITE_DONE) goto fail_ins;
            sqlite3_reset(ins);
            sqlite3_clear_bindings(ins);
            pv[i] = pv[--np];
            continue;
        }
        if (i < np) { /* an enter whose exit was never seen */
            put_sys(ins, k, &pv[i], NULL);
            if (sqlite3_step(ins) != SQLITE_DONE) goto fail_ins;
            sqlite3_reset(ins);
            sqlite3_clear_bindings(ins);
        } else {
            if (np == cap) {
                cap = cap ? 2 * cap : 64;
                pend *n = realloc(pv, cap * sizeof(*pv));
                if (!n) {
                    rc = MC_ENOMEM;
                    goto done;
                }
                pv = n;
            }
            i = np++;
        }
        pend *p = &pv[i];
        p->task = task;
        p->tid = pid;
        p->pid_null = pid_null;
        p->icount = sqlite3_column_int64(q, 0);
        p->vtime = sqlite3_column_int64(q, 1);
        p->hart = sqlite3_column_int64(q, 2);
        p->pid = sqlite3_column_int64(q, 5);
        const unsigned char *c = sqlite3_column_text(q, 7);
        p->comm_null = !c;
        snprintf(p->comm, sizeof(p->comm), "%s", c ? (const char *)c : "");
        p->nr = sqlite3_column_int64(q, 8);
        for (int a = 0; a < 6; a++)
            p->a[a] = sqlite3_column_int64(q, 9 + a);
    }
    if (r != SQLITE_DONE) {
        db_fail(db, err, errlen, "syscall pairing");
        goto done;
    }
    /* calls that never returned, in the order they were made */
    for (size_t i = 0; i < np; i++) {
        size_t m = i;
        for (size_t j = i + 1; j < np; j++)
            if (pv[j].icount < pv[m].icount) m = j;
        pend t = pv[i];
        pv[i] = pv[m];
        pv[m] = t;
        put_sys(ins, k, &pv[i], NULL);
        if (sqlite3_step(ins) != SQLITE_DONE) goto fail_ins;
        sqlite3_reset(ins);
        sqlite3_clear_bindings(ins);
    }
    rc = MC_OK;
    goto done;
fail_ins:
    db_fail(db, err, errlen, "insert syscall");
done:
    sqlite3_finalize(q);
    sqlite3_finalize(ins);
    free(pv);
    return rc;
}

/* ---- IRQ chains -------------------------------------------------------------------- */

#define NSRC 64

typedef struct chain {
    bool open, claimed, high;
    sqlite3_int64 assert_ic, assert_vt, claim_ic, claim_vt, hart, ctx;
    bool has_assert;
    sqlite3_int64 last_complete;
    bool has_complete;
} chain;

static int put_irq(sqlite3 *db, sqlite3_stmt *ins, unsigned src, const chain *c, bool complete,
                   sqlite3_int64 complete_ic, char *err, size_t errlen)
{
    sqlite3_bind_int(ins, 1, (int)src);
    sqlite3_bind_text(ins, 2, db_irq_device(src), -1, SQLITE_STATIC);
    if (c->has_assert) {
        sqlite3_bind_int64(ins, 3, c->assert_ic);
        sqlite3_bind_int64(ins, 4, c->assert_vt);
    }
    if (c->claimed) { /* parameter 5 is claim_icount: trap_icount is filled later */
        sqlite3_bind_int64(ins, 5, c->claim_ic);
        sqlite3_bind_int64(ins, 6, c->claim_vt);
        sqlite3_bind_int64(ins, 8, c->hart);
        sqlite3_bind_int64(ins, 9, c->ctx);
    }
    if (complete) sqlite3_bind_int64(ins, 7, complete_ic);
    int r = sqlite3_step(ins);
    sqlite3_reset(ins);
    sqlite3_clear_bindings(ins);
    return r == SQLITE_DONE ? MC_OK : db_fail(db, err, errlen, "insert irq");
}

static int build_irqs(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *q = NULL, *ins = NULL;
    chain ch[NSRC];
    memset(ch, 0, sizeof(ch));
    int rc = MC_EDB;
    if (sqlite3_prepare_v2(db,
                           "SELECT icount, vtime_ns, op, source, context FROM temp.irq_ev "
                           "ORDER BY rowid",
                           -1, &q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO irq VALUES(?,?,?,?,NULL,?,?,?,?,?)", -1, &ins, NULL) !=
            SQLITE_OK) {
        db_fail(db, err, errlen, "irq chains");
        goto done;
    }
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        sqlite3_int64 ic = sqlite3_column_int64(q, 0), vt = sqlite3_column_int64(q, 1);
        const char *op = (const char *)sqlite3_column_text(q, 2);
        unsigned src = (unsigned)sqlite3_column_int64(q, 3);
        if (src == 0 || src >= NSRC) continue; /* an empty claim */
        chain *c = &ch[src];
        if (!strcmp(op, "raise")) {
            if (!c->open) {
                memset(c, 0, offsetof(chain, last_complete));
                c->open = c->has_assert = true;
                c->assert_ic = ic;
                c->assert_vt = vt;
            }
            c->high = true;
        } else if (!strcmp(op, "lower")) {
            c->high = false;
        } else if (!strcmp(op, "claim")) {
            if (!c->open || c->claimed) {
                /* the line stayed high past the last complete: pending again then */
                bool high = c->high;
                if (c->open && (rc = put_irq(db, ins, src, c, false, 0, err, errlen)) < 0)
                    goto done;
                memset(c, 0, offsetof(chain, last_complete));
                c->open = true;
                c->high = high;
                c->has_assert = c->has_complete && high;
                c->assert_ic = c->last_complete;
                c->assert_vt = vt;
            }
            c->claimed = true;
            c->claim_ic = ic;
            c->claim_vt = vt;
            c->ctx = sqlite3_column_int64(q, 4);
            c->hart = c->ctx / 2;
        } else if (!strcmp(op, "complete")) {
            if (c->open && c->claimed) {
                if ((rc = put_irq(db, ins, src, c, true, ic, err, errlen)) < 0) goto done;
                c->open = c->claimed = false;
            }
            c->last_complete = ic;
            c->has_complete = true;
        }
    }
    if (r != SQLITE_DONE) {
        db_fail(db, err, errlen, "irq chains");
        goto done;
    }
    for (unsigned s = 0; s < NSRC; s++)
        if (ch[s].open && (rc = put_irq(db, ins, s, &ch[s], false, 0, err, errlen)) < 0) goto done;
    rc = exec(db,
              "UPDATE irq SET trap_icount = (SELECT max(t.icount) FROM trap t WHERE t.hart = "
              "irq.hart AND t.interrupt = 1 AND t.cause = CASE irq.context % 2 WHEN 1 THEN 9 ELSE "
              "11 END AND t.icount <= irq.claim_icount AND t.icount >= coalesce(irq.assert_icount, "
              "0)) WHERE claim_icount IS NOT NULL",
              err, errlen);
done:
    sqlite3_finalize(q);
    sqlite3_finalize(ins);
    return rc;
}

/* ---- the build ---------------------------------------------------------------------- */

static const char *const copied[] = {"trap",        "ctxsw",      "mmio", "uart",
                                     "mode_sample", "page_fault", NULL};

int db_build(const char *mrr, const char *const *segments, size_t nseg, const db_kernel *k,
             const char *summary, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = MC_EDB;
    char sql[512];
    if (sqlite3_open_v2(mrr, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        db_fail(db, err, errlen, mrr);
        goto done;
    }
    sqlite3_busy_timeout(db, 10000);
    if ((rc = exec(db, "DELETE FROM meta WHERE key LIKE 'index_%'", err, errlen)) < 0) goto done;
    for (size_t i = 0; db_event_tables[i]; i++) {
        snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS main.%s", db_event_tables[i]);
        if ((rc = exec(db, sql, err, errlen)) < 0) goto done;
    }
    if ((rc = exec(db, db_schema_events, err, errlen)) < 0 ||
        (rc = exec(db, db_schema_final, err, errlen)) < 0 ||
        (rc = exec(db, db_schema_raw_temp, err, errlen)) < 0)
        goto done;
    for (size_t s = 0; s < nseg; s++) {
        char *q = sqlite3_mprintf("ATTACH %Q AS seg", segments[s]);
        rc = exec(db, q, err, errlen);
        sqlite3_free(q);
        if (rc < 0) goto done;
        if ((rc = exec(db, "BEGIN", err, errlen)) < 0) goto done;
        for (size_t t = 0; copied[t]; t++) {
            snprintf(sql, sizeof(sql), "INSERT INTO main.%s SELECT * FROM seg.%s ORDER BY rowid",
                     copied[t], copied[t]);
            if ((rc = exec(db, sql, err, errlen)) < 0) goto done;
        }
        if ((rc = exec(db,
                       "INSERT INTO temp.syscall_ev SELECT * FROM seg.syscall_ev ORDER BY rowid;"
                       "INSERT INTO temp.irq_ev SELECT * FROM seg.irq_ev ORDER BY rowid;"
                       "INSERT INTO main.page_heat SELECT * FROM seg.page_heat WHERE 1 ON "
                       "CONFLICT(page) DO UPDATE SET refills = refills + excluded.refills, "
                       "write_refills = write_refills + excluded.write_refills, fetch_refills = "
                       "fetch_refills + excluded.fetch_refills;"
                       "COMMIT; DETACH seg",
                       err, errlen)) < 0)
            goto done;
    }
    if ((rc = exec(db, "BEGIN", err, errlen)) < 0 || (rc = pair_syscalls(db, k, err, errlen)) < 0 ||
        (rc = build_irqs(db, err, errlen)) < 0 ||
        (rc = exec(db, db_schema_indices, err, errlen)) < 0)
        goto done;
    char *q = sqlite3_mprintf("INSERT INTO meta VALUES('index_summary', %Q);"
                              "INSERT INTO meta VALUES('index_version', '1');"
                              "INSERT INTO meta VALUES('index_complete', '1'); COMMIT",
                              summary ? summary : "");
    rc = exec(db, q, err, errlen);
    sqlite3_free(q);
done:
    if (rc < 0 && db) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}
