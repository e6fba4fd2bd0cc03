import {writeFile} from 'node:fs/promises'
import type {SeedContent, SeedNetwork} from '../providers/provider.js'
import {buildIso9660} from './iso9660.js'

/** A cloud-init NoCloud seed: an ISO 9660 image (Joliet names) labelled `cidata` with meta-data, user-data and (optionally) network-config. */
export async function writeNoCloudSeed(isoPath: string, content: SeedContent): Promise<void> {
  const YAML = await import('yaml')
  const stringify = (value: unknown) => YAML.stringify(value, {lineWidth: 0, minContentWidth: 0})
  const metaData = stringify({'instance-id': content.instanceId, 'local-hostname': content.hostname})
  const hostsLines = (content.hosts ?? []).map((h) => `${h.ip} ${h.names.join(' ')}\n`).join('')
  const userData =
    '#cloud-config\n' +
    stringify({
      hostname: content.hostname,
      ...(content.fqdn ? {fqdn: content.fqdn} : {}),
      disable_root: false,
      ssh_pwauth: false,
      ssh_authorized_keys: content.authorizedKeys,
      ...(hostsLines ? {write_files: [{path: '/etc/hosts', append: true, content: hostsLines}]} : {}),
    })
  const files = [
    {name: 'meta-data', data: Buffer.from(metaData)},
    {name: 'user-data', data: Buffer.from(userData)},
  ]
  if (content.network) files.push({name: 'network-config', data: Buffer.from(stringify(networkConfigV2(content.network)))})
  await writeFile(isoPath, buildIso9660('cidata', files))
}

/** cloud-init network config version 2: each NIC matched by MAC, static ones without DHCP. */
export function networkConfigV2(network: SeedNetwork): {version: 2; ethernets: Record<string, unknown>} {
  const ethernets: Record<string, unknown> = {}
  network.dhcp.forEach((mac, index) => (ethernets[`dhcp${index}`] = {match: {macaddress: mac}, dhcp4: true}))
  network.static.forEach((nic, index) => {
    ethernets[`static${index}`] = {match: {macaddress: nic.mac}, dhcp4: false, addresses: [nic.address], ...(nic.gateway ? {gateway4: nic.gateway} : {})}
  })
  return {version: 2, ethernets}
}
