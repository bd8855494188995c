/*
 * test_loader.c - guest image loading: a real riscv64 ELF built here with
 * the cross compiler (segments at their physical addresses, bss zeroed,
 * entry, extent, the tohost symbol), raw images, and malformed input:
 * every truncation and thousands of corruptions of a valid ELF give an
 * error (MC_EFORMAT / MC_ERANGE) without crashing or touching RAM.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus.h"
#include "loader.h"

#define DRAM     0x80000000ull
#define RAM_SIZE (4ull << 20)

static const char elf_src[] = ".globl _start\n"
                              ".text\n"
                              "_start:\n"
                              "  li a0, 42\n" /* 0x02a00513 */
                              "  lla t0, tohost\n"
                              "1: j 1b\n"
                              ".data\n"
                              ".align 3\n"
                              ".globl tohost\n"
                              "tohost: .dword 0\n"
                              "msg: .ascii \"hello\"\n"
                              ".bss\n"
                              ".align 3\n"
                              "buf: .space 4096\n";

typedef struct fixture {
    char dir[64];
    uint8_t *elf; /* linked at 0x80000000 */
    size_t size;
    uint8_t *far_elf; /* linked at 0x10000000: not RAM */
    size_t far_size;
} fixture;

static int build(fixture *f, const char *name, const char *text_addr, uint8_t **data, size_t *size)
{
    char src[128], lds[128], out[128], cmd[700];
    snprintf(src, sizeof(src), "%s/t.S", f->dir);
    snprintf(lds, sizeof(lds), "%s/t.ld", f->dir);
    snprintf(out, sizeof(out), "%s/%s", f->dir, name);
    FILE *fp = fopen(src, "w");
    if (!fp) return -1;
    fputs(elf_src, fp);
    fclose(fp);
    if (!(fp = fopen(lds, "w"))) return -1;
    fprintf(fp,
            "ENTRY(_start)\nSECTIONS { . = %s; .text : { *(.text*) } . = ALIGN(16);\n"
            ".data : { *(.data*) } .bss : { *(.bss*) } }\n",
            text_addr);
    fclose(fp);
    snprintf(cmd, sizeof(cmd),
             "riscv64-linux-gnu-gcc -march=rv64ima_zicsr -mabi=lp64 -nostdlib -no-pie -static "
             "-Wl,--build-id=none -Wl,--no-warn-rwx-segments -T %s -o %s %s 2>/dev/null",
             lds, out, src);
    if (system(cmd) != 0) return -1;
    return loader_read_file(out, data, size);
}

static int setup(void **state)
{
    if (system("command -v riscv64-linux-gnu-gcc >/dev/null 2>&1") != 0) return -1;
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/machina-test-loader-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    if (build(f, "t.elf", "0x80000000", &f->elf, &f->size) != 0) return -1;
    if (build(f, "far.elf", "0x10000000", &f->far_elf, &f->far_size) != 0) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0) return -1;
    free(f->elf);
    free(f->far_elf);
    free(f);
    return 0;
}

static bus_t *new_ram(uint8_t fill)
{
    bus_t *bus;
    assert_int_equal(bus_new(&bus), MC_OK);
    assert_int_equal(bus_add_ram(bus, DRAM, RAM_SIZE), MC_OK);
    memset(bus_ram_ptr(bus, DRAM, RAM_SIZE, true), fill, RAM_SIZE);
    return bus;
}

static bool ram_all(bus_t *bus, uint8_t v)
{
    const uint8_t *p = bus_ram_ptr(bus, DRAM, RAM_SIZE, false);
    for (size_t i = 0; i < RAM_SIZE; i++)
        if (p[i] != v) return false;
    return true;
}

static void test_loader__elf(void **state)
{
    fixture *f = *state;
    bus_t *bus = new_ram(0xff);
    loader_info info;
    char err[LOADER_ERRLEN];
    assert_true(loader_is_elf(f->elf, f->size));
    assert_int_equal(loader_load(bus, 0x80100000, f->elf, f->size, &info, err, sizeof(err)), MC_OK);
    assert_true(info.is_elf);
    assert_int_equal(info.entry, DRAM);
    assert_int_equal(info.low, DRAM);
    assert_true(info.high > DRAM + 16 + 4096 && info.high < DRAM + RAM_SIZE);
    uint64_t v;
    assert_int_equal(bus_read(bus, DRAM, 4, &v), MC_OK);
    assert_int_equal(v, 0x02a00513); /* li a0, 42 */

    uint64_t tohost, msg, buf;
    assert_true(info.has_tohost);
    assert_int_equal(loader_elf_symbol(f->elf, f->size, "tohost", &tohost), MC_OK);
    assert_int_equal(info.tohost, tohost);
    assert_int_equal(bus_read(bus, tohost, 8, &v), MC_OK);
    assert_int_equal(v, 0);
    assert_int_equal(loader_elf_symbol(f->elf, f->size, "msg", &msg), MC_OK);
    assert_memory_equal(bus_ram_ptr(bus, msg, 5, false), "hello", 5);
    /* bss zeroed although RAM was 0xff */
    assert_int_equal(loader_elf_symbol(f->elf, f->size, "buf", &buf), MC_OK);
    const uint8_t *p = bus_ram_ptr(bus, buf, 4096, false);
    assert_non_null(p);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(p[i], 0);
    assert_int_equal(loader_elf_symbol(f->elf, f->size, "no_such_symbol", &v), MC_ENOENT);
    /* the load marked the pages dirty */
    uint8_t *fl = bus_page_flags(bus, DRAM);
    assert_true(*fl & BUS_PAGE_DIRTY);
    bus_free(bus);
}

static void test_loader__elf_outside_ram(void **state)
{
    fixture *f = *state;
    bus_t *bus = new_ram(0xa5);
    loader_info info;
    char err[LOADER_ERRLEN] = "";
    assert_int_equal(loader_load_elf(bus, f->far_elf, f->far_size, &info, err, sizeof(err)),
                     MC_ERANGE);
    assert_non_null(strstr(err, "not in RAM"));
    assert_true(ram_all(bus, 0xa5));
    bus_free(bus);
}

static void test_loader__raw(void **state)
{
    (void)state;
    bus_t *bus = new_ram(0);
    static const uint8_t img[] = "raw image bytes";
    loader_info info;
    char err[LOADER_ERRLEN];
    assert_false(loader_is_elf(img, sizeof(img)));
    assert_int_equal(loader_load(bus, 0x80200000, img, sizeof(img), &info, err, sizeof(err)),
                     MC_OK);
    assert_false(info.is_elf);
    assert_int_equal(info.entry, 0x80200000);
    assert_int_equal(info.high, 0x80200000 + sizeof(img));
    assert_memory_equal(bus_ram_ptr(bus, 0x80200000, sizeof(img), false), img, sizeof(img));
    /* past the end of RAM, or not RAM at all */
    assert_int_equal(
        loader_load_raw(bus, DRAM + RAM_SIZE - 4, img, sizeof(img), NULL, err, sizeof(err)),
        MC_ERANGE);
    assert_int_equal(loader_load_raw(bus, 0x1000, img, sizeof(img), NULL, NULL, 0), MC_ERANGE);
    bus_free(bus);
}

static void test_loader__truncated(void **state)
{
    fixture *f = *state;
    bus_t *bus = new_ram(0x5a);
    /* the section headers sit at the end: every proper prefix is malformed */
    for (size_t len = 0; len < f->size; len += (len < 256 ? 1 : 61)) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, f->elf, len);
        char err[LOADER_ERRLEN] = "";
        int rc = loader_load_elf(bus, copy, len, NULL, err, sizeof(err));
        if (rc != MC_EFORMAT) fprintf(stderr, "len %zu: rc %d (%s)\n", len, rc, err);
        assert_int_equal(rc, MC_EFORMAT);
        assert_true(err[0] != 0);
        uint64_t v;
        rc = loader_elf_symbol(copy, len, "tohost", &v);
        assert_true(rc == MC_EFORMAT || rc == MC_ENOENT);
        free(copy);
    }
    assert_true(ram_all(bus, 0x5a));
    bus_free(bus);
}

/* xorshift64*: a fixed sequence, so failures repeat. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static void test_loader__garbage(void **state)
{
    fixture *f = *state;
    bus_t *bus = new_ram(0);
    uint8_t *copy = malloc(f->size);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int ok = 0, bad = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(copy, f->elf, f->size);
        int flips = 1 + (int)(rnd(&seed) % 8);
        for (int i = 0; i < flips; i++) {
            /* mostly the headers and tables, where the structure is */
            size_t at = (iter & 1) ? rnd(&seed) % 256 : rnd(&seed) % f->size;
            if (iter % 3 == 0 && f->size > 1024) at = f->size - 1 - rnd(&seed) % 1024;
            copy[at] = (uint8_t)rnd(&seed);
        }
        char err[LOADER_ERRLEN];
        loader_info info;
        int rc = loader_load_elf(bus, copy, f->size, &info, err, sizeof(err));
        assert_true(rc == MC_OK || rc == MC_EFORMAT || rc == MC_ERANGE);
        if (rc == MC_OK) {
            ok++;
            assert_true(info.low >= DRAM && info.high <= DRAM + RAM_SIZE);
        } else {
            bad++;
        }
        uint64_t v;
        rc = loader_elf_symbol(copy, f->size, "tohost", &v);
        assert_true(rc == MC_OK || rc == MC_EFORMAT || rc == MC_ENOENT);
    }
    assert_true(bad > 0);
    free(copy);
    bus_free(bus);
}

static void test_loader__read_file(void **state)
{
    (void)state;
    uint8_t *data;
    size_t size;
    errno = 0;
    assert_int_equal(loader_read_file("/nonexistent/machina", &data, &size), MC_EIO);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(loader_read_file("/dev/null", &data, &size), MC_OK);
    assert_int_equal(size, 0);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loader__elf),     cmocka_unit_test(test_loader__elf_outside_ram),
        cmocka_unit_test(test_loader__raw),     cmocka_unit_test(test_loader__truncated),
        cmocka_unit_test(test_loader__garbage), cmocka_unit_test(test_loader__read_file),
    };
    /* Without the cross compiler only the tests that need no ELF run. */
    if (system("command -v riscv64-linux-gnu-gcc >/dev/null 2>&1") != 0) {
        const struct CMUnitTest basic[] = {
            cmocka_unit_test(test_loader__raw),
            cmocka_unit_test(test_loader__read_file),
        };
        return cmocka_run_group_tests(basic, NULL, NULL);
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
