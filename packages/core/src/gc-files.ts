import {readdir} from 'node:fs/promises'
import path from 'node:path'
import type {LagoConfig} from './config/config.js'
import {SubnetLeases} from './network/leases.js'
import {PrefixLock} from './prefix/lock.js'

export interface FileSweep {
  /** Subnets whose lease was held by a prefix that is gone. */
  leases: string[]
  /** Prefix locks whose holder process is gone. */
  locks: string[]
}

/**
 * What killed commands leave on the host besides libvirt objects: leases of prefixes that
 * are gone (uuid file absent or holding another uuid), and prefix locks of dead processes.
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
  return {leases: before.filter((n) => !after.has(n)).map((n) => n.replace(/\.lease$/, '')), locks}
}

async function leaseNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith('.lease'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}
