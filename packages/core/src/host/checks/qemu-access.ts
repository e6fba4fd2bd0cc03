import {readdir} from 'node:fs/promises'
import path from 'node:path'
import {nearestExisting} from '../../util/fs.js'
import {firstInaccessible, qemuIdentity} from '../../util/qemu-access.js'
import type {CheckOutcome, HostCheck, HostCheckContext, QemuPath} from '../check.js'

interface Blocked {
  label: string
  target: string
  /** The directory qemu cannot enter, or the file it cannot read. */
  at: string
  kind: 'enter' | 'read'
}

/**
 * The reference's "sudo -u qemu ls DIR", done properly: every directory on the way to the
 * store, the repos and the prefix must be searchable by the account the system libvirt runs
 * qemu as, and (doctor only) the images in them readable.
 */
export const qemuAccessCheck: HostCheck = {
  id: 'qemu-access',
  title: 'qemu access',
  preflight: ['init', 'start'],
  async run(ctx) {
    if (!ctx.config.libvirt.uri.endsWith('/system')) {
      return {status: 'ok', message: `${ctx.config.libvirt.uri} runs qemu as you: nothing to check`}
    }
    const qemu = await qemuIdentity(ctx.config.libvirt.qemu_user || undefined)
    if (!qemu) {
      return {status: 'warn', message: 'cannot tell which account qemu runs as', fix: 'set qemu_user under [libvirt] in /etc/lago.d/lago.conf'}
    }
    const targets = qemuTargets(ctx)
    const blocked: Blocked[] = []
    for (const target of targets) {
      const at = await firstInaccessible(await nearestExisting(target.path), qemu)
      if (at) {
        blocked.push({label: target.label, target: target.path, at, kind: 'enter'})
        continue
      }
      if (ctx.cheap) continue
      for (const file of await filesIn(target.path)) {
        const unreadable = await firstInaccessible(file, qemu, true)
        if (unreadable) blocked.push({label: target.label, target: target.path, at: unreadable, kind: 'read'})
      }
    }
    return qemuAccessOutcome(qemu.user, targets, blocked)
  },
}

function qemuTargets(ctx: HostCheckContext): QemuPath[] {
  const targets: QemuPath[] = []
  if (!ctx.cheap) {
    targets.push({label: 'template store', path: ctx.config.lago.template_store}, {label: 'template repos', path: ctx.config.lago.template_repos})
  }
  if (ctx.prefixPath) targets.push({label: 'prefix', path: ctx.prefixPath})
  targets.push(...ctx.paths)
  const seen = new Set<string>()
  return targets.map((t) => ({...t, path: path.resolve(t.path)})).filter((t) => !seen.has(t.path) && seen.add(t.path))
}

/** Regular files directly in `dir` and in a prefix's image directory. */
async function filesIn(dir: string): Promise<string[]> {
  const files: string[] = []
  for (const sub of [dir, path.join(dir, '.lago', 'images')]) {
    const entries = await readdir(sub, {withFileTypes: true}).catch(() => [])
    files.push(...entries.filter((e) => e.isFile() && !e.name.endsWith('.lock')).map((e) => path.join(sub, e.name)))
  }
  return files
}

export function qemuAccessOutcome(user: string, targets: QemuPath[], blocked: Blocked[]): CheckOutcome {
  if (blocked.length === 0) {
    return {status: 'ok', message: `qemu (user ${user}) can reach ${targets.map((t) => `the ${t.label}`).join(', ') || 'every path'}`}
  }
  const first = blocked[0]
  const enter = [...new Set(blocked.filter((b) => b.kind === 'enter').map((b) => b.at))]
  const read = [...new Set(blocked.filter((b) => b.kind === 'read').map((b) => b.at))]
  const fixes = [enter.length > 0 ? `chmod o+x ${enter.join(' ')}` : '', read.length > 0 ? `chmod o+r ${read.join(' ')}` : ''].filter(Boolean)
  const more = blocked.length > 1 ? ` (and ${blocked.length - 1} more)` : ''
  const message =
    first.kind === 'enter'
      ? `qemu (running as user "${user}") cannot enter ${first.at}, so it could not open disks under ${first.target} (${first.label})${more}`
      : `qemu (running as user "${user}") cannot read ${first.at} in the ${first.label}${more}`
  return {
    status: 'fail',
    code: 'PERMISSION',
    message,
    fix: `${fixes.join(' && ')} (or add ${user} to the directories' group, or keep prefixes under a directory it can enter, e.g. /var/tmp)`,
    detail: {qemuUser: user, blocked},
  }
}
