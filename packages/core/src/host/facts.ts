import {readFile, stat} from 'node:fs/promises'
import os from 'node:os'

/** Is systemd the running init (so "systemctl enable --now" works)? */
export async function systemdRunning(): Promise<boolean> {
  return (await stat('/run/systemd/system').catch(() => undefined))?.isDirectory() ?? false
}

export type DistroFamily = 'debian' | 'fedora' | 'unknown'

export async function distroFamily(osRelease = '/etc/os-release'): Promise<DistroFamily> {
  const text = await readFile(osRelease, 'utf8').catch(() => '')
  return familyOf(text)
}

export function familyOf(osRelease: string): DistroFamily {
  const ids = [/^ID=(.*)$/m, /^ID_LIKE=(.*)$/m].flatMap((re) => (re.exec(osRelease)?.[1] ?? '').replace(/"/g, '').split(/\s+/)).filter(Boolean)
  if (ids.some((id) => ['debian', 'ubuntu'].includes(id))) return 'debian'
  if (ids.some((id) => ['fedora', 'rhel', 'centos'].includes(id))) return 'fedora'
  return 'unknown'
}

/** Package names per family. */
export interface Packages {
  debian: readonly string[]
  fedora: readonly string[]
}

/** The install command for this distribution (both when it cannot tell). */
export function installCommand(packages: Packages, family: DistroFamily): string {
  const apt = `apt-get install -y ${packages.debian.join(' ')}`
  const dnf = `dnf install -y ${packages.fedora.join(' ')}`
  if (family === 'debian') return apt
  if (family === 'fedora') return dnf
  return `${apt} (Debian/Ubuntu) or ${dnf} (Fedora/EL)`
}

export interface UserIdentity {
  name: string
  uid: number
  /** Groups of this process (what counts now, before a new login). */
  gids: number[]
}

export function currentUser(): UserIdentity {
  return {
    name: os.userInfo().username,
    uid: process.getuid?.() ?? -1,
    gids: process.getgroups?.() ?? [],
  }
}

export interface GroupInfo {
  name: string
  gid: number
  /** Supplementary members listed in the group database. */
  members: string[]
}

/** `getent group NAME` (files, LDAP, whatever NSS is configured with). */
export async function groupInfo(name: string): Promise<GroupInfo | undefined> {
  const {run} = await import('../util/exec.js')
  const result = await run('getent', ['group', name], {reject: false})
  if (result.exitCode !== 0) return undefined
  const [, , gid, members = ''] = result.stdout.trim().split(':')
  return {name, gid: Number(gid), members: members.split(',').filter(Boolean)}
}

/** Groups the user belongs to in the database (a new login gets these). */
export async function userGroups(user: string): Promise<string[] | undefined> {
  const {run} = await import('../util/exec.js')
  const result = await run('id', ['-nG', user], {reject: false})
  return result.exitCode === 0 ? result.stdout.trim().split(/\s+/) : undefined
}
