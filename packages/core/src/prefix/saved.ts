import {mkdir, rm} from 'node:fs/promises'
import path from 'node:path'
import {LagoError, errorMessage} from '../errors.js'
import {log} from '../log.js'
import {throwIfAborted} from '../util/abort.js'
import {syncGuest} from './guest-sync.js'
import type {Prefix} from './prefix.js'
import type {VmState} from './state.js'

/**
 * Memory states on disk: `stop --save` writes each running VM's memory into the prefix and
 * the next `start` resumes it from there (networks first, same MACs and addresses) instead
 * of booting. A revert to a live snapshot leaves the snapshot's memory here the same way.
 */
export interface SavedVmState {
  /** The memory state file, relative to the state directory. */
  file: string
  savedAt: string
  /** The snapshot this memory belongs to: the file is the snapshot's, never removed on resume. */
  snapshot?: string
  /** A waiter in the saved guest sets its clock through the resume port (clock-port.ts). */
  clockWaiter?: boolean
}

export function savedStateOf(prefix: Prefix, vm: VmState): SavedVmState | undefined {
  return prefix.state.saved?.[vm.name]
}

/** Refuse a verb that would change a saved VM's disks under its memory state. */
export function refuseSaved(prefix: Prefix, verb: string): void {
  const saved = prefix.state.vms.filter((vm) => savedStateOf(prefix, vm) && !savedStateOf(prefix, vm)!.snapshot)
  if (saved.length === 0) return
  const names = saved.map((vm) => vm.name).join(', ')
  throw new LagoError(
    'VM',
    `Cannot ${verb}: ${names} ${saved.length === 1 ? 'is' : 'are'} saved (memory state on disk, from "lago stop --save"), and changing ${saved.length === 1 ? 'its' : 'their'} disks would break the resume.`,
    {
      hint: `Start ${saved.length === 1 ? 'it' : 'them'} first ("lago start"), or drop the saved memory with "lago start --cold".`,
      detail: {saved: saved.map((vm) => vm.name)},
    },
  )
}

/**
 * `stop --save`: each running VM's page cache is flushed to its disks (so the disks are
 * consistent while it is saved), then its memory goes to PREFIX/.lago/saved/VM.save and its
 * domain ends. Each file is journalled before it is written; the state records it after.
 */
export async function saveVms(prefix: Prefix, vms: VmState[], signal?: AbortSignal): Promise<string[]> {
  prefix.requireInitialized()
  const runtime = await prefix.provider.runtime()
  const running = vms.filter((vm) => runtime.vms.get(vm.libvirtName) === 'running')
  const dir = savedDir(prefix)
  await mkdir(dir, {recursive: true})
  const provider = prefix.provider
  const outcomes = await Promise.allSettled(
    running.map(async (vm) => {
      // A guest we cannot reach is saved anyway: its disks are then crash-consistent while saved.
      const {clockWaiter} = await syncGuest(prefix, vm, {
        signal,
        armClock: prefix.provider.resumePort === true,
        failed: (reason) => log.info(`stop --save: could not sync ${vm.name} over SSH (${reason}); saving it anyway`),
      })
      const file = path.join(dir, `${vm.name}.save`)
      await prefix.journal?.intent('file', file)
      await prefix.journal?.removing('domain', vm.libvirtName)
      await rm(file, {force: true})
      await provider.saveVm(vm, file)
      await prefix.journal?.removed('domain', vm.libvirtName)
      await prefix.journal?.done('file', file)
      ;(prefix.state.saved ??= {})[vm.name] = {file: prefix.paths.relative(file), savedAt: new Date().toISOString(), ...(clockWaiter ? {clockWaiter} : {})}
    }),
  )
  await prefix.saveState()
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')
  if (failed) throw failed.reason
  return running.map((vm) => vm.name)
}

/**
 * Resume a VM from its saved memory state and set its clock (it stood still while saved).
 * Returns false when the state could not be restored (another qemu, another host, a corrupt
 * file): the caller boots the VM cold, and the user is told so.
 */
export async function resumeSaved(prefix: Prefix, vm: VmState, report: (line: string) => void, signal?: AbortSignal): Promise<boolean> {
  const saved = savedStateOf(prefix, vm)
  if (!saved) return false
  report('resuming from its saved memory state')
  // Forgotten before the VM runs: once it has written to its disks the memory no longer fits
  // them, so a start killed from here on must boot it cold next time, never resume it again.
  const files = await forgetSaved(prefix, [vm], {keepFiles: true})
  try {
    await prefix.provider.restoreVm(vm, prefix.paths.resolve(saved.file), signal)
  } catch (error) {
    if (signal?.aborted) throw error
    await prefix.provider.stopVm(vm)
    log.warn(`${vm.name}: its saved memory state could not be restored (${errorMessage(error)}); booting it cold instead (its disks are kept, its memory is lost).`)
    return false
  } finally {
    for (const file of files) await rm(file, {force: true})
  }
  log.debug(`${vm.name}: resumed from ${saved.file}`)
  if (saved.clockWaiter && (await resumedWithoutLogin(prefix, vm, signal))) return true
  report(`setting its clock on ${prefix.managementIp(vm)}`)
  await setGuestClock(prefix, vm, signal)
  log.debug(`${vm.name}: clock set`)
  return true
}

/** How long a resumed guest's waiter or SSH server may take to answer before the login takes over. */
const ANSWER_TIMEOUT_MS = 10_000

/**
 * The clock through the resume port and the SSH server's identification line, at once: the
 * guest runs, its clock is right and its SSH server answers, with no login (which a guest
 * under TCG pays dearly for just after a restore). False sends the caller to the login.
 */
async function resumedWithoutLogin(prefix: Prefix, vm: VmState, signal?: AbortSignal): Promise<boolean> {
  const [clockSet, sshAnswers] = await Promise.all([prefix.provider.setClockThroughPort?.(vm, ANSWER_TIMEOUT_MS, signal) ?? false, prefix.sshAnswers(vm, ANSWER_TIMEOUT_MS, signal)])
  throwIfAborted(signal)
  log.debug(`${vm.name}: ${clockSet ? 'clock set through its resume port' : 'its clock waiter did not answer'}; ${sshAnswers ? 'SSH answers' : 'SSH did not answer'}`)
  return clockSet && sshAnswers
}

/**
 * A resumed guest's clock shows the moment it was saved. The tiny guests have no guest agent,
 * so the time is set over SSH (to the second), which also proves SSH answers.
 */
async function setGuestClock(prefix: Prefix, vm: VmState, signal?: AbortSignal): Promise<void> {
  const {execCapture} = await import('../ssh/client.js')
  const client = await prefix.connectWhenReady(vm, signal)
  try {
    const result = await execCapture(client, `date -u -s @${Math.round(Date.now() / 1000)} >/dev/null`)
    if (result.exitCode !== 0) log.warn(`${vm.name}: could not set its clock after the resume (date exited ${result.exitCode}: ${result.stderr.trim()}); it runs behind by the time it was saved.`)
  } finally {
    client.end()
  }
}

/**
 * Drop the saved memory of `vms` (all by default): the records first, then the files that are
 * not a snapshot's (with keepFiles, those are returned for the caller to remove).
 */
export async function forgetSaved(prefix: Prefix, vms: VmState[] = prefix.state.vms, options: {keepFiles?: boolean} = {}): Promise<string[]> {
  let changed = false
  const dropped = vms.flatMap((vm) => {
    const saved = savedStateOf(prefix, vm)
    if (!saved) return []
    changed = true
    delete prefix.state.saved![vm.name]
    return saved.snapshot ? [] : [prefix.paths.resolve(saved.file)]
  })
  if (prefix.state.saved && Object.keys(prefix.state.saved).length === 0) delete prefix.state.saved
  if (changed) await prefix.saveState()
  if (options.keepFiles) return dropped
  for (const file of dropped) await rm(file, {force: true})
  return []
}

/** Every save file of the prefix, recorded or left by a killed command (cleanup). */
export async function removeSaveFiles(prefix: Prefix): Promise<void> {
  await forgetSaved(prefix)
  await rm(savedDir(prefix), {recursive: true, force: true})
}

function savedDir(prefix: Prefix): string {
  return path.join(prefix.paths.stateDir, 'saved')
}
