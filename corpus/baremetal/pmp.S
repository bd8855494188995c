/*
 * pmp.S - physical memory protection: NAPOT, TOR and NA4 regions with R/W/X
 * permissions checked from S and U (load -> cause 5, store/AMO -> 7, fetch
 * -> 1, mtval = the address), priority of the lowest-numbered matching
 * entry, M-mode unaffected by unlocked entries but bound by locked ones,
 * locked entries ignoring writes, no matching entry denying S/U but not M,
 * MPRV making M data accesses use U's PMP view, pmpcfg1 absent on RV64.
 *
 * Entry 15 is the "everything RWX" background for S/U; tests use 0-3.
 * The locked entry goes last: nothing but a reset clears it.
 */
#include "common.h"

#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_X 0x04
#define PMP_TOR 0x08
#define PMP_NA4 0x10
#define PMP_NAPOT 0x18
#define PMP_L 0x80

/* pmpaddrN := NAPOT encoding of the 4 KiB page at label l */
.macro NAPOT_4K csr, l
	la a0, \l
	srli a0, a0, 2
	ori a0, a0, 0x1ff
	csrw \csr, a0
.endm

/* Run `insn` at label l in privilege p; expect a trap with cause c, mtval =
 * the register a1 holds; a4 = the faulting pc label. */
.macro DENIED p, l, cause
	CLEAR_TRAP
	EXPECT_TRAP_GOTO .Lden\@
	GOTO_PRIV \p, \l
.Lden\@:
	TF_LOAD TF_CAUSE
	CHECK t5, \cause
	CHECK_TVAL_REG a1
	CHECK_TRAP_MPP \p
.endm

	TEST_BEGIN
tests:
	/* background entry 15, clear 0-7 */
	li a0, -1
	csrw pmpaddr15, a0
	li a0, (PMP_NAPOT | PMP_R | PMP_W | PMP_X) << 56
	csrw pmpcfg2, a0
	csrw pmpcfg0, zero
	csrr a1, pmpcfg2
	CHECK_EQR a1, a0
	csrr a1, pmpaddr15
	CHECK a1, -1 /* bits 63:54 are WARL; QEMU 7.2 keeps them all */

	/* --- entry 0: NAPOT 4K read-only page --- */
	NAPOT_4K pmpaddr0, ro_page
	li a0, PMP_NAPOT | PMP_R
	csrw pmpcfg0, a0
	csrr a1, pmpcfg0
	CHECK a1, PMP_NAPOT | PMP_R
	la a1, ro_page
	li a0, 0x1234
	sd a0, 8(a1) /* M: not restricted by an unlocked entry */
	EXPECT_TRAP_GOTO .Lro_s_back
	GOTO_PRIV 1, .Lro_s
.Lro_s:
	ld a2, 8(a1) /* allowed */
	ecall
.Lro_s_back:
	CHECK a2, 0x1234
	TF_LOAD TF_CAUSE
	CHECK t5, CAUSE_ECALL_S
	addi a1, a1, 16
	DENIED 1, .Lstore_s, CAUSE_STORE_ACCESS
	addi a1, a1, 0x7f8 /* last dword of the page */
	DENIED 0, .Lstore_u, CAUSE_STORE_ACCESS
	DENIED 0, .Lamo_u, CAUSE_STORE_ACCESS
	la a1, ro_page + 4096 /* next page: background entry, writable */
	EXPECT_TRAP_GOTO 1f
	GOTO_PRIV 0, .Lstore_u
1:	TF_LOAD TF_CAUSE
	CHECK t5, CAUSE_ECALL_U

	/* --- MPRV: M stores with MPP = U see the read-only entry --- */
	la a1, ro_page
	li a0, MSTATUS_MPP
	csrc mstatus, a0
	li a0, MSTATUS_MPRV
	EXPECT_TRAP_SKIP
	csrs mstatus, a0
.Lmprv_store:
	sd zero, 0(a1)
	li a0, MSTATUS_MPRV /* the handler cleared nothing: skip mode */
	csrc mstatus, a0
	CHECK_TRAP CAUSE_STORE_ACCESS, .Lmprv_store
	CHECK_TRAP_MPP 3 /* the trap was taken from M */

	/* --- entries 1-2: TOR region with no permissions; priority --- */
	la a0, none_page
	srli a0, a0, 2
	csrw pmpaddr1, a0
	la a0, none_page + 4096
	srli a0, a0, 2
	csrw pmpaddr2, a0
	li a0, (PMP_NAPOT | PMP_R) | (PMP_TOR << 16)
	csrw pmpcfg0, a0
	la a1, none_page + 0x100
	DENIED 1, .Lload_s, CAUSE_LOAD_ACCESS
	la a1, none_page + 0xff8
	DENIED 0, .Lload_u, CAUSE_LOAD_ACCESS
	la a1, none_page + 4096 /* just past the top: allowed */
	EXPECT_TRAP_GOTO 1f
	GOTO_PRIV 1, .Lload_s
1:	TF_LOAD TF_CAUSE
	CHECK t5, CAUSE_ECALL_S
	/* lower entry wins: entry 0 (R) over entry 15 (RWX) for ro_page */
	la a1, ro_page
	DENIED 1, .Lstore_s, CAUSE_STORE_ACCESS

	/* --- fetch: X permission --- */
	NAPOT_4K pmpaddr3, code_page
	li a0, (PMP_NAPOT | PMP_R) << 24 /* code page readable, not executable */
	csrw pmpcfg0, a0
	la a1, code_page
	DENIED 0, code_page, CAUSE_FETCH_ACCESS
	TF_LOAD TF_EPC
	CHECK_EQR t5, a1
	li a0, (PMP_NAPOT | PMP_X) << 24 /* execute-only */
	csrw pmpcfg0, a0
	li a0, 0
	EXPECT_TRAP_GOTO 1f
	GOTO_PRIV 0, code_page
1:	CHECK a0, 0x77 /* it ran */
	TF_LOAD TF_CAUSE
	CHECK t5, CAUSE_ECALL_U
	la a1, code_page
	DENIED 0, .Lload_u, CAUSE_LOAD_ACCESS

	/* --- NA4: one word --- */
	la a0, ro_page + 0x40
	srli a0, a0, 2
	csrw pmpaddr0, a0
	li a0, PMP_NA4 | PMP_R
	csrw pmpcfg0, a0
	la a1, ro_page + 0x44 /* the next word: background RWX */
	EXPECT_TRAP_GOTO 1f
	GOTO_PRIV 1, .Lstore_s
1:	TF_LOAD TF_CAUSE
	CHECK t5, CAUSE_ECALL_S
	la a1, ro_page + 0x40
	DENIED 1, .Lstorew_s, CAUSE_STORE_ACCESS

	/*
	 * --- no matching entry: S/U denied, M allowed ---
	 * One entry stays active (the NA4 word): QEMU 7.2 makes mret to S/U an
	 * illegal instruction when no PMP entry at all is active, a QEMU rule
	 * the spec does not have.
	 */
	csrw pmpcfg2, zero
	la a1, .Lload_s
	DENIED 1, .Lload_s, CAUSE_FETCH_ACCESS
	la a1, ro_page
	sd zero, 0(a1) /* M still fine */
	li a0, (PMP_NAPOT | PMP_R | PMP_W | PMP_X) << 56
	csrw pmpcfg2, a0

	/* --- pmpcfg1 does not exist on RV64 --- */
	EXPECT_TRAP_SKIP
.Lcfg1:
	csrr a0, pmpcfg1
	CHECK_TRAP CAUSE_ILLEGAL, .Lcfg1

	/* --- a locked entry binds M and ignores writes --- */
	NAPOT_4K pmpaddr0, lock_page
	li a0, PMP_NAPOT | PMP_R | PMP_L
	csrw pmpcfg0, a0
	la a1, lock_page
	ld a2, 0(a1) /* read allowed */
	EXPECT_TRAP_SKIP
.Llock_store:
	sd a2, 0(a1)
	CHECK_TRAP CAUSE_STORE_ACCESS, .Llock_store
	CHECK_TVAL_REG a1
	CHECK_TRAP_MPP 3
	csrr a3, pmpaddr0
	csrw pmpaddr0, zero /* ignored */
	csrr a4, pmpaddr0
	CHECK_EQR a3, a4
	li a0, PMP_NAPOT | PMP_R | PMP_W | PMP_X
	csrw pmpcfg0, a0 /* ignored for the locked byte */
	csrr a0, pmpcfg0
	andi a0, a0, 0xff
	CHECK a0, PMP_NAPOT | PMP_R | PMP_L
	EXPECT_TRAP_SKIP
.Llock_store2:
	sw a2, 4(a1)
	CHECK_TRAP CAUSE_STORE_ACCESS, .Llock_store2

	TEST_END

	/* lower-privilege probes: access (a1), then ecall back to M */
	.text
.Lstore_s:
	sd zero, 0(a1)
	ecall
.Lstorew_s:
	sw zero, 0(a1)
	ecall
.Lstore_u:
	sd zero, 0(a1)
	ecall
.Lamo_u:
	amoor.d zero, zero, (a1)
	ecall
.Lload_s:
	ld a2, 0(a1)
	ecall
.Lload_u:
	ld a2, 0(a1)
	ecall

	.align 12
code_page:
	li a0, 0x77
	ecall
	.align 12

	.data
	.align 12
ro_page: .fill 4096, 1, 0
none_page: .fill 4096, 1, 0
lock_page: .fill 4096, 1, 0
	.fill 4096, 1, 0
