import {readFile} from 'node:fs/promises'
import type {CheckOutcome, HostCheck} from '../check.js'

const MODULES = [
  {module: 'kvm_intel', option: 'kvm-intel'},
  {module: 'kvm_amd', option: 'kvm-amd'},
] as const

/** Nested virtualization lets Lago's VMs run KVM guests themselves (oVirt hosts do). */
export const nestedCheck: HostCheck = {
  id: 'nested-virtualization',
  title: 'nested virtualization',
  async run() {
    for (const {module, option} of MODULES) {
      const value = await readFile(`/sys/module/${module}/parameters/nested`, 'utf8').catch(() => undefined)
      if (value !== undefined) return nestedOutcome(module, option, value)
    }
    return {
      status: 'warn',
      message: 'no KVM module loaded (kvm_intel or kvm_amd), so VMs cannot run VMs of their own',
      fix: 'load the KVM module first (see the KVM line); needed only for nested guests such as oVirt hosts',
    }
  },
}

export function nestedOutcome(module: string, option: string, value: string): CheckOutcome {
  if (/^(Y|1)$/i.test(value.trim())) return {status: 'ok', message: `enabled (${module} nested=${value.trim()})`}
  return {
    status: 'warn',
    message: `disabled (${module} nested=${value.trim()}): VMs cannot run VMs of their own (oVirt hosts need it)`,
    fix: `echo "options ${option} nested=1" > /etc/modprobe.d/${option}.conf && modprobe -r ${module} && modprobe ${module}`,
  }
}
