import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Duplex} from 'node:stream'
import {LagoError} from '../../errors.js'
import {log} from '../../log.js'
import type {SshHypervisor} from './uri.js'

/**
 * Where OpenSSH keeps the control sockets of Lago's persisted hypervisor logins: the user's
 * runtime directory (root: /run/lago), mode 0700, so no other user can ride on a login.
 */
export function controlDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_RUNTIME_DIR || (process.getuid?.() === 0 ? '/run' : path.join(os.homedir(), '.cache'))
  return path.join(base, 'lago', 'ssh')
}

/**
 * A TCP stream from the hypervisor to `target` (a guest's SSH port) through OpenSSH's
 * `ssh -W` with connection sharing (ControlMaster=auto, ControlPersist): the first command
 * logs in to the hypervisor and leaves that login open for `persistSeconds`; the commands
 * after it open a channel on it without a handshake, as `ssh -J` users get from
 * ControlPersist in ~/.ssh/config. Resolves once the guest's SSH server has said its first
 * bytes, so a tunnel that cannot open fails here, in ssh's words.
 */
export async function persistedForward(hypervisor: SshHypervisor, target: {host: string; port: number}, persistSeconds: number, label: string, dir: string = controlDir()): Promise<Duplex> {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(target.host) || !Number.isInteger(target.port)) {
    throw new LagoError('SSH', `${label}: refusing a tunnel to "${target.host}:${target.port}" (not an IPv4 address and port).`)
  }
  mkdirSync(dir, {recursive: true, mode: 0o700})
  // One login per URI (its key and host-key policy), not only per user@host:port as %C alone would share it.
  const controlPath = path.join(dir, `${createHash('sha256').update(hypervisor.uri).digest('hex').slice(0, 16)}-%C`)
  const args = [
    '-T',
    ...['-o', 'BatchMode=yes', '-o', 'ControlMaster=auto', '-o', `ControlPath=${controlPath}`, '-o', `ControlPersist=${persistSeconds}`, '-o', 'LogLevel=error'],
    // The URI's user, port and key; ssh reads the rest (and these when the URI has none) from ~/.ssh/config itself.
    ...(hypervisor.keyfile ? ['-o', 'IdentitiesOnly=yes', '-i', hypervisor.keyfile] : []),
    ...(hypervisor.user ? ['-l', hypervisor.user] : []),
    ...(hypervisor.port ? ['-p', String(hypervisor.port)] : []),
    ...(hypervisor.noVerify ? ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'] : ['-o', 'StrictHostKeyChecking=yes']),
    ...['-W', `${target.host}:${target.port}`, '--', hypervisor.host],
  ]
  log.debug(`run: ssh ${args.map((a) => JSON.stringify(a)).join(' ')}`)
  const child = spawn('ssh', args, {stdio: ['pipe', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise<Duplex>((resolve, reject) => {
    const failed = (why: string) => reject(new LagoError('SSH', `${label}: cannot open a tunnel to ${target.host}:${target.port} with ssh: ${why}`, {detail: {host: label}}))
    child.once('error', (error) => failed(error.message))
    child.once('exit', (code) => failed(stderr.trim() || `ssh exited ${code}`))
    child.stdout.once('data', (first: Buffer) => {
      child.removeAllListeners('exit')
      child.stdout.pause()
      child.stdout.unshift(first)
      const stream = Duplex.from({readable: child.stdout, writable: child.stdin})
      stream.once('close', () => child.kill())
      resolve(stream)
    })
  })
}
