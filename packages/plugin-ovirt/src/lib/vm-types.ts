import {registerVmType, type VmType} from '@lago/core'

/** `vm-type: ovirt-engine`: the engine VM (its logs, the ovirt-engine service). */
export const OVIRT_ENGINE: VmType = {
  name: 'ovirt-engine',
  description: 'oVirt engine',
  artifacts: ['/var/log/ovirt-engine'],
  services: ['ovirt-engine'],
}

/** `vm-type: ovirt-host`: a hypervisor host (vdsm's logs, vdsmd). */
export const OVIRT_HOST: VmType = {
  name: 'ovirt-host',
  description: 'oVirt host (vdsm)',
  artifacts: ['/var/log/vdsm'],
  services: ['vdsmd'],
}

export const OVIRT_VM_TYPES = [OVIRT_ENGINE, OVIRT_HOST]

/** Called from the plugin's init hook (SDK users may call it). Registering twice is harmless. */
export function registerOvirtVmTypes(): void {
  for (const type of OVIRT_VM_TYPES) registerVmType(type)
}
