import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../../base-command.js'
import {reposDirFlags, templateSettings} from '../../template-flags.js'

export default class TemplateRepoAdd extends LagoCommand {
  static summary = 'Register a template repository: clone a git repository holding one, or keep a copy of a repository JSON file or URL.'
  static examples = [
    '<%= config.bin %> template-repo add https://example.org/lago-templates.git',
    '<%= config.bin %> template-repo add ./my-templates --name mine',
    '<%= config.bin %> template-repo add https://example.org/repo/repo.metadata',
  ]

  static args = {source: Args.string({description: 'git URL or local git repository, or a repository JSON (file or http(s) URL ending in .json/.metadata).', required: true})}
  static flags = {...reposDirFlags, name: Flags.string({summary: 'Name to register it under (default: the "name" in its JSON).'})}

  async run() {
    const {args, flags} = await this.parseLago(TemplateRepoAdd)
    const core = await import('@lago/core')
    const registry = core.openRegistry(await this.loadConfig(), templateSettings(flags))
    const repo = await registry.add(args.source, {name: flags.name, signal: this.abort.signal})
    if (!this.jsonEnabled())
      this.log(`Added template repository ${repo.name} (${repo.kind} ${repo.origin}): ${repo.templates?.length ?? 0} templates. Use it with: lago init --template-repo-name ${repo.name}`)
    return repo
  }
}
