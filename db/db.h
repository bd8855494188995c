/*
 * db.h - the event index: SQLite tables of what a replay did (traps,
 * syscalls, context switches, IRQ chains, MMIO, UART bytes, time per
 * privilege mode, TLB refills per page, page faults), filled from the
 * observation hooks (src/core/obs.h), and the read-only query runner.
 *
 * Flow (machina-replay index): for each segment between two checkpoints a
 * db_writer drains the obs ring into a segment database (db_writer_*),
 * resolving tasks (pid, tid, comm) from guest memory at drain time with
 * task_struct offsets from DWARF and syscall names from the vmlinux's
 * sys_call_table (db_kernel). db_build then merges the segment databases
 * in order into the recording and pairs syscall entries with their exits
 * and PLIC raise/claim/complete into IRQ chains (pairs may span
 * segments). The table schema is documented in db_schema.c and README.md.
 *
 * Views are functions of a time window: every event table has an index on
 * icount for [t0, t1) queries.
 */
#ifndef MACHINA_DB_H
#define MACHINA_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "board.h"
#include "err.h"
#include "obs.h"

/* ---- kernel knowledge from the vmlinux ------------------------------------ */

typedef struct db_kernel db_kernel;

/* Reads the vmlinux at path: sys_call_table (names from the
 * __riscv_sys_NAME symbols its entries point at), the task_struct fields
 * pid, tgid, comm and __state|state (DWARF), and __switch_to. dwarf_cache:
 * as dwarf_open's cache_dir. One-line reason in err on failure. */
MC_MUST_CHECK int db_kernel_open(db_kernel **out, const char *vmlinux, const char *dwarf_cache,
                                 char *err, size_t errlen);
void db_kernel_free(db_kernel *k);
/* Name of syscall nr ("getppid"), or NULL past the table. */
const char *db_kernel_syscall_name(const db_kernel *k, uint64_t nr);
size_t db_kernel_nsyscalls(const db_kernel *k);
/* Virtual address of __switch_to. */
uint64_t db_kernel_switch_to(const db_kernel *k);
/* The physical address of a kernel-image virtual address, given where the
 * image was loaded (board_layout.kernel_entry) and the ELF's _start. */
uint64_t db_kernel_image_pa(const db_kernel *k, uint64_t va, uint64_t load_pa);

/* The satp of the kernel's own page table (swapper_pg_dir: every kernel
 * address mapped), in the paging mode of live_satp; 0 when that is Bare. */
uint64_t db_kernel_satp(const db_kernel *k, uint64_t load_pa, uint64_t live_satp);

/* True when the kernel in b's RAM is this vmlinux: __switch_to's code
 * is where db_kernel_image_pa puts it. */
bool db_kernel_loaded(const db_kernel *k, board_t *b);

/* A task as read from guest memory. */
typedef struct db_task {
    int64_t pid, tgid; /* -1 when unreadable */
    char comm[17];     /* "" when unreadable */
    char state;        /* R S D T t X Z P I, '?' when unknown */
} db_task;
/* Reads task_struct at va through the page table of satp. */
MC_MUST_CHECK int db_kernel_task(const db_kernel *k, board_t *b, uint64_t satp, uint64_t va,
                                 db_task *out);

/* ---- writing ---------------------------------------------------------------- */

typedef struct db_writer db_writer;

/* Creates (replacing) a segment database at path with the raw schema. k
 * may be NULL (no pids, no names); b is read at drain time. */
MC_MUST_CHECK int db_writer_open(db_writer **out, const char *path, const db_kernel *k, board_t *b,
                                 char *err, size_t errlen);
/* The obs_drain_fn: ctx is the db_writer. */
int db_writer_drain(void *ctx, const obs_event *ev, size_t n);
/* Device names come from the observer (obs_device_name). */
void db_writer_set_obs(db_writer *w, const obs_t *o);
/* Writes the per-page aggregates, commits, closes. Returns the first
 * error met while draining, with err. rows: rows written (may be NULL). */
MC_MUST_CHECK int db_writer_close(db_writer *w, uint64_t *rows, char *err, size_t errlen);

/* ---- building the index ------------------------------------------------------ */

/* Drops the event tables of the recording db (an open sqlite3 handle is
 * not exposed: path) and fills them from the segment databases, in
 * order; pairs syscalls and IRQ chains; records meta index_*. */
MC_MUST_CHECK int db_build(const char *mrr, const char *const *segments, size_t nseg,
                           const db_kernel *k, const char *summary, char *err, size_t errlen);
/* True when the recording already holds a complete index. */
bool db_indexed(const char *mrr);

/* ---- queries ----------------------------------------------------------------- */

typedef enum db_format { DB_TABLE, DB_CSV, DB_JSON } db_format;

/* Runs one SQL statement on path opened read-only and prints the rows. */
MC_MUST_CHECK int db_query(const char *path, const char *sql, db_format fmt, FILE *out, char *err,
                           size_t errlen);

#endif
