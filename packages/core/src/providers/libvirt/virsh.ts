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
  const denied = /Permission denied|authentication/i.test(stderr)
  return new LagoError('LIBVIRT_UNREACHABLE', `Cannot reach libvirt at ${uri}: ${reason}`, {
    hint: denied
      ? 'Your user may not use libvirt: run "lago setup --user $USER" as root (adds you to the lago group with a polkit rule), then log in again.'
      : 'Start libvirtd ("systemctl start libvirtd", or "libvirtd -d" where systemd is absent), or point libvirt.uri / LAGO__LIBVIRT__URI at a running one.',
    detail: {uri, reason},
  })
}
