/*
 * test_gva.c - page walks over page tables built here in a RAM buffer:
 * Sv39 and Sv48, 4K/2M/1G (and 512G) pages, invalid and reserved entries,
 * misaligned superpages, non-canonical VAs, reads across pages, the PTE
 * chain, coalesced enumeration, and the work bound on hostile tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gva.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (8ull << 20)

typedef struct ram {
    uint8_t *b;
    unsigned reads;
} ram;

static int rd(void *ctx, uint64_t pa, void *buf, size_t len)
{
    ram *r = ctx;
    r->reads++;
    if (pa < RAM_BASE || pa - RAM_BASE > RAM_SIZE || len > RAM_SIZE - (pa - RAM_BASE))
        return MC_EBUSFAULT;
    memcpy(buf, r->b + (pa - RAM_BASE), len);
    return 0;
}

static uint64_t pte(uint64_t pa, unsigned bits)
{
    return ((pa >> 12) << 10) | bits;
}

static void set(ram *r, uint64_t table, unsigned idx, uint64_t v)
{
    memcpy(r->b + (table - RAM_BASE) + idx * 8, &v, 8);
}

static unsigned vpn(uint64_t va, int lvl)
{
    return (unsigned)((va >> (12 + 9 * lvl)) & 511);
}

#define LEAF         (GVA_V | GVA_R | GVA_A)
#define SATP39(root) ((8ull << 60) | ((root) >> 12))
#define SATP48(root) ((9ull << 60) | ((root) >> 12))

/* Tables at RAM_BASE + 1M..; data pages from RAM_BASE + 4M. */
#define ROOT (RAM_BASE + 0x100000)
#define L1   (RAM_BASE + 0x101000)
#define L0   (RAM_BASE + 0x102000)
#define L1B  (RAM_BASE + 0x103000)
#define DATA (RAM_BASE + 0x400000)

static int setup(void **state)
{
    ram *r = calloc(1, sizeof(*r));
    r->b = calloc(1, RAM_SIZE);
    *state = r;
    return r->b ? 0 : -1;
}

static int teardown(void **state)
{
    ram *r = *state;
    free(r->b);
    free(r);
    return 0;
}

/* Sv39 map used by several tests:
 *   0x400000, 0x401000  4K -> DATA, DATA+0x1000 (rw-u), contiguous
 *   0x402000            4K -> DATA+0x3000 (r only): not contiguous in PA
 *   0x403000            invalid
 *   0x404000            W without R: reserved
 *   0x405000            reserved bit 60 set
 *   0x40000000 .. +2M   2M -> RAM_BASE+0x200000 (r-x)
 *   0x40200000          2M leaf with misaligned PPN
 *   0xffffffff80000000  1G -> RAM_BASE (rwx g)
 */
static uint64_t build_sv39(ram *r)
{
    uint64_t va = 0x400000;
    set(r, ROOT, vpn(va, 2), pte(L1, GVA_V));
    set(r, L1, vpn(va, 1), pte(L0, GVA_V));
    set(r, L0, vpn(0x400000, 0), pte(DATA, LEAF | GVA_W | GVA_U | GVA_D));
    set(r, L0, vpn(0x401000, 0), pte(DATA + 0x1000, LEAF | GVA_W | GVA_U | GVA_D));
    set(r, L0, vpn(0x402000, 0), pte(DATA + 0x3000, LEAF));
    set(r, L0, vpn(0x404000, 0), pte(DATA + 0x4000, GVA_V | GVA_W));
    set(r, L0, vpn(0x405000, 0), pte(DATA + 0x5000, LEAF) | (1ull << 60));
    set(r, ROOT, vpn(0x40000000, 2), pte(L1B, GVA_V));
    set(r, L1B, vpn(0x40000000, 1), pte(RAM_BASE + 0x200000, LEAF | GVA_X));
    set(r, L1B, vpn(0x40200000, 1), pte(RAM_BASE + 0x201000, LEAF));
    set(r, ROOT, vpn(0xffffffff80000000ull, 2), pte(RAM_BASE, LEAF | GVA_W | GVA_X | GVA_G));
    memcpy(r->b + (DATA - RAM_BASE) + 0xff8, "ABCDEFGH", 8);
    memcpy(r->b + (DATA - RAM_BASE) + 0x1000, "IJKLMNOP", 8);
    return SATP39(ROOT);
}

static void test_gva__sv39_4k(void **state)
{
    ram *r = *state;
    gva_space s = {rd, r, build_sv39(r)};
    gva_walk w;
    assert_int_equal(gva_translate(&s, 0x401234, &w), 0);
    assert_int_equal(w.pa, DATA + 0x1234);
    assert_int_equal(w.page_size, 4096);
    assert_int_equal(w.nlevels, 3);
    assert_int_equal(w.pte_addr[0], ROOT + 8 * vpn(0x401234, 2));
    assert_int_equal(w.pte_addr[1], L1 + 8 * vpn(0x401234, 1));
    assert_int_equal(w.pte_addr[2], L0 + 8 * vpn(0x401234, 0));
    assert_int_equal(w.pte[0], pte(L1, GVA_V));
    assert_int_equal(w.pte[2], pte(DATA + 0x1000, LEAF | GVA_W | GVA_U | GVA_D));
    assert_int_equal(w.perm, LEAF | GVA_W | GVA_U | GVA_D);
    assert_int_equal(w.level, 0);
    char p[8];
    assert_string_equal(gva_perm_str(w.perm, p), "rw-u-ad");
}

static void test_gva__sv39_superpages(void **state)
{
    ram *r = *state;
    gva_space s = {rd, r, build_sv39(r)};
    gva_walk w;
    assert_int_equal(gva_translate(&s, 0x401fffffull, &w), 0); /* 2M */
    assert_int_equal(w.pa, RAM_BASE + 0x200000 + 0x1fffff);
    assert_int_equal(w.page_size, 2u << 20);
    assert_int_equal(w.nlevels, 2);
    assert_int_equal(w.level, 1);
    assert_int_equal(gva_translate(&s, 0xffffffff80123456ull, &w), 0); /* 1G */
    assert_int_equal(w.pa, RAM_BASE + 0x123456);
    assert_int_equal(w.page_size, 1u << 30);
    assert_int_equal(w.nlevels, 1);
    assert_true(w.perm & GVA_G);
}

static void test_gva__sv39_faults(void **state)
{
    ram *r = *state;
    gva_space s = {rd, r, build_sv39(r)};
    gva_walk w;
    assert_int_equal(gva_translate(&s, 0x403000, &w), MC_ENOENT);
    assert_int_equal(w.fault, GVA_INVALID);
    assert_int_equal(w.nlevels, 3); /* chain up to the failing entry */
    assert_int_equal(gva_translate(&s, 0x404000, &w), MC_EGUEST);
    assert_int_equal(w.fault, GVA_RESERVED);
    assert_int_equal(gva_translate(&s, 0x405000, &w), MC_EGUEST);
    assert_int_equal(w.fault, GVA_RESERVED);
    assert_int_equal(gva_translate(&s, 0x40200000, &w), MC_EGUEST);
    assert_int_equal(w.fault, GVA_MISALIGNED);
    assert_int_equal(gva_translate(&s, 0x800000000ull, &w), MC_ENOENT); /* root entry 32 empty */
    assert_int_equal(w.nlevels, 1);
    /* bit 38 set without sign extension */
    assert_int_equal(gva_translate(&s, 0x0000004000000000ull, &w), MC_ERANGE);
    assert_int_equal(w.fault, GVA_NONCANONICAL);
    assert_int_equal(w.nlevels, 0);
    /* satp pointing outside RAM */
    gva_space bad = {rd, r, SATP39(0x1000)};
    assert_int_equal(gva_translate(&bad, 0x1000, &w), MC_EBUSFAULT);
    gva_space sv57 = {rd, r, (10ull << 60) | (ROOT >> 12)};
    assert_int_equal(gva_translate(&sv57, 0x1000, &w), MC_EUNSUP);
}

static void test_gva__read_across_pages(void **state)
{
    ram *r = *state;
    gva_space s = {rd, r, build_sv39(r)};
    char buf[17] = {0};
    assert_int_equal(gva_read(&s, 0x400ff8, buf, 16), 0);
    assert_string_equal(buf, "ABCDEFGHIJKLMNOP");
    /* into the non-contiguous third page, then the invalid fourth one */
    memcpy(r->b + (DATA - RAM_BASE) + 0x3000, "xyz", 3);
    memcpy(r->b + (DATA - RAM_BASE) + 0x1ffe, "uv", 2);
    assert_int_equal(gva_read(&s, 0x401ffe, buf, 5), 0);
    assert_memory_equal(buf, "uvxyz", 5);
    assert_int_equal(gva_read(&s, 0x402ff0, buf, 0x20), MC_ENOENT);
    assert_int_equal(gva_read_cb(&s, 0xffffffff80000000ull + 0x100000, buf, 8), 0);
    uint64_t root0;
    memcpy(&root0, buf, 8);
    assert_int_equal(root0, pte(L1, GVA_V)); /* the root table, seen through the 1G map */
}

typedef struct ranges {
    gva_range r[32];
    int n;
} ranges;

static int collect(void *arg, const gva_range *r)
{
    ranges *rs = arg;
    if (rs->n < 32) rs->r[rs->n] = *r;
    rs->n++;
    return 0;
}

static void test_gva__enum_sv39(void **state)
{
    ram *r = *state;
    gva_space s = {rd, r, build_sv39(r)};
    ranges rs = {0};
    assert_int_equal(gva_enum(&s, 0, ~0ull, 0, collect, &rs), 0);
    assert_int_equal(rs.n, 4);
    /* 0x400000 + 0x401000 coalesced (contiguous VA and PA, same perms) */
    assert_int_equal(rs.r[0].va, 0x400000);
    assert_int_equal(rs.r[0].pa, DATA);
    assert_int_equal(rs.r[0].len, 0x2000);
    assert_int_equal(rs.r[0].page_size, 4096);
    assert_int_equal(rs.r[1].va, 0x402000);
    assert_int_equal(rs.r[1].pa, DATA + 0x3000);
    assert_int_equal(rs.r[1].perm, LEAF);
    assert_int_equal(rs.r[2].va, 0x40000000);
    assert_int_equal(rs.r[2].len, 2u << 20);
    assert_int_equal(rs.r[2].perm, LEAF | GVA_X);
    assert_int_equal(rs.r[3].va, 0xffffffff80000000ull);
    assert_int_equal(rs.r[3].pa, RAM_BASE);
    assert_int_equal(rs.r[3].len, 1u << 30);
    /* a window: only the kernel half */
    rs.n = 0;
    assert_int_equal(gva_enum(&s, 0xffffffc000000000ull, ~0ull, 0, collect, &rs), 0);
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.r[0].va, 0xffffffff80000000ull);
}

static void test_gva__enum_bounded(void **state)
{
    ram *r = *state;
    /* every entry of the root points back at the root: 512^3 paths */
    for (unsigned i = 0; i < 512; i++)
        set(r, ROOT, i, pte(ROOT, GVA_V));
    gva_space s = {rd, r, SATP39(ROOT)};
    ranges rs = {0};
    r->reads = 0;
    assert_int_equal(gva_enum(&s, 0, ~0ull, 10000, collect, &rs), MC_ERANGE);
    assert_true(r->reads <= 10000);
    assert_int_equal(rs.n, 0);
    gva_walk w;
    assert_int_equal(gva_translate(&s, 0x1000, &w), MC_ENOENT); /* no leaf at level 0 */
    assert_int_equal(w.fault, GVA_NOLEAF);
    assert_int_equal(w.nlevels, 3);
}

static void test_gva__sv48(void **state)
{
    ram *r = *state;
    uint64_t l2 = L1, l1 = L1B, l0 = L0;
    uint64_t va = 0x0000123456789000ull; /* needs 48 bits */
    set(r, ROOT, vpn(va, 3), pte(l2, GVA_V));
    set(r, l2, vpn(va, 2), pte(l1, GVA_V));
    set(r, l1, vpn(va, 1), pte(l0, GVA_V));
    set(r, l0, vpn(va, 0), pte(DATA, LEAF | GVA_W));
    /* a 1G page and a 512G page in the upper half */
    set(r, l2, vpn(0x0000123480000000ull, 2), pte(RAM_BASE, LEAF)); /* same l2 table */
    set(r, ROOT, vpn(0xffff800000000000ull, 3), pte(0, LEAF | GVA_G));
    gva_space s = {rd, r, SATP48(ROOT)};
    gva_walk w;
    assert_int_equal(gva_translate(&s, va + 0x10, &w), 0);
    assert_int_equal(w.pa, DATA + 0x10);
    assert_int_equal(w.nlevels, 4);
    assert_int_equal(w.pte_addr[0], ROOT + 8 * vpn(va, 3));
    assert_int_equal(w.pte_addr[3], l0 + 8 * vpn(va, 0));
    assert_int_equal(gva_translate(&s, 0x0000123480001234ull, &w), 0);
    assert_int_equal(w.pa, RAM_BASE + 0x1234);
    assert_int_equal(w.page_size, 1u << 30);
    assert_int_equal(gva_translate(&s, 0xffff800012345678ull, &w), 0);
    assert_int_equal(w.page_size, 1ull << 39);
    assert_int_equal(w.pa, 0x12345678);
    /* canonical in Sv48 but this VA is not canonical in Sv39 */
    gva_space s39 = {rd, r, SATP39(ROOT)};
    assert_int_equal(gva_translate(&s39, va, &w), MC_ERANGE);
    assert_int_equal(gva_translate(&s, 0x0000800000000000ull, &w), MC_ERANGE);
    ranges rs = {0};
    assert_int_equal(gva_enum(&s, 0, ~0ull, 0, collect, &rs), 0);
    assert_int_equal(rs.n, 3);
    assert_int_equal(rs.r[0].va, va);
    assert_int_equal(rs.r[1].va, 0x0000123480000000ull);
    assert_int_equal(rs.r[2].va, 0xffff800000000000ull);
    assert_int_equal(rs.r[2].len, 1ull << 39);
}

static void test_gva__bare(void **state)
{
    ram *r = *state;
    gva_space s = {rd, r, 0};
    gva_walk w;
    assert_int_equal(gva_translate(&s, RAM_BASE + 0x1234, &w), 0);
    assert_int_equal(w.pa, RAM_BASE + 0x1234);
    assert_int_equal(w.nlevels, 0);
    memcpy(r->b + 0xffe, "abcd", 4);
    char buf[4];
    assert_int_equal(gva_read(&s, RAM_BASE + 0xffe, buf, 4), 0);
    assert_memory_equal(buf, "abcd", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gva__sv39_4k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gva__sv39_superpages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gva__sv39_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gva__read_across_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gva__enum_sv39, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gva__enum_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gva__sv48, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gva__bare, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
