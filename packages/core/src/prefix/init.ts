import {randomUUID} from 'node:crypto'
import {copyFile, mkdir, rm, symlink} from 'node:fs/promises'
import path from 'node:path'
import type {LagoConfig} from '../config/config.js'
import {LagoError} from '../errors.js'
import {log} from '../log.js'
import {hostInSubnet, macForIp, lastOctet, subnet24} from '../network/ipv4.js'
import {SubnetLeases} from '../network/leases.js'
import {initFileError, initFileGolden, loadInitFile} from '../spec/load.js'
import type {EnvironmentSpec} from '../spec/types.js'
import {fetchTemplateTask} from '../templates/fetch-task.js'
import {planTemplates, type TemplateUse} from '../templates/plan.js'
import {loadSettingsRepo, openStore, requireSettingsRepo, retryPolicy, type TemplateSettings} from '../templates/settings.js'
import {parseGoldenRef} from '../golden/catalog.js'
import {goldenSource} from '../golden/from.js'
import type {StoredTemplate} from '../templates/store.js'
import {generateKeyPair, writeKeyPair} from '../ssh/keys.js'
import type {Task} from '../tasks.js'
import {pathExists, writeFileAtomic, writeJsonAtomic} from '../util/fs.js'
import {preflight} from '../host/run.js'
import {Rollback} from '../util/rollback.js'
import {throwIfAborted} from '../util/abort.js'
import {mapLimit} from '../util/pool.js'
import {controlCharacterIn} from '../util/safe-path.js'
import {PrefixChange} from './change.js'
import {Journal} from './journal.js'
import {PrefixLock} from './lock.js'
import {PrefixPaths, SECRET_FILE_MODE, STATE_DIR_NAME} from './paths.js'
import {applyGuestfsFirstBoot, firstBootMethod} from '../bootstrap/guestfs-first-boot.js'
import {distroOf} from '../compat/original-view.js'
import type {DiskState, NetState, PrefixState, VmState} from './state.js'
import {modeOf, type LibvirtMode} from '../session/mode.js'
import {sessionSeed} from '../session/seed.js'
import {lentTemplates} from '../session/system-store.js'
import type {DiskImages, Provider} from '../providers/provider.js'
import {prefixProvider} from './provider-environment.js'
import {placedConfig, writePlacement, type Placement} from './hypervisor.js'
import {leasesOn, placePrefix} from '../providers/remote/hypervisors.js'
import {isRemoteUri} from '../providers/remote/uri.js'
import {createProvider} from '../providers/registry.js'

export interface InitOptions {
  prefixPath: string
  initFile: string
  config: LagoConfig
  /** Template repository JSON (path or URL). */
  templateRepo?: string
  /** A repository registered under the repos directory (`lago template-repo add`). */
  templateRepoName?: string
  templateRepos?: string
  templateStore?: string
  skipBootstrap?: boolean
  /** Store repository templates without a published hash (default: the download.allow_unverified setting). */
  allowUnverified?: boolean
  /** The workdir the prefix goes into, if any (for $LAGO_WORKDIR_PATH in the init file). */
  workdirPath?: string
  /** Ctrl-C while planning (a repository fetch, host checks) stops it at once. */
  signal?: AbortSignal
  /** The provider the prefix is made on (default: the `[lago] provider` setting). */
  provider?: string
  /** The hypervisor: a name of [hypervisors], a qemu+ssh:// URI, or "local" (default: by free memory among [hypervisors], else libvirt.uri). */
  host?: string
  /** A golden environment (NAME or NAME:VERSION) to make an independent copy of, instead of an init file. */
  from?: string
}

export interface InitPlan {
  paths: PrefixPaths
  spec: EnvironmentSpec
  tasks: Task[]
  /** Undo everything the tasks made; call when running them failed or was interrupted. */
  rollback(): Promise<void>
}

/**
 * Check everything that can be checked before touching the disk (init file, templates,
 * target path), then return the tasks that create the prefix. Nothing exists on disk
 * until the tasks run; `rollback` removes whatever they made.
 */
export async function planInit(options: InitOptions): Promise<InitPlan> {
  const paths = new PrefixPaths(options.prefixPath)
  const bad = controlCharacterIn(paths.root)
  if (bad) {
    throw new LagoError('USAGE', `Prefix path ${JSON.stringify(paths.root)} contains the control character "${bad}"; libvirt and qemu cannot take it.`, {detail: {prefix: paths.root}})
  }
  const settings: TemplateSettings = {
    templateStore: options.templateStore,
    templateRepoPath: options.templateRepo,
    templateRepoName: options.templateRepoName,
    templateRepos: options.templateRepos,
  }
  const store = openStore(options.config, settings)
  const from = options.from ?? (await initFileGolden(options.initFile))
  const golden = from ? await goldenSource(store, parseGoldenRef(from), {signal: options.signal, loadRepo: () => loadSettingsRepo(options.config, settings, {signal: options.signal})}) : undefined
  const spec =
    golden?.spec ??
    (await loadInitFile(
      options.initFile,
      {
        ...process.env,
        LAGO_PREFIX_PATH: paths.root,
        ...(options.workdirPath ? {LAGO_WORKDIR_PATH: options.workdirPath} : {}),
      },
      {sshUser: options.config.ssh.user},
    ))
  if (await pathExists(paths.root)) {
    throw new LagoError('PREFIX_EXISTS', `Prefix ${paths.root} already exists.`, {
      hint: `Pick a new path, or remove the old environment first ("lago --prefix-path ${paths.root} destroy" or rm -rf it).`,
      detail: {prefix: paths.root},
    })
  }
  throwIfAborted(options.signal)
  await checkInputFiles(spec)
  const templatePlan =
    golden?.templates ?? (await planTemplates(spec, () => requireSettingsRepo(options.config, settings, `${spec.source} uses repository templates`, {signal: options.signal}), store))
  const templates = templatePlan.uses
  const lent = await lentTemplates(
    options.config,
    store.dir,
    templatePlan.templates.map((t) => t.template.id),
  )
  throwIfAborted(options.signal)
  const providerName = options.provider ?? options.config.lago.provider
  const neededMiB = spec.domains.reduce((sum, d) => sum + d.memory, 0)
  // On a remote host, the placement stays locked until this prefix holds its leases there (see placePrefix).
  const {hypervisor, placed} = await placePrefix(options.config, {host: options.host, neededMiB, provider: providerName})
  const placement: Placement = {...hypervisor, ...(isRemoteUri(hypervisor.uri) ? {dir: options.config.remote.dir, memoryMiB: neededMiB} : {})}
  const config = placedConfig(options.config, placement)
  try {
    // Refuses an unknown provider before anything exists. This host's checks are for environments on this host.
    if (createProvider(config, undefined, providerName).hostChecks !== false && !isRemoteUri(config.libvirt.uri)) {
      await preflight({
        signal: options.signal,
        config: options.config,
        purpose: 'init',
        prefixPath: paths.root,
        paths: [{label: 'template store', path: store.dir}],
        bootstrap: !options.skipBootstrap,
      })
    }
    throwIfAborted(options.signal)
  } catch (error) {
    await placed()
    throw error
  }

  const rollback = new Rollback()
  rollback.push('release the placement lock', placed)
  const leases = leasesOn(options.config, hypervisor)
  const uuid = randomUUID().replace(/-/g, '')
  const id = uuid.slice(0, 8)
  const owner = {uuidFile: paths.uuid, uuid}
  const stored = new Map<string, StoredTemplate>()
  let state: PrefixState | undefined
  let change: PrefixChange | undefined
  let provider: Provider | undefined

  const tasks: Task[] = [
    {
      title: `Create prefix ${paths.root}`,
      run: async () => {
        await mkdir(path.dirname(paths.root), {recursive: true})
        await mkdir(paths.root)
        rollback.push('remove the prefix directory', () => rm(paths.root, {recursive: true, force: true}))
        for (const dir of [paths.stateDir, paths.images, paths.seeds, paths.logs]) await mkdir(dir, {recursive: true})
        // The uuid first (it makes the directory a prefix cleanup and destroy can act on), then
        // the lock and the journal: from here on a kill leaves a run to roll back from.
        await writeFileAtomic(paths.uuid, uuid)
        const lock = await PrefixLock.acquire(paths.stateDir, {verb: 'lago init', wait: false})
        change = new PrefixChange(lock, await Journal.of(paths.stateDir).begin('init', {host: placement.name}))
        rollback.push('release the prefix lock', () => lock.release())
        // Before anything is made there: recovery and cleanup find the host from this file.
        await writePlacement(paths, placement)
        log.attachFile(paths.logFile)
        await writeKeyPair(paths.privateKey, await generateKeyPair(`lago-${id}`))
        // The original made DIR a workdir whose `current` held logs/ and the rest: OST's scripts
        // "cd $PREFIX/current" and copy its logs. A standalone prefix offers the same path.
        if (!options.workdirPath) await symlink(STATE_DIR_NAME, path.join(paths.root, 'current'))
      },
    },
    {
      title: 'Lease subnets',
      run: async (ctx) => {
        rollback.push('release subnet leases', async () => void (await leases.release(owner)))
        state = await change!.run.making('lease', 'subnets', () => planNetwork(spec, {uuid, id, paths, leases, owner, repo: options.templateRepo, mode: modeOf(config.libvirt.uri)}))
        state.provider = providerName
        provider = prefixProvider(config, paths, state)
        const made = provider
        if (made.removeFiles) rollback.push(`remove the files on hypervisor ${placement.name}`, () => made.removeFiles!())
        if (golden) state.golden = {name: golden.entry.manifest.name, version: golden.entry.manifest.version, store: store.dir}
        ctx.report(state.nets.map((n) => `${n.name} ${n.subnet}/24`).join(', '))
        // The leases and hypervisor.json now count this prefix's memory on its host.
        await placed()
      },
    },
    {
      title: 'Fetch templates',
      concurrent: true,
      subtasks: templatePlan.templates.map(({template, newerThan}) => {
        const shared = lent.get(template.id)
        if (shared) return {title: `Template ${template.id} (read-only from the system store ${path.dirname(shared.path)})`, run: async () => void stored.set(template.id, shared)}
        rollback.push(`release template ${template.id}`, () => store.release(template.id, owner))
        return fetchTemplateTask(store, template, {
          before: () => change!.run.intent('template-use', template.id, {store: store.dir}),
          title: `Template ${template.id}${newerThan.length > 0 ? ` (newer than ${newerThan.join(', ')} in the store: using it)` : ''}`,
          user: owner,
          retry: retryPolicy(options.config),
          allowUnverified: options.allowUnverified ?? options.config.download.allow_unverified,
          onStored: (result) => stored.set(template.id, result),
        })
      }),
    },
    {
      title: 'Create disks',
      run: async () => {
        const overlays = new Map<string, Promise<string>>()
        await mapLimit(state!.vms, 4, async (vm) => {
          const domain = spec.domains.find((d) => d.name === vm.name)!
          vm.disks = []
          for (const disk of domain.disks) vm.disks.push(await createDisk(provider!.images, paths, path.dirname(spec.source), vm.name, disk, templates, stored, overlays))
        })
      },
    },
    {
      title: 'Copy deploy scripts',
      run: async () => {
        // The prefix keeps its own copies (as the original Lago did): it can be moved or exported whole.
        for (const vm of state!.vms) vm.deployScripts = await copyDeployScripts(paths, vm.name, vm.deployScripts)
      },
    },
    {
      title: 'Write cloud-init seeds',
      run: async () => {
        if (options.skipBootstrap) return
        const publicKey = (await import('node:fs/promises')).readFile(`${paths.privateKey}.pub`, 'utf8')
        const templateMetadata = (vm: VmState) => stored.get(vm.disks.find((d) => d.template)?.template?.id ?? '')?.metadata ?? {}
        const bootstrapped = state!.vms.filter((v) => v.bootstrap)
        const guestfs = bootstrapped.filter((vm) => firstBootMethod(vm.metadata, templateMetadata(vm)) === 'libguestfs')
        if (guestfs.length > 0 && isRemoteUri(config.libvirt.uri)) {
          throw new LagoError(
            'INIT_FILE',
            `${guestfs.map((vm) => vm.name).join(', ')}: a template without cloud-init is prepared with libguestfs on this host, which cannot reach disks on hypervisor ${placement.name}.`,
            {
              hint: 'Use a cloud-init template for VMs on a remote hypervisor, or init this environment locally (--host local).',
              detail: {host: placement.name},
            },
          )
        }
        // Templates without cloud-init get it written into their disk, as the original's virt-sysprep bootstrap did.
        await mapLimit(guestfs, 2, async (vm) => {
          const disk = vm.disks[0]
          const template = templateMetadata(vm)
          await applyGuestfsFirstBoot(
            {
              disk: paths.resolve(disk.path),
              format: disk.format,
              hostname: vm.name,
              authorizedKey: (await publicKey).trim(),
              rootPassword: vm.sshPassword ?? (typeof template['root-password'] === 'string' ? template['root-password'] : undefined),
              distro: distroOf(vm, template),
              nics: vm.nics,
            },
            options.config.libvirt,
          )
        })
        await mapLimit(
          bootstrapped.filter((vm) => !guestfs.includes(vm)),
          4,
          async (vm) => {
            const iso = path.join(paths.seeds, `${vm.name}-cidata.iso`)
            const mgmt = state!.nets.find((n) => n.management)
            await provider!.writeSeed(iso, {
              instanceId: `${uuid}-${vm.name}`,
              hostname: vm.name,
              fqdn: mgmt?.dnsDomainName ? `${vm.name}.${mgmt.dnsDomainName}` : undefined,
              authorizedKeys: [(await publicKey).trim()],
              ...(state!.mode === 'session' ? sessionSeed(state!, vm) : {}),
            })
            vm.seed = paths.relative(iso)
          },
        )
      },
    },
    {
      title: 'Save environment',
      run: async () => {
        await writeJsonAtomic(paths.state, state, SECRET_FILE_MODE)
        await writeFileAtomic(paths.initialized, '')
        await change!.end('ok')
      },
    },
  ]
  return {
    paths,
    spec,
    tasks,
    rollback: () => rollback.unwind((what, error) => log.error(`rollback: could not ${what}: ${String(error)}`)),
  }
}

export interface NetworkContext {
  uuid: string
  id: string
  paths: PrefixPaths
  leases: SubnetLeases
  owner: {uuidFile: string; uuid: string}
  repo?: string
  mode?: LibvirtMode
}

/** Decide every subnet, address and MAC now, so each VM's address is known before it boots. */
export async function planNetwork(spec: EnvironmentSpec, ctx: NetworkContext): Promise<PrefixState> {
  const needLease = spec.nets.filter((n) => !n.gw)
  // Fixed subnets in the pool first: the leased nets are then never handed one of them.
  for (const net of spec.nets.filter((n) => n.gw && ctx.leases.inPool(subnet24(n.gw)))) {
    await ctx.leases.acquireSpecific(ctx.owner, subnet24(net.gw!))
  }
  const leased = await ctx.leases.acquire(ctx.owner, needLease.length)
  const nets: NetState[] = spec.nets.map((net, index) => {
    const subnet = net.gw ? subnet24(net.gw) : leased[needLease.indexOf(net)]
    return {
      ...net,
      dnsDomainName: net.management ? (net.dnsDomainName ?? 'lago.local') : net.dnsDomainName,
      libvirtName: `lago-${ctx.id}-${net.name}`,
      bridge: `lg${ctx.id}-${index}`,
      subnet,
      gateway: net.gw ?? hostInSubnet(subnet, 1),
      netmask: '255.255.255.0',
      leased: !net.gw || ctx.leases.inPool(subnet),
    }
  })
  const used = new Map(nets.map((n) => [n.name, new Set([lastOctet(n.gateway)])]))
  // Static addresses first (their last octet is kept, moved into the net's subnet), then the rest.
  const planned = spec.domains.map((d) =>
    d.nics.map((nic) => {
      if (!nic.ip) return undefined
      const net = nets.find((n) => n.name === nic.net)!
      const octet = lastOctet(nic.ip)
      if (used.get(net.name)!.has(octet)) {
        throw new LagoError('INIT_FILE', `${spec.source}: domains.${d.name}: address ${nic.ip} on net ${net.name} is taken by another NIC or the gateway.`)
      }
      used.get(net.name)!.add(octet)
      return hostInSubnet(net.subnet, octet)
    }),
  )
  const vms: VmState[] = spec.domains.map((domain, di) => {
    const nics = domain.nics.map((nic, ni) => {
      const net = nets.find((n) => n.name === nic.net)!
      let ip = planned[di][ni]
      if (!ip) {
        let octet = 2
        while (used.get(net.name)!.has(octet)) octet++
        if (octet > 254) throw new LagoError('INIT_FILE', `${spec.source}: net ${net.name} has no free address left for ${domain.name}.`)
        used.get(net.name)!.add(octet)
        ip = hostInSubnet(net.subnet, octet)
      }
      return {net: nic.net, ip, mac: macForIp(ip)}
    })
    const {nics: _nics, disks: _disks, ...rest} = domain
    return {...rest, libvirtName: `lago-${ctx.id}-${domain.name}`, nics, disks: []}
  })
  return {
    version: 1,
    ...(ctx.mode === 'session' ? {mode: 'session' as const} : {}),
    uuid: ctx.uuid,
    id: ctx.id,
    createdAt: new Date().toISOString(),
    initFile: spec.source,
    templateRepo: ctx.repo,
    nets,
    vms,
  }
}

async function createDisk(
  images: DiskImages,
  paths: PrefixPaths,
  initFileDir: string,
  vm: string,
  disk: EnvironmentSpec['domains'][number]['disks'][number],
  templates: TemplateUse[],
  stored: Map<string, StoredTemplate>,
  /** The first overlay made on each template: overlays on one template are identical, so the rest are copies. */
  overlays: Map<string, Promise<string>>,
): Promise<DiskState> {
  const file = path.join(paths.images, `${vm}_${disk.name}.qcow2`)
  const options = {subject: `domains.${vm}.disks (${disk.name})`, code: 'INIT_FILE' as const, lazyRefcounts: true}
  if (disk.type === 'file') {
    const source = path.resolve(initFileDir, disk.path!)
    if (!disk.makeACopy) return {name: disk.name, dev: disk.dev, format: disk.format, path: source}
    if (disk.format === 'iso') {
      const copy = path.join(paths.images, `${vm}_${disk.name}.iso`)
      await images.copy(source, copy)
      return {name: disk.name, dev: disk.dev, format: 'iso', path: paths.relative(copy)}
    }
    // An overlay does what a copy would (the file is never written) without copying it.
    await images.createOverlay(file, {path: source, format: disk.format}, options)
    return {name: disk.name, dev: disk.dev, format: 'qcow2', path: paths.relative(file)}
  }
  if (disk.type === 'empty') {
    await images.createEmpty(file, disk.size!, options)
    return {name: disk.name, dev: disk.dev, format: 'qcow2', path: paths.relative(file)}
  }
  const template = stored.get(templates.find((t) => t.vm === vm && t.disk === disk.name)!.resolved.id)!
  const first = overlays.get(template.id)
  if (first) {
    await images.copy(await first, file)
  } else {
    const made = images.createOverlay(file, {path: template.path, format: template.format}, options).then(() => file)
    overlays.set(template.id, made)
    await made
  }
  return {name: disk.name, dev: disk.dev, format: 'qcow2', path: paths.relative(file), template: {id: template.id, storePath: template.path, ...(template.readOnly ? {readOnly: true} : {})}}
}

/** Every deploy script and `file` disk must be a readable regular file before anything is created. */
async function checkInputFiles(spec: EnvironmentSpec): Promise<void> {
  const {access, stat} = await import('node:fs/promises')
  const problems: string[] = []
  const check = async (file: string, where: string, what: string) => {
    try {
      const info = await stat(file)
      if (!info.isFile() && !info.isBlockDevice()) problems.push(`${where}: ${file} is not a regular file`)
      else await access(file, (await import('node:fs')).constants.R_OK)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      problems.push(`${where}: ${what} ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`)
    }
  }
  for (const domain of spec.domains) {
    for (const [i, script] of domain.deployScripts.entries()) await check(script, `domains.${domain.name}.deploy-scripts[${i}]`, 'script')
    for (const [i, disk] of domain.disks.entries()) {
      if (disk.type === 'file') await check(path.resolve(path.dirname(spec.source), disk.path!), `domains.${domain.name}.disks[${i}].path`, 'disk image')
    }
  }
  if (problems.length > 0) throw initFileError(spec.source, problems, {hint: "Deploy scripts and file disks are relative to the init file's directory."})
}

/** Copy a VM's deploy scripts into the prefix; returns their paths relative to the state dir, in order. */
async function copyDeployScripts(paths: PrefixPaths, vm: string, scripts: string[]): Promise<string[]> {
  if (scripts.length === 0) return []
  const dir = path.join(paths.scripts, vm)
  await mkdir(dir, {recursive: true})
  const copies: string[] = []
  for (const [i, script] of scripts.entries()) {
    const copy = path.join(dir, `${String(i + 1).padStart(2, '0')}-${path.basename(script)}`)
    await copyFile(script, copy)
    copies.push(paths.relative(copy))
  }
  return copies
}
