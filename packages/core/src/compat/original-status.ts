import type {Prefix, PrefixStatus} from '../prefix/prefix.js'
import {distroOf, templateMetadata} from './original-view.js'

/**
 * `lago status` with the original's keys (`Prefix` → `Base directory`, `UUID`, `Networks`,
 * `VMs` → `distro`, `root password`, `status`, `snapshots`, `metadata`, `NICs` → `ethN`), which
 * scripts read through `-f json|yaml|flat`. New keys are added beside them, never renamed.
 */
export async function originalStatus(prefix: Prefix, status: PrefixStatus): Promise<Record<string, unknown>> {
  const vms: Record<string, unknown> = {}
  for (const vm of status.vms) {
    const state = prefix.vm(vm.name)
    const template = await templateMetadata(state)
    vms[vm.name] = {
      distro: distroOf(state, template) ?? '',
      'root password': state.sshPassword ?? template['root-password'] ?? '',
      status: vm.state,
      snapshots: vm.snapshots.join(', '),
      metadata: state.metadata,
      NICs: Object.fromEntries(vm.nics.map((nic, i) => [`eth${i}`, {ip: nic.ip, network: nic.net, mac: nic.mac}])),
      ip: vm.ip ?? '',
      memory: vm.memory,
      vcpu: vm.vcpu,
    }
  }
  const nets = Object.fromEntries(status.nets.map((n) => [n.name, {gateway: n.gateway, management: n.management, status: n.active ? 'up' : 'down', subnet: n.subnet, type: n.type}]))
  return {Prefix: {'Base directory': status.prefix, UUID: status.uuid, Networks: nets, VMs: vms}}
}
