import {randomBytes} from 'node:crypto'
import {appendFile, copyFile, mkdir, readdir, readFile, rename, rm, stat} from 'node:fs/promises'
import path from 'node:path'
import {LagoError, errorMessage, isLagoError} from '../errors.js'
import {CommandFailedError, run} from '../util/exec.js'
import {pathExists, writeFileAtomic, writeJsonAtomic} from '../util/fs.js'
import {isUrl} from './location.js'
import {loadTemplateRepo, parseTemplateRepo, type TemplateRepo} from './repo.js'

export type RegisteredKind = 'git' | 'file' | 'url'

/** A template repository registered under the repos directory (`lago template-repo add`). */
export interface RegisteredRepo {
  /** Directory name under the repos directory; what --template-repo-name takes. */
  name: string
  dir: string
  kind: RegisteredKind
  origin: string
  /** The repository JSON inside `dir`. */
  file: string
  /** The `name` inside the JSON (the `repo` part of template ids). */
  repoName?: string
  templates?: string[]
  updatedAt?: string
  /** Set when the repository JSON cannot be loaded. */
  error?: string
}

const MANIFEST = '.lago-template-repo.json'
const COPY = 'repo.json'
/** Where the repository JSON is looked for in a git checkout, in order; then any *.json with "templates". */
const CANDIDATES = ['repo.metadata', 'template-repo.json', 'repo.json', 'templates.json']

interface Manifest {
  kind: RegisteredKind
  origin: string
  file: string
  updatedAt: string
}

/**
 * Registered template repositories, each a directory under `dir` (default /var/lib/lago/repos):
 * a git clone (`git clone URL_OR_PATH`), or a copy of a repository JSON file or URL. A small
 * manifest in each says where it came from, for `update`.
 */
export class TemplateRepoRegistry {
  constructor(readonly dir: string) {}

  async add(origin: string, options: {name?: string; signal?: AbortSignal} = {}): Promise<RegisteredRepo> {
    if (options.name !== undefined) checkName(options.name, '--name')
    const kind = await kindOf(origin)
    const source = kind === 'git' || isUrl(origin) || /^[a-z+]+:\/\//.test(origin) || /^[^/]+@[^/]+:/.test(origin) ? origin : path.resolve(origin)
    await mkdir(this.dir, {recursive: true}).catch((error: unknown) => {
      throw new LagoError('PERMISSION', `Cannot create the template repository directory ${this.dir}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}.`, {
        hint: 'Pass --template-repos DIR for a directory you can write, or set template_repos in ~/.config/lago/lago.conf.',
      })
    })
    const staging = path.join(this.dir, `.adding-${randomBytes(4).toString('hex')}`)
    try {
      let file: string
      if (kind === 'git') {
        await git(['clone', '--quiet', '--', source, staging], source, options.signal)
        file = await findRepoFile(staging, source)
        await appendFile(path.join(staging, '.git', 'info', 'exclude'), `/${MANIFEST}\n`)
      } else {
        await mkdir(staging)
        file = COPY
        await fetchCopy(kind, source, path.join(staging, COPY))
      }
      const repo = await loadTemplateRepo(path.join(staging, file))
      const name = options.name ?? checkName(repo.name, `the "name" of ${source}`)
      const target = path.join(this.dir, name)
      if (await pathExists(target)) {
        throw new LagoError('TEMPLATE_REPO', `A template repository named "${name}" is already registered (${target}).`, {
          hint: `Refresh it with "lago template-repo update ${name}", or pick another name with --name.`,
          detail: {name},
        })
      }
      await writeJsonAtomic(path.join(staging, MANIFEST), {kind, origin: source, file, updatedAt: new Date().toISOString()} satisfies Manifest)
      await rename(staging, target)
      return await this.describe(name)
    } finally {
      await rm(staging, {recursive: true, force: true})
    }
  }

  /** Refresh one repository or all: git fetch + reset to upstream, or a new copy of the file/URL. */
  async update(name?: string, options: {signal?: AbortSignal} = {}): Promise<RegisteredRepo[]> {
    const names = name === undefined ? await this.names() : [(await this.find(name)).name]
    const results: RegisteredRepo[] = []
    for (const each of names) {
      const dir = path.join(this.dir, each)
      try {
        const manifest = await readManifest(dir)
        if (manifest.kind === 'git') {
          await git(['-C', dir, 'fetch', '--quiet', 'origin'], manifest.origin, options.signal)
          await git(['-C', dir, 'reset', '--quiet', '--hard', '@{upstream}'], manifest.origin, options.signal)
        } else {
          const fresh = path.join(dir, `${COPY}.new`)
          await fetchCopy(manifest.kind, manifest.origin, fresh)
          await parseTemplateRepo(await readFile(fresh, 'utf8'), manifest.origin)
          await rename(fresh, path.join(dir, COPY))
        }
        await writeJsonAtomic(path.join(dir, MANIFEST), {...manifest, updatedAt: new Date().toISOString()})
        results.push(await this.describe(each))
      } catch (error) {
        results.push({...(await this.describe(each)), error: isLagoError(error) ? error.message : errorMessage(error)})
      }
    }
    return results
  }

  async list(): Promise<RegisteredRepo[]> {
    return Promise.all((await this.names()).map((name) => this.describe(name)))
  }

  /** A registered repository by its directory name, or by the `name` inside its JSON. */
  async find(name: string): Promise<RegisteredRepo> {
    const all = await this.list()
    const found = all.find((r) => r.name === name) ?? all.find((r) => r.repoName === name)
    if (!found) {
      throw new LagoError('TEMPLATE_REPO', `No template repository named "${name}" is registered in ${this.dir}.`, {
        hint: all.length > 0 ? `Registered: ${all.map((r) => r.name).join(', ')}.` : 'Register one with "lago template-repo add <git URL, JSON file or URL> [--name N]".',
        detail: {name, registered: all.map((r) => r.name)},
      })
    }
    return found
  }

  /** The loaded repository of a registered name. */
  async load(name: string): Promise<TemplateRepo> {
    const found = await this.find(name)
    return loadTemplateRepo(found.file)
  }

  private async names(): Promise<string[]> {
    const entries = await readdir(this.dir, {withFileTypes: true}).catch(() => [])
    const names: string[] = []
    for (const entry of entries.filter((e) => e.isDirectory() && !e.name.startsWith('.'))) {
      if (await pathExists(path.join(this.dir, entry.name, MANIFEST))) names.push(entry.name)
    }
    return names.sort()
  }

  private async describe(name: string): Promise<RegisteredRepo> {
    const dir = path.join(this.dir, name)
    const manifest = await readManifest(dir)
    const file = path.join(dir, manifest.file)
    const base = {name, dir, kind: manifest.kind, origin: manifest.origin, file, updatedAt: manifest.updatedAt}
    try {
      const repo = await loadTemplateRepo(file)
      return {...base, repoName: repo.name, templates: Object.keys(repo.templates).sort()}
    } catch (error) {
      return {...base, error: errorMessage(error)}
    }
  }
}

function checkName(name: string, what: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new LagoError('USAGE', `${what}: "${name}" is not a valid repository name (letters, digits, ".", "_", "-"; not starting with a dot).`)
  }
  return name
}

async function readManifest(dir: string): Promise<Manifest> {
  return JSON.parse(await readFile(path.join(dir, MANIFEST), 'utf8')) as Manifest
}

/** git clone for git repositories (URLs, or local directories holding one); a copy for JSON files and URLs. */
async function kindOf(origin: string): Promise<RegisteredKind> {
  if (isUrl(origin)) return /\.(json|metadata)(\?.*)?$/.test(new URL(origin).pathname) ? 'url' : 'git'
  if (/^[a-z+]+:\/\//.test(origin) && !origin.startsWith('file://')) return 'git'
  const local = path.resolve(origin.replace(/^file:\/\//, ''))
  const info = await stat(local).catch(() => undefined)
  if (info?.isFile()) return 'file'
  if (info?.isDirectory()) return 'git'
  if (/^[^/]+@[^/]+:/.test(origin)) return 'git' // scp-like git address
  throw new LagoError('TEMPLATE_REPO', `${origin} is neither an existing file or directory nor a URL.`, {
    hint: 'Give a git repository (URL or local path) holding a repository JSON, or the JSON itself (file or http(s) URL).',
    detail: {origin},
  })
}

async function fetchCopy(kind: RegisteredKind, origin: string, target: string): Promise<void> {
  if (kind === 'url') {
    const {getText} = await import('./http.js')
    await writeFileAtomic(target, (await getText(origin))!)
  } else {
    await copyFile(origin, target)
  }
}

async function findRepoFile(dir: string, origin: string): Promise<string> {
  for (const name of CANDIDATES) if (await pathExists(path.join(dir, name))) return name
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()) {
    const text = await readFile(path.join(dir, name), 'utf8').catch(() => '')
    if (/"templates"\s*:/.test(text)) return name
  }
  throw new LagoError('TEMPLATE_REPO', `${origin} holds no template repository JSON (looked for ${CANDIDATES.join(', ')} and *.json with "templates").`, {
    detail: {origin},
  })
}

async function git(args: string[], origin: string, signal?: AbortSignal): Promise<void> {
  try {
    await run('git', args, {signal, env: {GIT_TERMINAL_PROMPT: '0'}})
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error
    if (error.status === -1 && /ENOENT/.test(error.output)) {
      throw new LagoError('HOST', 'git is not installed; Lago needs it for git template repositories.', {hint: 'Install it: apt-get install git / dnf install git.'})
    }
    const verb = args.find((a) => ['clone', 'fetch', 'reset'].includes(a))
    throw new LagoError('TEMPLATE_REPO', `git ${verb} of ${origin} failed: ${error.output.split('\n')[0]}`, {
      hint: 'Check the URL or path and that it is a git repository you can read.',
      detail: {origin, exitCode: error.status},
    })
  }
}
