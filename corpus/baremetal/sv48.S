/*
 * sv48.S - Sv48 paging (4 levels), the same checks as sv39.S through a
 * four-level walk (root -> l2 -> l1 -> l0) and a high alias in the upper
 * half of the 48-bit space.  Body: vm.inc.
 */
#define LEVELS 4
#include "common.h"
#include "vm.inc"
