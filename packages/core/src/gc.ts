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
  const virsh = new Virsh(uri)
  const [domains, nets] = await Promise.all([virsh.run(['list', '--all', '--name']), virsh.run(['net-list', '--all', '--name'])])
  const candidates: {kind: Orphan['kind']; name: string}[] = [
    ...names(domains.stdout).map((name) => ({kind: 'domain' as const, name})),
    ...names(nets.stdout).map((name) => ({kind: 'network' as const, name})),
  ]
  const orphans: Orphan[] = []
  for (const candidate of candidates) {
    const xml = await virsh.run([candidate.kind === 'domain' ? 'dumpxml' : 'net-dumpxml', candidate.name], {reject: false})
    const owner = /<lago:owner [^>]*prefix-path="([^"]+)"/.exec(xml.stdout)?.[1]
    if (!owner) continue
    const prefixPath = unescapeXml(owner)
    if (!(await pathExists(new PrefixPaths(prefixPath).uuid))) orphans.push({...candidate, prefixPath})
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

function names(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean)
}

function unescapeXml(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
}

