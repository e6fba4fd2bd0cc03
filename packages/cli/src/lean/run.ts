import {AbortedError, applyLibvirtMode, findPrefix, isLagoError, log, mergeLayers, Prefix, type EventSink, type LogLevel} from '@lago/core/prefix'
import {recordPrefixEvents, startEvents, verbFailed, verbFinished} from '../ci-events.js'
import {configLayers, unreadSettingWarnings, verbDefaults} from '../config-layers.js'
import {failureReport} from '../failure-report.js'
import {trapSignals} from '../signals.js'
import {installedCommands} from './installation.js'
import type {LeanCommandLine} from './command-line.js'

/**
 * Run `status` or `shell VM WORDS` without loading oclif, when that gives exactly what oclif
 * would: the same configuration, events, output, errors and exit codes. False (nothing done
 * yet) when it cannot: a configured default flag or a warning about a setting for this verb,
 * a plugin hooking into every command, a manifest missing; the launcher then runs oclif.
 */
export async function runLean(line: LeanCommandLine, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const commands = installedCommands(env)
  const command = commands?.find((c) => c.id === line.verb)
  if (!commands || !command) return false
  const layers = await configLayers()
  const defaults = globalDefaults(verbDefaults(layers, line.verb, command.flags, line.argv))
  if (!defaults || unreadSettingWarnings(layers, commands).length > 0) return false
  const logLevel = defaults['log-level'] ?? 'warning'
  log.consoleLevel = logLevel

  const startedAt = Date.now()
  const abort = new AbortController()
  const untrap = trapSignals(
    (signal) => abort.abort(new AbortedError(signal)),
    () => 'status and shell make nothing: nothing is left behind.',
  )
  const sinks: EventSink[] = []
  let stopProgress: (() => void) | undefined
  // As oclif runs them: events start even when the configuration is bad; that error is the verb's.
  const configured = Promise.resolve().then(() => applyLibvirtMode(mergeLayers(layers)))
  configured.catch(() => undefined)
  // Looked up once: the events name the prefix when there is one; its absence is the verb's error below.
  const located = findPrefix(process.cwd(), defaults['prefix-path'], defaults['prefix-name'])
  located.catch(() => undefined)
  try {
    const paths = await located.catch(() => undefined)
    const started = await startEvents({id: line.verb}, {json: line.json, config: await configured.catch(() => undefined), prefix: paths?.root})
    sinks.push(...started.sinks)
    stopProgress = started.stopProgress
    const config = await configured
    const prefix = await Prefix.open(await located, config)
    process.env.LAGO_PREFIX_PATH = prefix.paths.root
    log.debug(`${line.verb}: run without loading oclif (the lean path)`)
    const sink = recordPrefixEvents(prefix.paths)
    if (sink) sinks.push(sink)
    const exitCode = await runVerb(line, prefix, abort.signal)
    if (abort.signal.aborted) throw abort.signal.reason
    if (exitCode === 0) verbFinished(startedAt)
    else {
      verbFailed(startedAt, Object.assign(new Error(`EEXIT: ${exitCode}`), {code: 'EEXIT', oclif: {exit: exitCode}}), exitCode)
      process.exitCode = exitCode
    }
  } catch (thrown) {
    const error = abort.signal.aborted && isLagoError(abort.signal.reason) ? abort.signal.reason : (thrown as Error)
    const report = failureReport(error, logLevel)
    verbFailed(startedAt, error, report.exitCode)
    if (line.json) process.stdout.write(`${JSON.stringify({error: report.json}, null, 2)}\n`)
    else process.stderr.write(`Error: ${report.text}\n`)
    process.exitCode = report.exitCode
  } finally {
    untrap()
    stopProgress?.()
    for (const sink of sinks) sink.close()
  }
  return true
}

async function runVerb(line: LeanCommandLine, prefix: Prefix, signal: AbortSignal): Promise<number> {
  if (line.verb === 'status') {
    const status = await prefix.status()
    process.stdout.write(line.json ? `${JSON.stringify(status, null, 2)}\n` : `${(await import('../status-table.js')).renderStatus(status)}\n`)
    return 0
  }
  const {runShell} = await import('../shell-run.js')
  return runShell(prefix, line.vm, line.words, undefined, signal)
}

const LOG_LEVELS = new Set(['debug', 'info', 'warning', 'error'])

/**
 * The flags configuration adds to every verb that lean runs understand (lago.conf's [lago]
 * prefix_path, prefix_name, log_level; LAGO_PREFIX_PATH ...); undefined for any other.
 */
function globalDefaults(args: string[]): {'prefix-path'?: string; 'prefix-name'?: string; 'log-level'?: LogLevel} | undefined {
  const flags: Record<string, string> = {}
  for (let i = 0; i < args.length; i += 2) {
    const [name, value] = [args[i].replace(/^--/, ''), args[i + 1]]
    if (value === undefined || !['prefix-path', 'prefix-name', 'log-level'].includes(name)) return undefined
    if (name === 'log-level' && !LOG_LEVELS.has(value)) return undefined
    flags[name] = value
  }
  return flags
}
