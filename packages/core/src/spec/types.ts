/** The normalized, validated form of an init file: what the rest of Lago works from. */
export interface EnvironmentSpec {
  /** Absolute path of the init file this came from. */
  source: string
  domains: DomainSpec[]
  nets: NetSpec[]
}

export interface DomainSpec {
  name: string
  /** MiB */
  memory: number
  vcpu: number
  cpuModel?: string
  nics: NicSpec[]
  disks: DiskSpec[]
  metadata: Record<string, unknown>
  artifacts: string[]
  groups: string[]
  bootstrap: boolean
  sshUser: string
  sshPassword?: string
  vmType: string
  serviceProvider?: string
  /** Absolute paths (relative ones are resolved against the init file's directory). */
  deployScripts: string[]
  /** Seconds to wait for SSH after start; falls back to the ssh.boot_timeout setting. */
  bootTimeout?: number
}

export interface NicSpec {
  net: string
  ip?: string
}

export type DiskType = 'template' | 'file' | 'empty'
export type DiskFormat = 'qcow2' | 'raw' | 'iso'

export interface DiskSpec {
  type: DiskType
  name: string
  dev: string
  format: DiskFormat
  /** Bytes, for empty disks. */
  size?: number
  templateName?: string
  templateVersion?: string
  /** Expected digest of a plain-image template (URL or path), e.g. "sha256:..." */
  templateChecksum?: string
  path?: string
  /** A `file` disk used through an overlay of its own, so the file itself is never written. */
  makeACopy?: boolean
}

export type NetType = 'nat' | 'bridge'

export interface NetSpec {
  name: string
  type: NetType
  management: boolean
  dhcp?: {start: number; end: number}
  dnsDomainName?: string
  /** A fixed gateway address; otherwise the subnet is leased. */
  gw?: string
}
