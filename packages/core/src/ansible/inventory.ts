import {LagoError} from '../errors.js'
import type {Prefix} from '../prefix/prefix.js'
import {originalVmView, valueAtKey} from '../compat/original-view.js'

/**
 * Guest addresses are reused by every new environment, and guests make new host keys on first
 * boot: a known_hosts entry would only ever turn into a "host key changed" failure.
 */
export const ANSIBLE_SSH_ARGS = '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'

/** What an inventory name (host or group) may hold: it is written into INI as is. */
const INVENTORY_NAME = /^[A-Za-z0-9_.-]+$/

export interface AnsibleHostVars {
  ansible_host: string
  /** Session mode: the port forwarded on 127.0.0.1 to the guest's SSH. */
  ansible_port?: string
  ansible_user: string
  ansible_ssh_private_key_file: string
  ansible_ssh_common_args: string
}

/** Ansible's YAML inventory structure (also valid as JSON): every VM under all.hosts, groups as children. */
export interface AnsibleInventory {
  all: {
    hosts: Record<string, AnsibleHostVars>
    children: Record<string, {hosts: Record<string, null>}>
  }
}

/**
 * The prefix's VMs as an Ansible inventory: each VM reached at its management address with
 * the prefix key; each name in a VM's `groups` becomes a group.
 */
export function ansibleInventory(
  prefix: Prefix,
  keyGroups: Record<string, string[]> = {},
  /** Forwarded SSH addresses of session mode, by VM name. */
  forwarded: Map<string, {host: string; port: number}> = new Map(),
): {inventory: AnsibleInventory; ini: string} {
  const inventory: AnsibleInventory = {all: {hosts: {}, children: {}}}
  for (const vm of prefix.state.vms) {
    const forward = forwarded.get(vm.name)
    inventory.all.hosts[vm.name] = {
      ansible_host: forward?.host ?? prefix.managementIp(vm),
      ...(forward ? {ansible_port: String(forward.port)} : {}),
      ansible_user: vm.sshUser,
      ansible_ssh_private_key_file: prefix.paths.privateKey,
      ansible_ssh_common_args: ANSIBLE_SSH_ARGS,
    }
    for (const name of [vm.name, ...vm.groups]) {
      if (!INVENTORY_NAME.test(name)) {
        throw new LagoError('PREFIX', `VM ${JSON.stringify(vm.name)} of ${prefix.paths.state}: ${JSON.stringify(name)} is not a valid inventory name (letters, digits, ".", "_", "-").`)
      }
    }
    for (const group of vm.groups) (inventory.all.children[group] ??= {hosts: {}}).hosts[vm.name] = null
  }
  for (const [group, vms] of Object.entries(keyGroups)) for (const vm of vms) (inventory.all.children[group] ??= {hosts: {}}).hosts[vm] = null
  return {inventory, ini: toIni(inventory)}
}

/** The VMs whose SSH is forwarded (session mode), for `ansibleInventory`. */
export async function forwardedAddresses(prefix: Prefix): Promise<Map<string, {host: string; port: number}>> {
  const addresses = new Map<string, {host: string; port: number}>()
  for (const vm of prefix.state.vms) {
    const address = await prefix.guestAddress(vm)
    if (address.forwarded && address.port) addresses.set(vm.name, address)
  }
  return addresses
}

function toIni(inventory: AnsibleInventory): string {
  const hostLines = Object.entries(inventory.all.hosts).map(([name, vars]) => [name, ...Object.entries(vars).map(([k, v]) => `${k}=${iniValue(v)}`)].join(' '))
  const groups = Object.entries(inventory.all.children).map(([group, {hosts}]) => [`[${group}]`, ...Object.keys(hosts)].join('\n'))
  return `${[hostLines.join('\n'), ...groups].join('\n\n')}\n`
}

/** INI inventory values are split on spaces unless quoted. */
function iniValue(value: string): string {
  return /[\s"'#;=\\]/.test(value) || value === '' ? JSON.stringify(value) : value
}

/**
 * The original's `ansible_hosts --keys`: one group `KEY=VALUE` per distinct value of each key
 * among the VMs (a list value puts the VM in one group per item). Keys are init-file keys
 * (`vm-type`, `groups`, `vm-provider`) or `/`-paths (`/disks/0/metadata/distro`).
 */
export async function ansibleKeyGroups(prefix: Prefix, keys: string[]): Promise<Record<string, string[]>> {
  const groups: Record<string, string[]> = {}
  for (const vm of prefix.state.vms) {
    const view = await originalVmView(prefix, vm)
    for (const key of keys) {
      const value = valueAtKey(view, key)
      for (const item of Array.isArray(value) ? value : [value]) {
        if (item === undefined || item === null || typeof item === 'object') continue
        ;(groups[`${key}=${String(item)}`] ??= []).push(vm.name)
      }
    }
  }
  return groups
}
