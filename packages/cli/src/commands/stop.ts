import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Stop extends LagoCommand {
  static changesPrefix = true
  static summary = 'Power off the VMs of the prefix (or the named ones) and their unused networks.'
  static description =
    'With --save, each running VM\'s memory state is saved into the prefix first and the networks of the saved VMs stay up (a suspended environment): the next "lago start" resumes the VMs instead of booting them. A plain "lago stop" of a saved prefix takes those networks down and keeps the saved memory.'
  static strict = false
  static args = {vms: Args.string({description: 'VMs to stop (default: all).'})}
  static flags = {save: Flags.boolean({summary: 'Save the memory state of each running VM (with its disks) so the next start resumes it.'})}

  async run() {
    const {argv, flags} = await this.parseLago(Stop)
    const prefix = await this.openPrefix(flags, undefined, {vms: argv})
    const {stopVerb} = await import('../stop-run.js')
    return stopVerb(prefix, argv, {save: flags.save, json: this.jsonEnabled(), signal: this.abort.signal})
  }
}
