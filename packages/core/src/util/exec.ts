import path from 'node:path'
import {LagoError} from '../errors.js'
import {log} from '../log.js'
import {abortReason} from './abort.js'

export interface RunOptions {
  input?: string
  signal?: AbortSignal
  env?: Record<string, string>
  timeoutMs?: number
  /** Don't throw on a non-zero exit: the caller inspects exitCode. */
  reject?: boolean
}

export interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
}

/**
 * Run a program with an argument array (never a shell string) and capture its output,
 * logged to the prefix log. Built on node:child_process rather than execa: this runs on
 * every `status`/`start`, and execa's import alone costs more than node's own start-up.
 * (execa stays for interactive children, e.g. the serial console.)
 */
export async function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const {execFile} = await import('node:child_process')
  log.debug(`run: ${[file, ...args].map((a) => JSON.stringify(a)).join(' ')}`)
  const out = await new Promise<RunResult>((resolve, reject) => {
    const child = execFile(
      file,
      [...args],
      {
        env: options.env ? {...process.env, ...options.env} : process.env,
        signal: options.signal,
        timeout: options.timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const failure = error as (NodeJS.ErrnoException & {code?: string | number; killed?: boolean}) | null
        if (failure?.code === 'ENOENT' || failure?.name === 'AbortError') {
          reject(failure.name === 'AbortError' && options.signal ? abortReason(options.signal) : failure)
          return
        }
        const exitCode = failure ? (typeof failure.code === 'number' ? failure.code : -1) : 0
        resolve({exitCode, stdout: stdout.replace(/\n$/, ''), stderr: stderr.replace(/\n$/, '')})
      },
    )
    child.stdin?.on('error', () => {}) // a program that never reads its stdin may exit first (EPIPE)
    child.stdin?.end(options.input ?? '')
  })
  if (out.exitCode !== 0) log.debug(`run: ${file} exited ${out.exitCode}: ${out.stderr.trim()}`)
  if (options.reject !== false && out.exitCode !== 0) {
    throw new CommandFailedError(file, args, out.exitCode, out.stderr.trim() || out.stdout.trim())
  }
  return out
}

/** A spawned tool that failed: a LagoError naming the tool, what it was run on (its arguments) and its own words. */
export class CommandFailedError extends LagoError {
  constructor(
    readonly file: string,
    readonly args: readonly string[],
    /** The tool's exit status (-1 when it could not run). */
    readonly status: number,
    readonly output: string,
  ) {
    super('TOOL', `${path.basename(file)} failed (exit ${status}): ${output || '(no output)'}\n  command: ${[file, ...args].join(' ')}`, {
      userError: false,
      detail: {tool: path.basename(file), args: [...args], exitStatus: status, output},
    })
    this.name = 'CommandFailedError'
  }
}

/** The first of `candidates` found on PATH, or undefined. */
export async function whichFirst(candidates: readonly string[]): Promise<string | undefined> {
  const {access} = await import('node:fs/promises')
  const {constants} = await import('node:fs')
  const path = await import('node:path')
  for (const name of candidates) {
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      if (!dir) continue
      const candidate = path.join(dir, name)
      try {
        await access(candidate, constants.X_OK)
        return candidate
      } catch {
        // keep looking
      }
    }
  }
  return undefined
}
