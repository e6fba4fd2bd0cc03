import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Start extends LagoCommand {
  static changesPrefix = true
  static collectsOnFailure = true
  static summary = 'Start the networks and VMs of the prefix (or the named VMs) and wait for SSH.'
  static strict = false
  static args = {vms: Args.string({description: 'VMs to start (default: all).'})}
  static flags = {...LagoCommand.collectFlags, force: Flags.boolean({summary: 'Start even when the host lacks the free memory the VMs need.'})}

  async run() {
    const {argv, flags} = await this.parseLago(Start)
    const prefix = await this.openPrefix(flags)
    const {tasks, rollback} = await prefix.startTasks(argv, {force: flags.force})
    await this.withRollback(() => this.runTasks(tasks), rollback)
    const status = await prefix.status()
    if (!this.jsonEnabled()) {
      for (const vm of status.vms) this.log(`${vm.name}: ${vm.state} at ${vm.ip}`)
    }
    return status
  }
}
