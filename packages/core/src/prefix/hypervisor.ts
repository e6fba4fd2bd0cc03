import path from 'node:path'
import type {LagoConfig} from '../config/config.js'
import {LagoError} from '../errors.js'
import type {LagoErrorCode} from '../errors.js'
import type {Provider} from '../providers/provider.js'
import type {Hypervisor} from '../providers/remote/hypervisors.js'
import {isRemoteUri} from '../providers/remote/uri.js'
import {readTextIfExists, writeJsonAtomic} from '../util/fs.js'
import type {PrefixPaths} from './paths.js'

/** Where a prefix runs, written at init before anything is made there (PREFIX/.lago/hypervisor.json). */
export interface Placement extends Hypervisor {
  /** remote.dir on that host when the prefix was made. */
  dir?: string
  /** The memory of its VMs (MiB): counted against that host's free memory while init has not yet written the prefix's state. */
  memoryMiB?: number
}

function placementFile(paths: Pick<PrefixPaths, 'stateDir'>): string {
  return path.join(paths.stateDir, 'hypervisor.json')
}

export async function writePlacement(paths: PrefixPaths, placement: Placement): Promise<void> {
  await writeJsonAtomic(placementFile(paths), placement)
}

/** The prefix's placement; undefined for prefixes made before placements (they run on libvirt.uri). */
export async function readPlacement(paths: Pick<PrefixPaths, 'stateDir'>): Promise<Placement | undefined> {
  const text = await readTextIfExists(placementFile(paths))
  if (text === undefined) return undefined
  try {
    const placement = JSON.parse(text) as Placement
    if (typeof placement.uri !== 'string' || typeof placement.name !== 'string') throw new Error('no name or uri')
    return placement
  } catch (error) {
    throw new LagoError('PREFIX', `${placementFile(paths)} is corrupt (${(error as Error).message}).`, {detail: {file: placementFile(paths)}})
  }
}

/**
 * The settings as they apply to a prefix placed on another host: that host's libvirt URI, its
 * remote directory and its own subnet leases. A prefix on this host follows the settings.
 */
export function placedConfig(config: LagoConfig, placement: Placement | undefined): LagoConfig {
  // This host's libvirt is the one libvirt.uri names now (another socket or driver option is the
  // user's call, as in the original); only a prefix on another host is bound to that host.
  if (!placement || !isRemoteUri(placement.uri)) return config
  return {
    ...config,
    lago: {...config.lago, lease_dir: path.join(config.lago.lease_dir, 'hosts', placement.name)},
    libvirt: {...config.libvirt, uri: placement.uri},
    remote: {...config.remote, dir: placement.dir ?? config.remote.dir},
  }
}

/** The settings for an existing prefix (see placedConfig). */
export async function prefixConfig(paths: PrefixPaths, config: LagoConfig): Promise<LagoConfig> {
  return placedConfig(config, await readPlacement(paths))
}

/**
 * Refuse a verb that reads or writes the environment's disks as files of this host when they
 * live on a remote hypervisor: before anything is made, naming the host and what to do instead.
 */
export function refuseOnRemoteHost(provider: Provider, verb: string, instead: string, code: LagoErrorCode = 'USAGE'): void {
  const host = provider.remoteHost
  if (host === undefined) return
  throw new LagoError(code, `Cannot ${verb}: the disks of this environment are on hypervisor ${host}, and ${verb.split(' ')[0]} reads them as files of this host.`, {
    hint: instead,
    detail: {host},
  })
}
