import {log} from '../log.js'

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

/** Run a program with an argument array (never a shell string), logged to the prefix log. */
export async function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const {execa} = await import('execa')
  log.debug(`run: ${[file, ...args].map((a) => JSON.stringify(a)).join(' ')}`)
  const result = await execa(file, args, {
    input: options.input,
    cancelSignal: options.signal,
    env: options.env,
    timeout: options.timeoutMs,
    reject: false,
    stripFinalNewline: true,
  })
  const out = {exitCode: result.exitCode ?? -1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '')}
  if (out.exitCode !== 0) log.debug(`run: ${file} exited ${out.exitCode}: ${out.stderr.trim()}`)
  if (result.isCanceled && options.signal) throw options.signal.reason
  if (options.reject !== false && out.exitCode !== 0) {
    const reason = result.failed && result.exitCode === undefined ? String(result.message) : out.stderr.trim() || out.stdout.trim()
    throw new CommandFailedError(file, args, out.exitCode, reason)
  }
  return out
}

export class CommandFailedError extends Error {
  constructor(
    readonly file: string,
    readonly args: readonly string[],
    readonly exitCode: number,
    readonly output: string,
  ) {
    super(`${file} ${args.join(' ')} failed (exit ${exitCode}): ${output}`)
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
