import {Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Deploy extends LagoCommand {
  static changesPrefix = true
  static collectsOnFailure = true
  static summary = "Run each VM's deploy scripts on it (in order per VM, VMs in parallel)."
  static description =
    "Scripts come from the init file's deploy-scripts (copied into the prefix at init). Each VM's output goes to PREFIX/.lago/logs/deploy/<vm>.log. A failing script stops that VM's chain; the other VMs finish theirs, then the command fails naming the VM, the script, its exit status and its last lines of output."
  static flags = {
    ...LagoCommand.collectFlags,
    vm: Flags.string({char: 'n', multiple: true, summary: 'Only this VM (repeatable).'}),
  }

  async run() {
    const {flags} = await this.parseLago(Deploy)
    const prefix = await this.openPrefix(flags)
    const {planDeploy} = await import('@lago/core')
    const plan = await planDeploy(prefix, {vms: flags.vm})
    await this.runTasks(plan.tasks)
    if (!this.jsonEnabled()) {
      for (const r of plan.results) this.log(`${r.vm}: ${r.scripts.length} script${r.scripts.length === 1 ? '' : 's'} ran (log: ${r.log})`)
    }
    return {vms: plan.results}
  }
}
