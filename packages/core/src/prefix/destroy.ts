import {rm} from 'node:fs/promises'
import path from 'node:path'
import type {LagoConfig} from '../config/config.js'
import {LagoError} from '../errors.js'
import {log} from '../log.js'
import {SubnetLeases} from '../network/leases.js'
import {prefixHypervisor} from './provider-environment.js'
import {readTextIfExists} from '../util/fs.js'
import type {JournalRun} from './journal.js'
import {PrefixPaths} from './paths.js'
import {Prefix} from './prefix.js'
import {Workdir} from './workdir.js'
import {prefixConfig} from './hypervisor.js'
import {removeHypervisorFiles} from './provider-environment.js'

/**
 * The prefix when its state can be read; undefined when state.json is missing, empty or
 * corrupt (the verbs below then work from the uuid file and libvirt's owner tags). Any
 * other failure (permissions) is an error: a prefix that cannot be read is not "gone".
 */
async function openIfReadable(paths: PrefixPaths, config: LagoConfig, journal?: JournalRun): Promise<Prefix | undefined> {
  try {
    const prefix = await Prefix.open(paths, config)
    prefix.journal = journal
    return prefix
  } catch (error) {
    if (error instanceof LagoError && error.code === 'PREFIX' && error.detail.reason !== undefined) {
      log.warn(`${error.message} Working from the uuid file and libvirt's records instead.`)
      return undefined
    }
    throw error
  }
}

/** Every domain, then every network, libvirt says belongs to this prefix directory. */
async function removeOwnedObjects(paths: PrefixPaths, config: LagoConfig): Promise<string[]> {
  const provider = await prefixHypervisor(config, paths)
  const owned = (await provider.ownedObjects()).filter((o) => o.prefixPath === paths.root)
  owned.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'domain' ? -1 : 1))
  for (const object of owned) await provider.removeObject(object)
  return owned.map((o) => o.name)
}

/** Stop the named VMs (or all) and the networks no running VM uses, whatever state.json holds. */
export async function stopPrefix(paths: PrefixPaths, config: LagoConfig, vms: string[] = [], journal?: JournalRun): Promise<void> {
  const prefix = await openIfReadable(paths, config, journal)
  if (prefix) await prefix.stop(vms)
  else await removeOwnedObjects(paths, await prefixConfig(paths, config))
}

/** Stop everything and give the subnets and templates back; the directory stays. Works on a prefix in any state. */
export async function cleanupPrefix(paths: PrefixPaths, config: LagoConfig, journal?: JournalRun): Promise<{releasedSubnets: string[]}> {
  const prefix = await openIfReadable(paths, config, journal)
  if (prefix) return prefix.cleanup()
  const placed = await prefixConfig(paths, config)
  await removeOwnedObjects(paths, placed)
  const uuid = (await readTextIfExists(paths.uuid))?.trim()
  const leases = new SubnetLeases(placed.lago.lease_dir, placed.lago.subnet_first, placed.lago.subnet_count)
  const releasedSubnets = uuid ? await leases.release({uuidFile: paths.uuid, uuid}) : []
  if (uuid) await removeHypervisorFiles(paths, placed, uuid)
  await rm(paths.initialized, {force: true})
  return {releasedSubnets}
}

/**
 * Delete the prefix directory with its uuid file last: killed half-way, it is still a prefix
 * that destroy finishes, never a directory that is half a prefix.
 */
async function removeUuidLast(paths: PrefixPaths): Promise<void> {
  const {readdir} = await import('node:fs/promises')
  const entries = async (dir: string) => {
    try {
      return await readdir(dir)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
  }
  for (const name of await entries(paths.root)) {
    if (name !== path.basename(paths.stateDir)) await rm(path.join(paths.root, name), {recursive: true, force: true})
  }
  for (const name of await entries(paths.stateDir)) {
    if (name !== path.basename(paths.uuid)) await rm(path.join(paths.stateDir, name), {recursive: true, force: true})
  }
  await rm(paths.root, {recursive: true, force: true})
}

/** Cleanup, then delete the prefix directory; in a workdir, re-point `current` or remove the empty workdir. */
export async function destroyPrefix(paths: PrefixPaths, config: LagoConfig, journal?: JournalRun): Promise<void> {
  await cleanupPrefix(paths, config, journal)
  await removeUuidLast(paths)
  const parent = path.dirname(paths.root)
  if (await Workdir.isWorkdir(parent)) await new Workdir(parent).settle()
}
