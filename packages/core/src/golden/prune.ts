import type {PruneResult, StoreEntry, TemplateStore} from '../templates/store.js'
import {GOLDEN_REPO, GoldenCatalog, goldenStoreIds, type GoldenRef} from './catalog.js'

export interface StorePruneResult extends PruneResult {
  /** Golden environments removed (or that would be), as NAME:VERSION. */
  goldensRemoved: string[]
  /** Golden environments kept, with the prefixes using them. */
  goldensKept: {golden: string; users: string[]}[]
}

/**
 * Prune with the store's rules, golden environments included: an entry no live prefix uses
 * goes; a golden environment goes with its disks (a copy uses every disk of its golden
 * environment and the templates they are layered on, so all of it stays while one exists).
 * With `only`, just golden environments go (those named, or every one), other templates stay.
 */
export async function pruneStore(store: TemplateStore, options: {dryRun?: boolean; only?: GoldenRef | 'goldens'} = {}): Promise<StorePruneResult> {
  const catalog = new GoldenCatalog(store)
  const goldens = await catalog.list()
  const named = new Set(goldens.flatMap((g) => goldenStoreIds(g.manifest).disks))
  const selected = options.only
    ? new Set([
        ...goldens.filter((g) => options.only === 'goldens' || matches(g.manifest, options.only!)).flatMap((g) => goldenStoreIds(g.manifest).disks),
        // Disk entries of a freeze that was killed before its description was written.
        ...(options.only === 'goldens' ? (await store.ids()).filter((id) => id.startsWith(`${GOLDEN_REPO}:`) && !named.has(id)) : []),
      ])
    : undefined
  const result = await store.prune({dryRun: options.dryRun, keep: selected ? (id) => !selected.has(id) : undefined})
  const removed = new Set(result.removed.map((e) => e.id))
  const kept = new Map<string, StoreEntry>(result.kept.map((e) => [e.id, e]))
  const goldensRemoved: string[] = []
  const goldensKept: StorePruneResult['goldensKept'] = []
  for (const {manifest} of goldens) {
    const disks = goldenStoreIds(manifest).disks
    const ref = `${manifest.name}:${manifest.version}`
    if (disks.some((id) => removed.has(id))) {
      goldensRemoved.push(ref)
      if (!options.dryRun) await catalog.remove(manifest.name, manifest.version)
    } else {
      const users = [...new Set(disks.flatMap((id) => kept.get(id)?.users.map((u) => u.uuidFile.replace(/\/\.lago\/uuid$/, '')) ?? []))]
      if (users.length > 0) goldensKept.push({golden: ref, users})
    }
  }
  return {...result, kept: selected ? result.kept.filter((e) => selected.has(e.id)) : result.kept, goldensRemoved, goldensKept}
}

function matches(manifest: {name: string; version: string}, ref: GoldenRef): boolean {
  return manifest.name === ref.name && (ref.version === undefined || manifest.version === ref.version)
}
