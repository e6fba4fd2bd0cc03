import {writeFile} from 'node:fs/promises'
import type {SeedContent} from '../providers/provider.js'
import {buildIso9660} from './iso9660.js'

/** A cloud-init NoCloud seed: an ISO 9660 image (Joliet names) labelled `cidata` with meta-data and user-data. */
export async function writeNoCloudSeed(isoPath: string, content: SeedContent): Promise<void> {
  const YAML = await import('yaml')
  const stringify = (value: unknown) => YAML.stringify(value, {lineWidth: 0, minContentWidth: 0})
  const metaData = stringify({'instance-id': content.instanceId, 'local-hostname': content.hostname})
  const userData =
    '#cloud-config\n' +
    stringify({
      hostname: content.hostname,
      ...(content.fqdn ? {fqdn: content.fqdn} : {}),
      disable_root: false,
      ssh_pwauth: false,
      ssh_authorized_keys: content.authorizedKeys,
    })
  const iso = buildIso9660('cidata', [
    {name: 'meta-data', data: Buffer.from(metaData)},
    {name: 'user-data', data: Buffer.from(userData)},
  ])
  await writeFile(isoPath, iso)
}
