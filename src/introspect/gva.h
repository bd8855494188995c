/*
 * gva.h - guest virtual memory seen from outside: translate a VA by walking
 * the RISC-V Sv39/Sv48 page table named by a satp value, read bytes at a
 * VA, and enumerate the mapped ranges of an address space.
 *
 * Physical memory comes through a callback, so the same code runs over a
 * live machine, a restored checkpoint or a RAM buffer in a test. The walk
 * never writes (A/D bits are reported, not set) and follows the rules of
 * the hart's MMU (src/core/hart_mmu.c): V=0 or W-without-R is invalid,
 * bits 63:54 must be zero (no Svpbmt/Svnapot), superpages must be aligned.
 * satp mode Bare translates VA == PA.
 */
#ifndef MACHINA_GVA_H
#define MACHINA_GVA_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Reads len bytes of guest physical memory at pa; 0 or an MC_E* code. */
typedef int (*gva_read_phys_fn)(void *ctx, uint64_t pa, void *buf, size_t len);

/* An address space: plain data, copied freely. */
typedef struct gva_space {
    gva_read_phys_fn read_phys;
    void *ctx;
    uint64_t satp;
} gva_space;

/* PTE bits */
enum {
    GVA_V = 1u << 0,
    GVA_R = 1u << 1,
    GVA_W = 1u << 2,
    GVA_X = 1u << 3,
    GVA_U = 1u << 4,
    GVA_G = 1u << 5,
    GVA_A = 1u << 6,
    GVA_D = 1u << 7,
};

#define GVA_MAX_LEVELS 4

/* Why a walk stopped without a translation. */
typedef enum gva_fault {
    GVA_OK,
    GVA_NONCANONICAL, /* VA bits above the mode's width are not a sign extension */
    GVA_INVALID,      /* V=0 at some level: not mapped */
    GVA_RESERVED,     /* W without R, or reserved bits 63:54 set */
    GVA_MISALIGNED,   /* superpage PPN not aligned */
    GVA_NOLEAF,       /* level 0 entry is a pointer */
    GVA_BUSFAULT,     /* the PTE could not be read */
} gva_fault;

/* The result of one walk: every PTE read, top level first. */
typedef struct gva_walk {
    uint64_t va, pa;
    uint64_t page_size; /* 4K, 2M, 1G or 512G; 0 when not translated */
    unsigned perm;      /* GVA_* bits of the leaf */
    int nlevels;        /* PTEs read (entries of pte_addr/pte valid) */
    uint64_t pte_addr[GVA_MAX_LEVELS];
    uint64_t pte[GVA_MAX_LEVELS];
    int level; /* level of the last PTE read (levels-1 = root ... 0) */
    gva_fault fault;
} gva_walk;

/* Translates va. 0 with w->pa set; MC_ENOENT (not mapped), MC_EGUEST
 * (reserved/misaligned entry), MC_ERANGE (non-canonical VA), MC_EUNSUP
 * (satp mode other than Bare/Sv39/Sv48) or the reader's error; w holds
 * the PTE chain in every case. */
MC_MUST_CHECK int gva_translate(const gva_space *s, uint64_t va, gva_walk *w);

/* Reads len bytes at va, across pages. */
MC_MUST_CHECK int gva_read(const gva_space *s, uint64_t va, void *buf, size_t len);
/* Same, with the gva_space as a void * context (an ovl_read_fn). */
MC_MUST_CHECK int gva_read_cb(void *space, uint64_t va, void *buf, size_t len);

/* A run of mapped pages with the same permissions, page size, and
 * contiguous VA and PA. */
typedef struct gva_range {
    uint64_t va, pa, len;
    uint64_t page_size;
    unsigned perm;
} gva_range;

/* Returns nonzero to stop the enumeration (gva_enum then returns it). */
typedef int (*gva_range_fn)(void *arg, const gva_range *r);

/* Calls fn for each coalesced mapped range overlapping [va_lo, va_hi] in
 * VA order (canonical, sign-extended addresses). Reads at most max_ptes
 * entries (0: 1<<22); MC_ERANGE when that bound stops the walk. Invalid
 * and reserved entries are skipped. */
MC_MUST_CHECK int gva_enum(const gva_space *s, uint64_t va_lo, uint64_t va_hi, size_t max_ptes,
                           gva_range_fn fn, void *arg);

/* "rwxugad"-style string of perm into buf (8 bytes). */
const char *gva_perm_str(unsigned perm, char buf[8]);
/* Text of a fault reason. */
const char *gva_fault_str(gva_fault f);

#endif
