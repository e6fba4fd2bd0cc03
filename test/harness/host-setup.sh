#!/usr/bin/env bash
# Prepares this host for VM tests (idempotent, fast when already done):
# apt packages, qemu.conf, the network namespace, and virtlogd + libvirtd
# running inside that namespace (no systemd here).
#
# Env: LAGO_TEST_NETNS  namespace name (default lago-test)
#      LAGO_TEST_SKIP_APT=1  do not check/install apt packages
set -euo pipefail

netns=${LAGO_TEST_NETNS:-lago-test}
APT_PACKAGES=(
	qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients dnsmasq-base
	genisoimage iproute2 iptables openssh-client e2fsprogs tmux
	# stand-in remote hypervisors (remote-host.sh)
	openssh-server
	# the KVM probe guest is checked against its source (packages/core/probe)
	nasm
	# collect from stopped VMs: guestfish, and a kernel for its appliance (supermin)
	libguestfs-tools linux-image-cloud-amd64
	# the oVirt plugin: reposync, internal repo, RPM builds, Python scenarios
	dnf dnf-plugins-core createrepo-c rpm python3-pytest
)
QEMU_CONF=/etc/libvirt/qemu.conf
LIBVIRTD_PIDFILE=/run/libvirtd.pid
VIRTLOGD_PIDFILE=/run/virtlogd.pid
LOG_DIR=/var/log/libvirt

step() { printf 'host-setup: %s\n' "$*"; }
die() {
	printf 'host-setup: error: %s\n' "$*" >&2
	exit 1
}
[[ $(id -u) -eq 0 ]] || die "must run as root"

# --- apt ---------------------------------------------------------------------
if [[ "${LAGO_TEST_SKIP_APT:-0}" != 1 ]]; then
	missing=()
	for pkg in "${APT_PACKAGES[@]}"; do
		status=$(dpkg-query -W -f '${db:Status-Status}' "$pkg" 2>/dev/null || true)
		[[ "$status" == installed ]] || missing+=("$pkg")
	done
	if ((${#missing[@]})); then
		# Another apt may still be running (e.g. a provisioning step): wait for it.
		for _ in $(seq 600); do
			pgrep -x apt-get >/dev/null || pgrep -x apt >/dev/null || pgrep -x dpkg >/dev/null || break
			sleep 1
		done
		step "apt: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	else
		step "apt: all packages present"
	fi
fi

# --- qemu.conf -----------------------------------------------------------------
# Without user/group root, libvirt re-probes qemu on every start (68 s vs 0.3 s).
conf_changed=0
for key in user group; do
	if ! grep -qE "^[[:space:]]*$key[[:space:]]*=[[:space:]]*\"root\"[[:space:]]*$" "$QEMU_CONF"; then
		sed -i -E "/^[[:space:]]*$key[[:space:]]*=/d" "$QEMU_CONF"
		printf '%s = "root"\n' "$key" >>"$QEMU_CONF"
		conf_changed=1
	fi
done
if ((conf_changed)); then
	step "qemu.conf: set user/group = root"
else
	step "qemu.conf: user/group already root"
fi

# --- network namespace -----------------------------------------------------------
if ip netns list | grep -qE "^$netns( |$)"; then
	step "netns $netns: exists"
else
	ip netns add "$netns"
	step "netns $netns: created"
fi
ip netns exec "$netns" ip link set lo up

# --- daemons ---------------------------------------------------------------------
# shellcheck source=daemons.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemons.sh"
in_netns() { [[ "$(ip netns identify "$1" 2>/dev/null)" == "$netns" ]]; }

mkdir -p "$LOG_DIR"
# virtlogd does no networking: one running in any namespace will do.
if pid=$(live_pid "$VIRTLOGD_PIDFILE" virtlogd); then
	step "virtlogd: running (pid $pid)"
else
	rm -f "$VIRTLOGD_PIDFILE"
	ip netns exec "$netns" virtlogd -d
	step "virtlogd: started"
fi

restart=0
if pid=$(live_pid "$LIBVIRTD_PIDFILE" libvirtd); then
	if ! in_netns "$pid"; then
		# It shares /run/libvirt with the one we need, so both cannot run; a daemon
		# in another namespace would put guest networks outside the sandbox.
		if [[ -d /run/systemd/system ]]; then
			die "libvirtd (pid $pid) runs outside netns $netns under systemd; stop it first (systemctl stop libvirtd)"
		fi
		step "libvirtd: pid $pid runs outside netns $netns, stopping it"
		stop_pid "$pid"
		restart=1
	elif ((conf_changed)); then
		step "libvirtd: restarting for the qemu.conf change"
		stop_pid "$pid"
		restart=1
	else
		step "libvirtd: running in $netns (pid $pid)"
	fi
else
	restart=1
fi
if ((restart)); then
	rm -f "$LIBVIRTD_PIDFILE"
	LIBVIRT_LOG_OUTPUTS="3:file:$LOG_DIR/libvirtd.log" ip netns exec "$netns" libvirtd -d
	step "libvirtd: started in $netns"
fi

for i in $(seq 300); do
	if ip netns exec "$netns" virsh -c qemu:///system version >/dev/null 2>&1; then
		step "libvirt: ready ($(ip netns exec "$netns" virsh -c qemu:///system version 2>/dev/null |
			sed -n 's/^Running hypervisor: //p'))"
		exit 0
	fi
	sleep 0.2
done
die "libvirtd does not answer (see $LOG_DIR/libvirtd.log)"
