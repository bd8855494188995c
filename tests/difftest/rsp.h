/*
 * rsp.h - a small GDB Remote Serial Protocol client, enough to drive QEMU's
 * gdbstub in lock-step: read registers (g, p), memory (m), single-step (s),
 * kill (k).
 *
 * The client switches to no-ack mode when the stub allows it (QEMU 7.2
 * does not), and learns the register numbering from the stub's target
 * description (qXfer:features:read), so registers are looked up by their
 * gdb name ("pc", "ft0", "mstatus", "priv"). Batched reads (rsp_read_regs)
 * send all requests in one write and then collect the replies, which makes
 * reading 50 registers cost about what 10 single reads do.
 *
 * Errors are MC_E* codes (err.h); MC_EIO covers a dead connection.
 */
#ifndef MACHINA_TEST_RSP_H
#define MACHINA_TEST_RSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct rsp rsp_t;

/* Why the target stopped after rsp_step / on connection. */
typedef enum rsp_stop {
    RSP_STOP_SIGNAL = 0, /* T/S packet: stopped, still alive */
    RSP_STOP_EXITED,     /* W/X packet: the target is gone */
} rsp_stop;

/* Connects to a stub listening on a unix socket (path) or, when path is
 * "HOST:PORT" with a numeric PORT, on TCP. Retries for up to timeout_ms
 * while the stub starts. Reads the target description. */
MC_MUST_CHECK int rsp_connect(rsp_t **out, const char *path, int timeout_ms);
/* Closes the connection; accepts NULL. */
void rsp_free(rsp_t *r);

/* Sends one packet and reads one reply (NUL-terminated, binary-unsafe)
 * into buf of cap bytes. */
MC_MUST_CHECK int rsp_command(rsp_t *r, const char *cmd, char *buf, size_t cap);

/* gdb register number for name, or -1 when the target has no such register. */
int rsp_regnum(const rsp_t *r, const char *name);
/* Size in bytes of register regnum (from the target description), or 0. */
unsigned rsp_regsize(const rsp_t *r, int regnum);

/* Reads n registers (numbers in nums) into vals with one round trip;
 * ok[i] is false when the stub refused register nums[i] (E packet). */
MC_MUST_CHECK int rsp_read_regs(rsp_t *r, const int *nums, unsigned n, uint64_t *vals, bool *ok);
/* Reads the core registers with `g`: x0..x31 then pc (33 values). */
MC_MUST_CHECK int rsp_read_core(rsp_t *r, uint64_t regs[33]);
/* Writes one register (P packet). */
MC_MUST_CHECK int rsp_write_reg(rsp_t *r, int regnum, uint64_t val);
/* Reads len bytes of guest memory at addr (physical when paging is off);
 * MC_EBUSFAULT when the stub answers with an error. */
MC_MUST_CHECK int rsp_read_mem(rsp_t *r, uint64_t addr, void *buf, size_t len);

/* Single-steps one instruction; *why tells whether the target still lives.
 * MC_ESTATE when no stop reply came in time (the target hangs). */
MC_MUST_CHECK int rsp_step(rsp_t *r, rsp_stop *why);
/* Kills the target (k) without waiting for a reply. */
void rsp_kill(rsp_t *r);

#endif
