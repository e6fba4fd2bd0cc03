import {unlessAbsent} from '../util/fs.js'
import {chmod, chown, mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import type {LagoConfig} from '../config/config.js'
import {isLagoError, LagoError} from '../errors.js'
import {Virsh} from '../providers/libvirt/virsh.js'
import {run} from '../util/exec.js'
import {lagoDirs} from './checks/lago-dirs.js'
import {sessionGaps} from './checks/session.js'
import {modeOf} from '../session/mode.js'
import {kvmStatus} from '../providers/libvirt/domain-type.js'
import os from 'node:os'
import {groupInfo, systemdRunning, userGroups} from './facts.js'

/** Mode of the shared directories: group-writable, setgid so new files keep the group (as the RPM made them). */
/** setgid (files inside keep the group) + sticky (only a file's owner may remove or replace it). */
export const SHARED_DIR_MODE = 0o3775
export const POLKIT_RULE_FILE = '50-lago.rules'

/**
 * done: already as it should be; todo: `apply` makes it so; manual: the user must act
 * (e.g. start libvirtd where systemd is absent), `commands` say how.
 */
export type SetupStepState = 'done' | 'todo' | 'manual'

export interface SetupStep {
  id: string
  /** What this step ensures, for people. */
  title: string
  state: SetupStepState
  /** The equivalent shell commands (shown by --dry-run, and for manual steps). */
  commands: string[]
  apply?: () => Promise<void>
  /** Any user may apply it (session mode's own directories); the others need root. */
  asUser?: boolean
}

export interface SetupOptions {
  config: LagoConfig
  /** Add this user to the group. */
  user?: string
}

export function polkitRule(group: string): string {
  return `// Installed by "lago setup": members of group ${group} may manage the system libvirt
// (org.libvirt.unix.manage), as the lago RPM's polkit rule allowed. That is root-equivalent:
// a member can define a VM that reads or writes any file or device of this host.
polkit.addRule(function (action, subject) {
  if (action.id == "org.libvirt.unix.manage" && subject.isInGroup("${group}")) {
    return polkit.Result.YES;
  }
});
`
}

/** What `lago setup` would do on this host: every step, done or not. Changes nothing. */
export async function planSetup(options: SetupOptions): Promise<SetupStep[]> {
  const {config} = options
  if (modeOf(config.libvirt.uri) === 'session') return planSessionSetup(config)
  const group = config.lago.group
  const existing = await groupInfo(group)
  const steps: SetupStep[] = [
    {
      id: 'group',
      title: `group ${group}`,
      state: existing ? 'done' : 'todo',
      commands: [`groupadd --system ${group}`],
      apply: async () => void (await run('groupadd', ['--system', group])),
    },
  ]
  for (const dir of lagoDirs(config)) steps.push(await dirStep(dir.label, dir.path, group, existing?.gid))
  steps.push(await polkitStep(config.lago.polkit_rules_dir, group))
  steps.push(await libvirtdStep(config.libvirt.uri))
  if (options.user) steps.push(await userStep(options.user, group))
  return steps
}

/**
 * Session (rootless) mode needs no group, polkit rule or system daemon: only this user's own
 * directories (made here, without root) and what the doctor's mode line lacks (manual steps,
 * some need root once: packages, a runtime directory; KVM access is optional).
 */
async function planSessionSetup(config: LagoConfig): Promise<SetupStep[]> {
  const steps: SetupStep[] = []
  for (const dir of lagoDirs(config)) {
    const present = (await unlessAbsent(stat(dir.path), dir.path, 'inspect'))?.isDirectory() ?? false
    steps.push({
      id: `dir:${dir.path}`,
      title: `your ${dir.label} ${dir.path}`,
      state: present ? 'done' : 'todo',
      asUser: true,
      commands: [`mkdir -p ${dir.path}`],
      apply: async () => void (await mkdir(dir.path, {recursive: true})),
    })
  }
  for (const gap of await sessionGaps(config)) steps.push({id: gap.id, title: gap.what, state: 'manual', commands: [gap.fix]})
  const kvm = await kvmStatus(config.libvirt, {probe: false})
  if (kvm.reason === 'no-kvm-access') {
    steps.push({id: 'kvm', title: 'KVM for your guests (optional: without it they run under TCG, slower)', state: 'manual', commands: [`sudo usermod -aG kvm ${os.userInfo().username}`]})
  }
  return steps
}

async function gidOf(group: string): Promise<number> {
  const info = await groupInfo(group)
  if (!info) throw new LagoError('HOST', `Group ${group} does not exist.`, {hint: `groupadd --system ${group}`})
  return info.gid
}

async function dirStep(label: string, dir: string, group: string, gid: number | undefined): Promise<SetupStep> {
  const info = await stat(dir).catch(() => undefined)
  const ok = info?.isDirectory() && info.uid === 0 && info.gid === gid && (info.mode & 0o7777) === SHARED_DIR_MODE
  return {
    id: `dir:${dir}`,
    title: `${label} ${dir} (root:${group}, mode 3775: setgid + sticky)`,
    state: ok ? 'done' : 'todo',
    commands: [`install -d -o root -g ${group} -m 3775 ${dir}`],
    apply: async () => {
      await mkdir(dir, {recursive: true})
      await chown(dir, 0, await gidOf(group))
      await chmod(dir, SHARED_DIR_MODE)
    },
  }
}

async function polkitStep(rulesDir: string, group: string): Promise<SetupStep> {
  const file = path.join(rulesDir, POLKIT_RULE_FILE)
  const wanted = polkitRule(group)
  const current = await readFile(file, 'utf8').catch(() => undefined)
  return {
    id: 'polkit',
    title: `polkit rule ${file} (group ${group} may use libvirt)`,
    state: current === wanted ? 'done' : 'todo',
    commands: [`install -m 0644 /dev/stdin ${file} <<'EOF'\n${wanted}EOF`],
    apply: async () => {
      await mkdir(rulesDir, {recursive: true})
      await writeFile(file, wanted, {mode: 0o644})
      await chmod(file, 0o644)
    },
  }
}

async function libvirtdStep(uri: string): Promise<SetupStep> {
  const reachable = await new Virsh(uri).ping().then(
    () => true,
    (error: unknown) => {
      if (isLagoError(error)) return false
      throw error
    },
  )
  if (!(await systemdRunning())) {
    return {
      id: 'libvirtd',
      title: reachable ? `libvirtd answers at ${uri}` : `libvirtd is not running, and systemd is not here to start it: start it by hand`,
      state: reachable ? 'done' : 'manual',
      commands: ['virtlogd -d', 'libvirtd -d'],
    }
  }
  const enabled = await anyUnitEnabled(['libvirtd.service', 'libvirtd.socket', 'virtqemud.socket'])
  return {
    id: 'libvirtd',
    title: `libvirtd enabled and running (systemd)`,
    state: reachable && enabled ? 'done' : 'todo',
    commands: ['systemctl enable --now libvirtd'],
    apply: async () => void (await run('systemctl', ['enable', '--now', 'libvirtd'])),
  }
}

async function anyUnitEnabled(units: string[]): Promise<boolean> {
  for (const unit of units) {
    const result = await run('systemctl', ['is-enabled', unit], {reject: false})
    if (result.stdout.trim() === 'enabled') return true
  }
  return false
}

async function userStep(user: string, group: string): Promise<SetupStep> {
  const groups = await userGroups(user)
  if (!groups) throw new LagoError('USAGE', `There is no user named "${user}".`, {hint: 'Pass --user with an existing login name.'})
  return {
    id: 'user',
    title: `user ${user} in group ${group} (takes effect at the next login)`,
    state: groups.includes(group) ? 'done' : 'todo',
    commands: [`usermod -a -G ${group} ${user}`],
    apply: async () => void (await run('usermod', ['-a', '-G', group, user])),
  }
}

/** Apply the steps still to do, in order; returns the ones applied. */
export async function applySetup(steps: SetupStep[], onStep?: (step: SetupStep) => void): Promise<SetupStep[]> {
  if (process.getuid?.() !== 0 && steps.some((s) => s.state === 'todo' && !s.asUser)) {
    throw new LagoError('PERMISSION', '"lago setup" creates a group, system directories and a polkit rule: it must run as root.', {
      hint: 'Run it with sudo (sudo lago setup --user $USER), or see what it would do with --dry-run.',
    })
  }
  const applied: SetupStep[] = []
  for (const step of steps.filter((s) => s.state === 'todo')) {
    onStep?.(step)
    await step.apply!()
    applied.push(step)
  }
  return applied
}
