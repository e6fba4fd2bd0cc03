import {Args} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Stop extends LagoCommand {
  static changesPrefix = true
  static summary = 'Power off the VMs of the prefix (or the named ones) and their unused networks.'
  static strict = false
  static args = {vms: Args.string({description: 'VMs to stop (default: all).'})}

  async run() {
    const {argv, flags} = await this.parseLago(Stop)
    const prefix = await this.openPrefix(flags, undefined, {vms: argv})
    await prefix.stop(argv)
    return prefix.status()
  }
}
