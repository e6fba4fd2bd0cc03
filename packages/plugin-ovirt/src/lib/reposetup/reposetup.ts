import {stat} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {LagoError, joinWithin, type Prefix, type Task} from '@lago/core'
import {vmDistros} from './distros.js'
import {writeInternalRepo, type InternalRepoResult, type PackageSource} from './internal-repo.js'
import {buildRpms, type BuildResult} from './rpm-build.js'
import {listRpms} from './rpm-files.js'
import {syncRepo, type SyncResult} from './reposync.js'
import {readRepoSections} from './yum-repo-file.js'

/** The host-wide reposync cache (as the original's reposync_dir). */
export const DEFAULT_REPOSYNC_DIR = '/var/lib/lago/reposync'

export interface ReposetupOptions {
  yumConfig?: string
  builds: string[]
  customSources: string[]
  skipSync: boolean
  cacheDir: string
}

export interface ReposetupReport {
  distros: string[]
  repos: {id: string; distro: string}[]
  skippedSections: string[]
  synced: SyncResult[]
  built: BuildResult[]
  internal: (InternalRepoResult & {distro: string})[]
}

/** The prefix's internal repository for one distro: PREFIX/internal_repo/<distro>/ (served as /<distro>/). */
export function internalRepoRoot(prefix: Prefix): string {
  return path.join(prefix.paths.root, 'internal_repo')
}

/** The arches packages are kept for: the host's and noarch (the guests run on this host). */
export function packageArches(): string[] {
  const arch = ({x64: 'x86_64', arm64: 'aarch64', ppc64: 'ppc64le', s390x: 's390x'} as Record<string, string>)[os.arch()] ?? os.arch()
  return [arch, 'noarch']
}

/**
 * `lago ovirt reposetup` as a task tree: sync the yum config's repositories for the
 * environment's distros into the host-wide cache, build RPMs from sources, and merge
 * custom sources, built and synced packages (in that priority) into the prefix's
 * internal repository per distro.
 */
export async function reposetupTasks(prefix: Prefix, options: ReposetupOptions): Promise<{tasks: Task[]; report: ReposetupReport}> {
  if (!options.yumConfig && options.customSources.length === 0 && options.builds.length === 0) {
    throw new LagoError('USAGE', 'Nothing to put in the internal repository.', {hint: 'Pass --reposync-yum-config FILE, --custom-source DIR_OR_RPM, or --build SPEC_OR_DIR.'})
  }
  for (const source of options.customSources) {
    if (!(await stat(source).catch(() => undefined))) throw new LagoError('USAGE', `--custom-source ${source}: no such file or directory.`, {hint: 'Give a directory of RPMs or an .rpm file.'})
  }
  const distros = [...new Set((await vmDistros(prefix)).values())].sort()
  const sections = options.yumConfig ? await readRepoSections(options.yumConfig, distros) : {used: [], skipped: []}
  if (options.yumConfig && sections.used.length === 0) {
    throw new LagoError(
      'USAGE',
      `No section of ${options.yumConfig} applies to this environment: sections must be named "<anything>-<distro>" for a distro of its VMs (${distros.join(', ') || 'none found'}).`,
      {
        hint: `Sections found: ${sections.skipped.join(', ')}. Rename them, or set metadata "distro" on the VMs in the init file.`,
        detail: {distros, skipped: sections.skipped},
      },
    )
  }
  const report: ReposetupReport = {distros: distros.length > 0 ? distros : ['default'], repos: sections.used, skippedSections: sections.skipped, synced: [], built: [], internal: []}
  const arches = packageArches()
  const tasks: Task[] = []
  if (sections.used.length > 0) {
    tasks.push({
      title: options.skipSync ? 'Use cached repositories (--skip-sync)' : `Sync ${sections.used.length} repositor${sections.used.length === 1 ? 'y' : 'ies'} into ${options.cacheDir}`,
      subtasks: sections.used.map(({id}) => ({
        title: id,
        run: async (ctx) => {
          if (options.skipSync) {
            const dir = path.join(options.cacheDir, id)
            const packages = (await listRpms(dir)).length
            if (packages === 0) throw new LagoError('REPO', `--skip-sync: the cache has no packages for "${id}" (${dir}).`, {hint: 'Run reposetup once without --skip-sync.'})
            report.synced.push({id, dir, packages, downloaded: [], reused: true})
            return
          }
          const result = await syncRepo({config: options.yumConfig!, id, cacheDir: options.cacheDir, arches, signal: ctx.signal, report: ctx.report})
          report.synced.push(result)
          ctx.report(result.reused ? `reused the cache (${result.packages} packages)` : `downloaded ${result.downloaded.length}, ${result.packages} packages`)
        },
      })),
    })
  }
  if (options.builds.length > 0) {
    tasks.push({
      title: `Build RPMs from ${options.builds.length} source${options.builds.length === 1 ? '' : 's'}`,
      subtasks: options.builds.map((source, index) => ({
        title: source,
        run: async (ctx) => {
          ctx.report('building')
          const out = path.join(prefix.paths.root, 'build', `${index}-${path.basename(source).replace(/\.spec$/, '')}`)
          report.built.push(await buildRpms(source, out, ctx.signal))
        },
      })),
    })
  }
  tasks.push({
    title: 'Write the internal repository',
    subtasks: report.distros.map((distro) => ({
      title: distro,
      run: async (ctx) => {
        const synced = report.synced.filter((s) => sections.used.find((u) => u.id === s.id)?.distro === distro)
        const sources: PackageSource[] = [
          ...(await Promise.all(options.customSources.map(async (s) => ({label: `custom source ${s}`, files: await rpmFilesOf(s)})))),
          ...report.built.map((b) => ({label: `built from ${b.source}`, files: b.rpms})),
          ...(await Promise.all(synced.map(async (s) => ({label: `synced repo ${s.id}`, files: await rpmFilesOf(s.dir)})))),
        ]
        const result = await writeInternalRepo(joinWithin(internalRepoRoot(prefix), [distro], 'distro', 'REPO'), sources, arches, ctx.signal)
        report.internal.push({...result, distro})
        ctx.report(`${result.packages.length} packages${result.reused ? ', unchanged' : ''}`)
      },
    })),
  })
  return {tasks, report}
}

async function rpmFilesOf(source: string): Promise<string[]> {
  if ((await stat(source)).isFile()) return [path.resolve(source)]
  return (await listRpms(source)).map((n) => path.resolve(source, n))
}
