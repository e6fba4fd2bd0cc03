import {randomBytes} from 'node:crypto'
import {access, mkdir, open, rename} from 'node:fs/promises'
import {constants} from 'node:fs'
import path from 'node:path'
import {LagoError} from '../errors.js'

/** Whether `p` exists. Only "it is not there" (ENOENT, ENOTDIR) is false: any other failure is an error naming it. */
export async function pathExists(p: string): Promise<boolean> {
  try {
    await access(p, constants.F_OK)
    return true
  } catch (error) {
    if (isAbsent(error)) return false
    throw fileError(p, 'look at', error)
  }
}

/** The error says the path is not there (as opposed to: cannot be read). */
export function isAbsent(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/** `promise`'s value, or undefined when it failed because `file` is not there (or, for readlink, is no link). */
export async function unlessAbsent<T>(promise: Promise<T>, file: string, action = 'read'): Promise<T | undefined> {
  try {
    return await promise
  } catch (error) {
    if (isAbsent(error) || (action === 'read the link' && (error as NodeJS.ErrnoException).code === 'EINVAL')) return undefined
    throw fileError(file, action, error)
  }
}

/**
 * Write a file so readers see either the old or the complete new content, durably: the data
 * is on disk before the rename, and the rename before this returns (a crash or power cut
 * leaves one or the other, never an empty file).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(file), {recursive: true})
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`
  const handle = await open(tmp, 'wx', mode)
  try {
    await handle.writeFile(data)
    await handle.chmod(mode)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(tmp, file)
  await fsyncDir(path.dirname(file))
}

/** Make a rename or a new entry in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** A file's text; undefined only when it does not exist. Any other failure names the file and the errno. */
export async function readTextIfExists(file: string): Promise<string | undefined> {
  const {readFile} = await import('node:fs/promises')
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    if (isAbsent(error)) return undefined
    throw fileError(file, 'read', error)
  }
}

/** The size of `file`, 0 when it does not exist; any other failure names the file. */
export async function sizeIfExists(file: string): Promise<number> {
  const {stat} = await import('node:fs/promises')
  return (await unlessAbsent(stat(file), file, 'look at'))?.size ?? 0
}

/** "Cannot read /x/state.json (EACCES): permission denied" as a LagoError. */
export function fileError(file: string, action: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code
  return new LagoError(code === 'EACCES' || code === 'EPERM' ? 'PERMISSION' : 'PREFIX', `Cannot ${action} ${file} (${code ?? String(error)}).`, {
    hint: code === 'EACCES' || code === 'EPERM' ? 'It belongs to another user or its mode keeps you out: run as its owner, or fix its permissions.' : undefined,
    detail: {file, errno: code},
  })
}

export async function writeJsonAtomic(file: string, value: unknown, mode = 0o644): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', mode)
}

/** `p` itself when it exists, else its nearest existing ancestor. */
export async function nearestExisting(p: string): Promise<string> {
  let current = path.resolve(p)
  while (!(await pathExists(current)) && path.dirname(current) !== current) current = path.dirname(current)
  return current
}
