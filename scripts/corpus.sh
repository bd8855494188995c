#!/usr/bin/env bash
# corpus.sh OUT - build the machina guest corpus into OUT.
#
# Everything comes from Debian packages (see scripts/setup.sh):
#   Linux 6.1 (linux-source-6.1) with corpus/linux/machina.config,
#   busybox 1.35 (Debian source package) built static,
#   the workloads (corpus/workloads) and bare-metal tests (corpus/baremetal),
#   an initramfs (corpus/initramfs/init + busybox + workloads).
# The slow parts (kernel, busybox) are cached under
# ${MACHINA_CACHE:-~/.cache/machina}/corpus/<name>-<hash of inputs>, so a
# second run with unchanged inputs takes seconds. OUT gets stable paths:
#   Image vmlinux System.map initramfs.cpio workloads/ baremetal/*.elf
set -euo pipefail

OUT=${1:?usage: corpus.sh OUTDIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${MACHINA_CACHE:-$HOME/.cache/machina}/corpus
JOBS=$(nproc)
CROSS=riscv64-linux-gnu-
mkdir -p "$OUT" "$CACHE"
OUT=$(cd "$OUT" && pwd)

t0=$SECONDS
say() { printf '[corpus %3ds] %s\n' $((SECONDS - t0)) "$*"; }
die() { printf 'corpus.sh: %s\n' "$*" >&2; exit 1; }

for tool in ${CROSS}gcc make bc flex bison cpio xz dpkg-source; do
    command -v "$tool" >/dev/null || die "missing $tool: run scripts/setup.sh first"
done
LINUX_TAR=/usr/src/linux-source-6.1.tar.xz
[ -f "$LINUX_TAR" ] || die "missing $LINUX_TAR: run scripts/setup.sh first"

# One builder at a time per cache (CI and a developer may share it).
exec 9>"$CACHE/.lock"
flock 9

hash_of() { cat "$@" | sha256sum | cut -c1-16; }
# Bump a recipe number when the way a part is built changes.
LINUX_RECIPE=1
BUSYBOX_RECIPE=1

# --- Linux ------------------------------------------------------------------
linux_ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
khash=$(printf '%s %s\n' "$linux_ver" "$LINUX_RECIPE" | hash_of - "$SRC/corpus/linux/machina.config")
KDIR="$CACHE/linux-$khash"
if [ ! -f "$KDIR/.done" ]; then
    say "building Linux 6.1 ($linux_ver) into $KDIR (about 3-5 minutes)"
    work=$(mktemp -d "$CACHE/linux-build.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    tar -C "$work" -xf "$LINUX_TAR"
    ksrc="$work/linux-source-6.1"
    kmake() { make -C "$ksrc" ARCH=riscv CROSS_COMPILE=$CROSS -j"$JOBS" "$@"; }
    kmake allnoconfig >/dev/null
    (cd "$ksrc" && ARCH=riscv scripts/kconfig/merge_config.sh -m .config \
        "$SRC/corpus/linux/machina.config" >/dev/null)
    kmake olddefconfig >/dev/null
    # Options that silently vanish when a dependency is missing.
    for opt in SMP VIRTIO_BLK EXT2_FS SERIAL_8250_CONSOLE DEBUG_INFO_DWARF4 BLK_DEV_INITRD SIFIVE_PLIC FUTEX; do
        grep -q "^CONFIG_$opt=y" "$ksrc/.config" || die "kernel config lost CONFIG_$opt"
    done
    say "kernel configured; compiling"
    kmake Image vmlinux 2>&1 | grep -E 'error|warning: ' || true
    [ -f "$ksrc/arch/riscv/boot/Image" ] || die "kernel build failed (run again with a log: make -C ... )"
    gcc -O2 -o "$work/gen_init_cpio" "$ksrc/usr/gen_init_cpio.c"
    mkdir -p "$work/out"
    cp "$ksrc/arch/riscv/boot/Image" "$ksrc/vmlinux" "$ksrc/System.map" "$ksrc/.config" \
       "$work/gen_init_cpio" "$work/out/"
    rm -rf "$KDIR"
    mv "$work/out" "$KDIR"
    touch "$KDIR/.done"
    rm -rf "$work"
    trap - EXIT
    say "Linux built"
else
    say "Linux: cached ($KDIR)"
fi

# --- busybox ----------------------------------------------------------------
bhash=$(echo "$BUSYBOX_RECIPE" | hash_of - "$SRC/corpus/busybox/machina.config")
BDIR="$CACHE/busybox-$bhash"
if [ ! -f "$BDIR/.done" ]; then
    say "fetching busybox source from Debian"
    work=$(mktemp -d "$CACHE/busybox-build.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    # The Debian mirror apt already uses (one-line or deb822 sources).
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
             2>/dev/null | grep -E '^(deb |URIs:)' | grep -oE 'https?://[^ ]*debian[^ ]*' \
             | grep -v security | head -n1 || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    mkdir -p "$work/apt/lists/partial"
    echo "deb-src $mirror bookworm main" > "$work/apt/sources.list"
    aptopt=(-o Dir::Etc::SourceList="$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o Dir::State::Lists="$work/apt/lists")
    apt-get "${aptopt[@]}" update -qq >"$work/apt.log" 2>&1 \
        || { cat "$work/apt.log" >&2; die "apt-get update for deb-src $mirror failed"; }
    (cd "$work" && apt-get "${aptopt[@]}" source --download-only -qq busybox >"$work/apt.log" 2>&1) \
        || { cat "$work/apt.log" >&2; die "apt-get source busybox failed"; }
    orig=$(ls "$work"/busybox_*.orig.tar.* | head -n1)
    [ -n "$orig" ] || die "busybox source download failed"
    tar -C "$work" -xf "$orig"
    bsrc=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'busybox-*' | head -n1)
    say "building busybox $(basename "$bsrc") static for riscv64"
    make -C "$bsrc" defconfig >/dev/null
    while read -r line; do
        case "$line" in
        CONFIG_*=*) name=${line%%=*}
                    sed -i "s/^$name=.*/$line/; s/^# $name is not set/$line/" "$bsrc/.config" ;;
        "# CONFIG_"*" is not set") name=${line#\# }; name=${name%% *}
                    sed -i "s/^$name=.*/# $name is not set/" "$bsrc/.config" ;;
        esac
    done < "$SRC/corpus/busybox/machina.config"
    yes '' | make -C "$bsrc" oldconfig >/dev/null 2>&1 || true
    make -C "$bsrc" CROSS_COMPILE=$CROSS -j"$JOBS" >/dev/null 2>"$work/busybox.log" \
        || { tail -20 "$work/busybox.log" >&2; die "busybox build failed"; }
    make -C "$bsrc" CROSS_COMPILE=$CROSS busybox.links >/dev/null
    mkdir -p "$work/out"
    cp "$bsrc/busybox" "$bsrc/busybox.links" "$work/out/"
    rm -rf "$BDIR"
    mv "$work/out" "$BDIR"
    touch "$BDIR/.done"
    rm -rf "$work"
    trap - EXIT
    say "busybox built"
else
    say "busybox: cached ($BDIR)"
fi

# --- workloads and bare-metal tests (seconds; make keeps them current) ----
say "workloads and bare-metal tests"
make -s -C "$SRC/corpus/workloads" OUT="$OUT/workloads" -j"$JOBS"
make -s -C "$SRC/corpus/baremetal" OUT="$OUT/baremetal" -j"$JOBS"

# --- initramfs --------------------------------------------------------------
list="$OUT/initramfs.list"
{
    echo "dir /bin 755 0 0"
    echo "dir /sbin 755 0 0"
    echo "dir /usr 755 0 0"
    echo "dir /usr/bin 755 0 0"
    echo "dir /usr/sbin 755 0 0"
    echo "dir /dev 755 0 0"
    echo "dir /proc 755 0 0"
    echo "dir /sys 755 0 0"
    echo "dir /tmp 1777 0 0"
    echo "dir /root 700 0 0"
    echo "nod /dev/console 600 0 0 c 5 1"
    echo "nod /dev/null 666 0 0 c 1 3"
    echo "file /init $SRC/corpus/initramfs/init 755 0 0"
    echo "file /bin/busybox $BDIR/busybox 755 0 0"
    # busybox.links lists every applet's path, e.g. /bin/sh, /usr/bin/env.
    grep -v '^/linuxrc$' "$BDIR/busybox.links" | while read -r applet; do
        [ "$applet" = /bin/busybox ] || echo "slink $applet /bin/busybox 777 0 0"
    done
    for w in "$OUT"/workloads/*; do
        [ -x "$w" ] && [ -f "$w" ] && echo "file /bin/$(basename "$w") $w 755 0 0"
    done
} > "$list.new"
mv "$list.new" "$list"
"$KDIR/gen_init_cpio" "$list" > "$OUT/initramfs.cpio.new"
mv "$OUT/initramfs.cpio.new" "$OUT/initramfs.cpio"

for f in Image vmlinux System.map; do
    ln -sfn "$KDIR/$f" "$OUT/$f"
done
ln -sfn "$KDIR/.config" "$OUT/linux.config"
say "corpus ready in $OUT: Image $(du -Lh "$OUT/Image" | cut -f1), vmlinux $(du -Lh "$OUT/vmlinux" | cut -f1), initramfs $(du -h "$OUT/initramfs.cpio" | cut -f1), $(ls "$OUT"/baremetal/*.elf 2>/dev/null | wc -l) bare-metal tests"
