import {lagoObjects} from './providers/libvirt/owned.js'
import {Virsh} from './providers/libvirt/virsh.js'
import {pathExists} from './util/fs.js'
import {PrefixPaths} from './prefix/paths.js'

export interface Orphan {
  kind: 'domain' | 'network'
  name: string
  prefixPath: string
}

/** libvirt objects made by Lago (per their <metadata>) whose prefix directory is gone. */
export async function findOrphans(uri: string): Promise<Orphan[]> {
  const orphans: Orphan[] = []
  for (const object of await lagoObjects(uri)) {
    if (!(await pathExists(new PrefixPaths(object.prefixPath).uuid))) orphans.push({kind: object.kind, name: object.name, prefixPath: object.prefixPath})
  }
  return orphans
}

export async function removeOrphans(uri: string, orphans: Orphan[]): Promise<void> {
  const virsh = new Virsh(uri)
  for (const orphan of orphans.filter((o) => o.kind === 'domain')) await virsh.run(['destroy', orphan.name], {reject: false})
  for (const orphan of orphans.filter((o) => o.kind === 'network')) await virsh.run(['net-destroy', orphan.name], {reject: false})
  // Persistent leftovers (defined by hand) are undefined too.
  for (const orphan of orphans) await virsh.run([orphan.kind === 'domain' ? 'undefine' : 'net-undefine', orphan.name], {reject: false})
}


