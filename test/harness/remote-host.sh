#!/usr/bin/env bash
# A stand-in remote hypervisor on this machine (root; idempotent):
#
#   remote-host.sh up N      start stand-in host N (1..9)
#   remote-host.sh down N    stop it and delete everything it had
#   remote-host.sh env N     print HOST=, URI=, KEY=, DISKS= lines for scripts
#
# Host N is a network namespace lago-remote-N joined to the test namespace
# (lago-test) by a veth pair on 10.249.N.0/30 (client 10.249.N.1, host 10.249.N.2).
# Inside it, in a PRIVATE mount namespace, run its own virtlogd + libvirtd (own
# /run/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt, /etc/libvirt)
# and an sshd on 10.249.N.2:22 that lets root in with the harness key. The disk
# directory /var/lib/libvirt/lago-remote exists only in that mount namespace, and the
# guest subnets of that libvirtd live only in that network namespace: a client
# in lago-test can reach them only through SSH to the host.
#
# Env: LAGO_TEST_NETNS       client namespace (default lago-test)
#      LAGO_TEST_REMOTE_ROOT state (default /var/lib/lago-test-remote)
set -euo pipefail

cmd=${1:-}
n=${2:-}
[[ "$cmd" =~ ^(up|down|env)$ && "$n" =~ ^[1-9]$ ]] || {
	echo "usage: $0 up|down|env N   (N = 1..9)" >&2
	exit 2
}
[[ $(id -u) -eq 0 ]] || {
	echo "remote-host: must run as root" >&2
	exit 1
}

# `ip netns exec` gives its command a mount namespace of its own (a slave of the machine's):
# a namespace named from in there stays invisible to everything else. Work in the namespaces
# of the closest ancestor outside it (the test runner that started `ip netns exec`).
if [[ -z "${LAGO_REMOTE_HOST_OUTSIDE:-}" ]]; then
	own_mnt=$(readlink /proc/$$/ns/mnt)
	pid=$$
	while pid=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status" 2>/dev/null) && [[ "$pid" -gt 1 ]]; do
		mnt=$(readlink "/proc/$pid/ns/mnt" 2>/dev/null) || break
		if [[ "$mnt" != "$own_mnt" ]]; then
			LAGO_REMOTE_HOST_OUTSIDE=1 exec nsenter -t "$pid" -m -n -- "$BASH" "$(realpath "$0")" "$@"
		fi
	done
fi

client_netns=${LAGO_TEST_NETNS:-lago-test}
root=${LAGO_TEST_REMOTE_ROOT:-/var/lib/lago-test-remote}
netns=lago-remote-$n
state=$root/host-$n
key=$root/id_ed25519
client_addr=10.249.$n.1
host_addr=10.249.$n.2
veth_client=lr$n-c
veth_host=lr$n-r
# Inside the bind-mounted /var/lib/libvirt: it exists only in the host's mount namespace.
disk_dir=/var/lib/libvirt/lago-remote

step() { printf 'remote-host %s: %s\n' "$n" "$*"; }
# shellcheck source=daemons.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemons.sh"

if [[ "$cmd" == env ]]; then
	printf 'HOST=%s\nURI=qemu+ssh://root@%s/system?keyfile=%s&no_verify=1\nKEY=%s\nDISKS=%s\nNETNS=%s\n' \
		"$host_addr" "$host_addr" "$key" "$key" "$disk_dir" "$netns"
	exit 0
fi

# Runs a command in host N's network and mount namespaces (those of its libvirtd).
in_host() {
	local pid
	pid=$(live_pid "$state/pids/libvirtd.pid" libvirtd) || return 1
	nsenter -t "$pid" -m -n -- "$@"
}

down() {
	local pid
	if pid=$(live_pid "$state/pids/sshd.pid" sshd); then stop_pid "$pid"; fi
	if live_pid "$state/pids/libvirtd.pid" libvirtd >/dev/null; then
		for dom in $(in_host virsh -q -c qemu:///system list --all --name 2>/dev/null); do
			in_host virsh -q -c qemu:///system destroy "$dom" >/dev/null 2>&1 || true
			in_host virsh -q -c qemu:///system undefine --nvram "$dom" >/dev/null 2>&1 ||
				in_host virsh -q -c qemu:///system undefine "$dom" >/dev/null 2>&1 || true
		done
		for net in $(in_host virsh -q -c qemu:///system net-list --all --name 2>/dev/null); do
			in_host virsh -q -c qemu:///system net-destroy "$net" >/dev/null 2>&1 || true
			in_host virsh -q -c qemu:///system net-undefine "$net" >/dev/null 2>&1 || true
		done
		stop_pid "$(live_pid "$state/pids/libvirtd.pid" libvirtd)"
	fi
	if pid=$(live_pid "$state/pids/virtlogd.pid" virtlogd); then stop_pid "$pid"; fi
	# Anything still running in the namespace (qemu, dnsmasq) belongs to this host.
	if ip netns list | grep -qE "^$netns( |$)"; then
		for pid in $(ip netns pids "$netns" 2>/dev/null); do stop_pid "$pid"; done
		ip netns del "$netns"
	fi
	ip netns exec "$client_netns" ip link del "$veth_client" 2>/dev/null || true
	rm -rf "$state"
	step "down"
}

if [[ "$cmd" == down ]]; then
	down
	exit 0
fi

# --- up ------------------------------------------------------------------------
command -v sshd >/dev/null || {
	echo "remote-host: sshd missing (apt-get install openssh-server; host-setup.sh does)" >&2
	exit 1
}
ip netns list | grep -qE "^$client_netns( |$)" || {
	echo "remote-host: netns $client_netns missing (run host-setup.sh)" >&2
	exit 1
}
if live_pid "$state/pids/sshd.pid" sshd >/dev/null && live_pid "$state/pids/libvirtd.pid" libvirtd >/dev/null; then
	step "up already ($host_addr)"
	exit 0
fi
# A half-started host: start over.
[[ -d "$state" ]] && down >/dev/null

mkdir -p "$root"
[[ -s "$key" ]] || ssh-keygen -q -t ed25519 -N '' -C lago-test-remote -f "$key"

ip netns add "$netns"
ip netns exec "$netns" ip link set lo up
ip link add "$veth_client" type veth peer name "$veth_host"
ip link set "$veth_client" netns "$client_netns"
ip link set "$veth_host" netns "$netns"
ip netns exec "$client_netns" ip addr add "$client_addr/30" dev "$veth_client"
ip netns exec "$client_netns" ip link set "$veth_client" up
ip netns exec "$netns" ip addr add "$host_addr/30" dev "$veth_host"
ip netns exec "$netns" ip link set "$veth_host" up

mkdir -p "$state"/{run,lib,cache,log,etc,pids,ssh}
# Configuration only: no persistent networks or domains of the real host.
cp -a /etc/libvirt/. "$state/etc/"
find "$state/etc/qemu" -name '*.xml' -delete
rm -rf "$state/etc/qemu/networks/autostart" "$state/etc/qemu/autostart"
# The qemu capability cache of this machine is valid there too (same binaries).
[[ -d /var/cache/libvirt/qemu ]] && cp -a /var/cache/libvirt/qemu "$state/cache/"
mkdir -p "$state/lib"/{qemu,dnsmasq,images,boot,lago-remote}

ssh-keygen -q -t ed25519 -N '' -f "$state/ssh/host_key"
cp "$key.pub" "$state/ssh/authorized_keys"
cat >"$state/ssh/sshd_config" <<EOF
ListenAddress $host_addr
Port 22
HostKey $state/ssh/host_key
AuthorizedKeysFile $state/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
PidFile $state/pids/sshd.pid
Subsystem sftp internal-sftp
MaxStartups 100:30:200
MaxSessions 100
EOF
mkdir -p /run/sshd

# The private mount namespace: bind the host's own directories, start the
# daemons in it; they keep the namespace alive.
ip netns exec "$netns" unshare --mount --propagation private -- bash -euo pipefail -c '
	state=$1
	mount --bind "$state/run" /run/libvirt
	mount --bind "$state/lib" /var/lib/libvirt
	mount --bind "$state/cache" /var/cache/libvirt
	mount --bind "$state/log" /var/log/libvirt
	mount --bind "$state/etc" /etc/libvirt
	virtlogd -d -p "$state/pids/virtlogd.pid"
	LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" libvirtd -d -p "$state/pids/libvirtd.pid"
	/usr/sbin/sshd -f "$state/ssh/sshd_config" -E "$state/log/sshd.log"
' remote-host "$state"

for _ in $(seq 300); do
	if in_host virsh -c qemu:///system version >/dev/null 2>&1; then
		step "up: root@$host_addr (libvirt in $netns, disks in $disk_dir there, key $key)"
		exit 0
	fi
	sleep 0.2
done
echo "remote-host: libvirtd $n does not answer (see $state/log/libvirtd.log)" >&2
exit 1
