import {cp, rename, rm} from 'node:fs/promises'
import path from 'node:path'
import {LagoError} from '../errors.js'
import {controlCharacterIn} from '../util/safe-path.js'

/** `/var/log/ovirt-engine` → `_var_log_ovirt-engine`: the name an artifact gets under OUTPUT/<vm>/. */
export function artifactName(guestPath: string): string {
  return guestPath.replace(/\//g, '_')
}

/** Artifacts are absolute guest paths; normalized without a trailing "/". */
export function checkArtifactPath(vm: string, artifact: string): string {
  const bad = controlCharacterIn(artifact)
  if (bad)
    throw new LagoError('USAGE', `Artifact ${JSON.stringify(artifact)} of VM ${vm} contains the control character "${bad}".`, {
      hint: 'Artifacts are plain paths on the guest such as /var/log/messages.',
    })
  if (!artifact.startsWith('/')) {
    throw new LagoError('USAGE', `Artifact "${artifact}" of VM ${vm} is not an absolute path.`, {hint: 'Artifacts are paths on the guest such as /var/log/messages.'})
  }
  const normalized = path.posix.normalize(artifact).replace(/(.)\/+$/, '$1')
  if (normalized === '/') throw new LagoError('USAGE', `Artifact "/" of VM ${vm} would copy the whole guest; name directories under it.`)
  return normalized
}

/** Where a guest path lands in the staging tree (the guest's tree, relative to "/"). */
export function stagingPath(staging: string, guestPath: string): string {
  return path.join(staging, ...guestPath.split('/').filter(Boolean))
}

/**
 * Move each found artifact from the staging tree (a copy of the guest's tree) to its final
 * name, then drop the staging tree. An artifact inside another one (/var/log/messages and
 * /var/log) is copied first, so both keep their full content.
 */
export async function placeArtifacts(staging: string, vmDir: string, found: string[]): Promise<{path: string; target: string}[]> {
  const inside = (p: string) => found.some((other) => other !== p && p.startsWith(`${other}/`))
  const ordered = [...found.filter(inside), ...found.filter((p) => !inside(p))]
  for (const p of ordered) {
    const target = path.join(vmDir, artifactName(p))
    if (inside(p)) await cp(stagingPath(staging, p), target, {recursive: true, verbatimSymlinks: true})
    else await rename(stagingPath(staging, p), target)
  }
  await rm(staging, {recursive: true, force: true})
  return found.map((p) => ({path: p, target: path.join(vmDir, artifactName(p))}))
}
