import {LagoError} from '../errors.js'
import type {EnvironmentSpec} from '../spec/types.js'
import type {TemplatePlan, TemplateUse} from '../templates/plan.js'
import {resolveTemplate, type ResolvedTemplate, type TemplateRepo} from '../templates/repo.js'
import type {TemplateStore} from '../templates/store.js'
import {GoldenCatalog, formatGoldenRef, goldenStoreIds, type GoldenEntry, type GoldenRef} from './catalog.js'
import {pullGoldenDescription} from './publish.js'

export interface GoldenSource {
  entry: GoldenEntry
  /** The environment a copy is made of: the frozen VMs and nets, every disk a store template. */
  spec: EnvironmentSpec
  /** The frozen disks and the templates they are layered on (so a copy is registered as a user of each). */
  templates: TemplatePlan
}

/**
 * What `lago init --from NAME[:VERSION]` builds a prefix from. The golden environment comes
 * from the store, or (absent there and a repository given) its description is fetched from
 * the repository and its disks are downloaded like any template. Every net is leased afresh
 * and every address keeps only its last octet, so copies never share a subnet or a MAC.
 */
export async function goldenSource(store: TemplateStore, ref: GoldenRef, options: {loadRepo?: () => Promise<TemplateRepo | undefined>; signal?: AbortSignal} = {}): Promise<GoldenSource> {
  const catalog = new GoldenCatalog(store)
  let repo: TemplateRepo | undefined
  const entry = await catalog.require(ref).catch(async (error: unknown) => {
    repo = await options.loadRepo?.()
    if (!repo?.goldens?.[ref.name]) throw error
    return pullGoldenDescription(catalog, repo, ref, {signal: options.signal})
  })
  const {manifest} = entry
  const uses: TemplateUse[] = []
  const missing: string[] = []
  for (const vm of manifest.vms) {
    for (const disk of vm.disks) {
      const resolved = (await localTemplate(store, disk.id)) ?? (repo ? resolveTemplate(repo, `${repo.name}:${disk.template}:${disk.version}`) : undefined)
      if (!resolved) missing.push(disk.id)
      else uses.push({vm: vm.name, disk: disk.name, resolved})
    }
  }
  // The whole chain below the frozen disks (a copy of a copy was frozen again: layers on layers).
  const bases: ResolvedTemplate[] = []
  const pending = [...goldenStoreIds(manifest).bases]
  for (let id = pending.shift(); id !== undefined; id = pending.shift()) {
    if (bases.some((b) => b.id === id)) continue
    const base = await localTemplate(store, id)
    if (!base) {
      missing.push(id)
      continue
    }
    bases.push(base)
    const below = ((await store.get(id))?.metadata.golden as {'layered-on'?: unknown} | undefined)?.['layered-on']
    if (typeof below === 'string') pending.push(below)
  }
  if (missing.length > 0) {
    throw new LagoError('TEMPLATE', `Golden environment ${formatGoldenRef(ref)} is incomplete in ${store.dir}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing.`, {
      hint: 'Fetch it again from its repository ("lago golden pull NAME:VERSION --template-repo-path REPO"), or freeze it again.',
      detail: {golden: formatGoldenRef(ref), missing},
    })
  }
  const spec: EnvironmentSpec = {
    source: entry.file,
    nets: manifest.nets.map(({leased: _leased, gw: _gw, ...net}) => net),
    domains: manifest.vms.map(({nics, disks, deployed: _deployed, ...domain}) => ({
      ...domain,
      nics: nics.map((nic) => ({net: nic.net, ip: nic.frozenIp})),
      disks: disks.map((disk) => ({type: 'template' as const, name: disk.name, dev: disk.dev, format: 'qcow2' as const, templateName: disk.id})),
      // Their work is in the frozen disks.
      deployScripts: [],
    })),
  }
  const unique = [...new Map([...uses.map((u) => u.resolved), ...bases].map((t) => [t.id, t])).values()]
  return {entry, spec, templates: {uses, templates: unique.map((template) => ({template, newerThan: []}))}}
}

/** A template the store already holds, as a resolved template (no download will be needed). */
async function localTemplate(store: TemplateStore, id: string): Promise<ResolvedTemplate | undefined> {
  const stored = await store.get(id)
  if (!stored) return undefined
  const [repoName, template, version] = id.split(':')
  return {id, repoName, template, version, image: stored.path}
}
