import type {LagoConfig} from '../config/config.js'
import {LagoError} from '../errors.js'
import {Journal, type JournalRun} from './journal.js'
import {PrefixLock, type LockHolder} from './lock.js'
import type {PrefixPaths} from './paths.js'
import {recoverInterrupted} from './recover.js'

export interface ChangeOptions {
  /** The verb, as the journal and a waiting command name it: "start", "ovirt deploy". */
  verb: string
  /** Data recovery needs to finish this verb (e.g. the VMs a stop was asked for). */
  detail?: Record<string, unknown>
  /** false: fail at once when another command holds the prefix. */
  wait?: boolean
  /** Told once when this command starts waiting for another. */
  onWait?: (holder: LockHolder) => void
  /** Told the one line saying what was done about an interrupted verb. */
  onRecovered?: (line: string) => void
  signal?: AbortSignal
}

/**
 * A command changing a prefix: it holds the prefix's lock, has recovered whatever an
 * interrupted command left, and records what it makes in the journal run.
 */
export class PrefixChange {
  private ended = false

  constructor(
    readonly lock: PrefixLock,
    readonly run: JournalRun,
  ) {}

  async end(outcome: 'ok' | 'failed' | 'rolled-back'): Promise<void> {
    if (this.ended) return
    this.ended = true
    try {
      await this.run.end(outcome)
    } catch (error) {
      // destroy removed the prefix, journal included: nothing left to record.
      if (!(error instanceof LagoError && error.detail.errno === 'ENOENT')) throw error
    } finally {
      await this.lock.release()
    }
  }
}

/** Take the prefix for a changing verb: lock, recover an interrupted verb, open a journal run. */
export async function beginChange(paths: PrefixPaths, config: LagoConfig, options: ChangeOptions): Promise<PrefixChange | undefined> {
  const lock = await PrefixLock.acquire(paths.stateDir, {
    verb: `lago ${options.verb}`,
    wait: options.wait,
    timeoutSeconds: config.lago.lock_timeout,
    onWait: options.onWait,
    signal: options.signal,
  })
  try {
    const recovered = await recoverInterrupted(paths, config)
    if (recovered) options.onRecovered?.(recovered.line)
    if (recovered?.prefixRemoved) {
      await lock.release()
      if (options.verb === 'destroy' || options.verb === 'cleanup') return undefined
      throw new LagoError('NO_PREFIX', `${paths.root} no longer exists: ${recovered.line}.`, {hint: 'Create it again with "lago init".'})
    }
    return new PrefixChange(lock, await Journal.of(paths.stateDir).begin(options.verb, options.detail))
  } catch (error) {
    await lock.release()
    throw error
  }
}
