import {Command, Flags, Interfaces} from '@oclif/core'
import type {LagoConfig, LogLevel, Prefix, PrefixChange, PrefixPaths, Task} from '@lago/core'

export type LagoFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof LagoCommand)['baseFlags'] & T['flags']>

const HANDLED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

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
  }

  /** Commands that change a prefix hold its lock and journal what they make (see openPrefix). */
  static changesPrefix = false

  /** This command's hold on the prefix it changes, ended in finally(). */
  protected change?: PrefixChange

  /** Fires on SIGINT/SIGTERM/SIGHUP; long operations pass it down and roll back. */
  protected readonly abort = new AbortController()
  /** What a second signal (which exits at once, rollback unfinished) may leave behind, and how to remove it. */
  protected leftovers: () => string = () => `libvirt objects it made may be left: "${this.config.bin} gc" removes those whose prefix is gone.`
  private signalCount = 0
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.signalCount++
    if (this.signalCount > 1) {
      process.stderr.write(`\nInterrupted again by ${signal}: exiting without finishing the rollback. ${this.leftovers()}\n`)
      process.exit(128 + signalNumberOf(signal))
    }
    void import('@lago/core/prefix').then(({AbortedError}) => this.abort.abort(new AbortedError(signal)))
  }

  protected logLevel: LogLevel = 'warning'

  override async init(): Promise<void> {
    await super.init()
    for (const signal of HANDLED_SIGNALS) process.on(signal, this.onSignal)
  }

  protected override async finally(error: Error | undefined): Promise<void> {
    for (const signal of HANDLED_SIGNALS) process.off(signal, this.onSignal)
    await this.change?.end(error ? 'failed' : 'ok')
    return super.finally(error)
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

  /** Run a task tree with a live display (a plain line log when not on a terminal, nothing with --json). */
  protected async runTasks(tasks: Task[]): Promise<void> {
    const {runWithListr} = await import('./task-renderer.js')
    await runWithListr(tasks, {signal: this.abort.signal, quiet: this.jsonEnabled()})
  }

  /** Work that must roll back when it fails or a signal arrives. */
  protected async withRollback<T>(work: () => Promise<T>, rollback: () => Promise<void>): Promise<T> {
    try {
      const result = await work()
      if (this.abort.signal.aborted) throw this.abort.signal.reason
      return result
    } catch (error) {
      await rollback()
      throw this.abort.signal.aborted ? this.abort.signal.reason : error
    }
  }

  protected override async catch(thrown: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    const {isLagoError} = await import('@lago/core/prefix')
    // Whatever failed after a signal (a request it cut, a half-read repository) failed because of it.
    const error = this.abort.signal.aborted && isLagoError(this.abort.signal.reason) ? (this.abort.signal.reason as typeof thrown) : thrown
    if (!isLagoError(error)) {
      if (error.oclif) return super.catch(error) // oclif's own (usage errors, exit)
      const text = this.logLevel === 'debug' ? (error.stack ?? error.message) : `Unexpected error: ${error.message}\n(run again with --log-level debug for the stack trace)`
      this.report({code: 'INTERNAL', message: error.message}, text)
      return this.exit(1)
    }
    const text = this.logLevel === 'debug' && !error.userError ? `${error.text}\n${error.stack}` : error.text
    this.report(error.toJSON(), text)
    return this.exit(error.exitCode)
  }

  private report(json: Record<string, unknown>, text: string): void {
    if (this.jsonEnabled()) this.logJson({error: json})
    else process.stderr.write(`Error: ${text}\n`)
  }
}

function signalNumberOf(signal: NodeJS.Signals): number {
  return ({SIGHUP: 1, SIGINT: 2, SIGTERM: 15} as Record<string, number>)[signal] ?? 15
}
