import {Args} from '@oclif/core'
import {LagoCommand} from '@lago/cli'

export default class OvirtStop extends LagoCommand {
  static changesPrefix = true
  static summary = 'Stop the oVirt services of each VM\'s role, then shut the VMs down (the reverse of "lago ovirt start").'
  static strict = false
  static args = {vms: Args.string({description: 'VMs to stop (default: all).'})}

  async run() {
    const {argv, flags} = await this.parseLago(OvirtStop)
    const prefix = await this.openPrefix(flags)
    const {ovirtStop} = await import('../../lib/lifecycle.js')
    await ovirtStop(prefix, argv, this.abort.signal)
    return prefix.status()
  }
}
