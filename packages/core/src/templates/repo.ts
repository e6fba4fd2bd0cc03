import {createHash} from 'node:crypto'
import {mkdir, readFile, stat} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {LagoError, errorMessage} from '../errors.js'
import {log} from '../log.js'
import {writeFileAtomic} from '../util/fs.js'
import {joinWithin} from '../util/safe-path.js'
import {schemaValidator, type SchemaSpec} from '../util/validators.js'
import {parseDigest, type Digest} from './digest.js'
import {isUrl} from './location.js'

/** A Lago template repository (the original `repo.metadata` JSON format). */
export interface TemplateRepo {
  name: string
  /** Where the repo JSON was loaded from (file path or URL). */
  location: string
  sources: Record<string, TemplateSource>
  templates: Record<string, {versions: Record<string, TemplateVersion>}>
  /** Golden environments it publishes: each version's handle is the description (JSON), its disks are templates of the repository. */
  goldens?: Record<string, {versions: Record<string, TemplateVersion>}>
  /** Set when the location could not be reached and the last good copy was used instead. */
  cached?: {at: string; reason: string}
}

export type TemplateSource = {type: 'file'; args: {root: string}} | {type: 'http' | 'https'; args: {baseurl: string}}

export interface TemplateVersion {
  source: string
  handle: string
  timestamp: number
}

/** Template and version names: they become part of store file names. */
const TEMPLATE_NAME = '^[A-Za-z0-9][A-Za-z0-9._+@-]*$'
/** A handle: a relative path of plain segments (checked further for "." and ".." segments). */
const HANDLE = /^[A-Za-z0-9_+@-][A-Za-z0-9._+@-]*(\/[A-Za-z0-9_+@-][A-Za-z0-9._+@-]*)*$/

const REPO_SCHEMA = {
  type: 'object',
  required: ['name', 'sources', 'templates'],
  properties: {
    name: {type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$'},
    sources: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['type', 'args'],
        properties: {type: {enum: ['file', 'http', 'https']}, args: {type: 'object'}},
        allOf: [
          {
            if: {properties: {type: {const: 'file'}}},
            then: {properties: {args: {required: ['root'], properties: {root: {type: 'string', minLength: 1}}}}},
          },
          {
            if: {properties: {type: {enum: ['http', 'https']}}},
            then: {properties: {args: {required: ['baseurl'], properties: {baseurl: {type: 'string', pattern: '^https?://'}}}}},
          },
        ],
      },
    },
    templates: {$ref: '#/definitions/versioned'},
    goldens: {$ref: '#/definitions/versioned'},
  },
  definitions: {
    versioned: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['versions'],
        properties: {
          versions: {
            type: 'object',
            minProperties: 1,
            propertyNames: {pattern: TEMPLATE_NAME},
            additionalProperties: {
              type: 'object',
              required: ['source', 'handle', 'timestamp'],
              properties: {source: {type: 'string'}, handle: {type: 'string', minLength: 1}, timestamp: {type: 'number'}},
            },
          },
        },
      },
      propertyNames: {pattern: TEMPLATE_NAME},
    },
  },
}

export interface LoadRepoOptions {
  /**
   * Keep the last good copy of URL repositories here and fall back to it when the URL
   * cannot be reached, so init on a warm store works offline (the store's `.repos/`).
   */
  cacheDir?: string
  signal?: AbortSignal
}

/** Load and validate a repository from a file path, `file://` or http(s) URL. */
export async function loadTemplateRepo(location: string, options: LoadRepoOptions = {}): Promise<TemplateRepo> {
  const url = isUrl(location)
  const where = url ? location : path.resolve(location.replace(/^file:\/\//, ''))
  let text: string
  let cached: TemplateRepo['cached']
  if (url) {
    const cacheFile = options.cacheDir ? path.join(options.cacheDir, `${createHash('sha256').update(location).digest('hex').slice(0, 16)}.json`) : undefined
    const {getText} = await import('./http.js')
    try {
      text = (await getText(location, {signal: options.signal, retry: {retries: 1, backoffMs: 500, stallMs: 15_000}}))!
      if (cacheFile) await saveCopy(cacheFile, text)
    } catch (error) {
      const copy = cacheFile ? await readCopy(cacheFile) : undefined
      if (!copy || options.signal?.aborted) {
        throw new LagoError('TEMPLATE_REPO', `Cannot load template repository ${location}: ${errorMessage(error).replace(/^Cannot download \S+: /, '')}`, {
          hint: 'Check the URL and that the server is reachable, or pass a local file with --template-repo-path FILE.',
          detail: {location, ...(error instanceof LagoError ? error.detail : {})},
        })
      }
      ;[text, cached] = [copy.text, {at: copy.at, reason: errorMessage(error)}]
      log.warn(`template repository ${location} is unreachable (${cached.reason}); using the copy from ${copy.at}`)
    }
  } else {
    text = await readFile(where, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new LagoError('TEMPLATE_REPO', `Cannot read template repository ${where}: ${error.code ?? error.message}.`, {
        hint: 'Pass the repository JSON with --template-repo-path FILE_OR_URL, or a registered one with --template-repo-name NAME.',
        detail: {location: where},
      })
    })
  }
  return {...(await parseTemplateRepo(text, where)), ...(cached ? {cached} : {})}
}

async function saveCopy(file: string, text: string): Promise<void> {
  try {
    await mkdir(path.dirname(file), {recursive: true})
    await writeFileAtomic(file, text)
  } catch (error) {
    log.debug(`could not keep a copy of the repository in ${file}: ${errorMessage(error)}`)
  }
}

async function readCopy(file: string): Promise<{text: string; at: string} | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)])
    return {text, at: info.mtime.toISOString()}
  } catch {
    return undefined
  }
}

export const TEMPLATE_REPO_SCHEMA_SPEC: SchemaSpec = {name: 'template-repo', schema: REPO_SCHEMA, options: {}}

/** Validate repository JSON text; every problem names its field. */
export async function parseTemplateRepo(text: string, where: string): Promise<TemplateRepo> {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new LagoError('TEMPLATE_REPO', `Template repository ${where} is not valid JSON: ${(error as Error).message}.`, {detail: {location: where}})
  }
  const validate = await schemaValidator(TEMPLATE_REPO_SCHEMA_SPEC)
  if (!validate(raw)) {
    const {describeSchemaErrors} = await import('../spec/load.js')
    const problems = describeSchemaErrors(validate.errors ?? []).map((p) =>
      p.replace(/is not a valid name \(.*\)$/, 'is not a valid name (a letter or digit, then letters, digits, ".", "_", "+", "@", "-")'),
    )
    const text = problems.length === 1 ? `Template repository ${where}: ${problems[0]}` : `Template repository ${where} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`
    throw new LagoError('TEMPLATE_REPO', text, {
      hint: 'The format: {"name": N, "sources": {S: {"type": "http", "args": {"baseurl": URL}} | {"type": "file", "args": {"root": DIR}}}, "templates": {T: {"versions": {V: {"source": S, "handle": FILE, "timestamp": EPOCH}}}}}',
      detail: {location: where, problems},
    })
  }
  const repo = {...(raw as Omit<TemplateRepo, 'location'>), location: where}
  for (const [sourceName, source] of Object.entries(repo.sources)) {
    if (source.type === 'file' && isUrl(where)) {
      throw new LagoError(
        'TEMPLATE_REPO',
        `Template repository ${where}: sources.${sourceName} is a "file" source, but the repository was loaded over the network; it may only name http(s) sources.`,
        {
          detail: {location: where, field: `sources.${sourceName}`},
        },
      )
    }
  }
  const versioned = [...Object.entries(repo.templates).map(([n, t]) => [`templates.${n}`, t] as const), ...Object.entries(repo.goldens ?? {}).map(([n, g]) => [`goldens.${n}`, g] as const)]
  for (const [templateField, template] of versioned) {
    for (const [versionName, version] of Object.entries(template.versions)) {
      const field = `${templateField}.versions.${versionName}.handle`
      if (!HANDLE.test(version.handle) || version.handle.split('/').some((segment) => segment === '..')) {
        throw new LagoError(
          'TEMPLATE_REPO',
          `Template repository ${where}: ${field} ${JSON.stringify(version.handle)} is not a relative file name under its source (letters, digits, ".", "_", "+", "@", "-" and "/"; no scheme, no leading "/", no "..").`,
          {detail: {location: where, field, value: version.handle}},
        )
      }
      if (!repo.sources[version.source]) {
        throw new LagoError(
          'TEMPLATE_REPO',
          `Template repository ${where}: ${templateField}.versions.${versionName}.source "${version.source}" is not one of its sources (${Object.keys(repo.sources).join(', ') || 'none'}).`,
          {detail: {location: where, field: `${templateField}.versions.${versionName}.source`}},
        )
      }
    }
  }
  return repo
}

export interface ResolvedTemplate {
  /** The store key: `repo:template:version` (`url:...`/`file:...` for plain images). */
  id: string
  repoName: string
  template: string
  version: string
  timestamp?: number
  /** The image: an http(s) URL or an absolute path. */
  image: string
  /** Its `.hash` and `.metadata` sidecars (repository templates). */
  hashFile?: string
  metadataFile?: string
  /** An expected digest given inline (plain images). */
  checksum?: Digest
  /** A repository file source's root: image and sidecars must resolve (symlinks too) inside it. */
  fileRoot?: string
  /** Set when the name gave no version and the newest was picked. */
  newest?: boolean
  repo?: TemplateRepo
  entry?: TemplateVersion
}

/** Where a handle of a source lives: a URL or an absolute path, always under the source's root or base URL. */
export function sourceLocation(source: TemplateSource, handle: string, baseDir = process.cwd()): string {
  const root = sourceRoot(source, baseDir)
  if (source.type === 'file') return joinWithin(root, [handle], 'The template handle', 'TEMPLATE_REPO')
  const base = new URL(root)
  const url = new URL(handle, base)
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname) || handle.startsWith('/')) {
    throw new LagoError('TEMPLATE_REPO', `The template handle ${JSON.stringify(handle)} points outside its source ${root}.`, {detail: {handle, source: root}})
  }
  return url.href
}

/** A source's root directory (file) or base URL ending in "/" (http). */
export function sourceRoot(source: TemplateSource, baseDir = process.cwd()): string {
  if (source.type === 'file') return expandRoot(source.args.root, baseDir)
  return source.args.baseurl.endsWith('/') ? source.args.baseurl : `${source.args.baseurl}/`
}

/** A file source's root: `~` and `$VARS` expanded; relative to the repository file's directory. */
function expandRoot(root: string, baseDir: string): string {
  const expanded = root.replace(/^~(?=\/|$)/, os.homedir()).replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, name: string) => process.env[name] ?? m)
  return path.resolve(baseDir, expanded.replace(/^file:\/\//, ''))
}

/** `name` (newest by timestamp), `name:version` or `repo:name:version`. */
export function resolveTemplate(repo: TemplateRepo, spec: string, explicitVersion?: string): ResolvedTemplate {
  const parts = spec.split(':')
  let [templateName, version] = [parts[0], explicitVersion]
  if (parts.length === 2) [templateName, version] = [parts[0], parts[1]]
  if (parts.length === 3) {
    if (parts[0] !== repo.name) {
      throw new LagoError('TEMPLATE', `Template "${spec}" names repository "${parts[0]}", but the repository in use is "${repo.name}" (${repo.location}).`, {
        hint: `Use "${parts[1]}:${parts[2]}", or pass that repository with --template-repo-name ${parts[0]} / --template-repo-path.`,
      })
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
  const versions = Object.entries(template.versions).sort((a, b) => b[1].timestamp - a[1].timestamp)
  const chosen = version === undefined ? versions[0] : versions.find(([v]) => v === version)
  if (!chosen) {
    throw new LagoError('TEMPLATE', `Template "${templateName}" has no version "${version}" in repository "${repo.name}".`, {
      hint: `Versions it offers (newest first): ${versions.map(([v]) => v).join(', ')}.`,
      detail: {template: templateName, version, available: versions.map(([v]) => v)},
    })
  }
  const [versionName, entry] = chosen
  const source = repo.sources[entry.source]
  const baseDir = isUrl(repo.location) ? process.cwd() : path.dirname(repo.location)
  const at = (name: string) => sourceLocation(source, name, baseDir)
  const image = at(entry.handle)
  return {
    id: `${repo.name}:${templateName}:${versionName}`,
    repoName: repo.name,
    template: templateName,
    version: versionName,
    timestamp: entry.timestamp,
    image,
    hashFile: at(`${entry.handle}.hash`),
    metadataFile: at(`${entry.handle}.metadata`),
    ...(source.type === 'file' ? {fileRoot: sourceRoot(source, baseDir)} : {}),
    newest: version === undefined,
    repo,
    entry,
  }
}

/** A template name that is really an image: an http(s)/file URL or a path. */
export function isImageReference(name: string): boolean {
  return isUrl(name) || /^(file:\/\/|\/|\.\.?\/|~\/)/.test(name)
}

/**
 * A plain image (URL or path) as a template, for users who just want a cloud image.
 * Its store key names the file and a short hash of where it came from and its checksum
 * (a local file: its path, size and modification time), so a changed image is a new version.
 */
export async function resolveImageTemplate(reference: string, options: {checksum?: string; baseDir: string; where: string}): Promise<ResolvedTemplate> {
  const checksum = options.checksum === undefined ? undefined : parseDigest(options.checksum, `${options.where}.template_checksum`)
  let image: string
  let identity: string
  if (isUrl(reference)) {
    image = reference
    identity = reference
  } else {
    image = path.resolve(options.baseDir, reference.replace(/^file:\/\//, '').replace(/^~(?=\/)/, os.homedir()))
    const info = await stat(image).catch((error: NodeJS.ErrnoException) => {
      throw new LagoError('TEMPLATE', `${options.where}.template_name: image ${image} cannot be read (${error.code}).`, {
        hint: 'Give an existing image file (qcow2 or raw, optionally .xz/.gz), an http(s) URL, or a template of the repository.',
        detail: {path: image},
      })
    })
    if (!info.isFile()) {
      // A device (/dev/sda, /dev/zero) would be read whole into the store.
      throw new LagoError('TEMPLATE', `${options.where}.template_name: ${image} is not a regular file; a template image is a file.`, {detail: {path: image}})
    }
    identity = `${image}\0${info.size}\0${info.mtimeMs}`
  }
  const base =
    path
      .basename(new URL(image, 'file:///').pathname)
      .replace(/\.(xz|gz)$/, '')
      .replace(/[^A-Za-z0-9._-]/g, '_') || 'image'
  const version = createHash('sha256')
    .update(`${identity}\0${checksum?.hex ?? ''}`)
    .digest('hex')
    .slice(0, 12)
  const kind = isUrl(reference) ? 'url' : 'file'
  return {id: `${kind}:${base}:${version}`, repoName: kind, template: base, version, image, checksum}
}
