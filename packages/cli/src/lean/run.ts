import {pathToFileURL} from 'node:url'
import {applyLibvirtMode, errorMessage, findPrefix, log, mergeLayers, type LogLevel, type Prefix} from '@lago/core/prefix'
import {configLayers, unreadSettingWarnings, verbDefaults} from '../config-layers.js'
import {failureReport} from '../failure-report.js'
import {libvirtLeftovers, VerbRun} from '../verb-run.js'
import type {LaunchedCli} from '../fast-path.js'
import {installation} from './installation.js'
import type {LeanCommandLine} from './command-line.js'

/**
 * Run `status`, `start`, `stop` or `shell VM WORDS` without loading oclif, when that gives
 * exactly what oclif would: the same configuration, plugin init hooks, events, lock, progress,
 * output, errors and exit codes (both run through VerbRun). False (nothing done yet) when it
 * cannot: a configured default flag or a warning about a setting, a plugin of another project
 * hooking into every command, a manifest missing; the launcher then runs oclif.
 */
export async function runLean(line: LeanCommandLine, env: NodeJS.ProcessEnv = process.env, cli?: LaunchedCli): Promise<boolean> {
  const installed = installation(env, cli)
  const command = installed?.commands.find((c) => c.id === line.verb)
  if (!installed || !command) return false
  const layers = await configLayers()
  const defaults = globalDefaults(verbDefaults(layers, line.verb, command.flags, line.argv))
  if (!defaults || unreadSettingWarnings(layers, installed.commands).length > 0) return false
  for (const hook of installed.initHooks) if (!(await runInitHook(hook, line))) return false
  const logLevel = defaults['log-level'] ?? 'warning'
  log.consoleLevel = logLevel

  const changesPrefix = line.verb === 'start' || line.verb === 'stop'
  const run = new VerbRun({verb: line.verb, changesPrefix, collectsOnFailure: line.verb === 'start'}, () =>
    changesPrefix ? libvirtLeftovers(installed.bin) : 'status and shell make nothing: nothing is left behind.',
  )
  run.logLevel = logLevel
  run.trapSignals()
  // As oclif runs them: events start even when the configuration is bad; that error is the verb's.
  const configured = Promise.resolve().then(() => applyLibvirtMode(mergeLayers(layers)))
  configured.catch(() => undefined)
  // Looked up once: the events name the prefix when there is one; its absence is the verb's error below.
  const located = findPrefix(process.cwd(), defaults['prefix-path'], defaults['prefix-name'])
  located.catch(() => undefined)
  let failure: Error | undefined
  try {
    const paths = await located.catch(() => undefined)
    await run.startEvents({json: line.json, config: await configured.catch(() => undefined), prefix: paths?.root})
    const config = await configured
    const prefix = await run.openPrefix(await located, config, {wait: true}, line.verb === 'stop' ? {vms: line.vms} : undefined)
    log.debug(`${line.verb}: run without loading oclif (the lean path)`)
    const exitCode = await runVerb(line, prefix, run)
    if (run.abort.signal.aborted) throw run.abort.signal.reason
    if (exitCode !== 0) {
      // The remote command's status, passed on as oclif's this.exit(N) would.
      failure = Object.assign(new Error(`EEXIT: ${exitCode}`), {code: 'EEXIT', oclif: {exit: exitCode}})
      await run.failed(failure, exitCode)
      process.exitCode = exitCode
    }
  } catch (thrown) {
    failure = await run.cause(thrown as Error)
    const report = failureReport(failure, logLevel)
    await run.failed(failure, report.exitCode)
    if (line.json) process.stdout.write(`${JSON.stringify({error: report.json}, null, 2)}\n`)
    else process.stderr.write(`Error: ${report.text}\n`)
    process.exitCode = report.exitCode
  } finally {
    await run.end(failure)
  }
  return true
}

async function runVerb(line: LeanCommandLine, prefix: Prefix, run: VerbRun): Promise<number> {
  if (line.verb === 'status') {
    const status = await prefix.status()
    process.stdout.write(line.json ? `${JSON.stringify(status, null, 2)}\n` : `${(await import('../status-table.js')).renderStatus(status)}\n`)
    return 0
  }
  if (line.verb === 'start') {
    const {tasks, rollback} = await prefix.startTasks(line.vms, {force: false, cold: false})
    await run.withRollback(() => run.runTasks(tasks, line.json), rollback)
    const status = await prefix.status({known: true})
    process.stdout.write(line.json ? `${JSON.stringify(status, null, 2)}\n` : status.vms.map((vm) => `${vm.name}: ${vm.state} at ${vm.ip}\n`).join(''))
    return 0
  }
  if (line.verb === 'stop') {
    const status = await (await import('../stop-run.js')).stopVerb(prefix, line.vms, {save: line.save, json: line.json, signal: run.abort.signal})
    if (status) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`)
    return 0
  }
  const {runShell} = await import('../shell-run.js')
  return runShell(prefix, line.vm, line.words, undefined, run.abort.signal)
}

/**
 * A plugin's init hook, as oclif calls it before every command (this project's hooks read only
 * the id and argv). As under oclif, a hook that fails is passed over, unless it stops the
 * command (`this.error`, `this.exit(N)`): then false, and oclif runs the command and reports
 * that as it does.
 */
async function runInitHook(file: string, line: LeanCommandLine): Promise<boolean> {
  const stop = (exit: number, message: string) => Object.assign(new Error(message), {oclif: {exit}})
  const context = {
    config: undefined,
    debug: () => undefined,
    log: (message = '') => process.stdout.write(`${message}\n`),
    warn: (message: string | Error) => process.stderr.write(`Warning: ${message instanceof Error ? message.message : message}\n`),
    error: (message: string | Error) => {
      throw stop(2, message instanceof Error ? message.message : message)
    },
    exit: (code = 0) => {
      throw stop(code, `EEXIT: ${code}`)
    },
  }
  try {
    const hook = (await import(pathToFileURL(file).href)) as {default?: (this: unknown, options: unknown) => unknown}
    if (typeof hook.default === 'function') await hook.default.call(context, {id: line.verb, argv: line.argv, config: undefined, context})
  } catch (error) {
    const exit = (error as {oclif?: {exit?: number}}).oclif?.exit
    if (exit !== undefined && exit !== 0) return false
    log.debug(`init hook ${file} failed (passed over, as oclif does): ${errorMessage(error)}`)
  }
  return true
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
