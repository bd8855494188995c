#!/usr/bin/env bash
# virtio_disk.sh - an ext2 image built with mke2fs -d mounts in the guest
# through virtio-blk; a file on it is read back; the image file is never
# written (guest writes go to the overlay).
. "$(dirname "$0")/lib/common.sh"
need "$B/machina"; need "$C/Image"
mkdir -p "$TMP/root"
echo "machina-disk-ok $(date +%s)" > "$TMP/root/hello.txt"
/sbin/mke2fs -q -t ext2 -d "$TMP/root" "$TMP/disk.img" 8M
sum_before=$(sha256sum < "$TMP/disk.img")
cat > "$TMP/script" <<'EOS'
expect [machina] shell ready
send mkdir /mnt && mount -t ext2 /dev/vda /mnt && cat /mnt/hello.txt
expect machina-disk-ok
send echo written > /mnt/new.txt && sync && cat /mnt/new.txt
expect written
send poweroff -f
EOS
timeout 600 "$B/machina" -drive file="$TMP/disk.img" -serial-script "$TMP/script" </dev/null \
    >"$TMP/out" 2>&1 || { tail -20 "$TMP/out"; fail "machina exited with $?"; }
expect_in "$TMP/out" "$(cat "$TMP/root/hello.txt")" "virtio_blk"
[ "$(sha256sum < "$TMP/disk.img")" = "$sum_before" ] || fail "the disk image file was modified"
echo "ext2 on virtio-blk: mounted, file read back, image untouched"
