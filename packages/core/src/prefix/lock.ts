import {open, readFile, rename, stat, unlink} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {LagoError} from '../errors.js'
import {log} from '../log.js'
import {sleep} from '../util/abort.js'
import {fsyncDir} from '../util/fs.js'
import {currentProcess, processAlive, type ProcessIdentity} from '../util/process-identity.js'

export interface LockHolder extends ProcessIdentity {
  /** The command holding it: "lago start". */
  verb: string
  since: string
}

export interface PrefixLockOptions {
  /** The command taking it, for the line a waiting command prints: "lago start". */
  verb: string
  /** false: fail at once when another command holds it. Default: wait. */
  wait?: boolean
  /** How long to wait for a live holder, in seconds. */
  timeoutSeconds?: number
  /** Called once when the lock is busy and this command starts waiting. */
  onWait?: (holder: LockHolder) => void
  signal?: AbortSignal
}

const POLL_MS = 200
/** A lock file still empty after this long belongs to a holder killed while writing it. */
const TORN_AFTER_MS = 2000

/** "`lago start`, pid 123, since 2026-12-01T10:00:00Z" */
export function describeHolder(holder: LockHolder): string {
  return `\`${holder.verb}\`, pid ${holder.pid}${holder.host ? ` on ${holder.host}` : ''}, since ${holder.since}`
}

/**
 * One exclusive lock per prefix (PREFIX/.lago/lock), held by every command that changes it.
 * The file names its holder. A holder whose process is gone (SIGKILL, OOM, reboot) is taken
 * over, under a short-lived takeover lock so two commands never both take over one lock.
 */
export class PrefixLock {
  private released = false

  private constructor(
    readonly file: string,
    readonly holder: LockHolder,
  ) {}

  static file(stateDir: string): string {
    return path.join(stateDir, 'lock')
  }

  static async acquire(stateDir: string, options: PrefixLockOptions): Promise<PrefixLock> {
    const file = PrefixLock.file(stateDir)
    const me: LockHolder = {...currentProcess(), verb: options.verb, since: new Date().toISOString()}
    const deadline = Date.now() + (options.timeoutSeconds ?? 600) * 1000
    let waiting = false
    for (;;) {
      if (await tryCreate(file, me)) return new PrefixLock(file, me)
      const holder = await readHolder(file)
      if (!holder) continue // released between our attempt and the read
      if (holder.pid === 0 && (await ageMs(file)) < TORN_AFTER_MS) {
        await sleep(20, options.signal) // its holder is still writing it
        continue
      }
      if (holder.pid === me.pid && holder.host === me.host && holder.started === me.started) {
        throw new LagoError('INTERNAL', `${file}: this process already holds the lock`, {userError: false})
      }
      if (!processAlive(holder)) {
        if (await takeOver(file, holder)) log.warn(`took over the lock of ${path.dirname(stateDir)} from ${describeHolder(holder)}: that process is gone`)
        continue
      }
      if (options.wait === false || Date.now() >= deadline) {
        throw new LagoError('LOCKED', `Prefix ${path.dirname(stateDir)} is busy: ${describeHolder(holder)} is changing it.`, {
          hint: options.wait === false ? 'Wait for it to finish, or run again without --no-wait to wait for it.' : `Waited ${options.timeoutSeconds ?? 600} s; wait for it to finish and run again.`,
          detail: {holder},
        })
      }
      if (!waiting) {
        waiting = true
        options.onWait?.(holder)
      }
      await sleep(POLL_MS, options.signal)
    }
  }

  /** Remove the lock of `stateDir` when its holder is gone (gc); returns that holder. */
  static async clearIfStale(stateDir: string): Promise<LockHolder | undefined> {
    const file = PrefixLock.file(stateDir)
    const holder = await readHolder(file)
    if (!holder || processAlive(holder)) return undefined
    if (holder.pid === 0 && (await ageMs(file)) < TORN_AFTER_MS) return undefined
    return (await takeOver(file, holder)) ? holder : undefined
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    const current = await readHolder(this.file)
    if (current && current.pid === this.holder.pid && current.started === this.holder.started && current.host === this.holder.host) {
      await unlink(this.file).catch(ignoreMissing)
    }
  }
}

async function tryCreate(file: string, me: LockHolder): Promise<boolean> {
  let handle
  try {
    handle = await open(file, 'wx', 0o644)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw lockError(file, error)
  }
  try {
    await handle.writeFile(JSON.stringify(me) + '\n')
    await handle.sync()
  } finally {
    await handle.close()
  }
  await fsyncDir(path.dirname(file))
  return true
}

/** The holder named in the lock file; undefined when there is none. A torn file counts as a dead holder. */
async function readHolder(file: string): Promise<LockHolder | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw lockError(file, error)
  }
  try {
    const holder = JSON.parse(text) as LockHolder
    if (typeof holder.pid === 'number') return holder
  } catch {
    // a holder killed between create and write
  }
  return {pid: 0, started: '', host: os.hostname(), verb: 'unknown', since: 'unknown'}
}

async function ageMs(file: string): Promise<number> {
  try {
    return Date.now() - (await stat(file)).mtimeMs
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw lockError(file, error)
  }
}

/** Remove a dead holder's lock, once: only the process holding `lock.takeover` may. */
async function takeOver(file: string, dead: LockHolder): Promise<boolean> {
  const guard = `${file}.takeover`
  const me: LockHolder = {...currentProcess(), verb: 'takeover', since: new Date().toISOString()}
  if (!(await tryCreate(guard, me))) {
    const other = await readHolder(guard)
    if (other && !processAlive(other)) await rename(guard, `${guard}.${process.pid}.stale`).then(() => unlink(`${guard}.${process.pid}.stale`), ignoreMissing)
    await sleep(20)
    return false
  }
  try {
    const still = await readHolder(file)
    if (!still || still.pid !== dead.pid || still.started !== dead.started || still.since !== dead.since) return false
    await unlink(file).catch(ignoreMissing)
    return true
  } finally {
    await unlink(guard).catch(ignoreMissing)
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
}

function lockError(file: string, error: unknown): LagoError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error)
  return new LagoError('PERMISSION', `Cannot use the prefix lock ${file} (${code}).`, {
    hint: code === 'EACCES' || code === 'EPERM' ? 'This prefix belongs to another user: run the command as its owner.' : undefined,
  })
}
