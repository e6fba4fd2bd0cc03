import {LagoCommand} from '../../base-command.js'
import {repoFlags, storeFlags, templateSettings} from '../../template-flags.js'

export default class TemplateList extends LagoCommand {
  static summary = 'List the template store: every stored version and the prefixes using it.'
  static description = 'With --template-repo-path or --template-repo-name, list what that repository offers instead, marking the versions already stored.'
  static examples = ['<%= config.bin %> template list', '<%= config.bin %> template list --template-repo-name ovirt --json']

  static flags = {...storeFlags, ...repoFlags}

  async run() {
    const {flags} = await this.parseLago(TemplateList)
    const core = await import('@lago/core')
    const config = await this.loadConfig()
    const settings = templateSettings(flags)
    const store = core.openStore(config, settings)
    const repo = await core.loadSettingsRepo(config, settings, {signal: this.abort.signal})
    const {table} = await import('../../status-table.js')
    if (repo) {
      const stored = new Set(await store.ids())
      const templates = Object.entries(repo.templates).flatMap(([template, {versions}]) =>
        Object.entries(versions)
          .sort((a, b) => b[1].timestamp - a[1].timestamp)
          .map(([version, entry]) => {
            const id = `${repo.name}:${template}:${version}`
            return {id, template, version, timestamp: entry.timestamp, handle: entry.handle, stored: stored.has(id)}
          }),
      )
      if (!this.jsonEnabled()) {
        this.log(`Repository ${repo.name} (${repo.location})${repo.cached ? `, copy from ${repo.cached.at}` : ''}`)
        this.log(
          table(
            ['TEMPLATE', 'VERSION', 'PUBLISHED', 'STORED'],
            templates.map((t) => [t.template, t.version, new Date(t.timestamp * 1000).toISOString().slice(0, 10), t.stored ? 'yes' : '']),
          ).join('\n'),
        )
      }
      return {repository: {name: repo.name, location: repo.location}, store: store.dir, templates}
    }
    const entries = await store.list()
    if (!this.jsonEnabled()) {
      if (entries.length === 0) this.log(`The template store ${store.dir} is empty.`)
      else {
        this.log(
          table(
            ['ID', 'SIZE', 'FORMAT', 'USERS', 'STORED'],
            entries.map((e) => [e.id, core.formatBytes(e.size), e.format, String(e.users.length), e.storedAt.slice(0, 19).replace('T', ' ')]),
          ).join('\n'),
        )
      }
    }
    return {store: store.dir, templates: entries.map(({path: file, ...rest}) => ({...rest, path: file, users: rest.users.map((u) => u.uuidFile)}))}
  }
}
