import {LagoCommand} from '../base-command.js'

export default class Status extends LagoCommand {
  static summary = 'Show the prefix: networks and VMs with their state and addresses.'

  async run() {
    const {flags} = await this.parseLago(Status)
    const prefix = await this.openPrefix(flags['prefix-path'])
    const status = await prefix.status()
    if (!this.jsonEnabled()) {
      const {renderStatus} = await import('../status-table.js')
      this.log(renderStatus(status))
    }
    return status
  }
}
