import {readFile, stat} from 'node:fs/promises'
import path from 'node:path'
import {run} from './exec.js'

interface Identity {
  user: string
  uid: number
  gids: number[]
}

/**
 * The user the system libvirt runs qemu as: `qemu_user` from config when set, else
 * `user = "..."` in /etc/libvirt/qemu.conf, else the distribution's default account.
 */
export async function qemuIdentity(configured?: string): Promise<Identity | undefined> {
  let user = configured
  if (!user) {
    const conf = await readFile('/etc/libvirt/qemu.conf', 'utf8').catch(() => '')
    user = /^\s*user\s*=\s*"([^"]+)"/m.exec(conf)?.[1]
  }
  const candidates = user ? [user] : ['libvirt-qemu', 'qemu']
  for (const name of candidates) {
    const identity = (await localIdentity(name)) ?? (await nssIdentity(name))
    if (identity) return identity
  }
  return undefined
}

/** From /etc/passwd and /etc/group, where system accounts like qemu live: no process to spawn. */
async function localIdentity(name: string): Promise<Identity | undefined> {
  const [passwd, group] = await Promise.all(['/etc/passwd', '/etc/group'].map((file) => readFile(file, 'utf8').catch(() => '')))
  const records = (text: string) => text.split('\n').map((line) => line.split(':'))
  const account = records(passwd).find((fields) => fields[0] === name && fields.length >= 4)
  if (!account) return undefined
  const memberOf = records(group)
    .filter((fields) => fields.length >= 4 && fields[3].split(',').includes(name))
    .map((fields) => Number(fields[2]))
  return {user: name, uid: Number(account[2]), gids: [...new Set([Number(account[3]), ...memberOf])]}
}

/** Through NSS (LDAP and the like), for accounts not in the local files. */
async function nssIdentity(name: string): Promise<Identity | undefined> {
  const uid = await run('id', ['-u', name], {reject: false})
  if (uid.exitCode !== 0) return undefined
  const gids = await run('id', ['-G', name], {reject: false})
  return {user: name, uid: Number(uid.stdout), gids: gids.stdout.split(/\s+/).filter(Boolean).map(Number)}
}

/**
 * The first directory on the way to `target` that `who` cannot search (x bit), or the
 * target itself when it cannot be read; undefined when qemu can reach it.
 */
export async function firstInaccessible(target: string, who: Identity, needRead = false): Promise<string | undefined> {
  if (who.uid === 0) return undefined
  const absolute = path.resolve(target)
  const parts = absolute.split(path.sep).filter(Boolean)
  let current: string = path.sep
  for (let i = 0; i <= parts.length; i++) {
    const info = await stat(current).catch(() => undefined)
    if (!info) return undefined
    const isTarget = i === parts.length
    const bit = isTarget && !info.isDirectory() ? (needRead ? 4 : 0) : 1
    if (bit && !allows(info, who, bit)) return current
    if (!isTarget) current = path.join(current, parts[i])
  }
  return undefined
}

function allows(info: {mode: number; uid: number; gid: number}, who: Identity, bit: number): boolean {
  if (info.uid === who.uid) return (info.mode & (bit << 6)) !== 0
  if (who.gids.includes(info.gid)) return (info.mode & (bit << 3)) !== 0
  return (info.mode & bit) !== 0
}
