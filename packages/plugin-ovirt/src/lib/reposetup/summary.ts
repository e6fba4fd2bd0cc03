import type {ReposetupReport} from './reposetup.js'

/** What reposetup did, for people: cache reuse, skipped sections, precedence. */
export function reposetupSummary(report: ReposetupReport, seconds: number): string {
  const lines: string[] = []
  if (report.skippedSections.length > 0) {
    lines.push(`Skipped yum sections (not named "-<distro>" for ${report.distros.join(', ')}): ${report.skippedSections.join(', ')}`)
  }
  for (const repo of report.synced) {
    lines.push(repo.reused ? `${repo.id}: reused the cache (${repo.packages} packages, nothing new)` : `${repo.id}: downloaded ${repo.downloaded.length} of ${repo.packages} packages`)
  }
  for (const build of report.built) lines.push(`built ${build.rpms.length} RPM(s) from ${build.source} with ${build.tool}`)
  for (const repo of report.internal) {
    for (const shadow of repo.shadowed) lines.push(`${shadow.name}: ${shadow.chosen} takes precedence over ${shadow.hidden}`)
    lines.push(`internal repo ${repo.distro}: ${repo.packages.length} packages in ${repo.dir}${repo.reused ? ' (unchanged)' : ''}`)
  }
  const reused = report.synced.length > 0 && report.synced.every((r) => r.reused)
  lines.push(`Done in ${seconds.toFixed(1)} s${reused ? ': every repository came from the cache' : ''}.`)
  return lines.join('\n')
}
