import {mkdir, readdir, stat} from 'node:fs/promises'
import path from 'node:path'
import type {Client, SFTPWrapper} from 'ssh2'
import {LagoError} from '../errors.js'
import {isWithin} from '../util/safe-path.js'

/** Guest-reported modes keep their permission bits only: no setuid, setgid or sticky bit from a guest. */
const MODE_MASK = 0o777

async function sftpOf(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp))))
}

function promisify<T>(fn: (cb: (error: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value))))
}

/** Copy a local file or directory tree to the guest (like `scp -r`: into REMOTE when it is a directory). */
export async function copyToGuest(client: Client, local: string, remote: string): Promise<{files: number; bytes: number}> {
  const info = await stat(local).catch(() => {
    throw new LagoError('USAGE', `Local path ${local} does not exist.`)
  })
  const sftp = await sftpOf(client)
  try {
    const remoteInfo = await promisify<import('ssh2').Stats>((cb) => sftp.stat(remote, cb)).catch(() => undefined)
    const target = remoteInfo?.isDirectory() ? path.posix.join(remote, path.basename(local)) : remote
    const counts = {files: 0, bytes: 0}
    if (info.isDirectory()) await uploadTree(sftp, local, target, counts)
    else await uploadFile(sftp, local, target, info.mode, counts, info.size)
    return counts
  } finally {
    sftp.end()
  }
}

async function uploadTree(sftp: SFTPWrapper, local: string, remote: string, counts: {files: number; bytes: number}): Promise<void> {
  await promisify<void>((cb) => sftp.mkdir(remote, (error) => cb(error && (error as {code?: number}).code !== 4 ? error : undefined, undefined)))
  for (const entry of await readdir(local, {withFileTypes: true})) {
    const from = path.join(local, entry.name)
    const to = path.posix.join(remote, entry.name)
    if (entry.isDirectory()) await uploadTree(sftp, from, to, counts)
    else if (entry.isFile()) {
      const info = await stat(from)
      await uploadFile(sftp, from, to, info.mode, counts, info.size)
    }
  }
}

async function uploadFile(sftp: SFTPWrapper, local: string, remote: string, mode: number, counts: {files: number; bytes: number}, size: number): Promise<void> {
  await promisify<void>((cb) => sftp.fastPut(local, remote, {mode: mode & 0o7777}, (error) => cb(error, undefined))).catch((error: Error) => {
    throw new LagoError('VM', `Cannot write ${remote} on the guest: ${error.message}.`)
  })
  counts.files++
  counts.bytes += size
}

/** Copy a guest file or directory tree here (into LOCAL when it is an existing directory). */
export async function copyFromGuest(client: Client, remote: string, local: string): Promise<{files: number; bytes: number}> {
  const sftp = await sftpOf(client)
  try {
    const remoteInfo = await promisify<import('ssh2').Stats>((cb) => sftp.stat(remote, cb)).catch(() => {
      throw new LagoError('VM', `${remote} does not exist on the guest.`)
    })
    const localInfo = await stat(local).catch(() => undefined)
    const target = localInfo?.isDirectory() ? path.join(local, guestName(path.posix.basename(remote), remote, local)) : local
    const counts = {files: 0, bytes: 0}
    if (remoteInfo.isDirectory()) await downloadTree(sftp, remote, target, counts)
    else await downloadFile(sftp, remote, target, remoteInfo.mode, remoteInfo.size, counts)
    return counts
  } finally {
    sftp.end()
  }
}

async function downloadTree(sftp: SFTPWrapper, remote: string, local: string, counts: {files: number; bytes: number}): Promise<void> {
  await mkdir(local, {recursive: true})
  const entries = await promisify<import('ssh2').FileEntryWithStats[]>((cb) => sftp.readdir(remote, cb))
  for (const entry of entries) {
    const from = path.posix.join(remote, entry.filename)
    const to = path.join(local, guestName(entry.filename, remote, local))
    if (entry.attrs.isDirectory()) await downloadTree(sftp, from, to, counts)
    else if (entry.attrs.isFile()) await downloadFile(sftp, from, to, entry.attrs.mode, entry.attrs.size, counts)
  }
}

async function downloadFile(sftp: SFTPWrapper, remote: string, local: string, mode: number, size: number, counts: {files: number; bytes: number}): Promise<void> {
  await promisify<void>((cb) => sftp.fastGet(remote, local, (error) => cb(error, undefined))).catch((error: Error) => {
    throw new LagoError('USAGE', `Cannot write ${local}: ${error.message}.`)
  })
  const {chmod} = await import('node:fs/promises')
  await chmod(local, mode & MODE_MASK)
  counts.files++
  counts.bytes += size
}

/**
 * A file name the guest reported, checked to be one path component ("../x", "a/b", "." and
 * NULs are refused): what the guest says never places a file outside the local target.
 */
function guestName(name: string, remoteDir: string, localDir: string): string {
  const joined = path.join(localDir, name)
  if (name === '' || name === '.' || name === '..' || /[/\0]/.test(name) || !isWithin(localDir, joined) || joined === path.resolve(localDir)) {
    throw new LagoError('VM', `The guest reported the file name ${JSON.stringify(name)} in ${remoteDir}: not a single file name; nothing was written outside ${localDir}.`, {
      detail: {remote: remoteDir, name},
    })
  }
  return name
}
