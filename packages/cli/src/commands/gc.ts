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
    const files = flags['dry-run'] ? {leases: [], locks: []} : await core.sweepFiles(config)
    if (!this.jsonEnabled()) {
      if (orphans.length + files.leases.length + files.locks.length === 0) this.log('Nothing to collect.')
      for (const o of orphans) this.log(`${flags['dry-run'] ? 'would remove' : 'removed'} ${o.kind} ${o.name} (prefix ${o.prefixPath} is gone)`)
      for (const subnet of files.leases) this.log(`released subnet ${subnet}/24 (its prefix is gone)`)
      for (const lock of files.locks) this.log(`removed lock ${lock}: that process is gone`)
    }
    return {removed: flags['dry-run'] ? [] : orphans, orphans, ...files}
  }
}
