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
(cd "$root" && find . | sort | "$bb" cpio -o -H newc 2>/dev/null) | gzip -9 > "$out/initramfs.cpio.gz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
echo "built $out/vmlinuz ($kernel_pkg) and $out/initramfs.cpio.gz" >&2
