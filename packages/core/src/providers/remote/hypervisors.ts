import {readTextIfExists} from '../../util/fs.js'
import path from 'node:path'
import type {LagoConfig} from '../../config/config.js'
import {LagoError} from '../../errors.js'
import {SubnetLeases} from '../../network/leases.js'
import {placedConfig, readPlacement} from '../../prefix/hypervisor.js'
import {lockInDir} from '../../util/dir-lock.js'
import {createProvider} from '../registry.js'
import {LibvirtProvider} from '../libvirt/provider.js'
import {isRemoteUri} from './uri.js'

/** A hypervisor a prefix can run on: a configured name (or the host of a URI) and its libvirt URI. */
export interface Hypervisor {
  name: string
  uri: string
}

/** The configured remote hypervisors (`[hypervisors]`), in the order written. */
export function configuredHypervisors(config: LagoConfig): Hypervisor[] {
  return Object.entries(config.hypervisors).map(([name, uri]) => ({name, uri}))
}

/** `--host` or the init file's `hypervisor`: a configured name, or a URI (named after its host). */
export function namedHypervisor(config: LagoConfig, nameOrUri: string): Hypervisor {
  const configured = configuredHypervisors(config).find((h) => h.name === nameOrUri || h.uri === nameOrUri)
  if (configured) return configured
  if (isRemoteUri(nameOrUri)) return {name: new URL(nameOrUri).hostname, uri: nameOrUri}
  if (nameOrUri === 'local' || nameOrUri === config.libvirt.uri) return localHypervisor(config)
  const names = configuredHypervisors(config).map((h) => h.name)
  throw new LagoError('USAGE', `No hypervisor named "${nameOrUri}".`, {
    hint:
      names.length > 0
        ? `Configured hypervisors: ${names.join(', ')} (or give a qemu+ssh:// URI, or "local").`
        : 'Configure some in [hypervisors] of lago.conf (NAME = qemu+ssh://USER@HOST/system), or give a qemu+ssh:// URI.',
    detail: {host: nameOrUri},
  })
}

/** libvirt.uri: this host, or (a qemu+ssh:// URI there) a remote one named after its host. */
export function localHypervisor(config: LagoConfig): Hypervisor {
  const uri = config.libvirt.uri
  return {name: isRemoteUri(uri) ? new URL(uri).hostname : 'local', uri}
}

/** The subnet leases of a hypervisor: this host's pool, or one pool per remote host (lease_dir/hosts/NAME). */
export function leasesOn(config: LagoConfig, hypervisor: Hypervisor): SubnetLeases {
  const placed = placedConfig(config, hypervisor)
  return new SubnetLeases(placed.lago.lease_dir, config.lago.subnet_first, config.lago.subnet_count, !isRemoteUri(hypervisor.uri))
}

export interface HostMemory {
  hypervisor: Hypervisor
  /** What libvirt reports the host can give (free + buffers + cache), MiB. */
  availableMiB: number
  /** Memory of VMs of Lago prefixes placed there that are not running (libvirt does not count them yet), MiB. */
  promisedMiB: number
  freeMiB: number
  error?: string
}

/**
 * Free memory of each hypervisor: what libvirt reports, minus the memory of the VMs Lago has
 * placed there that are not running yet (a prefix initialised on that host but not started,
 * or still being initialised). `provider` is the provider the new prefix will use.
 */
export async function hostMemory(config: LagoConfig, hypervisors: Hypervisor[], provider?: string): Promise<HostMemory[]> {
  return Promise.all(
    hypervisors.map(async (hypervisor) => {
      const host = createProvider({...config, libvirt: {...config.libvirt, uri: hypervisor.uri}}, undefined, provider)
      try {
        const [availableMiB, runtime, placed] = await Promise.all([host.availableMemoryMiB(), host.runtime(), placedVms(config, hypervisor)])
        const promisedMiB = placed.filter((vm) => vm.libvirtName === undefined || runtime.vms.get(vm.libvirtName) !== 'running').reduce((sum, vm) => sum + vm.memory, 0)
        return {hypervisor, availableMiB, promisedMiB, freeMiB: availableMiB - promisedMiB}
      } catch (error) {
        return {hypervisor, availableMiB: 0, promisedMiB: 0, freeMiB: 0, error: error instanceof Error ? error.message : String(error)}
      }
    }),
  )
}

/**
 * The VMs of every live prefix holding a subnet lease on that hypervisor; a prefix whose init
 * has not written its state yet counts with the memory its placement records (no VM name).
 */
async function placedVms(config: LagoConfig, hypervisor: Hypervisor): Promise<{libvirtName?: string; memory: number}[]> {
  const owners = new Set((await leasesOn(config, hypervisor).liveLeases()).map((l) => l.uuidFile))
  const vms: {libvirtName?: string; memory: number}[] = []
  for (const uuidFile of owners) {
    const stateDir = path.dirname(uuidFile)
    const text = await readTextIfExists(path.join(stateDir, 'state.json'))
    if (text !== undefined) vms.push(...((JSON.parse(text) as {vms?: {libvirtName: string; memory: number}[]}).vms ?? []))
    else vms.push({memory: (await readPlacement({stateDir}))?.memoryMiB ?? 0})
  }
  return vms
}

/**
 * Where `init` puts a prefix: `--host` (or the init file's hypervisor) when given; else, when
 * hypervisors are configured, the one with the most free memory that fits `neededMiB` (refused
 * with every host's numbers when none does); else libvirt.uri.
 *
 * Placing on a remote host holds a lock per lease directory (so per user) until `placed` is
 * called: the caller calls it once the prefix holds its subnet leases there with its
 * hypervisor.json written, which is when the next placement counts its memory. Two inits at
 * once so never both take the last free memory of one host.
 */
export async function placePrefix(
  config: LagoConfig,
  options: {host?: string; neededMiB: number; provider?: string},
): Promise<{hypervisor: Hypervisor; memory?: HostMemory[]; placed: () => Promise<void>}> {
  const candidates = configuredHypervisors(config)
  const named = options.host ? namedHypervisor(config, options.host) : undefined
  if (named ? !isRemoteUri(named.uri) : candidates.length === 0) return {hypervisor: named ?? localHypervisor(config), placed: () => Promise.resolve()}
  const placed = once(await lockPlacements(config))
  try {
    if (named) return {hypervisor: named, placed}
    const memory = await hostMemory(config, candidates, options.provider)
    return {hypervisor: mostFreeMemory(memory, options.neededMiB), memory, placed}
  } catch (error) {
    await placed()
    throw error
  }
}

function lockPlacements(config: LagoConfig): Promise<() => Promise<void>> {
  const dir = path.join(config.lago.lease_dir, 'hosts')
  const file = path.join(dir, 'placement.lock')
  return lockInDir(
    dir,
    file,
    (error) =>
      new LagoError('HOST', `Cannot take the placement lock ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}).`, {
        hint: 'Another "lago init" may be placing an environment on a hypervisor: run again when it has leased its subnets, or set lease_dir in lago.conf to a directory you can write.',
        detail: {file},
      }),
    // Another init holds it for a few SSH round trips to each host: wait up to about two minutes.
    600,
  )
}

/** `release` run at most once, however often it is called. */
function once(release: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined
  return () => (done ??= release())
}

/** The reachable host with the most free memory that fits `neededMiB` (the first listed on a tie); refuses with every host's numbers. */
export function mostFreeMemory(memory: HostMemory[], neededMiB: number): Hypervisor {
  const fitting = memory.filter((m) => !m.error && m.freeMiB >= neededMiB)
  const best = fitting.reduce<HostMemory | undefined>((chosen, m) => (!chosen || m.freeMiB > chosen.freeMiB ? m : chosen), undefined)
  if (!best) {
    const numbers = memory.map((m) =>
      m.error ? `${m.hypervisor.name}: unreachable (${m.error})` : `${m.hypervisor.name}: ${m.freeMiB} MiB free (${m.availableMiB} available - ${m.promisedMiB} promised to prefixes not started)`,
    )
    throw new LagoError('HOST', `No hypervisor has ${neededMiB} MiB free for this environment. ${numbers.join('; ')}.`, {
      hint: 'Free memory on one of them ("lago cleanup" an environment there), lower the VMs\' memory in the init file, or name a host with --host.',
      detail: {neededMiB, hosts: memory.map((m) => ({name: m.hypervisor.name, freeMiB: m.freeMiB, availableMiB: m.availableMiB, promisedMiB: m.promisedMiB, error: m.error}))},
    })
  }
  return best.hypervisor
}

/** One environment on one hypervisor, as `lago list --hosts` shows it. */
export interface HostedPrefix {
  host: string
  uri: string
  prefix: string
  vms: number
  running: number
}

/**
 * The Lago environments on this host and every configured hypervisor: the prefixes holding
 * subnet leases there, with how many of their VMs libvirt runs. A host that does not answer
 * is reported with its error, the others are still listed.
 */
export async function listAcrossHosts(config: LagoConfig): Promise<{prefixes: HostedPrefix[]; unreachable: {host: string; error: string}[]}> {
  const hypervisors = [localHypervisor(config), ...configuredHypervisors(config).filter((h) => h.uri !== config.libvirt.uri)]
  const prefixes: HostedPrefix[] = []
  const unreachable: {host: string; error: string}[] = []
  await Promise.all(
    hypervisors.map(async (hypervisor) => {
      const owners = [...new Set((await leasesOn(config, hypervisor).liveLeases()).map((l) => l.uuidFile))]
      const states = (await Promise.all(owners.map(async (uuidFile) => ({uuidFile, text: await readTextIfExists(path.join(path.dirname(uuidFile), 'state.json'))})))).filter(
        (s) => s.text !== undefined,
      )
      let running = new Map<string, string>()
      if (states.length > 0) {
        try {
          running = (await new LibvirtProvider({...config.libvirt, uri: hypervisor.uri}).runtime()).vms
        } catch (error) {
          unreachable.push({host: hypervisor.name, error: error instanceof Error ? error.message : String(error)})
        }
      }
      for (const {uuidFile, text} of states) {
        const vms = (JSON.parse(text!) as {vms?: {libvirtName: string}[]}).vms ?? []
        prefixes.push({
          host: hypervisor.name,
          uri: hypervisor.uri,
          prefix: path.dirname(path.dirname(uuidFile)),
          vms: vms.length,
          running: vms.filter((vm) => running.get(vm.libvirtName) === 'running').length,
        })
      }
    }),
  )
  prefixes.sort((a, b) => a.host.localeCompare(b.host) || a.prefix.localeCompare(b.prefix))
  return {prefixes, unreachable}
}
