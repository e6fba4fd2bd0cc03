#!/usr/bin/env bash
# Builds (or finds in its cache) a tiny bootable qcow2 test guest made from
# Debian 12 packages: cloud kernel + busybox + dropbear + sftp-server, booted
# by syslinux from a FAT partition, ext4 root labelled lago-root, NoCloud
# reader for hostname and root's SSH keys. No root-only tricks (loop devices,
# mounts): apt-get download, dpkg-deb -x, mke2fs -d, mtools.
#
# Usage: build-guest-image.sh [CACHE_DIR]
#   CACHE_DIR defaults to ${LAGO_TEST_CACHE:-/var/cache/lago-test}/images.
# Prints only the path of CACHE_DIR/<recipe-hash>/guest.qcow2 on stdout
# (next to it: guest.qcow2.sha256 and guest.qcow2.metadata); logs go to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_dir=${1:-${LAGO_TEST_CACHE:-/var/cache/lago-test}/images}

KERNEL_META=linux-image-cloud-amd64
PACKAGES=(
	busybox-static
	dropbear-bin openssh-sftp-server
	libc6 libcrypt1 libtomcrypt1 libtommath1 libgmp10 zlib1g
	syslinux syslinux-common mtools dosfstools
)
# Loaded by the initramfs, in this order (dependencies are pulled in by modprobe).
INITRAMFS_MODULES=(
	virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
	failover net_failover virtio_net virtio_blk virtio_rng
)
# Also on the root filesystem, loaded from there when needed.
ROOT_MODULES=(button evdev isofs ata_piix sr_mod virtio_scsi virtio_balloon virtio_console)
ROOT_LABEL=lago-root
DISK_MIB=1024
BOOT_MIB=32
KERNEL_CMDLINE="root=LABEL=$ROOT_LABEL console=ttyS0,115200"

log() { printf 'build-guest-image: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
sha256() { sha256sum | cut -d' ' -f1; }

mkdir -p "$cache_dir"
cache_dir=$(cd "$cache_dir" && pwd)

# --- recipe hash -------------------------------------------------------------
# Files of the recipe: this script and everything under guest/.
recipe_files_hash() {
	{
		sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1
		cd "$here/guest"
		find . -type f -perm -u=x | LC_ALL=C sort # only the exec bit: umask-proof
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
	} | sha256
}

# apt-cache takes ~1 s here (no pkgcache.bin), so the resolved versions are
# remembered per (recipe files, state of the apt lists).
apt_lists_state() {
	local f
	for f in /var/lib/apt/lists/*_Packages* /etc/apt/sources.list /etc/apt/sources.list.d/*; do
		[[ -e "$f" ]] && stat -c '%n %s %Y' "$f"
	done
	return 0
}

# Prints "package version" lines for the kernel and PACKAGES (apt candidates);
# the kernel is the exact one the meta package depends on.
resolve_versions() {
	local info kernel
	info=$(apt-cache show --no-all-versions "$KERNEL_META" "${PACKAGES[@]}" 2>/dev/null || true)
	kernel=$(sed -n 's/^Depends: .*\(linux-image-[0-9][^ ,]*\) (= \([^)]*\)).*/\1 \2/p' <<<"$info" | head -n 1)
	[[ -n "$kernel" ]] || return 1
	{
		printf '%s\n' "$kernel"
		awk -v meta="$KERNEL_META" '/^Package: /{p=$2} /^Version: /{if (p != meta) print p, $2}' <<<"$info"
	} | LC_ALL=C sort -u
}

files_hash=$(recipe_files_hash)
memo_dir=$cache_dir/.resolved
memo=$memo_dir/$(printf '%s\n%s\n' "$files_hash" "$(apt_lists_state)" | sha256)
if [[ -s "$memo" ]]; then
	versions=$(cat "$memo")
else
	if ! versions=$(resolve_versions) || [[ $(wc -l <<<"$versions") -ne $((${#PACKAGES[@]} + 1)) ]]; then
		log "packages not found in the apt lists; running apt-get update"
		apt-get update -qq >&2 || die "apt-get update failed"
		versions=$(resolve_versions) || die "cannot resolve $KERNEL_META"
		[[ $(wc -l <<<"$versions") -eq $((${#PACKAGES[@]} + 1)) ]] ||
			die "some packages are missing from apt: $(tr '\n' ' ' <<<"$versions")"
	fi
	mkdir -p "$memo_dir"
	printf '%s\n' "$versions" >"$memo.$$"
	mv -f "$memo.$$" "$memo"
fi
recipe_hash=$(printf '%s\n%s\n' "$files_hash" "$versions" | sha256)
out_dir=$cache_dir/$recipe_hash
image=$out_dir/guest.qcow2
if [[ -f "$image" ]]; then
	printf '%s\n' "$image"
	exit 0
fi

# --- build -------------------------------------------------------------------
# Only the image path goes to stdout: everything the tools print goes to stderr.
exec 3>&1 1>&2
start=$(date +%s)
log "building $image"
for tool in apt-get dpkg-deb mke2fs qemu-img sha256sum gzip; do
	command -v "$tool" >/dev/null || die "$tool not found (run host-setup.sh)"
done

work=$(mktemp -d "$cache_dir/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Download (or reuse) the exact package versions.
debs_dir=$cache_dir/debs
mkdir -p "$debs_dir"
deb_files=()
missing=()
while read -r pkg ver; do
	f=$(compgen -G "$debs_dir/${pkg}_${ver//:/%3a}_*.deb" | head -n 1 || true)
	if [[ -n "$f" ]]; then
		deb_files+=("$f")
	else
		missing+=("$pkg=$ver")
	fi
done <<<"$versions"
if ((${#missing[@]})); then
	log "downloading ${#missing[@]} package(s)"
	mkdir -p "$work/dl"
	(cd "$work/dl" && apt-get download -q "${missing[@]}" >&2 2>"$work/dl.log") ||
		die "apt-get download failed: $(cat "$work/dl.log")"
	for f in "$work/dl"/*.deb; do
		mv -f "$f" "$debs_dir/"
		deb_files+=("$debs_dir/${f##*/}")
	done
fi

x=$work/x
mkdir -p "$x"
for f in "${deb_files[@]}"; do
	dpkg-deb -x "$f" "$x"
done

kver=$(cd "$x/lib/modules" && ls)
[[ -n "$kver" && -f "$x/boot/vmlinuz-$kver" ]] || die "no kernel in the packages"
bb=$x/bin/busybox
export PATH="$x/usr/bin:$x/sbin:$x/usr/sbin:$PATH" MTOOLS_SKIP_CHECK=1

# --- kernel modules ----------------------------------------------------------
declare -A mod_file=()
# Adds module $1 and its dependencies to mod_file[] (name -> path under lib/modules/$kver).
add_module() {
	local name=${1//-/_} path dep deps=()
	[[ -n "${mod_file[$name]:-}" ]] && return 0
	path=$(cd "$x/lib/modules/$kver" && find kernel -name "${name//_/[-_]}.ko" | head -n 1)
	[[ -n "$path" ]] || die "kernel module $name not found (built in?)"
	mod_file[$name]=$path
	# The .modinfo section of the module says "depends=a,b".
	IFS=, read -ra deps < <(grep -ao 'depends=[A-Za-z0-9_,-]*' "$x/lib/modules/$kver/$path" |
		head -n 1 | sed 's/^depends=//') || true
	for dep in "${deps[@]}"; do
		[[ -n "$dep" ]] && add_module "$dep"
	done
}
# Copies the modules named by mod_file[] into tree $1 and runs depmod there.
install_modules() {
	local dest=$1/lib/modules/$kver name
	mkdir -p "$dest"
	for name in "${!mod_file[@]}"; do
		mkdir -p "$dest/$(dirname "${mod_file[$name]}")"
		cp "$x/lib/modules/$kver/${mod_file[$name]}" "$dest/${mod_file[$name]}"
	done
	cp "$x/lib/modules/$kver/modules.builtin" "$dest/" 2>/dev/null || true
	"$bb" depmod -b "$1" "$kver"
}

# --- root filesystem ---------------------------------------------------------
root=$work/root
mkdir -p "$root"
(cd "$root" && mkdir -p bin sbin lib lib64 usr/bin usr/sbin usr/lib etc root home mnt \
	dev proc sys tmp run var/log var/lib/cloud var/tmp etc/dropbear)
ln -s ../run "$root/var/run"
ln -s /proc/mounts "$root/etc/mtab"
cp "$bb" "$root/bin/busybox"
while read -r applet; do
	[[ -e "$root/$applet" || -L "$root/$applet" ]] || ln -s /bin/busybox "$root/$applet"
done < <("$bb" --list-full | grep -v '^linuxrc$')

install -m 0755 "$x/usr/sbin/dropbear" "$root/usr/sbin/dropbear"
install -m 0755 "$x/usr/bin/dropbearkey" "$root/usr/bin/dropbearkey"
mkdir -p "$root/usr/lib/openssh"
install -m 0755 "$x/usr/lib/openssh/sftp-server" "$root/usr/lib/openssh/sftp-server"
# Where this dropbear build execs the SFTP server (Debian: /usr/lib/sftp-server).
sftp_path=$(grep -ao '/usr/[a-z/]*sftp-server' "$x/usr/sbin/dropbear" | head -n 1 || true)
[[ -n "$sftp_path" ]] || die "cannot find the sftp-server path in dropbear"
if [[ "$sftp_path" != /usr/lib/openssh/sftp-server ]]; then
	mkdir -p "$root$(dirname "$sftp_path")"
	ln -s /usr/lib/openssh/sftp-server "$root$sftp_path"
fi

# Shared libraries, as resolved by the packages' own dynamic loader.
ldso=$x/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
libpath=$x/lib/x86_64-linux-gnu:$x/usr/lib/x86_64-linux-gnu
mkdir -p "$root/lib/x86_64-linux-gnu"
cp "$ldso" "$root/lib/x86_64-linux-gnu/"
ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"
for bin in usr/sbin/dropbear usr/bin/dropbearkey usr/lib/openssh/sftp-server; do
	"$ldso" --library-path "$libpath" --list "$x/$bin" >"$work/ldd.out" || die "cannot resolve libraries of $bin"
	if grep -v "=> $x/" "$work/ldd.out" | grep -q '=>'; then
		die "libraries of $bin not all found in the packages: $(tr '\n' ' ' <"$work/ldd.out")"
	fi
	while read -r lib; do
		rel=${lib#"$x"/}
		[[ -e "$root/$rel" ]] && continue
		mkdir -p "$root/$(dirname "$rel")"
		cp -L "$lib" "$root/$rel"
	done < <(sed -n "s|.* => \\($x/[^ ]*\\) .*|\\1|p" "$work/ldd.out")
done

for m in "${INITRAMFS_MODULES[@]}" "${ROOT_MODULES[@]}"; do
	add_module "$m"
done
install_modules "$root"

cp -R "$here/guest/rootfs/." "$root/"
chmod -R go-w "$root" # whatever the umask of the checkout was
chmod 0700 "$root/root"
chmod 0600 "$root/etc/shadow"
chmod 1777 "$root/tmp" "$root/var/tmp"

# --- initramfs ---------------------------------------------------------------
initrd=$work/initrd
mkdir -p "$initrd/bin" "$initrd/etc" "$initrd/proc" "$initrd/sys" "$initrd/newroot"
cp "$bb" "$initrd/bin/busybox"
while read -r applet; do
	[[ "$applet" == busybox ]] || ln -s busybox "$initrd/bin/$applet"
done < <("$bb" --list)
install -m 0755 "$here/guest/initramfs/init" "$initrd/init"
printf '%s\n' "${INITRAMFS_MODULES[@]}" >"$initrd/etc/initramfs-modules"
mod_file=()
for m in "${INITRAMFS_MODULES[@]}"; do
	add_module "$m"
done
install_modules "$initrd"

# newc cpio entry without data; $1 name, $2 mode (octal), $3 ino, $4/$5 rdev major/minor.
cpio_entry() {
	local namesize=$((${#1} + 1)) pad
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		"$3" "$((8#$2))" 0 0 1 0 0 0 0 "$4" "$5" "$namesize" 0
	printf '%s\0' "$1"
	pad=$(((4 - (110 + namesize) % 4) % 4))
	head -c "$pad" /dev/zero
}
# The kernel opens /dev/console before /init runs: a device node needs root to
# create on disk, so it is written as a hand-made cpio archive in front.
{
	cpio_entry dev 040755 1 0 0
	cpio_entry dev/console 020600 2 5 1
	cpio_entry 'TRAILER!!!' 0 0 0 0
	(cd "$initrd" && find . -mindepth 1 | LC_ALL=C sort | "$bb" cpio -o -H newc 2>/dev/null)
} | gzip -6 >"$work/initrd.img"

# --- boot partition (FAT, syslinux) ------------------------------------------
cat >"$work/syslinux.cfg" <<EOF
SERIAL 0 115200
DEFAULT lago
PROMPT 0
TIMEOUT 0
LABEL lago
  LINUX /vmlinuz
  INITRD /initrd.img
  APPEND $KERNEL_CMDLINE
EOF

# --- disk: MBR (syslinux mbr.bin), FAT boot partition, ext4 root --------------
# Filesystems are made in place at their partition offsets (no copies).
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
# $1 bootable flag, $2 type, $3 first sector, $4 sector count; CHS fields say "use LBA".
part_entry() { printf "\\x$1\\xfe\\xff\\xff\\x$2\\xfe\\xff\\xff$(le32 "$3")$(le32 "$4")"; }
disk=$work/disk.raw
root_mib=$((DISK_MIB - 1 - BOOT_MIB))
boot_start=2048
boot_sectors=$((BOOT_MIB * 2048))
root_start=$((boot_start + boot_sectors))
root_sectors=$((root_mib * 2048))
truncate -s "${DISK_MIB}M" "$disk"
{
	head -c 440 "$x/usr/lib/syslinux/mbr/mbr.bin"
	printf "$(le32 $((16#4c41474f)))\\x00\\x00" # disk signature
	part_entry 80 0e "$boot_start" "$boot_sectors"
	part_entry 00 83 "$root_start" "$root_sectors"
	head -c 32 /dev/zero
	printf '\x55\xaa'
} >"$work/mbr"
[[ $(stat -c %s "$work/mbr") -eq 512 ]] || die "bad MBR size"
dd if="$work/mbr" of="$disk" conv=notrunc status=none

boot_fs=$disk@@$((boot_start * 512))
# (mkfs.fat warns that the block count is not the rest of the file: intended.)
mkfs.fat -F 16 -n LAGOBOOT -h "$boot_start" --offset "$boot_start" "$disk" $((BOOT_MIB * 1024)) \
	>/dev/null 2>"$work/mkfs.err" || die "mkfs.fat: $(cat "$work/mkfs.err")"
grep -v 'block count mismatch' "$work/mkfs.err" >&2 || true
syslinux --offset $((boot_start * 512)) --install "$disk"
mcopy -i "$boot_fs" "$x/boot/vmlinuz-$kver" ::vmlinuz
mcopy -i "$boot_fs" "$work/initrd.img" ::initrd.img
mcopy -i "$boot_fs" "$work/syslinux.cfg" ::syslinux.cfg
mdir -a -i "$boot_fs" :: | grep -q 'ldlinux  *c32' || die "syslinux did not install ldlinux.c32"

mke2fs -q -F -t ext4 -L "$ROOT_LABEL" -m 1 \
	-E offset=$((root_start * 512)),lazy_itable_init=0,lazy_journal_init=1,root_owner=0:0 \
	-d "$root" "$disk" "${root_mib}M" >/dev/null
if [[ $(id -u) -ne 0 ]]; then
	# Files copied by a non-root user keep that user's ids: make them root's.
	(cd "$root" && find . -mindepth 1) | sed 's|^\.||' | while IFS= read -r p; do
		printf 'sif "%s" uid 0\nsif "%s" gid 0\n' "$p" "$p"
	done | debugfs -w -f - "$disk?offset=$((root_start * 512))" >/dev/null 2>&1 ||
		die "debugfs could not set file owners"
fi

out_tmp=$work/out
mkdir -p "$out_tmp"
# Compressed clusters: 26 -> 17 MiB, no measurable cost at boot.
qemu-img convert -c -f raw -O qcow2 "$disk" "$out_tmp/guest.qcow2"
sha256sum "$out_tmp/guest.qcow2" | cut -d' ' -f1 >"$out_tmp/guest.qcow2.sha256"
printf '{"distro":"tiny-debian12","root-partition":"/dev/vda2","bootstrap":"cloud-init-nocloud"}\n' \
	>"$out_tmp/guest.qcow2.metadata"
printf '%s\n' "$versions" >"$out_tmp/packages.txt"

# Atomic publish; a concurrent build that won the race is fine too.
if ! mv -T "$out_tmp" "$out_dir" 2>/dev/null; then
	[[ -f "$image" ]] || die "cannot publish $out_dir"
fi
log "done in $(($(date +%s) - start)) s: $(du -h --apparent-size "$image" | cut -f1)"
printf '%s\n' "$image" >&3
