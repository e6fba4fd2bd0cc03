import type {SavedVmState} from './saved.js'
import type {DomainSpec, NetSpec} from '../spec/types.js'

/** Everything a prefix knows about itself; written at init, read by every other verb. */
export interface PrefixState {
  version: 1
  /** Made for session (rootless) libvirt: its seeds carry static addresses; absent for system mode. */
  mode?: 'session'
  uuid: string
  /** Short id carried by every libvirt object name of this prefix. */
  id: string
  createdAt: string
  initFile: string
  templateRepo?: string
  /** The provider the prefix was made on (absent: the one the settings name, libvirt by default). */
  provider?: string
  nets: NetState[]
  vms: VmState[]
  /** The golden environment this prefix is a copy of (`lago init --from`). */
  golden?: {name: string; version: string; store: string}
  /** Snapshots of the whole environment, oldest first. */
  snapshots?: Record<string, SnapshotState>
  /** Per VM: the memory state the next start resumes from (stop --save, or a revert to a live snapshot). */
  saved?: Record<string, SavedVmState>
}

export interface SnapshotState {
  createdAt: string
  /** Per VM: whether it was running, each disk's frozen file and (live snapshots) its memory state file, relative to the state dir. */
  vms: Record<string, {running: boolean; disks: Record<string, string>; memory?: string; clockWaiter?: boolean}>
}

export interface NetState extends NetSpec {
  libvirtName: string
  bridge: string
  subnet: string
  gateway: string
  netmask: string
  /** Whether the subnet came from the host-wide lease pool. */
  leased: boolean
}

export interface NicState {
  net: string
  ip: string
  mac: string
}

export interface DiskState {
  name: string
  dev: string
  format: 'qcow2' | 'raw' | 'iso'
  /** Relative to the prefix state directory when inside it, else absolute. */
  path: string
  template?: {id: string; storePath: string; readOnly?: boolean}
}

export interface VmState extends Omit<DomainSpec, 'nics' | 'disks'> {
  libvirtName: string
  nics: NicState[]
  disks: DiskState[]
  /** The cloud-init seed ISO, relative to the state directory (absent with bootstrap off). */
  seed?: string
}
