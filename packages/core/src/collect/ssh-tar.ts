import {spawn, type ChildProcessByStdio} from 'node:child_process'
import {Writable, type Readable} from 'node:stream'
import type {Client} from 'ssh2'
import {LagoError} from '../errors.js'
import {execOn} from '../ssh/client.js'
import {shellCommand} from '../ssh/quote.js'

const MISSING = 'lago-missing:'

/**
 * On the guest (POSIX sh and any tar, busybox's included): report the paths that do not
 * exist, then stream the others as one tar archive relative to "/", following symlinks.
 */
const GUEST_SCRIPT = [
  'n=$#',
  'while [ "$n" -gt 0 ]; do p=$1; shift; n=$((n - 1))',
  `  if [ -e "$p" ]; then set -- "$@" "\${p#/}"; else printf '${MISSING}%s\\n' "$p" >&2; fi`,
  'done',
  '[ "$#" -gt 0 ] || exit 0',
  'exec tar -c -h -f - -C / "$@"',
].join('\n')

/**
 * Copy `paths` from the guest into `staging` (which then mirrors the guest's tree) through
 * one SSH channel piped into the local tar: no per-file round trips. Returns the paths found.
 */
export async function tarOverSsh(client: Client, paths: string[], staging: string, signal?: AbortSignal): Promise<{found: string[]; warnings: string[]}> {
  const unpack = new LocalUntar(staging)
  let guestErrors = ''
  const stderr = new Writable({
    write(chunk: Buffer, _encoding, done) {
      guestErrors += chunk.toString()
      done()
    },
  })
  // A local tar that dies (disk full) must also end the transfer, or the guest blocks forever.
  const stop = new AbortController()
  const onAbort = () => stop.abort()
  signal?.addEventListener('abort', onAbort, {once: true})
  unpack.once('error', onAbort)
  const exitCode = await execOn(client, shellCommand(['sh', '-c', GUEST_SCRIPT, 'sh', ...paths]), {stdout: unpack, stderr, signal: stop.signal}).finally(() => {
    signal?.removeEventListener('abort', onAbort)
    if (!unpack.destroyed) unpack.end()
  })
  signal?.throwIfAborted()
  await unpack.finished()
  const lines = guestErrors.split('\n').filter(Boolean)
  const missing = new Set(lines.filter((l) => l.startsWith(MISSING)).map((l) => l.slice(MISSING.length)))
  const warnings = lines.filter((l) => !l.startsWith(MISSING))
  if (exitCode !== 0 && warnings.length === 0) warnings.push(`the guest's tar exited with status ${exitCode}`)
  return {found: paths.filter((p) => !missing.has(p)), warnings}
}

/**
 * The local `tar -x` as a writable stream, started on the first byte: when no path exists
 * the guest sends nothing, which tar would call "not a tar archive".
 */
class LocalUntar extends Writable {
  private child?: ChildProcessByStdio<Writable, null, Readable>
  private exit?: Promise<number>
  private readonly errors: Buffer[] = []
  private exited = false
  private exitCode = 0

  constructor(private readonly dir: string) {
    super()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const child = (this.child ??= this.spawn())
    if (this.exited) return done(this.failure())
    if (child.stdin.write(chunk)) return done()
    const onDrain = () => {
      child.off('close', onClose)
      done()
    }
    const onClose = () => {
      child.stdin.off('drain', onDrain)
      done(this.failure())
    }
    child.stdin.once('drain', onDrain)
    child.once('close', onClose)
  }

  override _final(done: (error?: Error | null) => void): void {
    this.child?.stdin.end()
    done()
  }

  /** Resolves when tar has unpacked everything; throws with its complaint when it failed. */
  async finished(): Promise<void> {
    if (!this.destroyed) await new Promise<void>((resolve) => (this.writableFinished ? resolve() : this.once('finish', () => resolve()).once('error', () => resolve())))
    const code = await (this.exit ?? Promise.resolve(0))
    if (code !== 0) throw this.failure()
  }

  private failure(): LagoError {
    return new LagoError('COLLECT', `Unpacking the artifacts failed (tar exit status ${this.exitCode}): ${Buffer.concat(this.errors).toString().trim() || 'tar stopped reading'}`)
  }

  private spawn(): ChildProcessByStdio<Writable, null, Readable> {
    const child = spawn('tar', ['-x', '-f', '-', '-C', this.dir, '--no-same-owner', '--no-same-permissions'], {stdio: ['pipe', 'ignore', 'pipe']})
    child.stderr.on('data', (c: Buffer) => this.errors.push(c))
    child.stdin.on('error', () => {}) // reported through tar's exit status
    this.exit = new Promise<number>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code) => {
        this.exited = true
        this.exitCode = code ?? 1
        resolve(this.exitCode)
      })
    })
    return child
  }
}
