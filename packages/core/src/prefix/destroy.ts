import {rm} from 'node:fs/promises'
import path from 'node:path'
import type {LagoConfig} from '../config/config.js'
import {SubnetLeases} from '../network/leases.js'
import {PrefixPaths} from './paths.js'
import {Prefix} from './prefix.js'
import {Workdir} from './workdir.js'

/** Cleanup, then delete the prefix directory; in a workdir, re-point `current` or remove the empty workdir. */
export async function destroyPrefix(paths: PrefixPaths, config: LagoConfig): Promise<void> {
  const prefix = await Prefix.open(paths, config).catch(() => undefined)
  if (prefix) await prefix.cleanup()
  else {
    // initialization never finished: only leases may be left
    const uuid = await (await import('node:fs/promises')).readFile(paths.uuid, 'utf8').catch(() => '')
    const leases = new SubnetLeases(config.lago.lease_dir, config.lago.subnet_first, config.lago.subnet_count)
    if (uuid) await leases.release({uuidFile: paths.uuid, uuid})
  }
  await rm(paths.root, {recursive: true, force: true})
  const parent = path.dirname(paths.root)
  if (await Workdir.isWorkdir(parent)) await new Workdir(parent).settle()
}
