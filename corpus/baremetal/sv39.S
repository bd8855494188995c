/*
 * sv39.S - Sv39 paging (3 levels): gigapages, megapages and 4 KiB pages,
 * U pages from U, SUM and MXR from S, page faults 12/13/15 with mtval/stval
 * = the address, hardware A/D updates visible in the PTEs, misaligned
 * superpages, reserved PTE encodings, non-canonical addresses, sfence.vma,
 * MPRV translation from M, delegation of page faults to S.  Body: vm.inc.
 */
#define LEVELS 3
#include "common.h"
#include "vm.inc"
