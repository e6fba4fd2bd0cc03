import {LagoCommand} from '../base-command.js'
import {formatValue, outFormatFlag} from '../output-format.js'

export default class Status extends LagoCommand {
  static summary = 'Show the prefix: networks and VMs with their state, addresses, disks and snapshots.'
  static description =
    "--out-format default, json, yaml and flat print the original Lago's tree (Prefix → Base directory, UUID, Networks, VMs → distro, root password, status, snapshots, metadata, NICs → ethN); flat leaves out the Prefix root. --json prints this CLI's own structure."
  static flags = {'out-format': outFormatFlag}

  async run() {
    const {flags} = await this.parseLago(Status)
    const prefix = await this.openPrefix(flags)
    const status = await prefix.status()
    if (this.jsonEnabled()) return status
    const format = flags['out-format']
    if (format === 'table') this.log((await import('../status-table.js')).renderStatus(status))
    else {
      const tree = await (await import('@lago/core')).originalStatus(prefix, status)
      this.log(await formatValue(format === 'flat' ? tree.Prefix : tree, format))
    }
    return status
  }
}
