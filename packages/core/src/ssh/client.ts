import net from 'node:net'
import type {Duplex} from 'node:stream'
import type {Client, ClientChannel, ConnectConfig} from 'ssh2'
import {LagoError, errorMessage} from '../errors.js'
import {log} from '../log.js'
import {sleep, throwIfAborted} from '../util/abort.js'
import {awaitReply} from '../util/await-reply.js'

export interface SshTarget {
  host: string
  port?: number
  user: string
  privateKey: string
  password?: string
  /** A stream to the guest's SSH server opened by the provider (a tunnel); host and port then only name it. */
  sock?: () => Promise<Duplex>
}

async function newClient(): Promise<Client> {
  const ssh2 = await import('ssh2')
  return new ssh2.default.Client()
}

const CIPHERS: import('ssh2').CipherAlgorithm[] = ['chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr']

/** One SSH connection; host keys are not checked (guests are throwaway and made by us). */
export async function connect(target: SshTarget, readyTimeoutMs = 10_000, signal?: AbortSignal): Promise<Client> {
  const client = await newClient()
  const config: ConnectConfig = {
    host: target.host,
    port: target.port ?? 22,
    username: target.user,
    privateKey: target.privateKey,
    password: target.password,
    readyTimeout: readyTimeoutMs,
    keepaliveInterval: 5_000,
    // OpenSSH's client order. ssh2's own prefers AES-CTR with HMAC whenever this host has
    // AES-NI, but guests under TCG (and dropbear) have none: chacha20-poly1305 costs them
    // less CPU, which bounds bulk transfers such as collect (bench/collect.mjs).
    algorithms: {cipher: CIPHERS},
    ...(target.sock ? {sock: await target.sock()} : {}),
  }
  // ssh2 may emit more than one error (e.g. a socket error, then "connection lost before
  // handshake"); the promise reports the first, the rest must not crash the process.
  client.on('error', () => {})
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      client.end()
      reject(error)
    }
    // A guest going down mid-handshake closes the socket without an error event.
    const onClose = () => reject(new Error('the connection closed before the SSH handshake finished'))
    client.once('close', onClose)
    client.once('ready', () => {
      client.off('error', onError)
      client.off('close', onClose)
      resolve(client) // later errors and closes surface through whileConnected
    })
    client.once('error', onError)
    signal?.addEventListener('abort', () => onError(new Error('the login was given up')), {once: true})
    client.connect(config)
  })
}

/**
 * Whether `port` opens within `windowMs`. A probe starts every PORT_POLL_MS without waiting
 * for the last to end: while the guest has no address yet a SYN goes unanswered until its own
 * timeout, and waiting for that would find the port up to a second late.
 */
function portOpen(host: string, port: number, windowMs: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const sockets = new Set<net.Socket>()
    let settled = false
    const finish = (open: boolean) => {
      if (settled) return
      settled = true
      clearInterval(probing)
      clearTimeout(window)
      signal?.removeEventListener('abort', onAbort)
      for (const socket of sockets) socket.destroy()
      resolve(open)
    }
    const onAbort = () => finish(false)
    const probe = () => {
      const socket = net.connect({host, port})
      sockets.add(socket)
      const drop = () => {
        socket.destroy()
        sockets.delete(socket)
      }
      socket.setTimeout(PROBE_TIMEOUT_MS, drop)
      socket.once('connect', () => finish(true))
      socket.once('error', drop)
    }
    const probing = setInterval(probe, PORT_POLL_MS)
    const window = setTimeout(() => finish(false), windowMs)
    signal?.addEventListener('abort', onAbort, {once: true})
    probe()
  })
}

/** An SSH server's identification line is at most 255 bytes (RFC 4253 4.2); lines before it may come first. */
const MAX_GREETING_BYTES = 8192

/**
 * Whether an SSH server answers at `target` within `timeoutMs`: it sends its identification
 * line ("SSH-2.0-..."). No login: that proves the server runs, not that it lets us in.
 */
export async function sshAnswers(target: Pick<SshTarget, 'host' | 'port' | 'sock'>, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  let socket: Duplex
  try {
    socket = target.sock ? await target.sock() : net.connect({host: target.host, port: target.port ?? 22})
  } catch {
    return false
  }
  return awaitReply(socket, (seen) => /^SSH-(?:2\.0|1\.99)-/m.test(seen), {maxBytes: MAX_GREETING_BYTES, timeoutMs, signal})
}

const NEVER_OPENED = 'port 22 never opened'
const PORT_POLL_MS = 100
const PROBE_TIMEOUT_MS = 1_000

export interface WaitOptions {
  /** Absolute time (ms since epoch) after which we give up. */
  deadline: number
  signal?: AbortSignal
  /** Give up after the server has refused our credentials for this long (it is up, but will not let us in). */
  refusalMs?: number
}

/** The SSH server answers but rejects our key (and password): waiting longer will not help. */
export class SshRefusedError extends LagoError {
  constructor(
    readonly target: SshTarget,
    readonly refusedForMs: number,
  ) {
    const port = target.port ?? 22
    const what = target.password === undefined ? 'public key' : 'public key and password'
    super('SSH', `SSH on ${target.host}:${port} answers but refuses user ${target.user}: it rejected our ${what} for ${Math.round(refusedForMs / 1000)} s.`, {
      detail: {reason: 'refused', host: target.host, user: target.user, refused: target.password === undefined ? ['publickey'] : ['publickey', 'password']},
    })
  }
}

function isAuthRefusal(error: unknown): boolean {
  return (error as {level?: string}).level === 'client-authentication'
}

/**
 * Wait until the guest's SSH server accepts our key: TCP probes until the port opens,
 * then SSH logins (retried with a growing pause). Nothing is logged per probe, so many
 * booting VMs don't flood the log. Throws with the last reason when the deadline passes.
 */
export async function waitForSsh(target: SshTarget, options: WaitOptions): Promise<void> {
  let lastReason = NEVER_OPENED
  let loginPause = 250
  let refusedSince: number | undefined
  const port = target.port ?? 22
  // The SSH library loads while the port is probed (the guest is still booting), not after it opens.
  void import('ssh2').catch(() => undefined)
  for (;;) {
    throwIfAborted(options.signal)
    const left = options.deadline - Date.now()
    if (left <= 0) throw new LagoError('SSH', `SSH on ${target.host}:${port} did not answer in time: ${lastReason}.`)
    // TCP probes are cheap (a refused or unanswered SYN costs the guest nothing): poll often,
    // so the wait ends close to when sshd starts listening.
    // Through a provider's stream there is no port to probe: the login attempt is the probe.
    if (!target.sock && !(await portOpen(target.host, port, Math.min(5_000, left), options.signal))) continue
    if (lastReason === NEVER_OPENED) log.debug(`${target.host}: port ${port} open`)
    try {
      const client = await connect(target, Math.min(10_000, Math.max(1_000, left)))
      client.end()
      return
    } catch (error) {
      lastReason = `SSH login failed: ${errorMessage(error)}`
      refusedSince = isAuthRefusal(error) ? (refusedSince ?? Date.now()) : undefined
      if (refusedSince !== undefined && options.refusalMs !== undefined && Date.now() - refusedSince >= options.refusalMs) {
        throw new SshRefusedError(target, Date.now() - refusedSince)
      }
    }
    // A failed login (keys not in place yet) is retried more gently.
    await sleep(Math.min(loginPause, Math.max(0, options.deadline - Date.now())), options.signal)
    loginPause = Math.min(loginPause * 2, 2_000)
  }
}

export interface ExecOptions {
  stdout?: NodeJS.WritableStream
  stderr?: NodeJS.WritableStream
  stdin?: NodeJS.ReadableStream | string
  signal?: AbortSignal
}

/** Run a command on the guest; resolves with its exit code (255 when killed by a signal). */
export async function execOn(client: Client, command: string, options: ExecOptions = {}): Promise<number> {
  return whileConnected(client, async () => {
    const channel = await new Promise<WatchedChannel>((resolve, reject) => client.exec(command, (error, stream) => (error ? reject(error) : resolve(watchExit(stream)))))
    return pumpChannel(channel, options)
  })
}

/**
 * Run `work` but fail as soon as the connection drops: a guest that reboots or dies mid-way
 * must not leave a promise waiting forever on a channel that will never answer.
 */
export function whileConnected<T>(client: Client, work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onClose = () => reject(new LagoError('SSH', 'The SSH connection to the VM was lost.'))
    const onError = (error: Error) => reject(new LagoError('SSH', `The SSH connection to the VM failed: ${error.message}.`))
    client.once('close', onClose)
    client.once('error', onError)
    work()
      .then(resolve, reject)
      .finally(() => {
        client.off('close', onClose)
        client.off('error', onError)
      })
  })
}

/** Run a command and collect its output. */
export async function execCapture(client: Client, command: string, input?: string): Promise<{exitCode: number; stdout: string; stderr: string}> {
  const {PassThrough} = await import('node:stream')
  const out = new PassThrough()
  const err = new PassThrough()
  const chunks = {stdout: [] as Buffer[], stderr: [] as Buffer[]}
  out.on('data', (c: Buffer) => chunks.stdout.push(c))
  err.on('data', (c: Buffer) => chunks.stderr.push(c))
  const exitCode = await execOn(client, command, {stdout: out, stderr: err, stdin: input ?? ''})
  return {exitCode, stdout: Buffer.concat(chunks.stdout).toString(), stderr: Buffer.concat(chunks.stderr).toString()}
}

export interface ShellOptions {
  stdin: NodeJS.ReadStream
  stdout: NodeJS.WriteStream
}

/** An interactive login shell with a PTY sized like the local terminal, following resizes. */
export async function interactiveShell(client: Client, options: ShellOptions): Promise<number> {
  const {stdin, stdout} = options
  const window = {rows: stdout.rows ?? 24, cols: stdout.columns ?? 80, height: 0, width: 0, term: process.env.TERM ?? 'xterm-256color'}
  const channel = await whileConnected(client, () => new Promise<WatchedChannel>((resolve, reject) => client.shell(window, (error, stream) => (error ? reject(error) : resolve(watchExit(stream))))))
  const onResize = () => channel.setWindow(stdout.rows ?? 24, stdout.columns ?? 80, 0, 0)
  stdout.on('resize', onResize)
  const wasRaw = stdin.isTTY ? stdin.isRaw : false
  if (stdin.isTTY) stdin.setRawMode(true)
  try {
    return await whileConnected(client, () => pumpChannel(channel, {stdout, stderr: process.stderr, stdin}))
  } finally {
    stdout.off('resize', onResize)
    if (stdin.isTTY) stdin.setRawMode(wasRaw)
    stdin.pause()
  }
}

type WatchedChannel = ClientChannel & {exitStatus: () => number | undefined}

/**
 * Record the exit status from the moment the channel exists: ssh2 emits 'exit' synchronously
 * while parsing, and a quick command's status can arrive in the same read as the channel's
 * confirmation, before any later listener would be attached (it then looked like 255).
 */
function watchExit(channel: ClientChannel): WatchedChannel {
  let status: number | undefined
  channel.once('exit', (code: number | null, signalName?: string) => {
    status = code ?? (signalName ? 255 : 0)
  })
  return Object.assign(channel, {exitStatus: () => status})
}

function pumpChannel(channel: WatchedChannel, options: ExecOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    channel.on('close', () => {
      if (typeof options.stdin === 'object') options.stdin.unpipe(channel)
      resolve(channel.exitStatus() ?? 255)
    })
    channel.on('error', reject)
    if (options.stdout) channel.pipe(options.stdout, {end: false})
    else channel.resume()
    if (options.stderr) channel.stderr.pipe(options.stderr, {end: false})
    else channel.stderr.resume()
    if (typeof options.stdin === 'string') channel.end(options.stdin)
    else if (options.stdin) options.stdin.pipe(channel)
    else channel.end()
    options.signal?.addEventListener('abort', () => channel.close(), {once: true})
  })
}
