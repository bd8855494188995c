#!/usr/bin/env bash
# boot_linux.sh - the corpus Linux boots on machina to the busybox shell on
# 1, 2 and 4 harts; a scripted session runs cpuinfo, ps and echo and powers
# off with status 0. QEMU boots the same images in the same test and must
# print the same kernel banner (QEMU as oracle).
. "$(dirname "$0")/lib/common.sh"
need "$B/machina"; need "$C/Image"; need "$C/initramfs.cpio"

cat > "$TMP/script" <<'EOS'
expect [machina] shell ready
send cat /proc/cpuinfo | grep -c ^processor
expect # 
send ps
expect # 
send echo hello-$((6*7))
expect hello-42
send poweroff -f
EOS

for n in 1 2 4; do
    rc=0
    timeout 600 "$B/machina" -smp $n -serial-script "$TMP/script" </dev/null >"$TMP/boot$n.out" 2>&1 || rc=$?
    [ $rc -eq 0 ] || { tail -30 "$TMP/boot$n.out"; fail "smp $n: exit status $rc, expected 0 after poweroff"; }
    expect_in "$TMP/boot$n.out" "Linux version 6.1" "machina corpus: Linux 6.1" "on $n hart(s)" \
        "[machina] shell ready" "hello-42" "PID" "[kthreadd]" "/init"
    # cpuinfo's processor count, printed alone on its line after the command
    tr -d '\r' < "$TMP/boot$n.out" | grep -A1 'grep -c \^processor' | grep -qx "$n" \
        || { grep -A2 'grep -c' "$TMP/boot$n.out"; fail "smp $n: /proc/cpuinfo does not list $n processors"; }
    echo "smp $n: booted to the shell, cpuinfo lists $n harts, ps and echo worked, poweroff status 0"
done

# QEMU as oracle: the same kernel prints the same banner.
timeout 120 qemu-system-riscv64 -machine virt -cpu "$QEMU_CPU" -smp 1 -m 256M -nographic \
    -bios "$FW_DYNAMIC" -kernel "$C/Image" -initrd "$C/initramfs.cpio" \
    -append "console=ttyS0 earlycon=sbi machina.workload=none" </dev/null >"$TMP/qemu.out" 2>&1 || true
mb=$(grep -ao 'Linux version 6\.1.*' "$TMP/boot1.out" | tr -d '\r' | head -n1)
qb=$(grep -ao 'Linux version 6\.1.*' "$TMP/qemu.out" | tr -d '\r' | head -n1)
[ -n "$mb" ] && [ "$mb" = "$qb" ] || fail "kernel banner differs: machina '$mb' vs QEMU '$qb'"
echo "banner identical to QEMU's: $mb"
