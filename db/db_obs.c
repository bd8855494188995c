/*
 * db_obs.c - the observation cache inside a recording (format: db_obs.h).
 *
 * Invariants: the cache only ever adds derived rows; it never touches the
 * recording's own tables. Every write is one transaction, so a reader sees
 * a whole answer or none. Integers above SQLite's signed 64 bits are stored
 * as their two's complement (as rr_db.c does).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db_obs.h"

struct db_obs {
    sqlite3 *db;
};

static const char obs_schema[] =
    "CREATE TABLE IF NOT EXISTS obs_instant(spec TEXT PRIMARY KEY, icount INTEGER NOT NULL,"
    " vtime_ns INTEGER NOT NULL, pos TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS obs_result(icount INTEGER NOT NULL, vmlinux TEXT NOT NULL,"
    " cmd TEXT NOT NULL, arg TEXT NOT NULL, json TEXT NOT NULL,"
    " PRIMARY KEY(icount, vmlinux, cmd, arg));"
    "CREATE TABLE IF NOT EXISTS obs_task(icount INTEGER NOT NULL, vmlinux TEXT NOT NULL,"
    " addr INTEGER NOT NULL, pid INTEGER NOT NULL, tgid INTEGER NOT NULL,"
    " ppid INTEGER NOT NULL, state TEXT NOT NULL, prio INTEGER NOT NULL,"
    " nice INTEGER NOT NULL, policy INTEGER NOT NULL, cpu INTEGER NOT NULL,"
    " hart INTEGER NOT NULL, comm TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS obs_task_icount ON obs_task(icount, vmlinux);";

int db_obs_open(db_obs **out, const char *path)
{
    *out = NULL;
    if (access(path, W_OK)) return MC_EIO;
    db_obs *c = calloc(1, sizeof(*c));
    if (!c) return MC_ENOMEM;
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_db_readonly(c->db, "main") == 1) {
        db_obs_close(c);
        return MC_EIO;
    }
    sqlite3_busy_timeout(c->db, 2000);
    /* Derived rows: in WAL mode NORMAL keeps the file consistent and only
     * skips the fsync per commit (a crash may lose the last answers). */
    sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    if (sqlite3_exec(c->db, obs_schema, NULL, NULL, NULL) != SQLITE_OK) {
        db_obs_close(c); /* e.g. the folder is read-only (WAL needs it) */
        return MC_EIO;
    }
    *out = c;
    return 0;
}

void db_obs_close(db_obs *c)
{
    if (!c) return;
    sqlite3_close(c->db);
    free(c);
}

static int prep(db_obs *c, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(c->db, sql, -1, st, NULL) == SQLITE_OK ? 0 : MC_EDB;
}

int db_obs_instant_get(db_obs *c, const char *spec, uint64_t *icount, uint64_t *vtime, char *pos,
                       size_t poslen)
{
    sqlite3_stmt *st;
    if (!c || prep(c, "SELECT icount, vtime_ns, pos FROM obs_instant WHERE spec = ?", &st))
        return MC_EDB;
    sqlite3_bind_text(st, 1, spec, -1, SQLITE_STATIC);
    int rc = MC_ENOENT;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *icount = (uint64_t)sqlite3_column_int64(st, 0);
        *vtime = (uint64_t)sqlite3_column_int64(st, 1);
        const unsigned char *p = sqlite3_column_text(st, 2);
        snprintf(pos, poslen, "%s", p ? (const char *)p : "");
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

int db_obs_instant_put(db_obs *c, const char *spec, uint64_t icount, uint64_t vtime,
                       const char *pos)
{
    sqlite3_stmt *st;
    if (!c || prep(c, "INSERT OR REPLACE INTO obs_instant VALUES(?, ?, ?, ?)", &st)) return MC_EDB;
    sqlite3_bind_text(st, 1, spec, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)icount);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)vtime);
    sqlite3_bind_text(st, 4, pos, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : MC_EDB;
    sqlite3_finalize(st);
    return rc;
}

int db_obs_get(db_obs *c, uint64_t icount, const char *vmlinux, const char *cmd, const char *arg,
               char **json)
{
    sqlite3_stmt *st;
    *json = NULL;
    if (!c || prep(c,
                   "SELECT json FROM obs_result WHERE icount = ? AND vmlinux = ? AND cmd = ? "
                   "AND arg = ?",
                   &st))
        return MC_EDB;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)icount);
    sqlite3_bind_text(st, 2, vmlinux, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, cmd, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, arg ? arg : "", -1, SQLITE_STATIC);
    int rc = MC_ENOENT;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *p = sqlite3_column_text(st, 0);
        *json = strdup(p ? (const char *)p : "");
        rc = *json ? 0 : MC_ENOMEM;
    }
    sqlite3_finalize(st);
    return rc;
}

int db_obs_put(db_obs *c, uint64_t icount, const char *vmlinux, const char *cmd, const char *arg,
               const char *json)
{
    sqlite3_stmt *st;
    if (!c || prep(c, "INSERT OR REPLACE INTO obs_result VALUES(?, ?, ?, ?, ?)", &st))
        return MC_EDB;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)icount);
    sqlite3_bind_text(st, 2, vmlinux, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, cmd, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, arg ? arg : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, json, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : MC_EDB;
    sqlite3_finalize(st);
    return rc;
}

int db_obs_put_tasks(db_obs *c, uint64_t icount, const char *vmlinux, const linux_task *t, size_t n)
{
    sqlite3_stmt *del = NULL, *ins = NULL;
    int rc = MC_EDB;
    if (!c || sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return MC_EDB;
    if (prep(c, "DELETE FROM obs_task WHERE icount = ? AND vmlinux = ?", &del) ||
        prep(c, "INSERT INTO obs_task VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &ins))
        goto done;
    sqlite3_bind_int64(del, 1, (sqlite3_int64)icount);
    sqlite3_bind_text(del, 2, vmlinux, -1, SQLITE_STATIC);
    if (sqlite3_step(del) != SQLITE_DONE) goto done;
    for (size_t i = 0; i < n; i++) {
        char state[2] = {t[i].state, 0};
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, (sqlite3_int64)icount);
        sqlite3_bind_text(ins, 2, vmlinux, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, (sqlite3_int64)t[i].addr);
        sqlite3_bind_int(ins, 4, t[i].pid);
        sqlite3_bind_int(ins, 5, t[i].tgid);
        sqlite3_bind_int(ins, 6, t[i].ppid);
        sqlite3_bind_text(ins, 7, state, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(ins, 8, t[i].prio);
        sqlite3_bind_int(ins, 9, t[i].nice);
        sqlite3_bind_int(ins, 10, (int)t[i].policy);
        sqlite3_bind_int(ins, 11, t[i].cpu);
        sqlite3_bind_int(ins, 12, t[i].hart);
        sqlite3_bind_text(ins, 13, t[i].comm, -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) goto done;
    }
    rc = 0;
done:
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    sqlite3_exec(c->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    return rc;
}
