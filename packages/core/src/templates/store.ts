import {constants} from 'node:fs'
import {access, chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile} from 'node:fs/promises'
import {randomBytes} from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import {LagoError, errorMessage} from '../errors.js'
import {log} from '../log.js'
import {abortReason, sleep} from '../util/abort.js'
import {fsyncDir, pathExists, readTextIfExists, unlessAbsent, writeFileAtomic} from '../util/fs.js'
import {currentProcess, processAlive, type ProcessIdentity} from '../util/process-identity.js'
import type {ProgressUpdate} from '../util/progress.js'
import {formatDigest, parseDigest, type Digest} from './digest.js'
import {checkFileRoot, checkImage, checkIntact, detectFormat} from './image-checks.js'
import type {RetryPolicy} from './http.js'
import {isUrl} from './location.js'
import type {ResolvedTemplate} from './repo.js'
import {TemplateUsers, type TemplateUser} from './users.js'

export type ImageFormat = 'qcow2' | 'raw'

/** What the store knows of an image it holds (the `lago` part of its `.metadata`). */
export interface StoredTemplate {
  id: string
  path: string
  format: ImageFormat
  /** `algorithm:hex` of the stored image. */
  hash: string
  size: number
  /** Whether the download was checked against a published digest. */
  verified: boolean
  source: string
  storedAt: string
  /** The repository's metadata for the image (distro, root password, ...). */
  metadata: Record<string, unknown>
  /** The size recorded when it was stored and verified (entries read back from the store). */
  recordedSize?: number
}

export interface StoreEntry extends StoredTemplate {
  users: TemplateUser[]
}

export interface EnsureOptions {
  signal?: AbortSignal
  retry?: RetryPolicy
  /** Register this prefix as a user of the template (before anyone could prune it). */
  user?: TemplateUser
  onProgress?: (progress: ProgressUpdate) => void
  onRetry?: (info: {attempt: number; offset: number; delayMs: number; reason: string}) => void
  /** Another process holds the entry (downloading it): called while we wait, with its bytes so far. */
  onWait?: (partialBytes: number | undefined) => void
  /** Store a repository template that publishes no `.hash` (refused otherwise). */
  allowUnverified?: boolean
}

export interface EnsureResult extends StoredTemplate {
  /** False when the store already had it. */
  downloaded: boolean
}

export interface PruneResult {
  removed: StoreEntry[]
  kept: StoreEntry[]
  /** Leftovers of interrupted downloads that were removed (or would be). */
  partials: string[]
  freedBytes: number
}

const SIDECARS = ['.hash', '.metadata', '.users', '.lock', '.tmp', '.part']

/** A download in progress: `<id>.<pid>.<random>.part`, one per process, created exclusively. */
const PART = /^(.+)\.\d+\.[0-9a-f]+\.part$/

/**
 * The shared template store: `DIR/<id>` (the image, read-only once stored) with `<id>.hash`
 * and `<id>.metadata` beside it, `<id>.users/` (prefixes using it), `<id>.lock` while a
 * process downloads or prunes it, `<id>.tmp` during a download, `.repos/` (last good copy
 * of each remote repository, for offline init). Versions live side by side.
 */
export class TemplateStore {
  constructor(readonly dir: string) {}

  imagePath(id: string): string {
    if (id.includes('/') || id.startsWith('.')) throw new LagoError('TEMPLATE', `"${id}" is not a template id (repo:template:version).`)
    return path.join(this.dir, id)
  }

  /** Where copies of remote repository files are kept. */
  get repoCacheDir(): string {
    return path.join(this.dir, '.repos')
  }

  users(id: string): TemplateUsers {
    return new TemplateUsers(`${this.imagePath(id)}.users`)
  }

  async get(id: string): Promise<StoredTemplate | undefined> {
    const image = this.imagePath(id)
    const info = await stat(image).catch(() => undefined)
    if (!info?.isFile()) return undefined
    const text = await readFile(`${image}.metadata`, 'utf8').catch(() => '{}')
    let metadata: Record<string, unknown> = {}
    try {
      metadata = JSON.parse(text) as Record<string, unknown>
    } catch {
      log.warn(`template store: ${image}.metadata is not valid JSON; ignoring it`)
    }
    const {lago, ...published} = metadata as {lago?: Partial<StoredTemplate>}
    const hash = lago?.hash ?? (await readFile(`${image}.hash`, 'utf8').catch(() => '')).trim()
    return {
      id,
      path: image,
      format: lago?.format ?? (await detectFormat(image)),
      hash,
      size: info.size,
      verified: lago?.verified ?? false,
      source: lago?.source ?? '',
      storedAt: lago?.storedAt ?? info.mtime.toISOString(),
      metadata: published,
      ...(typeof lago?.size === 'number' ? {recordedSize: lago.size} : {}),
    }
  }

  /** Ids of every stored image, sorted. */
  async ids(): Promise<string[]> {
    const names = await readdir(this.dir, {withFileTypes: true}).catch(() => [])
    return names
      .filter((d) => d.isFile() && !d.name.startsWith('.') && !SIDECARS.some((s) => d.name.endsWith(s)))
      .map((d) => d.name)
      .sort()
  }

  /** Every stored image with the prefixes that use it (stale users are dropped). */
  async list(): Promise<StoreEntry[]> {
    const entries: StoreEntry[] = []
    for (const id of await this.ids()) {
      const stored = await this.get(id)
      if (stored) entries.push({...stored, users: await this.users(id).live()})
    }
    return entries
  }

  /** Stored versions of `repo:template`, as ids. */
  async versionsOf(repoName: string, template: string): Promise<string[]> {
    const prefix = `${repoName}:${template}:`
    return (await this.ids()).filter((id) => id.startsWith(prefix))
  }

  /**
   * The stored template, downloaded and verified first when the store lacks it. The entry
   * is locked meanwhile: a second process asking for it waits (onWait) and then finds it.
   */
  async ensure(template: ResolvedTemplate, options: EnsureOptions = {}): Promise<EnsureResult> {
    await this.ensureWritable()
    // Losing the lock (another process took the entry over) aborts this download: two writers never race.
    const lost = new AbortController()
    const release = await this.lock(template.id, options, (error) =>
      lost.abort(
        new LagoError('TEMPLATE', `Template ${template.id}: the store lock ${this.imagePath(template.id)}.lock was lost (${error.message}); the download was abandoned and nothing was stored.`, {
          userError: false,
        }),
      ),
    )
    const signal = options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal
    try {
      if (options.user) await this.users(template.id).add(options.user)
      const present = await this.get(template.id)
      if (present) return {...(await checkIntact(present)), downloaded: false}
      try {
        return {...(await this.fetch(template, {...options, signal})), downloaded: true}
      } catch (error) {
        if (options.user) await this.users(template.id).remove(options.user)
        await this.users(template.id).dropIfEmpty()
        throw error
      }
    } finally {
      await release()
    }
  }

  /** The prefix no longer uses the template (cleanup). */
  async release(id: string, user: TemplateUser): Promise<void> {
    await this.users(id).remove(user)
  }

  /**
   * Remove every image no live prefix uses, with its sidecars, and leftovers of interrupted
   * downloads. An entry being downloaded (locked) is left alone.
   */
  async prune(options: {dryRun?: boolean; keep?: (id: string) => boolean} = {}): Promise<PruneResult> {
    const result: PruneResult = {removed: [], kept: [], partials: [], freedBytes: 0}
    for (const id of await this.ids()) {
      const release = await this.tryLock(id)
      if (!release) continue
      try {
        const stored = await this.get(id)
        if (!stored) continue
        const entry = {...stored, users: await this.users(id).live()}
        if (entry.users.length > 0 || options.keep?.(id)) {
          result.kept.push(entry)
          continue
        }
        if (!options.dryRun && !(await this.removable(id))) {
          log.warn(`template store: ${id} belongs to another user; only they (or root) can remove it`)
          result.kept.push(entry)
          continue
        }
        result.removed.push(entry)
        result.freedBytes += entry.size
        if (!options.dryRun) {
          const image = this.imagePath(id)
          await rm(image, {force: true})
          for (const suffix of ['.hash', '.metadata', '.users', '.tmp']) await rm(`${image}${suffix}`, {recursive: true, force: true})
        }
      } finally {
        await release()
      }
    }
    result.partials = await this.removePartials(options.dryRun ?? false)
    return result
  }

  /** Whether this process may remove the image: in the sticky store only its owner (or root) may. */
  private async removable(id: string): Promise<boolean> {
    const [image, dir] = await Promise.all([stat(this.imagePath(id)), stat(this.dir)])
    const uid = process.getuid?.() ?? 0
    return uid === 0 || (dir.mode & 0o1000) === 0 || image.uid === uid || dir.uid === uid
  }

  private lockOptions(id: string, onCompromised?: (error: Error) => void) {
    const image = this.imagePath(id)
    return {
      realpath: false,
      lockfilePath: `${image}.lock`,
      stale: 20_000,
      update: 5_000,
      onCompromised: (error: Error) => {
        log.warn(`template store: lock on ${id} was lost: ${error.message}`)
        onCompromised?.(error)
      },
    }
  }

  /**
   * The entry's lock (a proper-lockfile directory, stale 20 s after its holder stops touching
   * it). Its holder is named inside, so a lock whose process is gone (SIGKILL) is taken over
   * at once instead of blocking everyone for those 20 s.
   */
  private async tryLock(id: string, onCompromised?: (error: Error) => void): Promise<(() => Promise<void>) | undefined> {
    const lockfile = await import('proper-lockfile')
    const owner = `${this.imagePath(id)}.lock/owner`
    for (let attempt = 0; ; attempt++) {
      try {
        const release = await lockfile.lock(this.imagePath(id), this.lockOptions(id, onCompromised))
        await writeFile(owner, JSON.stringify(currentProcess())).catch((error: unknown) => log.debug(`template store: naming the holder of ${id}: ${String(error)}`))
        // Releasing a lock that was lost fails: there is nothing left to release.
        return async () => {
          await rm(owner, {force: true})
          await release().catch((error: NodeJS.ErrnoException) => log.debug(`template store: releasing ${id}: ${error.message}`))
        }
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'ELOCKED') {
          if (attempt > 0 || !(await this.clearDeadLock(id))) return undefined
          continue
        }
        // e.g. a stale lock another user left in the sticky store: only they (or root) may remove it.
        throw new LagoError('PERMISSION', `Cannot lock template ${id} (${this.imagePath(id)}.lock): ${code ?? errorMessage(error)}.`, {
          hint: code === 'EPERM' || code === 'EACCES' ? `Another user's stale lock? Its owner or root can remove ${this.imagePath(id)}.lock.` : undefined,
          detail: {id, code},
        })
      }
    }
  }

  /** Remove the lock of `id` when the process named in it is gone; true when it did. */
  private async clearDeadLock(id: string): Promise<boolean> {
    const dir = `${this.imagePath(id)}.lock`
    const text = await readTextIfExists(path.join(dir, 'owner'))
    let holder: ProcessIdentity
    try {
      holder = JSON.parse(text ?? '') as ProcessIdentity
    } catch {
      return false // not named (yet, or torn by a kill): proper-lockfile's staleness decides
    }
    if (processAlive(holder)) return false
    log.info(`template store: the lock on ${id} was held by pid ${holder.pid}, which is gone; taking it over`)
    await rm(dir, {recursive: true, force: true})
    return true
  }

  /**
   * What killed downloads leave (gc): partial files whose download is not running, users that
   * are gone, locks of dead processes. Images stay (that is prune's job).
   */
  async sweep(): Promise<{partials: string[]; locks: string[]}> {
    const names = (await unlessAbsent(readdir(this.dir), this.dir, 'list')) ?? []
    const locks: string[] = []
    for (const name of names.filter((n) => n.endsWith('.lock') && !n.startsWith('.'))) {
      const id = name.slice(0, -'.lock'.length)
      const release = await this.tryLock(id)
      if (!release) continue
      locks.push(name)
      await release()
    }
    for (const id of await this.ids()) await this.users(id).live()
    return {partials: await this.removePartials(false), locks}
  }

  /** Partial downloads no process is downloading any more. */
  private async removePartials(dryRun: boolean): Promise<string[]> {
    const partials: string[] = []
    const names = (await unlessAbsent(readdir(this.dir), this.dir, 'list')) ?? []
    for (const name of names.filter((n) => (n.endsWith('.tmp') || PART.test(n)) && !n.startsWith('.'))) {
      const id = PART.exec(name)?.[1] ?? name.slice(0, -'.tmp'.length)
      const release = await this.tryLock(id)
      if (!release) continue
      try {
        partials.push(name)
        if (!dryRun) await rm(path.join(this.dir, name), {force: true})
      } finally {
        await release()
      }
    }
    return partials
  }

  /** Lock the entry, waiting (and telling onWait how far the other download got) while another process holds it. */
  private async lock(id: string, options: EnsureOptions, onCompromised: (error: Error) => void): Promise<() => Promise<void>> {
    let announced = false
    for (;;) {
      const release = await this.tryLock(id, onCompromised)
      if (release) return release
      if (!announced) log.info(`template ${id}: another process is downloading it; waiting`)
      announced = true
      options.onWait?.(await this.partialBytes(id))
      await sleep(250, options.signal)
    }
  }

  /** Bytes of the largest download of `id` in progress (another process's), if any. */
  private async partialBytes(id: string): Promise<number | undefined> {
    const names = ((await unlessAbsent(readdir(this.dir), this.dir, 'list')) ?? []).filter((n) => PART.exec(n)?.[1] === id)
    const sizes = await Promise.all(
      names.map((n) =>
        stat(path.join(this.dir, n)).then(
          (s) => s.size,
          () => 0,
        ),
      ),
    )
    return sizes.length > 0 ? Math.max(...sizes) : undefined
  }

  private async ensureWritable(): Promise<void> {
    try {
      await mkdir(this.dir, {recursive: true})
      await access(this.dir, constants.W_OK | constants.X_OK)
    } catch (error) {
      throw await unwritable(this.dir, error)
    }
  }

  private async fetch(template: ResolvedTemplate, options: EnsureOptions): Promise<StoredTemplate> {
    const {download} = await import('./download.js')
    const image = this.imagePath(template.id)
    const tmp = this.partPath(template.id)
    log.info(`template ${template.id}: downloading ${template.image}`)
    await checkFileRoot(template)
    const expected = template.checksum ?? (template.hashFile ? await readHashSidecar(template.hashFile, options.signal) : undefined)
    const published = template.metadataFile ? await readMetadataSidecar(template.metadataFile, options.signal) : {}
    if (!expected && template.hashFile) {
      if (!options.allowUnverified) {
        throw new LagoError('TEMPLATE', `Template ${template.id}: the repository publishes no hash for ${template.image} (${template.hashFile} is missing), so it cannot be verified.`, {
          hint: 'Publish a .hash file next to the image, or accept unverified templates with --allow-unverified (or allow_unverified = true in [download] of lago.conf).',
          detail: {template: template.id, hashFile: template.hashFile},
        })
      }
      log.warn(`template ${template.id}: ${template.image} has no published checksum; it is stored unverified (allowed)`)
    }
    const result = await download(template.image, tmp, {
      expected,
      signal: options.signal,
      retry: options.retry,
      onProgress: options.onProgress,
      onRetry: options.onRetry,
    })
    try {
      const stored: StoredTemplate = {
        id: template.id,
        path: image,
        format: await checkImage(tmp, template),
        hash: formatDigest(result.digest),
        size: result.size,
        verified: expected !== undefined,
        source: template.image,
        storedAt: new Date().toISOString(),
        metadata: published,
      }
      await this.commit(tmp, stored, options.signal)
      return stored
    } catch (error) {
      await rm(tmp, {force: true})
      throw error
    }
  }

  /** Where a process writes an image it is making for `id` (a partial download, a frozen disk): prune and gc know the name. */
  partPath(id: string): string {
    return `${this.imagePath(id)}.${process.pid}.${randomBytes(4).toString('hex')}.part`
  }

  /**
   * Make a finished image (`tmp`, from partPath) the entry `stored.id`: sidecars first, then
   * the image by rename, so the entry is either absent or whole. The caller holds its lock.
   */
  async commit(tmp: string, stored: StoredTemplate, signal?: AbortSignal): Promise<void> {
    const image = this.imagePath(stored.id)
    const {metadata, path: _path, ...lago} = stored
    await writeFileAtomic(`${image}.metadata`, `${JSON.stringify({...metadata, lago}, null, 2)}\n`, 0o444)
    await writeFileAtomic(`${image}.hash`, `${stored.hash}\n`, 0o444)
    await chmod(tmp, 0o444)
    if (signal?.aborted) throw abortReason(signal)
    await rename(tmp, image)
    await fsyncDir(this.dir)
    log.info(`template ${stored.id}: stored ${stored.size} bytes (${stored.hash})`)
  }

  /**
   * Hold the lock of entry `id` (waiting while another process holds it) in a store that is
   * writable; frozen disks and golden descriptions are written under it. `signal` aborts when
   * the lock is lost.
   */
  async acquire(id: string, options: {signal?: AbortSignal; onWait?: () => void} = {}): Promise<{release: () => Promise<void>; signal: AbortSignal}> {
    await this.ensureWritable()
    const lost = new AbortController()
    const release = await this.lock(id, {signal: options.signal, onWait: options.onWait}, (error) =>
      lost.abort(new LagoError('TEMPLATE', `Store entry ${id}: its lock was lost (${error.message}); nothing was stored.`, {userError: false})),
    )
    return {release, signal: options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal}
  }
}

export async function readSidecar(location: string, signal?: AbortSignal): Promise<string | undefined> {
  if (isUrl(location)) {
    const {getText} = await import('./http.js')
    return getText(location, {signal, optional: true})
  }
  return readFile(location.replace(/^file:\/\//, ''), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw new LagoError('TEMPLATE', `Cannot read ${location}: ${error.code ?? error.message}.`)
  })
}

async function readHashSidecar(location: string, signal?: AbortSignal): Promise<Digest | undefined> {
  const text = await readSidecar(location, signal)
  return text === undefined ? undefined : parseDigest(text, `The hash file ${location}`)
}

async function readMetadataSidecar(location: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const text = await readSidecar(location, signal)
  if (text === undefined) return {}
  try {
    const value = JSON.parse(text) as unknown
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {
    // reported below
  }
  throw new LagoError('TEMPLATE', `The metadata file ${location} is not a JSON object.`, {detail: {location}})
}

/** Why the store cannot be written, naming the permission and who lacks it. */
async function unwritable(dir: string, error: unknown): Promise<LagoError> {
  const code = (error as NodeJS.ErrnoException).code
  if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') {
    return new LagoError('PERMISSION', `Cannot write to the template store ${dir} (${code ?? errorMessage(error)}).`, {
      hint: 'Pass --template-store DIR, or set template_store in ~/.config/lago/lago.conf.',
      detail: {store: dir, code},
    })
  }
  // The first directory on the way that cannot be searched, else the deepest existing one (not writable).
  const parts = path.resolve(dir).split(path.sep).filter(Boolean)
  let blocking: string = path.sep
  let missing = 'write'
  for (const part of parts) {
    const next = path.join(blocking, part)
    if (!(await pathExists(next))) break
    if (
      !(await access(next, constants.X_OK).then(
        () => true,
        () => false,
      ))
    ) {
      ;[blocking, missing] = [next, 'search (x)']
      break
    }
    blocking = next
  }
  const info = await stat(blocking).catch(() => undefined)
  const user = os.userInfo()
  const owner = info ? ` (owner uid ${info.uid}, group gid ${info.gid}, mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')})` : ''
  const what = code === 'EROFS' ? `${blocking} is on a read-only file system` : `${missing} permission on ${blocking}${owner} is missing for user ${user.username} (uid ${user.uid})`
  return new LagoError('PERMISSION', `Cannot write to the template store ${dir}: ${what}.`, {
    hint: `Lago needs write and search permission (w and x) on the store directory. Ask for it (e.g. chgrp lago ${blocking} && chmod g+rwxs ${blocking}, with you in group lago), or pass --template-store DIR for a store you own.`,
    detail: {store: dir, directory: blocking, code, uid: user.uid},
  })
}

export {detectFormat} from './image-checks.js'
