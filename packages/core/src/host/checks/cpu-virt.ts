import {readFile} from 'node:fs/promises'
import type {CheckOutcome, HostCheck} from '../check.js'

/** VT-x / AMD-V flags in /proc/cpuinfo: without them there is no KVM at all. */
export const cpuVirtCheck: HostCheck = {
  id: 'cpu-virtualization',
  title: 'CPU virtualization',
  async run() {
    return cpuVirtOutcome(await readFile('/proc/cpuinfo', 'utf8').catch(() => ''))
  },
}

export function cpuVirtOutcome(cpuinfo: string): CheckOutcome {
  const flags = new Set((/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? '').trim().split(/\s+/))
  if (flags.has('vmx')) return {status: 'ok', message: 'Intel VT-x (vmx) present'}
  if (flags.has('svm')) return {status: 'ok', message: 'AMD-V (svm) present'}
  const inVm = flags.has('hypervisor')
  return {
    status: 'warn',
    message: `no vmx/svm flag in /proc/cpuinfo${inVm ? ' (this host is itself a VM without nested virtualization)' : ''}: no KVM, guests run under TCG`,
    fix: inVm
      ? 'on the machine that runs this VM, enable nested virtualization and give this VM the host CPU (libvirt: <cpu mode="host-passthrough"/>)'
      : 'enable Intel VT-x / AMD-V in the firmware (BIOS/UEFI) setup; "dmesg | grep kvm" shows "kvm: disabled by BIOS" when it is off',
  }
}
