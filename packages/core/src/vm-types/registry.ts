import {globalRegistry} from '../util/global-registry.js'

/**
 * VM types: what `vm-type: NAME` in an init file means beyond the plain VM. Plugins
 * register them (the oVirt plugin: `ovirt-engine`, `ovirt-host`); core never imports a
 * plugin. Kept on globalThis so a plugin that loads a second copy of @lago/core still
 * registers into the one the CLI reads (as the host checks do).
 */
export interface VmType {
  /** The value of `vm-type` in the init file. */
  name: string
  description?: string
  /** Guest paths collected when the init file names no `artifacts` for the VM. */
  artifacts?: string[]
  /** Services that must be running on the guest before the environment counts as up. */
  services?: string[]
}

/** The type every VM without `vm-type` has. */
export const DEFAULT_VM_TYPE: VmType = {name: 'default', description: 'a plain VM', artifacts: [], services: []}

const vmTypes = globalRegistry<VmType>('lago.vmTypes', (type) => type.name, [DEFAULT_VM_TYPE])

/** Add a VM type; registering the same name again replaces it (so twice is harmless). */
export const registerVmType = (type: VmType): void => vmTypes.add(type)
export const registeredVmTypes = (): VmType[] => vmTypes.all()
/** The registered type of that name, or undefined when no loaded plugin provides it. */
export const findVmType = (name: string): VmType | undefined => vmTypes.find(name)

/** The paths to collect from a VM: its own `artifacts`, else its type's defaults. */
export function vmArtifacts(vm: {vmType: string; artifacts: string[]}): string[] {
  return vm.artifacts.length > 0 ? vm.artifacts : (findVmType(vm.vmType)?.artifacts ?? [])
}

/** The services to wait for on a VM, from its type. */
export function vmServices(vm: {vmType: string}): string[] {
  return findVmType(vm.vmType)?.services ?? []
}
