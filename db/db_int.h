/*
 * db_int.h - private interface of the event index (db_schema.c,
 * db_writer.c, db_build.c, db_query.c).
 */
#ifndef MACHINA_DB_INT_H
#define MACHINA_DB_INT_H

#include <sqlite3.h>

#include "db.h"

extern const char db_schema_events[];   /* tables a segment fills directly */
extern const char db_schema_raw[];      /* syscall_ev, irq_ev (segment only) */
extern const char db_schema_raw_temp[]; /* the same as TEMP tables (db_build) */
extern const char db_schema_final[];    /* syscall, irq (built by db_build) */
extern const char db_schema_indices[];
extern const char *const db_event_tables[]; /* NULL-terminated */

const char *db_priv_name(unsigned p);
const char *db_trap_name(uint64_t cause);
const char *db_irq_device(unsigned src);

/* One-line error with sqlite's message; returns MC_EDB. */
int db_fail(sqlite3 *db, char *err, size_t errlen, const char *what);

#endif
