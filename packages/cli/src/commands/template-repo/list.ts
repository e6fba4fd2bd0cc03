import {LagoCommand} from '../../base-command.js'
import {reposDirFlags, templateSettings} from '../../template-flags.js'

export default class TemplateRepoList extends LagoCommand {
  static summary = 'List registered template repositories.'

  static flags = {...reposDirFlags}

  async run() {
    const {flags} = await this.parseLago(TemplateRepoList)
    const core = await import('@lago/core')
    const registry = core.openRegistry(await this.loadConfig(), templateSettings(flags))
    const repos = await registry.list()
    if (!this.jsonEnabled()) {
      const {table} = await import('../../status-table.js')
      if (repos.length === 0) this.log(`No template repositories are registered in ${registry.dir} (add one with "lago template-repo add").`)
      else
        this.log(
          table(
            ['NAME', 'KIND', 'ORIGIN', 'TEMPLATES'],
            repos.map((r) => [r.name, r.kind, r.origin, r.error ? `error: ${r.error.split('\n')[0]}` : (r.templates ?? []).join(' ')]),
          ).join('\n'),
        )
    }
    return {dir: registry.dir, repositories: repos}
  }
}
