import {createHash} from 'node:crypto'
import net from 'node:net'
import type {ProviderNet, ProviderVm} from '../provider.js'

/**
 * Networks of session (rootless) mode, where no bridge can be made: each prefix network is an
 * L2 segment of qemu socket netdevs joined to one multicast group on the loopback interface
 * (so its frames never leave the host, or the network namespace Lago runs in), and each VM
 * gets one more NIC on qemu's user-mode network whose SSH port is forwarded from 127.0.0.1.
 */

/** The multicast group and UDP port of a network's segment, fixed for the prefix (its uuid is random). */
export function segmentOf(prefixUuid: string, netName: string): {group: string; port: number} {
  const digest = createHash('sha256').update(`${prefixUuid}\0${netName}`).digest()
  // 239.192.0.0/14 is the organization-local scope; the port stays out of the ephemeral range.
  const group = `239.${192 + (digest[0] & 3)}.${digest[1]}.${digest[2]}`
  return {group, port: 10_000 + (digest.readUInt16BE(3) % 20_000)}
}

/** The MAC of a VM's user-mode NIC: its management MAC with the second octet changed (unique within the prefix). */
export function userNicMac(managementMac: string): string {
  const octets = managementMac.split(':')
  octets[1] = (Number.parseInt(octets[1], 16) ^ 0x01).toString(16).padStart(2, '0')
  return octets.join(':')
}

/**
 * A TCP port on 127.0.0.1 nobody listens on now: the kernel picks it among the free ones, so
 * prefixes of every user on the host get different ones; a start that loses the race to
 * another process retries with a new one.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen({host: '127.0.0.1', port: 0, exclusive: true}, () => {
      const {port} = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** A saved domain's XML with its SSH forwarded from `port` instead (the port it was saved with may be taken by now). */
export function withForwardedPort(domainXml: string, port: number): string {
  return domainXml.replace(/hostfwd=tcp:127\.0\.0\.1:\d+-:22/g, `hostfwd=tcp:127.0.0.1:${port}-:22`)
}

/** The qemu failure of a forwarded port another process took first. */
export function isPortClash(message: string): boolean {
  return /could not set up host forwarding rule|address already in use/i.test(message)
}

/**
 * qemu arguments for a VM's NICs in session mode: the user-mode NIC (SSH forwarded from
 * 127.0.0.1:sshPort) first, so it is the guest's first NIC, then one per prefix network.
 * Explicit PCI slots from 0x10 up keep clear of the ones libvirt gives its own devices.
 */
export function sessionNicArgs(env: {uuid: string; state: {readonly nets: readonly ProviderNet[]}}, vm: ProviderVm, managementMac: string, sshPort: number): string[] {
  const args = ['-netdev', `user,id=lago-user,hostfwd=tcp:127.0.0.1:${sshPort}-:22`, '-device', `virtio-net-pci,netdev=lago-user,bus=pci.0,addr=0x10,mac=${userNicMac(managementMac)}`]
  vm.nics.forEach((nic, index) => {
    const {group, port} = segmentOf(env.uuid, nic.net)
    const id = `lago-net${index}`
    args.push('-netdev', `socket,id=${id},mcast=${group}:${port},localaddr=127.0.0.1`)
    args.push('-device', `virtio-net-pci,netdev=${id},bus=pci.0,addr=0x${(0x11 + index).toString(16)},mac=${nic.mac}`)
  })
  return args
}
