import {isLagoError} from '../../errors.js'
import {Virsh} from '../../providers/libvirt/virsh.js'
import {whichFirst} from '../../util/exec.js'
import type {CheckOutcome, HostCheck} from '../check.js'
import {currentUser, systemdRunning} from '../facts.js'

/** libvirtd answers at the configured URI. */
export const libvirtCheck: HostCheck = {
  id: 'libvirt',
  title: 'libvirt',
  preflight: ['start'],
  async run(ctx) {
    const uri = ctx.config.libvirt.uri
    if (!(await whichFirst(['virsh']))) {
      return {status: 'fail', code: 'HOST', message: `cannot reach libvirt at ${uri}: virsh is not installed`, fix: 'install virsh (see the tools line)'}
    }
    try {
      await new Virsh(uri).ping()
      return {status: 'ok', message: `reachable at ${uri}`}
    } catch (error) {
      if (!isLagoError(error) || error.code !== 'LIBVIRT_UNREACHABLE') throw error
      return unreachableOutcome(uri, String(error.detail.reason ?? error.message), await systemdRunning())
    }
  },
}

export function unreachableOutcome(uri: string, reason: string, systemd: boolean): CheckOutcome {
  return {
    status: 'fail',
    code: 'LIBVIRT_UNREACHABLE',
    message: `cannot reach libvirt at ${uri}: ${reason}`,
    fix: libvirtFix(uri, reason, systemd),
    detail: {uri},
  }
}

/** The command that makes libvirt answer, by the kind of failure. */
export function libvirtFix(uri: string, reason: string, systemd: boolean): string {
  if (/permission denied|authentication|not authorized/i.test(reason)) {
    return `sudo lago setup --user ${currentUser().name}, then log in again (joins the lago group, which a polkit rule lets manage libvirt)`
  }
  const remote = /^[a-z0-9]+\+[a-z]+:\/\/[^/]/i.test(uri) || /^[a-z0-9]+:\/\/[^/]+\//i.test(uri)
  if (remote) return `start libvirtd on the remote host and check the connection: virsh -c '${uri}' uri`
  if (uri.includes('/session')) return 'virsh -c qemu:///session uri (starts the session daemon; is libvirt-daemon installed?)'
  return systemd
    ? 'sudo systemctl enable --now libvirtd'
    : 'sudo sh -c "virtlogd -d && libvirtd -d" (systemd is not running here, so start the daemons by hand)'
}
