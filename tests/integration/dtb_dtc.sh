#!/usr/bin/env bash
# dtb_dtc.sh - `machina -dumpdtb` writes a device tree that dtc decodes, with
# the nodes and values of QEMU 7.2's virt (and, when QEMU is installed, the
# same node paths and initrd placement as QEMU's own dumpdtb for the same
# options). Needs no corpus: the kernel is a few raw bytes.
. "$(dirname "$0")/lib/common.sh"
M=$B/machina
command -v dtc >/dev/null || fail "dtc not installed (device-tree-compiler)"

printf '\157\000\000\000' >"$TMP/kernel.bin"            # j .
head -c 100000 /dev/zero >"$TMP/initrd.bin"

# 1. Defaults (no corpus needed for -dumpdtb).
"$M" -dumpdtb "$TMP/a.dtb" || fail "-dumpdtb exited $?"
dtc -I dtb -O dts -o "$TMP/a.dts" "$TMP/a.dtb" 2>/dev/null || fail "dtc cannot decode the blob"
expect_in "$TMP/a.dts" 'compatible = "riscv-virtio";' 'model = "riscv-virtio,qemu";' \
    'cpu@0 {' 'riscv,isa = "rv64imafdc_zicsr_zifencei_sstc";' 'mmu-type = "riscv,sv48";' \
    'compatible = "riscv,cpu-intc";' 'timebase-frequency = <0x989680>;' \
    'memory@80000000 {' 'reg = <0x00 0x80000000 0x00 0x10000000>;' \
    'clint@2000000 {' 'compatible = "sifive,clint0\0riscv,clint0";' \
    'plic@c000000 {' 'compatible = "sifive,plic-1.0.0\0riscv,plic0";' \
    'serial@10000000 {' 'compatible = "ns16550a";' 'interrupts = <0x0a>;' \
    'test@100000 {' 'compatible = "sifive,test1\0sifive,test0\0syscon";' \
    'poweroff {' 'value = <0x5555>;' 'reboot {' 'value = <0x7777>;' \
    'virtio_mmio@10001000 {' 'virtio_mmio@10008000 {' 'compatible = "virtio,mmio";' \
    'stdout-path = "/soc/serial@10000000";' 'cluster0 {'
grep -q 'cpu@1 {' "$TMP/a.dts" && fail "one hart by default"

# 2. -smp 4 -m 1G -cpu without Sstc/Sv48, a kernel, an initrd and a command line.
"$M" -smp 4 -m 1G -cpu rv64,sstc=false,sv48=false -kernel "$TMP/kernel.bin" \
    -initrd "$TMP/initrd.bin" -append "console=ttyS0 hello" -dumpdtb "$TMP/b.dtb" ||
    fail "-dumpdtb (smp 4) exited $?"
dtc -I dtb -O dts -o "$TMP/b.dts" "$TMP/b.dtb" 2>/dev/null || fail "dtc cannot decode blob b"
[ "$(grep -c 'device_type = "cpu";' "$TMP/b.dts")" = 4 ] || fail "expected 4 cpus"
expect_in "$TMP/b.dts" 'riscv,isa = "rv64imafdc_zicsr_zifencei";' 'mmu-type = "riscv,sv39";' \
    'reg = <0x00 0x80000000 0x00 0x40000000>;' 'bootargs = "console=ttyS0 hello";' \
    'linux,initrd-start = <0x88200000>;' 'linux,initrd-end = <0x882186a0>;' 'core3 {'

# 3. The same machine as QEMU sees it: every node of ours exists in QEMU's
#    tree, and chosen/initrd and memory agree.
if command -v qemu-system-riscv64 >/dev/null; then
    qemu-system-riscv64 -machine virt,dumpdtb="$TMP/q.dtb" -cpu "$QEMU_CPU" -smp 4 -m 1G \
        -nographic -kernel "$TMP/kernel.bin" -initrd "$TMP/initrd.bin" \
        -append "console=ttyS0 hello" >/dev/null 2>&1 || fail "qemu dumpdtb failed"
    dtc -I dtb -O dts -o "$TMP/q.dts" "$TMP/q.dtb" 2>/dev/null
    nodes() { grep -E '^\s*[^ ]+ \{$' "$1" | sed 's/^\s*//' | sort; }
    "$M" -smp 4 -m 1G -kernel "$TMP/kernel.bin" -initrd "$TMP/initrd.bin" \
        -append "console=ttyS0 hello" -dumpdtb "$TMP/c.dtb" || fail "-dumpdtb (c) exited $?"
    dtc -I dtb -O dts -o "$TMP/c.dts" "$TMP/c.dtb" 2>/dev/null
    missing=$(comm -23 <(nodes "$TMP/c.dts") <(nodes "$TMP/q.dts"))
    [ -z "$missing" ] || fail "nodes QEMU does not have: $missing"
    for prop in linux,initrd-start linux,initrd-end bootargs stdout-path; do
        [ "$(fdtget "$TMP/c.dtb" /chosen $prop)" = "$(fdtget "$TMP/q.dtb" /chosen $prop)" ] ||
            fail "/chosen/$prop differs from QEMU's"
    done
    [ "$(fdtget "$TMP/c.dtb" /memory@80000000 reg)" = "$(fdtget "$TMP/q.dtb" /memory@80000000 reg)" ] ||
        fail "memory differs from QEMU's"
    for n in /cpus/cpu@3 /soc/clint@2000000 /soc/plic@c000000 /soc/test@100000; do
        for p in phandle interrupts-extended; do
            a=$(fdtget "$TMP/c.dtb" $n $p 2>/dev/null || true)
            q=$(fdtget "$TMP/q.dtb" $n $p 2>/dev/null || true)
            [ "$a" = "$q" ] || fail "$n/$p: ours '$a', QEMU '$q'"
        done
    done
fi

# 4. Errors: an unwritable path is one line and status 2.
rc=0; "$M" -dumpdtb /nonexistent/dir/x.dtb 2>"$TMP/err" || rc=$?
[ $rc = 2 ] || fail "unwritable -dumpdtb: status $rc"
[ "$(wc -l <"$TMP/err")" = 1 ] || fail "expected one error line, got: $(cat "$TMP/err")"
echo "dtb_dtc: ok"
