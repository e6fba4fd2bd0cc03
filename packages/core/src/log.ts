import {appendFileSync, mkdirSync} from 'node:fs'
import path from 'node:path'
import {events} from './events/bus.js'

export type LogLevel = 'debug' | 'info' | 'warning' | 'error'
const RANK: Record<LogLevel, number> = {debug: 10, info: 20, warning: 30, error: 40}

/**
 * Lago's logger: everything goes to the prefix's log file (once one is attached);
 * records at or above the console level also go to stderr. Progress for people is
 * listr2's job in the CLI, not this logger's.
 */
export class Logger {
  consoleLevel: LogLevel = 'warning'
  private file?: string

  attachFile(file: string): void {
    mkdirSync(path.dirname(file), {recursive: true})
    this.file = file
  }

  debug(message: string): void {
    this.write('debug', message)
  }

  info(message: string): void {
    this.write('info', message)
  }

  /** Also a `warning` event (CI sees it in the event stream). */
  warn(message: string): void {
    events.warning(message)
    this.write('warning', message)
  }

  error(message: string): void {
    this.write('error', message)
  }

  private write(level: LogLevel, message: string): void {
    if (this.file) {
      try {
        appendFileSync(this.file, `${new Date().toISOString()} ${level.toUpperCase()} ${message}\n`)
      } catch {
        this.file = undefined
      }
    }
    if (RANK[level] >= RANK[this.consoleLevel]) process.stderr.write(`${level}: ${message}\n`)
  }
}

export const log = new Logger()
