import {Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Gc extends LagoCommand {
  static summary = 'Remove libvirt domains and networks made by Lago whose prefix directory no longer exists.'
  static flags = {'dry-run': Flags.boolean({summary: 'Only list them.'})}

  async run() {
    const {flags} = await this.parseLago(Gc)
    const core = await import('@lago/core')
    const config = await this.loadConfig()
    const orphans = await core.findOrphans(config.libvirt.uri)
    if (!flags['dry-run']) await core.removeOrphans(config.libvirt.uri, orphans)
    if (!this.jsonEnabled()) {
      if (orphans.length === 0) this.log('Nothing to collect.')
      for (const o of orphans) this.log(`${flags['dry-run'] ? 'would remove' : 'removed'} ${o.kind} ${o.name} (prefix ${o.prefixPath} is gone)`)
    }
    return {removed: flags['dry-run'] ? [] : orphans, orphans}
  }
}
