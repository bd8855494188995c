/*
 * db_schema.c - the event tables, documented here and in README.md
 * ("Event tables"). Filled by `machina-replay RUN.mrr index`; derived
 * data: dropped and rebuilt by `index --force`. Instants: icount is the
 * global instruction count (board_steps: steps of every hart before the
 * event), vtime_ns the virtual time of the hart at that step. Privilege
 * levels are 'U', 'S', 'M'. pid/tid/comm are read from the kernel's
 * task_struct (DWARF offsets) when the ring is drained, at most one ring
 * (4096 events) after the event; NULL when unreadable (early boot, M-mode).
 *
 *   trap(icount, vtime_ns, hart, cause, interrupt, name, epc, tval,
 *        priv_from, priv_to, pid)
 *     every trap entry: cause code without the interrupt bit; name e.g.
 *     'ecall_u', 'page_fault_load', 'irq_s_external'; pid of the task
 *     `current` names (tp in S-mode, sscratch in U-mode).
 *   syscall(enter_icount, exit_icount, enter_vtime_ns, exit_vtime_ns, hart,
 *           pid, tid, comm, nr, name, a0, a1, a2, a3, a4, a5, ret,
 *           latency_ns)
 *     ecalls from U-mode paired with the task's next return to U-mode
 *     (sret; ret = a0 then). name from sys_call_table of the vmlinux. A
 *     call that never returns (exit, the end of the recording) has NULL
 *     exit_*, ret and latency_ns. pid = thread group id, tid = the thread.
 *   ctxsw(icount, vtime_ns, hart, prev_task, prev_pid, prev_comm,
 *         prev_state, next_task, next_pid, next_comm, source)
 *     source 'switch': a breakpoint on __switch_to (a0 = prev, a1 = next
 *     task_struct addresses); prev_state is its state letter then (R S D
 *     ...). source 'satp': a satp write (only without __switch_to).
 *   irq(source, device, assert_icount, assert_vtime_ns, trap_icount,
 *       claim_icount, claim_vtime_ns, complete_icount, hart, context)
 *     one PLIC delivery: the line rose (assert), the hart took its
 *     external interrupt (trap: the last one on that hart before the claim),
 *     claimed the source (context: PLIC context, 2*hart+1 for S-mode) and
 *     completed it. A chain cut by the end of the recording has NULLs.
 *   mmio(icount, vtime_ns, hart, device, offset, size, value, write)
 *     every device register access (device: 'uart', 'plic', 'clint',
 *     'virtio', 'test', ...; offset within the device; write 0/1).
 *   uart(icount, vtime_ns, direction, byte)
 *     'tx': a byte the guest wrote (the console transcript, in order);
 *     'rx': a byte the host fed to the receiver.
 *   mode_sample(hart, icount_start, icount_end, vtime_ns, u, s, m, idle_ns)
 *     steps the hart retired per privilege level in [icount_start,
 *     icount_end) (about 1M global steps per sample, cut at checkpoints),
 *     and virtual ns it waited in WFI. sum(u + s + m) = steps retired.
 *   page_heat(page, refills, write_refills, fetch_refills)
 *     first-level TLB refills per physical page over the whole run: all
 *     of them, and those for stores (write_refills: a page being written)
 *     and instruction fetches.
 *   page_fault(icount, vtime_ns, hart, pid, addr, cause, access, epc, satp,
 *              levels, pte0, pte1, pte2, pte3)
 *     page faults with the page-table entries read from the root down at
 *     the fault (levels of them; pte0 is the root level's).
 */
#include "db_int.h"

const char db_schema_events[] =
    "CREATE TABLE trap(icount INTEGER, vtime_ns INTEGER, hart INTEGER, cause INTEGER,"
    " interrupt INTEGER, name TEXT, epc INTEGER, tval INTEGER, priv_from TEXT, priv_to TEXT,"
    " pid INTEGER);"
    "CREATE TABLE ctxsw(icount INTEGER, vtime_ns INTEGER, hart INTEGER, prev_task INTEGER,"
    " prev_pid INTEGER, prev_comm TEXT, prev_state TEXT, next_task INTEGER, next_pid INTEGER,"
    " next_comm TEXT, source TEXT);"
    "CREATE TABLE mmio(icount INTEGER, vtime_ns INTEGER, hart INTEGER, device TEXT,"
    " offset INTEGER, size INTEGER, value INTEGER, write INTEGER);"
    "CREATE TABLE uart(icount INTEGER, vtime_ns INTEGER, direction TEXT, byte INTEGER);"
    "CREATE TABLE mode_sample(hart INTEGER, icount_start INTEGER, icount_end INTEGER,"
    " vtime_ns INTEGER, u INTEGER, s INTEGER, m INTEGER, idle_ns INTEGER);"
    "CREATE TABLE page_heat(page INTEGER PRIMARY KEY, refills INTEGER, write_refills INTEGER,"
    " fetch_refills INTEGER);"
    "CREATE TABLE page_fault(icount INTEGER, vtime_ns INTEGER, hart INTEGER, pid INTEGER,"
    " addr INTEGER, cause INTEGER, access TEXT, epc INTEGER, satp INTEGER, levels INTEGER,"
    " pte0 INTEGER, pte1 INTEGER, pte2 INTEGER, pte3 INTEGER);";

/* Raw events of a segment, paired by db_build across segments. */
#define RAW_SCHEMA(T)                                                                              \
    "CREATE " T "TABLE syscall_ev(icount INTEGER, vtime_ns INTEGER, hart INTEGER, kind TEXT,"      \
    " task INTEGER, pid INTEGER, tid INTEGER, comm TEXT, nr INTEGER, a0 INTEGER, a1 INTEGER,"      \
    " a2 INTEGER, a3 INTEGER, a4 INTEGER, a5 INTEGER, ret INTEGER);"                               \
    "CREATE " T "TABLE irq_ev(icount INTEGER, vtime_ns INTEGER, hart INTEGER, op TEXT,"            \
    " source INTEGER, context INTEGER);"
const char db_schema_raw[] = RAW_SCHEMA("");
const char db_schema_raw_temp[] = RAW_SCHEMA("TEMP ");

const char db_schema_final[] =
    "CREATE TABLE syscall(enter_icount INTEGER, exit_icount INTEGER, enter_vtime_ns INTEGER,"
    " exit_vtime_ns INTEGER, hart INTEGER, pid INTEGER, tid INTEGER, comm TEXT, nr INTEGER,"
    " name TEXT, a0 INTEGER, a1 INTEGER, a2 INTEGER, a3 INTEGER, a4 INTEGER, a5 INTEGER,"
    " ret INTEGER, latency_ns INTEGER);"
    "CREATE TABLE irq(source INTEGER, device TEXT, assert_icount INTEGER,"
    " assert_vtime_ns INTEGER, trap_icount INTEGER, claim_icount INTEGER,"
    " claim_vtime_ns INTEGER, complete_icount INTEGER, hart INTEGER, context INTEGER);";

const char db_schema_indices[] = "CREATE INDEX trap_icount ON trap(icount);"
                                 "CREATE INDEX trap_hart_icount ON trap(hart, icount);"
                                 "CREATE INDEX syscall_icount ON syscall(enter_icount);"
                                 "CREATE INDEX syscall_pid ON syscall(pid);"
                                 "CREATE INDEX ctxsw_icount ON ctxsw(icount);"
                                 "CREATE INDEX irq_icount ON irq(assert_icount);"
                                 "CREATE INDEX mmio_icount ON mmio(icount);"
                                 "CREATE INDEX uart_icount ON uart(icount);"
                                 "CREATE INDEX mode_sample_icount ON mode_sample(icount_start);"
                                 "CREATE INDEX page_fault_icount ON page_fault(icount);";

const char *const db_event_tables[] = {"trap",       "syscall",    "ctxsw",       "irq",
                                       "mmio",       "uart",       "mode_sample", "page_heat",
                                       "page_fault", "syscall_ev", "irq_ev",      NULL};

const char *db_priv_name(unsigned p)
{
    return p == 0 ? "U" : p == 1 ? "S" : p == 3 ? "M" : "?";
}

const char *db_trap_name(uint64_t cause)
{
    static const char *const exc[16] = {"insn_misaligned",
                                        "insn_access_fault",
                                        "illegal_insn",
                                        "breakpoint",
                                        "load_misaligned",
                                        "load_access_fault",
                                        "store_misaligned",
                                        "store_access_fault",
                                        "ecall_u",
                                        "ecall_s",
                                        "?",
                                        "ecall_m",
                                        "page_fault_insn",
                                        "page_fault_load",
                                        "?",
                                        "page_fault_store"};
    static const char *const irq[12] = {"?", "irq_s_soft",     "?", "irq_m_soft",
                                        "?", "irq_s_timer",    "?", "irq_m_timer",
                                        "?", "irq_s_external", "?", "irq_m_external"};
    unsigned code = (unsigned)(cause & 63);
    if (cause >> 63) return code < 12 ? irq[code] : "irq_other";
    return code < 16 ? exc[code] : "?";
}

const char *db_irq_device(unsigned src)
{
    if (src == DEV_UART_IRQ) return "uart";
    if (src >= DEV_VIRTIO_IRQ && src < DEV_VIRTIO_IRQ + DEV_VIRTIO_SLOTS) return "virtio";
    return "?";
}
