import path from 'node:path'
import {Command, Flags, Interfaces} from '@oclif/core'
import {libvirtLeftovers, VerbRun} from './verb-run.js'
import type {LagoConfig, LogLevel, Prefix, PrefixChange, PrefixPaths, Task, VmState} from '@lago/core'

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

  /** What a second signal (which exits at once, rollback unfinished) may leave behind, and how to remove it. */
  protected leftovers: () => string = () => libvirtLeftovers(this.config.bin)

  private lifecycle?: VerbRun
  /** This run's signals, events, lock, tasks, rollback and failure collection (shared with the lean launcher). */
  protected get verbRun(): VerbRun {
    const command = this.constructor as typeof LagoCommand
    this.lifecycle ??= new VerbRun({verb: this.verb, changesPrefix: command.changesPrefix, collectsOnFailure: command.collectsOnFailure}, () => this.leftovers())
    return this.lifecycle
  }

  /** The prefix this command opened (failure collection needs it). */
  protected get prefix(): Prefix | undefined {
    return this.verbRun.prefix
  }

  protected set prefix(prefix: Prefix | undefined) {
    this.verbRun.prefix = prefix
  }

  /** Artifacts a plugin's verbs collect on failure besides each VM's own. */
  protected get failureArtifacts(): ((vm: VmState) => string[]) | undefined {
    return this.verbRun.failureArtifacts
  }

  protected set failureArtifacts(artifacts: ((vm: VmState) => string[]) | undefined) {
    this.verbRun.failureArtifacts = artifacts
  }

  /** This command's hold on the prefix it changes, ended in finally(). */
  protected get change(): PrefixChange | undefined {
    return this.verbRun.change
  }

  protected set change(change: PrefixChange | undefined) {
    this.verbRun.change = change
  }

  /** Fires on SIGINT/SIGTERM/SIGHUP; long operations pass it down and roll back. */
  protected get abort(): AbortController {
    return this.verbRun.abort
  }

  protected get logLevel(): LogLevel {
    return this.verbRun.logLevel
  }

  /** Set by startEvents: the light core entry, loaded by then. */
  get coreEvents(): VerbRun['coreEvents'] {
    return this.verbRun.coreEvents
  }

  override async init(): Promise<void> {
    await super.init()
    this.verbRun.trapSignals()
  }

  protected override async finally(error: Error | undefined): Promise<void> {
    await this.verbRun.end(error)
    return super.finally(error)
  }

  /** The verb as typed: "start", "ovirt deploy". */
  protected get verb(): string {
    return this.id?.replace(/:/g, ' ') ?? 'lago'
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
    this.verbRun.logLevel = level
    log.consoleLevel = level
    const flags = parsed.flags as {events?: string; 'collect-always'?: boolean; 'prefix-path'?: string; 'prefix-name'?: string}
    const {findPrefix} = await import('@lago/core/prefix')
    const prefix = (this.constructor as typeof LagoCommand).actsOnPrefix ? await findPrefix(process.cwd(), flags['prefix-path'], flags['prefix-name']).catch(() => undefined) : undefined
    await this.verbRun.startEvents({events: flags.events, json: this.jsonEnabled(), config: await this.loadConfig().catch(() => undefined), prefix: prefix?.root})
    this.verbRun.collectAlways = flags['collect-always'] ?? false
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
    return this.verbRun.openPrefix(paths, config, flags, detail)
  }

  /**
   * Hold the prefix for this command: wait for (or, with --no-wait, refuse) another command
   * changing it, and finish or roll back one that was killed. False when that recovery
   * removed the prefix (an interrupted init or destroy).
   */
  protected async takePrefix(paths: PrefixPaths, config: LagoConfig, flags: {wait?: boolean}, detail?: Record<string, unknown>): Promise<boolean> {
    return this.verbRun.takePrefix(paths, config, flags, detail)
  }

  /** The prefix the following events are about (init names it before it exists). */
  protected eventsAbout(prefixRoot: string): void {
    this.coreEvents?.events.setContext({prefix: path.resolve(prefixRoot)})
  }

  /** From now on, also record this run's events (those so far first) in the prefix's PREFIX/.lago/events.ndjson. */
  protected async recordEventsIn(paths: PrefixPaths): Promise<void> {
    return this.verbRun.recordEventsIn(paths)
  }

  /** Run a task tree with a live display (listr2 on a terminal; plain timestamped lines from the events otherwise; nothing with --json). */
  protected async runTasks(tasks: Task[]): Promise<void> {
    return this.verbRun.runTasks(tasks, this.jsonEnabled())
  }

  /** Work that must roll back when it fails or a signal arrives. */
  protected async withRollback<T>(work: () => Promise<T>, rollback: () => Promise<void>): Promise<T> {
    return this.verbRun.withRollback(work, rollback)
  }

  protected override async catch(thrown: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    const {isLagoError} = await import('@lago/core/prefix')
    const error = await this.verbRun.cause(thrown)
    if (error.oclif?.exit === 0) {
      await this.verbRun.finished()
      return super.catch(error)
    }
    const exitCode = isLagoError(error) ? error.exitCode : (error.oclif?.exit ?? 1)
    await this.verbRun.failed(error, exitCode)
    if (!isLagoError(error) && error.oclif) return super.catch(error) // oclif's own (usage errors, exit)
    const report = (await import('./failure-report.js')).failureReport(error, this.logLevel)
    this.report(report.json, report.text)
    return this.exit(report.exitCode)
  }

  private report(json: Record<string, unknown>, text: string): void {
    if (this.jsonEnabled()) this.logJson({error: json})
    else process.stderr.write(`Error: ${text}\n`)
  }
}
