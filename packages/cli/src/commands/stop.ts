import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Stop extends LagoCommand {
  static changesPrefix = true
  static summary = 'Power off the VMs of the prefix (or the named ones) and their unused networks.'
  static description = 'With --save, each running VM\'s memory state is saved into the prefix first; the next "lago start" resumes it instead of booting.'
  static strict = false
  static args = {vms: Args.string({description: 'VMs to stop (default: all).'})}
  static flags = {save: Flags.boolean({summary: 'Save the memory state of each running VM (with its disks) so the next start resumes it.'})}

  async run() {
    const {argv, flags} = await this.parseLago(Stop)
    const prefix = await this.openPrefix(flags, undefined, {vms: argv})
    if (flags.save) {
      const {saveVms} = await import('@lago/core')
      const saved = await saveVms(prefix, argv.length > 0 ? argv.map((n) => prefix.vm(n)) : prefix.state.vms, this.abort.signal)
      if (!this.jsonEnabled() && saved.length > 0) this.log(`Saved ${saved.join(', ')}: "lago start" resumes ${saved.length === 1 ? 'it' : 'them'}.`)
    }
    await prefix.stop(argv)
    return this.jsonEnabled() ? prefix.status() : undefined
  }
}
