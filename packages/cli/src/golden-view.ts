import type {GoldenEntry, StorePruneResult, TemplateStore} from '@lago/core'
import {formatBytes} from '@lago/core'

/** What list and show say of a golden environment: its VMs, the size of its disks, the prefixes using it. */
export async function goldenSummary(store: TemplateStore, entry: GoldenEntry) {
  const {manifest} = entry
  const disks = manifest.vms.flatMap((vm) => vm.disks)
  const users = new Set<string>()
  for (const disk of disks) for (const user of await store.users(disk.id).live()) users.add(user.uuidFile.replace(/\/\.lago\/uuid$/, ''))
  return {
    golden: `${manifest.name}:${manifest.version}`,
    name: manifest.name,
    version: manifest.version,
    createdAt: manifest.createdAt,
    vms: manifest.vms.map((vm) => vm.name),
    size: disks.reduce((sum, d) => sum + d.size, 0),
    users: [...users].sort(),
  }
}

/** The lines and the --json result of a prune (template prune, golden prune). */
export function reportPrune(command: {log: (line: string) => void; jsonEnabled: () => boolean}, store: string, result: StorePruneResult, dryRun: boolean) {
  if (!command.jsonEnabled()) {
    const verb = dryRun ? 'Would remove' : 'Removed'
    for (const golden of result.goldensRemoved) command.log(`${verb} golden environment ${golden}`)
    for (const entry of result.removed) command.log(`${verb} ${entry.id} (${formatBytes(entry.size)})`)
    for (const name of result.partials) command.log(`${verb} partial download ${name}`)
    for (const kept of result.goldensKept) command.log(`Kept golden environment ${kept.golden}: used by ${kept.users.join(', ')}`)
    for (const entry of result.kept.filter((e) => e.users.length > 0)) command.log(`Kept ${entry.id}: used by ${entry.users.map((u) => u.uuidFile.replace(/\/\.lago\/uuid$/, '')).join(', ')}`)
    command.log(`${dryRun ? 'Would free' : 'Freed'} ${formatBytes(result.freedBytes)} in ${store}.`)
  }
  return {
    store,
    dryRun,
    removed: result.removed.map((e) => ({id: e.id, size: e.size})),
    kept: result.kept.map((e) => ({id: e.id, users: e.users.map((u) => u.uuidFile)})),
    partials: result.partials,
    freedBytes: result.freedBytes,
    goldensRemoved: result.goldensRemoved,
    goldensKept: result.goldensKept,
  }
}
