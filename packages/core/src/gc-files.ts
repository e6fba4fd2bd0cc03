import {readdir} from 'node:fs/promises'
import path from 'node:path'
import type {LagoConfig} from './config/config.js'
import {SubnetLeases} from './network/leases.js'
import {PrefixLock} from './prefix/lock.js'
import {TemplateStore} from './templates/store.js'

export interface FileSweep {
  /** Subnets whose lease was held by a prefix that is gone. */
  leases: string[]
  /** Prefix and template store locks whose holder process is gone. */
  locks: string[]
  /** Partial template downloads no process is downloading any more. */
  partials: string[]
}

/**
 * What killed commands leave on the host besides libvirt objects: leases of prefixes that
 * are gone (uuid file absent or holding another uuid), prefix locks of dead processes, and in
 * the template store partial downloads, users that are gone and locks of dead processes.
 */
export async function sweepFiles(config: LagoConfig, prefixPaths: string[] = []): Promise<FileSweep> {
  const leases = new SubnetLeases(config.lago.lease_dir, config.lago.subnet_first, config.lago.subnet_count)
  const before = await leaseNames(leases.dir)
  const live = await leases.liveLeases()
  const after = new Set(await leaseNames(leases.dir))
  const locks: string[] = []
  const stateDirs = new Set([...live.map((l) => path.dirname(l.uuidFile)), ...prefixPaths.map((p) => path.join(p, '.lago'))])
  for (const stateDir of stateDirs) {
    const holder = await PrefixLock.clearIfStale(stateDir)
    if (holder) locks.push(`${PrefixLock.file(stateDir)} (\`${holder.verb}\`, pid ${holder.pid})`)
  }
  const store = await new TemplateStore(config.lago.template_store).sweep()
  locks.push(...store.locks.map((name) => path.join(config.lago.template_store, name)))
  return {leases: before.filter((n) => !after.has(n)).map((n) => n.replace(/\.lease$/, '')), locks, partials: store.partials}
}

async function leaseNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith('.lease'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}
