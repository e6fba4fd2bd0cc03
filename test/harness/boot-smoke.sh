#!/usr/bin/env bash
# Manual smoke test of the VM test harness: host setup, guest image, a libvirt
# NAT network and a transient domain inside the test network namespace, SSH,
# SFTP, ACPI shutdown, persistence across boots, reboot. Cleans up on exit.
#
# Env: LAGO_TEST_NETNS   namespace (default lago-test)
#      LAGO_TEST_CACHE   cache root (default /var/cache/lago-test)
#      LAGO_SMOKE_COLD=1 build the image in a fresh cache dir (measures a cold build)
#      LAGO_SMOKE_OCTET  third octet of the test subnet 192.168.X.0/24 (default 250)
#      LAGO_SMOKE_KEEP=1 keep the temp dir (console logs) after the run
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
netns=${LAGO_TEST_NETNS:-lago-test}
octet=${LAGO_SMOKE_OCTET:-250}
subnet=192.168.$octet
guest_ip=$subnet.2
guest_mac=52:54:00:fa:$(printf '%02x' "$octet"):02
guest_name=smoke-vm
id=$$
net_name=lago-smoke-$id
bridge=lsmk$id
dom_name=lago-smoke-$id

say() { printf 'boot-smoke: %s\n' "$*"; }
fail() {
	say "FAIL: $*"
	exit 1
}
ns() { ip netns exec "$netns" "$@"; }
vsh() { ns virsh -q -c qemu:///system "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

tmp=$(mktemp -d /tmp/lago-smoke.XXXXXX)
cleanup() {
	local rc=$?
	set +e
	if vsh domstate "$dom_name" >/dev/null 2>&1; then
		vsh destroy "$dom_name" >/dev/null 2>&1
	fi
	if vsh net-info "$net_name" >/dev/null 2>&1; then
		vsh net-destroy "$net_name" >/dev/null 2>&1
	fi
	if ((rc != 0)); then
		for f in "$tmp"/console-*.log; do
			[[ -f "$f" ]] || continue
			say "--- last lines of $(basename "$f") ---"
			tail -n 40 "$f" | tr -d '\r'
		done
	fi
	if [[ "${LAGO_SMOKE_KEEP:-0}" == 1 ]]; then
		say "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	if ((rc == 0)); then say "PASS"; else say "FAILED (exit $rc)"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$here/host-setup.sh"

# --- image -----------------------------------------------------------------------
cache_args=()
[[ "${LAGO_SMOKE_COLD:-0}" == 1 ]] && cache_args=("$tmp/images")
t=$(now)
base=$("$here/build-guest-image.sh" "${cache_args[@]}")
say "image: $base ($(elapsed "$t") s, $(du -h --apparent-size "$base" | cut -f1))"
[[ "$(sha256sum "$base" | cut -d' ' -f1)" == "$(cat "$base.sha256")" ]] || fail "sha256 mismatch"

# --- network, disks, seed -----------------------------------------------------------
cat >"$tmp/net.xml" <<EOF
<network>
  <name>$net_name</name>
  <forward mode='nat'/>
  <bridge name='$bridge' stp='off' delay='0'/>
  <ip address='$subnet.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='$subnet.100' end='$subnet.200'/>
      <host mac='$guest_mac' name='$guest_name' ip='$guest_ip'/>
    </dhcp>
  </ip>
</network>
EOF
vsh net-create "$tmp/net.xml" >/dev/null
say "network $net_name ($subnet.0/24, bridge $bridge) created"

qemu-img create -q -f qcow2 -F qcow2 -b "$base" "$tmp/root.qcow2"
ssh-keygen -q -t ed25519 -N '' -C "smoke@lago" -f "$tmp/id_ed25519"
mkdir "$tmp/seed"
printf 'instance-id: smoke-%s\nlocal-hostname: %s\n' "$id" "$guest_name" >"$tmp/seed/meta-data"
# The key is folded over three lines on purpose, as YAML writers do.
read -r key_type key_blob key_comment <"$tmp/id_ed25519.pub"
printf '#cloud-config\nssh_authorized_keys:\n  - %s\n    %s\n    %s\n' \
	"$key_type" "$key_blob" "$key_comment" >"$tmp/seed/user-data"
genisoimage -quiet -o "$tmp/seed.iso" -V cidata -J -r "$tmp/seed/meta-data" "$tmp/seed/user-data"

domain_xml() {
	cat <<EOF
<domain type='qemu'>
  <name>$dom_name</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$tmp/root.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$tmp/seed.iso'/>
      <target dev='vdb' bus='virtio'/>
      <readonly/>
    </disk>
    <interface type='network'>
      <source network='$net_name'/>
      <mac address='$guest_mac'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='$tmp/console-$1.log'/>
      <target port='0'/>
    </serial>
    <rng model='virtio'>
      <backend model='random'>/dev/urandom</backend>
    </rng>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

ssh_opts=(-i "$tmp/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=no
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=3)
gssh() { ns ssh "${ssh_opts[@]}" "root@$guest_ip" "$@"; }

# Waits up to $1 s until SSH runs a command; prints the seconds it took since $2.
wait_ssh() {
	local deadline=$(($(date +%s) + $1))
	while (($(date +%s) < deadline)); do
		if ns timeout 0.3 bash -c "exec 3<>/dev/tcp/$guest_ip/22" 2>/dev/null &&
			gssh true 2>/dev/null; then
			elapsed "$2"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

boot() {
	domain_xml "$1" >"$tmp/domain-$1.xml"
	t=$(now)
	vsh create "$tmp/domain-$1.xml" >/dev/null
	say "boot $1: domain created in $(elapsed "$t") s"
	secs=$(wait_ssh 120 "$t") || fail "boot $1: no SSH within 120 s"
	say "boot $1: boot-to-SSH $secs s"
}

# Asks for an ACPI shutdown and waits for the transient domain to go away.
shutdown_guest() {
	local t i
	t=$(now)
	vsh shutdown "$dom_name" >/dev/null
	for i in $(seq 200); do
		vsh domstate "$dom_name" >/dev/null 2>&1 || {
			say "virsh shutdown: domain gone after $(elapsed "$t") s"
			return 0
		}
		sleep 0.1
	done
	fail "domain still there 20 s after virsh shutdown"
}

# --- first boot ------------------------------------------------------------------------
boot 1
name=$(gssh hostname)
[[ "$name" == "$guest_name" ]] || fail "hostname is '$name', expected '$guest_name'"
say "hostname: $name"
say "boot.log: $(gssh cat /var/log/boot.log | tr '\n' '|')"
gssh 'test -s /var/log/messages' || fail "/var/log/messages is empty"
gssh 'echo persisted >/root/marker'

# SFTP, both with sftp(1) and scp -s.
head -c 300000 /dev/urandom >"$tmp/blob"
printf 'put %s /tmp/blob\nget /tmp/blob %s\n' "$tmp/blob" "$tmp/blob.sftp" >"$tmp/sftp.batch"
ns sftp "${ssh_opts[@]}" -b "$tmp/sftp.batch" "root@$guest_ip" >/dev/null
cmp -s "$tmp/blob" "$tmp/blob.sftp" || fail "sftp round trip differs"
ns scp -s "${ssh_opts[@]}" "root@$guest_ip:/tmp/blob" "$tmp/blob.scp"
cmp -s "$tmp/blob" "$tmp/blob.scp" || fail "scp -s round trip differs"
say "sftp and scp -s: ok"

shutdown_guest

# --- second boot of the same overlay: persistence, clean shutdown, reboot -------------------
boot 2
[[ "$(gssh cat /root/marker)" == persisted ]] || fail "/root/marker did not persist"
boots=$(gssh "grep -c ' boot ' /var/log/boot.log")
[[ "$boots" == 2 ]] || fail "boot.log has $boots boot lines, expected 2"
if gssh 'dmesg | grep -q "recovery complete"'; then
	fail "root filesystem needed journal recovery: the previous shutdown was not clean"
fi
say "persistence and clean shutdown: ok"
# A DHCP renewal (as after half the lease time) keeps the address and this session.
gssh 'kill -USR1 "$(cat /run/udhcpc.eth0.pid)"; sleep 1; ip -4 addr show dev eth0' | grep -q "inet $guest_ip/" ||
	fail "address lost on DHCP renewal"
say "DHCP renewal: ok"

t=$(now)
gssh reboot || true
# Wait for sshd to go down before waiting for it to come back.
for i in $(seq 100); do
	ns timeout 1 bash -c "exec 3<>/dev/tcp/$guest_ip/22" 2>/dev/null || break
	sleep 0.1
done
secs=$(wait_ssh 120 "$t") || fail "no SSH within 120 s after reboot"
boots=$(gssh "grep -c ' boot ' /var/log/boot.log")
[[ "$boots" == 3 ]] || fail "boot.log has $boots boot lines after reboot, expected 3"
say "reboot: SSH back after $secs s"

shutdown_guest
vsh net-destroy "$net_name" >/dev/null
