import {Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Gc extends LagoCommand {
  static summary = 'Remove libvirt domains and networks made by Lago whose prefix directory no longer exists.'
  static description = `Only objects it can prove orphaned are removed: the prefix's uuid file is definitely gone (or holds another prefix's uuid), and, unless --all-users, the prefix path is yours. Everything else is kept and said why.`
  static flags = {
    'dry-run': Flags.boolean({summary: 'Only list them.'}),
    'all-users': Flags.boolean({summary: "Also remove orphans of other users' prefixes (root only)."}),
  }

  async run() {
    const {flags} = await this.parseLago(Gc)
    const core = await import('@lago/core')
    const config = await this.loadConfig()
    const spared: import('@lago/core').Spared[] = []
    const provider = core.createProvider(config)
    const orphans = await core.findOrphans(provider, {allUsers: flags['all-users'], onSpared: (s) => spared.push(s)})
    if (!flags['dry-run']) await core.removeOrphans(provider, orphans)
    const files = flags['dry-run'] ? {leases: [], locks: [], partials: []} : await core.sweepFiles(config)
    if (!this.jsonEnabled()) {
      if (orphans.length + files.leases.length + files.locks.length + files.partials.length === 0) this.log('Nothing to collect.')
      for (const o of orphans) this.log(`${flags['dry-run'] ? 'would remove' : 'removed'} ${o.kind} ${o.name} (prefix ${o.prefixPath} is gone)`)
      for (const s of spared.filter((x) => !x.reason.endsWith('still exists'))) this.log(`kept ${s.kind} ${s.name}: ${s.reason}`)
      for (const subnet of files.leases) this.log(`released subnet ${subnet}/24 (its prefix is gone)`)
      for (const lock of files.locks) this.log(`removed lock ${lock}: that process is gone`)
      for (const partial of files.partials) this.log(`removed partial download ${partial}`)
    }
    return {removed: flags['dry-run'] ? [] : orphans, orphans, spared, ...files}
  }
}
