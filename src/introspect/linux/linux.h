/*
 * linux.h - the Linux view of a machine state seen from outside: `current`
 * per hart, the task list (processes and threads) with the fields
 * /proc/PID/stat shows, a task's address space, and the memory layout.
 *
 * Everything is read from guest memory through the kernel's own symbols
 * (sym.h) and types (dwarf.h): field names come from DWARF, alternatives
 * cover other kernel versions (__state|state, thread_head|thread_group,
 * task->cpu|thread_info.cpu), no offset is fixed here. Guest memory is
 * untrusted: every walk is bounded, list links are checked both ways, pid
 * 0 must be swapper, comm must be printable; a failed check is MC_EGUEST
 * with a message naming the task and the address.
 *
 * A linux_os borrows its dwarf_types, sym_table and memory reader; they
 * must outlive it. Used by one thread at a time.
 */
#ifndef MACHINA_LINUX_H
#define MACHINA_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "../dwarf.h"
#include "err.h"
#include "../gva.h"
#include "../ovl.h"
#include "../sym.h"

#define LINUX_MAX_HARTS 64
#define LINUX_COMM_LEN  16

typedef struct linux_os linux_os;

/* What the view needs of one hart at the instant. */
typedef struct linux_hart_state {
    unsigned priv; /* HART_PRIV_* */
    uint64_t pc, ra, tp, sscratch, satp;
} linux_hart_state;

/* A machine state: harts and physical memory. */
typedef struct linux_machine {
    unsigned nharts;
    linux_hart_state harts[LINUX_MAX_HARTS];
    gva_read_phys_fn read_phys;
    void *ctx;
} linux_machine;

/* Fills m from a board (RAM read through the bus, without side effects). */
void linux_machine_from_board(linux_machine *m, board_t *b);

/* One task (a thread), with the values /proc/PID/stat reports. */
typedef struct linux_task {
    uint64_t addr; /* struct task_struct */
    int pid, tgid, ppid;
    char state; /* R S D T t X Z P I, as fs/proc/array.c */
    uint64_t state_raw, exit_state;
    int prio, nice; /* prio - MAX_RT_PRIO; static_prio - 120 */
    unsigned policy, rt_priority;
    int cpu;  /* task_cpu() */
    int hart; /* the hart it runs on now, -1 */
    uint64_t mm, flags;
    bool leader; /* thread group leader (a process) */
    bool idle;   /* a per-CPU idle task, found as some hart's current */
    char comm[LINUX_COMM_LEN + 1];
} linux_task;

/* `current` on one hart. */
typedef struct linux_current {
    unsigned priv;
    uint64_t task;      /* 0 when unknown */
    const char *source; /* "tp", "sscratch", or why it is unknown */
} linux_current;

/* Opens the view. d may be NULL (no DWARF: only symbol-level answers;
 * the task functions then fail with MC_ENOENT saying so). Fails with
 * MC_ESTATE when no hart has paging on ("the MMU is off"), MC_EGUEST when
 * the kernel's linux_banner in memory differs from the vmlinux's. */
MC_MUST_CHECK int linux_open(linux_os **out, dwarf_types *d, const sym_table *syms,
                             const linux_machine *m);
void linux_free(linux_os *L);
const char *linux_last_error(const linux_os *L);

/* Kernel virtual memory (an ovl_read_fn over linux_kspace) and the
 * overlay engine over it (NULL without DWARF). */
const gva_space *linux_kspace(const linux_os *L);
ovl *linux_ovl(linux_os *L);
/* The banner read from guest memory ("Linux version ..."). */
const char *linux_banner(const linux_os *L);

/* `current` of hart i. */
MC_MUST_CHECK int linux_current_of(linux_os *L, unsigned hart, linux_current *out);

/* Every task: processes in init_task.tasks order, each followed by its
 * other threads; pid 0 first, idle tasks of other CPUs that some hart
 * runs appended. *out is malloc'ed, the caller frees it. */
MC_MUST_CHECK int linux_tasks(linux_os *L, linux_task **out, size_t *n);

/* The address space of a task's mm (user and kernel halves): MC_ENOENT
 * for a kernel thread (no mm). mm 0: the kernel's (swapper_pg_dir). */
MC_MUST_CHECK int linux_mm_space(linux_os *L, uint64_t mm, gva_space *out);

/* The memory layout. */
typedef struct linux_layout {
    unsigned satp_mode; /* 8 Sv39, 9 Sv48, 10 Sv57 */
    unsigned va_bits;
    uint64_t user_lo, user_hi;     /* user half */
    uint64_t kernel_lo, kernel_hi; /* kernel half */
    uint64_t page_offset;          /* linear map base (0: unknown) */
    uint64_t kernel_virt, kernel_phys, kernel_size;
    uint64_t page_size;
    int64_t total_pages, free_pages; /* -1: unknown */
} linux_layout;
MC_MUST_CHECK int linux_get_layout(linux_os *L, linux_layout *out);

/* The /proc state letter from a task's state and exit_state words. */
char linux_state_letter(uint64_t state, uint64_t exit_state);

#endif
