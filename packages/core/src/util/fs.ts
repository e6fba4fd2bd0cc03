import {randomBytes} from 'node:crypto'
import {access, mkdir, open, rename, writeFile} from 'node:fs/promises'
import {constants} from 'node:fs'
import path from 'node:path'

export async function pathExists(p: string): Promise<boolean> {
  try {
    await access(p, constants.F_OK)
    return true
  } catch {
    return false
  }
}

/** Write a file so readers see either the old or the complete new content, durably (fsync of file and directory). */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(file), {recursive: true})
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(tmp, data, {mode, flag: 'wx', flush: true})
  await rename(tmp, file)
  await fsyncDir(path.dirname(file))
}

/** Make a rename or creation in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
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
