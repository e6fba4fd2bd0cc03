import type {LagoConfig} from '../../config/config.js'
import {writeNoCloudSeed} from '../../bootstrap/nocloud.js'
import {LagoError} from '../../errors.js'
import {LibvirtProvider, libvirtProviderFactory} from '../libvirt/provider.js'
import type {DiskImages, DomainType, ProviderEnvironment, ProviderFactory, ProviderVm, SeedContent, SshEndpoint} from '../provider.js'
import {hypervisorConnection, type HypervisorConnection} from './connection.js'
import {RemoteFiles} from './files.js'
import {remoteImages} from './images.js'
import {isRemoteUri} from './uri.js'

/**
 * libvirt on another host, reached with a `qemu+ssh://` URI. virsh drives its libvirtd as
 * it would a local one; what the local provider does with files here is done over one SSH
 * connection to the host instead: disks, seeds and console logs live under `remote.dir`
 * there, templates are copied to a store beside them, and guests (on subnets only that host
 * routes) are reached through tunnels from it.
 */
export class RemoteLibvirtProvider extends LibvirtProvider {
  override readonly images: DiskImages
  /** This host's checks (KVM, qemu's access to the prefix) say nothing of the hypervisor's. */
  readonly hostChecks = false
  /** libvirt on the hypervisor writes memory state files there. */
  protected override readonly saveFilesHere = false
  /** A resume port's FIFOs would be on the hypervisor, out of this host's reach: resumed guests get their clock over SSH. */
  override readonly resumePort: boolean = false
  readonly files: RemoteFiles

  constructor(
    config: LagoConfig,
    readonly connection: HypervisorConnection,
    environment: ProviderEnvironment,
  ) {
    const files = new RemoteFiles(connection, config.remote.dir, environment.root, environment.uuid)
    super(config.libvirt, {
      ...environment,
      // Domain definitions name the host's files.
      resolve: (file) => {
        const target = files.mirrored(environment.resolve(file))
        if (target === undefined) {
          throw new LagoError('INIT_FILE', `${environment.resolve(file)} is outside the prefix: on hypervisor ${connection.label} a file disk needs "make-a-copy: true".`, {
            detail: {host: connection.label},
          })
        }
        return target
      },
      consoleLog: (vm) => files.mirrored(environment.consoleLog(vm))!,
    })
    this.files = files
    this.images = remoteImages(files)
    this.localConsoleLog = (vm) => environment.consoleLog(vm)
  }

  private readonly localConsoleLog: (vm: string) => string

  override get location(): string {
    return this.connection.label
  }

  get remoteHost(): string {
    return this.connection.label
  }

  hostPath(file: string): string | undefined {
    return this.files.mirrored(file)
  }

  override async writeSeed(file: string, content: SeedContent): Promise<void> {
    await writeNoCloudSeed(file, content)
    await this.files.upload(file)
  }

  /** The guest's subnet is routed on the hypervisor only: a tunnel from there. */
  override sshEndpoint(_vm: ProviderVm, ip: string): Promise<SshEndpoint> {
    return Promise.resolve({host: ip, port: 22, connect: () => this.connection.forward(ip, 22)})
  }

  override async startVm(vm: ProviderVm, signal?: AbortSignal, forceType?: DomainType): Promise<void> {
    // libvirt opens the console log itself, in a directory that must exist on the host.
    await this.files.place(this.localConsoleLog(vm.name))
    await super.startVm(vm, signal, forceType)
  }

  override async snapshotRunningDisks(vm: ProviderVm, name: string, overlays: Map<string, string>): Promise<void> {
    const placed = new Map<string, string>()
    for (const [dev, file] of overlays) placed.set(dev, await this.files.place(file))
    await super.snapshotRunningDisks(vm, name, placed)
  }

  /** A VM's serial console log, read on the host. */
  async consoleText(consoleLog: string): Promise<string> {
    const file = this.files.mirrored(consoleLog)
    return (file && (await this.files.read(file))) || ''
  }

  /** Remove what the prefix keeps on the host besides domains and networks (disks, seeds, logs). */
  async removeFiles(): Promise<void> {
    await this.files.removeMirror()
  }
}

export const REMOTE_PROVIDER = 'libvirt'

/**
 * The `libvirt` provider wherever libvirt.uri points: this host's libvirt, or (a URI naming
 * another host) the remote provider. Environment verbs on a remote host need the environment.
 */
export const libvirtAnywhereFactory: ProviderFactory = {
  ...libvirtProviderFactory,
  description: 'libvirt at libvirt.uri: on this host (disks and seeds in the prefix), or on another over SSH (qemu+ssh://; disks, seeds and templates under remote.dir there)',
  create: (config, environment) => {
    if (!isRemoteUri(config.libvirt.uri) || !environment) return libvirtProviderFactory.create(config, environment)
    const connection = hypervisorConnection(hostLabel(config), config.libvirt.uri)
    connection.persistSeconds = config.remote.persist_seconds
    return new RemoteLibvirtProvider(config, connection, environment)
  },
}

/** The configured name of the hypervisor of libvirt.uri, else its host. */
function hostLabel(config: LagoConfig): string {
  return Object.entries(config.hypervisors).find(([, uri]) => uri === config.libvirt.uri)?.[0] ?? new URL(config.libvirt.uri).hostname
}
