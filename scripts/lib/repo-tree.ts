// The repository tree of docs/release.md (the original Lago layout):
//   stable/X.0/{ChangeLog_X.0.txt, rpm/DIST/ (+repodata), sources/}
//   unstable/X.0/{latest -> snapshot-lago_X.0_pipeline_N, snapshot-lago_X.0_pipeline_N/{rpm/DIST/, sources/, ChangeLog, version}}
// One series per major version, so `dnf upgrade` from stable/X.0 never crosses an API break.
import {execa} from 'execa'
import {existsSync} from 'node:fs'
import {cp, mkdir, readdir, readFile, rename, rm, symlink} from 'node:fs/promises'
import path from 'node:path'
import {compareVersions, parseVersion, type Version} from './version.js'
import {ScriptError} from './cli.js'

export class ReleaseError extends ScriptError {}

export function seriesOf(version: Version): string {
  return `${version.major}.0`
}

export function snapshotName(series: string, pipeline: number): string {
  return `snapshot-lago_${series}_pipeline_${pipeline}`
}

const SNAPSHOT = /^snapshot-lago_(\d+\.0)_pipeline_(\d+)$/

/** The version a build (npm run rpm output) or a snapshot holds. */
export async function versionOf(dir: string): Promise<Version> {
  const file = path.join(dir, 'version')
  const text = await readFile(file, 'utf8').catch(() => {
    throw new ReleaseError(`${file} is missing: is ${dir} the output of "npm run rpm"?`)
  })
  const version = parseVersion(text)
  if (!version) throw new ReleaseError(`${file} holds "${text.trim()}", not a version X.Y.Z`)
  return version
}

/** Copies a build into unstable/X.0/snapshot-lago_X.0_pipeline_N (with repodata) and points latest at it. */
export async function publishSnapshot(tree: string, build: string, pipeline: number): Promise<string> {
  if (!Number.isInteger(pipeline) || pipeline < 1) throw new ReleaseError(`--pipeline ${pipeline}: expected the pipeline's build number, a positive integer`)
  const version = await versionOf(build)
  const series = seriesOf(version)
  const seriesDir = path.join(tree, 'unstable', series)
  const snapshot = path.join(seriesDir, snapshotName(series, pipeline))
  if (existsSync(snapshot)) throw new ReleaseError(`${snapshot} exists already: every pipeline publishes once (give the next build number)`)
  await mkdir(seriesDir, {recursive: true})
  const partial = `${snapshot}.partial`
  await rm(partial, {recursive: true, force: true})
  await cp(build, partial, {recursive: true})
  for (const dist of await dists(partial)) await createRepo(path.join(partial, 'rpm', dist))
  await rename(partial, snapshot)
  await pointLatest(seriesDir, path.basename(snapshot))
  return snapshot
}

/** Atomically repoints unstable/X.0/latest (a relative symlink: the tree can move or be mirrored). */
async function pointLatest(seriesDir: string, target: string): Promise<void> {
  const latest = path.join(seriesDir, 'latest')
  const temporary = `${latest}.new`
  await rm(temporary, {force: true})
  await symlink(target, temporary)
  await rename(temporary, latest)
}

export async function dists(buildOrSnapshot: string): Promise<string[]> {
  const rpmDir = path.join(buildOrSnapshot, 'rpm')
  const entries = await readdir(rpmDir, {withFileTypes: true}).catch(() => [])
  const found = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
  if (found.length === 0) throw new ReleaseError(`${rpmDir} holds no DIST directory with RPMs`)
  return found
}

/** repodata for a directory of RPMs: gzip XML, no sqlite (createrepo_c 1.x defaults; dnf needs no more), alike on every createrepo_c version. */
export async function createRepo(dir: string): Promise<void> {
  await execa('createrepo_c', ['--quiet', '--general-compress-type=gz', '--no-database', dir])
}

export interface SnapshotRef {
  dir: string
  series: string
  pipeline: number
}

/** A snapshot named by its directory name (snapshot-lago_X.0_pipeline_N) or path, inside `tree`. */
export function findSnapshot(tree: string, name: string): SnapshotRef {
  const base = path.basename(name.replace(/\/+$/, ''))
  const match = SNAPSHOT.exec(base)
  if (!match) throw new ReleaseError(`"${name}" is not a snapshot name: expected snapshot-lago_X.0_pipeline_N (see ${path.join(tree, 'unstable')})`)
  const dir = path.join(tree, 'unstable', match[1], base)
  if (!existsSync(dir)) throw new ReleaseError(`${dir} does not exist (snapshots: ls ${path.join(tree, 'unstable', match[1])})`)
  return {dir, series: match[1], pipeline: Number(match[2])}
}

/** Snapshots of a series, oldest pipeline first. */
export async function snapshotsOf(tree: string, series: string): Promise<SnapshotRef[]> {
  const seriesDir = path.join(tree, 'unstable', series)
  const names = await readdir(seriesDir).catch(() => [] as string[])
  return names
    .map((name) => SNAPSHOT.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && m[1] === series)
    .map((m) => ({dir: path.join(seriesDir, m[0]), series, pipeline: Number(m[2])}))
    .sort((a, b) => a.pipeline - b.pipeline)
}

/** Deletes all but the `keep` newest snapshots of a series; returns the deleted ones. */
export async function pruneSnapshots(tree: string, series: string, keep: number): Promise<string[]> {
  if (!Number.isInteger(keep) || keep < 1) throw new ReleaseError(`--keep ${keep}: expected how many snapshots to keep, at least 1`)
  const all = await snapshotsOf(tree, series)
  const doomed = all.slice(0, Math.max(0, all.length - keep))
  for (const snapshot of doomed) await rm(snapshot.dir, {recursive: true, force: true})
  return doomed.map((s) => path.basename(s.dir))
}

/** The newest version already released in stable/X.0 (from the lago RPM file names). */
export async function newestStableVersion(stableDir: string): Promise<Version | undefined> {
  const versions: Version[] = []
  const rpmRoot = path.join(stableDir, 'rpm')
  for (const dist of await readdir(rpmRoot).catch(() => [] as string[])) {
    for (const file of await readdir(path.join(rpmRoot, dist)).catch(() => [] as string[])) {
      const match = /^lago-(\d+\.\d+\.\d+)-[^-]+\.noarch\.rpm$/.exec(file)
      if (match) versions.push(parseVersion(match[1])!)
    }
  }
  return versions.sort(compareVersions).pop()
}
