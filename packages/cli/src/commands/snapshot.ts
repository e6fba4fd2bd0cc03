import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Snapshot extends LagoCommand {
  static changesPrefix = true
  static summary = 'Snapshot every VM of the environment (running or stopped) under one name, or list snapshots.'
  static args = {name: Args.string({description: 'Snapshot name.'})}
  static flags = {list: Flags.boolean({char: 'l', summary: 'List the snapshots.'})}

  async run() {
    const {args, flags} = await this.parseLago(Snapshot)
    const prefix = await this.openPrefix(flags)
    const core = await import('@lago/core')
    if (flags.list) {
      const snapshots = prefix.state.snapshots ?? {}
      if (!this.jsonEnabled()) for (const [name, s] of Object.entries(snapshots)) this.log(`${name}\t${s.createdAt}`)
      return {snapshots}
    }
    if (!args.name) throw new core.LagoError('USAGE', 'No snapshot name given.', {hint: 'Run "lago snapshot NAME", or "lago snapshot --list".'})
    const snapshot = await core.createSnapshot(prefix, args.name, this.abort.signal)
    if (!this.jsonEnabled()) this.log(`Snapshot "${args.name}" of ${Object.keys(snapshot.vms).join(', ')}.`)
    return {name: args.name, ...snapshot}
  }
}
