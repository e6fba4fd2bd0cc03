import {Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class AnsibleHosts extends LagoCommand {
  static summary = "Print an Ansible inventory of the prefix's VMs (INI; --json or --format yaml for the structured form)."
  static description =
    "Each VM with ansible_host (its management address), ansible_user and ansible_ssh_private_key_file (the prefix key); each name in a VM's groups becomes a group, and each --key adds a group KEY=VALUE per value. The JSON and YAML forms are Ansible's YAML inventory structure, usable as an inventory file as they are."
  // The original's spelling works; --help lists the new one only.
  static hiddenAliases = ['ansible_hosts']
  static examples = [
    '<%= config.bin %> ansible-hosts > hosts && ansible -i hosts all -m ping',
    '<%= config.bin %> ansible-hosts --format yaml > hosts.yml',
    '<%= config.bin %> ansible-hosts --key vm-type --key /disks/0/metadata/distro',
  ]
  static flags = {
    format: Flags.option({options: ['ini', 'yaml', 'json'] as const, default: 'ini' as const, summary: 'Output format (--json is the same as --format json).'})(),
    key: Flags.string({char: 'k', multiple: true, summary: 'Group the VMs by this init-file key or /-path, e.g. vm-type, groups, /disks/0/metadata/distro (repeatable).'}),
  }

  async run() {
    const {flags} = await this.parseLago(AnsibleHosts)
    const prefix = await this.openPrefix(flags)
    const core = await import('@lago/core')
    const {inventory, ini} = core.ansibleInventory(prefix, await core.ansibleKeyGroups(prefix, flags.key ?? []), await core.forwardedAddresses(prefix))
    if (!this.jsonEnabled()) {
      if (flags.format === 'ini') process.stdout.write(ini)
      else this.log((await (await import('../output-format.js')).formatValue(inventory, flags.format))!.trimEnd())
    }
    return inventory
  }
}
