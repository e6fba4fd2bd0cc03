import {Args} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Revert extends LagoCommand {
  static changesPrefix = true
  static summary = 'Put every VM back to a snapshot: disks restored, VMs that were running then are started again.'
  static args = {name: Args.string({required: true, description: 'Snapshot name.'})}

  async run() {
    const {args, flags} = await this.parseLago(Revert)
    const prefix = await this.openPrefix(flags)
    const core = await import('@lago/core')
    const toStart = await core.revertSnapshot(prefix, args.name)
    if (toStart.length > 0) {
      const {tasks, rollback} = await prefix.startTasks(toStart)
      await this.withRollback(() => this.runTasks(tasks), rollback)
    }
    if (!this.jsonEnabled()) this.log(`Reverted to "${args.name}"${toStart.length > 0 ? `; running again: ${toStart.join(', ')}` : ''}.`)
    return prefix.status()
  }
}
