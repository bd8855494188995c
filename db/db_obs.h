/*
 * db_obs.h - the observation cache: results computed at an instant of a
 * recording (task lists, page tables, layouts, overlay values), stored in
 * the recording's own database so that asking again is instant.
 *
 * Tables (created on first use, droppable: everything here is derived):
 *   obs_instant(spec TEXT PRIMARY KEY, icount INTEGER, vtime_ns INTEGER,
 *               pos TEXT)
 *     an instant as the user wrote it ("3.2s", "i:N", "end") -> where the
 *     seek landed (rr_seek is deterministic) and its printed position.
 *   obs_result(icount INTEGER, vmlinux TEXT, cmd TEXT, arg TEXT, json TEXT,
 *              PRIMARY KEY(icount, vmlinux, cmd, arg))
 *     a command's answer as JSON; vmlinux names the kernel image used
 *     ("image:<sha256>" or "build-id:<hex>").
 *   obs_task(icount INTEGER, vmlinux TEXT, addr INTEGER, pid INTEGER,
 *            tgid INTEGER, ppid INTEGER, state TEXT, prio INTEGER,
 *            nice INTEGER, policy INTEGER, cpu INTEGER, hart INTEGER,
 *            comm TEXT)
 *     the task list at icount, one row per thread (for SQL users;
 *     hart -1: not running).
 * A recording that cannot be written (read-only file or folder) has no
 * cache: db_obs_open fails with MC_EIO and callers go on without one.
 */
#ifndef MACHINA_DB_OBS_H
#define MACHINA_DB_OBS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "linux/linux.h"

typedef struct db_obs db_obs;

/* Opens path read-write for the cache; MC_EIO when it is not writable,
 * MC_EDB on SQLite errors. */
MC_MUST_CHECK int db_obs_open(db_obs **out, const char *path);
void db_obs_close(db_obs *c);

/* An instant's resolution; MC_ENOENT when not cached. pos: 96 bytes. */
MC_MUST_CHECK int db_obs_instant_get(db_obs *c, const char *spec, uint64_t *icount, uint64_t *vtime,
                                     char *pos, size_t poslen);
MC_MUST_CHECK int db_obs_instant_put(db_obs *c, const char *spec, uint64_t icount, uint64_t vtime,
                                     const char *pos);

/* A cached answer (*json malloc'ed, caller frees); MC_ENOENT when none. */
MC_MUST_CHECK int db_obs_get(db_obs *c, uint64_t icount, const char *vmlinux, const char *cmd,
                             const char *arg, char **json);
MC_MUST_CHECK int db_obs_put(db_obs *c, uint64_t icount, const char *vmlinux, const char *cmd,
                             const char *arg, const char *json);

/* Stores the task list at icount (replacing rows of the same key). */
MC_MUST_CHECK int db_obs_put_tasks(db_obs *c, uint64_t icount, const char *vmlinux,
                                   const linux_task *t, size_t n);

#endif
