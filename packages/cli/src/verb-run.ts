import type {EventSink, LagoConfig, LogLevel, Prefix, PrefixChange, PrefixPaths, Task, VmState} from '@lago/core'
import {trapSignals} from './signals.js'

/** What a verb's run needs to know of the verb (the command class's statics). */
export interface VerbTraits {
  /** The verb as typed: "start", "ovirt deploy". */
  verb: string
  /** It holds the prefix's lock and journals what it makes. */
  changesPrefix: boolean
  /** Its failure collects every VM's artifacts, console and libvirt logs (docs/ci.md). */
  collectsOnFailure: boolean
}

/** What a second signal may leave of a verb that makes libvirt objects, and how to remove it. */
export function libvirtLeftovers(bin: string): string {
  return `libvirt objects it made may be left: "${bin} gc" removes those whose prefix is gone.`
}

/**
 * One run of a verb, without oclif: signal handling (abort, roll back, exit 128+N), the event
 * stream, the prefix's lock, the task display, rollback, failure collection and the run's last
 * event. LagoCommand runs every verb through one; the lean launcher runs `start`, `status` and
 * `shell` through one without loading oclif (lean/run.ts), so both behave the same.
 */
export class VerbRun {
  readonly startedAt = Date.now()
  /** Fires on SIGINT/SIGTERM/SIGHUP; long operations pass it down and roll back. */
  readonly abort = new AbortController()
  /** The prefix this run opened (failure collection needs it). */
  prefix?: Prefix
  /** This run's hold on the prefix it changes, ended by end(). */
  change?: PrefixChange
  /** Artifacts a plugin's verbs collect on failure besides each VM's own. */
  failureArtifacts?: (vm: VmState) => string[]
  /** --collect-always. */
  collectAlways = false
  logLevel: LogLevel = 'warning'
  /** Set by startEvents: the light core entry, loaded by then. */
  coreEvents?: Pick<typeof import('@lago/core/prefix'), 'events' | 'writeEventsTo'>
  private readonly sinks: EventSink[] = []
  private stopProgress?: () => void
  private untrapSignals?: () => void
  private recording?: string
  private failureLogs?: Promise<string | undefined>

  /** `leftovers`: what a second signal (which exits at once, rollback unfinished) may leave behind, and how to remove it. */
  constructor(
    readonly traits: VerbTraits,
    private readonly leftovers: () => string,
  ) {}

  trapSignals(): void {
    this.untrapSignals = trapSignals(
      (signal) => void import('@lago/core/prefix').then(({AbortedError}) => this.abort.abort(new AbortedError(signal))),
      () => this.leftovers(),
    )
  }

  /** Start the event stream (--events, plain progress, verb.started) about `prefix` when there is one. */
  async startEvents(options: {events?: string; json: boolean; config?: LagoConfig; prefix?: string}): Promise<void> {
    const {startEvents} = await import('./ci-events.js')
    const started = await startEvents(this, options)
    this.sinks.push(...started.sinks)
    this.stopProgress = started.stopProgress
  }

  get id(): string {
    return this.traits.verb.replace(/ /g, ':')
  }

  /** The prefix at `paths`, locked and journaled when this verb changes it. */
  async openPrefix(paths: PrefixPaths, config: LagoConfig, flags: {wait?: boolean}, detail?: Record<string, unknown>): Promise<Prefix> {
    const core = await import('@lago/core/prefix')
    if (this.traits.changesPrefix) await this.takePrefix(paths, config, flags, detail)
    const prefix = await core.Prefix.open(paths, config)
    prefix.journal = this.change?.run
    process.env.LAGO_PREFIX_PATH = prefix.paths.root
    this.prefix = prefix
    await this.recordEventsIn(prefix.paths)
    return prefix
  }

  /**
   * Hold the prefix for this verb: wait for (or, with --no-wait, refuse) another command
   * changing it, and finish or roll back one that was killed. False when that recovery
   * removed the prefix (an interrupted init or destroy).
   */
  async takePrefix(paths: PrefixPaths, config: LagoConfig, flags: {wait?: boolean}, detail?: Record<string, unknown>): Promise<boolean> {
    const core = await import('@lago/core/prefix')
    this.change = await core.beginChange(paths, config, {
      verb: this.traits.verb,
      detail,
      wait: flags.wait,
      signal: this.abort.signal,
      onWait: (holder) => process.stderr.write(`Waiting for ${core.describeHolder(holder)} to finish with ${paths.root}...\n`),
      onRecovered: (line) => process.stderr.write(`lago: ${line}\n`),
    })
    return this.change !== undefined
  }

  /** From now on, also record this run's events (those so far first) in the prefix's PREFIX/.lago/events.ndjson. */
  async recordEventsIn(paths: {root: string; events: string}): Promise<void> {
    if (!this.coreEvents || this.recording === paths.root) return
    this.recording = paths.root
    const sink = (await import('./ci-events.js')).recordPrefixEvents(paths)
    if (sink) this.sinks.push(sink)
  }

  /** Run a task tree with a live display (listr2 on a terminal; plain timestamped lines from the events otherwise; nothing with --json). */
  async runTasks(tasks: Task[], json: boolean): Promise<void> {
    if (process.stderr.isTTY && !json) {
      const [{runWithListr}, {withEvents}] = await Promise.all([import('./task-renderer.js'), import('@lago/core/prefix')])
      await runWithListr(withEvents(tasks), {signal: this.abort.signal})
    } else {
      const {plainRunner} = await import('@lago/core/prefix')
      await plainRunner()(tasks, this.abort.signal)
    }
  }

  /** Work that must roll back when it fails or a signal arrives. */
  async withRollback<T>(work: () => Promise<T>, rollback: () => Promise<void>): Promise<T> {
    try {
      const result = await work()
      if (this.abort.signal.aborted) throw this.abort.signal.reason
      return result
    } catch (error) {
      // Before the rollback stops them: running VMs answer SSH, and a silent one is still there to read.
      if (error instanceof Error) await this.collectOnFailure(error)
      await rollback()
      throw this.abort.signal.aborted ? this.abort.signal.reason : error
    }
  }

  /** The run's end, whatever its outcome: verb.finished when it succeeded, the lock released, the event sinks closed. */
  async end(error: Error | undefined): Promise<void> {
    this.untrapSignals?.()
    if (!error) await this.finished()
    await this.change?.end(error ? 'failed' : 'ok')
    this.stopProgress?.()
    for (const sink of this.sinks) sink.close()
  }

  /** The event stream of a run that succeeded: collected logs (--collect-always), then verb.finished. */
  async finished(): Promise<void> {
    const ci = await import('./ci-events.js')
    const always = this.collectAlways || (this.traits.collectsOnFailure && this.prefix?.config.ci.collect_always)
    const logs = always ? await ci.collectLogs(this.traits.verb, this.prefix, {extraArtifacts: this.failureArtifacts, signal: this.abort.signal}) : undefined
    ci.verbFinished(this.startedAt, logs)
  }

  /** The error to report for `thrown`: whatever failed after a signal failed because of it. */
  async cause<T extends Error>(thrown: T): Promise<T> {
    const {isLagoError} = await import('@lago/core/prefix')
    return this.abort.signal.aborted && isLagoError(this.abort.signal.reason) ? (this.abort.signal.reason as unknown as T) : thrown
  }

  /** The run failed with `error` (exit `exitCode`): its logs collected when this verb does that, then verb.failed. */
  async failed(error: Error, exitCode: number): Promise<void> {
    const ci = await import('./ci-events.js')
    ci.verbFailed(this.startedAt, error, exitCode, await this.collectOnFailure(error, exitCode))
  }

  /** The VMs' logs after a failure (once per run; undefined when this verb does not collect or nothing was collected). */
  private async collectOnFailure(error: Error, exitCode?: number): Promise<string | undefined> {
    if (!this.failureLogs) {
      const collect = async () => {
        if (!this.shouldCollect(error)) return undefined
        const ci = await import('./ci-events.js')
        const {isLagoError} = await import('@lago/core/prefix')
        return ci.collectLogs(this.traits.verb, this.prefix, {error, exitCode: exitCode ?? (isLagoError(error) ? error.exitCode : 1), extraArtifacts: this.failureArtifacts, signal: this.abort.signal})
      }
      this.failureLogs = collect()
    }
    return this.failureLogs
  }

  /**
   * Collect on this failure: a collecting verb that got as far as working on its VMs (a refusal
   * before any task, such as a VM name that does not exist, has nothing to show), not stopped by a signal.
   */
  private shouldCollect(error: Error): boolean {
    const worked = (this.coreEvents?.events.tasksStarted ?? 0) > 0
    return this.traits.collectsOnFailure && worked && this.prefix !== undefined && !this.abort.signal.aborted && (error as {code?: string}).code !== 'USAGE' && this.prefix.config.ci.collect_on_failure
  }
}
