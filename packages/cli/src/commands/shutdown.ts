import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Shutdown extends LagoCommand {
  static changesPrefix = true
  static summary = 'Power the VMs off gracefully (ACPI), forcing those that do not stop in time; --reboot restarts them.'
  static strict = false
  static args = {vms: Args.string({description: 'VMs (default: all running).'})}
  static flags = {
    reboot: Flags.boolean({char: 'r', summary: 'Reboot instead, and wait until SSH answers again.'}),
    timeout: Flags.integer({summary: 'Seconds to wait per VM before forcing it.', default: 120, min: 1}),
  }

  async run() {
    const {argv, flags} = await this.parseLago(Shutdown)
    const prefix = await this.openPrefix(flags, undefined, {vms: argv})
    const results = await prefix.shutdown(argv, {reboot: flags.reboot, timeoutSeconds: flags.timeout, signal: this.abort.signal})
    if (!this.jsonEnabled()) {
      for (const r of results) this.log(`${r.vm}: ${flags.reboot ? 'rebooted' : r.forced ? 'forced off after the timeout' : 'powered off'} in ${r.seconds.toFixed(1)} s`)
    }
    return {vms: results}
  }
}
