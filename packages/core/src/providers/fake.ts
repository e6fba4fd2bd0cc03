import {LagoError} from '../errors.js'
import type {
  BackingImage,
  DiskImages,
  DomainType,
  ImageInfo,
  OwnedObject,
  Provider,
  ProviderEnvironment,
  ProviderFactory,
  ProviderNet,
  ProviderVm,
  Runtime,
  SeedContent,
  SshEndpoint,
  VmRuntimeState,
} from './provider.js'

/** One call a FakeProvider received: the method and what it acted on (a name or a file). */
export interface FakeCall {
  method: string
  target: string
}

/** Make a call fail: the `nth` call (1 = the next) of `method` whose target `match`es (default: any). */
export interface FakeFailure {
  method: string
  nth?: number
  match?: (target: string) => boolean
  error?: Error
}

export interface FakeImage {
  format: string
  virtualSize?: number
  backing?: BackingImage
  /** The file it was copied from (a byte copy). */
  copyOf?: string
}

interface FakeObject {
  owner: {prefixId: string; prefixPath: string; name: string}
}

/** Everything the fake hypervisor holds; shared by the providers of every environment on it. */
export interface FakeWorld {
  networks: Map<string, FakeObject & {net: ProviderNet}>
  domains: Map<string, FakeObject & {vm: ProviderVm; state: VmRuntimeState; disks: string[]}>
  images: Map<string, FakeImage>
  seeds: Map<string, SeedContent>
  calls: FakeCall[]
  failures: (FakeFailure & {seen: number})[]
  memoryMiB: number
  /** Where a guest's SSH answers (default: its address, port 22: nothing, in a unit test). */
  sshEndpoint?: (vm: ProviderVm, ip: string) => SshEndpoint
  /** What a VM's boot does after its domain is created (default: nothing); may throw to fail the boot. */
  onBoot?: (vm: ProviderVm) => Promise<void> | void
}

/**
 * An in-memory hypervisor for unit tests and plugin authors: records every call and what
 * exists (networks, domains, disk images as records, seeds), and fails calls on demand.
 * Register it with `registerProvider(fake.factory())` and select it with `[lago] provider`
 * (or pass `provider: 'fake'` to planInit).
 */
export class FakeProvider implements Provider {
  readonly location = 'fake://'
  readonly hostChecks = false
  readonly world: FakeWorld

  constructor(
    options: {name?: string; world?: Partial<FakeWorld>} = {},
    private readonly environment?: ProviderEnvironment,
  ) {
    this.name = options.name ?? 'fake'
    this.world = {
      networks: new Map(),
      domains: new Map(),
      images: new Map(),
      seeds: new Map(),
      calls: [],
      failures: [],
      memoryMiB: 64 * 1024,
      ...options.world,
    }
  }

  readonly name: string

  /** This hypervisor, seen by another environment (same world, same call log). */
  withEnvironment(environment?: ProviderEnvironment): FakeProvider {
    return new FakeProvider({name: this.name, world: this.world}, environment)
  }

  factory(description = 'in-memory hypervisor (tests)'): ProviderFactory {
    return {name: this.name, description, create: (_config, environment) => this.withEnvironment(environment)}
  }

  /** Make a later call fail (see FakeFailure). */
  failOn(failure: FakeFailure): void {
    this.world.failures.push({...failure, seen: 0})
  }

  /** The calls so far as "method target" lines, optionally only those of some methods. */
  callLog(methods?: string[]): string[] {
    return this.world.calls.filter((c) => !methods || methods.includes(c.method)).map((c) => `${c.method} ${c.target}`)
  }

  private call(method: string, target: string): void {
    this.world.calls.push({method, target})
    for (const failure of this.world.failures) {
      if (failure.method !== method || (failure.match && !failure.match(target))) continue
      failure.seen++
      if (failure.seen === (failure.nth ?? 1)) throw failure.error ?? new LagoError('LIBVIRT', `fake provider: ${method} ${target} failed (injected)`, {userError: false})
    }
  }

  private get env(): ProviderEnvironment {
    if (!this.environment) throw new LagoError('INTERNAL', 'This fake provider was created without an environment.', {userError: false})
    return this.environment
  }

  ping(): Promise<void> {
    this.call('ping', this.location)
    return Promise.resolve()
  }

  runtime(): Promise<Runtime> {
    this.call('runtime', '')
    return Promise.resolve({
      vms: new Map([...this.world.domains].map(([name, d]) => [name, d.state])),
      activeNets: new Set(this.world.networks.keys()),
    })
  }

  availableMemoryMiB(): Promise<number> {
    const used = [...this.world.domains.values()].filter((d) => d.state === 'running').reduce((sum, d) => sum + d.vm.memory, 0)
    return Promise.resolve(this.world.memoryMiB - used)
  }

  ownedObjects(): Promise<OwnedObject[]> {
    const objects = (kind: OwnedObject['kind'], map: Map<string, FakeObject>) => [...map].map(([name, o]) => ({kind, name, prefixId: o.owner.prefixId, prefixPath: o.owner.prefixPath}))
    return Promise.resolve([...objects('domain', this.world.domains), ...objects('network', this.world.networks)])
  }

  removeObject(object: Pick<OwnedObject, 'kind' | 'name'>): Promise<void> {
    return this.drop(`remove-${object.kind}`, object.kind === 'domain' ? this.world.domains : this.world.networks, object.name)
  }

  /** Record `method`, then forget `name` (absent is fine, as with libvirt). */
  private async drop(method: string, objects: Map<string, unknown>, name: string): Promise<void> {
    this.call(method, name)
    objects.delete(name)
    await Promise.resolve()
  }

  domainDisks(domain: string): Promise<string[]> {
    return Promise.resolve(this.world.domains.get(domain)?.disks ?? [])
  }

  attachConsole(domain: string): Promise<number> {
    this.call('console', domain)
    return Promise.resolve(this.world.domains.get(domain)?.state === 'running' ? 0 : 1)
  }

  readonly images: DiskImages = {
    createOverlay: async (file, backing) => {
      this.call('image-overlay', file)
      this.world.images.set(file, {format: 'qcow2', backing: {...backing}, virtualSize: this.world.images.get(backing.path)?.virtualSize})
      await Promise.resolve()
    },
    createEmpty: async (file, sizeBytes) => {
      this.call('image-empty', file)
      this.world.images.set(file, {format: 'qcow2', virtualSize: sizeBytes})
      await Promise.resolve()
    },
    info: async (file, options): Promise<ImageInfo> => {
      this.call('image-info', file)
      const image = this.world.images.get(file)
      if (!image) throw new LagoError(options.code ?? 'VM', `${options.subject}: fake provider has no image ${file}`, {userError: options.userError ?? false})
      await Promise.resolve()
      return {format: image.format, virtualSize: image.virtualSize, backingFile: image.backing?.path}
    },
    convert: async (source, target, options) => {
      this.call('image-convert', target)
      this.world.images.set(target, {format: 'qcow2', copyOf: source, ...(options.backing ? {backing: {...options.backing}} : {})})
      await Promise.resolve()
    },
    rebaseUnsafe: async (file, backing) => {
      this.call('image-rebase', file)
      const image = this.world.images.get(file)
      if (image) image.backing = {...backing}
      await Promise.resolve()
    },
    copy: async (source, target) => {
      this.call('image-copy', target)
      const image = this.world.images.get(source)
      this.world.images.set(target, image ? {...image, copyOf: source} : {format: 'raw', copyOf: source})
      await Promise.resolve()
    },
    remove: async (file) => {
      this.call('image-remove', file)
      this.world.images.delete(file)
      await Promise.resolve()
    },
  }

  async writeSeed(file: string, content: SeedContent): Promise<void> {
    this.call('seed', file)
    this.world.seeds.set(file, content)
    await Promise.resolve()
  }

  async startNet(net: ProviderNet): Promise<void> {
    const env = this.env
    this.call('net-start', net.libvirtName)
    if (this.world.networks.has(net.libvirtName)) throw new LagoError('LIBVIRT', `fake provider: network ${net.libvirtName} already exists`, {userError: false})
    this.world.networks.set(net.libvirtName, {net, owner: {prefixId: env.id, prefixPath: env.root, name: net.name}})
    await Promise.resolve()
  }

  stopNet(net: ProviderNet): Promise<void> {
    return this.drop('net-stop', this.world.networks, net.libvirtName)
  }

  async startVm(vm: ProviderVm): Promise<void> {
    const env = this.env
    this.call('vm-start', vm.libvirtName)
    if (this.world.domains.get(vm.libvirtName)?.state === 'running') throw new LagoError('LIBVIRT', `fake provider: domain ${vm.libvirtName} already exists`, {userError: false})
    for (const nic of vm.nics) {
      const net = env.state.nets.find((n) => n.name === nic.net)
      if (!net || !this.world.networks.has(net.libvirtName)) throw new LagoError('LIBVIRT', `fake provider: ${vm.name}: network ${net?.libvirtName ?? nic.net} is not active`, {userError: false})
    }
    const disks = [...vm.disks.map((d) => env.resolve(d.path)), ...(vm.seed ? [env.resolve(vm.seed)] : [])]
    this.world.domains.set(vm.libvirtName, {vm, state: 'running', disks, owner: {prefixId: env.id, prefixPath: env.root, name: vm.name}})
    await Promise.resolve()
  }

  async bootVm(vm: ProviderVm, ready: (signal: AbortSignal) => Promise<void>, signal?: AbortSignal): Promise<void> {
    await this.startVm(vm)
    await this.world.onBoot?.(vm)
    await ready(signal ?? new AbortController().signal)
  }

  stopVm(vm: ProviderVm): Promise<void> {
    return this.drop('vm-stop', this.world.domains, vm.libvirtName)
  }

  /** The fake's guests power off at once. */
  shutdownVm(vm: ProviderVm): Promise<void> {
    return this.drop('vm-shutdown', this.world.domains, vm.libvirtName)
  }

  async rebootVm(vm: ProviderVm): Promise<void> {
    this.call('vm-reboot', vm.libvirtName)
    await Promise.resolve()
  }

  domainTypeFor(): Promise<DomainType> {
    return Promise.resolve('qemu')
  }

  async snapshotRunningDisks(vm: ProviderVm, name: string, overlays: Map<string, string>, memoryFile?: string): Promise<void> {
    const env = this.env
    this.call('vm-snapshot', `${vm.libvirtName} ${name}`)
    if (memoryFile) this.world.images.set(memoryFile, {format: 'memory'})
    const domain = this.world.domains.get(vm.libvirtName)
    for (const disk of vm.disks) {
      const overlay = overlays.get(disk.dev)
      if (!overlay) continue
      this.world.images.set(overlay, {format: 'qcow2', backing: {path: env.resolve(disk.path), format: disk.format}})
      if (domain) domain.disks = domain.disks.map((file) => (file === env.resolve(disk.path) ? overlay : file))
    }
    await Promise.resolve()
  }

  /** The memory state is a record; the domain goes, as with libvirt's save. */
  async saveVm(vm: ProviderVm, file: string): Promise<void> {
    this.world.images.set(file, {format: 'memory'})
    await this.drop('vm-save', this.world.domains, vm.libvirtName)
  }

  async restoreVm(vm: ProviderVm, file: string): Promise<void> {
    this.call('vm-restore', vm.libvirtName)
    if (this.world.images.get(file)?.format !== 'memory') throw new LagoError('LIBVIRT', `fake provider: ${file} is no saved memory state`, {userError: false})
    await this.startVm(vm)
  }

  sshEndpoint(vm: ProviderVm, ip: string): Promise<SshEndpoint> {
    return Promise.resolve(this.world.sshEndpoint?.(vm, ip) ?? {host: ip, port: 22})
  }
}
