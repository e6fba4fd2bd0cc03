import path from 'node:path'
import type {Prefix} from '../prefix/prefix.js'
import type {VmState} from '../prefix/state.js'
import {TemplateStore} from '../templates/store.js'

/** The repository metadata (distro, root-password, ...) of the VM's first template disk, if any. */
export async function templateMetadata(vm: VmState): Promise<Record<string, unknown>> {
  const template = vm.disks.find((d) => d.template)?.template
  if (!template) return {}
  const stored = await new TemplateStore(path.dirname(template.storePath)).get(path.basename(template.storePath))
  return stored?.metadata ?? {}
}

/** The VM's distro: its init-file metadata `distro`, else its template's (as the original read it). */
export function distroOf(vm: VmState, template: Record<string, unknown>): string | undefined {
  for (const distro of [vm.metadata.distro, template.distro]) if (typeof distro === 'string' && distro) return distro
  return undefined
}

/**
 * A VM with the original Lago's keys (its init-file spelling: `vm-type`, `vm-provider`,
 * `disks/N/metadata`, ...), which `ansible_hosts --keys` and `status` address.
 */
export async function originalVmView(prefix: Prefix, vm: VmState): Promise<Record<string, unknown>> {
  const metadata = await templateMetadata(vm)
  return {
    name: vm.name,
    memory: vm.memory,
    vcpu: vm.vcpu,
    'vm-type': vm.vmType,
    'vm-provider': 'local-libvirt',
    groups: vm.groups,
    metadata: vm.metadata,
    artifacts: vm.artifacts,
    'ssh-user': vm.sshUser,
    distro: distroOf(vm, metadata),
    'root-password': vm.sshPassword ?? metadata['root-password'],
    nics: vm.nics.map((n) => ({net: n.net, ip: n.ip})),
    disks: vm.disks.map((d) => ({
      name: d.name,
      dev: d.dev,
      format: d.format,
      path: prefix.paths.resolve(d.path),
      type: d.template ? 'template' : 'file',
      ...(d.template ? {template_name: d.template.id.split(':')[1], template_version: d.template.id.split(':')[2], metadata} : {}),
    })),
  }
}

/** `vm-type`, `groups`, or a `/`-path like `/disks/0/metadata/distro` (numbers index lists). */
export function valueAtKey(view: unknown, key: string): unknown {
  let value = view
  for (const part of key.split('/').filter((p) => p !== '')) {
    if (value === null || typeof value !== 'object') return undefined
    value = Array.isArray(value) ? value[Number(part)] : (value as Record<string, unknown>)[part]
  }
  return value
}
