import path from 'node:path'
import {Command, Flags, Interfaces} from '@oclif/core'
import {trapSignals} from './signals.js'
import type {EventSink, LagoConfig, LogLevel, Prefix, PrefixChange, PrefixPaths, Task, VmState} from '@lago/core'

export type LagoFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof LagoCommand)['baseFlags'] & T['flags']>

/**
 * The base of every Lago command, the plugins' too: global flags, --json, layered config,
 * signal handling (abort, roll back, exit 128+N) and error → exit-code mapping
 * (2 for a user error, 1 for anything else; stack trace only at --log-level debug).
 */
export abstract class LagoCommand extends Command {
  static enableJsonFlag = true

  static baseFlags = {
    'log-level': Flags.option({
      options: ['debug', 'info', 'warning', 'error'] as const,
      helpGroup: 'GLOBAL',
      summary: 'Console log level (the prefix log file always gets everything).',
    })(),
    'prefix-path': Flags.string({
      char: 'p',
      helpGroup: 'GLOBAL',
      summary: 'Prefix to act on (default: found from the current directory upward).',
      env: 'LAGO_PREFIX_PATH',
    }),
    'prefix-name': Flags.string({
      char: 'P',
      helpGroup: 'GLOBAL',
      summary: 'Prefix of the workdir to act on (default: the one "current" points at).',
    }),
    wait: Flags.boolean({
      allowNo: true,
      default: true,
      helpGroup: 'GLOBAL',
      summary: 'Wait while another command changes the same prefix (--no-wait: fail at once).',
    }),
    events: Flags.string({
      helpGroup: 'GLOBAL',
      summary: 'Append this run\'s events as NDJSON to FILE ("-": standard output); LAGO_EVENTS=FILE sets it for every command (see docs/events.md).',
    }),
  }

  /** The flag of verbs that collect the VMs' logs when they fail (static collectsOnFailure). */
  static collectFlags = {
    'collect-always': Flags.boolean({summary: "Collect every VM's logs into PREFIX/.lago/failures/ even when this succeeds (failures always collect; [ci] collect_on_failure)."}),
  }

  /** Commands that change a prefix hold its lock and journal what they make (see openPrefix). */
  static changesPrefix = false
  /** Commands that act on an existing prefix (its path labels their events from the first one on); init makes one. */
  static actsOnPrefix = true
  /** Commands whose failure collects every VM's artifacts, console and libvirt logs (docs/ci.md). */
  static collectsOnFailure = false

  /** The prefix this command opened (failure collection needs it). */
  protected prefix?: Prefix
  /** Artifacts a plugin's verbs collect on failure besides each VM's own. */
  protected failureArtifacts?: (vm: VmState) => string[]
  private readonly startedAt = Date.now()
  private readonly sinks: EventSink[] = []
  private stopProgress?: () => void
  private collectAlways = false

  /** This command's hold on the prefix it changes, ended in finally(). */
  protected change?: PrefixChange

  /** Fires on SIGINT/SIGTERM/SIGHUP; long operations pass it down and roll back. */
  protected readonly abort = new AbortController()
  /** What a second signal (which exits at once, rollback unfinished) may leave behind, and how to remove it. */
  protected leftovers: () => string = () => `libvirt objects it made may be left: "${this.config.bin} gc" removes those whose prefix is gone.`
  private untrapSignals?: () => void

  protected logLevel: LogLevel = 'warning'

  override async init(): Promise<void> {
    await super.init()
    this.untrapSignals = trapSignals(
      (signal) => void import('@lago/core/prefix').then(({AbortedError}) => this.abort.abort(new AbortedError(signal))),
      () => this.leftovers(),
    )
  }

  protected override async finally(error: Error | undefined): Promise<void> {
    this.untrapSignals?.()
    if (!error) await this.finished()
    await this.change?.end(error ? 'failed' : 'ok')
    this.stopProgress?.()
    for (const sink of this.sinks) sink.close()
    return super.finally(error)
  }

  /** The verb as typed: "start", "ovirt deploy". */
  protected get verb(): string {
    return this.id?.replace(/:/g, ' ') ?? 'lago'
  }

  /** The event stream of a run that succeeded: collected logs (--collect-always), then verb.finished. */
  private async finished(): Promise<void> {
    const ci = await import('./ci-events.js')
    const always = this.collectAlways || ((this.constructor as typeof LagoCommand).collectsOnFailure && this.prefix?.config.ci.collect_always)
    const logs = always ? await ci.collectLogs(this.verb, this.prefix, {extraArtifacts: this.failureArtifacts, signal: this.abort.signal}) : undefined
    ci.verbFinished(this.startedAt, logs)
  }

  /** Flags parsed with the base flags; sets up logging from --log-level. */
  protected async parseLago<T extends typeof Command>(command: T): Promise<{flags: LagoFlags<T>; args: Interfaces.InferredArgs<T['args']>; argv: string[]}> {
    const settings = await import('./config-layers.js')
    const layers = await settings.configLayers()
    this.argv = [...settings.verbDefaults(layers, this.id, {...command.baseFlags, ...command.flags}, this.argv), ...this.argv]
    const parsed = await this.parse(command as unknown as typeof LagoCommand)
    settings.warnUnreadSettings(layers, this.config.commands)
    const {log} = await import('@lago/core/prefix')
    const level = parsed.flags['log-level'] ?? 'warning'
    this.logLevel = level
    log.consoleLevel = level
    const {startEvents} = await import('./ci-events.js')
    const flags = parsed.flags as {events?: string; 'collect-always'?: boolean; 'prefix-path'?: string; 'prefix-name'?: string}
    const {findPrefix} = await import('@lago/core/prefix')
    const prefix = (this.constructor as typeof LagoCommand).actsOnPrefix ? await findPrefix(process.cwd(), flags['prefix-path'], flags['prefix-name']).catch(() => undefined) : undefined
    const started = await startEvents(this, {events: flags.events, json: this.jsonEnabled(), config: await this.loadConfig().catch(() => undefined), prefix: prefix?.root})
    this.sinks.push(...started.sinks)
    this.stopProgress = started.stopProgress
    this.collectAlways = flags['collect-always'] ?? false
    return parsed as unknown as {flags: LagoFlags<T>; args: Interfaces.InferredArgs<T['args']>; argv: string[]}
  }

  /** The layered configuration (read once per process; the original Lago's keys mapped). */
  protected async loadConfig(): Promise<LagoConfig> {
    const [{mergeLayers, applyLibvirtMode}, {configLayers}] = await Promise.all([import('@lago/core/prefix'), import('./config-layers.js')])
    return applyLibvirtMode(mergeLayers(await configLayers()))
  }

  /** The prefix from --prefix-path or the current directory; locked and journaled when this command changes it. */
  protected async openPrefix(flags: {'prefix-path'?: string; 'prefix-name'?: string; wait?: boolean}, config?: LagoConfig, detail?: Record<string, unknown>): Promise<Prefix> {
    const core = await import('@lago/core/prefix')
    config ??= await this.loadConfig()
    const paths = await core.findPrefix(process.cwd(), flags['prefix-path'], flags['prefix-name'])
    if ((this.constructor as typeof LagoCommand).changesPrefix) await this.takePrefix(paths, config, flags, detail)
    const prefix = await core.Prefix.open(paths, config)
    prefix.journal = this.change?.run
    process.env.LAGO_PREFIX_PATH = prefix.paths.root
    this.prefix = prefix
    await this.recordEventsIn(prefix.paths)
    return prefix
  }

  /**
   * Hold the prefix for this command: wait for (or, with --no-wait, refuse) another command
   * changing it, and finish or roll back one that was killed. False when that recovery
   * removed the prefix (an interrupted init or destroy).
   */
  protected async takePrefix(paths: PrefixPaths, config: LagoConfig, flags: {wait?: boolean}, detail?: Record<string, unknown>): Promise<boolean> {
    const core = await import('@lago/core/prefix')
    this.change = await core.beginChange(paths, config, {
      verb: this.id?.replace(/:/g, ' ') ?? 'unknown',
      detail,
      wait: flags.wait,
      signal: this.abort.signal,
      onWait: (holder) => process.stderr.write(`Waiting for ${core.describeHolder(holder)} to finish with ${paths.root}...\n`),
      onRecovered: (line) => process.stderr.write(`lago: ${line}\n`),
    })
    return this.change !== undefined
  }

  /** The prefix the following events are about (init names it before it exists). */
  protected eventsAbout(prefixRoot: string): void {
    this.coreEvents?.events.setContext({prefix: path.resolve(prefixRoot)})
  }

  /** From now on, also record this run's events (those so far first) in the prefix's PREFIX/.lago/events.ndjson. */
  protected async recordEventsIn(paths: PrefixPaths): Promise<void> {
    if (!this.coreEvents || this.recording === paths.root) return
    this.recording = paths.root
    const sink = (await import('./ci-events.js')).recordPrefixEvents(paths)
    if (sink) this.sinks.push(sink)
  }

  /** Set by startEvents: the light core entry, loaded by then. */
  coreEvents?: Pick<typeof import('@lago/core/prefix'), 'events' | 'writeEventsTo'>
  private recording?: string

  /** Run a task tree with a live display (listr2 on a terminal; plain timestamped lines from the events otherwise; nothing with --json). */
  protected async runTasks(tasks: Task[]): Promise<void> {
    if (process.stderr.isTTY && !this.jsonEnabled()) {
      const [{runWithListr}, {withEvents}] = await Promise.all([import('./task-renderer.js'), import('@lago/core/prefix')])
      await runWithListr(withEvents(tasks), {signal: this.abort.signal})
    } else {
      const {plainRunner} = await import('@lago/core/prefix')
      await plainRunner()(tasks, this.abort.signal)
    }
  }

  /** Work that must roll back when it fails or a signal arrives. */
  protected async withRollback<T>(work: () => Promise<T>, rollback: () => Promise<void>): Promise<T> {
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

  protected override async catch(thrown: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    const {isLagoError} = await import('@lago/core/prefix')
    // Whatever failed after a signal (a request it cut, a half-read repository) failed because of it.
    const error = this.abort.signal.aborted && isLagoError(this.abort.signal.reason) ? (this.abort.signal.reason as typeof thrown) : thrown
    const ci = await import('./ci-events.js')
    if (error.oclif?.exit === 0) {
      await this.finished()
      return super.catch(error)
    }
    const exitCode = isLagoError(error) ? error.exitCode : (error.oclif?.exit ?? 1)
    ci.verbFailed(this.startedAt, error, exitCode, await this.collectOnFailure(error, exitCode))
    if (!isLagoError(error) && error.oclif) return super.catch(error) // oclif's own (usage errors, exit)
    const report = (await import('./failure-report.js')).failureReport(error, this.logLevel)
    this.report(report.json, report.text)
    return this.exit(report.exitCode)
  }

  /** The VMs' logs after a failure (once per run; undefined when this verb does not collect or nothing was collected). */
  private async collectOnFailure(error: Error, exitCode?: number): Promise<string | undefined> {
    if (!this.failureLogs) {
      const collect = async () => {
        if (!this.shouldCollect(error)) return undefined
        const ci = await import('./ci-events.js')
        const {isLagoError} = await import('@lago/core/prefix')
        return ci.collectLogs(this.verb, this.prefix, {error, exitCode: exitCode ?? (isLagoError(error) ? error.exitCode : 1), extraArtifacts: this.failureArtifacts, signal: this.abort.signal})
      }
      this.failureLogs = collect()
    }
    return this.failureLogs
  }

  private failureLogs?: Promise<string | undefined>

  /**
   * Collect on this failure: a collecting verb that got as far as working on its VMs (a refusal
   * before any task, such as a VM name that does not exist, has nothing to show), not stopped by a signal.
   */
  private shouldCollect(error: Error): boolean {
    const command = this.constructor as typeof LagoCommand
    const worked = (this.coreEvents?.events.tasksStarted ?? 0) > 0
    return command.collectsOnFailure && worked && this.prefix !== undefined && !this.abort.signal.aborted && (error as {code?: string}).code !== 'USAGE' && this.prefix.config.ci.collect_on_failure
  }

  private report(json: Record<string, unknown>, text: string): void {
    if (this.jsonEnabled()) this.logJson({error: json})
    else process.stderr.write(`Error: ${text}\n`)
  }
}
