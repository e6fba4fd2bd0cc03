import {rm, stat} from 'node:fs/promises'
import path from 'node:path'
import {LagoError} from '../errors.js'
import {log} from '../log.js'
import {scriptName} from '../deploy/deploy.js'
import {lastOctet} from '../network/ipv4.js'
import {refuseOnRemoteHost} from '../prefix/hypervisor.js'
import type {Prefix} from '../prefix/prefix.js'
import type {DiskState, VmState} from '../prefix/state.js'
import {fileDigest, formatDigest} from '../templates/digest.js'
import type {StoredTemplate, TemplateStore} from '../templates/store.js'
import type {Task} from '../tasks.js'
import {pathExists} from '../util/fs.js'
import {mapLimit} from '../util/pool.js'
import {GOLDEN_REPO, GoldenCatalog, formatGoldenRef, goldenDiskTemplate, type GoldenDisk, type GoldenEntry, type GoldenManifest, type GoldenRef, type GoldenVm} from './catalog.js'

export interface FreezeOptions {
  /** NAME or NAME:VERSION (default version: the next number). */
  ref: GoldenRef
  store: TemplateStore
  /** Flatten every disk (self-contained images) instead of layering them on their templates. */
  flatten?: boolean
  /** Seconds to wait for each running guest's clean shutdown before forcing it. */
  shutdownTimeout?: number
}

export interface FreezeResult {
  golden: string
  name: string
  version: string
  /** The VMs that were running and were shut down cleanly for the freeze. */
  shutDown: string[]
  disks: {vm: string; disk: string; id: string; layeredOn?: string; size: number}[]
  description?: string
}

export interface FreezePlan {
  tasks: Task[]
  result: FreezeResult
  /** Remove what this freeze stored so far (a failure or an interruption); the prefix is untouched. */
  rollback(): Promise<void>
}

/**
 * Freeze: each VM's disks become store entries (`golden:NAME.VM.DISK:VERSION`), then the
 * environment's description is written beside them, which makes the golden environment
 * visible. Running guests are shut down cleanly first (a running disk is still changing);
 * the caller decides whether to start them again (`result.shutDown`).
 *
 * The golden name's store lock is held throughout, and each disk entry's lock from its
 * commit until the description is written, so neither a second freeze nor a prune sees a
 * half-made golden environment. Images are written as `.part` files first; a killed freeze
 * leaves only those (prune and gc remove them) or, if killed between the last commits,
 * disk entries no description names (invisible to `golden list`; prune removes them).
 */
export async function planFreeze(prefix: Prefix, options: FreezeOptions): Promise<FreezePlan> {
  prefix.requireInitialized()
  refuseOnRemoteHost(
    prefix.provider,
    'freeze the environment',
    'A golden environment is kept in the template store of this host: freeze an environment made here ("lago init --host local"); "lago snapshot" keeps the state of this one on its hypervisor.',
  )
  const {store, ref} = options
  const iso = prefix.state.vms.flatMap((vm) => vm.disks.filter((d) => d.format === 'iso').map((d) => `${vm.name}/${d.name}`))
  if (iso.length > 0) {
    throw new LagoError('USAGE', `Cannot freeze ISO disks (${iso.join(', ')}): a golden environment holds writable disk images only.`, {
      hint: 'Remove the ISO disks from the init file, or export the environment with "lago export" instead.',
    })
  }
  const catalog = new GoldenCatalog(store)
  const runtime = await prefix.provider.runtime()
  const running = prefix.state.vms.filter((vm) => runtime.vms.get(vm.libvirtName) === 'running').map((vm) => vm.name)
  const result: FreezeResult = {golden: '', name: ref.name, version: ref.version ?? '', shutDown: [], disks: []}
  const parts: string[] = []
  const committed: string[] = []
  const locks: (() => Promise<void>)[] = []
  let finished = false
  const releaseLocks = async () => {
    for (const release of locks.splice(0).reverse()) await release()
  }

  const tasks: Task[] = []
  if (running.length > 0) {
    tasks.push({
      title: `Shut down ${running.join(', ')} cleanly (ACPI) for a consistent freeze`,
      run: async (ctx) => {
        const results = await prefix.shutdown(running, {timeoutSeconds: options.shutdownTimeout, signal: ctx.signal})
        result.shutDown = results.map((r) => r.vm)
        const forced = results.filter((r) => r.forced).map((r) => r.vm)
        if (forced.length > 0) log.warn(`freeze: ${forced.join(', ')} did not power off in time and were forced off; their disks may need a file system check`)
        ctx.report(results.map((r) => `${r.vm} ${r.forced ? 'forced off' : 'powered off'} in ${r.seconds.toFixed(1)} s`).join(', '))
      },
    })
  }
  tasks.push(
    {
      title: `Reserve golden environment ${formatGoldenRef(ref)}`,
      run: async (ctx) => {
        const lock = await store.acquire(catalog.lockId(ref.name), {signal: ctx.signal, onWait: () => ctx.report('another Lago process is writing this golden environment; waiting')})
        locks.push(lock.release)
        result.version = ref.version ?? (await catalog.nextVersion(ref.name))
        result.golden = `${ref.name}:${result.version}`
        if (await catalog.get(ref.name, result.version)) {
          throw new LagoError('TEMPLATE', `Golden environment ${result.golden} already exists in ${store.dir}.`, {
            hint: `Freeze under a new version ("lago freeze ${ref.name}:NEW_VERSION"), or without a version to take the next number.`,
            detail: {golden: result.golden},
          })
        }
        ctx.report(result.golden)
      },
    },
    {
      title: `Freeze the disks of ${prefix.state.vms.length} VM${prefix.state.vms.length === 1 ? '' : 's'}${options.flatten ? ' (flattened)' : ''}`,
      run: async (ctx) => {
        const frozen = await mapLimit(prefix.state.vms, 2, async (vm) => {
          const disks: {disk: GoldenDisk; part: string; stored: StoredTemplate}[] = []
          for (const disk of vm.disks) {
            ctx.report(`${vm.name}/${disk.name}`)
            disks.push(await freezeDisk(prefix, store, vm, disk, result, options.flatten ?? false, parts, ctx.signal))
          }
          return {vm, disks}
        })
        result.disks = frozen.flatMap(({vm, disks}) => disks.map(({disk}) => ({vm: vm.name, disk: disk.name, id: disk.id, size: disk.size, ...(disk.layeredOn ? {layeredOn: disk.layeredOn} : {})})))
        // Every image is whole: now they enter the store, each entry locked until the description names it.
        for (const {disks} of frozen) {
          for (const {part, stored} of disks) {
            const lock = await store.acquire(stored.id, {signal: ctx.signal})
            locks.push(lock.release)
            if (await store.get(stored.id)) await removeOrphan(store, stored.id)
            committed.push(stored.id)
            await store.commit(part, stored, lock.signal)
            parts.splice(parts.indexOf(part), 1)
          }
        }
        const manifest = describe(prefix, result, running.length > 0 ? 'shut-down' : 'stopped', frozen)
        await markDeployed(prefix, manifest)
        const entry: GoldenEntry = await catalog.write(manifest)
        result.description = entry.file
        finished = true
        await releaseLocks()
      },
    },
  )
  return {
    tasks,
    result,
    rollback: async () => {
      for (const part of parts) await rm(part, {force: true})
      if (!finished) for (const id of committed) await removeOrphan(store, id)
      await releaseLocks()
    },
  }
}

/** One disk as a store image (a `.part` file until committed): layered on its template when it has one in this store, else flattened. */
async function freezeDisk(
  prefix: Prefix,
  store: TemplateStore,
  vm: VmState,
  disk: DiskState,
  result: FreezeResult,
  flatten: boolean,
  parts: string[],
  signal?: AbortSignal,
): Promise<{disk: GoldenDisk; part: string; stored: StoredTemplate}> {
  const template = goldenDiskTemplate(result.name, vm.name, disk.name)
  const id = `${GOLDEN_REPO}:${template}:${result.version}`
  const source = prefix.paths.resolve(disk.path)
  const part = store.partPath(id)
  parts.push(part)
  const base = disk.template && !flatten && path.dirname(disk.template.storePath) === store.dir ? await store.get(disk.template.id) : undefined
  const options = {subject: `VM ${vm.name} disk ${disk.name}`, signal}
  const images = prefix.provider.images
  if (base) {
    // Every layer above the template folds into one thin image, which names its template
    // relatively: store entries sit side by side ("./" keeps qemu from reading "repo:" as a protocol).
    await images.convert(source, part, {...options, backing: {path: base.path, format: base.format}})
    await images.rebaseUnsafe(part, {path: `./${base.id}`, format: base.format}, options)
  } else {
    await images.convert(source, part, options)
  }
  const [digest, info] = await Promise.all([fileDigest(part), images.info(part, {subject: options.subject})])
  const {size} = await stat(part)
  const hash = formatDigest(digest)
  const from = disk.template?.id
  const inherited = from ? ((await store.get(from))?.metadata ?? {}) : {}
  const stored: StoredTemplate = {
    id,
    path: store.imagePath(id),
    format: info.format === 'raw' ? 'raw' : 'qcow2',
    hash,
    size,
    verified: true,
    source: `lago freeze ${result.name}:${result.version} of ${prefix.paths.root} (${vm.name}/${disk.name})`,
    storedAt: new Date().toISOString(),
    metadata: {...inherited, golden: {name: result.name, version: result.version, vm: vm.name, disk: disk.name, ...(base ? {'layered-on': base.id} : {})}},
  }
  return {
    disk: {name: disk.name, dev: disk.dev, id, template, version: result.version, hash, size, ...(from ? {from} : {}), ...(base ? {layeredOn: base.id} : {})},
    part,
    stored,
  }
}

/** A disk entry no golden description names (left by a killed freeze): its files go. */
async function removeOrphan(store: TemplateStore, id: string): Promise<void> {
  const image = store.imagePath(id)
  for (const file of [image, `${image}.hash`, `${image}.metadata`]) await rm(file, {force: true})
  await rm(`${image}.users`, {recursive: true, force: true})
}

function describe(prefix: Prefix, result: FreezeResult, capture: GoldenManifest['capture'], frozen: {vm: VmState; disks: {disk: GoldenDisk}[]}[]): GoldenManifest {
  const vms: GoldenVm[] = frozen.map(({vm, disks}) => {
    const {libvirtName: _l, nics, disks: _d, seed: _s, deployScripts, ...domain} = vm
    return {
      ...domain,
      nics: nics.map((nic) => ({net: nic.net, octet: lastOctet(nic.ip), frozenIp: nic.ip})),
      disks: disks.map((d) => d.disk),
      deployed: {scripts: deployScripts.map(scriptName), ran: false},
    }
  })
  return {
    format: 1,
    name: result.name,
    version: result.version,
    createdAt: new Date().toISOString(),
    source: {prefix: prefix.paths.root, uuid: prefix.state.uuid, initFile: prefix.state.initFile},
    capture,
    nets: prefix.state.nets.map((net) => ({
      name: net.name,
      type: net.type,
      management: net.management,
      ...(net.dhcp ? {dhcp: net.dhcp} : {}),
      ...(net.dnsDomainName ? {dnsDomainName: net.dnsDomainName} : {}),
      // A fixed gateway stays fixed; a leased subnet is leased afresh by each copy.
      ...(net.leased ? {} : {gw: net.gateway}),
      leased: net.leased,
    })),
    vms,
  }
}

/** Whether each VM's deploy ran in the prefix (its deploy log exists), for the description. */
async function markDeployed(prefix: Prefix, manifest: GoldenManifest): Promise<void> {
  for (const vm of manifest.vms) vm.deployed.ran = await pathExists(prefix.paths.deployLog(vm.name))
}
