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

# True while process $1 exists and is not a zombie (waiting to be reaped).
alive() { [[ -r "/proc/$1/status" ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
live_pid() {
	local pid
	[[ -s "$1" ]] || return 1
	pid=$(tr -dc '0-9' <"$1")
	[[ -n "$pid" && -r "/proc/$pid/comm" && "$(cat "/proc/$pid/comm")" == "$2" ]] || return 1
	alive "$pid" || return 1
	printf '%s\n' "$pid"
}
stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 100); do
		alive "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

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
