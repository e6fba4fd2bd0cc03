import type {Prefix} from '../prefix/prefix.js'

export interface AnsibleHostVars {
  ansible_host: string
  ansible_user: string
  ansible_ssh_private_key_file: string
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
export function ansibleInventory(prefix: Prefix): {inventory: AnsibleInventory; ini: string} {
  const inventory: AnsibleInventory = {all: {hosts: {}, children: {}}}
  for (const vm of prefix.state.vms) {
    inventory.all.hosts[vm.name] = {
      ansible_host: prefix.managementIp(vm),
      ansible_user: vm.sshUser,
      ansible_ssh_private_key_file: prefix.paths.privateKey,
    }
    for (const group of vm.groups) (inventory.all.children[group] ??= {hosts: {}}).hosts[vm.name] = null
  }
  return {inventory, ini: toIni(inventory)}
}

function toIni(inventory: AnsibleInventory): string {
  const hostLines = Object.entries(inventory.all.hosts).map(([name, vars]) => [name, ...Object.entries(vars).map(([k, v]) => `${k}=${iniValue(v)}`)].join(' '))
  const groups = Object.entries(inventory.all.children).map(([group, {hosts}]) => [`[${group}]`, ...Object.keys(hosts)].join('\n'))
  return `${[hostLines.join('\n'), ...groups].join('\n\n')}\n`
}

/** INI inventory values are split on spaces unless quoted. */
function iniValue(value: string): string {
  return /[\s"'#;]/.test(value) ? JSON.stringify(value) : value
}
