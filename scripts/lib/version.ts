// Lago's version rule (the original scripts/version_manager.py): walk the first-parent history
// from the root; a commit tagged X.Y is X.Y.0; a commit with `Sem-Ver: api-breaking` starts
// X+1.0.0, one with `Sem-Ver: feature` X.Y+1.0; any other commit adds one to Z.
import type {Commit} from './git.js'

export interface Version {
  major: number
  minor: number
  patch: number
}

export interface VersionedCommit extends Commit {
  version: Version
}

/** The RPM release of every build: only repackaging without code changes would raise it. */
export const RPM_RELEASE = 1

export function formatVersion(version: Version): string {
  return `${version.major}.${version.minor}.${version.patch}`
}

export function rpmVersion(version: Version): string {
  return `${formatVersion(version)}-${RPM_RELEASE}`
}

export function parseVersion(text: string): Version | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text.trim())
  if (!match) return undefined
  return {major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0)}
}

export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch
}

export type SemVerBump = 'api-breaking' | 'feature'

/** The `Sem-Ver:` pseudo-header of a commit message (any value mentioning "break" breaks the API). */
export function semVerBump(message: string): SemVerBump | undefined {
  for (const match of message.matchAll(/^sem-ver:\s*(.*)$/gim)) {
    const value = match[1].trim().toLowerCase()
    if (value.includes('break')) return 'api-breaking'
    if (value === 'feature') return 'feature'
  }
  return undefined
}

/** Every commit of a first-parent history (oldest first) with its version; `base` is the version before the first commit. */
export function versionHistory(commits: Commit[], base: Version): VersionedCommit[] {
  let current = base
  return commits.map((commit) => {
    current = nextVersion(current, commit)
    return {...commit, version: current}
  })
}

function nextVersion(previous: Version, commit: Commit): Version {
  const tagged = commit.tags
    .map((tag) => parseVersion(tag)!)
    .sort(compareVersions)
    .pop()
  if (tagged) return {...tagged, patch: 0}
  const bump = semVerBump(`${commit.subject}\n${commit.body}`)
  if (bump === 'api-breaking') return {major: previous.major + 1, minor: 0, patch: 0}
  if (bump === 'feature') return {major: previous.major, minor: previous.minor + 1, patch: 0}
  return {...previous, patch: previous.patch + 1}
}
