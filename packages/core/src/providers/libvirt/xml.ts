import {RESUME_PORT} from '../../prefix/clock-port.js'
import type {DomainType} from './domain-type.js'
import {xmlDocument, type XmlElement} from './xml-writer.js'

export const LAGO_XML_NAMESPACE = 'https://lago-project.github.io/xmlns/lago/1'
const QEMU_XML_NAMESPACE = 'http://libvirt.org/schemas/domain/qemu/1.0'

/** What every Lago-made libvirt object records about its owner, so `lago gc` can find orphans. */
export interface OwnerTag {
  prefixId: string
  prefixPath: string
  name: string
}

export interface NetworkDefinition {
  libvirtName: string
  bridge: string
  mode: 'nat' | 'isolated'
  gateway: string
  netmask: string
  dhcp?: {start: string; end: string}
  /** DHCP reservations. */
  hosts: {mac: string; ip: string; name: string}[]
  /** DNS names served on this net; undefined turns its DNS server off. */
  dns?: {domain?: string; records: {ip: string; names: string[]}[]}
  owner: OwnerTag
}

export interface DomainDefinition {
  libvirtName: string
  type: DomainType
  memoryMiB: number
  vcpu: number
  cpuModel?: string
  disks: {path: string; format: 'qcow2' | 'raw'; dev: string; readonly?: boolean; cdrom?: boolean}[]
  nics: {network: string; mac: string}[]
  consoleLog: string
  owner: OwnerTag
  /** The qemu binary libvirt runs; undefined for libvirt's default. */
  emulator?: string
  /** Extra qemu arguments (session mode's NICs: libvirt cannot express them); taints the domain "custom-argv". */
  qemuArgs?: string[]
  /** What a guest reset does: restart (a VM) or destroy (the KVM probe ends that way). */
  onReboot?: 'restart' | 'destroy'
  /** The FIFOs (BASE.in, BASE.out) behind the guest's resume port (prefix/clock-port.ts); undefined for none. */
  resumePort?: string
}

function ownerMetadata(parent: XmlElement, owner: OwnerTag): void {
  parent.ele('metadata').ele(LAGO_XML_NAMESPACE, 'lago:owner').att('prefix-id', owner.prefixId).att('prefix-path', owner.prefixPath).att('name', owner.name)
}

export async function networkXml(net: NetworkDefinition): Promise<string> {
  const root = xmlDocument('network')
  root.ele('name').txt(net.libvirtName)
  ownerMetadata(root, net.owner)
  if (net.mode === 'nat') root.ele('forward').att('mode', 'nat').ele('nat').ele('port').att('start', '1024').att('end', '65535')
  // No STP: the kernel holds a new port (a booted or resumed VM) in listening and learning for 2 s each otherwise.
  root.ele('bridge').att('name', net.bridge).att('stp', 'off').att('delay', '0')
  if (net.dns?.domain) root.ele('domain').att('name', net.dns.domain).att('localOnly', 'yes')
  if (!net.dns) root.ele('dns').att('enable', 'no')
  else if (net.dns.records.length > 0) {
    const dns = root.ele('dns')
    for (const record of net.dns.records) {
      const entry = dns.ele('host').att('ip', record.ip)
      for (const name of record.names) entry.ele('hostname').txt(name)
    }
  }
  const ip = root.ele('ip').att('address', net.gateway).att('netmask', net.netmask)
  if (net.dhcp || net.hosts.length > 0) {
    const dhcp = ip.ele('dhcp')
    if (net.dhcp) dhcp.ele('range').att('start', net.dhcp.start).att('end', net.dhcp.end)
    for (const host of net.hosts) dhcp.ele('host').att('mac', host.mac).att('name', host.name).att('ip', host.ip)
  }
  return root.end()
}

export async function domainXml(domain: DomainDefinition): Promise<string> {
  const root = xmlDocument('domain').att('type', domain.type)
  root.ele('name').txt(domain.libvirtName)
  ownerMetadata(root, domain.owner)
  root.ele('memory').att('unit', 'MiB').txt(String(domain.memoryMiB))
  root.ele('vcpu').txt(String(domain.vcpu))
  const os = root.ele('os')
  os.ele('type').att('arch', 'x86_64').att('machine', 'pc').txt('hvm')
  os.ele('boot').att('dev', 'hd')
  os.ele('bootmenu').att('enable', 'no')
  const features = root.ele('features')
  features.ele('acpi')
  features.ele('apic')
  if (domain.cpuModel) root.ele('cpu').att('mode', 'custom').att('match', 'exact').ele('model').att('fallback', 'allow').txt(domain.cpuModel)
  else if (domain.type === 'kvm') root.ele('cpu').att('mode', 'host-passthrough')
  root.ele('clock').att('offset', 'utc')
  root.ele('on_poweroff').txt('destroy')
  root.ele('on_reboot').txt(domain.onReboot ?? 'restart')
  root.ele('on_crash').txt('destroy')
  const devices = root.ele('devices')
  if (domain.emulator) devices.ele('emulator').txt(domain.emulator)
  domain.disks.forEach((disk, index) => {
    const element = devices
      .ele('disk')
      .att('type', 'file')
      .att('device', disk.cdrom ? 'cdrom' : 'disk')
    const driver = element.ele('driver').att('name', 'qemu').att('type', disk.format)
    if (!disk.readonly) driver.att('discard', 'unmap').att('cache', 'writeback')
    element.ele('source').att('file', disk.path)
    element
      .ele('target')
      .att('dev', disk.dev)
      .att('bus', disk.dev.startsWith('sd') ? 'scsi' : 'virtio')
    if (disk.readonly) element.ele('readonly')
    element.ele('serial').txt(String(index + 1))
  })
  if (domain.disks.some((d) => d.dev.startsWith('sd'))) {
    devices.ele('controller').att('type', 'scsi').att('index', '0').att('model', 'virtio-scsi')
  }
  for (const nic of domain.nics) {
    const element = devices.ele('interface').att('type', 'network')
    element.ele('source').att('network', nic.network)
    element.ele('mac').att('address', nic.mac)
    element.ele('model').att('type', 'virtio')
  }
  const serial = devices.ele('serial').att('type', 'pty')
  serial.ele('log').att('file', domain.consoleLog).att('append', 'on')
  serial.ele('target').att('port', '0')
  devices.ele('console').att('type', 'pty').ele('target').att('type', 'serial').att('port', '0')
  if (domain.resumePort) {
    const channel = devices.ele('channel').att('type', 'pipe')
    channel.ele('source').att('path', domain.resumePort)
    channel.ele('target').att('type', 'virtio').att('name', RESUME_PORT)
  }
  devices.ele('rng').att('model', 'virtio').ele('backend').att('model', 'random').txt('/dev/urandom')
  devices.ele('memballoon').att('model', 'none')
  if (domain.qemuArgs?.length) {
    const commandline = root.ele(QEMU_XML_NAMESPACE, 'qemu:commandline')
    for (const arg of domain.qemuArgs) commandline.ele(QEMU_XML_NAMESPACE, 'qemu:arg').att('value', arg)
  }
  return root.end()
}
