import net from 'node:net'
import type {Duplex, Readable} from 'node:stream'
import type {Client} from 'ssh2'
import {LagoError, errorMessage} from '../../errors.js'
import {log} from '../../log.js'
import {shellCommand} from '../../ssh/quote.js'
import {run} from '../../util/exec.js'
import {parseSshUri, resolveSshSettings, unlessNotInstalled, type SshHypervisor, type SshSettings} from './uri.js'

export interface RemoteResult {
  exitCode: number
  stdout: string
  stderr: string
}

/**
 * One SSH connection to a hypervisor host, shared by everything a command does there
 * (qemu-img, file transfers, tunnels to guests). Its socket keeps the process alive only
 * while something uses it, so a command ends when its work does.
 */
export class HypervisorConnection {
  private client?: Promise<Client>
  private socket?: net.Socket
  private users = 0

  constructor(
    /** The name errors use: the configured hypervisor name, or its host. */
    readonly label: string,
    readonly hypervisor: SshHypervisor,
  ) {}

  /** Run `argv` on the host (quoted for its shell); never rejects for a non-zero exit. */
  async exec(argv: readonly string[], options: {stdin?: Readable | string; signal?: AbortSignal} = {}): Promise<RemoteResult> {
    const client = await this.connected()
    return this.using(
      () =>
        new Promise<RemoteResult>((resolve, reject) => {
          client.exec(shellCommand(argv), (error, channel) => {
            if (error) return reject(this.failure(`could not run ${argv[0]}`, error))
            const out: Buffer[] = []
            const err: Buffer[] = []
            let exitCode = 255
            channel.on('exit', (code: number | null) => (exitCode = code ?? 255))
            channel.on('data', (c: Buffer) => out.push(c))
            channel.stderr.on('data', (c: Buffer) => err.push(c))
            channel.on('close', () => resolve({exitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()}))
            channel.on('error', (e: Error) => reject(this.failure(`${argv[0]} failed`, e)))
            options.signal?.addEventListener('abort', () => channel.close(), {once: true})
            if (typeof options.stdin === 'object') options.stdin.pipe(channel)
            else channel.end(options.stdin ?? '')
          })
        }),
    )
  }

  /** Like exec, but a non-zero exit is a LagoError naming the host and `what`. */
  async check(what: string, argv: readonly string[], options: {stdin?: Readable | string; signal?: AbortSignal} = {}): Promise<string> {
    const result = await this.exec(argv, options)
    if (result.exitCode !== 0) {
      throw new LagoError('HOST', `${this.label}: ${what} failed: ${(result.stderr || result.stdout).trim().split('\n').pop() ?? `exit ${result.exitCode}`}`, {
        userError: false,
        detail: {host: this.label, argv},
      })
    }
    return result.stdout
  }

  /** Seconds OpenSSH keeps a login open for the next command (`[remote] persist_seconds`); 0: not used. */
  persistSeconds = 0

  /**
   * A TCP stream from the hypervisor host to `host:port` (a guest it runs): on this process's
   * connection when it has one, else through the login OpenSSH keeps open between commands
   * (falling back to a connection of its own when ssh cannot).
   */
  async forward(host: string, port: number): Promise<Duplex> {
    if (!this.client && this.persistSeconds > 0) {
      const {persistedForward} = await import('./persisted-forward.js')
      const stream = await persistedForward(this.hypervisor, {host, port}, this.persistSeconds, this.label).catch((error: unknown) => {
        log.debug(`${this.label}: no tunnel through a persisted login (${errorMessage(error)}); connecting`)
        return undefined
      })
      if (stream) return stream
    }
    const client = await this.connected()
    this.hold()
    return new Promise<Duplex>((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, host, port, (error, channel) => {
        if (error) {
          this.release()
          return reject(new LagoError('SSH', `${this.label}: cannot open a tunnel to ${host}:${port}: ${error.message}`, {detail: {host: this.label}}))
        }
        channel.once('close', () => this.release())
        resolve(channel)
      })
    })
  }

  close(): void {
    void this.client?.then((c) => c.end()).catch(() => undefined)
    this.client = undefined
  }

  private async using<T>(work: () => Promise<T>): Promise<T> {
    this.hold()
    try {
      return await work()
    } finally {
      this.release()
    }
  }

  private hold(): void {
    if (this.users++ === 0) this.socket?.ref()
  }

  private release(): void {
    if (--this.users === 0) this.socket?.unref()
  }

  private failure(what: string, error: unknown): LagoError {
    return new LagoError('HOST', `${this.label}: ${what}: ${errorMessage(error)}`, {userError: false, detail: {host: this.label}})
  }

  private connected(): Promise<Client> {
    this.client ??= this.open().catch((error: unknown) => {
      this.client = undefined
      throw error
    })
    return this.client
  }

  private async open(): Promise<Client> {
    const settings = await resolveSshSettings(this.hypervisor)
    const privateKey = await this.readKey(settings)
    const verify = settings.noVerify ? undefined : await knownHostKeys(settings)
    const ssh2 = await import('ssh2')
    const client = new ssh2.default.Client()
    const socket = net.connect({host: settings.hostname, port: settings.port})
    this.socket = socket
    client.on('error', () => {})
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        client.end()
        reject(
          new LagoError('LIBVIRT_UNREACHABLE', `Cannot reach hypervisor ${this.label} (${settings.user}@${settings.hostname}:${settings.port}) over SSH: ${error.message}`, {
            hint: `Check that "ssh -p ${settings.port} ${settings.user}@${settings.hostname}" works with the key of the URI (?keyfile=) or of ~/.ssh/config.`,
            detail: {host: this.label},
          }),
        )
      }
      client.once('ready', () => {
        client.off('error', fail)
        resolve()
      })
      client.once('error', fail)
      client.connect({
        sock: socket,
        username: settings.user,
        privateKey,
        readyTimeout: 15_000,
        keepaliveInterval: 0,
        hostVerifier: verify ? (key: Buffer) => verify.has(key.toString('base64')) : undefined,
      })
    })
    client.on('close', () => {
      if (this.client) log.debug(`${this.label}: SSH connection closed`)
      this.client = undefined
    })
    if (this.users === 0) socket.unref()
    return client
  }

  private async readKey(settings: SshSettings): Promise<Buffer> {
    const {readFile} = await import('node:fs/promises')
    for (const file of settings.identityFiles) {
      try {
        return await readFile(file)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw new LagoError('HOST', `${this.label}: cannot read the SSH key ${file}: ${(error as NodeJS.ErrnoException).code}`, {detail: {host: this.label, file}})
        }
      }
    }
    throw new LagoError('HOST', `${this.label}: no SSH key found (tried ${settings.identityFiles.join(', ') || 'none'}).`, {
      hint: 'Name one in the URI (?keyfile=/path/to/key) or with IdentityFile in ~/.ssh/config.',
      detail: {host: this.label},
    })
  }
}

/** The host's keys as known_hosts records them (`ssh-keygen -F`); refuses an unknown host as ssh would. */
async function knownHostKeys(settings: SshSettings): Promise<Set<string>> {
  const name = settings.port === 22 ? settings.hostname : `[${settings.hostname}]:${settings.port}`
  const result = await run('ssh-keygen', ['-F', name], {reject: false}).catch(unlessNotInstalled)
  const keys = new Set(
    (result?.stdout ?? '')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.trim().split(/\s+/)[2])
      .filter(Boolean),
  )
  if (keys.size === 0) {
    throw new LagoError('HOST', `The SSH host key of ${name} is not in ~/.ssh/known_hosts.`, {
      hint: `Connect once with "ssh ${settings.user}@${name}" to accept it, or add no_verify=1 to the URI (as virsh accepts).`,
    })
  }
  return keys
}

const connections = new Map<string, HypervisorConnection>()

/** The process's one connection to the host of a `qemu+ssh://` URI. */
export function hypervisorConnection(label: string, uri: string): HypervisorConnection {
  let connection = connections.get(uri)
  if (!connection) {
    connection = new HypervisorConnection(label, parseSshUri(uri))
    connections.set(uri, connection)
  }
  return connection
}
