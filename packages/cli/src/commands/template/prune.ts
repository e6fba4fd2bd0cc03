import {Flags} from '@oclif/core'
import {LagoCommand} from '../../base-command.js'
import {storeFlags, templateSettings} from '../../template-flags.js'

export default class TemplatePrune extends LagoCommand {
  static summary = 'Remove stored template versions no prefix uses, and leftovers of interrupted downloads.'
  static description =
    'A prefix uses a template from its init until its cleanup. Versions being downloaded right now are left alone. A golden environment no copy uses goes with its disks; one a copy uses stays, with the templates its disks are layered on.'
  static examples = ['<%= config.bin %> template prune --dry-run', '<%= config.bin %> template prune']

  static flags = {...storeFlags, 'dry-run': Flags.boolean({summary: 'Only say what would be removed.'})}

  async run() {
    const {flags} = await this.parseLago(TemplatePrune)
    const core = await import('@lago/core')
    const store = core.openStore(await this.loadConfig(), templateSettings(flags))
    const result = await core.pruneStore(store, {dryRun: flags['dry-run']})
    const {reportPrune} = await import('../../golden-view.js')
    return reportPrune(this, store.dir, result, flags['dry-run'])
  }
}
