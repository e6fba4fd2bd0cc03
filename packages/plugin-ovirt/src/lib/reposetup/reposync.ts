import {mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {LagoError, log, run} from '@lago/core'
import {corruptRpms, fingerprints} from './rpm-files.js'

export interface SyncOptions {
  /** The yum .repo file. */
  config: string
  id: string
  /** The host-wide cache: one directory per repository id. */
  cacheDir: string
  arches: string[]
  attempts?: number
  signal?: AbortSignal
  report?: (text: string) => void
}

export interface SyncResult {
  id: string
  dir: string
  packages: number
  downloaded: string[]
  /** Nothing new was downloaded: the cached copy was already the newest. */
  reused: boolean
}

const VERIFIED = '.lago-verified.json'

/**
 * Mirror the newest packages of one repository into `<cacheDir>/<id>` with dnf reposync,
 * under a lock shared by every prefix of the host. After each run, every package the
 * repository lists must be there with good digests; a sync that leaves one missing or
 * corrupt is retried (the bad files deleted, then dnf's cache wiped) and then fails
 * naming the files: never a silent success (lago#319).
 */
export async function syncRepo(options: SyncOptions): Promise<SyncResult> {
  const dir = path.join(options.cacheDir, options.id)
  await mkdir(dir, {recursive: true})
  const lockfile = await import('proper-lockfile')
  options.report?.('waiting for the cache lock')
  const release = await lockfile.lock(dir, {retries: {retries: 180, minTimeout: 1000, maxTimeout: 1000}, stale: 60_000, realpath: false})
  try {
    return await syncLocked(options, dir)
  } finally {
    await release()
  }
}

async function syncLocked(options: SyncOptions, dir: string): Promise<SyncResult> {
  const before = await fingerprints(dir)
  const verified = await readVerified(dir)
  const attempts = options.attempts ?? 3
  let problem = ''
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) log.warn(`reposync ${options.id}: ${problem}; retrying (${attempt}/${attempts})`)
    if (attempt === attempts && attempt > 1) await rm(dnfCacheDir(options), {recursive: true, force: true})
    options.report?.(attempt === 1 ? 'dnf reposync' : `dnf reposync, attempt ${attempt}`)
    const sync = await dnf(
      options,
      ['reposync', '--repoid', options.id, '--newest-only', '--delete', '--refresh', ...options.arches.flatMap((a) => ['--arch', a]), '--download-path', options.cacheDir],
      false,
    )
    const expected = sync.exitCode === 0 ? await expectedLocations(options) : []
    const now = await fingerprints(dir)
    const missing = expected.filter((location) => !(location in now))
    const unverified = Object.keys(now).filter((name) => verified[name] !== now[name])
    options.report?.(`verifying ${unverified.length} package${unverified.length === 1 ? '' : 's'}`)
    const corrupt = (
      await corruptRpms(
        unverified.map((name) => path.join(dir, name)),
        options.signal,
      )
    ).map((file) => path.relative(dir, file))
    for (const name of corrupt) await rm(path.join(dir, name), {force: true})
    if (sync.exitCode === 0 && missing.length === 0 && corrupt.length === 0) {
      await writeFile(path.join(dir, VERIFIED), JSON.stringify(now))
      const downloaded = Object.keys(now).filter((name) => before[name] !== now[name])
      return {id: options.id, dir, packages: Object.keys(now).length, downloaded, reused: downloaded.length === 0}
    }
    problem = [
      sync.exitCode === 0 ? '' : `dnf reposync failed (exit ${sync.exitCode}): ${dnfErrors(`${sync.stdout}\n${sync.stderr}`)}`,
      missing.length > 0 ? `missing after sync: ${missing.join(', ')}` : '',
      corrupt.length > 0 ? `corrupt (digests do not match, deleted): ${corrupt.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; ')
  }
  throw new LagoError('REPO', `Could not sync repository "${options.id}" of ${options.config} after ${attempts} attempts: ${problem}.`, {
    hint: "Check that the repository's baseurl answers and serves the packages its metadata lists; the partial copy stays in " + dir + '.',
    detail: {repo: options.id, config: options.config},
    userError: false,
  })
}

/** Where each newest package should land, relative to the repository's directory (as reposync lays it out). */
async function expectedLocations(options: SyncOptions): Promise<string[]> {
  const arches = options.arches.join(',')
  const query = await dnf(options, ['repoquery', '--repoid', options.id, '--latest-limit', '1', '--arch', arches, '--qf', '%{location}'])
  if (query.exitCode !== 0) throw new LagoError('REPO', `dnf repoquery on "${options.id}" failed: ${lastLines(query.stderr)}`, {userError: false})
  return [
    ...new Set(
      query.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.endsWith('.rpm') && !l.endsWith('.src.rpm')),
    ),
  ]
}

/** dnf with only the given .repo file's repositories and its own cache under the reposync cache. */
function dnf(options: SyncOptions, args: string[], quiet = true) {
  const cache = dnfCacheDir(options)
  return run(
    'dnf',
    [
      ...(quiet ? ['-q'] : []),
      '-y',
      '--config',
      path.resolve(options.config),
      `--setopt=reposdir=${path.join(cache, 'no-reposdir')}`,
      `--setopt=cachedir=${cache}`,
      `--setopt=logdir=${cache}`,
      `--setopt=persistdir=${path.join(cache, 'persist')}`,
      ...args,
    ],
    {reject: false, signal: options.signal},
  )
}

function dnfCacheDir(options: SyncOptions): string {
  return path.join(options.cacheDir, '.dnf', options.id)
}

async function readVerified(dir: string): Promise<Record<string, string>> {
  try {
    return JSON.parse(await readFile(path.join(dir, VERIFIED), 'utf8')) as Record<string, string>
  } catch {
    return {}
  }
}

function lastLines(text: string, count = 5): string {
  return text
    .trim()
    .split('\n')
    .filter((l) => !/Unable to detect release version/.test(l))
    .slice(-count)
    .join('\n')
}

/** dnf's own words for what failed (the FAILED/Error lines), else its last lines. */
function dnfErrors(output: string): string {
  const errors = [
    ...new Set(
      output
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /^\[FAILED\]|^Error|^Curl error|Status code: [45]/.test(l)),
    ),
  ]
  return errors.length > 0 ? errors.join('; ') : lastLines(output)
}
