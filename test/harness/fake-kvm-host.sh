#!/usr/bin/env bash
# A stand-in for hosts whose KVM lies, for tests. libvirt runs it as the domains' <emulator>
# (Lago's [libvirt] emulator setting, LAGO__LIBVIRT__EMULATOR) through a one-line wrapper that
# fixes the mode, since libvirtd, not the test, starts it:
#   #!/bin/sh
#   exec /path/to/fake-kvm-host.sh MODE "$@"
# Everything but a KVM guest (libvirt's capability probes, TCG guests) runs the real qemu
# unchanged. A KVM guest (a domain started with -accel kvm):
#   msr-abort     prints qemu's MSR error and aborts at once, as qemu does with -cpu host on
#                 nested hosts whose KVM cannot set IA32_ARCH_CAPABILITIES
#   die-after:N   runs under TCG, then N seconds in prints qemu's "KVM internal error" report
#                 and dies (on such hosts a real guest dies in its boot loader)
#   works         runs under TCG as if KVM worked (a host where KVM is fine)
# Env: FAKE_KVM_QEMU, the real emulator (default /usr/bin/qemu-system-x86_64).
set -euo pipefail
mode=$1
shift
qemu=${FAKE_KVM_QEMU:-/usr/bin/qemu-system-x86_64}

kvm_guest=0
args=()
while (($#)); do
	case $1 in
	-accel)
		if [[ ${2:-} == kvm* ]]; then
			kvm_guest=1
			args+=(-accel tcg)
		else
			args+=("$1" "$2")
		fi
		shift 2
		;;
	-cpu)
		# TCG has no "host" CPU: "max" is its closest.
		if [[ ${2:-} == host* ]]; then args+=(-cpu max); else args+=("$1" "$2"); fi
		shift 2
		;;
	*)
		args+=("$1")
		shift
		;;
	esac
done
if ((!kvm_guest)); then exec "$qemu" "${args[@]}"; fi

stamp() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }
case $mode in
msr-abort)
	echo "$(stamp) qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
	echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion \`ret == cpu->kvm_msr_buf->nmsrs' failed." >&2
	kill -ABRT $$
	;;
die-after:*)
	seconds=${mode#die-after:}
	qemu_pid=$$
	(
		sleep "$seconds"
		if kill -0 "$qemu_pid" 2>/dev/null; then
			printf 'KVM internal error. Suberror: 1\nextra data[0]: 0x0000000000000001\nemulation failure\n' >&2
			kill -KILL "$qemu_pid"
		fi
	) </dev/null >/dev/null &
	exec "$qemu" "${args[@]}"
	;;
works)
	exec "$qemu" "${args[@]}"
	;;
*)
	echo "fake-kvm-host.sh: unknown mode $mode (msr-abort, die-after:N, works)" >&2
	exit 2
	;;
esac
