import type {SeedContent} from '../providers/provider.js'
import type {PrefixState, VmState} from '../prefix/state.js'
import {dnsRecords} from '../providers/libvirt/provider.js'
import {userNicMac} from '../providers/libvirt/session-net.js'

/**
 * What a VM's seed adds in session mode, where no dnsmasq serves the prefix's networks: the
 * planned address of each NIC (no DHCP on them), DHCP on the user-mode NIC (qemu's own
 * server), and every VM's names in /etc/hosts.
 */
export function sessionSeed(state: PrefixState, vm: VmState): Pick<SeedContent, 'network' | 'hosts'> {
  const mgmt = state.nets.find((n) => n.management)
  const mgmtNic = vm.nics.find((n) => n.net === mgmt?.name) ?? vm.nics[0]
  return {
    network: {
      static: vm.nics.map((nic) => ({mac: nic.mac, address: `${nic.ip}/${prefixLength(state.nets.find((n) => n.name === nic.net)?.netmask ?? '255.255.255.0')}`})),
      dhcp: mgmtNic ? [userNicMac(mgmtNic.mac)] : [],
    },
    hosts: dnsRecords(state),
  }
}

function prefixLength(netmask: string): number {
  return netmask.split('.').reduce((bits, octet) => bits + Number(octet).toString(2).replace(/0/g, '').length, 0)
}
