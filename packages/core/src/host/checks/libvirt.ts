import {isLagoError} from '../../errors.js'
import {libvirtFix, Virsh} from '../../providers/libvirt/virsh.js'
import {whichFirst} from '../../util/exec.js'
import type {CheckOutcome, HostCheck} from '../check.js'
import {systemdRunning} from '../facts.js'

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
