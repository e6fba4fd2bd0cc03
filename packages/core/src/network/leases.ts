import {readdir, readFile, rm} from 'node:fs/promises'
import path from 'node:path'
import {LagoError} from '../errors.js'
import {log} from '../log.js'
import {isAbsent, pathExists, writeJsonAtomic} from '../util/fs.js'
import {lockInDir} from '../util/dir-lock.js'
import {run} from '../util/exec.js'
import {cidrOverlaps, intToIp, ipToInt} from './ipv4.js'

/** Who holds a lease: the prefix's uuid file and its content. A lease is live while both match. */
export interface LeaseOwner {
  uuidFile: string
  uuid: string
}

interface LeaseRecord extends LeaseOwner {
  subnet: string
}

/**
 * Host-wide /24 subnet leases shared by every prefix: one JSON file per leased subnet in
 * the lease directory, allocated under one lock. Leases whose prefix is gone are reclaimed.
 */
export class SubnetLeases {
  constructor(
    readonly dir: string,
    readonly first: string,
    readonly count: number,
    /** Skip subnets routed here: false for a remote hypervisor's leases (this host's routes say nothing of its). */
    readonly checkLocalRoutes = true,
  ) {}

  private leaseFile(subnet: string): string {
    return path.join(this.dir, `${subnet}.lease`)
  }

  /** Lease `count` free subnets for `owner`. */
  async acquire(owner: LeaseOwner, count: number): Promise<string[]> {
    if (count === 0) return []
    return this.locked(async () => {
      const routed = this.checkLocalRoutes ? await routedNetworks() : []
      const taken = new Set((await this.liveLeases()).map((l) => l.subnet))
      const chosen: string[] = []
      for (let i = 0; i < this.count && chosen.length < count; i++) {
        const subnet = intToIp(ipToInt(this.first) + i * 256)
        if (taken.has(subnet)) continue
        const base = ipToInt(subnet)
        if (routed.some((r) => cidrOverlaps(r, {base, bits: 24}))) {
          log.debug(`subnet ${subnet}/24 skipped: already routed on this host`)
          continue
        }
        chosen.push(subnet)
      }
      if (chosen.length < count) {
        throw new LagoError('SUBNET', `No free subnet left: ${count} needed, the pool ${this.first}/24 ×${this.count} (lease directory ${this.dir}) has ${chosen.length} free.`, {
          hint: 'Destroy environments you no longer need ("lago destroy"), or widen the pool with subnet_first/subnet_count in lago.conf.',
        })
      }
      for (const subnet of chosen) await writeJsonAtomic(this.leaseFile(subnet), {...owner, subnet} satisfies LeaseRecord, 0o664)
      return chosen
    })
  }

  /** Lease a specific subnet (a net with a fixed gateway inside the pool). */
  async acquireSpecific(owner: LeaseOwner, subnet: string): Promise<void> {
    await this.locked(async () => {
      const holder = (await this.liveLeases()).find((l) => l.subnet === subnet)
      if (holder && holder.uuidFile !== owner.uuidFile) {
        throw new LagoError('SUBNET', `Subnet ${subnet}/24 is leased by another environment (${path.dirname(path.dirname(holder.uuidFile))}).`)
      }
      await writeJsonAtomic(this.leaseFile(subnet), {...owner, subnet} satisfies LeaseRecord, 0o664)
    })
  }

  inPool(subnet: string): boolean {
    const offset = ipToInt(subnet) - ipToInt(this.first)
    return offset >= 0 && offset < this.count * 256
  }

  async release(owner: LeaseOwner): Promise<string[]> {
    if (!(await pathExists(this.dir))) return []
    return this.locked(async () => {
      const released: string[] = []
      for (const lease of await this.readLeases()) {
        if (lease.uuidFile === owner.uuidFile && lease.uuid === owner.uuid) {
          await rm(this.leaseFile(lease.subnet), {force: true})
          released.push(lease.subnet)
        }
      }
      return released
    })
  }

  /** Leases whose owner still exists; stale ones are removed on the way. */
  async liveLeases(): Promise<LeaseRecord[]> {
    const live: LeaseRecord[] = []
    for (const lease of await this.readLeases()) {
      const current = await uuidOf(lease.uuidFile)
      if (current === undefined || current === lease.uuid) live.push(lease)
      else if (await this.reclaim(lease)) continue
      else live.push(lease)
    }
    return live
  }

  /** Remove a stale lease; false when another user's file in the sticky directory cannot be (it stays taken). */
  private async reclaim(lease: LeaseRecord): Promise<boolean> {
    try {
      await rm(this.leaseFile(lease.subnet), {force: true})
      log.info(`reclaimed stale subnet lease ${lease.subnet} (prefix ${lease.uuidFile} is gone)`)
      return true
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'EPERM' && code !== 'EACCES') throw error
      log.info(`stale subnet lease ${lease.subnet} belongs to another user (${code}); leaving it taken`)
      return false
    }
  }

  private async readLeases(): Promise<LeaseRecord[]> {
    const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => n.endsWith('.lease'))
    const leases: LeaseRecord[] = []
    for (const name of names) {
      try {
        leases.push(JSON.parse(await readFile(path.join(this.dir, name), 'utf8')) as LeaseRecord)
      } catch {
        log.warn(`ignoring unreadable lease file ${path.join(this.dir, name)}`)
      }
    }
    return leases
  }

  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const release = await lockInDir(this.dir, path.join(this.dir, 'subnet-lease.lock'), (error) => permissionError(this.dir, error))
    try {
      return await fn()
    } finally {
      await release()
    }
  }
}

function permissionError(dir: string, error: unknown): LagoError {
  const code = (error as NodeJS.ErrnoException).code
  return new LagoError('SUBNET', `Cannot use the subnet lease directory ${dir} (${code ?? String(error)}).`, {
    hint: code === 'EACCES' || code === 'EPERM' ? 'Run "lago setup --user $USER" as root, or set lease_dir in lago.conf to a directory you can write.' : undefined,
  })
}

/** IPv4 destinations already routed in this network namespace (a Lago subnet must not clash). */
async function routedNetworks(): Promise<{base: number; bits: number}[]> {
  const result = await run('ip', ['-j', '-4', 'route', 'show', 'table', 'all'], {reject: false}).catch(() => undefined)
  if (!result || result.exitCode !== 0) return []
  const routes = JSON.parse(result.stdout || '[]') as {dst?: string; type?: string}[]
  return routes
    .filter((r) => r.dst && r.dst !== 'default' && r.type !== 'broadcast' && r.type !== 'local')
    .map((r) => {
      const [ip, bits] = r.dst!.split('/')
      return {base: ipToInt(ip), bits: bits === undefined ? 32 : Number(bits)}
    })
    .filter((r) => r.bits > 0 && Number.isFinite(r.base))
}

/**
 * The uuid a lease's prefix holds: '' when its uuid file is gone; undefined when it cannot be
 * read (another user's 0700 home): then the lease may well be live and is kept.
 */
async function uuidOf(uuidFile: string): Promise<string | undefined> {
  try {
    return (await readFile(uuidFile, 'utf8')).trim()
  } catch (error) {
    if (isAbsent(error)) return ''
    log.info(`keeping the subnet lease of ${uuidFile}: it cannot be read (${(error as NodeJS.ErrnoException).code})`)
    return undefined
  }
}
