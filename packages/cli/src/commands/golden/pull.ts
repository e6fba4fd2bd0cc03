import {Args} from '@oclif/core'
import {LagoCommand} from '../../base-command.js'
import {downloadFlags, repoFlags, storeFlags, templateSettings} from '../../template-flags.js'

export default class GoldenPull extends LagoCommand {
  static summary = 'Fetch a golden environment from a template repository into the store: its description and its disks, verified by hash.'
  static description = '"lago init DIR --from NAME:VERSION" with the same repository fetches it too; pull does it ahead of time.'
  static examples = ['<%= config.bin %> golden pull base:1 --template-repo-path https://example.org/lago-golden/repo.json']
  static args = {golden: Args.string({description: 'NAME or NAME:VERSION (default: the newest the repository publishes).', required: true})}
  static flags = {...storeFlags, ...repoFlags, ...downloadFlags}

  async run() {
    const {args, flags} = await this.parseLago(GoldenPull)
    const core = await import('@lago/core')
    const config = await this.loadConfig()
    const settings = templateSettings(flags)
    const store = core.openStore(config, settings)
    const ref = core.parseGoldenRef(args.golden)
    const repo = await core.requireSettingsRepo(config, settings, `Pulling golden environment ${args.golden}`, {signal: this.abort.signal})
    const source = await core.goldenSource(store, ref, {signal: this.abort.signal, loadRepo: async () => repo})
    const tasks = source.templates.templates.map(({template}) =>
      core.fetchTemplateTask(store, template, {retry: core.retryPolicy(config), allowUnverified: flags['allow-unverified'] || config.download.allow_unverified}),
    )
    await this.runTasks(tasks)
    const {manifest} = source.entry
    if (!this.jsonEnabled()) this.log(`Golden environment ${manifest.name}:${manifest.version} is in ${store.dir}.`)
    return {golden: `${manifest.name}:${manifest.version}`, store: store.dir, disks: source.templates.templates.map((t) => t.template.id)}
  }
}
