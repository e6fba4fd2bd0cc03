import type {Version, VersionedCommit} from './version.js'
import {compareVersions, formatVersion, parseVersion} from './version.js'

/**
 * RPM-style changelog entries, newest first:
 *   * Wed Nov 25 2026 Jane Doe <jane@example.org> - 1.2.3
 *   - 1a2b3c4d: the commit subject
 */
export function formatChangelog(commits: VersionedCommit[]): string {
  return [...commits]
    .reverse()
    .map((c) => `* ${c.date} ${c.author} - ${formatVersion(c.version)}\n- ${c.hash.slice(0, 8)}: ${c.subject}\n`)
    .join('\n')
}

/** The commits of the newest major series (what ChangeLog_X.0.txt covers). */
export function currentMajorSeries(history: VersionedCommit[]): VersionedCommit[] {
  const major = history.at(-1)?.version.major
  let start = history.length
  while (start > 0 && history[start - 1].version.major === major) start--
  return history.slice(start)
}

/** Entries of a changelog text newer than `after` (the previous release), for the release mail. */
export function changelogEntriesAfter(changelog: string, after: Version | undefined): string {
  return changelog
    .split(/\n(?=\* )/)
    .filter((entry) => {
      const version = parseVersion(/ - (\S+)\n/.exec(entry)?.[1] ?? '')
      return version !== undefined && (!after || compareVersions(version, after) > 0)
    })
    .map((entry) => entry.trimEnd() + '\n')
    .join('\n')
}
