import {LagoCommand} from '../base-command.js'
import {formatValue, outFormatFlag} from '../output-format.js'

export default class Status extends LagoCommand {
  static summary = 'Show the prefix: networks and VMs with their state, addresses, disks and snapshots.'
  static flags = {'out-format': outFormatFlag}

  async run() {
    const {flags} = await this.parseLago(Status)
    const prefix = await this.openPrefix(flags)
    const status = await prefix.status()
    if (!this.jsonEnabled()) {
      const formatted = await formatValue(status, flags['out-format'])
      if (formatted !== undefined) this.log(formatted)
      else this.log((await import('../status-table.js')).renderStatus(status))
    }
    return status
  }
}
