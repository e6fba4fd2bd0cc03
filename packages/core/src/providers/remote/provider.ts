import type {LagoConfig} from '../../config/config.js'
import {writeNoCloudSeed} from '../../bootstrap/nocloud.js'
import {LagoError} from '../../errors.js'
import {LibvirtProvider} from '../libvirt/provider.js'
import type {DiskImages, ProviderEnvironment, ProviderFactory, ProviderVm, SeedContent, SshEndpoint} from '../provider.js'
import {hypervisorConnection, type HypervisorConnection} from './connection.js'
import {RemoteFiles} from './files.js'
import {remoteImages} from './images.js'
import {parseSshUri} from './uri.js'

/**
 * libvirt on another host, reached with a `qemu+ssh://` URI. virsh drives its libvirtd as
 * it would a local one; what the local provider does with files here is done over one SSH
 * connection to the host instead: disks, seeds and console logs live under `remote.dir`
 * there, templates are copied to a store beside them, and guests (on subnets only that host
 * routes) are reached through tunnels from it.
 */
export class RemoteLibvirtProvider extends LibvirtProvider {
  override readonly name = REMOTE_PROVIDER
  override readonly images: DiskImages
  readonly files: RemoteFiles

  constructor(
    config: LagoConfig,
    readonly connection: HypervisorConnection,
    environment: ProviderEnvironment & {uuid: string},
  ) {
    const files = new RemoteFiles(connection, config.remote.dir, environment.root, environment.uuid)
    super(config.libvirt, {
      ...environment,
      // Domain definitions name the host's files.
      resolve: (file) => {
        const target = files.mirrored(environment.resolve(file))
        if (target === undefined) {
          throw new LagoError('INIT_FILE', `${environment.resolve(file)} is outside the prefix: on hypervisor ${connection.label} a file disk needs "make-a-copy: true".`, {detail: {host: connection.label}})
        }
        return target
      },
      consoleLog: (vm) => files.mirrored(environment.consoleLog(vm))!,
    })
    this.files = files
    this.images = remoteImages(files)
  }

  override get location(): string {
    return this.connection.label
  }

  override async writeSeed(file: string, content: SeedContent): Promise<void> {
    await writeNoCloudSeed(file, content)
    await this.files.upload(file)
  }

  /** The guest's subnet is routed on the hypervisor only: a tunnel from there. */
  override sshEndpoint(_vm: ProviderVm, ip: string): Promise<SshEndpoint> {
    return Promise.resolve({host: ip, port: 22, connect: () => this.connection.forward(ip, 22)})
  }

  override async snapshotRunningDisks(vm: ProviderVm, name: string, overlays: Map<string, string>): Promise<void> {
    const placed = new Map<string, string>()
    for (const [dev, file] of overlays) placed.set(dev, await this.files.place(file))
    await super.snapshotRunningDisks(vm, name, placed)
  }

  /** The last `lines` lines of a VM's serial console log, read on the host. */
  async consoleText(consoleLog: string): Promise<string> {
    const file = this.files.mirrored(consoleLog)
    return (file && (await this.files.read(file))) || ''
  }

  /** Remove what the prefix keeps on the host besides domains and networks (disks, seeds, logs). */
  async removeFiles(): Promise<void> {
    await this.files.removeMirror()
  }
}

export const REMOTE_PROVIDER = 'remote-libvirt'

/** Where a prefix runs (recorded in its state at init): a configured name or the host, and the URI. */
export interface HypervisorPlacement {
  name: string
  uri: string
}

export function remoteProviderFactory(placement: HypervisorPlacement): ProviderFactory {
  return {
    name: REMOTE_PROVIDER,
    description: 'libvirt on another host over SSH (qemu+ssh:// URI); disks, seeds and templates under remote.dir there',
    create: (config, environment) => {
      if (!environment) throw new LagoError('INTERNAL', 'The remote provider needs an environment.', {userError: false})
      parseSshUri(placement.uri)
      return new RemoteLibvirtProvider(
        {...config, libvirt: {...config.libvirt, uri: placement.uri}},
        hypervisorConnection(placement.name, placement.uri),
        environment as ProviderEnvironment & {uuid: string},
      )
    },
  }
}
