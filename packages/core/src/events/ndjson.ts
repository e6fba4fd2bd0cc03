import {closeSync, mkdirSync, openSync, writeSync} from 'node:fs'
import path from 'node:path'
import {LagoError} from '../errors.js'
import {events, type EventBus} from './bus.js'
import type {LagoEvent} from './types.js'

export interface EventSink {
  /** Stop writing (the file stays). */
  close(): void
}

/**
 * Write every event of `bus` (those already emitted first) as one JSON line to `target`
 * ("-" is standard output). The file is opened for appending and each line is one write(2),
 * so several processes may share one file without tearing lines.
 */
export function writeEventsTo(target: string, options: {bus?: EventBus; fill?: Partial<Pick<LagoEvent, 'prefix'>>} = {}): EventSink {
  const fd = target === '-' ? 1 : openForAppend(target)
  let open = true
  const unsubscribe = (options.bus ?? events).subscribe(
    (event) => {
      if (!open) return
      const line = `${JSON.stringify(options.fill ? {...event, ...withoutKnown(options.fill, event)} : event)}\n`
      try {
        writeSync(fd, line)
      } catch {
        open = false // a full disk or a closed pipe ends the stream, never the work
      }
    },
    {replay: true},
  )
  return {
    close() {
      unsubscribe()
      if (open && fd !== 1) closeSync(fd)
      open = false
    },
  }
}

function openForAppend(file: string): number {
  try {
    mkdirSync(path.dirname(path.resolve(file)), {recursive: true})
    return openSync(file, 'a', 0o644)
  } catch (error) {
    throw new LagoError('USAGE', `Cannot write events to ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, {
      hint: 'Give --events (or LAGO_EVENTS) a file in a writable directory, or "-" for standard output.',
      detail: {file, errno: (error as NodeJS.ErrnoException).code},
    })
  }
}

/** Fill only what the event does not carry already. */
function withoutKnown(fill: Record<string, unknown>, event: LagoEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fill).filter(([key]) => (event as unknown as Record<string, unknown>)[key] === undefined))
}

/** Read an NDJSON event file; lines that are not JSON objects (a torn tail after a crash) are skipped. */
export function parseEvents(text: string): LagoEvent[] {
  const out: LagoEvent[] = []
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    try {
      const value = JSON.parse(line) as unknown
      if (value && typeof value === 'object' && typeof (value as {type?: unknown}).type === 'string') out.push(value as LagoEvent)
    } catch {
      // skipped: see above
    }
  }
  return out
}
