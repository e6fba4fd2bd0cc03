// scripts/version-manager [--repo DIR] version | rpm-version | changelog [--since REF]
import {parseArgs} from 'node:util'
import {currentMajorSeries, formatChangelog} from './changelog.js'
import {git} from './git.js'
import {resolveVersion, VersionError, type ResolvedVersion} from './resolve-version.js'
import {formatVersion, rpmVersion, type VersionedCommit} from './version.js'
import {main} from './cli.js'

const USAGE = 'usage: version-manager [--repo DIR] version | rpm-version | changelog [--since REF]'

export async function versionManager(argv: string[]): Promise<string> {
  const {values, positionals} = parseArgs({args: argv, allowPositionals: true, options: {repo: {type: 'string'}, since: {type: 'string'}}})
  const repo = values.repo ?? process.cwd()
  const resolved = await resolveVersion(repo)
  for (const warning of resolved.warnings) process.stderr.write(`version-manager: warning: ${warning}\n`)
  switch (positionals[0]) {
    case 'version':
      return formatVersion(resolved.version)
    case 'rpm-version':
      return rpmVersion(resolved.version)
    case 'changelog':
      return formatChangelog(values.since ? await commitsSince(repo, resolved, values.since) : currentMajorSeries(resolved.history))
    default:
      throw new VersionError(positionals[0] ? `unknown command "${positionals[0]}"\n${USAGE}` : USAGE)
  }
}

async function commitsSince(repo: string, resolved: ResolvedVersion, ref: string): Promise<VersionedCommit[]> {
  const hash = (await git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).catch(() => '')).trim()
  if (!hash) throw new VersionError(`--since ${ref}: no such tag or commit`)
  const index = resolved.history.findIndex((commit) => commit.hash === hash)
  if (index < 0) throw new VersionError(`--since ${ref}: not on the first-parent history of HEAD`)
  return resolved.history.slice(index + 1)
}

if (import.meta.url === `file://${process.argv[1]}`) await main(versionManager, 'version-manager')
