#!/usr/bin/env bash
# Undoes host-setup.sh (for manual use): destroys the domains and networks
# still running, stops libvirtd and virtlogd when they run in the test
# namespace, deletes the namespace. Leaves apt packages, qemu.conf and caches.
#
# Env: LAGO_TEST_NETNS  namespace name (default lago-test)
set -euo pipefail

netns=${LAGO_TEST_NETNS:-lago-test}

step() { printf 'host-teardown: %s\n' "$*"; }
[[ $(id -u) -eq 0 ]] || {
	echo "host-teardown: must run as root" >&2
	exit 1
}

# shellcheck source=daemons.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemons.sh"

if ! ip netns list | grep -qE "^$netns( |$)"; then
	step "netns $netns: absent, nothing to do"
	exit 0
fi

if pid=$(live_pid /run/libvirtd.pid libvirtd) && [[ "$(ip netns identify "$pid" 2>/dev/null)" == "$netns" ]]; then
	virsh=(ip netns exec "$netns" virsh -q -c qemu:///system)
	while read -r dom; do
		[[ -n "$dom" ]] || continue
		"${virsh[@]}" destroy "$dom" >/dev/null 2>&1 && step "domain $dom destroyed"
	done < <("${virsh[@]}" list --name 2>/dev/null)
	while read -r net; do
		[[ -n "$net" ]] || continue
		"${virsh[@]}" net-destroy "$net" >/dev/null 2>&1 && step "network $net destroyed"
	done < <("${virsh[@]}" net-list --name 2>/dev/null)
	stop_pid "$pid"
	step "libvirtd (pid $pid) stopped"
fi
if pid=$(live_pid /run/virtlogd.pid virtlogd) && [[ "$(ip netns identify "$pid" 2>/dev/null)" == "$netns" ]]; then
	stop_pid "$pid"
	step "virtlogd (pid $pid) stopped"
fi

# Whatever is left in the namespace (qemu or dnsmasq of another libvirtd).
while read -r pid; do
	[[ -n "$pid" ]] || continue
	step "killing leftover pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null || echo '?'))"
	stop_pid "$pid"
done < <(ip netns pids "$netns")
ip netns delete "$netns"
step "netns $netns deleted"
