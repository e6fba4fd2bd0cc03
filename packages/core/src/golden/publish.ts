import {mkdir, rm, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {LagoError} from '../errors.js'
import {fileDigest, formatDigest, parseDigest, textDigest} from '../templates/digest.js'
import {isUrl} from '../templates/location.js'
import {parseTemplateRepo, sourceLocation, type TemplateRepo} from '../templates/repo.js'
import {readSidecar} from '../templates/store.js'
import {readTextIfExists, writeFileAtomic} from '../util/fs.js'
import {localImages} from '../providers/local-images.js'
import {GoldenCatalog, formatGoldenRef, type GoldenEntry, type GoldenManifest, type GoldenRef} from './catalog.js'

export interface PublishOptions {
  /** The repository directory (created, or added to when it holds a repository already). */
  output: string
  /** The repository's name (default "golden"); other hosts' store ids start with it. */
  repoName?: string
  /** Serve it over http(s) from this base URL instead of naming the directory as a file source. */
  baseUrl?: string
}

export interface PublishResult {
  golden: string
  repository: string
  images: string[]
  description: string
}

const REPO_FILE = 'repo.json'

/**
 * Publish a golden environment as a Lago template repository: each disk flattened into a
 * self-contained image with `.hash` and `.metadata` (as any template), its description under
 * `goldens/` with a `.hash`, both listed in `DIR/repo.json` (templates, and a `goldens` key
 * older readers ignore). Another host fetches it with `lago golden pull` or `lago init --from`.
 */
export async function publishGolden(catalog: GoldenCatalog, ref: GoldenRef, options: PublishOptions): Promise<PublishResult> {
  const entry = await catalog.require(ref)
  const {manifest} = entry
  const dir = path.resolve(options.output)
  const repoFile = path.join(dir, REPO_FILE)
  const existing = await readTextIfExists(repoFile)
  const repo = existing === undefined ? undefined : await parseTemplateRepo(existing, repoFile)
  const repoName = options.repoName ?? repo?.name ?? 'golden'
  const source = options.baseUrl ? {type: options.baseUrl.startsWith('https:') ? ('https' as const) : ('http' as const), args: {baseurl: options.baseUrl}} : {type: 'file' as const, args: {root: '.'}}
  const timestamp = Math.floor(Date.parse(manifest.createdAt) / 1000)
  const out: Omit<TemplateRepo, 'location'> = {name: repoName, sources: {...repo?.sources, golden: source}, templates: {...repo?.templates}, goldens: {...repo?.goldens}}
  if (out.goldens![manifest.name]?.versions[manifest.version]) {
    throw new LagoError('USAGE', `${repoFile} already publishes golden environment ${manifest.name}:${manifest.version}.`, {hint: 'Publish into a new directory, or freeze a new version.'})
  }
  await mkdir(path.join(dir, 'images'), {recursive: true})
  await mkdir(path.join(dir, 'goldens', manifest.name), {recursive: true})
  const images: string[] = []
  const written: string[] = []
  try {
    const published: GoldenManifest = structuredClone(manifest)
    for (const vm of published.vms) {
      for (const disk of vm.disks) {
        const stored = await catalog.store.get(disk.id)
        if (!stored) throw new LagoError('TEMPLATE', `Golden environment ${formatGoldenRef(ref)}: store entry ${disk.id} is missing.`)
        const handle = `images/${disk.template}-${disk.version}.qcow2`
        const image = path.join(dir, handle)
        written.push(image, `${image}.hash`, `${image}.metadata`)
        // Self-contained: the other host need not have the template a layered disk sits on.
        await localImages.convert(stored.path, image, {subject: `Golden ${formatGoldenRef(ref)} ${vm.name}/${disk.name}`})
        const hash = formatDigest(await fileDigest(image))
        const {golden, ...metadata} = stored.metadata as {golden?: Record<string, unknown>}
        await writeFile(`${image}.hash`, `${hash}\n`)
        await writeFile(`${image}.metadata`, `${JSON.stringify({...metadata, golden: {...golden, 'layered-on': undefined}}, null, 2)}\n`)
        disk.hash = hash
        disk.size = (await stat(image)).size
        delete disk.layeredOn
        out.templates[disk.template] = {versions: {...out.templates[disk.template]?.versions, [disk.version]: {source: 'golden', handle, timestamp}}}
        images.push(handle)
      }
    }
    const handle = `goldens/${manifest.name}/${manifest.version}.json`
    const description = path.join(dir, handle)
    written.push(description, `${description}.hash`)
    await copyManifest(published, description)
    out.goldens![manifest.name] = {versions: {...out.goldens![manifest.name]?.versions, [manifest.version]: {source: 'golden', handle, timestamp}}}
    await writeFileAtomic(repoFile, `${JSON.stringify(out, null, 2)}\n`)
    return {golden: `${manifest.name}:${manifest.version}`, repository: repoFile, images, description}
  } catch (error) {
    for (const file of written) await rm(file, {force: true})
    throw error
  }
}

async function copyManifest(manifest: GoldenManifest, file: string): Promise<void> {
  const text = `${JSON.stringify(manifest, null, 2)}\n`
  await writeFile(file, text)
  await writeFile(`${file}.hash`, `${formatDigest(textDigest(text))}\n`)
}

/**
 * Fetch a golden environment's description from a repository into the store (verified by its
 * `.hash`), its disk ids renamed to the templates of that repository. The disks themselves
 * are downloaded like any template by whoever uses them.
 */
export async function pullGoldenDescription(catalog: GoldenCatalog, repo: TemplateRepo, ref: GoldenRef, options: {signal?: AbortSignal} = {}): Promise<GoldenEntry> {
  const versions = Object.entries(repo.goldens?.[ref.name]?.versions ?? {}).sort((a, b) => b[1].timestamp - a[1].timestamp)
  const chosen = ref.version === undefined ? versions[0] : versions.find(([v]) => v === ref.version)
  if (!chosen) {
    throw new LagoError('TEMPLATE', `Template repository ${repo.name} (${repo.location}) publishes no golden environment ${formatGoldenRef(ref)}.`, {
      hint: `It publishes: ${
        Object.entries(repo.goldens ?? {})
          .flatMap(([n, g]) => Object.keys(g.versions).map((v) => `${n}:${v}`))
          .join(', ') || '(none)'
      }.`,
    })
  }
  const [version, published] = chosen
  const baseDir = isUrl(repo.location) ? process.cwd() : path.dirname(repo.location)
  const location = sourceLocation(repo.sources[published.source], published.handle, baseDir)
  const [text, hashText] = await Promise.all([readSidecar(location, options.signal), readSidecar(`${location}.hash`, options.signal)])
  if (text === undefined) throw new LagoError('TEMPLATE', `Golden environment ${ref.name}:${version}: ${location} is missing.`, {detail: {location}})
  if (hashText === undefined) throw new LagoError('TEMPLATE', `Golden environment ${ref.name}:${version}: ${location}.hash is missing, so it cannot be verified.`, {detail: {location}})
  const expected = parseDigest(hashText, `${location}.hash`)
  const actual = textDigest(text, expected.algorithm).hex
  if (actual !== expected.hex) {
    throw new LagoError(
      'TEMPLATE',
      `Golden environment ${ref.name}:${version}: ${location} hashes to ${expected.algorithm}:${actual}, but ${formatDigest(expected)} is published; it was not stored.`,
      {
        detail: {location, expected: formatDigest(expected), actual},
      },
    )
  }
  let manifest: GoldenManifest
  try {
    manifest = JSON.parse(text) as GoldenManifest
  } catch (error) {
    throw new LagoError('TEMPLATE', `Golden environment ${ref.name}:${version}: ${location} is not JSON (${(error as Error).message}).`)
  }
  if (manifest.format !== 1 || manifest.name !== ref.name || manifest.version !== version || !Array.isArray(manifest.vms)) {
    throw new LagoError('TEMPLATE', `Golden environment ${ref.name}:${version}: ${location} does not describe ${ref.name}:${version} in format 1.`)
  }
  for (const vm of manifest.vms) {
    for (const disk of vm.disks) {
      if (!repo.templates[disk.template]?.versions[disk.version]) {
        throw new LagoError('TEMPLATE', `Golden environment ${ref.name}:${version}: its disk ${vm.name}/${disk.name} (${disk.template}:${disk.version}) is not a template of repository ${repo.name}.`)
      }
      disk.id = `${repo.name}:${disk.template}:${disk.version}`
      delete disk.layeredOn
    }
  }
  const lock = await catalog.store.acquire(catalog.lockId(ref.name), {signal: options.signal})
  try {
    const present = await catalog.get(ref.name, version)
    if (present) {
      if (JSON.stringify(present.manifest.vms.map((vm) => vm.disks.map((d) => d.id))) === JSON.stringify(manifest.vms.map((vm) => vm.disks.map((d) => d.id)))) return present
      throw new LagoError('TEMPLATE', `The store ${catalog.store.dir} already holds a different golden environment ${ref.name}:${version}.`, {
        hint: 'Remove it first ("lago golden prune") or use it as it is.',
      })
    }
    return await catalog.write(manifest)
  } finally {
    await lock.release()
  }
}
