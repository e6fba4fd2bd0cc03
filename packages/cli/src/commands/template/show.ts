import {Args} from '@oclif/core'
import {LagoCommand} from '../../base-command.js'
import {repoFlags, storeFlags, templateSettings} from '../../template-flags.js'

export default class TemplateShow extends LagoCommand {
  static summary = 'Show one template: where it is stored, its hash and metadata, which prefixes use it.'
  static description = 'TEMPLATE is a store id (repo:template:version), or with a repository (--template-repo-path/--template-repo-name) a name or name:version as in init files.'
  static examples = ['<%= config.bin %> template show ovirt:el9:v3', '<%= config.bin %> template show el9 --template-repo-name ovirt']

  static args = {template: Args.string({description: 'Store id, or template name[:version] of the repository.', required: true})}
  static flags = {...storeFlags, ...repoFlags}

  async run() {
    const {args, flags} = await this.parseLago(TemplateShow)
    const core = await import('@lago/core')
    const config = await this.loadConfig()
    const settings = templateSettings(flags)
    const store = core.openStore(config, settings)
    const repo = await core.loadSettingsRepo(config, settings, {signal: this.abort.signal})
    const resolved = repo ? core.resolveTemplate(repo, args.template) : undefined
    const id = resolved?.id ?? args.template
    const stored = await store.get(id)
    if (!stored && !resolved) {
      const ids = await store.ids()
      throw new core.LagoError('TEMPLATE', `"${id}" is not in the template store ${store.dir}.`, {
        hint: ids.length > 0 ? `Stored: ${ids.join(', ')}. For a repository template, add --template-repo-path or --template-repo-name.` : 'The store is empty.',
        detail: {id, stored: ids},
      })
    }
    const users = stored ? (await store.users(id).live()).map((u) => u.uuidFile.replace(/\/\.lago\/uuid$/, '')) : []
    const result = {
      id,
      stored: Boolean(stored),
      ...(stored ?? {}),
      users,
      ...(resolved ? {repository: resolved.repo?.location, image: resolved.image, published: resolved.timestamp} : {}),
    }
    if (!this.jsonEnabled()) {
      const lines = [`Template ${id}`]
      if (stored) {
        lines.push(
          `  path:      ${stored.path}`,
          `  size:      ${core.formatBytes(stored.size)} (${stored.format})`,
          `  hash:      ${stored.hash}${stored.verified ? ' (verified)' : ' (not verified: no published checksum)'}`,
        )
        lines.push(`  source:    ${stored.source}`, `  stored at: ${stored.storedAt}`)
        for (const [key, value] of Object.entries(stored.metadata)) lines.push(`  ${`${key}:`.padEnd(10)} ${typeof value === 'string' ? value : JSON.stringify(value)}`)
        lines.push(`  used by:   ${users.length > 0 ? users.join(', ') : '(no prefix)'}`)
      } else {
        lines.push('  not in the store (lago template pull fetches it)', `  image:     ${resolved!.image}`)
      }
      this.log(lines.join('\n'))
    }
    return result
  }
}
