import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {execa} from 'execa'
import {isLagoError} from '@lago/core'
import {LAGO_BIN, REPO_ROOT} from './harness.js'

/**
 * The hostile-input corpus's world: a scratch directory with a sentinel directory (files a
 * hostile input would like to read, replace or delete) beside the prefix and the store, and a
 * fingerprint of it that every case compares before and after.
 */
export class HostileWorld {
  private constructor(readonly dir: string) {}

  static async create(name: string): Promise<HostileWorld> {
    const dir = await mkdtemp(path.join(os.tmpdir(), `lago-hostile-${name}-`))
    const world = new HostileWorld(dir)
    await mkdir(world.sentinel)
    await writeFile(path.join(world.sentinel, 'precious.txt'), 'keep me\n')
    await writeFile(path.join(world.sentinel, 'secret'), 'do not read\n', {mode: 0o600})
    await mkdir(path.join(world.sentinel, 'precious'))
    await writeFile(path.join(world.sentinel, 'precious', 'data'), 'also keep\n')
    await chmod(path.join(world.sentinel, 'precious'), 0o755)
    return world
  }

  /** Outside every prefix and store the cases use. */
  get sentinel(): string {
    return path.join(this.dir, 'sentinel')
  }

  get store(): string {
    return path.join(this.dir, 'store')
  }

  /** Every entry under the sentinel with its mode and content hash: any change shows. */
  async fingerprint(): Promise<string> {
    const lines: string[] = []
    const walk = async (dir: string): Promise<void> => {
      for (const name of (await readdir(dir)).sort()) {
        const file = path.join(dir, name)
        const info = await stat(file)
        const content = info.isFile()
          ? createHash('sha256')
              .update(await readFile(file))
              .digest('hex')
          : 'dir'
        lines.push(`${path.relative(this.sentinel, file)} ${(info.mode & 0o7777).toString(8)} ${content}`)
        if (info.isDirectory()) await walk(file)
      }
    }
    await walk(this.sentinel)
    return lines.join('\n')
  }

  /** Environment of the CLI: this world's store, leases and (empty) configuration. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      LAGO_TEMPLATE_STORE: this.store,
      LAGO_LEASE_DIR: path.join(this.dir, 'subnets'),
      LAGO_SYSTEM_CONFIG_DIR: path.join(this.dir, 'no-system-config'),
      XDG_CONFIG_HOME: path.join(this.dir, 'config'),
      LAGO__DOWNLOAD__RETRIES: '1',
      LAGO__DOWNLOAD__BACKOFF_MS: '10',
      LAGO__DOWNLOAD__STALL_TIMEOUT: '5',
      // Whatever the caller's shell has (a benchmark's environment allows unverified templates).
      LAGO__DOWNLOAD__ALLOW_UNVERIFIED: 'false',
      OCLIF_SKIP_NEW_VERSION_CHECK: 'true',
      ...extra,
    }
  }

  async remove(): Promise<void> {
    await rm(this.dir, {recursive: true, force: true})
  }
}

export interface CliOutcome {
  exitCode: number
  stderr: string
  stdout: string
}

/** Run the CLI of this checkout. */
export async function lagoCli(world: HostileWorld, args: string[], env: Record<string, string> = {}): Promise<CliOutcome> {
  const result = await execa(LAGO_BIN, args, {cwd: world.dir, reject: false, env: world.env(env), timeout: 60_000})
  return {exitCode: result.exitCode ?? -1, stderr: String(result.stderr), stdout: String(result.stdout)}
}

/** Run `jobs` with at most `limit` at a time (the CLI starts in about half a second; cores are few). */
export async function pool<T>(jobs: (() => Promise<T>)[], limit = 4): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length)
  let next = 0
  await Promise.all(
    Array.from({length: Math.min(limit, jobs.length)}, async () => {
      while (next < jobs.length) {
        const index = next++
        results[index] = await jobs[index]()
      }
    }),
  )
  return results
}

/**
 * What every CLI case asserts: the exit code, an "Error:" first line naming the field or file
 * (`message`), no stack trace and no "Unexpected error".
 */
export function assertCliRefusal(outcome: CliOutcome, exitCode: number, message: RegExp): void {
  const context = `exit ${outcome.exitCode}\n${outcome.stderr}`
  assert.equal(outcome.exitCode, exitCode, context)
  const first = outcome.stderr.split('\n').find((line) => line.startsWith('Error: ')) ?? ''
  assert.match(first, message, context)
  assert.doesNotMatch(outcome.stderr, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace:\n${context}`)
  assert.doesNotMatch(outcome.stderr, /Unexpected error/, context)
}

/** What every in-process case asserts: a LagoError with this exit code and a one-line message matching `message`. */
export async function assertRefusal(work: () => Promise<unknown>, exitCode: number, message: RegExp): Promise<void> {
  let caught: unknown
  try {
    await work()
  } catch (error) {
    caught = error
  }
  assert.ok(caught !== undefined, 'the hostile input was accepted')
  assert.ok(isLagoError(caught), `expected a LagoError, got ${caught instanceof Error ? caught.stack : String(caught)}`)
  assert.equal(caught.exitCode, exitCode, caught.message)
  assert.doesNotMatch(caught.message, /\n/, `not one line: ${caught.message}`)
  assert.match(caught.message, message)
}

export {REPO_ROOT}
