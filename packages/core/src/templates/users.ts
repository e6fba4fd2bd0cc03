import {createHash} from 'node:crypto'
import {mkdir, readdir, readFile, rm, rmdir} from 'node:fs/promises'
import path from 'node:path'
import {isAbsent, writeJsonAtomic} from '../util/fs.js'

/** A prefix using a stored template: its uuid file and that file's content (as subnet leases). */
export interface TemplateUser {
  uuidFile: string
  uuid: string
}

/**
 * Which prefixes use a stored template: `<image>.users/<key>` holds one small JSON file per
 * prefix, written at init and dropped at cleanup. An entry whose prefix is gone (uuid file
 * missing or holding another uuid) is stale and does not count.
 */
export class TemplateUsers {
  constructor(private readonly dir: string) {}

  private file(user: TemplateUser): string {
    return path.join(this.dir, createHash('sha256').update(user.uuidFile).digest('hex').slice(0, 24))
  }

  async add(user: TemplateUser): Promise<void> {
    await mkdir(this.dir, {recursive: true})
    await writeJsonAtomic(this.file(user), {uuidFile: user.uuidFile, uuid: user.uuid, since: new Date().toISOString()})
  }

  async remove(user: TemplateUser): Promise<void> {
    await rm(this.file(user), {force: true})
  }

  /** Remove the directory when no entry is left (a failed first download). */
  async dropIfEmpty(): Promise<void> {
    await rmdir(this.dir).catch(() => undefined)
  }

  /** Live users; stale entries are removed on the way. */
  async live(): Promise<TemplateUser[]> {
    const names = await readdir(this.dir).catch(() => [] as string[])
    const users: TemplateUser[] = []
    for (const name of names.filter((n) => !n.endsWith('.tmp'))) {
      const file = path.join(this.dir, name)
      const entry = await readJson(file)
      if (entry && (await isLive(entry))) users.push({uuidFile: entry.uuidFile, uuid: entry.uuid})
      else await rm(file, {force: true})
    }
    return users
  }
}

async function readJson(file: string): Promise<TemplateUser | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<TemplateUser>
    return typeof value.uuidFile === 'string' && typeof value.uuid === 'string' ? (value as TemplateUser) : undefined
  } catch {
    return undefined
  }
}

/** A user is stale only when its uuid file is gone or holds another uuid; unreadable is not gone. */
async function isLive(user: TemplateUser): Promise<boolean> {
  try {
    return (await readFile(user.uuidFile, 'utf8')).trim() === user.uuid
  } catch (error) {
    return !isAbsent(error)
  }
}
