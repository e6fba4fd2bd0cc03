import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import os from 'node:os'
import {LagoError} from '../../errors.js'
import {run as runProgram, type RunOptions, type RunResult} from '../../util/exec.js'

interface Query {
  args: readonly string[]
  resolve: (result: RunResult) => void
  reject: (error: unknown) => void
}

/** How long a virsh that reached libvirtd vouches for it (ping): a check, not a cache. */
const ANSWERED_FRESH_MS = 5_000

/** `virsh -c URI ...` with argument arrays; connection failures become one clear error. */
export class Virsh {
  /** Per URI, whether the last queries of this process reached libvirtd, and when they ended (ping reuses that answer). */
  private static readonly answers = new Map<string, {reached: Promise<boolean>; endedAt?: number}>()
  private queued?: Query[]

  constructor(
    readonly uri: string,
    private readonly runner: typeof runProgram = runProgram,
  ) {}

  async run(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    let result: RunResult
    try {
      result = await this.runner('virsh', ['-q', '-c', this.uri, ...args], {...options, reject: false})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new LagoError('HOST', 'virsh is not installed.', {hint: 'Install the libvirt client tools (Debian: apt-get install libvirt-clients; Fedora: dnf install libvirt-client).'})
      }
      throw error
    }
    if (result.exitCode !== 0 && isConnectionFailure(result.stderr)) throw unreachable(this.uri, result.stderr)
    if (result.exitCode !== 0 && options.reject !== false) {
      throw new LagoError('LIBVIRT', `libvirt refused "virsh ${args[0]}": ${cleanVirshError(result.stderr)}`, {userError: false})
    }
    return result
  }

  /**
   * A read-only query (a listing, the host's memory). Queries asked in the same turn of the
   * event loop go to libvirtd through one virsh process (one spawn, one connection) instead
   * of one each; any error sends each query again on its own, so callers see exactly the
   * result and the error a lone run would give them.
   */
  query(args: readonly string[]): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      if (!this.queued) {
        this.queued = []
        setImmediate(() => this.remember(this.flush()))
      }
      this.queued.push({args, resolve, reject})
    })
  }

  /** libvirtd answers at the URI: proven by a query of this process that reached it in the last seconds (or is on its way), else by `virsh uri`. */
  async ping(): Promise<void> {
    const last = Virsh.answers.get(this.uri)
    if (last && (last.endedAt === undefined || Date.now() - last.endedAt < ANSWERED_FRESH_MS) && (await last.reached)) return
    await this.run(['uri'])
  }

  private remember(flushed: Promise<boolean>): void {
    const answer: {reached: Promise<boolean>; endedAt?: number} = {reached: flushed}
    void flushed.then(() => (answer.endedAt = Date.now()))
    Virsh.answers.set(this.uri, answer)
  }

  /** Run the queued queries; resolves whether virsh reached libvirtd. */
  private async flush(): Promise<boolean> {
    const queries = this.queued ?? []
    this.queued = undefined
    const oneByOne = async () => {
      const outcomes = await Promise.all(
        queries.map((q) =>
          this.run(q.args).then(
            (r) => (q.resolve(r), true),
            (e: unknown) => (q.reject(e), reachedDespite(e)),
          ),
        ),
      )
      return outcomes.some(Boolean)
    }
    // Only plain words are joined into virsh's own command line (never a path or a name).
    if (queries.length < 2 || !queries.every((q) => q.args.every((a) => BATCH_WORD.test(a)))) return oneByOne()
    const marker = `lago-batch-${randomBytes(6).toString('hex')}`
    let result: RunResult
    try {
      result = await this.run([queries.map((q) => q.args.join(' ')).join(` ; echo ${marker} ; `)], {reject: false})
    } catch (error) {
      for (const q of queries) q.reject(error)
      return false
    }
    const outputs = result.stdout.split(marker)
    // virsh goes on after a failed command (and may exit 0): any error output means "ask one by one".
    if (result.exitCode !== 0 || result.stderr.trim() !== '' || outputs.length !== queries.length) return oneByOne()
    // Each output as a lone run returns it: without the newline ending it (nor one an echo may have added).
    queries.forEach((q, i) => q.resolve({exitCode: 0, stdout: (i > 0 ? outputs[i].replace(/^\n/, '') : outputs[i]).replace(/\n$/, ''), stderr: ''}))
    return true
  }

  /** Transient creation from an XML file (kept next to the prefix logs for debugging). */
  async createFromXml(kind: 'create' | 'net-create', xmlFile: string, options: RunOptions = {}): Promise<void> {
    await this.run([kind, xmlFile], options)
  }
}

const BATCH_WORD = /^(--)?[a-z][a-z0-9-]*$/

/** A failed virsh that still reached libvirtd (it refused the command): anything but "unreachable" or "no virsh". */
function reachedDespite(error: unknown): boolean {
  return error instanceof LagoError && error.code === 'LIBVIRT'
}

function isConnectionFailure(stderr: string): boolean {
  return /failed to connect to the hypervisor|Failed to connect socket|no connection driver available|authentication (failed|unavailable)/i.test(stderr)
}

export function cleanVirshError(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.replace(/^error:\s*/, '').trim())
    .filter(Boolean)
    .join(' ')
}

function unreachable(uri: string, stderr: string): LagoError {
  const reason = cleanVirshError(stderr)
  return new LagoError('LIBVIRT_UNREACHABLE', `Cannot reach libvirt at ${uri}: ${reason}`, {
    hint: `Fix: ${libvirtFix(uri, reason, existsSync('/run/systemd/system'))}`,
    detail: {uri, reason},
  })
}

/** The command that makes libvirt answer, by the kind of failure (also the doctor's fix line). */
export function libvirtFix(uri: string, reason: string, systemd: boolean): string {
  if (/permission denied|authentication|not authorized/i.test(reason)) {
    return `sudo lago setup --user ${os.userInfo().username}, then log in again (joins the lago group, which a polkit rule lets manage libvirt)`
  }
  const remote = /^[a-z0-9]+(\+[a-z]+)?:\/\/[^/]/i.test(uri)
  if (remote) return `start libvirtd on the remote host and check the connection: virsh -c '${uri}' uri`
  if (uri.includes('/session')) return 'virsh -c qemu:///session uri (starts the session daemon; is libvirt-daemon installed?)'
  return systemd ? 'sudo systemctl enable --now libvirtd' : 'sudo sh -c "virtlogd -d && libvirtd -d" (systemd is not running here, so start the daemons by hand)'
}
