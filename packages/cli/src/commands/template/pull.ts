import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../../base-command.js'
import {downloadFlags, repoFlags, storeFlags, templateSettings} from '../../template-flags.js'

export default class TemplatePull extends LagoCommand {
  static summary = 'Download templates into the store ahead of time (verified, resumable), so init is fast later.'
  static description = 'Each TEMPLATE is a name, name:version or repo:name:version of the repository, or a plain image URL or path.'
  static examples = ['<%= config.bin %> template pull el9 fc40 --template-repo-name ovirt', '<%= config.bin %> template pull https://example.org/debian-12.qcow2 --checksum sha256:...']
  static strict = false

  static args = {template: Args.string({description: 'Templates to fetch.', required: true})}
  static flags = {
    ...storeFlags,
    ...repoFlags,
    ...downloadFlags,
    checksum: Flags.string({summary: 'Expected digest ("sha256:HEX") of a plain image URL or path (one TEMPLATE only).'}),
  }

  async run() {
    const {argv, flags} = await this.parseLago(TemplatePull)
    const core = await import('@lago/core')
    const config = await this.loadConfig()
    const settings = templateSettings(flags)
    const store = core.openStore(config, settings)
    const names = argv
    if (flags.checksum && names.length !== 1) throw new core.LagoError('USAGE', '--checksum goes with exactly one TEMPLATE.')
    let repo: Awaited<ReturnType<typeof core.requireSettingsRepo>> | undefined
    const templates: import('@lago/core').ResolvedTemplate[] = []
    for (const name of names) {
      templates.push(
        core.isImageReference(name)
          ? await core.resolveImageTemplate(name, {checksum: flags.checksum, baseDir: process.cwd(), where: name})
          : core.resolveTemplate((repo ??= await core.requireSettingsRepo(config, settings, `"${name}" is a repository template`, {signal: this.abort.signal})), name),
      )
    }
    const results: import('@lago/core').EnsureResult[] = []
    const retry = core.retryPolicy(config)
    await this.runTasks([
      {
        title: 'Pull templates',
        concurrent: true,
        subtasks: [...new Map(templates.map((t) => [t.id, t])).values()].map((template) =>
          core.fetchTemplateTask(store, template, {retry, allowUnverified: flags['allow-unverified'] || config.download.allow_unverified, onStored: (result) => results.push(result)}),
        ),
      },
    ])
    if (!this.jsonEnabled()) for (const r of results) this.log(`${r.id}: ${r.downloaded ? 'downloaded' : 'already stored'}, ${core.formatBytes(r.size)}, ${r.hash}`)
    return {store: store.dir, templates: results.map(({metadata: _m, ...r}) => r)}
  }
}
