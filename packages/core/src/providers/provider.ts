import type {Duplex} from 'node:stream'
import type {LagoConfig} from '../config/config.js'
import type {LagoErrorCode} from '../errors.js'

/**
 * The provider seam: every hypervisor-side action of Lago (networks, domains, disk images,
 * seeds, console, how a guest's SSH port is reached) goes through a Provider. Core decides
 * what to make and in which order; a provider makes it. The local libvirt provider is the
 * default; plugins register others (registerProvider), tests use FakeProvider.
 *
 * The types below are what a provider needs of a prefix, declared here so that providers
 * never import prefix internals: the prefix state satisfies them structurally.
 */

export type VmRuntimeState = 'running' | 'paused' | 'shut off' | 'crashed' | 'down' | string

/** What the hypervisor runs now: domain state by domain name, and the active networks. */
export interface Runtime {
  vms: Map<string, VmRuntimeState>
  activeNets: Set<string>
}

/** A domain or network a provider made, as its owner tag says. */
export interface OwnedObject {
  kind: 'domain' | 'network'
  name: string
  prefixId: string
  prefixPath: string
}

export interface ProviderNet {
  name: string
  /** The hypervisor's name for it (unique per prefix). */
  libvirtName: string
  bridge: string
  type: string
  management: boolean
  gateway: string
  netmask: string
  dhcp?: {start?: number; end?: number}
  dnsDomainName?: string
}

export interface ProviderNic {
  net: string
  ip: string
  mac: string
}

export interface ProviderDisk {
  name: string
  dev: string
  format: 'qcow2' | 'raw' | 'iso'
  /** Relative to the environment's state directory (see ProviderEnvironment.resolve), or absolute. */
  path: string
}

export interface ProviderVm {
  name: string
  libvirtName: string
  memory: number
  vcpu: number
  cpuModel?: string
  nics: ProviderNic[]
  disks: ProviderDisk[]
  /** The cloud-init seed image, like disk paths. */
  seed?: string
}

/**
 * One environment (a prefix) as a provider sees it. `state` is read live: a snapshot that
 * moves a disk to a new layer is seen by the next start.
 */
export interface ProviderEnvironment {
  /** Short id and directory written into every object's owner tag. */
  id: string
  /** The prefix's full uuid (a remote provider names the environment's directory on its host after it). */
  uuid: string
  root: string
  state: {readonly nets: readonly ProviderNet[]; readonly vms: readonly ProviderVm[]}
  /** Where generated definitions (domain and network XML) are kept for debugging. */
  definitionsDir: string
  /** A disk or seed path of the state, made absolute. */
  resolve(file: string): string
  /** The file a VM's serial console is logged to. */
  consoleLog(vm: string): string
}

export type DomainType = 'kvm' | 'qemu'

/** How Lago reaches a guest's SSH server: an address, or a stream a provider opened (a tunnel). */
export interface SshEndpoint {
  host: string
  port: number
  /** When set, ssh2 talks over this stream (its `sock` option) instead of connecting to host:port. */
  connect?: () => Promise<Duplex>
}

/** Who a disk-image operation is for: named in its failure, with the error code of its caller. */
export interface ImageOptions {
  /** The disk or image, as the user knows it ("VM web disk root"). */
  subject: string
  /** Default VM; init passes INIT_FILE (the user's disk), the template store TEMPLATE. */
  code?: LagoErrorCode
  userError?: boolean
  signal?: AbortSignal
}

/** What an image header says (no backing file is opened to read it). */
export interface ImageInfo {
  format: string
  virtualSize?: number
  backingFile?: string
  /** qcow2 with an external data file. */
  dataFile?: string
}

export interface BackingImage {
  path: string
  format: string
}

/** Disk images where the hypervisor reads them. Paths are the hypervisor's. */
export interface DiskImages {
  /** A new qcow2 on `backing` (never written through); lazy refcounts for a VM disk. */
  createOverlay(file: string, backing: BackingImage, options: ImageOptions & {lazyRefcounts?: boolean}): Promise<void>
  /** A new empty qcow2 of `sizeBytes`. */
  createEmpty(file: string, sizeBytes: number, options: ImageOptions): Promise<void>
  info(file: string, options: ImageOptions): Promise<ImageInfo>
  /** Copy `source` into a new qcow2 `target`: flat, or only what differs from `backing`. */
  convert(source: string, target: string, options: ImageOptions & {backing?: BackingImage}): Promise<void>
  /** Point `file` at another backing file name without touching its data (qemu-img rebase -u). */
  rebaseUnsafe(file: string, backing: BackingImage, options: ImageOptions): Promise<void>
  /** A byte copy of a file (an ISO, an overlay identical to one already made). */
  copy(source: string, target: string): Promise<void>
  remove(file: string): Promise<void>
}

/** A cloud-init NoCloud seed's content. */
export interface SeedContent {
  instanceId: string
  hostname: string
  fqdn?: string
  authorizedKeys: string[]
  /** Static addressing (session mode, where no DHCP server serves the prefix's networks). */
  network?: SeedNetwork
  /** Lines for the guest's /etc/hosts: the other VMs' names, where no DNS server serves them. */
  hosts?: {ip: string; names: string[]}[]
}

export interface SeedNetwork {
  /** NICs with a fixed address (CIDR), matched by MAC. */
  static: {mac: string; address: string; gateway?: string}[]
  /** NICs configured by DHCP, matched by MAC. */
  dhcp: string[]
}

/**
 * A hypervisor. Methods in the first group act on the hypervisor; those in the second act
 * on the environment the provider was created for, and throw when it was created without one.
 */
export interface Provider {
  /** The registered name (`libvirt`, `fake`, ...). */
  readonly name: string
  /** Where this hypervisor is, for messages and status (`qemu:///system`). */
  readonly location: string
  /**
   * Whether core's checks of this host (libvirt answers, KVM, qemu can reach the prefix and
   * the store, qemu-img and friends installed) guard init and start; default true. An
   * in-memory provider says false.
   */
  readonly hostChecks?: boolean
  /**
   * The other host the environment's disks, seeds and console logs live on (a remote
   * hypervisor's name); undefined when they are files of the prefix on this host.
   */
  readonly remoteHost?: string
  /** session: rootless libvirt (qemu:///session): networks are no objects to start or stop, SSH is forwarded from 127.0.0.1; default system. */
  readonly mode?: 'system' | 'session'

  /** Fails with a clear error when the hypervisor does not answer. */
  ping(): Promise<void>
  runtime(): Promise<Runtime>
  /** Memory the hypervisor can give new VMs, in MiB. */
  availableMemoryMiB(): Promise<number>
  /** Every domain and network carrying Lago's owner tag (any prefix). */
  ownedObjects(): Promise<OwnedObject[]>
  /** Stop (and undefine) a domain or network; absent is fine. */
  removeObject(object: Pick<OwnedObject, 'kind' | 'name'>): Promise<void>
  /** The disk files a domain uses now. */
  domainDisks(domain: string): Promise<string[]>
  /** Interactive serial console on this terminal; resolves with the exit code. */
  attachConsole(domain: string): Promise<number>
  readonly images: DiskImages
  /** Write a NoCloud seed image at `file` where the hypervisor can read it. */
  writeSeed(file: string, content: SeedContent): Promise<void>

  startNet(net: ProviderNet, signal?: AbortSignal): Promise<void>
  stopNet(net: ProviderNet): Promise<void>
  /** Create and start the VM's domain. */
  startVm(vm: ProviderVm, signal?: AbortSignal): Promise<void>
  /** Start a VM and wait until `ready` resolves (a provider may retry a failed boot, e.g. KVM to TCG). */
  bootVm(vm: ProviderVm, ready: (signal: AbortSignal) => Promise<void>, signal?: AbortSignal): Promise<void>
  /** Hard power-off; absent or stopped is fine. */
  stopVm(vm: ProviderVm): Promise<void>
  /** ACPI power-off request; absent or stopped is fine. */
  shutdownVm(vm: ProviderVm): Promise<void>
  rebootVm(vm: ProviderVm): Promise<void>
  /** What the VM runs (or would run) as: hardware virtualization or emulation. */
  domainTypeFor(vm: ProviderVm): Promise<DomainType>
  /**
   * Live external snapshot: the VM goes on writing to `overlays` (by dev); other disks are left
   * out. With `memoryFile`, the memory state of the same instant is written there.
   */
  snapshotRunningDisks(vm: ProviderVm, name: string, overlays: Map<string, string>, memoryFile?: string): Promise<void>
  /** Write the running VM's memory state to `file`; its domain is gone afterwards. */
  saveVm(vm: ProviderVm, file: string): Promise<void>
  /** Resume the VM from a memory state file, on its disks as the environment's state has them now. */
  restoreVm(vm: ProviderVm, file: string, signal?: AbortSignal): Promise<void>
  /** Start reading what restoreVm will need from `file` (a start calls it once the host checks passed, while its networks come up). */
  prepareRestore?(file: string): void
  /** Whether the VMs it starts have a resume port (prefix/clock-port.ts), so that a waiter armed before a save can set the clock after the restore. */
  readonly resumePort?: boolean
  /** Ask a resumed VM's waiter to set its clock; false when none answered in `timeoutMs` (the caller sets it over SSH). */
  setClockThroughPort?(vm: ProviderVm, timeoutMs: number, signal?: AbortSignal): Promise<boolean>
  /** How to reach the VM's SSH server at `ip` (its management address). */
  sshEndpoint(vm: ProviderVm, ip: string): Promise<SshEndpoint>
  /** The text of a VM's serial console log (`consoleLog` of the environment), when it is not a local file. */
  consoleText?(consoleLog: string): Promise<string>
  /** Where a file of the environment (a disk, a seed) lives on remoteHost. */
  hostPath?(file: string): string | undefined
  /** Remove what the environment keeps on the hypervisor besides domains and networks (a remote host's disks and seeds). */
  removeFiles?(): Promise<void>
}

/** What a plugin registers: a name (the `provider` setting's value) and how to make the provider. */
export interface ProviderFactory {
  name: string
  description?: string
  create(config: LagoConfig, environment?: ProviderEnvironment): Provider
}
