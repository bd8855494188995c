/*
 * test_board.c - the virt board: device tree (through libfdt), image
 * placement as QEMU 7.2 does it, reset ROM contents and what it leaves in
 * a0/a1/a2, test-finisher outcomes and reboot, UART host hooks, timer
 * interrupts at the exact virtual deadline (busy and WFI), time limits,
 * tohost, and determinism of the state hash.
 *
 * Guest programs are hand-assembled RV64IMA (no C) loaded raw at
 * 0x80000000 with no firmware (-bios none); sources in the comments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libfdt.h>

#include "board.h"
#include "loader.h"

/* Writes 0x5555 to the test finisher (poweroff), then spins. */
static const uint32_t prog_off[] = {
    0x001002b7, /* lui t0,0x100 */
    0x00005337, /* lui t1,0x5 */
    0x5553031b, /* addiw t1,t1,1365 */
    0x0062a023, /* sw t1,0(t0) */
    0x0000006f, /* jal zero,80000010 <_start+0x10> */
};
/* Writes 0x3333 | 7 << 16 to the finisher (fail, code 7). */
static const uint32_t prog_fail[] = {
    0x001002b7, /* lui t0,0x100 */
    0x00073337, /* lui t1,0x73 */
    0x3333031b, /* addiw t1,t1,819 */
    0x0062a023, /* sw t1,0(t0) */
    0x0000006f, /* jal zero,80000010 <_start+0x10> */
};
/* Counts boots at 0x80010000 (outside the image, so it survives the
 * reload); reboots (0x7777) until the count reaches 3, then powers off. */
static const uint32_t prog_reboot[] = {
    0x000083b7, /* lui t2,0x8 */
    0x0013839b, /* addiw t2,t2,1 */
    0x01039393, /* slli t2,t2,0x10 */
    0x0003ae03, /* lw t3,0(t2) */
    0x001e0e13, /* addi t3,t3,1 */
    0x01c3a023, /* sw t3,0(t2) */
    0x001002b7, /* lui t0,0x100 */
    0x00300313, /* addi t1,zero,3 */
    0x006e4a63, /* blt t3,t1,80000034 <reboot> */
    0x00005337, /* lui t1,0x5 */
    0x5553031b, /* addiw t1,t1,1365 */
    0x0062a023, /* sw t1,0(t0) */
    0x0000006f, /* jal zero,80000030 <_start+0x30> */
    0x00007337, /* lui t1,0x7 */
    0x7773031b, /* addiw t1,t1,1911 */
    0x0062a023, /* sw t1,0(t0) */
    0x0000006f, /* jal zero,80000040 <reboot+0xc> */
};
/* mtvec = handler (0x80000028); mtimecmp[0] = 123; MTIE; MIE; spins.
 * The handler stores mtime at 0x80010000 and powers off. */
static const uint32_t prog_timer[] = {
    0x00000297, /* auipc t0,0x0 */
    0x02828293, /* addi t0,t0,40 */
    0x30529073, /* csrrw zero,mtvec,t0 */
    0x020042b7, /* lui t0,0x2004 */
    0x07b00313, /* addi t1,zero,123 */
    0x0062b023, /* sd t1,0(t0) */
    0x08000293, /* addi t0,zero,128 */
    0x30429073, /* csrrw zero,mie,t0 */
    0x30046073, /* csrrsi zero,mstatus,8 */
    0x0000006f, /* jal zero,80000024 <_start+0x24> */
    0x0200c2b7, /* lui t0,0x200c */
    0xff82829b, /* addiw t0,t0,-8 */
    0x0002b303, /* ld t1,0(t0) */
    0x000083b7, /* lui t2,0x8 */
    0x0013839b, /* addiw t2,t2,1 */
    0x01039393, /* slli t2,t2,0x10 */
    0x0063b023, /* sd t1,0(t2) */
    0x001002b7, /* lui t0,0x100 */
    0x00005337, /* lui t1,0x5 */
    0x5553031b, /* addiw t1,t1,1365 */
    0x0062a023, /* sw t1,0(t0) */
    0x0000006f, /* jal zero,80000054 <handler+0x2c> */
};
/* The same waiting in WFI (handler at 0x8000002c). */
static const uint32_t prog_timerwfi[] = {
    0x00000297, /* auipc t0,0x0 */
    0x02c28293, /* addi t0,t0,44 */
    0x30529073, /* csrrw zero,mtvec,t0 */
    0x020042b7, /* lui t0,0x2004 */
    0x07b00313, /* addi t1,zero,123 */
    0x0062b023, /* sd t1,0(t0) */
    0x08000293, /* addi t0,zero,128 */
    0x30429073, /* csrrw zero,mie,t0 */
    0x30046073, /* csrrsi zero,mstatus,8 */
    0x10500073, /* wfi */
    0xffdff06f, /* jal zero,80000024 <_start+0x24> */
    0x0200c2b7, /* lui t0,0x200c */
    0xff82829b, /* addiw t0,t0,-8 */
    0x0002b303, /* ld t1,0(t0) */
    0x000083b7, /* lui t2,0x8 */
    0x0013839b, /* addiw t2,t2,1 */
    0x01039393, /* slli t2,t2,0x10 */
    0x0063b023, /* sd t1,0(t2) */
    0x001002b7, /* lui t0,0x100 */
    0x00005337, /* lui t1,0x5 */
    0x5553031b, /* addiw t1,t1,1365 */
    0x0062a023, /* sw t1,0(t0) */
    0x0000006f, /* jal zero,80000058 <handler+0x2c> */
};
/* Prints "hi", waits for a received byte (LSR.DR), echoes it + 1 and
 * powers off. */
static const uint32_t prog_uart[] = {
    0x100002b7, /* lui t0,0x10000 */
    0x06800313, /* addi t1,zero,104 */
    0x00628023, /* sb t1,0(t0) */
    0x06900313, /* addi t1,zero,105 */
    0x00628023, /* sb t1,0(t0) */
    0x0052c383, /* lbu t2,5(t0) */
    0x0013f393, /* andi t2,t2,1 */
    0xfe038ce3, /* beq t2,zero,80000014 <_start+0x14> */
    0x0002ce03, /* lbu t3,0(t0) */
    0x001e0e13, /* addi t3,t3,1 */
    0x01c28023, /* sb t3,0(t0) */
    0x00100eb7, /* lui t4,0x100 */
    0x00005f37, /* lui t5,0x5 */
    0x555f0f1b, /* addiw t5,t5,1365 */
    0x01eea023, /* sw t5,0(t4) */
    0x0000006f, /* jal zero,8000003c <_start+0x3c> */
};

/* Reads mtime, spins 4001 steps, reads it again; stores both at
 * 0x80010000 and 0x80010008 and powers off. */
static const uint32_t prog_mtime[] = {
    0x0200c437, /* lui s0,0x200c */
    0xff84041b, /* addiw s0,s0,-8 */
    0x00043483, /* ld s1,0(s0)  (step 8: time 8 ns) */
    0x7d000293, /* addi t0,zero,2000 */
    0xfff28293, /* addi t0,t0,-1 */
    0xfe029ee3, /* bne t0,zero,80000010 */
    0x00043903, /* ld s2,0(s0)  (step 4010: time 4010 ns) */
    0x00008337, /* lui t1,0x8 */
    0x0013031b, /* addiw t1,t1,1 */
    0x01031313, /* slli t1,t1,0x10 */
    0x00933023, /* sd s1,0(t1) */
    0x01233423, /* sd s2,8(t1) */
    0x001002b7, /* lui t0,0x100 */
    0x00005337, /* lui t1,0x5 */
    0x5553031b, /* addiw t1,t1,1365 */
    0x0062a023, /* sw t1,0(t0) */
    0x0000006f, /* jal zero,80000040 */
};

#define DRAM    0x80000000ull
#define MIB     (1ull << 20)
#define COUNTER 0x80010000ull /* where the programs leave results */

/* A board running prog with no firmware; cfg tweaks applied by the caller. */
static board_t *new_board(board_config *cfg, const uint32_t *prog, size_t size,
                          const board_host *host)
{
    board_t *b = NULL;
    char err[160] = "";
    cfg->kernel = (const uint8_t *)prog;
    cfg->kernel_size = size;
    int rc = board_new(&b, cfg, host, err, sizeof(err));
    if (rc != MC_OK) fprintf(stderr, "board_new: %s (%s)\n", mc_strerror(rc), err);
    assert_int_equal(rc, MC_OK);
    return b;
}

static board_t *simple_board(unsigned nharts, const uint32_t *prog, size_t size)
{
    board_config cfg;
    board_config_default(&cfg);
    cfg.nharts = nharts;
    return new_board(&cfg, prog, size, NULL);
}

static uint64_t ram64(board_t *b, uint64_t pa)
{
    uint64_t v = 0;
    assert_int_equal(bus_read(board_bus(b), pa, 8, &v), MC_OK);
    return v;
}

static board_outcome run(board_t *b, uint64_t until_ns, uint64_t until_steps)
{
    board_outcome out;
    assert_int_equal(board_run(b, until_ns, until_steps, &out), MC_OK);
    return out;
}

/* ---- device tree ---------------------------------------------------------- */

static const char *getprop_str(const void *fdt, const char *path, const char *name)
{
    int off = fdt_path_offset(fdt, path);
    assert_true(off >= 0);
    int len;
    const char *v = fdt_getprop(fdt, off, name, &len);
    return v;
}

static uint32_t getprop_u32(const void *fdt, const char *path, const char *name)
{
    int off = fdt_path_offset(fdt, path);
    assert_true(off >= 0);
    int len;
    const fdt32_t *v = fdt_getprop(fdt, off, name, &len);
    assert_non_null(v);
    assert_int_equal(len, 4);
    return fdt32_to_cpu(*v);
}

static int count_cpus(const void *fdt)
{
    int cpus = fdt_path_offset(fdt, "/cpus"), n = 0, node;
    assert_true(cpus >= 0);
    fdt_for_each_subnode(node, fdt, cpus)
    {
        const char *dt = fdt_getprop(fdt, node, "device_type", NULL);
        if (dt && strcmp(dt, "cpu") == 0) n++;
    }
    return n;
}

static void test_board__dtb_cpus_and_devices(void **state)
{
    (void)state;
    board_t *b = simple_board(3, prog_off, sizeof(prog_off));
    size_t size;
    const void *fdt = board_dtb(b, &size);
    assert_int_equal(fdt_check_header(fdt), 0);
    assert_int_equal(fdt_totalsize(fdt), size);
    assert_int_equal(count_cpus(fdt), 3);
    assert_string_equal(getprop_str(fdt, "/cpus/cpu@2", "riscv,isa"),
                        "rv64imafdc_zicsr_zifencei_sstc");
    assert_string_equal(getprop_str(fdt, "/cpus/cpu@0", "mmu-type"), "riscv,sv48");
    assert_string_equal(getprop_str(fdt, "/cpus/cpu@1/interrupt-controller", "compatible"),
                        "riscv,cpu-intc");
    assert_int_equal(getprop_u32(fdt, "/cpus", "timebase-frequency"), 10000000);
    assert_int_equal(getprop_u32(fdt, "/cpus/cpu@1", "reg"), 1);
    assert_true(fdt_path_offset(fdt, "/cpus/cpu-map/cluster0/core2") >= 0);
    /* QEMU's phandles: cpu@2 = 1, its intc 2, ..., cpu@0 = 5, intc 6, plic 7, test 8 */
    assert_int_equal(getprop_u32(fdt, "/cpus/cpu@0", "phandle"), 5);
    assert_int_equal(getprop_u32(fdt, "/soc/plic@c000000", "phandle"), 7);
    assert_int_equal(getprop_u32(fdt, "/soc/test@100000", "phandle"), 8);
    assert_int_equal(getprop_u32(fdt, "/poweroff", "regmap"), 8);
    assert_int_equal(getprop_u32(fdt, "/poweroff", "value"), 0x5555);
    assert_int_equal(getprop_u32(fdt, "/reboot", "value"), 0x7777);
    assert_int_equal(getprop_u32(fdt, "/soc/serial@10000000", "clock-frequency"), 0x384000);
    assert_int_equal(getprop_u32(fdt, "/soc/serial@10000000", "interrupts"), 10);
    assert_int_equal(getprop_u32(fdt, "/soc/virtio_mmio@10008000", "interrupts"), 8);
    assert_int_equal(getprop_u32(fdt, "/soc/virtio_mmio@10001000", "interrupts"), 1);
    assert_string_equal(getprop_str(fdt, "/chosen", "stdout-path"), "/soc/serial@10000000");

    /* interrupts-extended: <intc(h) 3 intc(h) 7> per hart (CLINT),
     * <intc(h) 11 intc(h) 9> per hart (PLIC). */
    int len;
    const fdt32_t *ie =
        fdt_getprop(fdt, fdt_path_offset(fdt, "/soc/clint@2000000"), "interrupts-extended", &len);
    assert_non_null(ie);
    assert_int_equal(len, 3 * 4 * 4);
    assert_int_equal(fdt32_to_cpu(ie[0]), 6); /* cpu@0's intc */
    assert_int_equal(fdt32_to_cpu(ie[1]), 3);
    assert_int_equal(fdt32_to_cpu(ie[3]), 7);
    ie = fdt_getprop(fdt, fdt_path_offset(fdt, "/soc/plic@c000000"), "interrupts-extended", &len);
    assert_int_equal(len, 3 * 4 * 4);
    assert_int_equal(fdt32_to_cpu(ie[1]), 11);
    assert_int_equal(fdt32_to_cpu(ie[3]), 9);
    const fdt32_t *reg = fdt_getprop(fdt, fdt_path_offset(fdt, "/memory@80000000"), "reg", &len);
    assert_int_equal(len, 16);
    assert_int_equal(fdt32_to_cpu(reg[1]), 0x80000000u);
    assert_int_equal(fdt32_to_cpu(reg[3]), 256u << 20);
    board_free(b);
}

static void test_board__dtb_cpu_extensions(void **state)
{
    (void)state;
    board_config cfg;
    board_config_default(&cfg);
    cfg.ext = HART_EXT_DEFAULT & ~(HART_EXT_SSTC | HART_EXT_SV48);
    board_t *b = new_board(&cfg, prog_off, sizeof(prog_off), NULL);
    const void *fdt = board_dtb(b, NULL);
    assert_string_equal(getprop_str(fdt, "/cpus/cpu@0", "riscv,isa"), "rv64imafdc_zicsr_zifencei");
    assert_string_equal(getprop_str(fdt, "/cpus/cpu@0", "mmu-type"), "riscv,sv39");
    board_free(b);
}

static void check_initrd(uint64_t ram, uint64_t want_start, uint64_t want_fdt)
{
    static uint8_t initrd[1000];
    for (size_t i = 0; i < sizeof(initrd); i++)
        initrd[i] = (uint8_t)(i * 7);
    board_config cfg;
    board_config_default(&cfg);
    cfg.ram_size = ram;
    cfg.initrd = initrd;
    cfg.initrd_size = sizeof(initrd);
    cfg.cmdline = "console=ttyS0 quiet";
    board_t *b = new_board(&cfg, prog_off, sizeof(prog_off), NULL);
    size_t size;
    const void *fdt = board_dtb(b, &size);
    const board_layout *l = board_get_layout(b);
    assert_int_equal(l->initrd_start, want_start);
    assert_int_equal(l->initrd_end, want_start + sizeof(initrd));
    assert_int_equal(getprop_u32(fdt, "/chosen", "linux,initrd-start"), want_start);
    assert_int_equal(getprop_u32(fdt, "/chosen", "linux,initrd-end"), want_start + sizeof(initrd));
    assert_string_equal(getprop_str(fdt, "/chosen", "bootargs"), "console=ttyS0 quiet");
    assert_int_equal(l->fdt_addr, want_fdt);
    /* the images are in RAM */
    uint8_t *p = bus_ram_ptr(board_bus(b), want_start, sizeof(initrd), false);
    assert_non_null(p);
    assert_memory_equal(p, initrd, sizeof(initrd));
    p = bus_ram_ptr(board_bus(b), l->fdt_addr, size, false);
    assert_non_null(p);
    assert_memory_equal(p, fdt, size);
    board_free(b);
}

static void test_board__dtb_initrd_placement(void **state)
{
    (void)state;
    /* -bios none: raw kernel at 0x80000000; initrd at entry + min(ram/2, 128M);
     * FDT at the top of RAM aligned down to 2 MiB (QEMU 7.2: 0x8fe00000 at 256M). */
    check_initrd(128 * MIB, DRAM + 64 * MIB, 0x87e00000);
    check_initrd(256 * MIB, DRAM + 128 * MIB, 0x8fe00000);
    check_initrd(1024 * MIB, DRAM + 128 * MIB, 0xbfe00000);
}

static void test_board__dtb_no_initrd_no_bootargs(void **state)
{
    (void)state;
    board_t *b = simple_board(1, prog_off, sizeof(prog_off));
    const void *fdt = board_dtb(b, NULL);
    int chosen = fdt_path_offset(fdt, "/chosen");
    assert_null(fdt_getprop(fdt, chosen, "linux,initrd-start", NULL));
    assert_null(fdt_getprop(fdt, chosen, "bootargs", NULL));
    board_free(b);
}

/* ---- reset ROM ------------------------------------------------------------ */

static void test_board__rom_contents(void **state)
{
    (void)state;
    board_config cfg;
    board_config_default(&cfg);
    cfg.bios = (const uint8_t *)prog_off; /* a "firmware" of 20 bytes */
    cfg.bios_size = sizeof(prog_off);
    board_t *b = new_board(&cfg, prog_fail, sizeof(prog_fail), NULL);
    /* As QEMU 7.2 (read with its monitor: xp /12wx 0x1000). */
    static const uint32_t code[6] = {0x00000297, 0x02828613, 0xf1402573,
                                     0x0202b583, 0x0182b283, 0x00028067};
    for (int i = 0; i < 6; i++) {
        uint64_t v;
        assert_int_equal(bus_read(board_bus(b), 0x1000 + 4 * i, 4, &v), MC_OK);
        assert_int_equal(v, code[i]);
    }
    assert_int_equal(ram64(b, 0x1018), DRAM);       /* start_addr */
    assert_int_equal(ram64(b, 0x1020), 0x8fe00000); /* fdt_addr */
    assert_int_equal(ram64(b, 0x1028), 0x4942534f); /* "OSBI" */
    assert_int_equal(ram64(b, 0x1030), 2);          /* version */
    assert_int_equal(ram64(b, 0x1038), 0x80200000); /* next_addr */
    assert_int_equal(ram64(b, 0x1040), 1);          /* next_mode S */
    assert_int_equal(ram64(b, 0x1048), 0);          /* options */
    assert_int_equal(ram64(b, 0x1050), 0);          /* boot_hart */
    assert_int_equal(board_get_layout(b)->kernel_entry, 0x80200000);
    board_free(b);
}

static void test_board__rom_registers(void **state)
{
    (void)state;
    board_t *b = simple_board(2, prog_off, sizeof(prog_off));
    for (unsigned i = 0; i < 2; i++) {
        hart_t *h = board_hart(b, i);
        assert_int_equal(hart_pc(h), 0x1000);
        assert_int_equal(hart_run(h, 6, 0), 6);        /* the six ROM instructions */
        assert_int_equal(hart_reg(h, 10), i);          /* a0 = mhartid */
        assert_int_equal(hart_reg(h, 11), 0x8fe00000); /* a1 = FDT */
        assert_int_equal(hart_reg(h, 12), 0x1028);     /* a2 = fw_dynamic_info */
        assert_int_equal(hart_pc(h), DRAM);            /* -bios none: the kernel */
        assert_int_equal(hart_priv(h), HART_PRIV_M);
    }
    board_free(b);
}

/* ---- finisher ------------------------------------------------------------- */

static void test_board__finisher_poweroff(void **state)
{
    (void)state;
    board_t *b = simple_board(1, prog_off, sizeof(prog_off));
    board_outcome o = run(b, UINT64_MAX, UINT64_MAX);
    assert_int_equal(o.stop, BOARD_STOP_POWEROFF);
    assert_int_equal(o.code, 0);
    /* ROM (6) + lui, lui, addiw, sw: the run ends right after the store */
    assert_int_equal(board_steps(b), 10);
    /* finished: the same answer again */
    o = run(b, UINT64_MAX, UINT64_MAX);
    assert_int_equal(o.stop, BOARD_STOP_POWEROFF);
    board_free(b);
}

static void test_board__finisher_fail(void **state)
{
    (void)state;
    board_t *b = simple_board(2, prog_fail, sizeof(prog_fail));
    board_outcome o = run(b, UINT64_MAX, UINT64_MAX);
    assert_int_equal(o.stop, BOARD_STOP_FAIL);
    assert_int_equal(o.code, 7);
    board_free(b);
}

static void test_board__finisher_reboot(void **state)
{
    (void)state;
    board_t *b = simple_board(1, prog_reboot, sizeof(prog_reboot));
    board_outcome o = run(b, UINT64_MAX, UINT64_MAX);
    assert_int_equal(o.stop, BOARD_STOP_POWEROFF);
    assert_int_equal(board_reboots(b), 2);
    assert_int_equal(ram64(b, COUNTER) & 0xffffffff, 3);
    board_free(b);
}

/* ---- UART hooks ----------------------------------------------------------- */

typedef struct io {
    char out[16];
    size_t nout;
    int rx_calls;
} io;

static void io_tx(void *ctx, uint8_t byte)
{
    io *s = ctx;
    if (s->nout < sizeof(s->out) - 1) s->out[s->nout++] = (char)byte;
}

static int io_rx(void *ctx)
{
    io *s = ctx;
    /* one byte, and only once the guest has printed its prompt */
    if (s->nout < 2 || s->rx_calls++) return -1;
    return 'A';
}

static void test_board__uart_host_hooks(void **state)
{
    (void)state;
    io s = {0};
    board_host host = {.ctx = &s, .uart_tx = io_tx, .uart_rx = io_rx};
    board_config cfg;
    board_config_default(&cfg);
    board_t *b = new_board(&cfg, prog_uart, sizeof(prog_uart), &host);
    board_outcome o = run(b, UINT64_MAX, UINT64_MAX);
    assert_int_equal(o.stop, BOARD_STOP_POWEROFF);
    assert_string_equal(s.out, "hiB");
    board_free(b);
}

/* ---- time ----------------------------------------------------------------- */

#define DEADLINE_NS (123 * 100) /* mtimecmp 123 at 10 MHz */

static void test_board__timer_exact_busy(void **state)
{
    (void)state;
    /* Quantum 10000 would end a slice at 20000: the interrupt must still
     * be taken at step DEADLINE_NS exactly (1 ns per step, from 0). */
    board_t *b = simple_board(1, prog_timer, sizeof(prog_timer));
    board_outcome o = run(b, UINT64_MAX, DEADLINE_NS);
    assert_int_equal(o.stop, BOARD_STOP_STEPS);
    assert_int_equal(hart_pc(board_hart(b, 0)), 0x80000024); /* still spinning */
    board_free(b);

    b = simple_board(1, prog_timer, sizeof(prog_timer));
    o = run(b, UINT64_MAX, DEADLINE_NS + 1);
    assert_int_equal(o.stop, BOARD_STOP_STEPS);
    uint64_t mcause = 0;
    assert_int_equal(hart_csr(board_hart(b, 0), 0x342, &mcause), MC_OK);
    assert_int_equal(hart_pc(board_hart(b, 0)), 0x80000028); /* in the handler */
    assert_int_equal(mcause, (1ull << 63) | 7);
    o = run(b, UINT64_MAX, UINT64_MAX);
    assert_int_equal(o.stop, BOARD_STOP_POWEROFF);
    assert_int_equal(ram64(b, COUNTER), 123); /* mtime seen by the handler */
    board_free(b);
}

static void test_board__timer_exact_wfi(void **state)
{
    (void)state;
    static const uint64_t quanta[] = {10000, 7, 1};
    for (size_t q = 0; q < 3; q++) {
        board_config cfg;
        board_config_default(&cfg);
        cfg.quantum = quanta[q];
        board_t *b = new_board(&cfg, prog_timerwfi, sizeof(prog_timerwfi), NULL);
        board_outcome o = run(b, UINT64_MAX, UINT64_MAX);
        assert_int_equal(o.stop, BOARD_STOP_POWEROFF);
        assert_int_equal(ram64(b, COUNTER), 123);
        /* the wait cost no steps: ROM 6 + setup 10 + interrupt 1 + handler 11 */
        assert_true(board_steps(b) < 40);
        assert_true(board_vtime(b) <= DEADLINE_NS + 40);
        board_free(b);
    }
}

static void test_board__mtime_within_slice(void **state)
{
    (void)state;
    /* mtime read through the CLINT in the middle of a hart_run is the
     * time of that instruction, not of the start of the run. */
    board_t *b = simple_board(1, prog_mtime, sizeof(prog_mtime));
    board_outcome o = run(b, UINT64_MAX, UINT64_MAX);
    assert_int_equal(o.stop, BOARD_STOP_POWEROFF);
    assert_int_equal(ram64(b, COUNTER), 0);
    assert_int_equal(ram64(b, COUNTER + 8), 40);
    board_free(b);
}

static void test_board__max_time(void **state)
{
    (void)state;
    board_t *b = simple_board(1, prog_timer, sizeof(prog_timer));
    board_outcome o = run(b, 5000, UINT64_MAX);
    assert_int_equal(o.stop, BOARD_STOP_TIME);
    assert_int_equal(board_vtime(b), 5000);
    assert_int_equal(board_steps(b), 5000);
    o = run(b, UINT64_MAX, UINT64_MAX);
    assert_int_equal(o.stop, BOARD_STOP_POWEROFF);
    assert_int_equal(ram64(b, COUNTER), 123);
    board_free(b);
}

static void test_board__idle_forever(void **state)
{
    (void)state;
    /* WFI with nothing armed: prog_timerwfi with the mtimecmp store
     * never reached would do; simplest: a hart parked in wfi by hand. */
    static const uint32_t prog[] = {
        0x10500073, /* wfi */
        0xffdff06f, /* j . - 4 */
    };
    board_t *b = simple_board(2, prog, sizeof(prog));
    board_outcome o = run(b, UINT64_MAX, UINT64_MAX);
    assert_int_equal(o.stop, BOARD_STOP_IDLE);
    board_free(b);
}

static void test_board__determinism(void **state)
{
    (void)state;
    uint64_t h[2], mid;
    for (int i = 0; i < 2; i++) {
        board_config cfg;
        board_config_default(&cfg);
        cfg.nharts = 2;
        cfg.quantum = 1000;
        board_t *b = new_board(&cfg, prog_timer, sizeof(prog_timer), NULL);
        board_outcome o = run(b, UINT64_MAX, 500);
        assert_int_equal(o.stop, BOARD_STOP_STEPS);
        mid = board_state_hash(b);
        o = run(b, UINT64_MAX, UINT64_MAX);
        assert_int_equal(o.stop, BOARD_STOP_POWEROFF);
        h[i] = board_state_hash(b);
        assert_int_not_equal(mid, h[i]);
        board_free(b);
    }
    assert_int_equal(h[0], h[1]);
}

/* ---- tohost (needs the cross compiler) ------------------------------------ */

static int build_tohost_elf(const char *dir, unsigned value, char *path, size_t len)
{
    char src[256], cmd[1200];
    snprintf(src, sizeof(src), "%s/tohost%u.S", dir, value);
    snprintf(path, len, "%s/tohost%u.elf", dir, value);
    FILE *f = fopen(src, "w");
    if (!f) return -1;
    fprintf(f,
            ".globl _start\n_start:\n  lla t0, tohost\n  li t1, %u\n  sd t1, 0(t0)\n"
            "1: j 1b\n.data\n.align 3\n.globl tohost\ntohost: .dword 0\n",
            value);
    fclose(f);
    char lds[256];
    snprintf(lds, sizeof(lds), "%s/t.ld", dir);
    if (!(f = fopen(lds, "w"))) return -1;
    fprintf(f, "ENTRY(_start)\nSECTIONS { . = 0x80000000; .text : { *(.text*) }\n"
               ". = ALIGN(16); .data : { *(.data*) } .bss : { *(.bss*) } }\n");
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "riscv64-linux-gnu-gcc -march=rv64ima_zicsr -mabi=lp64 -nostdlib -no-pie -static "
             "-Wl,--build-id=none -Wl,--no-warn-rwx-segments -T %s -o %s %s 2>/dev/null",
             lds, path, src);
    return system(cmd);
}

static void test_board__tohost(void **state)
{
    (void)state;
    if (system("command -v riscv64-linux-gnu-gcc >/dev/null 2>&1") != 0) skip();
    char dir[] = "/tmp/machina-test-board-XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const unsigned values[] = {1, (5 << 1) | 1};
    for (int i = 0; i < 2; i++) {
        char path[300];
        assert_int_equal(build_tohost_elf(dir, values[i], path, sizeof(path)), 0);
        uint8_t *elf;
        size_t size;
        assert_int_equal(loader_read_file(path, &elf, &size), MC_OK);
        board_config cfg;
        board_config_default(&cfg);
        cfg.kernel = elf;
        cfg.kernel_size = size;
        board_t *b = NULL;
        assert_int_equal(board_new(&b, &cfg, NULL, NULL, 0), MC_OK);
        assert_true(board_get_layout(b)->has_tohost);
        board_outcome o = run(b, UINT64_MAX, UINT64_MAX);
        assert_int_equal(o.stop, BOARD_STOP_TOHOST);
        assert_int_equal(o.code, values[i]);
        board_free(b);
        free(elf);
        remove(path);
    }
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- configuration and instants -------------------------------------------- */

static void test_board__bad_config(void **state)
{
    (void)state;
    board_t *b = NULL;
    char err[160];
    board_config cfg;
    board_config_default(&cfg);
    cfg.nharts = 9;
    assert_int_equal(board_new(&b, &cfg, NULL, err, sizeof(err)), MC_EINVAL);
    board_config_default(&cfg);
    cfg.ram_size = 12345;
    assert_int_equal(board_new(&b, &cfg, NULL, err, sizeof(err)), MC_EINVAL);
    board_config_default(&cfg);
    static uint8_t blob[64];
    cfg.initrd = blob;
    cfg.initrd_size = sizeof(blob);
    assert_int_equal(board_new(&b, &cfg, NULL, err, sizeof(err)), MC_EINVAL);
    assert_non_null(strstr(err, "initrd"));
    /* an initrd larger than the RAM after its start */
    board_config_default(&cfg);
    cfg.ram_size = 16 * MIB;
    cfg.kernel = (const uint8_t *)prog_off;
    cfg.kernel_size = sizeof(prog_off);
    uint8_t *big = calloc(1, 9 * MIB);
    cfg.initrd = big;
    cfg.initrd_size = 9 * MIB;
    assert_int_equal(board_new(&b, &cfg, NULL, err, sizeof(err)), MC_ERANGE);
    free(big);
    /* a kernel ELF for another machine */
    board_config_default(&cfg);
    uint8_t fake[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
    fake[18] = 62; /* x86-64 */
    cfg.kernel = fake;
    cfg.kernel_size = sizeof(fake);
    assert_int_equal(board_new(&b, &cfg, NULL, err, sizeof(err)), MC_EFORMAT);
    assert_non_null(strstr(err, "kernel"));
    assert_null(b);
}

static void test_board__instants(void **state)
{
    (void)state;
    uint64_t ns, steps;
    assert_int_equal(board_parse_instant("3.2s", &ns, &steps), MC_OK);
    assert_int_equal(ns, 3200000000ull);
    assert_int_equal(steps, UINT64_MAX);
    assert_int_equal(board_parse_instant("250ms", &ns, &steps), MC_OK);
    assert_int_equal(ns, 250000000ull);
    assert_int_equal(board_parse_instant("40us", &ns, &steps), MC_OK);
    assert_int_equal(ns, 40000);
    assert_int_equal(board_parse_instant("0.5us", &ns, &steps), MC_OK);
    assert_int_equal(ns, 500);
    assert_int_equal(board_parse_instant("100ns", &ns, &steps), MC_OK);
    assert_int_equal(ns, 100);
    assert_int_equal(board_parse_instant("i:123456789", &ns, &steps), MC_OK);
    assert_int_equal(steps, 123456789);
    assert_int_equal(ns, UINT64_MAX);
    const char *bad[] = {"", "3.2", "s", "i:", "i:12x", "-1s", "1h", "99999999999999999999s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(board_parse_instant(bad[i], &ns, &steps), MC_EINVAL);
}

static void test_board__sched_blob(void **state)
{
    (void)state;
    board_t *b = simple_board(2, prog_timer, sizeof(prog_timer));
    board_outcome o = run(b, UINT64_MAX, 1234);
    assert_int_equal(o.stop, BOARD_STOP_STEPS);
    uint8_t blob[128];
    assert_true(board_sched_size() <= sizeof(blob));
    board_sched_save(b, blob);
    assert_int_equal(board_sched_restore(b, blob, board_sched_size()), MC_OK);
    assert_int_equal(board_steps(b), 1234);
    blob[8] = 5; /* cur >= nharts */
    assert_int_equal(board_sched_restore(b, blob, board_sched_size()), MC_ECORRUPT);
    assert_int_equal(board_sched_restore(b, blob, 3), MC_ECORRUPT);
    board_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_board__dtb_cpus_and_devices),
        cmocka_unit_test(test_board__dtb_cpu_extensions),
        cmocka_unit_test(test_board__dtb_initrd_placement),
        cmocka_unit_test(test_board__dtb_no_initrd_no_bootargs),
        cmocka_unit_test(test_board__rom_contents),
        cmocka_unit_test(test_board__rom_registers),
        cmocka_unit_test(test_board__finisher_poweroff),
        cmocka_unit_test(test_board__finisher_fail),
        cmocka_unit_test(test_board__finisher_reboot),
        cmocka_unit_test(test_board__uart_host_hooks),
        cmocka_unit_test(test_board__timer_exact_busy),
        cmocka_unit_test(test_board__timer_exact_wfi),
        cmocka_unit_test(test_board__mtime_within_slice),
        cmocka_unit_test(test_board__max_time),
        cmocka_unit_test(test_board__idle_forever),
        cmocka_unit_test(test_board__determinism),
        cmocka_unit_test(test_board__tohost),
        cmocka_unit_test(test_board__bad_config),
        cmocka_unit_test(test_board__instants),
        cmocka_unit_test(test_board__sched_blob),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
