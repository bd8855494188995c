/*
 * test_sym.c - kernel symbols of the corpus vmlinux: addresses agree with
 * the kernel's own System.map, addr -> name+off, the build-id agrees with
 * readelf, System.map input; a stripped vmlinux names what is missing;
 * truncated copies, corrupted headers and random bytes give MC_EFORMAT
 * with a message and never crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sym.h"

#define VMLINUX    MACHINA_CORPUS_DIR "/vmlinux"
#define SYSTEM_MAP MACHINA_CORPUS_DIR "/System.map"

static void need_corpus(void)
{
    if (access(VMLINUX, R_OK) || access(SYSTEM_MAP, R_OK))
        fail_msg("corpus kernel missing: %s and %s are required (cmake --build build --target "
                 "corpus)",
                 VMLINUX, SYSTEM_MAP);
}

/* Address of name in System.map, by hand. */
static uint64_t map_addr(const char *name)
{
    FILE *f = fopen(SYSTEM_MAP, "r");
    char line[512], ty, nm[400];
    unsigned long long a;
    uint64_t r = 0;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "%llx %c %399s", &a, &ty, nm) == 3 && !strcmp(nm, name)) {
            r = a;
            break;
        }
    fclose(f);
    return r;
}

static void test_sym__corpus_lookup(void **state)
{
    (void)state;
    need_corpus();
    sym_table *t;
    sym_info s;
    int rc = sym_open(&t, VMLINUX);
    assert_int_equal(rc, 0);
    assert_true(sym_count(t) > 10000);
    const char *names[] = {"init_task", "linux_banner",   "start_kernel",   "schedule",
                           "init_mm",   "swapper_pg_dir", "sys_call_table", "__schedule"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(sym_lookup(t, names[i], &s), 0);
        assert_int_equal(s.addr, map_addr(names[i]));
        assert_string_equal(s.name, names[i]);
    }
    assert_int_equal(sym_lookup(t, "init_task", &s), 0);
    assert_int_equal(s.kind, SYM_OBJECT);
    assert_int_equal(s.type, 'D');
    assert_true(s.size > 2000); /* sizeof(struct task_struct) */
    assert_int_equal(sym_lookup(t, "start_kernel", &s), 0);
    assert_int_equal(s.kind, SYM_FUNC);
    assert_int_equal(s.type, 'T');
    assert_int_equal(sym_lookup(t, "no_such_symbol_here", &s), MC_ENOENT);
    uint64_t banner;
    assert_int_equal(sym_linux_banner(t, &banner), 0);
    assert_int_equal(banner, map_addr("linux_banner"));
    /* the banner string itself, through the file image reader */
    char text[15] = {0};
    assert_int_equal(sym_read_image(t, banner, text, 14), 0);
    assert_string_equal(text, "Linux version ");
    sym_free(t);
}

static void test_sym__addr2name(void **state)
{
    (void)state;
    need_corpus();
    sym_table *t;
    sym_info s;
    uint64_t off;
    char buf[128];
    assert_int_equal(sym_open(&t, VMLINUX), 0);
    uint64_t it = map_addr("init_task"), sk = map_addr("start_kernel");
    assert_int_equal(sym_addr2name(t, it, &s, &off), 0);
    assert_string_equal(s.name, "init_task");
    assert_int_equal(off, 0);
    assert_int_equal(sym_addr2name(t, it + 0x2f0, &s, &off), 0);
    assert_string_equal(s.name, "init_task");
    assert_int_equal(off, 0x2f0);
    assert_int_equal(sym_format(t, sk + 6, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "start_kernel+0x6");
    assert_int_equal(sym_addr2name(t, 0x1000, &s, &off), MC_ENOENT);
    assert_int_equal(sym_addr2name(t, ~0ull, &s, &off), MC_ENOENT);
    /* every symbol in address order maps back to an entry at its own address */
    for (size_t i = 0; i < sym_count(t); i += 97) {
        const sym_info *e = sym_at(t, i);
        if (e->type == 'A' || e->type == 'a') continue;
        assert_int_equal(sym_addr2name(t, e->addr, &s, &off), 0);
        assert_int_equal(s.addr, e->addr);
        assert_int_equal(off, 0);
    }
    sym_free(t);
}

/* All global text/data symbols of System.map agree with the ELF table. */
static void test_sym__agrees_with_system_map(void **state)
{
    (void)state;
    need_corpus();
    sym_table *elf, *map;
    assert_int_equal(sym_open(&elf, VMLINUX), 0);
    assert_int_equal(sym_open(&map, SYSTEM_MAP), 0);
    assert_string_equal(sym_build_id(map), "");
    size_t checked = 0;
    for (size_t i = 0; i < sym_count(map); i++) {
        const sym_info *m = sym_at(map, i);
        sym_info e;
        if (!strchr("TDBR", m->type)) continue;
        assert_int_equal(sym_lookup(elf, m->name, &e), 0);
        if (e.addr != m->addr)
            fail_msg("%s: ELF %#llx, System.map %#llx", m->name, (unsigned long long)e.addr,
                     (unsigned long long)m->addr);
        checked++;
    }
    assert_true(checked > 5000);
    sym_info s;
    uint64_t off;
    assert_int_equal(sym_addr2name(map, map_addr("init_task") + 8, &s, &off), 0);
    assert_string_equal(s.name, "init_task");
    assert_int_equal(off, 8);
    char buf[8];
    assert_int_equal(sym_read_image(map, s.addr, buf, 8), MC_ESTATE);
    sym_free(elf);
    sym_free(map);
}

static void test_sym__build_id(void **state)
{
    (void)state;
    need_corpus();
    char want[128] = "", line[512], hex[130];
    FILE *p = popen("readelf -n " VMLINUX " 2>/dev/null", "r");
    assert_non_null(p);
    while (fgets(line, sizeof(line), p)) {
        char *b = strstr(line, "Build ID: ");
        if (b) sscanf(b + 10, "%127s", want);
    }
    pclose(p);
    assert_int_equal(strlen(want), 40);
    sym_table *t;
    assert_int_equal(sym_open(&t, VMLINUX), 0);
    assert_string_equal(sym_build_id(t), want);
    sym_free(t);
    assert_int_equal(sym_file_build_id(VMLINUX, hex, sizeof(hex)), 0);
    assert_string_equal(hex, want);
    assert_int_equal(sym_file_build_id(SYSTEM_MAP, hex, sizeof(hex)), MC_EFORMAT);
}

static char tmpdir[64];

static int make_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_sym.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_tmp(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_sym__stripped(void **state)
{
    (void)state;
    need_corpus();
    char out[128], cmd[512];
    snprintf(out, sizeof(out), "%s/vmlinux.stripped", tmpdir);
    snprintf(cmd, sizeof(cmd), "riscv64-linux-gnu-strip --strip-all -o %s %s", out, VMLINUX);
    assert_int_equal(system(cmd), 0);
    sym_table *t;
    assert_int_equal(sym_open(&t, out), MC_ENOENT);
    assert_non_null(strstr(sym_last_error(t), ".symtab"));
    assert_non_null(strstr(sym_last_error(t), "stripped"));
    sym_free(t);
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static int open_bytes(const uint8_t *b, size_t n, char *msg, size_t msglen)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/t.bin", tmpdir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
    sym_table *t;
    int rc = sym_open(&t, path);
    snprintf(msg, msglen, "%s", sym_last_error(t));
    sym_free(t);
    return rc;
}

static void test_sym__truncated(void **state)
{
    (void)state;
    need_corpus();
    size_t n;
    char msg[600];
    uint8_t *b = slurp(VMLINUX, &n);
    size_t cuts[] = {0, 1, 4, 16, 63, 64, 200, 4096, 1u << 20, n / 2, n - 100000, n - 64, n - 1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        int rc = open_bytes(b, cuts[i], msg, sizeof(msg));
        if (rc != MC_EFORMAT) fail_msg("cut at %zu: rc %d (%s)", cuts[i], rc, msg);
        assert_true(strlen(msg) > 10);
    }
    /* the section headers intact but .symtab's offset beyond the end */
    uint64_t shoff;
    uint16_t shnum, shentsize;
    memcpy(&shoff, b + 0x28, 8);
    memcpy(&shentsize, b + 0x3a, 2);
    memcpy(&shnum, b + 0x3c, 2);
    uint8_t *c = malloc(n);
    memcpy(c, b, n);
    for (unsigned i = 0; i < shnum; i++) {
        uint8_t *sh = c + shoff + (uint64_t)i * shentsize;
        uint32_t type;
        memcpy(&type, sh + 4, 4);
        if (type == 2 /* SHT_SYMTAB */) {
            uint64_t bad = n + 4096;
            memcpy(sh + 0x18, &bad, 8);
        }
    }
    assert_int_equal(open_bytes(c, n, msg, sizeof(msg)), MC_EFORMAT);
    assert_non_null(strstr(msg, ".symtab"));
    /* section header table pointing far away */
    memcpy(c, b, n);
    uint64_t far = 1ull << 60;
    memcpy(c + 0x28, &far, 8);
    assert_int_equal(open_bytes(c, n, msg, sizeof(msg)), MC_EFORMAT);
    free(c);
    free(b);
}

static void test_sym__garbage(void **state)
{
    (void)state;
    char msg[600];
    uint8_t buf[8192];
    srand(12345);
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)(rand() % (int)sizeof(buf)) + 1;
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)rand();
        if (round % 2 && n >= 64) { /* a plausible ELF64 header over random bytes */
            memcpy(buf, "\177ELF\2\1\1", 7);
        }
        int rc = open_bytes(buf, n, msg, sizeof(msg));
        if (rc != MC_EFORMAT) fail_msg("round %d (%zu bytes): rc %d (%s)", round, n, rc, msg);
    }
    /* a text file that is almost a System.map */
    const char *map = "ffffffff80000000 T _start\nffffffff80000010 T two words here\n";
    assert_int_equal(open_bytes((const uint8_t *)map, strlen(map), msg, sizeof(msg)), MC_EFORMAT);
    assert_non_null(strstr(msg, ":2:"));
    sym_table *t;
    assert_int_equal(sym_open(&t, "/nonexistent/vmlinux"), MC_EIO);
    assert_non_null(strstr(sym_last_error(t), "/nonexistent/vmlinux"));
    sym_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sym__corpus_lookup),
        cmocka_unit_test(test_sym__addr2name),
        cmocka_unit_test(test_sym__agrees_with_system_map),
        cmocka_unit_test(test_sym__build_id),
        cmocka_unit_test(test_sym__stripped),
        cmocka_unit_test(test_sym__truncated),
        cmocka_unit_test(test_sym__garbage),
    };
    return cmocka_run_group_tests(tests, make_tmp, rm_tmp);
}
