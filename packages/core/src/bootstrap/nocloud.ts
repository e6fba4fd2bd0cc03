import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {LagoError} from '../errors.js'
import {run, whichFirst} from '../util/exec.js'

export interface SeedContent {
  instanceId: string
  hostname: string
  fqdn?: string
  authorizedKeys: string[]
}

/** A cloud-init NoCloud seed: an ISO9660 image labelled `cidata` with meta-data and user-data. */
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
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lago-seed-'))
  try {
    await writeFile(path.join(dir, 'meta-data'), metaData)
    await writeFile(path.join(dir, 'user-data'), userData)
    const tool = await whichFirst(['genisoimage', 'mkisofs', 'xorriso'])
    if (!tool) {
      throw new LagoError('HOST', 'Neither genisoimage nor xorriso is installed; Lago needs one to write cloud-init seeds.', {
        hint: 'Install one: apt-get install genisoimage (Debian/Ubuntu) or dnf install xorriso (Fedora/EL).',
      })
    }
    const isoArgs = ['-output', isoPath, '-volid', 'cidata', '-joliet', '-rock', '-quiet', path.join(dir, 'user-data'), path.join(dir, 'meta-data')]
    await run(tool, path.basename(tool) === 'xorriso' ? ['-as', 'mkisofs', ...isoArgs] : isoArgs)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}
