import {Args} from '@oclif/core'
import {LagoCommand} from '../../base-command.js'
import {reposDirFlags, templateSettings} from '../../template-flags.js'

export default class TemplateRepoUpdate extends LagoCommand {
  static summary = 'Refresh registered template repositories (git fetch and reset to upstream, or a new copy of the file/URL).'
  static examples = ['<%= config.bin %> template-repo update', '<%= config.bin %> template-repo update ovirt']

  static args = {name: Args.string({description: 'Repository to refresh (default: all).'})}
  static flags = {...reposDirFlags}

  async run() {
    const {args, flags} = await this.parseLago(TemplateRepoUpdate)
    const core = await import('@lago/core')
    const registry = core.openRegistry(await this.loadConfig(), templateSettings(flags))
    const repos = await registry.update(args.name, {signal: this.abort.signal})
    if (!this.jsonEnabled()) {
      if (repos.length === 0) this.log(`No template repositories are registered in ${registry.dir}.`)
      for (const r of repos) this.log(r.error ? `${r.name}: failed: ${r.error}` : `${r.name}: updated, ${r.templates?.length ?? 0} templates`)
    }
    const failed = repos.filter((r) => r.error)
    if (failed.length > 0) {
      throw new core.LagoError('TEMPLATE_REPO', `Could not update ${failed.map((r) => r.name).join(', ')}.`, {detail: {repositories: repos}})
    }
    return {repositories: repos}
  }
}
