import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '@lago/cli'

export default class OvirtStart extends LagoCommand {
  static changesPrefix = true
  static collectsOnFailure = true
  static summary = 'Start the environment (as "lago start") and wait for the oVirt services of each VM\'s role.'
  static strict = false
  static args = {vms: Args.string({description: 'VMs to start (default: all).'})}
  static flags = {
    ...LagoCommand.collectFlags,
    force: Flags.boolean({summary: 'Start even when the host lacks the free memory the VMs need.'}),
    'services-timeout': Flags.integer({summary: 'Seconds to wait for the services of each VM.', default: 180, min: 1}),
  }

  async run() {
    const {argv, flags} = await this.parseLago(OvirtStart)
    const prefix = await this.openPrefix(flags)
    const {ovirtStartTasks} = await import('../../lib/lifecycle.js')
    const {tasks, rollback} = await ovirtStartTasks(prefix, argv, {force: flags.force, servicesTimeout: flags['services-timeout']})
    await this.withRollback(() => this.runTasks(tasks), rollback)
    return prefix.status()
  }
}
