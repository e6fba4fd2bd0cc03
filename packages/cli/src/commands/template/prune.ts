import {Flags} from '@oclif/core'
import {LagoCommand} from '../../base-command.js'
import {storeFlags, templateSettings} from '../../template-flags.js'

export default class TemplatePrune extends LagoCommand {
  static summary = 'Remove stored template versions no prefix uses, and leftovers of interrupted downloads.'
  static description = 'A prefix uses a template from its init until its cleanup. Versions being downloaded right now are left alone.'
  static examples = ['<%= config.bin %> template prune --dry-run', '<%= config.bin %> template prune']

  static flags = {...storeFlags, 'dry-run': Flags.boolean({summary: 'Only say what would be removed.'})}

  async run() {
    const {flags} = await this.parseLago(TemplatePrune)
    const core = await import('@lago/core')
    const store = core.openStore(await this.loadConfig(), templateSettings(flags))
    const result = await store.prune({dryRun: flags['dry-run']})
    if (!this.jsonEnabled()) {
      const verb = flags['dry-run'] ? 'Would remove' : 'Removed'
      for (const entry of result.removed) this.log(`${verb} ${entry.id} (${core.formatBytes(entry.size)})`)
      for (const name of result.partials) this.log(`${verb} partial download ${name}`)
      for (const entry of result.kept) this.log(`Kept ${entry.id}: used by ${entry.users.map((u) => u.uuidFile.replace(/\/\.lago\/uuid$/, '')).join(', ')}`)
      this.log(`${flags['dry-run'] ? 'Would free' : 'Freed'} ${core.formatBytes(result.freedBytes)} in ${store.dir}.`)
    }
    return {
      store: store.dir,
      dryRun: flags['dry-run'],
      removed: result.removed.map((e) => ({id: e.id, size: e.size})),
      kept: result.kept.map((e) => ({id: e.id, users: e.users.map((u) => u.uuidFile)})),
      partials: result.partials,
      freedBytes: result.freedBytes,
    }
  }
}
