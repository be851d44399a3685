#!/usr/bin/env bash
# Builds a tiny bootable guest for the libvirt suites: Debian's cloud kernel and an initramfs
# with busybox and the QEMU guest agent, on a FAT disk made bootable with syslinux (SeaBIOS
# boots it like any disk). It boots in a second or two and answers guest-agent commands, so
# `exec` and agent-reported addresses (192.0.2.10 on a dummy interface) are tested against a
# real guest. Debian packages are
# downloaded and unpacked, never installed. Prints the image's path on stdout; logs on stderr.
#   usage: build.sh CACHE_DIR
set -euo pipefail
cache=${1:?cache dir}
log() { echo "guest-image: $*" >&2; }
mkdir -p "$cache"
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
[[ -n $kpkg ]] || { log "no cloud kernel package known to apt (run apt-get update)"; exit 1; }
kver=${kpkg#linux-image-}
out="$cache/guest-$kver.img"
if [[ -s $out ]]; then echo "$out"; exit 0; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
log "downloading $kpkg, busybox-static, qemu-guest-agent, syslinux, mtools, dosfstools"
apt-get download -qq "$kpkg" busybox-static qemu-guest-agent syslinux syslinux-common mtools dosfstools >&2 2>/dev/null
mkdir x; for f in *.deb; do dpkg-deb -x "$f" x; done
export PATH="$work/x/usr/bin:$work/x/sbin:$work/x/usr/sbin:$PATH"

# The initramfs: busybox, qemu-ga with the libraries it links, the virtio modules.
r=$work/root
mkdir -p "$r"/{bin,sbin,dev,proc,sys,run,tmp,var/run,lib/modules,etc}
cp x/bin/busybox "$r/bin/"
cp x/usr/sbin/qemu-ga "$r/sbin/"
for lib in $(ldd x/usr/sbin/qemu-ga | awk '/=> \//{print $3} $1 ~ /^\/lib/{print $1}'); do
  mkdir -p "$r$(dirname "$lib")"; cp -L "$lib" "$r$lib"
done
m=x/lib/modules/$kver/kernel/drivers
for k in virtio/virtio_ring virtio/virtio virtio/virtio_pci_modern_dev virtio/virtio_pci_legacy_dev virtio/virtio_pci char/virtio_console; do
  cp "$m/$k.ko" "$r/lib/modules/"
done
cp "$m/net/dummy.ko" "$r/lib/modules/"
echo 'guest:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
cat > "$r/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /run
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_console; do insmod /lib/modules/$m.ko; done
ip link set lo up
# No NIC is needed by the suites: an address on a dummy interface is what the agent reports.
insmod /lib/modules/dummy.ko && ip addr add 192.0.2.10/24 dev dummy0 && ip link set dummy0 up
hostname virtkeeper-guest
echo "virtkeeper guest: waiting for the agent channel" > /dev/console
for _ in $(seq 1 100); do
  for p in /sys/class/virtio-ports/*; do
    [ "$(cat "$p/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] && dev=/dev/$(basename "$p")
  done
  [ -n "$dev" ] && break; sleep 0.1
done
echo "virtkeeper guest: qemu-ga on $dev" > /dev/console
exec /sbin/qemu-ga -m virtio-serial -p "$dev" -t /run
INIT
chmod +x "$r/init"
(cd "$r" && find . | "$work/x/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -9) > initrd.img

# A 48 MiB FAT disk with syslinux in its boot sector.
img=$work/guest.img
mkfs.fat -C "$img" 49152 >/dev/null
syslinux --install "$img"
printf 'DEFAULT guest\nPROMPT 0\nTIMEOUT 1\nLABEL guest\n  KERNEL vmlinuz\n  APPEND initrd=initrd.img console=ttyS0 quiet panic=5\n' > syslinux.cfg
mcopy -i "$img" "x/boot/vmlinuz-$kver" ::vmlinuz
mcopy -i "$img" initrd.img ::initrd.img
mcopy -i "$img" syslinux.cfg ::syslinux.cfg
mv "$img" "$out"
log "built $out"
echo "$out"
