import {Args} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Start extends LagoCommand {
  static summary = 'Start the networks and VMs of the prefix (or the named VMs) and wait for SSH.'
  static strict = false
  static args = {vms: Args.string({description: 'VMs to start (default: all).'})}

  async run() {
    const {argv, flags} = await this.parseLago(Start)
    const prefix = await this.openPrefix(flags['prefix-path'])
    const {tasks, rollback} = await prefix.startTasks(argv)
    await this.withRollback(() => this.runTasks(tasks), rollback)
    const status = await prefix.status()
    if (!this.jsonEnabled()) {
      for (const vm of status.vms) this.log(`${vm.name}: ${vm.state} at ${vm.ip}`)
    }
    return status
  }
}
