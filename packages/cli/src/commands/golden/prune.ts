import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../../base-command.js'
import {storeFlags, templateSettings} from '../../template-flags.js'

export default class GoldenPrune extends LagoCommand {
  static summary = 'Remove golden environments no prefix uses (all, or the one named), with their disks.'
  static description =
    'A copy ("lago init --from") uses its golden environment from its init until its cleanup: while one exists, it is kept. Other templates stay ("lago template prune" prunes everything).'
  static examples = ['<%= config.bin %> golden prune --dry-run', '<%= config.bin %> golden prune base:1']
  static args = {golden: Args.string({description: 'NAME or NAME:VERSION (default: every golden environment).'})}
  static flags = {...storeFlags, 'dry-run': Flags.boolean({summary: 'Only say what would be removed.'})}

  async run() {
    const {args, flags} = await this.parseLago(GoldenPrune)
    const core = await import('@lago/core')
    const store = core.openStore(await this.loadConfig(), templateSettings(flags))
    const result = await core.pruneStore(store, {dryRun: flags['dry-run'], only: args.golden ? core.parseGoldenRef(args.golden) : 'goldens'})
    const {reportPrune} = await import('../../golden-view.js')
    return reportPrune(this, store.dir, result, flags['dry-run'])
  }
}
