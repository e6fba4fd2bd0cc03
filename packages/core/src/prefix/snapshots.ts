import path from 'node:path'
import {LagoError} from '../errors.js'
import {log} from '../log.js'
import type {Prefix} from './prefix.js'
import {syncGuest} from './guest-sync.js'
import {forgetSaved, refuseSaved} from './saved.js'
import type {SnapshotState} from './state.js'

/**
 * Whole-environment snapshots, as external qcow2 layers: at `snapshot NAME` each disk's
 * current file is frozen (it becomes a backing file, never written again) and the VM
 * continues on a new overlay; a running VM's memory of that instant is kept too.
 * `revert NAME` throws the current overlays away and starts fresh ones on the frozen files;
 * VMs that were running then resume from their memory (or boot, when it cannot be restored).
 */
export async function createSnapshot(prefix: Prefix, name: string, signal?: AbortSignal): Promise<SnapshotState> {
  prefix.requireInitialized()
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new LagoError('USAGE', `Snapshot name "${name}" is not valid: use letters, digits, ".", "_" and "-".`)
  }
  const snapshots = (prefix.state.snapshots ??= {})
  if (snapshots[name]) throw new LagoError('USAGE', `Snapshot "${name}" already exists (snapshots: ${Object.keys(snapshots).join(', ')}).`)
  refuseSaved(prefix, `snapshot "${name}"`)
  const runtime = await prefix.provider.runtime()
  const layer = Object.keys(snapshots).length + 1
  const snapshot: SnapshotState = {createdAt: new Date().toISOString(), vms: {}}
  await Promise.all(
    prefix.state.vms.map(async (vm) => {
      const running = runtime.vms.get(vm.libvirtName) === 'running'
      const disks = vm.disks.filter((d) => d.format !== 'iso')
      const overlays = new Map(disks.map((d) => [d.dev, path.join(prefix.paths.images, `${vm.name}_${d.name}.${layer}.qcow2`)]))
      // A running VM's memory is kept with its disks: a revert resumes it instead of booting it.
      const memory = running ? path.join(prefix.paths.images, `${vm.name}.${layer}.memory`) : undefined
      // Recorded before they exist: a kill before the state is saved removes exactly these.
      for (const file of [...overlays.values(), ...(memory ? [memory] : [])]) await prefix.journal?.intent('layer', file)
      let clockWaiter = false
      if (running) {
        ;({clockWaiter} = await syncGuest(prefix, vm, {
          signal,
          wait: true,
          armClock: prefix.provider.resumePort === true,
          failed: (reason) => log.warn(`snapshot: could not sync ${vm.name} over SSH (${reason}); its snapshot is crash-consistent only`),
        }))
        await prefix.provider.snapshotRunningDisks(vm, name, overlays, memory)
      } else {
        for (const disk of disks) {
          await prefix.provider.images.createOverlay(overlays.get(disk.dev)!, {path: prefix.paths.resolve(disk.path), format: disk.format}, {subject: `VM ${vm.name} disk ${disk.name}`})
        }
      }
      for (const file of [...overlays.values(), ...(memory ? [memory] : [])]) await prefix.journal?.done('layer', file)
      snapshot.vms[vm.name] = {
        running,
        disks: Object.fromEntries(disks.map((d) => [d.name, d.path])),
        ...(memory ? {memory: prefix.paths.relative(memory)} : {}),
        ...(memory && clockWaiter ? {clockWaiter} : {}),
      }
      for (const disk of disks) {
        disk.path = prefix.paths.relative(overlays.get(disk.dev)!)
        disk.format = 'qcow2'
      }
    }),
  )
  snapshots[name] = snapshot
  await prefix.saveState()
  return snapshot
}

/** Put every disk back to snapshot `name`; returns the VMs to start again (those running at the snapshot). */
export async function revertSnapshot(prefix: Prefix, name: string): Promise<string[]> {
  prefix.requireInitialized()
  const snapshot = prefix.state.snapshots?.[name]
  if (!snapshot) {
    const names = Object.keys(prefix.state.snapshots ?? {})
    throw new LagoError('USAGE', `No snapshot "${name}" in prefix ${prefix.paths.root}.`, {
      hint: names.length > 0 ? `Snapshots: ${names.join(', ')}.` : 'This prefix has no snapshots; make one with "lago snapshot NAME".',
    })
  }
  const frozen = new Set(Object.values(prefix.state.snapshots!).flatMap((s) => Object.values(s.vms).flatMap((v) => Object.values(v.disks))))
  await prefix.stop(prefix.state.vms.map((vm) => vm.name))
  // The disks go back: memory saved on top of the current ones no longer fits them.
  await forgetSaved(prefix)
  // New overlays first, then the state, then the old overlays go: a kill at any point leaves
  // the state pointing at files that exist, and the journal says which files are extra.
  const replaced: string[] = []
  for (const vm of prefix.state.vms) {
    const saved = snapshot.vms[vm.name]
    if (!saved) continue
    for (const disk of vm.disks) {
      const base = saved.disks[disk.name]
      if (!base) continue
      const current = prefix.paths.resolve(disk.path)
      const overlay = path.join(prefix.paths.images, `${vm.name}_${disk.name}.${name}-${Date.now().toString(36)}.qcow2`)
      const subject = `VM ${vm.name} disk ${disk.name}`
      const baseFormat = (await prefix.provider.images.info(prefix.paths.resolve(base), {subject})).format
      const removeAfter = !frozen.has(disk.path) && current.startsWith(prefix.paths.images + path.sep) ? current : undefined
      await prefix.journal?.intent('layer', overlay, removeAfter ? {removeAfter} : undefined)
      await prefix.provider.images.createOverlay(overlay, {path: prefix.paths.resolve(base), format: baseFormat}, {subject})
      await prefix.journal?.done('layer', overlay)
      if (removeAfter) replaced.push(removeAfter)
      disk.path = prefix.paths.relative(overlay)
      disk.format = 'qcow2'
    }
  }
  // VMs snapshotted running resume from the snapshot's memory on the next start.
  for (const [vm, saved] of Object.entries(snapshot.vms)) {
    if (saved.memory) (prefix.state.saved ??= {})[vm] = {file: saved.memory, savedAt: snapshot.createdAt, snapshot: name, ...(saved.clockWaiter ? {clockWaiter: true} : {})}
  }
  await prefix.saveState()
  for (const file of replaced) await prefix.provider.images.remove(file)
  return Object.entries(snapshot.vms)
    .filter(([, v]) => v.running)
    .map(([vm]) => vm)
}
