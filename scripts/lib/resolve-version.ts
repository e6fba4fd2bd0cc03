import {readFile} from 'node:fs/promises'
import {ScriptError} from './cli.js'
import path from 'node:path'
import {firstParentHistory, isGitRepo, isShallow, RELEASE_TAG} from './git.js'
import {formatVersion, parseVersion, versionHistory, type Version, type VersionedCommit} from './version.js'

export interface ResolvedVersion {
  version: Version
  /** Every first-parent commit with its version (empty outside git). */
  history: VersionedCommit[]
  /** Why the version may not be the real one (no tags, shallow clone): printed on stderr. */
  warnings: string[]
}

export class VersionError extends ScriptError {}

/**
 * The version of the tree at `repo`: LAGO_VERSION when set (a pipeline pins it); else from git
 * (X.Y tags, Sem-Ver headers). A clone without any X.Y tag (CI checkouts often fetch none)
 * counts from the X.Y of lerna.json at the first commit it has, and says so.
 * Outside git (an unpacked source tarball) the version in lerna.json is used as it is.
 */
export async function resolveVersion(repo: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedVersion> {
  if (env.LAGO_VERSION) {
    const pinned = parseVersion(env.LAGO_VERSION)
    if (!pinned || !/^\d+\.\d+\.\d+$/.test(env.LAGO_VERSION)) throw new VersionError(`LAGO_VERSION=${env.LAGO_VERSION} is not a version: expected X.Y.Z, e.g. 1.2.3`)
    return {version: pinned, history: [], warnings: []}
  }
  if (!(await isGitRepo(repo))) {
    const declared = await lernaVersion(repo)
    if (!declared) throw new VersionError(`${repo} is neither a git checkout nor has a lerna.json with a version: set LAGO_VERSION=X.Y.Z`)
    return {version: declared, history: [], warnings: [`${repo} is not a git checkout: using ${formatVersion(declared)} from lerna.json`]}
  }
  const commits = await firstParentHistory(repo)
  if (commits.some((commit) => commit.tags.length > 0)) {
    const history = versionHistory(commits, {major: 0, minor: 0, patch: 0})
    return {version: history.at(-1)!.version, history, warnings: []}
  }
  const declared = (await lernaVersion(repo)) ?? {major: 0, minor: 0, patch: 0}
  const base = {...declared, patch: 0}
  const history = versionHistory(commits, base)
  const shallow = await isShallow(repo)
  const warning =
    `no X.Y tag (pattern ${RELEASE_TAG.source}) on the first-parent history` +
    (shallow ? ' of this shallow clone' : '') +
    `: counting ${commits.length} commit(s) from ${declared.major}.${declared.minor} (lerna.json). ` +
    `For the real version: git fetch --tags${shallow ? ' --unshallow' : ''}`
  return {version: history.at(-1)?.version ?? base, history, warnings: [warning]}
}

async function lernaVersion(repo: string): Promise<Version | undefined> {
  const text = await readFile(path.join(repo, 'lerna.json'), 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  const version = (JSON.parse(text) as {version?: unknown}).version
  return typeof version === 'string' ? parseVersion(version) : undefined
}
