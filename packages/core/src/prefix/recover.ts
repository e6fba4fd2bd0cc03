import {rm} from 'node:fs/promises'
import path from 'node:path'
import type {LagoConfig} from '../config/config.js'
import {log} from '../log.js'
import {prefixHypervisor} from './provider-environment.js'
import {readTextIfExists} from '../util/fs.js'
import {Journal, JournalRun, type InterruptedRun, type JournalObject} from './journal.js'
import type {PrefixPaths} from './paths.js'
import {prefixConfig} from './hypervisor.js'
import {bareProvider, removeHypervisorFiles} from './provider-environment.js'

export interface Recovery {
  /** One line for people: what was interrupted, and what was done about it. */
  line: string
  /** The interrupted verb was init (rolled back) or destroy (finished): the prefix is gone. */
  prefixRemoved: boolean
}

/**
 * Finish or roll back the verb the journal shows interrupted (SIGKILL, OOM, reboot), before
 * anything else touches the prefix. Only objects that run recorded are removed. Every step
 * is idempotent, so a recovery that is itself interrupted is simply done again.
 */
export async function recoverInterrupted(paths: PrefixPaths, unplaced: LagoConfig): Promise<Recovery | undefined> {
  const config = await prefixConfig(paths, unplaced)
  const journal = Journal.of(paths.stateDir)
  const run = await journal.interrupted()
  if (!run) return undefined
  const undo = new JournalRun(journal, run.run)
  const who = `\`lago ${run.verb}\` (pid ${run.who?.pid ?? '?'}, started ${run.at})`
  log.info(`recovering from the interrupted ${who}: ${JSON.stringify(run.objects)}`)
  const {cleanupPrefix, destroyPrefix, stopPrefix} = await import('./destroy.js')
  switch (run.verb) {
    case 'init': {
      await rollbackInit(paths, config, run)
      return {line: `rolled back the interrupted ${who}: removed ${paths.root} and gave back its subnets and templates`, prefixRemoved: true}
    }
    case 'destroy': {
      await destroyPrefix(paths, unplaced)
      return {line: `finished the interrupted ${who}: ${paths.root} is destroyed`, prefixRemoved: true}
    }
    case 'cleanup': {
      await cleanupPrefix(paths, unplaced)
      await undo.end('ok')
      return {line: `finished the interrupted ${who}: everything is stopped and its subnets are released`, prefixRemoved: false}
    }
    case 'stop':
    case 'shutdown': {
      await stopPrefix(paths, unplaced, (run.detail?.vms as string[] | undefined) ?? [])
      await removeUnrecordedFiles(paths, run, undo)
      await undo.end('ok')
      return {line: `finished the interrupted ${who}: its VMs are stopped`, prefixRemoved: false}
    }
    case 'snapshot':
    case 'revert': {
      const done = await settleLayers(paths, config, run, undo)
      await undo.end('rolled-back')
      return {
        line: `${done.finished ? 'finished' : 'rolled back'} the interrupted ${who}${done.stopped.length > 0 ? `; stopped ${done.stopped.join(', ')} (it was running on a layer that is gone)` : ''}`,
        prefixRemoved: false,
      }
    }
    default: {
      const removed = await removeLibvirtObjects(paths, config, run.objects, undo)
      await undo.end('rolled-back')
      return {
        line: `rolled back the interrupted ${who}: ${removed.length > 0 ? `stopped ${removed.join(', ')}` : 'it had made nothing to undo'}`,
        prefixRemoved: false,
      }
    }
  }
}

/** Domains first, then networks, newest first; only those this run recorded. */
async function removeLibvirtObjects(paths: PrefixPaths, config: LagoConfig, objects: JournalObject[], undo: JournalRun): Promise<string[]> {
  const removed: string[] = []
  const provider = await prefixHypervisor(config, paths)
  for (const kind of ['domain', 'network'] as const) {
    for (const object of objects.filter((o) => o.kind === kind).reverse()) {
      await provider.removeObject({kind, name: object.name})
      await undo.removed(kind, object.name)
      removed.push(`${kind} ${object.name}`)
    }
  }
  return removed
}

/** Files the run made (memory saves) that state.json never came to record: partial or orphaned, so removed. */
async function removeUnrecordedFiles(paths: PrefixPaths, run: InterruptedRun, undo: JournalRun): Promise<void> {
  const stateText = await readTextIfExists(paths.state)
  for (const file of run.objects.filter((o) => o.kind === 'file')) {
    if (stateText?.includes(JSON.stringify(paths.relative(file.name)))) continue
    await rm(file.name, {force: true})
    await undo.removed('file', file.name)
  }
}

async function rollbackInit(paths: PrefixPaths, config: LagoConfig, run: InterruptedRun): Promise<void> {
  const uuid = (await readTextIfExists(paths.uuid))?.trim()
  if (uuid) {
    const owner = {uuidFile: paths.uuid, uuid}
    const {SubnetLeases} = await import('../network/leases.js')
    await new SubnetLeases(config.lago.lease_dir, config.lago.subnet_first, config.lago.subnet_count).release(owner)
    await removeHypervisorFiles(paths, config, uuid)
    const {TemplateStore} = await import('../templates/store.js')
    for (const use of run.objects.filter((o) => o.kind === 'template-use')) {
      const store = use.detail?.store
      if (typeof store === 'string') await new TemplateStore(store).release(use.name, owner)
    }
  }
  // An init makes no libvirt objects, but a recorded one is still ours to remove.
  const provider = await prefixHypervisor(config, paths)
  for (const object of run.objects.filter((o) => o.kind === 'domain' || o.kind === 'network')) {
    await provider.removeObject({kind: object.kind as 'domain' | 'network', name: object.name})
  }
  await rm(paths.root, {recursive: true, force: true})
  const {Workdir} = await import('./workdir.js')
  const parent = path.dirname(paths.root)
  if (await Workdir.isWorkdir(parent)) await new Workdir(parent).settle()
}

/**
 * Snapshot and revert make new disk layers (recorded with the file they replace) and only
 * then save the state. State saved: finish (remove the replaced files revert no longer needs).
 * Not saved: roll back (remove the new layers; a VM already running on one is stopped first).
 */
async function settleLayers(paths: PrefixPaths, config: LagoConfig, run: InterruptedRun, undo: JournalRun): Promise<{finished: boolean; stopped: string[]}> {
  const layers = run.objects.filter((o) => o.kind === 'layer')
  // Layers are files where the hypervisor keeps the disks (a remote host's, for a remote prefix).
  const uuid = (await readTextIfExists(paths.uuid))?.trim() ?? ''
  const {images} = bareProvider(paths, config, uuid)
  const stateText = await readTextIfExists(paths.state)
  const finished = layers.length > 0 && layers.every((layer) => stateText?.includes(JSON.stringify(paths.relative(layer.name))) ?? false)
  const stopped: string[] = []
  if (finished) {
    for (const layer of layers) {
      const replaced = layer.detail?.removeAfter
      if (typeof replaced === 'string') await images.remove(replaced)
      await undo.removed('layer', layer.name)
    }
    return {finished, stopped}
  }
  const provider = await prefixHypervisor(config, paths)
  const mine = (await provider.ownedObjects()).filter((o) => o.kind === 'domain' && o.prefixPath === paths.root)
  for (const domain of mine) {
    const disks = await provider.domainDisks(domain.name)
    if (layers.some((layer) => disks.includes(layer.name))) {
      await provider.removeObject(domain)
      stopped.push(domain.name)
    }
  }
  for (const layer of layers.reverse()) {
    await images.remove(layer.name)
    await undo.removed('layer', layer.name)
  }
  return {finished, stopped}
}
