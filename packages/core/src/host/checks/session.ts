import {constants} from 'node:fs'
import {access} from 'node:fs/promises'
import os from 'node:os'
import {run, whichFirst} from '../../util/exec.js'
import {modeOf, systemDaemonUnusable} from '../../session/mode.js'
import type {LagoConfig} from '../../config/config.js'
import type {CheckOutcome, HostCheck} from '../check.js'
import {distroFamily, installCommand} from '../facts.js'
import {writable} from './lago-dirs.js'

/**
 * Which libvirt mode Lago runs in, and for session (rootless) mode what it needs: libvirtd to
 * spawn per user, qemu's user-mode network (SSH forwarding), a runtime directory. KVM access
 * and disk space are the KVM and disk-space lines.
 */
export const sessionCheck: HostCheck = {
  id: 'mode',
  title: 'libvirt mode',
  preflight: ['start'],
  async run(ctx) {
    const uri = ctx.config.libvirt.uri
    if (modeOf(uri) === 'system') {
      const why = await systemDaemonUnusable()
      const note = why ? ` (the system daemon is not usable by you: ${why}; unset libvirt.uri or set it to qemu:///session to run rootless)` : ''
      return {
        status: why ? 'warn' : 'ok',
        message: `system (${uri}): libvirt networks and bridges${note}`,
        fix: why ? 'LAGO__LIBVIRT__URI=qemu:///session (or sudo lago setup --user USER for system mode)' : undefined,
      }
    }
    return sessionOutcome(uri, await sessionGaps(ctx.config, ctx.cheap))
  },
}

/** What session mode lacks on this host, each with the command that fixes it (the doctor's line, and `lago setup`'s manual steps). */
export async function sessionGaps(config: LagoConfig, cheap = false): Promise<SessionGap[]> {
  const gaps: SessionGap[] = []
  const family = await distroFamily()
  if (!(await sessionDaemon())) {
    gaps.push({id: 'libvirtd', what: 'no libvirtd to spawn for your session', fix: installCommand({debian: ['libvirt-daemon'], fedora: ['libvirt-daemon-driver-qemu']}, family)})
  }
  if (!cheap && !(await qemuHasUserNet(config.libvirt.emulator))) {
    gaps.push({id: 'user-net', what: 'qemu has no user-mode network (libslirp): SSH cannot be forwarded', fix: installCommand({debian: ['qemu-system-x86'], fedora: ['qemu-kvm']}, family)})
  }
  const runtime = process.env.XDG_RUNTIME_DIR
  if (runtime && !(await writable(runtime))) {
    gaps.push({id: 'runtime-dir', what: `XDG_RUNTIME_DIR ${runtime} is not writable (libvirt keeps its session sockets there)`, fix: `sudo install -d -o ${os.userInfo().username} -m 700 ${runtime}`})
  }
  return gaps
}

export interface SessionGap {
  id: string
  what: string
  fix: string
}

export function sessionOutcome(uri: string, gaps: Omit<SessionGap, 'id'>[]): CheckOutcome {
  const mode = `session, rootless (${uri}): networks are segments between the VMs' qemus on 127.0.0.1, SSH forwarded from a 127.0.0.1 port`
  if (gaps.length === 0) return {status: 'ok', message: mode}
  return {status: 'fail', code: 'HOST', message: `${mode}; ${gaps.map((g) => g.what).join('; ')}`, fix: gaps.map((g) => g.fix).join('; ')}
}

async function qemuHasUserNet(emulator: string): Promise<boolean> {
  const qemu = emulator || (await whichFirst(['qemu-system-x86_64', 'qemu-kvm']))
  if (!qemu) return true // the KVM line reports a missing qemu
  const result = await run(qemu, ['-netdev', 'help'], {reject: false, timeoutMs: 10_000}).catch(() => undefined)
  return !result || /^user$/m.test(result.stdout)
}

/** libvirt's daemons live in sbin, which a user's PATH often leaves out. */
async function sessionDaemon(): Promise<string | undefined> {
  for (const file of ['/usr/sbin/libvirtd', '/usr/sbin/virtqemud', '/usr/local/sbin/libvirtd', '/usr/local/sbin/virtqemud']) {
    if (
      await access(file, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return file
  }
  return whichFirst(['libvirtd', 'virtqemud'])
}
