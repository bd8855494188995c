/*
 * board_fdt.c - the virt machine's flattened device tree, built with
 * libfdt's sequential-write API.
 *
 * The layout follows QEMU 7.2's virt (checked against
 * `qemu-system-riscv64 -machine virt,dumpdtb=...`): same node names,
 * compatibles, reg ranges, interrupt wiring and phandle numbering (cpus
 * from the last to the first take two phandles each, cpu then its intc;
 * then the PLIC, then the test finisher). Left out are the devices this
 * board does not model (pmu, fw-cfg, flash, rtc, pci, platform-bus).
 * Differences on purpose: riscv,ndev is 95 (the highest source number;
 * QEMU says 96) and rng-seed is a fixed value so that runs repeat.
 */
#include "board_int.h"

#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "dev.h"
#include "hart.h"

/* Sequential writer: the first libfdt error sticks in rc. */
typedef struct fdtw {
    void *fdt;
    int rc;
} fdtw;

static void begin(fdtw *w, const char *name)
{
    if (w->rc >= 0) w->rc = fdt_begin_node(w->fdt, name);
}

static void end(fdtw *w)
{
    if (w->rc >= 0) w->rc = fdt_end_node(w->fdt);
}

static void prop(fdtw *w, const char *name, const void *val, int len)
{
    if (w->rc >= 0) w->rc = fdt_property(w->fdt, name, val, len);
}

static void prop_str(fdtw *w, const char *name, const char *s)
{
    prop(w, name, s, (int)strlen(s) + 1);
}

static void prop_u32(fdtw *w, const char *name, uint32_t v)
{
    if (w->rc >= 0) w->rc = fdt_property_u32(w->fdt, name, v);
}

/* A property of n 32-bit cells. */
static void prop_cells(fdtw *w, const char *name, const uint32_t *cells, unsigned n)
{
    fdt32_t be[4 * BOARD_MAX_HARTS];
    if (n > sizeof(be) / sizeof(be[0])) {
        w->rc = -FDT_ERR_INTERNAL;
        return;
    }
    for (unsigned i = 0; i < n; i++)
        be[i] = cpu_to_fdt32(cells[i]);
    prop(w, name, be, (int)(n * sizeof(fdt32_t)));
}

/* reg = <base size> with #address-cells = #size-cells = 2. */
static void prop_reg(fdtw *w, uint64_t base, uint64_t size)
{
    uint32_t c[4] = {(uint32_t)(base >> 32), (uint32_t)base, (uint32_t)(size >> 32),
                     (uint32_t)size};
    prop_cells(w, "reg", c, 4);
}

void board_fdt_isa(uint32_t ext, char *buf, size_t len)
{
    snprintf(buf, len, "rv64i%s%s%s%s%s_zicsr_zifencei%s", ext & HART_EXT_M ? "m" : "",
             ext & HART_EXT_A ? "a" : "", ext & HART_EXT_F ? "f" : "", ext & HART_EXT_D ? "d" : "",
             ext & HART_EXT_C ? "c" : "", ext & HART_EXT_SSTC ? "_sstc" : "");
}

/* Phandles as QEMU numbers them. */
static uint32_t ph_cpu(const board_fdt_params *p, unsigned i)
{
    return 1 + 2 * (p->nharts - 1 - i);
}
static uint32_t ph_intc(const board_fdt_params *p, unsigned i)
{
    return ph_cpu(p, i) + 1;
}
static uint32_t ph_plic(const board_fdt_params *p)
{
    return 2 * p->nharts + 1;
}
static uint32_t ph_test(const board_fdt_params *p)
{
    return 2 * p->nharts + 2;
}

static void build_chosen(fdtw *w, const board_fdt_params *p)
{
    /* A fixed seed: Linux credits it to its CRNG; a host seed would make
     * every run different. */
    static const uint32_t seed[8] = {0x6d616368, 0x696e6121, 0x9e3779b9, 0x7f4a7c15,
                                     0xbf58476d, 0x1ce4e5b9, 0x94d049bb, 0x133111eb};
    begin(w, "chosen");
    if (p->initrd_end > p->initrd_start) {
        if (p->initrd_end >> 32) {
            uint32_t s[2] = {(uint32_t)(p->initrd_start >> 32), (uint32_t)p->initrd_start};
            uint32_t e[2] = {(uint32_t)(p->initrd_end >> 32), (uint32_t)p->initrd_end};
            prop_cells(w, "linux,initrd-end", e, 2);
            prop_cells(w, "linux,initrd-start", s, 2);
        } else {
            prop_u32(w, "linux,initrd-end", (uint32_t)p->initrd_end);
            prop_u32(w, "linux,initrd-start", (uint32_t)p->initrd_start);
        }
    }
    prop_cells(w, "rng-seed", seed, 8);
    if (p->cmdline && *p->cmdline) prop_str(w, "bootargs", p->cmdline);
    prop_str(w, "stdout-path", "/soc/serial@10000000");
    end(w);
}

static void build_syscon(fdtw *w, const board_fdt_params *p, const char *name, uint32_t value)
{
    char compat[32];
    snprintf(compat, sizeof(compat), "syscon-%s", name);
    begin(w, name);
    prop_u32(w, "value", value);
    prop_u32(w, "offset", 0);
    prop_u32(w, "regmap", ph_test(p));
    prop_str(w, "compatible", compat);
    end(w);
}

static void build_cpus(fdtw *w, const board_fdt_params *p)
{
    char isa[64], name[32];
    board_fdt_isa(p->ext, isa, sizeof(isa));
    begin(w, "cpus");
    prop_u32(w, "#address-cells", 1);
    prop_u32(w, "#size-cells", 0);
    prop_u32(w, "timebase-frequency", DEV_TIMEBASE_HZ);
    for (unsigned i = 0; i < p->nharts; i++) {
        snprintf(name, sizeof(name), "cpu@%u", i);
        begin(w, name);
        prop_u32(w, "phandle", ph_cpu(p, i));
        prop_str(w, "device_type", "cpu");
        prop_u32(w, "reg", i);
        prop_str(w, "status", "okay");
        prop_str(w, "compatible", "riscv");
        prop_str(w, "riscv,isa", isa);
        if (p->ext & HART_EXT_S)
            prop_str(w, "mmu-type", p->ext & HART_EXT_SV48 ? "riscv,sv48" : "riscv,sv39");
        begin(w, "interrupt-controller");
        prop_u32(w, "#interrupt-cells", 1);
        prop(w, "interrupt-controller", NULL, 0);
        prop_str(w, "compatible", "riscv,cpu-intc");
        prop_u32(w, "phandle", ph_intc(p, i));
        end(w);
        end(w);
    }
    begin(w, "cpu-map");
    begin(w, "cluster0");
    for (unsigned i = 0; i < p->nharts; i++) {
        snprintf(name, sizeof(name), "core%u", i);
        begin(w, name);
        prop_u32(w, "cpu", ph_cpu(p, i));
        end(w);
    }
    end(w);
    end(w);
    end(w);
}

/* interrupts-extended = <intc(h) a intc(h) b> for every hart h. */
static void prop_irqs_ext(fdtw *w, const board_fdt_params *p, uint32_t a, uint32_t b)
{
    uint32_t c[4 * BOARD_MAX_HARTS];
    for (unsigned i = 0; i < p->nharts; i++) {
        c[4 * i] = ph_intc(p, i);
        c[4 * i + 1] = a;
        c[4 * i + 2] = ph_intc(p, i);
        c[4 * i + 3] = b;
    }
    prop_cells(w, "interrupts-extended", c, 4 * p->nharts);
}

static void build_soc(fdtw *w, const board_fdt_params *p)
{
    char name[40];
    static const char test_compat[] = "sifive,test1\0sifive,test0\0syscon";
    static const char plic_compat[] = "sifive,plic-1.0.0\0riscv,plic0";
    static const char clint_compat[] = "sifive,clint0\0riscv,clint0";

    begin(w, "soc");
    prop_u32(w, "#address-cells", 2);
    prop_u32(w, "#size-cells", 2);
    prop_str(w, "compatible", "simple-bus");
    prop(w, "ranges", NULL, 0);

    snprintf(name, sizeof(name), "serial@%llx", DEV_UART_BASE);
    begin(w, name);
    prop_u32(w, "interrupts", DEV_UART_IRQ);
    prop_u32(w, "interrupt-parent", ph_plic(p));
    prop_u32(w, "clock-frequency", DEV_UART_CLOCK_HZ);
    prop_reg(w, DEV_UART_BASE, DEV_UART_SIZE);
    prop_str(w, "compatible", "ns16550a");
    end(w);

    snprintf(name, sizeof(name), "test@%llx", DEV_TEST_BASE);
    begin(w, name);
    prop_u32(w, "phandle", ph_test(p));
    prop_reg(w, DEV_TEST_BASE, DEV_TEST_SIZE);
    prop(w, "compatible", test_compat, sizeof(test_compat));
    end(w);

    for (int k = DEV_VIRTIO_SLOTS - 1; k >= 0; k--) {
        uint64_t base = DEV_VIRTIO_BASE + (uint64_t)k * DEV_VIRTIO_SIZE;
        snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)base);
        begin(w, name);
        prop_u32(w, "interrupts", DEV_VIRTIO_IRQ + (unsigned)k);
        prop_u32(w, "interrupt-parent", ph_plic(p));
        prop_reg(w, base, DEV_VIRTIO_SIZE);
        prop_str(w, "compatible", "virtio,mmio");
        end(w);
    }

    snprintf(name, sizeof(name), "plic@%llx", DEV_PLIC_BASE);
    begin(w, name);
    prop_u32(w, "phandle", ph_plic(p));
    prop_u32(w, "riscv,ndev", DEV_PLIC_NUM_SOURCES - 1);
    prop_reg(w, DEV_PLIC_BASE, DEV_PLIC_SIZE);
    prop_irqs_ext(w, p, HART_IRQ_MEIP, HART_IRQ_SEIP);
    prop(w, "interrupt-controller", NULL, 0);
    prop(w, "compatible", plic_compat, sizeof(plic_compat));
    prop_u32(w, "#address-cells", 0);
    prop_u32(w, "#interrupt-cells", 1);
    end(w);

    snprintf(name, sizeof(name), "clint@%llx", DEV_CLINT_BASE);
    begin(w, name);
    prop_irqs_ext(w, p, HART_IRQ_MSIP, HART_IRQ_MTIP);
    prop_reg(w, DEV_CLINT_BASE, DEV_CLINT_SIZE);
    prop(w, "compatible", clint_compat, sizeof(clint_compat));
    end(w);

    end(w);
}

static int build(const board_fdt_params *p, void *buf, int size)
{
    fdtw w = {buf, fdt_create(buf, size)};
    char name[40];
    if (w.rc >= 0) w.rc = fdt_finish_reservemap(buf);
    begin(&w, "");
    prop_u32(&w, "#address-cells", 2);
    prop_u32(&w, "#size-cells", 2);
    prop_str(&w, "compatible", "riscv-virtio");
    prop_str(&w, "model", "riscv-virtio,qemu");
    build_chosen(&w, p);
    build_syscon(&w, p, "poweroff", 0x5555);
    build_syscon(&w, p, "reboot", 0x7777);
    snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)p->ram_base);
    begin(&w, name);
    prop_str(&w, "device_type", "memory");
    prop_reg(&w, p->ram_base, p->ram_size);
    end(&w);
    build_cpus(&w, p);
    build_soc(&w, p);
    end(&w);
    if (w.rc >= 0) w.rc = fdt_finish(buf);
    return w.rc;
}

int board_fdt_build(const board_fdt_params *p, void **out, size_t *size)
{
    if (p->nharts < 1 || p->nharts > BOARD_MAX_HARTS) return MC_EINVAL;
    for (int cap = 16384; cap <= (1 << 20); cap *= 2) {
        void *buf = calloc(1, (size_t)cap);
        if (!buf) return MC_ENOMEM;
        int rc = build(p, buf, cap);
        if (rc == -FDT_ERR_NOSPACE) {
            free(buf);
            continue;
        }
        if (rc < 0) {
            free(buf);
            return MC_EFORMAT;
        }
        *out = buf;
        *size = fdt_totalsize(buf);
        return MC_OK;
    }
    return MC_ENOMEM;
}
