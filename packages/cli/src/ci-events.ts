import {errorMessage, eventError, events, writeEventsTo, LagoError, type EventSink, type LagoConfig, type Prefix} from '@lago/core/prefix'
import type {VmState} from '@lago/core'

/** What parseLago needs of the command to start its event stream. */
interface EventedCommand {
  id?: string
  coreEvents?: Pick<typeof import('@lago/core/prefix'), 'events' | 'writeEventsTo'>
}

/**
 * Start this run's event stream: the verb, --events/LAGO_EVENTS (NDJSON), plain timestamped
 * progress lines with a heartbeat when stderr is not a terminal, then verb.started.
 */
export async function startEvents(command: EventedCommand, options: {events?: string; json: boolean; config?: LagoConfig; prefix?: string}): Promise<{sinks: EventSink[]; stopProgress?: () => void}> {
  command.coreEvents = {events, writeEventsTo}
  events.setContext({verb: command.id?.replace(/:/g, ' '), prefix: options.prefix})
  if (options.events === '-' && options.json) {
    throw new LagoError('USAGE', '--events - and --json would both write to standard output.', {hint: 'Write the events to a file (--events FILE), or leave out --json.'})
  }
  const sinks = options.events ? [writeEventsTo(options.events)] : []
  let stopProgress: (() => void) | undefined
  if (!process.stderr.isTTY && !options.json) {
    const {printPlainProgress} = await import('./plain-progress.js')
    stopProgress = printPlainProgress(events, {heartbeatSeconds: options.config?.ci.heartbeat_seconds ?? 30, transferEveryMs: Number(process.env.LAGO_PROGRESS_INTERVAL_MS ?? 5000)})
  }
  events.emit({type: 'verb.started', argv: process.argv.slice(2)})
  return {sinks, stopProgress}
}

export function verbFinished(startedAt: number, logs?: string): void {
  events.emit({type: 'verb.finished', durationMs: Date.now() - startedAt, exitCode: 0, ...(logs ? {logs} : {})})
}

/** The run's last event: the same exit code the process exits with, and the error's code. */
export function verbFailed(startedAt: number, error: Error & {oclif?: unknown; code?: unknown}, exitCode: number, logs?: string): void {
  const described = !error.oclif || (error as {isLagoError?: boolean}).isLagoError ? eventError(error) : error.code === 'EEXIT' ? exitError(exitCode) : {code: 'USAGE', message: error.message}
  events.emit({type: 'verb.failed', durationMs: Date.now() - startedAt, exitCode, error: described, ...(logs ? {logs} : {})})
}

/** A verb that ran to its end and passes on a non-zero status (shell: the remote command's). */
function exitError(exitCode: number): {code: string; message: string} {
  return {code: 'EXIT', message: `exit status ${exitCode}`}
}

const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS'])

/** Also record this run's events (those so far first) in the prefix's PREFIX/.lago/events.ndjson; undefined when it is not writable. */
export function recordPrefixEvents(paths: {root: string; events: string}): EventSink | undefined {
  events.setContext({prefix: paths.root})
  try {
    return writeEventsTo(paths.events, {fill: {prefix: paths.root}})
  } catch (error) {
    // A prefix this user may read but not write (status of someone else's): nothing recorded.
    if (NOT_WRITABLE.has(String((error as {detail?: {errno?: string}}).detail?.errno))) return undefined
    throw error
  }
}

/**
 * Collect every VM's logs (a failure, or --collect-always) and say where on stderr; never
 * throws: the verb's own outcome is what the user must see.
 */
export async function collectLogs(
  verb: string,
  prefix: Prefix | undefined,
  options: {error?: Error; exitCode?: number; extraArtifacts?: (vm: VmState) => string[]; signal?: AbortSignal},
): Promise<string | undefined> {
  if (!prefix) return undefined
  try {
    const {collectFailure} = await import('@lago/core/ci/failures')
    process.stderr.write(`Collecting the VMs' logs${options.error ? ` after the failed ${verb}` : ''}...\n`)
    const collection = await collectFailure(prefix, {verb, ...options})
    const notes = collection.vms.flatMap((vm) => vm.notes.map((note) => `  ${vm.vm}: ${note.split('\n')[0]}`))
    process.stderr.write(
      `Logs of ${prefix.state.vms.length} VM${prefix.state.vms.length === 1 ? '' : 's'} collected into ${collection.dir}${notes.length > 0 ? `; not everything could be read:\n${notes.join('\n')}` : ''}\n`,
    )
    return collection.dir
  } catch (error) {
    process.stderr.write(`warning: collecting the VMs' logs failed: ${errorMessage(error)}\n`)
    return undefined
  }
}
