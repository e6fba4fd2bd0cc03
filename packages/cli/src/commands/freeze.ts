import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'
import {storeFlags, templateSettings} from '../template-flags.js'

export default class Freeze extends LagoCommand {
  static changesPrefix = true
  static summary = 'Freeze the prefix into a golden environment in the template store: its disks as template versions, plus its description.'
  static description = `Running guests are shut down cleanly (ACPI) first, so the disks are consistent, and started again afterwards (--no-restart leaves them down).
Disks that came from a template of the store are stored as thin layers on it (recorded); --flatten stores self-contained images.
Then "lago init DIR --from NAME[:VERSION]" makes independent copies of it: own subnets, MACs, SSH key and cloud-init identity.`
  static examples = ['<%= config.bin %> freeze ovirt-4.5', '<%= config.bin %> freeze ovirt-4.5:engine-installed --no-restart', '<%= config.bin %> freeze base --flatten --json']
  static args = {golden: Args.string({description: 'NAME or NAME:VERSION (default version: the next number).', required: true})}
  static flags = {
    ...storeFlags,
    flatten: Flags.boolean({summary: 'Store every disk self-contained instead of layered on its template.'}),
    restart: Flags.boolean({summary: 'Start the guests that were running again once frozen (default).', default: true, allowNo: true}),
    'shutdown-timeout': Flags.integer({summary: 'Seconds to wait per running guest for its clean shutdown before forcing it off.', default: 120, min: 1}),
  }

  async run() {
    const {args, flags} = await this.parseLago(Freeze)
    const core = await import('@lago/core')
    const config = await this.loadConfig()
    const prefix = await this.openPrefix(flags, config)
    const store = core.openStore(config, templateSettings(flags))
    const plan = await core.planFreeze(prefix, {ref: core.parseGoldenRef(args.golden), store, flatten: flags.flatten, shutdownTimeout: flags['shutdown-timeout']})
    await this.withRollback(() => this.runTasks(plan.tasks), plan.rollback)
    const {result} = plan
    let restarted: string[] = []
    if (flags.restart && result.shutDown.length > 0) {
      const start = await prefix.startTasks(result.shutDown)
      await this.withRollback(() => this.runTasks(start.tasks), start.rollback)
      restarted = result.shutDown
    }
    if (!this.jsonEnabled()) {
      if (result.shutDown.length > 0)
        this.log(`${result.shutDown.join(', ')} ${result.shutDown.length === 1 ? 'was' : 'were'} shut down cleanly for the freeze${restarted.length > 0 ? ' and started again' : ' and left down'}.`)
      else this.log('The VMs were down: the disks were frozen as they are.')
      for (const d of result.disks) this.log(`  ${d.vm}/${d.disk} -> ${d.id}${d.layeredOn ? ` (layered on ${d.layeredOn})` : ' (flattened)'}, ${core.formatBytes(d.size)}`)
      this.log(`Froze golden environment ${result.golden} in ${store.dir}. Copies: "${this.config.bin} init DIR --from ${result.golden}".`)
    }
    return {...result, store: store.dir, restarted}
  }
}
