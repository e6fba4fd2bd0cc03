import {existsSync} from 'node:fs'
import os from 'node:os'
import {LagoError} from '../../errors.js'
import {run, type RunOptions, type RunResult} from '../../util/exec.js'

/** `virsh -c URI ...` with argument arrays; connection failures become one clear error. */
export class Virsh {
  constructor(readonly uri: string) {}

  async run(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    let result: RunResult
    try {
      result = await run('virsh', ['-q', '-c', this.uri, ...args], {...options, reject: false})
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

  /** Transient creation from an XML file (kept next to the prefix logs for debugging). */
  async createFromXml(kind: 'create' | 'net-create', xmlFile: string, options: RunOptions = {}): Promise<void> {
    await this.run([kind, xmlFile], options)
  }

  async ping(): Promise<void> {
    await this.run(['uri'])
  }
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
