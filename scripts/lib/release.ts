// scripts/release publish-snapshot --tree DIR --build DIR --pipeline N
// scripts/release promote --tree DIR --snapshot snapshot-lago_X.0_pipeline_N [--into X.0] [--keep N]
import {cp, mkdir, readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {changelogEntriesAfter} from './changelog.js'
import {createRepo, dists, findSnapshot, newestStableVersion, publishSnapshot, pruneSnapshots, ReleaseError, seriesOf, versionOf} from './repo-tree.js'
import {compareVersions, formatVersion, type Version} from './version.js'
import {main} from './cli.js'

const USAGE = `usage: release publish-snapshot --tree DIR --build DIR --pipeline N
       release promote --tree DIR --snapshot snapshot-lago_X.0_pipeline_N [--into X.0] [--keep N]`

export const DEFAULT_KEEP = 10

export interface PromoteOptions {
  tree: string
  snapshot: string
  /** Stable series to promote into (X.0); defaults to the snapshot's own series. */
  into?: string
  keep?: number
  now?: Date
}

export interface PromoteResult {
  version: string
  stableDir: string
  pruned: string[]
  mail: string
}

/** Releases a snapshot: its RPMs and sources into stable/X.0, ChangeLog_X.0.txt, repodata, pruning, the announcement. */
export async function promote(options: PromoteOptions): Promise<PromoteResult> {
  const snapshot = findSnapshot(options.tree, options.snapshot)
  const version = await versionOf(snapshot.dir)
  const into = options.into ?? snapshot.series
  if (!/^\d+\.0$/.test(into)) throw new ReleaseError(`--into ${into}: stable series are named X.0 (one per major version), e.g. ${seriesOf(version)}`)
  if (seriesOf(version) !== into) {
    const what = version.major > Number(into.split('.')[0]) ? 'a major version bump (a commit marked Sem-Ver: api-breaking)' : 'an older major version'
    throw new ReleaseError(
      `${path.basename(snapshot.dir)} holds ${formatVersion(version)}, ${what}: it cannot go into stable/${into}, ` +
        `whose users upgrade within ${into.split('.')[0]}.x only. Promote it into its own series: --into ${seriesOf(version)}`,
    )
  }
  const stableDir = path.join(options.tree, 'stable', into)
  const previous = await newestStableVersion(stableDir)
  if (previous && compareVersions(version, previous) <= 0) {
    throw new ReleaseError(`stable/${into} already has ${formatVersion(previous)}; ${path.basename(snapshot.dir)} holds ${formatVersion(version)}: promote a newer snapshot`)
  }
  for (const dist of await dists(snapshot.dir)) {
    const target = path.join(stableDir, 'rpm', dist)
    await mkdir(target, {recursive: true})
    await cp(path.join(snapshot.dir, 'rpm', dist), target, {recursive: true, filter: (source) => path.basename(source) !== 'repodata'})
    await createRepo(target)
  }
  await cp(path.join(snapshot.dir, 'sources'), path.join(stableDir, 'sources'), {recursive: true})
  const changelog = await readFile(path.join(snapshot.dir, 'ChangeLog'), 'utf8')
  await writeFile(path.join(stableDir, `ChangeLog_${into}.txt`), changelog)
  const pruned = await pruneSnapshots(options.tree, snapshot.series, options.keep ?? DEFAULT_KEEP)
  return {version: formatVersion(version), stableDir, pruned, mail: announcement(version, changelogEntriesAfter(changelog, previous), options.now ?? new Date())}
}

/** The release mail of docs/release.md (the original template), changes since the previous release filled in. */
export function announcement(version: Version, changes: string, now: Date): string {
  const day = `${String(now.getUTCDate()).padStart(2, '0')}-${String(now.getUTCMonth() + 1).padStart(2, '0')}-${now.getUTCFullYear()}`
  const indented = changes
    .trimEnd()
    .split('\n')
    .map((line) => (line ? `    ${line}` : ''))
    .join('\n')
  return `Subject: [${day}] New lago release - ${formatVersion(version)}

Hi everyone! There's a new lago release with version ${formatVersion(version)} ready for you to
upgrade!

Here are the changes:
${indented}

Enjoy!
`
}

async function releaseCli(argv: string[]): Promise<string> {
  const {values, positionals} = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {tree: {type: 'string'}, build: {type: 'string'}, pipeline: {type: 'string'}, snapshot: {type: 'string'}, into: {type: 'string'}, keep: {type: 'string'}},
  })
  const need = (name: keyof typeof values): string => {
    const value = values[name]
    if (!value) throw new ReleaseError(`--${name} is required\n${USAGE}`)
    return value
  }
  switch (positionals[0]) {
    case 'publish-snapshot':
      return `published ${await publishSnapshot(need('tree'), need('build'), Number(need('pipeline')))}`
    case 'promote': {
      const result = await promote({tree: need('tree'), snapshot: need('snapshot'), into: values.into, keep: values.keep === undefined ? undefined : Number(values.keep)})
      const pruned = result.pruned.length > 0 ? `pruned ${result.pruned.join(', ')}\n` : ''
      process.stderr.write(`released ${result.version} into ${result.stableDir}\n${pruned}`)
      return result.mail
    }
    default:
      throw new ReleaseError(positionals[0] ? `unknown command "${positionals[0]}"\n${USAGE}` : USAGE)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(releaseCli, 'release')
