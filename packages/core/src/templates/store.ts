import {createHash} from 'node:crypto'
import {createReadStream, createWriteStream} from 'node:fs'
import {chmod, mkdir, readFile, rename, rm, stat} from 'node:fs/promises'
import path from 'node:path'
import {Readable, Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {LagoError, errorMessage} from '../errors.js'
import {log} from '../log.js'
import {pathExists, writeJsonAtomic} from '../util/fs.js'
import {run} from '../util/exec.js'
import type {ResolvedTemplate, TemplateSource} from './repo.js'

export type ImageFormat = 'qcow2' | 'raw'

export interface StoredTemplate {
  id: string
  path: string
  format: ImageFormat
  metadata: Record<string, unknown>
}

export interface FetchProgress {
  bytes: number
  total?: number
}

export interface EnsureOptions {
  signal?: AbortSignal
  onProgress?: (progress: FetchProgress) => void
  /** Called when another process holds the entry's lock and we wait for it. */
  onWait?: () => void
}

/** The shared, immutable template store: `DIR/repo:template:version` plus `.hash` and `.metadata`. */
export class TemplateStore {
  constructor(readonly dir: string) {}

  imagePath(id: string): string {
    return path.join(this.dir, id)
  }

  async get(id: string): Promise<StoredTemplate | undefined> {
    const image = this.imagePath(id)
    if (!(await pathExists(image))) return undefined
    const metadata = JSON.parse(await readFile(`${image}.metadata`, 'utf8')) as Record<string, unknown>
    return {id, path: image, format: (metadata.format as ImageFormat) ?? 'raw', metadata}
  }

  /** The stored template, downloading and verifying it first when it is not in the store. */
  async ensure(template: ResolvedTemplate, options: EnsureOptions = {}): Promise<StoredTemplate> {
    const present = await this.get(template.id)
    if (present) return present
    await this.ensureWritable()
    const lockfile = await import('proper-lockfile')
    const image = this.imagePath(template.id)
    let release: (() => Promise<void>) | undefined
    try {
      release = await lockfile.lock(image, {realpath: false, lockfilePath: `${image}.lock`, stale: 30_000, update: 5_000})
    } catch {
      options.onWait?.()
      release = await lockfile.lock(image, {
        realpath: false,
        lockfilePath: `${image}.lock`,
        stale: 30_000,
        update: 5_000,
        retries: {retries: 100_000, factor: 1, minTimeout: 200, maxTimeout: 200},
      })
    }
    try {
      return (await this.get(template.id)) ?? (await this.download(template, options))
    } finally {
      await release()
    }
  }

  private async ensureWritable(): Promise<void> {
    try {
      await mkdir(this.dir, {recursive: true})
      const probe = path.join(this.dir, `.write-test-${process.pid}`)
      await writeJsonAtomic(probe, {})
      await rm(probe)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      throw new LagoError('PERMISSION', `Cannot write to the template store ${this.dir} (${code ?? errorMessage(error)}).`, {
        hint:
          code === 'EACCES' || code === 'EPERM'
            ? `Write permission on ${this.dir} is missing: run "lago setup --user $USER" as root, or pass --template-store DIR for a store you own.`
            : 'Pass --template-store DIR, or set template_store in ~/.config/lago/lago.conf.',
      })
    }
  }

  private async download(template: ResolvedTemplate, options: EnsureOptions): Promise<StoredTemplate> {
    const source = template.repo.sources[template.entry.source]
    const handle = template.entry.handle
    const image = this.imagePath(template.id)
    const tmp = `${image}.tmp`
    const origin = describeOrigin(source, handle)
    log.info(`template ${template.id}: fetching ${origin}`)
    const expected = await readSidecar(source, `${handle}.hash`)
    const remoteMetadata = await readSidecar(source, `${handle}.metadata`)
    const algorithm = expected ? hashAlgorithm(expected.trim(), origin) : 'sha256'
    const hash = createHash(algorithm)
    let bytes = 0
    const {body, total} = await openSource(source, handle)
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk)
        bytes += chunk.length
        options.onProgress?.({bytes, total})
        done(null, chunk)
      },
    })
    try {
      await pipeline(body, counter, createWriteStream(tmp), {signal: options.signal})
      const actual = hash.digest('hex')
      const want = expected?.trim().replace(/^sha(1|256):/, '').split(/\s+/)[0]
      if (want && want.toLowerCase() !== actual) {
        throw new LagoError('TEMPLATE', `Template ${template.id} from ${origin} failed verification: expected ${algorithm} ${want}, got ${actual}.`, {
          hint: 'The download was discarded. Retry; if it persists the repository is broken.',
        })
      }
      if (total !== undefined && bytes !== total) {
        throw new LagoError('TEMPLATE', `Template ${template.id} from ${origin} was truncated: ${bytes} of ${total} bytes.`)
      }
      const format = await detectFormat(tmp)
      const metadata = {...(remoteMetadata ? parseMetadata(remoteMetadata, origin) : {}), format, [algorithm]: actual, size: bytes, source: origin}
      await writeJsonAtomic(`${image}.metadata`, metadata)
      await writeJsonAtomic(`${image}.hash`, `${algorithm}:${actual}`)
      await chmod(tmp, 0o444)
      await rename(tmp, image)
      return {id: template.id, path: image, format, metadata}
    } catch (error) {
      await rm(tmp, {force: true})
      throw error
    }
  }
}

function describeOrigin(source: TemplateSource, handle: string): string {
  return source.type === 'file' ? path.join(source.args.root, handle) : new URL(handle, withSlash(source.args.baseurl)).href
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`
}

async function openSource(source: TemplateSource, handle: string): Promise<{body: Readable; total?: number}> {
  const origin = describeOrigin(source, handle)
  if (source.type === 'file') {
    try {
      const info = await stat(origin)
      return {body: createReadStream(origin), total: info.size}
    } catch (error) {
      throw new LagoError('TEMPLATE', `Template image ${origin} cannot be read (${(error as NodeJS.ErrnoException).code}).`)
    }
  }
  const response = await fetch(origin).catch((error: unknown) => {
    throw new LagoError('TEMPLATE', `Cannot download ${origin}: ${errorMessage((error as Error).cause ?? error)}.`)
  })
  if (!response.ok || !response.body) throw new LagoError('TEMPLATE', `Cannot download ${origin}: HTTP ${response.status}.`)
  const length = Number(response.headers.get('content-length'))
  return {body: Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), total: Number.isFinite(length) && length > 0 ? length : undefined}
}

/** A small sidecar file (`.hash`, `.metadata`) next to the image, or undefined when absent. */
async function readSidecar(source: TemplateSource, name: string): Promise<string | undefined> {
  const origin = describeOrigin(source, name)
  if (source.type === 'file') return readFile(origin, 'utf8').catch(() => undefined)
  const response = await fetch(origin).catch(() => undefined)
  return response?.ok ? response.text() : undefined
}

function hashAlgorithm(text: string, origin: string): 'sha256' | 'sha1' {
  const hex = text.replace(/^sha(1|256):/, '').split(/\s+/)[0]
  if (/^[0-9a-f]{64}$/i.test(hex)) return 'sha256'
  if (/^[0-9a-f]{40}$/i.test(hex)) return 'sha1'
  throw new LagoError('TEMPLATE', `The hash file for ${origin} holds neither a sha256 nor a sha1 digest: "${text.slice(0, 80)}".`)
}

function parseMetadata(text: string, origin: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    throw new LagoError('TEMPLATE', `The metadata file for ${origin} is not valid JSON.`)
  }
}

export async function detectFormat(file: string): Promise<ImageFormat> {
  const {stdout} = await run('qemu-img', ['info', '--output=json', file])
  const format = (JSON.parse(stdout) as {format: string}).format
  if (format !== 'qcow2' && format !== 'raw') {
    throw new LagoError('TEMPLATE', `Template image ${file} is in format "${format}"; Lago stores qcow2 or raw images.`)
  }
  return format
}
