import type {OwnedObject} from '../provider.js'
import type {Virsh} from './virsh.js'

/** Every domain and network (running or defined) that carries Lago's owner tag. */
export async function lagoObjects(virsh: Virsh): Promise<OwnedObject[]> {
  const [domains, nets] = await Promise.all([virsh.run(['list', '--all', '--name']), virsh.run(['net-list', '--all', '--name'])])
  const candidates = [...names(domains.stdout).map((name) => ({kind: 'domain' as const, name})), ...names(nets.stdout).map((name) => ({kind: 'network' as const, name}))]
  const owned: OwnedObject[] = []
  for (const candidate of candidates) {
    const xml = await virsh.run([candidate.kind === 'domain' ? 'dumpxml' : 'net-dumpxml', candidate.name], {reject: false})
    const tag = /<lago:owner\s[^>]*>/.exec(xml.stdout)?.[0]
    if (!tag) continue
    // Tags are data: gc judges a tag that does not fit its object; others match prefix paths exactly.
    owned.push({...candidate, prefixId: attribute(tag, 'prefix-id') ?? '', prefixPath: attribute(tag, 'prefix-path') ?? ''})
  }
  return owned
}

/** Destroy (and undefine, for ones defined by hand) a domain or network; absent is fine. */
export async function removeObject(virsh: Virsh, object: Pick<OwnedObject, 'kind' | 'name'>): Promise<void> {
  await virsh.run([object.kind === 'domain' ? 'destroy' : 'net-destroy', object.name], {reject: false})
  await virsh.run([object.kind === 'domain' ? 'undefine' : 'net-undefine', object.name], {reject: false})
}

function names(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
}

function attribute(tag: string, name: string): string | undefined {
  const value = new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1]
  return value === undefined ? undefined : unescapeXml(value)
}

function unescapeXml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}
