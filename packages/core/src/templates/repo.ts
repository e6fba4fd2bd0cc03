import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {LagoError} from '../errors.js'

/** A Lago template repository (the original `repo.metadata` JSON format). */
export interface TemplateRepo {
  name: string
  /** Where the repo JSON was loaded from (file path or URL). */
  location: string
  sources: Record<string, TemplateSource>
  templates: Record<string, {versions: Record<string, TemplateVersion>}>
}

export type TemplateSource = {type: 'file'; args: {root: string}} | {type: 'http' | 'https'; args: {baseurl: string}}

export interface TemplateVersion {
  source: string
  handle: string
  timestamp: number
}

const REPO_SCHEMA = {
  type: 'object',
  required: ['name', 'sources', 'templates'],
  properties: {
    name: {type: 'string', pattern: '^[A-Za-z0-9._-]+$'},
    sources: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['type', 'args'],
        properties: {type: {enum: ['file', 'http', 'https']}, args: {type: 'object'}},
      },
    },
    templates: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['versions'],
        properties: {
          versions: {
            type: 'object',
            minProperties: 1,
            additionalProperties: {
              type: 'object',
              required: ['source', 'handle', 'timestamp'],
              properties: {source: {type: 'string'}, handle: {type: 'string', minLength: 1}, timestamp: {type: 'number'}},
            },
          },
        },
      },
    },
  },
}

export async function loadTemplateRepo(location: string): Promise<TemplateRepo> {
  const isUrl = /^https?:\/\//.test(location)
  const where = isUrl ? location : path.resolve(location)
  let text: string
  if (isUrl) {
    const response = await fetch(location).catch((error: unknown) => {
      throw new LagoError('TEMPLATE_REPO', `Cannot fetch template repository ${location}: ${String((error as Error).cause ?? error)}.`)
    })
    if (!response.ok) throw new LagoError('TEMPLATE_REPO', `Template repository ${location} answered HTTP ${response.status}.`)
    text = await response.text()
  } else {
    text = await readFile(where, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new LagoError('TEMPLATE_REPO', `Cannot read template repository ${where}: ${error.code ?? error.message}.`, {
        hint: 'Pass the repository JSON with --template-repo-path FILE_OR_URL.',
      })
    })
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new LagoError('TEMPLATE_REPO', `Template repository ${where} is not valid JSON: ${(error as Error).message}.`)
  }
  const {Ajv} = await import('ajv')
  const validate = new Ajv({allErrors: true, strict: false}).compile(REPO_SCHEMA)
  if (!validate(raw)) {
    const {describeSchemaErrors} = await import('../spec/load.js')
    throw new LagoError('TEMPLATE_REPO', `Template repository ${where} is not valid:\n${describeSchemaErrors(validate.errors ?? []).map((p) => `  - ${p}`).join('\n')}`)
  }
  const repo = {...(raw as Omit<TemplateRepo, 'location'>), location: where}
  for (const [templateName, template] of Object.entries(repo.templates)) {
    for (const [versionName, version] of Object.entries(template.versions)) {
      if (!repo.sources[version.source]) {
        throw new LagoError(
          'TEMPLATE_REPO',
          `Template repository ${where}: templates.${templateName}.versions.${versionName}.source "${version.source}" is not one of its sources (${Object.keys(repo.sources).join(', ')}).`,
        )
      }
    }
  }
  return repo
}

export interface ResolvedTemplate {
  repo: TemplateRepo
  template: string
  version: string
  entry: TemplateVersion
  /** `repo:template:version`, the store key. */
  id: string
}

/** `name` (newest by timestamp), `name:version` or `repo:name:version`. */
export function resolveTemplate(repo: TemplateRepo, spec: string, explicitVersion?: string): ResolvedTemplate {
  const parts = spec.split(':')
  let [templateName, version] = [parts[0], explicitVersion]
  if (parts.length === 2) [templateName, version] = [parts[0], parts[1]]
  if (parts.length === 3) {
    if (parts[0] !== repo.name) {
      throw new LagoError('TEMPLATE', `Template "${spec}" names repository "${parts[0]}", but the repository in use is "${repo.name}" (${repo.location}).`)
    }
    ;[templateName, version] = [parts[1], parts[2]]
  }
  if (parts.length > 3) throw new LagoError('TEMPLATE', `Template "${spec}" is not of the form name, name:version or repo:name:version.`)
  const template = repo.templates[templateName]
  if (!template) {
    throw new LagoError('TEMPLATE', `Template "${templateName}" is not in repository "${repo.name}" (${repo.location}).`, {
      hint: `Templates it offers: ${Object.keys(repo.templates).sort().join(', ') || '(none)'}.`,
      detail: {template: templateName, available: Object.keys(repo.templates)},
    })
  }
  const versions = Object.entries(template.versions)
  const chosen = version === undefined ? versions.sort((a, b) => b[1].timestamp - a[1].timestamp)[0] : versions.find(([v]) => v === version)
  if (!chosen) {
    throw new LagoError('TEMPLATE', `Template "${templateName}" has no version "${version}" in repository "${repo.name}".`, {
      hint: `Versions it offers: ${versions.map(([v]) => v).join(', ')}.`,
    })
  }
  return {repo, template: templateName, version: chosen[0], entry: chosen[1], id: `${repo.name}:${templateName}:${chosen[0]}`}
}
