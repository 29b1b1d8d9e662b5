#!/bin/sh
# Builds spicecap's Linux test guest: Debian's stock kernel plus a busybox-only initramfs, about
# 9 MB in all, booting to a shell in roughly 8 s under QEMU's TCG.
#
#   usage: build_linux_guest.sh OUTDIR     writes OUTDIR/vmlinuz and OUTDIR/initramfs.cpio.gz
#
# Needs apt-get (with package lists: apt-get update) and dpkg-deb; no root. The two .deb files
# (linux-image-*-amd64, busybox-static) are fetched with `apt-get download` and unpacked with
# `dpkg-deb -x`: nothing is installed and no maintainer script runs. harness/processes/
# linux_guest.ts runs this once into .tools/guest/ and reuses the result while this file is
# unchanged.
#
# Boot it with
#   qemu-system-x86_64 … -kernel OUTDIR/vmlinuz -initrd OUTDIR/initramfs.cpio.gz \
#     -append "console=tty0 loglevel=4 spicecap.quiet vt.global_cursor_default=0" \
#     -serial file:serial.log
# Debian's kernel has the VGA text console, the i8042 controller and the AT keyboard built in, so
# keys typed in a SPICE client reach the guest's shell. /init clears the screen, prints a banner
# and "GUEST READY" on the screen, writes "GUEST READY <uptime>" to ttyS0 (the line a test waits
# for in the serial log), then keeps a shell with the prompt "guest# " running on the console.
# `spicecap.quiet` leaves the uptime off the screen and `vt.global_cursor_default=0` hides the
# blinking cursor, so the screen is the same on every boot.
#
# For lossy and video truth the guest can draw pictures: booted with `vga=0x343` as well (QEMU's
# loader sets VESA mode 0x143, 800x600 at 32 bits, and the kernel's vesafb makes /dev/fb0 with
# the console on it), the shell command `photo` writes a smooth, photo-like 800x600 picture
# (generated here with awk, no downloaded image) to the framebuffer, and `motion [FRAMES]
# [USECS]` then scrolls that picture through the band of rows 240-359, the same full-width
# rectangle rewritten FRAMES times (default 60), USECS apart (default 40000). Both write
# "PHOTO DONE" / "MOTION DONE" to ttyS0 when they are through.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cd "$work"

# linux-image-amd64 is a metapackage; its first linux-image-N… dependency is the real kernel.
kernel_pkg=$(apt-cache depends linux-image-amd64 | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
[ -n "$kernel_pkg" ] || { echo "$0: apt-cache knows no linux-image-amd64; run apt-get update" >&2; exit 1; }
# As root, apt fetches as the _apt user, which cannot write to our private work directory.
sandbox=""
[ "$(id -u)" != 0 ] || sandbox="-o APT::Sandbox::User=root"
# shellcheck disable=SC2086
apt-get download $sandbox "$kernel_pkg" busybox-static >/dev/null
dpkg-deb -x "$kernel_pkg"_*.deb kernel
dpkg-deb -x busybox-static_*.deb busybox
bb=$work/busybox/bin/busybox

root=$work/root
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp "$bb" "$root/bin/busybox"
mkdir -p "$root/usr/share/spicecap"
# The picture, B,G,R,X rows top-down: a sky-to-ground gradient with soft waves and a warm sun,
# only smooth low-frequency detail (what spice-server's graduality test calls photo-like).
LC_ALL=C awk 'function c(v) { v = int(v + 0.5); return v < 1 ? 1 : v > 255 ? 255 : v }
BEGIN {
  for (i = 1; i < 256; i++) ch[i] = sprintf("%c", i)
  for (y = 0; y < 600; y++) {
    row = ""
    for (x = 0; x < 800; x++) {
      sky = y / 600
      r = 70 + 120 * sky + 35 * sin(x / 97 + y / 143)
      g = 110 + 60 * sky + 30 * sin(y / 61 - x / 233)
      b = 210 - 130 * sky + 25 * cos((x + 2 * y) / 171)
      dx = x - 560; dy = y - 170; s = exp(-(dx * dx + dy * dy) / 9000)
      row = row ch[c(b - 40 * s)] ch[c(g + 120 * s)] ch[c(r + 150 * s)] ch[255]
    }
    printf "%s", row
  }
}' > "$root/usr/share/spicecap/photo.raw"
cat > "$root/bin/fbcheck" <<'FBCHECK'
#!/bin/sh
# The pictures are 800x600 at 32 bits: refuse any other framebuffer.
fb=/sys/class/graphics/fb0
if [ ! -e /dev/fb0 ] || [ "$(cat $fb/virtual_size 2>/dev/null)" != "800,600" ] ||
  [ "$(cat $fb/bits_per_pixel)" != 32 ] || [ "$(cat $fb/stride)" != 3200 ]; then
  echo "no 800x600x32 framebuffer: boot with vga=0x343" >&2
  exit 1
fi
FBCHECK
cat > "$root/bin/photo" <<'PHOTO'
#!/bin/sh
fbcheck || exit 1
cat /usr/share/spicecap/photo.raw > /dev/fb0
echo "PHOTO DONE" > /dev/ttyS0
PHOTO
cat > "$root/bin/motion" <<'MOTION'
#!/bin/sh
fbcheck || exit 1
frames=${1:-60}
i=0
while [ "$i" -lt "$frames" ]; do
  dd if=/usr/share/spicecap/photo.raw of=/dev/fb0 bs=3200 skip=$((i * 2 % 480)) seek=240 \
    count=120 conv=notrunc 2>/dev/null
  usleep "${2:-40000}"
  i=$((i + 1))
done
echo "MOTION DONE" > /dev/ttyS0
MOTION
chmod 755 "$root/bin/fbcheck" "$root/bin/photo" "$root/bin/motion"
cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The archive holds no device nodes (building it needs no root), so the kernel found no
# /dev/console for us: take it now that devtmpfs is mounted.
exec 0</dev/console 1>/dev/console 2>&1
echo 1 > /proc/sys/kernel/printk
clear
echo "spicecap test guest: busybox $(busybox | head -1 | cut -d' ' -f2) on $(uname -r)"
if grep -q spicecap.quiet /proc/cmdline; then
  echo "GUEST READY"
else
  echo "GUEST READY after $(cut -d' ' -f1 /proc/uptime) s"
fi
echo "GUEST READY $(cut -d' ' -f1 /proc/uptime)" > /dev/ttyS0 2>/dev/null
export PS1='guest# '
while true; do setsid cttyhack /bin/sh; done
INIT
chmod 755 "$root/init"

cp kernel/boot/vmlinuz-* "$out/vmlinuz.tmp"
# Reproducible: fixed times, owners and inode numbers in the archive, no name or time in the
# gzip header, so one kernel package version gives the same bytes (replay pins their SHA-256).
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . | LC_ALL=C sort |
  "$bb" cpio -o -H newc -R 0:0 --ignore-devno --renumber-inodes 2>/dev/null) |
  gzip -9 -n > "$out/initramfs.cpio.gz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
echo "built $out/vmlinuz ($kernel_pkg) and $out/initramfs.cpio.gz" >&2
