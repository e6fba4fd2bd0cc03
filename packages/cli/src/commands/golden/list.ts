import {LagoCommand} from '../../base-command.js'
import {storeFlags, templateSettings} from '../../template-flags.js'

export default class GoldenList extends LagoCommand {
  static summary = 'List the golden environments of the template store, with the prefixes using each.'
  static examples = ['<%= config.bin %> golden list', '<%= config.bin %> golden list --json']
  static flags = {...storeFlags}

  async run() {
    const {flags} = await this.parseLago(GoldenList)
    const core = await import('@lago/core')
    const store = core.openStore(await this.loadConfig(), templateSettings(flags))
    const {goldenSummary} = await import('../../golden-view.js')
    const goldens = await Promise.all((await new core.GoldenCatalog(store).list()).map((entry) => goldenSummary(store, entry)))
    if (!this.jsonEnabled()) {
      const {table} = await import('../../status-table.js')
      if (goldens.length === 0) this.log(`The template store ${store.dir} holds no golden environment ("lago freeze NAME" makes one).`)
      else {
        this.log(
          table(
            ['GOLDEN', 'VMS', 'SIZE', 'USERS', 'FROZEN'],
            goldens.map((g) => [g.golden, g.vms.join(','), core.formatBytes(g.size), String(g.users.length), g.createdAt.slice(0, 19).replace('T', ' ')]),
          ).join('\n'),
        )
      }
    }
    return {store: store.dir, goldens}
  }
}
